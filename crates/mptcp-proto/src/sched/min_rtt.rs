//! `default`: the multipath-tcp.org kernel's scheduler (REFERENCES §5) — the lowest
//! smoothed RTT among the subflows with room in their congestion window, potentially
//! failed subflows skipped, backups only when no other subflow works, with opportunistic
//! retransmission (Raiciu et al., NSDI 2012 §4.2; done by the connection,
//! `conn/opportunistic.rs`, for schedulers that ask for it).

use super::{SchedContext, Scheduler, SubflowView, fastest_ready};

/// Minimum RTT first; see the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct MinRtt;

impl Scheduler for MinRtt {
    fn name(&self) -> &'static str {
        "default"
    }

    fn pick(
        &mut self,
        _ctx: &SchedContext,
        subflows: &[SubflowView],
        exclude: Option<usize>,
    ) -> Option<usize> {
        fastest_ready(subflows, exclude).map(|s| s.index)
    }

    fn opportunistic_retransmission(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::test_view;

    fn view(index: usize, rtt_ms: u64, backup: bool) -> SubflowView {
        SubflowView {
            backup,
            ..test_view(index, rtt_ms)
        }
    }

    const WIDE: SchedContext = SchedContext {
        window: 1 << 30,
        in_flight: 0,
        queued: 1 << 20,
    };

    #[test]
    fn lowest_rtt_with_room_wins_and_backups_wait_for_the_others_to_fail() {
        let mut s = MinRtt;
        let mut subflows = [view(0, 60, false), view(1, 20, false), view(2, 5, true)];
        assert_eq!(s.pick(&WIDE, &subflows, None), Some(1));
        assert_eq!(s.pick(&WIDE, &subflows, Some(1)), Some(0));
        subflows[1].cwnd_room = 0;
        assert_eq!(s.pick(&WIDE, &subflows, None), Some(0));
        subflows[0].unsent = 100;
        // Regular subflows work but are busy: wait rather than use the backup.
        assert_eq!(s.pick(&WIDE, &subflows, None), None);
        subflows[0].potentially_failed = true;
        subflows[1].usable = false;
        assert_eq!(s.pick(&WIDE, &subflows, None), Some(2));
    }
}
