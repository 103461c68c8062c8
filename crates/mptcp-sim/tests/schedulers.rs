//! The schedulers and profiles, as a user choosing one in a scenario sees them: which path
//! carries the bytes, how long requests wait, what happens when a path fails. Each test
//! prints its figures (`-- --nocapture`); docs/schedulers.md quotes them.

mod common;

use common::assert_all_intact;
use common::two_paths::{PathSpec, per_path, two_paths};
use core::time::Duration;

use mptcp_proto::time::Instant;
use mptcp_sim::scenario::{ActionSpec, EventSpec, Scenario, Time};
use mptcp_sim::{ConnectionReport, RunOptions, Sample};

const MIB: u64 = 1 << 20;

/// 15 and 5 Mbit/s, 10 ms each way, 50-packet queues.
const FIFTEEN_AND_FIVE: [PathSpec; 2] = [PathSpec::new(15, 10), PathSpec::new(5, 10)];

/// Runs `scenario` and returns its only connection, checked intact.
fn run_one(scenario: &Scenario, bytes: u64) -> ConnectionReport {
    let report = common::run(scenario);
    assert_all_intact(&report, bytes);
    let conn = report.connections[0].clone();
    assert!(conn.mptcp, "not MPTCP");
    conn
}

/// Payload bytes each path delivered to the server (acknowledged by the client's
/// subflows on it): [a, b].
fn acked_per_path(conn: &ConnectionReport) -> [u64; 2] {
    per_path(conn, |t| t.bytes_acked)
}

/// Payload bytes each path brought to the client, in order: [a, b].
fn received_per_path(conn: &ConnectionReport) -> [u64; 2] {
    per_path(conn, |t| t.bytes_received)
}

/// Samples every 100 ms.
fn sampled() -> RunOptions {
    RunOptions {
        sample_every: Some(Duration::from_millis(100)),
        ..RunOptions::default()
    }
}

/// Payload bytes the client sent, retransmissions included, on the subflows whose address
/// starts with `prefix`, at `sample`.
fn sent_on(sample: &Sample, prefix: &str) -> u64 {
    sample
        .subflows
        .iter()
        .filter(|sf| sf.local.ip().to_string().starts_with(prefix))
        .map(|sf| sf.bytes_sent)
        .sum()
}

/// Share of an 8 MiB upload over 15 + 5 Mbit/s that path a delivered.
fn upload_share_of_path_a(options: &str) -> f64 {
    let bytes = 8 * MIB;
    let app = format!("kind = \"bulk\"\nbytes = {bytes}");
    let conn = run_one(&two_paths(1, FIFTEEN_AND_FIVE, options, "", &app), bytes);
    let [a, b] = acked_per_path(&conn);
    assert!(b > 0, "{options}: path b carried nothing");
    let share = a as f64 / (a + b) as f64;
    println!(
        "{options}: path a {a} bytes, path b {b} bytes ({:.1} % on a), {:.2} Mbit/s",
        100.0 * share,
        conn.goodput_bps() / 1e6
    );
    share
}

#[test]
fn roundrobin_with_strict_turns_splits_bytes_evenly_whatever_the_capacity() {
    let share = upload_share_of_path_a(
        "settings = { mptcp.scheduler = \"roundrobin\", roundrobin.cwnd_limited = false }",
    );
    assert!((0.45..=0.55).contains(&share), "{share}");
}

#[test]
fn roundrobin_limited_by_the_congestion_window_follows_the_capacity() {
    // 15 of 20 Mbit/s is 75 %.
    let share = upload_share_of_path_a("settings.mptcp.scheduler = \"roundrobin\"");
    assert!((0.65..=0.85).contains(&share), "{share}");
    let share = upload_share_of_path_a(
        "settings = { mptcp.scheduler = \"roundrobin\", roundrobin.num_segments = 3, \
         roundrobin.cwnd_limited = true }",
    );
    assert!((0.65..=0.85).contains(&share), "{share}");
}

/// Request/response exchanges (`request` bytes up, `response` bytes down, `count` times)
/// with `scheduler` on both ends; returns the connection.
fn exchanges(
    seed: u64,
    paths: [PathSpec; 2],
    scheduler: &str,
    request: u64,
    response: u64,
    count: u32,
) -> ConnectionReport {
    exchanges_with(seed, paths, scheduler, "", request, response, count)
}

/// [`exchanges`] with `client_options` added to the client's (e.g. a fixed receive buffer).
fn exchanges_with(
    seed: u64,
    paths: [PathSpec; 2],
    scheduler: &str,
    client_options: &str,
    request: u64,
    response: u64,
    count: u32,
) -> ConnectionReport {
    let options = format!("settings.mptcp.scheduler = \"{scheduler}\"");
    let client = format!("{options}\n{client_options}");
    let app = format!(
        "kind = \"request-response\"\nrequest = {request}\nresponse = {response}\ncount = {count}"
    );
    let scenario = two_paths(seed, paths, &client, &options, &app);
    let conn = run_one(&scenario, (request + response) * u64::from(count));
    assert_eq!(conn.exchange_times.len(), count as usize);
    conn
}

