//! [`MptcpStream`]: a connection of the runtime's stack, used like `tokio::net::TcpStream`.

use core::net::{IpAddr, SocketAddr};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use mptcp_proto::stack::{
    AddressError, CloseReason, ConnEvent, ConnectError, ConnectionConfig, ConnectionHandle,
    OpenSubflowError, RecvError, SendError, ShutdownError, SubflowId, SubflowInfo,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::{close_error, not_connected, runtime_gone};
use crate::runtime::Handle;
use crate::shared::{ConnState, Shared};

/// A connection, read and written through tokio's [`AsyncRead`] and [`AsyncWrite`].
///
/// Reads return `Ok(0)` at the end of the stream (after the peer's FIN); a connection that
/// ended otherwise reports the error users know from sockets: `ConnectionRefused`,
/// `ConnectionReset`, `TimedOut`. [`AsyncWrite::poll_shutdown`] half-closes: a FIN follows
/// the data already written, and reading goes on. Dropping the stream closes the connection
/// (and resets it if received data was left unread, like the OS).
///
/// ```no_run
/// # async fn demo(handle: mptcp_tun::Handle) -> std::io::Result<()> {
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// let mut stream = mptcp_tun::MptcpStream::connect(&handle, "10.0.0.2:80".parse().unwrap()).await?;
/// stream.write_all(b"hello").await?;
/// stream.shutdown().await?;
/// let mut reply = Vec::new();
/// stream.read_to_end(&mut reply).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MptcpStream {
    shared: Arc<Shared>,
    conn: ConnectionHandle,
    local: SocketAddr,
    peer: SocketAddr,
    write_shut: bool,
}

impl MptcpStream {
    /// Opens a connection to `addr` from the first local address of its family, and waits
    /// for the handshake.
    pub async fn connect(handle: &Handle, addr: SocketAddr) -> io::Result<MptcpStream> {
        Self::open(handle, addr, None).await
    }

    /// [`connect`](Self::connect) with settings of its own (start from
    /// [`Handle::connection_config`]): its scheduler, path manager, congestion control,
    /// buffers, ... whatever the runtime's are.
    pub async fn connect_with(
        handle: &Handle,
        addr: SocketAddr,
        config: ConnectionConfig,
    ) -> io::Result<MptcpStream> {
        Self::open(handle, addr, Some(config)).await
    }

    async fn open(
        handle: &Handle,
        addr: SocketAddr,
        config: Option<ConnectionConfig>,
    ) -> io::Result<MptcpStream> {
        let shared = handle.shared.clone();
        if shared.is_stopped() {
            return Err(runtime_gone());
        }
        let stream = {
            let mut inner = shared.lock();
            let now = shared.clock.now();
            let conn = match config {
                Some(config) => inner.stack.connect_with(now, addr, None, config),
                None => inner.stack.connect(now, addr, None),
            }
            .map_err(connect_error)?;
            inner.conns.insert(conn, ConnState::default());
            let local = inner.stack.local_addr(conn).ok_or_else(not_connected)?;
            MptcpStream {
                shared: shared.clone(),
                conn,
                local,
                peer: addr,
                write_shut: false,
            }
        };
        shared.kick();
        // If this future is dropped while waiting, dropping `stream` aborts the attempt.
        poll_fn(|cx| stream.poll_connected(cx)).await?;
        Ok(stream)
    }

    /// A stream for a connection a listener accepted.
    pub(crate) fn accepted(
        shared: Arc<Shared>,
        conn: ConnectionHandle,
        local: SocketAddr,
        peer: SocketAddr,
    ) -> Self {
        Self {
            shared,
            conn,
            local,
            peer,
            write_shut: false,
        }
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }

