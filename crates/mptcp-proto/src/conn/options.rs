//! The MPTCP options a subflow puts on its segments: MP_CAPABLE during the handshake
//! (RFC 8684 §3.1), DSS with the DATA_ACK, the segment's mapping and the DATA_FIN (§3.3).

use super::fail::InfiniteMapping;
use super::mapping::Mappings;
use super::signal::Signals;
use super::subflow::Join;
use crate::crypto::{MptcpVersion, add_addr_hmac, join_ack_hmac, join_synack_hmac};
use crate::tcp::{OutgoingSegment, SegmentHooks};
use crate::wire::mptcp::{Dss, DssMapping, DssNumber, MpCapable, MpJoin, capable_flags};
use crate::wire::{DataSeq, MptcpOption, SeqNum, TcpFlags, TcpOption, dss_checksum};

/// MPTCP version spoken.
const VERSION: u8 = 1;
/// Length of a DSS with a 64-bit DATA_ACK and a mapping with 64-bit DSN, checksum or the two
/// NOPs that pad it.
const DSS_FULL_LEN: usize = 28;
/// Length of a DSS with a 64-bit DATA_ACK only.
const DSS_ACK_LEN: usize = 12;

/// What the connection level tells a subflow's segments, fixed for one `poll_transmit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OptionView {
    /// Options go out at all, and segments end where mappings do (false once fallen back to
    /// TCP, or for plain TCP).
    pub(crate) mptcp: bool,
    /// Our key.
    pub(crate) local_key: u64,
    /// The peer's key, once known.
    pub(crate) remote_key: Option<u64>,
    /// Flags byte of our MP_CAPABLE.
    pub(crate) capable_flags: u8,
    /// DSS checksums are in use.
    pub(crate) checksum: bool,
    /// The client repeats MP_CAPABLE until it sees a DSS from the server (RFC 8684 §3.1).
    pub(crate) repeat_capable: bool,
    /// The DATA_ACK to send (the next data byte expected), once the peer's IDSN is known.
    pub(crate) data_ack: Option<DataSeq>,
    /// Connection-level receive window.
    pub(crate) window: usize,
    /// Data sequence number of our DATA_FIN while it is unacknowledged.
    pub(crate) data_fin: Option<DataSeq>,
    /// Application data waits at the connection level for a subflow.
    pub(crate) data_pending: bool,
    /// Our infinite mapping, while the peer may not have it (RFC 8684 §3.7; options are
    /// otherwise over).
    pub(crate) infinite: Option<InfiniteMapping>,
}

/// What one subflow's segments say about the subflow itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SubflowView {
    /// Its MP_JOIN handshake.
    pub(crate) join: Join,
    /// Address id of our end.
    pub(crate) local_id: u8,
    /// We want it as a backup.
    pub(crate) backup: bool,
    /// An MP_PRIO is to be sent.
    pub(crate) prio_pending: bool,
    /// An MP_FAIL is to be sent, with this data sequence number.
    pub(crate) mp_fail: Option<DataSeq>,
    /// MP_TCPRST reason for its RST.
    pub(crate) reset_reason: Option<u8>,
    /// The connection is being fast-closed: RSTs carry MP_FASTCLOSE.
    pub(crate) fastclose: bool,
    /// The peer's token (for the MP_JOIN SYN).
    pub(crate) remote_token: u32,
}

/// The hooks of one subflow for one segment-writing pass.
pub(crate) struct SubflowOptions<'a> {
    pub(crate) view: OptionView,
    pub(crate) sf: SubflowView,
    /// The subflow's transmit mappings.
    pub(crate) tx: &'a Mappings,
    /// The connection's pending signals (any subflow may carry them).
    pub(crate) signals: &'a mut Signals,
    /// Set when this pass sent the subflow's MP_PRIO.
    pub(crate) prio_sent: bool,
    /// Set when this pass sent the subflow's MP_FAIL.
    pub(crate) fail_sent: bool,
    /// Set when this pass sent one of the connection's signals.
    pub(crate) signal_sent: bool,
}

