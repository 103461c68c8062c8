//! Two `Stack`s joined by a virtual wire with a virtual clock: fixed delay, optional rate,
//! and seeded loss, duplication, reordering and corruption from a tiny deterministic PRNG.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mptcp_proto::stack::{
    ConnectionHandle, Event, InterfaceConfig, InterfaceId, MptcpConfig, RecvError, SendError,
    Stack, StackConfig, TcpConfig,
};
use mptcp_proto::time::Instant;
use mptcp_proto::wire::{TcpFlags, TcpPacket, TcpRepr, parse_ip_packet};

/// SplitMix64: a seeded generator for the stacks and the wire.
pub struct Rng(pub u64);

impl rand_core::RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

impl Rng {
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        use rand_core::RngCore;
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Impairments of the wire (the same both ways).
#[derive(Debug, Clone)]
pub struct WireConfig {
    pub delay: Duration,
    /// Bits per second; `None`: infinitely fast.
    pub rate: Option<u64>,
    /// Drop-tail queue, in bytes, when rate-limited.
    pub queue: usize,
    pub loss: f64,
    pub duplicate: f64,
    /// Probability that a packet gets an extra random delay up to `delay`.
    pub reorder: f64,
    pub corrupt: f64,
    pub seed: u64,
}

impl Default for WireConfig {
    fn default() -> Self {
        Self {
            delay: Duration::from_millis(10),
            rate: None,
            queue: 1 << 20,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            corrupt: 0.0,
            seed: 1,
        }
    }
}

/// A packet seen on the wire.
#[derive(Debug, Clone)]
pub struct Logged {
    pub at: Instant,
    /// 0: sent by A, 1: sent by B.
    pub from: usize,
    pub flags: TcpFlags,
    pub seq: u32,
    pub ack: u32,
    pub len: usize,
    pub window: u16,
    pub tsval: Option<u32>,
    /// The raw TCP options.
    pub options: Vec<u8>,
    pub dropped: bool,
}

/// What [`Pair::hook`] decides for a packet about to go on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Deliver,
    Drop,
    /// Deliver after this much delay on top of the wire's.
    Delay(Duration),
}

/// Decides the fate of each TCP packet (seen with `dropped: false`) before the other
/// impairments apply.
pub type Hook = Box<dyn FnMut(&Logged) -> Fate>;

/// Sees (and may rewrite) every IP packet a side (0: A, 1: B) puts on the wire, before
/// anything else does: a middlebox, or a stand-in for a peer's behaviour.
pub type Tamper = Box<dyn FnMut(Instant, usize, &mut Vec<u8>)>;

/// A packet on the wire: arrival time, tie-breaker, receiving side, bytes.
type InFlight = (Instant, u64, usize, Vec<u8>);

pub const A_ADDR: &str = "10.0.0.1";
pub const B_ADDR: &str = "10.0.0.2";

pub struct Pair {
    pub stacks: [Stack; 2],
    pub now: Instant,
    pub wire: WireConfig,
    /// Drop every packet (a black hole) in the given direction (0: A→B, 1: B→A).
    pub blackhole: [bool; 2],
    /// Drop the next n packets matching flags in each direction.
    pub drop_next: [(TcpFlags, usize); 2],
    /// Per-packet drop or delay decision, e.g. to lose one chosen segment.
    pub hook: Option<Hook>,
    /// Per-packet rewrite, before the hook.
    pub tamper: Option<Tamper>,
    /// Each side's interface addresses: a packet is delivered to the interface holding
    /// its destination address (the first one if none does).
    addrs: [Vec<Vec<IpAddr>>; 2],
    queue: BinaryHeap<Reverse<InFlight>>,
    link_free: [Instant; 2],
    counter: u64,
    rng: Rng,
    pub events: [Vec<Event>; 2],
    pub log: Vec<Logged>,
}

/// A host at `addr` speaking plain TCP (the TCP tests' setting).
pub fn config(tcp: TcpConfig, addr: &str) -> StackConfig {
    mptcp_config(
        tcp,
        MptcpConfig {
            enabled: mptcp_proto::stack::MptcpEnabled::Off,
            ..MptcpConfig::default()
        },
        addr,
    )
}