    /// The remote address of the connection.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer)
    }

    /// Whether the connection speaks MPTCP (false for plain TCP, and after the peer or a
    /// middlebox made it fall back to TCP).
    pub fn is_mptcp(&self) -> bool {
        self.monitor().is_mptcp()
    }

    /// The connection's subflows, open and closed, with addresses, state and counters.
    pub fn subflows(&self) -> Vec<SubflowInfo> {
        self.monitor().subflows()
    }

    /// A read-only view of the connection's MPTCP state that another task can keep while
    /// this one reads and writes (for a live display of the subflows, say).
    pub fn monitor(&self) -> StreamMonitor {
        StreamMonitor {
            shared: self.shared.clone(),
            conn: self.conn,
        }
    }

    /// Closes the connection gracefully, the way `SO_LINGER` does for a socket:
    /// [`shutdown_complete`](Self::shutdown_complete), then releases the connection. The
    /// peer then has all our data; the closing handshake of the subflows (their FINs and
    /// the last ACKs) goes on while the runtime runs: a program that ends next lets it
    /// finish with [`Runtime::linger`](crate::Runtime::linger) before dropping the
    /// runtime.
    ///
    /// It does not wait for the peer's end of stream: read to the end first when the
    /// peer's data matters (received data left unread makes the release a reset, as
    /// when a stream is dropped).
    ///
    /// ```no_run
    /// # async fn demo(mut stream: mptcp_tun::MptcpStream) -> std::io::Result<()> {
    /// use tokio::io::AsyncWriteExt;
    /// stream.write_all(b"last words").await?;
    /// stream.close_gracefully().await?; // the peer has them all
    /// # Ok(()) }
    /// ```
    pub async fn close_gracefully(mut self) -> io::Result<()> {
        self.shutdown_complete().await
        // Dropping `self` releases the connection.
    }

    /// Half-closes (unless [`AsyncWrite::poll_shutdown`] already did) and waits until the
    /// peer has acknowledged everything written, our FIN (DATA_FIN for MPTCP) included.
    /// The stream stays open: reading goes on, and the final counters of its
    /// [`subflows`](Self::subflows) can be read.
    ///
    /// Fails with the connection's error if it ends otherwise (reset, timed out); bound
    /// the wait with `tokio::time::timeout` if the peer may stop answering without a
    /// reset.
    pub async fn shutdown_complete(&mut self) -> io::Result<()> {
        poll_fn(|cx| Pin::new(&mut *self).poll_shutdown(cx)).await?;
        poll_fn(|cx| self.poll_send_complete(cx)).await
    }

    /// Ready once the peer acknowledged our FIN (or the connection closed in order).
    fn poll_send_complete(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.shared.is_stopped() {
            return Poll::Ready(Err(runtime_gone()));
        }
        let mut inner = self.shared.lock();
        match inner.stack.send_complete(self.conn) {
            Some(true) => return Poll::Ready(Ok(())),
            Some(false) => {}
            None => return Poll::Ready(Err(not_connected())),
        }
        if let Some(reason) = self.closed(&inner) {
            return Poll::Ready(close_error(reason).map_or(Ok(()), Err));
        }
        if let Some(state) = inner.conns.get_mut(&self.conn) {
            state.writer = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// The connection's MPTCP events so far, oldest first: subflows established and closed
    /// (with the peer's MP_TCPRST reason), addresses the peer announced or removed, priority
    /// changes. An accepted connection has those from its acceptance on.
    pub fn mptcp_events(&self) -> Vec<ConnEvent> {
        self.shared
            .lock()
            .conns
            .get(&self.conn)
            .map(|s| s.mptcp_events.clone())
            .unwrap_or_default()
    }

    /// Waits for the connection's next MPTCP event (a subflow established or closed, an
    /// address announced or removed, a priority changed), oldest first; `None` once the
    /// connection is over (at the data level: its subflows may still be closing) and every
    /// event until then was taken — and from then on. Up to 256 events wait for a caller;
    /// beyond that the oldest are dropped ([`events_lost`](Self::events_lost) counts them).
    /// One task at a time waits: a second one's wait replaces the first's.
    ///
    /// ```no_run
    /// # async fn watch(stream: &mptcp_tun::MptcpStream) {
    /// while let Some(event) = stream.next_event().await {
    ///     println!("{event:?}");
    /// }
    /// # }
    /// ```
    pub async fn next_event(&self) -> Option<ConnEvent> {
        poll_fn(|cx| self.poll_next_event(cx)).await
    }

    /// [`next_event`](Self::next_event) as a poll: `Ready(Some(event))`, `Ready(None)` at
    /// the end, or `Pending` with `cx`'s waker woken by the next event or the end.
    pub fn poll_next_event(&self, cx: &mut Context<'_>) -> Poll<Option<ConnEvent>> {
        let mut inner = self.shared.lock();
        let stopped = self.shared.is_stopped();
        let Some(state) = inner.conns.get_mut(&self.conn) else {
            return Poll::Ready(None);
        };
        if state.events_ended {
            return Poll::Ready(None);
        }
        if let Some(event) = state.pending_events.pop_front() {
            return Poll::Ready(Some(event));
        }
        if state.closed.is_some() || stopped {
            state.events_ended = true;
            return Poll::Ready(None);
        }
        state.event_waiter = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Events dropped because nobody took them with [`next_event`](Self::next_event) while
    /// 256 were waiting.
    pub fn events_lost(&self) -> u64 {
        self.shared
            .lock()
            .conns
            .get(&self.conn)
            .map_or(0, |s| s.events_lost)
    }

    /// Opens a subflow from our address `local` to `remote` (MP_JOIN), as a backup if
    /// `backup`.
    pub fn open_subflow(
        &self,
        local: IpAddr,
        remote: SocketAddr,
        backup: bool,
    ) -> io::Result<SubflowId> {
        let result = self
            .shared
            .lock()
            .stack
            .open_subflow(self.conn, local, remote, backup);
        self.shared.kick();
        result.map_err(|e| {
            let kind = match e {
                OpenSubflowError::AddrNotAvailable => io::ErrorKind::AddrNotAvailable,
                OpenSubflowError::NoPorts => io::ErrorKind::AddrInUse,
                OpenSubflowError::InvalidHandle => io::ErrorKind::NotConnected,
                OpenSubflowError::NotMultipath => io::ErrorKind::Unsupported,
                OpenSubflowError::LimitReached => io::ErrorKind::QuotaExceeded,
            };
            io::Error::new(kind, e)
        })
    }

    /// Changes the connection's scheduler from its next segment on (e.g.
    /// `"redundant".parse()?`).
    pub fn set_scheduler(&self, choice: &mptcp_proto::sched::SchedulerChoice) {
        self.shared.lock().stack.set_scheduler(self.conn, choice);
        self.shared.kick();
    }

    /// The name of the connection's scheduler.
    pub fn scheduler(&self) -> Option<&'static str> {
        self.shared.lock().stack.scheduler(self.conn)
    }

    /// Changes the connection's path manager; the subflows the new one wants open at once.
    pub fn set_path_manager(&self, choice: mptcp_proto::pm::PathManagerChoice) {
        self.shared.lock().stack.set_path_manager(self.conn, choice);
        self.shared.kick();
    }

    /// The connection's path manager.
    pub fn path_manager(&self) -> Option<mptcp_proto::pm::PathManagerChoice> {
        self.shared.lock().stack.path_manager(self.conn)
    }

    /// Gives every subflow, and those opened later, a congestion controller from
    /// `factory` (e.g. `mptcp_proto::cc::factory_by_name("reno")`); each starts from the
    /// controller's initial state.
    pub fn set_congestion_control(
        &self,
        factory: Arc<dyn mptcp_proto::cc::CongestionControllerFactory>,
    ) {
        self.shared
            .lock()
            .stack
            .set_congestion_control(self.conn, factory);
        self.shared.kick();
    }

    /// Sets the most subflows beyond the first and the most half-open joins the connection
    /// accepts from now on.
    pub fn set_limits(&self, max_subflows: usize, max_half_open_joins: usize) {
        self.shared
            .lock()
            .stack
            .set_limits(self.conn, max_subflows, max_half_open_joins);
    }

    /// Marks a subflow as backup (or regular again) and tells the peer (MP_PRIO). Returns
    /// false if there is no such subflow.
    pub fn set_backup(&self, subflow: SubflowId, backup: bool) -> bool {
        let done = self
            .shared
            .lock()
            .stack
            .set_backup(self.conn, subflow, backup);
        self.shared.kick();
        done
    }

    /// Closes one subflow; its data moves to the others. Returns false if there is no
    /// such subflow.
    pub fn close_subflow(&self, subflow: SubflowId) -> bool {
        let done = self.shared.lock().stack.close_subflow(self.conn, subflow);
        self.shared.kick();
        done
    }

    /// Withdraws our address `addr` from the connection (REMOVE_ADDR): its subflows close
    /// and their data moves to the others. Returns false if the host has no such address.
    pub fn remove_address(&self, addr: IpAddr) -> bool {
        let done = self.shared.lock().stack.remove_address(self.conn, addr);
        self.shared.kick();
        done
    }

    /// Announces our address `addr` to the peer (ADD_ADDR), with `port` when joins should
    /// go to another port than the connection's: what an application doing its own path
    /// management (`userspace`) does.
    pub fn announce_address(&self, addr: IpAddr, port: Option<u16>) -> Result<(), AddressError> {
        let done = self
            .shared
            .lock()
            .stack
            .announce_address(self.conn, addr, port);
        self.shared.kick();
        done
    }

    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.shared.is_stopped() {
            return Poll::Ready(Err(runtime_gone()));
        }
        let mut inner = self.shared.lock();
        let Some(state) = inner.conns.get_mut(&self.conn) else {
            return Poll::Ready(Err(not_connected()));
        };
        if state.connected {
            return Poll::Ready(Ok(()));
        }
        if let Some(reason) = state.closed {
            return Poll::Ready(Err(close_error(reason).unwrap_or_else(not_connected)));
        }
        state.writer = Some(cx.waker().clone());
        Poll::Pending
    }

    /// How the connection ended, if it did.
    fn closed(&self, inner: &crate::shared::Inner) -> Option<CloseReason> {
        // The stack knows before its `Closed` event has been dispatched to us.
        inner
            .conns
            .get(&self.conn)
            .and_then(|s| s.closed)
            .or_else(|| inner.stack.close_reason(self.conn))
    }
}

