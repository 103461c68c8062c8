//! Schedulers: which subflow carries the next data (RFC 8684 leaves this to the
//! implementation; the names follow the multipath-tcp.org kernel).
//!
//! A [`Scheduler`] sees the connection's send state ([`SchedContext`]) and one
//! [`SubflowView`] per subflow. Like the Linux kernel's schedulers it makes two decisions:
//! where the next segment of new or re-injected data goes ([`Scheduler::pick`]), and which
//! subflow sends its own copy of data another subflow already carries
//! ([`Scheduler::pick_copy`], for redundancy). Built in, one file each: `"default"`
//! ([`MinRtt`]), `"roundrobin"` ([`RoundRobin`]), `"redundant"` ([`Redundant`]),
//! `"blest"` ([`Blest`]), `"ecf"` ([`Ecf`]) and `"standby"` ([`HotStandby`]); the
//! application profiles of draft-scharf-mptcp-api ([`Profile`]) name one of them each. See
//! docs/schedulers.md.

mod blest;
mod ecf;
mod hot_standby;
mod min_rtt;
mod profile;
mod redundant;
mod round_robin;

use core::fmt;
use core::str::FromStr;
use core::time::Duration;
use std::sync::Arc;

pub use blest::{BLEST_LAMBDA_RANGE, BadLambda, Blest};
pub use ecf::Ecf;
pub use hot_standby::HotStandby;
pub use min_rtt::MinRtt;
pub use profile::{PROFILES, Profile, UnknownProfile};
pub use redundant::Redundant;
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
    /// Bytes other subflows carry that the peer has not DATA_ACKed and this one was never
    /// given: what it would send as its own copy ([`Scheduler::pick_copy`]).
    pub not_carried: usize,
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

    /// Smoothed RTT, the longest possible before the first measurement (so a subflow
    /// never measured is chosen last).
    pub fn rtt(&self) -> Duration {
        self.srtt.unwrap_or(Duration::MAX)
    }
}

/// The subflows a scheduler may use: working ones other than `exclude`, and backups only
/// when no other works (RFC 8684 §3.3.8: a backup carries data only when no regular
/// subflow is available).
pub fn candidates(
    subflows: &[SubflowView],
    exclude: Option<usize>,
) -> impl Iterator<Item = &SubflowView> + Clone {
    let allowed = move |s: &&SubflowView| Some(s.index) != exclude && s.working();
    let regular_works = subflows.iter().filter(allowed).any(|s| !s.backup);
    subflows
        .iter()
        .filter(allowed)
        .filter(move |s| !(s.backup && regular_works))
}

/// The candidate with the lowest smoothed RTT, ready or not.
pub fn fastest(subflows: &[SubflowView], exclude: Option<usize>) -> Option<&SubflowView> {
    candidates(subflows, exclude).min_by_key(|s| s.rtt())
}

/// The ready candidate with the lowest smoothed RTT.
pub fn fastest_ready(subflows: &[SubflowView], exclude: Option<usize>) -> Option<&SubflowView> {
    candidates(subflows, exclude)
        .filter(|s| s.ready())
        .min_by_key(|s| s.rtt())
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

    /// A subflow that sends, before any new data, its own copy of the oldest data it
    /// was not given ([`SubflowView::not_carried`]; data the peer has DATA_ACKed is
    /// skipped), or `None`. The connection keeps the receiver's first copy. The default:
    /// never (each byte goes once, plus re-injection).
    fn pick_copy(&mut self, _ctx: &SchedContext, _subflows: &[SubflowView]) -> Option<usize> {
        None
    }

    /// Whether the connection re-sends data held up on a slower subflow on a faster idle
    /// one when no new data can go (see `conn/opportunistic.rs`).
    fn opportunistic_retransmission(&self) -> bool {
        false
    }
}

/// The names of the built-in schedulers, in the order a user would be offered them.
pub const SCHEDULERS: &[&str] = &[
    "default",
    "roundrobin",
    "redundant",
    "blest",
    "ecf",
    "standby",
];

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
    /// assert_eq!(
    ///     err.to_string(),
    ///     "unknown scheduler \"fastest\"; valid: default, roundrobin, redundant, blest, ecf, standby"
    /// );
    /// ```
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "default" => Ok(Self::new(MinRtt)),
            "roundrobin" => Ok(Self::new(RoundRobin::default())),
            "redundant" => Ok(Self::new(Redundant)),
            "blest" => Ok(Self::new(Blest::default())),
            "ecf" => Ok(Self::new(Ecf::default())),
            "standby" => Ok(Self::new(HotStandby)),
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

/// A subflow view for the schedulers' unit tests: index `index`, smoothed RTT `rtt_ms`
/// (RTT variation a quarter of it), a 10-segment window of 1000-byte segments, all free.
#[cfg(test)]
pub(crate) fn test_view(index: usize, rtt_ms: u64) -> SubflowView {
    SubflowView {
        index,
        usable: true,
        srtt: Some(Duration::from_millis(rtt_ms)),
        rttvar: Duration::from_millis(rtt_ms / 4),
        cwnd: 10_000,
        in_flight: 0,
        cwnd_room: 10_000,
        unsent: 0,
        mss: 1_000,
        backup: false,
        potentially_failed: false,
        not_carried: 0,
    }
}
