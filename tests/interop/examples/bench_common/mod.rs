//! What the benchmark examples (`tcp-bench`, `mptcp-bench`) share: sizes on the command
//! line, the `kernel-peer` binary, timing with CPU figures, medians, and the application
//! sides of a transfer (pattern or zeros, on our streams and on kernel sockets).
//!
//! Each example includes it with `mod bench_common;` (Cargo does not take a directory
//! without `main.rs` for an example of its own).

// Each example uses part of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mptcp_interop::pattern;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Which side sends and which receives in one transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A kernel client sends to a kernel server (the baseline).
    KernelToKernel,
    /// Our stack sends to a kernel server.
    OursToKernel,
    /// A kernel client sends to our stack.
    KernelToOurs,
}

impl Kind {
    /// Every transfer, in the order they run.
    pub const ALL: [Kind; 3] = [Kind::KernelToKernel, Kind::OursToKernel, Kind::KernelToOurs];

    /// Name in the output.
    pub fn name(self) -> &'static str {
        match self {
            Kind::KernelToKernel => "kernel->kernel",
            Kind::OursToKernel => "ours->kernel",
            Kind::KernelToOurs => "kernel->ours",
        }
    }

    /// Key on the command line (`--only kk,ok,ko`) and in the JSON.
    pub fn key(self) -> &'static str {
        match self {
            Kind::KernelToKernel => "kk",
            Kind::OursToKernel => "ok",
            Kind::KernelToOurs => "ko",
        }
    }

    /// The value of `--only`: a comma-separated subset of the keys.
    pub fn parse_list(v: &str) -> Result<Vec<Kind>, String> {
        let kinds: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| v.split(',').any(|s| s == k.key()))
            .collect();
        if kinds.is_empty() {
            return Err(format!("--only takes kk,ok,ko, not {v:?}"));
        }
        Ok(kinds)
    }
}

/// What the transfers carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    /// kernel-peer's byte pattern, generated and verified.
    Pattern,
    /// Zeros, counted; the kernel side runs in this process.
    Zeros,
}

impl Payload {
    /// The value of `--payload`.
    pub fn parse(v: &str) -> Result<Payload, String> {
        match v {
            "pattern" => Ok(Payload::Pattern),
            "zeros" => Ok(Payload::Zeros),
            other => Err(format!("--payload pattern|zeros, not {other:?}")),
        }
    }
}

/// Size of the application's writes and reads on our side (as kernel-peer reads).
pub const IO_BLOCK: usize = 64 * 1024;

/// A byte count with an optional suffix K, M or G (binary).
pub fn parse_size(s: &str) -> Result<u64, String> {
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

/// A positive count (`--runs`).
pub fn parse_count(s: &str) -> Result<usize, String> {
    s.parse()
        .ok()
        .filter(|&r| r > 0)
        .ok_or(format!("not a run count: {s:?}"))
}

/// Where `kernel-peer` is by default: next to this example's directory.
pub fn default_peer() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("kernel-peer")))
        .unwrap_or_else(|| PathBuf::from("kernel-peer"))
}

/// Under `cargo run` (which builds only the example), builds the `kernel-peer` binary of
/// this package with the same cargo and profile.
pub fn build_kernel_peer(program: &str) {
    let Some(cargo) = std::env::var_os("CARGO") else {
        return;
    };
    let mut cmd = std::process::Command::new(cargo);
    cmd.args(["build", "-p", "mptcp-interop", "--bin", "kernel-peer"]);
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    eprintln!("{program}: building kernel-peer");
    if let Err(e) = cmd.status() {
        eprintln!("{program}: running cargo: {e}");
    }
}

/// Makes sure `peer` exists (building it under `cargo run`); the message says how to get it.
pub fn ensure_kernel_peer(program: &str, peer: &std::path::Path) -> Result<(), String> {
    if !peer.is_file() {
        build_kernel_peer(program);
    }
    if peer.is_file() {
        Ok(())
    } else {
        Err(format!(
            "no kernel-peer at {}; build it with \
             `cargo build --release -p mptcp-interop --bin kernel-peer` or pass --peer",
            peer.display()
        ))
    }
}

/// Number of CPUs.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
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
pub struct Sample {
    pub elapsed: Duration,
    /// Busy cores of the machine, averaged over the transfer.
    pub machine_cores: f64,
    /// This process's CPU time over the transfer, in cores.
    pub process_cores: f64,
}

impl Sample {
    pub fn mbps(&self, bytes: u64) -> f64 {
        bytes as f64 * 8.0 / self.elapsed.as_secs_f64() / 1e6
    }
}

