//! The server application: listens on a port, accepts every connection, reads each client's
//! [`Header`], then checks the client's bytes against the pattern as they arrive, answers
//! requests with responses and sends downloads. It closes its side once the client's stream has ended and every
//! response is in the stack.

use std::collections::BTreeMap;

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use mptcp_proto::stack::{
    AcceptError, CloseReason, ConnectionConfig, ConnectionHandle, Event, ListenerHandle, Stack,
};
use mptcp_proto::tcp::TcpInfo;
use mptcp_proto::time::Instant;

use super::pattern::{HEADER_LEN, Header, Pattern, StreamKind};
use super::sample_of;
use super::stream::{ReadEnd, Receiver, Sender, read_available};
use crate::sample::Sample;

/// Connections a listener keeps waiting for `accept`.
const BACKLOG: usize = 128;

/// A listening server and its connections.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) port: u16,
    listeners: Vec<ListenerHandle>,
    /// Every connection accepted, by handle (never reused).
    pub(crate) sessions: BTreeMap<ConnectionHandle, Session>,
    /// Why listening failed, if it did.
    pub(crate) failure: Option<String>,
}

/// One accepted connection.
#[derive(Debug)]
pub(crate) struct Session {
    head: [u8; HEADER_LEN],
    head_len: usize,
    /// The client's header, once read and valid.
    pub(crate) header: Option<Header>,
    /// The client's bytes, checked (once the header is read).
    pub(crate) upstream: Option<Receiver>,
    responses: Option<Sender>,
    /// Bytes read that are not a valid header or followed an invalid one.
    pub(crate) garbage: u64,
    /// When the client's end of stream was read.
    pub(crate) eof: Option<Instant>,
    pub(crate) closed: Option<CloseReason>,
    pub(crate) failure: Option<String>,
    /// The connection's counters, as last seen.
    pub(crate) tcp: Option<TcpInfo>,
    /// Periodic snapshots of the connection, if the host samples.
    pub(crate) samples: Vec<Sample>,
    /// The last sample was taken after the session closed: no more are needed.
    pub(crate) sampled_out: bool,
    /// The client's stream ended: close once every response is in the stack.
    close_requested: bool,
    /// `close` was called: the handle is no longer ours to use.
    released: bool,
}

impl Server {
    /// A server for `port`, not yet listening.
    pub(crate) fn new(port: u16) -> Self {
        Self {
            port,
            listeners: Vec::new(),
            sessions: BTreeMap::new(),
            failure: None,
        }
    }

    /// Starts listening on the unspecified address of each family among `addrs`, its
    /// connections having `config` if given (else the stack's settings).
    pub(crate) fn listen(
        &mut self,
        stack: &mut Stack,
        addrs: &[IpAddr],
        config: Option<&ConnectionConfig>,
    ) {
        let mut families: Vec<IpAddr> = Vec::new();
        if addrs.iter().any(IpAddr::is_ipv4) {
            families.push(Ipv4Addr::UNSPECIFIED.into());
        }
        if addrs.iter().any(IpAddr::is_ipv6) {
            families.push(Ipv6Addr::UNSPECIFIED.into());
        }
        for ip in families {
            let local = SocketAddr::new(ip, self.port);
            let listening = match config {
                Some(config) => stack.listen_with(local, BACKLOG, config.clone()),
                None => stack.listen(local, BACKLOG),
            };
            match listening {
                Ok(listener) => self.listeners.push(listener),
                Err(error) => {
                    self.failure
                        .get_or_insert(format!("listen on port {}: {error}", self.port));
                }
            }
        }
    }

    /// Whether `listener` is one of this server's.
    pub(crate) fn owns(&self, listener: ListenerHandle) -> bool {
        self.listeners.contains(&listener)
    }

    /// Accepts every connection waiting on `listener`; returns their handles.
    pub(crate) fn accept(
        &mut self,
        listener: ListenerHandle,
        stack: &mut Stack,
    ) -> Vec<ConnectionHandle> {
        let mut accepted = Vec::new();
        loop {
            match stack.accept(listener) {
                Ok(conn) => {
                    self.sessions.insert(conn, Session::new());
                    accepted.push(conn);
                }
                Err(AcceptError::WouldBlock) => break,
                Err(error) => {
                    self.failure.get_or_insert(format!("accept: {error}"));
                    break;
                }
            }
        }
        accepted
    }

