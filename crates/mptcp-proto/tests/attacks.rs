//! Attacks on a live MPTCP connection and on a listener, as RFC 8684 §5 and RFC 7430 list
//! them: forged options from off-path (they know the 4-tuple, not the sequence numbers),
//! forgeries by someone who learnt the keys or the token, floods of joins with a leaked
//! token, and a SYN flood from random sources. Each test checks what a user would: the
//! connection unchanged and its bytes intact, the stack's memory bounded, a legitimate
//! client served.
//!
//! The network: host A (client, 10.0.0.1 and 10.0.1.1) and host B (server, 10.0.0.2 and
//! 10.0.1.2), two paths, 5 ms one way. The attacker injects packets into B; replies to
//! addresses no host has are lost.

mod common;

use std::cell::Cell;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use common::pair::{Rng, craft};
use mptcp_proto::crypto::{MptcpVersion, add_addr_hmac, key_material};
use mptcp_proto::stack::{
    ConnEvent, ConnectionHandle, Event, InterfaceConfig, InterfaceId, MptcpConfig, Stack,
    StackConfig, SubflowInfo,
};
use mptcp_proto::tcp::TcpState;
use mptcp_proto::time::Instant;
use mptcp_proto::wire::mptcp::{AddAddr, Dss, DssMapping, DssNumber, MpCapable, MpJoin};
use mptcp_proto::wire::{MptcpOption, TcpFlags, TcpOption, TcpPacket, TcpRepr, parse_ip_packet};
use rand_core::RngCore;

/// Counts the bytes this thread holds on the heap, so a test can measure what an attack
/// makes the stack allocate (each test runs on its own thread).
mod heap {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static HELD: Cell<isize> = const { Cell::new(0) };
    }

    pub struct Counting;

    fn add(n: isize) {
        // During thread teardown the slot may be gone: those bytes are not ours to count.
        let _ = HELD.try_with(|held| held.set(held.get() + n));
    }

    // SAFETY: forwards every call to the system allocator unchanged; only counts sizes.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            add(layout.size() as isize);
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            add(-(layout.size() as isize));
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            add(new_size as isize - layout.size() as isize);
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    /// Bytes this thread holds now.
    pub fn held() -> isize {
        HELD.with(Cell::get)
    }
}

#[global_allocator]
static ALLOCATOR: heap::Counting = heap::Counting;

const DELAY: Duration = Duration::from_millis(5);
const CLIENT: [&str; 2] = ["10.0.0.1", "10.0.1.1"];
const SERVER: [&str; 2] = ["10.0.0.2", "10.0.1.2"];
const PORT: u16 = 80;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn host(addrs: &[&str], seed: u64, config: StackConfig) -> Stack {
    let config = StackConfig {
        interfaces: addrs.iter().map(|a| InterfaceConfig::new(ip(a))).collect(),
        ..config
    };
    Stack::new(config, Box::new(Rng(seed)))
}

/// What was seen of one direction of one subflow: the last segment's numbers.
#[derive(Debug, Clone, Copy)]
struct Seen {
    seq: u32,
    ack: u32,
}

/// Two hosts, a wire between them, an attacker, and what an observer on the wire saw.
struct Net {
    stacks: [Stack; 2],
    now: Instant,
    /// Packets in flight: arrival time, destination host, bytes.
    wire: VecDeque<(Instant, usize, Vec<u8>)>,
    /// MPTCP keys seen in MP_CAPABLE: the client's and the server's.
    keys: [Option<u64>; 2],
    /// The last segment A sent on each 4-tuple (local, remote as B sees it).
    from_client: Vec<((SocketAddr, SocketAddr), Seen)>,
    events: [Vec<Event>; 2],
}

impl Net {
    fn new(server: StackConfig) -> Self {
        Self {
            stacks: [
                host(&CLIENT, 1, StackConfig::default()),
                host(&SERVER, 2, server),
            ],
            now: Instant::from_millis(1000),
            wire: VecDeque::new(),
            keys: [None; 2],
            from_client: Vec::new(),
            events: [Vec::new(), Vec::new()],
        }
    }

