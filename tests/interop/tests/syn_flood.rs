//! A Linux kernel MPTCP client gets through a SYN flood to our listener. The listener's
//! SYN queue is small (16) and a flood of SYNs from spoofed sources fills it; RFC 4987
//! §3.6 (SYN cookies) is the defence under test: once the queue is full our stack answers
//! statelessly with a cookie SYN/ACK (MP_CAPABLE included, our key derived from the
//! cookie secret) and builds the connection when the ACK returns the cookie. Needs root.
//!
//! - **The flood**: [`SYNS`] crafted SYNs (with MP_CAPABLE, from random sources in
//!   [`SPOOFED`], which exists nowhere) over [`FLOOD_TIME`], from a raw socket
//!   (`IPPROTO_RAW`, so `IP_HDRINCL`) in namespace "kernel" to our listener. Our cookie
//!   SYN/ACKs to those sources die in a blackhole route in "ours" (in the path's table,
//!   which routes everything our stack sends); "ours" has no reverse-path filter, so the
//!   spoofed SYNs are forwarded to our TUN device.
//! - **The client**: once cookies are going out, `kernel-peer` (`IPPROTO_MPTCP`)
//!   connects while the flood goes on and exchanges [`SIZE`] each way, checked byte for
//!   byte on both sides; the connection is MPTCP on both ends, it came through the cookie
//!   path, and the flood was still running when it was established.

mod mptcp_support;

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mptcp_interop::{Namespace, Opening, Role, Topology, exchange, finish_kernel, wait_for};
use mptcp_proto::wire::mptcp::{MpCapable, capable_flags};
use mptcp_proto::wire::{MptcpOption, SeqNum, TcpFlags, TcpOption, TcpRepr, tcp_packet};
use mptcp_support::{MIB, PORT, Setup, kernel_peer};
use mptcp_tun::{MptcpListener, RuntimeConfig};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// SYNs in the flood.
const SYNS: u64 = 50_000;
/// How long the flood takes (it is paced evenly over this time).
const FLOOD_TIME: Duration = Duration::from_secs(5);
/// Where the flood's sources come from: a prefix no namespace has.
const SPOOFED: &str = "10.99.0.0/16";
/// Our listener's backlog: the SYN queue the flood overflows.
const BACKLOG: usize = 16;
/// Bytes each way.
const SIZE: u64 = 4 * MIB;
/// Bound of the connection and transfer (debug build, flood running).
const LIMIT: Duration = Duration::from_secs(60);

/// The flood, running on its own thread.
struct Flood {
    /// SYNs handed to the raw socket so far.
    sent: Arc<AtomicU64>,
    /// Set to end the flood early (when the test fails).
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<io::Result<FloodReport>>>,
}

/// What the flood did.
#[derive(Debug)]
struct FloodReport {
    sent: u64,
    /// Sends the socket refused (`ENOBUFS` and the like).
    refused: u64,
    took: Duration,
}

