//! The stack's side of multipath: subflows the peer opens with MP_JOIN (found by token,
//! RFC 8684 §3.2), subflows our path manager or the application opens, and the calls that
//! steer a connection's subflows (after the seeds' enhanced socket API).

use core::net::{IpAddr, SocketAddr};

use rand_core::RngCore;
use thiserror::Error;

use super::{ConnectionHandle, InterfaceId, Stack};
use crate::conn::{JoinRefusal, JoinSyn, SubflowId, SubflowInfo, SubflowTotals};
use crate::tcp::TcpConnection;
use crate::time::Instant;
use crate::wire::TcpRepr;
use crate::wire::mptcp::reset_reason;

/// Why a subflow could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum OpenSubflowError {
    /// No such connection.
    #[error("invalid connection handle")]
    InvalidHandle,
    /// The connection does not speak MPTCP, or is not (or no longer) established.
    #[error("the connection cannot take more subflows")]
    NotMultipath,
    /// The local address is not one of the host's, or of another family than the remote.
    #[error("address not available on this host")]
    AddrNotAvailable,
    /// No ephemeral port is free.
    #[error("no free ephemeral port")]
    NoPorts,
    /// The connection has as many subflows as its limit allows
    /// ([`MptcpConfig::max_subflows`](crate::conn::MptcpConfig::max_subflows)).
    #[error("the connection is at its subflow limit")]
    LimitReached,
}

impl Stack {
    /// A SYN with MP_JOIN: a new subflow of the connection its token names, or a RST.
    pub(crate) fn on_join_syn(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        local: SocketAddr,
        remote: SocketAddr,
        seg: &TcpRepr<'_>,
        join: JoinSyn,
    ) {
        let id = self.tokens.get(&join.token).copied();
        let admitted = match id.and_then(|id| self.conns.get(&id)) {
            Some(entry) => entry.conn.admit_join(),
            None => Err(JoinRefusal::Unusable),
        };
        let (Some(id), Ok(())) = (id, admitted) else {
            let reason = match admitted {
                Err(JoinRefusal::Limit(reason)) => {
                    self.stats.joins_refused += 1;
                    Some(reason)
                }
                _ => None,
            };
            self.queue_reset_with(iface, local, remote, seg, reason);
            return;
        };
        let Some((config, local_id)) = self
            .conns
            .get(&id)
            .map(|e| (e.config.clone(), e.conn.local_addr_id(local.ip())))
        else {
            return;
        };
        let Some(local_id) = local_id else {
            // An address this connection withdrew (or never had): refused like a join
            // beyond the limits.
            self.queue_reset_with(
                iface,
                local,
                remote,
                seg,
                Some(reset_reason::ADMIN_PROHIBITED),
            );
            return;
        };
        let params = self.params(iface, local, remote, &config.tcp);
        let tcp = TcpConnection::accept(now, &config.tcp, params, seg);
        let nonce = self.rng.next_u32();
        let Some(entry) = self.conns.get_mut(&id) else {
            return;
        };
        entry.conn.accept_join(tcp, iface, local_id, join, nonce);
        self.demux.insert_conn(local, remote, id);
    }

    /// Opens the subflows the path manager of connection `id` asked for.
    pub(crate) fn open_requested_subflows(&mut self, id: u64) {
        while let Some(request) = self
            .conns
            .get_mut(&id)
            .and_then(|e| e.conn.poll_subflow_request())
        {
            // A subflow that cannot be opened (no port, address gone) is skipped, as the
            // kernel's path manager does.
            let _ = self.open_subflow_on(id, request.local, request.remote, request.backup);
        }
    }

