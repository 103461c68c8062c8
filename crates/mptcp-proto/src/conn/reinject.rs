//! Re-injection (RFC 8684 §3.3.6): data the peer has not acknowledged at the data level
//! goes again on other subflows — everything a subflow carried, sent or only handed to it,
//! when it is taken for failed (its retransmission timer fired), closes, is reset or
//! withdrawn; and the oldest data, on any subflow, at the data-level retransmission
//! timeout or when the peer dropped what an MP_FAIL covered.
//!
//! The queue keeps the ranges in the order they came. Each goes a segment at a time, first
//! thing when the scheduler runs, on a working subflow other than the one it was on, as
//! soon as such a subflow has room in its window. A range waiting for one holds up neither
//! the ranges of other subflows nor new data: with strict turns, the data of a subflow that
//! timed out while the only other one was dead waited for that dead one for ever, ahead of
//! the dead one's own data, which the data-level timeout then sent 64 KiB at a time. A
//! range whose subflow works again while no other does is dropped instead: that subflow
//! still holds the bytes and delivers them itself.

use super::{Mode, MptcpConnection};
use crate::wire::DataSeq;

/// A range of data to send again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Reinjection {
    /// Its first data sequence number.
    pub(super) dsn: DataSeq,
    /// Its length.
    pub(super) len: u32,
    /// The subflow it was on, which it does not go on again (`None`: any subflow).
    pub(super) from: Option<usize>,
}

impl Reinjection {
    fn end(&self) -> DataSeq {
        self.dsn + u64::from(self.len)
    }
}

impl MptcpConnection {
    /// Queues the data subflow `index` carries — sent, or handed to it and not sent yet —
    /// that the peer has not acknowledged at the data level, to go again on the others.
    pub(super) fn reinject_from(&mut self, index: usize) {
        if self.mode != Mode::Mptcp {
            return;
        }
        let una = self.snd_una;
        let id = self.subflows[index].id;
        self.detail(
            Some(id),
            format_args!("re-injecting what it holds above data sequence {}", una.0),
        );
        for (dsn, len) in self.subflows[index].tx.ranges() {
            let range = Reinjection {
                dsn,
                len,
                from: Some(index),
            };
            if range.end() > una && !self.reinject.iter().any(|r| r.dsn == dsn) {
                self.reinject.push_back(range);
            }
        }
    }

    /// Queues the oldest `len` bytes not acknowledged at the data level to go again on any
    /// subflow, before every other range.
    pub(super) fn resend_oldest(&mut self, len: u32) {
        self.reinject.push_front(Reinjection {
            dsn: self.snd_una,
            len,
            from: None,
        });
    }

    /// Hands one segment of the oldest range that can go now to a subflow; false when no
    /// range can.
    pub(super) fn reinject_one(&mut self, scratch: &mut [u8]) -> bool {
        // Origins whose ranges found no subflow in this pass.
        let mut waiting: Vec<Option<usize>> = Vec::new();
        let mut at = 0;
        while let Some(&range) = self.reinject.get(at) {
            if range.end() <= self.snd_una || self.delivers_itself(range.from) {
                self.reinject.remove(at);
                continue;
            }
            if waiting.contains(&range.from) {
                at += 1;
                continue;
            }
            let Some(index) = self.pick_subflow(range.from) else {
                waiting.push(range.from);
                at += 1;
                continue;
            };
            let start = range.dsn.max(self.snd_una);
            let n = self.hand_over(index, start, range.end().diff(start) as usize, scratch);
            if n == 0 {
                return false;
            }
            let next = start + n as u64;
            if next >= range.end() {
                self.reinject.remove(at);
            } else {
                self.reinject[at] = Reinjection {
                    dsn: next,
                    len: range.end().diff(next) as u32,
                    ..range
                };
            }
            return true;
        }
        false
    }

    /// Whether the data of subflow `from` needs no other subflow: it works (again) and no
    /// other does, so what it still holds reaches the peer through it.
    fn delivers_itself(&self, from: Option<usize>) -> bool {
        let working = |i: usize| self.subflows[i].works();
        from.is_some_and(|from| {
            from < self.subflows.len()
                && working(from)
                && !(0..self.subflows.len()).any(|i| i != from && working(i))
        })
    }

    /// Subflow `index` left the list: the ranges it carried may go anywhere now, and the
    /// indices past it move down by one.
    pub(super) fn reinjections_after_removal(&mut self, index: usize) {
        for range in &mut self.reinject {
            range.from = match range.from {
                Some(from) if from == index => None,
                Some(from) if from > index => Some(from - 1),
                other => other,
            };
        }
    }
}
