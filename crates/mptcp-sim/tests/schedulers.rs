//! The schedulers, as a user choosing one in a scenario sees them: on two paths of 15 and
//! 5 Mbit/s (10 ms each way, 50-packet queues) the client uploads and we count the bytes
//! each path delivered (the bytes its subflow's peer acknowledged).

mod common;

use common::{assert_all_intact, run};
use mptcp_sim::scenario::Scenario;

const BYTES: u64 = 8 << 20;

/// Client 10.0.1.1 (path a, 15 Mbit/s) and 10.0.2.1 (path b, 5 Mbit/s), a router, the
/// server; `host_options` go into the client's host table.
fn unequal_paths(host_options: &str) -> Scenario {
    let text = format!(
        r#"
seed = 1
duration = "120s"
[[hosts]]
name = "client"
addresses = ["10.0.1.1/24", "10.0.2.1/24"]
{host_options}
[[hosts]]
name = "server"
addresses = ["10.0.3.1/24"]
[[routers]]
name = "r"
routes = [
    {{ prefix = "10.0.1.0/24", iface = 0 }},
    {{ prefix = "10.0.2.0/24", iface = 1 }},
    {{ prefix = "10.0.3.0/24", iface = 2 }},
]
[[links]]
name = "a"
a = "client:0"
b = "r:0"
rate = "15Mbit"
delay = "10ms"
queue = {{ packets = 50 }}
[[links]]
name = "b"
a = "client:1"
b = "r:1"
rate = "5Mbit"
delay = "10ms"
queue = {{ packets = 50 }}
[[links]]
a = "r:2"
b = "server:0"
rate = "10000Mbit"
delay = "0ms"
[[apps]]
kind = "server"
host = "server"
port = 80
[[apps]]
kind = "bulk"
host = "client"
connect = "10.0.3.1:80"
bytes = {BYTES}
"#
    );
    Scenario::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Share of the bytes path a delivered, after an intact upload over both paths.
fn share_of_path_a(host_options: &str) -> f64 {
    let report = run(&unequal_paths(host_options));
    assert_all_intact(&report, BYTES);
    let conn = &report.connections[0];
    assert!(conn.mptcp, "{host_options}: not MPTCP");
    let acked = |prefix: &str| -> u64 {
        conn.client_subflows
            .iter()
            .filter(|s| s.local.ip().to_string().starts_with(prefix))
            .map(|s| s.tcp.bytes_acked)
            .sum()
    };
    let (a, b) = (acked("10.0.1."), acked("10.0.2."));
    assert!(b > 0, "{host_options}: path b carried nothing");
    let share = a as f64 / (a + b) as f64;
    for sf in &conn.client_subflows {
        println!(
            "  {} timeouts {} retrans {} sent {} acked {}",
            sf.local, sf.tcp.timeouts, sf.tcp.retransmits, sf.tcp.bytes_sent, sf.tcp.bytes_acked
        );
    }
    println!(
        "{host_options}: path a {a} bytes, path b {b} bytes ({:.1} % on a), {:.2} Mbit/s",
        100.0 * share,
        conn.goodput_bps() / 1e6
    );
    share
}

#[test]
fn roundrobin_with_strict_turns_splits_bytes_evenly_whatever_the_capacity() {
    let share = share_of_path_a(
        "scheduler = \"roundrobin\"\nroundrobin = { num_segments = 1, cwnd_limited = false }",
    );
    assert!((0.45..=0.55).contains(&share), "{share}");
}

#[test]
fn roundrobin_limited_by_the_congestion_window_follows_the_capacity() {
    // 15 of 20 Mbit/s is 75 %.
    let share = share_of_path_a("scheduler = \"roundrobin\"");
    assert!((0.65..=0.85).contains(&share), "{share}");
    let share = share_of_path_a(
        "scheduler = \"roundrobin\"\nroundrobin = { num_segments = 3, cwnd_limited = true }",
    );
    assert!((0.65..=0.85).contains(&share), "{share}");
}

#[test]
fn an_unknown_scheduler_is_an_error_that_lists_the_valid_ones() {
    let text = unequal_paths("")
        .hosts
        .first()
        .map(|_| ())
        .map(|()| "scheduler = \"fastest\"");
    let err = Scenario::from_toml_str(&scenario_text_with(text.unwrap()))
        .expect_err("an unknown scheduler must be refused");
    let message = err.to_string();
    assert!(
        message.contains("unknown scheduler \"fastest\"; valid: default, roundrobin"),
        "{message}"
    );
    let err = Scenario::from_toml_str(&scenario_text_with("roundrobin = { cwnd_limited = false }"))
        .expect_err("roundrobin parameters need the roundrobin scheduler");
    assert!(err.to_string().contains("roundrobin parameters"), "{err}");
}

/// A one-host scenario whose host has `options`.
fn scenario_text_with(options: &str) -> String {
    format!(
        "seed = 1\nduration = \"1s\"\n[[hosts]]\nname = \"h\"\naddresses = [\"10.0.1.1/24\"]\n{options}\n"
    )
}
