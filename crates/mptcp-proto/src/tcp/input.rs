//! Segment arrival (RFC 9293 §3.10.7), with the RFC 5961 checks against blind attacks, PAWS
//! (RFC 7323 §5), SACK processing and loss detection (RFC 6675, RFC 8985).

use core::time::Duration;

use super::connection::{TcpConnection, default_peer_mss};
use super::prr::Prr;
use super::state::{CloseReason, TcpEvent, TcpState};
use crate::cc::{AckEvent, CongestionEvent};
use crate::time::Instant;
use crate::wire::{SeqNum, TcpFlags, TcpRepr};

/// RFC 6675 §2 DupThresh, for peers without SACK (RFC 5681 §3.2 fast retransmit).
const DUP_THRESH: u32 = 3;
/// Echoed timestamps older than this (ms; the largest RTO) are not round-trip samples.
const MAX_ECHO_AGE_MS: u32 = 60_000;

impl TcpConnection {
    /// Takes the peer's SYN: its ISN and options (RFC 9293 §3.7.1 MSS, RFC 7323 §2.2 window
    /// scale and §3.2 timestamps, RFC 2018 §2 SACK-permitted).
    pub(crate) fn on_peer_syn(&mut self, now: Instant, syn: &TcpRepr<'_>) {
        self.irs = syn.seq_number;
        self.recv.reset(syn.seq_number + 1);
        self.rcv_adv = self.recv.rcv_nxt();
        let peer_mss = syn.mss().map_or(default_peer_mss(self.remote), usize::from);
        self.mss = peer_mss.min(usize::from(self.our_mss)).max(64);
        if let (true, Some(shift)) = (self.cfg.window_scaling, syn.window_scale()) {
            self.ws_ok = true;
            // RFC 7323 §2.3: a shift above 14 is used as 14.
            self.snd_wscale = shift.min(14);
            self.rcv_wscale = self.our_wscale;
        }
        self.sack_ok = self.cfg.sack && syn.sack_permitted();
        if let (true, Some((tsval, _))) = (self.cfg.timestamps, syn.timestamp()) {
            self.ts_ok = true;
            self.ts_recent = tsval;
        }
        // RFC 7323 §2.2: the window of a SYN is never scaled.
        self.snd_wnd = usize::from(syn.window_len);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = syn.seq_number;
        self.snd_wl2 = syn.ack_number;
        self.cc = self.cfg.congestion_control.build(now, self.smss());
        self.last_rx = now;
    }

    /// Processes one segment addressed to this connection. The caller has verified the
    /// checksum and matched the 4-tuple.
    ///
    /// Returns whether TCP accepted the segment: its sequence number is acceptable (RFC 9293
    /// §3.10.7.4, PAWS of RFC 7323 §5), and its ACK too (RFC 5961 §5.2), or it is a RST that
    /// reset the connection (RFC 5961 §3.2: at exactly RCV.NXT; in SYN-SENT, acknowledging
    /// our SYN), or the SYN/ACK answering ours. A layer above acts on the options of
    /// accepted segments only (RFC 8684 §5: an off-path attacker who knows the 4-tuple but
    /// not the sequence numbers must not be able to steer the connection).
    pub fn handle_segment(&mut self, now: Instant, seg: &TcpRepr<'_>) -> bool {
        self.stats.segments_in += 1;
        let accepted = match self.state {
            TcpState::Closed => return false,
            TcpState::SynSent => self.input_syn_sent(now, seg),
            _ => self.input_synchronized(now, seg),
        };
        self.update_timers(now);
        accepted
    }

    /// RFC 9293 §3.10.7.3: SYN-SENT.
    fn input_syn_sent(&mut self, now: Instant, seg: &TcpRepr<'_>) -> bool {
        let flags = seg.flags;
        let has_ack = flags.contains(TcpFlags::ACK);
        if has_ack && (seg.ack_number <= self.iss || seg.ack_number > self.snd_nxt) {
            if !flags.contains(TcpFlags::RST) {
                self.reply_rst = Some(seg.ack_number);
            }
            return false;
        }
        if flags.contains(TcpFlags::RST) {
            // RFC 5961 §3.2 leaves SYN-SENT as RFC 9293 has it: a RST is acceptable when it
            // acknowledges our SYN.
            if has_ack {
                self.set_closed(CloseReason::Refused);
            }
            return has_ack;
        }
        if !flags.contains(TcpFlags::SYN) {
            return false;
        }
        self.on_peer_syn(now, seg);
        if has_ack {
            self.syn_acked(now, seg.ack_number);
            self.ack_now = true;
        } else {
            // Simultaneous open: SYN-RECEIVED, our SYN goes again with an ACK.
            self.state = TcpState::SynReceived;
            self.syn_pending = true;
        }
        true
    }

