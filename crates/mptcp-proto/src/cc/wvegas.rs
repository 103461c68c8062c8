//! wVegas, weighted Vegas (Y. Cao, M. Xu, X. Fu, "Delay-based congestion control for
//! multipath TCP", IEEE ICNP 2012): the seeds' delay-based coupled controller. Where the
//! loss-based ones fill the bottleneck's queue until it overflows, wVegas keeps a few
//! packets queued per connection and shifts traffic to the paths whose queues are short.
//!
//! Once per round trip (a window of data acknowledged), with `base` the smallest RTT seen
//! and `rtt` the smallest of the last round, each subflow estimates the packets it keeps
//! queued, `diff = w · (rtt − base) / rtt` (w in segments), and its share of the
//! connection's target backlog, `α = max(initial_alpha, total_alpha · x / Σ x)` with
//! `x = w / srtt` the subflows' rates:
//! - in slow start the window doubles per round until `diff` passes `gamma`;
//! - in congestion avoidance it grows by one segment per round while `diff < α` and
//!   shrinks by one while `diff > α`;
//! - when the queueing delay `rtt − base` reaches twice the smallest one seen since the last
//!   drain, the window is scaled by `base / rtt`, to empty the queue it built;
//! - a loss halves the window and a timeout resets it, as NewReno does.
//!
//! The seeds' module parameters: `initial_alpha` 2, `total_alpha` 10, `gamma` 1.

use core::time::Duration;

use super::{
    AckEvent, CcContext, CongestionController, CongestionControllerFactory, CongestionEvent,
    ReductionGate, initial_window, reduction_base,
};
use crate::time::Instant;

/// The seeds' `initial_alpha`: the least backlog, in segments, a subflow aims at.
pub const INITIAL_ALPHA: f64 = 2.0;
/// The seeds' `total_alpha`: the connection's backlog, in segments, shared by the rates.
pub const TOTAL_ALPHA: f64 = 10.0;
/// The seeds' `gamma`: the backlog, in segments, that ends slow start.
pub const GAMMA: f64 = 1.0;

/// Builds [`WVegas`] controllers; its name is "wvegas".
#[derive(Debug, Clone, Copy, Default)]
pub struct WVegasFactory;

impl CongestionControllerFactory for WVegasFactory {
    fn name(&self) -> &'static str {
        "wvegas"
    }

    fn build(&self, _now: Instant, mss: usize) -> Box<dyn CongestionController> {
        Box::new(WVegas::new(mss))
    }
}

/// The wVegas controller of one subflow.
#[derive(Debug, Clone)]
pub struct WVegas {
    mss: usize,
    cwnd: usize,
    ssthresh: usize,
    /// The smallest RTT ever seen: the path without queueing.
    base_rtt: Option<Duration>,
    /// The smallest RTT of the current round.
    round_rtt: Option<Duration>,
    /// Bytes acknowledged in the current round.
    round_acked: usize,
    /// The window when the round began: the round ends once that much is acknowledged.
    round_target: usize,
    /// The smallest queueing delay since the last drain.
    least_queueing: Option<Duration>,
    gate: ReductionGate,
}

impl WVegas {
    /// A controller in slow start with the RFC 6928 initial window.
    pub fn new(mss: usize) -> Self {
        let mss = mss.max(1);
        Self {
            mss,
            cwnd: initial_window(mss),
            ssthresh: usize::MAX,
            base_rtt: None,
            round_rtt: None,
            round_acked: 0,
            round_target: 0,
            least_queueing: None,
            gate: ReductionGate::default(),
        }
    }

