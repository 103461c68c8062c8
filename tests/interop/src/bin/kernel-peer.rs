//! `kernel-peer`: a small client/server that drives the Linux kernel's own MPTCP
//! implementation (sockets with protocol `IPPROTO_MPTCP`, or plain TCP with `--tcp`).
//!
//! It is the kernel side of the project's interop tests and the traffic source of
//! `captures/make-captures.sh`. Each side sends a deterministic byte pattern and
//! checks the pattern it receives, so a transfer that arrives damaged, short or
//! too long makes the program exit non-zero. Sending can be split into chunks with
//! pauses between them so that a script can change the path manager's endpoints
//! while the connection lives, and a side can abort with `SO_LINGER` 0.
//!
//! Everything is bounded in time: connect, accept, read and write use
//! `--io-timeout-ms`, and a watchdog ends the process after `--deadline-ms`.
//!
//! Its last line sums the connection up, down to the longest time between two reads
//! that returned data (`longest_read_stall`), which tells how long the peer's data
//! stopped coming, for example while a path failed over; `--report-stalls-over-ms`
//! lists every such gap with when it began and ended (`read_stalls`, on the machine's
//! monotonic clock), so that a test can tell which one spans the failure it caused.
//!
//! Exit status: 0 success, 1 transfer or verification failure, 2 usage error,
//! 3 the deadline passed.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use mptcp_interop::monotonic_ns;
use mptcp_interop::pattern::{self, fill, first_mismatch, mismatches};
use socket2::{Domain, Protocol, SockRef, Socket, Type};

/// `IPPROTO_MPTCP` from `<linux/in.h>`.
const IPPROTO_MPTCP: i32 = 262;
/// `SOL_MPTCP` from `<linux/socket.h>`.
const SOL_MPTCP: libc::c_int = 284;
/// `MPTCP_INFO` from `<linux/mptcp.h>`.
const MPTCP_INFO: libc::c_int = 1;
/// `MPTCP_SUBFLOW_ADDRS` from `<linux/mptcp.h>`: each subflow's local and remote address.
const MPTCP_SUBFLOW_ADDRS: libc::c_int = 3;
/// `struct mptcp_subflow_data`: four u32 (its size, the count, the kernel's element size,
/// ours).
const SUBFLOW_DATA_LEN: usize = 16;
/// `struct mptcp_subflow_addrs`: two `sockaddr_storage` (128 bytes each).
const SUBFLOW_ADDRS_LEN: usize = 256;

/// Largest write handed to the kernel at once.
const WRITE_BLOCK: usize = 16 * 1024;

#[derive(Parser, Debug)]
#[command(
    name = "kernel-peer",
    about = "Drive the Linux kernel's MPTCP (or TCP) with a verifiable byte pattern"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Listen, accept one connection, exchange data, close.
    Server(ServerArgs),
    /// Connect, exchange data, close.
    Client(ClientArgs),
}

#[derive(Args, Debug)]
struct ServerArgs {
    /// Address and port to listen on, e.g. 10.0.1.1:8080 or [fd00:1::1]:8080.
    #[arg(long)]
    listen: SocketAddr,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct ClientArgs {
    /// Address and port of the server.
    #[arg(long)]
    connect: SocketAddr,
    /// Local address (ADDR, or ADDR:PORT) to bind before connecting.
    #[arg(long, value_parser = parse_bind)]
    bind: Option<SocketAddr>,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug, Clone)]
struct Common {
    /// Use a plain TCP socket instead of IPPROTO_MPTCP.
    #[arg(long)]
    tcp: bool,
    /// Number of pattern bytes to send.
    #[arg(long, default_value_t = 0)]
    send: u64,
    /// Number of bytes the peer must send; anything else is a failure.
    #[arg(long)]
    expect: Option<u64>,
    /// Wait this long before sending the first byte.
    #[arg(long, default_value_t = 0)]
    start_delay_ms: u64,
    /// Send in chunks of this many bytes (0: no chunking).
    #[arg(long, default_value_t = 0)]
    chunk: u64,
    /// Sleep this long between two chunks.
    #[arg(long, default_value_t = 0)]
    pause_ms: u64,
    /// Keep the sending side open this long after the last byte was written.
    #[arg(long, default_value_t = 0)]
    hold_ms: u64,
    /// Shut down the sending side only once the peer's data has ended (EOF, a reset or
    /// an error of the receiving side), not as soon as our own data is out. Linux takes
    /// no MP_JOIN once its side is closed (the connection leaves ESTABLISHED with its
    /// DATA_FIN), so a server that only receives needs this to let the client join.
    #[arg(long)]
    shutdown_after_eof: bool,
    /// Abort with SO_LINGER 0 instead of a clean close: do not shut down the
    /// sending side, stop reading once exactly `--expect` bytes arrived (the
    /// peer may be sending more), then close: the kernel sends a RST.
    #[arg(long)]
    linger0: bool,
    /// Accept a connection reset by the peer once all expected bytes arrived.
    #[arg(long)]
    allow_reset: bool,
    /// List every gap of more than this many milliseconds between two reads that returned
    /// data (`read_stalls=FROM-UNTIL,...` in CLOCK_MONOTONIC nanoseconds; 0: none).
    #[arg(long, default_value_t = 0)]
    report_stalls_over_ms: u64,
    /// Timeout of connect, accept, every read and every write.
    #[arg(long, default_value_t = 10_000)]
    io_timeout_ms: u64,
    /// The whole process ends (exit 3) after this long.
    #[arg(long, default_value_t = 60_000)]
    deadline_ms: u64,
}