/// p50 and p99 exchange times in ms.
fn percentiles_ms(conn: &ConnectionReport) -> (f64, f64) {
    let ms = |p| {
        conn.exchange_percentile(p)
            .expect("exchanges")
            .as_secs_f64()
            * 1e3
    };
    (ms(50.0), ms(99.0))
}

#[test]
fn redundant_keeps_request_latency_when_one_path_loses_five_percent() {
    // Two 10 Mbit/s paths, 15 and 10 ms each way (the lossy one is the faster, so
    // `default` prefers it); 2 KB requests, 20 KB responses.
    let clean = [PathSpec::new(10, 15), PathSpec::new(10, 10)];
    let mut lossy = clean;
    lossy[1].loss = 0.05;
    let mut p99 = Vec::new();
    for scheduler in ["redundant", "default"] {
        let mut per_case = Vec::new();
        for (case, paths) in [("clean", clean), ("5 % loss on b", lossy)] {
            let conn = exchanges(1, paths, scheduler, 2_000, 20_000, 400);
            let (p50, p99) = percentiles_ms(&conn);
            let down = received_per_path(&conn);
            let total = 20_000 * 400;
            println!(
                "{scheduler}, {case}: p50 {p50:.1} ms, p99 {p99:.1} ms; responses received on \
                 a {:.0} %, on b {:.0} %",
                100.0 * down[0] as f64 / total as f64,
                100.0 * down[1] as f64 / total as f64,
            );
            if scheduler == "redundant" {
                // Every byte goes on both paths; a lossy path whose window cannot keep up
                // skips what the other already delivered.
                let full = if paths[1].loss > 0.0 { 1 } else { 2 };
                for (path, bytes) in ["a", "b"].iter().zip(down).take(full) {
                    assert!(
                        bytes as f64 >= 0.9 * total as f64,
                        "{case}: path {path} brought only {bytes} of {total} bytes"
                    );
                }
            }
            per_case.push(p99);
        }
        p99.push(per_case);
    }
    let (redundant, default) = (&p99[0], &p99[1]);
    assert!(
        redundant[1] <= 1.3 * redundant[0],
        "redundant p99 {:.1} ms with loss against {:.1} ms without",
        redundant[1],
        redundant[0]
    );
    assert!(
        default[1] > 1.3 * default[0],
        "default p99 {:.1} ms with loss against {:.1} ms without: the loss should show",
        default[1],
        default[0]
    );
}

#[test]
fn ecf_and_blest_cut_the_tail_of_100_kb_objects_over_unequal_paths() {
    // 30 + 10 Mbit/s, 10 / 60 ms each way: 100 KB responses to 200-byte requests, with the
    // client's receive buffer auto-tuned (it grows to megabytes) and fixed at 256 KiB (a
    // window the responses fill, where BLEST's estimate applies).
    let paths = [PathSpec::new(30, 10), PathSpec::new(10, 60)];
    let mut p99 = Vec::new();
    for buffer in [
        "",
        "settings.tcp.recv_buffer = 262144\nsettings.tcp.recv_buffer_max = 262144",
    ] {
        for scheduler in ["default", "blest", "ecf"] {
            // No random loss: every seed gives the same run.
            let conn = exchanges_with(1, paths, scheduler, buffer, 200, 100_000, 200);
            let (p50, tail) = percentiles_ms(&conn);
            let down = received_per_path(&conn);
            println!(
                "{scheduler} {buffer}: p50 {p50:.1} ms, p99 {tail:.1} ms; bytes on a {}, on b {}",
                down[0], down[1]
            );
            p99.push(tail);
        }
    }
    let [default, blest, ecf] = [p99[0], p99[1], p99[2]];
    assert!(
        ecf < default,
        "ecf p99 {ecf:.1} ms, default {default:.1} ms"
    );
    // BLEST waits only when the connection-level window would run out: with the window
    // auto-tuned to megabytes it decides as `default` does.
    assert!(
        blest <= default,
        "blest p99 {blest:.1} ms, default {default:.1} ms"
    );
    let [default, blest, ecf] = [p99[3], p99[4], p99[5]];
    assert!(
        ecf < default,
        "256 KiB: ecf p99 {ecf:.1} ms, default {default:.1} ms"
    );
    assert!(
        blest < default,
        "256 KiB: blest p99 {blest:.1} ms, default {default:.1} ms"
    );
}

