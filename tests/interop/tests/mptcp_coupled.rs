//! Coupled congestion control against the kernel's TCP (issue 13; RFC 6356 goal 2, "do no
//! harm"): our MPTCP connection with two subflows (`ndiffports`, both on path 1) uploads to
//! a kernel MPTCP server while a kernel TCP flow (NewReno, from a namespace of its own
//! behind ours) uploads to a kernel TCP server over the same path, through one 20 Mbit/s
//! `tbf` on the forwarding namespace's way out. With
//! `lia` our connection takes 40–60 % of the bottleneck; the figure is read from nftables
//! counters of each sender's bytes in the kernel's namespace, over a window in which both
//! flows run. Our uncoupled NewReno is measured and printed beside it. (The kernel server
//! sends a little too: a kernel MPTCP server that has sent nothing rejected our join,
//! `MPJoinRejected`.)
//! Needs root and nftables.

mod mptcp_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mptcp_interop::{
    End, KernelPeer, Namespace, Role, Tbf, VethLink, finish_kernel, recv_intact, write_pattern,
};
use mptcp_support::{
    MIB, PEER, Setup, SharedStream, config_with, describe_subflows, kernel_input_counters,
    kernel_input_rules, kernel_peer, live,
};
use tokio::io::AsyncWriteExt;

const LIMIT: Duration = Duration::from_secs(90);
/// Bytes each flow uploads: more than the measuring window can carry.
const SIZE: u64 = 64 * MIB;
const TABLE: &str = "cc_share";
/// How long the shares are measured, from 4 s after the start.
const WINDOW: Duration = Duration::from_secs(20);
/// The kernel TCP flow's server port.
const TCP_PORT: u16 = 5301;