/// A read-only view of one [`MptcpStream`]'s MPTCP state, made by
/// [`MptcpStream::monitor`]; cheap to clone and to keep in another task. Once the stream
/// is gone and its connection finished, it sees no subflows.
#[derive(Debug, Clone)]
pub struct StreamMonitor {
    shared: Arc<Shared>,
    conn: ConnectionHandle,
}

impl StreamMonitor {
    /// Whether the connection speaks MPTCP (see [`MptcpStream::is_mptcp`]).
    pub fn is_mptcp(&self) -> bool {
        self.shared
            .lock()
            .stack
            .is_mptcp(self.conn)
            .unwrap_or(false)
    }

    /// The connection's subflows (see [`MptcpStream::subflows`]).
    pub fn subflows(&self) -> Vec<SubflowInfo> {
        self.shared
            .lock()
            .stack
            .subflows(self.conn)
            .unwrap_or_default()
    }
}

fn connect_error(e: ConnectError) -> io::Error {
    let kind = match e {
        ConnectError::InvalidAddress => io::ErrorKind::InvalidInput,
        ConnectError::AddrNotAvailable | ConnectError::NoPorts => io::ErrorKind::AddrNotAvailable,
        ConnectError::AddrInUse => io::ErrorKind::AddrInUse,
    };
    io::Error::new(kind, e)
}

