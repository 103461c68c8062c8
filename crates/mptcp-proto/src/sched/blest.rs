//! `blest`: Blocking Estimation (Ferlin, Alay, Mehani, Boreli, "BLEST: Blocking
//! Estimation-based MPTCP Scheduler for Heterogeneous Networks", IFIP Networking 2016,
//! §III). The default scheduler, except when the fastest subflow has no room and a slower
//! one does: before sending there, it estimates how much the fast subflow could send while
//! the segment is in flight on the slow one — `X = MSS_f · (CWND_f + (ρ − 1)/2) · ρ` with
//! `ρ = RTT_s / RTT_f`, the window growing by one segment per round trip — and waits for the
//! fast subflow when `λ · X` exceeds what the connection-level window has left once the
//! slow subflow's data and the segment take their place: the slow segment would then hold
//! the window's left edge while the fast subflow runs out of window (head-of-line
//! blocking). `λ` scales the estimate: 1.2 by default, within 1.0–1.3 as in the seeds'
//! kernel (REFERENCES §5). Opportunistic retransmission stays on, as in `default`.

use super::{SchedContext, Scheduler, SubflowView, fastest, fastest_ready};

/// The smallest and largest `λ` accepted.
pub const BLEST_LAMBDA_RANGE: core::ops::RangeInclusive<f64> = 1.0..=1.3;

/// Blocking estimation; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Blest {
    lambda: f64,
}

/// A `λ` outside [`BLEST_LAMBDA_RANGE`].
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("blest lambda {0} is out of range; valid: 1.0 to 1.3")]
pub struct BadLambda(pub f64);

impl Blest {
    /// BLEST scaling its estimate by `lambda` (1.0–1.3).
    pub fn new(lambda: f64) -> Result<Self, BadLambda> {
        if BLEST_LAMBDA_RANGE.contains(&lambda) {
            Ok(Self { lambda })
        } else {
            Err(BadLambda(lambda))
        }
    }

    /// The scaling of the estimate.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// Whether a segment on `slow` would block `fast` (both measured).
    fn would_block(&self, ctx: &SchedContext, fast: &SubflowView, slow: &SubflowView) -> bool {
        let (Some(rtt_f), Some(rtt_s)) = (fast.srtt, slow.srtt) else {
            return false;
        };
        let ratio = rtt_s.as_secs_f64() / rtt_f.as_secs_f64().max(1e-6);
        let mss_f = fast.mss.max(1) as f64;
        let cwnd_f = fast.cwnd as f64 / mss_f;
        let fast_bytes = mss_f * (cwnd_f + (ratio - 1.0) / 2.0) * ratio;
        let space = ctx.window.saturating_sub(ctx.in_flight) as f64;
        let slow_share = (slow.in_flight + slow.mss) as f64;
        fast_bytes * self.lambda > space - slow_share
    }
}

impl Default for Blest {
    /// `λ` = 1.2, the seeds' kernel's default.
    fn default() -> Self {
        Self { lambda: 1.2 }
    }
}

impl Scheduler for Blest {
    fn name(&self) -> &'static str {
        "blest"
    }

    fn pick(
        &mut self,
        ctx: &SchedContext,
        subflows: &[SubflowView],
        exclude: Option<usize>,
    ) -> Option<usize> {
        let fast = fastest(subflows, exclude)?;
        if fast.ready() {
            return Some(fast.index);
        }
        // The fastest is busy: the fastest of those ready is a slower one.
        let slow = fastest_ready(subflows, exclude)?;
        (!self.would_block(ctx, fast, slow)).then_some(slow.index)
    }

    fn opportunistic_retransmission(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::test_view as view;

    #[test]
    fn waits_for_the_fast_subflow_when_the_window_would_run_out() {
        let mut s = Blest::default();
        let mut subflows = [view(0, 10), view(1, 60)];
        subflows[0].cwnd_room = 0;
        subflows[0].in_flight = 10_000;
        // ρ = 6: X = 1000 · (10 + 2.5) · 6 = 75 000 bytes, λX = 90 000.
        let tight = SchedContext {
            window: 100_000,
            in_flight: 10_000,
            queued: 1 << 20,
        };
        assert_eq!(s.pick(&tight, &subflows, None), None);
        let wide = SchedContext {
            window: 200_000,
            ..tight
        };
        assert_eq!(s.pick(&wide, &subflows, None), Some(1));
        subflows[0].cwnd_room = 1_000;
        assert_eq!(s.pick(&tight, &subflows, None), Some(0), "fast has room");
    }

    #[test]
    fn lambda_is_checked() {
        assert!(Blest::new(1.0).is_ok() && Blest::new(1.3).is_ok());
        let err = Blest::new(2.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "blest lambda 2 is out of range; valid: 1.0 to 1.3"
        );
    }
}
