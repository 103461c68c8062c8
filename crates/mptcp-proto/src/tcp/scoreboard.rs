//! The sender's scoreboard (RFC 6675 §3): every segment sent and not cumulatively
//! acknowledged, in sequence order, with its SACK and loss marks and its last transmission
//! time (which RACK needs, RFC 8985 §5.2).
//!
//! Segments are contiguous in sequence space, so the one holding a sequence number is found
//! by binary search; counters keep the sums RFC 6675's `pipe` needs, so nothing scans the
//! whole board per ACK.

use std::collections::VecDeque;

use crate::time::Instant;
use crate::wire::{SackBlock, SeqNum};

/// One transmitted segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sent {
    /// First sequence number.
    pub(crate) start: SeqNum,
    /// Sequence space taken (payload, plus one when it carries FIN).
    pub(crate) len: u32,
    /// Carries our FIN.
    pub(crate) fin: bool,
    /// Time of its last transmission.
    pub(crate) sent_at: Instant,
    /// Times it was retransmitted.
    pub(crate) retrans: u16,
    /// Selectively acknowledged.
    pub(crate) sacked: bool,
    /// Deemed lost and not retransmitted since.
    pub(crate) lost: bool,
    /// The sender had nothing more to send when it went out (RFC 7661 / RFC 8985 §5.2).
    pub(crate) app_limited: bool,
}

impl Sent {
    /// Sequence number after the segment.
    pub(crate) fn end(&self) -> SeqNum {
        self.start + self.len
    }

    /// Payload bytes (without the FIN).
    pub(crate) fn payload_len(&self) -> u32 {
        self.len - u32::from(self.fin)
    }
}

/// The segments in flight.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scoreboard {
    segs: VecDeque<Sent>,
    total: usize,
    sacked_bytes: usize,
    sacked_segs: usize,
    lost_bytes: usize,
    lost_segs: usize,
    /// No segment before this index is marked lost.
    lost_hint: usize,
    /// Blocks of the previous SACK option: growth of a block at its right edge is
    /// processed from the old edge only.
    prev_blocks: Vec<SackBlock>,
}

impl Scoreboard {
    /// Records a new transmission at the top of the sequence space.
    pub(crate) fn push(&mut self, seg: Sent) {
        self.total += seg.len as usize;
        self.segs.push_back(seg);
    }

    /// Number of segments.
    pub(crate) fn len(&self) -> usize {
        self.segs.len()
    }

