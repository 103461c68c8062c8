//! Our TCP against the Linux kernel's TCP: the `mptcp-tun` runtime on TUN device
//! `tun1` in "ours", the kernel's plain TCP (`kernel-peer --tcp`) in "kernel"
//! (the stack offers MPTCP and falls back). Each side sends the `kernel-peer`
//! byte pattern and verifies what it receives, byte for byte. Needs root.
//!
//! - **The matrix**: 64 MiB each way at once, our client → kernel server and
//!   kernel client → our server, IPv4 and IPv6, without loss and with 1 % random
//!   loss each way ([`ImpairedDevice`] between our stack and its TUN device, so
//!   both TCPs lose segments and must recover them). Each case prints its
//!   duration, goodput and loss counters.
//! - **The kernel's view**: `ss -tin` in "kernel" during a transfer shows SACK,
//!   timestamps, the window scales both sides announced and the MSS.
//! - **Close outcomes** as `MptcpStream` reports them: half-close in both
//!   directions and both roles, a RST from the kernel mid-transfer
//!   (`ConnectionReset` on read and write), a refused connect (IPv4, IPv6).

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mptcp_interop::{
    ImpairCounters, ImpairedDevice, KernelPeer, Loss, Opening, Path, Role, Topology,
    TopologyBuilder, assert_intact, create_tun, exchange, finish_kernel, proc_counters,
    recv_pattern, require_root, send_pattern, write_pattern,
};
use mptcp_tun::{Interface, MptcpListener, MptcpStream, Runtime, RuntimeConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

const PEER: &str = env!("CARGO_BIN_EXE_kernel-peer");
const MIB: u64 = 1024 * 1024;
/// Every test has its own namespaces, so all can use the same port.
const PORT: u16 = 5201;
/// MTU of the TUN device and the veths.
const MTU: usize = 1500;
/// Bytes each way in a matrix case.
const MATRIX_SIZE: u64 = 64 * MIB;
/// Bound of a matrix case (debug build, two cases at once on two cores).
const MATRIX_LIMIT: Duration = Duration::from_secs(150);
/// Drop probability of the lossy matrix cases, each way.
const LOSS: f64 = 0.01;
/// Bytes of the bulk direction of the close tests.
const BULK: u64 = 8 * MIB;
/// Bytes of the short direction of the close tests.
const SHORT: u64 = 64 * 1024;
/// Bound of the other tests.
const LIMIT: Duration = Duration::from_secs(30);

/// The address family of the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn is_v6(self) -> bool {
        self == Family::V6
    }

    /// IP plus TCP header bytes without options.
    fn headers(self) -> usize {
        match self {
            Family::V4 => 40,
            Family::V6 => 60,
        }
    }
}

/// A topology with one path and our stack running on its TUN device, behind an
/// [`ImpairedDevice`].
struct Setup {
    // Field order is drop order: the stack, then its tokio runtime, then the
    // namespaces.
    stack: Runtime,
    rt: tokio::runtime::Runtime,
    topo: Topology,
    impair: ImpairCounters,
}

impl Setup {
    fn new(tag: &str, loss: Loss) -> Setup {
        require_root();
        let topo = TopologyBuilder::new(tag).build().unwrap();
        let rt = mptcp_interop::runtime().unwrap();
        let path = topo.path(1).unwrap().clone();
        let tun = create_tun(&topo, 1, rt.handle()).unwrap();
        let device = ImpairedDevice::new(tun, loss);
        let impair = device.counters();
        let interface = Interface {
            device,
            addrs: vec![path.tun.stack_v4.addr, path.tun.stack_v6.addr],
            mtu: MTU,
        };
        let stack = {
            let _in_runtime = rt.enter();
            Runtime::start(vec![interface], RuntimeConfig::default())
        };
        Setup {
            stack,
            rt,
            topo,
            impair,
        }
    }

    fn path(&self) -> &Path {
        self.topo.path(1).unwrap()
    }

