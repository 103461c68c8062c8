//! Each path manager's subflows on multi-homed hosts (issue 12): which subflows open, that
//! each carries data, and what happens when an address goes away and comes back, when a
//! path is dead at first (`fullmesh.create_on_err`), and with IPv4 and IPv6 together.
//!
//! The topology: a client with two addresses and a server with two, each address on its
//! own 20 Mbit/s link to one router.

mod common;

use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use std::collections::BTreeSet;

use common::assert_all_intact;
use mptcp_proto::stack::SubflowId;
use mptcp_proto::time::Instant;
use mptcp_sim::scenario::Scenario;
use mptcp_sim::{ConnectionReport, RunOptions, SubflowSample};

const BYTES: u64 = 4 << 20;

/// Our address, the peer's, and how many subflows between them.
type Pair = (IpAddr, SocketAddr, usize);

/// The scenario with `client` and `server` lines added to the hosts (settings, address
/// changes), `events` to the links' schedule, a download of `bytes`.
fn scenario(client: &str, server: &str, events: &str, bytes: u64, v6: bool) -> Scenario {
    let text = text(client, server, events, bytes, v6);
    Scenario::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The text of [`scenario`].
fn text(client: &str, server: &str, events: &str, bytes: u64, v6: bool) -> String {
    let (c1, s1, c1_net, s1_net) = if v6 {
        ("fd00:2::1/64", "fd00:4::1/64", "fd00:2::/64", "fd00:4::/64")
    } else {
        ("10.0.2.1/24", "10.0.4.1/24", "10.0.2.0/24", "10.0.4.0/24")
    };
    format!(
        r#"
seed = 1
duration = "60s"
events = [{events}]
[[hosts]]
name = "client"
addresses = ["10.0.1.1/24", "{c1}"]
{client}
[[hosts]]
name = "server"
addresses = ["10.0.3.1/24", "{s1}"]
{server}
[[routers]]
name = "r"
routes = [
    {{ prefix = "10.0.1.0/24", iface = 0 }},
    {{ prefix = "{c1_net}", iface = 1 }},
    {{ prefix = "10.0.3.0/24", iface = 2 }},
    {{ prefix = "{s1_net}", iface = 3 }},
]
[[links]]
name = "a"
a = "client:0"
b = "r:0"
rate = "20Mbit"
delay = "5ms"
[[links]]
name = "b"
a = "client:1"
b = "r:1"
rate = "20Mbit"
delay = "10ms"
[[links]]
a = "r:2"
b = "server:0"
rate = "20Mbit"
delay = "1ms"
[[links]]
a = "r:3"
b = "server:1"
rate = "20Mbit"
delay = "1ms"
[[apps]]
kind = "server"
host = "server"
port = 80
[[apps]]
kind = "download"
host = "client"
connect = "10.0.3.1:80"
bytes = {bytes}
"#
    )
}

/// Runs it, sampling every 100 ms, and checks the download arrived whole over MPTCP.
fn run(scenario: &Scenario, bytes: u64) -> ConnectionReport {
    let options = RunOptions {
        sample_every: Some(Duration::from_millis(100)),
        ..RunOptions::default()
    };
    let report = common::run_with(scenario, &options);
    assert_all_intact(&report, bytes);
    let conn = report.connections[0].clone();
    assert!(conn.mptcp, "{conn:?}");
    conn
}

/// Every subflow the client had, by id, as last sampled.
fn all_subflows(conn: &ConnectionReport) -> Vec<SubflowSample> {
    let mut last = std::collections::BTreeMap::new();
    for sample in &conn.samples {
        for sf in &sample.subflows {
            last.insert(sf.id, *sf);
        }
    }
    last.into_values().collect()
}

/// The (local address, remote) pairs of the client's subflows, each with how many
/// subflows it had and the bytes they received.
fn pairs(conn: &ConnectionReport) -> Vec<(IpAddr, SocketAddr, usize, u64)> {
    let mut out: Vec<(IpAddr, SocketAddr, usize, u64)> = Vec::new();
    for sf in all_subflows(conn) {
        let key = (sf.local.ip(), sf.remote);
        match out.iter_mut().find(|p| (p.0, p.1) == key) {
            Some(p) => {
                p.2 += 1;
                p.3 += sf.bytes_received;
            }
            None => out.push((key.0, key.1, 1, sf.bytes_received)),
        }
    }
    out.sort();
    out
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Both sides run `manager` (with `extra` settings on the client).
fn both(manager: &str, extra: &str) -> (String, String) {
    (
        format!("settings = {{ mptcp.path_manager = \"{manager}\", limits.subflows = 8{extra} }}"),
        format!("settings = {{ mptcp.path_manager = \"{manager}\", limits.subflows = 8 }}"),
    )
}

#[test]
fn each_manager_opens_its_own_subflow_set_and_every_subflow_carries_data() {
    let (a, b) = (ip("10.0.1.1"), ip("10.0.2.1"));
    let (s0, s1) = (addr("10.0.3.1:80"), addr("10.0.4.1:80"));
    let cases: [(&str, &str, Vec<Pair>); 6] = [
        ("default", "", vec![(a, s0, 1)]),
        ("userspace", "", vec![(a, s0, 1)]),
        ("simple", "", vec![(a, s0, 1), (a, s1, 1), (b, s0, 1)]),
        (
            "fullmesh",
            "",
            vec![(a, s0, 1), (a, s1, 1), (b, s0, 1), (b, s1, 1)],
        ),
        (
            "fullmesh",
            ", fullmesh.num_subflows = 2",
            vec![(a, s0, 2), (a, s1, 2), (b, s0, 2), (b, s1, 2)],
        ),
        (
            "ndiffports",
            ", ndiffports.num_subflows = 4",
            vec![(a, s0, 4)],
        ),
    ];
    for (manager, extra, expected) in cases {
        let (client, server) = both(manager, extra);
        let conn = run(&scenario(&client, &server, "", BYTES, false), BYTES);
        let got = pairs(&conn);
        println!("{manager}{extra}: {got:?}");
        let shape: Vec<_> = got.iter().map(|p| (p.0, p.1, p.2)).collect();
        assert_eq!(shape, expected, "{manager}{extra}");
        for sf in all_subflows(&conn) {
            assert!(
                sf.bytes_received > 16 << 10,
                "{manager}{extra}: subflow {sf:?} carried almost nothing"
            );
        }
        let ports: BTreeSet<_> = all_subflows(&conn).iter().map(|s| s.local).collect();
        assert_eq!(ports.len(), all_subflows(&conn).len(), "distinct 4-tuples");
    }
}

/// The client's address 10.0.2.1 goes away 1 s into a long download and comes back at
/// 2 s: with `fullmesh` its subflows close at once (the download goes on over the other
/// address without a pause longer than a second) and open again when it returns, and carry
/// data again.
#[test]
fn fullmesh_follows_an_address_that_goes_away_and_comes_back() {
    let bytes = 16 << 20;
    let (client, server) = both("fullmesh", "");
    let client = format!(
        "{client}\naddress_changes = [{{ at = \"1s\", iface = 1, action = \"remove\" }}, \
         {{ at = \"2s\", iface = 1, action = \"add\" }}]"
    );
    let conn = run(&scenario(&client, &server, "", bytes, false), bytes);
    let b = ip("10.0.2.1");
    let from_b = |sample: &mptcp_sim::Sample| -> Vec<SubflowSample> {
        sample
            .subflows
            .iter()
            .filter(|s| s.local.ip() == b)
            .copied()
            .collect()
    };
    let at = |t: f64| {
        conn.samples
            .iter()
            .find(|s| s.at >= Instant::ZERO + Duration::from_secs_f64(t))
            .unwrap()
    };
    let before: BTreeSet<_> = from_b(at(0.9)).iter().map(|s| s.id).collect();
    let received = |sample: &mptcp_sim::Sample| -> u64 {
        from_b(sample).iter().map(|s| s.bytes_received).sum()
    };
    let (gone_from, gone_to) = (received(at(1.1)), received(at(1.9)));
    let after_return = from_b(at(3.0));
    println!(
        "from 10.0.2.1: before {before:?}; {gone_from} then {gone_to} bytes while it is \
         gone; after {:?}",
        after_return
            .iter()
            .map(|s| (s.id, s.bytes_received))
            .collect::<Vec<_>>()
    );
    assert_eq!(before.len(), 2, "two subflows from 10.0.2.1 before it goes");
    assert_eq!(
        gone_from, gone_to,
        "nothing arrives from it while it is gone"
    );
    let reopened: Vec<_> = after_return
        .iter()
        .filter(|s| !before.contains(&s.id))
        .collect();
    assert_eq!(reopened.len(), 2, "both pairs reopened: {after_return:?}");
    let later = from_b(at(4.0));
    for sf in &reopened {
        let grown = later
            .iter()
            .find(|s| s.id == sf.id)
            .is_some_and(|s| s.bytes_received > sf.bytes_received + (256 << 10));
        assert!(grown, "subflow {:?} carries data after the return", sf.id);
    }
    let stall = conn.stall_down.map_or(Duration::ZERO, |s| s.length());
    assert!(stall < Duration::from_secs(1), "stall {stall:?}");
}

/// Path b is down for the first 8 s: the client's joins from 10.0.2.1 time out (after
/// one SYN retransmission, `tcp.syn_retries = 1`). Without `create_on_err` they are not
/// tried again, and b never carries data; with it they are re-created a second after each
/// time-out, and once b is up the download uses it.
#[test]
fn create_on_err_reopens_subflows_that_timed_out() {
    let bytes = 48 << 20;
    let events =
        r#"{ at = "0s", link = "b", action = "down" }, { at = "8s", link = "b", action = "up" }"#;
    let mut carried = Vec::new();
    for create_on_err in [0, 1] {
        let extra = format!(", fullmesh.create_on_err = {create_on_err}, tcp.syn_retries = 1");
        let (client, server) = both("fullmesh", &extra);
        let conn = run(&scenario(&client, &server, events, bytes, false), bytes);
        let from_b: u64 = all_subflows(&conn)
            .iter()
            .filter(|s| s.local.ip() == ip("10.0.2.1"))
            .map(|s| s.bytes_received)
            .sum();
        println!(
            "create_on_err {create_on_err}: {from_b} bytes over 10.0.2.1, {:.1} s",
            conn.duration().as_secs_f64()
        );
        carried.push(from_b);
    }
    assert_eq!(carried[0], 0, "without create_on_err, b is never used");
    assert!(
        carried[1] > 4 << 20,
        "with it, b carries data: {}",
        carried[1]
    );
}

/// A client with an IPv4 and an IPv6 address and a server with one of each: `fullmesh`
/// opens the IPv4 pair and the IPv6 pair (never across families), in one connection, and
/// both carry data.
#[test]
fn ipv4_and_ipv6_subflows_in_one_connection() {
    let (client, server) = both("fullmesh", "");
    let conn = run(&scenario(&client, &server, "", BYTES, true), BYTES);
    let got = pairs(&conn);
    println!("{got:?}");
    let shape: Vec<_> = got.iter().map(|p| (p.0, p.1, p.2)).collect();
    assert_eq!(
        shape,
        [
            (ip("10.0.1.1"), addr("10.0.3.1:80"), 1),
            (ip("fd00:2::1"), addr("[fd00:4::1]:80"), 1),
        ]
    );
    assert!(got.iter().all(|p| p.3 > 256 << 10), "{got:?}");
}

/// `endpoints` configured as a Linux user would with `ip mptcp endpoint` and
/// `ip mptcp limits`: the server signals its second address, the client has a `subflow`
/// endpoint (plain, or `fullmesh`), and the subflow set is the one Linux gives on the same
/// topology (the interop test `mptcp_path_managers` checks it against the kernel).
#[test]
fn endpoints_give_the_subflows_linux_gives() {
    let (a, b) = (ip("10.0.1.1"), ip("10.0.2.1"));
    let (s0, s1) = (addr("10.0.3.1:80"), addr("10.0.4.1:80"));
    let cases: [(&str, &str, Vec<Pair>); 3] = [
        (
            r#""10.0.2.1 subflow""#,
            "limits.subflows = 2, limits.add_addr_accepted = 1",
            vec![(a, s0, 1), (a, s1, 1), (b, s0, 1)],
        ),
        (
            r#""10.0.2.1 subflow fullmesh""#,
            "limits.subflows = 2, limits.add_addr_accepted = 1",
            vec![(a, s0, 1), (b, s0, 1), (b, s1, 1)],
        ),
        (
            r#""10.0.1.1 subflow fullmesh", "10.0.2.1 subflow fullmesh""#,
            "limits.subflows = 8, limits.add_addr_accepted = 8",
            vec![(a, s0, 1), (a, s1, 1), (b, s0, 1), (b, s1, 1)],
        ),
    ];
    for (endpoints, limits, expected) in cases {
        // Both ends have the same limits, as two Linux hosts set up alike would.
        let client = format!("endpoints = [{endpoints}]\nsettings = {{ {limits} }}");
        let server = format!("endpoints = [\"10.0.4.1 signal\"]\nsettings = {{ {limits} }}");
        let conn = run(&scenario(&client, &server, "", BYTES, false), BYTES);
        let got = pairs(&conn);
        println!("{endpoints} ({limits}): {got:?}");
        let shape: Vec<_> = got.iter().map(|p| (p.0, p.1, p.2)).collect();
        assert_eq!(shape, expected, "{endpoints}");
        assert!(got.iter().all(|p| p.3 > 16 << 10), "{got:?}");
    }
    // A bad endpoint is an error naming what is valid.
    let bad = text(r#"endpoints = ["10.0.2.1 laminar"]"#, "", "", BYTES, false);
    let error = Scenario::from_toml_str(&bad).unwrap_err().to_string();
    assert!(error.contains("valid: port, signal, subflow"), "{error}");
}

/// The client's second interface is a backup one (cellular, say): `fullmesh` opens its
/// subflows as backups, which carry nothing while the first interface works, and the
/// download over the regular subflows is whole.
#[test]
fn fullmesh_opens_backup_subflows_from_a_backup_interface() {
    let (client, server) = both("fullmesh", "");
    let client = format!("{client}\nbackup = [1]");
    let conn = run(&scenario(&client, &server, "", BYTES, false), BYTES);
    let b = ip("10.0.2.1");
    let from_b: Vec<_> = conn
        .client_subflows
        .iter()
        .filter(|s| s.local.ip() == b)
        .collect();
    println!(
        "{:?}",
        conn.client_subflows
            .iter()
            .map(|s| (s.local, s.remote, s.backup, s.tcp.bytes_received))
            .collect::<Vec<_>>()
    );
    assert_eq!(from_b.len(), 2, "both pairs from the backup interface");
    assert!(from_b.iter().all(|s| s.backup), "opened as backups");
    let on_backups: u64 = from_b.iter().map(|s| s.tcp.bytes_received).sum();
    assert_eq!(on_backups, 0, "backups carry nothing while the rest works");
}

/// The client's *initial* address goes away 1 s into a download and comes back at 2 s
/// (`fullmesh` on both sides): the download goes on over the other address, the server
/// closes its side of the initial subflow when our REMOVE_ADDR 0 arrives, and the address,
/// back with an id of its own, carries data again.
#[test]
fn fullmesh_survives_losing_the_initial_address_and_uses_it_again() {
    let bytes = 16 << 20;
    let (client, server) = both("fullmesh", "");
    let client = format!(
        "{client}\naddress_changes = [{{ at = \"1s\", iface = 0, action = \"remove\" }}, \
         {{ at = \"2s\", iface = 0, action = \"add\" }}]"
    );
    let conn = run(&scenario(&client, &server, "", bytes, false), bytes);
    let a = ip("10.0.1.1");
    let at = |t: f64| {
        conn.samples
            .iter()
            .find(|s| s.at >= Instant::ZERO + Duration::from_secs_f64(t))
            .unwrap()
    };
    let from_a = |t: f64| -> Vec<SubflowSample> {
        at(t)
            .subflows
            .iter()
            .filter(|s| s.local.ip() == a)
            .copied()
            .collect()
    };
    let before: BTreeSet<_> = from_a(0.9).iter().map(|s| s.id).collect();
    let later: Vec<_> = from_a(4.0)
        .into_iter()
        .filter(|s| !before.contains(&s.id))
        .collect();
    println!(
        "from 10.0.1.1: before {before:?}, after its return {:?}; stall {:?}",
        later
            .iter()
            .map(|s| (s.id, s.bytes_received))
            .collect::<Vec<_>>(),
        conn.stall_down.map(|s| s.length())
    );
    assert!(
        before.contains(&SubflowId(0)),
        "the initial subflow was from it"
    );
    assert_eq!(later.len(), 2, "both of its pairs reopened");
    assert!(
        later.iter().all(|s| s.bytes_received > 256 << 10),
        "and carry data: {later:?}"
    );
    let stall = conn.stall_down.map_or(Duration::ZERO, |s| s.length());
    assert!(stall < Duration::from_secs(1), "stall {stall:?}");
}

/// The server's second address goes away and comes back at the same instant, mid-transfer:
/// its REMOVE_ADDR goes before its new ADD_ADDR, so the client drops its subflows to it and
/// joins it again, and the new subflows carry data.
#[test]
fn an_address_lost_and_back_at_once_is_withdrawn_then_announced() {
    let bytes = 16 << 20;
    let (client, server) = both("fullmesh", "");
    let server = format!(
        "{server}\naddress_changes = [{{ at = \"1s\", iface = 1, action = \"remove\" }}, \
         {{ at = \"1s\", iface = 1, action = \"add\" }}]"
    );
    let conn = run(&scenario(&client, &server, "", bytes, false), bytes);
    let to_s1: Vec<_> = all_subflows(&conn)
        .into_iter()
        .filter(|s| s.remote == addr("10.0.4.1:80"))
        .collect();
    println!(
        "to 10.0.4.1: {:?}",
        to_s1
            .iter()
            .map(|s| (s.id, s.local, s.bytes_received))
            .collect::<Vec<_>>()
    );
    assert_eq!(to_s1.len(), 4, "two pairs, each joined twice: {to_s1:?}");
    let newest: Vec<_> = to_s1.iter().rev().take(2).collect();
    assert!(
        newest.iter().all(|s| s.bytes_received > 256 << 10),
        "the new joins carry data: {newest:?}"
    );
}
