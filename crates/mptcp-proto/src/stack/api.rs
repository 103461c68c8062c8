//! The application's calls: open a connection, send, receive, close, and what a
//! connection is (its TCP counters, addresses, whether it speaks MPTCP); and its events.

use super::*;

impl Stack {
    /// Opens a connection to `remote` (RFC 9293 §3.10.1). Without `local`, the first address
    /// of the remote's family on the first interface that has one is used, with an ephemeral
    /// port; a `local` with port 0 gets an ephemeral port. [`Event::Connected`] follows, or
    /// [`Event::Closed`] with [`CloseReason::Refused`] or [`CloseReason::TimedOut`]. The
    /// connection has the stack's settings.
    pub fn connect(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: Option<SocketAddr>,
    ) -> Result<ConnectionHandle, ConnectError> {
        self.open(now, remote, local, self.defaults.clone())
    }

    /// [`connect`](Self::connect) with settings of its own (see
    /// [`connection_config`](Self::connection_config)).
    pub fn connect_with(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: Option<SocketAddr>,
        config: ConnectionConfig,
    ) -> Result<ConnectionHandle, ConnectError> {
        self.open(now, remote, local, Arc::new(config))
    }

    fn open(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: Option<SocketAddr>,
        config: Arc<ConnectionConfig>,
    ) -> Result<ConnectionHandle, ConnectError> {
        self.now = self.now.max(now);
        let config = self.permitted(config);
        if remote.ip().is_unspecified() || remote.port() == 0 {
            return Err(ConnectError::InvalidAddress);
        }
        let ip = match local {
            Some(local) if !local.ip().is_unspecified() => local.ip(),
            _ => self
                .config
                .interfaces
                .iter()
                .flat_map(|i| i.addrs.iter())
                .find(|a| a.is_ipv4() == remote.is_ipv4())
                .copied()
                .ok_or(ConnectError::AddrNotAvailable)?,
        };
        if ip.is_ipv4() != remote.is_ipv4() {
            return Err(ConnectError::AddrNotAvailable);
        }
        let iface = self.iface_of(ip).ok_or(ConnectError::AddrNotAvailable)?;
        let port = match local.map(|l| l.port()) {
            Some(port) if port != 0 => port,
            _ => self
                .ephemeral_port(ip, remote)
                .ok_or(ConnectError::NoPorts)?,
        };
        let local = SocketAddr::new(ip, port);
        if self.demux.conn(local, remote).is_some() {
            return Err(ConnectError::AddrInUse);
        }
        let params = self.params(iface, local, remote, &config.tcp);
        let tcp = TcpConnection::connect(now, &config.tcp, params);
        let key = self.new_key();
        let addrs = self.addresses();
        let host = Host {
            key,
            iface,
            addrs: &addrs,
            tcp: &config.tcp,
        };
        let conn = MptcpConnection::connect(&config.mptcp, host, tcp);
        let id = self.new_id();
        self.insert_conn(id, conn, config, None);
        Ok(ConnectionHandle(id))
    }

    fn entry(&mut self, conn: ConnectionHandle) -> Option<&mut Entry> {
        self.conns.get_mut(&conn.0).filter(|e| e.listener.is_none())
    }

    /// Queues data (RFC 9293 §3.10.2); returns how much fit in the send buffer.
    /// `Err(WouldBlock)` when none did: wait for [`Event::Writable`].
    pub fn send(&mut self, conn: ConnectionHandle, data: &[u8]) -> Result<usize, SendError> {
        let entry = self.entry(conn).ok_or(SendError::InvalidHandle)?;
        match entry.conn.send(data) {
            None => Err(SendError::Closed),
            Some(0) if !data.is_empty() => Err(SendError::WouldBlock),
            Some(n) => Ok(n),
        }
    }

