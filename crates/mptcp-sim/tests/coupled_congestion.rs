//! Coupled congestion control in the simulator (issue 13; RFC 6356 §2's goals): a
//! two-subflow MPTCP connection and one TCP flow share one bottleneck. With LIA, OLIA and
//! BALIA the MPTCP connection takes about its fair half ("do no harm", goal 2); uncoupled,
//! with NewReno or CUBIC on both subflows, it takes about two thirds.
//!
//! The topology: the MPTCP client has two addresses, each on its own 100 Mbit/s access
//! link (2 ms, 1 ms of jitter) to router r1; the TCP client one; r1 reaches r2 over the
//! shared 20 Mbit/s, 10 ms bottleneck (100-packet queue); r2 the server. Both clients
//! upload from time zero; the share is measured over 10–40 s, from what the server read.
//! Competitors: NewReno against the coupled controllers (RFC 6356 is designed to be fair to
//! it), each against its own kind when uncoupled.

mod common;

use core::time::Duration;

use mptcp_proto::time::Instant;
use mptcp_sim::scenario::Scenario;
use mptcp_sim::{ConnectionReport, RunOptions, ScenarioReport};

/// The scenario: the MPTCP client with `mptcp_cc`, the TCP client with `tcp_cc`.
fn shared_bottleneck(mptcp_cc: &str, tcp_cc: &str, seed: u64) -> Scenario {
    let text = format!(
        r#"
seed = {seed}
duration = "40s"
[[hosts]]
name = "mp"
addresses = ["10.0.1.1/24", "10.0.2.1/24"]
settings = {{ tcp.congestion_control = "{mptcp_cc}" }}
[[hosts]]
name = "tcp"
addresses = ["10.0.3.1/24"]
settings = {{ mptcp.enabled = 0, tcp.congestion_control = "{tcp_cc}" }}
[[hosts]]
name = "server"
addresses = ["10.0.9.1/24"]
[[routers]]
name = "r1"
routes = [
    {{ prefix = "10.0.1.0/24", iface = 0 }},
    {{ prefix = "10.0.2.0/24", iface = 1 }},
    {{ prefix = "10.0.3.0/24", iface = 2 }},
    {{ prefix = "10.0.9.0/24", iface = 3 }},
]
[[routers]]
name = "r2"
routes = [
    {{ prefix = "10.0.0.0/16", iface = 0 }},
    {{ prefix = "10.0.9.0/24", iface = 1 }},
]
[[links]]
a = "mp:0"
b = "r1:0"
rate = "100Mbit"
delay = "2ms"
jitter = "1ms"
[[links]]
a = "mp:1"
b = "r1:1"
rate = "100Mbit"
delay = "2ms"
jitter = "1ms"
[[links]]
a = "tcp:0"
b = "r1:2"
rate = "100Mbit"
delay = "2ms"
jitter = "1ms"
[[links]]
name = "bottleneck"
a = "r1:3"
b = "r2:0"
rate = "20Mbit"
delay = "10ms"
queue = {{ packets = 100 }}
[[links]]
a = "r2:1"
b = "server:0"
rate = "1000Mbit"
delay = "1ms"
[[apps]]
kind = "server"
host = "server"
port = 80
[[apps]]
kind = "bulk"
host = "mp"
connect = "10.0.9.1:80"
bytes = 1_000_000_000
[[apps]]
kind = "bulk"
host = "tcp"
connect = "10.0.9.1:80"
bytes = 1_000_000_000
"#
    );
    Scenario::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Runs `scenario`, sampling every connection each half second.
fn run_sampled(scenario: &Scenario) -> ScenarioReport {
    let options = RunOptions {
        sample_every: Some(Duration::from_millis(500)),
        ..RunOptions::default()
    };
    common::run_with(scenario, &options)
}

/// The connection of host `client`, checked intact as far as it went.
fn connection_of<'a>(report: &'a ScenarioReport, client: &str) -> &'a ConnectionReport {
    let conn = report
        .connections
        .iter()
        .find(|c| c.client == client)
        .unwrap_or_else(|| panic!("no connection from {client}"));
    assert!(!conn.wrong_bytes, "{client}: bytes intact");
    conn
}

