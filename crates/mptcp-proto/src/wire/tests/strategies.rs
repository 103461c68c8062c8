//! Proptest generators of valid wire values: every variant of `MptcpOption` and `TcpOption`,
//! whole segments, IPv4 and IPv6 headers.
//!
//! Borrowed parts (REMOVE_ADDR ids, unknown options, payloads) are generated as vectors and
//! leaked to get `'static` slices: a few bytes per test case, in tests only.

use core::net::IpAddr;

use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

use crate::wire::mptcp::{
    AddAddr, AddAddrV0, Dss, DssMapping, DssNumber, MpCapable, MpJoin, MptcpOption,
};
use crate::wire::{
    IpProtocol, Ipv4Repr, Ipv6Repr, MAX_OPTIONS_LEN, SackBlock, SeqNum, TcpFlags, TcpOption,
    TcpRepr, option_kind,
};

fn bytes(len: core::ops::RangeInclusive<usize>) -> impl Strategy<Value = &'static [u8]> {
    vec(any::<u8>(), len).prop_map(|v| &*v.leak())
}

fn ip_addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u8; 16]>().prop_map(IpAddr::from),
    ]
}

fn dss_number() -> impl Strategy<Value = DssNumber> {
    prop_oneof![
        any::<u32>().prop_map(DssNumber::U32),
        any::<u64>().prop_map(DssNumber::U64)
    ]
}

/// One of the five layouts (lengths 4, 12, 20, 22, 24), any version and flags.
fn mp_capable() -> impl Strategy<Value = MpCapable> {
    (
        0u8..16,
        any::<u8>(),
        0usize..5,
        any::<(u64, u64, u16, u16)>(),
    )
        .prop_map(|(version, flags, layout, (k1, k2, len, csum))| MpCapable {
            version,
            flags,
            sender_key: (layout >= 1).then_some(k1),
            receiver_key: (layout >= 2).then_some(k2),
            data_len: (layout >= 3).then_some(len),
            checksum: (layout >= 4).then_some(csum),
        })
}

fn mp_join() -> impl Strategy<Value = MpJoin> {
    prop_oneof![
        any::<(bool, u8, u32, u32)>().prop_map(
            |(backup, addr_id, receiver_token, sender_nonce)| {
                MpJoin::Syn {
                    backup,
                    addr_id,
                    receiver_token,
                    sender_nonce,
                }
            }
        ),
        any::<(bool, u8, u64, u32)>().prop_map(
            |(backup, addr_id, truncated_hmac, sender_nonce)| {
                MpJoin::SynAck {
                    backup,
                    addr_id,
                    truncated_hmac,
                    sender_nonce,
                }
            }
        ),
        any::<[u8; 20]>().prop_map(|hmac| MpJoin::Ack { hmac }),
    ]
}

fn dss() -> impl Strategy<Value = Dss> {
    let mapping = (dss_number(), any::<u32>(), any::<u16>(), of(any::<u16>())).prop_map(
        |(dsn, subflow_seq, data_len, checksum)| DssMapping {
            dsn,
            subflow_seq,
            data_len,
            checksum,
        },
    );
    (any::<bool>(), of(dss_number()), of(mapping)).prop_map(|(data_fin, data_ack, mapping)| Dss {
        data_fin,
        data_ack,
        mapping,
    })
}

/// An announcement carries an HMAC, an echo does not (RFC 8684 §3.4.1).
fn add_addr() -> impl Strategy<Value = AddAddr> {
    (
        any::<bool>(),
        any::<u8>(),
        ip_addr(),
        of(any::<u16>()),
        any::<u64>(),
    )
        .prop_map(|(echo, addr_id, addr, port, hmac)| AddAddr {
            echo,
            addr_id,
            addr,
            port,
            truncated_hmac: (!echo).then_some(hmac),
        })
}

fn add_addr_v0() -> impl Strategy<Value = AddAddrV0> {
    (any::<u8>(), ip_addr(), of(any::<u16>())).prop_map(|(addr_id, addr, port)| AddAddrV0 {
        addr_id,
        addr,
        port,
    })
}

/// A subtype this code does not know, with the subtype byte first in `data`.
fn unknown_mptcp() -> impl Strategy<Value = MptcpOption<'static>> {
    (9u8..16, 0u8..16, vec(any::<u8>(), 0..=20)).prop_map(|(subtype, low, rest)| {
        let mut data = vec![(subtype << 4) | low];
        data.extend(rest);
        MptcpOption::Unknown {
            subtype,
            data: data.leak(),
        }
    })
}

/// Any valid MPTCP option; at most 38 bytes, so that it fits a TCP options area.
pub(super) fn mptcp_option() -> impl Strategy<Value = MptcpOption<'static>> {
    prop_oneof![
        mp_capable().prop_map(MptcpOption::MpCapable),
        mp_join().prop_map(MptcpOption::MpJoin),
        dss().prop_map(MptcpOption::Dss),
        add_addr().prop_map(MptcpOption::AddAddr),
        add_addr_v0().prop_map(MptcpOption::AddAddrV0),
        bytes(1..=35).prop_map(|addr_ids| MptcpOption::RemoveAddr { addr_ids }),
        any::<(bool, Option<u8>)>()
            .prop_map(|(backup, addr_id)| MptcpOption::MpPrio { backup, addr_id }),
        any::<u64>().prop_map(|dsn| MptcpOption::MpFail { dsn }),
        any::<u64>().prop_map(|receiver_key| MptcpOption::MpFastclose { receiver_key }),
        any::<(bool, u8)>()
            .prop_map(|(transient, reason)| MptcpOption::MpTcpRst { transient, reason }),
        unknown_mptcp(),
    ]
}

