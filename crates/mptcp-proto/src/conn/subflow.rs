//! One subflow of an MPTCP connection: a TCP connection plus what the connection level
//! keeps per subflow (its mappings, the bytes of a mapping awaiting its checksum).

use super::mapping::Mappings;
use crate::stack::InterfaceId;
use crate::tcp::TcpConnection;
use crate::wire::SeqNum;

/// A subflow (RFC 8684 §2.2): one TCP connection carrying part of the data.
#[derive(Debug)]
pub(crate) struct Subflow {
    /// The TCP engine of this path.
    pub(crate) tcp: TcpConnection,
    /// Interface its packets leave on.
    pub(crate) iface: InterfaceId,
    /// Mappings of the data handed to it, until the subflow acknowledges them.
    pub(crate) tx: Mappings,
    /// Mappings the peer sent, until their bytes are moved to the connection level.
    pub(crate) rx: Mappings,
    /// Subflow sequence number of the next in-order byte to move to the connection level
    /// (set once the peer's SYN is known).
    pub(crate) rx_next: Option<SeqNum>,
    /// Bytes of the current mapping held until the whole mapping is there and its DSS
    /// checksum verified (RFC 8684 §3.3.1), when checksums are in use.
    pub(crate) held: Vec<u8>,
    /// The connection level has seen this subflow's `Connected` event.
    pub(crate) connected: bool,
}

impl Subflow {
    pub(crate) fn new(tcp: TcpConnection, iface: InterfaceId) -> Self {
        Self {
            tcp,
            iface,
            tx: Mappings::default(),
            rx: Mappings::default(),
            rx_next: None,
            held: Vec::new(),
            connected: false,
        }
    }

    /// Unsent bytes waiting in the subflow's send buffer.
    pub(crate) fn unsent(&self) -> usize {
        let end = self.tcp.data_start() + self.tcp.send_queue_len() as u32;
        end.diff(self.tcp.snd_nxt).max(0) as usize
    }

    /// Bytes of congestion window not in flight.
    pub(crate) fn cwnd_room(&self) -> usize {
        self.tcp.cc.window().saturating_sub(self.tcp.sb.in_flight())
    }
}
