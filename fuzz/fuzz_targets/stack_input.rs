//! Hostile packets against a `Stack`: one with a listener and one established MPTCP
//! connection (made by a real handshake with a second stack), fed a sequence of arbitrary
//! packets — raw bytes, TCP segments aimed at the live connection or the listener with fuzzed
//! fields, or segments carrying well-formed MPTCP options built from the live connection's
//! keys, token and sequence numbers (DSS mappings and DATA_ACKs near the real ones, MP_JOIN
//! SYNs with the real token, ADD_ADDR with a valid HMAC, REMOVE_ADDR, MP_PRIO, MP_FASTCLOSE,
//! MP_TCPRST, MP_FAIL) — interleaved with time steps. Nothing may panic, and the stack must go
//! quiet: transmits and events drain in bounded steps.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use mptcp_proto::crypto::{MptcpVersion, add_addr_hmac, key_material};
use mptcp_proto::stack::{InterfaceConfig, InterfaceId, Stack, StackConfig};
use mptcp_proto::time::Instant;
use mptcp_proto::wire::mptcp::{AddAddr, Dss, DssMapping, DssNumber, MpJoin};
use mptcp_proto::wire::{
    IpProtocol, IpRepr, Ipv4Repr, MptcpOption, SeqNum, TcpFlags, TcpOption, TcpOptions, TcpPacket,
    TcpRepr, parse_ip_packet,
};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const PORT: u16 = 80;

/// A counter-based generator: the stacks' keys, ISNs and ports are the same every run.
struct Counter(u64);

impl rand_core::RngCore for Counter {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes()[..chunk.len()]);
        }
    }
}

fn stack(addr: Ipv4Addr, seed: u64) -> Stack {
    let config = StackConfig {
        interfaces: vec![InterfaceConfig::new(IpAddr::V4(addr))],
        ..StackConfig::default()
    };
    Stack::new(config, Box::new(Counter(seed)))
}

/// The MPTCP keys seen on the wire: the sender key of each side's MP_CAPABLE.
#[derive(Default, Clone, Copy)]
struct Keys {
    server: u64,
    client: u64,
}

/// Moves every pending packet of `from` into `to`; returns the sequence and acknowledgment
/// numbers of the last one (the sender's next sequence number and what it acknowledges),
/// and notes the MP_CAPABLE keys it sees in `keys` (`from_server` says whose they are).
fn shuttle(
    now: Instant,
    from: &mut Stack,
    to: &mut Stack,
    keys: &mut Keys,
    from_server: bool,
) -> Option<(SeqNum, SeqNum)> {
    let mut buf = vec![0u8; 65536];
    let mut last = None;
    for _ in 0..10_000 {
        let Some(transmit) = from.poll_transmit(now, &mut buf) else {
            return last;
        };
        let packet = &buf[..transmit.len];
        if let Ok(ip) = parse_ip_packet(packet)
            && let Ok(tcp) = TcpPacket::new_checked(ip.payload)
        {
            let len = tcp.payload().len() as u32;
            last = Some((tcp.seq_number() + len, tcp.ack_number()));
            if let Ok(repr) = TcpRepr::parse(&tcp) {
                for option in repr.mptcp_options() {
                    if let MptcpOption::MpCapable(c) = option
                        && let Some(key) = c.sender_key
                    {
                        if from_server {
                            keys.server = key;
                        } else {
                            keys.client = key;
                        }
                    }
                }
            }
        }
        to.handle_packet(now, InterfaceId(0), packet);
    }
    panic!("a stack kept transmitting");
}

/// Every address id, for REMOVE_ADDR options to borrow from.
static IDS: [u8; 4] = [0, 1, 2, 3];

