//! The MPTCP connection level between two of our stacks on a virtual wire: the MP_CAPABLE
//! handshake (RFC 8684 §3.1), DSS mappings and DATA_ACKs (§3.3), DSS checksums, DATA_FIN
//! and the close, fallback to TCP (§3.7), and byte-exact transfers under loss.

mod common;

use std::time::Duration;

use common::pair::{Logged, Pair, WireConfig, transfer};
use mptcp_proto::crypto::{MptcpVersion, key_material};
use mptcp_proto::stack::{CloseReason, Event, MptcpConfig, MptcpEnabled, TcpConfig};
use mptcp_proto::tcp::TcpState;
use mptcp_proto::wire::mptcp::{DssNumber, MpCapable, capable_flags};
use mptcp_proto::wire::{MptcpOption, TcpFlags, TcpOption, TcpOptions};

const MIB: u64 = 1024 * 1024;

fn mptcp_options(l: &Logged) -> Vec<MptcpOption<'_>> {
    TcpOptions::new(&l.options)
        .filter_map(|o| match o {
            Ok(TcpOption::Mptcp(m)) => Some(m),
            _ => None,
        })
        .collect()
}

fn capable(l: &Logged) -> Option<MpCapable> {
    mptcp_options(l).into_iter().find_map(|o| match o {
        MptcpOption::MpCapable(c) => Some(c),
        _ => None,
    })
}

fn pair(a: MptcpConfig, b: MptcpConfig, wire: WireConfig) -> Pair {
    Pair::mptcp(TcpConfig::default(), a, b, wire)
}

fn with_checksum(checksum: bool) -> MptcpConfig {
    MptcpConfig {
        checksum,
        ..MptcpConfig::default()
    }
}

fn disabled() -> MptcpConfig {
    MptcpConfig {
        enabled: MptcpEnabled::Off,
        ..MptcpConfig::default()
    }
}

#[test]
fn mp_capable_handshake_exchanges_keys_and_data_flows_with_dss() {
    let mut p = pair(
        MptcpConfig::default(),
        MptcpConfig::default(),
        WireConfig::default(),
    );
    assert!(transfer(
        &mut p,
        256 * 1024,
        256 * 1024,
        Duration::from_secs(60)
    ));
    let syn = p.log.iter().find(|l| l.flags == TcpFlags::SYN).unwrap();
    let c = capable(syn).expect("MP_CAPABLE in the SYN");
    assert_eq!((c.version, c.flags), (1, capable_flags::HMAC_SHA));
    assert_eq!((c.sender_key, c.receiver_key), (None, None));
    let synack = p
        .log
        .iter()
        .find(|l| l.flags == TcpFlags::SYN | TcpFlags::ACK)
        .unwrap();
    let server_key = capable(synack)
        .and_then(|c| c.sender_key)
        .expect("server key");
    let third = p
        .log
        .iter()
        .find(|l| l.from == 0 && !l.flags.contains(TcpFlags::SYN))
        .unwrap();
    let c = capable(third).expect("MP_CAPABLE on the third ACK");
    assert_eq!(c.receiver_key, Some(server_key));
    let client_key = c.sender_key.unwrap();
    // The client's first data carries MP_CAPABLE with its length (RFC 8684 §3.1); every
    // other data segment a DSS whose mapping starts at or after IDSN + 1.
    let first_data = p.log.iter().find(|l| l.from == 0 && l.len > 0).unwrap();
    assert_eq!(
        capable(first_data).and_then(|c| c.data_len),
        Some(first_data.len as u16)
    );
    let idsn = |key| key_material(MptcpVersion::V1, key).idsn;
    for (from, key) in [(0, client_key), (1, server_key)] {
        let data: Vec<&Logged> = p
            .log
            .iter()
            .filter(|l| l.from == from && l.len > 0)
            .skip(usize::from(from == 0))
            .collect();
        assert!(data.len() > 100);
        for l in data {
            let dss = mptcp_options(l)
                .into_iter()
                .find_map(|o| match o {
                    MptcpOption::Dss(d) => Some(d),
                    _ => None,
                })
                .expect("DSS on every data segment");
            let m = dss.mapping.expect("a mapping");
            let DssNumber::U64(dsn) = m.dsn else {
                panic!("64-bit DSN expected")
            };
            let offset = dsn.wrapping_sub(idsn(key));
            assert!((1..=256 * 1024).contains(&offset), "dsn offset {offset}");
            assert_eq!(usize::from(m.data_len), l.len + usize::from(dss.data_fin));
        }
    }
    // The last DATA_ACK each side sent covers the other's bytes and its DATA_FIN.
    for (from, key) in [(1, client_key), (0, server_key)] {
        let last_ack = p
            .log
            .iter()
            .rev()
            .filter(|l| l.from == from)
            .find_map(|l| {
                mptcp_options(l).into_iter().find_map(|o| match o {
                    MptcpOption::Dss(d) => d.data_ack,
                    _ => None,
                })
            })
            .unwrap();
        assert_eq!(
            last_ack,
            DssNumber::U64(idsn(key).wrapping_add(1 + 256 * 1024 + 1))
        );
    }
}

