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

mod bench_common;

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bench_common::{
    Kind, Payload, Sample, check_count, check_verified, cpus, default_peer, measure, median,
    parse_count, parse_size, recv_all, send_and_shutdown, sink, source,
};
use mptcp_interop::{KernelPeer, Offloads, Topology, TopologyBuilder};
use mptcp_tun::{Interface, MptcpListener, MptcpStream, Runtime, RuntimeConfig, TunDevice};

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

fn parse_args() -> Result<Options, String> {
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
        peer: default_peer(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--bytes" => opts.bytes = parse_size(&value()?)?,
            "--runs" => opts.runs = parse_count(&value()?)?,
            "--json" => opts.json = true,
            "--offloads" => {
                opts.offloads = match value()?.as_str() {
                    "default" => None,
                    "none" => Some(Offloads::NONE),
                    other => return Err(format!("--offloads default|none, not {other:?}")),
                }
            }
            "--only" => opts.kinds = Kind::parse_list(&value()?)?,
            "--payload" => opts.payload = Payload::parse(&value()?)?,
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
        let rt = mptcp_interop::runtime().map_err(|e| e.to_string())?;
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
                    let receiver = std::thread::spawn(move || accept_and_sink(listener));
                    let mut stream = self
                        .topo
                        .ours()
                        .run_in(move || TcpStream::connect(at))
                        .map_err(|e| e.to_string())?
                        .map_err(|e| format!("connect: {e}"))?;
                    source(&mut stream, bytes)?;
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
                    let receiver = std::thread::spawn(move || accept_and_sink(listener));
                    self.rt.block_on(async {
                        let mut stream = MptcpStream::connect(&handle, at)
                            .await
                            .map_err(|e| format!("connect: {e}"))?;
                        send_and_shutdown(&mut stream, bytes, false).await
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
                    let mut connected = kernel
                        .run_in(move || TcpStream::connect(at))
                        .map_err(|e| e.to_string())?
                        .map_err(|e| format!("connect: {e}"))?;
                    let sender = std::thread::spawn(move || source(&mut connected, bytes));
                    let got = self.rt.block_on(async {
                        let (mut stream, _) = listener
                            .accept()
                            .await
                            .map_err(|e| format!("accept: {e}"))?;
                        recv_all(&mut stream, false).await
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
                        let mut stream = MptcpStream::connect(&handle, at)
                            .await
                            .map_err(|e| format!("connect: {e}"))?;
                        send_and_shutdown(&mut stream, bytes, true).await
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
                        let (mut stream, _) = listener
                            .accept()
                            .await
                            .map_err(|e| format!("accept: {e}"))?;
                        let got = recv_all(&mut stream, true).await?;
                        check_count(got, bytes)
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

/// Accepts one connection and reads it to the end; returns the byte count.
fn accept_and_sink(listener: TcpListener) -> Result<u64, String> {
    let (mut stream, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    sink(&mut stream)
}

/// A plain TCP listener of the kernel in namespace `ns`.
fn kernel_listener(ns: &mptcp_interop::Namespace, at: SocketAddr) -> Result<TcpListener, String> {
    ns.run_in(move || TcpListener::bind(at))
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("bind {at}: {e}"))
}

fn main() -> ExitCode {
    let opts = match bench_common::start("tcp-bench", USAGE, parse_args(), |o: &Options| {
        (o.payload, o.peer.as_path())
    }) {
        Ok(opts) => opts,
        Err(code) => return code,
    };
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
        cpus()
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
        .map(|(k, s)| (*k, median(s, |s| s.mbps(bytes))))
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
