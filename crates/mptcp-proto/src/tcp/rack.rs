//! RACK-TLP loss detection (RFC 8985): a segment is lost when a segment sent after it has
//! been delivered and more than an RTT plus a reordering window has passed since it was sent.

use core::time::Duration;

use super::scoreboard::{Scoreboard, Sent};
use crate::time::Instant;
use crate::wire::SeqNum;

/// RFC 8985 §6.2: three segments SACKed above a hole end the reordering allowance.
const DUP_THRESH: usize = 3;

/// The RACK state of one connection (RFC 8985 §6.1).
#[derive(Debug, Clone, Default)]
pub(crate) struct Rack {
    /// Send time of the most recently sent segment delivered (RACK.xmit_ts).
    xmit_ts: Option<Instant>,
    /// Its end (RACK.end_seq).
    end_seq: SeqNum,
    /// RTT of that segment (RACK.rtt).
    rtt: Duration,
    /// Highest end sequence delivered (RACK.fack).
    fack: Option<SeqNum>,
    /// Whether reordering was observed (RACK.reordering_seen).
    reordering_seen: bool,
}

/// What a loss detection pass found.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Detection {
    /// Send time of the earliest segment newly marked lost.
    pub(crate) lost_sent_at: Option<Instant>,
    /// When to look again for segments not yet old enough (the RACK reordering timer).
    pub(crate) recheck_in: Option<Duration>,
}

/// Whether (t1, s1) was sent after (t2, s2) (RFC 8985 §6.2 RACK_sent_after).
fn sent_after(t1: Instant, s1: SeqNum, t2: Instant, s2: SeqNum) -> bool {
    t1 > t2 || (t1 == t2 && s1 > s2)
}

impl Rack {
    /// RFC 8985 §6.2 steps 1–3: a segment was delivered (cumulatively or by SACK) at `now`.
    pub(crate) fn on_delivered(&mut self, seg: &Sent, now: Instant, min_rtt: Option<Duration>) {
        let rtt = now - seg.sent_at;
        // Step 2: an ACK of a retransmitted segment faster than the minimum RTT may be for
        // the original transmission; do not take its time.
        if seg.retrans > 0 && min_rtt.is_some_and(|m| rtt < m) {
            return;
        }
        let end = seg.end();
        // Step 3: reordering is seen when a segment below the highest delivered one is
        // delivered late without having been retransmitted.
        match self.fack {
            Some(fack) if end < fack => {
                if seg.retrans == 0 {
                    self.reordering_seen = true;
                }
            }
            _ => self.fack = Some(end),
        }
        let newer = self
            .xmit_ts
            .is_none_or(|t| sent_after(seg.sent_at, end, t, self.end_seq));
        if newer {
            self.rtt = rtt;
            self.xmit_ts = Some(seg.sent_at);
            self.end_seq = end;
        }
    }

    /// RFC 8985 §6.2 step 4 (without DSACK): the reordering window.
    fn reo_wnd(
        &self,
        sb: &Scoreboard,
        in_recovery: bool,
        min_rtt: Option<Duration>,
        srtt: Duration,
    ) -> Duration {
        if !self.reordering_seen && (in_recovery || sb.sacked_segs() >= DUP_THRESH) {
            return Duration::ZERO;
        }
        (min_rtt.unwrap_or_default() / 4).min(srtt)
    }

    /// RFC 8985 §6.2 step 5: marks lost every segment sent before the most recently
    /// delivered one whose time is up.
    pub(crate) fn detect_loss(
        &mut self,
        sb: &mut Scoreboard,
        now: Instant,
        in_recovery: bool,
        min_rtt: Option<Duration>,
        srtt: Duration,
    ) -> Detection {
        let mut out = Detection::default();
        let Some(xmit_ts) = self.xmit_ts else {
            return out;
        };
        let reo_wnd = self.reo_wnd(sb, in_recovery, min_rtt, srtt);
        let mut wait = Duration::ZERO;
        let mut i = 0;
        while let Some(seg) = sb.get(i).copied() {
            i += 1;
            if seg.sacked || seg.lost {
                continue;
            }
            if sent_after(seg.sent_at, seg.end(), xmit_ts, self.end_seq) {
                // Segments never retransmitted are in send order, and every later
                // retransmission went out later still: nothing further can qualify.
                if seg.retrans == 0 {
                    break;
                }
                continue;
            }
            let deadline = seg.sent_at + self.rtt + reo_wnd;
            if deadline <= now {
                if sb.mark_lost(i - 1) && out.lost_sent_at.is_none() {
                    out.lost_sent_at = Some(seg.sent_at);
                }
            } else {
                wait = wait.max(deadline - now);
            }
        }
        if !wait.is_zero() {
            out.recheck_in = Some(wait);
        }
        out
    }

