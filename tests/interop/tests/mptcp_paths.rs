//! Our MPTCP against the Linux kernel's MPTCP over several paths: subflows (MP_JOIN both
//! ways), ADD_ADDR and its echo both ways, REMOVE_ADDR both ways, MP_PRIO. Our stack runs
//! on the TUN devices of every path of the topology (path `i`: kernel `10.0.i.1` /
//! `fd00:0:i::1`, ours `10.1.i.2` / `fd00:1:i::2`) with the "simple" path manager; the
//! kernel uses its in-kernel path manager with `ip mptcp limits set subflows 8
//! add_addr_accepted 8` and endpoints per test. Every transfer is the byte pattern both
//! ways, checked on both sides. Needs root.
//!
//! - **Our client, kernel server** with `signal` endpoints on its other paths: the kernel
//!   announces them (ADD_ADDR), we echo (`EchoAdd`) and join each (to the announced
//!   address from our initial one) and, from each of our other addresses, to the kernel's
//!   initial address: 2·(n−1) joins, all confirmed by the kernel (`MPJoinAckRx`,
//!   `MPTCP_INFO` subflows), every path carries data in both directions (2 and 4 paths).
//! - **Kernel client with `subflow` endpoints, our server**, which announces its other
//!   addresses: the kernel counts our ADD_ADDRs (`AddAddr`) exactly once each — it echoed
//!   them, so we never sent them again — joins from its endpoints and to our announced
//!   addresses, and every path carries data (2 and 4 paths).
//! - **REMOVE_ADDR**: mid-transfer we withdraw an address (the kernel counts `RmAddr`,
//!   its `MPTCP_INFO` shows one subflow fewer), and the kernel deletes an endpoint (our
//!   subflow to that address closes); the transfers stay intact.
//! - **MP_PRIO**: mid-transfer we make the subflow that carries the kernel's data a backup:
//!   the kernel (`MPPrioRx`) moves its data to the other subflow.

mod mptcp_support;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use mptcp_interop::{Role, field, finish_kernel, recv_intact, write_pattern};
use mptcp_support::{
    MIB, Setup, SharedStream, describe_subflows, kernel_peer, live, wait_subflows,
};
use mptcp_tun::{RuntimeConfig, SubflowId, SubflowInfo};
use tokio::io::AsyncWriteExt;

/// Bytes each way of the multipath transfers.
const SIZE: u64 = 64 * MIB;
/// Bound of one test (debug build).
const LIMIT: Duration = Duration::from_secs(60);
/// How long subflows may take to come up.
const JOIN_WAIT: Duration = Duration::from_secs(5);
/// Our ADD_ADDR is sent again after 2 s without an echo (`conn/signal.rs`); a connection
/// that lives longer than this shows whether it was.
const ECHO_WINDOW: Duration = Duration::from_secs(3);
/// The kernel's limits: enough for every join of four paths.
const LIMITS: Option<(u8, u8)> = Some((8, 8));

/// Payload bytes (us → kernel, kernel → us) each path carried. Both sides route by
/// source address: what we send leaves on the path of our address, what the kernel sends
/// on the path of its address.
fn per_path(setup: &Setup, subflows: &[SubflowInfo], paths: u8) -> Vec<(u64, u64)> {
    (1..=paths)
        .map(|i| {
            let on = |ip: IpAddr| setup.path_of(ip) == Some(i);
            let sent = subflows.iter().filter(|s| on(s.local.ip()));
            let received = subflows.iter().filter(|s| on(s.remote.ip()));
            (
                sent.map(|s| s.tcp.bytes_sent).sum(),
                received.map(|s| s.tcp.bytes_received).sum(),
            )
        })
        .collect()
}

/// Exchanges `SIZE` bytes each way on `stream` while `during` runs, and keeps our
/// sending side open until `hold` after the start. Returns what `during` returned.
async fn exchange<T>(
    what: &str,
    stream: &SharedStream,
    role: Role,
    hold: Duration,
    during: impl Future<Output = T>,
) -> T {
    let started = tokio::time::Instant::now();
    let (send_tag, recv_tag) = role.tags();
    let (r, mut w) = (stream.clone(), stream.clone());
    let sender = async {
        write_pattern(&mut w, send_tag, 0, SIZE, None).await.1?;
        tokio::time::sleep_until(started + hold).await;
        w.shutdown().await
    };
    let (sent, (), out) = tokio::join!(sender, recv_intact(r, recv_tag, SIZE, what), during);
    sent.unwrap_or_else(|e| panic!("{what}: sending failed: {e}"));
    out
}