/// An MPTCP option built from the live connection's values and the input's bytes.
fn mptcp_option(input: &[u8], keys: Keys) -> MptcpOption<'static> {
    let byte = |i: usize| input.get(i).copied().unwrap_or(0);
    let word = |i: usize| u32::from_be_bytes([byte(i), byte(i + 1), byte(i + 2), byte(i + 3)]);
    let server = key_material(MptcpVersion::V1, keys.server);
    let client = key_material(MptcpVersion::V1, keys.client);
    let near = |base: u64, i: usize| base.wrapping_add(u64::from(word(i) % 100_000));
    let number = |v: u64, wide: bool| {
        if wide {
            DssNumber::U64(v)
        } else {
            DssNumber::U32(v as u32)
        }
    };
    let flags = byte(1);
    match byte(0) % 9 {
        0 | 1 => MptcpOption::Dss(Dss {
            data_fin: flags & 1 != 0,
            data_ack: (flags & 2 != 0).then(|| number(near(server.idsn, 2), flags & 4 != 0)),
            mapping: (flags & 8 != 0).then(|| DssMapping {
                dsn: number(near(client.idsn, 6), flags & 16 != 0),
                subflow_seq: word(10) % 100_000,
                data_len: u16::from_be_bytes([byte(14), byte(15)]) % 3000,
                checksum: (flags & 32 != 0).then(|| u16::from_be_bytes([byte(16), byte(17)])),
            }),
        }),
        2 => MptcpOption::MpJoin(MpJoin::Syn {
            backup: flags & 1 != 0,
            addr_id: byte(2),
            receiver_token: if flags & 2 != 0 {
                server.token
            } else {
                word(3)
            },
            sender_nonce: word(7),
        }),
        3 => {
            let mut hmac = [0u8; 20];
            for (i, b) in hmac.iter_mut().enumerate() {
                *b = byte(2 + i);
            }
            MptcpOption::MpJoin(MpJoin::Ack { hmac })
        }
        4 => {
            let addr = IpAddr::V4(Ipv4Addr::new(10, 9, byte(2), byte(3)));
            let port = (flags & 1 != 0).then(|| u16::from_be_bytes([byte(4), byte(5)]));
            let id = byte(6);
            MptcpOption::AddAddr(AddAddr {
                echo: flags & 2 != 0,
                addr_id: id,
                addr,
                port,
                truncated_hmac: (flags & 2 == 0).then(|| {
                    if flags & 4 != 0 {
                        u64::from(word(7))
                    } else {
                        add_addr_hmac(keys.client, keys.server, id, addr, port)
                    }
                }),
            })
        }
        5 => {
            let n = usize::from(flags % 4) + 1;
            MptcpOption::RemoveAddr {
                addr_ids: &IDS[..n],
            }
        }
        6 => MptcpOption::MpPrio {
            backup: flags & 1 != 0,
            addr_id: None,
        },
        7 => MptcpOption::MpFastclose {
            receiver_key: if flags & 1 != 0 {
                keys.server
            } else {
                u64::from(word(2))
            },
        },
        _ => {
            if flags & 1 != 0 {
                MptcpOption::MpTcpRst {
                    transient: flags & 2 != 0,
                    reason: byte(2),
                }
            } else {
                MptcpOption::MpFail {
                    dsn: near(client.idsn, 2),
                }
            }
        }
    }
}

/// Drains the server's output and events; the stack must go quiet.
fn drain(now: Instant, server: &mut Stack) {
    let mut buf = vec![0u8; 65536];
    for _ in 0..10_000 {
        if server.poll_transmit(now, &mut buf).is_none() {
            break;
        }
    }
    for _ in 0..10_000 {
        if server.poll_event().is_none() {
            return;
        }
    }
    panic!("events never drained");
}