    /// Starts the kernel's side of a connection (and our listener when we are
    /// the server); [`Opening::establish`] then completes it.
    fn open(&self, role: Role, family: Family, peer: &KernelPeer) -> Opening {
        match role {
            Role::OurClient => {
                let to = SocketAddr::new(self.path().kernel_addr(family.is_v6()), PORT);
                Opening::to_kernel_server(peer, self.topo.kernel(), to, to).unwrap()
            }
            Role::OurServer => {
                let tun = &self.path().tun;
                let ip = match family {
                    Family::V4 => tun.stack_v4.addr,
                    Family::V6 => tun.stack_v6.addr,
                };
                let at = SocketAddr::new(ip, PORT);
                let listener = MptcpListener::bind(&self.stack.handle(), at).unwrap();
                Opening::from_kernel_client(peer, self.topo.kernel(), listener, at).unwrap()
            }
        }
    }

    /// What a failure report needs: our stack's counters, the loss counters,
    /// the TUN device's counters and the kernel's view of its connections.
    fn diagnostics(&self) -> String {
        let tun = &self.path().tun.dev;
        let link = self.topo.ours().ip(&["-s", "link", "show", tun]);
        let ss = self.topo.kernel().exec("ss", &["-tino"]);
        format!(
            "stack: {:?}\nloss: in {}, out {}\n{}\nkernel: {}",
            self.stack.stats(),
            self.impair.inbound(),
            self.impair.outbound(),
            link.map_or_else(|e| e.to_string(), |f| f.stdout),
            ss.map_or_else(|e| e.to_string(), |f| f.stdout),
        )
    }

    /// `RetransSegs` of the kernel's TCP (`/proc/net/snmp` of namespace "kernel").
    fn kernel_retransmits(&self) -> u64 {
        proc_counters(self.topo.kernel(), "/proc/net/snmp", "Tcp")["RetransSegs"]
    }
}

/// A kernel peer with plain TCP that sends `send` and expects `expect` bytes.
fn kernel_peer(send: u64, expect: u64, limit: Duration) -> KernelPeer {
    KernelPeer::new(PEER).tcp().transfer(send, expect, limit)
}

/// Runs `future` on the setup's runtime within `limit`.
fn run<T>(setup: &Setup, what: &str, limit: Duration, future: impl Future<Output = T>) -> T {
    let outcome = setup.rt.block_on(async { timeout(limit, future).await });
    outcome.unwrap_or_else(|_| panic!("{what}: not done within {limit:?}\n{}", setup.diagnostics()))
}

// ---------------------------------------------------------------------------
// The matrix: 64 MiB each way at once.

/// One matrix case: `role`, `family`, with or without 1 % loss each way.
fn matrix(tag: &str, role: Role, family: Family, lossy: bool) {
    let seed = 0x5eed + 10 * (role as u64) + (family as u64);
    let loss = if lossy {
        Loss::both(LOSS, seed)
    } else {
        Loss::NONE
    };
    let what = format!(
        "{} over {family:?}, {}",
        role.describe(),
        if lossy { "1 % loss" } else { "no loss" }
    );
    let setup = Setup::new(tag, loss);
    let peer = kernel_peer(MATRIX_SIZE, MATRIX_SIZE, MATRIX_LIMIT);
    let opening = setup.open(role, family, &peer);
    let handle = setup.stack.handle();
    let elapsed = run(&setup, &what, MATRIX_LIMIT, async {
        let stream = opening.establish(&handle).await;
        let started = Instant::now();
        exchange(&what, stream, role, MATRIX_SIZE).await;
        started.elapsed()
    });
    let size = MATRIX_SIZE.to_string();
    let received = format!("received={size}");
    finish_kernel(&what, &peer, opening.kernel, &[&received, "end=eof"]);

    let (inbound, outbound) = (setup.impair.inbound(), setup.impair.outbound());
    let retransmits = setup.kernel_retransmits();
    let stats = setup.stack.stats();
    let mbit = MATRIX_SIZE as f64 * 8.0 / elapsed.as_secs_f64() / 1e6;
    eprintln!(
        "{what}: 2 x {} MiB in {:.2} s = {mbit:.0} Mbit/s each way; \
         kernel->us {inbound}, us->kernel {outbound} (seed {seed:#x}); \
         kernel RetransSegs {retransmits}; stack packets in {} out {}",
        MATRIX_SIZE / MIB,
        elapsed.as_secs_f64(),
        stats.packets_in,
        stats.packets_out,
    );
    // Each direction carried at least the data segments of 64 MiB.
    let min_packets = MATRIX_SIZE / (MTU - family.headers()) as u64;
    for (dir, tally) in [("kernel->us", inbound), ("us->kernel", outbound)] {
        assert!(tally.seen >= min_packets, "{what}: {dir}: {tally}");
        if lossy {
            assert!(tally.dropped > 0, "{what}: {dir}: {tally}");
            assert!(
                (0.7 * LOSS..1.3 * LOSS).contains(&tally.drop_rate()),
                "{what}: {dir}: {tally}, not about {} %",
                LOSS * 100.0
            );
        } else {
            assert_eq!(tally.dropped, 0, "{what}: {dir}: {tally}");
        }
    }
    if lossy {
        // The kernel's lost segments came back as its retransmissions.
        assert!(retransmits > 0, "{what}: the kernel retransmitted nothing");
    }
}