    fn owner(&self, addr: IpAddr) -> Option<(usize, InterfaceId)> {
        (0..2).find_map(|side| {
            self.stacks[side]
                .config()
                .interfaces
                .iter()
                .position(|i| i.addrs.contains(&addr))
                .map(|i| (side, InterfaceId(i)))
        })
    }

    /// Notes what an observer learns from a packet A or B sent.
    fn observe(&mut self, from: usize, packet: &[u8]) {
        let Ok(parsed) = parse_ip_packet(packet) else {
            return;
        };
        let Ok(tcp) = TcpPacket::new_checked(parsed.payload) else {
            return;
        };
        let Ok(seg) = TcpRepr::parse(&tcp) else {
            return;
        };
        for option in seg.mptcp_options() {
            // v1: the server's key rides on its SYN/ACK, the client's on its third ACK.
            if let MptcpOption::MpCapable(MpCapable {
                sender_key: Some(key),
                ..
            }) = option
            {
                self.keys[from] = Some(*key);
            }
        }
        if from == 0 {
            let local = SocketAddr::new(parsed.ip.dst_addr(), seg.dst_port);
            let remote = SocketAddr::new(parsed.ip.src_addr(), seg.src_port);
            let seen = Seen {
                seq: seg.seq_number.0.wrapping_add(seg.seq_len() as u32),
                ack: seg.ack_number.0,
            };
            match self
                .from_client
                .iter_mut()
                .find(|(t, _)| *t == (local, remote))
            {
                Some(entry) => entry.1 = seen,
                None => self.from_client.push(((local, remote), seen)),
            }
        }
    }

    /// Sends what both stacks have and collects their events.
    fn flush(&mut self) {
        let mut buf = vec![0u8; 65_536];
        for side in 0..2 {
            while let Some(t) = self.stacks[side].poll_transmit(self.now, &mut buf) {
                let packet = buf[..t.len].to_vec();
                self.observe(side, &packet);
                let dst = parse_ip_packet(&packet).unwrap().ip.dst_addr();
                // Packets to addresses no host has (spoofed sources) are lost.
                if let Some((to, _)) = self.owner(dst).filter(|(to, _)| *to != side) {
                    self.wire.push_back((self.now + DELAY, to, packet));
                }
            }
            while let Some(e) = self.stacks[side].poll_event() {
                self.events[side].push(e);
            }
        }
    }

    /// A pure ACK carrying `option` from A to B on subflow `(local, remote)` (as B sees
    /// it), with the sequence and acknowledgement numbers A last used there: a segment B's
    /// TCP accepts, as someone on the path could forge.
    fn on_path(
        &self,
        (local, remote): (SocketAddr, SocketAddr),
        option: MptcpOption<'static>,
    ) -> Vec<u8> {
        let seen = self
            .from_client
            .iter()
            .find(|(t, _)| *t == (local, remote))
            .expect("A sent on that subflow")
            .1;
        craft(
            remote,
            local,
            seen.seq,
            seen.ack,
            TcpFlags::ACK,
            1000,
            vec![TcpOption::Mptcp(option)],
            &[],
        )
    }

    /// Hands `packet` to host `to` now, as an attacker would.
    fn inject(&mut self, to: usize, packet: &[u8]) {
        let dst = parse_ip_packet(packet).unwrap().ip.dst_addr();
        let iface = self.owner(dst).map_or(InterfaceId(0), |(_, i)| i);
        let now = self.now;
        self.stacks[to].handle_packet(now, iface, packet);
    }

