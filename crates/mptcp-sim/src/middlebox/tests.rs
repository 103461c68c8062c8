//! Each middlebox on real segments built with the wire codec.

use core::net::SocketAddr;

use mptcp_proto::time::Instant;
use mptcp_proto::wire::mptcp::{MpCapable, MptcpOption};
use mptcp_proto::wire::{
    SackBlock, SeqNum, TcpFlags, TcpOption, TcpPacket, TcpRepr, dss_checksum, parse_ip_packet,
};

use super::*;
use crate::hosts::{checksums_ok, tcp_packet};

fn client() -> SocketAddr {
    "10.0.0.1:40000".parse().unwrap()
}

fn server() -> SocketAddr {
    "10.0.1.1:80".parse().unwrap()
}

fn segment<'a>(seq: u32, ack: u32, options: Vec<TcpOption<'a>>, payload: &'a [u8]) -> TcpRepr<'a> {
    TcpRepr {
        src_port: 0,
        dst_port: 0,
        seq_number: SeqNum(seq),
        ack_number: SeqNum(ack),
        flags: TcpFlags::ACK,
        window_len: 1000,
        urgent_at: 0,
        options,
        payload,
    }
}

fn mp_capable() -> TcpOption<'static> {
    TcpOption::Mptcp(MptcpOption::MpCapable(MpCapable {
        version: 1,
        flags: 0x01,
        sender_key: Some(0x1122_3344_5566_7788),
        receiver_key: None,
        data_len: None,
        checksum: None,
    }))
}

/// Parses the TCP segment of an IP packet (after checking both checksums) and applies `f`.
fn inspect<R>(packet: &[u8], f: impl FnOnce(&TcpRepr) -> R) -> R {
    assert!(checksums_ok(packet), "checksums must stay valid");
    let ip = parse_ip_packet(packet).unwrap();
    let tcp = TcpPacket::new_checked(ip.payload).unwrap();
    f(&TcpRepr::parse(&tcp).unwrap())
}

fn run(middlebox: &mut dyn Middlebox, direction: Direction, packet: &mut [u8]) {
    assert_eq!(
        middlebox.process(Instant::ZERO, direction, packet),
        Verdict::Forward
    );
}

#[test]
fn stripper_replaces_the_option_with_nops() {
    let options = vec![
        TcpOption::MaxSegmentSize(1460),
        mp_capable(),
        TcpOption::SackPermitted,
    ];
    let mut syn = segment(7, 0, options, &[]);
    syn.flags = TcpFlags::SYN;
    let mut packet = tcp_packet(client(), server(), &syn);
    let len = packet.len();
    let mut stripper = OptionStripper::new(30);
    run(&mut stripper, Direction::AToB, &mut packet);
    assert_eq!(packet.len(), len);
    assert_eq!(stripper.stripped(), 1);
    inspect(&packet, |tcp| {
        assert_eq!(tcp.mptcp_options().count(), 0);
        assert_eq!(tcp.mss(), Some(1460));
        assert!(tcp.sack_permitted());
        let nops = tcp
            .options
            .iter()
            .filter(|o| **o == TcpOption::NoOperation)
            .count();
        assert_eq!(nops, 12);
    });
}

#[test]
fn sequence_rewriting_is_consistent_both_ways() {
    let mut rewriter = SeqRewriter::new(1_000_000);
    let mut data = tcp_packet(
        client(),
        server(),
        &segment(u32::MAX - 10, 500, vec![], b"hello"),
    );
    run(&mut rewriter, Direction::AToB, &mut data);
    inspect(&data, |tcp| {
        assert_eq!(tcp.seq_number, SeqNum(1_000_000 - 11));
        assert_eq!(tcp.ack_number, SeqNum(500));
    });
    let sack = TcpOption::sack(&[SackBlock {
        left: 1_000_100,
        right: 1_000_200,
    }]);
    let mut reply = tcp_packet(
        server(),
        client(),
        &segment(500, 1_000_000 - 6, vec![sack], &[]),
    );
    run(&mut rewriter, Direction::BToA, &mut reply);
    inspect(&reply, |tcp| {
        assert_eq!(
            tcp.seq_number,
            SeqNum(500),
            "the reverse direction keeps its seq"
        );
        assert_eq!(
            tcp.ack_number,
            SeqNum(u32::MAX - 5),
            "ack maps back to the sender's space"
        );
        let block = tcp.sack_blocks()[0];
        assert_eq!((block.left, block.right), (100, 200));
    });
}