fn parse_bind(s: &str) -> Result<SocketAddr, String> {
    if let Ok(sa) = SocketAddr::from_str(s) {
        return Ok(sa);
    }
    IpAddr::from_str(s)
        .map(|ip| SocketAddr::new(ip, 0))
        .map_err(|e| format!("not an address or address:port: {e}"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Client,
    Server,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }

    /// Pattern offset added to bytes sent by this role, so the two directions differ.
    fn send_tag(self) -> u8 {
        match self {
            Role::Client => pattern::CLIENT_TAG,
            Role::Server => pattern::SERVER_TAG,
        }
    }

    fn recv_tag(self) -> u8 {
        match self {
            Role::Client => Role::Server.send_tag(),
            Role::Server => Role::Client.send_tag(),
        }
    }
}

/// What `MPTCP_INFO` told about the connection.
#[derive(Clone, Copy, Debug, Default)]
struct MptcpInfo {
    /// `mptcpi_subflows`: subflows beyond the first, as the path manager counts them.
    extra_subflows: u8,
    token: u32,
    csum_enabled: u8,
}

/// Reads `MPTCP_INFO`. An error (EOPNOTSUPP or ENOPROTOOPT) means the socket is
/// not MPTCP or the connection fell back to TCP.
fn mptcp_info(stream: &TcpStream) -> io::Result<MptcpInfo> {
    let mut buf = [0u8; 256];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: `buf` is valid for writes of `len` bytes, `len` points to a live
    // socklen_t, and the descriptor belongs to `stream` for the whole call.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            SOL_MPTCP,
            MPTCP_INFO,
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // struct mptcp_info: u8 subflows @0, ..., u32 flags @8, u32 token @12,
    // u64 write_seq @16, snd_una @24, rcv_nxt @32, u8 local_addr_used @40,
    // u8 local_addr_max @41, u8 csum_enabled @42.
    if (len as usize) < 43 {
        return Err(io::Error::new(ErrorKind::InvalidData, "short MPTCP_INFO"));
    }
    Ok(MptcpInfo {
        extra_subflows: buf[0],
        token: u32::from_ne_bytes([buf[12], buf[13], buf[14], buf[15]]),
        csum_enabled: buf[42],
    })
}

/// Reads `MPTCP_SUBFLOW_ADDRS`: every subflow's `local>remote` (those the kernel reports
/// without addresses, on their way out, are left out).
fn subflow_addrs(stream: &TcpStream) -> io::Result<Vec<String>> {
    const MAX: usize = 16;
    let mut buf = vec![0u8; SUBFLOW_DATA_LEN + MAX * SUBFLOW_ADDRS_LEN];
    buf[0..4].copy_from_slice(&(SUBFLOW_DATA_LEN as u32).to_ne_bytes());
    buf[12..16].copy_from_slice(&(SUBFLOW_ADDRS_LEN as u32).to_ne_bytes());
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: `buf` is valid for writes of `len` bytes, `len` points to a live
    // socklen_t, and the descriptor belongs to `stream` for the whole call.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            SOL_MPTCP,
            MPTCP_SUBFLOW_ADDRS,
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let count = u32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
    Ok((0..count.min(MAX))
        .filter_map(|i| {
            let at = SUBFLOW_DATA_LEN + i * SUBFLOW_ADDRS_LEN;
            let local = sockaddr(&buf[at..at + 128])?;
            let remote = sockaddr(&buf[at + 128..at + 256])?;
            let whole = |a: &SocketAddr| !a.ip().is_unspecified() && a.port() != 0;
            (whole(&local) && whole(&remote)).then(|| format!("{local}>{remote}"))
        })
        .collect())
}

/// Every subflow the connection had while the session ran: `MPTCP_SUBFLOW_ADDRS` read
/// every 20 ms until `done`, as `local>remote` pairs, sorted, comma-separated. (Read only
/// at the end, subflows the peer already closed would be missing.)
fn watch_subflows(stream: TcpStream, done: mpsc::Receiver<()>) -> String {
    let mut seen = std::collections::BTreeSet::new();
    loop {
        if let Ok(now) = subflow_addrs(&stream) {
            seen.extend(now);
        }
        match done.recv_timeout(Duration::from_millis(20)) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            _ => break,
        }
    }
    seen.into_iter().collect::<Vec<_>>().join(",")
}

