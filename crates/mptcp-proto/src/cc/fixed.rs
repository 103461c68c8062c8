//! A test controller with a constant window: it ignores every acknowledgment and congestion
//! signal. Useful to test an engine or a scheduler without congestion control in the way.

use super::{
    AckEvent, CcContext, CongestionController, CongestionControllerFactory, CongestionEvent,
};
use crate::time::Instant;

/// Builds [`FixedWindow`] controllers of `segments`·MSS bytes; its name is "fixed".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedFactory {
    /// The window, in segments of the subflow's MSS.
    pub segments: usize,
}

impl Default for FixedFactory {
    /// Ten segments, the RFC 6928 initial window for common MSS values.
    fn default() -> Self {
        FixedFactory { segments: 10 }
    }
}

impl CongestionControllerFactory for FixedFactory {
    fn name(&self) -> &'static str {
        "fixed"
    }

    fn build(&self, _now: Instant, mss: usize) -> Box<dyn CongestionController> {
        Box::new(FixedWindow::new(self.segments.saturating_mul(mss).max(1)))
    }
}

/// A congestion controller whose window never changes.
///
/// ```
/// use mptcp_proto::cc::{CongestionController, FixedWindow};
/// let cc = FixedWindow::new(64_000);
/// assert_eq!(cc.window(), 64_000);
/// assert!(!cc.in_slow_start());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedWindow {
    window: usize,
}

impl FixedWindow {
    /// A controller whose window is always `window` bytes.
    pub fn new(window: usize) -> Self {
        FixedWindow { window }
    }
}

impl CongestionController for FixedWindow {
    fn name(&self) -> &'static str {
        "fixed"
    }

    fn window(&self) -> usize {
        self.window
    }

    /// Equal to the window, so the controller never claims to be in slow start.
    fn ssthresh(&self) -> usize {
        self.window
    }

    fn on_ack(&mut self, _now: Instant, _ack: &AckEvent, _ctx: &CcContext<'_>) {}

    fn on_congestion_event(
        &mut self,
        _now: Instant,
        _event: CongestionEvent,
        _ctx: &CcContext<'_>,
    ) {
    }

    fn on_recovery_end(&mut self, _now: Instant, _ctx: &CcContext<'_>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_never_changes() {
        let mut cc = FixedFactory { segments: 4 }.build(Instant::ZERO, 1000);
        let ctx = CcContext {
            mss: 1000,
            srtt: None,
            min_rtt: None,
            bytes_in_flight: 4000,
            siblings: &[],
        };
        let ack = AckEvent {
            bytes_acked: 1000,
            rtt_sample: None,
            app_limited: false,
        };
        cc.on_ack(Instant::from_millis(1), &ack, &ctx);
        cc.on_congestion_event(Instant::from_millis(2), CongestionEvent::Timeout, &ctx);
        cc.on_recovery_end(Instant::from_millis(3), &ctx);
        assert_eq!(
            (cc.name(), cc.window(), cc.ssthresh()),
            ("fixed", 4000, 4000)
        );
    }
}
