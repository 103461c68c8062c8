//! One TCP connection: the state, the sequence spaces, the buffers and the loss-recovery
//! machinery, with the application calls. Segment input lives in `input.rs`, output in
//! `output.rs`, timers in `timers.rs`.

use core::net::SocketAddr;
use core::time::Duration;
use std::collections::VecDeque;
use std::sync::Arc;

use super::autotune::{Autotune, TuneRtts};
use super::config::TcpConfig;
use super::prr::Prr;
use super::rack::Rack;
use super::recv_buffer::RecvBuffer;
use super::ring::ByteRing;
use super::rtt::{ReceiverRtt, RttEstimator};
use super::scoreboard::Scoreboard;
use super::state::{CloseReason, TcpEvent, TcpState};
use crate::cc::{CcContext, CongestionController, CongestionControllerFactory, SiblingView};
use crate::time::Instant;
use crate::wire::{SeqNum, TcpOption};

/// RFC 9293 §3.7.1: the MSS to assume when the peer sends none (IPv4 536, IPv6 1220).
pub(crate) fn default_peer_mss(remote: SocketAddr) -> usize {
    if remote.is_ipv4() { 536 } else { 1220 }
}

/// Largest window scale shift (RFC 7323 §2.3).
const MAX_WSCALE: u8 = 14;

/// What identifies a new connection and what the owner chose for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionParams {
    /// Our address and port.
    pub local: SocketAddr,
    /// The peer's address and port.
    pub remote: SocketAddr,
    /// Initial send sequence number (RFC 9293 §3.4.1), from the owner's random generator.
    pub iss: SeqNum,
    /// Random offset of our timestamp clock (RFC 7323 §5.4).
    pub ts_offset: u32,
    /// The MSS we announce: the interface MTU minus IP and TCP headers, or the configured one.
    pub mss: u16,
}

/// Counters of one connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    pub(crate) bytes_sent: u64,
    pub(crate) bytes_retransmitted: u64,
    pub(crate) bytes_acked: u64,
    pub(crate) bytes_received: u64,
    pub(crate) retransmits: u64,
    pub(crate) timeouts: u64,
    pub(crate) segments_in: u64,
    pub(crate) segments_out: u64,
}

/// A probe the timers asked the output to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    /// RFC 8985 §7.3: tail loss probe.
    Tlp,
    /// RFC 9293 §3.8.6.1: zero-window probe.
    Persist,
    /// RFC 9293 §3.8.4: keep-alive.
    Keepalive,
}

/// A snapshot of a connection's state and counters (like Linux `TCP_INFO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfo {
    /// State.
    pub state: TcpState,
    /// Smoothed RTT (RFC 6298).
    pub srtt: Option<Duration>,
    /// RTT variation (RFC 6298).
    pub rttvar: Duration,
    /// Smallest RTT seen.
    pub min_rtt: Option<Duration>,
    /// Current retransmission timeout, backoff included.
    pub rto: Duration,
    /// Congestion window, bytes.
    pub cwnd: usize,
    /// Slow-start threshold, bytes (`usize::MAX` while unset).
    pub ssthresh: usize,
    /// Bytes in flight (RFC 6675 pipe).
    pub bytes_in_flight: usize,
    /// Payload bytes sent, retransmissions included.
    pub bytes_sent: u64,
    /// Payload bytes retransmitted.
    pub bytes_retransmitted: u64,
    /// Bytes of our sequence space the peer acknowledged.
    pub bytes_acked: u64,
    /// Payload bytes received in order.
    pub bytes_received: u64,
    /// Segments retransmitted.
    pub retransmits: u64,
    /// Retransmission timeouts.
    pub timeouts: u64,
    /// Segments received / sent.
    pub segments_in: u64,
    /// Segments sent.
    pub segments_out: u64,
    /// The peer's receive window, bytes.
    pub snd_wnd: usize,
    /// Our receive window (free space in the receive buffer), bytes.
    pub rcv_wnd: usize,
    /// Receive buffer size (grows with auto-tuning).
    pub rcv_buffer: usize,
    /// Payload bytes per segment (without options).
    pub mss: usize,
    /// SACK negotiated (RFC 2018).
    pub sack: bool,
    /// Timestamps negotiated (RFC 7323).
    pub timestamps: bool,
    /// Window scale shifts (ours, the peer's), if negotiated (RFC 7323 §2).
    pub wscale: Option<(u8, u8)>,
    /// Its congestion controller's name (what Linux's `TCP_CONGESTION` and `ss -i` show).
    pub congestion_control: &'static str,
}

