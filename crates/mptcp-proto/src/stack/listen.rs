//! Listeners (RFC 9293 §3.10.7.2) and how they survive a SYN flood (RFC 4987).
//!
//! A listener keeps two bounded queues, each of at most its backlog: connections in
//! SYN-RECEIVED (the SYN queue, oldest first) and established connections waiting for
//! `accept`. When the SYN queue is full, entries that have waited longer than
//! [`EVICT_AFTER`] without completing (a legitimate client answers within a round trip,
//! a spoofed source never does) are dropped silently to make room; if none has, the SYN is
//! answered with a SYN cookie (`cookies.rs`) and no state at all, so a flood from random
//! sources neither grows memory nor keeps a legitimate client out. When the accept queue
//! is full (the application does not keep up), SYNs are dropped, as Linux does, and their
//! senders retry.

use core::net::SocketAddr;
use core::time::Duration;
use std::collections::VecDeque;
use std::sync::Arc;

use super::cookies::{COOKIE_LIFETIME, CookieSynAck, SynTerms};
use super::input::syn_capable;
use super::{
    AcceptError, ConnectionConfig, ConnectionHandle, Event, InterfaceId, ListenError,
    ListenerHandle, Stack,
};
use crate::conn::{Host, MptcpConnection};
use crate::crypto::{MptcpVersion, key_material};
use crate::tcp::{ConnectionParams, TcpConnection, initial_window, our_window_scale, ts_clock};
use crate::time::Instant;
use crate::wire::{SeqNum, TcpFlags, TcpOption, TcpRepr};

/// How long a half-open connection keeps its place in a full SYN queue: its SYN/ACK and
/// one retransmission (RFC 6298's initial RTO of 1 s, then 2 s) had no answer.
pub const EVICT_AFTER: Duration = Duration::from_secs(3);

/// Most stateless SYN/ACKs waiting to be sent; more are dropped (their SYNs come again).
const MAX_QUEUED_COOKIES: usize = 1024;

#[derive(Debug)]
pub(super) struct Listener {
    pub(super) local: SocketAddr,
    backlog: usize,
    /// The settings of the connections it accepts.
    config: Arc<ConnectionConfig>,
    /// Connections in SYN-RECEIVED, oldest first, with the time their SYN came.
    half_open: VecDeque<(u64, Instant)>,
    /// Established connections waiting for `accept`.
    ready: VecDeque<u64>,
    /// Until when ACKs bearing a cookie are accepted: a while after the last cookie sent,
    /// so that guessing at cookies is possible only while a flood is on.
    cookies_until: Option<Instant>,
}

impl Listener {
    /// Connection `id` completed its handshake: it waits for `accept`.
    pub(super) fn established(&mut self, id: u64) {
        self.half_open.retain(|&(c, _)| c != id);
        self.ready.push_back(id);
    }

    /// Connection `id` closed before it was accepted.
    pub(super) fn closed(&mut self, id: u64) {
        self.half_open.retain(|&(c, _)| c != id);
        self.ready.retain(|&c| c != id);
    }
}

impl Stack {
    /// Listens on `local` (an address of the host, or the unspecified address for all of
    /// them; port 0 picks an ephemeral port). At most `backlog` connections wait for
    /// `accept`, and at most `backlog` in SYN-RECEIVED; beyond that, SYN cookies answer
    /// (see [`StackConfig::syn_cookies`](super::StackConfig::syn_cookies)). The connections
    /// it accepts have the stack's settings.
    pub fn listen(
        &mut self,
        local: SocketAddr,
        backlog: usize,
    ) -> Result<ListenerHandle, ListenError> {
        self.bind_listener(local, backlog, self.defaults.clone())
    }

    /// [`listen`](Self::listen), the connections it accepts having `config` (see
    /// [`connection_config`](Self::connection_config)).
    pub fn listen_with(
        &mut self,
        local: SocketAddr,
        backlog: usize,
        config: ConnectionConfig,
    ) -> Result<ListenerHandle, ListenError> {
        self.bind_listener(local, backlog, Arc::new(config))
    }

    fn bind_listener(
        &mut self,
        local: SocketAddr,
        backlog: usize,
        config: Arc<ConnectionConfig>,
    ) -> Result<ListenerHandle, ListenError> {
        let config = self.permitted(config);
        if !local.ip().is_unspecified() && self.iface_of(local.ip()).is_none() {
            return Err(ListenError::AddrNotAvailable);
        }
        let mut local = local;
        if local.port() == 0 {
            let port = self
                .ephemeral_port(local.ip(), local)
                .ok_or(ListenError::NoPorts)?;
            local.set_port(port);
        }
        if self.demux.listener_bound(local) {
            return Err(ListenError::AddrInUse);
        }
        let id = self.new_id();
        self.demux.insert_listener(local, id);
        self.listeners.insert(
            id,
            Listener {
                local,
                backlog: backlog.max(1),
                config,
                half_open: VecDeque::new(),
                ready: VecDeque::new(),
                cookies_until: None,
            },
        );
        Ok(ListenerHandle(id))
    }

