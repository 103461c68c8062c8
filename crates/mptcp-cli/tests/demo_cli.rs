//! `mptcp demo` as a user runs it: the per-second table and the outcome as text, the JSON
//! summary for scripts, and the exit code. A small download (8 MiB, Wi-Fi down from 1 s to
//! 2 s) keeps the debug build fast; the failover and the recovery still happen mid-transfer.

use std::process::{Command, Output};

use serde_json::Value;

const ARGS: [&str; 6] = ["--size", "8M", "--fail-at", "1", "--fail-for", "1"];

fn demo(extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mptcp"))
        .arg("demo")
        .args(ARGS)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn json_summary_shows_an_intact_download_and_a_quick_failover() {
    let output = demo(&["--json"]);
    assert!(output.status.success(), "{output:?}");
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["intact"], true, "{summary}");
    assert_eq!(summary["finished"], true);
    assert_eq!(summary["mptcp"], true);
    assert_eq!(summary["bytes"], 8 << 20);
    let goodput = summary["goodput_bps"].as_f64().unwrap();
    assert!(goodput > 12e6 && goodput < 40e6, "goodput {goodput}");

    // Wi-Fi's in-flight data is re-injected on cellular after about one retransmission
    // timeout of the Wi-Fi subflow.
    let failover = summary["failover_ms"].as_f64().unwrap();
    assert!(
        failover > 0.0 && failover < 1_000.0,
        "failover {failover} ms"
    );
    assert!(summary["stall_ms"].as_f64().unwrap() <= failover);
    let recovery = summary["recovery_ms"].as_f64().unwrap();
    assert!(recovery < 2_000.0, "recovery {recovery} ms");

    // Both subflows carried data; each second has both paths' rates.
    let subflows = summary["subflows"].as_array().unwrap();
    assert_eq!(subflows.len(), 2);
    for sf in subflows {
        assert!(sf["bytes_received"].as_u64().unwrap() > 1 << 20, "{sf}");
    }
    let seconds = summary["per_second"].as_array().unwrap();
    assert!(seconds.len() >= 3, "{seconds:?}");
    let rate = |i: usize, key: &str| seconds[i][key].as_f64().unwrap();
    assert!(rate(0, "wifi_bps") > 15e6 && rate(0, "cellular_bps") > 4e6);
    assert_eq!(rate(1, "wifi_bps"), 0.0, "Wi-Fi is down from 1 s to 2 s");
    assert!(
        rate(1, "cellular_bps") > 8e6,
        "cellular carries the download"
    );
    let last = seconds.last().unwrap();
    assert_eq!(last["received"], 8 << 20);

    // Same options, same run.
    assert_eq!(demo(&["--json"]).stdout, output.stdout);
}

#[test]
fn text_shows_the_table_and_the_outcome() {
    let output = demo(&[]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("Wi-Fi Mbit/s"), "{text}");
    assert!(text.contains("cell Mbit/s"), "{text}");
    let rows: Vec<&str> = text
        .lines()
        .filter(|line| line.contains('%') && line.contains('-'))
        .collect();
    assert!(rows.len() >= 3, "{text}");
    assert!(rows[0].trim_start().starts_with("0.0-1.0"), "{text}");
    assert!(rows[1].ends_with("<- Wi-Fi down"), "{text}");
    assert!(rows.last().unwrap().contains("100.0%"), "{text}");
    assert!(text.contains("8388608 of 8388608 bytes"), "{text}");
    assert!(text.contains(": intact"), "{text}");
    assert!(text.contains("failover "), "{text}");
    assert!(text.contains("goodput "), "{text}");
}

#[test]
fn bad_options_are_usage_errors_before_any_output() {
    for args in [&["demo", "--fail-at", "soon"][..], &["demo", "--size", "0"]] {
        let output = Command::new(env!("CARGO_BIN_EXE_mptcp"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(output.stdout.is_empty(), "{args:?}: {output:?}");
    }
}

#[test]
fn a_failure_after_the_download_is_said_plainly() {
    let output = Command::new(env!("CARGO_BIN_EXE_mptcp"))
        .args(["demo", "--size", "1M", "--fail-at", "1000"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains(
            "failover   none: Wi-Fi was to go down at 1000.000 s, after the download had ended"
        ),
        "{text}"
    );
    assert!(text.contains("read Mbit/s"), "{text}");
}

/// The path manager is a setting: `ndiffports` with 3 subflows opens three subflows on the
/// Wi-Fi address pair, each from its own port, all carrying data, and none on cellular; so
/// the download waits for Wi-Fi to come back, and the text says so.
#[test]
fn ndiffports_opens_its_subflows_on_one_address_pair() {
    let set = [
        "--set",
        "mptcp.path_manager=ndiffports",
        "--set",
        "ndiffports.num_subflows=3",
    ];
    let output = demo(&[&set[..], &["--json"]].concat());
    assert!(output.status.success(), "{output:?}");
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["intact"], true, "{summary}");
    let subflows = summary["subflows"].as_array().unwrap();
    assert_eq!(subflows.len(), 3, "{subflows:?}");
    let mut ports: Vec<&str> = Vec::new();
    for sf in subflows {
        assert_eq!(sf["path"], "wifi", "{sf}");
        assert!(sf["bytes_received"].as_u64().unwrap() > 1 << 20, "{sf}");
        ports.push(sf["local"].as_str().unwrap());
    }
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 3, "three source ports: {ports:?}");
    let seconds = summary["per_second"].as_array().unwrap();
    assert!(seconds.iter().all(|s| s["cellular_bps"] == 0.0));

    let text = demo(&set);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("went on once Wi-Fi was back"), "{text}");
    assert_eq!(text.matches("\nsubflow    wifi").count(), 3, "{text}");
}
