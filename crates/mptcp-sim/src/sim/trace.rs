//! The trace of a run: one record per thing that happened, for determinism checks and
//! debugging.

use mptcp_proto::time::Instant;

use super::{LinkId, NodeId};
use crate::link::{Direction, DropCause, LinkChange};
use crate::router::ForwardError;

/// Something that happened in a simulation.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceEvent {
    /// A packet of `len` bytes was put on a link.
    Sent {
        /// When.
        time: Instant,
        /// Which link.
        link: LinkId,
        /// Which way.
        direction: Direction,
        /// IP length.
        len: usize,
    },
    /// A link dropped a packet.
    Dropped {
        /// When.
        time: Instant,
        /// Which link.
        link: LinkId,
        /// Which way.
        direction: Direction,
        /// Why.
        cause: DropCause,
        /// IP length.
        len: usize,
    },
    /// A node received a packet.
    Delivered {
        /// When.
        time: Instant,
        /// Which node.
        node: NodeId,
        /// On which interface.
        iface: usize,
        /// IP length.
        len: usize,
    },
    /// A host's timer fired.
    Timeout {
        /// When.
        time: Instant,
        /// Which host.
        node: NodeId,
    },
    /// A router did not forward a packet.
    NotForwarded {
        /// When.
        time: Instant,
        /// Which router.
        node: NodeId,
        /// Why.
        error: ForwardError,
    },
    /// A packet was sent on an interface without a link.
    Unconnected {
        /// When.
        time: Instant,
        /// Which node.
        node: NodeId,
        /// Which interface.
        iface: usize,
    },
    /// A scheduled change was applied to a link.
    LinkChanged {
        /// When.
        time: Instant,
        /// Which link.
        link: LinkId,
        /// What changed.
        change: LinkChange,
        /// Which direction (`None`: both).
        direction: Option<Direction>,
    },
}
