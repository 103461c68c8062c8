//! The `mptcp connect` and `mptcp listen` commands against the Linux kernel's MPTCP and TCP:
//! the real `mptcp` binary runs in namespace "ours" and creates TUN device `tun1` itself
//! (with the stack's addresses of path 1, or of paths 1 and 2: both routed into `tun1`, and
//! the policy routing of "ours" sends what comes from path `i`'s address out on path `i`),
//! `kernel-peer` runs in "kernel". Each test checks the exit status, the `--json` report
//! (protocol, subflows) or the message, and what the kernel saw and verified. Needs root.
//!
//! The binary comes from the same target directory as `kernel-peer`; `cargo test --workspace`
//! builds it, `cargo test -p mptcp-interop` alone does not (run `cargo build -p mptcp-cli`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use mptcp_interop::{Finished, KernelPeer, Namespace, Spawned, Topology, TopologyBuilder};
use serde_json::Value as Json;

const PEER: &str = env!("CARGO_BIN_EXE_kernel-peer");
const SIZE: u64 = 8 * 1024 * 1024;
/// How long one run of `mptcp` may take before the test kills it.
const LIMIT: Duration = Duration::from_secs(60);
/// Options that put the stack on `tun1` with path 1's addresses.
const NET: [&str; 6] = [
    "--tun",
    "tun1",
    "--addr",
    "10.1.1.2/24",
    "--addr",
    "fd00:1:1::2/64",
];

/// The `mptcp` binary next to `kernel-peer`.
fn mptcp_binary() -> String {
    let path: PathBuf = PathBuf::from(PEER)
        .parent()
        .expect("kernel-peer has a directory")
        .join("mptcp");
    assert!(
        path.is_file(),
        "the `mptcp` binary is missing at {} (it is built by `cargo test --workspace`, or by \
         `cargo build -p mptcp-cli` in the same profile)",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

fn topology(tag: &str) -> Topology {
    mptcp_interop::require_root();
    TopologyBuilder::new(tag).build().unwrap()
}

/// `mptcp SUBCOMMAND --tun tun1 --addr ... ARGS` inside "ours".
fn mptcp(topo: &Topology, subcommand: &str, args: &[&str]) -> Command {
    let mut cmd = topo.ours().command(&mptcp_binary());
    cmd.arg(subcommand).args(NET).args(args);
    cmd
}

fn run(cmd: Command) -> Finished {
    Spawned::start(cmd).unwrap().wait(LIMIT).unwrap()
}

/// The `--json` report of a finished run.
fn report(out: &Finished) -> Json {
    serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}) from `{}`\n  stdout: {}\n  stderr: {}",
            out.command, out.stdout, out.stderr
        )
    })
}

fn exit_code(out: &Finished) -> Option<i32> {
    out.status.code()
}

/// A kernel peer speaking plain TCP.
fn kernel_peer() -> KernelPeer {
    kernel_mptcp().tcp()
}

/// A kernel peer speaking MPTCP (`IPPROTO_MPTCP`).
fn kernel_mptcp() -> KernelPeer {
    KernelPeer::new(PEER).deadline(Duration::from_secs(45))
}

/// The kernel's TCP sockets (MPTCP subflows included) caught mid-way through closing —
/// FIN-WAIT-1/2, CLOSING, CLOSE-WAIT, LAST-ACK — once packets in flight have landed, as
/// `ss` lines. A peer that exits before its closing handshake is over leaves the
/// kernel's there: waiting for a FIN, or retransmitting its own to nobody.
fn kernel_sockets_closing(topo: &Topology) -> Vec<String> {
    std::thread::sleep(Duration::from_millis(300));
    let states = [
        "fin-wait-1",
        "fin-wait-2",
        "closing",
        "close-wait",
        "last-ack",
    ];
    let mut args = vec!["-tanH"];
    for state in states {
        args.extend(["state", state]);
    }
    let out = topo.kernel().exec("ss", &args).unwrap();
    out.stdout.lines().map(str::to_owned).collect()
}