    /// Opens a subflow of `conn` from our address `local` to `remote` (MP_JOIN, RFC 8684
    /// §3.2), as a backup subflow if `backup`. [`ConnEvent::SubflowEstablished`] follows
    /// (or [`ConnEvent::SubflowClosed`]).
    ///
    /// [`ConnEvent::SubflowEstablished`]: crate::conn::ConnEvent::SubflowEstablished
    /// [`ConnEvent::SubflowClosed`]: crate::conn::ConnEvent::SubflowClosed
    pub fn open_subflow(
        &mut self,
        conn: ConnectionHandle,
        local: IpAddr,
        remote: SocketAddr,
        backup: bool,
    ) -> Result<SubflowId, OpenSubflowError> {
        self.open_subflow_on(conn.0, local, remote, backup)
    }

    fn open_subflow_on(
        &mut self,
        id: u64,
        local: IpAddr,
        remote: SocketAddr,
        backup: bool,
    ) -> Result<SubflowId, OpenSubflowError> {
        let entry = self.conns.get(&id).ok_or(OpenSubflowError::InvalidHandle)?;
        if !entry.conn.can_join() {
            return Err(OpenSubflowError::NotMultipath);
        }
        if !entry.conn.may_open_subflow() {
            return Err(OpenSubflowError::LimitReached);
        }
        let config = entry.config.clone();
        let local_id = entry
            .conn
            .local_addr_id(local)
            .ok_or(OpenSubflowError::AddrNotAvailable)?;
        if local.is_ipv4() != remote.is_ipv4() {
            return Err(OpenSubflowError::AddrNotAvailable);
        }
        let iface = self
            .iface_of(local)
            .ok_or(OpenSubflowError::AddrNotAvailable)?;
        let port = self
            .ephemeral_port(local, remote)
            .ok_or(OpenSubflowError::NoPorts)?;
        let local = SocketAddr::new(local, port);
        let params = self.params(iface, local, remote, &config.tcp);
        let tcp = TcpConnection::connect(self.now, &config.tcp, params);
        let nonce = self.rng.next_u32();
        let entry = self
            .conns
            .get_mut(&id)
            .ok_or(OpenSubflowError::InvalidHandle)?;
        let subflow = entry.conn.add_subflow(tcp, iface, local_id, backup, nonce);
        self.demux.insert_conn(local, remote, id);
        Ok(subflow)
    }

    /// The connection's subflows with their addresses and state: the open ones, the first
    /// one, and closed ones until they are over (then they leave the list and their
    /// counters go to [`subflow_totals`](Self::subflow_totals)).
    pub fn subflows(&self, conn: ConnectionHandle) -> Option<Vec<SubflowInfo>> {
        self.conns.get(&conn.0).map(|e| e.conn.subflows())
    }

    /// Counters summed over every subflow the connection has had, those gone included.
    pub fn subflow_totals(&self, conn: ConnectionHandle) -> Option<SubflowTotals> {
        self.conns.get(&conn.0).map(|e| e.conn.totals())
    }

    /// Asks the peer to use a subflow only as a backup, or as a regular one again
    /// (MP_PRIO, RFC 8684 §3.3.8); our scheduler treats it the same way. Returns false if
    /// there is no such connection or subflow.
    pub fn set_backup(&mut self, conn: ConnectionHandle, subflow: SubflowId, backup: bool) -> bool {
        self.conns
            .get_mut(&conn.0)
            .is_some_and(|e| e.conn.set_backup(subflow, backup))
    }

    /// Closes one subflow; its unacknowledged data moves to the others. Returns false if
    /// there is no such connection or subflow.
    pub fn close_subflow(&mut self, conn: ConnectionHandle, subflow: SubflowId) -> bool {
        self.conns
            .get_mut(&conn.0)
            .is_some_and(|e| e.conn.close_subflow(subflow))
    }

    /// Withdraws our address `addr` from connection `conn` (REMOVE_ADDR, RFC 8684 §3.4.2):
    /// its subflows close and their data moves to the others. Returns false if there is no
    /// such connection or address.
    pub fn remove_address(&mut self, conn: ConnectionHandle, addr: IpAddr) -> bool {
        self.conns
            .get_mut(&conn.0)
            .is_some_and(|e| e.conn.remove_address(addr))
    }
}