/// One TCP connection, sans I/O: segments in ([`handle_segment`]), segments out
/// ([`poll_transmit`]), timers ([`handle_timeout`], [`poll_timeout`]), events
/// ([`poll_event`]) and the application calls. It owns every per-path thing: RTT, congestion
/// window, loss recovery, pacing. The [`Stack`](crate::stack::Stack) demultiplexes packets to
/// it; the MPTCP layer will drive it as a subflow.
///
/// [`handle_segment`]: TcpConnection::handle_segment
/// [`poll_transmit`]: TcpConnection::poll_transmit
/// [`handle_timeout`]: TcpConnection::handle_timeout
/// [`poll_timeout`]: TcpConnection::poll_timeout
/// [`poll_event`]: TcpConnection::poll_event
#[derive(Debug)]
pub struct TcpConnection {
    pub(crate) cfg: TcpConfig,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) state: TcpState,
    // Send sequence space (RFC 9293 §3.3.1).
    pub(crate) iss: SeqNum,
    pub(crate) snd_una: SeqNum,
    pub(crate) snd_nxt: SeqNum,
    pub(crate) snd_wnd: usize,
    pub(crate) max_snd_wnd: usize,
    /// End of the last segment sent shorter than a full segment, for Nagle's algorithm in
    /// Minshall's form: only one small segment may be unacknowledged at a time.
    pub(crate) small_segment_end: Option<SeqNum>,
    pub(crate) snd_wl1: SeqNum,
    pub(crate) snd_wl2: SeqNum,
    pub(crate) send_buf: ByteRing,
    /// The application shut down its sending side: FIN follows the queued data.
    pub(crate) fin_queued: bool,
    /// Sequence number of our FIN, once sent.
    pub(crate) fin_seq: Option<SeqNum>,
    // Receive sequence space.
    pub(crate) irs: SeqNum,
    pub(crate) recv: RecvBuffer,
    /// Right edge of the window last advertised.
    pub(crate) rcv_adv: SeqNum,
    /// Sequence number of the peer's FIN, once seen.
    pub(crate) peer_fin: Option<SeqNum>,
    pub(crate) fin_received: bool,
    // Negotiated options.
    pub(crate) our_mss: u16,
    pub(crate) mss: usize,
    pub(crate) our_wscale: u8,
    pub(crate) snd_wscale: u8,
    pub(crate) rcv_wscale: u8,
    pub(crate) ws_ok: bool,
    pub(crate) sack_ok: bool,
    pub(crate) ts_ok: bool,
    pub(crate) ts_offset: u32,
    pub(crate) ts_recent: u32,
    pub(crate) last_ack_sent: SeqNum,
    // Loss recovery and congestion control.
    pub(crate) sb: Scoreboard,
    pub(crate) rtt: RttEstimator,
    /// The round trip as the receiver sees it (timestamps echoed on data).
    pub(crate) rcv_rtt: ReceiverRtt,
    pub(crate) rack: Rack,
    pub(crate) cc: Box<dyn CongestionController>,
    /// The other subflows of its MPTCP connection, for a coupled controller (kept current
    /// by the connection before each input; empty otherwise).
    pub(crate) siblings: Vec<SiblingView>,
    /// Recovery point (RFC 6675 §5 RecoveryPoint) while in fast or RTO recovery.
    pub(crate) recovery: Option<SeqNum>,
    /// Proportional Rate Reduction (RFC 6937) while in fast recovery (not after a timeout).
    pub(crate) prr: Option<Prr>,
    pub(crate) dupacks: u32,
    pub(crate) syn_sent_at: Option<Instant>,
    pub(crate) syn_retransmits: u32,
    // Timers.
    pub(crate) rto_at: Option<Instant>,
    pub(crate) tlp_at: Option<Instant>,
    pub(crate) tlp_done: bool,
    pub(crate) rack_at: Option<Instant>,
    pub(crate) delack_at: Option<Instant>,
    pub(crate) persist_at: Option<Instant>,
    pub(crate) persist_backoff: u32,
    pub(crate) keepalive_at: Option<Instant>,
    pub(crate) keepalive_sent: u32,
    pub(crate) time_wait_at: Option<Instant>,
    pub(crate) pace_at: Instant,
    // Output requests.
    pub(crate) syn_pending: bool,
    pub(crate) ack_now: bool,
    pub(crate) unacked_segs: u32,
    pub(crate) reply_rst: Option<SeqNum>,
    pub(crate) abort_rst: bool,
    pub(crate) probe: Option<Probe>,
    /// RFC 6675 §5 step 4.3: retransmit the first lost segment regardless of the window.
    pub(crate) fast_retransmit: bool,
    /// Output held back by pacing (so `poll_timeout` reports the pacing deadline).
    pub(crate) pacing_blocked: bool,
    /// Payload length of the last segment written.
    pub(crate) last_payload: usize,
    /// Last time an acceptable segment arrived (keep-alive idleness).
    pub(crate) last_rx: Instant,
    // Receive-buffer auto-tuning (a measured RTT's worth of application reads).
    pub(crate) tune: Autotune,
    // Events.
    pub(crate) events: VecDeque<TcpEvent>,
    pub(crate) readable_signalled: bool,
    pub(crate) writable_wanted: bool,
    pub(crate) app_closed: bool,
    pub(crate) close_reason: Option<CloseReason>,
    pub(crate) stats: Stats,
    pub(crate) options_scratch: Vec<TcpOption<'static>>,
}

