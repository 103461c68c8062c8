//! `mptcp-bench`: goodput of one MPTCP connection over two veth paths, our stack (on two
//! TUN devices) against the Linux kernel's MPTCP, next to kernel MPTCP on both ends, in the
//! same run.
//!
//! ```text
//! cargo run --release -p mptcp-interop --example mptcp-bench -- [--bytes N]
//!     [--shaped-bytes N] [--rate MBIT[,MBIT]] [--runs R] [--payload pattern|zeros] [--json]
//! ```
//!
//! (Under `cargo run` it builds the `kernel-peer` binary itself if it is missing.)
//!
//! **Needs root** (it creates network namespaces, veth pairs and TUN devices); without it,
//! it says so and exits with status 2. One [`Topology`] with two paths is built (veth
//! offloads as the kernel sets them), with MPTCP limits in both namespaces, our stack on
//! `tun1` + `tun2` (10.1.1.2 and 10.1.2.2, path manager "simple"). Then, for each setting,
//! `--runs` times each, the median reported:
//!
//! - `kernel->kernel`: a kernel MPTCP client in "ours" (10.0.1.2 on `o1`) sends N bytes to
//!   a kernel MPTCP server in "kernel" (10.0.1.1, listening on every address). For this
//!   transfer only, "kernel" has a `signal` endpoint for 10.0.2.1 on `k2`: the client joins
//!   it from 10.0.1.2 over `o2`. (A `subflow` endpoint for 10.0.2.2 in "ours" joins at once
//!   and the server, not yet fully established, rejects it in about half the runs.)
//! - `ours->kernel`: our stack connects from 10.1.1.2 to the kernel server and joins from
//!   10.1.2.2 (which leaves on path 2), then sends N bytes. The kernel server (kernel-peer
//!   `--shutdown-after-eof`, in both kernel-server transfers) keeps its sending side open
//!   until our data has ended: Linux takes no MP_JOIN once its side of the connection is
//!   closed, and a receive-only server would otherwise send its DATA_FIN at once. If the
//!   join is reset anyway, the benchmark opens it once more after the first 64 KiB
//!   (`ensure_join`) and reports that as `rejoined`;
//! - `kernel->ours`: a kernel MPTCP client in "kernel" connects to our listener on
//!   10.1.1.2; our stack announces 10.1.2.2 and the kernel joins towards it over path 2.
//!
//! Settings: `veth` (no rate limit) with `--bytes` per transfer, and `tbf` (a token bucket
//! of `--rate` Mbit/s on both ends of each veth; `--rate 15,5` gives path 1 15 Mbit/s and
//! path 2 5 Mbit/s) with `--shaped-bytes`. Every run checks
//! that the connection used both paths: our stack's subflows (`MptcpStream::subflows`,
//! established ones) and the kernel's `MPTCP_INFO` (`extra_subflows`). The per-path split
//! is the data direction's byte counters of `o1` and `o2` (frames, headers included).
//! Goodput, payload and CPU columns are measured as in `tcp-bench`.

mod bench_common;

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bench_common::{
    IO_BLOCK, Kind, Payload, Sample, check_count, check_verified, cpus, default_peer, measure,
    median, parse_count, parse_size, recv_all, send_range, sink, source,
};
use mptcp_interop::{KernelPeer, Loss, Namespace, OurStack, Tbf, Topology, TopologyBuilder};
use mptcp_tun::{MptcpListener, MptcpStream, RuntimeConfig};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::AsyncWriteExt;