    /// Our SYN was acknowledged by `ack`: the connection is established.
    fn syn_acked(&mut self, now: Instant, ack: SeqNum) {
        if self.syn_retransmits == 0 {
            if let Some(sent) = self.syn_sent_at {
                self.rtt.on_sample(now - sent);
            }
        }
        self.snd_una = ack;
        self.syn_pending = false;
        self.rto_at = None;
        self.rtt.reset_backoff();
        self.state = if self.fin_queued {
            TcpState::FinWait1
        } else {
            TcpState::Established
        };
        self.events.push_back(TcpEvent::Connected);
        if let Some(idle) = self.cfg.keepalive {
            self.keepalive_at = Some(now + idle);
        }
    }

    /// RFC 9293 §3.10.7.4: every state after SYN-SENT.
    fn input_synchronized(&mut self, now: Instant, seg: &TcpRepr<'_>) -> bool {
        let flags = seg.flags;
        let seq = seg.seq_number;
        if self.state == TcpState::SynReceived && flags.contains(TcpFlags::SYN) && seq == self.irs {
            if flags.contains(TcpFlags::ACK) && seg.ack_number == self.snd_nxt {
                // Simultaneous open: the peer's SYN/ACK acknowledges our SYN.
                self.syn_acked(now, seg.ack_number);
                self.ack_now = true;
                return true;
            }
            if !flags.contains(TcpFlags::ACK) {
                // The peer retransmitted its SYN: our SYN/ACK was lost.
                self.syn_pending = true;
            }
            return false;
        }
        // RFC 7323 §5.3 (PAWS): drop a segment whose TSval is older than TS.Recent.
        let tsval = seg.timestamp().map(|(value, _)| value);
        if self.ts_ok && !flags.contains(TcpFlags::RST) {
            if let Some(tsval) = tsval {
                if (tsval.wrapping_sub(self.ts_recent) as i32) < 0 {
                    self.ack_now = true;
                    return false;
                }
            }
        }
        if !self.acceptable(seq, seg.seq_len()) {
            if !flags.contains(TcpFlags::RST) {
                self.ack_now = true;
            }
            return false;
        }
        self.last_rx = now;
        self.keepalive_sent = 0;
        if let Some(idle) = self.cfg.keepalive {
            self.keepalive_at = Some(now + idle);
        }
        if flags.contains(TcpFlags::RST) {
            // RFC 5961 §3.2: only a RST at exactly RCV.NXT resets; any other in-window RST
            // gets a challenge ACK.
            if seq == self.recv.rcv_nxt() {
                self.set_closed(CloseReason::Reset);
                return true;
            }
            self.ack_now = true;
            return false;
        }
        if flags.contains(TcpFlags::SYN) {
            // RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK.
            self.ack_now = true;
            return false;
        }
        if !flags.contains(TcpFlags::ACK) {
            return false;
        }
        // RFC 7323 §4.3: remember the peer's timestamp of the segment that fills RCV.NXT.
        if let (true, Some(tsval)) = (self.ts_ok, tsval) {
            if seq <= self.last_ack_sent && (tsval.wrapping_sub(self.ts_recent) as i32) >= 0 {
                self.ts_recent = tsval;
            }
        }
        let ack = seg.ack_number;
        if self.state == TcpState::SynReceived {
            if ack > self.snd_una && ack <= self.snd_nxt {
                self.syn_acked(now, ack);
                self.snd_wnd = usize::from(seg.window_len) << self.snd_wscale;
                self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
                self.snd_wl1 = seq;
                self.snd_wl2 = ack;
            } else {
                self.reply_rst = Some(ack);
                return false;
            }
        }
        // RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT].
        if ack > self.snd_nxt {
            self.ack_now = true;
            return false;
        }
        if i64::from(ack.diff(self.snd_una)) < -(self.max_snd_wnd.max(1) as i64) {
            self.ack_now = true;
            return false;
        }
        self.process_ack(now, seg);
        if self.state == TcpState::Closed
            || (self.state == TcpState::TimeWait && !flags.contains(TcpFlags::FIN))
        {
            return true;
        }
        self.process_data(now, seg);
        true
    }

    /// RFC 9293 §3.10.7.4 "first: check sequence number": whether any of the segment lies
    /// in the receive window (with the zero-window allowance for ACKs and RSTs).
    fn acceptable(&self, seq: SeqNum, len: usize) -> bool {
        let rcv_nxt = self.recv.rcv_nxt();
        let wnd = self.recv.window() as i64;
        let in_window = |s: SeqNum| {
            let off = i64::from(s.diff(rcv_nxt));
            off >= 0 && off < wnd
        };
        match (len, wnd) {
            (0, 0) => seq == rcv_nxt,
            (0, _) => in_window(seq),
            // Zero window: accept the segment for its ACK and RST only; data is trimmed.
            (_, 0) => seq == rcv_nxt,
            _ => in_window(seq) || in_window(seq + (len as u32 - 1)),
        }
    }

