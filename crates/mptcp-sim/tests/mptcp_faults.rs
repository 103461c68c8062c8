//! The torture chamber for Multipath TCP: two paths between a client (two addresses) and a
//! server, many seeds, and every fault the simulator has — loss, reordering, duplication,
//! corruption, an outage, middleboxes that strip the MPTCP option (from the SYN or in the
//! middle of a connection) or rewrite payload. The rule everywhere: the transfer arrives
//! byte for byte, or the connection ends cleanly (a reset, a fallback to TCP that still
//! delivers every byte), and never does a wrong byte reach an application. Each sweep runs
//! its own number of seeds, or `MPTCP_SWEEP_SEEDS` (see `common::sweep`).

mod common;

use common::{assert_all_intact, sweep};
use mptcp_sim::ScenarioReport;
use mptcp_sim::scenario::{
    ActionSpec, AppSpec, DirectionSpec, EventSpec, LossSpec, MiddleboxSpec, ReorderSpec, Scenario,
};

const BYTES: u64 = 256 * 1024;

/// Client 10.0.1.1 (path "a") and 10.0.2.1 (path "b"), a router, server 10.0.3.1: path a
/// 20 Mbit/s 10 ms, path b 10 Mbit/s 20 ms, the server behind a fast link. The client
/// uploads `BYTES` and the MPTCP connection starts on path a; the client's path manager
/// joins from path b.
const TWO_PATHS: &str = r#"
seed = 1
duration = "120s"
hosts = [
    { name = "client", addresses = ["10.0.1.1/24", "10.0.2.1/24"] },
    { name = "server", addresses = ["10.0.3.1/24"] },
]
[[routers]]
name = "r"
routes = [
    { prefix = "10.0.1.0/24", iface = 0 },
    { prefix = "10.0.2.0/24", iface = 1 },
    { prefix = "10.0.3.0/24", iface = 2 },
]
[[links]]
name = "a"
a = "client:0"
b = "r:0"
rate = "20Mbit"
delay = "10ms"
queue = { packets = 50 }
[[links]]
name = "b"
a = "client:1"
b = "r:1"
rate = "10Mbit"
delay = "20ms"
queue = { packets = 50 }
[[links]]
a = "r:2"
b = "server:0"
rate = "1000Mbit"
delay = "1ms"
[[apps]]
kind = "server"
host = "server"
port = 80
[[apps]]
kind = "bulk"
host = "client"
connect = "10.0.3.1:80"
bytes = 262_144
"#;

fn two_paths() -> Scenario {
    Scenario::from_toml_str(TWO_PATHS).unwrap()
}

/// Loss, reordering, duplication and corruption on both access links, both directions.
fn impaired() -> Scenario {
    let mut scenario = two_paths();
    for link in &mut scenario.links[..2] {
        link.loss = Some(LossSpec::Random { probability: 0.02 });
        link.reorder = Some(ReorderSpec {
            probability: 0.03,
            delay: "3ms".parse().unwrap(),
        });
        link.duplicate = 0.02;
        link.corrupt = 0.005;
    }
    scenario
}

/// The client downloads instead of uploading.
fn download(scenario: &mut Scenario) {
    scenario.apps[1] = AppSpec::Download {
        host: "client".to_owned(),
        start: Default::default(),
        connect: "10.0.3.1:80".parse().unwrap(),
        bytes: BYTES,
        settings: Default::default(),
    };
}

/// No application read a wrong byte and no server saw a damaged stream; a connection that
/// did not complete ended (it is not left hanging without a reason).
fn assert_never_wrong(report: &ScenarioReport) {
    assert_eq!(report.stray_sessions, 0, "seed {}", report.seed);
    for conn in &report.connections {
        assert!(
            !conn.wrong_bytes,
            "seed {}: wrong bytes: {:?}",
            report.seed, conn.problem
        );
        assert!(
            conn.bytes_received <= BYTES,
            "seed {}: {} bytes",
            report.seed,
            conn.bytes_received
        );
        if !conn.ok() {
            assert!(conn.problem.is_some(), "seed {}: {conn:?}", report.seed);
        }
    }
}