const USAGE: &str = "\
usage: mptcp-bench [--bytes N] [--shaped-bytes N] [--rate MBIT[,MBIT]] [--settings LIST]
                   [--runs R]
                   [--only LIST] [--payload pattern|zeros] [--checksum] [--json] [--peer PATH]
  --bytes N         bytes per transfer without a rate limit (default 1073741824 = 1 GiB;
                    suffixes K, M, G)
  --shaped-bytes N  bytes per transfer through tbf (default 128M)
  --rate MBIT[,MBIT] tbf rate of each path, Mbit/s (default 100); two values (e.g. 15,5 or
                    15M,5M) give path 1 and path 2 their own
  --settings LIST   comma-separated subset of veth,tbf (default both)
  --runs R          repetitions of each transfer; the median is reported (default 3)
  --only LIST       comma-separated subset of kk,ok,ko (kernel->kernel, ours->kernel,
                    kernel->ours)
  --payload P       `pattern` (default): kernel-peer on the kernel side, every byte generated
                    and checked at both ends; `zeros`: the kernel side is MPTCP sockets in this
                    process, zeros are sent and only counted
  --checksum        our stack asks for DSS checksums
  --verbose         after each transfer, print the kernels' non-zero MPTcpExt counters
  --json            also print the medians as one JSON object
  --peer PATH       the kernel-peer binary (default: next to this example's directory)
Needs root.";

/// `IPPROTO_MPTCP` from `<linux/in.h>`.
const IPPROTO_MPTCP: i32 = 262;
/// `SOL_MPTCP` from `<linux/socket.h>`.
const SOL_MPTCP: libc::c_int = 284;
/// `MPTCP_INFO` from `<linux/mptcp.h>`.
const MPTCP_INFO: libc::c_int = 1;
/// Paths of the topology.
const PATHS: [u8; 2] = [1, 2];
/// Policy routing table in "kernel" for what leaves from its path-2 address.
const KERNEL_TABLE: u32 = 202;

impl Kind {
    /// Whether the data leaves namespace "ours" (on `o1`/`o2`) rather than arrives there.
    fn data_leaves_ours(self) -> bool {
        self != Kind::KernelToOurs
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Setting {
    /// The veths as they are.
    Veth,
    /// `tbf` of `--rate` on both ends of each veth.
    Tbf,
}

impl Setting {
    fn name(self) -> &'static str {
        match self {
            Setting::Veth => "veth",
            Setting::Tbf => "tbf",
        }
    }
}

struct Options {
    bytes: u64,
    shaped_bytes: u64,
    /// The tbf rate of path 1 and of path 2, Mbit/s.
    rate_mbit: [u64; 2],
    settings: Vec<Setting>,
    payload: Payload,
    checksum: bool,
    verbose: bool,
    runs: usize,
    json: bool,
    kinds: Vec<Kind>,
    peer: PathBuf,
}

/// `--rate`: one rate for both paths, or one each (`15,5`; an `M` suffix is allowed).
fn parse_rates(v: &str) -> Result<[u64; 2], String> {
    let one = |r: &str| {
        r.trim()
            .trim_end_matches(['M', 'm'])
            .parse::<u64>()
            .ok()
            .filter(|&r| r > 0)
            .ok_or(format!("not a rate in Mbit/s: {r:?} (in --rate {v:?})"))
    };
    match v.split(',').collect::<Vec<_>>()[..] {
        [both] => Ok([one(both)?; 2]),
        [first, second] => Ok([one(first)?, one(second)?]),
        _ => Err(format!("--rate takes one or two rates: {v:?}")),
    }
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        bytes: 1 << 30,
        shaped_bytes: 128 << 20,
        rate_mbit: [100, 100],
        settings: vec![Setting::Veth, Setting::Tbf],
        payload: Payload::Pattern,
        checksum: false,
        verbose: false,
        runs: 3,
        json: false,
        kinds: Kind::ALL.to_vec(),
        peer: default_peer(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--bytes" => opts.bytes = parse_size(&value()?)?,
            "--shaped-bytes" => opts.shaped_bytes = parse_size(&value()?)?,
            "--rate" => {
                opts.rate_mbit = parse_rates(&value()?)?;
            }
            "--settings" => {
                let v = value()?;
                opts.settings = [Setting::Veth, Setting::Tbf]
                    .into_iter()
                    .filter(|s| v.split(',').any(|w| w == s.name()))
                    .collect();
                if opts.settings.is_empty() {
                    return Err(format!("--settings takes veth,tbf, not {v:?}"));
                }
            }
            "--runs" => opts.runs = parse_count(&value()?)?,
            "--only" => opts.kinds = Kind::parse_list(&value()?)?,
            "--payload" => opts.payload = Payload::parse(&value()?)?,
            "--checksum" => opts.checksum = true,
            "--verbose" => opts.verbose = true,
            "--json" => opts.json = true,
            "--peer" => opts.peer = PathBuf::from(value()?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(opts)
}

/// One measured transfer and what it used.
#[derive(Clone, Copy, Debug)]
struct Outcome {
    sample: Sample,
    /// Bytes the veths `o1`, `o2` counted in the data's direction during the transfer.
    path_bytes: [u64; 2],
    /// Our stack's subflows whose handshake completed, and all it had (our transfers only).
    ours_subflows: Option<(usize, usize)>,
    /// The kernel's `MPTCP_INFO` subflows beyond the first (`None`: not MPTCP).
    kernel_extra: Option<u8>,
    /// How often the benchmark opened our path-2 subflow again (the kernel rejected it).
    rejoined: u32,
}

impl Outcome {
    /// Share of path 1 in the data's bytes.
    fn path1_share(&self) -> f64 {
        let total = self.path_bytes[0] + self.path_bytes[1];
        self.path_bytes[0] as f64 / total.max(1) as f64
    }

    /// Whether both paths carried the connection, as both sides report it.
    fn problems(&self, kind: Kind) -> Vec<String> {
        let mut problems = Vec::new();
        if self.kernel_extra != Some(1) {
            problems.push(format!(
                "kernel extra_subflows={:?}, wanted 1",
                self.kernel_extra
            ));
        }
        if kind != Kind::KernelToKernel && self.ours_subflows.map(|(e, _)| e) != Some(2) {
            problems.push(format!(
                "our established subflows {:?}, wanted 2",
                self.ours_subflows
            ));
        }
        problems
    }

    fn subflows_text(&self) -> String {
        let kernel = self
            .kernel_extra
            .map_or("kernel not MPTCP".to_owned(), |n| format!("kernel +{n}"));
        let rejoined = match self.rejoined {
            0 => String::new(),
            n => format!(" (rejoined {n}x)"),
        };
        match self.ours_subflows {
            Some((live, all)) => format!("ours {live}/{all}{rejoined}, {kernel}"),
            None => kernel,
        }
    }
}

/// What kernel-peer printed as `extra_subflows=N` (`None` if it spoke no MPTCP).
fn peer_extra_subflows(stdout: &str) -> Option<u8> {
    if !stdout.contains("proto=mptcp ") {
        return None;
    }
    let (_, rest) = stdout.split_once("extra_subflows=")?;
    rest.split_whitespace().next()?.parse().ok()
}

/// The wildcard address with `port`: the kernel server of kernel->kernel listens there, so
/// that the join to its announced address finds the listener.
fn any(port: u16) -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], port))
}

