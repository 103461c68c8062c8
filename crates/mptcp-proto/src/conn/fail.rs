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
//! Sender: on MP_FAIL we echo it (Linux waits for that answer), hand no new data to the
//! subflow, and wait until everything in flight is acknowledged. Then the peer's DATA_ACK
//! says what it did with the damaged data:
//!
//! - it took it (Linux delivers it and goes on): nothing is sent again, and the infinite
//!   mapping goes on the next new byte. Linux maps the bytes after a fall back by their
//!   subflow sequence number, as if data and subflow sequence numbers had always been one
//!   to one (they are, on a connection that never had a second subflow), so nothing may be
//!   sent twice on the subflow: an early version that sent the data again first shifted
//!   every later byte, and the kernel dropped them (`MPTcpExtNoDSSInWindow`) and reported
//!   the end of the stream early;
//! - it dropped it (as we do): we send the unacknowledged data again, still with mappings
//!   and checksums, and once that is acknowledged fall back the same way. Our infinite
//!   mapping names its subflow and data sequence numbers, which our receiver uses.
//!
//! A peer's DATA_ACK may lag its subflow ACK a little: we give it two round trips.

use core::time::Duration;

use super::mapping::Mapping;
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
    /// The peer's MP_FAIL arrived: no new data until the subflow has everything
    /// acknowledged (since `drained`), and the unacknowledged data was sent again if the
    /// peer dropped it (`resending`); then the infinite mapping.
    Received {
        drained: Option<Instant>,
        resending: bool,
    },
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
    pub(super) fn single_path(&self, index: usize) -> bool {
        index == 0 && !self.joined_any
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
        let id = self.subflows[index].id;
        self.note(Some(id), format_args!("MP_FAIL at data sequence {}", dsn.0));
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
        self.fail = Some(Failure::Received {
            drained: None,
            resending: false,
        });
        // The answer Linux waits for.
        self.send_mp_fail(index, DataSeq(dsn));
        // Nothing goes twice on the subflow unless the peer turns out to have dropped it.
        self.reinject.clear();
    }

    /// Whether the scheduler may hand new data to subflows (not while an MP_FAIL we
    /// received is being answered).
    pub(super) fn new_data_allowed(&self) -> bool {
        !matches!(self.fail, Some(Failure::Received { .. }))
    }

    /// How long the peer's DATA_ACK may lag its subflow ACK: two round trips.
    fn data_ack_grace(&self) -> Duration {
        let srtt = self.subflows[0].tcp.rtt.srtt();
        2 * srtt.unwrap_or(Duration::from_millis(100))
    }

    /// After scheduling (and at the grace timer): once the subflow has everything in flight
    /// acknowledged, send again what the peer dropped, or fall back to TCP with our
    /// infinite mapping on the next new byte.
    pub(super) fn finish_mp_fail(&mut self, now: Instant) {
        let Some(Failure::Received { drained, resending }) = self.fail else {
            return;
        };
        if !self.single_path(0) {
            // A join completed meanwhile: no fall back (the peer resets the subflow).
            self.fail = None;
            return;
        }
        let sf = &self.subflows[0];
        // Our answer goes first: once we fall back, no option is sent.
        if sf.mp_fail.is_some() || !self.reinject.is_empty() || sf.tcp.send_queue_len() > 0 {
            return;
        }
        if self.snd_una < self.snd_nxt && !resending {
            let since = drained.unwrap_or(now);
            if now < since + self.data_ack_grace() {
                self.fail = Some(Failure::Received {
                    drained: Some(since),
                    resending,
                });
                return;
            }
            // The peer dropped the damaged data: send it again, checked.
            let len = self.snd_nxt.diff(self.snd_una).max(0) as u32;
            self.resend_oldest(len);
            self.fail = Some(Failure::Received {
                drained: None,
                resending: true,
            });
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
            Some(Failure::Received { .. }) | None => {}
        }
    }

    /// Resets every subflow, saying why (MP_TCPRST), with MP_FASTCLOSE (RFC 8684 §3.5–3.6).
    pub(super) fn reset_connection(&mut self, reason: u8) {
        if self.close_reason.is_some() {
            return;
        }
        self.note(None, format_args!("reset, MP_TCPRST reason {reason}"));
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

    /// When the MP_FAIL timers fire: the wait for the peer's infinite mapping, and the
    /// grace for the peer's DATA_ACK when we answer its MP_FAIL.
    pub(super) fn mp_fail_deadline(&self) -> Option<Instant> {
        match self.fail {
            Some(Failure::Sent { deadline, .. }) => deadline,
            Some(Failure::Received {
                drained: Some(since),
                ..
            }) => Some(since + self.data_ack_grace()),
            _ => None,
        }
    }

    /// The MP_FAIL timers at `now`.
    pub(super) fn on_mp_fail_timeout(&mut self, now: Instant) {
        if self.mp_fail_deadline().is_none_or(|t| t > now) {
            return;
        }
        if let Some(Failure::Sent { .. }) = self.fail {
            // The infinite mapping never came: reset.
            self.fail = None;
            self.reset_connection(reset_reason::MIDDLEBOX_INTERFERENCE);
        } else {
            self.finish_mp_fail(now);
        }
    }
}
