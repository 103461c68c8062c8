//! The MPTCP connection ("meta") level (RFC 8684): one byte stream carried by subflows.
//!
//! [`MptcpConnection`] owns the connection's send and receive buffers in data sequence
//! space and its subflows ([`TcpConnection`]s). Application data is queued at the
//! connection level; the scheduler hands it to a subflow with a mapping (§3.3.1), and the
//! subflow's segments carry that mapping in a DSS option, with the DATA_ACK of what the
//! connection received. Received in-order subflow bytes are moved, through the mapping they
//! came with, into the connection's reassembly buffer. DATA_FIN closes the byte stream
//! (§3.3.3). A connection whose peer does not speak MPTCP, or whose options are stripped
//! during the handshake, falls back to TCP (§3.7): the subflow's bytes then map one to one
//! (the infinite mapping) and no option is sent.
//!
//! Implemented so far: MP_CAPABLE v1 as client and server (§3.1, keys from the stack's
//! generator, MP_CAPABLE repeated until the server's first DSS), DSS mappings with 64-bit
//! data sequence numbers and DATA_ACKs, DSS checksums when either side asks, the
//! connection-level receive window (§3.3.4), DATA_FIN, and fallback during the handshake,
//! on one subflow.
//!
//! Input: [`handle_segment`](MptcpConnection::handle_segment); output:
//! [`poll_transmit`](MptcpConnection::poll_transmit); timers and events as for
//! [`TcpConnection`].

mod input;
mod mapping;
mod options;
mod output;
mod subflow;

use core::net::SocketAddr;
use std::collections::VecDeque;

use crate::crypto::{MptcpVersion, key_material};
use crate::stack::InterfaceId;
use crate::tcp::{
    Autotune, ByteRing, CloseReason, RecvBuffer, TcpConfig, TcpConnection, TcpEvent, TcpInfo,
    TcpState,
};
use crate::time::Instant;
use crate::wire::{DataSeq, SeqNum};
use subflow::Subflow;

pub use config::MptcpConfig;

mod config {
    /// MPTCP settings of a stack (after the `net.mptcp.*` settings of the Linux kernels).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct MptcpConfig {
        /// Offer MPTCP on connections we open and accept it on connections we are offered
        /// (`false`: plain TCP, no MPTCP option is ever sent).
        pub enabled: bool,
        /// Ask for DSS checksums (RFC 8684 §3.3.1). They are used when either side asks.
        pub checksum: bool,
    }

    impl Default for MptcpConfig {
        /// MPTCP on, no checksums (like Linux's `checksum_enabled=0`).
        fn default() -> Self {
            Self {
                enabled: true,
                checksum: false,
            }
        }
    }
}

/// Which side of the MPTCP handshake we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Client,
    Server,
}

/// Whether the connection speaks MPTCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// MP_CAPABLE offered or accepted; options on every segment.
    Mptcp,
    /// Plain TCP: MPTCP disabled, refused by the peer, or fallen back (RFC 8684 §3.7).
    Tcp,
}

/// The keys of a connection and what derives from them (RFC 8684 §3.1–3.2).
#[derive(Debug, Clone, Copy)]
struct Keys {
    local: u64,
    local_token: u32,
    remote: Option<u64>,
    remote_idsn: DataSeq,
}

/// Most bytes one mapping covers; the scheduler also keeps each mapping within one segment.
const MAX_MAPPING: usize = 65_535;

/// An MPTCP connection: its subflows and its data-level state. See the [module
/// documentation](self).
#[derive(Debug)]
pub struct MptcpConnection {
    role: Role,
    mode: Mode,
    keys: Keys,
    /// Whether we ask for checksums.
    want_checksum: bool,
    /// DSS checksums are in use (either side asked).
    checksum: bool,
    /// Client: the server's first DSS arrived, so MP_CAPABLE no longer repeats.
    /// Server: the client's keys arrived (third ACK or first data).
    fully_established: bool,
    subflows: Vec<Subflow>,
    // Send side, in data sequence space.
    send_buf: ByteRing,
    /// Oldest byte not DATA_ACKed (the first byte of `send_buf`).
    snd_una: DataSeq,
    /// Next byte to hand to a subflow.
    snd_nxt: DataSeq,
    /// Right edge of the peer's connection-level receive window (§3.3.4).
    snd_wnd_edge: DataSeq,
    /// The application shut down sending: a DATA_FIN follows the data.
    fin_queued: bool,
    /// Data sequence number of our DATA_FIN once every byte before it is mapped.
    fin_dsn: Option<DataSeq>,
    fin_acked: bool,
    /// When our DATA_FIN goes out again if still unacknowledged.
    fin_rto_at: Option<Instant>,
    // Receive side.
    recv: RecvBuffer,
    /// Largest size `recv` may grow to.
    recv_max: usize,
    tune: Autotune,
    /// `RCV.NXT` of the data level, in full 64 bits (`recv` keeps the low 32).
    rcv_nxt: DataSeq,
    /// Data sequence number of the peer's DATA_FIN, once announced.
    peer_fin: Option<DataSeq>,
    fin_received: bool,
    /// The receive side knows its data sequence numbers (the peer's IDSN, or TCP).
    rx_ready: bool,
    // Events.
    events: VecDeque<TcpEvent>,
    connected: bool,
    readable_signalled: bool,
    writable_wanted: bool,
    close_reason: Option<CloseReason>,
    /// Local and peer address of the first subflow (kept after it is gone).
    first: (SocketAddr, SocketAddr),
    /// Scratch space for moving bytes between the levels.
    scratch: Vec<u8>,
}