    /// Advances virtual time by `time`, delivering packets and running timers.
    fn run_for(&mut self, time: Duration) {
        let end = self.now + time;
        loop {
            self.flush();
            let next = [
                self.wire.iter().map(|w| w.0).min(),
                self.stacks[0].poll_timeout(),
                self.stacks[1].poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next.filter(|&t| t <= end) else {
                self.now = end;
                self.flush();
                return;
            };
            self.now = self.now.max(next);
            let now = self.now;
            let (due, later): (Vec<_>, Vec<_>) = self.wire.drain(..).partition(|w| w.0 <= now);
            self.wire = later.into();
            for (_, to, packet) in due {
                let dst = parse_ip_packet(&packet).unwrap().ip.dst_addr();
                let iface = self.owner(dst).map_or(InterfaceId(0), |(_, i)| i);
                self.stacks[to].handle_packet(now, iface, &packet);
            }
            for side in 0..2 {
                if self.stacks[side].poll_timeout().is_some_and(|t| t <= now) {
                    self.stacks[side].handle_timeout(now);
                }
            }
        }
    }

    /// Runs until `done` holds, at most `limit`; returns whether it held.
    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Net) -> bool) -> bool {
        let end = self.now + limit;
        while self.now < end {
            if done(self) {
                return true;
            }
            self.run_for(Duration::from_millis(1));
        }
        done(self)
    }

    /// A listener on B, a connection from A, and (after B's path manager announced its
    /// second address) both paths used: returns A's and B's handles.
    fn connected(&mut self) -> (ConnectionHandle, ConnectionHandle) {
        let listener = self.stacks[1]
            .listen(SocketAddr::new(ip(SERVER[0]), PORT), 16)
            .unwrap();
        let a = self.stacks[0]
            .connect(self.now, SocketAddr::new(ip(SERVER[0]), PORT), None)
            .unwrap();
        assert!(self.run_until(Duration::from_secs(5), |n| {
            n.events[1].contains(&Event::Incoming(listener))
        }));
        let b = self.stacks[1].accept(listener).unwrap();
        assert!(
            self.run_until(Duration::from_secs(10), |n| established(n, 1, b) >= 2),
            "no second subflow: {:?}",
            self.stacks[1].subflows(b)
        );
        (a, b)
    }
}

fn established(net: &Net, side: usize, conn: ConnectionHandle) -> usize {
    net.stacks[side]
        .subflows(conn)
        .unwrap_or_default()
        .iter()
        .filter(|s| s.established && s.tcp.state.is_synchronized())
        .count()
}

/// Moves `len` pattern bytes A→B and B→A over the connection; returns whether every byte
/// arrived intact within `limit`.
fn exchange(net: &mut Net, a: ConnectionHandle, b: ConnectionHandle, len: usize) -> bool {
    let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
    let (mut sent, mut got) = ([0usize; 2], [Vec::new(), Vec::new()]);
    let ends = [a, b];
    net.run_until(Duration::from_secs(60), |n| {
        for side in 0..2 {
            if sent[side] < len {
                if let Ok(k) = n.stacks[side].send(ends[side], &data[sent[side]..]) {
                    sent[side] += k;
                }
            }
            let mut buf = [0u8; 16_384];
            while let Ok(k) = n.stacks[1 - side].recv(ends[1 - side], &mut buf) {
                if k == 0 {
                    break;
                }
                got[side].extend_from_slice(&buf[..k]);
            }
        }
        got[0].len() >= len && got[1].len() >= len
    }) && got.iter().all(|g| *g == data)
        || {
            eprintln!(
                "exchange: sent {sent:?}, got {} and {} of {len}; intact prefix: {} {}",
                got[0].len(),
                got[1].len(),
                got[0] == data[..got[0].len()],
                got[1] == data[..got[1].len()]
            );
            false
        }
}

/// What an attacker could change, seen from B.
fn state_of(net: &Net, b: ConnectionHandle) -> Vec<(u32, bool, bool, bool)> {
    net.stacks[1]
        .subflows(b)
        .unwrap()
        .iter()
        .map(|s: &SubflowInfo| {
            (
                s.id.0,
                s.backup,
                s.peer_backup,
                s.tcp.state.is_synchronized(),
            )
        })
        .collect()
}