#[test]
fn our_client_exchanges_64mib_with_a_kernel_server_over_ipv4() {
    matrix("mc4", Role::OurClient, Family::V4, false);
}

#[test]
fn our_client_exchanges_64mib_with_a_kernel_server_over_ipv6() {
    matrix("mc6", Role::OurClient, Family::V6, false);
}

#[test]
fn our_client_exchanges_64mib_with_a_kernel_server_over_ipv4_with_1pct_loss() {
    matrix("mc4l", Role::OurClient, Family::V4, true);
}

#[test]
fn our_client_exchanges_64mib_with_a_kernel_server_over_ipv6_with_1pct_loss() {
    matrix("mc6l", Role::OurClient, Family::V6, true);
}

#[test]
fn a_kernel_client_exchanges_64mib_with_our_server_over_ipv4() {
    matrix("ms4", Role::OurServer, Family::V4, false);
}

#[test]
fn a_kernel_client_exchanges_64mib_with_our_server_over_ipv6() {
    matrix("ms6", Role::OurServer, Family::V6, false);
}

#[test]
fn a_kernel_client_exchanges_64mib_with_our_server_over_ipv4_with_1pct_loss() {
    matrix("ms4l", Role::OurServer, Family::V4, true);
}

#[test]
fn a_kernel_client_exchanges_64mib_with_our_server_over_ipv6_with_1pct_loss() {
    matrix("ms6l", Role::OurServer, Family::V6, true);
}

// ---------------------------------------------------------------------------
// The kernel's view of our connection.

/// The window scale a host announces for a receive buffer that may grow to
/// `space` bytes: the smallest shift that brings it under 64 KiB (RFC 7323
/// §2.3; our `TcpConnection` and Linux's `tcp_select_initial_window` agree).
fn wscale_for(space: u64) -> u8 {
    let mut shift = 0;
    while shift < 14 && space >> shift > 65_535 {
        shift += 1;
    }
    shift
}

