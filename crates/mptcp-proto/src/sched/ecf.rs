//! `ecf`: Earliest Completion First (Lim, Nahum, Towsley, Gibbens, "ECF: An MPTCP Path
//! Scheduler to Manage Heterogeneous Paths", CoNEXT 2017, Algorithm 1). The default
//! scheduler, except when the fastest subflow `f` has no room and a slower one `s` does.
//! With `k` segments queued and `δ = max(σ_f, σ_s)` (RTT variations), the fast subflow
//! needs about `n = 1 + k / CWND_f` round trips for all of them; if `n · RTT_f` is below
//! `(1 + waiting · β) · (RTT_s + δ)` — waiting would finish before the slow subflow even
//! delivers — and the slow subflow could not carry its share in time either
//! (`k / CWND_s · RTT_s ≥ 2 RTT_f + δ`), it waits for the fast one; otherwise it sends on
//! the slow one. `β = 1 / r_beta` (r_beta 4 in the seeds' kernel, REFERENCES §5) is the
//! hysteresis that keeps it waiting once it started to.

use core::num::NonZeroU32;

use super::{SchedContext, Scheduler, SubflowView, fastest, fastest_ready};

/// Earliest completion first; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ecf {
    r_beta: u32,
    /// The last decision was to wait for the fast subflow.
    waiting: bool,
}

impl Ecf {
    /// ECF with hysteresis `β = 1 / r_beta`.
    pub fn new(r_beta: NonZeroU32) -> Self {
        Self {
            r_beta: r_beta.get(),
            waiting: false,
        }
    }

    /// The inverse of the hysteresis factor.
    pub fn r_beta(&self) -> u32 {
        self.r_beta
    }

    /// Whether to wait for `fast` rather than send on `slow` (both measured).
    fn wait_for_fast(&self, ctx: &SchedContext, fast: &SubflowView, slow: &SubflowView) -> bool {
        let (Some(rtt_f), Some(rtt_s)) = (fast.srtt, slow.srtt) else {
            return false;
        };
        let (rtt_f, rtt_s) = (rtt_f.as_secs_f64(), rtt_s.as_secs_f64());
        let delta = fast.rttvar.max(slow.rttvar).as_secs_f64();
        let segments = |bytes: usize, s: &SubflowView| bytes as f64 / s.mss.max(1) as f64;
        let queued = segments(ctx.queued, fast).max(1.0);
        let cwnd_f = segments(fast.cwnd, fast).max(1.0);
        let cwnd_s = segments(slow.cwnd, slow).max(1.0);
        let rounds = 1.0 + queued / cwnd_f;
        let beta = if self.waiting {
            1.0 / f64::from(self.r_beta)
        } else {
            0.0
        };
        rounds * rtt_f < (1.0 + beta) * (rtt_s + delta)
            && queued / cwnd_s * rtt_s >= 2.0 * rtt_f + delta
    }
}

impl Default for Ecf {
    /// `r_beta` = 4, the seeds' kernel's default.
    fn default() -> Self {
        Self {
            r_beta: 4,
            waiting: false,
        }
    }
}

impl Scheduler for Ecf {
    fn name(&self) -> &'static str {
        "ecf"
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
        self.waiting = self.wait_for_fast(ctx, fast, slow);
        (!self.waiting).then_some(slow.index)
    }

    fn opportunistic_retransmission(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::test_view as view;

    fn queued(bytes: usize) -> SchedContext {
        SchedContext {
            window: 1 << 30,
            in_flight: 0,
            queued: bytes,
        }
    }

    #[test]
    fn a_short_tail_waits_for_the_fast_subflow_and_a_long_backlog_spills() {
        let mut s = Ecf::default();
        let mut subflows = [view(0, 10), view(1, 60)];
        subflows[0].cwnd_room = 0;
        // 20 segments: the fast one needs 3 rounds (30 ms) < 60 + 15 ms, and the slow
        // one would take 2 · 60 ms ≥ 20 + 15 ms: wait.
        assert_eq!(s.pick(&queued(20_000), &subflows, None), None);
        // 200 segments: 21 rounds (210 ms) > 75 ms: use the slow one too.
        assert_eq!(s.pick(&queued(200_000), &subflows, None), Some(1));
        subflows[0].cwnd_room = 1_000;
        assert_eq!(s.pick(&queued(20_000), &subflows, None), Some(0));
    }

    #[test]
    fn hysteresis_keeps_it_waiting() {
        let mut s = Ecf::default();
        let mut subflows = [view(0, 10), view(1, 60)];
        subflows[0].cwnd_room = 0;
        // 65 segments: 7.5 rounds = 75 ms, not below 75 ms unless already waiting
        // (then 1.25 · 75 ms).
        assert_eq!(s.pick(&queued(65_000), &subflows, None), Some(1));
        assert_eq!(s.pick(&queued(20_000), &subflows, None), None);
        assert_eq!(s.pick(&queued(65_000), &subflows, None), None);
    }
}
