//! Schedulers: which subflow carries the next data (RFC 8684 leaves this to the
//! implementation; the names follow the multipath-tcp.org kernel).
//!
//! A [`Scheduler`] sees the connection's send state ([`SchedContext`]) and one
//! [`SubflowView`] per subflow, and picks where the next segment of new or re-injected data
//! goes. Built in: `"default"` ([`MinRtt`], `min_rtt.rs`) and `"roundrobin"`
//! ([`RoundRobin`], `round_robin.rs`); see docs/schedulers.md.

mod min_rtt;
mod round_robin;

use core::fmt;
use core::str::FromStr;
use core::time::Duration;
use std::sync::Arc;

pub use min_rtt::MinRtt;
pub use round_robin::RoundRobin;

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
    /// The scheduler's name (the one `SchedulerChoice` parses, for built-in ones).
    fn name(&self) -> &'static str;

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

/// The names of the built-in schedulers, in the order a user would be offered them.
pub const SCHEDULERS: &[&str] = &["default", "roundrobin"];

/// A scheduler name that is not built in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scheduler {name:?}; valid: {}", SCHEDULERS.join(", "))]
pub struct UnknownScheduler {
    /// The name asked for.
    pub name: String,
}

/// Which scheduler the connections of a stack use: a built-in one by name
/// (`"default".parse()`), a built-in one with its parameters
/// (`SchedulerChoice::new(RoundRobin::new(3, false))`), or one of the application's own
/// (any `Scheduler + Clone`). Each connection gets its own copy.
#[derive(Clone)]
pub struct SchedulerChoice {
    name: &'static str,
    build: Arc<dyn Fn() -> Box<dyn Scheduler> + Send + Sync>,
}

impl SchedulerChoice {
    /// Every connection starts with a copy of `scheduler`.
    pub fn new<S: Scheduler + Clone + Sync + 'static>(scheduler: S) -> Self {
        Self {
            name: scheduler.name(),
            build: Arc::new(move || Box::new(scheduler.clone())),
        }
    }

    /// The scheduler's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// A scheduler for a new connection.
    pub(crate) fn build(&self) -> Box<dyn Scheduler> {
        (self.build)()
    }
}

impl Default for SchedulerChoice {
    /// `default` ([`MinRtt`]).
    fn default() -> Self {
        Self::new(MinRtt)
    }
}

impl FromStr for SchedulerChoice {
    type Err = UnknownScheduler;

    /// A built-in scheduler with its default parameters.
    ///
    /// ```
    /// use mptcp_proto::sched::{SchedulerChoice, SCHEDULERS};
    /// for name in SCHEDULERS {
    ///     assert_eq!(name.parse::<SchedulerChoice>().unwrap().name(), *name);
    /// }
    /// let err = "fastest".parse::<SchedulerChoice>().unwrap_err();
    /// assert_eq!(err.to_string(), "unknown scheduler \"fastest\"; valid: default, roundrobin");
    /// ```
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "default" => Ok(Self::new(MinRtt)),
            "roundrobin" => Ok(Self::new(RoundRobin::default())),
            _ => Err(UnknownScheduler {
                name: name.to_owned(),
            }),
        }
    }
}

impl PartialEq for SchedulerChoice {
    /// Same name (parameters are not compared).
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for SchedulerChoice {}

impl fmt::Debug for SchedulerChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SchedulerChoice").field(&self.name).finish()
    }
}
