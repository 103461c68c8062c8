//! The connection-level window (RFC 8684 §3.3.4) and data-level retransmission (§3.3.6)
//! against a receiver that, like Linux, acknowledges on the subflow data it then drops at
//! the data level.
//!
//! Host A (10.0.0.1 and 10.0.1.1, the "simple" path manager: it joins from its second
//! address) sends to host B (10.0.0.2) over two subflows. A stand-in on the wire
//! ([`LinuxReceiver`]) makes B look and act like Linux's MPTCP receiver (net/mptcp/
//! protocol.c) with a slow reader:
//!
//! - the window B announces is the free space of a small buffer from which an application
//!   reads a chunk now and then, and its right edge never moves left (`rcv_wnd_sent`; a
//!   subflow that would announce less announces the shared edge, `MPTcpExtRcvWndShared`).
//!   Unlike Linux, B does not announce the space a read frees by itself (B's own
//!   application takes everything at once): A learns of it with B's next segment;
//! - a segment that starts after B's data-level RCV.NXT and ends beyond that edge reaches
//!   B's subflow, which acknowledges it, but never B's connection (`mptcp_data_queue_ofo`,
//!   `MPTcpExtNoDSSInWindow`); a segment beyond the subflow's own window is dropped by the
//!   subflow's TCP before MPTCP sees it;
//! - under memory pressure Linux drops data its subflow acknowledged in the same way
//!   (`MPTcpExtRcvPruned`): [`LinuxReceiver::prune_at`] drops one chosen segment so.
//!
//! Data dropped so is rewritten to map bytes B already has: B's subflow acknowledges it and
//! B's connection ignores it. Only sending the data again fills such a hole.

mod common;

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use common::pair::{Pair, WireConfig, mptcp_config, sock};
use mptcp_proto::cc::FixedFactory;
use mptcp_proto::stack::{
    Event, InterfaceConfig, MptcpConfig, RecvError, SendError, StackConfig, TcpConfig,
};
use mptcp_proto::time::Instant;
use mptcp_proto::wire::mptcp::DssNumber;
use mptcp_proto::wire::{
    MptcpOption, TcpFlags, TcpOption, TcpPacket, TcpRepr, parse_ip_packet, tcp_packet,
};

const KIB: u64 = 1024;

/// The application behind B's Linux-like receive side: a buffer of `buffer` bytes from
/// which it reads `chunk` bytes every `period`.
#[derive(Debug, Clone, Copy)]
struct SlowReader {
    buffer: u64,
    chunk: u64,
    period: Duration,
}

/// B's receive side as Linux runs it, as far as the wire shows it. See the module
/// documentation.
#[derive(Debug, Default)]
struct LinuxReceiver {
    reader: Option<SlowReader>,
    /// Drop the first segment that maps bytes this far (or farther) into the stream,
    /// whatever the window.
    prune_at: Option<u64>,
    /// B's window scale, from its SYN/ACKs.
    wscale: u8,
    /// The first DATA_ACK B sent: A's first data sequence number.
    first: Option<u64>,
    /// B's data-level RCV.NXT: the largest DATA_ACK it sent.
    rcv_nxt: u64,
    /// The right edge of the data-level window B announced.
    edge: u64,
    /// What the slow reader has read (a data sequence number), and when it last read.
    read: u64,
    read_at: Option<Instant>,
    /// The right edge of each subflow's window as B announced it, in subflow sequence
    /// numbers, by B's port and A's port.
    subflow_edge: HashMap<(u16, u16), u32>,
    /// A's initial sequence number on each subflow, by its port.
    isn: HashMap<u16, u32>,
    /// The mappings of A's segments dropped at B's data level, by source port and relative
    /// subflow sequence number, with the data sequence number they now give.
    dropped: HashMap<(u16, u32), u64>,
    /// The data sequence number of the pruned segment, once pruned.
    pruned: Option<u64>,
    /// Segments dropped for ending beyond the window.
    beyond_window: usize,
    /// When B's DATA_ACK reached the pruned segment (everything before it arrived) and
    /// when it went past it (the hole was filled).
    hole: (Option<Instant>, Option<Instant>),
}