#[test]
fn both_sides_close_in_order_with_data_fin() {
    let mut p = pair(
        MptcpConfig::default(),
        MptcpConfig::default(),
        WireConfig::default(),
    );
    let (a, b) = p.connected();
    assert_eq!(p.a().is_mptcp(a), Some(true));
    assert_eq!(p.b().is_mptcp(b), Some(true));
    p.a().send(a, b"hello").unwrap();
    p.a().close(a);
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.has_event(1, Event::PeerClosed(b))
    }));
    let mut buf = [0u8; 16];
    assert_eq!(p.b().recv(b, &mut buf), Ok(5));
    assert_eq!(&buf[..5], b"hello");
    assert_eq!(p.b().recv(b, &mut buf), Ok(0));
    p.b().close(b);
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.has_event(0, Event::Closed(a, CloseReason::Normal))
            && p.has_event(1, Event::Closed(b, CloseReason::Normal))
    }));
    // A DATA_FIN went each way, and then the subflow's FINs.
    for from in 0..2 {
        assert!(p.log.iter().any(|l| {
            l.from == from
                && mptcp_options(l)
                    .iter()
                    .any(|o| matches!(o, MptcpOption::Dss(d) if d.data_fin))
        }));
        assert!(
            p.log
                .iter()
                .any(|l| l.from == from && l.flags.contains(TcpFlags::FIN))
        );
    }
}

#[test]
fn transfers_are_intact_under_loss_reordering_duplication_and_corruption() {
    for (seed, checksum) in [(1, false), (2, true), (3, false)] {
        let wire = WireConfig {
            loss: 0.02,
            reorder: 0.02,
            duplicate: 0.01,
            corrupt: 0.005,
            seed,
            ..WireConfig::default()
        };
        let mut p = pair(with_checksum(checksum), MptcpConfig::default(), wire);
        assert!(
            transfer(&mut p, 2 * MIB, MIB, Duration::from_secs(600)),
            "seed {seed}"
        );
    }
}

#[test]
fn checksums_are_used_when_either_side_asks() {
    for (a, b) in [(true, false), (false, true)] {
        let mut p = pair(with_checksum(a), with_checksum(b), WireConfig::default());
        assert!(transfer(
            &mut p,
            64 * 1024,
            64 * 1024,
            Duration::from_secs(60)
        ));
        let data: Vec<&Logged> = p.log.iter().filter(|l| l.len > 0).collect();
        assert!(!data.is_empty());
        for l in data {
            let sum = mptcp_options(l).into_iter().find_map(|o| match o {
                MptcpOption::Dss(d) => d.mapping.and_then(|m| m.checksum),
                MptcpOption::MpCapable(c) => c.checksum,
                _ => None,
            });
            assert!(sum.is_some(), "no DSS checksum (client asks: {a})");
        }
    }
}

#[test]
fn a_peer_without_mptcp_gets_plain_tcp() {
    for (a, b) in [
        (MptcpConfig::default(), disabled()),
        (disabled(), MptcpConfig::default()),
    ] {
        let client_offers = a.enabled.is_on();
        let mut p = pair(a, b, WireConfig::default());
        assert!(transfer(
            &mut p,
            512 * 1024,
            512 * 1024,
            Duration::from_secs(60)
        ));
        let with_options = p
            .log
            .iter()
            .filter(|l| !mptcp_options(l).is_empty())
            .count();
        // Only the client's SYN (if it offered) carries MP_CAPABLE.
        assert_eq!(with_options, usize::from(client_offers));
    }
}

#[test]
fn the_mptcp_state_is_reported_per_connection() {
    let mut p = pair(MptcpConfig::default(), disabled(), WireConfig::default());
    let (a, b) = p.connected();
    assert_eq!(p.a().is_mptcp(a), Some(false));
    assert_eq!(p.b().is_mptcp(b), Some(false));
}