    /// ACK processing (RFC 9293 §3.10.7.4 "fifth"), SACK (RFC 2018, RFC 6675 §5), RTT
    /// (RFC 6298), congestion control (RFC 5681) and loss detection (RFC 8985).
    fn process_ack(&mut self, now: Instant, seg: &TcpRepr<'_>) {
        let ack = seg.ack_number;
        let advanced = ack > self.snd_una;
        let min_rtt = self.rtt.min_rtt();
        let mut delivered = 0usize;
        let mut newest_clean: Option<Instant> = None;
        let mut app_limited = false;
        {
            let rack = &mut self.rack;
            let mut visit = |s: &super::scoreboard::Sent| {
                delivered += s.len as usize;
                app_limited |= s.app_limited;
                rack.on_delivered(s, now, min_rtt);
                if s.retrans == 0 && newest_clean.is_none_or(|t| s.sent_at > t) {
                    newest_clean = Some(s.sent_at);
                }
            };
            if self.sack_ok {
                let blocks = seg.sack_blocks();
                if !blocks.is_empty() {
                    self.sb.sack(blocks, &mut visit);
                }
            }
            if advanced {
                self.sb.ack(ack, &mut visit);
            }
        }
        if advanced {
            let acked = ack.diff(self.snd_una) as u64;
            let start = self.data_start();
            let to = ack.min(self.data_end());
            if to > start {
                self.send_buf.consume(to.diff(start) as usize);
            }
            self.snd_una = ack;
            self.stats.bytes_acked += acked;
            self.rtt.reset_backoff();
            self.tlp_done = false;
            self.persist_backoff = 0;
            if let Some(recovery) = self.recovery {
                if !self.sack_ok && ack < recovery {
                    // RFC 6582 §3.2 step 5: a partial ACK; the next hole is lost too.
                    self.sb.mark_lost(0);
                }
            }
            self.dupacks = 0;
            self.rto_at = (!self.sb.is_empty()).then(|| now + self.rtt.rto());
            if self.writable_wanted && self.send_buf.free() > 0 && self.state.can_send() {
                self.writable_wanted = false;
                self.events.push_back(TcpEvent::Writable);
            }
        } else if !self.sack_ok
            && seg.payload.is_empty()
            && !self.sb.is_empty()
            && (usize::from(seg.window_len) << self.snd_wscale) == self.snd_wnd
        {
            // RFC 5681 §3.2: duplicate ACKs without SACK.
            self.dupacks += 1;
            if self.dupacks == DUP_THRESH && self.sb.mark_lost(0) {
                let sent_at = self.sb.get(0).map_or(now, |s| s.sent_at);
                self.enter_recovery(now, sent_at);
            }
        }
        let rtt_sample = newest_clean.map(|t| now - t);
        if let Some(sample) = rtt_sample {
            self.rtt.on_sample(sample);
        }
        if delivered > 0 {
            let event = AckEvent {
                bytes_acked: delivered,
                rtt_sample,
                app_limited,
            };
            self.cc_call(|cc, ctx| cc.on_ack(now, &event, ctx));
        }
        let in_prr = self.prr.is_some();
        if self.sack_ok && delivered > 0 {
            self.detect_loss(now);
        }
        if let Some(recovery) = self.recovery {
            if self.snd_una >= recovery {
                self.recovery = None;
                self.prr = None;
                self.cc_call(|cc, ctx| cc.on_recovery_end(now, ctx));
            }
        }
        if let Some(prr) = &mut self.prr {
            if !in_prr {
                // This ACK started recovery: what it delivered was part of the flight then.
                prr.add_to_recover_fs(delivered);
            }
            // RFC 6937 §3: every ACK during recovery (not the one that ends it) sets sndcnt.
            // The controller cut its window to ssthresh when recovery started.
            prr.on_ack(delivered, self.sb.in_flight(), self.cc.window(), self.mss);
        }
        if advanced {
            self.arm_tlp(now);
        }
        // RFC 9293 §3.10.7.4: update the send window from the newest segment.
        let seq = seg.seq_number;
        if self.snd_wl1 < seq || (self.snd_wl1 == seq && self.snd_wl2 <= ack) {
            self.snd_wnd = usize::from(seg.window_len) << self.snd_wscale;
            self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
        }
        if self.fin_acked() {
            match self.state {
                TcpState::FinWait1 => self.state = TcpState::FinWait2,
                TcpState::Closing => self.enter_time_wait(now),
                TcpState::LastAck => self.set_closed(CloseReason::Normal),
                _ => {}
            }
        }
    }

