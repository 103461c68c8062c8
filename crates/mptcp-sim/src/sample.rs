//! What the hosts record while a scenario runs — stalls in reading, and samples of each end of
//! a connection at regular instants — which the report ([`crate::report`]) gathers. A leaf,
//! so that the hosts that record and the report that reads do not depend on each other both
//! ways.

use core::net::SocketAddr;
use core::time::Duration;

use mptcp_proto::stack::SubflowId;
use mptcp_proto::time::Instant;

/// A time an application went without reading while data was still to come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall {
    /// The last read before it.
    pub from: Instant,
    /// The read that ended it (the end of the run, for a transfer that stopped short).
    pub until: Instant,
}

impl Stall {
    /// How long it lasted.
    pub fn length(&self) -> Duration {
        self.until.saturating_duration_since(self.from)
    }

    /// The longer of `a` and `b`.
    pub fn longest(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if b.length() > a.length() { b } else { a }),
            (a, b) => a.or(b),
        }
    }
}

/// What one end of a connection had sent, read and carried on each subflow at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// When.
    pub at: Instant,
    /// Payload bytes this end's application handed to its stack so far.
    pub sent: u64,
    /// Payload bytes this end's application read (and checked) so far.
    pub received: u64,
    /// The counters of each subflow of the connection (one for plain TCP).
    pub subflows: Vec<SubflowSample>,
}

/// One subflow's cumulative counters in a [`Sample`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubflowSample {
    /// The subflow.
    pub id: SubflowId,
    /// This end's address and port.
    pub local: SocketAddr,
    /// The other end's address and port.
    pub remote: SocketAddr,
    /// Payload bytes this end sent on it, retransmissions included.
    pub bytes_sent: u64,
    /// Payload bytes this end received on it in order.
    pub bytes_received: u64,
    /// Segments this end retransmitted on it.
    pub retransmits: u64,
    /// Its retransmission timeout (backed off, if it is).
    pub rto: Duration,
    /// Its smoothed RTT, once measured.
    pub srtt: Option<Duration>,
}
