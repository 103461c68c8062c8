//! Behaviour tests of individual mechanisms: delayed ACKs, Nagle, zero-window probing,
//! the RFC 5961 checks, PAWS.

mod common;

use std::time::Duration;

use common::pair::{Flow, Pair, WireConfig, craft, sock};
use mptcp_proto::stack::{CloseReason, Event, InterfaceId, TcpConfig};
use mptcp_proto::tcp::TcpState;
use mptcp_proto::wire::{TcpFlags, TcpOption};

fn pair_with(a: TcpConfig, b: TcpConfig) -> Pair {
    Pair::new(a, b, WireConfig::default())
}

#[test]
fn delayed_ack_waits_for_the_timer_or_a_second_segment() {
    let mut p = pair_with(TcpConfig::default(), TcpConfig::default());
    let (a, _b) = p.connected();
    p.run_for(Duration::from_millis(100));
    let sent_at = p.now;
    p.a().send(a, b"one").unwrap();
    p.run_for(Duration::from_millis(200));
    let ack = p
        .log
        .iter()
        .find(|l| l.from == 1 && l.at > sent_at)
        .expect("an ACK");
    // 10 ms to arrive, then the 40 ms delayed-ACK timer.
    assert_eq!(ack.at - sent_at, Duration::from_millis(50));
}

#[test]
fn nagle_coalesces_small_writes_and_nodelay_does_not() {
    for nodelay in [false, true] {
        let cfg = TcpConfig {
            nodelay,
            ..TcpConfig::default()
        };
        let mut p = pair_with(cfg, TcpConfig::default());
        let (a, _b) = p.connected();
        p.run_for(Duration::from_millis(100));
        let start = p.now;
        for _ in 0..3 {
            p.a().send(a, &[1u8; 10]).unwrap();
            p.flush();
        }
        p.run_for(Duration::from_millis(200));
        let data: Vec<usize> = p
            .log
            .iter()
            .filter(|l| l.from == 0 && l.len > 0 && l.at >= start)
            .map(|l| l.len)
            .collect();
        if nodelay {
            assert_eq!(data, [10, 10, 10]);
        } else {
            assert_eq!(data, [10, 20]);
        }
    }
}

#[test]
fn nagle_sends_the_short_tail_of_a_write_at_once_but_holds_a_second_small_one() {
    // Minshall's variant of Nagle: a small segment waits only while another small segment is
    // unacknowledged, so the tail of a larger write does not wait for the peer's delayed ACK.
    // Pacing off, so that every segment the rules allow leaves at once.
    let unpaced = TcpConfig {
        pacing: false,
        ..TcpConfig::default()
    };
    let mut p = pair_with(unpaced, TcpConfig::default());
    let (a, _b) = p.connected();
    p.run_for(Duration::from_millis(100));
    let start = p.now;
    // A full segment's payload: the MSS less the timestamp option.
    let full = p.a().tcp_info(a).unwrap().mss - 12;
    p.a().send(a, &vec![7u8; 3 * full + 100]).unwrap();
    p.flush();
    p.a().send(a, &[8u8; 10]).unwrap();
    p.flush();
    p.run_for(Duration::from_millis(300));
    let data: Vec<(Duration, usize)> = p
        .log
        .iter()
        .filter(|l| l.from == 0 && l.len > 0 && l.at >= start)
        .map(|l| (l.at - start, l.len))
        .collect();
    let lens: Vec<usize> = data.iter().map(|d| d.1).collect();
    assert_eq!(lens, [full, full, full, 100, 10], "{data:?}");
    // The 100-byte tail leaves with the full segments; the 10 bytes wait for its ACK.
    assert_eq!(data[3].0, Duration::ZERO, "{data:?}");
    assert!(data[4].0 > Duration::ZERO, "{data:?}");
}

#[test]
fn zero_window_is_probed_until_the_reader_drains() {
    let small = TcpConfig {
        recv_buffer: 16 * 1024,
        recv_buffer_max: 16 * 1024,
        ..TcpConfig::default()
    };
    let mut p = pair_with(TcpConfig::default(), small);
    let (a, b) = p.connected();
    let mut flow = Flow::new(1, 200 * 1024);
    // B does not read for 5 s.
    p.run_until(Duration::from_secs(5), |p| {
        flow.pump_send(&mut p.stacks[0], a);
        false
    });
    assert!(p.log.iter().any(|l| l.from == 1 && l.window == 0));
    let info = p.a().tcp_info(a).unwrap();
    assert_eq!(info.snd_wnd, 0);
    // Everything fits the send buffer, so A has shut down already.
    assert_eq!(info.state, TcpState::FinWait1);
    let recent = p.now - Duration::from_secs(4);
    let probes = p
        .log
        .iter()
        .filter(|l| l.from == 0 && l.len == 1 && l.at > recent)
        .count();
    assert!(probes >= 2, "{probes} probes");
    assert!(p.run_until(Duration::from_secs(60), |p| {
        flow.pump_send(&mut p.stacks[0], a);
        flow.pump_recv(&mut p.stacks[1], b);
        flow.eof
    }));
    assert_eq!(flow.received, 200 * 1024);
}

