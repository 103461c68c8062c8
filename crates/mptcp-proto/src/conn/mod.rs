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
//! connection-level receive window (§3.3.4), DATA_FIN, fallback during the handshake and
//! later (options stripped; MP_FAIL and the infinite mapping, `fail.rs`).
//!
//! Input: `handle_segment`; output:
//! `poll_transmit`; timers and events as for
//! [`TcpConnection`].

mod events;
mod fail;
mod input;
mod join;
mod limits;
mod live;
mod log;
mod mapping;
mod opportunistic;
mod options;
mod output;
mod path_manager;
mod reinject;
mod signal;
mod subflow;

use core::net::{IpAddr, SocketAddr};
use std::collections::VecDeque;

use crate::crypto::{MptcpVersion, key_material};
use crate::ids::InterfaceId;
use crate::pm::{LocalAddr, PathManager, RemoteAddr};
use crate::sched::{SchedContext, Scheduler, SubflowView};
use crate::tcp::{
    Autotune, ByteRing, CloseReason, RecvBuffer, TcpConfig, TcpConnection, TcpInfo, TcpState,
    TuneRtts,
};
use crate::time::Instant;
use crate::wire::{DataSeq, SeqNum};
use fail::{Failure, InfiniteMapping};
use reinject::Reinjection;
use signal::Signals;
use subflow::{Join, Subflow};

pub use config::MptcpConfig;
pub use events::ConnEvent;
pub(crate) use join::JoinSyn;
pub(crate) use limits::JoinRefusal;
pub use limits::{CLOSED_HISTORY, SubflowTotals};
pub use subflow::SubflowId;

/// Whether a connection speaks MPTCP, after the seeds' `net.mptcp.mptcp_enabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MptcpEnabled {
    /// Plain TCP, no MPTCP option is ever sent; as a stack's setting, also for connections
    /// whose own settings ask for MPTCP (sysctl value 0).
    Off,
    /// Offer MPTCP on connections we open and accept it when offered (1).
    On,
    /// As a stack's setting: plain TCP, except for connections whose own settings
    /// ([`ConnectionConfig`](crate::stack::ConnectionConfig)) say [`On`](Self::On) — the
    /// seeds' value 2, for sockets that set `MPTCP_ENABLED`.
    OnRequest,
}

impl MptcpEnabled {
    /// Whether a connection with this setting speaks MPTCP.
    pub fn is_on(self) -> bool {
        self == Self::On
    }
}

impl From<bool> for MptcpEnabled {
    /// `true` is [`On`](Self::On), `false` [`Off`](Self::Off).
    fn from(on: bool) -> Self {
        if on { Self::On } else { Self::Off }
    }
}

