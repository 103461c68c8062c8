//! Our path managers (docs/path_managers.md) against the Linux kernel, byte for byte, in
//! namespaces. Path `i`: kernel `10.0.i.1`, ours `10.1.i.2`; the kernel's limits are
//! `subflows 8 add_addr_accepted 8` unless a test says otherwise. Needs root.
//!
//! - `fullmesh`, our client with two addresses, a kernel server that signals its second:
//!   four subflows (every pair), each carrying data; the kernel counts three joins.
//! - `fullmesh`, our server with two addresses, a kernel client whose endpoints are
//!   `subflow fullmesh` on both of its addresses: it joins every pair too.
//! - `ndiffports` with 4 subflows, our client: three joins on the one address pair, from
//!   four source ports, each carrying data.
//! - `endpoints`: our client configured like a kernel client (`ip mptcp endpoint add ...
//!   subflow fullmesh`, the same limits) against the same kernel server ends with the same
//!   subflows, path for path, as a kernel client in our namespace does.
//! - An address of ours removed from the host mid-transfer (`fullmesh`): its subflow closes
//!   at once, our REMOVE_ADDR makes the kernel close its side (`RmAddr`), and
//!   the transfer stays intact.
//! - An address added to our server mid-transfer (`fullmesh`): announced (the kernel counts
//!   one `AddAddr`), joined by the kernel, and carrying data.
//! - IPv4 and IPv6 in one connection: our `fullmesh` client starts over IPv4 to a kernel
//!   server listening on `[::]` that signals an IPv6 address; two IPv4 and two IPv6 subflows
//!   carry data, none across families.
//! - `userspace`: nothing happens by itself; our client's application opens two subflows
//!   (one when the kernel's announcement arrives) and closes one, our server's application
//!   announces an address and the kernel joins it.

mod mptcp_support;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mptcp_interop::{
    KernelPeer, Opening, Role, exchange, field, finish_kernel, recv_intact, write_pattern,
};
use mptcp_proto::pm::{Endpoint, Endpoints, PathManagerChoice};
use mptcp_proto::stack::ConnEvent;
use mptcp_support::{
    MIB, PORT, Setup, SharedStream, config_with, describe_subflows, finish_mptcp, kernel_peer,
    live, wait_subflows,
};
use mptcp_tun::SubflowInfo;
use tokio::io::AsyncWriteExt;

/// Bound of one test (debug build).
const LIMIT: Duration = Duration::from_secs(60);
/// The kernel's limits: enough for every join of two paths.
const LIMITS: Option<(u8, u8)> = Some((8, 8));
/// How long subflows may take to come up or go.
const WAIT: Duration = Duration::from_secs(5);

/// A topology of `paths` paths with the kernel's limits at 8 and 8, our stack on every
/// path with `settings` (`NAME=VALUE`).
fn setup(tag: &str, paths: u8, settings: &[&str]) -> Setup {
    Setup::new(tag, paths, false, LIMITS, config_with(settings))
}

/// The (our path, the kernel's path) pairs of subflows that carried at least `bytes`
/// from the kernel, and the number of subflows on each.
fn path_pairs(setup: &Setup, subflows: &[SubflowInfo], bytes: u64) -> Vec<(u8, u8, usize)> {
    let mut pairs: Vec<(u8, u8, usize)> = Vec::new();
    for s in subflows.iter().filter(|s| s.tcp.bytes_received >= bytes) {
        let key = (
            setup.path_of(s.local.ip()).unwrap_or(0),
            setup.path_of(s.remote.ip()).unwrap_or(0),
        );
        match pairs.iter_mut().find(|p| (p.0, p.1) == key) {
            Some(p) => p.2 += 1,
            None => pairs.push((key.0, key.1, 1)),
        }
    }
    pairs.sort();
    pairs
}

