//! `mptcp sim` as a user runs it: the table, the JSON summary, the exit codes, and captures
//! that tshark reads without complaint.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// A directory of the test's own, empty.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("sim-cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sim(args: &[&str], scenario: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mptcp"))
        .arg("sim")
        .args(args)
        .arg(scenario)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn json_summary_and_captures_tshark_reads() {
    let dir = scratch("json");
    let pcaps = dir.join("pcap");
    let output = sim(
        &["--json", "--pcap", pcaps.to_str().unwrap()],
        &repo("scenarios/request_response.toml"),
    );
    assert!(output.status.success(), "{output:?}");
    let summary: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(summary["ok"], true);
    let connections = summary["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 2);
    let exchange = &connections[0];
    assert_eq!(exchange["kind"], "request-response");
    assert_eq!(exchange["bytes_sent"], 200 * (300 + 20_000));
    assert_eq!(exchange["bytes_received"], 200 * (300 + 20_000));
    assert_eq!(exchange["intact"], true);
    assert!(exchange["duration_s"].as_f64().unwrap() > 200.0 * 0.04);
    assert!(exchange["goodput_bps"].as_f64().unwrap() > 0.0);
    // The longest time each side went without reading while data was still to come: at
    // least the round trip between a response and the next request, well under the run.
    for stall in ["stall_up_ms", "stall_down_ms"] {
        let ms = exchange[stall].as_f64().unwrap();
        assert!(
            ms > 0.0 && ms < 1e3 * exchange["duration_s"].as_f64().unwrap(),
            "{stall} {ms}"
        );
    }
    assert_eq!(connections[1]["kind"], "on-off");
    assert_eq!(connections[1]["intact"], true);

    let mut captures: Vec<_> = std::fs::read_dir(&pcaps)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    captures.sort();
    let names: Vec<_> = captures
        .iter()
        .map(|path| path.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(names, ["link0-access.pcap", "link1-core.pcap"]);
    for capture in &captures {
        // The payload is the applications' pattern; on port 80 tshark would take it for
        // HTTP and call it malformed, so HTTP stays out of the way of the IP and TCP checks.
        let tshark = |filter: &[&str]| {
            let output = Command::new("tshark")
                .args(["--disable-protocol", "http", "-r"])
                .arg(capture)
                .args(filter)
                .output()
                .expect("tshark is installed");
            assert!(output.status.success(), "{output:?}");
            stdout(&output).lines().count()
        };
        let packets = tshark(&[]);
        assert!(packets > 1000, "{capture:?}: {packets} packets");
        assert_eq!(tshark(&["-Y", "_ws.malformed"]), 0, "{capture:?}");
        // A clean path: no retransmission, duplicate ACK, zero window or other TCP analysis
        // warning either — except that a DATA_FIN sent alone (RFC 8684 §3.3.3) rides on a
        // pure ACK that repeats the last ACK and window, which tshark calls a duplicate.
        let warnings = "tcp.analysis.flags && !(tcp.analysis.duplicate_ack && tcp.len == 0 \
                        && tcp.options.mptcp.datafin.flag == 1)";
        assert_eq!(tshark(&["-Y", warnings]), 0, "{capture:?}");
        assert!(
            tshark(&["-Y", "tcp.options.mptcp.datafin.flag == 1"]) > 0,
            "{capture:?}"
        );
        assert_eq!(tshark(&["-Y", "tcp.flags.syn == 1"]), 4, "{capture:?}");
    }
}

#[test]
fn same_seed_same_json() {
    let scenario = repo("scenarios/request_response.toml");
    let first = sim(&["--json", "--seed", "9"], &scenario);
    let second = sim(&["--json", "--seed", "9"], &scenario);
    assert!(first.status.success(), "{first:?}");
    assert_eq!(stdout(&first), stdout(&second));
    let summary: Value = serde_json::from_str(&stdout(&first)).unwrap();
    assert_eq!(summary["seed"], 9);
}

const REWRITE: &str = r#"
seed = 3
duration = "DURATION"
hosts = [
    { name = "client", addresses = ["10.0.0.1/24"] },
    { name = "server", addresses = ["10.0.0.2/24"] },
]
[[links]]
a = "client:0"
b = "server:0"
rate = "10Mbit"
delay = "5ms"
middleboxes = MIDDLEBOXES
[[apps]]
kind = "server"
host = "server"
port = 80
[[apps]]
kind = "bulk"
host = "client"
connect = "10.0.0.2:80"
bytes = 1_000_000
"#;

fn scenario_file(name: &str, duration: &str, middleboxes: &str) -> PathBuf {
    let path = scratch(name).join("scenario.toml");
    let text = REWRITE
        .replace("DURATION", duration)
        .replace("MIDDLEBOXES", middleboxes);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn rewritten_payload_is_not_intact() {
    // The middlebox turns every "A" byte of the client's data into "B" and fixes the TCP
    // checksum, so TCP delivers the bytes and only the application can tell.
    let rewrite =
        r#"[{ kind = "payload-rewrite", find = "A", replace = "B", direction = "a-to-b" }]"#;
    let output = sim(&[], &scenario_file("rewrite", "10s", rewrite));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = stdout(&output);
    assert!(text.contains(" NO"), "{text}");
    assert!(text.contains("differs from what it sent"), "{text}");
}

#[test]
fn unfinished_transfer_fails() {
    let output = sim(&["--json"], &scenario_file("short", "300ms", "[]"));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let summary: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let conn = &summary["connections"][0];
    assert_eq!(conn["finished"], false);
    assert_eq!(conn["intact"], false);
    assert!(conn["bytes_received"].as_u64().unwrap() < 1_000_000);
}

#[test]
fn a_bad_scenario_is_a_usage_error() {
    let path = scratch("bad").join("bad.toml");
    std::fs::write(&path, "seed = 1\n").unwrap();
    let output = sim(&[], &path);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let message = String::from_utf8(output.stderr).unwrap();
    assert!(message.contains("missing field `duration`"), "{message}");
    assert!(output.stdout.is_empty());
}