mod config {
    use super::MptcpEnabled;
    /// MPTCP settings of a stack (after the `net.mptcp.*` settings of the Linux kernels).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct MptcpConfig {
        /// Whether connections offer and accept MPTCP (see [`MptcpEnabled`]).
        pub enabled: MptcpEnabled,
        /// Ask for DSS checksums (RFC 8684 §3.3.1). They are used when either side asks.
        pub checksum: bool,
        /// Retransmissions of our SYN that still carry MP_CAPABLE; the ones after go
        /// without, so that a path whose middleboxes drop SYNs with unknown options still
        /// connects, as plain TCP (RFC 8684 §3.7; the seeds' `mptcp_syn_retries`, 3; Linux's
        /// `syn_retrans_before_tcp_fallback`, 2).
        pub syn_retries: u32,
        /// Path manager (see [`crate::pm::PathManagerChoice`]).
        pub path_manager: crate::pm::PathManagerChoice,
        /// Scheduler (see [`crate::sched::SchedulerChoice`]).
        pub scheduler: crate::sched::SchedulerChoice,
        /// The most subflows beyond the first a connection keeps at once, whichever side
        /// opened them and whether or not their handshake completed (after Linux's
        /// `ip mptcp limits set subflows`). Joins beyond it are refused with MP_TCPRST
        /// "administratively prohibited" (RFC 8684 §3.6), so a peer that knows the token
        /// cannot make us hold subflows without end.
        pub max_subflows: usize,
        /// The most joins the peer opened whose handshake is not complete yet (we answered
        /// their SYN and wait for the third ACK). Joins beyond it are refused with
        /// MP_TCPRST "lack of resources".
        pub max_half_open_joins: usize,
        /// The most addresses the peer announces (ADD_ADDR, RFC 8684 §3.4.1) that a
        /// connection keeps and hands to its path manager (after Linux's `ip mptcp limits
        /// set add_addr_accepted`); later announcements are echoed and ignored.
        pub max_add_addr_accepted: usize,
        /// How long one of our ADD_ADDRs waits for the peer's echo before it goes again
        /// (RFC 8684 §3.4.1; five tries in all). Linux's `add_addr_timeout` is 120 s; 2 s
        /// lets an announcement lost with its segment reach the peer while the connection
        /// is young.
        pub add_addr_timeout: core::time::Duration,
        /// How long a connection the application closed may take to finish closing — our
        /// end of stream acknowledged and the peer's received (DATA_FIN, or FIN for plain
        /// TCP) — before it is aborted: MP_FASTCLOSE with RST, or RST for plain TCP (Linux's
        /// `close_timeout`, 60 s). A peer that vanished holds nothing for the minutes TCP
        /// would retransmit; subflow FINs and TIME-WAIT afterwards are TCP's own.
        pub close_timeout: core::time::Duration,
        /// Records of what the connection and its subflows do, through `tracing` (the seeds'
        /// `mptcp_debug`): 0 none, 1 at DEBUG (events, fallbacks, failures, resets), 2 also
        /// at TRACE (re-injections). Each names the connection (our token) and the subflow.
        pub debug: u8,
    }

    impl Default for MptcpConfig {
        /// MPTCP on, no checksums (like Linux's `checksum_enabled=0`), 3 MP_CAPABLE SYN
        /// retransmissions (the seeds' `mptcp_syn_retries`), the "simple" path manager and
        /// the "default" (minimum-RTT) scheduler, at most 8 subflows beyond the first
        /// (Linux's largest `subflows` limit: its default of 2 would refuse the four paths of
        /// a host with two addresses on each side), 8 half-open joins and 8 announced
        /// addresses accepted (Linux's default 0 would never join one). docs/settings.md
        /// lists them all.
        fn default() -> Self {
            Self {
                enabled: MptcpEnabled::On,
                checksum: false,
                syn_retries: 3,
                path_manager: crate::pm::PathManagerChoice::default(),
                scheduler: crate::sched::SchedulerChoice::default(),
                max_subflows: 8,
                max_half_open_joins: 8,
                max_add_addr_accepted: 8,
                add_addr_timeout: super::signal::ANNOUNCE_TIMEOUT,
                close_timeout: core::time::Duration::from_secs(60),
                debug: 0,
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
    remote_token: u32,
    remote_idsn: DataSeq,
}

/// A subflow the connection wants opened; the stack, which owns ports and interfaces,
/// opens it with [`MptcpConnection::add_subflow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SubflowRequest {
    pub(crate) local: IpAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) backup: bool,
}

/// Largest size a subflow's send buffer grows to, and the connection's over subflows of
/// equal RTT (Linux's default `tcp_wmem` limit). More would only let slow start overshoot
/// further where HyStart++ cannot see the queue (100 Mbit/s, 50 ms each way, 100 packets:
/// 9.4-11.5 % of the subflows' bytes retransmitted at 8 MiB against 1.6-7.0 % at 4 MiB).
const SEND_BUFFER_BASE: usize = 4 * 1024 * 1024;