/// Our client (`config`) exchanges `size` each way with a kernel server; returns our
/// subflows after the exchange and the kernel's report line.
fn our_client(setup: &Setup, what: &str, size: u64) -> (Vec<SubflowInfo>, String) {
    let peer = kernel_peer(size, size, LIMIT);
    let opening = setup.open(Role::OurClient, &peer);
    our_client_to(setup, what, size, &peer, opening)
}

/// [`our_client`] to the kernel server `peer` already started in `opening`.
fn our_client_to(
    setup: &Setup,
    what: &str,
    size: u64,
    peer: &KernelPeer,
    opening: Opening,
) -> (Vec<SubflowInfo>, String) {
    let subflows = setup.run(what, LIMIT, async {
        let mut stream = opening.establish(&setup.stack.handle()).await;
        assert!(stream.is_mptcp(), "{what}: not MPTCP");
        exchange(what, &mut stream, Role::OurClient, size).await;
        stream.subflows()
    });
    let line = finish_mptcp(what, peer, opening.kernel, size);
    (subflows, line)
}

#[test]
fn our_fullmesh_client_joins_every_pair_of_a_kernel_server_that_signals() {
    let what = "our fullmesh client, kernel server signalling its path-2 address";
    let setup = setup("pm-fmc", 2, &["mptcp.path_manager=fullmesh"]);
    setup.kernel_endpoint(2, &["signal"]);
    let (subflows, line) = our_client(&setup, what, 16 * MIB);
    let pairs = path_pairs(&setup, &subflows, 64 * 1024);
    println!(
        "{what}: {line}\n{}\npairs carrying data: {pairs:?}; kernel {:?}",
        describe_subflows(&subflows),
        setup.nonzero_counters()
    );
    assert_eq!(
        pairs,
        [(1, 1, 1), (1, 2, 1), (2, 1, 1), (2, 2, 1)],
        "{what}: every pair, each carrying data"
    );
    assert_eq!(setup.counter("MPJoinAckRx"), 3, "{what}");
    assert_eq!(field(&line, "extra_subflows"), Some("3"), "{what}: {line}");
}

#[test]
fn a_kernel_client_with_fullmesh_endpoints_joins_every_pair_of_our_fullmesh_server() {
    let what = "kernel client with subflow fullmesh endpoints, our fullmesh server";
    let size = 16 * MIB;
    let setup = setup("pm-fms", 2, &["mptcp.path_manager=fullmesh"]);
    setup.kernel_endpoint(1, &["subflow", "fullmesh"]);
    setup.kernel_endpoint(2, &["subflow", "fullmesh"]);
    let peer = kernel_peer(size, size, LIMIT);
    let opening = setup.open(Role::OurServer, &peer);
    let subflows = setup.run(what, LIMIT, async {
        let stream = SharedStream::new(opening.establish(&setup.stack.handle()).await);
        assert!(stream.lock().is_mptcp(), "{what}: not MPTCP");
        let (send_tag, recv_tag) = Role::OurServer.tags();
        let (r, mut w) = (stream.clone(), stream.clone());
        let sender = async {
            write_pattern(&mut w, send_tag, 0, size, None)
                .await
                .1
                .unwrap();
            // Every join is made by now (the kernel's are quick); keep the subflows.
            let subflows = wait_subflows(&stream, WAIT, |s| live(s).len() == 4).await;
            w.shutdown().await.unwrap();
            subflows
        };
        let (subflows, ()) = tokio::join!(sender, recv_intact(r, recv_tag, size, what));
        subflows.unwrap_or_else(|s| panic!("{what}: not 4 live:\n{}", describe_subflows(&s)))
    });
    let line = finish_mptcp(what, &peer, opening.kernel, size);
    let pairs = path_pairs(&setup, &subflows, 1);
    println!(
        "{what}: {line}\n{}\npairs: {pairs:?}; kernel {:?}",
        describe_subflows(&subflows),
        setup.nonzero_counters()
    );
    assert_eq!(
        pairs,
        [(1, 1, 1), (1, 2, 1), (2, 1, 1), (2, 2, 1)],
        "{what}"
    );
    // Our three other addresses (path 2's IPv4, both IPv6 ones; the kernel's IPv4
    // connection cannot use those), each announced once: echoed, never repeated.
    assert_eq!(setup.counter("AddAddr"), 3, "{what}");
    assert_eq!(setup.counter("MPJoinSynAckRx"), 3, "{what}");
}