#[test]
fn send_complete_says_when_the_peer_has_everything_and_our_data_fin() {
    for config in [MptcpConfig::default(), disabled()] {
        let mptcp = config.enabled.is_on();
        let mut p = pair(config.clone(), config, WireConfig::default());
        let (a, b) = p.connected();
        assert_eq!(p.a().send(a, &[7u8; 50_000]), Ok(50_000));
        assert_eq!(p.a().send_complete(a), Some(false));
        p.a().shutdown(a).unwrap();
        assert!(
            p.run_until(Duration::from_secs(5), |p| {
                p.has_event(0, Event::SendComplete(a))
            }),
            "mptcp {mptcp}: no SendComplete"
        );
        assert_eq!(p.a().send_complete(a), Some(true), "mptcp {mptcp}");
        // The peer has every byte and the end of the stream, unread.
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = 0;
        loop {
            match p.b().recv(b, &mut buf) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => panic!("mptcp {mptcp}: {e:?} after {got} bytes"),
            }
        }
        assert_eq!(got, 50_000, "mptcp {mptcp}");
        // The peer's side is still open: it has sent nothing to complete.
        assert_eq!(p.b().send_complete(b), Some(false), "mptcp {mptcp}");
        assert!(!p.has_event(1, Event::SendComplete(b)), "mptcp {mptcp}");
    }
}

#[test]
fn closing_with_unread_data_or_receiving_after_close_is_a_fastclose() {
    // Unread data at close: RST with MP_FASTCLOSE (RFC 8684 §3.5), the peer sees a reset.
    let mut p = pair(
        MptcpConfig::default(),
        MptcpConfig::default(),
        WireConfig::default(),
    );
    let (a, b) = p.connected();
    p.a().send(a, b"unread").unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.has_event(1, Event::Readable(b))
    }));
    p.b().close(b);
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.has_event(0, Event::Closed(a, CloseReason::Reset))
    }));
    assert!(p.log.iter().any(|l| {
        l.from == 1
            && l.flags.contains(TcpFlags::RST)
            && mptcp_options(l)
                .iter()
                .any(|o| matches!(o, MptcpOption::MpFastclose { .. }))
    }));

    // Nothing unread at close, but data arrives afterwards: nobody will read it, so the
    // connection is reset too (as Linux does for an orphaned socket).
    let mut p = pair(
        MptcpConfig::default(),
        MptcpConfig::default(),
        WireConfig::default(),
    );
    let (a, b) = p.connected();
    p.b().close(b);
    p.run_for(Duration::from_millis(100));
    assert!(!p.has_event(0, Event::Closed(a, CloseReason::Reset)));
    p.a().send(a, b"too late").unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.has_event(0, Event::Closed(a, CloseReason::Reset))
    }));
}

/// `mptcp.close_timeout`: A closes while the path to B is gone both ways; its DATA_FIN and
/// FIN go unanswered. TCP would retransmit for minutes; after the close timeout (5 s here)
/// A aborts the connection and holds nothing.
#[test]
fn a_closed_connection_whose_peer_vanished_is_aborted_after_close_timeout() {
    let a_mptcp = MptcpConfig {
        close_timeout: Duration::from_secs(5),
        ..MptcpConfig::default()
    };
    let wire = WireConfig {
        delay: Duration::from_millis(5),
        ..WireConfig::default()
    };
    let mut p = Pair::mptcp(TcpConfig::default(), a_mptcp, MptcpConfig::default(), wire);
    let (a, _b) = p.connected();
    p.blackhole = [true, true];
    p.a().close(a);
    p.run_for(Duration::from_millis(4900));
    assert!(
        p.a().open_subflows() > 0,
        "still closing before the timeout"
    );
    p.run_for(Duration::from_millis(200));
    assert_eq!(p.a().open_subflows(), 0, "aborted at the timeout");
}

/// `mptcp.close_timeout` shorter than TIME-WAIT does not cut a normal close short: a plain
/// TCP connection (MPTCP off at B) that A closes first ends normally, its TIME-WAIT intact.
#[test]
fn a_normal_close_ends_normally_whatever_the_close_timeout() {
    let a_mptcp = MptcpConfig {
        close_timeout: Duration::from_secs(1),
        ..MptcpConfig::default()
    };
    let b_mptcp = MptcpConfig {
        enabled: MptcpEnabled::Off,
        ..MptcpConfig::default()
    };
    let wire = WireConfig {
        delay: Duration::from_millis(5),
        ..WireConfig::default()
    };
    let mut p = Pair::mptcp(TcpConfig::default(), a_mptcp, b_mptcp, wire);
    let (a, b) = p.connected();
    p.a().close(a);
    p.run_for(Duration::from_millis(100));
    p.b().close(b);
    p.run_for(Duration::from_secs(3));
    // Past the close timeout, A's subflow is still in TIME-WAIT (RFC 9293 §3.6), not reset.
    let state = p.a().tcp_info(a).map(|i| i.state);
    assert_eq!(state, Some(TcpState::TimeWait), "A's close was cut short");
}
