//! One subflow of an MPTCP connection: a TCP connection plus what the connection level
//! keeps per subflow (its mappings, its MP_JOIN handshake, its address ids and priority).

use super::SubflowInfo;
use super::mapping::Mappings;
use crate::ids::InterfaceId;
use crate::tcp::{TcpConnection, TcpState};
use crate::wire::{DataSeq, SeqNum};

pub use crate::ids::SubflowId;

/// Where a subflow's MP_JOIN handshake (RFC 8684 §3.2) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Join {
    /// The initial subflow (MP_CAPABLE), or a join that completed.
    Done,
    /// We sent (or will send) the SYN with MP_JOIN; `nonce` is our R_A.
    Initiated {
        /// Our random number.
        nonce: u32,
    },
    /// We initiated; the SYN/ACK's HMAC verified. Our third ACK carries our HMAC until
    /// the peer acknowledges it (§3.2: the third ACK is sent reliably).
    AckPending {
        /// R_A.
        nonce: u32,
        /// R_B.
        peer_nonce: u32,
    },
    /// The peer initiated; we answer with our SYN/ACK and wait for its HMAC.
    Responded {
        /// Our R_B.
        nonce: u32,
        /// The peer's R_A.
        peer_nonce: u32,
    },
}

/// A subflow (RFC 8684 §2.2): one TCP connection carrying part of the data.
#[derive(Debug)]
pub(crate) struct Subflow {
    /// Its id in the connection.
    pub(crate) id: SubflowId,
    /// The TCP engine of this path.
    pub(crate) tcp: TcpConnection,
    /// Interface its packets leave on.
    pub(crate) iface: InterfaceId,
    /// Address id of our end (0: the initial subflow's address).
    pub(crate) local_id: u8,
    /// Address id of the peer's end, once known.
    pub(crate) remote_id: Option<u8>,
    /// The MP_JOIN handshake.
    pub(crate) join: Join,
    /// We asked the peer not to use this subflow unless others fail (backup, §3.3.8).
    pub(crate) backup: bool,
    /// The peer asked us the same.
    pub(crate) peer_backup: bool,
    /// An MP_PRIO to send on this subflow.
    pub(crate) prio_pending: bool,
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
    /// The connection level reported this subflow closed.
    pub(crate) reported_closed: bool,
    /// Reset with this MP_TCPRST reason when it is aborted (RFC 8684 §3.6).
    pub(crate) reset_reason: Option<u8>,
    /// An MP_FAIL to send with this data sequence number (RFC 8684 §3.7): on the next
    /// segment without data, or on the RST.
    pub(crate) mp_fail: Option<DataSeq>,
    /// The MP_TCPRST reason the peer's RST gave.
    pub(crate) peer_reset_reason: Option<u8>,
    /// Its retransmission timer fired since it last acknowledged new data: the scheduler
    /// avoids it and its data went to the others.
    pub(crate) potentially_failed: bool,
    /// Timeouts seen so far (to notice a new one).
    pub(crate) timeouts_seen: u64,
    /// While potentially failed: its send sequence number at the timeout; the mark clears
    /// once the subflow has everything before it acknowledged.
    pub(crate) failed_until: SeqNum,
    /// Closed on purpose (REMOVE_ADDR, the application): no new data goes to it.
    pub(crate) retired: bool,
    /// The end of the furthest data handed to it (`None`: none yet), from which it sends
    /// its own copy when the scheduler asks for one (`Scheduler::pick_copy`).
    pub(crate) carried_to: Option<DataSeq>,
}

impl Subflow {
    pub(crate) fn new(id: SubflowId, tcp: TcpConnection, iface: InterfaceId, join: Join) -> Self {
        Self {
            id,
            tcp,
            iface,
            local_id: 0,
            remote_id: None,
            join,
            backup: false,
            peer_backup: false,
            prio_pending: false,
            tx: Mappings::default(),
            rx: Mappings::default(),
            rx_next: None,
            held: Vec::new(),
            connected: false,
            reported_closed: false,
            reset_reason: None,
            mp_fail: None,
            peer_reset_reason: None,
            potentially_failed: false,
            timeouts_seen: 0,
            failed_until: SeqNum(0),
            retired: false,
            carried_to: None,
        }
    }

    /// A snapshot of it.
    pub(crate) fn info(&self) -> SubflowInfo {
        SubflowInfo {
            id: self.id,
            local: self.tcp.local_addr(),
            remote: self.tcp.peer_addr(),
            local_id: self.local_id,
            remote_id: self.remote_id,
            established: self.join == Join::Done && self.connected,
            backup: self.backup,
            peer_backup: self.peer_backup,
            tcp: self.tcp.info(),
        }
    }

    /// Unsent bytes waiting in the subflow's send buffer.
    pub(crate) fn unsent(&self) -> usize {
        let end = self.tcp.data_start() + self.tcp.send_queue_len() as u32;
        end.diff(self.tcp.snd_nxt).max(0) as usize
    }

    /// Bytes the subflow's congestion control lets out now (congestion window not in
    /// flight, or in fast recovery what PRR allows).
    pub(crate) fn cwnd_room(&self) -> usize {
        self.tcp.cwnd_room()
    }

    /// Whether the subflow may carry data: established, its handshake done, not closing.
    pub(crate) fn can_carry_data(&self) -> bool {
        self.join == Join::Done
            && !self.retired
            && self.tcp.state().is_synchronized()
            && self.tcp.state().can_send()
            && !self.tcp.fin_queued
    }

    /// Whether it can carry data and is not suspected of having failed.
    pub(crate) fn works(&self) -> bool {
        self.can_carry_data() && !self.potentially_failed
    }

    /// Whether the TCP connection is over.
    pub(crate) fn is_closed(&self) -> bool {
        self.tcp.state() == TcpState::Closed
    }
}