    /// The address a listener is bound to.
    pub fn listener_addr(&self, listener: ListenerHandle) -> Option<SocketAddr> {
        self.listeners.get(&listener.0).map(|l| l.local)
    }

    /// Stops listening; connections not yet accepted are reset.
    pub fn close_listener(&mut self, listener: ListenerHandle) {
        let Some(l) = self.listeners.remove(&listener.0) else {
            return;
        };
        self.demux.remove_listener(l.local);
        let orphans: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, e)| e.listener == Some(listener.0))
            .map(|(id, _)| *id)
            .collect();
        for id in orphans {
            if let Some(entry) = self.conns.get_mut(&id) {
                entry.listener = None;
                entry.released = true;
                entry.conn.abort();
                while entry.conn.poll_event().is_some() {}
            }
            self.reap(id);
        }
    }

    /// Takes the next established connection of `listener`.
    pub fn accept(&mut self, listener: ListenerHandle) -> Result<ConnectionHandle, AcceptError> {
        let l = self
            .listeners
            .get_mut(&listener.0)
            .ok_or(AcceptError::InvalidHandle)?;
        let id = l.ready.pop_front().ok_or(AcceptError::WouldBlock)?;
        let handle = ConnectionHandle(id);
        if let Some(entry) = self.conns.get_mut(&id) {
            entry.listener = None;
            entry.owned = true;
            if entry.conn.recv_queue_len() > 0 {
                self.events.push_back(Event::Readable(handle));
            }
            if entry.conn.at_eof() {
                self.events.push_back(Event::PeerClosed(handle));
            }
        }
        Ok(handle)
    }

    /// RFC 9293 §3.10.7.2: a segment for a listener.
    pub(super) fn on_listen(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        lid: u64,
        local: SocketAddr,
        remote: SocketAddr,
        seg: &TcpRepr<'_>,
    ) {
        let flags = seg.flags;
        if flags.contains(TcpFlags::RST) {
            return;
        }
        if flags.contains(TcpFlags::ACK) {
            if !flags.contains(TcpFlags::SYN)
                && self.accept_cookie(now, iface, lid, local, remote, seg)
            {
                return;
            }
            self.queue_reset(iface, local, remote, seg);
            return;
        }
        if !flags.contains(TcpFlags::SYN) {
            return;
        }
        let Some(listener) = self.listeners.get(&lid) else {
            return;
        };
        let config = listener.config.clone();
        if listener.ready.len() >= listener.backlog {
            // Like Linux: the application does not keep up; drop the SYN, the peer
            // retransmits it.
            self.stats.backlog_drops += 1;
            return;
        }
        if listener.half_open.len() >= listener.backlog {
            self.evict_stale(now, lid);
        }
        if self
            .listeners
            .get(&lid)
            .is_some_and(|l| l.half_open.len() >= l.backlog)
        {
            if self.config.syn_cookies {
                self.send_cookie(now, iface, lid, local, remote, seg, &config);
            } else {
                self.stats.backlog_drops += 1;
            }
            return;
        }
        let id = self.new_id();
        if let Some(listener) = self.listeners.get_mut(&lid) {
            listener.half_open.push_back((id, now));
        }
        let params = self.params(iface, local, remote, &config.tcp);
        let tcp = TcpConnection::accept(now, &config.tcp, params, seg);
        let key = self.new_key();
        let conn = self.accept_mptcp(iface, key, tcp, syn_capable(seg), &config);
        self.insert_conn(id, conn, config, Some(lid));
    }

    /// The connection level of an accepted connection, with our key `key`, the SYN's
    /// MP_CAPABLE flags `capable` and the listener's settings `config`.
    fn accept_mptcp(
        &self,
        iface: InterfaceId,
        key: u64,
        tcp: TcpConnection,
        capable: Option<u8>,
        config: &ConnectionConfig,
    ) -> MptcpConnection {
        let addrs = self.addresses();
        let host = Host {
            key,
            iface,
            addrs: &addrs,
            tcp: &config.tcp,
        };
        MptcpConnection::accept(&config.mptcp, host, tcp, capable)
    }

    /// Drops, without a word, the half-open connections of a full SYN queue that waited
    /// longer than [`EVICT_AFTER`].
    fn evict_stale(&mut self, now: Instant, lid: u64) {
        while let Some(listener) = self.listeners.get_mut(&lid) {
            match listener.half_open.front() {
                Some(&(id, since)) if now >= since + EVICT_AFTER => {
                    listener.half_open.pop_front();
                    self.forget(id);
                    self.stats.half_open_evicted += 1;
                }
                _ => break,
            }
        }
    }

    /// Answers `syn` with a SYN cookie (with the listener's settings `config`), keeping
    /// nothing.
    #[allow(clippy::too_many_arguments)]
    fn send_cookie(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        lid: u64,
        local: SocketAddr,
        remote: SocketAddr,
        syn: &TcpRepr<'_>,
        config: &ConnectionConfig,
    ) {
        if self.cookie_replies.len() >= MAX_QUEUED_COOKIES {
            self.stats.syn_cookies_dropped += 1;
            return;
        }
        let capable = syn_capable(syn).filter(|_| config.mptcp.enabled.is_on());
        let terms = SynTerms::of(syn, &config.tcp, capable, config.mptcp.checksum);
        let peer_isn = syn.seq_number;
        let isn = self.cookies.isn(now, local, remote, peer_isn, terms);
        let ts_offset = self.cookies.ts_offset(local, remote, peer_isn);
        let timestamps = syn
            .timestamp()
            .filter(|_| config.tcp.timestamps)
            .map(|(tsval, _)| (ts_clock(now, ts_offset), tsval));
        self.cookie_replies.push_back(CookieSynAck {
            iface,
            local,
            remote,
            isn,
            peer_isn,
            terms,
            our_mss: self.our_mss(iface, local.ip(), &config.tcp),
            our_wscale: our_window_scale(&config.tcp),
            window: initial_window(&config.tcp),
            timestamps,
            key: terms
                .mptcp
                .then(|| self.cookies.mptcp_key(local, remote, peer_isn, isn)),
        });
        self.stats.syn_cookies_sent += 1;
        if let Some(listener) = self.listeners.get_mut(&lid) {
            listener.cookies_until = Some(now + COOKIE_LIFETIME);
        }
    }

    /// An ACK for a listener: if it returns a valid cookie, the connection its SYN asked
    /// for is made now and the ACK processed by it. Returns whether the ACK was taken.
    fn accept_cookie(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        lid: u64,
        local: SocketAddr,
        remote: SocketAddr,
        ack: &TcpRepr<'_>,
    ) -> bool {
        let Some(listener) = self.listeners.get(&lid) else {
            return false;
        };
        let config = listener.config.clone();
        if listener.cookies_until.is_none_or(|until| now > until) {
            return false;
        }
        let (peer_isn, isn) = (ack.seq_number - 1, ack.ack_number - 1);
        let Some(terms) = self.cookies.check(now, local, remote, peer_isn, isn) else {
            return false;
        };
        if listener.ready.len() >= listener.backlog {
            // As Linux: the handshake completes later, when the client sends again.
            self.stats.backlog_drops += 1;
            return true;
        }
        // The SYN as the cookie remembers it; the ACK's own timestamp stands for the SYN's.
        let mut options = vec![TcpOption::MaxSegmentSize(terms.mss)];
        if terms.sack {
            options.push(TcpOption::SackPermitted);
        }
        if let Some((value, _)) = ack.timestamp() {
            options.push(TcpOption::Timestamp {
                value,
                echo_reply: 0,
            });
        }
        if let Some(shift) = terms.wscale {
            options.push(TcpOption::WindowScale(shift));
        }
        let syn = TcpRepr {
            src_port: remote.port(),
            dst_port: local.port(),
            seq_number: peer_isn,
            ack_number: SeqNum(0),
            flags: TcpFlags::SYN,
            window_len: ack.window_len,
            urgent_at: 0,
            options,
            payload: &[],
        };
        let params = ConnectionParams {
            local,
            remote,
            iss: isn,
            ts_offset: self.cookies.ts_offset(local, remote, peer_isn),
            mss: self.our_mss(iface, local.ip(), &config.tcp),
        };
        let tcp = TcpConnection::accept(now, &config.tcp, params, &syn);
        let key = self.cookies.mptcp_key(local, remote, peer_isn, isn);
        let token = key_material(MptcpVersion::V1, key).token;
        // A derived key whose token another connection has (RFC 8684 §3.2: tokens are
        // unique in the host) cannot be used: plain TCP, which the client falls back to
        // when its data is acknowledged without a DATA_ACK.
        let capable = terms
            .capable_flags()
            .filter(|_| !self.tokens.contains_key(&token));
        let conn = self.accept_mptcp(iface, key, tcp, capable, &config);
        let id = self.new_id();
        if let Some(listener) = self.listeners.get_mut(&lid) {
            listener.half_open.push_back((id, now));
        }
        self.insert_conn(id, conn, config, Some(lid));
        self.stats.syn_cookies_accepted += 1;
        if let Some(entry) = self.conns.get_mut(&id) {
            entry.conn.handle_segment(now, 0, ack);
        }
        self.after(id);
        true
    }
}