#[test]
fn overflow_profile_spills_onto_the_second_path_only_when_the_first_is_full() {
    // 20 + 10 Mbit/s, 10 / 30 ms each way.
    let paths = [PathSpec::new(20, 10), PathSpec::new(10, 30)];
    let options = "profile = \"overflow\"";
    // 5 Mbit/s for 10 s: a quarter of path a.
    let light = two_paths(
        1,
        paths,
        options,
        options,
        "kind = \"on-off\"\nrate = \"5Mbit\"\non = \"10s\"\noff = \"0s\"",
    );
    let light = Scenario {
        duration: Time(Duration::from_secs(10)),
        ..light
    };
    let report = common::run_with(&light, &sampled());
    let conn = &report.connections[0];
    let last = conn.samples.last().expect("sampled");
    let [a, b] = ["10.0.1.", "10.0.2."].map(|prefix| sent_on(last, prefix));
    println!("overflow, 5 Mbit/s offered: path a {a} bytes, path b {b} bytes");
    assert!(a > 5 * MIB, "path a carried {a} bytes");
    assert!(b * 100 <= a, "path b carried {b} bytes of {}", a + b);
    // A bulk upload: more than path a can take.
    let bytes = 16 * MIB;
    let app = format!("kind = \"bulk\"\nbytes = {bytes}");
    let conn = run_one(&two_paths(1, paths, options, options, &app), bytes);
    let [a, b] = acked_per_path(&conn);
    println!(
        "overflow, bulk: path a {a} bytes, path b {b} bytes, {:.1} Mbit/s",
        conn.goodput_bps() / 1e6
    );
    assert!(b * 5 >= a + b, "path b carried only {b} bytes of {}", a + b);
}

#[test]
fn hot_standby_profile_keeps_the_second_path_idle_until_the_first_fails() {
    let paths = [PathSpec::new(20, 10), PathSpec::new(20, 5)];
    let options = "profile = \"hot-standby\"";
    let bytes = 16 * MIB;
    let app = format!("kind = \"bulk\"\nbytes = {bytes}");
    let mut scenario = two_paths(1, paths, options, options, &app);
    let conn = run_one(&scenario, bytes);
    let [a, b] = acked_per_path(&conn);
    println!("hot-standby, no failure: path a {a} bytes, path b {b} bytes");
    assert_eq!(conn.client_subflows.len(), 2, "the standby subflow is open");
    // Its FIN is the one byte it carries.
    assert!(b <= 1, "the standby carried data");
    // Path a goes down at 3 s: from then on path b carries everything.
    scenario.events = vec![EventSpec {
        at: Time(Duration::from_secs(3)),
        link: "a".to_owned(),
        direction: None,
        action: ActionSpec::Down,
    }];
    let report = common::run_with(&scenario, &sampled());
    assert_all_intact(&report, bytes);
    let conn = &report.connections[0];
    let on_b_at = |seconds: f64| -> u64 {
        conn.samples
            .iter()
            .rev()
            .find(|s| s.at.saturating_duration_since(Instant::ZERO).as_secs_f64() <= seconds)
            .map_or(0, |s| sent_on(s, "10.0.2."))
    };
    let before = on_b_at(2.95);
    let [a, b] = acked_per_path(conn);
    println!(
        "hot-standby, path a down at 3 s: path b sent {before} bytes before; in all a {a}, b {b}"
    );
    assert_eq!(before, 0, "the standby carried data before the failure");
    assert!(b > bytes / 2, "path b carried {b} of {bytes} bytes (a {a})");
}

#[test]
fn unknown_names_and_bad_parameters_are_errors_that_say_what_is_valid() {
    let refused = |options: &str| -> String {
        Scenario::from_toml_str(&scenario_text_with(options))
            .expect_err(options)
            .to_string()
    };
    let message = refused("settings.mptcp.scheduler = \"fastest\"");
    assert!(
        message.contains(
            "bad value \"fastest\" for mptcp.scheduler: expected one of: default, roundrobin, \
             redundant, blest, ecf, standby"
        ),
        "{message}"
    );
    let message = refused("profile = \"fast\"");
    assert!(
        message.contains("unknown profile \"fast\"; valid: bulk, overflow, hot-standby"),
        "{message}"
    );
    let message = refused("settings.roundrobin.segments = 2");
    assert!(
        message.contains("unknown setting \"roundrobin.segments\"; valid: mptcp.enabled,"),
        "{message}"
    );
    let message = refused("settings = { mptcp.scheduler = \"blest\", blest.lambda = 2.0 }");
    assert!(
        message.contains("bad value \"2\" for blest.lambda: expected a number from 1 to 1.3"),
        "{message}"
    );
    let message = refused("settings.ecf.r_beta = 0");
    assert!(
        message.contains("for ecf.r_beta: expected an integer from 1 to 65535"),
        "{message}"
    );
    let message = refused("settings.mptcp.scheduler = \"ecf\"\nprofile = \"bulk\"");
    assert!(message.contains("both"), "{message}");
}

/// A one-host scenario whose host has `options`.
fn scenario_text_with(options: &str) -> String {
    format!(
        "seed = 1\nduration = \"1s\"\n[[hosts]]\nname = \"h\"\naddresses = [\"10.0.1.1/24\"]\n{options}\n"
    )
}
