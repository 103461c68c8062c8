//! Segment arrival at the connection level: the MP_CAPABLE handshake and fallback (RFC 8684
//! §3.1, §3.7), DSS DATA_ACKs and mappings (§3.3), and moving a subflow's in-order bytes to
//! the connection's reassembly buffer.

use super::mapping::Mapping;
use super::subflow::Join;
use super::{ConnEvent, Mode, MptcpConnection, Role};
use crate::crypto::{MptcpVersion, key_material};
use crate::pm::PmEvent;
use crate::tcp::{CloseReason, TcpEvent};
use crate::time::Instant;
use crate::wire::mptcp::{DssMapping, DssNumber, MpCapable, capable_flags, reset_reason};
use crate::wire::{DataSeq, MptcpOption, SeqNum, TcpFlags, TcpRepr, dss_checksum};

/// Most mappings of the peer a subflow keeps waiting for their bytes: one per segment of
/// the largest receive window (8 MiB of 536-byte segments is about 15 700) with room to
/// spare.
const MAX_PEER_MAPPINGS: usize = 16_384;

impl MptcpConnection {
    /// Processes a segment that arrived on subflow `index` (the caller matched the 4-tuple
    /// and verified the checksum).
    ///
    /// RFC 8684 §5 (and RFC 7430 §2): MPTCP options act only on segments the subflow's TCP
    /// accepted (sequence and acknowledgement numbers acceptable, PAWS passed, or a RST
    /// that reset it). Whoever knows the 4-tuple can forge a segment; only whoever also
    /// knows the sequence numbers, i.e. sees the path, can make us act on one. This is the
    /// one place the rule lives: every option below is read after it.
    pub(crate) fn handle_segment(&mut self, now: Instant, index: usize, seg: &TcpRepr<'_>) {
        self.now = self.now.max(now);
        self.refresh_siblings(index);
        let Some(sf) = self.subflows.get_mut(index) else {
            return;
        };
        let was_syn_sent = sf.tcp.state() == crate::tcp::TcpState::SynSent;
        let joining = sf.join != Join::Done;
        let una_before = sf.tcp.snd_una;
        let accepted = sf.tcp.handle_segment(now, seg);
        let acked_new = self.subflows[index].tcp.snd_una > una_before;
        if !accepted {
            self.process_subflow(index);
            return;
        }
        if self.mode == Mode::Mptcp
            && acked_new
            && self.fail.is_none()
            && self.options_stripped(seg)
        {
            // RFC 8684 §3.7: the peer (or a middlebox) stopped sending options on our only
            // live subflow, and still acknowledges our data: continue as TCP if the
            // connection never had another subflow; otherwise data the others carried may
            // be missing at the peer, which one to one would hide, so end it (as Linux
            // does once a join happened) — unless the data level is closing: a peer's
            // subflow in TIME-WAIT answers our retransmitted FIN without options.
            let closing = self.fin_dsn.is_some() || self.fin_received;
            if self.single_path(index) {
                self.fall_back(index);
            } else if !closing {
                self.reset_connection(reset_reason::MIDDLEBOX_INTERFERENCE);
                return;
            }
        }
        if self.mode == Mode::Mptcp {
            if joining {
                self.join_input(index, seg);
            }
            if index == 0 {
                self.mptcp_input(index, seg, was_syn_sent);
            } else if self.subflows[index].join == Join::Done {
                self.data_input(index, seg);
            }
        }
        self.process_subflow(index);
        self.arm_mp_fail_timer(now);
    }

    /// Whether `seg` is a segment of an established MPTCP connection with a single live
    /// subflow that carries no MPTCP option at all (every segment should carry a DSS).
    fn options_stripped(&self, seg: &TcpRepr<'_>) -> bool {
        let live = self.live_subflows();
        self.fully_established
            && self.keys.remote.is_some()
            && live == 1
            && !seg.flags.contains(TcpFlags::SYN)
            && seg.mptcp_options().next().is_none()
    }