/// A host at `addr` with these TCP and MPTCP settings.
pub fn mptcp_config(tcp: TcpConfig, mptcp: MptcpConfig, addr: &str) -> StackConfig {
    StackConfig {
        interfaces: vec![InterfaceConfig::new(addr.parse().unwrap())],
        tcp,
        mptcp,
        ..StackConfig::default()
    }
}

pub fn sock(addr: &str) -> SocketAddr {
    addr.parse().unwrap()
}

impl Pair {
    /// Two plain-TCP hosts.
    pub fn new(tcp_a: TcpConfig, tcp_b: TcpConfig, wire: WireConfig) -> Self {
        Self::with_configs(config(tcp_a, A_ADDR), config(tcp_b, B_ADDR), wire)
    }

    /// Two hosts speaking MPTCP with `a` and `b`'s settings.
    pub fn mptcp(tcp: TcpConfig, a: MptcpConfig, b: MptcpConfig, wire: WireConfig) -> Self {
        Self::with_configs(
            mptcp_config(tcp.clone(), a, A_ADDR),
            mptcp_config(tcp, b, B_ADDR),
            wire,
        )
    }

    /// Two hosts with these whole configurations.
    pub fn with_configs(a: StackConfig, b: StackConfig, wire: WireConfig) -> Self {
        let seed = wire.seed;
        let addrs = |c: &StackConfig| c.interfaces.iter().map(|i| i.addrs.clone()).collect();
        let addrs = [addrs(&a), addrs(&b)];
        Self {
            stacks: [
                Stack::new(a, Box::new(Rng(seed ^ 0xA))),
                Stack::new(b, Box::new(Rng(seed ^ 0xB))),
            ],
            now: Instant::from_millis(1000),
            wire,
            blackhole: [false; 2],
            drop_next: [(TcpFlags::empty(), 0); 2],
            hook: None,
            tamper: None,
            addrs,
            queue: BinaryHeap::new(),
            link_free: [Instant::ZERO; 2],
            counter: 0,
            rng: Rng(seed.wrapping_mul(31) ^ 0x5EED),
            events: [Vec::new(), Vec::new()],
            log: Vec::new(),
        }
    }

    /// The interface of side `to` that holds the destination address of `packet`.
    fn iface_of(&self, to: usize, packet: &[u8]) -> InterfaceId {
        let dst = parse_ip_packet(packet).ok().map(|ip| ip.ip.dst_addr());
        let index = self.addrs[to]
            .iter()
            .position(|addrs| dst.is_some_and(|d| addrs.contains(&d)));
        InterfaceId(index.unwrap_or(0))
    }

    pub fn a(&mut self) -> &mut Stack {
        &mut self.stacks[0]
    }

    pub fn b(&mut self) -> &mut Stack {
        &mut self.stacks[1]
    }

    /// Puts a packet from side `from` on the wire.
    pub fn enqueue(&mut self, from: usize, mut packet: Vec<u8>) {
        if let Some(tamper) = self.tamper.as_mut() {
            tamper(self.now, from, &mut packet);
        }
        let mut dropped = self.blackhole[from];
        let info = parse_ip_packet(&packet).ok().and_then(|ip| {
            let tcp = TcpPacket::new_checked(ip.payload).ok()?;
            let repr = TcpRepr::parse(&tcp).ok()?;
            Some((
                repr.flags,
                repr.seq_number.0,
                repr.ack_number.0,
                repr.payload.len(),
                repr.window_len,
                repr.timestamp().map(|t| t.0),
                tcp.options().to_vec(),
            ))
        });
        if let Some((flags, ..)) = info {
            let (want, n) = self.drop_next[from];
            if n > 0 && !want.is_empty() && flags.contains(want) {
                self.drop_next[from].1 -= 1;
                dropped = true;
            }
        }
        let mut extra = Duration::ZERO;
        let logged = info.map(|(flags, seq, ack, len, window, tsval, options)| Logged {
            at: self.now,
            from,
            flags,
            seq,
            ack,
            len,
            window,
            tsval,
            options,
            dropped: false,
        });
        if let (false, Some(hook), Some(seen)) = (dropped, self.hook.as_mut(), &logged) {
            match hook(seen) {
                Fate::Deliver => {}
                Fate::Drop => dropped = true,
                Fate::Delay(d) => extra = d,
            }
        }
        if !dropped && self.wire.loss > 0.0 && self.rng.unit() < self.wire.loss {
            dropped = true;
        }
        let mut depart = self.now;
        if !dropped {
            if let Some(rate) = self.wire.rate {
                let start = self.link_free[from].max(self.now);
                let backlog = (start - self.now).as_nanos() as u64 * rate / 8 / 1_000_000_000;
                if backlog as usize > self.wire.queue {
                    dropped = true;
                } else {
                    let tx = Duration::from_nanos(packet.len() as u64 * 8 * 1_000_000_000 / rate);
                    self.link_free[from] = start + tx;
                    depart = start + tx;
                }
            }
        }
        if let Some(mut entry) = logged {
            entry.dropped = dropped;
            self.log.push(entry);
        }
        if dropped {
            return;
        }
        let mut copies = 1;
        if self.wire.duplicate > 0.0 && self.rng.unit() < self.wire.duplicate {
            copies = 2;
        }
        for _ in 0..copies {
            let mut packet = packet.clone();
            let mut at = depart + self.wire.delay + extra;
            if self.wire.reorder > 0.0 && self.rng.unit() < self.wire.reorder {
                at += self.wire.delay.mul_f64(self.rng.unit());
            }
            if self.wire.corrupt > 0.0 && self.rng.unit() < self.wire.corrupt {
                let i = (self.rng.unit() * packet.len() as f64) as usize;
                let last = packet.len() - 1;
                packet[i.min(last)] ^= 1 << (self.rng.unit() * 8.0) as u32;
            }
            self.counter += 1;
            self.queue
                .push(Reverse((at, self.counter, 1 - from, packet)));
        }
    }