/// Largest size the connection's send buffer grows to over subflows of unequal RTT: up to
/// [`SEND_BUFFER_BASE`] times the largest RTT over the smallest. At 4 MiB, a fast path
/// next to a slow one with hundreds of packets queued (9+98 Mbit/s, 303 packets on the slow
/// one) ran short of data in flight while the slow path's bytes waited for their DATA_ACK;
/// 8 MiB brings every pair of the aggregation sweep to its goal.
const SEND_BUFFER_MAX: usize = 8 * 1024 * 1024;

/// Size of the scratch space for moving bytes between the levels.
const SCRATCH_LEN: usize = 64 * 1024;

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
    next_subflow: u32,
    /// A join completed at some point: data may have gone on more than one path.
    joined_any: bool,
    /// Counters of the subflows that closed and left `subflows`.
    closed_totals: SubflowTotals,
    /// The last subflows that closed and left `subflows`, as they were then.
    closed_recent: VecDeque<SubflowInfo>,
    /// See [`MptcpConfig::max_subflows`].
    max_subflows: usize,
    /// See [`MptcpConfig::max_half_open_joins`].
    max_half_open_joins: usize,
    /// See [`MptcpConfig::syn_retries`].
    syn_retries: u32,
    /// See [`MptcpConfig::max_add_addr_accepted`].
    max_add_addr_accepted: usize,
    /// See [`MptcpConfig::debug`].
    debug: u8,
    /// When a connection the application closed is aborted if it has not finished
    /// closing ([`MptcpConfig::close_timeout`]).
    close_deadline: Option<Instant>,
    pm: Box<dyn PathManager>,
    /// Which path manager `pm` is.
    pm_choice: crate::pm::PathManagerChoice,
    /// The scheduler's views, kept between decisions (see `subflow_views`).
    views: Vec<SubflowView>,
    /// The path manager has been told the connection is established.
    pm_started: bool,
    /// When the path manager asked to hear [`crate::pm::PmEvent::Timer`].
    pm_timer: Option<Instant>,
    /// The latest time handed in (the path manager's context tells it).
    now: Instant,
    sched: Box<dyn Scheduler>,
    /// The host's addresses with their address ids (the initial local address is 0).
    local_addrs: Vec<LocalAddr>,
    /// Addresses the peer announced and has not withdrawn.
    remote_addrs: Vec<RemoteAddr>,
    /// The peer withdrew its initial address (REMOVE_ADDR 0).
    initial_remote_withdrawn: bool,
    /// ADD_ADDR, echoes and REMOVE_ADDR waiting to go out.
    signals: Signals,
    /// Subflows the path manager asked for, for the stack to open.
    requests: VecDeque<SubflowRequest>,
    /// Subflow whose turn it is to send first.
    tx_cursor: usize,
    /// Data to send again (see `reinject.rs`).
    reinject: VecDeque<Reinjection>,
    /// End of the data re-sent opportunistically so far (see `opportunistic.rs`).
    opportunistic_to: Option<DataSeq>,
    /// We closed the connection abruptly: RSTs carry MP_FASTCLOSE (RFC 8684 §3.5).
    fastclose: bool,
    /// An MP_FAIL exchange in progress (RFC 8684 §3.7).
    fail: Option<Failure>,
    /// Our infinite mapping after the peer's MP_FAIL, until the subflow acknowledges it.
    infinite_tx: Option<InfiniteMapping>,
    // Send side, in data sequence space.
    send_buf: ByteRing,
    /// Oldest byte not DATA_ACKed (the first byte of `send_buf`).
    snd_una: DataSeq,
    /// Next byte to hand to a subflow.
    snd_nxt: DataSeq,
    /// Right edge of the peer's connection-level receive window (§3.3.4): the largest
    /// DATA_ACK + window seen; `None` before the first DATA_ACK.
    snd_wnd_edge: Option<DataSeq>,
    /// The application shut down sending: a DATA_FIN follows the data.
    fin_queued: bool,
    /// Data sequence number of our DATA_FIN once every byte before it is mapped.
    fin_dsn: Option<DataSeq>,
    fin_acked: bool,
    /// When our DATA_FIN goes out again if still unacknowledged.
    fin_rto_at: Option<Instant>,
    /// When data the subflows delivered but the peer has not DATA_ACKed goes again (the
    /// data-level retransmission timer; see `MptcpConnection::arm_data_rto`).
    data_rto_at: Option<Instant>,
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
    /// The application closed the connection: data arriving now has no reader, and
    /// resets the connection (as Linux does for an orphaned socket).
    app_closed: bool,
    // Events.
    events: VecDeque<ConnEvent>,
    readable_signalled: bool,
    writable_wanted: bool,
    close_reason: Option<CloseReason>,
    /// Local and peer address of the first subflow (kept after it is gone).
    first: (SocketAddr, SocketAddr),
    /// Scratch space for moving bytes between the levels ([`SCRATCH_LEN`] bytes once the
    /// first byte arrives).
    scratch: Vec<u8>,
}

