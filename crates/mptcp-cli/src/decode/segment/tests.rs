//! Packets cut short: every prefix of an IPv4 and of an IPv6 segment with MPTCP options.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use mptcp_proto::wire::mptcp::{Dss, DssMapping, DssNumber, MptcpOption};
use mptcp_proto::wire::{
    IpProtocol, IpRepr, Ipv4Repr, Ipv6Repr, SeqNum, TcpFlags, TcpOption, TcpPacket, TcpRepr,
    WireError, parse_ip_packet,
};

use super::super::capture::{CapturedPacket, link};
use super::{Frame, Truncation, decode_frame};

const SRC_V4: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);
const DST_V4: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 1);
const SRC_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 1, 0, 0, 0, 0, 0, 2);
const DST_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 1, 0, 0, 0, 0, 0, 1);
/// IPv6 Hop-by-Hop Options header of 8 bytes (a PadN option), then TCP.
const HOP_BY_HOP: [u8; 8] = [6, 0, 1, 4, 0, 0, 0, 0];

/// A data segment with a timestamp and a DSS option (DATA_ACK, mapping and checksum): a
/// 56-byte header.
fn segment(payload: &[u8]) -> TcpRepr<'_> {
    let dss = Dss {
        data_fin: false,
        data_ack: Some(DssNumber::U32(0x0102_0304)),
        mapping: Some(DssMapping {
            dsn: DssNumber::U64(0x1122_3344_5566_7788),
            subflow_seq: 1,
            data_len: 1000,
            checksum: Some(0xabcd),
        }),
    };
    TcpRepr {
        src_port: 40_001,
        dst_port: 40_000,
        seq_number: SeqNum(7),
        ack_number: SeqNum(9),
        flags: TcpFlags::ACK | TcpFlags::PSH,
        window_len: 500,
        urgent_at: 0,
        options: vec![
            TcpOption::NoOperation,
            TcpOption::NoOperation,
            TcpOption::Timestamp {
                value: 1,
                echo_reply: 2,
            },
            TcpOption::Mptcp(MptcpOption::Dss(dss)),
        ],
        payload,
    }
}

/// `tcp` in an IP packet: behind the header `ip`, then `extension` headers.
fn packet(ip: IpRepr<'_>, extension: &[u8], tcp: &TcpRepr<'_>) -> Vec<u8> {
    let mut bytes = vec![0; ip.buffer_len()];
    ip.emit(&mut bytes);
    let start = ip.header_len() + extension.len();
    bytes[ip.header_len()..start].copy_from_slice(extension);
    let mut view = TcpPacket::new_unchecked(&mut bytes[start..]);
    tcp.emit(&mut view, ip.src_addr(), ip.dst_addr());
    bytes
}

fn ipv4(tcp: &TcpRepr<'_>) -> Vec<u8> {
    let ip = IpRepr::Ipv4(Ipv4Repr {
        src: SRC_V4,
        dst: DST_V4,
        protocol: IpProtocol::TCP,
        payload_len: tcp.buffer_len(),
        ttl: 64,
        dscp_ecn: 0,
        ident: 1,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        options: &[],
    });
    packet(ip, &[], tcp)
}

fn ipv6(tcp: &TcpRepr<'_>) -> Vec<u8> {
    let ip = IpRepr::Ipv6(Ipv6Repr {
        src: SRC_V6,
        dst: DST_V6,
        next_header: IpProtocol::HOP_BY_HOP,
        payload_len: HOP_BY_HOP.len() + tcp.buffer_len(),
        hop_limit: 64,
        traffic_class: 0,
        flow_label: 0,
    });
    packet(ip, &HOP_BY_HOP, tcp)
}

/// The first `kept` bytes of `packet`, recorded as a frame `original_len` bytes long on the
/// wire, on a link of raw IPv4 or IPv6.
fn capture(packet: &[u8], kept: usize, original_len: usize) -> CapturedPacket {
    let link_type = if packet[0] >> 4 == 4 {
        link::IPV4
    } else {
        link::IPV6
    };
    let data = packet[..kept].to_vec();
    CapturedPacket {
        number: 1,
        timestamp: Duration::ZERO,
        link_type,
        interface: 0,
        original_len,
        network: link::locate_network(link_type, &data),
        data,
    }
}