#[test]
fn our_ndiffports_opens_four_subflows_on_one_address_pair() {
    let what = "our ndiffports client, 4 subflows, kernel server";
    let setup = setup(
        "pm-ndp",
        1,
        &["mptcp.path_manager=ndiffports", "ndiffports.num_subflows=4"],
    );
    let (subflows, line) = our_client(&setup, what, 16 * MIB);
    let ports: BTreeSet<SocketAddr> = subflows.iter().map(|s| s.local).collect();
    let pairs = path_pairs(&setup, &subflows, 64 * 1024);
    println!(
        "{what}: {line}\n{}\nkernel {:?}",
        describe_subflows(&subflows),
        setup.nonzero_counters()
    );
    assert_eq!(pairs, [(1, 1, 4)], "{what}: four subflows carrying data");
    assert_eq!(ports.len(), 4, "{what}: four source ports");
    assert_eq!(setup.counter("MPJoinSynRx"), 3, "{what}");
    assert_eq!(setup.counter("MPJoinAckRx"), 3, "{what}");
    assert_eq!(field(&line, "extra_subflows"), Some("3"), "{what}: {line}");
}

/// The (local path, remote path) pairs of a kernel peer's `subflows=` report.
fn kernel_pairs(setup: &Setup, line: &str) -> Vec<(u8, u8, usize)> {
    let mut pairs: Vec<(u8, u8, usize)> = Vec::new();
    let list = field(line, "subflows").unwrap_or_default();
    for pair in list.split(',').filter(|p| !p.is_empty()) {
        let (local, remote) = pair.split_once('>').unwrap();
        let path = |a: &str| {
            let ip = a.parse::<SocketAddr>().unwrap().ip();
            // The kernel client in "ours" uses the forwarding addresses 10.0.i.2.
            setup.path_of(ip).or_else(|| {
                setup
                    .topo
                    .paths()
                    .iter()
                    .find(|p| p.router_v4.addr == ip)
                    .map(|p| p.index)
            })
        };
        let key = (path(local).unwrap_or(0), path(remote).unwrap_or(0));
        match pairs.iter_mut().find(|p| (p.0, p.1) == key) {
            Some(p) => p.2 += 1,
            None => pairs.push((key.0, key.1, 1)),
        }
    }
    pairs.sort();
    pairs
}