impl LinuxReceiver {
    fn new(reader: Option<SlowReader>, prune_at: Option<u64>) -> Rc<RefCell<Self>> {
        Rc::new(RefCell::new(Self {
            reader,
            prune_at,
            ..Self::default()
        }))
    }

    /// Sees (and rewrites) a packet `from` A (0) or B (1).
    fn process(&mut self, now: Instant, from: usize, packet: &mut Vec<u8>) {
        let Ok(ip) = parse_ip_packet(packet) else {
            return;
        };
        let Ok(tcp) = TcpPacket::new_checked(ip.payload) else {
            return;
        };
        let Ok(mut repr) = TcpRepr::parse(&tcp) else {
            return;
        };
        let rewrite = if from == 1 {
            self.announce(now, &mut repr)
        } else {
            self.receive(&mut repr)
        };
        if rewrite {
            let src = SocketAddr::new(ip.ip.src_addr(), repr.src_port);
            let dst = SocketAddr::new(ip.ip.dst_addr(), repr.dst_port);
            *packet = tcp_packet(src, dst, &repr);
        }
    }

    /// A segment of B: learns its window scale and DATA_ACK, and announces the window of
    /// the slow reader's buffer instead of B's own. Returns whether `repr` changed.
    fn announce(&mut self, now: Instant, repr: &mut TcpRepr<'_>) -> bool {
        if repr.flags.contains(TcpFlags::SYN) {
            self.wscale = repr
                .options
                .iter()
                .find_map(|o| match o {
                    TcpOption::WindowScale(shift) => Some(*shift),
                    _ => None,
                })
                .unwrap_or(0);
            return false;
        }
        let data_ack = repr.options.iter().find_map(|o| match o {
            TcpOption::Mptcp(MptcpOption::Dss(dss)) => match dss.data_ack? {
                DssNumber::U64(ack) => Some(ack),
                DssNumber::U32(_) => None,
            },
            _ => None,
        });
        let mut window = u64::from(repr.window_len) << self.wscale;
        let mut changed = false;
        if let Some(ack) = data_ack {
            let first = *self.first.get_or_insert(ack);
            self.rcv_nxt = self.rcv_nxt.max(ack);
            if let Some(pruned) = self.pruned {
                if ack >= pruned {
                    self.hole.0.get_or_insert(now);
                }
                if ack > pruned {
                    self.hole.1.get_or_insert(now);
                }
            }
            if let Some(reader) = self.reader {
                let tick = |t: Instant| t.as_nanos() / reader.period.as_nanos() as u64;
                let reads = self.read_at.map_or(0, |t| tick(now) - tick(t));
                self.read_at = Some(now);
                let can = reads * reader.chunk;
                self.read = (self.read.max(first) + can).min(self.rcv_nxt);
                let free = reader.buffer - (self.rcv_nxt - self.read);
                // The edge never moves left; each announcement is rounded down to the
                // window scale.
                let edge = (ack + free).max(self.edge);
                let scaled = ((edge - ack) >> self.wscale).min(0xffff);
                assert!(scaled << self.wscale <= window, "B's own window is smaller");
                window = scaled << self.wscale;
                repr.window_len = scaled as u16;
                changed = true;
            }
            self.edge = self.edge.max(ack + window);
        }
        if repr.flags.contains(TcpFlags::ACK) {
            let edge = repr.ack_number.0.wrapping_add(window as u32);
            self.subflow_edge
                .insert((repr.src_port, repr.dst_port), edge);
        }
        changed
    }