/// The subflow of B's connection on path `path` (0 or 1), as (B's address, A's address).
fn tuple(net: &Net, b: ConnectionHandle, path: usize) -> (SocketAddr, SocketAddr) {
    let s = net.stacks[1]
        .subflows(b)
        .unwrap()
        .into_iter()
        .find(|s| s.local.ip() == ip(SERVER[path]) && s.tcp.state.is_synchronized())
        .expect("a subflow on that path");
    (s.local, s.remote)
}

/// Every MPTCP option an attacker who knows the keys could forge on the joined subflow
/// `(local, remote)` (REMOVE_ADDR names its peer's address).
fn forgeries(
    net: &Net,
    b: ConnectionHandle,
    (local, remote): (SocketAddr, SocketAddr),
) -> Vec<(&'static str, TcpFlags, MptcpOption<'static>)> {
    let (client_key, server_key) = (net.keys[0].unwrap(), net.keys[1].unwrap());
    let joined = net.stacks[1]
        .subflows(b)
        .unwrap()
        .into_iter()
        .find(|s| s.local == local && s.remote == remote)
        .unwrap();
    let remote_id = joined.remote_id.unwrap();
    let idsn = key_material(MptcpVersion::V1, client_key).idsn;
    let fake: IpAddr = ip("10.0.7.1");
    let ack = TcpFlags::ACK;
    vec![
        (
            "MP_PRIO",
            ack,
            MptcpOption::MpPrio {
                backup: true,
                addr_id: None,
            },
        ),
        (
            "REMOVE_ADDR",
            ack,
            MptcpOption::RemoveAddr {
                addr_ids: Vec::leak(vec![remote_id]),
            },
        ),
        (
            "ADD_ADDR",
            ack,
            MptcpOption::AddAddr(AddAddr {
                echo: false,
                addr_id: 9,
                addr: fake,
                port: None,
                truncated_hmac: Some(add_addr_hmac(client_key, server_key, 9, fake, None)),
            }),
        ),
        (
            "MP_FASTCLOSE",
            ack,
            MptcpOption::MpFastclose {
                receiver_key: server_key,
            },
        ),
        (
            "MP_FASTCLOSE on RST",
            TcpFlags::RST | TcpFlags::ACK,
            MptcpOption::MpFastclose {
                receiver_key: server_key,
            },
        ),
        (
            "MP_TCPRST",
            TcpFlags::RST | TcpFlags::ACK,
            MptcpOption::MpTcpRst {
                transient: false,
                reason: 1,
            },
        ),
        (
            "DSS DATA_FIN",
            ack,
            MptcpOption::Dss(Dss {
                data_fin: true,
                data_ack: None,
                mapping: Some(DssMapping {
                    dsn: DssNumber::U64(idsn.wrapping_add(1)),
                    subflow_seq: 0,
                    data_len: 1,
                    checksum: None,
                }),
            }),
        ),
        (
            "DSS mapping",
            ack,
            MptcpOption::Dss(Dss {
                data_fin: false,
                data_ack: None,
                mapping: Some(DssMapping {
                    dsn: DssNumber::U64(idsn.wrapping_add(1_000_000)),
                    subflow_seq: 1,
                    data_len: 1000,
                    checksum: None,
                }),
            }),
        ),
        (
            "DSS DATA_ACK",
            ack,
            MptcpOption::Dss(Dss {
                data_fin: false,
                data_ack: Some(DssNumber::U64(
                    key_material(MptcpVersion::V1, server_key)
                        .idsn
                        .wrapping_add(1 << 40),
                )),
                mapping: None,
            }),
        ),
        (
            "MP_FAIL",
            ack,
            MptcpOption::MpFail {
                dsn: idsn.wrapping_add(1),
            },
        ),
        (
            "MP_CAPABLE",
            ack,
            MptcpOption::MpCapable(MpCapable {
                version: 1,
                flags: 0x01,
                sender_key: Some(client_key ^ 1),
                receiver_key: Some(server_key),
                data_len: None,
                checksum: None,
            }),
        ),
        (
            "MP_JOIN ACK",
            ack,
            MptcpOption::MpJoin(MpJoin::Ack { hmac: [0xab; 20] }),
        ),
    ]
}