#[test]
fn our_endpoints_give_the_subflows_a_kernel_client_with_the_same_endpoints_gets() {
    let what = "endpoints: a subflow fullmesh endpoint on path 2, a server signalling path 2";
    let size = 8 * MIB;
    let limits = ["limits.subflows=2", "limits.add_addr_accepted=1"];
    let setup = Setup::new("pm-end", 2, false, Some((2, 1)), config_with(&limits));
    setup.kernel_endpoint(2, &["signal"]);

    // Kernel to kernel: a kernel client in "ours" (addresses 10.0.i.2), endpoint and
    // limits as a Linux user would set them.
    let ours = setup.topo.ours();
    let client_addr = setup.topo.path(2).unwrap().router_v4.addr.to_string();
    ours.ip(&[
        "mptcp",
        "limits",
        "set",
        "subflows",
        "2",
        "add_addr_accepted",
        "1",
    ])
    .unwrap();
    ours.ip(&[
        "mptcp",
        "endpoint",
        "add",
        &client_addr,
        "subflow",
        "fullmesh",
    ])
    .unwrap();
    // What leaves from the path-2 address takes path 2, whatever the destination.
    let kernel_on_2 = setup.kernel_addr(2).to_string();
    ours.ip(&["rule", "add", "from", &client_addr, "lookup", "300"])
        .unwrap();
    ours.ip(&[
        "route",
        "add",
        "default",
        "via",
        &kernel_on_2,
        "dev",
        "o2",
        "table",
        "300",
    ])
    .unwrap();
    let kernel_server = kernel_peer(size, size, LIMIT);
    let any: SocketAddr = format!("0.0.0.0:{PORT}").parse().unwrap();
    let to = SocketAddr::new(setup.kernel_addr(1), PORT);
    let server = kernel_server.server(setup.topo.kernel(), any).unwrap();
    let kernel_client = kernel_peer(size, size, LIMIT);
    let client = kernel_client.client(ours, to).unwrap();
    let received = format!("received={size}");
    let client_line = finish_kernel(what, &kernel_client, client, &[&received, "proto=mptcp "]);
    finish_kernel(what, &kernel_server, server, &[&received]);
    let theirs = kernel_pairs(&setup, &client_line);
    let mut client_counters: Vec<_> =
        mptcp_interop::proc_counters(ours, "/proc/net/netstat", "MPTcpExt")
            .into_iter()
            .filter(|(_, v)| *v != 0)
            .collect();
    client_counters.sort();
    println!("kernel client's counters: {client_counters:?}");

    // Ours, configured alike: the same endpoint on our path-2 address, the same limits.
    let endpoint: Endpoint = format!("{} subflow fullmesh", setup.our_addr(2))
        .parse()
        .unwrap();
    let mut own = setup.stack.handle().connection_config();
    own.mptcp.path_manager = PathManagerChoice::new(Endpoints::new(vec![endpoint]));
    let peer = kernel_peer(size, size, LIMIT);
    let opening = setup.open(Role::OurClient, &peer);
    let handle = setup.stack.handle();
    let subflows = setup.run(what, LIMIT, async {
        let mut stream = mptcp_tun::MptcpStream::connect_with(&handle, opening.to, own)
            .await
            .unwrap_or_else(|e| panic!("{what}: connect: {e}"));
        exchange(what, &mut stream, Role::OurClient, size).await;
        stream.subflows()
    });
    let line = finish_kernel(what, &peer, opening.kernel, &[&received, "proto=mptcp "]);
    let ours_pairs = path_pairs(&setup, &subflows, 1);
    println!(
        "{what}:\nkernel to kernel: {client_line}\n  pairs {theirs:?}\nours: {line}\n{}\n  \
         pairs {ours_pairs:?}",
        describe_subflows(&subflows)
    );
    assert_eq!(
        theirs,
        [(1, 1, 1), (2, 1, 1), (2, 2, 1)],
        "{what}: the kernel's"
    );
    assert_eq!(ours_pairs, theirs, "{what}: ours as the kernel's");
}

/// Live subflows whose local address is `ip`.
fn from(subflows: &[SubflowInfo], ip: IpAddr) -> usize {
    live(subflows).iter().filter(|s| s.local.ip() == ip).count()
}