/// The last segment A sent: (seq, ack) as B expects them next.
fn a_next(p: &Pair) -> (u32, u32) {
    let last = p.log.iter().rev().find(|l| l.from == 0).unwrap();
    (last.seq.wrapping_add(last.len as u32), last.ack)
}

#[test]
fn rst_outside_exact_sequence_gets_a_challenge_ack() {
    let mut p = pair_with(TcpConfig::default(), TcpConfig::default());
    let (a, b) = p.connected();
    p.run_for(Duration::from_millis(100));
    let a_addr = p.a().local_addr(a).unwrap();
    let (seq, _) = a_next(&p);
    let before = p.log.len();
    // RFC 5961 §3.2: in the window but not RCV.NXT: challenge ACK, connection survives.
    let rst = craft(
        a_addr,
        sock("10.0.0.2:80"),
        seq.wrapping_add(1000),
        0,
        TcpFlags::RST,
        0,
        vec![],
        &[],
    );
    let now = p.now;
    p.b().handle_packet(now, InterfaceId(0), &rst);
    p.flush();
    assert!(
        p.log[before..]
            .iter()
            .any(|l| l.from == 1 && l.flags == TcpFlags::ACK)
    );
    assert_eq!(p.b().tcp_info(b).unwrap().state, TcpState::Established);
    // A SYN on the established connection also gets a challenge ACK (RFC 5961 §4).
    let syn = craft(
        a_addr,
        sock("10.0.0.2:80"),
        seq.wrapping_add(5),
        0,
        TcpFlags::SYN,
        1000,
        vec![],
        &[],
    );
    p.b().handle_packet(now, InterfaceId(0), &syn);
    assert_eq!(p.b().tcp_info(b).unwrap().state, TcpState::Established);
    // Exactly RCV.NXT: the reset is accepted.
    let rst = craft(
        a_addr,
        sock("10.0.0.2:80"),
        seq,
        0,
        TcpFlags::RST,
        0,
        vec![],
        &[],
    );
    p.b().handle_packet(now, InterfaceId(0), &rst);
    p.flush();
    assert!(p.has_event(1, Event::Closed(b, CloseReason::Reset)));
}

#[test]
fn paws_drops_segments_with_old_timestamps() {
    let mut p = pair_with(TcpConfig::default(), TcpConfig::default());
    let (a, b) = p.connected();
    p.a().send(a, b"fresh").unwrap();
    assert!(p.run_until(Duration::from_secs(1), |p| {
        p.has_event(1, Event::Readable(b))
    }));
    let mut buf = [0u8; 16];
    assert_eq!(p.b().recv(b, &mut buf).unwrap(), 5);
    p.run_for(Duration::from_millis(100));
    let a_addr = p.a().local_addr(a).unwrap();
    let (seq, ack) = a_next(&p);
    let recent = p
        .log
        .iter()
        .rev()
        .find(|l| l.from == 0)
        .unwrap()
        .tsval
        .unwrap();
    let old = TcpOption::Timestamp {
        value: recent.wrapping_sub(1000),
        echo_reply: 0,
    };
    let stale = craft(
        a_addr,
        sock("10.0.0.2:80"),
        seq,
        ack,
        TcpFlags::ACK,
        1000,
        vec![old],
        b"stale",
    );
    let now = p.now;
    p.b().handle_packet(now, InterfaceId(0), &stale);
    p.flush();
    assert!(
        p.b().recv(b, &mut buf).is_err(),
        "PAWS must drop the segment"
    );
}

#[test]
fn segment_for_unknown_connection_gets_reset() {
    let mut p = pair_with(TcpConfig::default(), TcpConfig::default());
    let stray = craft(
        sock("10.0.0.1:4000"),
        sock("10.0.0.2:80"),
        1,
        99,
        TcpFlags::ACK,
        100,
        vec![],
        b"x",
    );
    let now = p.now;
    p.b().handle_packet(now, InterfaceId(0), &stray);
    p.flush();
    let rst = p.log.iter().find(|l| l.from == 1).unwrap();
    // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>.
    assert_eq!((rst.flags, rst.seq), (TcpFlags::RST, 99));
    assert_eq!(p.b().stats().resets_sent, 1);
}
