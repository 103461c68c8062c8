//! `redundant`: the multipath-tcp.org kernel's redundant scheduler (REFERENCES §5): every
//! segment goes on every usable subflow, backups only when no other subflow works. Each
//! subflow sends at its own pace: new data goes to the fastest one with room, and every
//! other candidate sends its own copy of what it has not carried yet as soon as its window
//! lets it, skipping what the peer already acknowledged at the data level, so a slow or
//! lossy path never holds the others up. The receiver keeps the first copy of each byte.
//! It trades capacity for latency: the connection goes at the pace of its fastest path,
//! and a loss on one path costs nothing while another delivers the same byte.

use super::{SchedContext, Scheduler, SubflowView, candidates, fastest_ready};

/// Every byte on every candidate subflow; see the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Redundant;

impl Scheduler for Redundant {
    fn name(&self) -> &'static str {
        "redundant"
    }

    fn pick(
        &mut self,
        _ctx: &SchedContext,
        subflows: &[SubflowView],
        exclude: Option<usize>,
    ) -> Option<usize> {
        fastest_ready(subflows, exclude).map(|s| s.index)
    }

    fn pick_copy(&mut self, _ctx: &SchedContext, subflows: &[SubflowView]) -> Option<usize> {
        candidates(subflows, None)
            .filter(|s| s.ready() && s.not_carried > 0)
            .min_by_key(|s| s.rtt())
            .map(|s| s.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::test_view as view;

    #[test]
    fn new_data_goes_to_the_fastest_and_every_other_candidate_copies_it() {
        let mut s = Redundant;
        let ctx = SchedContext::default();
        let mut subflows = [view(0, 40), view(1, 10), view(2, 20)];
        assert_eq!(s.pick(&ctx, &subflows, None), Some(1));
        assert_eq!(s.pick_copy(&ctx, &subflows), None, "nobody lags");
        subflows[0].not_carried = 3_000;
        subflows[2].not_carried = 1_000;
        assert_eq!(
            s.pick_copy(&ctx, &subflows),
            Some(2),
            "fastest lagging first"
        );
        subflows[2].cwnd_room = 0;
        assert_eq!(s.pick_copy(&ctx, &subflows), Some(0));
        subflows[0].unsent = 500;
        assert_eq!(
            s.pick_copy(&ctx, &subflows),
            None,
            "a full or busy one waits"
        );
    }

    #[test]
    fn backups_copy_only_when_no_regular_subflow_works() {
        let mut s = Redundant;
        let ctx = SchedContext::default();
        let mut subflows = [view(0, 40), view(1, 10)];
        subflows[1].backup = true;
        subflows[1].not_carried = 1_000;
        assert_eq!(s.pick(&ctx, &subflows, None), Some(0));
        assert_eq!(s.pick_copy(&ctx, &subflows), None);
        subflows[0].potentially_failed = true;
        assert_eq!(s.pick_copy(&ctx, &subflows), Some(1));
        assert_eq!(s.pick(&ctx, &subflows, None), Some(1));
    }
}
