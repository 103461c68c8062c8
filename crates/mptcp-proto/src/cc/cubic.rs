//! CUBIC (RFC 9438) with HyStart++ (RFC 9406) in the initial slow start.
//!
//! The window is kept in bytes; the cubic curve is computed in segments, as RFC 9438 writes
//! it, from `cwnd / MSS`. Growth smaller than a byte is carried over to the next ACK rather
//! than lost to rounding.
//!
//! As for [`Reno`](super::Reno), the engine runs loss recovery (RFC 6937 PRR towards
//! `ssthresh`); the controller sets `cwnd`/`ssthresh` on the congestion event and does not
//! grow during recovery.

use core::time::Duration;

use super::hystart::{CSS_GROWTH_DIVISOR, HyStart, Phase};
use super::{
    AckEvent, CcContext, CongestionController, CongestionControllerFactory, CongestionEvent,
    ReductionGate, abc_increase, initial_window, reduction_base,
};
use crate::time::Instant;

/// RFC 9438 §5.1: C = 0.4 (segments / s³).
const C: f64 = 0.4;
/// RFC 9438 §4.6: β_cubic = 0.7.
const BETA: f64 = 0.7;
/// RFC 9438 §4.3: α_cubic = 3·(1 − β_cubic) / (1 + β_cubic).
const ALPHA: f64 = 3.0 * (1.0 - BETA) / (1.0 + BETA);
/// RFC 3465 §2.3: the slow-start limit L, in segments, per ACK.
const ABC_LIMIT: usize = 2;
/// RFC 3465 §2.3: L is 1·SMSS in the slow start that follows a retransmission timeout.
const ABC_LIMIT_AFTER_RTO: usize = 1;

/// Builds [`Cubic`] controllers (with HyStart++); its name is "cubic".
#[derive(Debug, Clone, Copy, Default)]
pub struct CubicFactory;

impl CongestionControllerFactory for CubicFactory {
    fn name(&self) -> &'static str {
        "cubic"
    }

    fn build(&self, _now: Instant, mss: usize) -> Box<dyn CongestionController> {
        Box::new(Cubic::new(mss))
    }
}

/// The current congestion-avoidance stage ("epoch") of RFC 9438 §4.2.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Epoch {
    /// When congestion avoidance started (moved forward by app-limited time).
    start: Instant,
    /// `cwnd_epoch`, in segments.
    cwnd_epoch: f64,
}

/// Everything [`CongestionController::on_spurious_congestion`] may have to restore
/// (RFC 9438 §4.9 lists cwnd, ssthresh, W_max, K, the epoch start and W_est).
#[derive(Debug, Clone, Copy, PartialEq)]
struct State {
    cwnd: usize,
    ssthresh: usize,
    /// Congestion-avoidance growth below one byte, carried to the next ACK.
    growth_frac: f64,
    /// CSS growth not yet applied (bytes·CSS_GROWTH_DIVISOR remainder).
    css_remainder: usize,
    /// `W_max`, in segments (0 while no congestion event defined it).
    w_max: f64,
    /// `cwnd_prior`, in segments: the window at the last congestion event.
    cwnd_prior: f64,
    /// `K`, in seconds.
    k: f64,
    /// `W_est`, in segments.
    w_est: f64,
    epoch: Option<Epoch>,
    /// The next epoch starts its curve at its own window: W_max = cwnd_epoch, K = 0
    /// (RFC 9438 §4.8 after a timeout, §4.10 after HyStart++ left slow start without loss).
    restart_curve: bool,
    /// Since when the ACKs of this epoch are app-limited.
    app_limited_since: Option<Instant>,
    hystart: HyStart,
    gate: ReductionGate,
    /// A timeout happened and no new data has been acknowledged since (RFC 5681 §3.1).
    timed_out: bool,
    /// In the slow start that follows a timeout (RFC 3465 §2.3).
    slow_start_after_rto: bool,
}