/// The kernel's `ss -tin` text for the connection on [`PORT`], once it shows
/// the TCP info line.
fn kernel_ss(topo: &Topology) -> String {
    let until = Instant::now() + Duration::from_secs(5);
    let port = format!(":{PORT}");
    let filter = ["(", "sport", "=", &port, "or", "dport", "=", &port, ")"];
    // No state filter: the kernel may have sent all its data and be in
    // FIN-WAIT-2 already, while we still hold our side open.
    let mut args = vec!["-Htino"];
    args.extend(filter);
    loop {
        let out = topo.kernel().exec("ss", &args).unwrap().stdout;
        if out.contains("wscale:") || Instant::now() > until {
            return out.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// While a transfer runs, `ss -tin` in "kernel" must show the options both
/// sides negotiated: SACK, timestamps, `wscale:<ours>,<the kernel's>` and the
/// MSS our SYN allowed (MTU − headers − 12 bytes of timestamp option).
fn kernel_view(tag: &str, role: Role, family: Family) {
    let what = format!("{} over {family:?}", role.describe());
    let setup = Setup::new(tag, Loss::NONE);
    let peer = kernel_peer(BULK, BULK, LIMIT);
    let opening = setup.open(role, family, &peer);
    let handle = setup.stack.handle();
    let (send_tag, recv_tag) = role.tags();
    let ss = run(&setup, &what, LIMIT, async {
        let stream = opening.establish(&handle).await;
        let (r, mut w) = tokio::io::split(stream);
        let sender = async {
            // Half the data, then look while the connection is busy (our FIN is
            // held back until ss has answered), then the rest. `ss` blocks this
            // thread only; the stack's tasks run on the runtime's workers.
            let (n, first) = write_pattern(&mut w, send_tag, 0, BULK / 2, None).await;
            first.unwrap();
            let ss = tokio::task::block_in_place(|| kernel_ss(&setup.topo));
            write_pattern(&mut w, send_tag, n, BULK, None)
                .await
                .1
                .unwrap();
            w.shutdown().await.unwrap();
            ss
        };
        let (ss, received) = tokio::join!(sender, recv_pattern(r, recv_tag, None));
        assert_intact(&what, &received, BULK);
        ss
    });
    finish_kernel(&what, &peer, opening.kernel, &["end=eof"]);
    eprintln!("{what}: kernel's ss -tin: {ss}");

    let ours = wscale_for(RuntimeConfig::default().tcp.recv_buffer_max as u64);
    let kernel = setup.topo.kernel();
    let tcp_rmem_max: u64 = kernel
        .read_sysctl("net.ipv4.tcp_rmem")
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .parse()
        .unwrap();
    let rmem_max: u64 = kernel
        .read_sysctl("net.core.rmem_max")
        .unwrap()
        .parse()
        .unwrap();
    let theirs = wscale_for(tcp_rmem_max.max(rmem_max));
    // ss prints the kernel's send shift (what we announced) first.
    let wscale = format!("wscale:{ours},{theirs}");
    let mss = format!("mss:{}", MTU - family.headers() - 12);
    let tun = &setup.path().tun;
    let ours_addr = match family {
        Family::V4 => format!("{}:", tun.stack_v4.addr),
        Family::V6 => format!("[{}]:", tun.stack_v6.addr),
    };
    assert!(ss.contains(&ours_addr), "{what}: not our connection: {ss}");
    let tokens: Vec<&str> = ss.split_whitespace().collect();
    for want in ["ts", "sack", &wscale, &mss] {
        assert!(tokens.contains(&want), "{what}: no `{want}` in: {ss}");
    }
}

#[test]
fn the_kernel_sees_sack_timestamps_window_scale_and_mss_of_our_client_over_ipv4() {
    kernel_view("ssc4", Role::OurClient, Family::V4);
}

#[test]
fn the_kernel_sees_sack_timestamps_window_scale_and_mss_of_our_server_over_ipv6() {
    kernel_view("sss6", Role::OurServer, Family::V6);
}

// ---------------------------------------------------------------------------
// Close outcomes.

/// Who half-closes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum First {
    /// The kernel sends a little and shuts down its sending side at once; we
    /// read to the end, then send 8 MiB, which the kernel still reads.
    Kernel,
    /// We send a little and shut down before the kernel (which waits 200 ms)
    /// starts its 8 MiB; we read them all.
    Us,
}

fn half_close(tag: &str, role: Role, first: First) {
    let what = format!("{} half-closed by {first:?} first", role.describe());
    let setup = Setup::new(tag, Loss::NONE);
    let (send_tag, recv_tag) = role.tags();
    let peer = match first {
        First::Kernel => kernel_peer(SHORT, BULK, LIMIT),
        First::Us => kernel_peer(BULK, SHORT, LIMIT)
            .arg("--start-delay-ms")
            .arg("200"),
    };
    let opening = setup.open(role, Family::V4, &peer);
    let handle = setup.stack.handle();
    run(&setup, &what, LIMIT, async {
        let mut stream = opening.establish(&handle).await;
        match first {
            First::Kernel => {
                // The kernel's FIN arrives before we have sent a byte...
                let received = recv_pattern(&mut stream, recv_tag, None).await;
                assert_intact(&what, &received, SHORT);
                // ... and our direction stays open for all of ours.
                send_pattern(&mut stream, send_tag, BULK, None)
                    .await
                    .unwrap();
                let mut buf = [0u8; 16];
                assert_eq!(stream.read(&mut buf).await.unwrap(), 0, "{what}: EOF again");
            }
            First::Us => {
                send_pattern(&mut stream, send_tag, SHORT, None)
                    .await
                    .unwrap();
                let err = stream.write(b"late").await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{what}: {err}");
                let received = recv_pattern(&mut stream, recv_tag, None).await;
                assert_intact(&what, &received, BULK);
            }
        }
    });
    let received = match first {
        First::Kernel => format!("received={BULK}"),
        First::Us => format!("received={SHORT}"),
    };
    let out = finish_kernel(&what, &peer, opening.kernel, &[&received, "end=eof"]);
    eprintln!("{what}: {}", out.trim_end());
}

#[test]
fn the_kernel_client_half_closes_first_and_still_reads_8mib_from_our_server() {
    half_close("hcks", Role::OurServer, First::Kernel);
}

#[test]
fn the_kernel_server_half_closes_first_and_still_reads_8mib_from_our_client() {
    half_close("hckc", Role::OurClient, First::Kernel);
}

#[test]
fn our_client_half_closes_first_and_still_reads_8mib_from_the_kernel_server() {
    half_close("hcuc", Role::OurClient, First::Us);
}

#[test]
fn our_server_half_closes_first_and_still_reads_8mib_from_the_kernel_client() {
    half_close("hcus", Role::OurServer, First::Us);
}

/// The kernel sends 256 KiB, reads 1 MiB of our endless stream and aborts
/// (`SO_LINGER` 0, unread data left): our writer and our reader both see
/// `ConnectionReset`, after the kernel's bytes arrived intact.
fn kernel_reset(tag: &str, role: Role) {
    const KERNEL_SENDS: u64 = 256 * 1024;
    const KERNEL_READS: u64 = MIB;
    let what = format!("{} reset by the kernel", role.describe());
    let setup = Setup::new(tag, Loss::NONE);
    let (send_tag, recv_tag) = role.tags();
    let peer = kernel_peer(KERNEL_SENDS, KERNEL_READS, LIMIT).arg("--linger0");
    let opening = setup.open(role, Family::V4, &peer);
    let handle = setup.stack.handle();
    let ((written, write_end), received) = run(&setup, &what, LIMIT, async {
        let stream = opening.establish(&handle).await;
        let (r, w) = tokio::io::split(stream);
        tokio::join!(
            write_pattern(w, send_tag, 0, MATRIX_SIZE, None),
            recv_pattern(r, recv_tag, None)
        )
    });
    eprintln!(
        "{what}: wrote {written} bytes, then {write_end:?}; read {} bytes, then {:?}",
        received.bytes, received.end
    );
    let read_kind = received.end.as_ref().map_err(io::Error::kind).err();
    assert_eq!(
        read_kind,
        Some(io::ErrorKind::ConnectionReset),
        "{what}: read"
    );
    assert_eq!(received.first_bad, None, "{what}: pattern broken");
    assert!(received.bytes <= KERNEL_SENDS, "{what}: read too much");
    let write_kind = write_end.map_err(|e| e.kind()).err();
    assert_eq!(
        write_kind,
        Some(io::ErrorKind::ConnectionReset),
        "{what}: write"
    );
    assert!(written >= KERNEL_READS, "{what}: wrote only {written}");
    let received = format!("received={KERNEL_READS}");
    finish_kernel(&what, &peer, opening.kernel, &[&received, "end=expected"]);
}

#[test]
fn a_kernel_reset_mid_transfer_is_connection_reset_for_our_client() {
    kernel_reset("rstc", Role::OurClient);
}

#[test]
fn a_kernel_reset_mid_transfer_is_connection_reset_for_our_server() {
    kernel_reset("rsts", Role::OurServer);
}

/// Connecting to a kernel port nobody listens on fails with `ConnectionRefused`.
fn refused(tag: &str, family: Family) {
    let setup = Setup::new(tag, Loss::NONE);
    let to = SocketAddr::new(setup.path().kernel_addr(family.is_v6()), PORT);
    let handle = setup.stack.handle();
    let err = run(&setup, "connect", LIMIT, MptcpStream::connect(&handle, to)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{to}: {err}");
}

#[test]
fn connecting_to_a_closed_kernel_port_is_refused_over_ipv4() {
    refused("ref4", Family::V4);
}

#[test]
fn connecting_to_a_closed_kernel_port_is_refused_over_ipv6() {
    refused("ref6", Family::V6);
}
