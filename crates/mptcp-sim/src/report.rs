//! What a scenario run produced: one [`ConnectionReport`] per client connection, joining
//! what the client saw with what the server that accepted it saw.

use core::net::SocketAddr;
use core::time::Duration;

use mptcp_proto::stack::{CloseReason, SubflowInfo};
use mptcp_proto::tcp::TcpInfo;
use mptcp_proto::time::Instant;

pub use crate::sample::{Sample, Stall, SubflowSample};
use crate::stack_host::{Client, ClientKind, Session, StackHost};

/// The traffic of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrafficKind {
    /// A bulk transfer of a known size, client to server.
    Bulk,
    /// A bulk transfer of a known size, server to client.
    Download,
    /// Bulk transfers of known sizes both ways at once.
    Exchange,
    /// Requests and responses.
    RequestResponse,
    /// Rate-limited on/off traffic for the whole scenario.
    OnOff,
}

impl TrafficKind {
    /// The name used in scenario files ("bulk", "download", "exchange", "request-response",
    /// "on-off").
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bulk => "bulk",
            Self::Download => "download",
            Self::Exchange => "exchange",
            Self::RequestResponse => "request-response",
            Self::OnOff => "on-off",
        }
    }
}

/// One connection of a scenario: both directions' payload (application bytes, not counting
/// the 32-byte header each client sends first) and the TCP counters of both ends.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionReport {
    /// The client's host.
    pub client: String,
    /// The host whose server accepted the connection, if one did.
    pub server: Option<String>,
    /// The address the client connected to.
    pub remote: SocketAddr,
    /// The traffic.
    pub kind: TrafficKind,
    /// Payload bytes the applications handed to their stacks, both directions.
    pub bytes_sent: u64,
    /// Payload bytes the applications read, both directions.
    pub bytes_received: u64,
    /// Payload bytes a complete transfer has, both directions (`None` for on/off traffic).
    pub expected_bytes: Option<u64>,
    /// Every byte read matched what was sent at that position, and (for transfers of a known
    /// size) the whole transfer arrived, no more and no less.
    pub intact: bool,
    /// The transfer completed by the scenario's end (on/off traffic: the connection was
    /// established and did not fail).
    pub finished: bool,
    /// When the client started connecting.
    pub start: Instant,
    /// When the transfer completed (the last byte read), or the scenario's end.
    pub end: Instant,
    /// Segments retransmitted, both ends.
    pub retransmits: u64,
    /// Retransmission timeouts, both ends.
    pub timeouts: u64,
    /// The client's smoothed RTT.
    pub srtt: Option<Duration>,
    /// The client's smallest RTT.
    pub min_rtt: Option<Duration>,
    /// The client's TCP counters as last seen.
    pub client_tcp: Option<TcpInfo>,
    /// The server's TCP counters as last seen.
    pub server_tcp: Option<TcpInfo>,
    /// The connection spoke MPTCP (false for plain TCP and after a fallback).
    pub mptcp: bool,
    /// The client's subflows as last seen (empty for plain TCP).
    pub client_subflows: Vec<SubflowInfo>,
    /// The first thing that went wrong, in words.
    pub problem: Option<String>,
    /// Some byte an application read differed from what its peer sent at that position:
    /// damaged data reached an application (never acceptable; a reset is).
    pub wrong_bytes: bool,
    /// The longest the server went without reading the client's bytes while more were to
    /// come: the longest gap between two reads that returned data, or, when the client's
    /// bytes stopped short, from the last read to the end of the run (`None`: nothing
    /// read).
    pub stall_up: Option<Stall>,
    /// The same for the client reading the server's bytes.
    pub stall_down: Option<Stall>,
    /// The client's view of the connection at regular instants, from its connect to the end
    /// of the transfer (empty unless [`RunOptions::sample_every`](crate::RunOptions) asked).
    pub samples: Vec<Sample>,
    /// Request/response: how long each exchange took, in order, from handing the request
    /// to the stack to reading the last byte of its response (empty for other traffic).
    pub exchange_times: Vec<Duration>,
    /// The server's view of the connection at the same instants, from its accept to its
    /// close (`sent` counts its responses, `received` the client's bytes).
    pub server_samples: Vec<Sample>,
}