impl Flood {
    /// Starts sending [`SYNS`] SYNs over [`FLOOD_TIME`] to `to` from a raw socket
    /// opened in `ns`.
    fn start(ns: &Namespace, to: SocketAddr) -> Flood {
        let socket = ns
            .run_in(|| {
                Socket::new(
                    Domain::IPV4,
                    Type::RAW,
                    Some(Protocol::from(libc::IPPROTO_RAW)),
                )
            })
            .unwrap()
            .expect("raw socket in the kernel namespace");
        let sent = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (sent, stop) = (sent.clone(), stop.clone());
            std::thread::spawn(move || flood(&socket, to, &sent, &stop))
        };
        Flood {
            sent,
            stop,
            thread: Some(thread),
        }
    }

    /// SYNs sent so far.
    fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Waits for the flood to end.
    fn finish(mut self) -> FloodReport {
        let thread = self.thread.take().unwrap();
        thread
            .join()
            .unwrap()
            .expect("the flood's raw socket failed")
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The flood's loop: batches of 100 SYNs, each batch at its time.
fn flood(
    socket: &Socket,
    to: SocketAddr,
    sent: &AtomicU64,
    stop: &AtomicBool,
) -> io::Result<FloodReport> {
    const BATCH: u64 = 100;
    let mut rng = ChaCha8Rng::seed_from_u64(4987);
    let started = Instant::now();
    let dest = SockAddr::from(to);
    let mut refused = 0;
    let mut count = 0;
    while count < SYNS && !stop.load(Ordering::Relaxed) {
        let due = FLOOD_TIME.mul_f64(count as f64 / SYNS as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        for _ in 0..BATCH.min(SYNS - count) {
            let syn = spoofed_syn(&mut rng, to);
            match socket.send_to(&syn, &dest) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => refused += 1,
                Err(e) => return Err(e),
            }
            count += 1;
        }
        sent.store(count, Ordering::Relaxed);
    }
    Ok(FloodReport {
        sent: count - refused,
        refused,
        took: started.elapsed(),
    })
}

/// A SYN with MP_CAPABLE (as the kernel's client sends it) from a random source in
/// [`SPOOFED`] to `to`: IPv4 header and all, checksums filled in.
fn spoofed_syn(rng: &mut ChaCha8Rng, to: SocketAddr) -> Vec<u8> {
    let IpAddr::V4(dst) = to.ip() else {
        panic!("the flood is IPv4");
    };
    let r = rng.next_u64();
    let src = Ipv4Addr::new(10, 99, (r >> 8) as u8, r as u8);
    let tcp = TcpRepr {
        src_port: 1024 + (r >> 16) as u16 % 60_000,
        dst_port: to.port(),
        seq_number: SeqNum((r >> 32) as u32),
        ack_number: SeqNum(0),
        flags: TcpFlags::SYN,
        window_len: 64_240,
        urgent_at: 0,
        options: vec![
            TcpOption::MaxSegmentSize(1460),
            TcpOption::SackPermitted,
            TcpOption::WindowScale(7),
            TcpOption::Mptcp(MptcpOption::MpCapable(MpCapable {
                version: 1,
                flags: capable_flags::HMAC_SHA,
                sender_key: None,
                receiver_key: None,
                data_len: None,
                checksum: None,
            })),
        ],
        payload: &[],
    };
    tcp_packet(
        SocketAddr::new(src.into(), tcp.src_port),
        SocketAddr::new(dst.into(), tcp.dst_port),
        &tcp,
    )
}

/// Our answers to [`SPOOFED`] die in "ours": a blackhole in the main table and in each
/// path's table (which routes what our stack sends), and one in "kernel" too.
fn blackhole_spoofed(topo: &Topology) {
    for p in topo.paths() {
        let table = p.table.to_string();
        topo.ours()
            .ip(&["route", "add", "blackhole", SPOOFED, "table", &table])
            .unwrap();
    }
    topo.ours()
        .ip(&["route", "add", "blackhole", SPOOFED])
        .unwrap();
    topo.kernel()
        .ip(&["route", "add", "blackhole", SPOOFED])
        .unwrap();
}

#[test]
fn a_kernel_mptcp_client_exchanges_4mib_with_our_server_during_a_syn_flood() {
    let what = "kernel client -> our server (backlog 16) during a SYN flood";
    let setup = Setup::new("sf4", 1, false, None, RuntimeConfig::default());
    blackhole_spoofed(&setup.topo);
    let handle = setup.stack.handle();
    let at = SocketAddr::new(setup.our_addr(1), PORT);
    let listener = {
        let _rt = setup.stack.enter();
        MptcpListener::bind_with_backlog(&handle, at, BACKLOG).unwrap()
    };
    let runtime = setup.stack.runtime();
    let flood = Flood::start(setup.topo.kernel(), at);
    // The client comes once the queue is full and cookies answer.
    setup.run(what, LIMIT, async {
        wait_for("cookies", FLOOD_TIME, || {
            (runtime.stats().syn_cookies_sent >= 100).then_some(())
        })
        .await;
    });
    let flood_before = flood.sent();
    let peer = kernel_peer(SIZE, SIZE, LIMIT);
    let started = Instant::now();
    let opening = Opening::from_kernel_client(&peer, setup.topo.kernel(), listener, at).unwrap();
    let (connected, flood_at_connect, transfer, mptcp) = setup.run(what, LIMIT, async {
        let stream = opening.establish(&handle).await;
        let (connected, flood_at_connect) = (started.elapsed(), flood.sent());
        let mptcp = stream.is_mptcp();
        let started = Instant::now();
        exchange(what, stream, Role::OurServer, SIZE).await;
        (connected, flood_at_connect, started.elapsed(), mptcp)
    });
    let flood_after = flood.sent();
    let received = format!("received={SIZE}");
    let line = finish_kernel(
        what,
        &peer,
        opening.kernel,
        &[&received, "end=eof", "proto=mptcp "],
    );
    let report = flood.finish();
    let stats = runtime.stats();
    let device = setup.stack.impair(1).unwrap();
    eprintln!(
        "{what}:\n  flood: {} SYNs sent ({} refused) in {:.2} s; {flood_before} before the \
         client started, {flood_at_connect} when it was accepted, {flood_after} when the \
         transfer ended\n  our device: {} packets in, {} out\n  our stack: {} cookies sent, {} accepted, {} half-open evicted, \
         {} backlog drops, {} SYNs without a cookie (reply queue full)\n  connect {:.3} s, 2 x {} MiB in {:.2} s\n  {line}",
        report.sent,
        report.refused,
        report.took.as_secs_f64(),
        device.inbound().seen,
        device.outbound().seen,
        stats.syn_cookies_sent,
        stats.syn_cookies_accepted,
        stats.half_open_evicted,
        stats.backlog_drops,
        stats.syn_cookies_dropped,
        connected.as_secs_f64(),
        SIZE / MIB,
        transfer.as_secs_f64(),
    );
    assert!(mptcp, "{what}: our stream is not MPTCP");
    assert!(
        flood_at_connect < SYNS,
        "{what}: the flood ended before the connection was established"
    );
    assert!(
        stats.syn_cookies_sent >= 1_000,
        "{what}: the flood did not overflow the SYN queue: {stats:?}"
    );
    assert!(
        stats.syn_cookies_accepted >= 1,
        "{what}: the client did not come through the cookie path: {stats:?}"
    );
}