    /// RFC 8985 §6.3: on a retransmission timeout, the first outstanding segment is lost (it
    /// was sent an RTO ago); any other is lost only if it was sent at least RACK.rtt plus the
    /// reordering window ago. Segments sent since then are still on their way: marking them
    /// too would send again a whole window the receiver is about to get (go-back-N); if they
    /// are lost, RACK finds them as the next ACKs arrive.
    pub(crate) fn mark_losses_on_rto(
        &self,
        sb: &mut Scoreboard,
        now: Instant,
        min_rtt: Option<Duration>,
        srtt: Duration,
    ) {
        // The timeout starts a recovery: no reordering allowance unless reordering was seen.
        let reo_wnd = self.reo_wnd(sb, true, min_rtt, srtt);
        for i in 0..sb.len() {
            let Some(seg) = sb.get(i).copied() else {
                break;
            };
            if i == 0 || seg.sent_at + self.rtt + reo_wnd <= now {
                sb.mark_lost(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(k: u32, at: u64) -> Sent {
        Sent {
            start: SeqNum(100 * k),
            len: 100,
            fin: false,
            sent_at: Instant::from_millis(at),
            retrans: 0,
            sacked: false,
            lost: false,
            app_limited: false,
        }
    }

    #[test]
    fn marks_older_segments_lost_after_reordering_window() {
        let mut sb = Scoreboard::default();
        for k in 0..5 {
            sb.push(seg(k, u64::from(k)));
        }
        let mut rack = Rack::default();
        let now = Instant::from_millis(104);
        let mut delivered = Vec::new();
        sb.sack(
            &[crate::wire::SackBlock {
                left: 400,
                right: 500,
            }],
            |s| delivered.push(*s),
        );
        for s in &delivered {
            rack.on_delivered(s, now, Some(Duration::from_millis(100)));
        }
        // One SACKed segment: a reordering window of min_rtt/4 = 25 ms applies.
        let d = rack.detect_loss(
            &mut sb,
            now,
            false,
            Some(Duration::from_millis(100)),
            Duration::from_millis(100),
        );
        assert!(d.lost_sent_at.is_none());
        assert_eq!(d.recheck_in, Some(Duration::from_millis(24)));
        let later = now + Duration::from_millis(22);
        let d = rack.detect_loss(
            &mut sb,
            later,
            false,
            Some(Duration::from_millis(100)),
            Duration::from_millis(100),
        );
        assert_eq!(d.lost_sent_at, Some(Instant::ZERO));
        assert_eq!(sb.lost_segs(), 2);
        assert_eq!(d.recheck_in, Some(Duration::from_millis(2)));
    }

    #[test]
    fn timeout_marks_the_first_segment_and_those_sent_over_an_rtt_ago() {
        let lost = |sb: &Scoreboard| -> Vec<bool> {
            (0..sb.len()).map(|i| sb.get(i).unwrap().lost).collect()
        };
        let mut sb = Scoreboard::default();
        // Sent at 0, 10, 20 (SACKed at 70: RACK.rtt = 50 ms), 90 and 95.
        for (k, at) in [0, 10, 20, 90, 95].into_iter().enumerate() {
            sb.push(seg(k as u32, at));
        }
        let mut rack = Rack::default();
        let mut delivered = Vec::new();
        sb.sack(
            &[crate::wire::SackBlock {
                left: 200,
                right: 300,
            }],
            |s| delivered.push(*s),
        );
        let min_rtt = Some(Duration::from_millis(50));
        for s in &delivered {
            rack.on_delivered(s, Instant::from_millis(70), min_rtt);
        }
        let srtt = Duration::from_millis(50);
        rack.mark_losses_on_rto(&mut sb, Instant::from_millis(100), min_rtt, srtt);
        // Segments 0 and 1 are older than RACK.rtt (no reordering window: the timeout starts
        // a recovery); 2 arrived; 3 and 4 left 10 and 5 ms ago and are still on their way.
        assert_eq!(lost(&sb), [true, true, false, false, false]);
        assert_eq!(sb.lost_segs(), 2);

        // The first outstanding segment is lost however recently it went: the timer ran
        // out on it.
        let mut sb = Scoreboard::default();
        sb.push(seg(0, 99));
        sb.push(seg(1, 99));
        rack.mark_losses_on_rto(&mut sb, Instant::from_millis(100), min_rtt, srtt);
        assert_eq!(lost(&sb), [true, false]);
    }
}
