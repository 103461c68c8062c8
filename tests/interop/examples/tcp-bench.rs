//! `tcp-bench`: goodput of our stack on a TUN device against the Linux kernel's TCP,
//! next to the kernel's own TCP on the same veth path, in the same run.
//!
//! ```text
//! cargo run --release -p mptcp-interop --example tcp-bench -- [--bytes N] [--runs R]
//!     [--payload pattern|zeros] [--json]
//! ```
//!
//! (Under `cargo run` it builds the `kernel-peer` binary itself if it is missing.)
//!
//! **Needs root** (it creates network namespaces, a veth pair and a TUN device); without it,
//! it says so and exits with status 2. One [`Topology`] with one path (veth offloads as the
//! kernel sets them, unless `--offloads none`) is built; then, `--runs` times each, the
//! median reported:
//!
//! - `kernel->kernel`: a kernel TCP client in namespace "ours" (10.0.1.2, the forwarding
//!   kernel's own address on `o1`) sends N bytes to a kernel TCP server in "kernel"
//!   (10.0.1.1) over the same veth `o1`–`k1` our stack's packets take;
//! - `ours->kernel`: our stack on `tun1` in "ours" (10.1.1.2) connects to the kernel server
//!   and sends N bytes;
//! - `kernel->ours`: a kernel client in "kernel" connects to our stack's listener and sends
//!   N bytes.
//!
//! Every transfer is one connection in one direction. With `--payload pattern` (the default)
//! the kernel side is the `kernel-peer` program and every byte is generated and verified
//! with its pattern at both ends (the application work is the same in all three transfers);
//! with `--payload zeros` the kernel side is plain sockets on threads of this process
//! (created inside the namespaces) and the receiver only counts, so the figures are the
//! network paths alone. Goodput is N bytes over the receiver's time: from just before the
//! connection is opened until the receiver has every byte and the end of the stream. The
//! CPU columns are the whole machine's busy time (from `/proc/stat`, in cores) and this
//! process's CPU time (our stack, our application side and tokio; with `--payload zeros` the
//! kernel-side threads as well) during the transfer.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mptcp_interop::{KernelPeer, Offloads, Topology, TopologyBuilder, check_environment, pattern};
use mptcp_tun::{Interface, MptcpListener, MptcpStream, Runtime, RuntimeConfig, TunDevice};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const USAGE: &str = "\
usage: tcp-bench [--bytes N] [--runs R] [--json] [--offloads default|none] [--only LIST]
                 [--payload pattern|zeros] [--tun-offload on|off] [--peer PATH]
  --bytes N      bytes per transfer (default 1073741824 = 1 GiB; suffixes K, M, G)
  --runs R       repetitions of each transfer; the median is reported (default 3)
  --json         also print the medians as one JSON object
  --offloads O   veth offloads: `default` (as the kernel sets them: TSO/GSO on) or `none`
  --only LIST    comma-separated subset of kk,ok,ko (kernel->kernel, ours->kernel, kernel->ours)
  --payload P    `pattern` (default): kernel-peer on the kernel side, every byte generated and
                 checked at both ends; `zeros`: the kernel side is plain sockets in this process,
                 zeros are sent and only counted (the network alone, no per-byte work)
  --tun-offload  `on` (default): our TUN device with virtio-net header GSO/GRO; `off`: one
                 packet per read and write
  --send-buffer N, --recv-buffer-max N
                 our stack's TCP send buffer and receive auto-tuning limit (default: the
                 runtime's RuntimeConfig::default)
  --peer PATH    the kernel-peer binary (default: next to this example's directory)
Needs root. Build kernel-peer first: cargo build --release -p mptcp-interop --bin kernel-peer";

/// Size of the application's writes and reads on our side (as kernel-peer reads).
const IO_BLOCK: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    KernelToKernel,
    OursToKernel,
    KernelToOurs,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::KernelToKernel, Kind::OursToKernel, Kind::KernelToOurs];

    fn name(self) -> &'static str {
        match self {
            Kind::KernelToKernel => "kernel->kernel",
            Kind::OursToKernel => "ours->kernel",
            Kind::KernelToOurs => "kernel->ours",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Kind::KernelToKernel => "kk",
            Kind::OursToKernel => "ok",
            Kind::KernelToOurs => "ko",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Payload {
    /// kernel-peer's byte pattern, generated and verified.
    Pattern,
    /// Zeros, counted; the kernel side runs in this process.
    Zeros,
}

struct Options {
    bytes: u64,
    payload: Payload,
    tun_offload: bool,
    send_buffer: Option<usize>,
    recv_buffer_max: Option<usize>,
    runs: usize,
    json: bool,
    offloads: Option<Offloads>,
    kinds: Vec<Kind>,
    peer: PathBuf,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.as_bytes().last().map(u8::to_ascii_uppercase) {
        Some(b'K') => (&s[..s.len() - 1], 1u64 << 10),
        Some(b'M') => (&s[..s.len() - 1], 1 << 20),
        Some(b'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("not a size: {s:?}"))
}

fn parse_args() -> Result<Options, String> {
    let default_peer = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("kernel-peer")))
        .unwrap_or_else(|| PathBuf::from("kernel-peer"));
    let mut opts = Options {
        bytes: 1 << 30,
        payload: Payload::Pattern,
        tun_offload: true,
        send_buffer: None,
        recv_buffer_max: None,
        runs: 3,
        json: false,
        offloads: None,
        kinds: Kind::ALL.to_vec(),
        peer: default_peer,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--bytes" => opts.bytes = parse_size(&value()?)?,
            "--runs" => {
                let v = value()?;
                opts.runs = v
                    .parse()
                    .ok()
                    .filter(|&r| r > 0)
                    .ok_or(format!("not a run count: {v:?}"))?;
            }
            "--json" => opts.json = true,
            "--offloads" => {
                opts.offloads = match value()?.as_str() {
                    "default" => None,
                    "none" => Some(Offloads::NONE),
                    other => return Err(format!("--offloads default|none, not {other:?}")),
                }
            }
            "--only" => {
                let v = value()?;
                opts.kinds = Kind::ALL
                    .into_iter()
                    .filter(|k| v.split(',').any(|s| s == k.key()))
                    .collect();
                if opts.kinds.is_empty() {
                    return Err(format!("--only takes kk,ok,ko, not {v:?}"));
                }
            }
            "--payload" => {
                opts.payload = match value()?.as_str() {
                    "pattern" => Payload::Pattern,
                    "zeros" => Payload::Zeros,
                    other => return Err(format!("--payload pattern|zeros, not {other:?}")),
                }
            }
            "--tun-offload" => {
                opts.tun_offload = match value()?.as_str() {
                    "on" => true,
                    "off" => false,
                    other => return Err(format!("--tun-offload on|off, not {other:?}")),
                }
            }
            "--send-buffer" => opts.send_buffer = Some(parse_size(&value()?)? as usize),
            "--recv-buffer-max" => opts.recv_buffer_max = Some(parse_size(&value()?)? as usize),
            "--peer" => opts.peer = PathBuf::from(value()?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(opts)
}

/// Busy and total jiffies of the whole machine (`cpu` line of `/proc/stat`).
fn machine_jiffies() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = fields.iter().take(8).sum();
    // idle + iowait
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

/// CPU time (user + system) of this process so far.
fn process_cpu() -> Duration {
    // SAFETY: getrusage(2) writes one `rusage` into the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// One measured transfer.
#[derive(Clone, Copy, Debug)]
struct Sample {
    elapsed: Duration,
    /// Busy cores of the machine, averaged over the transfer.
    machine_cores: f64,
    /// This process's CPU time over the transfer, in cores.
    process_cores: f64,
}

impl Sample {
    fn mbps(&self, bytes: u64) -> f64 {
        bytes as f64 * 8.0 / self.elapsed.as_secs_f64() / 1e6
    }
}

/// Measures `f`, which returns the instant the transfer started (after its own setup).
fn measure(f: impl FnOnce() -> Result<Instant, String>) -> Result<Sample, String> {
    let (busy0, total0) = machine_jiffies();
    let cpu0 = process_cpu();
    let outer = Instant::now();
    let started = f()?;
    let elapsed = started.elapsed();
    let wall = outer.elapsed().as_secs_f64();
    let (busy1, total1) = machine_jiffies();
    let cpu1 = process_cpu();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let machine = (busy1 - busy0) as f64 / (total1 - total0).max(1) as f64 * cores;
    Ok(Sample {
        elapsed,
        machine_cores: machine,
        process_cores: (cpu1 - cpu0).as_secs_f64() / wall,
    })
}

struct Bench {
    // Field order is drop order: the stack, then its tokio runtime, then the namespaces.
    stack: Runtime,
    rt: tokio::runtime::Runtime,
    topo: Topology,
    opts: Options,
    next_port: u16,
}

impl Bench {
    fn new(opts: Options) -> Result<Bench, String> {
        let mut builder = TopologyBuilder::new("bench");
        if let Some(offloads) = opts.offloads {
            builder = builder.offloads(offloads);
        }
        let topo = builder.build().map_err(|e| format!("topology: {e}"))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("tokio: {e}"))?;
        let path = topo.path(1).map_err(|e| e.to_string())?.clone();
        let reactor = rt.handle().clone();
        let dev = path.tun.dev.clone();
        let offload = opts.tun_offload;
        let tun = topo
            .ours()
            .run_in(move || {
                let _in_runtime = reactor.enter();
                TunDevice::create_with(&dev, 1500, offload)
            })
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("TUN device: {e}"))?;
        topo.attach_tun(1).map_err(|e| e.to_string())?;
        let interface = Interface {
            device: tun,
            addrs: vec![path.tun.stack_v4.addr],
            mtu: 1500,
        };
        let stack = {
            let _in_runtime = rt.enter();
            let mut config = RuntimeConfig::default();
            if let Some(n) = opts.send_buffer {
                config.tcp.send_buffer = n;
            }
            if let Some(n) = opts.recv_buffer_max {
                config.tcp.recv_buffer_max = n;
            }
            Runtime::start(vec![interface], config)
        };
        Ok(Bench {
            stack,
            rt,
            topo,
            opts,
            next_port: 6000,
        })
    }

    fn port(&mut self) -> u16 {
        self.next_port += 1;
        self.next_port
    }

    fn peer(&self) -> KernelPeer {
        // Generous bounds: 1 GiB at 100 Mbit/s is 86 s.
        let deadline = Duration::from_secs(60) + Duration::from_secs(self.opts.bytes / 10_000_000);
        KernelPeer::new(&self.opts.peer)
            .tcp()
            .deadline(deadline)
            .io_timeout(Duration::from_secs(20))
    }

    fn kernel_addr(&self) -> IpAddr {
        self.topo.path(1).expect("path 1").kernel_v4.addr
    }

    fn stack_addr(&self) -> IpAddr {
        self.topo.path(1).expect("path 1").tun.stack_v4.addr
    }

    fn run(&mut self, kind: Kind) -> Result<Sample, String> {
        match self.opts.payload {
            Payload::Pattern => self.run_pattern(kind),
            Payload::Zeros => self.run_zeros(kind),
        }
    }

    /// A transfer of zeros with the kernel side on sockets of this process.
    fn run_zeros(&mut self, kind: Kind) -> Result<Sample, String> {
        let bytes = self.opts.bytes;
        let port = self.port();
        match kind {
            Kind::KernelToKernel => {
                let at = SocketAddr::new(self.kernel_addr(), port);
                let listener = kernel_listener(self.topo.kernel(), at)?;
                measure(|| {
                    let started = Instant::now();
                    let receiver = std::thread::spawn(move || sink(listener));
                    let stream = self
                        .topo
                        .ours()
                        .run_in(move || TcpStream::connect(at))
                        .map_err(|e| e.to_string())?
                        .map_err(|e| format!("connect: {e}"))?;
                    source(stream, bytes)?;
                    let got = receiver.join().map_err(|_| "receiver panicked")??;
                    check_count(got, bytes)?;
                    Ok(started)
                })
            }
            Kind::OursToKernel => {
                let at = SocketAddr::new(self.kernel_addr(), port);
                let listener = kernel_listener(self.topo.kernel(), at)?;
                let handle = self.stack.handle();
                measure(|| {
                    let started = Instant::now();
                    let receiver = std::thread::spawn(move || sink(listener));
                    self.rt.block_on(async {
                        let stream = MptcpStream::connect(&handle, at)
                            .await
                            .map_err(|e| format!("connect: {e}"))?;
                        send_zeros(stream, bytes).await
                    })?;
                    let got = receiver.join().map_err(|_| "receiver panicked")??;
                    check_count(got, bytes)?;
                    Ok(started)
                })
            }
            Kind::KernelToOurs => {
                let at = SocketAddr::new(self.stack_addr(), port);
                let handle = self.stack.handle();
                let listener = {
                    let _in_runtime = self.rt.enter();
                    MptcpListener::bind(&handle, at).map_err(|e| format!("bind: {e}"))?
                };
                let kernel = self.topo.kernel();
                measure(|| {
                    let started = Instant::now();
                    let connected = kernel
                        .run_in(move || TcpStream::connect(at))
                        .map_err(|e| e.to_string())?
                        .map_err(|e| format!("connect: {e}"))?;
                    let sender = std::thread::spawn(move || source(connected, bytes));
                    let got = self.rt.block_on(async {
                        let (stream, _) = listener
                            .accept()
                            .await
                            .map_err(|e| format!("accept: {e}"))?;
                        recv_count(stream).await
                    })?;
                    let elapsed = started.elapsed();
                    sender.join().map_err(|_| "sender panicked")??;
                    check_count(got, bytes)?;
                    Ok(Instant::now() - elapsed)
                })
            }
        }
    }

    /// A transfer of kernel-peer's pattern, verified by the receiver.
    fn run_pattern(&mut self, kind: Kind) -> Result<Sample, String> {
        let bytes = self.opts.bytes;
        let port = self.port();
        match kind {
            Kind::KernelToKernel => {
                let at = SocketAddr::new(self.kernel_addr(), port);
                let server_peer = self.peer().expect(bytes);
                let server = server_peer
                    .server(self.topo.kernel(), at)
                    .map_err(|e| e.to_string())?;
                let client_peer = self.peer().send(bytes);
                measure(|| {
                    let started = Instant::now();
                    let client = client_peer
                        .client(self.topo.ours(), at)
                        .map_err(|e| e.to_string())?;
                    let out = server_peer.finish(server).map_err(|e| e.to_string())?;
                    check_verified(&out.stdout)?;
                    client_peer.finish(client).map_err(|e| e.to_string())?;
                    Ok(started)
                })
            }
            Kind::OursToKernel => {
                let at = SocketAddr::new(self.kernel_addr(), port);
                let peer = self.peer().expect(bytes);
                let server = peer
                    .server(self.topo.kernel(), at)
                    .map_err(|e| e.to_string())?;
                let handle = self.stack.handle();
                measure(|| {
                    let started = Instant::now();
                    self.rt.block_on(async {
                        let stream = MptcpStream::connect(&handle, at)
                            .await
                            .map_err(|e| format!("connect: {e}"))?;
                        send_pattern(stream, bytes).await
                    })?;
                    let out = peer.finish(server).map_err(|e| e.to_string())?;
                    check_verified(&out.stdout)?;
                    Ok(started)
                })
            }
            Kind::KernelToOurs => {
                let at = SocketAddr::new(self.stack_addr(), port);
                let handle = self.stack.handle();
                let listener = {
                    let _in_runtime = self.rt.enter();
                    MptcpListener::bind(&handle, at).map_err(|e| format!("bind: {e}"))?
                };
                let peer = self.peer().send(bytes);
                measure(|| {
                    let started = Instant::now();
                    let client = peer
                        .client(self.topo.kernel(), at)
                        .map_err(|e| e.to_string())?;
                    self.rt.block_on(async {
                        let (stream, _) = listener
                            .accept()
                            .await
                            .map_err(|e| format!("accept: {e}"))?;
                        recv_pattern(stream, bytes).await
                    })?;
                    let elapsed = started.elapsed();
                    peer.finish(client).map_err(|e| e.to_string())?;
                    // The receiver's time ends at our EOF, not at the client's exit.
                    Ok(Instant::now() - elapsed)
                })
            }
        }
    }
}

fn check_verified(stdout: &str) -> Result<(), String> {
    if stdout.contains("verify=ok") {
        Ok(())
    } else {
        Err(format!("kernel-peer did not verify: {stdout}"))
    }
}

/// A plain TCP listener of the kernel in namespace `ns`.
fn kernel_listener(ns: &mptcp_interop::Namespace, at: SocketAddr) -> Result<TcpListener, String> {
    ns.run_in(move || TcpListener::bind(at))
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("bind {at}: {e}"))
}

/// Accepts one connection and reads it to the end; returns the byte count.
fn sink(listener: TcpListener) -> Result<u64, String> {
    let (mut stream, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    let mut buf = vec![0u8; IO_BLOCK];
    let mut got = 0u64;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(got),
            Ok(n) => got += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read at {got}: {e}")),
        }
    }
}