/// Kinds with no parser of their own.
fn unknown_kind() -> impl Strategy<Value = u8> {
    any::<u8>().prop_filter("a kind with a parser", |kind| {
        ![
            option_kind::END_OF_LIST,
            option_kind::NO_OPERATION,
            option_kind::MAX_SEGMENT_SIZE,
            option_kind::WINDOW_SCALE,
            option_kind::SACK_PERMITTED,
            option_kind::SACK,
            option_kind::TIMESTAMP,
            option_kind::MPTCP,
        ]
        .contains(kind)
    })
}

/// Any TCP option but the end of the list (which can only come last in a list).
pub(super) fn tcp_option_but_end() -> impl Strategy<Value = TcpOption<'static>> {
    let sack_block = any::<(u32, u32)>().prop_map(|(left, right)| SackBlock { left, right });
    prop_oneof![
        Just(TcpOption::NoOperation),
        any::<u16>().prop_map(TcpOption::MaxSegmentSize),
        any::<u8>().prop_map(TcpOption::WindowScale),
        Just(TcpOption::SackPermitted),
        vec(sack_block, 1..=4).prop_map(|blocks| TcpOption::sack(&blocks)),
        any::<(u32, u32)>()
            .prop_map(|(value, echo_reply)| TcpOption::Timestamp { value, echo_reply }),
        mptcp_option().prop_map(TcpOption::Mptcp),
        (unknown_kind(), bytes(0..=36)).prop_map(|(kind, data)| TcpOption::Unknown { kind, data }),
    ]
}

/// Any TCP option.
pub(super) fn tcp_option() -> impl Strategy<Value = TcpOption<'static>> {
    prop_oneof![1 => Just(TcpOption::EndOfList), 20 => tcp_option_but_end()]
}

/// An option list as a parser returns it: it fits the 40-byte area, and unless its length is
/// a multiple of 4 it ends with an end-of-list option (the padding after it reads as one).
fn option_list() -> impl Strategy<Value = Vec<TcpOption<'static>>> {
    (vec(tcp_option_but_end(), 0..8), any::<bool>()).prop_map(|(candidates, end)| {
        let mut options = Vec::new();
        let mut len = 0;
        for option in candidates {
            if len + option.buffer_len() <= MAX_OPTIONS_LEN {
                len += option.buffer_len();
                options.push(option);
            }
        }
        if len < MAX_OPTIONS_LEN && (end || len % 4 != 0) {
            options.push(TcpOption::EndOfList);
        }
        options
    })
}

/// A source and destination of the same family.
pub(super) fn address_pair() -> impl Strategy<Value = (IpAddr, IpAddr)> {
    prop_oneof![
        any::<([u8; 4], [u8; 4])>().prop_map(|(a, b)| (a.into(), b.into())),
        any::<([u8; 16], [u8; 16])>().prop_map(|(a, b)| (a.into(), b.into())),
    ]
}

/// A whole TCP segment.
pub(super) fn tcp_repr() -> impl Strategy<Value = TcpRepr<'static>> {
    (
        any::<(u16, u16, u32, u32, u16, u16, u16)>(),
        option_list(),
        bytes(0..=300),
    )
        .prop_map(
            |((src_port, dst_port, seq, ack, flags, window_len, urgent_at), options, payload)| {
                TcpRepr {
                    src_port,
                    dst_port,
                    seq_number: SeqNum(seq),
                    ack_number: SeqNum(ack),
                    flags: TcpFlags::from_bits_truncate(flags),
                    window_len,
                    urgent_at,
                    options,
                    payload,
                }
            },
        )
}

/// An IPv4 header: options a multiple of 4 bytes, fragment offset a multiple of 8.
pub(super) fn ipv4_repr() -> impl Strategy<Value = Ipv4Repr<'static>> {
    (
        any::<([u8; 4], [u8; 4], u8, u8, u8, u16)>(),
        any::<(bool, bool, u16)>(),
        0usize..=65_495,
        (0usize..=10).prop_flat_map(|words| bytes(words * 4..=words * 4)),
    )
        .prop_map(
            |(
                (src, dst, protocol, ttl, dscp_ecn, ident),
                (dont_frag, more_frags, offset),
                payload_len,
                options,
            )| {
                Ipv4Repr {
                    src: src.into(),
                    dst: dst.into(),
                    protocol: IpProtocol(protocol),
                    payload_len: payload_len.min(65_535 - 20 - options.len()),
                    ttl,
                    dscp_ecn,
                    ident,
                    dont_frag,
                    more_frags,
                    frag_offset: offset & !7,
                    options,
                }
            },
        )
}

/// An IPv6 fixed header.
pub(super) fn ipv6_repr() -> impl Strategy<Value = Ipv6Repr> {
    any::<([u8; 16], [u8; 16], u8, u16, u8, u8, u32)>().prop_map(
        |(src, dst, next_header, payload_len, hop_limit, traffic_class, flow_label)| Ipv6Repr {
            src: src.into(),
            dst: dst.into(),
            next_header: IpProtocol(next_header),
            payload_len: usize::from(payload_len),
            hop_limit,
            traffic_class,
            flow_label: flow_label & 0xf_ffff,
        },
    )
}
