//! Two `Stack`s, each with two addresses, joined by a wire the input steers, and their
//! applications' calls: the input is a sequence of steps, each one of
//!
//! - the wire: deliver, drop or duplicate the packet at some position of the queue (any order,
//!   so reordering too), or run it for some rounds (everything in flight delivered; an empty
//!   wire moves time on to the next timer);
//! - time: advance the clock by an amount and call `handle_timeout` on both;
//! - a hostile packet aimed at a subflow on the wire (the generators `stack_input` uses:
//!   raw bytes, fuzzed TCP segments, well-formed MPTCP options built from the live keys);
//! - an application call on either host: listen, accept, close_listener, connect, send
//!   (bounded sizes), recv, shutdown, close, abort, open_subflow, close_subflow, set_backup,
//!   remove_address, and the getters (subflows, tcp_info, ...).
//!
//! Input layout: byte 0 picks the settings (see [`stack`]), then steps `[op, args...]` as
//! [`World::step`] reads them.
//!
//! Invariants, beyond "nothing panics":
//!
//! - after every step both hosts go quiet in bounded steps: their transmits and events drain
//!   and no timer stays due at the current instant;
//! - what an application reads is a prefix of what the peer's application sent on that
//!   connection (connections are paired by their first subflow's addresses; a read whose
//!   pairing is ambiguous because an address pair was used twice is not checked).
//!
//! Without DSS checksums (the default, as in Linux) nothing can tell a forged in-window
//! payload from real data, so the data check holds only until the input injects a hostile
//! packet that the stack would parse as a TCP segment carrying payload or a DSS mapping:
//! from then on, for the rest of that input, reads are no longer checked. Hostile packets
//! without either (flags, ACKs, DATA_ACKs, MP_JOIN, ADD_ADDR, MP_FASTCLOSE, ...) may end or
//! stall a transfer but never change its bytes, so they keep the check on. The wire itself
//! never corrupts, and drops packets that outlived the maximum segment lifetime (30 s,
//! half of TIME-WAIT) rather than delivering them.
#![no_main]

mod common;

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use common::{Counter, Keys, Seen, byte, hostile, inspect};
use libfuzzer_sys::fuzz_target;
use mptcp_proto::stack::{
    ConnectionHandle, Event, InterfaceConfig, InterfaceId, ListenerHandle, MptcpConfig, Stack,
    StackConfig, SubflowId, TcpConfig,
};
use mptcp_proto::time::Instant;
use mptcp_proto::wire::parse_ip_packet;
use rand_core::RngCore;

/// Each host's two addresses, one per interface.
const ADDRS: [[Ipv4Addr; 2]; 2] = [
    [Ipv4Addr::new(10, 0, 1, 1), Ipv4Addr::new(10, 0, 2, 1)],
    [Ipv4Addr::new(10, 0, 1, 2), Ipv4Addr::new(10, 0, 2, 2)],
];
/// The ports listeners use and connections go to.
const PORTS: [u16; 2] = [80, 81];
/// Transmits, events and due timers a host may produce in one step before it counts as
/// never going quiet.
const QUIET_STEPS: usize = 10_000;
/// Packets the wire holds; it drops what comes beyond.
const WIRE_CAPACITY: usize = 4096;
/// The maximum segment lifetime: older packets on the wire are dropped, not delivered.
const MSL: Duration = Duration::from_secs(30);

