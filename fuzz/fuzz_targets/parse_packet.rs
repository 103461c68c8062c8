//! Fuzz target `parse_packet`: arbitrary bytes through the parsers of `mptcp_proto::wire`,
//! checking that what parses re-emits to something that parses back to the same value.
//!
//! The input is first of all an IP packet: when the version nibble of its first byte is 4 or
//! 6, it goes through `parse_ip_packet`, and a TCP payload through `TcpPacket::new_checked`,
//! `verify_checksum` and `TcpRepr::parse`. Any other first byte picks a direct mode for the
//! rest of the input, by `(first >> 4) % 4`:
//!
//! - 0: `MptcpOption::parse` on the bytes as they are (framing errors included);
//! - 1: the bytes framed as an MPTCP option (kind 30 and a correct length byte put in front),
//!   so that the subtype parsers are reached without the fuzzer having to guess the length;
//! - 2: `TcpOptions` over the bytes as a TCP options area;
//! - 3: the bytes as a TCP segment without IP header, between fixed IPv4 addresses (IPv6 ones
//!   when the lowest bit of the first byte is set).
//!
//! Invariants checked (a failed one aborts, which libFuzzer reports as a crash):
//! - IP: the parsed header, emitted with the original IP payload behind it, parses back to
//!   the same `IpPayload` (and an emitted IPv4 header has a valid checksum);
//! - TCP: a parsed `TcpRepr` emitted into `buffer_len()` bytes has a valid checksum for the
//!   same addresses and parses back to an equal `TcpRepr`; emitting that one again gives the
//!   same bytes; `TcpRepr::parse` fails exactly when the options area has a structural error;
//! - options: `TcpOptions` yields what `TcpOption::parse` gives at each step, each option
//!   takes exactly its `buffer_len()` on the wire, the options tile the area up to the
//!   end-of-list option or the one error (which ends the iteration), and each option emitted
//!   into `buffer_len()` bytes parses back to itself;
//! - MPTCP: every `MptcpOption` that parses has `buffer_len()` equal to its wire length, emits
//!   into `buffer_len()` bytes with its subtype in the high nibble of the third byte, and
//!   parses back to an equal value; inside a TCP options area a kind-30 option is
//!   `TcpOption::Mptcp` exactly when `MptcpOption::parse` accepts its bytes.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use mptcp_proto::wire::{
    IpPayload, IpProtocol, IpRepr, Ipv4Packet, MptcpOption, TcpOption, TcpOptions, TcpPacket,
    TcpRepr, WireError, parse_ip_packet,
};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        assert!(parse_ip_packet(data).is_err());
        return;
    };
    match first >> 4 {
        4 | 6 => check_ip_packet(data),
        version => {
            assert_eq!(parse_ip_packet(data), Err(WireError::BadVersion(version)));
            match version % 4 {
                0 => check_mptcp_option(rest),
                1 => check_framed_mptcp_option(rest),
                2 => {
                    check_tcp_options(rest);
                }
                _ => check_segment(rest, addresses(first & 1 != 0)),
            }
        }
    }
});

/// Source and destination of the segments checked without an IP header.
fn addresses(v6: bool) -> (IpAddr, IpAddr) {
    if v6 {
        (
            Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 1).into(),
            Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 2).into(),
        )
    } else {
        (
            Ipv4Addr::new(10, 77, 0, 1).into(),
            Ipv4Addr::new(10, 77, 0, 2).into(),
        )
    }
}

fn check_ip_packet(data: &[u8]) {
    let Ok(parsed) = parse_ip_packet(data) else {
        return;
    };
    check_ip_round_trip(data, &parsed);
    if parsed.protocol == IpProtocol::TCP {
        check_segment(parsed.payload, (parsed.ip.src_addr(), parsed.ip.dst_addr()));
    }
}

/// The IP header, emitted in front of the original IP payload (extension headers included
/// for IPv6), parses back to the same packet.
fn check_ip_round_trip(data: &[u8], parsed: &IpPayload<'_>) {
    let ip = parsed.ip;
    let (header_len, len) = (ip.header_len(), ip.buffer_len());
    let ip_payload = data
        .get(header_len..len)
        .unwrap_or_else(|| panic!("IP lengths {header_len}..{len} past {} bytes", data.len()));
    let mut out = vec![0u8; len];
    ip.emit(&mut out);
    out[header_len..].copy_from_slice(ip_payload);
    if let IpRepr::Ipv4(_) = ip {
        let emitted = Ipv4Packet::new_checked(&out[..]).expect("emitted IPv4 header checks");
        assert!(emitted.verify_checksum(), "emitted IPv4 checksum: {ip:?}");
    }
    let again = parse_ip_packet(&out).expect("emitted IP packet parses");
    assert_eq!(&again, parsed, "IP round trip");
}