/// The window scale we offer (RFC 7323 §2.3): the smallest shift that lets the largest
/// receive buffer be advertised.
pub(crate) fn our_window_scale(cfg: &TcpConfig) -> u8 {
    let mut shift = 0;
    while shift < MAX_WSCALE && (cfg.recv_buffer_max >> shift) > 65_535 {
        shift += 1;
    }
    shift
}

/// Our timestamp clock (RFC 7323 §5.4: milliseconds) at `now`, with a connection's offset.
pub(crate) fn ts_clock(now: Instant, offset: u32) -> u32 {
    ((now.as_nanos() / 1_000_000) as u32).wrapping_add(offset)
}

/// The window of our SYN or SYN/ACK (never scaled, RFC 7323 §2.2): the initial receive
/// buffer.
pub(crate) fn initial_window(cfg: &TcpConfig) -> u16 {
    cfg.recv_buffer
        .clamp(1, cfg.recv_buffer_max.max(1))
        .min(65_535) as u16
}

impl TcpConnection {
    fn new(now: Instant, cfg: &TcpConfig, params: ConnectionParams, state: TcpState) -> Self {
        let our_wscale = our_window_scale(cfg);
        let mss = usize::from(params.mss).max(64);
        Self {
            cfg: cfg.clone(),
            local: params.local,
            remote: params.remote,
            state,
            iss: params.iss,
            snd_una: params.iss,
            snd_nxt: params.iss + 1,
            snd_wnd: 0,
            max_snd_wnd: 0,
            small_segment_end: None,
            snd_wl1: SeqNum(0),
            snd_wl2: SeqNum(0),
            send_buf: ByteRing::new(cfg.send_buffer.max(1)),
            fin_queued: false,
            fin_seq: None,
            irs: SeqNum(0),
            recv: RecvBuffer::new(
                cfg.recv_buffer.clamp(1, cfg.recv_buffer_max.max(1)),
                SeqNum(0),
            ),
            rcv_adv: SeqNum(0),
            peer_fin: None,
            fin_received: false,
            our_mss: params.mss,
            mss,
            our_wscale,
            snd_wscale: 0,
            rcv_wscale: 0,
            ws_ok: false,
            sack_ok: false,
            ts_ok: false,
            ts_offset: params.ts_offset,
            ts_recent: 0,
            last_ack_sent: SeqNum(0),
            sb: Scoreboard::default(),
            rtt: RttEstimator::new(cfg.initial_rto, cfg.min_rto, cfg.max_rto),
            rcv_rtt: ReceiverRtt::default(),
            rack: Rack::default(),
            cc: cfg.congestion_control.build(now, mss),
            recovery: None,
            prr: None,
            dupacks: 0,
            syn_sent_at: None,
            syn_retransmits: 0,
            rto_at: None,
            tlp_at: None,
            tlp_done: false,
            rack_at: None,
            delack_at: None,
            persist_at: None,
            persist_backoff: 0,
            keepalive_at: None,
            keepalive_sent: 0,
            time_wait_at: None,
            pace_at: now,
            syn_pending: true,
            ack_now: false,
            siblings: Vec::new(),
            unacked_segs: 0,
            reply_rst: None,
            abort_rst: false,
            probe: None,
            fast_retransmit: false,
            pacing_blocked: false,
            last_payload: 0,
            last_rx: now,
            tune: Autotune::default(),
            events: VecDeque::new(),
            readable_signalled: false,
            writable_wanted: false,
            app_closed: false,
            close_reason: None,
            stats: Stats::default(),
            options_scratch: Vec::with_capacity(8),
        }
    }

