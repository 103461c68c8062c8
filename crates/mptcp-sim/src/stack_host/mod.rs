//! [`StackHost`]: a simulated host that runs the TCP [`Stack`] of `mptcp_proto` and the
//! scenario's applications on it (bulk senders, request/response and on/off clients,
//! servers that check every byte).
//!
//! After every input (a packet, a timeout) the host drains the stack's events and hands each
//! to the application that owns the connection or listener; applications act at once
//! (`send`, `recv`, `shutdown`, `close`), so the simulator's following `poll_transmit` sends
//! what they queued. [`poll_timeout`](Host::poll_timeout) is the earliest of the stack's
//! deadline and the applications' own (a start time, the next on/off tick).
//!
//! What the applications send is described in the `pattern` module: a 32-byte header
//! naming the connection and its shape, then bytes the receiver can check one by one.

mod client;
mod pattern;
mod server;
mod stream;

use core::net::IpAddr;
use core::time::Duration;
use std::collections::{BTreeMap, VecDeque};

use mptcp_proto::stack::{ConnectionConfig, ConnectionHandle, Event, InterfaceId, Stack};
use mptcp_proto::time::Instant;

pub(crate) use client::{Client, ClientKind};
pub(crate) use server::{Server, Session};

use crate::host::Host;
use crate::sample::{Sample, SubflowSample};
use crate::scenario::{AddressAction, AppSpec};

/// An address the host loses or gets back at a time ([`StackHost::with_address_changes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressChange {
    /// When.
    pub at: Instant,
    /// The interface.
    pub iface: usize,
    /// The address.
    pub addr: IpAddr,
    /// Lost or got back.
    pub action: AddressAction,
}

/// Bytes read from the stack per `recv`.
const RECV_CHUNK: usize = 64 * 1024;

/// Which application owns a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Client(usize),
    Server(usize),
}

/// A simulated host running a [`Stack`] and its applications.
///
/// After every input the host hands each stack event to the application that owns the
/// connection or listener, and the applications act at once; its deadline is the earliest
/// of the stack's and the applications' own (start times, on/off ticks). Clients send a
/// 32-byte header naming the connection, then a byte pattern the receiver checks as it
/// reads; [`ScenarioReport::collect`](crate::ScenarioReport::collect) joins both ends.
#[derive(Debug)]
pub struct StackHost {
    name: String,
    stack: Stack,
    clients: Vec<Client>,
    servers: Vec<Server>,
    owners: BTreeMap<ConnectionHandle, Owner>,
    /// Events taken from the stack outside an input, handled at the next one.
    pending: VecDeque<Event>,
    scratch: Vec<u8>,
    now: Instant,
    /// How often to sample the clients' connections, if at all.
    sample_every: Option<Duration>,
    /// When the next sample is due.
    next_sample: Instant,
    /// Address changes still to come, latest first.
    address_changes: Vec<AddressChange>,
}

impl StackHost {
    /// A host named `name` (number `index` in its scenario) running `stack` and `apps`, each
    /// with the settings of its connections if it has its own (else the stack's). Servers
    /// start listening at once; clients connect at their start time.
    ///
    /// Each client's connection is identified across the scenario by `index` and the
    /// client's position among `apps`, so host indices must be distinct.
    pub fn new(
        name: impl Into<String>,
        index: usize,
        mut stack: Stack,
        apps: &[(&AppSpec, Option<ConnectionConfig>)],
    ) -> Self {
        let addrs: Vec<_> = stack
            .config()
            .interfaces
            .iter()
            .flat_map(|iface| iface.addrs.iter().copied())
            .collect();
        let mut clients = Vec::new();
        let mut servers = Vec::new();
        for (position, (app, config)) in apps.iter().enumerate() {
            let salt = ((index as u64) << 32) | position as u64;
            if let Some(client) = Client::new(app, salt, config.clone()) {
                clients.push(client);
            } else if let AppSpec::Server { port, .. } = app {
                let mut server = Server::new(*port);
                server.listen(&mut stack, &addrs, config.as_ref());
                servers.push(server);
            }
        }
        Self {
            name: name.into(),
            stack,
            clients,
            servers,
            owners: BTreeMap::new(),
            pending: VecDeque::new(),
            scratch: vec![0; RECV_CHUNK],
            now: Instant::ZERO,
            sample_every: None,
            next_sample: Instant::ZERO,
            address_changes: Vec::new(),
        }
    }

    /// Makes the host lose and get back addresses at the times `changes` give (in any
    /// order; at the same time, in the order given).
    pub fn with_address_changes(
        mut self,
        changes: impl IntoIterator<Item = AddressChange>,
    ) -> Self {
        let mut changes: Vec<_> = changes.into_iter().collect();
        changes.sort_by_key(|c| c.at);
        changes.reverse();
        self.address_changes = changes;
        self
    }

    /// Applies the address changes due at `now`.
    fn change_addresses(&mut self, now: Instant) {
        while self.address_changes.last().is_some_and(|c| c.at <= now) {
            let Some(change) = self.address_changes.pop() else {
                break;
            };
            match change.action {
                AddressAction::Remove => {
                    self.stack.remove_host_address(change.addr);
                }
                AddressAction::Add => {
                    // Already there (given back twice): nothing changes.
                    let _ = self
                        .stack
                        .add_host_address(InterfaceId(change.iface), change.addr);
                }
            }
        }
    }

    /// Samples every connection of its clients and servers each `every` of virtual time,
    /// from time zero until its transfer ends (one last sample after that); the samples
    /// appear in [`ConnectionReport::samples`](crate::ConnectionReport::samples) (clients)
    /// and [`server_samples`](crate::ConnectionReport::server_samples). A zero interval
    /// turns sampling off.
    pub fn with_sampling(mut self, every: Duration) -> Self {
        self.sample_every = (!every.is_zero()).then_some(every);
        self
    }