#[test]
fn both_paths_impaired_every_seed_delivers_intact() {
    let scenario = impaired();
    sweep(
        100,
        |_| scenario.clone(),
        |report| {
            assert_all_intact(report, BYTES);
            assert!(report.connections[0].mptcp, "seed {}", report.seed);
        },
    );
}

#[test]
fn both_paths_impaired_downloads_arrive_intact() {
    let mut scenario = impaired();
    download(&mut scenario);
    sweep(
        50,
        |_| scenario.clone(),
        |report| assert_all_intact(report, BYTES),
    );
}

#[test]
fn an_outage_of_the_first_path_moves_the_transfer_to_the_second() {
    let mut scenario = two_paths();
    scenario.apps[1] = AppSpec::Bulk {
        host: "client".to_owned(),
        start: Default::default(),
        connect: "10.0.3.1:80".parse().unwrap(),
        bytes: 4 << 20,
        settings: Default::default(),
    };
    let event = |at: &str, action| EventSpec {
        at: at.parse().unwrap(),
        link: "a".to_owned(),
        direction: None,
        action,
    };
    scenario.events = vec![
        event("400ms", ActionSpec::Down),
        event("2400ms", ActionSpec::Up),
    ];
    sweep(
        10,
        |_| scenario.clone(),
        |report| {
            let seed = report.seed;
            assert_all_intact(report, 4 << 20);
            let conn = &report.connections[0];
            assert!(conn.mptcp && conn.client_subflows.len() == 2, "seed {seed}");
            // Path b alone would need 3.4 s; both together about 1.2 s. The outage costs
            // little more than its share: path b carries on within about one RTO.
            assert!(
                conn.duration().as_secs_f64() < 4.0,
                "seed {seed}: {:?}",
                conn.duration()
            );
        },
    );
}

#[test]
fn options_stripped_from_the_syn_fall_back_to_tcp_intact() {
    let mut scenario = impaired();
    scenario.links[0].middleboxes = vec![MiddleboxSpec::StripOption {
        option: 30,
        after: 0,
    }];
    sweep(
        200,
        |_| scenario.clone(),
        |report| {
            assert_all_intact(report, BYTES);
            assert!(
                !report.connections[0].mptcp,
                "seed {}: MPTCP survived stripping",
                report.seed
            );
        },
    );
}

#[test]
fn options_stripped_mid_connection_still_deliver_everything() {
    let mut scenario = two_paths();
    scenario.duration = "10s".parse().unwrap();
    let mut fell_back = 0;
    let stripping = |seed| {
        // From the handshake's last packets to well into the transfer.
        scenario.links[0].middleboxes = vec![MiddleboxSpec::StripOption {
            option: 30,
            after: 2 + seed % 60,
        }];
        scenario.clone()
    };
    let seeds = sweep(200, stripping, |report| {
        assert_never_wrong(report);
        // The receiver resets the subflow whose data comes without mappings (RFC 8684
        // §3.7) and the sender sends its data again on path b; if path a is the only
        // subflow left, both ends fall back to TCP on it instead.
        assert_all_intact(report, BYTES);
        fell_back += u32::from(!report.connections[0].mptcp);
    });
    eprintln!("options stripped mid-connection: {seeds} seeds, {fell_back} fell back to TCP");
}

/// A payload rewriter on path a (client to server): every "ab" becomes "AB" (a pair the
/// pattern holds a few times in the transfer), in every segment.
fn rewriting(checksum: bool) -> Scenario {
    rewriting_some("ab", checksum, 0, None)
}

/// A payload rewriter on path a (client to server): every `find` becomes upper case, in
/// every segment (`segments: None`) or in `segments` segments after the first `after`.
fn rewriting_some(find: &str, checksum: bool, after: u64, segments: Option<u64>) -> Scenario {
    let mut scenario = two_paths();
    scenario.links[0].middleboxes = vec![MiddleboxSpec::PayloadRewrite {
        find: find.to_owned(),
        replace: find.to_uppercase(),
        direction: Some(DirectionSpec::AToB),
        after,
        segments,
    }];
    for host in &mut scenario.hosts {
        host.settings
            .push("mptcp.checksum", if checksum { "1" } else { "0" });
    }
    scenario
}

