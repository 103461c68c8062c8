//! Identifiers that several layers name: a leaf of its own, so that the connection level,
//! the stack and the path managers use them without depending on each other both ways.

/// Index of an interface in [`StackConfig::interfaces`](crate::stack::StackConfig::interfaces):
/// the connection level records each subflow's, the stack owns the interfaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InterfaceId(pub usize);

/// Identifies a subflow within its connection (never reused): the connection numbers
/// them, path managers and applications name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubflowId(pub u32);
