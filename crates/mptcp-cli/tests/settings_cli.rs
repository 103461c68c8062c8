//! Settings as a user meets them: `mptcp settings` lists the registry; `--set` and `--config`
//! change what `demo` and `sim` run with (and what `connect`/`listen` would); an unknown name
//! or a bad value exits with status 2 and names what is valid, before anything runs.

use std::process::{Command, Output};

use mptcp_proto::settings::SETTINGS;
use serde_json::Value;

/// A shipped scenario (a short request/response exchange).
const SCENARIO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scenarios/request_response.toml"
);

fn mptcp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mptcp"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn settings_lists_every_setting_with_its_value_default_and_meaning() {
    let output = mptcp(&["settings"]);
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    assert!(text.starts_with("NAME"), "{text}");
    for setting in SETTINGS {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(setting.name))
            .unwrap_or_else(|| panic!("{} missing:\n{text}", setting.name));
        let default = setting.default_value();
        let columns: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            columns[1..3],
            [default.as_str(), default.as_str()],
            "{line}"
        );
        assert!(line.contains(setting.doc), "{line}");
    }

    let output = mptcp(&[
        "settings",
        "--json",
        "--set",
        "mptcp.scheduler=roundrobin",
        "--set",
        "roundrobin.num_segments=3",
    ]);
    assert!(output.status.success(), "{output:?}");
    let list: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(list.len(), SETTINGS.len());
    let find = |name: &str| list.iter().find(|s| s["name"] == name).unwrap().clone();
    let scheduler = find("mptcp.scheduler");
    assert_eq!(scheduler["value"], "roundrobin");
    assert_eq!(scheduler["default"], "default");
    assert_eq!(scheduler["seeds"], "net.mptcp.mptcp_scheduler");
    assert_eq!(find("roundrobin.num_segments")["value"], "3");
}

#[test]
fn unknown_names_and_bad_values_exit_2_naming_the_valid_ones_in_every_command() {
    let schedulers = "expected one of: default, roundrobin, redundant, blest, ecf, standby";
    for args in [
        &["settings"][..],
        &["demo", "--size", "1M"],
        &["sim", SCENARIO],
        &["connect", "--addr", "10.99.0.1/24", "10.99.0.2:80"],
        &["listen", "--addr", "10.99.0.1/24", "80"],
    ] {
        let mut with = args.to_vec();
        with.extend(["--set", "mptcp.scheduler=nonsense"]);
        let output = mptcp(&with);
        assert_eq!(output.status.code(), Some(2), "{with:?}: {output:?}");
        assert!(stderr(&output).contains(schedulers), "{with:?}: {output:?}");
        assert!(
            output.stdout.is_empty(),
            "{with:?}: nothing before the check"
        );

        let mut with = args.to_vec();
        with.extend(["--set", "mptcp.schedule=default"]);
        let output = mptcp(&with);
        assert_eq!(output.status.code(), Some(2), "{with:?}: {output:?}");
        assert!(
            stderr(&output).contains("unknown setting \"mptcp.schedule\"; valid: mptcp.enabled"),
            "{with:?}: {output:?}"
        );
    }
}