/// A `sockaddr_in` or `sockaddr_in6` in a `sockaddr_storage`.
fn sockaddr(raw: &[u8]) -> Option<SocketAddr> {
    let family = i32::from(u16::from_ne_bytes([raw[0], raw[1]]));
    let port = u16::from_be_bytes([raw[2], raw[3]]);
    match family {
        libc::AF_INET => {
            let ip = std::net::Ipv4Addr::new(raw[4], raw[5], raw[6], raw[7]);
            Some(SocketAddr::new(ip.into(), port))
        }
        libc::AF_INET6 => {
            let octets: [u8; 16] = raw[8..24].try_into().ok()?;
            Some(SocketAddr::new(
                std::net::Ipv6Addr::from(octets).into(),
                port,
            ))
        }
        _ => None,
    }
}

fn new_socket(addr: &SocketAddr, tcp: bool) -> io::Result<Socket> {
    let proto = if tcp {
        Protocol::TCP
    } else {
        Protocol::from(IPPROTO_MPTCP)
    };
    Socket::new(Domain::for_address(*addr), Type::STREAM, Some(proto))
}

/// Accepts one connection. The listener is returned too: it must stay open for
/// the whole session, or the kernel answers the peer's MP_JOIN SYNs with a reset.
fn accept_one(args: &ServerArgs) -> io::Result<(Socket, TcpStream)> {
    let c = &args.common;
    let listener = new_socket(&args.listen, c.tcp)?;
    listener.set_reuse_address(true)?;
    listener.bind(&args.listen.into())?;
    listener.listen(8)?;
    eprintln!("kernel-peer server: listening on {}", args.listen);
    // Wait in poll(2) rather than a sleep loop so that accept() returns at once:
    // until the application accepts, the kernel cannot open subflows for it.
    let mut pfd = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let deadline = Instant::now() + Duration::from_millis(c.io_timeout_ms);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                ErrorKind::TimedOut,
                "no connection to accept",
            ));
        }
        let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: `pfd` is a valid pollfd for the duration of the call and the
        // count passed is 1.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if rc == 0 {
            continue;
        }
        let (sock, _peer) = listener.accept()?;
        return Ok((listener, sock.into()));
    }
}

fn connect(args: &ClientArgs) -> io::Result<TcpStream> {
    let c = &args.common;
    let sock = new_socket(&args.connect, c.tcp)?;
    if let Some(bind) = args.bind {
        sock.bind(&bind.into())?;
    }
    sock.connect_timeout(&args.connect.into(), Duration::from_millis(c.io_timeout_ms))?;
    Ok(sock.into())
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::NotConnected
    )
}

