//! What the coupled controllers share (RFC 6356 §3 and the papers after it): each keeps
//! NewReno's slow start, loss response and timeout (`Reno`), and replaces its
//! congestion-avoidance increase — and, for BALIA, its decrease — by one that depends on
//! every subflow of the connection, read from [`CcContext::siblings`].
//!
//! A [`Coupling`] is the part that differs; [`CoupledFactory`] builds a `Reno` around a
//! fresh one for each subflow.

use core::fmt::Debug;
use core::time::Duration;

use super::{CcContext, CongestionController, CongestionControllerFactory, Reno};
use crate::time::Instant;

/// The part of a coupled controller that differs from NewReno.
pub trait Coupling: Debug + Send + Sync {
    /// Its name ("lia", "olia", "balia").
    fn name(&self) -> &'static str;

    /// The congestion-avoidance increase, in bytes (fractional, possibly negative), for
    /// `acked` bytes newly acknowledged on this subflow, whose window is `cwnd` bytes.
    fn increase(&mut self, acked: usize, cwnd: usize, ctx: &CcContext<'_>) -> f64;

    /// The window after a loss, from `base` (the window or the flight, whichever is
    /// smaller): NewReno's half by default.
    fn decreased(&self, base: usize, _cwnd: usize, ctx: &CcContext<'_>) -> usize {
        (base / 2).max(2 * ctx.mss)
    }

    /// `acked` bytes were acknowledged (any phase).
    fn on_acked(&mut self, _acked: usize) {}

    /// The window was reduced for a loss or a timeout.
    fn on_loss(&mut self) {}

    /// What siblings read as [`SiblingView::loss_interval`](super::SiblingView::loss_interval).
    fn loss_interval(&self) -> usize {
        0
    }

    /// A fresh copy, for a new subflow.
    fn fresh(&self) -> Box<dyn Coupling>;
}

/// Builds a NewReno controller around a fresh copy of a [`Coupling`] for each subflow.
#[derive(Debug)]
pub struct CoupledFactory {
    prototype: Box<dyn Coupling>,
}

impl CoupledFactory {
    /// Every subflow's controller gets a fresh copy of `coupling`.
    pub fn new(coupling: Box<dyn Coupling>) -> Self {
        Self {
            prototype: coupling,
        }
    }
}

impl CongestionControllerFactory for CoupledFactory {
    fn name(&self) -> &'static str {
        self.prototype.name()
    }

    fn build(&self, _now: Instant, mss: usize) -> Box<dyn CongestionController> {
        Box::new(Reno::coupled(mss, self.prototype.fresh()))
    }
}

/// One subflow as the coupling formulas see it: its window in bytes and its smoothed RTT
/// in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Path {
    pub(crate) cwnd: f64,
    pub(crate) rtt: f64,
    /// OLIA's ℓ: bytes between its last two losses, or since the last if more.
    pub(crate) loss_interval: f64,
}

impl Path {
    /// Its rate, in bytes per second.
    pub(crate) fn rate(&self) -> f64 {
        self.cwnd / self.rtt
    }
}

/// Seconds, never zero (an RTT of 0 would make the formulas divide by zero).
fn seconds(rtt: Duration) -> f64 {
    rtt.as_secs_f64().max(1e-6)
}

/// This subflow (window `cwnd`, its RTT from `ctx`) first, then every sibling with an RTT
/// sample; `None` before this subflow has one.
pub(crate) fn paths(
    cwnd: usize,
    own_loss_interval: usize,
    ctx: &CcContext<'_>,
) -> Option<Vec<Path>> {
    let own = Path {
        cwnd: cwnd as f64,
        rtt: seconds(ctx.srtt?),
        loss_interval: own_loss_interval as f64,
    };
    let siblings = ctx.siblings.iter().filter_map(|s| {
        Some(Path {
            cwnd: s.cwnd as f64,
            rtt: seconds(s.srtt?),
            loss_interval: s.loss_interval as f64,
        })
    });
    Some(core::iter::once(own).chain(siblings).collect())
}

/// NewReno's congestion-avoidance increase, in bytes: one MSS per window acknowledged.
pub(crate) fn reno_increase(acked: usize, cwnd: usize, mss: usize) -> f64 {
    acked as f64 * mss as f64 / cwnd.max(1) as f64
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::cc::SiblingView;

    /// A context for subflow of MSS 1000 and RTT `rtt_ms`, with `siblings` as (window in
    /// bytes, RTT in ms).
    pub(crate) fn ctx_with(rtt_ms: u64, siblings: &[SiblingView]) -> CcContext<'_> {
        CcContext {
            mss: 1000,
            srtt: Some(Duration::from_millis(rtt_ms)),
            min_rtt: Some(Duration::from_millis(rtt_ms)),
            bytes_in_flight: 0,
            siblings,
        }
    }

    /// A sibling of window `cwnd` bytes and RTT `rtt_ms`.
    pub(crate) fn sibling(cwnd: usize, rtt_ms: u64, loss_interval: usize) -> SiblingView {
        SiblingView {
            cwnd,
            srtt: Some(Duration::from_millis(rtt_ms)),
            mss: 1000,
            loss_interval,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::ctx_with;
    use super::*;
    use crate::cc::{Balia, Lia, Olia};

    /// RFC 6356 §4 and the papers: a coupled controller with one subflow is NewReno.
    #[test]
    fn every_coupling_alone_is_newreno() {
        let ctx = ctx_with(50, &[]);
        let couplings: [Box<dyn Coupling>; 3] =
            [Box::new(Lia), Box::new(Olia::default()), Box::new(Balia)];
        for mut coupling in couplings {
            let increase = coupling.increase(1000, 20_000, &ctx);
            let reno = reno_increase(1000, 20_000, 1000);
            assert!(
                (increase - reno).abs() < 1e-9,
                "{}: {increase}",
                coupling.name()
            );
            assert_eq!(
                coupling.decreased(20_000, 20_000, &ctx),
                10_000,
                "{}",
                coupling.name()
            );
        }
    }
}