impl ConnectionReport {
    /// From the start to the end.
    pub fn duration(&self) -> Duration {
        self.end.saturating_duration_since(self.start)
    }

    /// The `p`-th percentile (0 to 100, nearest rank) of the exchange times, if there were
    /// exchanges.
    pub fn exchange_percentile(&self, p: f64) -> Option<Duration> {
        let mut times = self.exchange_times.clone();
        times.sort_unstable();
        let rank = (p.clamp(0.0, 100.0) / 100.0 * times.len() as f64).ceil() as usize;
        times.get(rank.saturating_sub(1)).copied()
    }

    /// Payload bits read per second of [`duration`](Self::duration).
    pub fn goodput_bps(&self) -> f64 {
        let seconds = self.duration().as_secs_f64();
        if seconds > 0.0 {
            self.bytes_received as f64 * 8.0 / seconds
        } else {
            0.0
        }
    }

    /// Intact and finished.
    pub fn ok(&self) -> bool {
        self.intact && self.finished
    }
}

/// Everything a scenario run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioReport {
    /// The seed it ran with.
    pub seed: u64,
    /// The simulated time it ran for.
    pub end: Instant,
    /// One per client application, in the order of the hosts and then of the applications.
    pub connections: Vec<ConnectionReport>,
    /// Connections servers accepted that no client made (their header was damaged).
    pub stray_sessions: usize,
    /// Simulator events processed.
    pub events: u64,
}

impl ScenarioReport {
    /// Joins what the clients and servers of `hosts` saw, for a run that ended at `end`.
    pub fn collect<'a>(
        seed: u64,
        end: Instant,
        events: u64,
        hosts: impl IntoIterator<Item = &'a StackHost> + Clone,
    ) -> Self {
        let sessions: Vec<(&str, &Session)> = hosts
            .clone()
            .into_iter()
            .flat_map(|host| {
                host.servers()
                    .iter()
                    .flat_map(|server| server.sessions.values())
                    .map(move |session| (host.name(), session))
            })
            .collect();
        let mut matched = 0;
        let mut connections = Vec::new();
        for host in hosts {
            for client in host.clients() {
                let session = sessions
                    .iter()
                    .find(|(_, s)| s.header.is_some_and(|h| h.salt == client.salt));
                matched += usize::from(session.is_some());
                connections.push(connection(host.name(), client, session.copied(), end));
            }
        }
        Self {
            seed,
            end,
            connections,
            stray_sessions: sessions.len() - matched,
            events,
        }
    }

    /// Every connection is intact and finished, and no server saw a stray connection.
    pub fn all_ok(&self) -> bool {
        self.stray_sessions == 0 && self.connections.iter().all(ConnectionReport::ok)
    }
}

