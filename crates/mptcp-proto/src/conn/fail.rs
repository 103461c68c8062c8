//! A bad DSS checksum (RFC 8684 §3.7): MP_FAIL, and the fall back to TCP by the infinite
//! mapping when the connection has only ever had its first subflow.
//!
//! Receiver of the damaged data: with other subflows, the subflow that carried it is reset
//! (MP_TCPRST "middlebox interference", with MP_FAIL) and the sender re-sends its data on
//! the others. Alone, we drop the damaged mapping — never delivering it, never DATA_ACKing
//! it — and send MP_FAIL with its data sequence number; the sender answers with an infinite
//! mapping, and from its start the connection is plain TCP. If the infinite mapping leaves
//! a hole (its start is beyond the bytes we have), the data in the hole will never come
//! (Linux re-sends nothing before falling back), and the connection is reset instead.
//!
//! Sender: on MP_FAIL we echo it (Linux waits for that answer), send again what the peer has
//! not DATA_ACKed from the failed point on — still with mappings and checksums, so a peer
//! that dropped the damaged data gets it whole, and one that kept it (Linux delivers it)
//! ignores the duplicate — and once that is acknowledged, put the infinite mapping on the
//! first new segment and continue as TCP.
//!
//! Against a Linux receiver that last part is not right yet: the kernel counts our answer
//! and our infinite mapping (`MPTcpExtMPFailRx`, `MPTcpExtInfiniteMapRx`) and acknowledges
//! every later byte, but its application reads the end of the stream shortly after the
//! failed point. Not understood; ours against ours (the simulator) delivers every byte.

use core::time::Duration;

use super::mapping::Mapping;
use super::subflow::Join;
use super::{Mode, MptcpConnection};
use crate::time::Instant;
use crate::wire::mptcp::reset_reason;
use crate::wire::{DataSeq, SeqNum};

/// How long we wait for the infinite mapping after our MP_FAIL before resetting.
const INFINITE_MAPPING_TIMEOUT: Duration = Duration::from_secs(10);

/// Where an MP_FAIL exchange on the only subflow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    /// We found a bad checksum at `dsn` and sent MP_FAIL: waiting for the infinite mapping
    /// (reset at `deadline`, set with the first clock reading).
    Sent {
        dsn: DataSeq,
        deadline: Option<Instant>,
    },
    /// The peer's MP_FAIL arrived: its data goes again; no new data until it is
    /// acknowledged, then the infinite mapping.
    Received,
}

/// Our infinite mapping: the first subflow byte it maps and its data sequence number. It
/// rides on the segment that starts there (and its retransmissions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InfiniteMapping {
    pub(crate) ssn: SeqNum,
    pub(crate) dsn: DataSeq,
}

impl MptcpConnection {
    /// Whether subflow `index` is the first and only one the connection ever had: its data
    /// sequence numbers follow its subflow sequence numbers, so one to one is right.
    fn single_path(&self, index: usize) -> bool {
        index == 0 && self.subflows[1..].iter().all(|s| s.join != Join::Done)
    }

    /// The mapping `map` of subflow `index` failed its DSS checksum; its bytes are gone.
    pub(super) fn on_bad_checksum(&mut self, index: usize, map: &Mapping) {
        let others = self
            .subflows
            .iter()
            .enumerate()
            .any(|(i, s)| i != index && s.can_carry_data());
        if others {
            // §3.7: the subflow goes, with MP_FAIL on its RST; its data goes again on the
            // others (it is not DATA_ACKed).
            self.subflows[index].mp_fail = Some(map.dsn);
            self.reset_subflow(index, reset_reason::MIDDLEBOX_INTERFERENCE);
            return;
        }
        match self.fail {
            // Already waiting for the infinite mapping (the sender's second copy was
            // damaged too): MP_FAIL again.
            Some(Failure::Sent { dsn, .. }) => self.send_mp_fail(index, dsn),
            _ if self.single_path(index) && !self.recv.has_out_of_order() => {
                self.fail = Some(Failure::Sent {
                    dsn: map.dsn,
                    deadline: None,
                });
                self.send_mp_fail(index, map.dsn);
            }
            _ => self.reset_connection(reset_reason::MIDDLEBOX_INTERFERENCE),
        }
    }

    fn send_mp_fail(&mut self, index: usize, dsn: DataSeq) {
        let sf = &mut self.subflows[index];
        sf.mp_fail = Some(dsn);
        sf.tcp.ack_now = true;
    }

    /// The peer's MP_FAIL (not on a RST, which ends that subflow anyway): our data from
    /// `dsn` arrived damaged.
    pub(super) fn on_mp_fail(&mut self, index: usize, dsn: u64) {
        if self.mode != Mode::Mptcp || self.fail.is_some() {
            // Our own MP_FAIL's answer (Linux echoes it), or a repeat.
            return;
        }
        if !self.single_path(index) {
            // A peer only sends it without a RST on a lone subflow; Linux ignores it here.
            return;
        }
        self.fail = Some(Failure::Received);
        // The answer Linux waits for.
        self.send_mp_fail(index, DataSeq(dsn));
        let from = DataSeq(dsn).max(self.snd_una);
        let len = self.snd_nxt.diff(from).max(0) as u32;
        self.reinject.clear();
        if len > 0 {
            self.reinject.push_back((from, len, usize::MAX));
        }
    }

