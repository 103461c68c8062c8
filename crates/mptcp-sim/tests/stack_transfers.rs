//! Plain TCP between two simulated hosts running the stack: 64 MiB transfers that must
//! arrive byte for byte over clean, lossy, reordering, duplicating, corrupting and failing
//! links, through a small receive buffer, both ways at once and through a middlebox that
//! rewrites sequence numbers. The applications check every byte against the pattern the
//! sender wrote at that position.

mod common;

use common::{assert_all_intact, run, shipped};
use mptcp_sim::ScenarioReport;
use mptcp_sim::link::Direction;
use mptcp_sim::run::stack_hosts;
use mptcp_sim::scenario::{AppSpec, LossSpec, ReorderSpec, Scenario};

const MIB_64: u64 = 64 << 20;

/// The clean 100 Mbit/s, 20 ms RTT scenario with `change` applied to its link and a
/// duration long enough for slow links.
fn clean_with(change: impl FnOnce(&mut Scenario)) -> Scenario {
    let mut scenario = shipped("clean_100mbit_20ms");
    scenario.duration = "1200s".parse().unwrap();
    change(&mut scenario);
    scenario
}

#[test]
fn clean_link_near_line_rate() {
    let scenario = shipped("clean_100mbit_20ms");
    let mut built = scenario.build(stack_hosts(&scenario)).unwrap();
    built.run();
    let hosts = scenario
        .hosts
        .iter()
        .filter_map(|h| built.simulation.host(built.node(&h.name)?));
    let report = ScenarioReport::collect(scenario.seed, built.end, 0, hosts);
    assert_all_intact(&report, MIB_64);
    let conn = &report.connections[0];
    // 1448 payload bytes per 1500-byte packet cap goodput at 96.5 Mbit/s.
    assert!(conn.goodput_bps() > 90e6, "{}", conn.goodput_bps());
    // The only losses are the queue's, once the window outgrows the path and its queue;
    // every retransmission repairs one of them (none is spurious).
    let stats = built.simulation.link_stats(built.links[0], Direction::AToB);
    let drops = stats.unwrap().dropped.total();
    assert!(
        conn.retransmits <= drops,
        "{} retransmits, {drops} drops",
        conn.retransmits
    );
}

#[test]
fn random_loss_1_percent() {
    let report = run(&shipped("lossy_1pct"));
    assert_all_intact(&report, MIB_64);
    assert!(report.connections[0].retransmits > 0);
}

#[test]
fn random_loss_5_percent() {
    let report = run(&clean_with(|s| {
        s.links[0].loss = Some(LossSpec::Random { probability: 0.05 });
    }));
    assert_all_intact(&report, MIB_64);
}

#[test]
fn bursty_loss() {
    // Gilbert–Elliott: bursts of 2 packets on average, about 2 % of packets lost.
    let report = run(&clean_with(|s| {
        s.links[0].loss = Some(LossSpec::GilbertElliott {
            p: 0.01,
            r: 0.5,
            loss_good: 0.0,
            loss_bad: 1.0,
        });
    }));
    assert_all_intact(&report, MIB_64);
}

#[test]
fn reordering() {
    let report = run(&clean_with(|s| {
        s.links[0].reorder = Some(ReorderSpec {
            probability: 0.05,
            delay: "5ms".parse().unwrap(),
        });
    }));
    assert_all_intact(&report, MIB_64);
}

#[test]
fn duplication() {
    let report = run(&clean_with(|s| s.links[0].duplicate = 0.05));
    assert_all_intact(&report, MIB_64);
}

#[test]
fn corruption() {
    let report = run(&clean_with(|s| s.links[0].corrupt = 0.01));
    assert_all_intact(&report, MIB_64);
}

#[test]
fn two_second_outage() {
    let report = run(&shipped("outage_2s"));
    assert_all_intact(&report, MIB_64);
    assert!(report.connections[0].timeouts > 0);
}

#[test]
fn four_kib_receive_buffer() {
    let report = run(&clean_with(|s| {
        let settings = &mut s.hosts[1].settings;
        settings.push("tcp.recv_buffer", "4096");
        settings.push("tcp.recv_buffer_max", "4096");
    }));
    assert_all_intact(&report, MIB_64);
    let server = report.connections[0].server_tcp.expect("server counters");
    assert_eq!(server.rcv_buffer, 4096);
}

#[test]
fn both_directions_at_once() {
    let report = run(&shipped("two_way"));
    assert_eq!(report.connections.len(), 2);
    assert_all_intact(&report, MIB_64);
}

#[test]
fn sequence_rewriting_middlebox() {
    let report = run(&shipped("middlebox_seq_rewrite"));
    assert_all_intact(&report, MIB_64);
}

#[test]
fn congestion_control_is_chosen_per_host() {
    let with = |name: &str| {
        let mut scenario = shipped("lossy_1pct");
        scenario.hosts[0]
            .settings
            .push("tcp.congestion_control", name);
        let AppSpec::Bulk { bytes, .. } = &mut scenario.apps[1] else {
            panic!("expected a bulk app");
        };
        *bytes = 8 << 20;
        scenario
    };
    let cubic = run(&with("cubic"));
    let reno = run(&with("reno"));
    assert_all_intact(&cubic, 8 << 20);
    assert_all_intact(&reno, 8 << 20);
    assert_ne!(cubic.connections[0].end, reno.connections[0].end);
    let unknown = with("vegas").validate().unwrap_err().to_string();
    assert!(
        unknown.contains(
            "bad value \"vegas\" for tcp.congestion_control: expected one of: reno, cubic"
        ),
        "{unknown}"
    );
}
