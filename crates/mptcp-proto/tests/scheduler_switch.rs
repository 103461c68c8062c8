//! A connection's scheduler changed while it runs (draft-scharf-mptcp-api REQ11, REQ13):
//! A (two addresses) uploads to B over two subflows with `default`, switches to `standby`
//! halfway, then to `roundrobin`: the second subflow stops taking new data at the first
//! switch and takes it again at the second, and every byte arrives.

mod common;

use core::time::Duration;

use common::pair::{Flow, Pair, WireConfig, mptcp_config};
use mptcp_proto::conn::MptcpConfig;
use mptcp_proto::sched::SchedulerChoice;
use mptcp_proto::stack::{ConnectionHandle, InterfaceConfig, Stack, StackConfig};
use mptcp_proto::tcp::TcpConfig;

const TOTAL: u64 = 24 << 20;

/// Payload bytes A sent on each of its subflows so far, in the order they opened.
fn sent_per_subflow(stack: &Stack, conn: ConnectionHandle) -> Vec<u64> {
    let mut subflows = stack.subflows(conn).expect("the connection");
    subflows.sort_by_key(|s| s.id);
    subflows.iter().map(|s| s.tcp.bytes_sent).collect()
}

#[test]
fn a_scheduler_changed_mid_transfer_decides_from_then_on() {
    let a = StackConfig {
        interfaces: ["10.0.0.1", "10.0.1.1"]
            .iter()
            .map(|a| InterfaceConfig::new(a.parse().unwrap()))
            .collect(),
        ..StackConfig::default()
    };
    let b = mptcp_config(TcpConfig::default(), MptcpConfig::default(), "10.0.0.2");
    let wire = WireConfig {
        delay: Duration::from_millis(5),
        rate: Some(40_000_000),
        queue: 256 * 1024,
        ..WireConfig::default()
    };
    let mut p = Pair::with_configs(a, b, wire);
    let (a, b) = p.connected();
    let mut up = Flow::new(1, TOTAL);
    let mut progress = |p: &mut Pair, until: u64| {
        p.run_until(Duration::from_secs(60), |p| {
            up.pump_send(&mut p.stacks[0], a);
            up.pump_recv(&mut p.stacks[1], b);
            up.received >= until || up.eof
        })
    };
    assert!(progress(&mut p, TOTAL / 3), "first third");
    let first = sent_per_subflow(p.a(), a);
    assert_eq!(first.len(), 2, "two subflows: {first:?}");
    assert!(first.iter().all(|&n| n > 0), "default used both: {first:?}");
    assert_eq!(p.a().scheduler(a), Some("default"));

    let standby: SchedulerChoice = "standby".parse().unwrap();
    assert!(p.a().set_scheduler(a, &standby));
    assert_eq!(p.a().scheduler(a), Some("standby"));
    // What the second subflow already held still goes; nothing new joins it.
    p.run_for(Duration::from_millis(200));
    let settled = sent_per_subflow(p.a(), a);
    assert!(progress(&mut p, 2 * TOTAL / 3), "second third");
    let second = sent_per_subflow(p.a(), a);
    assert!(
        second[0] > settled[0] + TOTAL / 5,
        "{settled:?} -> {second:?}"
    );
    assert_eq!(second[1], settled[1], "standby sent on the second subflow");

    let roundrobin: SchedulerChoice = "roundrobin".parse().unwrap();
    assert!(p.a().set_scheduler(a, &roundrobin));
    assert!(progress(&mut p, TOTAL), "last third");
    let third = sent_per_subflow(p.a(), a);
    // It restarts from a small window after standing idle (RFC 5681 §4.1).
    assert!(third[1] > second[1] + TOTAL / 20, "{second:?} -> {third:?}");
    assert!(p.run_until(Duration::from_secs(60), |p| {
        up.pump_recv(&mut p.stacks[1], b);
        up.eof
    }));
    assert_eq!(up.received, TOTAL);
    println!("sent per subflow: {first:?} -> {settled:?} -> {second:?} -> {third:?}");
}
