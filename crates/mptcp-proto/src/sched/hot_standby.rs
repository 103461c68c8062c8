//! `standby`: hot standby (draft-scharf-mptcp-api, seed 004, §6.1: the "latency-sensitive
//! transport with hot-standby" profile). One subflow carries all data — the first one in
//! the connection's list that works (normally the initial subflow), backups only when no
//! other works — and the others stand by, established and idle. When it is taken for
//! failed (its retransmission timer fired, it closed or was reset), the connection
//! re-injects what it held on the next one at once and that one carries everything from
//! then on.

use super::{SchedContext, Scheduler, SubflowView, candidates};

/// One active subflow, the others idle; see the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct HotStandby;

impl Scheduler for HotStandby {
    fn name(&self) -> &'static str {
        "standby"
    }

    fn pick(
        &mut self,
        _ctx: &SchedContext,
        subflows: &[SubflowView],
        exclude: Option<usize>,
    ) -> Option<usize> {
        let active = candidates(subflows, exclude).next()?;
        active.ready().then_some(active.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::test_view as view;

    #[test]
    fn the_first_working_subflow_carries_everything_and_the_next_takes_over() {
        let mut s = HotStandby;
        let ctx = SchedContext::default();
        let mut subflows = [view(0, 50), view(1, 5)];
        assert_eq!(s.pick(&ctx, &subflows, None), Some(0), "not the fastest");
        subflows[0].cwnd_room = 0;
        assert_eq!(s.pick(&ctx, &subflows, None), None, "no overflow");
        assert_eq!(s.pick(&ctx, &subflows, Some(0)), Some(1), "re-injection");
        subflows[0].potentially_failed = true;
        assert_eq!(s.pick(&ctx, &subflows, None), Some(1));
    }
}