/// RFC 8684 §5: an MPTCP option on a segment whose sequence and acknowledgement numbers
/// are not acceptable changes nothing, whatever the option, even with the right keys.
#[test]
fn options_on_unacceptable_segments_change_nothing() {
    let mut net = Net::new(StackConfig::default());
    let (a, b) = net.connected();
    assert!(exchange(&mut net, a, b, 200_000));
    let before = state_of(&net, b);
    let events_before = net.events[1].len();
    let (local, remote) = tuple(&net, b, 1);
    let mut rng = Rng(99);
    for (name, flags, option) in forgeries(&net, b, (local, remote)) {
        for _ in 0..50 {
            let (seq, ack) = (rng.next_u64() as u32, rng.next_u64() as u32);
            let packet = craft(
                remote,
                local,
                seq,
                ack,
                flags,
                1000,
                vec![TcpOption::Mptcp(option)],
                &[],
            );
            net.inject(1, &packet);
        }
        net.run_for(Duration::from_millis(50));
        assert_eq!(state_of(&net, b), before, "{name} changed the subflows");
        let new: Vec<_> = net.events[1][events_before..]
            .iter()
            .filter(|e| !matches!(e, Event::Readable(_) | Event::Writable(_)))
            .collect();
        assert!(new.is_empty(), "{name} raised {new:?}");
    }
    assert!(
        exchange(&mut net, a, b, 500_000),
        "data after the forgeries"
    );
    assert_eq!(state_of(&net, b), before);
}

/// The control: the same forgeries on acceptable segments (sequence numbers an on-path
/// observer saw) do act — MP_PRIO flips the priority, REMOVE_ADDR tears the subflow down —
/// so the test above would see them if they got through.
#[test]
fn the_same_options_on_acceptable_segments_act() {
    let mut net = Net::new(StackConfig::default());
    let (a, b) = net.connected();
    assert!(exchange(&mut net, a, b, 100_000));
    let (local, remote) = tuple(&net, b, 1);
    let forged = forgeries(&net, b, (local, remote));
    let prio = forged.iter().find(|f| f.0 == "MP_PRIO").unwrap().2;
    let packet = net.on_path((local, remote), prio);
    net.inject(1, &packet);
    net.flush();
    let joined = |net: &Net| {
        net.stacks[1]
            .subflows(b)
            .unwrap()
            .into_iter()
            .find(|s| s.local == local)
            .unwrap()
    };
    assert!(joined(&net).peer_backup, "MP_PRIO on an acceptable segment");
    let remove = forged.iter().find(|f| f.0 == "REMOVE_ADDR").unwrap().2;
    let packet = net.on_path((local, remote), remove);
    net.inject(1, &packet);
    net.flush();
    assert!(
        !joined(&net).tcp.state.is_synchronized(),
        "REMOVE_ADDR on an acceptable segment"
    );
    assert!(
        exchange(&mut net, a, b, 100_000),
        "the first path carries on"
    );
}