/// `mptcpi_subflows` of a kernel MPTCP socket (`None` if it is not MPTCP or fell back).
fn socket_extra_subflows(stream: &TcpStream) -> Option<u8> {
    let mut buf = [0u8; 256];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: `buf` is valid for writes of `len` bytes, `len` points to a live socklen_t,
    // and the descriptor belongs to `stream` for the whole call.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            SOL_MPTCP,
            MPTCP_INFO,
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    // struct mptcp_info starts with `__u8 mptcpi_subflows`.
    (rc == 0 && len > 0).then_some(buf[0])
}

fn mptcp_socket(at: SocketAddr) -> std::io::Result<Socket> {
    Socket::new(
        Domain::for_address(at),
        Type::STREAM,
        Some(Protocol::from(IPPROTO_MPTCP)),
    )
}

/// A kernel MPTCP listener in namespace `ns`.
fn kernel_listener(ns: &Namespace, at: SocketAddr) -> Result<TcpListener, String> {
    ns.run_in(move || {
        let socket = mptcp_socket(at)?;
        socket.set_reuse_address(true)?;
        socket.bind(&at.into())?;
        socket.listen(8)?;
        Ok::<_, std::io::Error>(TcpListener::from(socket))
    })
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("MPTCP listener on {at}: {e}"))
}

/// A kernel MPTCP connection from namespace `ns`.
fn kernel_connect(ns: &Namespace, at: SocketAddr) -> Result<TcpStream, String> {
    ns.run_in(move || {
        let socket = mptcp_socket(at)?;
        socket.connect(&at.into())?;
        Ok::<_, std::io::Error>(TcpStream::from(socket))
    })
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("MPTCP connect to {at}: {e}"))
}