    /// Whether the scheduler may hand new data to subflows (not while an MP_FAIL we
    /// received is being answered).
    pub(super) fn new_data_allowed(&self) -> bool {
        self.fail != Some(Failure::Received)
    }

    /// After scheduling: once what we sent again after the peer's MP_FAIL is acknowledged,
    /// fall back to TCP with our infinite mapping on the next new byte.
    pub(super) fn finish_mp_fail(&mut self) {
        let sf = &self.subflows[0];
        let drained = self.reinject.is_empty() && sf.tcp.send_queue_len() == 0;
        if self.fail != Some(Failure::Received) || !drained {
            return;
        }
        let ssn = sf.tcp.data_start();
        self.infinite_tx = Some(InfiniteMapping {
            ssn,
            dsn: self.snd_nxt,
        });
        self.fail = None;
        self.fin_dsn = None;
        self.fin_rto_at = None;
        self.fall_back(0);
        // The infinite mapping goes now, on an ACK if no data is waiting.
        self.subflows[0].tcp.ack_now = true;
    }

    /// §3.7: the peer's infinite mapping: from subflow byte `ssn` on, subflow `index`'s
    /// bytes are data from `dsn`, one to one, and the connection is plain TCP. Bytes before
    /// `ssn` keep their mappings (those without one are dropped); when the subflow reaches
    /// `ssn`, [`infinite_mapping_leaves_hole`](Self::infinite_mapping_leaves_hole) decides.
    pub(super) fn on_infinite_mapping(&mut self, index: usize, ssn: SeqNum, dsn: DataSeq) {
        if !self.single_path(index) {
            // Data may have gone on other subflows: one to one cannot be right.
            self.reset_connection(reset_reason::MIDDLEBOX_INTERFERENCE);
            return;
        }
        self.fail = None;
        self.mode = Mode::Tcp;
        self.fully_established = true;
        let sf = &mut self.subflows[index];
        sf.rx.remove_from(ssn);
        sf.rx.insert(Mapping {
            ssn,
            dsn,
            len: None,
            checksum: None,
            fin: false,
        });
    }

    /// In-order bytes at subflow byte `next` of subflow `index`, which no mapping covers,
    /// to be dropped: those before the start of the peer's infinite mapping.
    pub(super) fn bytes_to_skip(&self, index: usize, next: SeqNum) -> Option<usize> {
        let start = self.subflows[index].rx.infinite_start()?;
        (start > next).then(|| start.diff(next) as usize)
    }

    /// Whether the infinite mapping `map`, which subflow byte `next` reached, starts beyond
    /// the data we have: the bytes between will never come.
    pub(super) fn infinite_mapping_leaves_hole(&self, map: &Mapping, next: SeqNum) -> bool {
        map.len.is_none() && map.ssn == next && map.dsn > self.rcv_nxt
    }

    /// A join completed during an MP_FAIL exchange: one to one is no longer possible. As
    /// the receiver of the damaged data, reset the first subflow instead (with MP_FAIL; its
    /// data goes again on the new one); as its sender, carry on with MPTCP.
    pub(super) fn on_join_during_fail(&mut self) {
        match self.fail.take() {
            Some(Failure::Sent { dsn, .. }) => {
                self.subflows[0].mp_fail = Some(dsn);
                self.reset_subflow(0, reset_reason::MIDDLEBOX_INTERFERENCE);
            }
            Some(Failure::Received) | None => {}
        }
    }

    /// Resets every subflow, saying why (MP_TCPRST), with MP_FASTCLOSE (RFC 8684 §3.5–3.6).
    pub(super) fn reset_connection(&mut self, reason: u8) {
        if self.close_reason.is_some() {
            return;
        }
        for sf in &mut self.subflows {
            sf.reset_reason = Some(reason);
        }
        self.abort();
    }

    /// The MP_FAIL timer: the first clock reading after our MP_FAIL starts it.
    pub(super) fn arm_mp_fail_timer(&mut self, now: Instant) {
        if let Some(Failure::Sent {
            deadline: deadline @ None,
            ..
        }) = &mut self.fail
        {
            *deadline = Some(now + INFINITE_MAPPING_TIMEOUT);
        }
    }

    /// When the MP_FAIL timer fires.
    pub(super) fn mp_fail_deadline(&self) -> Option<Instant> {
        match self.fail {
            Some(Failure::Sent { deadline, .. }) => deadline,
            _ => None,
        }
    }

    /// The infinite mapping never came: reset.
    pub(super) fn on_mp_fail_timeout(&mut self, now: Instant) {
        if self.mp_fail_deadline().is_some_and(|t| t <= now) {
            self.fail = None;
            self.reset_connection(reset_reason::MIDDLEBOX_INTERFERENCE);
        }
    }
}