    /// The MPTCP options of a segment on subflow `index`.
    fn mptcp_input(&mut self, index: usize, seg: &TcpRepr<'_>, was_syn_sent: bool) {
        let capable = seg.mptcp_options().find_map(|o| match o {
            MptcpOption::MpCapable(c) => Some(*c),
            _ => None,
        });
        let synchronized = self.subflows[index].tcp.state().is_synchronized();
        match self.role {
            Role::Client if was_syn_sent && synchronized => {
                // RFC 8684 §3.1: the SYN/ACK carries the server's key, or it does not speak
                // MPTCP and the connection is plain TCP.
                match capable.filter(|c| c.version == 1 && c.sender_key.is_some()) {
                    Some(c) => {
                        self.learn_remote_key(c.sender_key.unwrap_or_default());
                        self.checksum =
                            self.want_checksum || c.flags & capable_flags::CHECKSUM_REQUIRED != 0;
                    }
                    None => self.fall_back(index),
                }
                return;
            }
            Role::Server if self.keys.remote.is_none() && !seg.flags.contains(TcpFlags::SYN) => {
                match capable.filter(|c| c.receiver_key == Some(self.keys.local)) {
                    Some(c) => self.learn_remote_key(c.sender_key.unwrap_or_default()),
                    None if seg.flags.contains(TcpFlags::ACK)
                        && seg.mptcp_options().next().is_none() =>
                    {
                        // §3.1: the segment completing the handshake must carry MP_CAPABLE;
                        // one without any MPTCP option means a middlebox removed them.
                        self.fall_back(index);
                        return;
                    }
                    // Segments with other MPTCP options (DSS) that overtook the client's
                    // first data, whose MP_CAPABLE was lost: wait for its retransmission,
                    // which brings the key (falling back here made seed 19 of the two-path
                    // sweep in tests/mptcp_faults.rs plain TCP), keeping their mappings.
                    None => {
                        self.early_mappings(index, seg);
                        return;
                    }
                }
            }
            _ => {}
        }
        if self.keys.remote.is_none() {
            return;
        }
        let no_option = seg.mptcp_options().next().is_none();
        let acks_data = seg.flags.contains(TcpFlags::ACK)
            && seg.ack_number.diff(self.subflows[index].tcp.iss) > 1;
        if self.role == Role::Client && !self.fully_established && no_option && acks_data {
            // RFC 8684 §3.7: our data was acknowledged without any MPTCP option before any
            // DSS came back: the server fell back to TCP (its half of the handshake never
            // saw our MP_CAPABLE), so we do too. (A pure ACK with an IPv6 ADD_ADDR has
            // no room left for a DSS, and is no fallback.)
            self.fall_back(index);
            return;
        }
        if let Some(c) = capable {
            self.first_data_mapping(index, &c);
        }
        self.data_input(index, seg);
    }

    /// The mappings of DSS options that arrived before the client's key (its first data,
    /// with MP_CAPABLE, was lost and is on its way again). They must be kept: once the
    /// subflow acknowledges these bytes the client never maps them again. Only 64-bit data
    /// sequence numbers can be placed before the key gives the IDSN.
    fn early_mappings(&mut self, index: usize, seg: &TcpRepr<'_>) {
        for option in seg.mptcp_options() {
            if let MptcpOption::Dss(dss) = option
                && let Some(mapping) = &dss.mapping
                && matches!(mapping.dsn, DssNumber::U64(_))
            {
                self.on_mapping(index, mapping, dss.data_fin);
            }
        }
    }

