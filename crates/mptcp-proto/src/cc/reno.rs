//! NewReno as the controller sees it (RFC 5681, RFC 6582, RFC 3465, RFC 6928).
//!
//! The controller owns `cwnd` and `ssthresh`; the engine owns loss detection and the repair.
//! During fast recovery the engine is assumed to run Proportional Rate Reduction (RFC 6937)
//! towards [`Reno::ssthresh`] — the controller does not inflate the window by duplicate ACKs
//! (RFC 5681 §3.2 steps 4–5) and does not grow it on ACKs that arrive during recovery; when
//! recovery ends the window is `ssthresh`, as RFC 6582 §3.2 step 3 "deflates" it to.

use super::coupled::Coupling;
use super::{
    AckEvent, CcContext, CongestionController, CongestionControllerFactory, CongestionEvent,
    ReductionGate, abc_increase, initial_window, reduction_base,
};
use crate::time::Instant;

/// RFC 3465 §2.3: the slow-start limit L, in segments, per ACK.
const ABC_LIMIT: usize = 2;
/// RFC 3465 §2.3: L is 1·SMSS in the slow start that follows a retransmission timeout.
const ABC_LIMIT_AFTER_RTO: usize = 1;

/// Builds [`Reno`] controllers; its name is "reno".
#[derive(Debug, Clone, Copy, Default)]
pub struct RenoFactory;

impl CongestionControllerFactory for RenoFactory {
    fn name(&self) -> &'static str {
        "reno"
    }

    fn build(&self, _now: Instant, mss: usize) -> Box<dyn CongestionController> {
        Box::new(Reno::new(mss))
    }
}

/// Everything [`CongestionController::on_spurious_congestion`] may have to restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    cwnd: usize,
    ssthresh: usize,
    /// RFC 3465 §2.1 `bytes_acked`, counted in congestion avoidance only.
    ca_bytes_acked: usize,
    gate: ReductionGate,
    /// A retransmission timeout happened and no new data has been acknowledged since: a further
    /// timeout keeps ssthresh (RFC 5681 §3.1, the paragraph after equation (4)).
    timed_out: bool,
    /// In the slow start that follows a timeout (RFC 3465 §2.3: L = 1·SMSS).
    slow_start_after_rto: bool,
    /// A coupled increase not yet added to `cwnd`, in 1/65 536 byte (it comes in fractions
    /// of a byte per ACK).
    coupled_credit: i64,
}

/// The fixed-point scale of [`State::coupled_credit`].
const CREDIT_SCALE: f64 = 65_536.0;

/// The NewReno congestion controller of one subflow, and the base of the coupled ones
/// (`lia`, `olia`, `balia`): their [`Coupling`] replaces its congestion-avoidance increase
/// and its loss decrease; slow start and the timeout stay NewReno's.
///
/// ```
/// use mptcp_proto::cc::{CongestionController, Reno};
/// let reno = Reno::new(1460);
/// assert_eq!(reno.window(), 14_600); // RFC 6928: min(10·MSS, max(2·MSS, 14600))
/// assert!(reno.in_slow_start());
/// ```
#[derive(Debug)]
pub struct Reno {
    mss: usize,
    state: State,
    /// The state just before the last reduction, for undoing it.
    before_reduction: Option<State>,
    /// The coupled increase and decrease, for a coupled controller.
    coupling: Option<Box<dyn Coupling>>,
}

impl Reno {
    /// A controller in slow start with the RFC 6928 initial window and an unset ssthresh
    /// (RFC 5681 §3.1: "arbitrarily high").
    pub fn new(mss: usize) -> Self {
        let mss = mss.max(1);
        Reno {
            mss,
            state: State {
                cwnd: initial_window(mss),
                ssthresh: usize::MAX,
                ca_bytes_acked: 0,
                gate: ReductionGate::default(),
                timed_out: false,
                slow_start_after_rto: false,
                coupled_credit: 0,
            },
            before_reduction: None,
            coupling: None,
        }
    }

    /// A coupled controller: NewReno with `coupling`'s increase and decrease.
    pub fn coupled(mss: usize, coupling: Box<dyn Coupling>) -> Self {
        Self {
            coupling: Some(coupling),
            ..Self::new(mss)
        }
    }