/// Joins and announcements with `paths` paths. Our client: the kernel server signals
/// its other addresses. Our server: the kernel client has `subflow` endpoints on its
/// other addresses and accepts our announcements.
fn multipath(tag: &str, role: Role, paths: u8, v6: bool) {
    let what = format!(
        "{} over {paths} paths ({})",
        role.describe(),
        if v6 { "IPv6" } else { "IPv4" }
    );
    let setup = Setup::new(tag, paths, v6, LIMITS, RuntimeConfig::default());
    let others = u64::from(paths - 1);
    for i in 2..=paths {
        match role {
            Role::OurClient => setup.kernel_endpoint(i, &["signal"]),
            Role::OurServer => setup.kernel_endpoint(i, &["subflow"]),
        }
    }
    // Joins from the kernel's (or our) other addresses to the initial address, and from
    // the initial address to each announced one.
    let expected = 1 + 2 * (paths as usize - 1);
    let peer = kernel_peer(SIZE, SIZE, LIMIT);
    let opening = setup.open(role, &peer);
    let (during, all, elapsed) = setup.run(&what, LIMIT, async {
        let stream = SharedStream::new(opening.establish(&setup.stack.handle()).await);
        assert!(stream.lock().is_mptcp(), "{what}: not MPTCP");
        let started = Instant::now();
        let watch = wait_subflows(&stream, JOIN_WAIT, |s| live(s).len() == expected);
        let during = exchange(&what, &stream, role, ECHO_WINDOW, watch).await;
        let all = stream.lock().subflows();
        (during, all, started.elapsed())
    });
    let during = during.unwrap_or_else(|s| {
        panic!(
            "{what}: not {expected} established subflows within {JOIN_WAIT:?}:\n{}\n{}",
            describe_subflows(&s),
            setup.diagnostics()
        )
    });
    let received = format!("received={SIZE}");
    let line = finish_kernel(
        &what,
        &peer,
        opening.kernel,
        &[&received, "end=eof", "proto=mptcp "],
    );
    let counters = setup.nonzero_counters();
    let bytes = per_path(&setup, &all, paths);
    eprintln!(
        "{what}: 2 x {} MiB in {:.2} s\n  {line}\nour subflows:\n{}\nper path (sent, received): {bytes:?}\nkernel: {counters:?}",
        SIZE / MIB,
        elapsed.as_secs_f64(),
        describe_subflows(&all),
    );
    for i in 1..=paths {
        let c = setup.stack.impair(i).unwrap();
        eprintln!(
            "  path {i}: packets in {}, out {}",
            c.inbound(),
            c.outbound()
        );
    }

    // Every subflow we saw was established with the addresses the path managers chose.
    assert_eq!(live(&during).len(), expected, "{what}");
    let pairs: Vec<(IpAddr, IpAddr)> = during
        .iter()
        .map(|s| (s.local.ip(), s.remote.ip()))
        .collect();
    for i in 2..=paths {
        let (initial_ours, initial_kernel) = (setup.our_addr(1), setup.kernel_addr(1));
        let (ours, kernels) = (setup.our_addr(i), setup.kernel_addr(i));
        let wanted = match role {
            // From our other addresses to the initial one; to the announced ones.
            Role::OurClient => [(ours, initial_kernel), (initial_ours, kernels)],
            // From the kernel's endpoints to our initial address; to our announced ones
            // (from the address the kernel's routing picks: the same path's).
            Role::OurServer => [(initial_ours, kernels), (ours, kernels)],
        };
        for pair in wanted {
            assert!(
                pairs.contains(&pair),
                "{what}: no subflow {pair:?} in {pairs:?}"
            );
        }
    }
    // The kernel confirmed them: MPTCP_INFO counts the subflows beyond the first.
    assert_eq!(
        field(&line, "extra_subflows"),
        Some((2 * others).to_string().as_str()),
        "{what}: {line}"
    );
    let joins = 2 * others;
    match role {
        Role::OurClient => {
            // The kernel's ADD_ADDRs reached us (we joined them) and we echoed each once.
            assert_eq!(setup.counter("AddAddrTx"), others, "{what}: {counters:?}");
            assert_eq!(setup.counter("EchoAdd"), others, "{what}: {counters:?}");
            assert_eq!(setup.counter("MPJoinSynRx"), joins, "{what}: {counters:?}");
            assert_eq!(setup.counter("MPJoinAckRx"), joins, "{what}: {counters:?}");
        }
        Role::OurServer => {
            // Ours reached the kernel, with valid HMACs, each counted once: the kernel
            // echoed them, so we did not send them again after 2 s.
            assert!(elapsed >= ECHO_WINDOW, "{what}");
            assert_eq!(setup.counter("AddAddr"), others, "{what}: {counters:?}");
            assert_eq!(setup.counter("AddAddrDrop"), 0, "{what}: {counters:?}");
            assert_eq!(setup.counter("EchoAddTx"), others, "{what}: {counters:?}");
            assert_eq!(setup.counter("MPJoinSynTx"), joins, "{what}: {counters:?}");
            assert_eq!(
                setup.counter("MPJoinSynAckRx"),
                joins,
                "{what}: {counters:?}"
            );
        }
    }
    assert_eq!(setup.counter("MPJoinRejected"), 0, "{what}: {counters:?}");
    // Every path carried data in both directions.
    for (i, (tx, rx)) in bytes.iter().enumerate() {
        assert!(
            *tx > 0 && *rx > 0,
            "{what}: path {} carried {tx} bytes out, {rx} in",
            i + 1
        );
    }
}