/// Host `host`'s stack, with the settings of the input's first byte: bit `host` turns its
/// MPTCP off; then, for both, bit 2 asks for DSS checksums, 3 picks the "default" path
/// manager instead of "simple", 4 turns pacing off, 5 makes buffers small (16 KiB),
/// 6 sets nodelay and 7 turns keep-alives on (10 s).
fn stack(host: usize, settings: u8) -> Stack {
    let bit = |i: usize| settings & (1 << i) != 0;
    let buffer = |default| if bit(5) { 16 * 1024 } else { default };
    let defaults = TcpConfig::default();
    let tcp = TcpConfig {
        pacing: !bit(4),
        nodelay: bit(6),
        keepalive: bit(7).then(|| Duration::from_secs(10)),
        send_buffer: buffer(defaults.send_buffer),
        recv_buffer: buffer(defaults.recv_buffer),
        recv_buffer_max: buffer(defaults.recv_buffer_max),
        ..defaults
    };
    let mptcp = MptcpConfig {
        enabled: (!bit(host)).into(),
        checksum: bit(2),
        path_manager: if bit(3) { "default" } else { "simple" }
            .parse()
            .expect("a built-in path manager"),
        ..MptcpConfig::default()
    };
    let interfaces = ADDRS[host]
        .iter()
        .map(|addr| InterfaceConfig::new(IpAddr::V4(*addr)))
        .collect();
    let config = StackConfig {
        interfaces,
        tcp,
        mptcp,
        ..StackConfig::default()
    };
    Stack::new(config, Box::new(Counter(host as u64 + 1)))
}

/// The host that has address `ip`, if one does.
fn host_of(ip: IpAddr) -> Option<usize> {
    ADDRS
        .iter()
        .position(|addrs| addrs.iter().any(|a| IpAddr::V4(*a) == ip))
}

/// The interface of host `host` a packet arrives on: the one with its destination address.
fn iface(host: usize, packet: &[u8]) -> InterfaceId {
    let dst = parse_ip_packet(packet).map(|ip| ip.ip.dst_addr());
    let index = ADDRS[host].iter().position(|a| dst == Ok(IpAddr::V4(*a)));
    InterfaceId(index.unwrap_or(0))
}

/// A connection as its application knows it.
struct Conn {
    handle: ConnectionHandle,
    /// Its first subflow's addresses, when it was opened or accepted.
    local: SocketAddr,
    peer: SocketAddr,
    /// Every byte `send` took, in order.
    sent: Vec<u8>,
    /// Every byte `recv` gave, in order.
    read: Vec<u8>,
}

impl Conn {
    fn new(stack: &Stack, handle: ConnectionHandle) -> Self {
        Self {
            handle,
            local: stack
                .local_addr(handle)
                .expect("a new connection has an address"),
            peer: stack
                .peer_addr(handle)
                .expect("a new connection has a peer"),
            sent: Vec::new(),
            read: Vec::new(),
        }
    }
}

/// One host: its stack and what its application did.
struct Host {
    stack: Stack,
    listeners: Vec<ListenerHandle>,
    conns: Vec<Conn>,
    /// The sender key of the last MP_CAPABLE it sent.
    key: u64,
}

/// Every event names a connection the application opened or accepted, or one of its
/// listeners.
fn check_owner(h: usize, host: &Host, event: &Event) {
    let owned = match *event {
        Event::Incoming(listener) => host.listeners.contains(&listener),
        Event::Connected(c)
        | Event::Readable(c)
        | Event::Writable(c)
        | Event::PeerClosed(c)
        | Event::SendComplete(c)
        | Event::Closed(c, _)
        | Event::Mptcp(c, _) => host.conns.iter().any(|conn| conn.handle == c),
    };
    assert!(
        owned,
        "host {h} reported {event:?} for a handle it never gave out"
    );
}

/// A packet on the wire.
struct Packet {
    to: usize,
    bytes: Vec<u8>,
    sent_at: Instant,
}

/// The input, read front to back; 0 past its end.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let b = byte(self.0, 0);
        self.0 = self.0.get(1..).unwrap_or_default();
        b
    }

    fn bytes(&mut self, len: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(len.min(self.0.len()));
        self.0 = tail;
        head
    }
}

