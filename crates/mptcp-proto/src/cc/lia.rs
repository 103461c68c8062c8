//! LIA, the Linked Increases Algorithm of RFC 6356: the coupled congestion control of the
//! seeds' kernel (`lia`, its default) and of RFC 8684's companion documents.
//!
//! In congestion avoidance, each ACK of `acked` bytes on subflow i grows its window by
//! `min(α · acked · MSS_i / cwnd_total, acked · MSS_i / cwnd_i)` bytes (RFC 6356 §4, the
//! byte-counting form), with `α = cwnd_total · max_i(cwnd_i / rtt_i²) / (Σ_i cwnd_i / rtt_i)²`
//! (§4.1): the connection as a whole takes no more than one TCP flow on its best path
//! (goals 1 and 2, §2), and moves traffic off congested paths (goal 3). Slow start, the
//! halving on loss and the timeout are NewReno's (§4, "the algorithm only applies to the
//! increase phase"). One subflow alone is NewReno.

use super::CcContext;
use super::coupled::{Coupling, paths, reno_increase};

/// RFC 6356's linked increase.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lia;

impl Lia {
    /// RFC 6356 §4.1's α, from the subflows' windows (bytes) and RTTs (seconds).
    pub(crate) fn alpha(paths: &[super::coupled::Path]) -> f64 {
        let total: f64 = paths.iter().map(|p| p.cwnd).sum();
        let best = paths
            .iter()
            .map(|p| p.cwnd / (p.rtt * p.rtt))
            .fold(0.0, f64::max);
        let sum: f64 = paths.iter().map(|p| p.cwnd / p.rtt).sum();
        if sum <= 0.0 {
            return 1.0;
        }
        total * best / (sum * sum)
    }
}

impl Coupling for Lia {
    fn name(&self) -> &'static str {
        "lia"
    }

    fn increase(&mut self, acked: usize, cwnd: usize, ctx: &CcContext<'_>) -> f64 {
        let uncoupled = reno_increase(acked, cwnd, ctx.mss);
        let Some(paths) = paths(cwnd, 0, ctx) else {
            return uncoupled;
        };
        let total: f64 = paths.iter().map(|p| p.cwnd).sum();
        let coupled = Self::alpha(&paths) * acked as f64 * ctx.mss as f64 / total.max(1.0);
        coupled.min(uncoupled)
    }

    fn fresh(&self) -> Box<dyn Coupling> {
        Box::new(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cc::coupled::test_support::{ctx_with, sibling};

    #[test]
    fn two_equal_subflows_take_what_one_tcp_flow_would() {
        // α = 2w · (w/r²) / (2w/r)² = 1/2; each grows by α·MSS/(2w) per MSS acked, so the
        // two together grow by one MSS per window of one of them: a single TCP flow's pace.
        let siblings = [sibling(20_000, 50, 0)];
        let ctx = ctx_with(50, &siblings);
        let increase = Lia.increase(1000, 20_000, &ctx);
        assert!((increase - 12.5).abs() < 1e-9, "{increase}"); // 0.5·1000·1000/40000
        let paths = paths(20_000, 0, &ctx).unwrap();
        assert!((Lia::alpha(&paths) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn never_more_than_uncoupled_and_alpha_follows_the_best_path() {
        // A short-RTT path of small window beside a long-RTT path of large window: α grows
        // with the best path's w/rtt², and the increase is capped by NewReno's.
        let siblings = [sibling(100_000, 200, 0)];
        let ctx = ctx_with(10, &siblings);
        let paths = paths(10_000, 0, &ctx).unwrap();
        // total 110 000; best = max(10 000/0.01², 100 000/0.2²) = 1e8; Σ w/r = 1e6 + 5e5.
        let expected = 110_000.0 * 1e8 / (1.5e6f64 * 1.5e6);
        assert!((Lia::alpha(&paths) - expected).abs() < 1e-9);
        let increase = Lia.increase(1000, 10_000, &ctx);
        assert!(increase <= reno_increase(1000, 10_000, 1000) + 1e-12);
        let coupled = expected * 1000.0 * 1000.0 / 110_000.0;
        assert!((increase - coupled.min(100.0)).abs() < 1e-9, "{increase}");
    }

    #[test]
    fn siblings_without_an_rtt_are_left_out() {
        let siblings = [crate::cc::SiblingView {
            srtt: None,
            ..sibling(50_000, 10, 0)
        }];
        let ctx = ctx_with(50, &siblings);
        let increase = Lia.increase(1000, 20_000, &ctx);
        assert!((increase - 50.0).abs() < 1e-9, "{increase}");
    }
}