impl MptcpConnection {
    fn new(
        role: Role,
        mode: Mode,
        cfg: &MptcpConfig,
        key: u64,
        sf: Subflow,
        tcp_cfg: &TcpConfig,
    ) -> Self {
        let material = key_material(MptcpVersion::V1, key);
        let first = (sf.tcp.local_addr(), sf.tcp.peer_addr());
        Self {
            role,
            mode,
            keys: Keys {
                local: key,
                local_token: material.token,
                remote: None,
                remote_idsn: DataSeq(0),
            },
            want_checksum: cfg.checksum,
            checksum: false,
            fully_established: false,
            subflows: vec![sf],
            send_buf: ByteRing::new(tcp_cfg.send_buffer.max(1)),
            snd_una: DataSeq(material.idsn) + 1,
            snd_nxt: DataSeq(material.idsn) + 1,
            snd_wnd_edge: DataSeq(material.idsn) + 1,
            fin_queued: false,
            fin_dsn: None,
            fin_acked: false,
            fin_rto_at: None,
            recv: RecvBuffer::new(tcp_cfg.recv_buffer.max(1), SeqNum(0)),
            recv_max: tcp_cfg.recv_buffer_max,
            tune: Autotune::default(),
            rcv_nxt: DataSeq(0),
            peer_fin: None,
            fin_received: false,
            rx_ready: false,
            events: VecDeque::new(),
            connected: false,
            readable_signalled: false,
            writable_wanted: false,
            close_reason: None,
            first,
            scratch: vec![0; 64 * 1024],
        }
    }

    /// Opens a connection: `tcp` is the first subflow in SYN-SENT. With MPTCP enabled its
    /// SYN offers MP_CAPABLE with our `key` (RFC 8684 §3.1).
    pub(crate) fn connect(
        cfg: &MptcpConfig,
        tcp_cfg: &TcpConfig,
        tcp: TcpConnection,
        iface: InterfaceId,
        key: u64,
    ) -> Self {
        let mode = if cfg.enabled { Mode::Mptcp } else { Mode::Tcp };
        Self::new(
            Role::Client,
            mode,
            cfg,
            key,
            Subflow::new(tcp, iface),
            tcp_cfg,
        )
    }

    /// Accepts a connection whose SYN `tcp` answers. `capable` is the SYN's MP_CAPABLE
    /// (version 1, flags), if any and if we speak MPTCP.
    pub(crate) fn accept(
        cfg: &MptcpConfig,
        tcp_cfg: &TcpConfig,
        tcp: TcpConnection,
        iface: InterfaceId,
        key: u64,
        capable: Option<u8>,
    ) -> Self {
        let mode = if cfg.enabled && capable.is_some() {
            Mode::Mptcp
        } else {
            Mode::Tcp
        };
        let mut conn = Self::new(
            Role::Server,
            mode,
            cfg,
            key,
            Subflow::new(tcp, iface),
            tcp_cfg,
        );
        if let Some(flags) = capable {
            conn.checksum = conn.want_checksum
                || flags & crate::wire::mptcp::capable_flags::CHECKSUM_REQUIRED != 0;
        }
        conn
    }

    /// Our token (RFC 8684 §3.2), which the stack keeps unique.
    pub fn local_token(&self) -> u32 {
        self.keys.local_token
    }

    /// Whether the connection speaks MPTCP (false for plain TCP and after fallback).
    pub fn is_mptcp(&self) -> bool {
        self.mode == Mode::Mptcp
    }

    /// Local address of the first subflow.
    pub fn local_addr(&self) -> SocketAddr {
        self.first.0
    }

    /// Peer address of the first subflow.
    pub fn peer_addr(&self) -> SocketAddr {
        self.first.1
    }

    /// The subflow with these addresses.
    pub(crate) fn subflow_index(&self, local: SocketAddr, remote: SocketAddr) -> Option<usize> {
        self.subflows
            .iter()
            .position(|s| s.tcp.local_addr() == local && s.tcp.peer_addr() == remote)
    }