impl SubflowOptions<'_> {
    fn capable(&self, sender: bool, receiver: bool) -> MpCapable {
        MpCapable {
            version: VERSION,
            flags: self.view.capable_flags,
            sender_key: sender.then_some(self.view.local_key),
            receiver_key: if receiver { self.view.remote_key } else { None },
            data_len: None,
            checksum: None,
        }
    }

    /// The option for a data segment.
    fn data_option(&self, seg: &OutgoingSegment) -> Option<MptcpOption<'static>> {
        let map = self.tx.find(seg.seq)?;
        let len = map.len?;
        let rel = map.ssn.diff(seg.iss) as u32;
        // The checksum was computed over the mapped bytes when the mapping was made.
        let checksum = if self.view.checksum {
            map.checksum
        } else {
            None
        };
        if self.view.repeat_capable && rel == 1 {
            // RFC 8684 §3.1: the client's first data carries MP_CAPABLE with both keys and
            // the data-level length; its mapping starts at IDSN + 1.
            let mut opt = self.capable(true, true);
            opt.data_len = Some(len as u16);
            opt.checksum = checksum;
            return Some(MptcpOption::MpCapable(opt));
        }
        // The DATA_FIN rides on the last mapping unless checksums are on (the checksum,
        // computed when the mapping was made, covers its length without the DATA_FIN);
        // then it goes on its own segment.
        let fin = !self.view.checksum && self.view.data_fin == Some(map.dsn + u64::from(len));
        Some(MptcpOption::Dss(Dss {
            data_fin: fin,
            data_ack: self.view.data_ack.map(|a| DssNumber::U64(a.0)),
            mapping: Some(DssMapping {
                dsn: DssNumber::U64(map.dsn.0),
                subflow_seq: rel,
                data_len: (len + u32::from(fin)) as u16,
                checksum,
            }),
        }))
    }

    /// Our infinite mapping (§3.7), on the segment that starts where it does: data-level
    /// length 0, checksum 0 when checksums are in use.
    fn infinite_option(&self, seg: &OutgoingSegment) -> Option<MptcpOption<'static>> {
        let map = self.view.infinite.filter(|m| m.ssn == seg.seq)?;
        Some(MptcpOption::Dss(Dss {
            data_fin: false,
            data_ack: self.view.data_ack.map(|a| DssNumber::U64(a.0)),
            mapping: Some(DssMapping {
                dsn: DssNumber::U64(map.dsn.0),
                subflow_seq: map.ssn.diff(seg.iss) as u32,
                data_len: 0,
                checksum: self.view.checksum.then_some(0),
            }),
        }))
    }

    /// The option for a segment without data.
    fn ack_option(&self) -> Option<MptcpOption<'static>> {
        if self.view.repeat_capable {
            return Some(MptcpOption::MpCapable(self.capable(true, true)));
        }
        let data_ack = self.view.data_ack.map(|a| DssNumber::U64(a.0));
        // RFC 8684 §3.3.3: a DATA_FIN without data has subflow sequence 0 and length 1.
        let mapping = self.view.data_fin.map(|dsn| DssMapping {
            dsn: DssNumber::U64(dsn.0),
            subflow_seq: 0,
            data_len: 1,
            checksum: self.view.checksum.then(|| dss_checksum(dsn.0, 0, 1, &[])),
        });
        if data_ack.is_none() && mapping.is_none() {
            return None;
        }
        Some(MptcpOption::Dss(Dss {
            data_fin: mapping.is_some(),
            data_ack,
            mapping,
        }))
    }
}

impl SubflowOptions<'_> {
    /// The MP_JOIN for a segment of a joining subflow (RFC 8684 §3.2).
    fn join_option(&self, flags: TcpFlags) -> Option<MptcpOption<'static>> {
        let (local, remote) = (self.view.local_key, self.view.remote_key?);
        let join = match self.sf.join {
            Join::Initiated { nonce } if flags.contains(TcpFlags::SYN) => MpJoin::Syn {
                backup: self.sf.backup,
                addr_id: self.sf.local_id,
                receiver_token: self.sf.remote_token,
                sender_nonce: nonce,
            },
            Join::Responded { nonce, peer_nonce } if flags.contains(TcpFlags::SYN) => {
                MpJoin::SynAck {
                    backup: self.sf.backup,
                    addr_id: self.sf.local_id,
                    truncated_hmac: join_synack_hmac(
                        MptcpVersion::V1,
                        local,
                        remote,
                        nonce,
                        peer_nonce,
                    ),
                    sender_nonce: nonce,
                }
            }
            Join::AckPending { nonce, peer_nonce } => MpJoin::Ack {
                hmac: join_ack_hmac(MptcpVersion::V1, local, remote, nonce, peer_nonce),
            },
            _ => return None,
        };
        Some(MptcpOption::MpJoin(join))
    }

    /// The options of a RST: MP_FASTCLOSE when the connection is dropped (§3.5), MP_FAIL
    /// when a bad checksum ends the subflow (§3.7), and MP_TCPRST with the reason (§3.6).
    fn reset_options(&self, room: usize, options: &mut Vec<TcpOption<'static>>) {
        let mut room = room;
        if let (true, Some(key)) = (self.sf.fastclose, self.view.remote_key) {
            options.push(TcpOption::Mptcp(MptcpOption::MpFastclose {
                receiver_key: key,
            }));
            room = room.saturating_sub(12);
        }
        if let Some(dsn) = self.sf.mp_fail.filter(|_| room >= 12) {
            options.push(TcpOption::Mptcp(MptcpOption::MpFail { dsn: dsn.0 }));
            room -= 12;
        }
        if let Some(reason) = self.sf.reset_reason.filter(|_| room >= 4) {
            options.push(TcpOption::Mptcp(MptcpOption::MpTcpRst {
                transient: false,
                reason,
            }));
        }
    }
}