/// A TCP segment to the server from `src_port`, fields from the input; with `mptcp`, its
/// options are that one MPTCP option (and a timestamp) instead of raw bytes.
fn segment(
    input: &[u8],
    src_port: u16,
    near: (SeqNum, SeqNum),
    mptcp: Option<MptcpOption<'static>>,
) -> Vec<u8> {
    let byte = |i: usize| input.get(i).copied().unwrap_or(0);
    let word = |i: usize| u32::from_be_bytes([byte(i), byte(i + 1), byte(i + 2), byte(i + 3)]);
    let (seq, ack) = if byte(0) & 1 == 0 {
        // Near the live connection's numbers, where the state machine really looks.
        (near.0 + (word(1) % 200_000), near.1 + (word(5) % 200_000))
    } else {
        (SeqNum(word(1)), SeqNum(word(5)))
    };
    let options_len = usize::from(byte(9)) % 41;
    let options_raw = input.get(12..12 + options_len).unwrap_or_default();
    let options = match mptcp {
        Some(option) => vec![
            TcpOption::Timestamp {
                value: word(1),
                echo_reply: 0,
            },
            TcpOption::Mptcp(option),
        ],
        None => TcpOptions::new(options_raw)
            .map_while(Result::ok)
            .collect::<Vec<_>>(),
    };
    let payload = input.get(12 + options_len..).unwrap_or_default();
    let tcp = TcpRepr {
        src_port,
        dst_port: PORT,
        seq_number: seq,
        ack_number: ack,
        flags: TcpFlags::from_bits_truncate(u16::from_be_bytes([byte(10), byte(11)])),
        window_len: u16::from_be_bytes([byte(2), byte(6)]),
        urgent_at: 0,
        options,
        payload,
    };
    let ip = IpRepr::Ipv4(Ipv4Repr {
        src: CLIENT,
        dst: SERVER,
        protocol: IpProtocol::TCP,
        payload_len: tcp.buffer_len(),
        ttl: 64,
        dscp_ecn: 0,
        ident: 0,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        options: &[],
    });
    let mut bytes = vec![0u8; ip.buffer_len()];
    ip.emit(&mut bytes);
    let header_len = bytes.len() - tcp.buffer_len();
    tcp.emit(
        &mut TcpPacket::new_unchecked(&mut bytes[header_len..]),
        IpAddr::V4(CLIENT),
        IpAddr::V4(SERVER),
    );
    bytes
}

fuzz_target!(|data: &[u8]| {
    let mut now = Instant::from_millis(1);
    let mut server = stack(SERVER, 1);
    let mut client = stack(CLIENT, 2);
    let listener = server
        .listen(SocketAddr::new(IpAddr::V4(SERVER), PORT), 8)
        .unwrap();
    let conn = client
        .connect(now, SocketAddr::new(IpAddr::V4(SERVER), PORT), None)
        .unwrap();
    let mut keys = Keys::default();
    for _ in 0..4 {
        shuttle(now, &mut client, &mut server, &mut keys, false);
        shuttle(now, &mut server, &mut client, &mut keys, true);
    }
    let accepted = server.accept(listener).expect("handshake completed");
    client.send(conn, b"hello").unwrap();
    let near =
        shuttle(now, &mut client, &mut server, &mut keys, false).expect("the client sent its data");
    let local_port = client.local_addr(conn).unwrap().port();

    // Records: [kind, len, bytes...].
    let mut rest = data;
    while let [kind, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (body, next) = tail.split_at(len);
        rest = next;
        match kind % 6 {
            0 => server.handle_packet(now, InterfaceId(0), body),
            1 => server.handle_packet(now, InterfaceId(0), &segment(body, local_port, near, None)),
            2 => server.handle_packet(now, InterfaceId(0), &segment(body, 40_000, near, None)),
            3 | 4 => {
                // An MPTCP option: on the live subflow, or (kind 4) from another port, where
                // MP_JOIN SYNs start new subflows.
                let (option, rest) = body.split_at(body.len().min(24));
                let port = if kind % 6 == 3 { local_port } else { 40_001 };
                let packet = segment(rest, port, near, Some(mptcp_option(option, keys)));
                server.handle_packet(now, InterfaceId(0), &packet);
            }
            _ => {
                now += Duration::from_millis(u64::from(body.first().copied().unwrap_or(1)) * 10);
                server.handle_timeout(now);
            }
        }
        drain(now, &mut server);
        let mut buf = [0u8; 4096];
        let _ = server.recv(accepted, &mut buf);
    }
});
