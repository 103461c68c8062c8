//! Bulk transfers through an impaired wire: every byte must arrive intact and in order.

mod common;

use std::time::Duration;

use common::pair::{Pair, WireConfig, transfer};
use mptcp_proto::stack::TcpConfig;

const MIB: u64 = 1024 * 1024;

fn run(wire: WireConfig, tcp: TcpConfig, a_to_b: u64, b_to_a: u64) -> Pair {
    let mut p = Pair::new(tcp.clone(), tcp, wire);
    assert!(
        transfer(&mut p, a_to_b, b_to_a, Duration::from_secs(3600)),
        "transfer did not complete"
    );
    p
}

#[test]
fn clean_transfer_of_4_mib() {
    let p = run(WireConfig::default(), TcpConfig::default(), 4 * MIB, 0);
    let retrans = p.log.iter().filter(|l| l.from == 0 && l.len > 0).count() as u64;
    // Nothing lost, so (almost) nothing retransmitted.
    assert!(retrans < 4 * MIB / 1400 + 20, "{retrans} segments");
}

#[test]
fn transfer_with_1_percent_loss() {
    let wire = WireConfig {
        loss: 0.01,
        seed: 7,
        ..WireConfig::default()
    };
    run(wire, TcpConfig::default(), 4 * MIB, 0);
}

#[test]
fn transfer_with_5_percent_loss() {
    let wire = WireConfig {
        loss: 0.05,
        seed: 11,
        ..WireConfig::default()
    };
    run(wire, TcpConfig::default(), 2 * MIB, 0);
}

#[test]
fn both_directions_at_once_with_loss() {
    let wire = WireConfig {
        loss: 0.02,
        seed: 3,
        ..WireConfig::default()
    };
    run(wire, TcpConfig::default(), MIB, MIB);
}

#[test]
fn reordering_duplication_and_corruption() {
    let wire = WireConfig {
        reorder: 0.1,
        duplicate: 0.02,
        corrupt: 0.01,
        loss: 0.01,
        seed: 5,
        ..WireConfig::default()
    };
    run(wire, TcpConfig::default(), 2 * MIB, MIB / 2);
}

#[test]
fn tiny_receive_buffer() {
    let tcp = TcpConfig {
        recv_buffer: 4096,
        recv_buffer_max: 4096,
        ..TcpConfig::default()
    };
    run(WireConfig::default(), tcp, MIB, 0);
}

#[test]
fn without_sack_timestamps_or_window_scaling() {
    let tcp = TcpConfig {
        sack: false,
        timestamps: false,
        window_scaling: false,
        ..TcpConfig::default()
    };
    let wire = WireConfig {
        loss: 0.01,
        seed: 9,
        ..WireConfig::default()
    };
    run(wire, tcp, MIB, 0);
}

#[test]
fn rate_limited_link_is_used_well() {
    // 100 Mbit/s, 10 ms each way: 64 KiB queue.
    let wire = WireConfig {
        rate: Some(100_000_000),
        queue: 256 * 1024,
        ..WireConfig::default()
    };
    let mut p = Pair::new(TcpConfig::default(), TcpConfig::default(), wire);
    let start = p.now;
    assert!(transfer(&mut p, 16 * MIB, 0, Duration::from_secs(600)));
    let secs = (p.now - start).as_secs_f64();
    let goodput = (16 * MIB * 8) as f64 / secs;
    assert!(goodput > 80e6, "goodput {:.1} Mbit/s", goodput / 1e6);
}