#[test]
fn an_address_removed_from_our_host_mid_transfer_is_withdrawn_and_the_kernel_closes_its_subflow() {
    let what = "our fullmesh client loses its path-2 address mid-transfer";
    let size = 32 * MIB;
    let setup = setup("pm-rmh", 2, &["mptcp.path_manager=fullmesh"]);
    let gone = setup.our_addr(2);
    let peer = kernel_peer(size, size, LIMIT);
    let opening = setup.open(Role::OurClient, &peer);
    let handle = setup.stack.handle();
    let ((before, after), _) = setup.run(what, LIMIT, async {
        let stream = SharedStream::new(opening.establish(&handle).await);
        let control = async {
            let before = wait_subflows(&stream, WAIT, |s| from(s, gone) == 1)
                .await
                .unwrap_or_else(|s| panic!("{what}: none from {gone}:\n{}", describe_subflows(&s)));
            assert!(handle.remove_host_address(gone), "{what}: unknown address");
            let after = wait_subflows(&stream, WAIT, |s| from(s, gone) == 0)
                .await
                .unwrap_or_else(|s| panic!("{what}: one stays:\n{}", describe_subflows(&s)));
            (before, after)
        };
        exchange_around(what, &stream, Role::OurClient, (size, size / 16), control).await
    });
    let line = finish_mptcp(what, &peer, opening.kernel, size);
    let counters = setup.nonzero_counters();
    println!(
        "{what}: {line}\nbefore:\n{}\nafter:\n{}\nkernel {counters:?}",
        describe_subflows(&before),
        describe_subflows(&after)
    );
    assert_eq!(live(&after).len() + 1, live(&before).len(), "{what}");
    // The kernel counts `RmAddr` for each subflow a received REMOVE_ADDR closes.
    assert_eq!(
        setup.counter("RmAddr"),
        1,
        "{what}: our REMOVE_ADDR closed its side"
    );
    assert_eq!(field(&line, "extra_subflows"), Some("0"), "{what}: {line}");
}

#[test]
fn an_address_added_to_our_server_mid_transfer_is_announced_and_used() {
    let what = "our fullmesh server gains its path-2 address mid-transfer";
    let size = 32 * MIB;
    let setup = setup("pm-add", 2, &["mptcp.path_manager=fullmesh"]);
    let handle = setup.stack.handle();
    let late = setup.our_addr(2);
    assert!(handle.remove_host_address(late));
    // The kernel creates subflows only while its connection is established: it keeps
    // its sending side open until our data ends.
    let peer = kernel_peer(size, size, LIMIT).arg("--shutdown-after-eof");
    let opening = setup.open(Role::OurServer, &peer);
    let (announced, subflows) = setup.run(what, LIMIT, async {
        let stream = SharedStream::new(opening.establish(&handle).await);
        let control = async {
            let alone = live(&stream.lock().subflows()).len();
            assert_eq!(alone, 1, "{what}: one path so far");
            // (Our IPv6 addresses were announced at the start.)
            let announced_before = tokio::task::block_in_place(|| setup.counter("AddAddr"));
            handle.add_host_address(1, late).unwrap();
            let to_late =
                |s: &[SubflowInfo]| live(s).iter().filter(|s| s.local.ip() == late).count();
            wait_subflows(&stream, WAIT, |s| to_late(s) == 1)
                .await
                .unwrap_or_else(|s| {
                    panic!(
                        "{what}: not joined:\n{}\n{}",
                        describe_subflows(&s),
                        setup.diagnostics()
                    )
                });
            tokio::task::block_in_place(|| setup.counter("AddAddr")) - announced_before
        };
        exchange_around(what, &stream, Role::OurServer, (size, size / 16), control).await
    });
    let line = finish_mptcp(what, &peer, opening.kernel, size);
    println!(
        "{what}: {line}\n{}\nkernel {:?}",
        describe_subflows(&subflows),
        setup.nonzero_counters()
    );
    assert_eq!(announced, 1, "{what}: the new address announced once");
    let carried: u64 = subflows
        .iter()
        .filter(|s| s.local.ip() == late)
        .map(|s| s.tcp.bytes_sent)
        .sum();
    assert!(
        carried > MIB,
        "{what}: the new address carried {carried} bytes"
    );
}

