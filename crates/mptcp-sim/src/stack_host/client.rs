//! The client applications: bulk transfer (upload, download or both at once),
//! request/response and on/off traffic. Each opens
//! one connection at its start time, announces itself with a [`Header`] and sends the
//! pattern; what it reads back is checked against the pattern of the other direction.

use core::net::SocketAddr;
use core::time::Duration;

use mptcp_proto::stack::SubflowInfo;
use mptcp_proto::stack::{CloseReason, ConnectionConfig, ConnectionHandle, Event, Stack};
use mptcp_proto::tcp::TcpInfo;
use mptcp_proto::time::Instant;

use super::pattern::{Header, Pattern, StreamKind};
use super::sample_of;
use super::stream::{ReadEnd, Receiver, Sender, read_available};
use crate::sample::Sample;
use crate::scenario::AppSpec;

/// How often an on/off client tops up its sending while on.
const ON_OFF_TICK: Duration = Duration::from_millis(1);

/// What a client does once connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientKind {
    /// Sends `bytes` bytes, then shuts down.
    Bulk {
        /// Payload bytes.
        bytes: u64,
    },
    /// Sends only its header and shuts down, then reads the `bytes` bytes the server sends.
    Download {
        /// Payload bytes the server sends.
        bytes: u64,
    },
    /// Sends `up` bytes and shuts down, while reading the `down` bytes the server sends.
    Exchange {
        /// Payload bytes the client sends.
        up: u64,
        /// Payload bytes the server sends.
        down: u64,
    },
    /// Sends `count` requests, each after the previous response, then shuts down.
    RequestResponse {
        /// Bytes per request.
        request: u64,
        /// Bytes per response.
        response: u64,
        /// Exchanges.
        count: u32,
    },
    /// Sends at `rate_bps` for `on`, pauses for `off`, for as long as the scenario runs.
    OnOff {
        /// Rate while on, bit/s.
        rate_bps: u64,
        /// On period.
        on: Duration,
        /// Off period.
        off: Duration,
    },
}

/// A client application and what it has seen.
#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) kind: ClientKind,
    pub(crate) remote: SocketAddr,
    pub(crate) start: Instant,
    /// The settings of its connection, if it has its own (else the stack's).
    config: Option<ConnectionConfig>,
    /// Identifies the connection across the scenario.
    pub(crate) salt: u64,
    pub(crate) conn: Option<ConnectionHandle>,
    upstream: Sender,
    /// Responses, checked.
    pub(crate) downstream: Receiver,
    pub(crate) connected: Option<Instant>,
    /// When the server's end of stream was read.
    pub(crate) eof: Option<Instant>,
    pub(crate) closed: Option<CloseReason>,
    /// The first call that failed (connect, send, recv).
    pub(crate) failure: Option<String>,
    /// The connection's counters, as last seen.
    pub(crate) tcp: Option<TcpInfo>,
    /// The connection's subflows as last seen (after each subflow event).
    pub(crate) subflows: Vec<SubflowInfo>,
    /// The connection speaks MPTCP (as last seen).
    pub(crate) mptcp: bool,
    /// Periodic snapshots of the connection, if the host samples.
    pub(crate) samples: Vec<Sample>,
    /// The last sample was taken after the transfer ended: no more are needed.
    pub(crate) sampled_out: bool,
    /// The last time the on/off schedule was advanced.
    last_tick: Instant,
    /// Request/response: when the request being answered was handed to the stack.
    asked_at: Instant,
    /// Request/response: how long each complete exchange took, from handing the request
    /// to the stack to reading the last byte of its response.
    pub(crate) exchange_times: Vec<Duration>,
    shut: bool,
    /// `close` was called: the handle is no longer ours to use.
    released: bool,
}

