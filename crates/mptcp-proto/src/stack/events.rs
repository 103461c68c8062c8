//! What the stack reports to its caller: events and transmissions.

use super::config::InterfaceId;
use super::handles::{ConnectionHandle, ListenerHandle};
pub use crate::conn::ConnEvent;
pub use crate::tcp::CloseReason;

/// One IP packet [`Stack::poll_transmit`](super::Stack::poll_transmit) wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// The interface to send it on.
    pub iface: InterfaceId,
    /// Its length: the packet is the first `len` bytes of the buffer.
    pub len: usize,
}

/// Something the application should know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// An active open completed (RFC 9293 §3.10.7.3).
    Connected(ConnectionHandle),
    /// A listener has an established connection to [`accept`](super::Stack::accept).
    Incoming(ListenerHandle),
    /// Data can be read (signalled once until the next `recv`).
    Readable(ConnectionHandle),
    /// The send buffer has room again after a `send` found it full.
    Writable(ConnectionHandle),
    /// The peer's FIN arrived: after the buffered data, `recv` returns `Ok(0)`.
    PeerClosed(ConnectionHandle),
    /// The peer acknowledged everything we sent, our FIN (DATA_FIN for MPTCP) included,
    /// after a [`shutdown`](super::Stack::shutdown) or [`close`](super::Stack::close): see
    /// [`Stack::send_complete`](super::Stack::send_complete).
    SendComplete(ConnectionHandle),
    /// An MPTCP event of the connection: a subflow established or closed, an address the
    /// peer announced or removed, a subflow's priority changed (never one of the events
    /// above).
    Mptcp(ConnectionHandle, ConnEvent),
    /// The connection ended; its handle stays valid (reads report the end or the error)
    /// until the application closes it.
    Closed(ConnectionHandle, CloseReason),
}

/// Counters of packets the stack dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackStats {
    /// Packets received.
    pub packets_in: u64,
    /// Packets sent.
    pub packets_out: u64,
    /// Dropped: not a parseable IP/TCP packet.
    pub malformed: u64,
    /// Dropped: bad IPv4 header or TCP checksum.
    pub bad_checksum: u64,
    /// Dropped: not TCP, a fragment, or not addressed to this host.
    pub not_for_us: u64,
    /// SYNs dropped because a listener's accept queue was full (or its SYN queue, with
    /// SYN cookies off), and cookie ACKs dropped for a full accept queue.
    pub backlog_drops: u64,
    /// SYNs answered with a SYN cookie (the listener's SYN queue was full).
    pub syn_cookies_sent: u64,
    /// SYNs that got no cookie: [`poll_transmit`](super::Stack::poll_transmit) had not
    /// yet sent the 1024 SYN/ACKs with cookies already waiting (their senders retry).
    pub syn_cookies_dropped: u64,
    /// Connections made from an ACK that returned a valid cookie.
    pub syn_cookies_accepted: u64,
    /// Half-open connections dropped from a full SYN queue after waiting
    /// [`EVICT_AFTER`](super::EVICT_AFTER).
    pub half_open_evicted: u64,
    /// RSTs sent for segments that matched no connection or listener.
    pub resets_sent: u64,
    /// MP_JOIN SYNs refused because their connection was at a limit
    /// ([`MptcpConfig::max_subflows`](crate::conn::MptcpConfig::max_subflows),
    /// [`max_half_open_joins`](crate::conn::MptcpConfig::max_half_open_joins)).
    pub joins_refused: u64,
}
