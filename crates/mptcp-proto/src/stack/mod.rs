//! One host's TCP endpoint: its addresses and interfaces, listeners and connections, with
//! the sans-I/O handle/poll API.
//!
//! # The caller's loop
//!
//! 1. Feed input: [`Stack::handle_packet`] for each IP packet received and
//!    [`Stack::handle_timeout`] when the deadline from `poll_timeout` has passed.
//! 2. Drain [`Stack::poll_transmit`] until it returns `None`, sending each packet on the
//!    interface it names.
//! 3. Read the next deadline with [`Stack::poll_timeout`].
//! 4. Drain [`Stack::poll_event`] and act on the events (application calls such as `send`,
//!    `recv` or `accept` may queue more output: go back to 2).
//!
//! ```
//! use mptcp_proto::stack::{Event, InterfaceConfig, Stack, StackConfig};
//! use mptcp_proto::time::Instant;
//! # struct Rng(u64);
//! # impl rand_core::RngCore for Rng {
//! #     fn next_u32(&mut self) -> u32 { self.next_u64() as u32 }
//! #     fn next_u64(&mut self) -> u64 { self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1); self.0 >> 11 }
//! #     fn fill_bytes(&mut self, dst: &mut [u8]) { for b in dst { *b = self.next_u32() as u8 } }
//! # }
//! let host = |addr: &str| {
//!     let config = StackConfig {
//!         interfaces: vec![InterfaceConfig::new(addr.parse().unwrap())],
//!         ..StackConfig::default()
//!     };
//!     Stack::new(config, Box::new(Rng(addr.len() as u64)))
//! };
//! let mut hosts = [host("10.0.0.1"), host("10.0.0.2")];
//! let listener = hosts[1].listen("10.0.0.2:80".parse().unwrap(), 8).unwrap();
//! let now = Instant::ZERO;
//! let conn = hosts[0].connect(now, "10.0.0.2:80".parse().unwrap(), None).unwrap();
//! let mut buf = [0u8; 2048];
//! // Three packets cross: SYN, SYN/ACK, ACK (a real caller would also honour poll_timeout).
//! for _ in 0..3 {
//!     for from in 0..2 {
//!         while let Some(t) = hosts[from].poll_transmit(now, &mut buf) {
//!             hosts[1 - from].handle_packet(now, t.iface, &buf[..t.len]);
//!         }
//!     }
//! }
//! assert_eq!(hosts[0].poll_event(), Some(Event::Connected(conn)));
//! assert_eq!(hosts[1].poll_event(), Some(Event::Incoming(listener)));
//! assert!(hosts[1].accept(listener).is_ok());
//! ```

mod config;
mod cookies;
mod demux;
mod events;
mod handles;
mod listen;
mod paths;

use core::net::{IpAddr, SocketAddr};
use core::ops::Bound;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use rand_core::RngCore;

pub use crate::conn::{CLOSED_HISTORY, SubflowId, SubflowInfo, SubflowTotals};
pub use config::{
    ConnectionConfig, InterfaceConfig, InterfaceId, MptcpConfig, StackConfig, TcpConfig,
};
pub use events::{CloseReason, ConnEvent, Event, StackStats, Transmit};
pub use handles::{
    AcceptError, ConnectError, ConnectionHandle, ListenError, ListenerHandle, RecvError, SendError,
    ShutdownError,
};
pub use listen::EVICT_AFTER;
pub use paths::OpenSubflowError;

use crate::conn::{Host, JoinSyn, MptcpConnection};
use crate::crypto::{MptcpVersion, key_material};
use crate::tcp::{ConnectionParams, TcpConnection, TcpInfo};
use crate::time::Instant;
use crate::wire::MptcpOption;
use crate::wire::mptcp::capable_flags;
use crate::wire::{
    IPV4_MIN_HEADER_LEN, IPV6_HEADER_LEN, IpProtocol, IpRepr, Ipv4Packet, Ipv4Repr, Ipv6Repr,
    SeqNum, TcpFlags, TcpOption, TcpPacket, TcpRepr, parse_ip_packet, write_tcp_packet,
};
use cookies::{CookieJar, CookieSynAck};
use demux::{Demux, reset_for};
use listen::Listener;

