//! What the targets that drive `Stack`s share: a repeatable random generator for the stacks,
//! a look at the packets they send, and hostile packets aimed at a live connection — raw
//! bytes, TCP segments with fuzzed fields, and segments carrying well-formed MPTCP options
//! built from the connection's keys, token and sequence numbers.

#![allow(dead_code)] // Each target uses its own part.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};

use mptcp_proto::crypto::{MptcpVersion, add_addr_hmac, key_material};
use mptcp_proto::wire::mptcp::{AddAddr, Dss, DssMapping, DssNumber, MpJoin};
use mptcp_proto::wire::{
    MptcpOption, SeqNum, TcpFlags, TcpOption, TcpOptions, TcpPacket, TcpRepr, parse_ip_packet,
    tcp_packet,
};

/// A counter-based generator: keys, ISNs and ports are the same every run.
pub struct Counter(pub u64);

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

/// Byte `i` of `input`, 0 past its end.
pub fn byte(input: &[u8], i: usize) -> u8 {
    input.get(i).copied().unwrap_or(0)
}

/// The big-endian word at `i` of `input`, zero-padded past its end.
fn word(input: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([
        byte(input, i),
        byte(input, i + 1),
        byte(input, i + 2),
        byte(input, i + 3),
    ])
}

/// What a harness reads from a packet a stack would take as a TCP segment.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// The sequence number after its payload: the sender's next one.
    pub next_seq: SeqNum,
    /// What it acknowledges.
    pub ack: SeqNum,
    /// It carries payload.
    pub payload: bool,
    /// It carries a DSS option with a mapping.
    pub mapping: bool,
    /// The sender key of its MP_CAPABLE, if it has one.
    pub capable_key: Option<u64>,
}

impl Seen {
    /// Hostile packets impersonating this packet's sender towards its receiver (IPv4 only).
    pub fn aim(&self, keys: Keys) -> Option<Aim> {
        let (SocketAddr::V4(from), SocketAddr::V4(to)) = (self.src, self.dst) else {
            return None;
        };
        let near = (self.next_seq, self.ack);
        Some(Aim {
            from,
            to,
            near,
            keys,
        })
    }
}

/// Reads `packet` as the stack does (IP, TCP header, options; checksums not verified):
/// `None` if the stack would drop it as malformed.
pub fn inspect(packet: &[u8]) -> Option<Seen> {
    let ip = parse_ip_packet(packet).ok()?;
    let tcp = TcpPacket::new_checked(ip.payload).ok()?;
    let repr = TcpRepr::parse(&tcp).ok()?;
    let mut seen = Seen {
        src: SocketAddr::new(ip.ip.src_addr(), repr.src_port),
        dst: SocketAddr::new(ip.ip.dst_addr(), repr.dst_port),
        next_seq: repr.seq_number + repr.payload.len() as u32,
        ack: repr.ack_number,
        payload: !repr.payload.is_empty(),
        mapping: false,
        capable_key: None,
    };
    for option in repr.mptcp_options() {
        match option {
            MptcpOption::MpCapable(c) => seen.capable_key = seen.capable_key.or(c.sender_key),
            MptcpOption::Dss(d) => seen.mapping |= d.mapping.is_some(),
            _ => {}
        }
    }
    Some(seen)
}

/// The MPTCP keys a hostile packet needs (as seen in the MP_CAPABLE handshake).
#[derive(Debug, Default, Clone, Copy)]
pub struct Keys {
    /// The key of the stack the packet is for.
    pub target: u64,
    /// The key of the peer the packet pretends to come from.
    pub peer: u64,
}

/// Where hostile packets aim: a live subflow, seen from the peer it impersonates.
#[derive(Debug, Clone, Copy)]
pub struct Aim {
    /// The impersonated peer's address and port.
    pub from: SocketAddrV4,
    /// The attacked stack's address and port.
    pub to: SocketAddrV4,
    /// The peer's next sequence number and what it acknowledges.
    pub near: (SeqNum, SeqNum),
    pub keys: Keys,
}