/// Our connection's share of the bottleneck with `our_cc` against a kernel TCP flow with
/// `kernel_cc`, over seconds 4–24 of the run.
fn share(tag: &str, our_cc: &str, kernel_cc: &str) -> f64 {
    let what = format!("our {our_cc} MPTCP (2 subflows) against a kernel {kernel_cc} TCP flow");
    let config = config_with(&[
        &format!("tcp.congestion_control={our_cc}"),
        "mptcp.path_manager=ndiffports",
        "ndiffports.num_subflows=2",
    ]);
    let setup = Setup::new(tag, 1, false, Some((8, 8)), config);
    let path = setup.topo.path(1).unwrap().clone();
    // The bottleneck: what leaves "ours" towards the kernel, our stack's packets and the
    // forwarding namespace's own TCP flow alike.
    let mut tbf = vec!["qdisc", "replace", "dev", path.ours_dev.as_str(), "root"];
    // A short queue (20 ms at the rate), so that NewReno's sawtooth cycles many times in
    // the measuring window.
    let bottleneck = Tbf {
        latency: Duration::from_millis(20),
        ..Tbf::mbit(20)
    };
    let args = bottleneck.tc_args();
    tbf.extend(args.iter().map(String::as_str));
    setup.topo.ours().tc(&tbf).unwrap();
    // The kernel's TCP flow comes from a namespace of its own behind "ours", so that its
    // packets are forwarded through the bottleneck as ours are (a flow sent from "ours"
    // itself would be throttled by the local queue instead of losing packets in it).
    let other = Namespace::new(&format!("{tag}-x")).unwrap();
    let mut link = VethLink::create(&other, "x0", setup.topo.ours(), "xo").unwrap();
    link.add_addr(End::A, "10.2.0.2/24".parse().unwrap())
        .unwrap();
    link.add_addr(End::B, "10.2.0.1/24".parse().unwrap())
        .unwrap();
    link.up().unwrap();
    other
        .ip(&["route", "add", "default", "via", "10.2.0.1"])
        .unwrap();
    let via = path.router_v4.addr.to_string();
    setup
        .topo
        .kernel()
        .ip(&["route", "add", "10.2.0.0/24", "via", &via])
        .unwrap();
    if other
        .read_sysctl("net.ipv4.tcp_congestion_control")
        .unwrap()
        != kernel_cc
    {
        other
            .sysctl("net.ipv4.tcp_congestion_control", kernel_cc)
            .unwrap();
    }
    let ours = setup.our_addr(1).to_string();
    // Bytes arriving in the kernel's namespace from each sender.
    let from_ours: &[&str] = &["ip", "saddr", &ours, "counter"];
    let from_theirs: &[&str] = &["ip", "saddr", "10.2.0.2", "counter"];
    kernel_input_rules(&setup, TABLE, &[from_ours, from_theirs]);

    // The kernel's TCP flow: a plain TCP server in "kernel", its client in "ours".
    let tcp_peer = KernelPeer::new(PEER)
        .tcp()
        .transfer(SIZE, 0, LIMIT)
        .io_timeout(Duration::from_secs(30));
    let tcp_server_peer = KernelPeer::new(PEER)
        .tcp()
        .transfer(0, SIZE, LIMIT)
        .io_timeout(Duration::from_secs(30));
    let any: SocketAddr = format!("0.0.0.0:{TCP_PORT}").parse().unwrap();
    let tcp_server = tcp_server_peer.server(setup.topo.kernel(), any).unwrap();
    let to = SocketAddr::new(setup.kernel_addr(1), TCP_PORT);

    let peer = kernel_peer(MIB, SIZE, LIMIT);
    let opening = setup.open(Role::OurClient, &peer);
    let tcp_client = tcp_peer.client(&other, to).unwrap();
    let ((before, after), subflows) = setup.run(&what, LIMIT, async {
        let stream = opening.establish(&setup.stack.handle()).await;
        assert!(stream.is_mptcp(), "{what}: not MPTCP");
        let (send_tag, recv_tag) = Role::OurClient.tags();
        let started = Instant::now();
        let window = async {
            tokio::time::sleep(Duration::from_secs(4)).await;
            let before =
                tokio::task::block_in_place(|| kernel_input_counters(&setup, TABLE, "bytes"));
            tokio::time::sleep(WINDOW).await;
            let after =
                tokio::task::block_in_place(|| kernel_input_counters(&setup, TABLE, "bytes"));
            (before, after)
        };
        let stream = SharedStream::new(stream);
        let (r, mut w) = (stream.clone(), stream.clone());
        let upload = async {
            let send = async {
                write_pattern(&mut w, send_tag, 0, SIZE, None)
                    .await
                    .1
                    .unwrap_or_else(|e| panic!("{what}: sending: {e}"));
                let subflows = stream.lock().subflows();
                w.shutdown().await.unwrap();
                subflows
            };
            // Read at once: the kernel's writer gives up after its I/O timeout.
            let (subflows, ()) = tokio::join!(send, recv_intact(r, recv_tag, MIB, &what));
            subflows
        };
        let (counts, subflows) = tokio::join!(window, upload);
        assert!(
            started.elapsed() > WINDOW + Duration::from_secs(4),
            "{what}: the upload outran the window"
        );
        (counts, subflows)
    });
    let received = format!("received={SIZE}");
    let line = finish_kernel(&what, &peer, opening.kernel, &[&received, "proto=mptcp "]);
    finish_kernel(&what, &tcp_peer, tcp_client, &[]);
    let tcp_line = finish_kernel(&what, &tcp_server_peer, tcp_server, &[&received]);
    let (a, b) = (after[0] - before[0], after[1] - before[1]);
    let share = a as f64 / (a + b).max(1) as f64;
    println!(
        "{what}: our share {:.1} % ({a} against {b} bytes over {WINDOW:?})\n  {line}\n  {tcp_line}\n{}\nkernel {:?}",
        share * 100.0,
        describe_subflows(&subflows),
        setup.nonzero_counters()
    );
    assert_eq!(live(&subflows).len(), 2, "{what}: two subflows");
    share
}

/// Ignored until it holds reliably (issue 13 stays open): lia's share in four runs was
/// 44.4, 51.9, 61.1 % (the last in a CI run, where our uncoupled NewReno also took 61.0 %,
/// against 65.1 and 77.1 % in the others); the 20 s window and one competitor leave too
/// much variance to tell coupled from uncoupled every time.
#[test]
#[ignore = "not yet reliable: lia took 44-61 % in four runs (uncoupled reno 61-77 %)"]
fn our_lia_connection_takes_about_half_of_a_bottleneck_shared_with_a_kernel_tcp_flow() {
    let lia = share("cc-lia", "lia", "reno");
    let reno = share("cc-ren", "reno", "reno");
    println!(
        "our share: lia {:.1} %, uncoupled reno {:.1} % (against the kernel's NewReno)",
        lia * 100.0,
        reno * 100.0
    );
    assert!((0.40..=0.60).contains(&lia), "lia's share {lia:.3}");
}
