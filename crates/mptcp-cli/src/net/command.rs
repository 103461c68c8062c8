//! `mptcp connect` and `mptcp listen` from parsed arguments to exit status: open the data,
//! set up the host, make or accept the connection, exchange, close gracefully, report, and
//! let the closing handshake finish before the stack goes.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::task::Poll;
use std::future::poll_fn;
use std::io::{self, Write};
use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use mptcp_tun::{MptcpListener, MptcpStream};

use super::args::{ConnectArgs, DataArgs, ListenArgs, NetArgs};
use super::host::Host;
use super::outcome::{Outcome, connect_failure, transfer_failure};
use super::progress::Progress;
use super::report::{Protocol, Report};
use super::session::exchange;
use super::side::{Counters, SideError};
use super::sink::Sink;
use super::source::Source;
use super::subflows::SubflowRow;
use crate::pattern::{CLIENT_TAG, SERVER_TAG};

/// How long `connect` tries when `--timeout` does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the graceful close may wait for the peer to acknowledge our end of stream.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs `mptcp connect`; returns the exit status (0 ok, 1 failed, 2 needs root).
pub fn connect(args: &ConnectArgs) -> u8 {
    let target = match resolve(&args.target, &args.net) {
        Ok(target) => target,
        Err(message) => return fail("connect", &message, 1),
    };
    run("connect", || connect_async(args, target))
}

/// Runs `mptcp listen`; returns the exit status (0 ok, 1 failed, 2 needs root).
pub fn listen(args: &ListenArgs) -> u8 {
    run("listen", || listen_async(args))
}

/// Builds the tokio runtime (two workers) and runs `main` on it. Stops without waiting for
/// a read of standard input that may still block a worker.
fn run<F: Future<Output = u8>>(command: &str, main: impl FnOnce() -> F) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(command, &format!("cannot start tokio: {e}"), 1),
    };
    let code = runtime.block_on(main());
    runtime.shutdown_background();
    code
}

