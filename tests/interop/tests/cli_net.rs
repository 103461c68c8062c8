//! The `mptcp connect` and `mptcp listen` commands against the Linux kernel's TCP: the real
//! `mptcp` binary runs in namespace "ours" and creates TUN device `tun1` itself (with the
//! stack's addresses of path 1), `kernel-peer` runs in "kernel". Each test checks the exit
//! status, the `--json` report or the message, and what the kernel verified. Needs root.
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

fn kernel_peer() -> KernelPeer {
    KernelPeer::new(PEER)
        .tcp()
        .deadline(Duration::from_secs(45))
}

#[test]
fn connect_exchanges_verified_data_with_a_kernel_tcp_server() {
    let topo = topology("clicon");
    let at = SocketAddr::new(topo.path(1).unwrap().kernel_v4.addr, 5301);
    let peer = kernel_peer().send(SIZE).expect(SIZE);
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
    eprintln!("{json}");
}

/// A kernel client connects to `mptcp listen` on `listen_at`, reaching it at `to`.
fn kernel_client_to_our_listener(tag: &str, listen_at: &str, to: SocketAddr) {
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
    let peer = kernel_peer().send(SIZE).expect(SIZE);
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
    let kernel = peer.finish(client).unwrap().stdout;
    assert!(kernel.contains("verify=ok"), "{kernel}");
}

#[test]
fn listen_accepts_a_kernel_tcp_client_over_ipv4() {
    kernel_client_to_our_listener("clilis4", "10.1.1.2:5302", "10.1.1.2:5302".parse().unwrap());
}

#[test]
fn listen_on_a_port_accepts_a_kernel_tcp_client_over_ipv6() {
    kernel_client_to_our_listener("clilis6", "5303", "[fd00:1:1::2]:5303".parse().unwrap());
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