impl AsyncRead for MptcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.shared.is_stopped() {
            return Poll::Ready(Err(runtime_gone()));
        }
        let mut inner = this.shared.lock();
        let result = inner.stack.recv(this.conn, buf.initialize_unfilled());
        let outcome = match result {
            Ok(n) => {
                buf.advance(n);
                Ok(())
            }
            Err(RecvError::WouldBlock) => {
                if let Some(state) = inner.conns.get_mut(&this.conn) {
                    state.reader = Some(cx.waker().clone());
                }
                return Poll::Pending;
            }
            Err(RecvError::Reset) => Err(io::ErrorKind::ConnectionReset.into()),
            // Gone after an orderly close (all data read): end of stream.
            Err(RecvError::Closed | RecvError::InvalidHandle) => match this.closed(&inner) {
                Some(reason) => close_error(reason).map_or(Ok(()), Err),
                None => Err(not_connected()),
            },
        };
        drop(inner);
        // Reading opens the receive window: the driver may have a window update to send.
        this.shared.kick();
        Poll::Ready(outcome)
    }
}

impl AsyncWrite for MptcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.shared.is_stopped() {
            return Poll::Ready(Err(runtime_gone()));
        }
        let mut inner = this.shared.lock();
        match inner.stack.send(this.conn, data) {
            Ok(n) => {
                drop(inner);
                this.shared.kick();
                Poll::Ready(Ok(n))
            }
            Err(SendError::WouldBlock) => {
                if let Some(state) = inner.conns.get_mut(&this.conn) {
                    state.writer = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Err(SendError::Closed | SendError::InvalidHandle) => {
                let error = this
                    .closed(&inner)
                    .and_then(close_error)
                    .unwrap_or_else(|| io::ErrorKind::BrokenPipe.into());
                Poll::Ready(Err(error))
            }
        }
    }

    /// Written data is already queued in the stack, which sends it as fast as the
    /// connection allows: nothing to wait for.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Half-close (RFC 9293 §3.10.4): a FIN follows the queued data; reading goes on.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.write_shut {
            return Poll::Ready(Ok(()));
        }
        if this.shared.is_stopped() {
            return Poll::Ready(Err(runtime_gone()));
        }
        let mut inner = this.shared.lock();
        let outcome = match inner.stack.shutdown(this.conn) {
            Ok(()) => Ok(()),
            Err(ShutdownError::NotConnected | ShutdownError::InvalidHandle) => {
                match this.closed(&inner) {
                    Some(CloseReason::Normal) => Ok(()),
                    Some(reason) => Err(close_error(reason).unwrap_or_else(not_connected)),
                    None => Err(not_connected()),
                }
            }
        };
        drop(inner);
        if outcome.is_ok() {
            this.write_shut = true;
            this.shared.kick();
        }
        Poll::Ready(outcome)
    }
}

impl Drop for MptcpStream {
    fn drop(&mut self) {
        {
            let mut inner = self.shared.lock();
            inner.stack.close(self.conn);
            inner.conns.remove(&self.conn);
        }
        self.shared.kick();
    }
}