/// Path b is down for the whole run: the client's join never completes, and the
/// connection lives on path a alone.
fn path_b_dead(scenario: &mut Scenario) {
    scenario.events = vec![EventSpec {
        at: "0ms".parse().unwrap(),
        link: "b".to_owned(),
        direction: None,
        action: ActionSpec::Down,
    }];
}

#[test]
fn with_checksums_a_rewritten_payload_never_reaches_the_application() {
    let (mut intact, mut reset) = (0, 0);
    let scenario = rewriting(true);
    sweep(
        200,
        |_| scenario.clone(),
        |report| {
            assert_never_wrong(report);
            // A bad DSS checksum resets the subflow on path a when path b can take its data
            // (the transfer then completes there). When path a is still the only subflow,
            // MP_FAIL starts the fall back; the sender waits for its DATA_ACKs, then sends
            // the dropped data again, checked — damaged again, it would leave a hole and a
            // clean reset; but the join on path b usually completes meanwhile, and the
            // receiver resets the subflow on path a instead.
            if report.connections[0].ok() {
                intact += 1;
            } else {
                reset += 1;
            }
        },
    );
    eprintln!("rewritten payload with checksums: {intact} intact, {reset} reset");
}

#[test]
fn one_rewritten_segment_on_the_only_subflow_ends_in_mp_fail_and_tcp_with_every_byte() {
    // RFC 8684 §3.7: the receiver drops the damaged mapping and sends MP_FAIL; the sender
    // sends the data again (intact: the rewriter edited one segment) and, once that is
    // acknowledged, falls back to TCP with the infinite mapping — unless the transfer
    // ended first (the edited segment was among the last).
    let mut fell_back = 0;
    let rewriting_one = |seed| {
        // "a": in about every segment, so the one edited is the first after `after`.
        let mut scenario = rewriting_some("a", true, seed % 100, Some(1));
        path_b_dead(&mut scenario);
        scenario
    };
    let seeds = sweep(200, rewriting_one, |report| {
        assert_never_wrong(report);
        assert_all_intact(report, BYTES);
        fell_back += u32::from(!report.connections[0].mptcp);
    });
    eprintln!("one segment rewritten on the only subflow: {seeds} seeds, {fell_back} fell back");
    assert!(
        u64::from(fell_back) * 2 >= seeds,
        "{fell_back} of {seeds} fell back to TCP"
    );
}

#[test]
fn a_rewrite_on_the_only_subflow_that_never_stops_resets_the_connection() {
    // The data sent again after MP_FAIL is damaged again: it can never arrive whole.
    let mut scenario = rewriting(true);
    path_b_dead(&mut scenario);
    sweep(
        50,
        |_| scenario.clone(),
        |report| {
            assert_never_wrong(report);
            assert!(!report.connections[0].ok(), "seed {}", report.seed);
        },
    );
}

#[test]
fn one_rewritten_segment_with_two_subflows_resets_that_subflow_and_resends_elsewhere() {
    // Well after both subflows are up: the server resets the subflow on path a with
    // MP_TCPRST "middlebox interference" (and MP_FAIL), the client sends its data again
    // on path b, and the connection stays MPTCP.
    let rewriting_late = |seed| rewriting_some("a", true, 60 + seed % 40, Some(1));
    sweep(100, rewriting_late, |report| {
        let seed = report.seed;
        assert_never_wrong(report);
        assert_all_intact(report, BYTES);
        let conn = &report.connections[0];
        assert!(conn.mptcp, "seed {seed}");
        let closed = conn
            .client_subflows
            .iter()
            .filter(|s| s.tcp.state == mptcp_proto::tcp::TcpState::Closed)
            .count();
        assert!(closed >= 1, "seed {seed}: {:?}", conn.client_subflows);
    });
}

#[test]
fn without_checksums_the_rewrite_does_damage_data() {
    // The check above means something: without DSS checksums the same rewrite goes
    // through to the application.
    let mut damaged = 0;
    let scenario = rewriting(false);
    sweep(
        10,
        |_| scenario.clone(),
        |report| {
            damaged += u32::from(report.connections[0].wrong_bytes);
        },
    );
    assert!(damaged > 0);
}

