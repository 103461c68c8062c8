//! Congestion control: the trait every controller implements, and the controllers.
//!
//! A controller belongs to one subflow (one TCP connection) and is built by a
//! [`CongestionControllerFactory`] chosen by name from the stack's settings ("reno", "cubic",
//! and the coupled "lia", "olia", "balia", "wvegas"). The subflow tells it about
//! acknowledgments and congestion events; it answers with a congestion window (and
//! optionally a pacing rate).
//! Coupled controllers read their sibling subflows through [`CcContext::siblings`], which the
//! MPTCP connection keeps current for them.
//!
//! # Controllers
//!
//! - [`Reno`] ("reno"): NewReno, RFC 5681 / RFC 6582 with byte counting (RFC 3465) and the
//!   RFC 6928 initial window.
//! - [`Cubic`] ("cubic"): CUBIC, RFC 9438, with HyStart++ (RFC 9406) in the initial slow start.
//! - [`FixedWindow`] ("fixed"): a constant window, for tests.
//!
//! [`factory_by_name`] maps a settings name to its factory; [`CONTROLLERS`] lists the names.
//!
//! # What Reno and CUBIC expect of the engine
//!
//! - One [`CongestionEvent::Loss`] (or `Ecn`) per detected loss is fine: a signal about a
//!   segment sent before the controller's last reduction is ignored (once per window).
//! - During fast recovery the engine paces its sending itself, e.g. with Proportional Rate
//!   Reduction (RFC 6937) towards [`CongestionController::ssthresh`]; the controller has
//!   already set `cwnd = ssthresh` and does not inflate it or grow it on ACKs until
//!   [`CongestionController::on_recovery_end`] (or until all bytes in flight at the reduction
//!   have been acknowledged, whichever comes first).
//! - [`CcContext::bytes_in_flight`] at a congestion event is FlightSize (SND.NXT − SND.UNA);
//!   Reno and CUBIC reduce from the smaller of it and `cwnd`, so a reduction never raises
//!   the window.
//! - An [`AckEvent`] with `bytes_acked == 0` (a pure duplicate ACK) changes nothing.

use core::fmt::Debug;
use core::time::Duration;
use std::sync::Arc;

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
    ///
    /// For a [`CongestionEvent`] this is RFC 5681's FlightSize, SND.NXT − SND.UNA: segments
    /// just declared lost still count. Reno and CUBIC derive ssthresh from it (RFC 5681 §3.1
    /// equation (4), RFC 9438 §4.6), bounded by their window.
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
    /// Bytes it delivered between its last two losses, or since the last if more (OLIA's
    /// ℓ; 0 from controllers that do not count them).
    pub loss_interval: usize,
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

    /// Whether it reads [`CcContext::siblings`] (a coupled controller): only then does the
    /// connection keep them current.
    fn coupled(&self) -> bool {
        false
    }

    /// What its siblings read as [`SiblingView::loss_interval`].
    fn loss_interval(&self) -> usize {
        0
    }
}

/// Builds a controller for each new subflow.
pub trait CongestionControllerFactory: Debug + Send + Sync {
    /// The name settings use to choose this factory ("reno", "cubic", …).
    fn name(&self) -> &'static str;

    /// A controller for a subflow whose MSS is `mss`.
    fn build(&self, now: Instant, mss: usize) -> Box<dyn CongestionController>;
}

mod balia;
mod coupled;
mod cubic;
mod fixed;
mod hystart;
mod lia;
mod olia;
mod reno;
mod wvegas;

pub use balia::Balia;
pub use coupled::{CoupledFactory, Coupling};
pub use cubic::{Cubic, CubicFactory};
pub use fixed::{FixedFactory, FixedWindow};
pub use lia::Lia;
pub use olia::Olia;
pub use reno::{Reno, RenoFactory};
pub use wvegas::{WVegas, WVegasFactory};

/// The names [`factory_by_name`] knows, in the order a user would be offered them.
pub const CONTROLLERS: &[&str] = &["reno", "cubic", "lia", "olia", "balia", "wvegas", "fixed"];

/// The factory registered under `name` (one of [`CONTROLLERS`]), or `None` for an unknown
/// name.
///
/// ```
/// use mptcp_proto::cc::{factory_by_name, CONTROLLERS};
/// for name in CONTROLLERS {
///     assert_eq!(factory_by_name(name).unwrap().name(), *name);
/// }
/// assert!(factory_by_name("vegas").is_none());
/// ```
pub fn factory_by_name(name: &str) -> Option<Arc<dyn CongestionControllerFactory>> {
    match name {
        "reno" => Some(Arc::new(RenoFactory)),
        "cubic" => Some(Arc::new(CubicFactory)),
        "lia" => Some(Arc::new(CoupledFactory::new(Box::new(Lia)))),
        "olia" => Some(Arc::new(CoupledFactory::new(Box::new(Olia::default())))),
        "balia" => Some(Arc::new(CoupledFactory::new(Box::new(Balia)))),
        "wvegas" => Some(Arc::new(WVegasFactory)),
        "fixed" => Some(Arc::new(FixedFactory::default())),
        _ => None,
    }
}

