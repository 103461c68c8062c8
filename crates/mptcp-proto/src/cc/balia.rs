//! BALIA, the Balanced Linked Adaptation algorithm (Q. Peng, A. Walid, J. Hwang, S. H. Low,
//! "Multipath TCP: Analysis, Design, and Implementation", IEEE/ACM Transactions on
//! Networking 24(1), 2016): a balance between LIA's responsiveness and OLIA's friendliness.
//!
//! With x_i = w_i / rtt_i and α_i = max_k x_k / x_i, an ACK of `acked` bytes on subflow i
//! grows its window, in congestion avoidance, by
//! `acked · MSS · (x_i / rtt_i) / (Σ_k x_k)² · (1 + α_i)/2 · (4 + α_i)/5` bytes (the paper's
//! per-packet increase, windows in bytes), and a loss takes `(w_i / 2) · min(α_i, 1.5)` off
//! it. Slow start and the timeout are NewReno's. One subflow alone is NewReno.

use super::CcContext;
use super::coupled::{Coupling, Path, paths, reno_increase};

/// BALIA's increase and decrease.
#[derive(Debug, Clone, Copy, Default)]
pub struct Balia;

impl Balia {
    /// α of path 0 among `paths`: the best rate over its own.
    pub(crate) fn alpha(paths: &[Path]) -> f64 {
        let best = paths.iter().map(Path::rate).fold(0.0, f64::max);
        best / paths[0].rate().max(1e-12)
    }
}

impl Coupling for Balia {
    fn name(&self) -> &'static str {
        "balia"
    }

    fn increase(&mut self, acked: usize, cwnd: usize, ctx: &CcContext<'_>) -> f64 {
        let Some(paths) = paths(cwnd, 0, ctx) else {
            return reno_increase(acked, cwnd, ctx.mss);
        };
        let own = paths[0];
        let sum: f64 = paths.iter().map(Path::rate).sum();
        let alpha = Self::alpha(&paths);
        let per_byte =
            (own.rate() / own.rtt) / (sum * sum) * (1.0 + alpha) / 2.0 * (4.0 + alpha) / 5.0;
        acked as f64 * ctx.mss as f64 * per_byte
    }

    fn decreased(&self, base: usize, cwnd: usize, ctx: &CcContext<'_>) -> usize {
        let alpha = paths(cwnd, 0, ctx).map_or(1.0, |p| Self::alpha(&p));
        let cut = base as f64 / 2.0 * alpha.min(1.5);
        ((base as f64 - cut).max(0.0) as usize).max(2 * ctx.mss)
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
    fn a_slow_subflow_beside_a_fast_one_grows_and_shrinks_as_the_paper_says() {
        // Own rate 20 000/0.1 = 2e5 B/s; sibling 40 000/0.05 = 8e5: α = 4.
        let siblings = [sibling(40_000, 50, 0)];
        let ctx = ctx_with(100, &siblings);
        let own_rate = 2e5;
        let sum = 1e6;
        let expected = 1000.0 * 1000.0 * (own_rate / 0.1) / (sum * sum) * 2.5 * 1.6;
        let increase = Balia.increase(1000, 20_000, &ctx);
        assert!((increase - expected).abs() < 1e-9, "{increase} {expected}");
        // A loss takes (w/2)·min(4, 1.5) = 0.75·w.
        assert_eq!(Balia.decreased(20_000, 20_000, &ctx), 5000);
        // Never below two segments.
        assert_eq!(Balia.decreased(2000, 2000, &ctx), 2000);
    }
}