    /// The backlog, in segments, this subflow aims at: its rate's share of
    /// [`TOTAL_ALPHA`], at least [`INITIAL_ALPHA`].
    pub(crate) fn alpha(&self, ctx: &CcContext<'_>) -> f64 {
        let rate = |cwnd: usize, srtt: Option<Duration>| {
            srtt.map_or(0.0, |r| cwnd as f64 / r.as_secs_f64().max(1e-6))
        };
        let own = rate(self.cwnd, ctx.srtt);
        let total = own
            + ctx
                .siblings
                .iter()
                .map(|s| rate(s.cwnd, s.srtt))
                .sum::<f64>();
        if total <= 0.0 {
            return TOTAL_ALPHA.max(INITIAL_ALPHA);
        }
        (TOTAL_ALPHA * own / total).max(INITIAL_ALPHA)
    }

    /// The segments this subflow keeps queued, by the last round's RTT.
    fn backlog(&self, rtt: Duration, base: Duration) -> f64 {
        let queueing = rtt.saturating_sub(base).as_secs_f64();
        self.cwnd as f64 / self.mss as f64 * queueing / rtt.as_secs_f64().max(1e-9)
    }

    /// The end of a round: the Vegas decisions.
    fn end_round(&mut self, ctx: &CcContext<'_>) {
        let (Some(rtt), Some(base)) = (self.round_rtt.take(), self.base_rtt) else {
            return;
        };
        let diff = self.backlog(rtt, base);
        if self.cwnd < self.ssthresh {
            if diff > GAMMA {
                // Enough queued: slow start is over.
                self.ssthresh = self.cwnd;
            }
            return;
        }
        let alpha = self.alpha(ctx);
        if diff > alpha {
            self.cwnd = self.cwnd.saturating_sub(self.mss).max(2 * self.mss);
        } else if diff < alpha {
            self.cwnd += self.mss;
        }
        // Drain the queue this subflow built when its delay has doubled.
        let queueing = rtt.saturating_sub(base);
        let least = *self.least_queueing.get_or_insert(queueing);
        if queueing < least {
            self.least_queueing = Some(queueing);
        } else if !least.is_zero() && queueing >= 2 * least {
            let scaled = self.cwnd as f64 * base.as_secs_f64() / rtt.as_secs_f64();
            self.cwnd = (scaled as usize).max(2 * self.mss);
            self.least_queueing = None;
        }
    }
}