impl MptcpConnection {
    fn new(role: Role, mode: Mode, cfg: &MptcpConfig, host: Host<'_>, tcp: TcpConnection) -> Self {
        let material = key_material(MptcpVersion::V1, host.key);
        let tcp_cfg = host.tcp;
        let first = (tcp.local_addr(), tcp.peer_addr());
        let local_addrs = host
            .addrs
            .iter()
            .map(|&a| LocalAddr {
                id: if a.addr == first.0.ip() { 0 } else { a.id },
                ..a
            })
            .collect();
        let mut sf = Subflow::new(SubflowId(0), tcp, host.iface, Join::Done);
        // The initial subflow joins the initial addresses, id 0 at both ends (§3.4.1).
        sf.remote_id = Some(0);
        Self {
            role,
            mode,
            keys: Keys {
                local: host.key,
                local_token: material.token,
                remote: None,
                remote_token: 0,
                remote_idsn: DataSeq(0),
            },
            want_checksum: cfg.checksum,
            checksum: false,
            fully_established: false,
            subflows: vec![sf],
            next_subflow: 1,
            joined_any: false,
            closed_totals: SubflowTotals::default(),
            closed_recent: VecDeque::new(),
            max_subflows: cfg.max_subflows,
            max_half_open_joins: cfg.max_half_open_joins,
            syn_retries: cfg.syn_retries,
            max_add_addr_accepted: cfg.max_add_addr_accepted,
            debug: cfg.debug,
            close_deadline: None,
            pm: cfg.path_manager.build(),
            pm_choice: cfg.path_manager.clone(),
            views: Vec::new(),
            pm_started: false,
            pm_timer: None,
            now: Instant::ZERO,
            sched: cfg.scheduler.build(),
            local_addrs,
            remote_addrs: Vec::new(),
            initial_remote_withdrawn: false,
            signals: Signals::new(cfg.add_addr_timeout),
            requests: VecDeque::new(),
            tx_cursor: 0,
            reinject: VecDeque::new(),
            opportunistic_to: None,
            fastclose: false,
            fail: None,
            infinite_tx: None,
            send_buf: ByteRing::new(tcp_cfg.send_buffer.max(1)),
            snd_una: DataSeq(material.idsn) + 1,
            snd_nxt: DataSeq(material.idsn) + 1,
            snd_wnd_edge: None,
            fin_queued: false,
            fin_dsn: None,
            fin_acked: false,
            fin_rto_at: None,
            data_rto_at: None,
            recv: RecvBuffer::new(tcp_cfg.recv_buffer.max(1), SeqNum(0)),
            recv_max: tcp_cfg.recv_buffer_max,
            tune: Autotune::default(),
            rcv_nxt: DataSeq(0),
            peer_fin: None,
            fin_received: false,
            rx_ready: false,
            app_closed: false,
            events: VecDeque::new(),
            readable_signalled: false,
            writable_wanted: false,
            close_reason: None,
            first,
            scratch: Vec::new(),
        }
    }

