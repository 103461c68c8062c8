//! A connection's policies changed while it runs (draft-scharf-mptcp-api REQ11, REQ13): A
//! (two addresses) and B (one), sans I/O on a virtual wire.
//!
//! - Scheduler: A uploads to B over two subflows with `default`, switches to `standby`
//!   halfway, then to `roundrobin`: the second subflow stops taking new data at the first
//!   switch and takes it again at the second, and every byte arrives.
//! - Path manager: A starts with `default` (one subflow); switched to `simple`, it joins
//!   from its second address at once.
//! - Congestion control: switched to `fixed` mid-transfer, every subflow runs it.
//! - Limits: B lowered to no subflow beyond the first refuses A's join; raised, accepts it.

mod common;

use core::time::Duration;

use common::pair::{Flow, Pair, WireConfig, mptcp_config};
use mptcp_proto::conn::MptcpConfig;
use mptcp_proto::sched::SchedulerChoice;
use std::sync::Arc;

use mptcp_proto::cc::FixedFactory;
use mptcp_proto::pm::PathManagerChoice;
use mptcp_proto::stack::{ConnectionHandle, InterfaceConfig, Stack, StackConfig};
use mptcp_proto::tcp::TcpConfig;

const TOTAL: u64 = 24 << 20;

/// Payload bytes A sent on each of its subflows so far, in the order they opened.
fn sent_per_subflow(stack: &Stack, conn: ConnectionHandle) -> Vec<u64> {
    let mut subflows = stack.subflows(conn).expect("the connection");
    subflows.sort_by_key(|s| s.id);
    subflows.iter().map(|s| s.tcp.bytes_sent).collect()
}

/// A with addresses 10.0.0.1 and 10.0.1.1 and `a_mptcp`, B at 10.0.0.2, connected over a
/// 40 Mbit/s, 5 ms wire.
fn connected(a_mptcp: MptcpConfig) -> (Pair, ConnectionHandle, ConnectionHandle) {
    let a = StackConfig {
        interfaces: ["10.0.0.1", "10.0.1.1"]
            .iter()
            .map(|a| InterfaceConfig::new(a.parse().unwrap()))
            .collect(),
        mptcp: a_mptcp,
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
    (p, a, b)
}

/// A's subflows that are open.
fn open_subflows(stack: &Stack, conn: ConnectionHandle) -> usize {
    let subflows = stack.subflows(conn).expect("the connection");
    subflows
        .iter()
        .filter(|s| s.tcp.state.is_synchronized())
        .count()
}

#[test]
fn a_scheduler_changed_mid_transfer_decides_from_then_on() {
    let (mut p, a, b) = connected(MptcpConfig::default());
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

#[test]
fn a_path_manager_changed_on_a_live_connection_opens_its_subflows_at_once() {
    let default = MptcpConfig {
        path_manager: "default".parse().unwrap(),
        ..MptcpConfig::default()
    };
    let (mut p, a, b) = connected(default);
    let mut up = Flow::new(2, 4 << 20);
    let mut pump = |p: &mut Pair, until: u64| {
        p.run_until(Duration::from_secs(30), |p| {
            up.pump_send(&mut p.stacks[0], a);
            up.pump_recv(&mut p.stacks[1], b);
            up.received >= until || up.eof
        })
    };
    assert!(pump(&mut p, 1 << 20));
    assert_eq!(open_subflows(p.a(), a), 1, "`default` opens nothing");
    let simple: PathManagerChoice = "simple".parse().unwrap();
    assert!(p.a().set_path_manager(a, simple.clone()));
    assert_eq!(p.a().path_manager(a), Some(simple.clone()));
    p.run_for(Duration::from_millis(100));
    assert_eq!(open_subflows(p.a(), a), 2, "`simple` joined from 10.0.1.1");
    // Set again (or back and forth), it opens nothing it already has.
    assert!(p.a().set_path_manager(a, "default".parse().unwrap()));
    assert!(p.a().set_path_manager(a, simple.clone()));
    assert!(p.a().set_path_manager(a, simple.clone()));
    p.run_for(Duration::from_millis(100));
    assert_eq!(open_subflows(p.a(), a), 2, "no duplicate subflows");
    assert!(pump(&mut p, 4 << 20));
    let sent = sent_per_subflow(p.a(), a);
    assert!(sent[1] > 0, "the new subflow carried data: {sent:?}");
}

#[test]
fn a_congestion_controller_changed_mid_transfer_runs_on_every_subflow() {
    let (mut p, a, b) = connected(MptcpConfig::default());
    let mut up = Flow::new(3, 8 << 20);
    let mut pump = |p: &mut Pair, until: u64| {
        p.run_until(Duration::from_secs(30), |p| {
            up.pump_send(&mut p.stacks[0], a);
            up.pump_recv(&mut p.stacks[1], b);
            up.received >= until || up.eof
        })
    };
    assert!(pump(&mut p, 2 << 20));
    let fixed = Arc::new(FixedFactory { segments: 7 });
    assert!(p.a().set_congestion_control(a, fixed));
    assert!(pump(&mut p, 8 << 20), "the transfer finished");
    let subflows = p.a().subflows(a).unwrap();
    assert_eq!(subflows.len(), 2);
    for sf in &subflows {
        assert_eq!(sf.tcp.congestion_control, "fixed");
        // Segments carry the MSS less the 12 bytes of the timestamp option.
        assert_eq!(sf.tcp.cwnd, 7 * (sf.tcp.mss - 12), "{sf:?}");
    }
}

#[test]
fn limits_changed_on_a_live_connection_refuse_then_accept_a_join() {
    let default = MptcpConfig {
        path_manager: "default".parse().unwrap(),
        ..MptcpConfig::default()
    };
    let (mut p, a, b) = connected(default);
    let mut up = Flow::new(4, 256 << 10);
    assert!(p.run_until(Duration::from_secs(10), |p| {
        up.pump_send(&mut p.stacks[0], a);
        up.pump_recv(&mut p.stacks[1], b);
        up.received > 0
    }));
    // B's DATA_ACK makes A's connection fully established: joins may follow.
    p.run_for(Duration::from_millis(50));
    let second = "10.0.1.1".parse().unwrap();
    let server = "10.0.0.2:80".parse().unwrap();
    assert!(p.b().set_limits(b, 0, 8));
    p.a().open_subflow(a, second, server, false).unwrap();
    p.run_for(Duration::from_millis(100));
    assert_eq!(p.b().stats().joins_refused, 1, "B refused the join");
    assert_eq!(open_subflows(p.a(), a), 1);
    assert!(p.b().set_limits(b, 8, 8));
    p.a().open_subflow(a, second, server, false).unwrap();
    p.run_for(Duration::from_millis(100));
    assert_eq!(p.b().stats().joins_refused, 1);
    assert_eq!(open_subflows(p.a(), a), 2, "B accepted the join");
}
