//! Connection states (RFC 9293 §3.3.2) and why a connection ended.

use core::fmt;

/// The state of a TCP connection (RFC 9293 §3.3.2). `LISTEN` belongs to listeners, not
/// connections, so it is absent here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpState {
    /// Our SYN is out; waiting for the peer's SYN.
    SynSent,
    /// The peer's SYN arrived and our SYN is out; waiting for the ACK of our SYN.
    SynReceived,
    /// Open in both directions.
    Established,
    /// We sent FIN; the peer has not acknowledged it nor sent its own.
    FinWait1,
    /// Our FIN is acknowledged; waiting for the peer's FIN.
    FinWait2,
    /// The peer sent FIN; we may still send.
    CloseWait,
    /// Both sent FIN simultaneously; waiting for the ACK of ours.
    Closing,
    /// The peer closed first and we sent our FIN; waiting for its ACK.
    LastAck,
    /// Both directions closed; waiting 2·MSL for stray segments.
    TimeWait,
    /// Gone.
    Closed,
}

impl TcpState {
    /// Whether the three-way handshake is done (RFC 9293: a "synchronized" state).
    pub fn is_synchronized(self) -> bool {
        !matches!(self, Self::SynSent | Self::SynReceived | Self::Closed)
    }

    /// Whether we may still queue data to send.
    pub fn can_send(self) -> bool {
        matches!(
            self,
            Self::SynSent | Self::SynReceived | Self::Established | Self::CloseWait
        )
    }

    /// Whether the peer may still send data to us.
    pub fn can_receive(self) -> bool {
        matches!(
            self,
            Self::SynReceived | Self::Established | Self::FinWait1 | Self::FinWait2
        )
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SynSent => "SYN-SENT",
            Self::SynReceived => "SYN-RECEIVED",
            Self::Established => "ESTABLISHED",
            Self::FinWait1 => "FIN-WAIT-1",
            Self::FinWait2 => "FIN-WAIT-2",
            Self::CloseWait => "CLOSE-WAIT",
            Self::Closing => "CLOSING",
            Self::LastAck => "LAST-ACK",
            Self::TimeWait => "TIME-WAIT",
            Self::Closed => "CLOSED",
        })
    }
}

/// Why a connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// Both sides closed in order (FIN exchange, TIME-WAIT or LAST-ACK done).
    Normal,
    /// The peer reset the connection (RST received, RFC 9293 §3.10.7.4).
    Reset,
    /// The peer refused our SYN with a RST (RFC 9293 §3.10.7.3).
    Refused,
    /// Retransmissions, SYN retries or keep-alive probes ran out.
    TimedOut,
    /// The application aborted the connection (we sent RST).
    Aborted,
}

/// What a connection reports to its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpEvent {
    /// The handshake completed.
    Connected,
    /// In-order data (or the end of the stream) can be read.
    Readable,
    /// Space opened in the send buffer after a send found it full.
    Writable,
    /// The peer's FIN arrived: no more data will come.
    PeerClosed,
    /// The connection ended.
    Closed(CloseReason),
}