    /// A segment of A: whether B's connection drops its data, and if so its mapping is
    /// rewritten to map bytes B already has. Returns whether `repr` changed.
    fn receive(&mut self, repr: &mut TcpRepr<'_>) -> bool {
        if repr.flags.contains(TcpFlags::SYN) {
            self.isn.insert(repr.src_port, repr.seq_number.0);
        }
        let Some(mapping) = repr.options.iter().find_map(|o| match o {
            TcpOption::Mptcp(MptcpOption::Dss(dss)) => dss.mapping,
            _ => None,
        }) else {
            return false;
        };
        let DssNumber::U64(dsn) = mapping.dsn else {
            return false;
        };
        // Every segment that carries the mapping is treated alike (a TCP retransmission, or
        // the rest of a segment a zero-window probe began).
        let key = (repr.src_port, mapping.subflow_seq);
        let stale = match self.dropped.get(&key) {
            Some(&stale) => stale,
            None => {
                let (Some(first), false) = (self.first, repr.payload.is_empty()) else {
                    return false;
                };
                // Linux's subflow drops what starts beyond its own window before MPTCP
                // sees it.
                let Some(&subflow_edge) = self.subflow_edge.get(&(repr.dst_port, repr.src_port))
                else {
                    return false;
                };
                let len = u64::from(mapping.data_len);
                let in_window = (subflow_edge.wrapping_sub(repr.seq_number.0) as i32) > 0;
                if !in_window || self.rcv_nxt < first + len {
                    return false;
                }
                let isn = self.isn[&repr.src_port];
                let offset = repr.seq_number.0.wrapping_sub(isn) - mapping.subflow_seq;
                let start = dsn + u64::from(offset);
                let end = start + repr.payload.len() as u64;
                let prune = self
                    .prune_at
                    .is_some_and(|at| self.pruned.is_none() && dsn >= first + at);
                // In order at the data level, Linux takes it whatever the window.
                let beyond = start > self.rcv_nxt && end > self.edge;
                if prune {
                    self.pruned = Some(dsn);
                } else if beyond {
                    self.beyond_window += 1;
                } else {
                    return false;
                }
                let stale = self.rcv_nxt - len;
                self.dropped.insert(key, stale);
                stale
            }
        };
        for option in &mut repr.options {
            if let TcpOption::Mptcp(MptcpOption::Dss(dss)) = option
                && let Some(mapping) = &mut dss.mapping
            {
                mapping.dsn = DssNumber::U64(stale);
            }
        }
        true
    }
}

/// A with two addresses and a 4 MiB send buffer, B with one and a receive buffer of
/// `recv_buffer` bytes (B's application reads everything at once; the window the
/// [`LinuxReceiver`] announces is never larger), 5 ms apart over a link of `rate` bits per
/// second. `cwnd`: a fixed congestion window of that many segments on A's subflows.
fn hosts(rate: u64, recv_buffer: usize, cwnd: Option<usize>) -> Pair {
    let mut a_tcp = TcpConfig {
        send_buffer: 4 << 20,
        ..TcpConfig::default()
    };
    if let Some(segments) = cwnd {
        a_tcp.congestion_control = Arc::new(FixedFactory { segments });
    }
    let a = StackConfig {
        interfaces: ["10.0.0.1", "10.0.1.1"]
            .iter()
            .map(|a| InterfaceConfig::new(a.parse().unwrap()))
            .collect(),
        tcp: a_tcp,
        mptcp: MptcpConfig::default(),
        ..StackConfig::default()
    };
    let b_tcp = TcpConfig {
        recv_buffer,
        recv_buffer_max: recv_buffer,
        ..TcpConfig::default()
    };
    let b = mptcp_config(b_tcp, MptcpConfig::default(), "10.0.0.2");
    let wire = WireConfig {
        delay: Duration::from_millis(5),
        rate: Some(rate),
        queue: 1 << 20,
        ..WireConfig::default()
    };
    Pair::with_configs(a, b, wire)
}

/// Byte `i` of the transfer.
fn byte(i: u64) -> u8 {
    (i.wrapping_mul(0x9E37_79B9) >> 11) as u8
}