impl CongestionController for WVegas {
    fn name(&self) -> &'static str {
        "wvegas"
    }

    fn window(&self) -> usize {
        self.cwnd
    }

    fn ssthresh(&self) -> usize {
        self.ssthresh
    }

    fn coupled(&self) -> bool {
        true
    }

    fn on_ack(&mut self, _now: Instant, ack: &AckEvent, ctx: &CcContext<'_>) {
        if ack.bytes_acked == 0 {
            return;
        }
        if let Some(sample) = ack.rtt_sample {
            self.base_rtt = Some(self.base_rtt.map_or(sample, |b| b.min(sample)));
            self.round_rtt = Some(self.round_rtt.map_or(sample, |r| r.min(sample)));
        }
        if self.gate.on_ack(ack.bytes_acked) || ack.app_limited {
            return;
        }
        if self.round_target == 0 {
            self.round_target = self.cwnd;
        }
        if self.cwnd < self.ssthresh {
            // Slow start: the window doubles per round while the backlog stays small.
            self.cwnd = self.cwnd.saturating_add(ack.bytes_acked.min(2 * self.mss));
        }
        self.round_acked += ack.bytes_acked;
        if self.round_acked >= self.round_target {
            self.end_round(ctx);
            self.round_acked = 0;
            self.round_target = self.cwnd;
        }
    }

    fn on_congestion_event(&mut self, now: Instant, event: CongestionEvent, ctx: &CcContext<'_>) {
        let half = (reduction_base(ctx.bytes_in_flight, self.cwnd) / 2).max(2 * self.mss);
        match event {
            CongestionEvent::Loss { sent_at } | CongestionEvent::Ecn { sent_at } => {
                if !self.gate.reacts_to(sent_at) {
                    return;
                }
                self.ssthresh = half;
                self.cwnd = half;
                self.gate.enter_recovery(now, ctx.bytes_in_flight);
            }
            CongestionEvent::Timeout => {
                self.ssthresh = half;
                self.cwnd = self.mss;
                self.gate.timeout(now);
            }
        }
        self.round_acked = 0;
        self.round_target = 0;
        self.round_rtt = None;
    }

    fn on_recovery_end(&mut self, _now: Instant, _ctx: &CcContext<'_>) {
        self.gate.end_recovery();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cc::coupled::test_support::{ctx_with, sibling};

    fn ack(bytes: usize, rtt_ms: u64) -> AckEvent {
        AckEvent {
            bytes_acked: bytes,
            rtt_sample: Some(Duration::from_millis(rtt_ms)),
            app_limited: false,
        }
    }

    /// Acknowledges one window at RTT `rtt_ms` (one round).
    fn round(v: &mut WVegas, rtt_ms: u64, ctx: &CcContext<'_>) {
        let window = v.window();
        let mut acked = 0;
        while acked < window {
            v.on_ack(Instant::ZERO, &ack(1000, rtt_ms), ctx);
            acked += 1000;
        }
    }

    #[test]
    fn slow_start_ends_once_a_segment_is_queued() {
        let ctx = ctx_with(50, &[]);
        let mut v = WVegas::new(1000);
        round(&mut v, 50, &ctx); // base RTT 50 ms, nothing queued
        assert!(v.in_slow_start());
        let grown = v.window();
        assert!(grown > 10_000, "{grown}");
        // 60 ms with a window of w segments: diff = w·10/60 > 1.
        round(&mut v, 60, &ctx);
        assert!(!v.in_slow_start());
    }

    #[test]
    fn in_avoidance_the_window_tracks_the_weighted_backlog() {
        let ctx = ctx_with(50, &[]);
        let mut v = WVegas::new(1000);
        v.base_rtt = Some(Duration::from_millis(50));
        v.cwnd = 40_000;
        v.ssthresh = 40_000;
        // Alone, α = max(2, 10·1) = 10 segments. At 55 ms: diff = 40·5/55 ≈ 3.6 < 10: grow.
        round(&mut v, 55, &ctx);
        assert_eq!(v.window(), 41_000);
        // At 80 ms: diff = 41·30/80 ≈ 15.4 > 10: shrink by one segment, and the queueing
        // delay (30 ms) is over twice the least seen (5 ms): drain to w·50/80.
        round(&mut v, 80, &ctx);
        assert_eq!(v.window(), 40_000 * 50 / 80);
    }

    #[test]
    fn alpha_is_the_rate_share_of_the_total_at_least_the_initial() {
        let v = WVegas {
            cwnd: 20_000,
            ..WVegas::new(1000)
        };
        // Own rate 20 000/0.05 = 4e5; sibling 60 000/0.05 = 1.2e6: share 1/4 → 2.5.
        let siblings = [sibling(60_000, 50, 0)];
        assert!((v.alpha(&ctx_with(50, &siblings)) - 2.5).abs() < 1e-9);
        // A small share is lifted to initial_alpha.
        let siblings = [sibling(600_000, 50, 0)];
        assert_eq!(v.alpha(&ctx_with(50, &siblings)), INITIAL_ALPHA);
    }

    #[test]
    fn a_loss_halves_and_a_timeout_resets() {
        let mut ctx = ctx_with(50, &[]);
        ctx.bytes_in_flight = 40_000;
        let mut v = WVegas::new(1000);
        v.cwnd = 40_000;
        v.on_congestion_event(
            Instant::ZERO + Duration::from_secs(1),
            CongestionEvent::Loss {
                sent_at: Instant::ZERO + Duration::from_secs(1),
            },
            &ctx,
        );
        assert_eq!((v.window(), v.ssthresh()), (20_000, 20_000));
        v.on_congestion_event(Instant::ZERO, CongestionEvent::Timeout, &ctx);
        assert_eq!(v.window(), 1000);
    }
}