    /// Reads received data (RFC 9293 §3.10.3). `Ok(0)` at the end of the stream (after the
    /// peer's FIN); `Err(WouldBlock)` when nothing is buffered yet.
    pub fn recv(&mut self, conn: ConnectionHandle, buf: &mut [u8]) -> Result<usize, RecvError> {
        let now = self.now;
        let entry = self.entry(conn).ok_or(RecvError::InvalidHandle)?;
        let n = entry.conn.recv(now, buf);
        let result = if n > 0 || buf.is_empty() || entry.conn.at_eof() {
            Ok(n)
        } else {
            match entry.conn.close_reason() {
                None => Err(RecvError::WouldBlock),
                Some(CloseReason::Reset) => Err(RecvError::Reset),
                Some(CloseReason::Normal) => Ok(0),
                Some(_) => Err(RecvError::Closed),
            }
        };
        self.after(conn.0);
        result
    }

    /// Half-close: a FIN follows the queued data (RFC 9293 §3.10.4); receiving goes on.
    pub fn shutdown(&mut self, conn: ConnectionHandle) -> Result<(), ShutdownError> {
        let entry = self.entry(conn).ok_or(ShutdownError::InvalidHandle)?;
        if entry.conn.shutdown() {
            Ok(())
        } else {
            Err(ShutdownError::NotConnected)
        }
    }

    /// Closes the connection (RFC 9293 §3.10.4): FIN after the queued data, then the closing
    /// handshake runs on its own and ends with [`Event::Closed`]. Unread received data turns
    /// it into an abort.
    pub fn close(&mut self, conn: ConnectionHandle) {
        let now = self.now;
        if let Some(entry) = self.entry(conn) {
            entry.released = true;
            entry.conn.close();
            let timeout = entry.config.mptcp.close_timeout;
            entry.conn.close_within(now, timeout);
            self.after(conn.0);
        }
    }

    /// Aborts the connection (RFC 9293 §3.10.5): sends RST and drops all data.
    pub fn abort(&mut self, conn: ConnectionHandle) {
        if let Some(entry) = self.entry(conn) {
            entry.released = true;
            entry.conn.abort();
            self.after(conn.0);
        }
    }

    /// A snapshot of the state and counters of the connection's first subflow.
    pub fn tcp_info(&self, conn: ConnectionHandle) -> Option<TcpInfo> {
        self.conns.get(&conn.0).and_then(|e| e.conn.info())
    }

    /// Whether the peer acknowledged everything we sent, our FIN (DATA_FIN for MPTCP)
    /// included; [`Event::SendComplete`] says when this turns true. `None` for an unknown
    /// handle. A graceful close waits for it after [`shutdown`](Stack::shutdown): a TCP
    /// connection that sent its FIN first only ends (with [`Event::Closed`]) after
    /// TIME-WAIT, but nothing of ours is in flight once this is true.
    pub fn send_complete(&self, conn: ConnectionHandle) -> Option<bool> {
        self.conns.get(&conn.0).map(|e| e.conn.send_complete())
    }

    /// Why the connection ended, once it has (`None` while it is open).
    pub fn close_reason(&self, conn: ConnectionHandle) -> Option<CloseReason> {
        self.conns.get(&conn.0).and_then(|e| e.conn.close_reason())
    }

    /// Whether the connection speaks MPTCP (false for plain TCP and after a fallback).
    pub fn is_mptcp(&self, conn: ConnectionHandle) -> Option<bool> {
        self.conns.get(&conn.0).map(|e| e.conn.is_mptcp())
    }

    /// The connection's local address (its first subflow's).
    pub fn local_addr(&self, conn: ConnectionHandle) -> Option<SocketAddr> {
        self.conns.get(&conn.0).map(|e| e.conn.local_addr())
    }

    /// The connection's peer address (its first subflow's).
    pub fn peer_addr(&self, conn: ConnectionHandle) -> Option<SocketAddr> {
        self.conns.get(&conn.0).map(|e| e.conn.peer_addr())
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}