#[test]
fn options_stripped_on_both_paths_mid_connection_deliver_everything_or_reset() {
    // Both paths start stripping, each at its own moment. Once the connection has had a
    // second subflow, the last one cannot fall back to TCP (RFC 8684 §3.7: bytes a reset
    // subflow carried may still be missing, and one to one would put later bytes in their
    // place; Linux also refuses after a join): the connection is reset and both
    // applications hear it. It used to fall back on the second subflow while sending on the
    // first, and hang until the scenario's end.
    let mut scenario = two_paths();
    scenario.duration = "30s".parse().unwrap();
    let (mut intact, mut fell_back, mut reset) = (0, 0, 0);
    let stripping = |seed| {
        scenario.links[0].middleboxes = vec![MiddleboxSpec::StripOption {
            option: 30,
            after: 2 + seed % 60,
        }];
        scenario.links[1].middleboxes = vec![MiddleboxSpec::StripOption {
            option: 30,
            after: 2 + (seed / 7) % 40,
        }];
        scenario.clone()
    };
    let seeds = sweep(200, stripping, |report| {
        assert_never_wrong(report);
        let conn = &report.connections[0];
        if conn.ok() {
            intact += 1;
            fell_back += u32::from(!conn.mptcp);
        } else {
            let problem = conn.problem.as_deref().unwrap_or_default();
            // The end that found the stripping aborts; its peer hears the reset.
            assert!(
                ["closed: Aborted", "closed: Reset"]
                    .iter()
                    .any(|reset| problem.contains(reset)),
                "seed {}: neither intact nor reset: {problem}",
                report.seed
            );
            reset += 1;
        }
    });
    eprintln!(
        "options stripped on both paths: {seeds} seeds, {intact} intact ({fell_back} fell back to TCP), {reset} reset"
    );
}

/// The upload of [`two_paths`] through a middlebox on path a that drops every SYN carrying
/// MP_CAPABLE, with the client's `mptcp.syn_retries` at `retries` (the default if `None`).
fn through_a_syn_dropper(retries: Option<&str>) -> ScenarioReport {
    let mut scenario = two_paths();
    scenario.links[0].middleboxes = vec![MiddleboxSpec::DropSyn { option: 30 }];
    if let Some(retries) = retries {
        scenario.hosts[0]
            .settings
            .push("mptcp.syn_retries", retries);
    }
    common::run(&scenario)
}

#[test]
fn syns_dropped_for_mp_capable_connect_as_tcp_after_the_configured_retries() {
    // The first SYN and `syn_retries` retransmissions carry MP_CAPABLE and are dropped; the
    // next goes without and gets through. With an initial RTO of 1 s doubling each time,
    // the retransmissions leave at 1, 3, 7, 15 s: the connection comes up just after the
    // (retries + 1)th one, and the upload of 256 KiB then takes a few hundred ms.
    for (retries, first_plain_syn) in [(Some("0"), 1.0), (Some("1"), 3.0), (None, 15.0)] {
        let report = through_a_syn_dropper(retries);
        assert_all_intact(&report, BYTES);
        let conn = &report.connections[0];
        assert!(!conn.mptcp, "{retries:?}: the connection is plain TCP");
        let took = conn.duration().as_secs_f64();
        println!("mptcp.syn_retries {retries:?}: intact as TCP in {took:.2} s");
        assert!(
            (first_plain_syn..first_plain_syn + 1.0).contains(&took),
            "{retries:?}: {took} s"
        );
    }
    // More MP_CAPABLE retransmissions than TCP makes (tcp.syn_retries, 6): never connects.
    let report = through_a_syn_dropper(Some("6"));
    let conn = &report.connections[0];
    assert!(
        !conn.ok(),
        "connected through a dropper of every MP_CAPABLE SYN"
    );
    let problem = conn.problem.as_deref().unwrap_or_default();
    assert!(problem.contains("no server accepted"), "{problem}");
}