/// The CUBIC congestion controller of one subflow.
///
/// ```
/// use mptcp_proto::cc::{CongestionController, Cubic};
/// let cubic = Cubic::new(1460);
/// assert_eq!(cubic.window(), 14_600);
/// assert!(cubic.in_slow_start());
/// ```
#[derive(Debug, Clone)]
pub struct Cubic {
    mss: usize,
    state: State,
    /// The state just before the last reduction, for undoing it.
    before_reduction: Option<State>,
}

impl Cubic {
    /// A controller in slow start (with HyStart++) with the RFC 6928 initial window.
    pub fn new(mss: usize) -> Self {
        Self::with_hystart(mss, true)
    }

    /// A controller whose initial slow start uses HyStart++ (RFC 9406) or not.
    pub fn with_hystart(mss: usize, hystart: bool) -> Self {
        let mss = mss.max(1);
        let mut state = State {
            cwnd: initial_window(mss),
            ssthresh: usize::MAX,
            growth_frac: 0.0,
            css_remainder: 0,
            w_max: 0.0,
            cwnd_prior: 0.0,
            k: 0.0,
            w_est: 0.0,
            epoch: None,
            restart_curve: true,
            app_limited_since: None,
            hystart: HyStart::default(),
            gate: ReductionGate::default(),
            timed_out: false,
            slow_start_after_rto: false,
        };
        if !hystart {
            state.hystart.finish();
        }
        Cubic {
            mss,
            state,
            before_reduction: None,
        }
    }

    fn segments(&self, bytes: usize) -> f64 {
        bytes as f64 / self.mss as f64
    }

    /// RFC 9438 §4.2 equation (1): `W_cubic(t) = C·(t − K)³ + W_max`, in segments.
    fn w_cubic(&self, t: f64) -> f64 {
        let d = t - self.state.k;
        C * d * d * d + self.state.w_max
    }

    /// RFC 9438 §4.7 fast convergence and the W_max/cwnd_prior update of §4.6.
    fn remember_congestion(&mut self) {
        let cwnd = self.segments(self.state.cwnd);
        let s = &mut self.state;
        s.w_max = if cwnd < s.w_max {
            // A flow whose window keeps shrinking releases bandwidth to newcomers.
            cwnd * (1.0 + BETA) / 2.0
        } else {
            cwnd
        };
        s.cwnd_prior = cwnd;
    }

    /// The start of a new epoch (RFC 9438 §4.2): K from W_max and cwnd_epoch, and W_est
    /// starting at cwnd_epoch (§4.3).
    fn start_epoch(&mut self, now: Instant) -> Epoch {
        let cwnd_epoch = self.segments(self.state.cwnd);
        let s = &mut self.state;
        if s.restart_curve || s.w_max <= 0.0 {
            s.w_max = cwnd_epoch;
            s.restart_curve = false;
        }
        // RFC 9438 §4.2 equation (2): K = ∛((W_max − cwnd_epoch) / C).
        s.k = cube_root((s.w_max - cwnd_epoch) / C);
        s.w_est = cwnd_epoch;
        let epoch = Epoch {
            start: now,
            cwnd_epoch,
        };
        s.epoch = Some(epoch);
        epoch
    }

    /// One ACK in congestion avoidance (RFC 9438 §4.2–§4.5).
    fn congestion_avoidance(&mut self, now: Instant, bytes_acked: usize, srtt: Option<Duration>) {
        let epoch = match self.state.epoch {
            Some(epoch) => epoch,
            None => self.start_epoch(now),
        };
        let cwnd = self.segments(self.state.cwnd);
        let acked = self.segments(bytes_acked);
        let t = now.saturating_duration_since(epoch.start).as_secs_f64();
        let rtt = srtt.map_or(0.0, |d| d.as_secs_f64());
        let w_now = self.w_cubic(t);
        // RFC 9438 §4.2: the target is where the curve will be one RTT from now, kept
        // within [cwnd, 1.5·cwnd].
        let target = self.w_cubic(t + rtt).clamp(cwnd, 1.5 * cwnd);
        let mss = self.mss as f64;
        let s = &mut self.state;
        // RFC 9438 §4.3 figure 4: W_est += α_cubic · segments_acked / cwnd, with α_cubic = 1
        // once W_est has reached cwnd_prior.
        let alpha = if s.w_est >= s.cwnd_prior { 1.0 } else { ALPHA };
        s.w_est += alpha * acked / cwnd;
        if w_now < s.w_est {
            // RFC 9438 §4.3: the Reno-friendly region: cwnd = W_est (never below the
            // window already reached on an earlier ACK of the same curve).
            let est = (s.w_est * mss) as usize;
            if est > s.cwnd {
                s.cwnd = est;
                s.growth_frac = 0.0;
            }
        } else {
            // RFC 9438 §4.4 (concave) and §4.5 (convex): cwnd += (target − cwnd) / cwnd for
            // each segment acknowledged, here in bytes.
            s.growth_frac += (target - cwnd) / cwnd * bytes_acked as f64;
            let whole = s.growth_frac.floor();
            s.cwnd = s.cwnd.saturating_add(whole as usize);
            s.growth_frac -= whole;
        }
    }