/// Writes `len` zeros to a kernel socket, then half-closes.
fn source(mut stream: TcpStream, len: u64) -> Result<(), String> {
    let buf = vec![0u8; IO_BLOCK];
    let mut off = 0u64;
    while off < len {
        let n = (len - off).min(buf.len() as u64) as usize;
        stream
            .write_all(&buf[..n])
            .map_err(|e| format!("write at {off}: {e}"))?;
        off += n as u64;
    }
    stream
        .shutdown(std::net::Shutdown::Write)
        .map_err(|e| format!("shutdown: {e}"))
}

fn check_count(got: u64, want: u64) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("expected {want} bytes, got {got}"))
    }
}

async fn send_zeros(mut stream: MptcpStream, len: u64) -> Result<(), String> {
    let buf = vec![0u8; IO_BLOCK];
    let mut off = 0u64;
    while off < len {
        let n = (len - off).min(buf.len() as u64) as usize;
        stream
            .write_all(&buf[..n])
            .await
            .map_err(|e| format!("write at {off}: {e}"))?;
        off += n as u64;
    }
    stream
        .shutdown()
        .await
        .map_err(|e| format!("shutdown: {e}"))
}

async fn recv_count(mut stream: MptcpStream) -> Result<u64, String> {
    let mut buf = vec![0u8; IO_BLOCK];
    let mut got = 0u64;
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("read at {got}: {e}"))?;
        if n == 0 {
            return Ok(got);
        }
        got += n as u64;
    }
}