#[test]
fn nat_translates_ports_and_back() {
    let mut nat = PortNat::new(60_000);
    let mut out = tcp_packet(client(), server(), &segment(1, 1, vec![], b"x"));
    run(&mut nat, Direction::AToB, &mut out);
    assert_eq!(nat.mapping(client()), Some(60_000));
    inspect(&out, |tcp| {
        assert_eq!((tcp.src_port, tcp.dst_port), (60_000, 80))
    });
    let translated: SocketAddr = "10.0.0.1:60000".parse().unwrap();
    let mut back = tcp_packet(server(), translated, &segment(1, 2, vec![], b"y"));
    run(&mut nat, Direction::BToA, &mut back);
    inspect(&back, |tcp| {
        assert_eq!((tcp.src_port, tcp.dst_port), (80, 40_000))
    });
    let other: SocketAddr = "10.0.0.2:40000".parse().unwrap();
    let mut second = tcp_packet(other, server(), &segment(1, 1, vec![], b"z"));
    run(&mut nat, Direction::AToB, &mut second);
    assert_eq!(nat.mapping(other), Some(60_001));
}

#[test]
fn payload_rewrite_keeps_tcp_valid_but_breaks_the_dss_checksum() {
    let payload = b"PORT 10,0,0,1,4,1\r\nPORT 10,0,0,1,4,2\r\n";
    let dsn = 0x0102_0304_0506_0708;
    let sent_checksum = dss_checksum(dsn, 1, payload.len() as u16, payload);
    let mut packet = tcp_packet(client(), server(), &segment(1, 1, vec![], payload));
    let mut alg = PayloadRewriter::new(b"10,0,0,1", b"192,0,2,", Some(Direction::AToB)).unwrap();
    run(&mut alg, Direction::AToB, &mut packet);
    assert_eq!(alg.rewrites(), 2);
    inspect(&packet, |tcp| {
        assert_eq!(tcp.payload, b"PORT 192,0,2,,4,1\r\nPORT 192,0,2,,4,2\r\n");
        let received = dss_checksum(dsn, 1, tcp.payload.len() as u16, tcp.payload);
        assert_ne!(received, sent_checksum, "only the DSS checksum notices");
    });
    let mut reverse = tcp_packet(server(), client(), &segment(1, 1, vec![], payload));
    run(&mut alg, Direction::BToA, &mut reverse);
    inspect(&reverse, |tcp| assert_eq!(tcp.payload, payload));
    assert_eq!(
        PayloadRewriter::new(b"ab", b"abc", None).unwrap_err(),
        PayloadRewriteError::LengthMismatch {
            find: 2,
            replace: 3
        }
    );
}

#[test]
fn rewriting_keeps_a_bad_checksum_bad() {
    let mut packet = tcp_packet(client(), server(), &segment(1, 1, vec![], b"data"));
    let last = packet.len() - 1;
    packet[last] ^= 0x40;
    assert!(!checksums_ok(&packet));
    run(&mut SeqRewriter::new(12345), Direction::AToB, &mut packet);
    assert!(
        !checksums_ok(&packet),
        "a middlebox must not heal corruption"
    );
}

#[test]
fn ipv6_segments_are_rewritten_too() {
    let src: SocketAddr = "[2001:db8::1]:1000".parse().unwrap();
    let dst: SocketAddr = "[2001:db8::2]:2000".parse().unwrap();
    let mut packet = tcp_packet(src, dst, &segment(10, 0, vec![mp_capable()], b"v6"));
    let mut stripper = OptionStripper::new(30);
    run(&mut stripper, Direction::AToB, &mut packet);
    inspect(&packet, |tcp| assert_eq!(tcp.mptcp_options().count(), 0));
}

#[test]
fn a_delayed_stripper_lets_the_first_packets_through() {
    let src: SocketAddr = "10.0.0.1:1000".parse().unwrap();
    let dst: SocketAddr = "10.0.0.2:2000".parse().unwrap();
    let mut stripper = OptionStripper::starting_after(30, 2);
    for expected in [1, 1, 0, 0] {
        let mut packet = tcp_packet(src, dst, &segment(10, 0, vec![mp_capable()], b"x"));
        run(&mut stripper, Direction::AToB, &mut packet);
        inspect(&packet, |tcp| {
            assert_eq!(tcp.mptcp_options().count(), expected)
        });
    }
    assert_eq!(stripper.stripped(), 2);
}

#[test]
fn payload_rewrite_can_skip_the_first_segments_and_stop_after_some() {
    let mut alg = PayloadRewriter::new(b"ab", b"AB", None)
        .unwrap()
        .starting_after(1)
        .at_most(2);
    let seen: Vec<Vec<u8>> = (0..5)
        .map(|i| {
            let mut packet = tcp_packet(client(), server(), &segment(1 + i, 1, vec![], b"xabx"));
            run(&mut alg, Direction::AToB, &mut packet);
            let mut payload = Vec::new();
            inspect(&packet, |tcp| payload = tcp.payload.to_vec());
            payload
        })
        .collect();
    assert_eq!(seen, [&b"xabx"[..], b"xABx", b"xABx", b"xabx", b"xabx"]);
    assert_eq!(alg.rewrites(), 2);
}