/// Measures `f`, which returns the instant the transfer started (after its own setup).
pub fn measure(f: impl FnOnce() -> Result<Instant, String>) -> Result<Sample, String> {
    let (busy0, total0) = machine_jiffies();
    let cpu0 = process_cpu();
    let outer = Instant::now();
    let started = f()?;
    let elapsed = started.elapsed();
    let wall = outer.elapsed().as_secs_f64();
    let (busy1, total1) = machine_jiffies();
    let cpu1 = process_cpu();
    let machine = (busy1 - busy0) as f64 / (total1 - total0).max(1) as f64 * cpus() as f64;
    Ok(Sample {
        elapsed,
        machine_cores: machine,
        process_cores: (cpu1 - cpu0).as_secs_f64() / wall,
    })
}

/// The median of `items` by `key` (the upper one of an even count); sorts `items`.
pub fn median<T: Copy>(items: &mut [T], key: impl Fn(&T) -> f64) -> T {
    items.sort_by(|a, b| key(a).total_cmp(&key(b)));
    items[items.len() / 2]
}

/// Fails unless kernel-peer's report says the received bytes verified.
pub fn check_verified(stdout: &str) -> Result<(), String> {
    if stdout.contains("verify=ok") {
        Ok(())
    } else {
        Err(format!("kernel-peer did not verify: {stdout}"))
    }
}

pub fn check_count(got: u64, want: u64) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("expected {want} bytes, got {got}"))
    }
}

/// Reads a kernel socket to the end; returns the byte count.
pub fn sink(stream: &mut TcpStream) -> Result<u64, String> {
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
pub fn source(stream: &mut TcpStream, len: u64) -> Result<(), String> {
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

/// Writes bytes `from..to` of a stream (zeros, or the client's pattern when
/// `with_pattern`) to one of our streams. It does not shut down.
pub async fn send_range(
    stream: &mut (impl AsyncWrite + Unpin),
    from: u64,
    to: u64,
    with_pattern: bool,
) -> Result<(), String> {
    let mut buf = vec![0u8; IO_BLOCK];
    let mut off = from;
    while off < to {
        let n = (to - off).min(buf.len() as u64) as usize;
        if with_pattern {
            pattern::fill(pattern::CLIENT_TAG, off, &mut buf[..n]);
        }
        stream
            .write_all(&buf[..n])
            .await
            .map_err(|e| format!("write at {off}: {e}"))?;
        off += n as u64;
    }
    Ok(())
}

/// Writes `len` bytes ([`send_range`] from 0). It does not shut down.
pub async fn send_all(
    stream: &mut (impl AsyncWrite + Unpin),
    len: u64,
    with_pattern: bool,
) -> Result<(), String> {
    send_range(stream, 0, len, with_pattern).await
}

/// [`send_all`], then a half-close.
pub async fn send_and_shutdown(
    stream: &mut (impl AsyncWrite + Unpin),
    len: u64,
    with_pattern: bool,
) -> Result<(), String> {
    send_all(stream, len, with_pattern).await?;
    stream
        .shutdown()
        .await
        .map_err(|e| format!("shutdown: {e}"))
}

/// Reads one of our streams to the end, checking the client's pattern when `pattern`;
/// returns the byte count.
pub async fn recv_all(
    stream: &mut (impl AsyncRead + Unpin),
    with_pattern: bool,
) -> Result<u64, String> {
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
        if with_pattern
            && let Some(at) = pattern::first_mismatch(pattern::CLIENT_TAG, got, &buf[..n])
        {
            return Err(format!("pattern mismatch at byte {at}"));
        }
        got += n as u64;
    }
}

/// The start of a benchmark's `main`: the options `parse` made (on a bad command line the
/// message and `usage`), root, and the kernel-peer binary when `payload` needs it. `Err`
/// is the exit code (2) after saying what is wrong.
pub fn start<O>(
    program: &str,
    usage: &str,
    parse: Result<O, String>,
    options: impl Fn(&O) -> (Payload, &std::path::Path),
) -> Result<O, std::process::ExitCode> {
    let fail = || std::process::ExitCode::from(2);
    let opts = parse.map_err(|msg| {
        if !msg.is_empty() {
            eprintln!("{program}: {msg}");
        }
        eprintln!("{usage}");
        fail()
    })?;
    if let Err(msg) = mptcp_interop::check_environment() {
        eprintln!("{program} needs root: {msg}");
        return Err(fail());
    }
    let (payload, peer) = options(&opts);
    if payload == Payload::Pattern
        && let Err(msg) = ensure_kernel_peer(program, peer)
    {
        eprintln!("{program}: {msg}");
        return Err(fail());
    }
    Ok(opts)
}