impl Client {
    /// The client `spec` describes (`None` for a server), with connection id `salt` and
    /// the settings `config` if it has its own.
    pub(crate) fn new(spec: &AppSpec, salt: u64, config: Option<ConnectionConfig>) -> Option<Self> {
        let (kind, start, remote) = match *spec {
            AppSpec::Bulk {
                start,
                connect,
                bytes,
                ..
            } => (ClientKind::Bulk { bytes }, start, connect),
            AppSpec::Download {
                start,
                connect,
                bytes,
                ..
            } => (ClientKind::Download { bytes }, start, connect),
            AppSpec::Exchange {
                start,
                connect,
                up,
                down,
                ..
            } => (ClientKind::Exchange { up, down }, start, connect),
            AppSpec::RequestResponse {
                start,
                connect,
                request,
                response,
                count,
                ..
            } => (
                ClientKind::RequestResponse {
                    request,
                    response,
                    count,
                },
                start,
                connect,
            ),
            AppSpec::OnOff {
                start,
                connect,
                rate,
                on,
                off,
                ..
            } => (
                ClientKind::OnOff {
                    rate_bps: rate.0,
                    on: on.0,
                    off: off.0,
                },
                start,
                connect,
            ),
            AppSpec::Server { .. } => return None,
        };
        let stream = match kind {
            ClientKind::Bulk { bytes } => StreamKind::Bulk { bytes },
            ClientKind::Download { bytes } => StreamKind::Download { bytes },
            ClientKind::Exchange { up, down } => StreamKind::Exchange { up, down },
            ClientKind::RequestResponse {
                request, response, ..
            } => StreamKind::RequestResponse { request, response },
            ClientKind::OnOff { .. } => StreamKind::Open,
        };
        let header = Header { salt, kind: stream }.encode();
        Some(Self {
            kind,
            remote,
            config,
            start: Instant::ZERO + start.0,
            salt,
            conn: None,
            upstream: Sender::new(Pattern::upstream(salt), Some(header)),
            downstream: Receiver::new(Pattern::downstream(salt)),
            connected: None,
            eof: None,
            closed: None,
            failure: None,
            tcp: None,
            subflows: Vec::new(),
            mptcp: false,
            samples: Vec::new(),
            sampled_out: false,
            last_tick: Instant::ZERO,
            asked_at: Instant::ZERO,
            exchange_times: Vec::new(),
            shut: false,
            released: false,
        })
    }

    /// Payload bytes the stack accepted from this client.
    pub(crate) fn sent(&self) -> u64 {
        self.upstream.sent()
    }

    fn active(&self) -> bool {
        self.failure.is_none() && self.closed.is_none()
    }

    /// Whether sampling this client is over (or never starts): after one last sample once
    /// the transfer ended.
    pub(crate) fn sampling_done(&self) -> bool {
        self.sampled_out || (self.conn.is_none() && self.failure.is_some())
    }

    /// Records the connection's counters at `now` (nothing before it connects).
    pub(crate) fn sample(&mut self, now: Instant, stack: &Stack) {
        let Some(conn) = self.conn else {
            return;
        };
        let (sent, received) = (self.sent(), self.downstream.received);
        self.samples
            .push(sample_of(now, stack, conn, sent, received));
        self.sampled_out = self.eof.is_some() || !self.active();
    }

    /// When the client next wants [`handle_timeout`](Self::handle_timeout).
    pub(crate) fn wake(&self) -> Option<Instant> {
        if self.conn.is_none() {
            return self.failure.is_none().then_some(self.start);
        }
        match (self.kind, self.connected) {
            (ClientKind::OnOff { on, off, .. }, Some(since)) if self.active() => {
                Some(next_on_off_tick(since, self.last_tick, on, off))
            }
            _ => None,
        }
    }

    /// Virtual time reached [`wake`](Self::wake): connect, or send the next on/off bytes.
    pub(crate) fn handle_timeout(&mut self, now: Instant, stack: &mut Stack) {
        let Some(conn) = self.conn else {
            if now >= self.start && self.failure.is_none() {
                let connected = match &self.config {
                    Some(config) => stack.connect_with(now, self.remote, None, config.clone()),
                    None => stack.connect(now, self.remote, None),
                };
                match connected {
                    Ok(conn) => self.conn = Some(conn),
                    Err(error) => self.failure = Some(format!("connect: {error}")),
                }
            }
            return;
        };
        if let (ClientKind::OnOff { rate_bps, on, off }, Some(since)) = (self.kind, self.connected)
        {
            self.last_tick = now;
            let on_time = on_time_between(since, now, on, off);
            let bytes = on_time.as_nanos() * u128::from(rate_bps) / 8_000_000_000;
            self.upstream.want(u64::try_from(bytes).unwrap_or(u64::MAX));
            self.pump(stack, conn);
        }
    }

    /// An event of this client's connection.
    pub(crate) fn handle_event(
        &mut self,
        now: Instant,
        event: Event,
        stack: &mut Stack,
        scratch: &mut [u8],
    ) {
        let Some(conn) = self.conn else {
            return;
        };
        match event {
            Event::Connected(_) => {
                self.connected = Some(now);
                self.last_tick = now;
                match self.kind {
                    ClientKind::Bulk { bytes } => self.upstream.want(bytes),
                    ClientKind::RequestResponse { request, .. } => {
                        self.asked_at = now;
                        self.upstream.want(request);
                    }
                    ClientKind::Exchange { up, .. } => self.upstream.want(up),
                    ClientKind::Download { .. } | ClientKind::OnOff { .. } => {}
                }
                self.pump(stack, conn);
            }
            Event::Writable(_) => self.pump(stack, conn),
            Event::Readable(_) | Event::PeerClosed(_) => self.read(now, stack, conn, scratch),
            Event::Closed(_, reason) => self.closed = Some(reason),
            Event::Incoming(_) | Event::SendComplete(_) | Event::Mptcp(..) => {}
        }
    }