/// Decodes every prefix of `packet` (IP headers `ip_len` bytes long) as a snap length would
/// have cut it, and checks what each one is.
fn every_prefix(packet: &[u8], ip_len: usize, addresses: (IpAddr, IpAddr)) {
    let payload: Vec<u8> = (0..1000).map(|i| i as u8).collect();
    let tcp = segment(&payload);
    let headers_len = ip_len + tcp.header_len();
    assert_eq!(packet.len(), headers_len + payload.len());
    for kept in 0..=packet.len() {
        let captured = capture(packet, kept, packet.len());
        let frame = decode_frame(&captured);
        if kept < packet.len() {
            // The wire layer, as the stack uses it, still refuses the cut packet.
            assert!(parse_ip_packet(&packet[..kept]).is_err(), "{kept}");
        }
        if kept < headers_len {
            let Frame::Malformed {
                addresses: seen,
                error,
                ..
            } = frame
            else {
                panic!("{kept} bytes of {headers_len} of headers: {frame:?}");
            };
            assert!(matches!(error, WireError::Truncated { .. }), "{error:?}");
            let ip_parsed = kept >= ip_len;
            assert_eq!(seen, ip_parsed.then_some(addresses), "{kept}");
            continue;
        }
        let Frame::Tcp(decoded) = frame else {
            panic!("{kept}: {frame:?}");
        };
        assert_eq!((decoded.src.ip(), decoded.dst.ip()), addresses);
        assert_eq!(decoded.tcp.options, tcp.options, "{kept}");
        assert_eq!(decoded.tcp.seq_number, tcp.seq_number);
        assert_eq!(decoded.tcp.flags, tcp.flags);
        assert_eq!(decoded.payload_len, payload.len());
        assert_eq!(decoded.tcp.payload, &payload[..kept - headers_len]);
        if kept == packet.len() {
            assert_eq!(decoded.truncated, None);
            assert_eq!(decoded.checksum_ok, Some(true));
        } else {
            assert_eq!(decoded.truncated, Some(Truncation::SnapLength), "{kept}");
            assert_eq!(decoded.checksum_ok, None, "{kept}");
        }
    }
}

#[test]
fn every_prefix_of_an_ipv4_segment() {
    let payload: Vec<u8> = (0..1000).map(|i| i as u8).collect();
    let addresses = (SRC_V4.into(), DST_V4.into());
    every_prefix(&ipv4(&segment(&payload)), 20, addresses);
}

#[test]
fn every_prefix_of_an_ipv6_segment_behind_an_extension_header() {
    let payload: Vec<u8> = (0..1000).map(|i| i as u8).collect();
    let addresses = (SRC_V6.into(), DST_V6.into());
    every_prefix(&ipv6(&segment(&payload)), 48, addresses);
}

#[test]
fn a_tcp_header_cut_in_its_options_is_malformed_with_its_addresses() {
    let packet = ipv4(&segment(b"data"));
    let captured = capture(&packet, 20 + 40, packet.len());
    let frame = decode_frame(&captured);
    let Frame::Malformed {
        addresses, error, ..
    } = frame
    else {
        panic!("{frame:?}");
    };
    assert_eq!(addresses, Some((SRC_V4.into(), DST_V4.into())));
    assert_eq!(
        error,
        WireError::Truncated {
            needed: 56,
            available: 40
        }
    );
}

#[test]
fn a_frame_shorter_than_its_ip_length_is_truncated_too() {
    let packet = ipv4(&segment(&[7; 100]));
    // Recorded whole as far as the capture knows, yet the IP header says 100 bytes more.
    let captured = capture(&packet, 20 + 56, 20 + 56);
    let frame = decode_frame(&captured);
    let segment = frame.segment().expect("a TCP segment");
    assert_eq!(segment.truncated, Some(Truncation::ShortFrame));
    assert_eq!((segment.payload_len, segment.tcp.payload.len()), (100, 0));
    assert_eq!(segment.checksum_ok, None);
}

#[test]
fn a_whole_packet_whose_frame_lost_only_its_trailer_is_not_truncated() {
    let mut packet = ipv4(&segment(&[7; 100]));
    let captured = capture(&packet, packet.len(), packet.len() + 4);
    let whole = decode_frame(&captured);
    let segment = whole.segment().expect("a TCP segment");
    assert_eq!(segment.truncated, None);
    assert_eq!(segment.checksum_ok, Some(true));
    let last = packet.len() - 1;
    packet[last] ^= 1;
    let captured = capture(&packet, packet.len(), packet.len());
    let damaged = decode_frame(&captured);
    assert_eq!(damaged.segment().unwrap().checksum_ok, Some(false));
}