/// A connection and what the stack knows about it.
#[derive(Debug)]
struct Entry {
    conn: MptcpConnection,
    /// Its settings, which its new subflows take too.
    config: Arc<ConnectionConfig>,
    /// The listener it came from, until accepted.
    listener: Option<u64>,
    /// The application holds its handle (it opened or accepted it): only then are its
    /// events reported.
    owned: bool,
    /// The application called `close` or `abort`.
    released: bool,
}

/// A RST answering a segment that matched nothing.
#[derive(Debug, Clone, Copy)]
struct PendingReset {
    iface: InterfaceId,
    local: SocketAddr,
    remote: SocketAddr,
    seq: SeqNum,
    ack: SeqNum,
    flags: TcpFlags,
    /// MP_TCPRST reason to carry (RFC 8684 §3.6), for a refused join.
    mptcp_reason: Option<u8>,
}

/// One host's TCP endpoint (sans I/O). See the [module documentation](self) for the
/// caller's loop.
pub struct Stack {
    config: StackConfig,
    /// The settings of connections opened or accepted without their own (shared).
    defaults: Arc<ConnectionConfig>,
    rng: Box<dyn RngCore + Send>,
    conns: BTreeMap<u64, Entry>,
    /// Connection of each local MPTCP token (RFC 8684 §3.2: unique within the host).
    tokens: BTreeMap<u32, u64>,
    listeners: BTreeMap<u64, Listener>,
    demux: Demux,
    next_id: u64,
    events: VecDeque<Event>,
    resets: VecDeque<PendingReset>,
    /// The secret of our SYN cookies.
    cookies: CookieJar,
    /// SYN/ACKs with a cookie, waiting to be sent.
    cookie_replies: VecDeque<CookieSynAck>,
    /// Round-robin position of `poll_transmit`.
    cursor: u64,
    ip_ident: u16,
    /// The latest time handed in (for calls that take none, such as `recv`).
    now: Instant,
    stats: StackStats,
}