/// Both hosts, the wire between them and the clock.
struct World {
    now: Instant,
    hosts: [Host; 2],
    wire: VecDeque<Packet>,
    /// The last packet either host sent, for hostile packets to aim at when the wire is
    /// empty.
    last: Option<Seen>,
    /// Where the bytes applications send come from.
    data: Counter,
    /// A hostile packet that could change what an application reads was injected: reads are
    /// no longer checked.
    tainted: bool,
    /// Where the hosts write their packets.
    buf: Vec<u8>,
}

impl World {
    fn new(settings: u8) -> Self {
        let host = |i| Host {
            stack: stack(i, settings),
            listeners: Vec::new(),
            conns: Vec::new(),
            key: 0,
        };
        Self {
            now: Instant::from_millis(1),
            hosts: [host(0), host(1)],
            wire: VecDeque::new(),
            last: None,
            data: Counter(7),
            tainted: false,
            buf: vec![0; 65536],
        }
    }

    /// Runs one step of `input` (its op byte modulo 20 picks the step, as fuzz/README.md's
    /// table says), then lets both hosts go quiet.
    fn step(&mut self, input: &mut Input<'_>) {
        let op = input.byte();
        let arg = input.byte();
        match op % 20 {
            0 => self.deliver(arg),
            1 => drop(self.take(arg)),
            2 => self.duplicate(arg),
            3 => self.run_wire(arg),
            4 => self.advance(arg),
            5 => {
                let kind = input.byte();
                let len = usize::from(input.byte());
                self.inject(arg, kind, input.bytes(len));
            }
            6 => self.listen(arg),
            7 => self.connect(arg),
            8 => self.accept(arg),
            9 => self.close_listener(arg),
            10 => self.send(arg, input.byte()),
            11 => self.recv(arg, input.byte()),
            12 => self.on_conn(arg, |s, c| {
                let _ = s.shutdown(c);
            }),
            13 => self.on_conn(arg, Stack::close),
            14 => self.on_conn(arg, Stack::abort),
            15 => self.open_subflow(arg, input.byte()),
            16 => self.close_subflow(arg, input.byte()),
            17 => self.set_backup(arg, input.byte()),
            18 => self.remove_address(arg, input.byte()),
            _ => self.query(arg),
        }
        self.settle();
    }

    /// Lets both hosts go quiet at `now`: their packets go onto the wire, their events are
    /// drained, and timers due run.
    fn settle(&mut self) {
        for h in 0..2 {
            let mut doing = "";
            for _ in 0..QUIET_STEPS {
                let host = &mut self.hosts[h];
                if let Some(transmit) = host.stack.poll_transmit(self.now, &mut self.buf) {
                    self.put_on_wire(h, transmit.len);
                    doing = "transmitting";
                } else if let Some(event) = host.stack.poll_event() {
                    check_owner(h, host, &event);
                    doing = "reporting events";
                } else if host.stack.poll_timeout().is_some_and(|t| t <= self.now) {
                    host.stack.handle_timeout(self.now);
                    doing = "running due timers";
                } else {
                    doing = "";
                    break;
                }
            }
            assert!(
                doing.is_empty(),
                "host {h} kept {doing} for {QUIET_STEPS} steps at {:?}",
                self.now
            );
        }
    }

    /// Puts the packet host `from` wrote into `buf` on the wire towards the other host.
    fn put_on_wire(&mut self, from: usize, len: usize) {
        let bytes = self.buf[..len].to_vec();
        if let Some(seen) = inspect(&bytes) {
            let key = &mut self.hosts[from].key;
            *key = seen.capable_key.unwrap_or(*key);
            self.last = Some(seen);
        }
        if self.wire.len() < WIRE_CAPACITY {
            self.wire.push_back(Packet {
                to: 1 - from,
                bytes,
                sent_at: self.now,
            });
        }
    }

    /// Takes the packet at position `index` (modulo the queue's length) off the wire.
    fn take(&mut self, index: u8) -> Option<Packet> {
        let len = self.wire.len();
        (len > 0)
            .then(|| self.wire.remove(usize::from(index) % len))
            .flatten()
    }

