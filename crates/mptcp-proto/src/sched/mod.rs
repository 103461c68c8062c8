//! Schedulers: which subflow carries the next data (RFC 8684 leaves this to the
//! implementation; the names follow the multipath-tcp.org kernel).
//!
//! A [`Scheduler`] sees the connection's send state ([`SchedContext`]) and one
//! [`SubflowView`] per subflow, and picks where the next segment of new or re-injected data
//! goes. Built in: `"default"` ([`MinRtt`], in `min_rtt.rs`).

mod min_rtt;

use core::fmt;
use core::time::Duration;

pub use min_rtt::MinRtt;

/// What a scheduler sees of the connection's send side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SchedContext {
    /// The most bytes that may be in flight at the data level: the peer's
    /// connection-level receive window (RFC 8684 §3.3.4), or our send buffer's limit if
    /// that is smaller.
    pub window: usize,
    /// Bytes handed to subflows and not yet DATA_ACKed.
    pub in_flight: usize,
    /// Bytes the application queued that no subflow has been given yet.
    pub queued: usize,
}

/// What a scheduler sees of one subflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubflowView {
    /// Position in the connection's subflow list.
    pub index: usize,
    /// The subflow can carry data at all (established, handshake done, not closing).
    pub usable: bool,
    /// Smoothed RTT, once measured.
    pub srtt: Option<Duration>,
    /// RTT variation (RFC 6298).
    pub rttvar: Duration,
    /// Congestion window in bytes.
    pub cwnd: usize,
    /// Bytes sent and not acknowledged by the peer's subflow.
    pub in_flight: usize,
    /// Congestion-window bytes not in flight.
    pub cwnd_room: usize,
    /// Bytes handed to it and not yet sent.
    pub unsent: usize,
    /// Its maximum segment size.
    pub mss: usize,
    /// Either side asked for it as a backup (RFC 8684 §3.3.8).
    pub backup: bool,
    /// Its retransmission timer fired since it last acknowledged new data.
    pub potentially_failed: bool,
}

impl SubflowView {
    /// Usable and not suspected of having failed.
    pub fn working(&self) -> bool {
        self.usable && !self.potentially_failed
    }

    /// Working, with room in its window and nothing waiting.
    pub fn ready(&self) -> bool {
        self.working() && self.cwnd_room > 0 && self.unsent == 0
    }
}

/// Picks the subflow for the next data.
pub trait Scheduler: fmt::Debug + Send {
    /// The subflow (an index of `subflows`) for the next segment, or `None` to wait.
    /// `exclude` is a subflow that must not be chosen (the one re-injected data comes
    /// from).
    fn pick(
        &mut self,
        ctx: &SchedContext,
        subflows: &[SubflowView],
        exclude: Option<usize>,
    ) -> Option<usize>;

    /// Whether the connection re-sends data held up on a slower subflow on a faster idle
    /// one when no new data can go (see `conn/opportunistic.rs`).
    fn opportunistic_retransmission(&self) -> bool {
        false
    }
}

/// The names [`by_name`] knows.
pub const SCHEDULERS: &[&str] = &["default"];

/// The scheduler called `name`.
pub fn by_name(name: &str) -> Option<Box<dyn Scheduler>> {
    match name {
        "default" => Some(Box::new(MinRtt)),
        _ => None,
    }
}