/// Forgeries on acceptable segments by someone who does not know the keys are refused:
/// ADD_ADDR with a bad HMAC, MP_FASTCLOSE with a wrong key, a DATA_FIN at a wrong data
/// sequence number, a join with a random token, an in-window RST off RCV.NXT.
#[test]
fn forgeries_without_the_keys_are_refused() {
    let mut net = Net::new(StackConfig::default());
    let (a, b) = net.connected();
    assert!(exchange(&mut net, a, b, 100_000));
    let before = state_of(&net, b);
    let (local, remote) = tuple(&net, b, 0);
    let seen = net
        .from_client
        .iter()
        .find(|(t, _)| *t == (local, remote))
        .unwrap()
        .1;
    let fake = ip("10.0.7.1");
    let client_idsn = key_material(MptcpVersion::V1, net.keys[0].unwrap()).idsn;
    let forged = [
        MptcpOption::AddAddr(AddAddr {
            echo: false,
            addr_id: 9,
            addr: fake,
            port: None,
            truncated_hmac: Some(0x1234_5678_9abc_def0),
        }),
        MptcpOption::MpFastclose {
            receiver_key: net.keys[1].unwrap() ^ 0x80,
        },
        MptcpOption::Dss(Dss {
            data_fin: true,
            data_ack: None,
            mapping: Some(DssMapping {
                dsn: DssNumber::U64(client_idsn.wrapping_add(1 << 33)),
                subflow_seq: 0,
                data_len: 1,
                checksum: None,
            }),
        }),
    ];
    for option in forged {
        let packet = net.on_path((local, remote), option);
        net.inject(1, &packet);
    }
    // A RST inside the window but not at RCV.NXT: a challenge ACK, nothing else.
    let rst = craft(
        remote,
        local,
        seen.seq.wrapping_add(100),
        0,
        TcpFlags::RST,
        0,
        Vec::new(),
        &[],
    );
    net.inject(1, &rst);
    // A join with a token nobody has.
    let join = craft(
        SocketAddr::new(ip(CLIENT[1]), 40_000),
        SocketAddr::new(ip(SERVER[0]), PORT),
        1,
        0,
        TcpFlags::SYN,
        1000,
        vec![TcpOption::Mptcp(MptcpOption::MpJoin(MpJoin::Syn {
            backup: false,
            addr_id: 5,
            receiver_token: !key_material(MptcpVersion::V1, net.keys[1].unwrap()).token,
            sender_nonce: 7,
        }))],
        &[],
    );
    net.inject(1, &join);
    net.run_for(Duration::from_millis(100));
    assert_eq!(state_of(&net, b), before);
    let mptcp_events: Vec<_> = net.events[1]
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Mptcp(_, ConnEvent::AddressAnnounced { .. }) | Event::PeerClosed(_)
            ) || matches!(e, Event::Closed(..))
        })
        .collect();
    assert!(mptcp_events.is_empty(), "{mptcp_events:?}");
    assert!(exchange(&mut net, a, b, 200_000));
}

/// A peer (or anyone who learnt the token) floods the server with 10 000 MP_JOIN SYNs from
/// new source ports: at most `max_subflows` subflows exist at any time, the rest are
/// refused with MP_TCPRST, the server's memory grows by less than 1 MB, and the data
/// still flows.
#[test]
fn a_join_flood_with_a_leaked_token_is_bounded() {
    let mut net = Net::new(StackConfig::default());
    let (a, b) = net.connected();
    assert!(exchange(&mut net, a, b, 100_000));
    let token = key_material(MptcpVersion::V1, net.keys[1].unwrap()).token;
    let max = MptcpConfig::default().max_subflows;
    let held_before = heap::held();
    let most = Cell::new(0usize);
    let mut rng = Rng(7);
    for i in 0..10_000u32 {
        // From an address whose replies are lost, so the joins stay half-open.
        let src = SocketAddr::new(ip("10.0.9.9"), 1024 + (i % 60_000) as u16);
        let join = craft(
            src,
            SocketAddr::new(ip(SERVER[1]), PORT),
            rng.next_u64() as u32,
            0,
            TcpFlags::SYN,
            1000,
            vec![TcpOption::Mptcp(MptcpOption::MpJoin(MpJoin::Syn {
                backup: false,
                addr_id: 3,
                receiver_token: token,
                sender_nonce: i,
            }))],
            &[],
        );
        net.inject(1, &join);
        if i % 100 == 0 {
            net.run_for(Duration::from_millis(1));
            most.set(most.get().max(net.stacks[1].subflows(b).unwrap().len()));
        }
    }
    net.run_for(Duration::from_millis(10));
    let grown = heap::held() - held_before;
    let subflows = net.stacks[1].subflows(b).unwrap();
    let open = subflows.iter().filter(|s| s.tcp.state != TcpState::Closed);
    assert!(open.count() <= 1 + max, "{subflows:?}");
    assert!(
        most.get() <= 1 + max + mptcp_proto::stack::CLOSED_HISTORY,
        "{}",
        most.get()
    );
    assert!(net.stacks[1].stats().joins_refused >= 10_000 - max as u64);
    assert!(
        grown < 1 << 20,
        "the flood grew the server's heap by {grown} bytes"
    );
    eprintln!(
        "join flood: {} refused, at most {} subflows listed, heap {:+} bytes",
        net.stacks[1].stats().joins_refused,
        most.get(),
        grown
    );
    assert!(
        exchange(&mut net, a, b, 300_000),
        "data during the flood's aftermath"
    );
}

