//! The receive buffer: in-order bytes waiting for the application, out-of-order bytes held
//! for reassembly, and the SACK blocks that describe them (RFC 2018 §4).

use super::ring::ByteRing;
use crate::wire::{MAX_SACK_BLOCKS, SackBlock, SeqNum};

/// Reassembly buffer of one connection's receive direction. It owns `RCV.NXT`.
#[derive(Debug, Clone)]
pub(crate) struct RecvBuffer {
    ring: ByteRing,
    rcv_nxt: SeqNum,
    /// Out-of-order ranges `[start, end)` above `rcv_nxt`, sorted, disjoint, not adjacent.
    ooo: Vec<(SeqNum, SeqNum)>,
    /// Left edges of the most recently changed out-of-order ranges, newest first (RFC 2018
    /// §4: the first block reports the most recent segment, then the most recent others).
    recent: [Option<SeqNum>; MAX_SACK_BLOCKS],
}

/// What one write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct WriteOutcome {
    /// Bytes by which `RCV.NXT` advanced (this segment plus any queue it joined).
    pub(crate) advanced: usize,
    /// The segment lay above `RCV.NXT` (a hole remains or was partially filled).
    pub(crate) out_of_order: bool,
    /// The write filled (part of) a hole that out-of-order data was waiting on.
    pub(crate) filled_hole: bool,
}

impl RecvBuffer {
    /// A buffer of `capacity` bytes whose next expected sequence number is `rcv_nxt`.
    pub(crate) fn new(capacity: usize, rcv_nxt: SeqNum) -> Self {
        Self {
            ring: ByteRing::new(capacity),
            rcv_nxt,
            ooo: Vec::new(),
            recent: [None; MAX_SACK_BLOCKS],
        }
    }

    /// `RCV.NXT`.
    pub(crate) fn rcv_nxt(&self) -> SeqNum {
        self.rcv_nxt
    }

    /// Moves `RCV.NXT` past a control flag (SYN or FIN) occupying one sequence number.
    pub(crate) fn advance_control(&mut self) {
        self.rcv_nxt += 1;
    }

    /// Sets `RCV.NXT` (when the peer's SYN arrives). Only valid while empty.
    pub(crate) fn reset(&mut self, rcv_nxt: SeqNum) {
        self.rcv_nxt = rcv_nxt;
        self.ooo.clear();
        self.recent = [None; MAX_SACK_BLOCKS];
    }

    /// Buffer size.
    pub(crate) fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Raises the buffer size (receive-buffer auto-tuning).
    pub(crate) fn grow(&mut self, capacity: usize) {
        self.ring.grow(capacity);
    }

    /// In-order bytes the application can read.
    pub(crate) fn readable(&self) -> usize {
        self.ring.len()
    }

    /// Space above `RCV.NXT` that can take data: the receive window.
    pub(crate) fn window(&self) -> usize {
        self.ring.free()
    }

    /// Whether out-of-order data is held.
    pub(crate) fn has_out_of_order(&self) -> bool {
        !self.ooo.is_empty()
    }

    /// Stores a segment's payload starting at `seq`, trimmed to the window.
    pub(crate) fn write(&mut self, seq: SeqNum, data: &[u8]) -> WriteOutcome {
        let mut out = WriteOutcome::default();
        let offset = i64::from(seq.diff(self.rcv_nxt));
        let end = offset + data.len() as i64;
        if end <= 0 || data.is_empty() {
            return out;
        }
        let skip = (-offset).max(0) as usize;
        let offset = offset.max(0) as usize;
        let window = self.window();
        if offset >= window {
            return out;
        }
        let data = &data[skip..];
        let data = &data[..data.len().min(window - offset)];
        self.ring.write_at(self.ring.len() + offset, data);
        let start = self.rcv_nxt + offset as u32;
        let stop = start + data.len() as u32;
        if offset == 0 {
            let had_ooo = !self.ooo.is_empty();
            let mut new_nxt = stop;
            // Join queued ranges that now touch the in-order data.
            let joined = self.ooo.iter().take_while(|r| r.0 <= new_nxt).count();
            for range in self.ooo.drain(..joined) {
                new_nxt = new_nxt.max(range.1);
            }
            out.filled_hole = had_ooo;
            out.advanced = new_nxt.diff(self.rcv_nxt) as usize;
            self.ring.extend(out.advanced);
            self.rcv_nxt = new_nxt;
            let nxt = self.rcv_nxt;
            for slot in &mut self.recent {
                if slot.is_some_and(|left| left <= nxt) {
                    *slot = None;
                }
            }
        } else {
            out.out_of_order = true;
            out.filled_hole = self.insert_range(start, stop);
        }
        out
    }