    /// Slow start (RFC 5681 §3.1, RFC 3465) or, in the initial one, HyStart++ (RFC 9406).
    fn slow_start(&mut self, bytes_acked: usize, phase: Option<Phase>) {
        let s = &mut self.state;
        let limit = if s.slow_start_after_rto {
            ABC_LIMIT_AFTER_RTO
        } else {
            ABC_LIMIT
        };
        let increase = abc_increase(bytes_acked, self.mss, limit);
        if let Some(Phase::Css { .. }) = phase {
            // RFC 9406 §4.2: in CSS, cwnd += min(N, L·SMSS) / CSS_GROWTH_DIVISOR.
            let quarters = s.css_remainder + increase;
            s.cwnd = s.cwnd.saturating_add(quarters / CSS_GROWTH_DIVISOR);
            s.css_remainder = quarters % CSS_GROWTH_DIVISOR;
        } else {
            s.cwnd = s.cwnd.saturating_add(increase).min(s.ssthresh);
        }
    }

    /// HyStart++ finished its CSS rounds: congestion avoidance with ssthresh = cwnd
    /// (RFC 9406 §4.2) and, W_max being undefined, a curve starting at cwnd (RFC 9438 §4.10).
    fn leave_slow_start_without_loss(&mut self) {
        let cwnd = self.segments(self.state.cwnd);
        let s = &mut self.state;
        s.ssthresh = s.cwnd;
        s.cwnd_prior = cwnd;
        s.restart_curve = true;
        s.epoch = None;
    }

    /// RFC 9438 §4.6 multiplicative decrease, on loss (`floor` = 2 segments) or ECN (1).
    fn reduce(&mut self, now: Instant, flight: usize, floor_segments: usize) {
        self.before_reduction = Some(self.state);
        self.remember_congestion();
        let mss = self.mss;
        let s = &mut self.state;
        // RFC 9406 §4.2: a congestion event ends HyStart++ for the connection.
        s.hystart.finish();
        // ssthresh = flight_size · β_cubic; cwnd = max(ssthresh, floor);
        // ssthresh = max(ssthresh, 2).
        let reduced = beta_of(reduction_base(flight, s.cwnd));
        s.cwnd = reduced.max(floor_segments * mss);
        s.ssthresh = reduced.max(2 * mss);
        s.epoch = None;
        s.restart_curve = false;
        s.growth_frac = 0.0;
        s.app_limited_since = None;
        s.gate.enter_recovery(now, flight);
    }
}