/// Exchanges `size` bytes each way on `stream`: our first `first` bytes, then `control`
/// (the peer's data arriving all the while), then the rest; our sending side shuts down
/// after. Returns what `control` returned and our subflows once everything was written.
async fn exchange_around<T>(
    what: &str,
    stream: &SharedStream,
    role: Role,
    (size, first): (u64, u64),
    control: impl Future<Output = T>,
) -> (T, Vec<SubflowInfo>) {
    let (send_tag, recv_tag) = role.tags();
    let (r, mut w) = (stream.clone(), stream.clone());
    let sender = async {
        let failed = |e| panic!("{what}: sending failed: {e}");
        write_pattern(&mut w, send_tag, 0, first, None)
            .await
            .1
            .unwrap_or_else(failed);
        let out = control.await;
        write_pattern(&mut w, send_tag, first, size, None)
            .await
            .1
            .unwrap_or_else(failed);
        let subflows = stream.lock().subflows();
        w.shutdown().await.unwrap_or_else(failed);
        (out, subflows)
    };
    let (out, ()) = tokio::join!(sender, recv_intact(r, recv_tag, size, what));
    out
}

/// The next event of `stream` (None at its end).
async fn next_event(stream: &SharedStream) -> Option<ConnEvent> {
    std::future::poll_fn(|cx| stream.lock().poll_next_event(cx)).await
}

#[test]
fn our_userspace_client_opens_and_closes_subflows_as_its_application_decides() {
    let what = "our userspace client, its application opening and closing subflows";
    let size = 32 * MIB;
    let setup = setup("pm-usc", 2, &["mptcp.path_manager=userspace"]);
    setup.kernel_endpoint(2, &["signal"]);
    let (o1, o2) = (setup.our_addr(1), setup.our_addr(2));
    let k1 = SocketAddr::new(setup.kernel_addr(1), PORT);
    let peer = kernel_peer(size, size, LIMIT).arg("--shutdown-after-eof");
    let opening = setup.open(Role::OurClient, &peer);
    let (alone, all, after_close) = setup.run(what, LIMIT, async {
        let stream = SharedStream::new(opening.establish(&setup.stack.handle()).await);
        let control = async {
            // Nothing automatic: the kernel's announcement arrives, no subflow follows.
            let announced = loop {
                match next_event(&stream).await {
                    Some(ConnEvent::AddressAnnounced { addr, port, .. }) => {
                        break SocketAddr::new(addr, port.unwrap_or(PORT));
                    }
                    Some(_) => {}
                    None => panic!("{what}: no announcement"),
                }
            };
            tokio::time::sleep(Duration::from_millis(300)).await;
            let alone = stream.lock().subflows();
            // The application's decisions: our second address to the initial one, our
            // first to the announced one.
            let second = stream.lock().open_subflow(o2, k1, false).unwrap();
            stream.lock().open_subflow(o1, announced, false).unwrap();
            let all = wait_subflows(&stream, WAIT, |s| live(s).len() == 3)
                .await
                .unwrap_or_else(|s| panic!("{what}: not 3 live:\n{}", describe_subflows(&s)));
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(
                stream.lock().close_subflow(second),
                "{what}: no subflow {second:?}"
            );
            let after_close = wait_subflows(&stream, WAIT, |s| live(s).len() == 2)
                .await
                .unwrap_or_else(|s| panic!("{what}: not closed:\n{}", describe_subflows(&s)));
            (alone, all, after_close)
        };
        exchange_around(what, &stream, Role::OurClient, (size, 0), control)
            .await
            .0
    });
    let line = finish_mptcp(what, &peer, opening.kernel, size);
    println!(
        "{what}: {line}\nalone:\n{}\nall:\n{}\nafter closing one:\n{}\nkernel {:?}",
        describe_subflows(&alone),
        describe_subflows(&all),
        describe_subflows(&after_close),
        setup.nonzero_counters()
    );
    assert_eq!(live(&alone).len(), 1, "{what}: nothing opened by itself");
    assert_eq!(
        path_pairs(&setup, &live(&all), 0),
        [(1, 1, 1), (1, 2, 1), (2, 1, 1)],
        "{what}"
    );
    assert_eq!(
        setup.counter("MPJoinAckRx"),
        2,
        "{what}: the kernel took both joins"
    );
    assert!(
        live(&after_close).iter().all(|s| s.local.ip() != o2),
        "{what}: the closed one is gone"
    );
}