/// A TCP segment: checksum, options area and `TcpRepr` round trip.
fn check_segment(bytes: &[u8], (src, dst): (IpAddr, IpAddr)) {
    let Ok(packet) = TcpPacket::new_checked(bytes) else {
        return;
    };
    // Either answer is fine for arbitrary bytes; this only must not panic.
    let _ = packet.verify_checksum(src, dst);
    let area_ok = check_tcp_options(packet.options());
    let repr = match TcpRepr::parse(&packet) {
        Ok(repr) => repr,
        Err(error) => {
            assert!(
                !area_ok,
                "TcpRepr::parse failed ({error}) on a sound options area"
            );
            return;
        }
    };
    assert!(area_ok, "TcpRepr::parse accepted a broken options area");
    assert!(repr.header_len() <= packet.header_len(), "{repr:?}");
    assert_eq!(repr.payload, packet.payload());

    let out = emit_segment(&repr, src, dst);
    let emitted = TcpPacket::new_checked(&out[..]).expect("emitted segment checks");
    assert!(
        emitted.verify_checksum(src, dst),
        "emitted checksum: {repr:?}"
    );
    let again = TcpRepr::parse(&emitted).expect("emitted segment parses");
    assert_eq!(again, repr, "TcpRepr round trip");
    assert_eq!(
        emit_segment(&again, src, dst),
        out,
        "emit is not a fixed point"
    );

    for option in repr.mptcp_options() {
        check_mptcp_round_trip(option);
    }
}

fn emit_segment(repr: &TcpRepr<'_>, src: IpAddr, dst: IpAddr) -> Vec<u8> {
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut TcpPacket::new_unchecked(&mut out[..]), src, dst);
    out
}

/// Walks an options area with `TcpOptions` and, alongside, with `TcpOption::parse`. Returns
/// whether the area is sound (no structural error).
fn check_tcp_options(area: &[u8]) -> bool {
    let mut options = TcpOptions::new(area);
    let mut rest = area;
    while let Some(item) = options.next() {
        match item {
            Ok(option) => {
                let (direct, used) = TcpOption::parse(rest).expect("TcpOptions yielded Ok");
                assert_eq!(direct, option);
                assert_eq!(used, option.buffer_len(), "wire length of {option:?}");
                check_tcp_option_round_trip(&option);
                if let TcpOption::Mptcp(mptcp) = option {
                    assert_eq!(MptcpOption::parse(&rest[..used]), Ok(mptcp));
                } else if option.kind() == 30 {
                    assert!(MptcpOption::parse(&rest[..used]).is_err(), "{option:?}");
                }
                rest = &rest[used..];
                if option == TcpOption::EndOfList {
                    rest = &[];
                    break;
                }
            }
            Err(error) => {
                assert_eq!(TcpOption::parse(rest), Err(error));
                assert!(
                    options.next().is_none(),
                    "TcpOptions went on after an error"
                );
                return false;
            }
        }
    }
    assert!(options.next().is_none(), "TcpOptions is not fused");
    assert!(
        rest.is_empty(),
        "options stopped {} bytes short",
        rest.len()
    );
    true
}

fn check_tcp_option_round_trip(option: &TcpOption<'_>) {
    let mut out = vec![0u8; option.buffer_len()];
    option.emit(&mut out);
    assert_eq!(
        TcpOption::parse(&out),
        Ok((*option, out.len())),
        "TcpOption round trip"
    );
}

fn check_mptcp_option(bytes: &[u8]) {
    if let Ok(option) = MptcpOption::parse(bytes) {
        assert_eq!(option.buffer_len(), bytes.len(), "{option:?}");
        check_mptcp_round_trip(&option);
    }
}

/// `bytes` behind a kind-30 byte and a correct length byte, checked as an MPTCP option and as
/// a TCP option.
fn check_framed_mptcp_option(bytes: &[u8]) {
    let Ok(length) = u8::try_from(bytes.len() + 2) else {
        return;
    };
    let mut option = vec![30, length];
    option.extend_from_slice(bytes);
    check_mptcp_option(&option);
    check_tcp_options(&option);
}

fn check_mptcp_round_trip(option: &MptcpOption<'_>) {
    let mut out = vec![0u8; option.buffer_len()];
    option.emit(&mut out);
    assert_eq!(
        out[2] >> 4,
        option.subtype(),
        "subtype of {option:?} emitted as {out:02x?}"
    );
    assert_eq!(
        MptcpOption::parse(&out),
        Ok(*option),
        "MptcpOption round trip"
    );
}
