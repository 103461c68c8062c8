//! OLIA, the Opportunistic Linked Increases Algorithm (R. Khalili, N. Gast, M. Popovic,
//! J.-Y. Le Boudec, "MPTCP is not Pareto-optimal: performance issues and a possible
//! solution", IEEE/ACM Transactions on Networking 21(5), 2013; draft-khalili-mptcp-
//! congestion-control): LIA can take more than it needs from a shared link and hurt other
//! users; OLIA's increase is Pareto-optimal and still responsive.
//!
//! In congestion avoidance, an ACK of `acked` bytes on path r grows its window by
//! `acked · MSS · ((w_r / rtt_r²) / (Σ_p w_p / rtt_p)² + ε_r / w_r)` bytes (the paper's
//! per-packet increase, windows in bytes). ε_r moves window from the paths with the largest
//! windows (M) to the best paths (B: the largest `ℓ_p / rtt_p²`, ℓ the bytes between the
//! last two losses or since the last, whichever is more) that are not among them: with
//! `C = B ∖ M` non-empty, `ε_r = 1 / (n·|C|)` on C and `−1 / (n·|M|)` on M, n paths; else
//! 0. Slow start, the halving on loss and the timeout are NewReno's. One path alone is
//! NewReno.

use super::CcContext;
use super::coupled::{Coupling, Path, paths, reno_increase};

/// OLIA's increase, and the loss interval it keeps for its siblings to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Olia {
    /// Bytes acknowledged between the last two losses.
    between_losses: usize,
    /// Bytes acknowledged since the last loss.
    since_loss: usize,
}

/// Windows within this many bytes of each other count as equal (M and B are sets of
/// maxima; exact float ties are rare).
const TIE: f64 = 1e-9;

impl Olia {
    /// ε of path 0 among `paths` (the paper's §IV-A).
    pub(crate) fn epsilon(paths: &[Path]) -> f64 {
        let n = paths.len() as f64;
        let largest = paths.iter().map(|p| p.cwnd).fold(0.0, f64::max);
        let in_m = |p: &Path| p.cwnd >= largest * (1.0 - TIE);
        let quality = |p: &Path| p.loss_interval / (p.rtt * p.rtt);
        let best = paths.iter().map(quality).fold(0.0, f64::max);
        let in_b = |p: &Path| quality(p) >= best * (1.0 - TIE);
        let m = paths.iter().filter(|p| in_m(p)).count() as f64;
        let c = paths.iter().filter(|p| in_b(p) && !in_m(p)).count() as f64;
        let own = &paths[0];
        if c == 0.0 {
            0.0
        } else if in_b(own) && !in_m(own) {
            1.0 / (n * c)
        } else if in_m(own) {
            -1.0 / (n * m)
        } else {
            0.0
        }
    }
}

impl Coupling for Olia {
    fn name(&self) -> &'static str {
        "olia"
    }

    fn increase(&mut self, acked: usize, cwnd: usize, ctx: &CcContext<'_>) -> f64 {
        let Some(paths) = paths(cwnd, self.loss_interval(), ctx) else {
            return reno_increase(acked, cwnd, ctx.mss);
        };
        let own = paths[0];
        let sum: f64 = paths.iter().map(Path::rate).sum();
        let per_byte = (own.cwnd / (own.rtt * own.rtt)) / (sum * sum)
            + Self::epsilon(&paths) / own.cwnd.max(1.0);
        acked as f64 * ctx.mss as f64 * per_byte
    }

    fn on_acked(&mut self, acked: usize) {
        self.since_loss = self.since_loss.saturating_add(acked);
    }

    fn on_loss(&mut self) {
        self.between_losses = self.since_loss;
        self.since_loss = 0;
    }

    fn loss_interval(&self) -> usize {
        self.between_losses.max(self.since_loss)
    }

    fn fresh(&self) -> Box<dyn Coupling> {
        Box::new(Self::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cc::coupled::test_support::{ctx_with, sibling};

    fn path(cwnd: f64, rtt: f64, loss_interval: f64) -> Path {
        Path {
            cwnd,
            rtt,
            loss_interval,
        }
    }

    #[test]
    fn epsilon_moves_window_from_the_largest_to_the_best_other_path() {
        // Path 0: the largest window but a poor loss interval; path 1: smaller window, the
        // best ℓ/rtt². C = {1}, M = {0}: ε_0 = −1/(2·1), ε_1 = +1/(2·1).
        let big = path(100_000.0, 0.05, 1e5);
        let best = path(20_000.0, 0.05, 1e6);
        assert!((Olia::epsilon(&[big, best]) + 0.5).abs() < 1e-12);
        assert!((Olia::epsilon(&[best, big]) - 0.5).abs() < 1e-12);
        // The best path is also the largest: C is empty, ε is 0 everywhere.
        let best_and_big = path(100_000.0, 0.05, 1e6);
        let other = path(20_000.0, 0.05, 1e5);
        assert_eq!(Olia::epsilon(&[best_and_big, other]), 0.0);
        assert_eq!(Olia::epsilon(&[other, best_and_big]), 0.0);
        // A third path, neither: ε = 0.
        let third = path(10_000.0, 0.05, 1e4);
        assert_eq!(Olia::epsilon(&[third, big, best]), 0.0);
    }

    #[test]
    fn the_increase_follows_the_formula() {
        let siblings = [sibling(40_000, 100, 500_000)];
        let ctx = ctx_with(50, &siblings);
        let mut olia = Olia::default();
        olia.on_acked(100_000);
        // Own: w 20 000, rtt 0.05, ℓ 1e5 → ℓ/rtt² = 4e7; sibling: ℓ/rtt² = 5e7 and the
        // largest window: C empty, ε = 0.
        let own = 20_000.0 / (0.05f64 * 0.05);
        let sum = 20_000.0 / 0.05 + 40_000.0 / 0.1;
        let expected = 1000.0 * 1000.0 * own / (sum * sum);
        let increase = olia.increase(1000, 20_000, &ctx);
        assert!((increase - expected).abs() < 1e-9, "{increase} {expected}");
    }

    #[test]
    fn the_loss_interval_is_the_larger_of_the_last_two() {
        let mut olia = Olia::default();
        olia.on_acked(5000);
        olia.on_loss();
        olia.on_acked(2000);
        assert_eq!(olia.loss_interval(), 5000);
        olia.on_acked(4000);
        assert_eq!(olia.loss_interval(), 6000);
        olia.on_loss();
        assert_eq!(olia.loss_interval(), 6000);
    }
}