    /// The DSS and signalling options of a segment on an established subflow.
    fn data_input(&mut self, index: usize, seg: &TcpRepr<'_>) {
        for option in seg.mptcp_options() {
            match option {
                MptcpOption::Dss(dss) => {
                    if self.role == Role::Client && !self.fully_established {
                        // The server's DSS confirms it has our keys: stop repeating
                        // MP_CAPABLE; a DATA_FIN held back by it can go now.
                        self.fully_established = true;
                        if self.fin_dsn.is_some() {
                            self.request_ack();
                        }
                    }
                    if let Some(ack) = dss.data_ack {
                        // §3.3.4: the window of this segment's header goes with its
                        // DATA_ACK (the subflow's `snd_wnd` may be older: TCP keeps it
                        // from segments it rejects, e.g. beyond our receive window).
                        let sf = &self.subflows[index].tcp;
                        let window = usize::from(seg.window_len) << sf.snd_wscale;
                        self.on_data_ack(ack, window);
                    }
                    match dss.mapping {
                        // §3.7: a data-level length of 0 is the infinite mapping; it
                        // starts with this segment.
                        Some(m) if m.data_len == 0 && !dss.data_fin => {
                            let dsn = self.rx_dsn(m.dsn);
                            self.on_infinite_mapping(index, seg.seq_number, dsn);
                        }
                        Some(m) => self.on_mapping(index, &m, dss.data_fin),
                        None => {}
                    }
                }
                MptcpOption::MpFail { dsn } if !seg.flags.contains(TcpFlags::RST) => {
                    self.on_mp_fail(index, *dsn);
                }
                other => self.signal_input(index, other),
            }
        }
    }

    /// The peer's key is known: its IDSN starts our receive side (RFC 8684 §3.1).
    fn learn_remote_key(&mut self, key: u64) {
        let material = key_material(MptcpVersion::V1, key);
        self.keys.remote = Some(key);
        self.keys.remote_token = material.token;
        self.keys.remote_idsn = DataSeq(material.idsn);
        self.fully_established |= self.role == Role::Server;
        self.start_receiving(self.keys.remote_idsn);
    }

    /// RFC 8684 §3.1: MP_CAPABLE with a data-level length maps the client's first data to
    /// IDSN + 1 at relative subflow sequence 1.
    fn first_data_mapping(&mut self, index: usize, c: &MpCapable) {
        let Some(len) = c.data_len.filter(|&l| l > 0) else {
            return;
        };
        let sf = &mut self.subflows[index];
        sf.rx.insert(Mapping {
            ssn: sf.tcp.irs + 1,
            dsn: self.keys.remote_idsn + 1,
            len: Some(u32::from(len)),
            checksum: c.checksum,
            fin: false,
        });
    }

    /// RFC 8684 §3.3.2: the peer acknowledged our data up to `ack`, with `window` bytes
    /// of room beyond it (the segment's window, scaled).
    fn on_data_ack(&mut self, ack: DssNumber, window: usize) {
        let ack = match ack {
            DssNumber::U64(v) => DataSeq(v),
            DssNumber::U32(v) => DataSeq::expand(self.snd_una, v),
        };
        let sent_end = self.snd_nxt + u64::from(self.fin_dsn.is_some());
        if ack < self.snd_una || ack > sent_end {
            return;
        }
        self.data_acked(ack);
        // §3.3.4: the window of the TCP header is relative to the DATA_ACK.
        let edge = ack + window as u64;
        self.snd_wnd_edge = Some(self.snd_wnd_edge.map_or(edge, |e| e.max(edge)));
    }

    /// Our data up to `ack` is delivered: free it (and note our DATA_FIN's delivery).
    pub(super) fn data_acked(&mut self, ack: DataSeq) {
        if ack <= self.snd_una {
            return;
        }
        let n = (ack.diff(self.snd_una) as usize).min(self.send_buf.len());
        self.send_buf.consume(n);
        self.snd_una += n as u64;
        // The data-level retransmission timer starts again for the new oldest byte.
        self.data_rto_at = None;
        if self.fin_dsn.is_some_and(|fin| ack > fin) {
            self.note_fin_acked();
        }
        if self.writable_wanted && self.send_buf.free() > 0 {
            self.writable_wanted = false;
            self.events.push_back(ConnEvent::Writable);
        }
    }