    /// Delivers the packet at `index`, unless it outlived the MSL.
    fn deliver(&mut self, index: u8) {
        if let Some(packet) = self.take(index)
            && packet.sent_at + MSL >= self.now
        {
            let iface = iface(packet.to, &packet.bytes);
            self.hosts[packet.to]
                .stack
                .handle_packet(self.now, iface, &packet.bytes);
        }
    }

    /// Queues a copy of the packet at `index` behind the others.
    fn duplicate(&mut self, index: u8) {
        let len = self.wire.len();
        if len > 0 && len < WIRE_CAPACITY {
            let packet = &self.wire[usize::from(index) % len];
            let copy = Packet {
                to: packet.to,
                bytes: packet.bytes.clone(),
                sent_at: packet.sent_at,
            };
            self.wire.push_back(copy);
        }
    }

    /// Runs the wire for `rounds % 32 + 1` rounds: each delivers what is in flight, in
    /// order, then lets the hosts answer (the answers go in the next round); a round that
    /// finds the wire empty moves the clock to the next timer first (and ends the run if
    /// there is none).
    fn run_wire(&mut self, rounds: u8) {
        for _ in 0..=rounds % 32 {
            if self.wire.is_empty() {
                let timers = self.hosts.iter().filter_map(|h| h.stack.poll_timeout());
                let Some(next) = timers.min() else {
                    return;
                };
                self.now = self.now.max(next);
            }
            for _ in 0..self.wire.len() {
                self.deliver(0);
            }
            self.settle();
        }
    }

    /// Moves the clock on by `arg²` ms (up to 65 s) and calls both hosts' timers, due or not.
    fn advance(&mut self, arg: u8) {
        self.now += Duration::from_millis(u64::from(arg).pow(2));
        for host in &mut self.hosts {
            host.stack.handle_timeout(self.now);
        }
    }

    /// A hostile packet of `kind` from `body` (see `common::hostile`), impersonating the
    /// sender of the packet at `index` on the wire (or of the last one sent) towards its
    /// receiver, with the live MPTCP keys.
    fn inject(&mut self, index: u8, kind: u8, body: &[u8]) {
        let template = match self.wire.len() {
            0 => self.last,
            len => inspect(&self.wire[usize::from(index) % len].bytes),
        };
        let Some(seen) = template else {
            return;
        };
        let Some(to) = host_of(seen.dst.ip()) else {
            return;
        };
        let keys = Keys {
            target: self.hosts[to].key,
            peer: self.hosts[1 - to].key,
        };
        let Some(aim) = seen.aim(keys) else {
            return;
        };
        let packet = hostile(kind, body, &aim);
        self.tainted |= inspect(&packet).is_some_and(|seen| seen.payload || seen.mapping);
        let iface = iface(to, &packet);
        self.hosts[to].stack.handle_packet(self.now, iface, &packet);
    }

    /// Listens on host `arg & 1`: port bit 1, address bits 2–3 (any, or one of the host's),
    /// backlog bits 4–5.
    fn listen(&mut self, arg: u8) {
        let h = usize::from(arg & 1);
        let ip = match (arg >> 2) % 3 {
            0 => Ipv4Addr::UNSPECIFIED,
            i => ADDRS[h][usize::from(i - 1)],
        };
        let local = SocketAddr::new(IpAddr::V4(ip), PORTS[usize::from(arg >> 1) & 1]);
        let host = &mut self.hosts[h];
        if let Ok(listener) = host.stack.listen(local, usize::from(arg >> 4) % 4 + 1) {
            host.listeners.push(listener);
        }
    }