/// The initial window of RFC 6928 §2: `min(10·MSS, max(2·MSS, 14600))` bytes.
pub fn initial_window(mss: usize) -> usize {
    (10 * mss).min((2 * mss).max(14_600))
}

/// The window a multiplicative decrease starts from: FlightSize (RFC 5681 §3.1 equation
/// (4), RFC 9438 §4.6), but never more than `cwnd`.
///
/// FlightSize is SND.NXT − SND.UNA. With SACK (RFC 6675) a sender keeps sending while a hole
/// waits for its retransmission, so FlightSize also counts every byte SACKed above the hole,
/// up to the whole send buffer: data the receiver holds, not data the path held when it
/// dropped a segment. Taken as it is, a "reduction" would then raise the window above the
/// one that just overflowed the path (RFC 9438 §4.6 asks for other measures in that case).
/// `cwnd` bounds it; FlightSize still bounds a window the sender did not fill.
pub(crate) fn reduction_base(flight: usize, cwnd: usize) -> usize {
    flight.min(cwnd)
}

/// The slow-start increase of one ACK under Appropriate Byte Counting (RFC 3465 §2.2): the
/// bytes newly acknowledged, but at most `limit_segments`·MSS (the limit L of §2.3).
pub(crate) fn abc_increase(bytes_acked: usize, mss: usize, limit_segments: usize) -> usize {
    bytes_acked.min(limit_segments * mss)
}

/// The bookkeeping both Reno and CUBIC need around window reductions: at most one reduction
/// per window of data, and no growth while the engine repairs the losses.
///
/// A loss (or ECN mark) of a segment sent before the last reduction belongs to the window
/// that reduction already answered (RFC 5681 §3.2 / RFC 6582 §3.2 step 1: one reduction per
/// window; RFC 3168 §6.1.2: once per window for ECN), so it is ignored. Recovery lasts until
/// the engine calls [`CongestionController::on_recovery_end`], or at the latest until every
/// byte that was in flight at the reduction has been acknowledged — the same point as
/// RFC 6582's "recover" — which also ends the once-per-RTT ECN response, for which an engine
/// has no recovery phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReductionGate {
    /// When the window was last reduced (loss, ECN or timeout).
    last_reduction: Option<Instant>,
    /// Whether a loss/ECN reduction's recovery is in progress.
    in_recovery: bool,
    /// Bytes still to be acknowledged before recovery ends on its own.
    recovery_bytes_left: usize,
}

impl ReductionGate {
    /// Whether a congestion signal on a segment sent at `sent_at` calls for a new reduction.
    pub(crate) fn reacts_to(&self, sent_at: Instant) -> bool {
        self.last_reduction.is_none_or(|t| sent_at >= t)
    }

    /// A loss or ECN reduction happened at `now` with `flight` bytes outstanding.
    pub(crate) fn enter_recovery(&mut self, now: Instant, flight: usize) {
        self.last_reduction = Some(now);
        self.in_recovery = true;
        self.recovery_bytes_left = flight;
    }

    /// A retransmission timeout at `now`: every segment sent before it is answered, and fast
    /// recovery is abandoned (RFC 6582 §3.2 step 7 no longer applies after an RTO).
    pub(crate) fn timeout(&mut self, now: Instant) {
        self.last_reduction = Some(now);
        self.in_recovery = false;
        self.recovery_bytes_left = 0;
    }

    /// Accounts an ACK of `bytes_acked`; returns whether the ACK arrived during recovery (in
    /// which case the window must not grow on it, even if it is the one that ends recovery).
    pub(crate) fn on_ack(&mut self, bytes_acked: usize) -> bool {
        if !self.in_recovery {
            return false;
        }
        self.recovery_bytes_left = self.recovery_bytes_left.saturating_sub(bytes_acked);
        if self.recovery_bytes_left == 0 {
            self.in_recovery = false;
        }
        true
    }

    /// The engine reports that recovery ended.
    pub(crate) fn end_recovery(&mut self) {
        self.in_recovery = false;
        self.recovery_bytes_left = 0;
    }

    /// Whether recovery is in progress.
    #[cfg(test)]
    pub(crate) fn in_recovery(&self) -> bool {
        self.in_recovery
    }
}

#[cfg(test)]
mod model_tests;