    /// Sends everything both stacks have and collects their events.
    pub fn flush(&mut self) {
        let mut buf = vec![0u8; 65_536];
        loop {
            let mut any = false;
            for side in 0..2 {
                while let Some(t) = self.stacks[side].poll_transmit(self.now, &mut buf) {
                    let packet = buf[..t.len].to_vec();
                    self.enqueue(side, packet);
                    any = true;
                }
            }
            for side in 0..2 {
                while let Some(e) = self.stacks[side].poll_event() {
                    self.events[side].push(e);
                }
            }
            if !any {
                break;
            }
        }
    }

    /// Advances to the next packet arrival or timer; returns false when nothing is left to
    /// happen before `deadline`.
    pub fn step(&mut self, deadline: Instant) -> bool {
        self.flush();
        let next_packet = self.queue.peek().map(|Reverse((at, ..))| *at);
        let next = [
            next_packet,
            self.stacks[0].poll_timeout(),
            self.stacks[1].poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else { return false };
        if next > deadline {
            self.now = deadline;
            return false;
        }
        self.now = self.now.max(next);
        while let Some(Reverse((at, ..))) = self.queue.peek() {
            if *at > self.now {
                break;
            }
            let Reverse((_, _, to, packet)) = self.queue.pop().unwrap();
            let now = self.now;
            let iface = self.iface_of(to, &packet);
            self.stacks[to].handle_packet(now, iface, &packet);
        }
        for side in 0..2 {
            if self.stacks[side]
                .poll_timeout()
                .is_some_and(|t| t <= self.now)
            {
                let now = self.now;
                self.stacks[side].handle_timeout(now);
            }
        }
        self.flush();
        true
    }

    /// Runs until `done` holds or `limit` of virtual time passes; returns whether it held.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Pair) -> bool) -> bool {
        let deadline = self.now + limit;
        loop {
            if done(self) {
                return true;
            }
            if !self.step(deadline) {
                return done(self);
            }
        }
    }

    /// Runs for `time` of virtual time.
    pub fn run_for(&mut self, time: Duration) {
        let deadline = self.now + time;
        while self.step(deadline) {}
    }

    pub fn has_event(&self, side: usize, event: Event) -> bool {
        self.events[side].contains(&event)
    }

    /// A listener on B port 80 and a connection from A; runs the handshake.
    pub fn connected(&mut self) -> (ConnectionHandle, ConnectionHandle) {
        let l = self.b().listen(sock("10.0.0.2:80"), 16).unwrap();
        let now = self.now;
        let a = self.a().connect(now, sock("10.0.0.2:80"), None).unwrap();
        assert!(self.run_until(Duration::from_secs(60), |p| {
            p.has_event(0, Event::Connected(a)) && p.has_event(1, Event::Incoming(l))
        }));
        let b = self.b().accept(l).unwrap();
        (a, b)
    }
}