/// Bytes the server read from `conn` between `from` and `to` seconds.
fn read_between(conn: &ConnectionReport, from: f64, to: f64) -> u64 {
    let at = |t: f64| {
        conn.server_samples
            .iter()
            .rev()
            .find(|s| s.at <= Instant::ZERO + Duration::from_secs_f64(t))
            .map_or(0, |s| s.received)
    };
    at(to) - at(from)
}

/// The MPTCP connection's share of what the bottleneck carried over 10–40 s, and whether
/// it used both subflows.
fn mptcp_share(mptcp_cc: &str, tcp_cc: &str, seed: u64) -> (f64, usize) {
    let report = run_sampled(&shared_bottleneck(mptcp_cc, tcp_cc, seed));
    let (mp, tcp) = (connection_of(&report, "mp"), connection_of(&report, "tcp"));
    assert!(mp.mptcp && !tcp.mptcp);
    let (a, b) = (read_between(mp, 10.0, 40.0), read_between(tcp, 10.0, 40.0));
    (a as f64 / (a + b).max(1) as f64, mp.client_subflows.len())
}

#[test]
fn coupled_controllers_take_about_half_of_a_shared_bottleneck_and_cubic_two_thirds() {
    let mut lines = Vec::new();
    for (mptcp_cc, tcp_cc, low, high) in [
        ("lia", "reno", 0.40, 0.60),
        ("olia", "reno", 0.40, 0.60),
        ("balia", "reno", 0.40, 0.60),
        ("reno", "reno", 0.60, 0.75),
        ("cubic", "cubic", 0.60, 0.75),
    ] {
        let shares: Vec<f64> = (1..=3)
            .map(|seed| {
                let (share, subflows) = mptcp_share(mptcp_cc, tcp_cc, seed);
                assert_eq!(subflows, 2, "{mptcp_cc}: two subflows");
                share
            })
            .collect();
        let mean = shares.iter().sum::<f64>() / shares.len() as f64;
        lines.push(format!(
            "{mptcp_cc} against {tcp_cc}: MPTCP share {:.1} % (seeds {:?})",
            mean * 100.0,
            shares
                .iter()
                .map(|s| format!("{:.1}", s * 100.0))
                .collect::<Vec<_>>()
        ));
        println!("{}", lines.last().unwrap());
        assert!(
            (low..=high).contains(&mean),
            "{mptcp_cc}: share {mean:.3} outside {low}..{high}"
        );
    }
}