#[test]
fn our_client_joins_two_paths_of_a_kernel_server_that_signals_ipv4() {
    multipath("mp-c2", Role::OurClient, 2, false);
}

#[test]
fn our_client_joins_four_paths_of_a_kernel_server_that_signals_ipv6() {
    multipath("mp-c4", Role::OurClient, 4, true);
}

#[test]
fn a_kernel_client_joins_two_paths_of_our_announcing_server_ipv6() {
    multipath("mp-s2", Role::OurServer, 2, true);
}

#[test]
fn a_kernel_client_joins_four_paths_of_our_announcing_server_ipv4() {
    multipath("mp-s4", Role::OurServer, 4, false);
}

// ---------------------------------------------------------------------------
// REMOVE_ADDR and MP_PRIO, mid-transfer.

/// The kernel's extra subflows in `ss -M` output (`subflows:N`; absent when 0).
fn kernel_subflows(ss: &str) -> u32 {
    ss.split_whitespace()
        .find_map(|w| w.strip_prefix("subflows:"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Live subflows whose local or remote address is `ip`.
fn using(subflows: &[SubflowInfo], ip: IpAddr) -> usize {
    live(subflows)
        .iter()
        .filter(|s| s.local.ip() == ip || s.remote.ip() == ip)
        .count()
}

/// Two paths, our client. `ours`: we withdraw our path-2 address once a quarter of our
/// data is out; the kernel (no endpoints) closes our join from it. Otherwise the kernel
/// server signals its path-2 address (endpoint id 2) and deletes the endpoint mid-transfer;
/// our subflow to it closes. Both ways the 64 MiB arrive intact.
fn remove_address(tag: &str, ours: bool) {
    let what = if ours {
        "we remove our path-2 address mid-transfer"
    } else {
        "the kernel deletes its path-2 endpoint mid-transfer"
    };
    let setup = Setup::new(tag, 2, false, LIMITS, RuntimeConfig::default());
    if !ours {
        setup.kernel_endpoint(2, &["signal"]);
    }
    let gone = if ours {
        setup.our_addr(2)
    } else {
        setup.kernel_addr(2)
    };
    let role = Role::OurClient;
    let peer = kernel_peer(SIZE, SIZE, LIMIT);
    let opening = setup.open(role, &peer);
    let (before, after, ss_before, ss_after) = setup.run(what, LIMIT, async {
        let stream = SharedStream::new(opening.establish(&setup.stack.handle()).await);
        let (send_tag, recv_tag) = role.tags();
        let (r, mut w) = (stream.clone(), stream.clone());
        let sender = async {
            // A sixteenth, then the removal while the rest flows both ways. (After a
            // quarter, a slow run of ours once found the kernel done sending and in
            // FIN-WAIT-2, where it no longer counts a REMOVE_ADDR.)
            write_pattern(&mut w, send_tag, 0, SIZE / 16, None)
                .await
                .1
                .unwrap();
            let before = wait_subflows(&stream, JOIN_WAIT, |s| using(s, gone) == 1)
                .await
                .unwrap_or_else(|s| {
                    panic!("{what}: no subflow on {gone}:\n{}", describe_subflows(&s))
                });
            let ss_before = tokio::task::block_in_place(|| setup.kernel_ss_m());
            if ours {
                assert!(
                    stream.lock().remove_address(gone),
                    "{what}: unknown address"
                );
            } else {
                tokio::task::block_in_place(|| {
                    setup
                        .topo
                        .kernel()
                        .ip(&["mptcp", "endpoint", "delete", "id", "2"])
                        .unwrap()
                });
            }
            let after = wait_subflows(&stream, JOIN_WAIT, |s| using(s, gone) == 0)
                .await
                .unwrap_or_else(|s| {
                    panic!(
                        "{what}: a subflow on {gone} stays:\n{}",
                        describe_subflows(&s)
                    )
                });
            // The kernel's side closes a moment later.
            let ss_after = tokio::task::block_in_place(|| {
                let until = Instant::now() + JOIN_WAIT;
                loop {
                    let ss = setup.kernel_ss_m();
                    if kernel_subflows(&ss) < kernel_subflows(&ss_before) || Instant::now() > until
                    {
                        return ss;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
            write_pattern(&mut w, send_tag, SIZE / 16, SIZE, None)
                .await
                .1
                .unwrap();
            w.shutdown().await.unwrap();
            (before, after, ss_before, ss_after)
        };
        let (out, ()) = tokio::join!(sender, recv_intact(r, recv_tag, SIZE, what));
        out
    });
    let received = format!("received={SIZE}");
    let line = finish_kernel(
        what,
        &peer,
        opening.kernel,
        &[&received, "end=eof", "proto=mptcp "],
    );
    let counters = setup.nonzero_counters();
    eprintln!(
        "{what}:\n  {line}\nbefore:\n{}\nafter:\n{}\nkernel before: {}\nkernel after: {}\nkernel: {counters:?}",
        describe_subflows(&before),
        describe_subflows(&after),
        ss_before.split_whitespace().collect::<Vec<_>>().join(" "),
        ss_after.split_whitespace().collect::<Vec<_>>().join(" "),
    );
    // One subflow fewer on our side, the others still carry the connection.
    assert_eq!(live(&after).len() + 1, live(&before).len(), "{what}");
    // The kernel's view (`ss -M`, its MPTCP_INFO): one subflow fewer too.
    let (k_before, k_after) = (kernel_subflows(&ss_before), kernel_subflows(&ss_after));
    assert!(
        k_after + 1 == k_before,
        "{what}: kernel subflows {k_before:?} -> {k_after:?}"
    );
    assert_eq!(
        field(&line, "extra_subflows"),
        Some(if ours { "0" } else { "1" }),
        "{what}"
    );
    if ours {
        // Our REMOVE_ADDR reached the kernel, which removed the subflow.
        assert_eq!(setup.counter("RmAddr"), 1, "{what}: {counters:?}");
    } else {
        assert_eq!(setup.counter("RmAddrTx"), 1, "{what}: {counters:?}");
    }
}

#[test]
fn our_remove_addr_mid_transfer_makes_the_kernel_close_that_subflow() {
    remove_address("mp-rmo", true);
}

#[test]
fn a_kernel_endpoint_deleted_mid_transfer_closes_our_subflow_to_it() {
    remove_address("mp-rmk", false);
}

/// Two paths, our client, the kernel sends 48 MiB paced (so the transfer lasts seconds)
/// and we send nothing. Once both subflows carried data, we make the one that carried
/// more a backup (MP_PRIO): the kernel (`MPPrioRx`) stops sending data on it — a second
/// later it carried next to nothing more, while the other took the data.
#[test]
fn mp_prio_backup_mid_transfer_moves_the_kernels_data_off_that_subflow() {
    const KERNEL_SENDS: u64 = 48 * MIB;
    let what = "MP_PRIO backup mid-transfer";
    let setup = Setup::new("mp-prio", 2, false, LIMITS, RuntimeConfig::default());
    // 256 KiB every 20 ms: about 100 Mbit/s, for about 4 s.
    let peer = kernel_peer(KERNEL_SENDS, 0, LIMIT)
        .arg("--chunk")
        .arg((256 * 1024).to_string())
        .arg("--pause-ms")
        .arg("20");
    let opening = setup.open(Role::OurClient, &peer);
    let window = Duration::from_millis(1000);
    let (chosen, before, after) = setup.run(what, LIMIT, async {
        let stream = SharedStream::new(opening.establish(&setup.stack.handle()).await);
        let (_, recv_tag) = Role::OurClient.tags();
        let mut w = stream.clone();
        let control = async {
            // (No DATA_FIN yet: Linux takes no join once the peer closed its side.)
            wait_subflows(&stream, JOIN_WAIT, |s| live(s).len() == 2)
                .await
                .unwrap_or_else(|s| {
                    panic!("{what}: no second subflow:\n{}", describe_subflows(&s))
                });
            let rx = |s: &[SubflowInfo]| -> Vec<(SubflowId, u64)> {
                s.iter().map(|s| (s.id, s.tcp.bytes_received)).collect()
            };
            let delta = |a: &[(SubflowId, u64)], b: &[(SubflowId, u64)], id: SubflowId| {
                let get = |v: &[(SubflowId, u64)]| v.iter().find(|x| x.0 == id).map_or(0, |x| x.1);
                get(b) - get(a)
            };
            tokio::time::sleep(Duration::from_millis(300)).await;
            let t0 = rx(&stream.lock().subflows());
            tokio::time::sleep(window).await;
            let t1 = rx(&stream.lock().subflows());
            let ids: Vec<SubflowId> = t1.iter().map(|x| x.0).collect();
            let chosen = *ids.iter().max_by_key(|id| delta(&t0, &t1, **id)).unwrap();
            let before: Vec<(SubflowId, u64)> =
                ids.iter().map(|id| (*id, delta(&t0, &t1, *id))).collect();
            assert!(stream.lock().set_backup(chosen, true), "{what}: set_backup");
            // Data the kernel had queued on it before the MP_PRIO arrived drains first.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let t2 = rx(&stream.lock().subflows());
            tokio::time::sleep(window).await;
            let t3 = rx(&stream.lock().subflows());
            let after: Vec<(SubflowId, u64)> =
                ids.iter().map(|id| (*id, delta(&t2, &t3, *id))).collect();
            w.shutdown().await.unwrap();
            (chosen, before, after)
        };
        let (out, ()) = tokio::join!(
            control,
            recv_intact(stream.clone(), recv_tag, KERNEL_SENDS, what)
        );
        out
    });
    let line = finish_kernel(
        what,
        &peer,
        opening.kernel,
        &["received=0", "end=eof", "proto=mptcp "],
    );
    let counters = setup.nonzero_counters();
    eprintln!(
        "{what}: backup {chosen:?}; kernel->us bytes per subflow in 1 s before {before:?}, after {after:?}\n  {line}\n  kernel: {counters:?}"
    );
    let get = |v: &[(SubflowId, u64)], id| v.iter().find(|x| x.0 == id).map_or(0, |x| x.1);
    let other = before.iter().map(|x| x.0).find(|id| *id != chosen).unwrap();
    assert!(
        get(&before, chosen) >= MIB,
        "{what}: it carried little before: {before:?}"
    );
    assert!(
        get(&after, chosen) <= 64 * 1024,
        "{what}: the kernel still sends on the backup subflow: {after:?}"
    );
    assert!(
        get(&after, other) >= MIB,
        "{what}: the other subflow idles: {after:?}"
    );
    assert_eq!(setup.counter("MPPrioRx"), 1, "{what}: {counters:?}");
}