    /// The 4-tuples of the subflows (for the stack's demultiplexer).
    pub(crate) fn tuples(&self) -> impl Iterator<Item = (SocketAddr, SocketAddr)> + '_ {
        self.subflows
            .iter()
            .map(|s| (s.tcp.local_addr(), s.tcp.peer_addr()))
    }

    /// Whether the connection is over and has nothing left to send.
    pub fn is_finished(&self) -> bool {
        self.close_reason.is_some()
            && self.events.is_empty()
            && self.subflows.iter().all(|s| s.tcp.is_finished())
    }

    /// Why the connection closed, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close_reason
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<TcpEvent> {
        self.events.pop_front()
    }

    /// In-order bytes waiting to be read.
    pub fn recv_queue_len(&self) -> usize {
        self.recv.readable()
    }

    /// Whether the end of the stream was reached and every byte before it read.
    pub fn at_eof(&self) -> bool {
        self.fin_received && self.recv.readable() == 0
    }

    /// A snapshot of the first subflow (like `TCP_INFO`).
    pub fn info(&self) -> Option<TcpInfo> {
        self.subflows.first().map(|s| s.tcp.info())
    }

    /// Whether the connection is established (data may flow).
    fn can_send(&self) -> bool {
        self.close_reason.is_none() && !self.fin_queued
    }

    /// Queues data; returns how much fit. `None` when sending is closed.
    pub fn send(&mut self, data: &[u8]) -> Option<usize> {
        let sf = self.subflows.first()?;
        if !self.can_send() || !(sf.tcp.state().can_send() || sf.tcp.state() == TcpState::SynSent) {
            return None;
        }
        let n = self.send_buf.push(data);
        if n < data.len() {
            self.writable_wanted = true;
        }
        Some(n)
    }

    /// Reads received in-order data; returns how many bytes.
    pub fn recv(&mut self, now: Instant, buf: &mut [u8]) -> usize {
        let before = self.recv.window();
        let n = self.recv.read(buf);
        self.readable_signalled = false;
        if n > 0 {
            self.autotune(now, n);
            // Subflow buffers may hold bytes that waited for room up here.
            for i in 0..self.subflows.len() {
                self.pull(i);
            }
            let cap = self.recv.capacity();
            if before < cap / 2 && self.recv.window() >= cap / 2 {
                // The window opened: tell the peer (RFC 8684 §3.3.4 window update).
                self.request_ack();
            }
        }
        n
    }

    /// Grows the receive buffer when the application reads fast (see [`Autotune`]); the
    /// subflows' buffers grow with it, so that their windows never limit the connection's.
    fn autotune(&mut self, now: Instant, read: usize) {
        let srtt = self.subflows.first().and_then(|s| s.tcp.rtt.srtt());
        let cap = self.recv.capacity();
        if let Some(grown) = self.tune.on_read(now, read, cap, self.recv_max, srtt) {
            self.recv.grow(grown);
            for sf in &mut self.subflows {
                sf.tcp.recv.grow(grown);
            }
        }
    }

    /// Half-close: a DATA_FIN (a FIN for plain TCP) follows the queued data.
    pub fn shutdown(&mut self) -> bool {
        if self.fin_queued || self.close_reason.is_some() {
            return false;
        }
        self.fin_queued = true;
        true
    }

    /// Close: shut down sending; unread data makes it an abort (RFC 2525 §2.17).
    pub fn close(&mut self) {
        if self.recv.readable() > 0 {
            self.abort();
            return;
        }
        if self
            .subflows
            .first()
            .is_some_and(|s| s.tcp.state() == TcpState::SynSent)
        {
            for sf in &mut self.subflows {
                sf.tcp.close();
            }
            self.set_closed(CloseReason::Normal);
            return;
        }
        self.shutdown();
    }

    /// Abort: reset every subflow and drop everything.
    pub fn abort(&mut self) {
        for sf in &mut self.subflows {
            sf.tcp.abort();
        }
        self.set_closed(CloseReason::Aborted);
    }

    fn set_closed(&mut self, reason: CloseReason) {
        if self.close_reason.is_none() {
            self.close_reason = Some(reason);
            self.events.push_back(TcpEvent::Closed(reason));
            self.fin_rto_at = None;
        }
    }

    /// Starts the receive side once the peer's IDSN is known (`idsn`; any base for TCP).
    fn start_receiving(&mut self, idsn: DataSeq) {
        let next = idsn + 1;
        self.rcv_nxt = next;
        self.recv.reset(SeqNum(next.0 as u32));
        self.rx_ready = true;
    }

    /// Makes some subflow send an ACK soon (it carries the DATA_ACK and window).
    fn request_ack(&mut self) {
        if let Some(sf) = self
            .subflows
            .iter_mut()
            .find(|s| s.tcp.state().is_synchronized() && s.tcp.state() != TcpState::Closed)
        {
            sf.tcp.ack_now = true;
        }
    }
}