/// Two disjoint paths from the MPTCP client, each with its own bottleneck (`rate_a`,
/// `rate_b` Mbit/s, 10 ms, 100-packet queues), and a TCP client (NewReno) whose upload
/// shares path a's bottleneck when `competitor`. The MPTCP client's settings are
/// `mptcp_settings`.
fn two_paths(mptcp_settings: &str, rate_a: u32, rate_b: u32, competitor: bool) -> Scenario {
    let competitor_app = if competitor {
        r#"[[apps]]
kind = "bulk"
host = "tcp"
connect = "10.0.9.1:80"
bytes = 1_000_000_000"#
    } else {
        ""
    };
    let text = format!(
        r#"
seed = 1
duration = "30s"
[[hosts]]
name = "mp"
addresses = ["10.0.1.1/24", "10.0.2.1/24"]
settings = {{ {mptcp_settings} }}
[[hosts]]
name = "tcp"
addresses = ["10.0.3.1/24"]
settings = {{ mptcp.enabled = 0, tcp.congestion_control = "reno" }}
[[hosts]]
name = "server"
addresses = ["10.0.9.1/24"]
[[routers]]
name = "ra"
routes = [
    {{ prefix = "10.0.1.0/24", iface = 0 }},
    {{ prefix = "10.0.3.0/24", iface = 2 }},
    {{ prefix = "10.0.9.0/24", iface = 1 }},
]
[[routers]]
name = "rb"
routes = [
    {{ prefix = "10.0.2.0/24", iface = 0 }},
    {{ prefix = "10.0.9.0/24", iface = 1 }},
]
[[routers]]
name = "r2"
routes = [
    {{ prefix = "10.0.1.0/24", iface = 0 }},
    {{ prefix = "10.0.3.0/24", iface = 0 }},
    {{ prefix = "10.0.2.0/24", iface = 1 }},
    {{ prefix = "10.0.9.0/24", iface = 2 }},
]
[[links]]
a = "mp:0"
b = "ra:0"
rate = "100Mbit"
delay = "2ms"
jitter = "1ms"
[[links]]
a = "mp:1"
b = "rb:0"
rate = "100Mbit"
delay = "2ms"
jitter = "1ms"
[[links]]
a = "tcp:0"
b = "ra:2"
rate = "100Mbit"
delay = "2ms"
jitter = "1ms"
[[links]]
a = "ra:1"
b = "r2:0"
rate = "{rate_a}Mbit"
delay = "10ms"
queue = {{ packets = 100 }}
[[links]]
a = "rb:1"
b = "r2:1"
rate = "{rate_b}Mbit"
delay = "10ms"
queue = {{ packets = 100 }}
[[links]]
a = "r2:2"
b = "server:0"
rate = "1000Mbit"
delay = "1ms"
[[apps]]
kind = "server"
host = "server"
port = 80
[[apps]]
kind = "bulk"
host = "mp"
connect = "10.0.9.1:80"
bytes = 1_000_000_000
{competitor_app}
"#
    );
    Scenario::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The MPTCP client's connection over 10–30 s: its goodput (Mbit/s, what the server read)
/// and the share of the bytes its path-b subflow sent.
fn goodput_and_share_b(scenario: &Scenario) -> (f64, f64) {
    let (goodput, share, _) = with_competitor(scenario);
    (goodput, share)
}

/// [`goodput_and_share_b`], and the TCP competitor's goodput (0 without one).
fn with_competitor(scenario: &Scenario) -> (f64, f64, f64) {
    let report = run_sampled(scenario);
    let mp = connection_of(&report, "mp");
    let mbit = |conn| read_between(conn, 10.0, 30.0) as f64 * 8.0 / 20.0 / 1e6;
    let goodput = mbit(mp);
    let competitor = if report.connections.iter().any(|c| c.client == "tcp") {
        mbit(connection_of(&report, "tcp"))
    } else {
        0.0
    };
    let sent_on = |b: bool, t: f64| -> u64 {
        mp.samples
            .iter()
            .rev()
            .find(|s| s.at <= Instant::ZERO + Duration::from_secs_f64(t))
            .map_or(0, |s| {
                s.subflows
                    .iter()
                    .filter(|sf| (sf.local.ip().to_string() == "10.0.2.1") == b)
                    .map(|sf| sf.bytes_sent)
                    .sum()
            })
    };
    let on_b = sent_on(true, 30.0) - sent_on(true, 10.0);
    let on_a = sent_on(false, 30.0) - sent_on(false, 10.0);
    (
        goodput,
        on_b as f64 / (on_a + on_b).max(1) as f64,
        competitor,
    )
}

#[test]
fn coupled_controllers_do_at_least_as_well_as_the_best_path_alone() {
    // The best path alone: plain TCP (NewReno) over a 20 Mbit/s path.
    let (best, _) = goodput_and_share_b(&two_paths(
        r#"mptcp.enabled = 0, tcp.congestion_control = "reno""#,
        20,
        10,
        false,
    ));
    println!("NewReno alone on the 20 Mbit/s path: {best:.2} Mbit/s");
    for cc in ["lia", "olia", "balia"] {
        let settings = format!(r#"tcp.congestion_control = "{cc}""#);
        let (goodput, _) = goodput_and_share_b(&two_paths(&settings, 10, 20, false));
        println!(
            "{cc} over 10 + 20 Mbit/s: {goodput:.2} Mbit/s ({:.2}× the best path)",
            goodput / best
        );
        assert!(
            goodput >= best,
            "{cc}: {goodput:.2} Mbit/s below the best path's {best:.2}"
        );
    }
}

#[test]
fn coupled_controllers_move_traffic_off_a_congested_path() {
    // Equal 20 Mbit/s paths; a NewReno upload shares path a. Uncoupled, the MPTCP
    // connection keeps about half its traffic on a; coupled, most moves to b.
    let mut lines = Vec::new();
    for cc in ["reno", "lia", "olia", "balia"] {
        let settings = format!(r#"tcp.congestion_control = "{cc}""#);
        let (goodput, on_b, competitor) = with_competitor(&two_paths(&settings, 20, 20, true));
        println!("{cc}: the TCP flow on path a {competitor:.2} Mbit/s");
        lines.push((cc, on_b));
        println!(
            "{cc}: {goodput:.2} Mbit/s, {:.1} % of it on the uncongested path",
            on_b * 100.0
        );
    }
    let uncoupled = lines[0].1;
    for (cc, on_b) in &lines[1..] {
        assert!(
            *on_b >= 0.65 && *on_b > uncoupled + 0.05,
            "{cc}: {:.1} % on the free path (uncoupled NewReno {:.1} %)",
            on_b * 100.0,
            uncoupled * 100.0
        );
    }
}

/// The MPTCP client's goodput (Mbit/s) and its subflows' mean smoothed RTT over 10–30 s,
/// and the least RTT it saw.
fn mean_srtt(scenario: &Scenario) -> (f64, Duration, Duration) {
    let report = run_sampled(scenario);
    let mp = connection_of(&report, "mp");
    let window = Instant::ZERO + Duration::from_secs(10)..Instant::ZERO + Duration::from_secs(30);
    let srtts: Vec<Duration> = mp
        .samples
        .iter()
        .filter(|s| window.contains(&s.at))
        .flat_map(|s| s.subflows.iter().filter_map(|sf| sf.srtt))
        .collect();
    let mean = srtts.iter().sum::<Duration>() / srtts.len().max(1) as u32;
    let goodput = read_between(mp, 10.0, 30.0) as f64 * 8.0 / 20.0 / 1e6;
    (goodput, mean, mp.min_rtt.unwrap_or_default())
}

/// wVegas keeps a few segments queued where the loss-based controllers fill the queue:
/// over two disjoint paths (10 + 20 Mbit/s, 10 ms, 100-packet queues), its subflows'
/// queueing delay (mean smoothed RTT over the least RTT seen) stays well below LIA's while
/// it still carries most of the 30 Mbit/s.
#[test]
fn wvegas_keeps_the_queues_short_and_still_fills_the_paths() {
    let run = |cc: &str| {
        let settings = format!(r#"tcp.congestion_control = "{cc}""#);
        let (goodput, srtt, least) = mean_srtt(&two_paths(&settings, 10, 20, false));
        let queueing = srtt.saturating_sub(least);
        println!(
            "{cc}: {goodput:.2} Mbit/s, mean smoothed RTT {srtt:?}, least {least:?}, queueing {queueing:?}"
        );
        (goodput, queueing)
    };
    let (vegas_goodput, vegas_queueing) = run("wvegas");
    let (_, lia_queueing) = run("lia");
    assert!(
        vegas_queueing < lia_queueing / 2,
        "queueing: wvegas {vegas_queueing:?}, lia {lia_queueing:?}"
    );
    assert!(
        vegas_goodput > 0.8 * 30.0,
        "wvegas {vegas_goodput:.2} Mbit/s"
    );
}