/// The report of `client`'s connection, with the server `session` that accepted it.
fn connection(
    host: &str,
    client: &Client,
    session: Option<(&str, &Session)>,
    scenario_end: Instant,
) -> ConnectionReport {
    let upstream = session.and_then(|(_, s)| s.upstream.as_ref());
    let up_received = upstream.map_or(0, |r| r.received);
    let up_clean = upstream.is_some_and(|r| r.mismatch.is_none());
    let down = &client.downstream;
    let down_clean = down.mismatch.is_none();
    let responded = session.map_or(0, |(_, s)| s.responded());
    let server_eof = session.and_then(|(_, s)| s.eof);
    // Per kind: what each direction carries (`None`: as much as the client sent), whether
    // the transfer completed, and when.
    let (kind, up_expected, down_expected, finished, end) = match client.kind {
        ClientKind::Bulk { bytes } => (
            TrafficKind::Bulk,
            Some(bytes),
            0,
            server_eof.is_some(),
            server_eof,
        ),
        ClientKind::Download { bytes } => (
            TrafficKind::Download,
            Some(0),
            bytes,
            client.eof.is_some(),
            client.eof,
        ),
        ClientKind::Exchange { up, down } => (
            TrafficKind::Exchange,
            Some(up),
            down,
            client.eof.is_some() && server_eof.is_some(),
            client.eof.max(server_eof),
        ),
        ClientKind::RequestResponse {
            request,
            response,
            count,
        } => {
            let (requests, responses) = (request * u64::from(count), response * u64::from(count));
            let answered = down.received >= responses;
            (
                TrafficKind::RequestResponse,
                Some(requests),
                responses,
                answered && server_eof.is_some(),
                server_eof.max(down.last),
            )
        }
        ClientKind::OnOff { .. } => (
            TrafficKind::OnOff,
            None,
            0,
            client.connected.is_some()
                && client.failure.is_none()
                && client.closed.is_none()
                && session.is_some_and(|(_, s)| s.failure.is_none() && s.closed.is_none()),
            None,
        ),
    };
    let expected = up_expected.map(|up| up + down_expected);
    let counts_right = up_expected.map_or(up_received <= client.sent(), |up| up_received == up)
        && down.received == down_expected;
    // A direction that stopped short stalled from its last read to the end of the run.
    let short = |received: u64, expected: Option<u64>| {
        expected
            .is_some_and(|e| received < e)
            .then_some(scenario_end)
    };
    let stall_up = upstream.and_then(|r| r.longest_stall(short(r.received, up_expected)));
    let stall_down = down.longest_stall(short(down.received, Some(down_expected)));
    let finished = finished && session.is_some();
    let intact = up_clean && down_clean && counts_right && (finished || expected.is_none());
    let tcp = [client.tcp, session.and_then(|(_, s)| s.tcp)];
    let problem = problem(
        client,
        session.map(|(_, s)| s),
        expected,
        up_received + down.received,
    );
    ConnectionReport {
        client: host.to_owned(),
        server: session.map(|(name, _)| name.to_owned()),
        remote: client.remote,
        kind,
        bytes_sent: client.sent() + responded,
        bytes_received: up_received + down.received,
        expected_bytes: expected,
        intact,
        finished,
        start: client.start,
        end: end.filter(|_| finished).unwrap_or(scenario_end),
        retransmits: tcp.iter().flatten().map(|info| info.retransmits).sum(),
        timeouts: tcp.iter().flatten().map(|info| info.timeouts).sum(),
        srtt: client.tcp.and_then(|info| info.srtt),
        min_rtt: client.tcp.and_then(|info| info.min_rtt),
        client_tcp: tcp[0],
        server_tcp: tcp[1],
        mptcp: client.mptcp,
        client_subflows: client.subflows.clone(),
        problem,
        wrong_bytes: upstream.is_some_and(|r| r.mismatch.is_some()) || !down_clean,
        stall_up,
        stall_down,
        samples: client.samples.clone(),
        exchange_times: client.exchange_times.clone(),
        server_samples: session.map_or_else(Vec::new, |(_, s)| s.samples.clone()),
    }
}

/// The first thing that went wrong with a connection, if anything did.
fn problem(
    client: &Client,
    session: Option<&Session>,
    expected: Option<u64>,
    received: u64,
) -> Option<String> {
    if let Some(failure) = &client.failure {
        return Some(format!("client: {failure}"));
    }
    let abnormal = |reason: Option<CloseReason>| reason.filter(|r| *r != CloseReason::Normal);
    let Some(session) = session else {
        return Some(match abnormal(client.closed) {
            Some(reason) => format!("no server accepted the connection (client: {reason:?})"),
            None => "no server accepted the connection".to_owned(),
        });
    };
    if let Some(at) = session.upstream.as_ref().and_then(|r| r.mismatch) {
        return Some(format!(
            "byte {at} from the client differs from what it sent"
        ));
    }
    if let Some(at) = client.downstream.mismatch {
        return Some(format!(
            "byte {at} from the server differs from what it sent"
        ));
    }
    if let Some(failure) = &session.failure {
        return Some(format!("server: {failure}"));
    }
    if let Some(reason) = abnormal(client.closed) {
        return Some(format!("client connection closed: {reason:?}"));
    }
    if let Some(reason) = abnormal(session.closed) {
        return Some(format!("server connection closed: {reason:?}"));
    }
    match expected {
        Some(expected) if received != expected => {
            Some(format!("{received} of {expected} bytes arrived"))
        }
        _ => None,
    }
}