    /// Our DATA_FIN (FIN for plain TCP) is acknowledged, and with it everything we sent:
    /// the first time, say so ([`ConnEvent::SendComplete`]).
    fn note_fin_acked(&mut self) {
        if !self.fin_acked {
            self.fin_acked = true;
            self.fin_rto_at = None;
            self.events.push_back(ConnEvent::SendComplete);
        }
    }

    /// RFC 8684 §3.3.1: a mapping of subflow bytes to data bytes; with the DATA_FIN flag the
    /// data-level length counts the DATA_FIN (§3.3.3).
    fn on_mapping(&mut self, index: usize, m: &DssMapping, data_fin: bool) {
        let dsn = self.rx_dsn(m.dsn);
        let mut len = u32::from(m.data_len);
        if data_fin && len > 0 {
            len -= 1;
            self.peer_fin = Some(dsn + u64::from(len));
            self.check_peer_fin();
        }
        if len == 0 {
            return;
        }
        let sf = &mut self.subflows[index];
        let map = Mapping {
            ssn: sf.tcp.irs + m.subflow_seq,
            dsn,
            len: Some(len),
            checksum: m.checksum,
            fin: data_fin,
        };
        // What a peer can make us hold is bounded (RFC 8684 §5): a mapping of bytes already
        // moved up, of bytes beyond the largest window we could offer, or beyond
        // MAX_PEER_MAPPINGS waiting, is not kept (bytes that really come without their
        // mapping are handled as stripped options in `pull`).
        let next = sf.rx_next.unwrap_or(sf.tcp.irs + 1);
        let stale = map.ssn_end().is_some_and(|end| end <= next);
        let beyond = i64::from(map.ssn.diff(next)) > self.recv_max as i64;
        if stale || beyond || sf.rx.len() >= MAX_PEER_MAPPINGS {
            return;
        }
        if !sf.rx.insert(map) {
            // §3.3.1: a mapping that contradicts one in force is a protocol error.
            self.abort();
        }
    }

    /// A data sequence number the peer sent (32-bit ones near what we expect next).
    fn rx_dsn(&self, n: DssNumber) -> DataSeq {
        match n {
            DssNumber::U64(v) => DataSeq(v),
            DssNumber::U32(v) => DataSeq::expand(self.rcv_nxt, v),
        }
    }

    /// Falls back to TCP on subflow `index` (RFC 8684 §3.7): no more options; its bytes map
    /// one to one from here on.
    pub(super) fn fall_back(&mut self, index: usize) {
        let id = self.subflows[index].id;
        self.note(Some(id), format_args!("falls back to TCP (RFC 8684 §3.7)"));
        self.mode = Mode::Tcp;
        self.fully_established = true;
        let sf = &mut self.subflows[index];
        if !self.rx_ready {
            self.rcv_nxt = DataSeq(0);
            self.rx_ready = true;
        }
        let next = sf.rx_next.unwrap_or(sf.tcp.irs + 1);
        sf.rx_next = Some(next);
        // Bytes of a mapping that is not complete yet, held for its checksum: from here on
        // nothing is checked, and the bytes after them follow them one to one.
        let held = core::mem::take(&mut sf.held);
        let start = next - held.len() as u32;
        if let Some(map) = sf.rx.find(start).copied().filter(|_| !held.is_empty()) {
            self.deliver(map.dsn_of(start), &held);
        }
        let sf = &mut self.subflows[index];
        sf.rx.clear();
        sf.rx.insert(Mapping {
            ssn: next,
            dsn: self.rcv_nxt,
            len: None,
            checksum: None,
            fin: false,
        });
    }