/// A sends `total` bytes to B through `receiver` and closes; B reads everything it gets
/// and checks it. Returns whether B read every byte and the end of the stream within
/// `limit`, and how long that took.
fn transfer(
    p: &mut Pair,
    receiver: &Rc<RefCell<LinuxReceiver>>,
    total: u64,
    limit: Duration,
) -> (bool, Duration) {
    let shared = receiver.clone();
    p.tamper = Some(Box::new(move |now, from, packet| {
        shared.borrow_mut().process(now, from, packet);
    }));
    let listener = p.b().listen(sock("10.0.0.2:80"), 8).unwrap();
    let now = p.now;
    let a = p.a().connect(now, sock("10.0.0.2:80"), None).unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.has_event(0, Event::Connected(a)) && p.has_event(1, Event::Incoming(listener))
    }));
    let b = p.b().accept(listener).unwrap();
    let start = p.now;
    let (mut sent, mut received, mut eof) = (0u64, 0u64, false);
    let mut buf = vec![0u8; 16 * KIB as usize];
    let done = p.run_until(limit, |p| {
        while sent < total {
            let n = buf.len().min((total - sent) as usize);
            for (k, c) in buf[..n].iter_mut().enumerate() {
                *c = byte(sent + k as u64);
            }
            match p.a().send(a, &buf[..n]) {
                Ok(m) => sent += m as u64,
                Err(SendError::WouldBlock) => break,
                Err(e) => panic!("send: {e:?}"),
            }
            if sent == total {
                p.a().shutdown(a).unwrap();
            }
        }
        loop {
            match p.b().recv(b, &mut buf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    for (k, c) in buf[..n].iter().enumerate() {
                        let i = received + k as u64;
                        assert_eq!(*c, byte(i), "byte {i}");
                    }
                    received += n as u64;
                }
                Err(RecvError::WouldBlock) => break,
                Err(e) => panic!("recv: {e:?}"),
            }
        }
        eof
    });
    (done && received == total, p.now - start)
}

/// A slow reader behind a small buffer, as Linux announces it, makes A send at the right
/// edge of the window again and again, with everything acknowledged on its subflows and the
/// edge reached. A must then wait for B's next window (or probe a closed one with a single
/// segment) rather than give each subflow a segment beyond the edge: Linux acknowledges
/// those on the subflow and drops them, and a connection that did so kept sending beyond
/// the edge while the hole at B's DATA_ACK stayed open (seen against Linux: thousands of
/// `MPTcpExtNoDSSInWindow` drops and a transfer stuck for a minute).
#[test]
fn a_sender_at_the_edge_of_the_data_level_window_sends_nothing_beyond_it() {
    for (buffer, chunk, period, rate) in [(64, 64, 20, 20_000_000), (64, 60, 15, 50_000_000)] {
        let what = format!("a reader of {chunk} KiB every {period} ms, a {buffer} KiB window");
        let reader = SlowReader {
            buffer: buffer * KIB,
            chunk: chunk * KIB,
            period: Duration::from_millis(period),
        };
        let receiver = LinuxReceiver::new(Some(reader), None);
        let mut p = hosts(rate, 1 << 20, None);
        let (ok, took) = transfer(&mut p, &receiver, 4 << 20, Duration::from_secs(30));
        let r = receiver.borrow();
        assert_eq!(r.beyond_window, 0, "{what}: segments beyond the window");
        assert!(ok, "{what}: 4 MiB not delivered in {took:?}");
    }
}

/// B drops one segment at the data level after its subflow acknowledged it (Linux under
/// memory pressure) while the window stays wide open and the other subflow keeps sending.
/// The hole at B's DATA_ACK is filled one data-level retransmission timeout after
/// everything before it arrived, not once A's send buffer (4 MiB: over 3 s at 10 Mbit/s) is
/// full of data B cannot acknowledge and every subflow has gone quiet.
#[test]
fn a_hole_at_the_data_ack_is_filled_while_the_subflows_keep_sending() {
    let receiver = LinuxReceiver::new(None, Some(1 << 20));
    // A fixed window of 40 segments per subflow: nothing is lost, and the link's queue
    // stays short of a second.
    let mut p = hosts(10_000_000, 8 << 20, Some(40));
    let (ok, took) = transfer(&mut p, &receiver, 8 << 20, Duration::from_secs(30));
    assert!(ok, "8 MiB not delivered in {took:?}");
    let r = receiver.borrow();
    let (Some(reached), Some(filled)) = r.hole else {
        panic!("no hole was made and filled: {:?}", r.hole);
    };
    assert!(
        filled - reached < Duration::from_secs(1),
        "the hole at the DATA_ACK stayed open {:?}",
        filled - reached
    );
}