    /// RFC 5681 §3.1 equation (4): `ssthresh = max(FlightSize / 2, 2·SMSS)`, FlightSize
    /// bounded by the window (see [`reduction_base`]); a coupled controller's own decrease.
    fn halved(&self, flight: usize, ctx: &CcContext<'_>) -> usize {
        let base = reduction_base(flight, self.state.cwnd);
        match &self.coupling {
            Some(coupling) => coupling.decreased(base, self.state.cwnd, ctx),
            None => (base / 2).max(2 * self.mss),
        }
    }

    /// The coupled congestion-avoidance step: the coupling's increase, kept in fractions
    /// of a byte until whole bytes add up; never below two segments.
    fn coupled_step(&mut self, acked: usize, ctx: &CcContext<'_>) {
        let Some(coupling) = &mut self.coupling else {
            return;
        };
        let s = &mut self.state;
        let increase = coupling.increase(acked, s.cwnd, ctx);
        if increase.is_finite() {
            s.coupled_credit = s
                .coupled_credit
                .saturating_add((increase * CREDIT_SCALE) as i64);
        }
        let whole = s.coupled_credit / CREDIT_SCALE as i64;
        s.coupled_credit -= whole * CREDIT_SCALE as i64;
        let grown = (s.cwnd as i64).saturating_add(whole);
        s.cwnd = usize::try_from(grown.max(2 * self.mss as i64)).unwrap_or(usize::MAX);
    }
}