impl core::fmt::Debug for Stack {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Stack")
            .field("interfaces", &self.config.interfaces)
            .field("connections", &self.conns.len())
            .field("listeners", &self.listeners.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Stack {
    /// A host with `config`'s interfaces. Initial sequence numbers, timestamp offsets and
    /// ephemeral ports come from `rng` (seed it for repeatable runs).
    pub fn new(config: StackConfig, mut rng: Box<dyn RngCore + Send>) -> Self {
        let defaults = Arc::new(ConnectionConfig {
            tcp: config.tcp.clone(),
            mptcp: config.mptcp.clone(),
        });
        Self {
            config,
            defaults,
            cookies: CookieJar::new(&mut *rng),
            cookie_replies: VecDeque::new(),
            rng,
            conns: BTreeMap::new(),
            tokens: BTreeMap::new(),
            listeners: BTreeMap::new(),
            demux: Demux::default(),
            next_id: 1,
            events: VecDeque::new(),
            resets: VecDeque::new(),
            cursor: 0,
            ip_ident: 0,
            now: Instant::ZERO,
            stats: StackStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &StackConfig {
        &self.config
    }

    /// The settings a connection gets without its own: the stack's, to change and hand to
    /// [`connect_with`](Self::connect_with) or [`listen_with`](Self::listen_with).
    pub fn connection_config(&self) -> ConnectionConfig {
        (*self.defaults).clone()
    }

    /// Packet counters.
    pub fn stats(&self) -> StackStats {
        self.stats
    }

    /// Subflows of every connection (a plain TCP connection has one) that have not
    /// finished their closing handshake: neither closed nor in TIME-WAIT, established ones
    /// included. A program about to end waits (a bounded time) for none to be left: from
    /// TIME-WAIT on, the peer has the ACK of its FIN (RFC 9293 §3.6), while a FIN that
    /// arrives after we are gone is never answered and leaves the peer's side in LAST-ACK.
    pub fn open_subflows(&self) -> usize {
        self.conns.values().map(|e| e.conn.open_subflows()).sum()
    }

    fn iface_of(&self, ip: IpAddr) -> Option<InterfaceId> {
        self.config
            .interfaces
            .iter()
            .position(|iface| iface.addrs.contains(&ip))
            .map(InterfaceId)
    }

    /// The MSS we announce on `iface` for `ip`'s family (RFC 9293 §3.7.1), with `tcp`'s
    /// settings.
    fn our_mss(&self, iface: InterfaceId, ip: IpAddr, tcp: &TcpConfig) -> u16 {
        let mtu = self.config.interfaces.get(iface.0).map_or(1500, |i| i.mtu);
        let headers = if ip.is_ipv4() { 40 } else { 60 };
        let max = mtu.saturating_sub(headers).clamp(64, 65_495) as u16;
        tcp.mss.map_or(max, |mss| mss.clamp(64, max))
    }

    /// A fresh MPTCP key whose token no other connection of the host has (RFC 8684 §3.2:
    /// a colliding key is drawn again).
    fn new_key(&mut self) -> u64 {
        loop {
            let key = self.rng.next_u64();
            let token = key_material(MptcpVersion::V1, key).token;
            if !self.tokens.contains_key(&token) {
                return key;
            }
        }
    }

    /// Wraps a first subflow into a connection with settings `config` and registers it under
    /// `id`.
    fn insert_conn(
        &mut self,
        id: u64,
        conn: MptcpConnection,
        config: Arc<ConnectionConfig>,
        listener: Option<u64>,
    ) {
        let (local, remote) = (conn.local_addr(), conn.peer_addr());
        self.demux.insert_conn(local, remote, id);
        self.tokens.insert(conn.local_token(), id);
        self.conns.insert(
            id,
            Entry {
                conn,
                config,
                listener,
                owned: listener.is_none(),
                released: false,
            },
        );
    }

    fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn params(
        &mut self,
        iface: InterfaceId,
        local: SocketAddr,
        remote: SocketAddr,
        tcp: &TcpConfig,
    ) -> ConnectionParams {
        ConnectionParams {
            local,
            remote,
            // RFC 9293 §3.4.1 / RFC 6528: unpredictable ISNs, here from the injected generator.
            iss: SeqNum(self.rng.next_u32()),
            ts_offset: self.rng.next_u32(),
            mss: self.our_mss(iface, local.ip(), tcp),
        }
    }

    fn ephemeral_port(&mut self, ip: IpAddr, remote: SocketAddr) -> Option<u16> {
        let (lo, hi) = self.config.ephemeral_ports;
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        let span = u32::from(hi - lo) + 1;
        for _ in 0..256 {
            let port = lo + (self.rng.next_u32() % span) as u16;
            let local = SocketAddr::new(ip, port);
            if port != 0
                && self.demux.conn(local, remote).is_none()
                && !self.demux.port_used(ip, port)
            {
                return Some(port);
            }
        }
        None
    }

    /// Opens a connection to `remote` (RFC 9293 §3.10.1). Without `local`, the first address
    /// of the remote's family on the first interface that has one is used, with an ephemeral
    /// port; a `local` with port 0 gets an ephemeral port. [`Event::Connected`] follows, or
    /// [`Event::Closed`] with [`CloseReason::Refused`] or [`CloseReason::TimedOut`]. The
    /// connection has the stack's settings.
    pub fn connect(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: Option<SocketAddr>,
    ) -> Result<ConnectionHandle, ConnectError> {
        self.open(now, remote, local, self.defaults.clone())
    }

    /// [`connect`](Self::connect) with settings of its own (see
    /// [`connection_config`](Self::connection_config)).
    pub fn connect_with(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: Option<SocketAddr>,
        config: ConnectionConfig,
    ) -> Result<ConnectionHandle, ConnectError> {
        self.open(now, remote, local, Arc::new(config))
    }

    fn open(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: Option<SocketAddr>,
        config: Arc<ConnectionConfig>,
    ) -> Result<ConnectionHandle, ConnectError> {
        self.now = self.now.max(now);
        if remote.ip().is_unspecified() || remote.port() == 0 {
            return Err(ConnectError::InvalidAddress);
        }
        let ip = match local {
            Some(local) if !local.ip().is_unspecified() => local.ip(),
            _ => self
                .config
                .interfaces
                .iter()
                .flat_map(|i| i.addrs.iter())
                .find(|a| a.is_ipv4() == remote.is_ipv4())
                .copied()
                .ok_or(ConnectError::AddrNotAvailable)?,
        };
        if ip.is_ipv4() != remote.is_ipv4() {
            return Err(ConnectError::AddrNotAvailable);
        }
        let iface = self.iface_of(ip).ok_or(ConnectError::AddrNotAvailable)?;
        let port = match local.map(|l| l.port()) {
            Some(port) if port != 0 => port,
            _ => self
                .ephemeral_port(ip, remote)
                .ok_or(ConnectError::NoPorts)?,
        };
        let local = SocketAddr::new(ip, port);
        if self.demux.conn(local, remote).is_some() {
            return Err(ConnectError::AddrInUse);
        }
        let params = self.params(iface, local, remote, &config.tcp);
        let tcp = TcpConnection::connect(now, &config.tcp, params);
        let key = self.new_key();
        let addrs = self.addresses();
        let host = Host {
            key,
            iface,
            addrs: &addrs,
            tcp: &config.tcp,
        };
        let conn = MptcpConnection::connect(&config.mptcp, host, tcp);
        let id = self.new_id();
        self.insert_conn(id, conn, config, None);
        Ok(ConnectionHandle(id))
    }

    fn entry(&mut self, conn: ConnectionHandle) -> Option<&mut Entry> {
        self.conns.get_mut(&conn.0).filter(|e| e.listener.is_none())
    }

    /// Queues data (RFC 9293 §3.10.2); returns how much fit in the send buffer.
    /// `Err(WouldBlock)` when none did: wait for [`Event::Writable`].
    pub fn send(&mut self, conn: ConnectionHandle, data: &[u8]) -> Result<usize, SendError> {
        let entry = self.entry(conn).ok_or(SendError::InvalidHandle)?;
        match entry.conn.send(data) {
            None => Err(SendError::Closed),
            Some(0) if !data.is_empty() => Err(SendError::WouldBlock),
            Some(n) => Ok(n),
        }
    }

    /// Reads received data (RFC 9293 §3.10.3). `Ok(0)` at the end of the stream (after the
    /// peer's FIN); `Err(WouldBlock)` when nothing is buffered yet.
    pub fn recv(&mut self, conn: ConnectionHandle, buf: &mut [u8]) -> Result<usize, RecvError> {
        let now = self.now;
        let entry = self.entry(conn).ok_or(RecvError::InvalidHandle)?;
        let n = entry.conn.recv(now, buf);
        let result = if n > 0 || buf.is_empty() || entry.conn.at_eof() {
            Ok(n)
        } else {
            match entry.conn.close_reason() {
                None => Err(RecvError::WouldBlock),
                Some(CloseReason::Reset) => Err(RecvError::Reset),
                Some(CloseReason::Normal) => Ok(0),
                Some(_) => Err(RecvError::Closed),
            }
        };
        self.after(conn.0);
        result
    }

    /// Half-close: a FIN follows the queued data (RFC 9293 §3.10.4); receiving goes on.
    pub fn shutdown(&mut self, conn: ConnectionHandle) -> Result<(), ShutdownError> {
        let entry = self.entry(conn).ok_or(ShutdownError::InvalidHandle)?;
        if entry.conn.shutdown() {
            Ok(())
        } else {
            Err(ShutdownError::NotConnected)
        }
    }

    /// Closes the connection (RFC 9293 §3.10.4): FIN after the queued data, then the closing
    /// handshake runs on its own and ends with [`Event::Closed`]. Unread received data turns
    /// it into an abort.
    pub fn close(&mut self, conn: ConnectionHandle) {
        if let Some(entry) = self.entry(conn) {
            entry.released = true;
            entry.conn.close();
            self.after(conn.0);
        }
    }

    /// Aborts the connection (RFC 9293 §3.10.5): sends RST and drops all data.
    pub fn abort(&mut self, conn: ConnectionHandle) {
        if let Some(entry) = self.entry(conn) {
            entry.released = true;
            entry.conn.abort();
            self.after(conn.0);
        }
    }

    /// A snapshot of the state and counters of the connection's first subflow.
    pub fn tcp_info(&self, conn: ConnectionHandle) -> Option<TcpInfo> {
        self.conns.get(&conn.0).and_then(|e| e.conn.info())
    }

    /// Whether the peer acknowledged everything we sent, our FIN (DATA_FIN for MPTCP)
    /// included; [`Event::SendComplete`] says when this turns true. `None` for an unknown
    /// handle. A graceful close waits for it after [`shutdown`](Stack::shutdown): a TCP
    /// connection that sent its FIN first only ends (with [`Event::Closed`]) after
    /// TIME-WAIT, but nothing of ours is in flight once this is true.
    pub fn send_complete(&self, conn: ConnectionHandle) -> Option<bool> {
        self.conns.get(&conn.0).map(|e| e.conn.send_complete())
    }

    /// Why the connection ended, once it has (`None` while it is open).
    pub fn close_reason(&self, conn: ConnectionHandle) -> Option<CloseReason> {
        self.conns.get(&conn.0).and_then(|e| e.conn.close_reason())
    }

    /// Whether the connection speaks MPTCP (false for plain TCP and after a fallback).
    pub fn is_mptcp(&self, conn: ConnectionHandle) -> Option<bool> {
        self.conns.get(&conn.0).map(|e| e.conn.is_mptcp())
    }

    /// The connection's local address (its first subflow's).
    pub fn local_addr(&self, conn: ConnectionHandle) -> Option<SocketAddr> {
        self.conns.get(&conn.0).map(|e| e.conn.local_addr())
    }

    /// The connection's peer address (its first subflow's).
    pub fn peer_addr(&self, conn: ConnectionHandle) -> Option<SocketAddr> {
        self.conns.get(&conn.0).map(|e| e.conn.peer_addr())
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Takes one IP packet received on `iface`. Packets that are malformed, fail a checksum,
    /// are not TCP or not for this host are dropped and counted ([`Stack::stats`]); nothing
    /// panics on any input.
    pub fn handle_packet(&mut self, now: Instant, iface: InterfaceId, packet: &[u8]) {
        self.now = self.now.max(now);
        self.stats.packets_in += 1;
        let Ok(ip) = parse_ip_packet(packet) else {
            self.stats.malformed += 1;
            return;
        };
        if ip.protocol != IpProtocol::TCP || ip.fragment.is_some() {
            self.stats.not_for_us += 1;
            return;
        }
        if matches!(ip.ip, IpRepr::Ipv4(_))
            && !Ipv4Packet::new_checked(packet).is_ok_and(|p| p.verify_checksum())
        {
            self.stats.bad_checksum += 1;
            return;
        }
        let (src, dst) = (ip.ip.src_addr(), ip.ip.dst_addr());
        if self.iface_of(dst).is_none() {
            self.stats.not_for_us += 1;
            return;
        }
        let Ok(packet) = TcpPacket::new_checked(ip.payload) else {
            self.stats.malformed += 1;
            return;
        };
        if !packet.verify_checksum(src, dst) {
            self.stats.bad_checksum += 1;
            return;
        }
        let Ok(seg) = TcpRepr::parse(&packet) else {
            self.stats.malformed += 1;
            return;
        };
        if seg.src_port == 0 || seg.dst_port == 0 || src.is_unspecified() || src.is_multicast() {
            self.stats.malformed += 1;
            return;
        }
        let local = SocketAddr::new(dst, seg.dst_port);
        let remote = SocketAddr::new(src, seg.src_port);
        if let Some(id) = self.demux.conn(local, remote) {
            if let Some(entry) = self.conns.get_mut(&id) {
                if let Some(index) = entry.conn.subflow_index(local, remote) {
                    entry.conn.handle_segment(now, index, &seg);
                }
            }
            self.after(id);
            return;
        }
        let iface = self.iface_of(dst).unwrap_or(iface);
        if seg.flags == TcpFlags::SYN {
            if let Some(join) = JoinSyn::of(&seg) {
                // RFC 8684 §3.2: a join names its connection by token, whatever the port.
                self.on_join_syn(now, iface, local, remote, &seg, join);
                return;
            }
        }
        if let Some(lid) = self.demux.listener(local) {
            self.on_listen(now, iface, lid, local, remote, &seg);
            return;
        }
        self.queue_reset(iface, local, remote, &seg);
    }

    fn queue_reset(
        &mut self,
        iface: InterfaceId,
        local: SocketAddr,
        remote: SocketAddr,
        seg: &TcpRepr<'_>,
    ) {
        self.queue_reset_with(iface, local, remote, seg, None);
    }

    /// Queues the RST answering `seg` (at most 1024 wait; more are dropped), with an
    /// MP_TCPRST of `mptcp_reason` if given.
    fn queue_reset_with(
        &mut self,
        iface: InterfaceId,
        local: SocketAddr,
        remote: SocketAddr,
        seg: &TcpRepr<'_>,
        mptcp_reason: Option<u8>,
    ) {
        if let Some((seq, ack, flags)) = reset_for(seg) {
            if self.resets.len() < 1024 {
                self.resets.push_back(PendingReset {
                    iface,
                    local,
                    remote,
                    seq,
                    ack,
                    flags,
                    mptcp_reason,
                });
            }
        }
    }

    /// Moves a connection's events to the stack's queue and drops it once finished.
    fn after(&mut self, id: u64) {
        let Some(entry) = self.conns.get_mut(&id) else {
            return;
        };
        let demux = &mut self.demux;
        entry
            .conn
            .reap_subflows(|local, remote| demux.remove_conn(local, remote));
        let handle = ConnectionHandle(id);
        while let Some(event) = entry.conn.poll_event() {
            match (entry.listener, event) {
                (Some(lid), ConnEvent::Connected) => {
                    if let Some(l) = self.listeners.get_mut(&lid) {
                        l.established(id);
                        self.events.push_back(Event::Incoming(ListenerHandle(lid)));
                    }
                }
                (Some(lid), ConnEvent::Closed(_)) => {
                    if let Some(l) = self.listeners.get_mut(&lid) {
                        l.closed(id);
                    }
                    entry.listener = None;
                    entry.released = true;
                }
                // Not accepted (a listener's, or orphaned when its listener closed or it
                // failed before `accept`): nobody holds the handle.
                (Some(_), _) => {}
                (None, _) if !entry.owned => {}
                (None, event) => self.events.push_back(match event {
                    ConnEvent::Connected => Event::Connected(handle),
                    ConnEvent::Readable => Event::Readable(handle),
                    ConnEvent::Writable => Event::Writable(handle),
                    ConnEvent::PeerClosed => Event::PeerClosed(handle),
                    ConnEvent::SendComplete => Event::SendComplete(handle),
                    ConnEvent::Closed(reason) => Event::Closed(handle, reason),
                    other => Event::Mptcp(handle, other),
                }),
            }
        }
        self.open_requested_subflows(id);
        self.reap(id);
    }

    fn reap(&mut self, id: u64) {
        let Some(entry) = self.conns.get(&id) else {
            return;
        };
        // The handle stays valid (recv reports the end or the error) until the
        // application releases it with `close` or `abort`.
        let done = entry.conn.is_finished() && entry.listener.is_none() && entry.released;
        if done {
            self.forget(id);
        }
    }

    /// Drops connection `id` and every trace of it (its 4-tuples, its token).
    fn forget(&mut self, id: u64) {
        let Some(entry) = self.conns.remove(&id) else {
            return;
        };
        for (local, remote) in entry.conn.tuples() {
            self.demux.remove_conn(local, remote);
        }
        self.tokens.remove(&entry.conn.local_token());
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        // In id order, without collecting the due ids: `after` may drop the connection, so
        // each step looks up the next due one after the last id handled.
        let mut after = None;
        while let Some(id) = self.next_due(after, now) {
            after = Some(id);
            if let Some(entry) = self.conns.get_mut(&id) {
                entry.conn.handle_timeout(now);
            }
            self.after(id);
        }
    }

    /// The first connection after id `after` (from the start if `None`) whose timer is due
    /// at `now`.
    fn next_due(&self, after: Option<u64>, now: Instant) -> Option<u64> {
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.conns
            .range((from, Bound::Unbounded))
            .find(|(_, e)| e.conn.poll_timeout().is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
    }

    /// The next instant at which [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.conns
            .values()
            .filter_map(|e| e.conn.poll_timeout())
            .min()
    }

    /// Writes the next IP packet to send into `buf` (which should hold the interface MTU)
    /// and says on which interface it goes; `None` when nothing is ready. Connections take
    /// turns.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        self.now = self.now.max(now);
        if let Some(rst) = self.resets.pop_front() {
            let len = self.emit_reset(&rst, buf)?;
            self.stats.resets_sent += 1;
            self.stats.packets_out += 1;
            return Some(Transmit {
                iface: rst.iface,
                len,
            });
        }
        if let Some(reply) = self.cookie_replies.pop_front() {
            let len = write_tcp_packet(reply.local.ip(), reply.remote.ip(), &reply.repr(), buf)?;
            self.stats.packets_out += 1;
            return Some(Transmit {
                iface: reply.iface,
                len,
            });
        }
        // Round robin from the connection after the last one that sent, wrapping around
        // once; nothing below adds or drops connections until a segment is written.
        let mut at = self.cursor;
        for _ in 0..self.conns.len() {
            let Some(id) = self.conn_after(at) else {
                break;
            };
            at = id;
            let Some(entry) = self.conns.get_mut(&id) else {
                continue;
            };
            let header = if entry.conn.local_addr().is_ipv4() {
                IPV4_MIN_HEADER_LEN
            } else {
                IPV6_HEADER_LEN
            };
            let Some(out) = buf
                .get_mut(header..)
                .and_then(|b| entry.conn.poll_transmit(now, b))
            else {
                continue;
            };
            let iface = out.iface;
            self.ip_ident = self.ip_ident.wrapping_add(1);
            let len = write_ip_header(buf, out.local.ip(), out.remote.ip(), out.len, self.ip_ident);
            self.cursor = id;
            self.stats.packets_out += 1;
            self.after(id);
            return Some(Transmit { iface, len });
        }
        None
    }

    /// The id of the connection after id `at`, wrapping around to the first.
    fn conn_after(&self, at: u64) -> Option<u64> {
        let from = Bound::Excluded(at);
        self.conns
            .range((from, Bound::Unbounded))
            .next()
            .or_else(|| self.conns.iter().next())
            .map(|(id, _)| *id)
    }

    fn emit_reset(&self, rst: &PendingReset, buf: &mut [u8]) -> Option<usize> {
        let repr = TcpRepr {
            src_port: rst.local.port(),
            dst_port: rst.remote.port(),
            seq_number: rst.seq,
            ack_number: rst.ack,
            flags: rst.flags,
            window_len: 0,
            urgent_at: 0,
            options: rst
                .mptcp_reason
                .map(|reason| {
                    TcpOption::Mptcp(MptcpOption::MpTcpRst {
                        transient: false,
                        reason,
                    })
                })
                .into_iter()
                .collect(),
            payload: &[],
        };
        write_tcp_packet(rst.local.ip(), rst.remote.ip(), &repr, buf)
    }
}

/// The flags of a SYN's MP_CAPABLE if it is one we accept: version 1, HMAC-SHA256, no
/// extensibility bit (as Linux: a SYN with B set or of version 0 gets plain TCP).
pub(super) fn syn_capable(seg: &TcpRepr<'_>) -> Option<u8> {
    seg.mptcp_options().find_map(|o| match o {
        MptcpOption::MpCapable(c)
            if c.version == 1
                && c.flags & capable_flags::EXTENSIBILITY == 0
                && c.flags & capable_flags::HMAC_SHA != 0 =>
        {
            Some(c.flags)
        }
        _ => None,
    })
}

/// Writes the IP header in front of a TCP segment of `segment` bytes; returns the packet
/// length.
fn write_ip_header(buf: &mut [u8], src: IpAddr, dst: IpAddr, segment: usize, ident: u16) -> usize {
    let ip = match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => IpRepr::Ipv4(Ipv4Repr {
            src,
            dst,
            protocol: IpProtocol::TCP,
            payload_len: segment,
            ttl: 64,
            dscp_ecn: 0,
            ident,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            options: &[],
        }),
        (src, dst) => IpRepr::Ipv6(Ipv6Repr {
            src: to_v6(src),
            dst: to_v6(dst),
            next_header: IpProtocol::TCP,
            payload_len: segment,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        }),
    };
    ip.emit(buf);
    ip.buffer_len()
}

fn to_v6(ip: IpAddr) -> core::net::Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}