async fn send_pattern(mut stream: MptcpStream, len: u64) -> Result<(), String> {
    let mut buf = vec![0u8; IO_BLOCK];
    let mut off = 0u64;
    while off < len {
        let n = (len - off).min(buf.len() as u64) as usize;
        pattern::fill(pattern::CLIENT_TAG, off, &mut buf[..n]);
        stream
            .write_all(&buf[..n])
            .await
            .map_err(|e| format!("write at {off}: {e}"))?;
        off += n as u64;
    }
    stream
        .shutdown()
        .await
        .map_err(|e| format!("shutdown: {e}"))
}

async fn recv_pattern(mut stream: MptcpStream, len: u64) -> Result<(), String> {
    let mut buf = vec![0u8; IO_BLOCK];
    let mut got = 0u64;
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("read at {got}: {e}"))?;
        if n == 0 {
            break;
        }
        if let Some(at) = pattern::first_mismatch(pattern::CLIENT_TAG, got, &buf[..n]) {
            return Err(format!("pattern mismatch at byte {at}"));
        }
        got += n as u64;
    }
    if got == len {
        Ok(())
    } else {
        Err(format!("expected {len} bytes, got {got}"))
    }
}

fn median(samples: &mut [Sample], bytes: u64) -> Sample {
    samples.sort_by(|a, b| a.mbps(bytes).total_cmp(&b.mbps(bytes)));
    samples[samples.len() / 2]
}