#[test]
fn a_config_file_is_read_and_set_wins_over_it() {
    let dir = std::env::temp_dir().join(format!("mptcp-settings-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        "[mptcp]\nscheduler = \"redundant\"\nchecksum = true\n[tcp]\nsack = false\n",
    )
    .unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "roundrobin.num_segments = 0\n").unwrap();
    let good_path = good.to_str().unwrap();

    let output = mptcp(&[
        "settings",
        "--json",
        "--config",
        good_path,
        "--set",
        "tcp.sack=1",
    ]);
    assert!(output.status.success(), "{output:?}");
    let list: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    let value = |name: &str| list.iter().find(|s| s["name"] == name).unwrap()["value"].clone();
    assert_eq!(value("mptcp.scheduler"), "redundant");
    assert_eq!(value("mptcp.checksum"), "1");
    assert_eq!(value("tcp.sack"), "1", "--set wins over the file");

    for command in [&["settings"][..], &["demo", "--size", "1M"]] {
        let mut with = command.to_vec();
        with.extend(["--config", bad.to_str().unwrap()]);
        let output = mptcp(&with);
        assert_eq!(output.status.code(), Some(2), "{with:?}: {output:?}");
        assert!(
            stderr(&output).contains(
                "bad value \"0\" for roundrobin.num_segments: expected an integer from 1"
            ),
            "{output:?}"
        );
    }
    let output = mptcp(&["settings", "--config", "/nonexistent/mptcp.toml"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The demo's bytes on Wi-Fi and on cellular (what each subflow received), with `extra`.
fn demo_split(extra: &[&str]) -> (f64, f64) {
    let mut args = vec!["demo", "--size", "8M", "--fail-for", "0", "--json"];
    args.extend(extra);
    let output = mptcp(&args);
    assert!(output.status.success(), "{args:?}: {output:?}");
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["intact"], true, "{summary}");
    assert_eq!(summary["finished"], true, "{summary}");
    let bytes: Vec<f64> = summary["subflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["bytes_received"].as_f64().unwrap())
        .collect();
    assert_eq!(bytes.len(), 2, "{summary}");
    (bytes[0], bytes[1])
}

#[test]
fn the_demo_runs_intact_with_the_scheduler_it_is_given() {
    // Wi-Fi is 30 Mbit/s, cellular 10: `default` follows the capacity; strict round-robin
    // (not limited by the congestion window) gives each subflow its turn.
    let (wifi, cellular) = demo_split(&[]);
    let default_share = wifi / (wifi + cellular);
    let (wifi, cellular) = demo_split(&[
        "--set",
        "mptcp.scheduler=roundrobin",
        "--set",
        "roundrobin.cwnd_limited=0",
    ]);
    let strict_share = wifi / (wifi + cellular);
    eprintln!("Wi-Fi's share: default {default_share:.3}, strict roundrobin {strict_share:.3}");
    assert!(default_share > 0.65, "{default_share}");
    assert!((0.4..=0.6).contains(&strict_share), "{strict_share}");
}

#[test]
fn sim_settings_apply_to_every_host_over_the_scenarios_own() {
    let run = |extra: &[&str]| -> Value {
        let mut args = vec!["sim", "--json", SCENARIO];
        args.extend(extra);
        let output = mptcp(&args);
        assert!(output.status.success(), "{args:?}: {output:?}");
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let connections = |report: &Value| report["connections"].as_array().unwrap().clone();
    let mptcp_on = run(&[]);
    let mptcp_off = run(&["--set", "mptcp.enabled=0"]);
    for conn in connections(&mptcp_on) {
        assert_eq!(conn["mptcp"], true, "{conn}");
    }
    for conn in connections(&mptcp_off) {
        assert_eq!(conn["mptcp"], false, "{conn}");
        assert_eq!(conn["intact"], true, "{conn}");
    }
}

#[test]
fn docs_settings_md_lists_every_setting_with_its_default() {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/settings.md"
    ))
    .unwrap();
    for setting in SETTINGS {
        let row = format!("| `{}` | {} |", setting.name, setting.default_value());
        assert!(docs.contains(&row), "docs/settings.md lacks {row}");
    }
}

#[test]
fn mptcp_debug_prints_what_connections_and_subflows_do_on_standard_error() {
    // Wi-Fi fails 0.2 s in: the phone's Wi-Fi subflow is taken for failed.
    let demo = |extra: &[&str]| {
        let mut args = vec![
            "demo",
            "--size",
            "2M",
            "--fail-at",
            "0.2",
            "--fail-for",
            "0.3",
        ];
        args.extend(extra);
        let output = mptcp(&args);
        assert!(output.status.success(), "{output:?}");
        stderr(&output)
    };
    let records = demo(&["--set", "mptcp.debug=1"]);
    let lines: Vec<&str> = records.lines().collect();
    let has = |what: &str| lines.iter().any(|l| l.contains(what));
    assert!(has("DEBUG"), "{records}");
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("DEBUG"))
            .all(|l| l.contains("connection=")),
        "every record names its connection: {records}"
    );
    assert!(
        has("SubflowEstablished(SubflowId(1))") && has("subflow=1"),
        "{records}"
    );
    assert!(has("potentially failed"), "{records}");
    assert!(!has("Readable"), "byte-stream events are TRACE: {records}");
    assert!(demo(&["--set", "mptcp.debug=2"]).contains("TRACE"));
    assert!(!demo(&[]).contains("DEBUG"), "nothing at 0");
}

/// `connect` and `listen` take endpoints as `ip mptcp endpoint add` does; a bad one, or one
/// with another path manager, exits with status 2 naming what is valid, before any device
/// is made.
#[test]
fn endpoints_are_checked_before_anything_runs() {
    for args in [
        &["connect", "--addr", "10.99.0.1/24", "10.99.0.2:80"][..],
        &["listen", "--addr", "10.99.0.1/24", "80"],
    ] {
        let mut with = args.to_vec();
        with.extend(["--endpoint", "10.99.0.1 subflow laminar"]);
        let output = mptcp(&with);
        assert_eq!(output.status.code(), Some(2), "{with:?}: {output:?}");
        assert!(
            stderr(&output).contains("valid: port, signal, subflow, backup, fullmesh"),
            "{with:?}: {output:?}"
        );

        let mut with = args.to_vec();
        with.extend([
            "--endpoint",
            "10.99.0.1 subflow",
            "--path-manager",
            "fullmesh",
        ]);
        let output = mptcp(&with);
        assert_eq!(output.status.code(), Some(2), "{with:?}: {output:?}");
        assert!(
            stderr(&output).contains("--endpoint is for the endpoints path manager, not fullmesh"),
            "{with:?}: {output:?}"
        );
        assert!(output.stdout.is_empty(), "{with:?}");
    }
}
