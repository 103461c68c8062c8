//! What a peer can make a connection hold (RFC 8684 §5, RFC 7430 §2.2): a bounded number of
//! subflows and of half-open joins, and closed subflows that leave the connection's list
//! (their counters folded into the connection's), so that a long connection whose paths
//! flap, or a peer that knows the token and floods joins, does not grow it without end.

use core::net::SocketAddr;

use super::subflow::{Join, Subflow};
use super::{ConnEvent, Mode, MptcpConnection};
use crate::tcp::{CloseReason, TcpState};
use crate::wire::mptcp::reset_reason;

/// How many of the subflows that left a connection its [`subflows`] list still shows.
///
/// [`subflows`]: MptcpConnection::subflows
pub const CLOSED_HISTORY: usize = 8;

/// Counters of a connection's subflows: those it has and those it had (like the totals of
/// Linux's `MPTCP_INFO`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubflowTotals {
    /// Subflows that closed and were dropped from the connection's list.
    pub subflows_closed: u64,
    /// Payload bytes sent on every subflow, retransmissions included.
    pub bytes_sent: u64,
    /// Payload bytes retransmitted.
    pub bytes_retransmitted: u64,
    /// Bytes the peer acknowledged at the subflow level.
    pub bytes_acked: u64,
    /// Payload bytes received in order at the subflow level.
    pub bytes_received: u64,
    /// Segments retransmitted.
    pub retransmits: u64,
    /// Retransmission timeouts.
    pub timeouts: u64,
    /// Segments received.
    pub segments_in: u64,
    /// Segments sent.
    pub segments_out: u64,
}

impl SubflowTotals {
    /// Adds one subflow's counters.
    fn add(&mut self, sf: &Subflow) {
        let s = &sf.tcp.stats;
        self.bytes_sent += s.bytes_sent;
        self.bytes_retransmitted += s.bytes_retransmitted;
        self.bytes_acked += s.bytes_acked;
        self.bytes_received += s.bytes_received;
        self.retransmits += s.retransmits;
        self.timeouts += s.timeouts;
        self.segments_in += s.segments_in;
        self.segments_out += s.segments_out;
    }
}

/// Whether a subflow no longer counts against the limits: closed, or in TIME-WAIT.
fn over(sf: &Subflow) -> bool {
    matches!(sf.tcp.state(), TcpState::Closed | TcpState::TimeWait)
}

/// Why a join is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JoinRefusal {
    /// The connection cannot take subflows (not MPTCP, not established, closed): a plain
    /// RST, as for a token nobody has.
    Unusable,
    /// The connection is at one of its limits: a RST with MP_TCPRST and this reason.
    Limit(u8),
}

impl MptcpConnection {
    /// Subflows beyond the first that are not over (closed or in TIME-WAIT), whoever
    /// opened them.
    fn live_joins(&self) -> usize {
        self.subflows[1..].iter().filter(|s| !over(s)).count()
    }

    /// Whether the peer may open one more subflow now.
    pub(crate) fn admit_join(&self) -> Result<(), JoinRefusal> {
        if !self.can_join() {
            return Err(JoinRefusal::Unusable);
        }
        if self.live_joins() >= self.max_subflows {
            return Err(JoinRefusal::Limit(reset_reason::ADMIN_PROHIBITED));
        }
        let half_open = self.subflows[1..]
            .iter()
            .filter(|s| !s.is_closed() && matches!(s.join, Join::Responded { .. }))
            .count();
        if half_open >= self.max_half_open_joins {
            return Err(JoinRefusal::Limit(reset_reason::NO_RESOURCES));
        }
        Ok(())
    }

    /// Whether we may open one more subflow now (the same limit as the peer's joins).
    pub(crate) fn may_open_subflow(&self) -> bool {
        self.live_joins() < self.max_subflows
    }

    /// Drops the joined subflows that are over (closed, reported, nothing left to send),
    /// and the oldest of those in TIME-WAIT beyond [`MptcpConfig::max_subflows`] of them
    /// (their bytes are all acknowledged at both levels, and the data level numbers every
    /// byte, so an old duplicate cannot be mistaken for new data), folding their counters
    /// into the connection's; `forget` hears each one's 4-tuple. The first subflow stays:
    /// the connection's addresses and `info` are its.
    ///
    /// [`MptcpConfig::max_subflows`]: super::MptcpConfig::max_subflows
    pub(crate) fn reap_subflows(&mut self, mut forget: impl FnMut(SocketAddr, SocketAddr)) {
        let mut waiting = self.subflows[1..]
            .iter()
            .filter(|s| s.tcp.state() == TcpState::TimeWait)
            .count();
        let mut index = 1;
        while index < self.subflows.len() {
            let sf = &self.subflows[index];
            let time_wait = sf.tcp.state() == TcpState::TimeWait;
            let drop = (sf.tcp.is_finished() && sf.reported_closed)
                || (time_wait && waiting > self.max_subflows);
            if !drop {
                index += 1;
                continue;
            }
            waiting -= usize::from(time_wait);
            let sf = self.subflows.remove(index);
            if !sf.reported_closed && self.mode == Mode::Mptcp {
                // Cut short in TIME-WAIT: it closed normally.
                self.events.push_back(ConnEvent::SubflowClosed {
                    subflow: sf.id,
                    reason: CloseReason::Normal,
                    reset_reason: sf.peer_reset_reason,
                });
            }
            forget(sf.tcp.local_addr(), sf.tcp.peer_addr());
            self.closed_totals.add(&sf);
            self.closed_totals.subflows_closed += 1;
            if self.closed_recent.len() == CLOSED_HISTORY {
                self.closed_recent.pop_front();
            }
            self.closed_recent.push_back(sf.info());
            self.reinjections_after_removal(index);
            if self.tx_cursor > index {
                self.tx_cursor -= 1;
            }
            self.tx_cursor %= self.subflows.len();
        }
    }

    /// Counters of every subflow the connection has had.
    pub fn totals(&self) -> SubflowTotals {
        let mut totals = self.closed_totals;
        for sf in &self.subflows {
            totals.add(sf);
        }
        totals
    }
}