impl SegmentHooks for SubflowOptions<'_> {
    fn option_space(&self, flags: TcpFlags, data: bool) -> usize {
        if !self.view.mptcp {
            let infinite = self.view.infinite.is_some() && !flags.contains(TcpFlags::RST);
            return if infinite { DSS_FULL_LEN } else { 0 };
        }
        if flags.contains(TcpFlags::RST) {
            return 12 * usize::from(self.sf.fastclose)
                + 12 * usize::from(self.sf.mp_fail.is_some())
                + 4 * usize::from(self.sf.reset_reason.is_some());
        }
        match self.sf.join {
            Join::Initiated { .. } => return 12,
            Join::Responded { .. } => return 16,
            Join::AckPending { .. } => return 24,
            Join::Done => {}
        }
        if flags.contains(TcpFlags::SYN) {
            return if flags.contains(TcpFlags::ACK) { 12 } else { 4 };
        }
        if data || self.view.data_fin.is_some() {
            DSS_FULL_LEN
        } else if self.view.repeat_capable {
            20
        } else if self.signals.pending() || self.sf.prio_pending || self.sf.mp_fail.is_some() {
            // A signal takes what the timestamps leave; the DATA_ACK joins it if it fits.
            28
        } else {
            DSS_ACK_LEN
        }
    }

    fn limit_payload(&self, seq: SeqNum, len: usize) -> usize {
        if !self.view.mptcp {
            return len;
        }
        match self.tx.find(seq).and_then(|m| m.ssn_end()) {
            Some(end) => len.min(end.diff(seq).max(0) as usize),
            None => len,
        }
    }

    fn add_options(
        &mut self,
        seg: &OutgoingSegment,
        room: usize,
        options: &mut Vec<TcpOption<'static>>,
    ) {
        if !self.view.mptcp {
            let infinite = self.infinite_option(seg).filter(|o| o.buffer_len() <= room);
            if let (false, Some(option)) = (seg.flags.contains(TcpFlags::RST), infinite) {
                options.push(TcpOption::Mptcp(option));
            }
            return;
        }
        if seg.flags.contains(TcpFlags::RST) {
            self.reset_options(room, options);
            return;
        }
        if self.sf.join != Join::Done {
            if let Some(join) = self.join_option(seg.flags) {
                options.push(TcpOption::Mptcp(join));
            }
            return;
        }
        if seg.flags.contains(TcpFlags::SYN) {
            let server = seg.flags.contains(TcpFlags::ACK);
            options.push(TcpOption::Mptcp(MptcpOption::MpCapable(
                self.capable(server, false),
            )));
            return;
        }
        let mut room = room;
        if seg.len == 0 && !self.view.repeat_capable {
            room = self.add_signal(room, options);
        }
        let option = if seg.len > 0 {
            self.data_option(seg)
        } else {
            self.ack_option()
        };
        if let Some(option) = option.filter(|o| o.buffer_len() <= room) {
            options.push(TcpOption::Mptcp(option));
        }
    }

    fn more_data_pending(&self) -> bool {
        self.view.data_pending
    }

    fn receive_window(&self) -> Option<usize> {
        Some(self.view.window)
    }
}

impl SubflowOptions<'_> {
    /// Puts one pending signal (MP_FAIL first, then MP_PRIO, echoes, ADD_ADDR, REMOVE_ADDR)
    /// on a segment without data; returns the room left.
    fn add_signal(&mut self, room: usize, options: &mut Vec<TcpOption<'static>>) -> usize {
        if let Some(dsn) = self.sf.mp_fail.filter(|_| room >= 12) {
            options.push(TcpOption::Mptcp(MptcpOption::MpFail { dsn: dsn.0 }));
            self.fail_sent = true;
            return room - 12;
        }
        if self.sf.prio_pending && room >= 3 {
            options.push(TcpOption::Mptcp(MptcpOption::MpPrio {
                backup: self.sf.backup,
                addr_id: None,
            }));
            self.prio_sent = true;
            return room - 3;
        }
        let (local, remote) = (
            self.view.local_key,
            self.view.remote_key.unwrap_or_default(),
        );
        let hmac = |id, addr, port| add_addr_hmac(local, remote, id, addr, port);
        match self.signals.take(room, hmac) {
            Some(option) => {
                let used = option.buffer_len();
                options.push(TcpOption::Mptcp(option));
                self.signal_sent = true;
                room - used
            }
            None => room,
        }
    }
}

/// The flags byte of our MP_CAPABLE: HMAC-SHA256, and A when we want checksums.
pub(crate) fn our_capable_flags(checksum: bool) -> u8 {
    capable_flags::HMAC_SHA
        | if checksum {
            capable_flags::CHECKSUM_REQUIRED
        } else {
            0
        }
}
