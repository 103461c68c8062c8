//! Segment output: SYNs, data and retransmissions under the congestion and send windows,
//! Nagle's algorithm and sender-side SWS avoidance (RFC 9293 §3.7.4, §3.8.6.2.1), probes,
//! ACKs (delayed per RFC 9293 §3.8.6.3) and pacing.

use core::time::Duration;

use super::connection::{Probe, TcpConnection};
use super::hooks::{NoHooks, OutgoingSegment, SegmentHooks};
use super::scoreboard::Sent;
use super::state::TcpState;
use crate::time::Instant;
use crate::wire::{
    MAX_OPTIONS_LEN, MAX_SACK_BLOCKS, SackBlock, SeqNum, TCP_HEADER_LEN, TcpFlags, TcpOption,
    TcpPacket, TcpRepr, tcp_options_len,
};

/// RFC 8985 §7.2: worst-case delayed-ACK time assumed for the peer.
const WC_DEL_ACK: Duration = Duration::from_millis(200);

impl TcpConnection {
    /// Writes the next segment to send (TCP header, options, payload; checksum filled for
    /// the connection's addresses) into `buf`; returns its length, or `None` when there is
    /// nothing to send now. `buf` should hold at least 60 bytes plus the MSS.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.poll_transmit_with(now, buf, &mut NoHooks)
    }

    /// [`poll_transmit`](Self::poll_transmit) for a connection driven by a layer above
    /// (an MPTCP subflow): `hooks` adds its options, bounds payloads and sets the window.
    pub fn poll_transmit_with(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        hooks: &mut dyn SegmentHooks,
    ) -> Option<usize> {
        let out = self.transmit(now, buf, hooks);
        if out.is_some() {
            self.stats.segments_out += 1;
        }
        self.update_timers(now);
        out
    }

    /// A pure ACK now, even with data waiting, for a layer above whose option only fits
    /// on a segment without data (MPTCP's ADD_ADDR, REMOVE_ADDR, MP_PRIO). None before
    /// the handshake completed or after the connection closed.
    pub(crate) fn poll_ack_with(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        hooks: &mut dyn SegmentHooks,
    ) -> Option<usize> {
        if !self.state.is_synchronized() {
            return None;
        }
        let out = self.segment(now, buf, hooks, self.snd_nxt, TcpFlags::ACK, 0, 0);
        if out.is_some() {
            self.stats.segments_out += 1;
        }
        self.update_timers(now);
        out
    }

    fn transmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        hooks: &mut dyn SegmentHooks,
    ) -> Option<usize> {
        if self.abort_rst {
            self.abort_rst = false;
            // RFC 9293 §3.10.5: ABORT sends RST with SEQ = SND.NXT.
            return self.segment(
                now,
                buf,
                hooks,
                self.snd_nxt,
                TcpFlags::RST | TcpFlags::ACK,
                0,
                0,
            );
        }
        if let Some(seq) = self.reply_rst.take() {
            // RFC 9293 §3.10.7.3: <SEQ=SEG.ACK><CTL=RST> for an unacceptable ACK.
            return self.segment(now, buf, hooks, seq, TcpFlags::RST, 0, 0);
        }
        match self.state {
            TcpState::Closed => return None,
            TcpState::SynSent | TcpState::SynReceived if self.syn_pending => {
                return self.send_syn(now, buf, hooks);
            }
            TcpState::Established
            | TcpState::CloseWait
            | TcpState::FinWait1
            | TcpState::Closing
            | TcpState::LastAck => {
                if let Some(len) = self.send_data(now, buf, hooks) {
                    return Some(len);
                }
            }
            _ => {}
        }
        if self.probe == Some(Probe::Keepalive) && self.state.is_synchronized() {
            self.probe = None;
            // RFC 9293 §3.8.4: a keep-alive carries SEG.SEQ = SND.NXT - 1 and no data.
            return self.segment(now, buf, hooks, self.snd_una - 1, TcpFlags::ACK, 0, 0);
        }
        if self.ack_now && self.state != TcpState::SynSent {
            return self.segment(now, buf, hooks, self.snd_nxt, TcpFlags::ACK, 0, 0);
        }
        None
    }

    fn send_syn(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        hooks: &mut dyn SegmentHooks,
    ) -> Option<usize> {
        let flags = if self.state == TcpState::SynReceived {
            TcpFlags::SYN | TcpFlags::ACK
        } else {
            TcpFlags::SYN
        };
        let len = self.segment(now, buf, hooks, self.iss, flags, 0, 0)?;
        self.syn_pending = false;
        if self.syn_sent_at.is_none() {
            self.syn_sent_at = Some(now);
        }
        self.rto_at = Some(now + self.rtt.rto());
        Some(len)
    }

    /// Data, FIN, retransmissions and probes.
    fn send_data(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        hooks: &mut dyn SegmentHooks,
    ) -> Option<usize> {
        if let Some(probe) = self.probe {
            match probe {
                Probe::Tlp => {
                    self.probe = None;
                    if let Some(len) = self.send_new(now, buf, hooks, true) {
                        return Some(len);
                    }
                    let last = self.sb.len().checked_sub(1)?;
                    return self.retransmit(now, buf, hooks, last);
                }
                Probe::Persist => {
                    self.probe = None;
                    if !self.sb.is_empty() {
                        return self.retransmit(now, buf, hooks, 0);
                    }
                    return self.send_new(now, buf, hooks, true);
                }
                Probe::Keepalive => {}
            }
        }
        if self.fast_retransmit {
            self.fast_retransmit = false;
            if let Some(i) = self.sb.first_lost() {
                return self.retransmit(now, buf, hooks, i);
            }
        }
        self.pacing_blocked = false;
        if self.cfg.pacing && self.pace_at > now {
            self.pacing_blocked = self.sb.first_lost().is_some() || self.has_new_data();
            return None;
        }
        if let Some(i) = self.sb.first_lost() {
            // RFC 6675 §5 NextSeg: lost segments go before new data.
            if !self.may_retransmit(i) {
                return None;
            }
            return self.retransmit(now, buf, hooks, i);
        }
        self.send_new(now, buf, hooks, false)
    }

    /// Bytes the congestion control lets out now: `cwnd − pipe` (RFC 6675 §5), or in fast
    /// recovery what Proportional Rate Reduction allows (RFC 6937 §3).
    pub(crate) fn cwnd_room(&self) -> usize {
        match &self.prr {
            Some(prr) => prr.allowance(),
            None => self.cc.window().saturating_sub(self.sb.in_flight()),
        }
    }

    /// Whether the congestion control lets the lost segment at `i` go again. Outside
    /// recovery any room does (the segment may overshoot cwnd by less than itself); under
    /// PRR the allowance must hold the whole segment, or the few bytes left of each ACK's
    /// sndcnt (segments carry less than the MSS once options are taken off) would let out
    /// one segment more than the ACK earned, on every ACK.
    fn may_retransmit(&self, i: usize) -> bool {
        let room = self.cwnd_room();
        match (&self.prr, self.sb.get(i)) {
            (Some(_), Some(seg)) => room >= (seg.payload_len() as usize).clamp(1, self.mss),
            _ => room > 0,
        }
    }

    /// Unsent data or an unsent FIN is waiting.
    pub(crate) fn has_new_data(&self) -> bool {
        let sent = self.snd_nxt.diff(self.data_start()).max(0) as usize;
        sent < self.send_buf.len() || (self.fin_queued && !self.fin_sent())
    }

    /// New data from SND.NXT. A `probe` ignores the congestion window, Nagle and a closed
    /// send window (it sends one byte into a zero window).
    fn send_new(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        hooks: &mut dyn SegmentHooks,
        probe: bool,
    ) -> Option<usize> {
        if !self.has_new_data() {
            return None;
        }
        let start = self.data_start();
        let offset = self.snd_nxt.diff(start).max(0) as usize;
        let avail = self.send_buf.len() - offset;
        let wnd_room = (self.snd_una + self.snd_wnd as u32)
            .diff(self.snd_nxt)
            .max(0) as usize;
        let in_flight = self.sb.in_flight();
        let cwnd_room = self.cwnd_room();
        let full = self.full_segment(hooks);
        let mut len = hooks.limit_payload(self.snd_nxt, avail.min(full));
        // A segment that ends where the layer above wants it to (a mapping's end) counts
        // as full for Nagle and SWS avoidance, also when that end is the end of the queue:
        // nothing could be appended to it, and holding it back would only delay it (for
        // MPTCP, leaving a hole the peer cannot DATA_ACK past while other subflows go on).
        let unit_end = hooks.limit_payload(self.snd_nxt, usize::MAX);
        let full = if len < avail.min(full) || len == unit_end {
            len
        } else {
            full
        };
        if probe {
            if wnd_room == 0 {
                len = len.min(1);
            } else {
                len = len.min(wnd_room);
            }
        } else {
            len = len.min(wnd_room).min(cwnd_room);
            let fin_now = self.fin_queued && len == avail && wnd_room > len && cwnd_room > len;
            if len == 0 && !fin_now {
                return None;
            }
            if len < full && !fin_now {
                let nothing_out = self.snd_una == self.snd_nxt;
                if len < avail {
                    // Limited by a window. RFC 9293 §3.8.6.2.1: send a partial segment only
                    // if it is at least half the largest window the peer offered, or
                    // nothing is outstanding (no ACK will come to open it).
                    let wnd_limited = wnd_room <= cwnd_room;
                    if !(nothing_out || (wnd_limited && len >= self.max_snd_wnd / 2)) {
                        return None;
                    }
                } else if !self.cfg.nodelay && self.small_segment_unacked() {
                    // RFC 9293 §3.7.4 (Nagle), in Minshall's form (draft-minshall-nagle):
                    // hold a small segment while an earlier small segment is unacknowledged,
                    // so the short tail of a larger write leaves at once instead of waiting
                    // for the peer's delayed ACK.
                    return None;
                }
            }
        }
        let fin = self.fin_queued && len == avail && (wnd_room > len || probe);
        let flags = if fin {
            TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN
        } else if len == avail {
            TcpFlags::ACK | TcpFlags::PSH
        } else {
            TcpFlags::ACK
        };
        let seq = self.snd_nxt;
        let total = self.segment(now, buf, hooks, seq, flags, offset, len)?;
        let sent = self.last_payload;
        let fin = fin && sent == len;
        let seq_len = sent as u32 + u32::from(fin);
        if seq_len == 0 {
            return Some(total);
        }
        let app_limited =
            sent == avail && !hooks.more_data_pending() && in_flight + sent < self.cc.window();
        self.sb.push(Sent {
            start: seq,
            len: seq_len,
            fin,
            sent_at: now,
            retrans: 0,
            sacked: false,
            lost: false,
            app_limited,
        });
        self.snd_nxt = seq + seq_len;
        if sent < full {
            self.small_segment_end = Some(self.snd_nxt);
        }
        if fin {
            self.fin_seq = Some(seq + sent as u32);
        }
        self.stats.bytes_sent += sent as u64;
        self.after_data_sent(now, sent);
        if let Some(prr) = &mut self.prr {
            prr.on_sent(seq_len as usize);
        }
        if self.rto_at.is_none() {
            self.rto_at = Some(now + self.rtt.rto());
        }
        self.arm_tlp(now);
        Some(total)
    }

    /// Whether a segment shorter than a full one is sent and not yet acknowledged.
    fn small_segment_unacked(&self) -> bool {
        self.small_segment_end.is_some_and(|end| end > self.snd_una)
    }

    /// Payload of a full-sized segment after the options a data segment carries now.
    fn full_segment(&self, hooks: &dyn SegmentHooks) -> usize {
        let reserved = hooks.option_space(TcpFlags::ACK, true);
        let mut opts = reserved;
        if self.ts_ok {
            opts += 12;
        }
        if self.sack_ok && self.recv.has_out_of_order() {
            opts += 4 + 8 * self.sack_block_room(reserved);
        }
        self.mss.saturating_sub(opts.min(MAX_OPTIONS_LEN)).max(1)
    }

    /// How many SACK blocks fit beside the timestamps and `reserved` bytes of the layer
    /// above (RFC 2018 §3: at most 4, 3 with timestamps).
    fn sack_block_room(&self, reserved: usize) -> usize {
        let used = reserved + if self.ts_ok { 12 } else { 0 } + 4;
        (MAX_OPTIONS_LEN.saturating_sub(used) / 8).min(MAX_SACK_BLOCKS)
    }

    /// Retransmits the segment at `i` of the scoreboard (splitting it if it no longer fits).
    fn retransmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        hooks: &mut dyn SegmentHooks,
        i: usize,
    ) -> Option<usize> {
        let seg = *self.sb.get(i)?;
        let payload = seg.payload_len() as usize;
        let offset = seg.start.diff(self.data_start()).max(0) as usize;
        let len = hooks.limit_payload(seg.start, payload);
        let mut flags = TcpFlags::ACK;
        if seg.fin && len == payload {
            flags |= TcpFlags::FIN;
        }
        let total = self.segment(now, buf, hooks, seg.start, flags, offset, len)?;
        let sent = self.last_payload;
        if sent < payload {
            self.sb.split(i, sent.max(1) as u32);
        }
        self.sb.retransmitted(i, now);
        self.stats.retransmits += 1;
        self.stats.bytes_retransmitted += sent as u64;
        self.stats.bytes_sent += sent as u64;
        self.after_data_sent(now, sent);
        if let Some(prr) = &mut self.prr {
            prr.on_sent(sent.max(1));
        }
        // RFC 6298 §5.1 starts the timer only if it is not running. But when the segment at
        // SND.UNA goes again, the timer armed by the last ACK that advanced (§5.3) measures
        // from before this retransmission: the ACK that reached the hole came one RTT after
        // the hole was sent, RACK waited out its reordering window, and the retransmission
        // needs a whole RTT more. Once queueing pushes the SRTT towards the RTO, that timer
        // expires before the retransmission can be acknowledged, and a spurious timeout
        // collapses the window. Restart it, as RFC 6582 §3.2 step 5 does on a partial ACK
        // (and Linux does when it retransmits the head).
        if self.rto_at.is_none() || i == 0 {
            self.rto_at = Some(now + self.rtt.rto());
        }
        Some(total)
    }

    /// Pacing (after Linux's fq pacing): the next data segment may leave once this one has
    /// drained at the pacing rate — 2·cwnd/SRTT in slow start, 1.2·cwnd/SRTT after.
    fn after_data_sent(&mut self, now: Instant, len: usize) {
        if !self.cfg.pacing || len == 0 {
            return;
        }
        let Some(srtt) = self.rtt.srtt() else {
            return;
        };
        let ctx = self.cc_context();
        let cwnd = self.cc.window() as u128;
        let rate = self.cc.pacing_rate(&ctx).map_or_else(
            || {
                let factor = if self.cc.in_slow_start() { 200 } else { 120 };
                cwnd * 1_000_000_000 * factor / 100 / srtt.as_nanos().max(1)
            },
            u128::from,
        );
        if rate == 0 {
            return;
        }
        let gap = Duration::from_nanos((len as u128 * 1_000_000_000 / rate) as u64);
        // Let up to a millisecond of credit accumulate, so pacing never starves the link.
        let floor = now - Duration::from_millis(1);
        self.pace_at = self.pace_at.max(floor) + gap;
    }

    /// The options of a segment with `flags`, leaving `reserved` bytes for the layer above.
    fn build_options(
        &mut self,
        now: Instant,
        flags: TcpFlags,
        reserved: usize,
    ) -> Vec<TcpOption<'static>> {
        let mut opts = core::mem::take(&mut self.options_scratch);
        opts.clear();
        let active = self.state == TcpState::SynSent;
        if flags.contains(TcpFlags::SYN) {
            opts.push(TcpOption::MaxSegmentSize(self.our_mss));
            if self.cfg.sack && (active || self.sack_ok) {
                opts.push(TcpOption::SackPermitted);
            }
            if self.cfg.timestamps && (active || self.ts_ok) {
                let echo = if active { 0 } else { self.ts_recent };
                opts.push(TcpOption::Timestamp {
                    value: self.ts_now(now),
                    echo_reply: echo,
                });
            }
            if self.cfg.window_scaling && (active || self.ws_ok) {
                opts.push(TcpOption::NoOperation);
                opts.push(TcpOption::WindowScale(self.our_wscale));
            }
            return opts;
        }
        if self.ts_ok {
            opts.push(TcpOption::Timestamp {
                value: self.ts_now(now),
                echo_reply: self.ts_recent,
            });
        }
        if self.sack_ok && !flags.contains(TcpFlags::RST) && self.recv.has_out_of_order() {
            let mut blocks = [SackBlock { left: 0, right: 0 }; MAX_SACK_BLOCKS];
            let max = self.sack_block_room(reserved);
            let n = self.recv.sack_blocks(max, &mut blocks);
            if n > 0 {
                opts.push(TcpOption::NoOperation);
                opts.push(TcpOption::NoOperation);
                opts.push(TcpOption::sack(&blocks[..n]));
            }
        }
        opts
    }

    /// The window to advertise, scaled, with receiver-side SWS avoidance (RFC 9293
    /// §3.8.6.2.2): the right edge moves only by at least min(buffer/2, MSS), and never back.
    fn advertise_window(&mut self, syn: bool, hooks: &dyn SegmentHooks) -> u16 {
        let rcv_nxt = self.recv.rcv_nxt();
        let free = hooks
            .receive_window()
            .map_or(self.recv.window(), |w| w.min(self.recv.window()));
        let current = (self.rcv_adv.diff(rcv_nxt).max(0) as usize).min(free);
        let threshold = (self.recv.capacity() / 2).min(self.mss);
        let wnd = if free >= current + threshold {
            free
        } else {
            current
        };
        if syn {
            let value = wnd.min(65_535);
            self.rcv_adv = rcv_nxt + value as u32;
            return value as u16;
        }
        let value = (wnd >> self.rcv_wscale).min(65_535);
        self.rcv_adv = rcv_nxt + ((value << self.rcv_wscale) as u32);
        value as u16
    }

    /// Writes one segment: `len` payload bytes from `offset` of the send buffer (fewer if
    /// the options or `buf` leave less room; a FIN is dropped then). The payload length
    /// written is left in `last_payload`.
    #[allow(clippy::too_many_arguments)]
    fn segment(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        hooks: &mut dyn SegmentHooks,
        seq: SeqNum,
        mut flags: TcpFlags,
        offset: usize,
        len: usize,
    ) -> Option<usize> {
        let reserved = hooks.option_space(flags, len > 0).min(MAX_OPTIONS_LEN);
        let mut opts = self.build_options(now, flags, reserved);
        let own = tcp_options_len(&opts);
        let header = TCP_HEADER_LEN + own + reserved;
        if buf.len() < header {
            self.options_scratch = opts;
            return None;
        }
        let room = self
            .mss
            .saturating_sub(own + reserved)
            .min(buf.len() - header);
        let mut payload = len.min(room);
        if payload < len {
            flags.set(TcpFlags::FIN, false);
        }
        hooks.add_options(
            &OutgoingSegment {
                flags,
                seq,
                len: payload,
                iss: self.iss,
            },
            MAX_OPTIONS_LEN.saturating_sub(own),
            &mut opts,
        );
        let header = TCP_HEADER_LEN + tcp_options_len(&opts);
        payload = payload.min(buf.len().saturating_sub(header));
        payload = self
            .send_buf
            .read_at(offset, &mut buf[header..header + payload]);
        let syn = flags.contains(TcpFlags::SYN);
        let ack = flags.contains(TcpFlags::ACK);
        let window = if flags.contains(TcpFlags::RST) {
            0
        } else {
            self.advertise_window(syn, hooks)
        };
        let repr = TcpRepr {
            src_port: self.local.port(),
            dst_port: self.remote.port(),
            seq_number: seq,
            ack_number: if ack { self.recv.rcv_nxt() } else { SeqNum(0) },
            flags,
            window_len: window,
            urgent_at: 0,
            options: opts,
            payload: &[],
        };
        let total = repr.header_len() + payload;
        repr.emit(
            &mut TcpPacket::new_unchecked(&mut buf[..total]),
            self.local.ip(),
            self.remote.ip(),
        );
        self.options_scratch = repr.options;
        if ack {
            self.last_ack_sent = self.recv.rcv_nxt();
            self.ack_now = false;
            self.delack_at = None;
            self.unacked_segs = 0;
        }
        self.last_payload = payload;
        Some(total)
    }

    /// RFC 8985 §7.2: arm the probe timeout after new data went out or an ACK advanced.
    pub(crate) fn arm_tlp(&mut self, now: Instant) {
        self.tlp_at = None;
        if !self.sack_ok || self.recovery.is_some() || self.sb.is_empty() || self.tlp_done {
            return;
        }
        let Some(srtt) = self.rtt.srtt() else {
            return;
        };
        let mut pto = srtt * 2;
        if self.sb.len() == 1 {
            pto += WC_DEL_ACK;
        }
        let at = now + pto;
        self.tlp_at = Some(self.rto_at.map_or(at, |rto| rto.min(at)));
    }
}
