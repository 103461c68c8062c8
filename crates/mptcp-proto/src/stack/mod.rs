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

mod addresses;
mod api;
mod config;
mod cookies;
mod demux;
mod events;
mod handles;
mod input;
mod listen;
mod live;
mod output;
mod paths;

use core::net::{IpAddr, SocketAddr};
use core::ops::Bound;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use rand_core::RngCore;

pub use crate::conn::{CLOSED_HISTORY, SubflowId, SubflowInfo, SubflowTotals};
pub use addresses::AddressError;
pub use config::{
    ConnectionConfig, InterfaceConfig, InterfaceId, MptcpConfig, MptcpEnabled, StackConfig,
    TcpConfig,
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
    /// Address ids of the host's addresses.
    addr_ids: addresses::AddressIds,
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
        let addr_ids =
            addresses::AddressIds::new(config.interfaces.iter().flat_map(|i| i.addrs.iter()));
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
            addr_ids,
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

    /// `config` as the stack allows it: with MPTCP off for the whole stack
    /// ([`MptcpEnabled::Off`]), a connection that asks for MPTCP gets plain TCP, as a socket
    /// setting `MPTCP_ENABLED` does with the seeds' sysctl at 0.
    fn permitted(&self, config: Arc<ConnectionConfig>) -> Arc<ConnectionConfig> {
        if self.config.mptcp.enabled != MptcpEnabled::Off || !config.mptcp.enabled.is_on() {
            return config;
        }
        let mut plain = (*config).clone();
        plain.mptcp.enabled = MptcpEnabled::Off;
        Arc::new(plain)
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
}
