//! The table of docs/schedulers.md: every scheduler on one shared set of path pairs
//! (equal; 15+5; 100+10; 1 ms / 25 ms; Wi-Fi and cellular with random loss), the scheduler
//! on both ends. Per pair and scheduler: the goodput of a 16 MiB download as a share of
//! the sum of the two paths' single-path goodputs and against the better one; the share of
//! the bytes path a brought; request/response latency (200 × 1 KB up, 30 KB down) p50 and
//! p99; and the failover time — the longest the client waited for data in a 16 MiB download
//! while path a (the first subflow's) goes down 40 % of the way through. `-- --nocapture` prints the table.
//!
//! Each run must deliver every byte; each scheduler's defining behaviour is asserted in
//! `schedulers.rs` — here only what holds across the whole table: downloads intact,
//! `redundant`'s p99 on the lossy pair no worse than `default`'s, every scheduler
//! recovering from the failure within two seconds.

mod common;

use core::time::Duration;

use common::two_paths::{PathSpec, two_paths};
use common::{assert_all_intact, run};
use mptcp_sim::ConnectionReport;
use mptcp_sim::scenario::{ActionSpec, EventSpec, Time};

const MIB: u64 = 1 << 20;
const DOWNLOAD: u64 = 16 * MIB;

/// The shared path set: name and the two paths.
fn path_set() -> Vec<(&'static str, [PathSpec; 2])> {
    let lossy = |mut p: PathSpec, loss: f64| {
        p.loss = loss;
        p
    };
    vec![
        (
            "equal 10+10, 10/10 ms",
            [PathSpec::new(10, 10), PathSpec::new(10, 10)],
        ),
        (
            "15+5, 10/10 ms",
            [PathSpec::new(15, 10), PathSpec::new(5, 10)],
        ),
        ("100+10, 5/20 ms", {
            let mut p = [PathSpec::new(100, 5), PathSpec::new(10, 20)];
            p[0].queue = 100;
            p[1].queue = 100;
            p
        }),
        (
            "20+20, 1/25 ms",
            [PathSpec::new(20, 1), PathSpec::new(20, 25)],
        ),
        (
            "Wi-Fi 20 Mbit/s 5 ms 1 % loss + cellular 10 Mbit/s 40 ms 0.5 %",
            [
                lossy(PathSpec::new(20, 5), 0.01),
                lossy(PathSpec::new(10, 40), 0.005),
            ],
        ),
    ]
}

const SCHEDULERS: [&str; 6] = [
    "default",
    "roundrobin",
    "redundant",
    "blest",
    "ecf",
    "standby",
];

/// Host options for `scheduler`.
fn options(scheduler: &str) -> String {
    format!("settings.mptcp.scheduler = \"{scheduler}\"")
}

/// A download of `DOWNLOAD` bytes over both paths with `scheduler` on both ends.
fn download(paths: [PathSpec; 2], scheduler: &str) -> ConnectionReport {
    let o = options(scheduler);
    let app = format!("kind = \"download\"\nbytes = {DOWNLOAD}");
    let report = run(&two_paths(1, paths, &o, &o, &app));
    assert_all_intact(&report, DOWNLOAD);
    report.connections[0].clone()
}

/// Goodput in Mbit/s of a plain TCP download over `path` alone.
fn single_path(path: PathSpec) -> f64 {
    // MPTCP off: one subflow, on the client's first address, which is on path a.
    let paths = [path, PathSpec::new(1, 1)];
    let app = format!("kind = \"download\"\nbytes = {DOWNLOAD}");
    let report = run(&two_paths(
        1,
        paths,
        "settings.mptcp.enabled = 0",
        "settings.mptcp.enabled = 0",
        &app,
    ));
    assert_all_intact(&report, DOWNLOAD);
    report.connections[0].goodput_bps() / 1e6
}

/// Share of the downloaded bytes path a brought.
fn share_on_a(conn: &ConnectionReport) -> f64 {
    let on = |prefix: &str| -> u64 {
        conn.client_subflows
            .iter()
            .filter(|s| s.local.ip().to_string().starts_with(prefix))
            .map(|s| s.tcp.bytes_received)
            .sum()
    };
    let (a, b) = (on("10.0.1."), on("10.0.2."));
    a as f64 / (a + b).max(1) as f64
}

/// p50 and p99 in ms of 200 exchanges of 1 KB up, 30 KB down.
fn latency(paths: [PathSpec; 2], scheduler: &str) -> (f64, f64) {
    let o = options(scheduler);
    let app = "kind = \"request-response\"\nrequest = 1000\nresponse = 30000\ncount = 200";
    let report = run(&two_paths(1, paths, &o, &o, app));
    assert_all_intact(&report, 200 * 31_000);
    let conn = &report.connections[0];
    let ms = |p| {
        conn.exchange_percentile(p)
            .expect("exchanges")
            .as_secs_f64()
            * 1e3
    };
    (ms(50.0), ms(99.0))
}

/// The longest wait for data of a download while path a goes down, in ms: at 40 % of the
/// time the download would take at the sum of the rates (0.5 s at the earliest, once both
/// subflows carry data).
fn failover(paths: [PathSpec; 2], scheduler: &str) -> f64 {
    let sum_bps = f64::from(paths[0].mbit + paths[1].mbit) * 1e6;
    let down_at = (0.4 * DOWNLOAD as f64 * 8.0 / sum_bps).max(0.5);
    let o = options(scheduler);
    let app = format!("kind = \"download\"\nbytes = {DOWNLOAD}");
    let mut scenario = two_paths(1, paths, &o, &o, &app);
    scenario.events = vec![EventSpec {
        at: Time(Duration::from_secs_f64(down_at)),
        link: "a".to_owned(),
        direction: None,
        action: ActionSpec::Down,
    }];
    let report = run(&scenario);
    assert_all_intact(&report, DOWNLOAD);
    let stall = report.connections[0].stall_down.expect("data was read");
    stall.length().as_secs_f64() * 1e3
}

#[test]
fn every_scheduler_on_the_shared_path_set() {
    println!(
        "| paths | scheduler | goodput | of the sum | vs the best | bytes on a | p50 | p99 | \
         failover stall |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, paths) in path_set() {
        let alone = [single_path(paths[0]), single_path(paths[1])];
        let (sum, best) = (alone[0] + alone[1], alone[0].max(alone[1]));
        let mut p99 = Vec::new();
        for scheduler in SCHEDULERS {
            let conn = download(paths, scheduler);
            let mbps = conn.goodput_bps() / 1e6;
            let (p50, tail) = latency(paths, scheduler);
            let stall = failover(paths, scheduler);
            println!(
                "| {name} | `{scheduler}` | {mbps:.1} Mbit/s | {:.0} % | {:.2}× | {:.0} % | \
                 {p50:.1} ms | {tail:.1} ms | {stall:.0} ms |",
                100.0 * mbps / sum,
                mbps / best,
                100.0 * share_on_a(&conn),
            );
            assert!(
                stall < 2_000.0,
                "{name}, {scheduler}: stalled {stall:.0} ms"
            );
            p99.push((scheduler, tail));
        }
        if name.starts_with("Wi-Fi") {
            let of = |s: &str| p99.iter().find(|(n, _)| *n == s).map(|(_, t)| *t).unwrap();
            assert!(
                of("redundant") <= of("default"),
                "{name}: redundant p99 {:.1} ms, default {:.1} ms",
                of("redundant"),
                of("default")
            );
        }
        println!(
            "| {name} | alone | {:.1} / {:.1} Mbit/s | | | | | | |",
            alone[0], alone[1]
        );
    }
}