    /// Host `arg & 1` connects to one of the other's addresses (bit 1) and ports (bit 2),
    /// from an address of its choice or one of its own (bits 3–4).
    fn connect(&mut self, arg: u8) {
        let h = usize::from(arg & 1);
        let remote = SocketAddr::new(
            IpAddr::V4(ADDRS[1 - h][usize::from(arg >> 1) & 1]),
            PORTS[usize::from(arg >> 2) & 1],
        );
        let local = match (arg >> 3) % 3 {
            0 => None,
            i => Some(SocketAddr::new(IpAddr::V4(ADDRS[h][usize::from(i - 1)]), 0)),
        };
        let host = &mut self.hosts[h];
        if let Ok(conn) = host.stack.connect(self.now, remote, local) {
            host.conns.push(Conn::new(&host.stack, conn));
        }
    }

    /// The listener `arg` picks: host `arg & 1`, index `arg >> 1`.
    fn listener(&self, arg: u8) -> Option<(usize, ListenerHandle)> {
        let h = usize::from(arg & 1);
        let listeners = &self.hosts[h].listeners;
        let index = usize::from(arg >> 1).checked_rem(listeners.len())?;
        Some((h, listeners[index]))
    }

    fn accept(&mut self, arg: u8) {
        let Some((h, listener)) = self.listener(arg) else {
            return;
        };
        let host = &mut self.hosts[h];
        if let Ok(conn) = host.stack.accept(listener) {
            host.conns.push(Conn::new(&host.stack, conn));
        }
    }

    fn close_listener(&mut self, arg: u8) {
        if let Some((h, listener)) = self.listener(arg) {
            self.hosts[h].stack.close_listener(listener);
        }
    }

    /// The connection `arg` picks: host `arg & 1`, index `arg >> 1` into its application's.
    fn conn(&self, arg: u8) -> Option<(usize, usize)> {
        let h = usize::from(arg & 1);
        let index = usize::from(arg >> 1).checked_rem(self.hosts[h].conns.len())?;
        Some((h, index))
    }

    /// Calls `call` with the stack and the connection `arg` picks.
    fn on_conn(&mut self, arg: u8, call: impl FnOnce(&mut Stack, ConnectionHandle)) {
        if let Some((h, i)) = self.conn(arg) {
            let host = &mut self.hosts[h];
            call(&mut host.stack, host.conns[i].handle);
        }
    }

    /// Sends `size²` bytes (up to 63.5 KiB) of fresh data; notes what the stack took.
    fn send(&mut self, arg: u8, size: u8) {
        let Some((h, i)) = self.conn(arg) else {
            return;
        };
        let mut data = vec![0; usize::from(size).pow(2)];
        self.data.fill_bytes(&mut data);
        let host = &mut self.hosts[h];
        let conn = &mut host.conns[i];
        if let Ok(n) = host.stack.send(conn.handle, &data) {
            assert!(n <= data.len(), "send took {n} of {} bytes", data.len());
            conn.sent.extend_from_slice(&data[..n]);
        }
    }

    /// Reads up to `size · 64 + 1` bytes and checks them against what the peer sent.
    fn recv(&mut self, arg: u8, size: u8) {
        let Some((h, i)) = self.conn(arg) else {
            return;
        };
        let mut buf = vec![0; usize::from(size) * 64 + 1];
        let host = &mut self.hosts[h];
        let conn = &mut host.conns[i];
        if let Ok(n) = host.stack.recv(conn.handle, &mut buf) {
            assert!(n <= buf.len(), "recv gave {n} bytes into {}", buf.len());
            conn.read.extend_from_slice(&buf[..n]);
            self.check_read(h, i);
        }
    }