/// A long connection whose paths come and go: closed subflows leave the list (their
/// counters go to the totals), so it does not grow with each flap.
#[test]
fn closed_subflows_leave_the_connection() {
    let mut net = Net::new(StackConfig::default());
    let (a, b) = net.connected();
    for round in 0..30 {
        let joined = net.stacks[0]
            .subflows(a)
            .unwrap()
            .into_iter()
            .filter(|s| s.id.0 != 0 && s.tcp.state == TcpState::Established)
            .map(|s| s.id)
            .collect::<Vec<_>>();
        for id in joined {
            assert!(net.stacks[0].close_subflow(a, id));
        }
        net.run_for(Duration::from_secs(1));
        net.stacks[0]
            .open_subflow(
                a,
                ip(CLIENT[1]),
                SocketAddr::new(ip(SERVER[1]), PORT),
                false,
            )
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(
            net.run_until(Duration::from_secs(5), |n| established(n, 0, a) >= 2),
            "round {round}"
        );
        assert!(exchange(&mut net, a, b, 20_000), "round {round}");
    }
    // TIME-WAIT of the closed subflows (2·MSL) passes.
    net.run_for(Duration::from_secs(130));
    for (side, conn) in [(0, a), (1, b)] {
        let listed = net.stacks[side].subflows(conn).unwrap().len();
        assert!(
            listed <= 1 + MptcpConfig::default().max_subflows + mptcp_proto::stack::CLOSED_HISTORY,
            "side {side}: {:?}",
            net.stacks[side]
                .subflows(conn)
                .unwrap()
                .iter()
                .map(|s| (s.id.0, s.local, s.remote, s.tcp.state))
                .collect::<Vec<_>>()
        );
        let totals = net.stacks[side].subflow_totals(conn).unwrap();
        assert!(totals.subflows_closed >= 30, "side {side}: {totals:?}");
        assert!(
            totals.bytes_received >= 30 * 20_000,
            "side {side}: {totals:?}"
        );
    }
}