/// Writes `c.send` pattern bytes (chunked, with pauses), holds, then shuts down
/// the sending side unless aborting. Returns the number of bytes written.
fn send_side(stream: TcpStream, role: Role, c: Common, eof: mpsc::Receiver<()>) -> io::Result<u64> {
    let mut buf = vec![0u8; WRITE_BLOCK];
    let chunk = if c.chunk == 0 { c.send } else { c.chunk };
    let tag = role.send_tag();
    let mut off = 0u64;
    if c.start_delay_ms > 0 {
        thread::sleep(Duration::from_millis(c.start_delay_ms));
    }
    while off < c.send {
        let chunk_end = (off + chunk).min(c.send);
        while off < chunk_end {
            let n = ((chunk_end - off) as usize).min(buf.len());
            fill(tag, off, &mut buf[..n]);
            (&stream).write_all(&buf[..n])?;
            off += n as u64;
        }
        if off < c.send && c.pause_ms > 0 {
            thread::sleep(Duration::from_millis(c.pause_ms));
        }
    }
    if c.hold_ms > 0 {
        thread::sleep(Duration::from_millis(c.hold_ms));
    }
    if c.shutdown_after_eof {
        // Ok or Err (the receiving side dropped its sender): either way it has ended.
        let _ = eof.recv();
    }
    if !c.linger0 {
        match stream.shutdown(Shutdown::Write) {
            Ok(()) => {}
            Err(e) if c.allow_reset && is_reset(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(off)
}

/// How the receiving side ended.
#[derive(Clone, Copy, Debug)]
enum RecvEnd {
    Eof,
    Reset,
    Expected,
}

impl RecvEnd {
    fn name(self) -> &'static str {
        match self {
            RecvEnd::Eof => "eof",
            RecvEnd::Reset => "reset",
            RecvEnd::Expected => "expected",
        }
    }
}

struct Received {
    bytes: u64,
    first_bad: Option<u64>,
    /// Bytes that differ from the pattern (counted from the first one on).
    bad_bytes: u64,
    end: RecvEnd,
    /// The longest time between two reads that returned data.
    longest_stall: Duration,
    /// The gaps longer than `--report-stalls-over-ms` (at most [`STALLS_KEPT`]), as
    /// monotonic nanoseconds.
    stalls: Vec<(u64, u64)>,
}

/// How many read stalls `--report-stalls-over-ms` lists at most.
const STALLS_KEPT: usize = 64;

fn recv_side(stream: &TcpStream, role: Role, c: &Common) -> io::Result<Received> {
    let tag = role.recv_tag();
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0u64;
    let mut first_bad = None;
    let mut bad_bytes = 0;
    let mut last_read: Option<u64> = None;
    let mut longest_stall = Duration::ZERO;
    let mut stalls = Vec::new();
    let report_over = c.report_stalls_over_ms.saturating_mul(1_000_000);
    // An aborting side stops at exactly `--expect` bytes, even while the other
    // side goes on sending: what it leaves unread is part of the abort.
    let limit = c.expect.filter(|_| c.linger0);
    let end = loop {
        let want = match limit {
            Some(e) if got >= e => break RecvEnd::Expected,
            Some(e) => buf
                .len()
                .min(usize::try_from(e - got).unwrap_or(usize::MAX)),
            None => buf.len(),
        };
        match (&*stream).read(&mut buf[..want]) {
            Ok(0) => break RecvEnd::Eof,
            Ok(n) => {
                let now = monotonic_ns();
                if let Some(last) = last_read {
                    let gap = now.saturating_sub(last);
                    longest_stall = longest_stall.max(Duration::from_nanos(gap));
                    if report_over > 0 && gap > report_over && stalls.len() < STALLS_KEPT {
                        stalls.push((last, now));
                    }
                }
                last_read = Some(now);
                if first_bad.is_none() {
                    first_bad = first_mismatch(tag, got, &buf[..n]);
                }
                if first_bad.is_some() {
                    bad_bytes += mismatches(tag, got, &buf[..n]);
                }
                got += n as u64;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if c.allow_reset && is_reset(&e) => break RecvEnd::Reset,
            Err(e) => return Err(e),
        }
    };
    Ok(Received {
        bytes: got,
        first_bad,
        bad_bytes,
        end,
        longest_stall,
        stalls,
    })
}

/// ` read_stalls=FROM-UNTIL,...` when `--report-stalls-over-ms` asked for it.
fn stalls_text(c: &Common, stalls: &[(u64, u64)]) -> String {
    if c.report_stalls_over_ms == 0 {
        return String::new();
    }
    let list: Vec<String> = stalls.iter().map(|(a, b)| format!("{a}-{b}")).collect();
    format!(" read_stalls={}", list.join(","))
}

fn session(stream: TcpStream, role: Role, c: &Common, started: Instant) -> Result<String, String> {
    let io_timeout = Some(Duration::from_millis(c.io_timeout_ms));
    stream
        .set_read_timeout(io_timeout)
        .and_then(|()| stream.set_write_timeout(io_timeout))
        .map_err(|e| format!("setting timeouts: {e}"))?;
    let local = stream.local_addr().map_err(|e| e.to_string())?;
    let peer = stream.peer_addr().map_err(|e| e.to_string())?;
    let info_at_start = mptcp_info(&stream);

    let watched = stream.try_clone().map_err(|e| e.to_string())?;
    let (watch_done, watch_rx) = mpsc::channel();
    let watcher = thread::spawn(move || watch_subflows(watched, watch_rx));
    let writer_stream = stream.try_clone().map_err(|e| e.to_string())?;
    let wc = c.clone();
    let (eof_tx, eof_rx) = mpsc::channel();
    let writer = thread::spawn(move || send_side(writer_stream, role, wc, eof_rx));
    let received = recv_side(&stream, role, c);
    // With --shutdown-after-eof our DATA_FIN goes once the writer learns of the EOF, and
    // the peer then closes its subflows: their count is taken before.
    let info_at_eof = c.shutdown_after_eof.then(|| mptcp_info(&stream));

    drop(eof_tx);
    let sent = writer
        .join()
        .map_err(|_| "sending thread panicked".to_string())?;
    let info_at_end = info_at_eof.unwrap_or_else(|| mptcp_info(&stream));
    // The watcher ends with the send channel dropped.
    drop(watch_done);
    let subflows_seen = watcher
        .join()
        .map_err(|_| "subflow watcher panicked".to_string())?;

    if c.linger0 {
        SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .map_err(|e| format!("SO_LINGER: {e}"))?;
    }
    drop(stream);

    let received = received.map_err(|e| format!("receiving: {e}"))?;
    let sent = match sent {
        Ok(n) => n,
        Err(e) if c.allow_reset && is_reset(&e) => c.send,
        Err(e) => return Err(format!("sending: {e}")),
    };

    let proto = match (&info_at_start, c.tcp) {
        (_, true) => "tcp",
        (Ok(_), false) => "mptcp",
        (Err(_), false) => "mptcp-fallback",
    };
    // After a reset the kernel reports zeros: prefer what was seen at the start.
    let info = match (info_at_end, info_at_start) {
        (Ok(end), _) if end.token != 0 => Some(end),
        (_, Ok(start)) => Some(start),
        (Ok(end), Err(_)) => Some(end),
        (Err(_), Err(_)) => None,
    };
    let info_text = match info {
        Some(i) => format!(
            " token={:08x} extra_subflows={} csum={} subflows={}",
            i.token, i.extra_subflows, i.csum_enabled, subflows_seen
        ),
        None => String::new(),
    };
    let mut problems = Vec::new();
    if let Some(at) = received.first_bad {
        problems.push(format!(
            "pattern mismatch at byte {at}, {} bytes differ",
            received.bad_bytes
        ));
    }
    match c.expect {
        Some(want) if received.bytes != want => {
            problems.push(format!("expected {want} bytes, got {}", received.bytes));
        }
        _ => {}
    }
    let verdict = if problems.is_empty() {
        "ok".to_string()
    } else {
        format!("FAILED ({})", problems.join("; "))
    };
    let line = format!(
        "kernel-peer {}: local={local} peer={peer} proto={proto}{info_text} sent={sent} received={} end={} verify={verdict} elapsed={:.3}s longest_read_stall={:.1}ms{}",
        role.name(),
        received.bytes,
        received.end.name(),
        started.elapsed().as_secs_f64(),
        received.longest_stall.as_secs_f64() * 1e3,
        stalls_text(c, &received.stalls),
    );
    if problems.is_empty() {
        Ok(line)
    } else {
        Err(line)
    }
}

fn start_watchdog(deadline_ms: u64, role: Role) {
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(deadline_ms));
        eprintln!(
            "kernel-peer {}: deadline of {deadline_ms} ms passed, giving up",
            role.name()
        );
        std::process::exit(3);
    });
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let started = Instant::now();
    // The listening socket (server only) lives until the session is over.
    let (role, common, stream, _listener) = match cli.cmd {
        Command::Server(args) => {
            start_watchdog(args.common.deadline_ms, Role::Server);
            match accept_one(&args) {
                Ok((listener, stream)) => (Role::Server, args.common, Ok(stream), Some(listener)),
                Err(e) => (Role::Server, args.common, Err(e), None),
            }
        }
        Command::Client(args) => {
            start_watchdog(args.common.deadline_ms, Role::Client);
            let stream = connect(&args);
            (Role::Client, args.common, stream, None)
        }
    };
    let stream = match stream {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kernel-peer {}: no connection: {e}", role.name());
            return ExitCode::FAILURE;
        }
    };
    match session(stream, role, &common, started) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(line) => {
            println!("{line}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_accepts_address_or_address_and_port() {
        assert_eq!(
            parse_bind("10.0.2.2").unwrap(),
            "10.0.2.2:0".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            parse_bind("[fd00:2::2]:7000").unwrap(),
            "[fd00:2::2]:7000".parse::<SocketAddr>().unwrap()
        );
        assert!(parse_bind("not-an-address").is_err());
    }

    #[test]
    fn each_role_receives_what_the_other_sends() {
        assert_ne!(Role::Client.send_tag(), Role::Server.send_tag());
        assert_eq!(Role::Client.recv_tag(), Role::Server.send_tag());
        assert_eq!(Role::Server.recv_tag(), Role::Client.send_tag());
    }
}
