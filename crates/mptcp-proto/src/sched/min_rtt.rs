//! `default`: the multipath-tcp.org kernel's scheduler (REFERENCES §5) — the lowest
//! smoothed RTT among the subflows with room in their congestion window, potentially
//! failed subflows skipped, backups only when no other subflow works, with opportunistic
//! retransmission (Raiciu et al., NSDI 2012 §4.2; done by the connection,
//! `conn/opportunistic.rs`, for schedulers that ask for it).

use core::time::Duration;

use super::{SchedContext, Scheduler, SubflowView};

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
        let allowed = |s: &&SubflowView| Some(s.index) != exclude;
        let regular_works = subflows
            .iter()
            .filter(allowed)
            .any(|s| s.working() && !s.backup);
        let eligible = |s: &&SubflowView| s.working() && !(s.backup && regular_works);
        subflows
            .iter()
            .filter(allowed)
            .filter(eligible)
            .filter(|s| s.ready())
            .min_by_key(|s| s.srtt.unwrap_or(Duration::MAX))
            .map(|s| s.index)
    }

    fn opportunistic_retransmission(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(index: usize, rtt_ms: u64, backup: bool) -> SubflowView {
        SubflowView {
            index,
            usable: true,
            srtt: Some(Duration::from_millis(rtt_ms)),
            rttvar: Duration::from_millis(rtt_ms / 4),
            cwnd: 10_000,
            in_flight: 0,
            cwnd_room: 10_000,
            unsent: 0,
            mss: 1_000,
            backup,
            potentially_failed: false,
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