    /// After input, output or a timer on subflow `index`: take its events and bytes.
    pub(super) fn process_subflow(&mut self, index: usize) {
        let Some(sf) = self.subflows.get_mut(index) else {
            return;
        };
        if sf.rx_next.is_none() && sf.tcp.state().is_synchronized() && sf.join == Join::Done {
            sf.rx_next = Some(sf.tcp.irs + 1);
            if self.mode == Mode::Tcp {
                self.fall_back(index);
            }
        }
        while let Some(event) = self.subflows[index].tcp.poll_event() {
            match event {
                TcpEvent::Connected => {
                    self.subflows[index].connected = true;
                    if index == 0 {
                        self.events.push_back(ConnEvent::Connected);
                        if self.mode == Mode::Mptcp {
                            self.events
                                .push_back(ConnEvent::SubflowEstablished(self.subflows[0].id));
                        }
                    }
                }
                TcpEvent::Closed(reason) => self.subflow_closed(index, reason),
                TcpEvent::PeerClosed if self.mode == Mode::Mptcp => {
                    self.subflow_peer_closed(index);
                }
                TcpEvent::Readable | TcpEvent::Writable | TcpEvent::PeerClosed => {}
            }
        }
        self.check_timeouts(index);
        self.pull(index);
        self.subflow_acked(index);
        if self.mode == Mode::Tcp && !self.fin_received && self.subflows[index].tcp.at_eof() {
            self.fin_received = true;
            self.events.push_back(ConnEvent::PeerClosed);
        }
        if !self.pm_started && self.can_join() {
            self.start_path_manager();
        }
        self.check_done();
    }

    /// RFC 8684 §3.7: after [`MptcpConfig::syn_retries`] retransmissions of our first SYN
    /// with MP_CAPABLE went unanswered, the next ones go without it (a middlebox may drop
    /// SYNs with options it does not know), and the connection is plain TCP.
    pub(super) fn check_syn_retries(&mut self, index: usize) {
        let sf = &self.subflows[index];
        if index == 0
            && self.role == Role::Client
            && self.mode == Mode::Mptcp
            && sf.tcp.state() == crate::tcp::TcpState::SynSent
            && sf.tcp.stats.retransmits > u64::from(self.syn_retries)
        {
            let retries = self.syn_retries;
            self.note(
                Some(sf.id),
                format_args!("{retries} SYNs with MP_CAPABLE unanswered: the next goes without"),
            );
            self.mode = Mode::Tcp;
        }
    }

    /// A retransmission timeout makes a subflow "potentially failed" (after the
    /// multipath-tcp.org kernel) when another subflow works: everything it holds is
    /// re-injected on the others at once (`reinject.rs`), and it gets no new data. The last
    /// working subflow is never taken for failed: with every path down at once, its
    /// retransmissions are what finds a path coming back, and new data must not wait for
    /// all its old data to be acknowledged first.
    fn check_timeouts(&mut self, index: usize) {
        let several = self.other_works(index);
        let sf = &mut self.subflows[index];
        let timeouts = sf.tcp.stats.timeouts;
        if timeouts > sf.timeouts_seen {
            sf.timeouts_seen = timeouts;
            if !sf.potentially_failed && several {
                // It stays failed until everything it had sent is acknowledged: new data
                // given to it earlier would queue behind the old data it retransmits from a
                // one-segment window, and hold up the data level.
                sf.potentially_failed = true;
                sf.failed_until = sf.tcp.snd_nxt;
                let id = sf.id;
                self.note(
                    Some(id),
                    format_args!(
                        "retransmission timeout: potentially failed, its data goes on the others"
                    ),
                );
                self.reinject_from(index);
            }
        }
    }

    /// The peer closed its side of subflow `index` (a subflow FIN, not a DATA_FIN): it
    /// will not send there again, so when another subflow can carry our data we close our
    /// side too, as Linux does, and its data goes on the others; otherwise both ends would
    /// keep it half-closed for ever. The last usable subflow stays open for our data (TCP
    /// half-close); the connection's close shuts it down.
    fn subflow_peer_closed(&mut self, index: usize) {
        if self.subflows[index].retired || !self.other_can_carry(index) {
            return;
        }
        self.reinject_from(index);
        let sf = &mut self.subflows[index];
        sf.retired = true;
        sf.tcp.shutdown();
    }

