//! Behaviour tests of the TCP engine through two stacks on a virtual wire: opening,
//! closing, resets, retransmission of SYNs and SYN/ACKs, the listen backlog.

mod common;

use std::time::Duration;

use common::pair::{A_ADDR, B_ADDR, Pair, WireConfig, config, sock};
use mptcp_proto::stack::{CloseReason, Event, MptcpConfig, RecvError, StackConfig, TcpConfig};
use mptcp_proto::tcp::TcpState;
use mptcp_proto::wire::TcpFlags;

fn pair() -> Pair {
    Pair::new(
        TcpConfig::default(),
        TcpConfig::default(),
        WireConfig::default(),
    )
}

#[test]
fn handshake_negotiates_options_and_moves_data_both_ways() {
    let mut p = pair();
    let (a, b) = p.connected();
    let info = p.a().tcp_info(a).unwrap();
    assert_eq!(info.state, TcpState::Established);
    assert!(info.sack && info.timestamps);
    assert!(info.wscale.is_some());
    assert_eq!(info.mss, 1460);
    assert!(info.srtt.is_some());
    assert_eq!(p.b().tcp_info(b).unwrap().state, TcpState::Established);
    assert_eq!(p.a().peer_addr(a), Some(sock("10.0.0.2:80")));
    assert_eq!(p.b().local_addr(b), Some(sock("10.0.0.2:80")));
    assert_eq!(p.a().send(a, b"hello").unwrap(), 5);
    assert_eq!(p.b().send(b, b"world!").unwrap(), 6);
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.has_event(1, Event::Readable(b)) && p.has_event(0, Event::Readable(a))
    }));
    let mut buf = [0u8; 64];
    assert_eq!(p.b().recv(b, &mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"hello");
    assert_eq!(p.a().recv(a, &mut buf).unwrap(), 6);
    assert_eq!(&buf[..6], b"world!");
    assert_eq!(p.a().recv(a, &mut buf), Err(RecvError::WouldBlock));
}

#[test]
fn connect_to_closed_port_is_refused() {
    let mut p = pair();
    let now = p.now;
    let a = p.a().connect(now, sock("10.0.0.2:81"), None).unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.has_event(0, Event::Closed(a, CloseReason::Refused))
    }));
    // The handle stays valid until the application releases it.
    let mut buf = [0u8; 4];
    assert_eq!(p.a().recv(a, &mut buf), Err(RecvError::Closed));
    p.a().close(a);
    assert!(p.a().tcp_info(a).is_none());
}

#[test]
fn syn_retries_back_off_then_time_out() {
    let cfg = TcpConfig {
        syn_retries: 3,
        ..TcpConfig::default()
    };
    let mut p = Pair::new(cfg, TcpConfig::default(), WireConfig::default());
    p.blackhole[0] = true;
    let start = p.now;
    let now = p.now;
    let a = p.a().connect(now, sock("10.0.0.2:80"), None).unwrap();
    assert!(p.run_until(Duration::from_secs(60), |p| {
        p.has_event(0, Event::Closed(a, CloseReason::TimedOut))
    }));
    let syns: Vec<_> = p
        .log
        .iter()
        .filter(|l| l.flags.contains(TcpFlags::SYN))
        .map(|l| l.at - start)
        .collect();
    let secs: Vec<u64> = syns.iter().map(|d| d.as_secs()).collect();
    // RFC 6298 §5.5: 1 s, then doubling.
    assert_eq!(secs, [0, 1, 3, 7]);
    assert_eq!(p.now - start, Duration::from_secs(15));
}

#[test]
fn lost_syn_ack_is_retransmitted() {
    let mut p = pair();
    p.drop_next[1] = (TcpFlags::SYN, 2);
    let (a, _b) = p.connected();
    let synacks = p
        .log
        .iter()
        .filter(|l| l.from == 1 && l.flags.contains(TcpFlags::SYN))
        .count();
    assert_eq!(synacks, 3);
    assert_eq!(p.a().tcp_info(a).unwrap().state, TcpState::Established);
}

/// Without SYN cookies, a SYN beyond the backlog is dropped and retransmitted later (with
/// them, `tests/attacks.rs` shows it answered statelessly instead).
#[test]
fn listen_backlog_limits_pending_connections() {
    let tcp = TcpConfig::default;
    let mut p = Pair::with_configs(
        config(tcp(), A_ADDR),
        StackConfig {
            syn_cookies: false,
            ..config(tcp(), B_ADDR)
        },
        WireConfig::default(),
    );
    let l = p.b().listen(sock("0.0.0.0:80"), 1).unwrap();
    let now = p.now;
    p.a().connect(now, sock("10.0.0.2:80"), None).unwrap();
    let c2 = p.a().connect(now, sock("10.0.0.2:80"), None).unwrap();
    assert!(p.run_until(Duration::from_millis(500), |p| {
        p.has_event(1, Event::Incoming(l))
    }));
    p.run_for(Duration::from_millis(500));
    assert!(!p.has_event(0, Event::Connected(c2)));
    assert!(p.b().stats().backlog_drops >= 1);
    let first = p.b().accept(l).unwrap();
    assert!(p.b().accept(l).is_err());
    // The second SYN is retransmitted and now fits.
    assert!(p.run_until(Duration::from_secs(5), |p| p.events[1].len() == 2));
    assert!(p.has_event(0, Event::Connected(c2)));
    let second = p.b().accept(l).unwrap();
    assert_ne!(first, second);
}