/// The subflows of a report that completed their handshake.
fn established(json: &Json) -> Vec<&Json> {
    json["subflows"]
        .as_array()
        .unwrap_or_else(|| panic!("no subflows array in {json}"))
        .iter()
        .filter(|s| s["established"] == true)
        .collect()
}

/// `mptcp connect` with `extra` options sends and receives 8 MiB of verified data with a
/// kernel server; returns our report and the kernel's line.
fn connect_to_kernel_server(
    tag: &str,
    port: u16,
    peer: KernelPeer,
    extra: &[&str],
) -> (Json, String) {
    let topo = topology(tag);
    let at = SocketAddr::new(topo.path(1).unwrap().kernel_v4.addr, port);
    let peer = peer.send(SIZE).expect(SIZE);
    let server = peer.server(topo.kernel(), at).unwrap();
    let at_text = at.to_string();
    let mut args = vec!["--send", "8M", "--verify", "--discard", "--json"];
    args.extend_from_slice(extra);
    args.push(&at_text);
    let out = run(mptcp(&topo, "connect", &args));
    let json = report(&out);
    assert_eq!(exit_code(&out), Some(0), "{json}\n{}", out.stderr);
    assert_eq!(json["outcome"], "ok");
    assert_eq!(json["bytes_sent"], SIZE);
    assert_eq!(json["bytes_received"], SIZE);
    assert_eq!(json["verified"], true);
    assert_eq!(json["peer"], at_text);
    assert_eq!(
        json["local"].as_str().unwrap().split(':').next(),
        Some("10.1.1.2")
    );
    assert!(json["goodput_bps"].as_f64().unwrap() > 0.0);
    let kernel = peer.finish(server).unwrap().stdout;
    assert!(kernel.contains("verify=ok"), "{kernel}");
    eprintln!("{json}\n{kernel}");
    (json, kernel)
}

#[test]
fn connect_speaks_mptcp_with_a_kernel_mptcp_server() {
    let (json, kernel) = connect_to_kernel_server("clicon", 5301, kernel_mptcp(), &[]);
    assert_eq!(json["protocol"], "mptcp", "{json}");
    assert!(kernel.contains("proto=mptcp "), "{kernel}");
    let subflows = established(&json);
    assert_eq!(subflows.len(), 1, "{json}");
    assert_eq!(subflows[0]["local"], json["local"]);
    // Payload bytes on the wire, retransmissions included. What the subflow received in
    // order may exceed what the application read (seen now and then: one byte more, in
    // FIN-WAIT-1, before the kernel's FIN): most likely the kernel's connection-level
    // retransmission re-sending data on the subflow under new subflow sequence numbers,
    // which our data level drops as a copy. Not confirmed with a capture yet (it did not
    // happen in 24 runs with one).
    assert!(subflows[0]["bytes_sent"].as_u64() >= Some(SIZE), "{json}");
    let received = subflows[0]["bytes_received"].as_u64().unwrap_or(0);
    assert!((SIZE..=SIZE + SIZE / 100).contains(&received), "{json}");
}

#[test]
fn connect_with_dss_checksums() {
    let (json, kernel) = connect_to_kernel_server("clicsum", 5308, kernel_mptcp(), &["--checksum"]);
    assert_eq!(json["protocol"], "mptcp", "{json}");
    assert!(
        kernel.contains("proto=mptcp ") && kernel.contains("csum=1"),
        "{kernel}"
    );
}

#[test]
fn connect_with_tcp_speaks_plain_tcp_even_to_an_mptcp_server() {
    let (json, kernel) = connect_to_kernel_server("clitcp", 5309, kernel_mptcp(), &["--tcp"]);
    assert_eq!(json["protocol"], "tcp", "{json}");
    // Our SYN offered no MP_CAPABLE: the kernel's MPTCP socket fell back to TCP.
    assert!(kernel.contains("proto=mptcp-fallback"), "{kernel}");
    assert_eq!(established(&json).len(), 1, "{json}");
}