    /// A subflow ended: report it, move its data, and end the connection with the last one
    /// (unless the data level already closed in order).
    fn subflow_closed(&mut self, index: usize, reason: CloseReason) {
        self.reinject_from(index);
        let sf = &mut self.subflows[index];
        if !sf.reported_closed {
            sf.reported_closed = true;
            let event = ConnEvent::SubflowClosed {
                subflow: sf.id,
                reason,
                reset_reason: sf.peer_reset_reason,
            };
            if self.mode == Mode::Mptcp {
                self.events.push_back(event);
                let subflow = self.subflows[index].pm_view();
                self.pm_hear(PmEvent::SubflowClosed { subflow, reason });
            }
        }
        let done = self.fin_acked && self.fin_received;
        let reason = if done { CloseReason::Normal } else { reason };
        if self.subflows.iter().all(|s| s.is_closed()) {
            self.set_closed(reason);
        }
    }

    /// Frees the mappings (and, for TCP, the data) the subflow has delivered.
    fn subflow_acked(&mut self, index: usize) {
        let data_una = self.snd_una;
        let sf = &mut self.subflows[index];
        let una = sf.tcp.data_start();
        if sf.potentially_failed && sf.tcp.snd_una >= sf.failed_until {
            // Everything sent before the timeout is acknowledged: the subflow works again.
            sf.potentially_failed = false;
        }
        let acked = match sf.tx.find(una) {
            Some(map) => map.dsn_of(una),
            None => self.snd_nxt,
        };
        // Mappings stay until the data level acknowledges them too: if the subflow dies,
        // what it delivered to the peer's subflow but not to the peer's connection (a
        // middlebox in the way, a reset) must go again elsewhere.
        sf.tx.drop_delivered(una, data_una);
        if self
            .infinite_tx
            .is_some_and(|m| index == 0 && sf.tcp.snd_una > m.ssn)
        {
            // The peer has the segment that carried our infinite mapping.
            self.infinite_tx = None;
        }
        if self.mode == Mode::Tcp {
            self.data_acked(acked);
            if self.subflows[index].tcp.fin_acked() && self.fin_queued {
                self.note_fin_acked();
            }
        }
    }

    /// The byte stream is closed both ways: close the subflows (RFC 8684 §3.3.3).
    fn check_done(&mut self) {
        if self.mode == Mode::Mptcp && self.fin_acked && self.fin_received {
            for sf in &mut self.subflows {
                sf.tcp.shutdown();
            }
            if self.close_reason.is_none() {
                self.set_closed(CloseReason::Normal);
            }
        }
    }

    /// The peer's DATA_FIN is next in sequence: the stream ends (RFC 8684 §3.3.3).
    pub(super) fn check_peer_fin(&mut self) {
        if !self.fin_received && self.rx_ready && self.peer_fin == Some(self.rcv_nxt) {
            self.fin_received = true;
            self.rcv_nxt += 1;
            self.events.push_back(ConnEvent::PeerClosed);
            self.request_ack();
        }
    }