    /// When the next sample is due, while any client or server session still needs one.
    fn sample_due(&self) -> Option<Instant> {
        self.sample_every?;
        let mut sessions = self.servers.iter().flat_map(|s| s.sessions.values());
        let done =
            self.clients.iter().all(Client::sampling_done) && sessions.all(|s| s.sampled_out);
        (!done).then_some(self.next_sample)
    }

    /// Takes the samples due at `now`.
    fn take_samples(&mut self, now: Instant) {
        let (Some(every), Some(due)) = (self.sample_every, self.sample_due()) else {
            return;
        };
        if due > now {
            return;
        }
        for client in &mut self.clients {
            if !client.sampling_done() {
                client.sample(now, &self.stack);
            }
        }
        for server in &mut self.servers {
            for (conn, session) in &mut server.sessions {
                if !session.sampled_out {
                    session.sample(now, *conn, &self.stack);
                }
            }
        }
        while self.next_sample <= now {
            self.next_sample += every;
        }
    }

    /// The host's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The stack.
    pub fn stack(&self) -> &Stack {
        &self.stack
    }

    pub(crate) fn clients(&self) -> &[Client] {
        &self.clients
    }

    pub(crate) fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// Hands every stack event to its application, until none is left.
    fn drive(&mut self, now: Instant) {
        while let Some(event) = self.pending.pop_front().or_else(|| self.stack.poll_event()) {
            self.dispatch(now, event);
        }
    }

    fn dispatch(&mut self, now: Instant, event: Event) {
        let conn = match event {
            Event::Incoming(listener) => {
                if let Some(index) = self.servers.iter().position(|s| s.owns(listener)) {
                    let accepted = self.servers[index].accept(listener, &mut self.stack);
                    for conn in accepted {
                        self.owners.insert(conn, Owner::Server(index));
                    }
                }
                return;
            }
            // Subflow and address events change nothing for the applications; the client's
            // view of its subflows is refreshed for the report.
            Event::Mptcp(conn, _) => {
                if let Some(&Owner::Client(index)) = self.owners.get(&conn) {
                    if let Some(subflows) = self.stack.subflows(conn) {
                        self.clients[index].subflows = subflows;
                    }
                }
                return;
            }
            Event::Connected(conn)
            | Event::Readable(conn)
            | Event::Writable(conn)
            | Event::PeerClosed(conn)
            | Event::SendComplete(conn)
            | Event::Closed(conn, _) => conn,
        };
        let scratch = &mut self.scratch;
        match self.owners.get(&conn) {
            Some(&Owner::Client(index)) => {
                self.clients[index].handle_event(now, event, &mut self.stack, scratch);
            }
            Some(&Owner::Server(index)) => {
                self.servers[index].handle_event(now, conn, event, &mut self.stack, scratch);
            }
            None => {}
        }
    }

    /// Keeps the latest counters of every connection still in the stack.
    fn snapshot(&mut self) {
        for client in &mut self.clients {
            if let Some(info) = client.conn.and_then(|conn| self.stack.tcp_info(conn)) {
                client.tcp = Some(info);
            }
            if let Some(mptcp) = client.conn.and_then(|conn| self.stack.is_mptcp(conn)) {
                client.mptcp = mptcp;
            }
        }
        for server in &mut self.servers {
            for (conn, session) in &mut server.sessions {
                if let Some(info) = self.stack.tcp_info(*conn) {
                    session.tcp = Some(info);
                }
            }
        }
    }
}

/// A snapshot of connection `conn` at `now`, whose application sent `sent` and read
/// `received` payload bytes so far.
fn sample_of(
    now: Instant,
    stack: &Stack,
    conn: ConnectionHandle,
    sent: u64,
    received: u64,
) -> Sample {
    let subflows = stack.subflows(conn).unwrap_or_default();
    Sample {
        at: now,
        sent,
        received,
        subflows: subflows
            .iter()
            .map(|sf| SubflowSample {
                id: sf.id,
                local: sf.local,
                remote: sf.remote,
                bytes_sent: sf.tcp.bytes_sent,
                bytes_received: sf.tcp.bytes_received,
                retransmits: sf.tcp.retransmits,
                rto: sf.tcp.rto,
                srtt: sf.tcp.srtt,
            })
            .collect(),
    }
}

impl Host for StackHost {
    fn handle_packet(&mut self, now: Instant, iface: usize, packet: &[u8]) {
        self.now = now;
        self.stack.handle_packet(now, InterfaceId(iface), packet);
        self.drive(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.change_addresses(now);
        self.stack.handle_timeout(now);
        for index in 0..self.clients.len() {
            let client = &mut self.clients[index];
            if client.wake().is_some_and(|wake| wake <= now) {
                client.handle_timeout(now, &mut self.stack);
                if let Some(conn) = client.conn {
                    self.owners.insert(conn, Owner::Client(index));
                }
            }
        }
        self.drive(now);
        self.take_samples(now);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(usize, usize)> {
        let transmit = self.stack.poll_transmit(now, buf)?;
        Some((transmit.iface.0, transmit.len))
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.snapshot();
        // Events raised while transmitting are handled at once, through a timeout now.
        self.pending
            .extend(core::iter::from_fn(|| self.stack.poll_event()));
        if !self.pending.is_empty() {
            return Some(self.now);
        }
        let apps = self
            .clients
            .iter()
            .filter_map(Client::wake)
            .chain(self.sample_due())
            .chain(self.address_changes.last().map(|c| c.at))
            .min();
        match (self.stack.poll_timeout(), apps) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