#[test]
fn connect_falls_back_to_tcp_with_a_kernel_tcp_server() {
    let (json, kernel) = connect_to_kernel_server("clifb", 5310, kernel_peer(), &[]);
    assert_eq!(json["protocol"], "tcp-fallback", "{json}");
    assert!(kernel.contains("proto=tcp "), "{kernel}");
}

#[test]
fn connect_over_two_paths_opens_a_second_subflow() {
    mptcp_interop::require_root();
    let topo = TopologyBuilder::new("cli2p")
        .paths(2)
        .mptcp_limits(8, 8)
        .build()
        .unwrap();
    let at = SocketAddr::new(topo.path(1).unwrap().kernel_v4.addr, 5311);
    let peer = kernel_mptcp().send(SIZE).expect(SIZE);
    let server = peer.server(topo.kernel(), at).unwrap();
    let at_text = at.to_string();
    let mut cmd = topo.ours().command(&mptcp_binary());
    cmd.args([
        "connect",
        "--tun",
        "tun1",
        "--addr",
        "10.1.1.2/24",
        "--addr",
        "10.1.2.2/24",
        "--send",
        "8M",
        "--verify",
        "--discard",
        "--json",
        &at_text,
    ]);
    let out = match Spawned::start(cmd).unwrap().wait(LIMIT) {
        Ok(out) => out,
        // Say what the kernel saw before failing.
        Err(e) => panic!("{e}\nkernel: {:?}", peer.finish(server)),
    };
    let json = report(&out);
    assert_eq!(exit_code(&out), Some(0), "{json}\n{}", out.stderr);
    assert_eq!(json["protocol"], "mptcp", "{json}");
    assert_eq!(json["outcome"], "ok");
    assert_eq!(json["verified"], true);
    let subflows = established(&json);
    assert_eq!(subflows.len(), 2, "{json}");
    let from = |s: &Json| {
        s["local"]
            .as_str()
            .unwrap()
            .split(':')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(from(subflows[0]), "10.1.1.2", "{json}");
    assert_eq!(from(subflows[1]), "10.1.2.2", "{json}");
    assert!(subflows.iter().all(|s| s["remote"] == at_text), "{json}");
    let carried: u64 = subflows
        .iter()
        .map(|s| s["bytes_sent"].as_u64().unwrap())
        .sum();
    assert!(carried >= SIZE, "{json}");
    let kernel = peer.finish(server).unwrap().stdout;
    assert!(kernel.contains("verify=ok"), "{kernel}");
    assert!(kernel.contains("proto=mptcp "), "{kernel}");
    assert!(kernel.contains("extra_subflows=1 "), "{kernel}");
    eprintln!("{json}\n{kernel}");
    // Both subflows went through their closing handshake before we exited.
    let closing = kernel_sockets_closing(&topo);
    assert!(closing.is_empty(), "{closing:#?}");
}

/// A kernel client (`peer`) connects to `mptcp listen` on `listen_at`, reaching it at `to`;
/// the report says `protocol`.
fn kernel_client_to_our_listener(
    tag: &str,
    listen_at: &str,
    to: SocketAddr,
    peer: KernelPeer,
    protocol: &str,
) {
    let topo = topology(tag);
    let cmd = mptcp(
        &topo,
        "listen",
        &[
            "--send",
            "8M",
            "--verify",
            "--discard",
            "--json",
            "--timeout",
            "20",
            listen_at,
        ],
    );
    let mut ours = Spawned::start(cmd).unwrap();
    ours.wait_for_stderr("listening on", Duration::from_secs(10))
        .unwrap();
    let peer = peer.send(SIZE).expect(SIZE);
    let client = peer.client(topo.kernel(), to).unwrap();
    let out = ours.wait(LIMIT).unwrap();
    let json = report(&out);
    assert_eq!(exit_code(&out), Some(0), "{json}\n{}", out.stderr);
    assert_eq!(json["command"], "listen");
    assert_eq!(json["outcome"], "ok");
    assert_eq!(json["bytes_sent"], SIZE);
    assert_eq!(json["bytes_received"], SIZE);
    assert_eq!(json["verified"], true);
    assert_eq!(json["local"], to.to_string());
    assert_eq!(json["protocol"], protocol, "{json}");
    assert_eq!(established(&json).len(), 1, "{json}");
    let kernel = peer.finish(client).unwrap().stdout;
    assert!(kernel.contains("verify=ok"), "{kernel}");
    // Our listener waited for the closing handshake before exiting.
    let closing = kernel_sockets_closing(&topo);
    assert!(closing.is_empty(), "{protocol}: {closing:#?}");
}

#[test]
fn listen_accepts_a_kernel_tcp_client_over_ipv4() {
    kernel_client_to_our_listener(
        "clilis4",
        "10.1.1.2:5302",
        "10.1.1.2:5302".parse().unwrap(),
        kernel_peer(),
        "tcp-fallback",
    );
}

#[test]
fn listen_on_a_port_accepts_a_kernel_mptcp_client_over_ipv6() {
    kernel_client_to_our_listener(
        "clilis6",
        "5303",
        "[fd00:1:1::2]:5303".parse().unwrap(),
        kernel_mptcp(),
        "mptcp",
    );
}

#[test]
fn listen_with_tcp_accepts_a_kernel_mptcp_client_as_plain_tcp() {
    let topo = topology("clilistcp");
    let mut cmd = mptcp(
        &topo,
        "listen",
        &[
            "--tcp",
            "--send",
            "1M",
            "--discard",
            "--json",
            "--timeout",
            "20",
            "5312",
        ],
    );
    cmd.env("COLUMNS", "80");
    let mut ours = Spawned::start(cmd).unwrap();
    ours.wait_for_stderr("listening on", Duration::from_secs(10))
        .unwrap();
    let peer = kernel_mptcp().send(1 << 20).expect(1 << 20);
    let client = peer
        .client(topo.kernel(), "10.1.1.2:5312".parse().unwrap())
        .unwrap();
    let out = ours.wait(LIMIT).unwrap();
    let json = report(&out);
    assert_eq!(exit_code(&out), Some(0), "{json}\n{}", out.stderr);
    assert_eq!(json["protocol"], "tcp", "{json}");
    let kernel = peer.finish(client).unwrap().stdout;
    assert!(kernel.contains("proto=mptcp-fallback"), "{kernel}");
}

#[test]
fn the_summary_for_people_names_the_protocol_and_subflows() {
    let topo = topology("clitext");
    let at = SocketAddr::new(topo.path(1).unwrap().kernel_v4.addr, 5313);
    let peer = kernel_mptcp().send(1 << 20).expect(1 << 20);
    let server = peer.server(topo.kernel(), at).unwrap();
    let at_text = at.to_string();
    let out = run(mptcp(
        &topo,
        "connect",
        &["--send", "1M", "--discard", &at_text],
    ));
    assert_eq!(exit_code(&out), Some(0), "{}", out.stderr);
    // Not a terminal: no live display, just the summary.
    assert!(
        !out.stderr.contains('\r') && !out.stderr.contains('\x1b'),
        "{:?}",
        out.stderr
    );
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines[0].starts_with("mptcp connect: 10.1.1.2:")
            && lines[0].ends_with(&format!("<-> {at_text} over MPTCP (1 subflow)")),
        "{}",
        out.stderr
    );
    // Then the figures, and one line per subflow (its state is that of the end: closing).
    assert!(
        lines[1].starts_with("  sent 1048576 bytes"),
        "{}",
        out.stderr
    );
    assert_eq!(lines.len(), 3, "{}", out.stderr);
    let subflow = lines[2];
    assert!(
        subflow.starts_with("  10.1.1.2:")
            && subflow.contains(&format!("  {at_text}  "))
            && subflow.contains("  rtt ")
            && subflow.contains("  cwnd ")
            && subflow.contains("  sent 1.00M")
            && subflow.contains("  recv 1.00M"),
        "{}",
        out.stderr
    );
    let kernel = peer.finish(server).unwrap().stdout;
    assert!(kernel.contains("verify=ok"), "{kernel}");
    eprintln!("{}", out.stderr);
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    let topo = topology("cliref");
    let out = run(mptcp(
        &topo,
        "connect",
        &["--send", "1M", "--discard", "--json", "10.0.1.1:5999"],
    ));
    assert_eq!(exit_code(&out), Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("mptcp connect: connection to 10.0.1.1:5999 refused"),
        "{}",
        out.stderr
    );
    assert_eq!(report(&out)["outcome"], "refused");
}