/// 100 000 SYNs from random sources against a listener with a backlog of 16: SYN cookies
/// answer once the SYN queue is full, memory stays bounded, and legitimate MPTCP clients
/// connect — one during the flood, one right after — within a second and move their
/// bytes intact over MPTCP.
#[test]
fn a_syn_flood_does_not_keep_clients_out() {
    let mut net = Net::new(StackConfig::default());
    let listener = net.stacks[1]
        .listen(SocketAddr::new(ip(SERVER[0]), PORT), 16)
        .unwrap();
    let held_before = heap::held();
    let mut rng = Rng(3);
    let mut flood = |net: &mut Net, count: u32| {
        for _ in 0..count {
            let r = rng.next_u64();
            // Random sources in 10.200.0.0/16, which no host has: nobody answers.
            let src = SocketAddr::new(
                IpAddr::from([10, 200, (r >> 8) as u8, r as u8]),
                1024 + (r >> 16) as u16 % 60_000,
            );
            let syn = craft(
                src,
                SocketAddr::new(ip(SERVER[0]), PORT),
                (r >> 32) as u32,
                0,
                TcpFlags::SYN,
                64_240,
                vec![
                    TcpOption::MaxSegmentSize(1460),
                    TcpOption::SackPermitted,
                    TcpOption::WindowScale(7),
                ],
                &[],
            );
            net.inject(1, &syn);
        }
        // 1 000 SYNs per 10 ms: 100 000 per second.
        net.run_for(Duration::from_millis(10));
    };
    let mut clients = Vec::new();
    for round in 0..100 {
        flood(&mut net, 1_000);
        if round == 50 {
            clients.push((
                net.now,
                net.stacks[0]
                    .connect(net.now, SocketAddr::new(ip(SERVER[0]), PORT), None)
                    .unwrap(),
            ));
        }
    }
    let grown = heap::held() - held_before;
    let flood_end = net.now;
    clients.push((
        net.now,
        net.stacks[0]
            .connect(net.now, SocketAddr::new(ip(SERVER[0]), PORT), None)
            .unwrap(),
    ));
    let stats = net.stacks[1].stats();
    eprintln!("after the flood: {stats:?}, heap {grown:+} bytes");
    assert!(stats.syn_cookies_sent > 90_000, "{stats:?}");
    assert!(
        grown < 8 << 20,
        "the flood grew the server's heap by {grown} bytes"
    );
    for (started, client) in clients {
        let connected = net.run_until(Duration::from_secs(1), |n| {
            n.events[0].contains(&Event::Connected(client))
        });
        assert!(
            connected,
            "a client that started at {started:?} did not connect in 1 s"
        );
        assert!(net.run_until(Duration::from_secs(1), |n| {
            n.events[1].contains(&Event::Incoming(listener))
        }));
        let server = net.stacks[1].accept(listener).unwrap();
        net.events[1].retain(|e| *e != Event::Incoming(listener));
        assert!(exchange(&mut net, client, server, 300_000));
        assert_eq!(net.stacks[0].is_mptcp(client), Some(true));
        assert_eq!(net.stacks[1].is_mptcp(server), Some(true));
    }
    assert!(net.now - flood_end < Duration::from_secs(10));
}

/// Someone on the path (or the peer itself) sends 100 000 DSS mappings for bytes that
/// never come, and 10 000 ADD_ADDRs with valid HMACs, on acceptable segments: what the
/// server keeps for them stays bounded, and the data still flows intact.
#[test]
fn a_flood_of_mappings_and_announcements_is_bounded() {
    let mut net = Net::new(StackConfig::default());
    let (a, b) = net.connected();
    assert!(exchange(&mut net, a, b, 100_000));
    let (local, remote) = tuple(&net, b, 0);
    let (client_key, server_key) = (net.keys[0].unwrap(), net.keys[1].unwrap());
    let client_idsn = key_material(MptcpVersion::V1, client_key).idsn;
    let held_before = heap::held();
    for i in 0..110_000u32 {
        let option = if i < 100_000 {
            // Mappings far ahead of what was received, each a new start.
            MptcpOption::Dss(Dss {
                data_fin: false,
                data_ack: None,
                mapping: Some(DssMapping {
                    dsn: DssNumber::U64(client_idsn.wrapping_add(1 << 32) + u64::from(i) * 10),
                    subflow_seq: (1 << 30) | (i * 10),
                    data_len: 10,
                    checksum: None,
                }),
            })
        } else {
            let id = (i % 250) as u8 + 1;
            let addr = IpAddr::from([10, 0, 8, id]);
            MptcpOption::AddAddr(AddAddr {
                echo: false,
                addr_id: id,
                addr,
                port: None,
                truncated_hmac: Some(add_addr_hmac(client_key, server_key, id, addr, None)),
            })
        };
        let packet = net.on_path((local, remote), option);
        net.inject(1, &packet);
        if i % 1000 == 0 {
            net.run_for(Duration::from_millis(1));
        }
    }
    net.run_for(Duration::from_millis(10));
    let grown = heap::held() - held_before;
    eprintln!("mapping and ADD_ADDR flood: heap {grown:+} bytes");
    assert!(
        grown < 2 << 20,
        "the flood grew the server's heap by {grown} bytes"
    );
    assert!(exchange(&mut net, a, b, 300_000), "data after the flood");
}