    /// Records `[start, stop)` as held out of order; returns whether it filled a gap between
    /// two held ranges.
    fn insert_range(&mut self, mut start: SeqNum, mut stop: SeqNum) -> bool {
        // First range that ends at or after `start` (could merge).
        let first = self.ooo.partition_point(|r| r.1 < start);
        let mut last = first;
        while last < self.ooo.len() && self.ooo[last].0 <= stop {
            start = start.min(self.ooo[last].0);
            stop = stop.max(self.ooo[last].1);
            last += 1;
        }
        let merged = last - first;
        self.ooo
            .splice(first..last, core::iter::once((start, stop)));
        // RFC 2018 §4: this block goes first; forget edges swallowed by the merge.
        let mut recent = [Some(start); MAX_SACK_BLOCKS];
        let mut n = 1;
        for left in self.recent.iter().flatten() {
            let inside = *left >= start && *left <= stop;
            if !inside && n < MAX_SACK_BLOCKS {
                recent[n] = Some(*left);
                n += 1;
            }
        }
        for slot in recent.iter_mut().skip(n) {
            *slot = None;
        }
        self.recent = recent;
        merged > 1
    }

    /// The SACK blocks to send, at most `max` (RFC 2018 §4): the block holding the most recent
    /// segment first, then the most recently reported others, then the rest from the top.
    pub(crate) fn sack_blocks(&self, max: usize, out: &mut [SackBlock; MAX_SACK_BLOCKS]) -> usize {
        let max = max.min(MAX_SACK_BLOCKS);
        let mut n = 0;
        let mut push = |range: (SeqNum, SeqNum), out: &mut [SackBlock; MAX_SACK_BLOCKS]| {
            let block = SackBlock {
                left: range.0.0,
                right: range.1.0,
            };
            if n < max && !out[..n].contains(&block) {
                out[n] = block;
                n += 1;
            }
        };
        for left in self.recent.iter().flatten() {
            let i = self.ooo.partition_point(|r| r.1 < *left);
            if let Some(range) = self.ooo.get(i).filter(|r| r.0 <= *left) {
                push(*range, out);
            }
        }
        for range in self.ooo.iter().rev() {
            push(*range, out);
        }
        n
    }

    /// Copies in-order bytes into `buf`, removing them; returns how many.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = self.ring.read_at(0, buf);
        self.ring.consume(n);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(buf: &RecvBuffer) -> Vec<(u32, u32)> {
        let mut out = [SackBlock { left: 0, right: 0 }; MAX_SACK_BLOCKS];
        let n = buf.sack_blocks(4, &mut out);
        out[..n].iter().map(|b| (b.left, b.right)).collect()
    }

    #[test]
    fn reassembles_out_of_order() {
        let mut buf = RecvBuffer::new(100, SeqNum(1000));
        let o = buf.write(SeqNum(1010), b"bbbbbbbbbb");
        assert!(o.out_of_order);
        assert_eq!(blocks(&buf), [(1010, 1020)]);
        buf.write(SeqNum(1030), b"dddddddddd");
        assert_eq!(blocks(&buf), [(1030, 1040), (1010, 1020)]);
        buf.write(SeqNum(1010), b"bbbbb");
        assert_eq!(blocks(&buf), [(1010, 1020), (1030, 1040)]);
        let o = buf.write(SeqNum(1000), b"aaaaaaaaaa");
        assert_eq!(o.advanced, 20);
        assert!(o.filled_hole);
        assert_eq!(blocks(&buf), [(1030, 1040)]);
        let o = buf.write(SeqNum(1020), b"cccccccccc");
        assert_eq!(o.advanced, 20);
        assert_eq!(buf.rcv_nxt(), SeqNum(1040));
        let mut out = [0; 64];
        let n = buf.read(&mut out);
        assert_eq!(&out[..n], b"aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd");
    }

    #[test]
    fn trims_to_window_and_old_data() {
        let mut buf = RecvBuffer::new(8, SeqNum(u32::MAX - 2));
        let o = buf.write(SeqNum(u32::MAX - 4), b"xxabcdefghij");
        assert_eq!(o.advanced, 8);
        assert_eq!(buf.window(), 0);
        assert_eq!(buf.write(SeqNum(5), b"k").advanced, 0);
        let mut out = [0; 8];
        assert_eq!(buf.read(&mut out), 8);
        assert_eq!(&out, b"abcdefgh");
    }

    #[test]
    fn merges_blocks_filled_between() {
        let mut buf = RecvBuffer::new(100, SeqNum(0));
        buf.write(SeqNum(10), b"aaaaa");
        buf.write(SeqNum(20), b"aaaaa");
        buf.write(SeqNum(30), b"aaaaa");
        assert!(buf.write(SeqNum(15), b"bbbbb").filled_hole);
        assert_eq!(blocks(&buf), [(10, 25), (30, 35)]);
    }
}
