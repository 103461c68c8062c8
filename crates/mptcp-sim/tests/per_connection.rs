//! Settings per connection (draft-scharf-mptcp-api REQ13; docs/settings.md): two connections
//! of one stack at the same time, each with its own scheduler, path manager or congestion
//! controller, behave as their own settings say; a listener's settings reach the connections
//! it accepts. The client has two paths (a: 15 Mbit/s, b: 5 Mbit/s, 10 ms each way).

mod common;

use common::assert_all_intact;
use common::two_paths::{PathSpec, per_path, two_paths, two_paths_text};
use mptcp_sim::ConnectionReport;
use mptcp_sim::scenario::{AppSpec, Scenario, SettingsSpec};

const BYTES: u64 = 8 << 20;

/// A bulk upload of `BYTES` to the server with `settings` of its own.
fn upload(settings: &[(&str, &str)]) -> AppSpec {
    let mut spec = SettingsSpec::default();
    for (name, value) in settings {
        spec.push(name, value);
    }
    AppSpec::Bulk {
        host: "client".to_owned(),
        start: Default::default(),
        connect: "10.0.3.1:80".parse().unwrap(),
        bytes: BYTES,
        settings: spec,
    }
}

/// Two uploads at once from one client stack, with `first` and `second` settings; the
/// server's listener has `server` settings. Returns both connections, in that order.
fn two_uploads(
    first: &[(&str, &str)],
    second: &[(&str, &str)],
    server: &[(&str, &str)],
) -> [ConnectionReport; 2] {
    let paths = [PathSpec::new(15, 10), PathSpec::new(5, 10)];
    let mut scenario: Scenario = two_paths(1, paths, "", "", "kind = \"bulk\"\nbytes = 1");
    let AppSpec::Server { settings, .. } = &mut scenario.apps[0] else {
        panic!("the first application is the server");
    };
    for (name, value) in server {
        settings.push(name, value);
    }
    scenario.apps[1] = upload(first);
    scenario.apps.push(upload(second));
    let report = common::run(&scenario);
    assert_all_intact(&report, BYTES);
    let mut conns = report.connections.clone();
    conns.sort_by_key(|c| c.start);
    assert_eq!(conns.len(), 2);
    [conns[0].clone(), conns[1].clone()]
}

/// Bytes the server acknowledged on path a and on path b, of `conn`.
fn acked(conn: &ConnectionReport) -> [u64; 2] {
    per_path(conn, |t| t.bytes_acked)
}

fn share_of_a(conn: &ConnectionReport) -> f64 {
    let [a, b] = acked(conn);
    a as f64 / (a + b) as f64
}

#[test]
fn two_connections_at_once_each_follow_their_own_scheduler() {
    let strict = [
        ("mptcp.scheduler", "roundrobin"),
        ("roundrobin.cwnd_limited", "0"),
    ];
    let conns = two_uploads(&strict, &[], &[]);
    let (round_robin, default) = (share_of_a(&conns[0]), share_of_a(&conns[1]));
    println!("share of path a: strict roundrobin {round_robin:.3}, default {default:.3}");
    // Strict turns put every other segment on each path; the default follows the room in
    // the windows, most of it on the faster path.
    assert!((0.45..=0.55).contains(&round_robin), "{round_robin}");
    assert!(default > 0.6, "{default}");
}

#[test]
fn two_connections_at_once_each_follow_their_own_path_manager() {
    let conns = two_uploads(&[("mptcp.path_manager", "default")], &[], &[]);
    let subflows = |c: &ConnectionReport| c.client_subflows.len();
    println!(
        "subflows: path manager default {}, simple {}",
        subflows(&conns[0]),
        subflows(&conns[1])
    );
    assert_eq!(subflows(&conns[0]), 1, "`default` opens nothing");
    assert_eq!(acked(&conns[0])[1], 0);
    assert_eq!(
        subflows(&conns[1]),
        2,
        "`simple` joins from the second address"
    );
    assert!(acked(&conns[1])[1] > 0);
}

#[test]
fn two_connections_at_once_each_have_their_own_congestion_controller() {
    // `fixed` holds its window at ten segments whatever happens; `cubic` grows it.
    let conns = two_uploads(&[("tcp.congestion_control", "fixed")], &[], &[]);
    for sf in &conns[0].client_subflows {
        assert_eq!(sf.tcp.congestion_control, "fixed");
        // Segments carry the MSS less the 12 bytes of the timestamp option.
        assert!(sf.tcp.timestamps);
        assert_eq!(sf.tcp.cwnd, 10 * (sf.tcp.mss - 12), "{sf:?}");
    }
    for sf in &conns[1].client_subflows {
        assert_eq!(sf.tcp.congestion_control, "cubic");
    }
    let cubic_window = conns[1].client_subflows.iter().map(|sf| sf.tcp.cwnd).max();
    println!("windows at the end: fixed 10 segments, cubic up to {cubic_window:?} bytes");
}

#[test]
fn a_listeners_settings_reach_the_connections_it_accepts() {
    let conns = two_uploads(&[], &[], &[("tcp.congestion_control", "reno")]);
    for conn in &conns {
        let server = conn.server_tcp.expect("the server's counters");
        assert_eq!(server.congestion_control, "reno");
        let client = conn.client_tcp.expect("the client's counters");
        assert_eq!(client.congestion_control, "cubic");
    }
}

#[test]
fn an_applications_bad_setting_is_refused_with_the_scenario() {
    let paths = [PathSpec::new(15, 10), PathSpec::new(5, 10)];
    let app = "kind = \"bulk\"\nbytes = 1\nsettings = { mptcp.scheduler = \"fastest\" }";
    let text = Scenario::from_toml_str(&two_paths_text(1, paths, "", "", app))
        .expect_err("refused")
        .to_string();
    assert!(
        text.contains("app 1") && text.contains("bad value \"fastest\" for mptcp.scheduler"),
        "{text}"
    );
}

/// Two uploads at once as in [`two_uploads`], the client host having `host` settings.
fn two_uploads_on(host: &[(&str, &str)], first: &[(&str, &str)]) -> [ConnectionReport; 2] {
    let paths = [PathSpec::new(15, 10), PathSpec::new(5, 10)];
    let mut scenario: Scenario = two_paths(1, paths, "", "", "kind = \"bulk\"\nbytes = 1");
    for (name, value) in host {
        scenario.hosts[0].settings.push(name, value);
    }
    scenario.apps[1] = upload(first);
    scenario.apps.push(upload(&[]));
    let report = common::run(&scenario);
    assert_all_intact(&report, BYTES);
    let mut conns = report.connections.clone();
    conns.sort_by_key(|c| c.start);
    [conns[0].clone(), conns[1].clone()]
}

#[test]
fn mptcp_enabled_2_gives_mptcp_only_to_connections_that_ask() {
    let conns = two_uploads_on(&[("mptcp.enabled", "2")], &[("mptcp.enabled", "1")]);
    assert!(conns[0].mptcp, "the connection that asked speaks MPTCP");
    assert_eq!(conns[0].client_subflows.len(), 2);
    assert!(!conns[1].mptcp, "the one that did not is plain TCP");
    // At 0 the stack refuses MPTCP even to a connection that asks.
    let conns = two_uploads_on(&[("mptcp.enabled", "0")], &[("mptcp.enabled", "1")]);
    assert!(!conns[0].mptcp && !conns[1].mptcp);
    // At 1 every connection speaks it.
    let conns = two_uploads_on(&[], &[]);
    assert!(conns[0].mptcp && conns[1].mptcp);
}