#[test]
fn connect_reports_a_kernel_reset_in_the_middle_of_the_transfer() {
    let topo = topology("clirst");
    let at = SocketAddr::new(topo.path(1).unwrap().kernel_v4.addr, 5304);
    // The kernel reads 1 MiB, then closes with SO_LINGER 0: a RST.
    let peer = kernel_peer().expect(1 << 20).arg("--linger0");
    let server = peer.server(topo.kernel(), at).unwrap();
    let at_text = at.to_string();
    let out = run(mptcp(
        &topo,
        "connect",
        &["--send", "64M", "--discard", "--json", &at_text],
    ));
    let json = report(&out);
    assert_eq!(exit_code(&out), Some(1), "{json}\n{}", out.stderr);
    assert_eq!(json["outcome"], "reset", "{json}");
    let sent = json["bytes_sent"].as_u64().unwrap();
    assert!((1 << 20..64 << 20).contains(&sent), "{json}");
    assert!(
        out.stderr.contains(&format!(
            "mptcp connect: the peer {at_text} reset the connection after"
        )),
        "{}",
        out.stderr
    );
    // The kernel peer's own verdict does not matter here (it stopped reading on purpose).
    drop(server.wait(peer.wait_limit()));
}

#[test]
fn a_kernel_that_half_closes_at_once_still_gets_everything() {
    let topo = topology("clihalf");
    let at = SocketAddr::new(topo.path(1).unwrap().kernel_v4.addr, 5305);
    // The kernel sends nothing and shuts its side down at once, then reads 8 MiB.
    let peer = kernel_peer().send(0).expect(SIZE);
    let server = peer.server(topo.kernel(), at).unwrap();
    let at_text = at.to_string();
    let out = run(mptcp(
        &topo,
        "connect",
        &["--send", "8M", "--verify", "--discard", "--json", &at_text],
    ));
    let json = report(&out);
    assert_eq!(exit_code(&out), Some(0), "{json}\n{}", out.stderr);
    assert_eq!(json["outcome"], "ok");
    assert_eq!(json["bytes_sent"], SIZE);
    assert_eq!(json["bytes_received"], 0);
    let kernel = peer.finish(server).unwrap().stdout;
    assert!(kernel.contains("verify=ok"), "{kernel}");
}

