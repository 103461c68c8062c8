//! What both sides of an exchange (`source.rs` sends, `sink.rs` receives) report to the
//! exchange (`session.rs`) and to the progress display: the bytes moved and why a side
//! stopped. A leaf, so the exchange and its sides do not depend on each other both ways.

use std::io;
use std::sync::atomic::AtomicU64;

/// Bytes moved so far, shared with the progress display.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Bytes written into the connection.
    pub(crate) sent: AtomicU64,
    /// Bytes read from the connection.
    pub(crate) received: AtomicU64,
}

/// Why one side of the exchange stopped early.
#[derive(Debug)]
pub(crate) enum SideError {
    /// The connection failed (refused, reset, timed out, ...).
    Net(io::Error),
    /// A local file or standard input/output failed; the message says which.
    Local(String),
}