    /// Sends what is wanted; shuts down once a finite transfer is all in the stack.
    fn pump(&mut self, stack: &mut Stack, conn: ConnectionHandle) {
        if !self.active() || self.released {
            return;
        }
        if let Err(error) = self.upstream.pump(stack, conn) {
            self.failure = Some(format!("send: {error}"));
            return;
        }
        let last_sent = match self.kind {
            ClientKind::Bulk { .. } | ClientKind::Download { .. } | ClientKind::Exchange { .. } => {
                true
            }
            ClientKind::RequestResponse {
                response, count, ..
            } => self.downstream.received >= response * u64::from(count),
            ClientKind::OnOff { .. } => false,
        };
        if last_sent && self.upstream.caught_up() && !self.shut {
            self.shut = true;
            if let Err(error) = stack.shutdown(conn) {
                self.failure = Some(format!("shutdown: {error}"));
            }
        }
    }

    /// Reads everything buffered; a request/response client sends the next request once a
    /// whole response is in.
    fn read(
        &mut self,
        now: Instant,
        stack: &mut Stack,
        conn: ConnectionHandle,
        scratch: &mut [u8],
    ) {
        if self.released {
            return;
        }
        let downstream = &mut self.downstream;
        match read_available(stack, conn, scratch, |data| downstream.take(now, data)) {
            ReadEnd::Eof => {
                self.eof.get_or_insert(now);
                self.released = true;
                stack.close(conn);
                return;
            }
            ReadEnd::Failed(error) if self.active() => {
                self.failure = Some(format!("recv: {error}"));
            }
            ReadEnd::Failed(_) | ReadEnd::Drained => {}
        }
        if let ClientKind::RequestResponse {
            request,
            response,
            count,
        } = self.kind
        {
            let answered = (self.downstream.received / response).min(u64::from(count));
            if answered > self.exchange_times.len() as u64 {
                // Responses are read in order; several complete in one read only when
                // requests were pipelined, which this client does not do.
                let took = now.saturating_duration_since(self.asked_at);
                self.exchange_times.push(took);
                self.asked_at = now;
            }
            if answered < u64::from(count) {
                self.upstream.want((answered + 1) * request);
            }
            self.pump(stack, conn);
        }
    }
}

/// Time spent "on" between `since` and `now` by a schedule that starts on at `since`.
fn on_time_between(since: Instant, now: Instant, on: Duration, off: Duration) -> Duration {
    let elapsed = now.saturating_duration_since(since);
    let cycle = on + off;
    if off.is_zero() {
        return elapsed;
    }
    let cycles = elapsed.as_nanos() / cycle.as_nanos();
    let into = elapsed.as_nanos() % cycle.as_nanos();
    let nanos = cycles * on.as_nanos() + into.min(on.as_nanos());
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The next top-up after `last` of a schedule that starts on at `since`: a tick later while
/// on (the end of the on period at the latest), the next on period while off.
fn next_on_off_tick(since: Instant, last: Instant, on: Duration, off: Duration) -> Instant {
    if off.is_zero() {
        return last + ON_OFF_TICK;
    }
    let cycle = (on + off).as_nanos();
    let into = last.saturating_duration_since(since).as_nanos() % cycle;
    let wait = if into < on.as_nanos() {
        (on.as_nanos() - into).min(ON_OFF_TICK.as_nanos())
    } else {
        cycle - into
    };
    last + Duration::from_nanos(u64::try_from(wait).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn on_off_schedule() {
        let since = Instant::from_millis(100);
        let at = |ms: u64| Instant::from_millis(100 + ms);
        assert_eq!(on_time_between(since, at(5), 10 * MS, 20 * MS), 5 * MS);
        assert_eq!(on_time_between(since, at(25), 10 * MS, 20 * MS), 10 * MS);
        assert_eq!(on_time_between(since, at(35), 10 * MS, 20 * MS), 15 * MS);
        assert_eq!(
            on_time_between(since, at(35), 10 * MS, Duration::ZERO),
            35 * MS
        );
        let half = Instant::from_micros(109_500);
        assert_eq!(next_on_off_tick(since, half, 10 * MS, 20 * MS), at(10));
        assert_eq!(next_on_off_tick(since, at(10), 10 * MS, 20 * MS), at(30));
        assert_eq!(next_on_off_tick(since, at(30), 10 * MS, 20 * MS), at(31));
    }
}