    /// An event of connection `conn`.
    pub(crate) fn handle_event(
        &mut self,
        now: Instant,
        conn: ConnectionHandle,
        event: Event,
        stack: &mut Stack,
        scratch: &mut [u8],
    ) {
        let Some(session) = self.sessions.get_mut(&conn) else {
            return;
        };
        match event {
            Event::Readable(_) | Event::PeerClosed(_) => session.read(now, conn, stack, scratch),
            Event::Writable(_) => session.respond(conn, stack),
            Event::Closed(_, reason) => session.closed = Some(reason),
            Event::Connected(_)
            | Event::Incoming(_)
            | Event::SendComplete(_)
            | Event::Mptcp(..) => {}
        }
    }
}

impl Session {
    fn new() -> Self {
        Self {
            head: [0; HEADER_LEN],
            head_len: 0,
            header: None,
            upstream: None,
            responses: None,
            garbage: 0,
            eof: None,
            closed: None,
            failure: None,
            tcp: None,
            samples: Vec::new(),
            sampled_out: false,
            close_requested: false,
            released: false,
        }
    }

    fn read(
        &mut self,
        now: Instant,
        conn: ConnectionHandle,
        stack: &mut Stack,
        scratch: &mut [u8],
    ) {
        if self.released {
            return;
        }
        match read_available(stack, conn, scratch, |data| self.take(now, data)) {
            ReadEnd::Eof => {
                self.eof.get_or_insert(now);
                self.close_requested = true;
            }
            ReadEnd::Failed(error) if self.closed.is_none() => {
                self.failure.get_or_insert(format!("recv: {error}"));
            }
            ReadEnd::Failed(_) | ReadEnd::Drained => {}
        }
        self.respond(conn, stack);
    }

    /// Takes bytes of the client's stream: the header first, then the pattern.
    fn take(&mut self, now: Instant, mut data: &[u8]) {
        if self.head_len < HEADER_LEN {
            let take = (HEADER_LEN - self.head_len).min(data.len());
            self.head[self.head_len..self.head_len + take].copy_from_slice(&data[..take]);
            self.head_len += take;
            data = &data[take..];
            if self.head_len == HEADER_LEN {
                self.header = Header::decode(&self.head);
                match self.header {
                    Some(header) => {
                        self.upstream = Some(Receiver::new(Pattern::upstream(header.salt)));
                        self.responses = Some(Sender::new(Pattern::downstream(header.salt), None));
                    }
                    None => self.garbage += HEADER_LEN as u64,
                }
            }
        }
        match &mut self.upstream {
            Some(upstream) => upstream.take(now, data),
            None => self.garbage += data.len() as u64,
        }
    }

    /// Queues the responses owed so far; closes once the client is done and they are all
    /// in the stack.
    fn respond(&mut self, conn: ConnectionHandle, stack: &mut Stack) {
        if self.released {
            return;
        }
        if let (Some(responses), Some(upstream), Some(header)) =
            (&mut self.responses, &self.upstream, self.header)
        {
            match header.kind {
                StreamKind::RequestResponse { request, response } => {
                    responses.want(upstream.received / request * response);
                }
                StreamKind::Download { bytes } | StreamKind::Exchange { down: bytes, .. } => {
                    responses.want(bytes);
                }
                StreamKind::Bulk { .. } | StreamKind::Open => {}
            }
            if self.closed.is_none()
                && let Err(error) = responses.pump(stack, conn)
            {
                self.failure.get_or_insert(format!("send: {error}"));
            }
        }
        let caught_up = self.responses.as_ref().is_none_or(Sender::caught_up);
        if self.close_requested && caught_up {
            self.released = true;
            stack.close(conn);
        }
    }

    /// Records the connection's counters at `now`.
    pub(crate) fn sample(&mut self, now: Instant, conn: ConnectionHandle, stack: &Stack) {
        let received = self.upstream.as_ref().map_or(0, |r| r.received);
        let sample = sample_of(now, stack, conn, self.responded(), received);
        self.samples.push(sample);
        self.sampled_out = self.released || self.closed.is_some();
    }

    /// Response bytes the stack accepted.
    pub(crate) fn responded(&self) -> u64 {
        self.responses.as_ref().map_or(0, Sender::sent)
    }
}
