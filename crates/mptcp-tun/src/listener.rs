//! [`MptcpListener`]: accepts connections, used like `tokio::net::TcpListener`.

use core::net::SocketAddr;
use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

use mptcp_proto::stack::{AcceptError, ConnectionConfig, ListenError, ListenerHandle};

use crate::error::{not_connected, runtime_gone};
use crate::runtime::Handle;
use crate::shared::{ConnState, Shared};
use crate::stream::MptcpStream;

/// Connections that completed their handshake and wait for `accept`, at most.
pub const DEFAULT_BACKLOG: usize = 128;

/// A listening socket of the runtime's stack.
///
/// ```no_run
/// # async fn demo(handle: mptcp_tun::Handle) -> std::io::Result<()> {
/// let listener = mptcp_tun::MptcpListener::bind(&handle, "0.0.0.0:80".parse().unwrap())?;
/// loop {
///     let (stream, peer) = listener.accept().await?;
///     # drop((stream, peer));
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct MptcpListener {
    shared: Arc<Shared>,
    listener: ListenerHandle,
    local: SocketAddr,
}

impl MptcpListener {
    /// Listens on `addr`: one of the host's addresses, or the unspecified address for all
    /// of them; port 0 picks a free port (see [`local_addr`](Self::local_addr)).
    pub fn bind(handle: &Handle, addr: SocketAddr) -> io::Result<MptcpListener> {
        Self::bind_with_backlog(handle, addr, DEFAULT_BACKLOG)
    }

    /// [`bind`](Self::bind) with a chosen `backlog` instead of [`DEFAULT_BACKLOG`]: at
    /// most `backlog` connections wait for `accept`, and at most `backlog` half-open ones
    /// (SYN received); beyond that the stack answers SYNs with SYN cookies (when its
    /// configuration allows them).
    pub fn bind_with_backlog(
        handle: &Handle,
        addr: SocketAddr,
        backlog: usize,
    ) -> io::Result<MptcpListener> {
        Self::open(handle, addr, backlog, None)
    }

    /// [`bind_with_backlog`](Self::bind_with_backlog), the connections it accepts having
    /// `config` (start from [`Handle::connection_config`]) instead of the runtime's settings.
    pub fn bind_with(
        handle: &Handle,
        addr: SocketAddr,
        backlog: usize,
        config: ConnectionConfig,
    ) -> io::Result<MptcpListener> {
        Self::open(handle, addr, backlog, Some(config))
    }

    fn open(
        handle: &Handle,
        addr: SocketAddr,
        backlog: usize,
        config: Option<ConnectionConfig>,
    ) -> io::Result<MptcpListener> {
        let shared = handle.shared.clone();
        if shared.is_stopped() {
            return Err(runtime_gone());
        }
        let mut inner = shared.lock();
        let listener = match config {
            Some(config) => inner.stack.listen_with(addr, backlog, config),
            None => inner.stack.listen(addr, backlog),
        }
        .map_err(listen_error)?;
        let local = inner.stack.listener_addr(listener).unwrap_or(addr);
        inner.listeners.insert(listener, None);
        drop(inner);
        Ok(MptcpListener {
            shared,
            listener,
            local,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }

    /// Waits for the next established connection; returns it with the peer's address.
    pub async fn accept(&self) -> io::Result<(MptcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for the next established connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(MptcpStream, SocketAddr)>> {
        if self.shared.is_stopped() {
            return Poll::Ready(Err(runtime_gone()));
        }
        let mut inner = self.shared.lock();
        match inner.stack.accept(self.listener) {
            Ok(conn) => {
                let (Some(local), Some(peer)) =
                    (inner.stack.local_addr(conn), inner.stack.peer_addr(conn))
                else {
                    return Poll::Ready(Err(not_connected()));
                };
                inner.conns.insert(
                    conn,
                    ConnState {
                        connected: true,
                        ..ConnState::default()
                    },
                );
                drop(inner);
                // `accept` may have queued events for data that arrived early.
                self.shared.kick();
                let stream = MptcpStream::accepted(self.shared.clone(), conn, local, peer);
                Poll::Ready(Ok((stream, peer)))
            }
            Err(AcceptError::WouldBlock) => {
                inner
                    .listeners
                    .insert(self.listener, Some(cx.waker().clone()));
                Poll::Pending
            }
            Err(AcceptError::InvalidHandle) => Poll::Ready(Err(not_connected())),
        }
    }
}

fn listen_error(e: ListenError) -> io::Error {
    let kind = match e {
        ListenError::AddrInUse | ListenError::NoPorts => io::ErrorKind::AddrInUse,
        ListenError::AddrNotAvailable => io::ErrorKind::AddrNotAvailable,
    };
    io::Error::new(kind, e)
}

impl Drop for MptcpListener {
    fn drop(&mut self) {
        {
            let mut inner = self.shared.lock();
            inner.stack.close_listener(self.listener);
            inner.listeners.remove(&self.listener);
        }
        self.shared.kick();
    }
}
