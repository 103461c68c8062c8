//! Opportunistic retransmission (Raiciu et al., "How Hard Can It Be? Designing and
//! Implementing a Deployable Multipath TCP", NSDI 2012, §4.2; the seeds' default
//! scheduler). When no new data can go — the peer's connection-level window or our send
//! buffer is full of data in flight, or every byte is already mapped — what holds the
//! connection up is the data not DATA_ACKed still in flight on slower subflows. An idle,
//! faster subflow sends it again, oldest first, when it would deliver it sooner than the
//! subflow holding it, so that it arrives at the faster path's pace (at the end of a
//! transfer this is the tail a deep-queued slow path would deliver seconds later).
//!
//! The paper also halves the holder's congestion window ("penalisation"). Measured in the
//! simulator's sweep of unequal paths (`crates/mptcp-sim/tests/aggregation.rs`), reducing
//! it as on a loss made 37 of 106 cases fall below 90 % of the sum of the paths, against 6
//! without, so it is not done.

use core::time::Duration;

use super::{Mode, MptcpConnection};

use crate::time::Instant;
use crate::wire::DataSeq;

/// A copy goes only when the faster subflow would deliver it at least a quarter of its
/// own round trip sooner: on paths of nearly equal RTT the estimates' jitter would
/// otherwise send copies all the time (against the Linux kernel over two equal veth paths,
/// 14 % of the bytes went twice) for no gain.
const GAIN_DIVISOR: u32 = 4;

impl MptcpConnection {
    /// Re-sends one segment held by a slower subflow on a faster idle one; false when
    /// there is nothing to do.
    pub(super) fn retransmit_opportunistically(
        &mut self,
        now: Instant,
        scratch: &mut [u8],
    ) -> bool {
        if self.mode != Mode::Mptcp
            || !self.sched.opportunistic_retransmission()
            || !self.reinject.is_empty()
        {
            return false;
        }
        let all_mapped = self.snd_nxt >= self.snd_una + self.send_buf.len() as u64;
        if !all_mapped && !self.new_data_blocked() {
            return false;
        }
        let views = self.subflow_views();
        let fast = self
            .sched
            .pick(&self.sched_context(), &views, None)
            .and_then(|fast| Some((fast, views[fast].srtt?)));
        self.return_views(views);
        let Some((fast, fast_rtt)) = fast else {
            return false;
        };
        let Some(start) = self.oldest_held_by_slower(now, fast_rtt) else {
            return false;
        };
        let len = self.snd_nxt.diff(start).max(0) as usize;
        let sent = self.hand_over(fast, start, len, scratch);
        if sent == 0 {
            return false;
        }
        self.opportunistic_to = Some(start + sent as u64);
        true
    }

    /// The oldest byte not yet re-sent opportunistically that another subflow holds in
    /// flight (mapped, not acknowledged by its peer) and would deliver later than a
    /// subflow with round trip `rtt` sending it now.
    fn oldest_held_by_slower(&self, now: Instant, rtt: Duration) -> Option<DataSeq> {
        let from = self
            .opportunistic_to
            .map_or(self.snd_una, |to| to.max(self.snd_una));
        let mut oldest: Option<DataSeq> = None;
        for sf in &self.subflows {
            let Some(own) = sf.tcp.rtt.srtt() else {
                continue;
            };
            if sf.potentially_failed || own <= rtt {
                continue;
            }
            for map in sf.tx.iter() {
                let (Some(len), Some(ssn_end)) = (map.len, map.ssn_end()) else {
                    continue;
                };
                let end = map.dsn + u64::from(len);
                if ssn_end <= sf.tcp.snd_una || end <= from {
                    continue;
                }
                let start = map.dsn.max(from);
                if oldest.is_some_and(|o| o <= start) {
                    continue;
                }
                // Sent: expected back one round trip after it left; not sent yet: one
                // round trip from now at the earliest.
                let ssn = map.ssn + start.diff(map.dsn) as u32;
                let expected = sf.tcp.sb.sent_at(ssn).unwrap_or(now) + own;
                if now + rtt + rtt / GAIN_DIVISOR < expected {
                    oldest = Some(start);
                }
            }
        }
        oldest
    }

    /// Whether new data waits for the data level: the application has more than our send
    /// buffer holds, or the peer's connection-level window is closed to what is queued.
    fn new_data_blocked(&self) -> bool {
        let end = self.snd_una + self.send_buf.len() as u64;
        if self.snd_nxt >= end {
            return self.writable_wanted;
        }
        self.snd_wnd_edge.is_some_and(|edge| edge <= self.snd_nxt)
    }
}
