//! Congestion control: the trait every controller implements, and the controllers.
//!
//! A controller belongs to one subflow (one TCP connection) and is built by a
//! [`CongestionControllerFactory`] chosen by name from the stack's settings ("reno", "cubic";
//! the coupled "lia", "olia", "balia", "wvegas" come later). The subflow tells it about
//! acknowledgments and congestion events; it answers with a congestion window (and optionally a
//! pacing rate). Coupled controllers will read their sibling subflows through
//! [`CcContext::siblings`].

use core::fmt::Debug;
use core::time::Duration;

use crate::time::Instant;

/// What a controller may read of its own subflow and of its siblings when it decides.
#[derive(Debug, Clone, Copy)]
pub struct CcContext<'a> {
    /// Maximum segment size of the subflow, in bytes.
    pub mss: usize,
    /// Smoothed round-trip time, once there is a sample (RFC 6298).
    pub srtt: Option<Duration>,
    /// Minimum round-trip time observed.
    pub min_rtt: Option<Duration>,
    /// Bytes sent and not yet acknowledged (after this event has been applied).
    pub bytes_in_flight: usize,
    /// The other subflows of the same MPTCP connection (empty for plain TCP).
    pub siblings: &'a [SiblingView],
}

/// A read-only view of a sibling subflow, for coupled congestion control (RFC 6356).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiblingView {
    /// Its congestion window, in bytes.
    pub cwnd: usize,
    /// Its smoothed round-trip time.
    pub srtt: Option<Duration>,
    /// Its maximum segment size.
    pub mss: usize,
}

/// One acknowledgment that advanced the send window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckEvent {
    /// Bytes newly acknowledged (cumulatively or by SACK).
    pub bytes_acked: usize,
    /// Round-trip sample this ACK produced, if any.
    pub rtt_sample: Option<Duration>,
    /// Whether the sender was limited by the application (not by cwnd) when the acknowledged
    /// data was sent: controllers must not grow the window on such ACKs (RFC 7661).
    pub app_limited: bool,
}

/// Why the window must shrink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CongestionEvent {
    /// Loss detected by SACK/duplicate ACKs or RACK; entering fast recovery (RFC 6675, RFC 8985).
    /// `sent_at` is when the lost segment was sent: a controller reacts at most once per
    /// window of data, ignoring losses of segments sent before its last reduction.
    Loss {
        /// When the lost segment was (last) sent.
        sent_at: Instant,
    },
    /// ECN congestion experienced (RFC 3168).
    Ecn {
        /// When the marked segment was sent.
        sent_at: Instant,
    },
    /// The retransmission timer expired (RFC 6298 §5, RFC 5681 §3.1).
    Timeout,
}

/// A congestion controller of one subflow.
pub trait CongestionController: Debug + Send {
    /// The controller's name, as the factory knows it.
    fn name(&self) -> &'static str;

    /// The congestion window, in bytes.
    fn window(&self) -> usize;

    /// The slow-start threshold, in bytes (`usize::MAX` while unset).
    fn ssthresh(&self) -> usize;

    /// Whether the controller is in slow start.
    fn in_slow_start(&self) -> bool {
        self.window() < self.ssthresh()
    }

    /// New data was acknowledged.
    fn on_ack(&mut self, now: Instant, ack: &AckEvent, ctx: &CcContext<'_>);

    /// A congestion signal.
    fn on_congestion_event(&mut self, now: Instant, event: CongestionEvent, ctx: &CcContext<'_>);

    /// Fast recovery ended: every segment outstanding at its start has been acknowledged.
    fn on_recovery_end(&mut self, now: Instant, ctx: &CcContext<'_>);

    /// A congestion event turned out spurious (e.g. an undone RTO, RFC 5682): restore the state
    /// from before it, if the controller keeps it.
    fn on_spurious_congestion(&mut self, _now: Instant, _ctx: &CcContext<'_>) {}

    /// The pacing rate the controller wants, in bytes per second (`None`: pace at
    /// cwnd / srtt as the subflow's default).
    fn pacing_rate(&self, _ctx: &CcContext<'_>) -> Option<u64> {
        None
    }
}

/// Builds a controller for each new subflow.
pub trait CongestionControllerFactory: Debug + Send + Sync {
    /// The name settings use to choose this factory ("reno", "cubic", …).
    fn name(&self) -> &'static str;

    /// A controller for a subflow whose MSS is `mss`.
    fn build(&self, now: Instant, mss: usize) -> Box<dyn CongestionController>;
}