/// Under `cargo run` (which builds only the example), builds the `kernel-peer` binary of
/// this package with the same cargo and profile.
fn build_kernel_peer() {
    let Some(cargo) = std::env::var_os("CARGO") else {
        return;
    };
    let mut cmd = std::process::Command::new(cargo);
    cmd.args(["build", "-p", "mptcp-interop", "--bin", "kernel-peer"]);
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    eprintln!("tcp-bench: building kernel-peer");
    if let Err(e) = cmd.status() {
        eprintln!("tcp-bench: running cargo: {e}");
    }
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("tcp-bench: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Err(msg) = check_environment() {
        eprintln!("tcp-bench needs root: {msg}");
        return ExitCode::from(2);
    }
    if opts.payload == Payload::Pattern && !opts.peer.is_file() {
        build_kernel_peer();
    }
    if opts.payload == Payload::Pattern && !opts.peer.is_file() {
        eprintln!(
            "tcp-bench: no kernel-peer at {}; build it with \
             `cargo build --release -p mptcp-interop --bin kernel-peer` or pass --peer",
            opts.peer.display()
        );
        return ExitCode::from(2);
    }
    let (bytes, runs, json, kinds) = (opts.bytes, opts.runs, opts.json, opts.kinds.clone());
    let payload = match opts.payload {
        Payload::Pattern => "pattern",
        Payload::Zeros => "zeros",
    };
    let tun_offload = if opts.tun_offload { "on" } else { "off" };
    let offloads = if opts.offloads.is_some() {
        "none"
    } else {
        "default"
    };
    let mut bench = match Bench::new(opts) {
        Ok(b) => b,
        Err(msg) => {
            eprintln!("tcp-bench: {msg}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "tcp-bench: {bytes} bytes per transfer, {runs} run(s) each, payload {payload}, 1 veth path, veth offloads {offloads}, TUN offload {tun_offload}, {} CPUs",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut results: Vec<(Kind, Vec<Sample>)> = kinds.iter().map(|&k| (k, Vec::new())).collect();
    for run in 1..=runs {
        for (kind, samples) in &mut results {
            match bench.run(*kind) {
                Ok(s) => {
                    println!(
                        "  run {run} {:<15} {:>9.0} Mbit/s  {:>7.3} s  machine {:.2} cores  this process {:.2} cores",
                        kind.name(),
                        s.mbps(bytes),
                        s.elapsed.as_secs_f64(),
                        s.machine_cores,
                        s.process_cores
                    );
                    samples.push(s);
                }
                Err(msg) => {
                    eprintln!("tcp-bench: {} run {run} failed: {msg}", kind.name());
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let medians: Vec<(Kind, Sample)> = results
        .iter_mut()
        .map(|(k, s)| (*k, median(s, bytes)))
        .collect();
    let kernel = medians
        .iter()
        .find(|(k, _)| *k == Kind::KernelToKernel)
        .map(|(_, s)| s.mbps(bytes));
    println!("median of {runs}:");
    for (kind, s) in &medians {
        let ratio = match (kind, kernel) {
            (Kind::KernelToKernel, _) | (_, None) => String::new(),
            (_, Some(k)) => format!("  ratio ours/kernel {:.3}", s.mbps(bytes) / k),
        };
        println!(
            "  {:<15} {:>9.0} Mbit/s  machine {:.2} cores  this process {:.2} cores{ratio}",
            kind.name(),
            s.mbps(bytes),
            s.machine_cores,
            s.process_cores
        );
    }
    let stats = bench.stack.stats();
    println!("our stack's counters: {stats:?}");
    if json {
        let fields: Vec<String> = medians
            .iter()
            .map(|(kind, s)| {
                let ratio = kernel.map_or(String::from("null"), |k| {
                    format!("{:.4}", s.mbps(bytes) / k)
                });
                format!(
                    "\"{}\":{{\"mbps\":{:.1},\"ratio\":{ratio},\"machine_cores\":{:.2},\"process_cores\":{:.2}}}",
                    kind.key(),
                    s.mbps(bytes),
                    s.machine_cores,
                    s.process_cores
                )
            })
            .collect();
        println!(
            "{{\"bytes\":{bytes},\"runs\":{runs},\"payload\":\"{payload}\",\"veth_offloads\":\"{offloads}\",\"tun_offload\":\"{tun_offload}\",{}}}",
            fields.join(",")
        );
    }
    ExitCode::SUCCESS
}