#[test]
fn half_close_then_close_ends_in_time_wait() {
    let mut p = pair();
    let (a, b) = p.connected();
    p.a().send(a, b"request").unwrap();
    p.a().shutdown(a).unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.has_event(1, Event::PeerClosed(b))
    }));
    let mut buf = [0u8; 16];
    assert_eq!(p.b().recv(b, &mut buf).unwrap(), 7);
    assert_eq!(p.b().recv(b, &mut buf).unwrap(), 0);
    assert!(p.run_until(Duration::from_secs(1), |p| {
        p.a().tcp_info(a).unwrap().state == TcpState::FinWait2
    }));
    // B can still send after A's half-close.
    p.b().send(b, b"response").unwrap();
    p.b().close(b);
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.has_event(0, Event::PeerClosed(a))
    }));
    assert_eq!(p.a().recv(a, &mut buf).unwrap(), 8);
    assert_eq!(&buf[..8], b"response");
    assert_eq!(p.a().recv(a, &mut buf).unwrap(), 0);
    assert!(p.run_until(Duration::from_secs(1), |p| {
        p.has_event(1, Event::Closed(b, CloseReason::Normal))
    }));
    assert_eq!(p.a().tcp_info(a).unwrap().state, TcpState::TimeWait);
    let at = p.now;
    assert!(p.run_until(Duration::from_secs(120), |p| {
        p.has_event(0, Event::Closed(a, CloseReason::Normal))
    }));
    let waited = p.now - at;
    assert!(
        waited >= Duration::from_secs(59) && waited <= Duration::from_secs(61),
        "{waited:?}"
    );
}

#[test]
fn simultaneous_close_goes_through_closing() {
    let mut p = pair();
    let (a, b) = p.connected();
    p.a().close(a);
    p.b().close(b);
    assert!(p.run_until(Duration::from_secs(120), |p| {
        p.has_event(0, Event::Closed(a, CloseReason::Normal))
            && p.has_event(1, Event::Closed(b, CloseReason::Normal))
    }));
    // Both sides sent FIN before seeing the other's: both wait in TIME-WAIT.
    let fins = p
        .log
        .iter()
        .filter(|l| l.flags.contains(TcpFlags::FIN))
        .count();
    assert_eq!(fins, 2);
}

#[test]
fn simultaneous_open_connects_both() {
    let mut p = pair();
    let now = p.now;
    let a = p
        .a()
        .connect(now, sock("10.0.0.2:5000"), Some(sock("10.0.0.1:6000")))
        .unwrap();
    let b = p
        .b()
        .connect(now, sock("10.0.0.1:6000"), Some(sock("10.0.0.2:5000")))
        .unwrap();
    assert!(p.run_until(Duration::from_secs(10), |p| {
        p.has_event(0, Event::Connected(a)) && p.has_event(1, Event::Connected(b))
    }));
    p.a().send(a, b"x").unwrap();
    assert!(p.run_until(Duration::from_secs(2), |p| {
        p.has_event(1, Event::Readable(b))
    }));
}

#[test]
fn abort_resets_the_peer() {
    let mut p = pair();
    let (a, b) = p.connected();
    p.a().abort(a);
    assert!(p.run_until(Duration::from_secs(2), |p| {
        p.has_event(1, Event::Closed(b, CloseReason::Reset))
    }));
    assert!(p.has_event(0, Event::Closed(a, CloseReason::Aborted)));
}

#[test]
fn data_timeout_backs_off_and_closes() {
    let cfg = TcpConfig {
        max_retransmits: 4,
        ..TcpConfig::default()
    };
    let mut p = Pair::new(cfg, TcpConfig::default(), WireConfig::default());
    let (a, _b) = p.connected();
    p.blackhole[0] = true;
    let start = p.now;
    p.a().send(a, &[7u8; 100]).unwrap();
    assert!(p.run_until(Duration::from_secs(600), |p| {
        p.has_event(0, Event::Closed(a, CloseReason::TimedOut))
    }));
    let times: Vec<_> = p
        .log
        .iter()
        .filter(|l| l.from == 0 && l.len > 0 && l.at >= start)
        .map(|l| l.at - start)
        .collect();
    assert!(times.len() >= 5, "{times:?}");
    // Gaps double (RFC 6298 §5.5), after any tail-loss probe.
    let gaps: Vec<_> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let n = gaps.len();
    assert!(
        gaps[n - 1] >= gaps[n - 2] * 2 - Duration::from_millis(2),
        "{gaps:?}"
    );
}

/// A connection nobody accepted is not the application's: when its listener closes (and
/// it is reset), no event names it (found by the `stack_api` fuzz target).
#[test]
fn closing_a_listener_reports_nothing_for_connections_never_accepted() {
    let mptcp = MptcpConfig::default;
    let mut p = Pair::mptcp(
        TcpConfig::default(),
        mptcp(),
        mptcp(),
        WireConfig::default(),
    );
    let l = p.b().listen(sock("10.0.0.2:80"), 4).unwrap();
    let now = p.now;
    let a = p.a().connect(now, sock("10.0.0.2:80"), None).unwrap();
    assert!(p.run_until(Duration::from_secs(1), |p| {
        p.has_event(1, Event::Incoming(l))
    }));
    p.b().close_listener(l);
    assert!(p.run_until(Duration::from_secs(1), |p| {
        p.events[0]
            .iter()
            .any(|e| matches!(e, Event::Closed(c, _) if *c == a))
    }));
    p.run_for(Duration::from_secs(1));
    assert_eq!(p.events[1], vec![Event::Incoming(l)], "{:?}", p.events[1]);
}