/// Byte `i` of the test pattern of stream `stream`.
pub fn pattern(stream: u8, i: u64) -> u8 {
    (i.wrapping_mul(0x9E37_79B9).rotate_right(13) as u8)
        ^ stream.wrapping_mul(0x55)
        ^ (i >> 17) as u8
}

/// One direction of a transfer: what was sent and what arrived, checked byte by byte.
#[derive(Debug, Default, Clone)]
pub struct Flow {
    pub total: u64,
    pub sent: u64,
    pub received: u64,
    pub eof: bool,
    pub shut: bool,
    pub stream: u8,
}

impl Flow {
    pub fn new(stream: u8, total: u64) -> Self {
        Self {
            total,
            stream,
            ..Self::default()
        }
    }

    /// Sends more of the pattern; shuts down after the last byte.
    pub fn pump_send(&mut self, stack: &mut Stack, conn: ConnectionHandle) {
        let mut chunk = [0u8; 16 * 1024];
        while self.sent < self.total {
            let n = chunk.len().min((self.total - self.sent) as usize);
            for (k, b) in chunk[..n].iter_mut().enumerate() {
                *b = pattern(self.stream, self.sent + k as u64);
            }
            match stack.send(conn, &chunk[..n]) {
                Ok(m) => self.sent += m as u64,
                Err(SendError::WouldBlock) => break,
                Err(e) => panic!("send failed: {e:?}"),
            }
        }
        if self.sent == self.total && !self.shut {
            self.shut = true;
            stack.shutdown(conn).unwrap();
        }
    }

    /// Reads everything available, checking each byte against the pattern.
    pub fn pump_recv(&mut self, stack: &mut Stack, conn: ConnectionHandle) {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match stack.recv(conn, &mut buf) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => {
                    for (k, b) in buf[..n].iter().enumerate() {
                        let i = self.received + k as u64;
                        if *b != pattern(self.stream, i) && std::env::var("DEBUG_PAT").is_ok() {
                            let w = &buf[k..n.min(k + 32)];
                            let found = (i.saturating_sub(1 << 20)..i + (1 << 20)).find(|&j| {
                                w.iter()
                                    .enumerate()
                                    .all(|(q, x)| *x == pattern(self.stream, j + q as u64))
                            });
                            eprintln!(
                                "mismatch at {i} (chunk at {}, k {k}, n {n}): matches offset {found:?}",
                                self.received
                            );
                        }
                        assert_eq!(
                            *b,
                            pattern(self.stream, i),
                            "byte {i} of stream {} differs",
                            self.stream
                        );
                    }
                    self.received += n as u64;
                }
                Err(RecvError::WouldBlock) => break,
                Err(e) => panic!("recv failed: {e:?}"),
            }
        }
    }
}

/// Moves `a_to_b` bytes from A to B and `b_to_a` from B to A at once, each followed by a
/// FIN; returns whether both arrived intact within `limit`.
pub fn transfer(pair: &mut Pair, a_to_b: u64, b_to_a: u64, limit: Duration) -> bool {
    let (a, b) = pair.connected();
    let mut up = Flow::new(1, a_to_b);
    let mut down = Flow::new(2, b_to_a);
    let ok = pair.run_until(limit, |p| {
        up.pump_send(&mut p.stacks[0], a);
        down.pump_send(&mut p.stacks[1], b);
        up.pump_recv(&mut p.stacks[1], b);
        down.pump_recv(&mut p.stacks[0], a);
        up.eof && down.eof
    });
    assert_eq!(up.received, if ok { a_to_b } else { up.received });
    ok && up.received == a_to_b && down.received == b_to_a
}

/// Builds an IP packet carrying a TCP segment from `src` to `dst`.
#[allow(clippy::too_many_arguments)]
pub fn craft(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    window: u16,
    options: Vec<mptcp_proto::wire::TcpOption<'static>>,
    payload: &[u8],
) -> Vec<u8> {
    use mptcp_proto::wire::{SeqNum, tcp_packet};
    let tcp = TcpRepr {
        src_port: src.port(),
        dst_port: dst.port(),
        seq_number: SeqNum(seq),
        ack_number: SeqNum(ack),
        flags,
        window_len: window,
        urgent_at: 0,
        options,
        payload,
    };
    tcp_packet(src, dst, &tcp)
}