    /// Opens a connection: `tcp` is the first subflow in SYN-SENT. With MPTCP enabled its
    /// SYN offers MP_CAPABLE with the host's key (RFC 8684 §3.1).
    pub(crate) fn connect(cfg: &MptcpConfig, host: Host<'_>, tcp: TcpConnection) -> Self {
        let mode = if cfg.enabled.is_on() {
            Mode::Mptcp
        } else {
            Mode::Tcp
        };
        Self::new(Role::Client, mode, cfg, host, tcp)
    }

    /// Accepts a connection whose SYN `tcp` answers. `capable` is the SYN's MP_CAPABLE
    /// (version 1, flags), if any and if we speak MPTCP.
    pub(crate) fn accept(
        cfg: &MptcpConfig,
        host: Host<'_>,
        tcp: TcpConnection,
        capable: Option<u8>,
    ) -> Self {
        let mode = if cfg.enabled.is_on() && capable.is_some() {
            Mode::Mptcp
        } else {
            Mode::Tcp
        };
        let mut conn = Self::new(Role::Server, mode, cfg, host, tcp);
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

    /// Before subflow `index` hears an ACK or a timer: what a coupled congestion controller
    /// reads of the connection's other subflows that can carry data (RFC 6356 §3 couples
    /// the subflows of one connection).
    fn refresh_siblings(&mut self, index: usize) {
        if !self.subflows.get(index).is_some_and(|s| s.tcp.cc.coupled()) {
            return;
        }
        let mut views = core::mem::take(&mut self.subflows[index].tcp.siblings);
        views.clear();
        views.extend(
            self.subflows
                .iter()
                .enumerate()
                .filter(|(i, s)| *i != index && s.can_carry_data())
                .map(|(_, s)| crate::cc::SiblingView {
                    cwnd: s.tcp.cc.window(),
                    srtt: s.tcp.rtt.srtt(),
                    mss: s.tcp.smss(),
                    loss_interval: s.tcp.cc.loss_interval(),
                }),
        );
        self.subflows[index].tcp.siblings = views;
    }

    /// Whether any subflow runs over IPv6 (its packets need the larger IP header).
    pub(crate) fn has_ipv6_subflow(&self) -> bool {
        self.subflows.iter().any(|s| s.tcp.local_addr().is_ipv6())
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
    pub fn poll_event(&mut self) -> Option<ConnEvent> {
        let event = self.events.pop_front()?;
        self.note_event(&event);
        Some(event)
    }

    /// The next subflow the path manager wants opened.
    pub(crate) fn poll_subflow_request(&mut self) -> Option<SubflowRequest> {
        self.requests.pop_front()
    }

    /// The address id of our address `ip` (None if the host has no such address).
    pub(crate) fn local_addr_id(&self, ip: IpAddr) -> Option<u8> {
        self.local_addrs.iter().find(|l| l.addr == ip).map(|l| l.id)
    }

    /// In-order bytes waiting to be read.
    pub fn recv_queue_len(&self) -> usize {
        self.recv.readable()
    }

    /// Whether the end of the stream was reached and every byte before it read.
    pub fn at_eof(&self) -> bool {
        self.fin_received && self.recv.readable() == 0
    }

    /// Whether the peer acknowledged everything we sent, our DATA_FIN (FIN for plain TCP)
    /// included: after a shutdown, nothing of ours is left in flight.
    pub fn send_complete(&self) -> bool {
        self.fin_acked
    }

    /// How many subflows are neither closed nor in TIME-WAIT.
    pub(crate) fn open_subflows(&self) -> usize {
        self.subflows
            .iter()
            .filter(|s| !matches!(s.tcp.state(), TcpState::Closed | TcpState::TimeWait))
            .count()
    }

    /// A snapshot of the first subflow (like `TCP_INFO`).
    pub fn info(&self) -> Option<TcpInfo> {
        self.subflows.first().map(|s| s.tcp.info())
    }

    /// The subflows with their addresses and state, by id: every one the connection holds
    /// (the first always, open or closed) and the last few that closed and left it
    /// ([`CLOSED_HISTORY`] at most, as they were when they left; see
    /// [`totals`](Self::totals) for the counters of all of them).
    pub fn subflows(&self) -> Vec<SubflowInfo> {
        let mut all: Vec<SubflowInfo> = self.subflows.iter().map(Subflow::info).collect();
        all.extend(self.closed_recent.iter().copied());
        all.sort_by_key(|s| s.id);
        all
    }

    /// The scratch space, allocated on first use (a connection that never carries data
    /// holds none); give it back by assigning `self.scratch`.
    fn take_scratch(&mut self) -> Vec<u8> {
        let scratch = core::mem::take(&mut self.scratch);
        if scratch.is_empty() {
            vec![0; SCRATCH_LEN]
        } else {
            scratch
        }
    }

    /// Whether the connection is established (data may flow).
    fn can_send(&self) -> bool {
        self.close_reason.is_none() && !self.fin_queued
    }

    /// Queues data; returns how much fit. `None` when sending is closed.
    pub fn send(&mut self, data: &[u8]) -> Option<usize> {
        let open = self
            .subflows
            .iter()
            .any(|s| s.tcp.state().can_send() || s.tcp.state() == TcpState::SynSent);
        if !self.can_send() || !open {
            return None;
        }
        if self.send_buf.free() < data.len() {
            self.grow_send_buffer();
        }
        let n = self.send_buf.push(data);
        if n < data.len() {
            self.writable_wanted = true;
        }
        Some(n)
    }

    /// Send-buffer auto-tuning (after Linux's `tcp_sndbuf_expand`): the buffer holds
    /// everything sent until the DATA_ACK, and a byte sent on the slowest subflow is
    /// acknowledged only after its round trip, while every other subflow goes on sending
    /// at its rate (window / RTT). So it grows to twice what all subflows send in the
    /// largest RTT, up to [`SEND_BUFFER_BASE`] scaled by the RTTs' spread, at most
    /// [`SEND_BUFFER_MAX`].
    fn grow_send_buffer(&mut self) {
        let live = || self.subflows.iter().filter(|s| !s.is_closed());
        let max_rtt = live().filter_map(|s| s.tcp.rtt.srtt()).max();
        let min_rtt = live().filter_map(|s| s.tcp.rtt.srtt()).min();
        let limit = match (max_rtt, min_rtt) {
            (Some(max), Some(min)) if !min.is_zero() => {
                let scaled = SEND_BUFFER_BASE as u128 * max.as_nanos() / min.as_nanos();
                usize::try_from(scaled)
                    .unwrap_or(usize::MAX)
                    .min(SEND_BUFFER_MAX)
            }
            _ => SEND_BUFFER_BASE,
        };
        let in_max_rtt: usize = live()
            .map(|s| {
                let window = s.tcp.cc.window();
                match (max_rtt, s.tcp.rtt.srtt()) {
                    (Some(max), Some(own)) if !own.is_zero() => {
                        let scaled = window as u128 * max.as_nanos() / own.as_nanos();
                        usize::try_from(scaled).unwrap_or(usize::MAX)
                    }
                    _ => window,
                }
            })
            .fold(0, usize::saturating_add);
        let want = in_max_rtt.saturating_mul(2).min(limit);
        let capacity = self.send_buf.capacity();
        if want > capacity {
            // By half the capacity at least: growing copies the whole buffer, and windows
            // that creep up a segment at a time would otherwise copy it on every write.
            self.send_buf
                .grow(want.max(capacity + capacity / 2).min(limit));
        }
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
    /// Reads are counted over the fastest subflow's round trip, and the buffer must cover
    /// the slowest one's (RFC 8684 §3.3.5: it holds what every subflow delivers while the
    /// slowest one's data is awaited).
    fn autotune(&mut self, now: Instant, read: usize) {
        let rtts = || self.subflows.iter().filter_map(|s| s.tcp.path_rtt());
        let rtts = TuneRtts {
            period: rtts().min(),
            span: rtts().max(),
        };
        let cap = self.recv.capacity();
        if let Some(grown) = self.tune.on_read(now, read, cap, self.recv_max, rtts) {
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
        self.app_closed = true;
        let unread = self.recv.readable() > 0
            || self.recv.has_out_of_order()
            || self.subflows.iter().any(|s| s.tcp.recv_queue_len() > 0);
        if unread {
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

    /// Abort: reset every subflow and drop everything. An MPTCP connection says so with
    /// MP_FASTCLOSE on the RSTs (RFC 8684 §3.5).
    pub fn abort(&mut self) {
        self.fastclose = self.mode == Mode::Mptcp && self.keys.remote.is_some();
        for sf in &mut self.subflows {
            sf.tcp.abort();
        }
        self.set_closed(CloseReason::Aborted);
    }

    fn set_closed(&mut self, reason: CloseReason) {
        if self.close_reason.is_none() {
            self.close_reason = Some(reason);
            self.events.push_back(ConnEvent::Closed(reason));
            self.fin_rto_at = None;
        }
    }

    /// The scheduler's view of the subflows.
    /// What the scheduler sees of each subflow now, in a vector reused from one decision
    /// to the next (scheduling runs per segment: no allocation each time). Hand it back with
    /// [`return_views`](Self::return_views).
    fn subflow_views(&mut self) -> Vec<SubflowView> {
        let mut views = core::mem::take(&mut self.views);
        views.clear();
        views.extend(
            self.subflows
                .iter()
                .enumerate()
                .map(|(index, s)| SubflowView {
                    index,
                    usable: s.can_carry_data(),
                    srtt: s.tcp.rtt.srtt(),
                    rttvar: s.tcp.rtt.rttvar(),
                    cwnd: s.tcp.cc.window(),
                    in_flight: s.tcp.sb.in_flight(),
                    cwnd_room: s.cwnd_room(),
                    unsent: s.unsent(),
                    mss: s.tcp.mss,
                    backup: s.backup || s.peer_backup,
                    potentially_failed: s.potentially_failed,
                    not_carried: self.snd_nxt.diff(self.copy_start(s)).max(0) as usize,
                }),
        );
        views
    }

    /// Keeps the vector of [`subflow_views`](Self::subflow_views) for the next decision.
    fn return_views(&mut self, views: Vec<SubflowView>) {
        self.views = views;
    }

    /// Where subflow `s`'s own copy of the data would start: after what it was given,
    /// and never before the DATA_ACK.
    fn copy_start(&self, s: &Subflow) -> DataSeq {
        s.carried_to.map_or(self.snd_una, |to| to.max(self.snd_una))
    }

    /// The scheduler's view of the send side.
    fn sched_context(&self) -> SchedContext {
        let in_flight = self.snd_nxt.diff(self.snd_una).max(0) as usize;
        let peer_window = match self.snd_wnd_edge {
            Some(edge) => edge.diff(self.snd_una).max(0) as usize,
            None => self.subflows.first().map_or(0, |s| s.tcp.snd_wnd),
        };
        SchedContext {
            window: peer_window.min(SEND_BUFFER_MAX),
            in_flight,
            queued: self.send_buf.len().saturating_sub(in_flight),
        }
    }

    /// Starts the receive side once the peer's IDSN is known (`idsn`; any base for TCP).
    fn start_receiving(&mut self, idsn: DataSeq) {
        let next = idsn + 1;
        self.rcv_nxt = next;
        self.recv.reset(SeqNum(next.0 as u32));
        self.rx_ready = true;
    }

    /// Makes some subflow send an ACK soon (it carries the DATA_ACK, the window, the
    /// DATA_FIN and any pending signal): the [`ack_carrier`](Self::ack_carrier).
    fn request_ack(&mut self) {
        if let Some(index) = self.ack_carrier() {
            self.subflows[index].tcp.ack_now = true;
        }
    }

    /// The subflow that carries what the connection level sends on its own (DATA_ACK,
    /// DATA_FIN, signals): the first one that works, if any does — an ACK on a "potentially
    /// failed" subflow (a path that went down, perhaps the first subflow's) may never
    /// arrive — else the first one alive.
    fn ack_carrier(&self) -> Option<usize> {
        let live =
            |s: &Subflow| s.join == Join::Done && s.tcp.state().is_synchronized() && !s.is_closed();
        self.subflows
            .iter()
            .position(|s| live(s) && !s.potentially_failed)
            .or_else(|| self.subflows.iter().position(live))
    }

    /// Subflows whose TCP connection is not over.
    fn live_subflows(&self) -> usize {
        self.subflows.iter().filter(|s| !s.is_closed()).count()
    }

    /// Whether a subflow other than `index` can carry data.
    fn other_can_carry(&self, index: usize) -> bool {
        self.any_other(index, Subflow::can_carry_data)
    }

    /// Whether a subflow other than `index` can carry data and is not suspected of having
    /// failed.
    fn other_works(&self, index: usize) -> bool {
        self.any_other(index, Subflow::works)
    }

    fn any_other(&self, index: usize, test: impl Fn(&Subflow) -> bool) -> bool {
        self.subflows
            .iter()
            .enumerate()
            .any(|(i, s)| i != index && test(s))
    }
}

/// What the stack gives a new connection: its key, interface, addresses and TCP settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Host<'a> {
    pub(crate) key: u64,
    pub(crate) iface: InterfaceId,
    pub(crate) addrs: &'a [LocalAddr],
    pub(crate) tcp: &'a TcpConfig,
}

/// A snapshot of one subflow (like the seeds' `MPTCP_GET_SUB_IDS` and `MPTCP_INFO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubflowInfo {
    /// Its id.
    pub id: SubflowId,
    /// Our address and port.
    pub local: SocketAddr,
    /// The peer's address and port.
    pub remote: SocketAddr,
    /// Address id of our end.
    pub local_id: u8,
    /// Address id of the peer's end, when known.
    pub remote_id: Option<u8>,
    /// The handshake (MP_CAPABLE or MP_JOIN) completed.
    pub established: bool,
    /// We asked for it to be a backup.
    pub backup: bool,
    /// The peer asked for it to be a backup.
    pub peer_backup: bool,
    /// Its TCP state and counters.
    pub tcp: TcpInfo,
}

impl MptcpConnection {
    /// Sets our priority of a subflow (MP_PRIO, RFC 8684 §3.3.8): a backup subflow carries
    /// data only when no other works. Returns false if there is no such subflow.
    pub fn set_backup(&mut self, subflow: SubflowId, backup: bool) -> bool {
        let mptcp = self.mode == Mode::Mptcp;
        let Some(sf) = self.subflows.iter_mut().find(|s| s.id == subflow) else {
            return false;
        };
        sf.backup = backup;
        if mptcp && !sf.is_closed() {
            sf.prio_pending = true;
            sf.tcp.ack_now = true;
        }
        true
    }

    /// Closes one subflow (FIN); its unacknowledged data goes on the others. Returns false
    /// if there is no such subflow.
    pub fn close_subflow(&mut self, subflow: SubflowId) -> bool {
        let Some(index) = self.subflows.iter().position(|s| s.id == subflow) else {
            return false;
        };
        self.reinject_from(index);
        let sf = &mut self.subflows[index];
        sf.retired = true;
        sf.tcp.shutdown();
        true
    }
}