#[test]
fn connect_times_out_when_nothing_answers() {
    let topo = topology("clito");
    // On path 1's link, but nobody has that address: the SYNs vanish.
    let out = run(mptcp(
        &topo,
        "connect",
        &[
            "--send",
            "1",
            "--discard",
            "--json",
            "--timeout",
            "2",
            "10.0.1.77:5306",
        ],
    ));
    assert_eq!(exit_code(&out), Some(1), "{}", out.stderr);
    assert_eq!(report(&out)["outcome"], "timed_out");
    assert!(
        out.stderr
            .contains("mptcp connect: connection to 10.0.1.77:5306 timed out"),
        "{}",
        out.stderr
    );
}

#[test]
fn without_root_it_says_so_and_exits_2() {
    mptcp_interop::require_root();
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file());
    let Some(setpriv) = setpriv else {
        eprintln!("note: setpriv is not installed; the no-root message is not checked");
        return;
    };
    let ns = Namespace::new("clinoroot").unwrap();
    let mut cmd = ns.command(setpriv);
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(mptcp_binary())
        .args([
            "connect",
            "--addr",
            "10.1.1.2/24",
            "--send",
            "1",
            "--discard",
            "10.0.1.1:5307",
        ]);
    let out = run(cmd);
    assert_eq!(exit_code(&out), Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "mptcp connect needs root (or CAP_NET_ADMIN) to create TUN device mptcp0; run it \
             with sudo"
        ),
        "{}",
        out.stderr
    );
}
