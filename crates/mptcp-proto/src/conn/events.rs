//! What a connection reports to its owner (after the events of Linux's MPTCP path-manager
//! interface: connection and subflow established/closed, address announced/removed,
//! priority changed).

use core::net::IpAddr;

use super::subflow::SubflowId;
use crate::tcp::CloseReason;

/// An event of one MPTCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnEvent {
    /// The connection is established (its first subflow's handshake completed).
    Connected,
    /// In-order data (or the end of the stream) can be read.
    Readable,
    /// Space opened in the send buffer after a send found it full.
    Writable,
    /// The peer closed its sending side (DATA_FIN, or FIN for plain TCP).
    PeerClosed,
    /// The peer acknowledged everything we sent, our DATA_FIN (FIN for plain TCP) included.
    SendComplete,
    /// The connection ended.
    Closed(CloseReason),
    /// A subflow completed its handshake (MP_JOIN for all but the first).
    SubflowEstablished(SubflowId),
    /// A subflow ended; `reset_reason` is the MP_TCPRST reason the peer gave, if any.
    SubflowClosed {
        /// Which one.
        subflow: SubflowId,
        /// How its TCP connection ended.
        reason: CloseReason,
        /// The peer's MP_TCPRST reason (RFC 8684 §3.6), when it sent one.
        reset_reason: Option<u8>,
    },
    /// The peer announced an address (ADD_ADDR, RFC 8684 §3.4.1), with a port if it gave
    /// one.
    AddressAnnounced {
        /// Its address id.
        id: u8,
        /// The address.
        addr: IpAddr,
        /// The port, when not the connection's.
        port: Option<u16>,
    },
    /// The peer withdrew an address (REMOVE_ADDR, §3.4.2).
    AddressRemoved {
        /// Its address id.
        id: u8,
    },
    /// The peer changed a subflow's priority (MP_PRIO, §3.3.8).
    PeerPriority {
        /// Which subflow.
        subflow: SubflowId,
        /// Whether the peer wants it used only as a backup.
        backup: bool,
    },
}