    /// Active open (RFC 9293 §3.10.1): a connection in SYN-SENT whose SYN is ready to send.
    pub fn connect(now: Instant, cfg: &TcpConfig, params: ConnectionParams) -> Self {
        Self::new(now, cfg, params, TcpState::SynSent)
    }

    /// Passive open: a listener received `syn` (RFC 9293 §3.10.7.2); the connection is in
    /// SYN-RECEIVED with its SYN/ACK ready to send.
    pub fn accept(
        now: Instant,
        cfg: &TcpConfig,
        params: ConnectionParams,
        syn: &crate::wire::TcpRepr<'_>,
    ) -> Self {
        let mut conn = Self::new(now, cfg, params, TcpState::SynReceived);
        conn.on_peer_syn(now, syn);
        conn.stats.segments_in += 1;
        conn
    }

    /// Our address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.remote
    }

    /// The current state.
    pub fn state(&self) -> TcpState {
        self.state
    }

    /// Whether the connection is closed and has nothing left to send: its owner may drop it.
    pub fn is_finished(&self) -> bool {
        self.state == TcpState::Closed && !self.abort_rst && self.events.is_empty()
    }

    /// Why the connection closed, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close_reason
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<TcpEvent> {
        self.events.pop_front()
    }

    /// Bytes of the send buffer not yet acknowledged.
    pub fn send_queue_len(&self) -> usize {
        self.send_buf.len()
    }

    /// In-order bytes waiting to be read.
    pub fn recv_queue_len(&self) -> usize {
        self.recv.readable()
    }

    /// Whether the peer's FIN was received and every byte before it read.
    pub fn at_eof(&self) -> bool {
        self.fin_received && self.recv.readable() == 0
    }

    /// Copies as much of `data` as fits into the send buffer (RFC 9293 §3.10.2 SEND);
    /// returns how much. `None` when the sending side is closed.
    pub fn send(&mut self, data: &[u8]) -> Option<usize> {
        if !self.state.can_send() || self.fin_queued {
            return None;
        }
        let n = self.send_buf.push(data);
        if n < data.len() {
            self.writable_wanted = true;
        }
        Some(n)
    }

    /// Send-buffer auto-tuning for a connection fed by a layer above (after Linux's
    /// `tcp_sndbuf_expand`): the buffer grows towards two congestion windows — what is in
    /// flight plus as much queued behind it — by at least half its size at a time, up to
    /// `max` bytes. It never shrinks.
    pub(crate) fn expand_send_buffer(&mut self, max: usize) {
        let capacity = self.send_buf.capacity();
        let want = self.cc.window().saturating_mul(2).min(max);
        if want > capacity {
            self.send_buf
                .grow(want.max(capacity + capacity / 2).min(max));
        }
    }

    /// Copies received in-order bytes into `buf` (RFC 9293 §3.10.3 RECEIVE); returns how many.
    pub fn recv(&mut self, now: Instant, buf: &mut [u8]) -> usize {
        let n = self.recv.read(buf);
        self.readable_signalled = false;
        if n > 0 {
            self.autotune(now, n);
            self.maybe_window_update();
        }
        n
    }

    /// Takes received in-order bytes for the layer above (the MPTCP connection level),
    /// which keeps its own buffer, window and auto-tuning: unlike [`recv`](Self::recv) this
    /// neither tunes the buffer nor sends a window update.
    pub(crate) fn take_received(&mut self, buf: &mut [u8]) -> usize {
        self.recv.read(buf)
    }

    /// Half-close (RFC 9293 §3.10.4 CLOSE of the sending side): a FIN follows the data
    /// already queued. Returns false if the sending side was already closed.
    pub fn shutdown(&mut self) -> bool {
        if self.fin_queued {
            return false;
        }
        match self.state {
            TcpState::SynSent | TcpState::SynReceived => self.fin_queued = true,
            TcpState::Established => {
                self.fin_queued = true;
                self.state = TcpState::FinWait1;
            }
            TcpState::CloseWait => {
                self.fin_queued = true;
                self.state = TcpState::LastAck;
            }
            _ => return false,
        }
        true
    }

    /// Close (RFC 9293 §3.10.4): shut down sending and give the connection up to finish on
    /// its own. Unread received data makes it an abort instead (RFC 2525 §2.17).
    pub fn close(&mut self) {
        self.app_closed = true;
        if self.state == TcpState::SynSent {
            self.set_closed(CloseReason::Normal);
            return;
        }
        if self.recv.readable() > 0 {
            self.abort();
            return;
        }
        self.shutdown();
    }

    /// Abort (RFC 9293 §3.10.5): send RST and drop everything.
    pub fn abort(&mut self) {
        self.app_closed = true;
        if self.state == TcpState::Closed {
            return;
        }
        self.abort_rst = !matches!(self.state, TcpState::SynSent | TcpState::TimeWait);
        self.set_closed(CloseReason::Aborted);
    }

    /// Enters CLOSED and reports why.
    pub(crate) fn set_closed(&mut self, reason: CloseReason) {
        if self.state == TcpState::Closed {
            return;
        }
        self.state = TcpState::Closed;
        self.close_reason = Some(reason);
        self.events.push_back(TcpEvent::Closed(reason));
        self.rto_at = None;
        self.tlp_at = None;
        self.rack_at = None;
        self.delack_at = None;
        self.persist_at = None;
        self.keepalive_at = None;
        self.time_wait_at = None;
        self.syn_pending = false;
        self.probe = None;
        self.ack_now = false;
    }

    /// Replaces the congestion controller with a fresh one from `factory` (and the
    /// configuration's, for a later restart), starting from its initial state.
    pub(crate) fn set_congestion_control(
        &mut self,
        now: Instant,
        factory: &Arc<dyn CongestionControllerFactory>,
    ) {
        self.cfg.congestion_control = factory.clone();
        self.cc = factory.build(now, self.smss());
    }

    /// A snapshot of the connection (like `TCP_INFO`).
    pub fn info(&self) -> TcpInfo {
        TcpInfo {
            state: self.state,
            srtt: self.rtt.srtt(),
            rttvar: self.rtt.rttvar(),
            min_rtt: self.rtt.min_rtt(),
            rto: self.rtt.rto(),
            cwnd: self.cc.window(),
            ssthresh: self.cc.ssthresh(),
            congestion_control: self.cc.name(),
            bytes_in_flight: self.sb.in_flight(),
            bytes_sent: self.stats.bytes_sent,
            bytes_retransmitted: self.stats.bytes_retransmitted,
            bytes_acked: self.stats.bytes_acked,
            bytes_received: self.stats.bytes_received,
            retransmits: self.stats.retransmits,
            timeouts: self.stats.timeouts,
            segments_in: self.stats.segments_in,
            segments_out: self.stats.segments_out,
            snd_wnd: self.snd_wnd,
            rcv_wnd: self.recv.window(),
            rcv_buffer: self.recv.capacity(),
            mss: self.mss,
            sack: self.sack_ok,
            timestamps: self.ts_ok,
            wscale: self.ws_ok.then_some((self.rcv_wscale, self.snd_wscale)),
        }
    }

    /// Sequence number of the first byte of the send buffer.
    pub(crate) fn data_start(&self) -> SeqNum {
        if self.snd_una == self.iss {
            self.iss + 1
        } else {
            self.snd_una
        }
    }

    /// Sequence number after the last byte queued (where the FIN goes).
    pub(crate) fn data_end(&self) -> SeqNum {
        self.fin_seq
            .unwrap_or_else(|| self.data_start() + self.send_buf.len() as u32)
    }

    /// Whether our FIN has been sent.
    pub(crate) fn fin_sent(&self) -> bool {
        self.fin_seq.is_some()
    }

    /// Whether our FIN has been acknowledged.
    pub(crate) fn fin_acked(&self) -> bool {
        self.fin_seq.is_some_and(|fin| self.snd_una > fin)
    }

    /// Segment size for congestion control: payload per full segment.
    pub(crate) fn smss(&self) -> usize {
        self.mss
            .saturating_sub(if self.ts_ok { 12 } else { 0 })
            .max(1)
    }

    /// What the congestion controller may read.
    pub(crate) fn cc_context(&self) -> CcContext<'_> {
        CcContext {
            mss: self.smss(),
            srtt: self.rtt.srtt(),
            min_rtt: self.rtt.min_rtt(),
            bytes_in_flight: self.sb.outstanding(),
            siblings: &self.siblings,
        }
    }

    /// Calls the congestion controller with what it may read.
    pub(crate) fn cc_call<R>(
        &mut self,
        call: impl FnOnce(&mut dyn CongestionController, &CcContext<'_>) -> R,
    ) -> R {
        let ctx = CcContext {
            mss: self.smss(),
            srtt: self.rtt.srtt(),
            min_rtt: self.rtt.min_rtt(),
            bytes_in_flight: self.sb.outstanding(),
            siblings: &self.siblings,
        };
        call(&mut *self.cc, &ctx)
    }

    /// Our timestamp clock (RFC 7323 §5.4: 1 ms ticks, random offset).
    pub(crate) fn ts_now(&self, now: Instant) -> u32 {
        ts_clock(now, self.ts_offset)
    }

    /// The round trip the receive buffer must cover: the larger of the sender's SRTT and
    /// the receiver's estimate (a host that only receives has only the latter once queues
    /// build).
    pub(crate) fn path_rtt(&self) -> Option<Duration> {
        self.rtt.srtt().max(self.rcv_rtt.get())
    }

    /// Receive-buffer auto-tuning on an application read of `read` bytes.
    fn autotune(&mut self, now: Instant, read: usize) {
        let cap = self.recv.capacity();
        if let Some(grown) = self.tune.on_read(
            now,
            read,
            cap,
            self.cfg.recv_buffer_max,
            TuneRtts::single(self.path_rtt()),
        ) {
            self.recv.grow(grown);
        }
    }

    /// Queues a window update if reading opened the window enough that the peer should know
    /// (RFC 9293 §3.8.6.2.2: by at least min(buffer/2, MSS) beyond what was advertised).
    pub(crate) fn maybe_window_update(&mut self) {
        if !self.state.can_receive() {
            return;
        }
        let advertised = self.rcv_adv.diff(self.recv.rcv_nxt()).max(0) as usize;
        let possible = self.recv.window();
        let threshold = (self.recv.capacity() / 2).min(self.mss);
        if possible >= advertised + threshold && possible >= 2 * advertised {
            self.ack_now = true;
        }
    }
}