    /// RACK loss detection (RFC 8985 §6.2 step 5); enters recovery on a new loss.
    pub(crate) fn detect_loss(&mut self, now: Instant) {
        let srtt = self.rtt.srtt().unwrap_or(Duration::from_secs(1));
        let found = self.rack.detect_loss(
            &mut self.sb,
            now,
            self.recovery.is_some(),
            self.rtt.min_rtt(),
            srtt,
        );
        self.rack_at = found.recheck_in.map(|d| now + d);
        if let Some(sent_at) = found.lost_sent_at {
            self.enter_recovery(now, sent_at);
        }
    }

    /// RFC 6675 §5 step 4: enter loss recovery (once per window), cut the window, and
    /// retransmit the first lost segment at once; from then on Proportional Rate Reduction
    /// (RFC 6937 §3) decides how much may be sent.
    pub(crate) fn enter_recovery(&mut self, now: Instant, sent_at: Instant) {
        if self.recovery.is_some() {
            return;
        }
        self.recovery = Some(self.snd_nxt);
        self.fast_retransmit = true;
        self.tlp_at = None;
        // RecoverFS: every byte not yet delivered, the ones just marked lost included.
        self.prr = Some(Prr::new(self.sb.outstanding() - self.sb.sacked_bytes()));
        self.cc_call(|cc, ctx| cc.on_congestion_event(now, CongestionEvent::Loss { sent_at }, ctx));
    }

    /// Data and FIN (RFC 9293 §3.10.7.4 "seventh" and "eighth").
    fn process_data(&mut self, now: Instant, seg: &TcpRepr<'_>) {
        let seq = seg.seq_number;
        if !seg.payload.is_empty() {
            if matches!(
                self.state,
                TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2
            ) {
                if self.app_closed {
                    // Nobody will read it: reset, as Linux does for data after close().
                    self.abort_rst = true;
                    self.set_closed(CloseReason::Aborted);
                    return;
                }
                if let (true, Some((_, echo))) = (self.ts_ok, seg.timestamp()) {
                    if echo != 0 {
                        let elapsed = self.ts_now(now).wrapping_sub(echo);
                        // A stale or forged echo far in the past says nothing of the path.
                        if elapsed < MAX_ECHO_AGE_MS {
                            self.rcv_rtt
                                .on_echo(Duration::from_millis(u64::from(elapsed)));
                        }
                    }
                }
                let before = self.recv.rcv_nxt();
                let out = self.recv.write(seq, seg.payload);
                if out.advanced > 0 {
                    self.stats.bytes_received += out.advanced as u64;
                    if !self.readable_signalled {
                        self.readable_signalled = true;
                        self.events.push_back(TcpEvent::Readable);
                    }
                }
                let whole = out.advanced >= seg.payload.len() && seq == before;
                if out.out_of_order || out.filled_hole || !whole {
                    // RFC 5681 §4.2: ACK out-of-order and hole-filling segments at once.
                    self.ack_now = true;
                } else {
                    self.unacked_segs += 1;
                    if self.unacked_segs >= 2 || self.cfg.delayed_ack.is_zero() {
                        self.ack_now = true;
                    } else if self.delack_at.is_none() {
                        self.delack_at = Some(now + self.cfg.delayed_ack);
                    }
                }
            } else {
                self.ack_now = true;
            }
        }
        if seg.flags.contains(TcpFlags::FIN) {
            let fin = seq + seg.payload.len() as u32;
            if self.fin_received {
                // A retransmitted FIN: acknowledge again; TIME-WAIT restarts (RFC 9293).
                self.ack_now = true;
                if self.state == TcpState::TimeWait {
                    self.time_wait_at = Some(now + self.cfg.time_wait);
                }
            } else if self.peer_fin.is_none() {
                self.peer_fin = Some(fin);
            }
        }
        self.take_peer_fin(now);
    }

    /// Consumes the peer's FIN once every byte before it has arrived.
    fn take_peer_fin(&mut self, now: Instant) {
        if self.fin_received || self.peer_fin != Some(self.recv.rcv_nxt()) {
            return;
        }
        self.recv.advance_control();
        self.fin_received = true;
        self.ack_now = true;
        self.events.push_back(TcpEvent::PeerClosed);
        match self.state {
            TcpState::SynReceived | TcpState::Established => self.state = TcpState::CloseWait,
            TcpState::FinWait1 => self.state = TcpState::Closing,
            TcpState::FinWait2 => self.enter_time_wait(now),
            _ => {}
        }
    }

    /// RFC 9293 §3.10.7.4: TIME-WAIT for 2·MSL.
    pub(crate) fn enter_time_wait(&mut self, now: Instant) {
        self.state = TcpState::TimeWait;
        self.time_wait_at = Some(now + self.cfg.time_wait);
        self.rto_at = None;
        self.tlp_at = None;
        self.rack_at = None;
        self.persist_at = None;
        self.keepalive_at = None;
    }
}
