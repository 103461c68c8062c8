//! `roundrobin`: the multipath-tcp.org kernel's round-robin scheduler (REFERENCES §5, its
//! module parameters `num_segments` and `cwnd_limited`). Subflows take turns, each sending
//! `num_segments` segments before the next one's turn. With `cwnd_limited` a subflow
//! without room in its congestion window is skipped, so the split follows the paths'
//! capacity; without it the turns are strict: the connection waits for the subflow whose
//! turn it is (it may queue up to `num_segments` segments beyond its window), so every
//! working subflow carries the same share however fast its path is.

use super::{SchedContext, Scheduler, SubflowView};

/// Round robin; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundRobin {
    num_segments: u32,
    cwnd_limited: bool,
    /// The subflow whose turn it is, and how many segments it sent in this turn.
    turn: usize,
    sent: u32,
}

impl RoundRobin {
    /// `num_segments` per turn (at least 1); `cwnd_limited` skips subflows with a full
    /// congestion window.
    pub fn new(num_segments: u32, cwnd_limited: bool) -> Self {
        Self {
            num_segments: num_segments.max(1),
            cwnd_limited,
            turn: 0,
            sent: 0,
        }
    }

    /// Segments per turn.
    pub fn num_segments(&self) -> u32 {
        self.num_segments
    }

    /// Whether full congestion windows are skipped.
    pub fn cwnd_limited(&self) -> bool {
        self.cwnd_limited
    }

    /// Whether subflow `s` can take a segment now.
    fn can_take(&self, s: &SubflowView) -> bool {
        let room_in_turn = s.unsent < self.num_segments as usize * s.mss.max(1);
        room_in_turn && (!self.cwnd_limited || s.cwnd_room > s.unsent)
    }
}

impl Default for RoundRobin {
    /// The kernel module's defaults: one segment per turn, `cwnd_limited` on.
    fn default() -> Self {
        Self::new(1, true)
    }
}

impl Scheduler for RoundRobin {
    fn name(&self) -> &'static str {
        "roundrobin"
    }

    fn pick(
        &mut self,
        _ctx: &SchedContext,
        subflows: &[SubflowView],
        exclude: Option<usize>,
    ) -> Option<usize> {
        let count = subflows.len();
        if count == 0 {
            return None;
        }
        let allowed = |s: &SubflowView| Some(s.index) != exclude && s.working();
        let regular_works = subflows.iter().any(|s| allowed(s) && !s.backup);
        let eligible = |s: &SubflowView| allowed(s) && !(s.backup && regular_works);
        for step in 0..count {
            let index = (self.turn + step) % count;
            let s = &subflows[index];
            if !eligible(s) {
                continue;
            }
            if !self.can_take(s) {
                if self.cwnd_limited {
                    continue;
                }
                // Strict turns: wait for it.
                return None;
            }
            if index != self.turn {
                self.turn = index;
                self.sent = 0;
            }
            self.sent += 1;
            if self.sent >= self.num_segments {
                self.turn = (index + 1) % count;
                self.sent = 0;
            }
            return Some(s.index);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    fn view(index: usize, rtt_ms: u64) -> SubflowView {
        SubflowView {
            index,
            usable: true,
            srtt: Some(Duration::from_millis(rtt_ms)),
            rttvar: Duration::ZERO,
            cwnd: 10_000,
            in_flight: 0,
            cwnd_room: 10_000,
            unsent: 0,
            mss: 1_000,
            backup: false,
            potentially_failed: false,
        }
    }

    fn picks(s: &mut RoundRobin, subflows: &[SubflowView], n: usize) -> Vec<Option<usize>> {
        (0..n)
            .map(|_| s.pick(&SchedContext::default(), subflows, None))
            .collect()
    }

    #[test]
    fn subflows_take_turns_of_num_segments() {
        let subflows = [view(0, 10), view(1, 50), view(2, 5)];
        let mut s = RoundRobin::new(2, true);
        let got = picks(&mut s, &subflows, 7);
        assert_eq!(
            got,
            [0, 0, 1, 1, 2, 2, 0].map(Some).to_vec(),
            "two segments each, in order, whatever the RTTs"
        );
    }

    #[test]
    fn cwnd_limited_skips_a_full_window_and_strict_turns_wait_for_it() {
        let mut subflows = [view(0, 10), view(1, 50)];
        subflows[1].cwnd_room = 0;
        subflows[1].unsent = 1_000;
        let mut limited = RoundRobin::new(1, true);
        assert_eq!(picks(&mut limited, &subflows, 3), [Some(0); 3].to_vec());
        let mut strict = RoundRobin::new(1, false);
        // Subflow 1 already has a segment queued: its turn waits.
        assert_eq!(
            picks(&mut strict, &subflows, 3),
            [Some(0), None, None].to_vec()
        );
        subflows[1].unsent = 0;
        // Without room it still takes its segment (queued beyond its window).
        assert_eq!(
            picks(&mut strict, &subflows, 2),
            [Some(1), Some(0)].to_vec()
        );
    }

    #[test]
    fn failed_excluded_and_backup_subflows_lose_their_turn() {
        let mut subflows = [view(0, 10), view(1, 10), view(2, 10)];
        subflows[1].potentially_failed = true;
        subflows[2].backup = true;
        let mut s = RoundRobin::new(1, false);
        assert_eq!(picks(&mut s, &subflows, 3), [Some(0); 3].to_vec());
        assert_eq!(
            s.pick(&SchedContext::default(), &subflows, Some(0)),
            Some(2),
            "the backup when nothing else works"
        );
    }
}