/// A hostile packet built from `body` as `kind % 5` says: raw bytes as an IP packet (0); a
/// TCP segment with fuzzed flags, options, payload and sequence numbers on the aimed subflow
/// (1) or from a new port of the peer (2, where SYNs reach a listener); a segment carrying one
/// well-formed MPTCP option (its first 24 bytes say which) on the subflow (3) or from a new
/// port (4, where MP_JOIN SYNs start new subflows).
pub fn hostile(kind: u8, body: &[u8], aim: &Aim) -> Vec<u8> {
    let new_port = |port| SocketAddrV4::new(*aim.from.ip(), port);
    match kind % 5 {
        0 => body.to_vec(),
        1 => segment(body, aim.from, aim.to, aim.near, None),
        2 => segment(body, new_port(40_000), aim.to, aim.near, None),
        kind => {
            let (option, rest) = body.split_at(body.len().min(24));
            let from = if kind == 3 {
                aim.from
            } else {
                new_port(40_001)
            };
            let option = mptcp_option(option, aim.keys);
            segment(rest, from, aim.to, aim.near, Some(option))
        }
    }
}

/// Every address id, for REMOVE_ADDR options to borrow from.
static IDS: [u8; 4] = [0, 1, 2, 3];

/// An MPTCP option built from the live connection's values and the input's bytes: DSS
/// mappings and DATA_ACKs near the real sequence numbers, MP_JOIN SYNs with the real token,
/// ADD_ADDR with a valid HMAC, REMOVE_ADDR, MP_PRIO, MP_FASTCLOSE, MP_TCPRST, MP_FAIL.
fn mptcp_option(input: &[u8], keys: Keys) -> MptcpOption<'static> {
    let byte = |i| byte(input, i);
    let word = |i| word(input, i);
    let target = key_material(MptcpVersion::V1, keys.target);
    let peer = key_material(MptcpVersion::V1, keys.peer);
    let near = |base: u64, i| base.wrapping_add(u64::from(word(i) % 100_000));
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
            data_ack: (flags & 2 != 0).then(|| number(near(target.idsn, 2), flags & 4 != 0)),
            mapping: (flags & 8 != 0).then(|| DssMapping {
                dsn: number(near(peer.idsn, 6), flags & 16 != 0),
                subflow_seq: word(10) % 100_000,
                data_len: u16::from_be_bytes([byte(14), byte(15)]) % 3000,
                checksum: (flags & 32 != 0).then(|| u16::from_be_bytes([byte(16), byte(17)])),
            }),
        }),
        2 => MptcpOption::MpJoin(MpJoin::Syn {
            backup: flags & 1 != 0,
            addr_id: byte(2),
            receiver_token: if flags & 2 != 0 {
                target.token
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
                        add_addr_hmac(keys.peer, keys.target, id, addr, port)
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
                keys.target
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
                    dsn: near(peer.idsn, 2),
                }
            }
        }
    }
}

/// A TCP segment from `src` to `dst`, fields from the input; with `mptcp`, its options are
/// that one MPTCP option (and a timestamp) instead of raw bytes.
fn segment(
    input: &[u8],
    src: SocketAddrV4,
    dst: SocketAddrV4,
    near: (SeqNum, SeqNum),
    mptcp: Option<MptcpOption<'static>>,
) -> Vec<u8> {
    let byte = |i| byte(input, i);
    let word = |i| word(input, i);
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
        src_port: src.port(),
        dst_port: dst.port(),
        seq_number: seq,
        ack_number: ack,
        flags: TcpFlags::from_bits_truncate(u16::from_be_bytes([byte(10), byte(11)])),
        window_len: u16::from_be_bytes([byte(2), byte(6)]),
        urgent_at: 0,
        options,
        payload,
    };
    tcp_packet(src.into(), dst.into(), &tcp)
}