    /// Moves subflow `index`'s in-order bytes into the connection's reassembly buffer,
    /// through their mappings, as far as the connection-level window allows.
    pub(super) fn pull(&mut self, index: usize) {
        if !self.rx_ready || self.subflows[index].tcp.recv_queue_len() == 0 {
            return;
        }
        let mut scratch = self.take_scratch();
        loop {
            let sf = &mut self.subflows[index];
            let Some(next) = sf.rx_next else { break };
            if sf.retired {
                // Reset or withdrawn: what it still holds is abandoned (the peer sends it
                // again on another subflow).
                break;
            }
            let readable = sf.tcp.recv_queue_len();
            if readable == 0 {
                break;
            }
            let (map, held_empty) = (sf.rx.find(next).copied(), sf.held.is_empty());
            let Some(map) = map else {
                if let Some(skip) = self.bytes_to_skip(index, next) {
                    // Before the peer's infinite mapping, unmapped: dropped (§3.7).
                    let n = readable.min(skip).min(scratch.len());
                    let n = self.subflows[index].tcp.take_received(&mut scratch[..n]);
                    self.subflows[index].rx_next = Some(next + n as u32);
                    continue;
                }
                // In-order bytes without a mapping: a middlebox stripped the options (every
                // data segment carries its mapping). RFC 8684 §3.7: with other live
                // subflows, reset this one — its data goes again on the others. Alone, fall
                // back to TCP from here, but only on a connection that never had another
                // subflow and with nothing missing at the data level: these bytes can then
                // only be the next ones. After a join, bytes a dead subflow carried may
                // still be missing and be sent after these, which one to one would deliver
                // in the wrong place; after our MP_FAIL we dropped data. Both end the
                // connection (Linux does the same once a join happened).
                let in_sync = !self.recv.has_out_of_order() && held_empty && self.fail.is_none();
                let live = self.live_subflows();
                if live > 1 {
                    self.reset_subflow(index, reset_reason::MIDDLEBOX_INTERFERENCE);
                } else if in_sync && self.single_path(index) {
                    self.fall_back(index);
                    continue;
                } else {
                    self.reset_connection(reset_reason::MIDDLEBOX_INTERFERENCE);
                }
                break;
            };
            if self.infinite_mapping_leaves_hole(&map, next) {
                self.reset_connection(reset_reason::MIDDLEBOX_INTERFERENCE);
                break;
            }
            let left = map
                .ssn_end()
                .map_or(usize::MAX, |end| end.diff(next).max(0) as usize);
            let dsn = map.dsn_of(next);
            let mut n = readable.min(left).min(scratch.len());
            // Bytes beyond the connection-level window wait in the subflow's buffer.
            let offset = dsn.diff(self.rcv_nxt);
            if offset >= 0 {
                n = n.min(self.recv.window().saturating_sub(offset as usize));
            }
            if n == 0 {
                break;
            }
            let n = self.subflows[index].tcp.take_received(&mut scratch[..n]);
            let sf = &mut self.subflows[index];
            sf.rx_next = Some(next + n as u32);
            if self.checksum && map.len.is_some() {
                sf.held.extend_from_slice(&scratch[..n]);
                if left == n {
                    self.verify_held(index, &map);
                }
            } else {
                self.deliver(dsn, &scratch[..n]);
            }
            let sf = &mut self.subflows[index];
            if let Some(next) = sf.rx_next {
                sf.rx.drop_before(next);
            }
        }
        self.scratch = scratch;
    }

    /// A whole mapping arrived with checksums on: deliver it if its DSS checksum holds
    /// (RFC 8684 §3.3.1); if not, see `fail.rs` (§3.7).
    fn verify_held(&mut self, index: usize, map: &Mapping) {
        let held = core::mem::take(&mut self.subflows[index].held);
        let rel = map.ssn.diff(self.subflows[index].tcp.irs) as u32;
        let wire_len = (map.len.unwrap_or_default() + u32::from(map.fin)) as u16;
        if map.checksum == Some(dss_checksum(map.dsn.0, rel, wire_len, &held)) {
            self.deliver(map.dsn, &held);
            return;
        }
        self.on_bad_checksum(index, map);
    }

    /// Puts `data` (from data sequence number `dsn`) into the reassembly buffer.
    fn deliver(&mut self, dsn: DataSeq, data: &[u8]) {
        let out = self.recv.write(SeqNum(dsn.0 as u32), data);
        if out.advanced > 0 && self.app_closed {
            // Nobody will read it (RFC 2525 §2.17).
            self.abort();
            return;
        }
        if out.advanced > 0 {
            self.rcv_nxt += out.advanced as u64;
            if !self.readable_signalled {
                self.readable_signalled = true;
                self.events.push_back(ConnEvent::Readable);
            }
            self.check_peer_fin();
        }
    }
}
