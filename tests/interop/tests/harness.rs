//! Self-test of the harness: namespaces, a veth link and kernel-peer transfers
//! (plain TCP and MPTCP, IPv4 and IPv6), and cleanup on success and on panic.
//! Needs root (CI runs the test command as root); fails clearly otherwise.

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use mptcp_interop::{End, IfAddr, KernelPeer, Namespace, Offloads, VethLink, netns, require_root};

const PEER: &str = env!("CARGO_BIN_EXE_kernel-peer");
const SIZE: u64 = 8 * 1024 * 1024;

fn addr(text: &str) -> IfAddr {
    text.parse().unwrap()
}

/// Namespaces "client" and "server" joined by veth cli <-> srv with
/// 10.0.1.2/24 + fd00:0:1::2/64 on the client and .1 / ::1 on the server.
fn pair(tag: &str) -> (Namespace, Namespace) {
    let client = Namespace::new(&format!("{tag}-c")).unwrap();
    let server = Namespace::new(&format!("{tag}-s")).unwrap();
    for ns in [&client, &server] {
        ns.enable_mptcp().unwrap();
    }
    let mut link = VethLink::create(&client, "cli", &server, "srv").unwrap();
    link.add_addr(End::A, addr("10.0.1.2/24")).unwrap();
    link.add_addr(End::A, addr("fd00:0:1::2/64")).unwrap();
    link.add_addr(End::B, addr("10.0.1.1/24")).unwrap();
    link.add_addr(End::B, addr("fd00:0:1::1/64")).unwrap();
    link.up().unwrap();
    (client, server)
}

/// 8 MiB each way between a kernel-peer server and client; both must exit 0
/// (pattern and length verified) with the expected protocol.
fn transfer(client: &Namespace, server: &Namespace, to: SocketAddr, tcp: bool) -> Duration {
    let mut peer = KernelPeer::new(PEER)
        .send(SIZE)
        .expect(SIZE)
        .deadline(Duration::from_secs(30));
    if tcp {
        peer = peer.tcp();
    }
    let started = Instant::now();
    let srv = peer.server(server, to).unwrap();
    let cli = peer.client(client, to).unwrap();
    let cli = peer.finish(cli).unwrap();
    let srv = peer.finish(srv).unwrap();
    let elapsed = started.elapsed();
    let proto = if tcp { "proto=tcp " } else { "proto=mptcp " };
    for out in [&cli.stdout, &srv.stdout] {
        assert!(out.contains("verify=ok"), "{out}");
        assert!(out.contains(proto), "wanted {proto}: {out}");
        assert!(out.contains(&format!("received={SIZE} ")), "{out}");
    }
    eprintln!("{to} tcp={tcp}: 2 x 8 MiB in {elapsed:?}");
    elapsed
}

#[test]
fn transfers_are_intact_and_namespaces_vanish_afterwards() {
    require_root();
    let names;
    {
        let (client, server) = pair("self");
        names = [client.name().to_owned(), server.name().to_owned()];
        for name in &names {
            assert!(netns::exists(name).unwrap(), "{name} should exist");
        }
        transfer(&client, &server, "10.0.1.1:5001".parse().unwrap(), true);
        transfer(&client, &server, "10.0.1.1:5002".parse().unwrap(), false);
        transfer(
            &client,
            &server,
            "[fd00:0:1::1]:5003".parse().unwrap(),
            false,
        );
    }
    let left = netns::list().unwrap();
    for name in &names {
        assert!(!left.contains(name), "{name} still exists: {left:?}");
    }
}

#[test]
fn offloads_can_be_turned_off() {
    require_root();
    let a = Namespace::new("offl-a").unwrap();
    let b = Namespace::new("offl-b").unwrap();
    let link = VethLink::create(&a, "x", &b, "y").unwrap();
    link.set_offloads(Offloads::NONE).unwrap();
    let features = a.exec("ethtool", &["-k", "x"]).unwrap().stdout;
    assert!(
        features.contains("tcp-segmentation-offload: off"),
        "{features}"
    );
    assert!(
        features.contains("generic-receive-offload: off"),
        "{features}"
    );
}

/// Whether `child` exits within `limit` (reaping it).
fn exits_within(child: &mut Child, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn a_panicking_test_body_still_removes_namespaces_and_processes() {
    require_root();
    let names = Mutex::new(Vec::new());
    let server_pid = Mutex::new(0u32);
    // A process started in the namespace without a guard: the namespace's own
    // drop must end it.
    let stray: Mutex<Option<Child>> = Mutex::new(None);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let (client, server) = pair("panic");
        names
            .lock()
            .unwrap()
            .extend([client.name().to_owned(), server.name().to_owned()]);
        let peer = KernelPeer::new(PEER).deadline(Duration::from_secs(30));
        let srv = peer
            .server(&server, "10.0.1.1:5004".parse().unwrap())
            .unwrap();
        *server_pid.lock().unwrap() = srv.id();
        let child = Command::new("ip")
            .args(["netns", "exec", client.name(), "sleep", "30"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        *stray.lock().unwrap() = Some(child);
        let until = Instant::now() + Duration::from_secs(5);
        while client.pids().unwrap().is_empty() {
            assert!(
                Instant::now() < until,
                "sleep never showed up in the namespace"
            );
            thread::sleep(Duration::from_millis(10));
        }
        panic!("deliberate panic in the test body");
    }));
    assert!(result.is_err(), "the closure should have panicked");
    let names = names.into_inner().unwrap();
    assert_eq!(names.len(), 2);
    let left = netns::list().unwrap();
    for name in &names {
        assert!(!left.contains(name), "{name} survived the panic: {left:?}");
    }
    let pid = server_pid.into_inner().unwrap();
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "kernel-peer server {pid} survived"
    );
    let mut child = stray.into_inner().unwrap().expect("stray process started");
    assert!(
        exits_within(&mut child, Duration::from_secs(2)),
        "the unguarded process in the namespace survived"
    );
}

#[test]
fn setup_errors_name_the_command_and_its_stderr() {
    require_root();
    let ns = Namespace::new("errs").unwrap();
    let err = ns.ip(&["link", "set", "nosuchdev", "up"]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!("ip -n {} link set nosuchdev up", ns.name())),
        "{text}"
    );
    assert!(text.contains("stderr:"), "{text}");
    let err = ns
        .exec_timeout("sleep", &["30"], Duration::from_millis(300))
        .unwrap_err();
    assert!(err.to_string().contains("did not finish within"), "{err}");
}

#[test]
fn namespaces_left_by_dead_test_processes_are_swept() {
    require_root();
    // Above pid_max: no process can have this id.
    let pid_max: u64 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let stale = format!("{}-{}-0-stale", netns::NAME_PREFIX, pid_max + 1);
    let other = format!("mpi_other_{}", std::process::id());
    for name in [&stale, &other] {
        let ok = Command::new("ip")
            .args(["netns", "add", name])
            .status()
            .unwrap();
        assert!(ok.success());
    }
    netns::sweep_stale();
    let left = netns::list().unwrap();
    let other_kept = left.contains(&other);
    let _ = Command::new("ip").args(["netns", "del", &other]).status();
    assert!(!left.contains(&stale), "{stale} was not swept: {left:?}");
    assert!(
        other_kept,
        "a namespace without the harness prefix was removed"
    );
}