    /// Whether nothing is outstanding.
    pub(crate) fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }

    /// The segment at `i`.
    pub(crate) fn get(&self, i: usize) -> Option<&Sent> {
        self.segs.get(i)
    }

    /// When the segment holding `seq` was last sent, if it is outstanding.
    pub(crate) fn sent_at(&self, seq: SeqNum) -> Option<Instant> {
        let i = self.segs.partition_point(|s| s.end() <= seq);
        self.segs
            .get(i)
            .filter(|s| s.start <= seq)
            .map(|s| s.sent_at)
    }

    /// Bytes of sequence space outstanding (RFC 5681 FlightSize).
    pub(crate) fn outstanding(&self) -> usize {
        self.total
    }

    /// RFC 6675 `pipe` under RACK's marking: outstanding bytes that are neither SACKed nor
    /// deemed lost (retransmissions are counted again once sent, as their segment loses the
    /// lost mark).
    pub(crate) fn in_flight(&self) -> usize {
        self.total - self.sacked_bytes - self.lost_bytes
    }

    /// Bytes SACKed.
    pub(crate) fn sacked_bytes(&self) -> usize {
        self.sacked_bytes
    }

    /// Segments SACKed.
    pub(crate) fn sacked_segs(&self) -> usize {
        self.sacked_segs
    }

    /// Segments deemed lost and waiting for retransmission.
    #[cfg(test)]
    pub(crate) fn lost_segs(&self) -> usize {
        self.lost_segs
    }

    /// Removes every segment wholly below `ack`, trimming one that `ack` splits; calls
    /// `visit` with each segment removed and not SACKed before (its bytes were newly
    /// delivered). Returns the bytes removed.
    pub(crate) fn ack(&mut self, ack: SeqNum, mut visit: impl FnMut(&Sent)) -> usize {
        let mut removed = 0;
        while let Some(front) = self.segs.front().copied() {
            if front.end() <= ack {
                self.segs.pop_front();
                self.lost_hint = self.lost_hint.saturating_sub(1);
                self.unmark(&front);
                self.total -= front.len as usize;
                removed += front.len as usize;
                if !front.sacked {
                    visit(&front);
                }
            } else if front.start < ack {
                let cut = ack.diff(front.start) as u32;
                let seg = &mut self.segs[0];
                self.total -= cut as usize;
                if seg.sacked {
                    self.sacked_bytes -= cut as usize;
                }
                if seg.lost {
                    self.lost_bytes -= cut as usize;
                }
                seg.start = ack;
                seg.len -= cut;
                removed += cut as usize;
                break;
            } else {
                break;
            }
        }
        removed
    }

    fn unmark(&mut self, seg: &Sent) {
        if seg.sacked {
            self.sacked_bytes -= seg.len as usize;
            self.sacked_segs -= 1;
        }
        if seg.lost {
            self.lost_bytes -= seg.len as usize;
            self.lost_segs -= 1;
        }
    }

    /// Index of the segment holding `seq`, or where it would be.
    fn index_of(&self, seq: SeqNum) -> usize {
        self.segs.partition_point(|s| s.end() <= seq)
    }

    /// Applies the SACK blocks of one ACK (RFC 2018 §3, RFC 6675 §4 "Update"); calls
    /// `visit` for each segment newly SACKed. Only segments a block covers whole are marked.
    pub(crate) fn sack(&mut self, blocks: &[SackBlock], mut visit: impl FnMut(&Sent)) {
        let Some(first) = self.segs.front().map(|s| s.start) else {
            return;
        };
        let top = self.segs.back().map_or(first, Sent::end);
        for block in blocks {
            let (mut left, right) = (SeqNum(block.left), SeqNum(block.right));
            // RFC 2018 §3 / RFC 5961: ignore blocks outside what we sent.
            if right <= left || right <= first || right > top || left < first - (1 << 30) {
                continue;
            }
            if let Some(prev) = self.prev_blocks.iter().find(|p| p.left == block.left) {
                let prev_right = SeqNum(prev.right);
                if prev_right >= right {
                    continue;
                }
                left = left.max(prev_right);
            }
            let mut i = self.index_of(left.max(first));
            while let Some(seg) = self.segs.get_mut(i) {
                if seg.start >= right {
                    break;
                }
                if !seg.sacked && seg.start >= SeqNum(block.left) && seg.end() <= right {
                    seg.sacked = true;
                    let copy = *seg;
                    self.sacked_bytes += copy.len as usize;
                    self.sacked_segs += 1;
                    if copy.lost {
                        self.segs[i].lost = false;
                        self.lost_bytes -= copy.len as usize;
                        self.lost_segs -= 1;
                    }
                    visit(&copy);
                }
                i += 1;
            }
        }
        self.prev_blocks.clear();
        self.prev_blocks.extend_from_slice(blocks);
    }

    /// Marks the segment at `i` lost unless it is SACKed or already marked; returns whether
    /// it was newly marked.
    pub(crate) fn mark_lost(&mut self, i: usize) -> bool {
        let Some(seg) = self.segs.get_mut(i) else {
            return false;
        };
        if seg.sacked || seg.lost {
            return false;
        }
        seg.lost = true;
        self.lost_bytes += seg.len as usize;
        self.lost_segs += 1;
        self.lost_hint = self.lost_hint.min(i);
        true
    }

    /// After a timeout without SACK (RFC 5681 §3.1, RFC 6298 §5.4): every segment is lost,
    /// as the sender cannot tell which arrived.
    pub(crate) fn mark_all_lost(&mut self) {
        for i in 0..self.segs.len() {
            self.mark_lost(i);
        }
    }

    /// The first segment marked lost (RFC 6675 NextSeg rule 1).
    pub(crate) fn first_lost(&mut self) -> Option<usize> {
        if self.lost_segs == 0 {
            return None;
        }
        while let Some(seg) = self.segs.get(self.lost_hint) {
            if seg.lost {
                return Some(self.lost_hint);
            }
            self.lost_hint += 1;
        }
        None
    }

    /// Splits the segment at `i` after `len` bytes of sequence space (when a retransmission
    /// must be smaller than the original). Both halves keep its marks and times.
    pub(crate) fn split(&mut self, i: usize, len: u32) {
        let Some(seg) = self.segs.get(i).copied() else {
            return;
        };
        if len == 0 || len >= seg.len {
            return;
        }
        let mut head = seg;
        head.len = len;
        head.fin = false;
        let mut tail = seg;
        tail.start = seg.start + len;
        tail.len = seg.len - len;
        self.segs[i] = head;
        self.segs.insert(i + 1, tail);
        if seg.sacked {
            self.sacked_segs += 1;
        }
        if seg.lost {
            self.lost_segs += 1;
        }
    }

    /// Records the retransmission of the segment at `i` at `now`: it is in flight again.
    pub(crate) fn retransmitted(&mut self, i: usize, now: Instant) {
        let Some(seg) = self.segs.get_mut(i) else {
            return;
        };
        if seg.lost {
            seg.lost = false;
            self.lost_bytes -= seg.len as usize;
            self.lost_segs -= 1;
        }
        seg.retrans = seg.retrans.saturating_add(1);
        seg.sent_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(n: u32) -> Scoreboard {
        let mut sb = Scoreboard::default();
        for k in 0..n {
            sb.push(Sent {
                start: SeqNum(1000 + 100 * k),
                len: 100,
                fin: false,
                sent_at: Instant::from_millis(u64::from(k)),
                retrans: 0,
                sacked: false,
                lost: false,
                app_limited: false,
            });
        }
        sb
    }

    #[test]
    fn sack_and_ack_keep_counters() {
        let mut sb = board(10);
        assert_eq!(sb.in_flight(), 1000);
        let mut newly = 0;
        sb.sack(
            &[SackBlock {
                left: 1200,
                right: 1450,
            }],
            |_| newly += 1,
        );
        assert_eq!(newly, 2);
        assert_eq!(sb.sacked_bytes(), 200);
        // The block grows at its right edge: only the new part is visited.
        newly = 0;
        sb.sack(
            &[SackBlock {
                left: 1200,
                right: 1600,
            }],
            |_| newly += 1,
        );
        assert_eq!(newly, 2);
        assert!(sb.mark_lost(0));
        assert!(!sb.mark_lost(2));
        assert_eq!(sb.first_lost(), Some(0));
        assert_eq!(sb.in_flight(), 1000 - 400 - 100);
        sb.retransmitted(0, Instant::from_millis(50));
        assert_eq!(sb.first_lost(), None);
        let mut delivered = 0;
        assert_eq!(sb.ack(SeqNum(1250), |s| delivered += s.len), 250);
        assert_eq!(delivered, 200);
        assert_eq!(
            sb.get(0).map(|s| (s.start, s.len)),
            Some((SeqNum(1250), 50))
        );
        assert_eq!(sb.sacked_bytes(), 350);
        sb.ack(SeqNum(2000), |_| {});
        assert!(sb.is_empty());
        assert_eq!(
            (sb.in_flight(), sb.sacked_bytes(), sb.outstanding()),
            (0, 0, 0)
        );
    }

    #[test]
    fn split_keeps_marks() {
        let mut sb = board(2);
        sb.mark_all_lost();
        sb.split(0, 40);
        assert_eq!(sb.len(), 3);
        assert_eq!(sb.lost_segs(), 3);
        assert_eq!(sb.first_lost(), Some(0));
        sb.retransmitted(0, Instant::ZERO);
        assert_eq!(sb.first_lost(), Some(1));
        assert_eq!(sb.in_flight(), 40);
    }
}
