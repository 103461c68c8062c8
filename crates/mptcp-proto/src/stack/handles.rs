//! Handles the application holds, and the errors of each call.

use thiserror::Error;

/// A connection of a [`Stack`](super::Stack). Handles are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionHandle(pub(crate) u64);

/// A listening socket of a [`Stack`](super::Stack). Handles are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerHandle(pub(crate) u64);

/// Why `listen` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ListenError {
    /// Another listener has this address and port.
    #[error("address in use")]
    AddrInUse,
    /// The address is not one of the host's (nor unspecified).
    #[error("address not available on this host")]
    AddrNotAvailable,
    /// No free port was found for port 0.
    #[error("no free port")]
    NoPorts,
}

/// Why `accept` returned no connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AcceptError {
    /// No established connection is waiting; wait for [`Event::Incoming`](super::Event).
    #[error("no connection waiting")]
    WouldBlock,
    /// The listener handle is unknown (closed).
    #[error("invalid listener handle")]
    InvalidHandle,
}

/// Why `connect` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ConnectError {
    /// The remote address is unspecified or its port is 0.
    #[error("invalid remote address")]
    InvalidAddress,
    /// The host has no address of the remote's family, or the given local address is not
    /// the host's.
    #[error("no local address for this destination")]
    AddrNotAvailable,
    /// A connection with this 4-tuple exists.
    #[error("address in use")]
    AddrInUse,
    /// No free ephemeral port.
    #[error("no free ephemeral port")]
    NoPorts,
}

/// Why `send` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SendError {
    /// The send buffer is full: wait for [`Event::Writable`](super::Event).
    #[error("send buffer full")]
    WouldBlock,
    /// The sending side is shut down or the connection closed.
    #[error("connection closed for sending")]
    Closed,
    /// The handle is unknown.
    #[error("invalid connection handle")]
    InvalidHandle,
}

/// Why `recv` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RecvError {
    /// Nothing to read yet: wait for [`Event::Readable`](super::Event).
    #[error("no data available")]
    WouldBlock,
    /// The peer reset the connection.
    #[error("connection reset")]
    Reset,
    /// The connection ended without the peer's FIN (timeout, refused or aborted).
    #[error("connection closed")]
    Closed,
    /// The handle is unknown.
    #[error("invalid connection handle")]
    InvalidHandle,
}

/// Why `shutdown` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ShutdownError {
    /// The sending side was already shut down, or the connection is closed.
    #[error("not connected")]
    NotConnected,
    /// The handle is unknown.
    #[error("invalid connection handle")]
    InvalidHandle,
}