/// Accepts one connection and reads it to the end; returns the byte count and the kernel's
/// extra subflows at the end.
fn accept_and_sink(listener: TcpListener) -> Result<(u64, Option<u8>), String> {
    let (mut stream, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    let got = sink(&mut stream)?;
    Ok((got, socket_extra_subflows(&stream)))
}

/// Writes `len` zeros and half-closes; returns the kernel's extra subflows at the end.
fn source_and_info(mut stream: TcpStream, len: u64) -> Result<Option<u8>, String> {
    source(&mut stream, len)?;
    Ok(socket_extra_subflows(&stream))
}

/// Live subflows (handshake done, not closed) and all subflows of one of our connections.
fn our_subflows(stream: &MptcpStream) -> (usize, usize) {
    let all = stream.subflows();
    let live = all
        .iter()
        .filter(|s| s.established && s.tcp.state.is_synchronized())
        .count();
    (live, all.len())
}

/// Our client's join from `from` (the "simple" path manager opens it once the server's
/// first DSS arrives). Linux resets a join (`MPJoinRejected`) when its connection is not in
/// ESTABLISHED any more, e.g. after its own DATA_FIN (a receive-only server that shut down
/// its side at once), and our stack does not try again. Called after the first write:
/// waits until the join is confirmed (the kernel acknowledged our third ACK); once it was
/// reset and the kernel acknowledged data on the first subflow, opens it again (once).
/// Gives up after 100 ms (which count in the transfer's time). Returns how often it
/// opened the subflow again.
async fn ensure_join(stream: &MptcpStream, from: IpAddr, to: SocketAddr) -> Result<u32, String> {
    let mut rejoins = 0;
    let deadline = Instant::now() + Duration::from_millis(100);
    while Instant::now() < deadline {
        let subflows = stream.subflows();
        let mine: Vec<_> = subflows.iter().filter(|s| s.local.ip() == from).collect();
        let live = |s: &mptcp_tun::SubflowInfo| s.established && s.tcp.state.is_synchronized();
        if mine.iter().any(|s| live(s) && s.tcp.segments_in >= 2) {
            return Ok(rejoins);
        }
        let data_acked = subflows
            .iter()
            .any(|s| s.local.ip() != from && s.tcp.bytes_acked > 1);
        // Closed, not merely still in its handshake (SYN-SENT is not synchronized either:
        // counting it as reset opened a second join from the same address under load).
        let closed =
            |s: &&mptcp_tun::SubflowInfo| !s.tcp.state.is_synchronized() && !s.tcp.state.can_send();
        let all_reset = mine.iter().all(closed);
        if data_acked && all_reset && rejoins < 1 {
            stream
                .open_subflow(from, to, false)
                .map_err(|e| format!("open_subflow from {from}: {e}"))?;
            rejoins += 1;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(rejoins)
}

struct Bench {
    // Field order is drop order: the stack before the namespaces it runs in.
    stack: OurStack,
    topo: Topology,
    opts: Options,
    next_port: u16,
    setting: Setting,
}

impl Bench {
    fn new(opts: Options) -> Result<Bench, String> {
        let topo = TopologyBuilder::new("mpbench")
            .paths(2)
            .mptcp_limits(8, 8)
            .build()
            .map_err(|e| format!("topology: {e}"))?;
        // The kernel of "ours" as an MPTCP client (kernel->kernel) accepts the server's
        // ADD_ADDR of 10.0.2.1 (see `KERNEL_SIGNAL`) and joins it from 10.0.1.2 over o2 (the
        // connected route). Replies from 10.0.2.1 leave on k2 by a policy rule in "kernel".
        let p2 = topo.path(2).map_err(|e| e.to_string())?.clone();
        let (ours, kernel) = (topo.ours(), topo.kernel());
        let setup = || -> mptcp_interop::Result<()> {
            ours.mptcp_limits(8, 8)?;
            kernel.sysctl("net.ipv4.conf.all.rp_filter", "0")?;
            let addr = p2.kernel_v4.addr.to_string();
            let via = p2.router_v4.addr.to_string();
            let table = KERNEL_TABLE.to_string();
            kernel.ip(&["-4", "rule", "add", "from", &addr, "lookup", &table])?;
            kernel.ip(&[
                "-4",
                "route",
                "add",
                "default",
                "via",
                &via,
                "dev",
                &p2.kernel_dev,
                "table",
                &table,
            ])?;
            Ok(())
        };
        setup().map_err(|e| format!("routes for the kernel's second subflow: {e}"))?;
        let mut config = RuntimeConfig::default();
        config.mptcp.checksum = opts.checksum;
        let stack = OurStack::start(&topo, &PATHS, Loss::NONE, config)
            .map_err(|e| format!("our stack: {e}"))?;
        Ok(Bench {
            stack,
            topo,
            opts,
            next_port: 7000,
            setting: Setting::Veth,
        })
    }

    /// Puts `tbf` on both ends of every veth, or takes it off.
    fn apply(&mut self, setting: Setting) -> Result<(), String> {
        if setting == self.setting {
            return Ok(());
        }
        for (path, &rate) in self.topo.paths().iter().zip(&self.opts.rate_mbit) {
            let tbf = Tbf::mbit(rate).tc_args();
            for (ns, dev) in [
                (self.topo.kernel(), &path.kernel_dev),
                (self.topo.ours(), &path.ours_dev),
            ] {
                let mut args = match setting {
                    Setting::Tbf => vec!["qdisc", "replace", "dev", dev.as_str(), "root"],
                    Setting::Veth => vec!["qdisc", "del", "dev", dev.as_str(), "root"],
                };
                if setting == Setting::Tbf {
                    args.extend(tbf.iter().map(String::as_str));
                }
                ns.tc(&args).map_err(|e| format!("tc: {e}"))?;
            }
        }
        self.setting = setting;
        Ok(())
    }

    fn bytes(&self) -> u64 {
        match self.setting {
            Setting::Veth => self.opts.bytes,
            Setting::Tbf => self.opts.shaped_bytes,
        }
    }

    fn port(&mut self) -> u16 {
        self.next_port += 1;
        self.next_port
    }

    fn peer(&self) -> KernelPeer {
        // Generous bounds: 128 MiB at 100 Mbit/s (one path) is 11 s.
        let deadline = Duration::from_secs(60) + Duration::from_secs(self.bytes() / 5_000_000);
        KernelPeer::new(&self.opts.peer)
            .deadline(deadline)
            .io_timeout(Duration::from_secs(20))
    }

    fn kernel_addr(&self) -> IpAddr {
        self.topo.path(1).expect("path 1").kernel_v4.addr
    }

    fn stack_addr(&self) -> IpAddr {
        self.topo.path(1).expect("path 1").tun.stack_v4.addr
    }

    /// Our address on path 2.
    fn stack_addr2(&self) -> IpAddr {
        self.topo.path(2).expect("path 2").tun.stack_v4.addr
    }

    /// Received and sent bytes of `o1` and `o2` so far.
    fn veth_counters(&self) -> Result<[(u64, u64); 2], String> {
        let text = self
            .topo
            .ours()
            .run_in(|| std::fs::read_to_string("/proc/thread-self/net/dev"))
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("/proc/net/dev: {e}"))?;
        let mut out = [(0, 0); 2];
        for (i, path) in self.topo.paths().iter().enumerate().take(2) {
            let prefix = format!("{}:", path.ours_dev);
            let fields: Vec<u64> = text
                .lines()
                .find_map(|l| l.trim_start().strip_prefix(&prefix))
                .ok_or(format!("{} not in /proc/net/dev", path.ours_dev))?
                .split_whitespace()
                .filter_map(|f| f.parse().ok())
                .collect();
            // Receive: bytes packets errs drop fifo frame compressed multicast; transmit.
            out[i] = (fields[0], fields[8]);
        }
        Ok(out)
    }

    fn run(&mut self, kind: Kind) -> Result<Outcome, String> {
        // Kernel to kernel: the server announces its path-2 address and the client joins
        // it. (A `subflow` endpoint on the client instead joins at once and loses the race
        // with its first data in about half the runs: the server, not yet fully
        // established, rejects the join and the kernel does not try again.) Only for this
        // transfer: our client would join the announced address from its path-1 address.
        let kernel = self.topo.kernel();
        if kind == Kind::KernelToKernel {
            let p2 = self.topo.path(2).map_err(|e| e.to_string())?;
            kernel
                .mptcp_endpoint_add(&p2.kernel_v4.addr.to_string(), &p2.kernel_dev, &["signal"])
                .map_err(|e| format!("endpoint: {e}"))?;
        }
        let before = self.veth_counters()?;
        let result = match self.opts.payload {
            Payload::Pattern => self.run_pattern(kind),
            Payload::Zeros => self.run_zeros(kind),
        };
        if kind == Kind::KernelToKernel {
            self.topo
                .kernel()
                .ip(&["mptcp", "endpoint", "flush"])
                .map_err(|e| format!("endpoint flush: {e}"))?;
        }
        let (sample, ours_subflows, kernel_extra, rejoined) = result?;
        let after = self.veth_counters()?;
        if self.opts.verbose {
            for ns in [self.topo.kernel(), self.topo.ours()] {
                // `nstat` keeps its history per user: -s (no update) -a (absolute).
                let out = ns
                    .exec("nstat", &["-asz", "MPTcp*"])
                    .map_or_else(|e| e.to_string(), |f| f.stdout);
                let nonzero: Vec<&str> = out
                    .lines()
                    .filter(|l| l.split_whitespace().nth(1).is_some_and(|v| v != "0"))
                    .collect();
                println!("    {}: {}", ns.name(), nonzero.join("; "));
            }
        }
        let moved = |i: usize| {
            if kind.data_leaves_ours() {
                after[i].1 - before[i].1
            } else {
                after[i].0 - before[i].0
            }
        };
        Ok(Outcome {
            sample,
            path_bytes: [moved(0), moved(1)],
            ours_subflows,
            kernel_extra,
            rejoined,
        })
    }

    /// A transfer of zeros with the kernel side on MPTCP sockets of this process.
    #[allow(clippy::type_complexity)]
    fn run_zeros(
        &mut self,
        kind: Kind,
    ) -> Result<(Sample, Option<(usize, usize)>, Option<u8>, u32), String> {
        let bytes = self.bytes();
        let port = self.port();
        let mut ours = None;
        let mut kernel_extra = None;
        let mut rejoined = 0;
        let sample = match kind {
            Kind::KernelToKernel => {
                let at = SocketAddr::new(self.kernel_addr(), port);
                let listener = kernel_listener(self.topo.kernel(), any(port))?;
                measure(|| {
                    let started = Instant::now();
                    let receiver = std::thread::spawn(move || accept_and_sink(listener));
                    let mut stream = kernel_connect(self.topo.ours(), at)?;
                    source(&mut stream, bytes)?;
                    let (got, extra) = receiver.join().map_err(|_| "receiver panicked")??;
                    check_count(got, bytes)?;
                    kernel_extra = extra;
                    Ok(started)
                })?
            }
            Kind::OursToKernel => {
                let at = SocketAddr::new(self.kernel_addr(), port);
                let listener = kernel_listener(self.topo.kernel(), at)?;
                let handle = self.stack.handle();
                let second = self.stack_addr2();
                measure(|| {
                    let started = Instant::now();
                    let receiver = std::thread::spawn(move || accept_and_sink(listener));
                    ours = Some(self.stack.block_on(async {
                        let mut stream = MptcpStream::connect(&handle, at)
                            .await
                            .map_err(|e| format!("connect: {e}"))?;
                        let first = bytes.min(IO_BLOCK as u64);
                        send_range(&mut stream, 0, first, false).await?;
                        rejoined = ensure_join(&stream, second, at).await?;
                        send_range(&mut stream, first, bytes, false).await?;
                        let subflows = our_subflows(&stream);
                        stream
                            .shutdown()
                            .await
                            .map_err(|e| format!("shutdown: {e}"))?;
                        Ok::<_, String>(subflows)
                    })?);
                    let (got, extra) = receiver.join().map_err(|_| "receiver panicked")??;
                    check_count(got, bytes)?;
                    kernel_extra = extra;
                    Ok(started)
                })?
            }
            Kind::KernelToOurs => {
                let at = SocketAddr::new(self.stack_addr(), port);
                let handle = self.stack.handle();
                let listener = {
                    let _in_runtime = self.stack.enter();
                    MptcpListener::bind(&handle, at).map_err(|e| format!("bind: {e}"))?
                };
                let kernel = self.topo.kernel();
                measure(|| {
                    let started = Instant::now();
                    let connected = kernel_connect(kernel, at)?;
                    let sender = std::thread::spawn(move || source_and_info(connected, bytes));
                    let (got, subflows) = self.stack.block_on(async {
                        let (mut stream, _) = listener
                            .accept()
                            .await
                            .map_err(|e| format!("accept: {e}"))?;
                        let got = recv_all(&mut stream, false).await?;
                        Ok::<_, String>((got, our_subflows(&stream)))
                    })?;
                    let elapsed = started.elapsed();
                    kernel_extra = sender.join().map_err(|_| "sender panicked")??;
                    check_count(got, bytes)?;
                    ours = Some(subflows);
                    Ok(Instant::now() - elapsed)
                })?
            }
        };
        Ok((sample, ours, kernel_extra, rejoined))
    }

    /// A transfer of kernel-peer's pattern, verified by the receiver.
    #[allow(clippy::type_complexity)]
    fn run_pattern(
        &mut self,
        kind: Kind,
    ) -> Result<(Sample, Option<(usize, usize)>, Option<u8>, u32), String> {
        let bytes = self.bytes();
        let port = self.port();
        let mut ours = None;
        let mut kernel_extra = None;
        let mut rejoined = 0;
        let sample = match kind {
            Kind::KernelToKernel => {
                let at = SocketAddr::new(self.kernel_addr(), port);
                // Open until our data ends, as for ours->kernel: the client's join has to
                // reach the server before its (otherwise immediate) DATA_FIN.
                let server_peer = self.peer().expect(bytes).arg("--shutdown-after-eof");
                let server = server_peer
                    .server(self.topo.kernel(), any(port))
                    .map_err(|e| e.to_string())?;
                let client_peer = self.peer().send(bytes);
                measure(|| {
                    let started = Instant::now();
                    let client = client_peer
                        .client(self.topo.ours(), at)
                        .map_err(|e| e.to_string())?;
                    let out = server_peer.finish(server).map_err(|e| e.to_string())?;
                    check_verified(&out.stdout)?;
                    kernel_extra = peer_extra_subflows(&out.stdout);
                    client_peer.finish(client).map_err(|e| e.to_string())?;
                    Ok(started)
                })?
            }
            Kind::OursToKernel => {
                let at = SocketAddr::new(self.kernel_addr(), port);
                // A server that only receives would otherwise shut down its side at once:
                // its DATA_FIN is the first DSS our client sees (so it opens the join just
                // after it), and Linux rejects every join once its connection has left
                // ESTABLISHED (`mptcp_can_accept_new_subflow`: `MPJoinRejected`).
                let peer = self.peer().expect(bytes).arg("--shutdown-after-eof");
                let server = peer
                    .server(self.topo.kernel(), at)
                    .map_err(|e| e.to_string())?;
                let handle = self.stack.handle();
                let second = self.stack_addr2();
                measure(|| {
                    let started = Instant::now();
                    ours = Some(self.stack.block_on(async {
                        let mut stream = MptcpStream::connect(&handle, at)
                            .await
                            .map_err(|e| format!("connect: {e}"))?;
                        let first = bytes.min(IO_BLOCK as u64);
                        send_range(&mut stream, 0, first, true).await?;
                        rejoined = ensure_join(&stream, second, at).await?;
                        send_range(&mut stream, first, bytes, true).await?;
                        let subflows = our_subflows(&stream);
                        stream
                            .shutdown()
                            .await
                            .map_err(|e| format!("shutdown: {e}"))?;
                        Ok::<_, String>(subflows)
                    })?);
                    let out = peer.finish(server).map_err(|e| e.to_string())?;
                    check_verified(&out.stdout)?;
                    kernel_extra = peer_extra_subflows(&out.stdout);
                    Ok(started)
                })?
            }
            Kind::KernelToOurs => {
                let at = SocketAddr::new(self.stack_addr(), port);
                let handle = self.stack.handle();
                let listener = {
                    let _in_runtime = self.stack.enter();
                    MptcpListener::bind(&handle, at).map_err(|e| format!("bind: {e}"))?
                };
                let peer = self.peer().send(bytes);
                measure(|| {
                    let started = Instant::now();
                    let client = peer
                        .client(self.topo.kernel(), at)
                        .map_err(|e| e.to_string())?;
                    ours = Some(self.stack.block_on(async {
                        let (mut stream, _) = listener
                            .accept()
                            .await
                            .map_err(|e| format!("accept: {e}"))?;
                        let got = recv_all(&mut stream, true).await?;
                        check_count(got, bytes)?;
                        Ok::<_, String>(our_subflows(&stream))
                    })?);
                    let elapsed = started.elapsed();
                    let out = peer.finish(client).map_err(|e| e.to_string())?;
                    kernel_extra = peer_extra_subflows(&out.stdout);
                    // The receiver's time ends at our EOF, not at the client's exit.
                    Ok(Instant::now() - elapsed)
                })?
            }
        };
        Ok((sample, ours, kernel_extra, rejoined))
    }
}

/// Medians of one setting.
struct SettingResult {
    setting: Setting,
    bytes: u64,
    medians: Vec<(Kind, Outcome)>,
    /// Runs in which a side did not use both paths.
    warnings: Vec<String>,
}

fn main() -> ExitCode {
    let opts = match bench_common::start("mptcp-bench", USAGE, parse_args(), |o: &Options| {
        (o.payload, o.peer.as_path())
    }) {
        Ok(opts) => opts,
        Err(code) => return code,
    };
    let (runs, json, checksum) = (opts.runs, opts.json, opts.checksum);
    let [rate1, rate2] = opts.rate_mbit;
    let rate = if rate1 == rate2 {
        format!("{rate1}")
    } else {
        format!("{rate1}+{rate2}")
    };
    let (kinds, settings) = (opts.kinds.clone(), opts.settings.clone());
    let payload = match opts.payload {
        Payload::Pattern => "pattern",
        Payload::Zeros => "zeros",
    };
    println!(
        "mptcp-bench: {} bytes per transfer on bare veths, {} through tbf {rate} Mbit/s per path, {runs} run(s) each, payload {payload}, DSS checksum {}, 2 veth paths, {} CPUs",
        opts.bytes,
        opts.shaped_bytes,
        if checksum { "asked" } else { "off" },
        cpus()
    );
    let mut bench = match Bench::new(opts) {
        Ok(b) => b,
        Err(msg) => {
            eprintln!("mptcp-bench: {msg}");
            return ExitCode::FAILURE;
        }
    };
    let mut results = Vec::new();
    for &setting in &settings {
        if let Err(msg) = bench.apply(setting) {
            eprintln!("mptcp-bench: {msg}");
            return ExitCode::FAILURE;
        }
        let bytes = bench.bytes();
        match setting {
            Setting::Veth => println!("setting veth (no rate limit), {bytes} bytes:"),
            Setting::Tbf => println!(
                "setting tbf {rate} Mbit/s on the paths (sum {} Mbit/s), {bytes} bytes:",
                rate1 + rate2
            ),
        }
        let mut samples: Vec<(Kind, Vec<Outcome>)> =
            kinds.iter().map(|&k| (k, Vec::new())).collect();
        let mut warnings = Vec::new();
        for run in 1..=runs {
            for (kind, outcomes) in &mut samples {
                match bench.run(*kind) {
                    Ok(o) => {
                        println!(
                            "  run {run} {:<15} {:>9.1} Mbit/s  {:>7.3} s  path 1/2 {:>3.0}/{:<3.0}%  subflows {}  machine {:.2} cores  this process {:.2} cores",
                            kind.name(),
                            o.sample.mbps(bytes),
                            o.sample.elapsed.as_secs_f64(),
                            o.path1_share() * 100.0,
                            (1.0 - o.path1_share()) * 100.0,
                            o.subflows_text(),
                            o.sample.machine_cores,
                            o.sample.process_cores
                        );
                        for p in o.problems(*kind) {
                            let w = format!("{} run {run} {}: {p}", setting.name(), kind.name());
                            println!("  WARNING: {w}");
                            warnings.push(w);
                        }
                        outcomes.push(o);
                    }
                    Err(msg) => {
                        eprintln!(
                            "mptcp-bench: {} {} run {run} failed: {msg}",
                            setting.name(),
                            kind.name()
                        );
                        return ExitCode::FAILURE;
                    }
                }
            }
        }
        // The median of the runs that used both paths, if any did.
        let medians = samples
            .iter()
            .map(|(k, s)| {
                let mut valid: Vec<Outcome> = s
                    .iter()
                    .filter(|o| o.problems(*k).is_empty())
                    .copied()
                    .collect();
                if valid.is_empty() {
                    valid = s.clone();
                }
                (*k, median(&mut valid, |o| o.sample.mbps(bytes)))
            })
            .collect();
        results.push(SettingResult {
            setting,
            bytes,
            medians,
            warnings,
        });
    }
    let aggregate = (rate1 + rate2) as f64;
    for r in &results {
        let kernel = r
            .medians
            .iter()
            .find(|(k, _)| *k == Kind::KernelToKernel)
            .map(|(_, o)| o.sample.mbps(r.bytes));
        match r.setting {
            Setting::Veth => println!("median of {runs}, veth (no rate limit):"),
            Setting::Tbf => println!(
                "median of {runs}, tbf {rate} Mbit/s on the paths (sum of the links {aggregate} Mbit/s):"
            ),
        }
        for (kind, o) in &r.medians {
            let mbps = o.sample.mbps(r.bytes);
            let ratio = match (kind, kernel) {
                (Kind::KernelToKernel, _) | (_, None) => String::new(),
                (_, Some(k)) => format!("  ratio ours/kernel {:.3}", mbps / k),
            };
            let of_links = if r.setting == Setting::Tbf {
                format!("  {:>5.1} % of the links", mbps / aggregate * 100.0)
            } else {
                String::new()
            };
            println!(
                "  {:<15} {:>9.1} Mbit/s{of_links}  path 1/2 {:.0}/{:.0}%  machine {:.2} cores  this process {:.2} cores{ratio}",
                kind.name(),
                mbps,
                o.path1_share() * 100.0,
                (1.0 - o.path1_share()) * 100.0,
                o.sample.machine_cores,
                o.sample.process_cores
            );
        }
        if !r.warnings.is_empty() {
            println!(
                "  {} problem(s): runs that did not use both paths (see WARNING lines); the medians are of the other runs where there are any",
                r.warnings.len()
            );
        }
    }
    println!("our stack's counters: {:?}", bench.stack.runtime().stats());
    if json {
        let settings: Vec<String> = results
            .iter()
            .map(|r| {
                let kernel = r
                    .medians
                    .iter()
                    .find(|(k, _)| *k == Kind::KernelToKernel)
                    .map(|(_, o)| o.sample.mbps(r.bytes));
                let mut fields: Vec<String> = r
                    .medians
                    .iter()
                    .map(|(kind, o)| {
                        let mbps = o.sample.mbps(r.bytes);
                        let ratio = kernel.map_or(String::from("null"), |k| {
                            format!("{:.4}", mbps / k)
                        });
                        let of_links = if r.setting == Setting::Tbf {
                            format!("{:.4}", mbps / aggregate)
                        } else {
                            String::from("null")
                        };
                        let ours = o
                            .ours_subflows
                            .map_or(String::from("null"), |(e, _)| e.to_string());
                        let extra = o
                            .kernel_extra
                            .map_or(String::from("null"), |n| n.to_string());
                        format!(
                            "\"{}\":{{\"mbps\":{mbps:.1},\"ratio\":{ratio},\"of_links\":{of_links},\"path1_share\":{:.3},\"ours_subflows\":{ours},\"kernel_extra_subflows\":{extra},\"machine_cores\":{:.2},\"process_cores\":{:.2}}}",
                            kind.key(),
                            o.path1_share(),
                            o.sample.machine_cores,
                            o.sample.process_cores
                        )
                    })
                    .collect();
                fields.push(format!("\"bytes\":{}", r.bytes));
                fields.push(format!("\"warnings\":{}", r.warnings.len()));
                format!("\"{}\":{{{}}}", r.setting.name(), fields.join(","))
            })
            .collect();
        println!(
            "{{\"runs\":{runs},\"payload\":\"{payload}\",\"rate_mbit\":[{rate1},{rate2}],\"checksum\":{checksum},{}}}",
            settings.join(",")
        );
    }
    ExitCode::SUCCESS
}