    /// What host `h`'s connection `i` read is a prefix of what its peer's application sent
    /// (see the module documentation for when this is not checked).
    fn check_read(&self, h: usize, i: usize) {
        let conn = &self.hosts[h].conns[i];
        let mut peers = self.hosts[1 - h]
            .conns
            .iter()
            .filter(|c| c.local == conn.peer && c.peer == conn.local);
        let sent = match (peers.next(), peers.next()) {
            (None, _) => &[][..],
            (Some(peer), None) => &peer.sent[..],
            (Some(_), Some(_)) => return,
        };
        if self.tainted {
            return;
        }
        let read = &conn.read;
        let differs = read.iter().zip(sent).position(|(r, s)| r != s);
        assert!(
            differs.is_none() && read.len() <= sent.len(),
            "host {h}'s connection {} -> {}: read {} bytes, the peer sent {}; first difference \
             at byte {differs:?}",
            conn.local,
            conn.peer,
            read.len(),
            sent.len(),
        );
    }

    /// Opens a subflow of the connection `arg` picks, from one of its host's addresses
    /// (`how` bit 0) to one of the other's (bit 1), at the connection's remote port; bit 2
    /// asks for a backup.
    fn open_subflow(&mut self, arg: u8, how: u8) {
        let Some((h, i)) = self.conn(arg) else {
            return;
        };
        let local = IpAddr::V4(ADDRS[h][usize::from(how & 1)]);
        let host = &mut self.hosts[h];
        let conn = &host.conns[i];
        let remote = SocketAddr::new(
            IpAddr::V4(ADDRS[1 - h][usize::from(how >> 1) & 1]),
            conn.peer.port(),
        );
        let _ = host
            .stack
            .open_subflow(conn.handle, local, remote, how & 4 != 0);
    }

    /// The subflow `index` picks among the connection's (modulo their number), or a subflow
    /// id that does not exist when it has none.
    fn subflow(&self, h: usize, conn: ConnectionHandle, index: u8) -> SubflowId {
        let subflows = self.hosts[h].stack.subflows(conn).unwrap_or_default();
        usize::from(index)
            .checked_rem(subflows.len())
            .map_or(SubflowId(u32::from(index)), |i| subflows[i].id)
    }

    fn close_subflow(&mut self, arg: u8, index: u8) {
        if let Some((h, i)) = self.conn(arg) {
            let conn = self.hosts[h].conns[i].handle;
            let subflow = self.subflow(h, conn, index);
            self.hosts[h].stack.close_subflow(conn, subflow);
        }
    }

    /// Sets the backup flag (`how` bit 0) of the subflow `how >> 1` picks.
    fn set_backup(&mut self, arg: u8, how: u8) {
        if let Some((h, i)) = self.conn(arg) {
            let conn = self.hosts[h].conns[i].handle;
            let subflow = self.subflow(h, conn, how >> 1);
            self.hosts[h].stack.set_backup(conn, subflow, how & 1 != 0);
        }
    }

    /// Withdraws one of the host's addresses, or (`which % 3 == 2`) one it does not have.
    fn remove_address(&mut self, arg: u8, which: u8) {
        if let Some((h, i)) = self.conn(arg) {
            let addrs = [ADDRS[h][0], ADDRS[h][1], ADDRS[1 - h][0]];
            let addr = IpAddr::V4(addrs[usize::from(which % 3)]);
            let host = &mut self.hosts[h];
            host.stack.remove_address(host.conns[i].handle, addr);
        }
    }

    /// Every getter on the connection `arg` picks, and the host's listeners and counters.
    fn query(&self, arg: u8) {
        let Some((h, i)) = self.conn(arg) else {
            return;
        };
        let host = &self.hosts[h];
        let conn = host.conns[i].handle;
        let stack = &host.stack;
        std::hint::black_box((
            stack.subflows(conn),
            stack.tcp_info(conn),
            stack.send_complete(conn),
            stack.close_reason(conn),
            stack.is_mptcp(conn),
            stack.local_addr(conn),
            stack.peer_addr(conn),
            stack.stats(),
        ));
        for listener in &host.listeners {
            std::hint::black_box(stack.listener_addr(*listener));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mut world = World::new(input.byte());
    while !input.0.is_empty() {
        world.step(&mut input);
    }
});
