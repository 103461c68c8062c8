//! Which of the host's interfaces a packet or a subflow uses: a leaf of its own, so that the
//! connection level (which records each subflow's) and the stack (which owns the
//! interfaces) both use it without depending on each other both ways.

/// Index of an interface in [`StackConfig::interfaces`](crate::stack::StackConfig::interfaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InterfaceId(pub usize);