impl CongestionController for Reno {
    fn name(&self) -> &'static str {
        self.coupling.as_ref().map_or("reno", |c| c.name())
    }

    fn coupled(&self) -> bool {
        self.coupling.is_some()
    }

    fn loss_interval(&self) -> usize {
        self.coupling.as_ref().map_or(0, |c| c.loss_interval())
    }

    fn window(&self) -> usize {
        self.state.cwnd
    }

    fn ssthresh(&self) -> usize {
        self.state.ssthresh
    }

    fn on_ack(&mut self, _now: Instant, ack: &AckEvent, ctx: &CcContext<'_>) {
        if ack.bytes_acked == 0 {
            return;
        }
        if let Some(coupling) = &mut self.coupling {
            coupling.on_acked(ack.bytes_acked);
        }
        let coupled = self.coupling.is_some();
        let s = &mut self.state;
        // New data acknowledged: the data the timer retransmitted got through.
        s.timed_out = false;
        // RFC 6582 §3.2 steps 4–5 (via PRR, RFC 6937): the engine paces recovery; no growth.
        if s.gate.on_ack(ack.bytes_acked) {
            return;
        }
        // RFC 7661 §4.3 / RFC 5681 §3.1: a window the sender did not fill was not validated.
        if ack.app_limited {
            return;
        }
        if s.cwnd < s.ssthresh {
            // RFC 5681 §3.1 slow start with RFC 3465 §2.2 byte counting, capped at ssthresh so
            // the step into congestion avoidance lands exactly on it.
            let limit = if s.slow_start_after_rto {
                ABC_LIMIT_AFTER_RTO
            } else {
                ABC_LIMIT
            };
            let increase = abc_increase(ack.bytes_acked, self.mss, limit);
            s.cwnd = s.cwnd.saturating_add(increase).min(s.ssthresh);
        } else if coupled {
            s.slow_start_after_rto = false;
            self.coupled_step(ack.bytes_acked, ctx);
        } else {
            // RFC 5681 §3.1 equation (3), byte-counted as RFC 3465 §2.1: one SMSS each time a
            // full window of bytes has been acknowledged, i.e. MSS·MSS/cwnd per MSS acked.
            s.slow_start_after_rto = false;
            s.ca_bytes_acked += ack.bytes_acked;
            if s.ca_bytes_acked >= s.cwnd {
                s.ca_bytes_acked -= s.cwnd;
                s.cwnd += self.mss;
            }
        }
    }

    fn on_congestion_event(&mut self, now: Instant, event: CongestionEvent, ctx: &CcContext<'_>) {
        let flight = ctx.bytes_in_flight;
        match event {
            CongestionEvent::Loss { sent_at } | CongestionEvent::Ecn { sent_at } => {
                // RFC 6582 §3.2 step 1 / RFC 3168 §6.1.2: once per window of data.
                if !self.state.gate.reacts_to(sent_at) {
                    return;
                }
                self.before_reduction = Some(self.state);
                let ssthresh = self.halved(flight, ctx);
                if let Some(coupling) = &mut self.coupling {
                    coupling.on_loss();
                }
                let s = &mut self.state;
                // RFC 5681 §3.2 step 2 (equation (4)) and, without the inflation of step 3,
                // RFC 6937's target: cwnd = ssthresh.
                s.ssthresh = ssthresh;
                s.cwnd = ssthresh;
                s.ca_bytes_acked = 0;
                s.gate.enter_recovery(now, flight);
            }
            CongestionEvent::Timeout => {
                self.before_reduction = Some(self.state);
                let ssthresh = self.halved(flight, ctx);
                if let Some(coupling) = &mut self.coupling {
                    coupling.on_loss();
                }
                let s = &mut self.state;
                // RFC 5681 §3.1: equation (4), except that a segment already retransmitted by
                // the timer and lost again keeps ssthresh.
                if !s.timed_out {
                    s.ssthresh = ssthresh;
                }
                // RFC 5681 §3.1: cwnd = Loss Window = 1 full-sized segment.
                s.cwnd = self.mss;
                s.ca_bytes_acked = 0;
                s.timed_out = true;
                s.slow_start_after_rto = true;
                s.gate.timeout(now);
            }
        }
    }

    fn on_recovery_end(&mut self, _now: Instant, _ctx: &CcContext<'_>) {
        // RFC 6582 §3.2 step 3 / RFC 6937: recovery leaves cwnd = ssthresh, which it already is.
        self.state.gate.end_recovery();
    }

    fn on_spurious_congestion(&mut self, _now: Instant, _ctx: &CcContext<'_>) {
        // RFC 4015 §3.2 / RFC 5682 §3: restore the window and threshold from before the
        // reduction the spurious signal caused.
        if let Some(before) = self.before_reduction.take() {
            self.state = before;
            self.state.gate.end_recovery();
        }
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use super::*;

    const MSS: usize = 1000;
    const RTT: Duration = Duration::from_millis(20);

    fn ctx(flight: usize) -> CcContext<'static> {
        CcContext {
            mss: MSS,
            srtt: Some(RTT),
            min_rtt: Some(RTT),
            bytes_in_flight: flight,
            siblings: &[],
        }
    }

    fn ack(bytes: usize) -> AckEvent {
        AckEvent {
            bytes_acked: bytes,
            rtt_sample: Some(RTT),
            app_limited: false,
        }
    }

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    fn loss(sent_ms: u64) -> CongestionEvent {
        CongestionEvent::Loss {
            sent_at: t(sent_ms),
        }
    }

    /// A Reno in congestion avoidance with the given window.
    fn in_ca(cwnd: usize) -> Reno {
        let mut reno = Reno::new(MSS);
        reno.state.cwnd = cwnd;
        reno.state.ssthresh = cwnd;
        reno
    }

    #[test]
    fn initial_window_follows_rfc_6928() {
        assert_eq!(initial_window(1460), 14_600);
        assert_eq!(initial_window(1000), 10_000);
        assert_eq!(initial_window(536), 5_360);
        assert_eq!(initial_window(9000), 18_000);
        assert_eq!(initial_window(4000), 14_600);
        let reno = Reno::new(1460);
        assert_eq!((reno.window(), reno.ssthresh()), (14_600, usize::MAX));
    }

    #[test]
    fn slow_start_grows_by_bytes_acked_up_to_two_segments() {
        let mut reno = Reno::new(MSS);
        reno.on_ack(t(1), &ack(MSS), &ctx(0));
        assert_eq!(reno.window(), 11 * MSS);
        reno.on_ack(t(2), &ack(500), &ctx(0));
        assert_eq!(reno.window(), 11 * MSS + 500);
        // A stretch ACK of 5 segments counts as L = 2 segments (RFC 3465 §2.3).
        reno.on_ack(t(3), &ack(5 * MSS), &ctx(0));
        assert_eq!(reno.window(), 13 * MSS + 500);
        // One window of per-segment ACKs doubles the window.
        let mut reno = Reno::new(MSS);
        for i in 0..10 {
            reno.on_ack(t(i), &ack(MSS), &ctx(0));
        }
        assert_eq!(reno.window(), 20 * MSS);
    }

    #[test]
    fn slow_start_stops_at_ssthresh() {
        let mut reno = Reno::new(MSS);
        reno.state.ssthresh = 10 * MSS + 300;
        reno.on_ack(t(1), &ack(2 * MSS), &ctx(0));
        assert_eq!(reno.window(), 10 * MSS + 300);
        assert!(!reno.in_slow_start());
    }

    #[test]
    fn congestion_avoidance_adds_one_segment_per_window_of_acks() {
        let mut reno = in_ca(10 * MSS);
        for i in 0..9 {
            reno.on_ack(t(i), &ack(MSS), &ctx(0));
            assert_eq!(reno.window(), 10 * MSS);
        }
        reno.on_ack(t(9), &ack(MSS), &ctx(0));
        assert_eq!(reno.window(), 11 * MSS);
        // The next round needs 11 segments, and so on: 1 MSS per RTT.
        for round in 0..20u64 {
            let cwnd = reno.window();
            for i in 0..cwnd / MSS {
                reno.on_ack(t(100 + round * 100 + i as u64), &ack(MSS), &ctx(0));
            }
            assert_eq!(reno.window(), cwnd + MSS, "round {round}");
        }
        // Half-segment ACKs count their bytes, not their number.
        let mut reno = in_ca(10 * MSS);
        for i in 0..19 {
            reno.on_ack(t(i), &ack(MSS / 2), &ctx(0));
        }
        assert_eq!(reno.window(), 10 * MSS);
        reno.on_ack(t(19), &ack(MSS / 2), &ctx(0));
        assert_eq!(reno.window(), 11 * MSS);
    }

    #[test]
    fn app_limited_acks_do_not_grow_the_window() {
        let limited = AckEvent {
            app_limited: true,
            ..ack(MSS)
        };
        let mut reno = Reno::new(MSS);
        reno.on_ack(t(1), &limited, &ctx(0));
        assert_eq!(reno.window(), 10 * MSS);
        let mut reno = in_ca(10 * MSS);
        for i in 0..30 {
            reno.on_ack(t(i), &limited, &ctx(0));
        }
        assert_eq!(reno.window(), 10 * MSS);
    }

    #[test]
    fn loss_halves_flight_with_a_two_segment_floor() {
        let mut reno = in_ca(40 * MSS);
        reno.on_congestion_event(t(100), loss(50), &ctx(30 * MSS + 1));
        assert_eq!(reno.ssthresh(), 15 * MSS);
        assert_eq!(reno.window(), 15 * MSS);
        let mut reno = in_ca(40 * MSS);
        reno.on_congestion_event(t(100), loss(50), &ctx(3 * MSS));
        assert_eq!((reno.ssthresh(), reno.window()), (2 * MSS, 2 * MSS));
        // ECN reacts the same way (RFC 3168 §6.1.2).
        let mut reno = in_ca(40 * MSS);
        let ecn = CongestionEvent::Ecn { sent_at: t(50) };
        reno.on_congestion_event(t(100), ecn, &ctx(40 * MSS));
        assert_eq!(reno.window(), 20 * MSS);
    }

    #[test]
    fn a_flight_swollen_by_sacked_bytes_does_not_raise_the_window() {
        // SND.NXT − SND.UNA is four windows: the bytes SACKed above a hole that waits for
        // its retransmission. The decrease starts from the window, never from more.
        let mut reno = in_ca(20 * MSS);
        reno.on_congestion_event(t(100), loss(50), &ctx(80 * MSS));
        assert_eq!((reno.window(), reno.ssthresh()), (10 * MSS, 10 * MSS));
        let mut reno = in_ca(20 * MSS);
        reno.on_congestion_event(t(100), CongestionEvent::Timeout, &ctx(80 * MSS));
        assert_eq!((reno.window(), reno.ssthresh()), (MSS, 10 * MSS));
    }

    #[test]
    fn reacts_once_per_window_and_not_during_recovery() {
        let mut reno = in_ca(40 * MSS);
        reno.on_congestion_event(t(100), loss(80), &ctx(40 * MSS));
        assert_eq!(reno.window(), 20 * MSS);
        // Another loss from the same window: ignored.
        reno.on_congestion_event(t(101), loss(99), &ctx(38 * MSS));
        assert_eq!(reno.window(), 20 * MSS);
        // ACKs during recovery do not grow the window.
        for i in 0..30 {
            reno.on_ack(t(102 + i), &ack(MSS), &ctx(20 * MSS));
        }
        assert_eq!(reno.window(), 20 * MSS);
        reno.on_recovery_end(t(140), &ctx(20 * MSS));
        for i in 0..20 {
            reno.on_ack(t(141 + i), &ack(MSS), &ctx(20 * MSS));
        }
        assert_eq!(reno.window(), 21 * MSS);
        // A segment sent after the reduction (e.g. a lost retransmission) is a new signal.
        reno.on_congestion_event(t(200), loss(100), &ctx(21 * MSS));
        assert_eq!(reno.window(), 10 * MSS + MSS / 2);
    }

    #[test]
    fn recovery_ends_by_itself_once_the_flight_is_acknowledged() {
        let mut reno = in_ca(10 * MSS);
        reno.on_congestion_event(t(100), loss(80), &ctx(10 * MSS));
        assert_eq!(reno.window(), 5 * MSS);
        for i in 0..10 {
            reno.on_ack(t(101 + i), &ack(MSS), &ctx(0));
        }
        assert!(!reno.state.gate.in_recovery());
        for i in 0..5 {
            reno.on_ack(t(120 + i), &ack(MSS), &ctx(0));
        }
        assert_eq!(reno.window(), 6 * MSS);
    }

    #[test]
    fn timeout_collapses_to_one_segment_and_slow_starts_with_l_one() {
        let mut reno = in_ca(40 * MSS);
        reno.on_congestion_event(t(1000), CongestionEvent::Timeout, &ctx(40 * MSS));
        assert_eq!((reno.window(), reno.ssthresh()), (MSS, 20 * MSS));
        assert!(reno.in_slow_start());
        // Losses of segments sent before the timeout are already answered.
        reno.on_congestion_event(t(1001), loss(900), &ctx(40 * MSS));
        assert_eq!(reno.window(), MSS);
        // A second timeout before any new data is acknowledged keeps ssthresh.
        reno.on_congestion_event(t(3000), CongestionEvent::Timeout, &ctx(40 * MSS));
        assert_eq!((reno.window(), reno.ssthresh()), (MSS, 20 * MSS));
        // Slow start after an RTO counts at most one segment per ACK (RFC 3465 §2.3).
        reno.on_ack(t(3100), &ack(3 * MSS), &ctx(0));
        assert_eq!(reno.window(), 2 * MSS);
        for i in 0..8 {
            reno.on_ack(t(3200 + i), &ack(MSS), &ctx(0));
        }
        assert_eq!(reno.window(), 10 * MSS);
        // After new data was acknowledged, a timeout computes ssthresh afresh.
        reno.on_congestion_event(t(4000), CongestionEvent::Timeout, &ctx(8 * MSS));
        assert_eq!((reno.window(), reno.ssthresh()), (MSS, 4 * MSS));
    }

    #[test]
    fn spurious_congestion_restores_the_previous_state() {
        let mut reno = in_ca(40 * MSS);
        reno.state.ssthresh = 30 * MSS;
        reno.on_congestion_event(t(1000), CongestionEvent::Timeout, &ctx(40 * MSS));
        reno.on_spurious_congestion(t(1010), &ctx(40 * MSS));
        assert_eq!((reno.window(), reno.ssthresh()), (40 * MSS, 30 * MSS));
        let mut reno = in_ca(40 * MSS);
        reno.on_congestion_event(t(100), loss(80), &ctx(40 * MSS));
        reno.on_spurious_congestion(t(110), &ctx(40 * MSS));
        assert_eq!((reno.window(), reno.ssthresh()), (40 * MSS, 40 * MSS));
        // Growth resumes at once, and a real loss from that window now counts.
        reno.on_congestion_event(t(120), loss(90), &ctx(40 * MSS));
        assert_eq!(reno.window(), 20 * MSS);
        // Nothing to undo twice.
        reno.on_spurious_congestion(t(130), &ctx(20 * MSS));
        reno.on_spurious_congestion(t(131), &ctx(20 * MSS));
        assert_eq!(reno.window(), 40 * MSS);
    }

    #[test]
    fn factory_builds_reno() {
        let cc = RenoFactory.build(Instant::ZERO, 1460);
        assert_eq!((RenoFactory.name(), cc.name()), ("reno", "reno"));
        assert_eq!(cc.window(), 14_600);
    }
}