/// `HOST:PORT` as an address of a family the stack has (`--addr`).
fn resolve(target: &str, net: &NetArgs) -> Result<SocketAddr, String> {
    let candidates: Vec<SocketAddr> = target
        .to_socket_addrs()
        .map_err(|e| format!("{target:?} is not HOST:PORT ({e})"))?
        .collect();
    let usable = |a: &SocketAddr| net.addrs.iter().any(|c| c.addr.is_ipv4() == a.is_ipv4());
    candidates.iter().copied().find(usable).ok_or_else(|| {
        format!(
            "{target} has no address of the families of --addr ({})",
            candidates
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

async fn connect_async(args: &ConnectArgs, target: SocketAddr) -> u8 {
    const COMMAND: &str = "connect";
    let (source, sink) = match open_data(&args.data, CLIENT_TAG).await {
        Ok(data) => data,
        Err(message) => return fail(COMMAND, &message, 1),
    };
    let host = match Host::start(&args.net, COMMAND) {
        Ok(host) => host,
        Err(e) if e.whole_line => return fail_line(&e.message, e.exit_code),
        Err(e) => return fail(COMMAND, &e.message, e.exit_code),
    };
    let limit = args.net.timeout.unwrap_or(CONNECT_TIMEOUT);
    let offered = Protocol::offered(host.mptcp);
    let stream = match tokio::time::timeout(limit, MptcpStream::connect(&host.handle(), target))
        .await
    {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            let (outcome, message) = connect_failure(target, &e);
            let report = Report::failed(COMMAND, offered, outcome, message, Some(target));
            return finish(&report, &args.data);
        }
        Err(_) => {
            let message = format!(
                "connection to {target} timed out (no answer within {:.1} s)",
                limit.as_secs_f64()
            );
            let report = Report::failed(COMMAND, offered, Outcome::TimedOut, message, Some(target));
            return finish(&report, &args.data);
        }
    };
    let code = transfer(
        COMMAND, host.mptcp, stream, source, sink, &args.data, SERVER_TAG,
    )
    .await;
    host.linger(COMMAND).await;
    code
}

async fn listen_async(args: &ListenArgs) -> u8 {
    const COMMAND: &str = "listen";
    let (source, sink) = match open_data(&args.data, SERVER_TAG).await {
        Ok(data) => data,
        Err(message) => return fail(COMMAND, &message, 1),
    };
    let host = match Host::start(&args.net, COMMAND) {
        Ok(host) => host,
        Err(e) if e.whole_line => return fail_line(&e.message, e.exit_code),
        Err(e) => return fail(COMMAND, &e.message, e.exit_code),
    };
    let mut listeners = Vec::new();
    for at in listen_addrs(args) {
        match MptcpListener::bind(&host.handle(), at) {
            Ok(listener) => listeners.push(listener),
            Err(e) => return fail(COMMAND, &format!("cannot listen on {at}: {e}"), 1),
        }
    }
    let bound: Vec<String> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .map(|a| a.to_string())
        .collect();
    let _ = writeln!(
        io::stderr(),
        "mptcp listen: listening on {}",
        bound.join(", ")
    );
    let accept = poll_fn(|cx| {
        for listener in &listeners {
            if let Poll::Ready(result) = listener.poll_accept(cx) {
                return Poll::Ready(result);
            }
        }
        Poll::Pending
    });
    let accepted = match args.net.timeout {
        Some(limit) => tokio::time::timeout(limit, accept).await.map_err(|_| limit),
        None => Ok(accept.await),
    };
    // One connection, like `nc -l`: stop listening at once.
    drop(listeners);
    let stream = match accepted {
        Ok(Ok((stream, _peer))) => stream,
        Ok(Err(e)) => return fail(COMMAND, &format!("accepting failed: {e}"), 1),
        Err(limit) => {
            let message = format!(
                "no connection within {:.1} s on {}",
                limit.as_secs_f64(),
                bound.join(", ")
            );
            let offered = Protocol::offered(host.mptcp);
            let report = Report::failed(COMMAND, offered, Outcome::TimedOut, message, None);
            return finish(&report, &args.data);
        }
    };
    let code = transfer(
        COMMAND, host.mptcp, stream, source, sink, &args.data, CLIENT_TAG,
    )
    .await;
    host.linger(COMMAND).await;
    code
}

/// The addresses to listen on: the one asked for, or the unspecified address of each family
/// of `--addr` (the stack matches those per family).
fn listen_addrs(args: &ListenArgs) -> Vec<SocketAddr> {
    if let Some(ip) = args.at.ip {
        return vec![SocketAddr::new(ip, args.at.port)];
    }
    let mut addrs = Vec::new();
    let has = |v4: bool| args.net.addrs.iter().any(|c| c.addr.is_ipv4() == v4);
    if has(true) {
        addrs.push(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            args.at.port,
        ));
    }
    if has(false) {
        addrs.push(SocketAddr::new(
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            args.at.port,
        ));
    }
    addrs
}

async fn open_data(data: &DataArgs, send_tag: u8) -> Result<(Source, Sink), String> {
    Ok((Source::open(data, send_tag).await?, Sink::open(data).await?))
}

/// Exchanges data on an established connection, closes it gracefully after a clean end (the
/// peer then has everything we sent), and reports.
async fn transfer(
    command: &'static str,
    offered_mptcp: bool,
    mut stream: MptcpStream,
    source: Source,
    sink: Sink,
    data: &DataArgs,
    verify_tag: u8,
) -> u8 {
    let local = stream.local_addr().ok();
    let peer = stream.peer_addr().ok();
    let peer_or_any = peer.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    let counters = Arc::new(Counters::default());
    let progress = Progress::start(counters.clone(), stream.monitor(), data.quiet);
    let verify = data.verify.then_some(verify_tag);
    let mut done = exchange(&mut stream, source, sink, verify, &counters).await;
    if done.result.is_ok() {
        // A graceful close: the peer acknowledges everything, our end of stream included.
        let closing = stream.shutdown_complete();
        done.result = match tokio::time::timeout(CLOSE_TIMEOUT, closing).await {
            Ok(closed) => closed.map_err(SideError::Net),
            Err(_) => Err(SideError::Net(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the peer did not acknowledge the end of our data within {} s",
                    CLOSE_TIMEOUT.as_secs()
                ),
            ))),
        };
    }
    // The last look at the connection, before releasing it.
    let protocol = Protocol::of(offered_mptcp, stream.is_mptcp());
    let subflows = SubflowRow::all(&stream.subflows());
    drop(stream);
    if let Some(progress) = progress {
        progress.finish().await;
    }
    let sent = counters.sent.load(Ordering::Relaxed);
    let received = counters.received.load(Ordering::Relaxed);
    let (outcome, message) = match (&done.result, done.first_bad) {
        (Err(SideError::Net(e)), _) => {
            let (outcome, message) = transfer_failure(peer_or_any, e, sent, received);
            (outcome, Some(message))
        }
        (Err(SideError::Local(message)), _) => (Outcome::LocalError, Some(message.clone())),
        (Ok(()), Some(offset)) => (
            Outcome::VerifyFailed,
            Some(format!(
                "received data differ from the test pattern at byte {offset} (of {received})"
            )),
        ),
        (Ok(()), None) => (Outcome::Ok, None),
    };
    let report = Report {
        command,
        protocol,
        outcome,
        message,
        local,
        peer,
        bytes_sent: sent,
        bytes_received: received,
        duration: done.duration,
        verified: data.verify.then_some(done.first_bad.is_none()),
        first_bad_offset: done.first_bad,
        subflows,
    };
    finish(&report, data)
}

/// Prints the report (a failure's message on standard error in every case) and returns the
/// exit status.
fn finish(report: &Report, data: &DataArgs) -> u8 {
    if let Some(message) = &report.message {
        let _ = writeln!(io::stderr(), "mptcp {}: {message}", report.command);
    }
    if data.json {
        let _ = writeln!(io::stdout(), "{}", report.to_json());
    } else if report.local.is_some() {
        let _ = writeln!(io::stderr(), "{}", report.summary());
    }
    report.outcome.exit_code()
}

fn fail(command: &str, message: &str, code: u8) -> u8 {
    fail_line(&format!("mptcp {command}: {message}"), code)
}

fn fail_line(line: &str, code: u8) -> u8 {
    let _ = writeln!(io::stderr(), "{line}");
    code
}