impl CongestionController for Cubic {
    fn name(&self) -> &'static str {
        "cubic"
    }

    fn window(&self) -> usize {
        self.state.cwnd
    }

    fn ssthresh(&self) -> usize {
        self.state.ssthresh
    }

    fn on_ack(&mut self, now: Instant, ack: &AckEvent, ctx: &CcContext<'_>) {
        if ack.bytes_acked == 0 {
            return;
        }
        self.state.timed_out = false;
        if self.state.gate.on_ack(ack.bytes_acked) {
            return;
        }
        let in_slow_start = self.state.cwnd < self.state.ssthresh;
        // HyStart++ watches every ACK of the initial slow start, app-limited or not.
        let phase = (in_slow_start && self.state.hystart.phase() != Phase::Done).then(|| {
            self.state
                .hystart
                .on_ack(ack.bytes_acked, ack.rtt_sample, ctx.bytes_in_flight)
        });
        let hystart_done =
            matches!(phase, Some(Phase::Css { .. })) && self.state.hystart.phase() == Phase::Done;
        if ack.app_limited {
            // RFC 7661 / RFC 9438 §5.8: no growth on a window the application did not fill,
            // and the time spent so does not advance the curve.
            if !in_slow_start && self.state.epoch.is_some() {
                self.state.app_limited_since.get_or_insert(now);
            }
        } else if in_slow_start {
            self.slow_start(ack.bytes_acked, phase);
        } else {
            self.state.slow_start_after_rto = false;
            if let (Some(since), Some(epoch)) =
                (self.state.app_limited_since.take(), &mut self.state.epoch)
            {
                epoch.start += now.saturating_duration_since(since);
            }
            self.congestion_avoidance(now, ack.bytes_acked, ctx.srtt);
        }
        if hystart_done {
            self.leave_slow_start_without_loss();
        }
    }

    fn on_congestion_event(&mut self, now: Instant, event: CongestionEvent, ctx: &CcContext<'_>) {
        let flight = ctx.bytes_in_flight;
        match event {
            // RFC 9438 §4.6 (and §3.1: at most once per window of data).
            CongestionEvent::Loss { sent_at } if self.state.gate.reacts_to(sent_at) => {
                self.reduce(now, flight, 2);
            }
            CongestionEvent::Ecn { sent_at } if self.state.gate.reacts_to(sent_at) => {
                self.reduce(now, flight, 1);
            }
            CongestionEvent::Loss { .. } | CongestionEvent::Ecn { .. } => {}
            CongestionEvent::Timeout => {
                self.before_reduction = Some(self.state);
                // RFC 9438 §4.8: ssthresh as in §4.6 — unless this is a repeated timeout
                // without progress, which keeps ssthresh (RFC 5681 §3.1).
                if !self.state.timed_out {
                    self.remember_congestion();
                    let s = &mut self.state;
                    s.ssthresh = beta_of(reduction_base(flight, s.cwnd)).max(2 * self.mss);
                }
                let s = &mut self.state;
                s.hystart.finish();
                // RFC 9438 §4.8 follows RFC 5681 §3.1: cwnd = 1 segment; the next epoch
                // starts its curve with K = 0 and W_max = cwnd_epoch.
                s.cwnd = self.mss;
                s.epoch = None;
                s.restart_curve = true;
                s.growth_frac = 0.0;
                s.app_limited_since = None;
                s.timed_out = true;
                s.slow_start_after_rto = true;
                s.gate.timeout(now);
            }
        }
    }

    fn on_recovery_end(&mut self, _now: Instant, _ctx: &CcContext<'_>) {
        self.state.gate.end_recovery();
    }

    fn on_spurious_congestion(&mut self, _now: Instant, _ctx: &CcContext<'_>) {
        // RFC 9438 §4.9: restore cwnd, ssthresh, W_max, K, the epoch and W_est.
        if let Some(before) = self.before_reduction.take() {
            self.state = before;
            self.state.gate.end_recovery();
        }
    }
}

/// `bytes · β_cubic`, in exact integer arithmetic (β_cubic = 7/10).
fn beta_of(bytes: usize) -> usize {
    bytes / 10 * 7 + bytes % 10 * 7 / 10
}

/// The real cube root, by Newton's method from an exponent-based guess. Only IEEE 754
/// operations that are exactly specified are used, so every platform computes the same
/// window (the simulator's runs are byte-for-byte repeatable).
fn cube_root(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let a = x.abs();
    // Dividing the bits by three divides the exponent by three; the constant restores the
    // exponent bias (1023 − 1023/3 = 682). The guess is within a factor of two.
    let mut y = f64::from_bits(a.to_bits() / 3 + (682u64 << 52));
    for _ in 0..64 {
        let next = (2.0 * y + a / (y * y)) / 3.0;
        if next == y {
            break;
        }
        y = next;
    }
    y.copysign(x)
}

#[cfg(test)]
#[path = "cubic_tests.rs"]
mod tests;