#[test]
fn our_userspace_server_announces_as_its_application_decides() {
    let what = "our userspace server, its application announcing its path-2 address";
    let size = 32 * MIB;
    let setup = setup("pm-uss", 2, &["mptcp.path_manager=userspace"]);
    let o2 = setup.our_addr(2);
    // The kernel joins only while its connection is established.
    let peer = kernel_peer(size, size, LIMIT).arg("--shutdown-after-eof");
    let opening = setup.open(Role::OurServer, &peer);
    let (alone, joined) = setup.run(what, LIMIT, async {
        let stream = SharedStream::new(opening.establish(&setup.stack.handle()).await);
        let control = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let alone = stream.lock().subflows();
            stream.lock().announce_address(o2, None).unwrap();
            let joined = wait_subflows(&stream, WAIT, |s| {
                live(s).iter().any(|s| s.local.ip() == o2)
            })
            .await
            .unwrap_or_else(|s| panic!("{what}: not joined:\n{}", describe_subflows(&s)));
            (alone, joined)
        };
        exchange_around(what, &stream, Role::OurServer, (size, 0), control)
            .await
            .0
    });
    let line = finish_mptcp(what, &peer, opening.kernel, size);
    println!(
        "{what}: {line}\nalone:\n{}\njoined:\n{}\nkernel {:?}",
        describe_subflows(&alone),
        describe_subflows(&joined),
        setup.nonzero_counters()
    );
    assert_eq!(live(&alone).len(), 1, "{what}: nothing announced by itself");
    assert_eq!(setup.counter("AddAddr"), 1, "{what}: the one announcement");
    assert_eq!(
        setup.counter("MPJoinSynAckRx"),
        1,
        "{what}: the kernel joined it"
    );
}

#[test]
fn our_fullmesh_client_mixes_ipv4_and_ipv6_subflows_with_a_dual_stack_kernel_server() {
    let what = "our fullmesh client, IPv4 first subflow, a kernel server signalling IPv6";
    let size = 16 * MIB;
    let setup = setup("pm-mix", 2, &["mptcp.path_manager=fullmesh"]);
    // The kernel's path-2 IPv6 address as a signal endpoint; its server listens on [::],
    // so its connection can take IPv6 subflows beside the IPv4 (mapped) first one.
    let k2_v6 = setup.topo.path(2).unwrap().kernel_addr(true).to_string();
    setup
        .topo
        .kernel()
        .ip(&["mptcp", "endpoint", "add", &k2_v6, "id", "2", "signal"])
        .unwrap();
    let peer = kernel_peer(size, size, LIMIT);
    let any: SocketAddr = format!("[::]:{PORT}").parse().unwrap();
    let to = SocketAddr::new(setup.kernel_addr(1), PORT);
    let opening = Opening::to_kernel_server(&peer, setup.topo.kernel(), any, to).unwrap();
    let (subflows, line) = our_client_to(&setup, what, size, &peer, opening);
    println!(
        "{what}: {line}\n{}\nkernel {:?}",
        describe_subflows(&subflows),
        setup.nonzero_counters()
    );
    let carrying = |v6: bool| {
        subflows
            .iter()
            .filter(|s| s.remote.is_ipv6() == v6 && s.tcp.bytes_received > 64 * 1024)
            .count()
    };
    // Our two IPv4 addresses to the kernel's first, our two IPv6 ones to its announced one.
    assert_eq!((carrying(false), carrying(true)), (2, 2), "{what}");
    assert!(
        subflows
            .iter()
            .all(|s| s.local.is_ipv6() == s.remote.is_ipv6()),
        "{what}: never across families"
    );
    assert_eq!(setup.counter("MPJoinAckRx"), 3, "{what}");
}
