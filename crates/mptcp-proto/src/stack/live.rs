//! A live connection's policies, changed while it runs (draft-scharf-mptcp-api REQ13): its
//! scheduler, path manager, congestion control and limits, in the connection and in the
//! settings its later subflows take.

use std::sync::Arc;

use super::{ConnectionHandle, Stack};
use crate::cc::CongestionControllerFactory;
use crate::pm::PathManagerChoice;
use crate::sched::SchedulerChoice;

impl Stack {
    /// Changes the scheduler of a live connection (see
    /// [`MptcpConnection::set_scheduler`](crate::conn::MptcpConnection::set_scheduler)).
    /// Returns false if there is no such connection.
    pub fn set_scheduler(&mut self, conn: ConnectionHandle, choice: &SchedulerChoice) -> bool {
        let Some(entry) = self.conns.get_mut(&conn.0) else {
            return false;
        };
        entry.conn.set_scheduler(choice);
        Arc::make_mut(&mut entry.config).mptcp.scheduler = choice.clone();
        true
    }

    /// The name of a connection's scheduler, if there is such a connection.
    pub fn scheduler(&self, conn: ConnectionHandle) -> Option<&'static str> {
        self.conns.get(&conn.0).map(|e| e.conn.scheduler())
    }

    /// Changes the path manager of a live connection (see
    /// [`MptcpConnection::set_path_manager`](crate::conn::MptcpConnection::set_path_manager)):
    /// the subflows the new one wants are opened at once. Returns false if there is no such
    /// connection.
    pub fn set_path_manager(&mut self, conn: ConnectionHandle, choice: PathManagerChoice) -> bool {
        let Some(entry) = self.conns.get_mut(&conn.0) else {
            return false;
        };
        entry.conn.set_path_manager(choice.clone());
        Arc::make_mut(&mut entry.config).mptcp.path_manager = choice;
        self.open_requested_subflows(conn.0);
        true
    }

    /// A connection's path manager, if there is such a connection.
    pub fn path_manager(&self, conn: ConnectionHandle) -> Option<PathManagerChoice> {
        self.conns.get(&conn.0).map(|e| e.conn.path_manager())
    }

    /// Gives every subflow of a live connection, and those it opens later, a congestion
    /// controller from `factory` (see
    /// [`MptcpConnection::set_congestion_control`](crate::conn::MptcpConnection::set_congestion_control)).
    /// Returns false if there is no such connection.
    pub fn set_congestion_control(
        &mut self,
        conn: ConnectionHandle,
        factory: Arc<dyn CongestionControllerFactory>,
    ) -> bool {
        let now = self.now;
        let Some(entry) = self.conns.get_mut(&conn.0) else {
            return false;
        };
        entry.conn.set_congestion_control(now, &factory);
        Arc::make_mut(&mut entry.config).tcp.congestion_control = factory;
        true
    }

    /// Sets a live connection's limits on subflows beyond the first and on half-open joins
    /// (see [`MptcpConfig::max_subflows`](super::MptcpConfig::max_subflows)). Returns false
    /// if there is no such connection.
    pub fn set_limits(
        &mut self,
        conn: ConnectionHandle,
        max_subflows: usize,
        max_half_open_joins: usize,
    ) -> bool {
        let Some(entry) = self.conns.get_mut(&conn.0) else {
            return false;
        };
        entry.conn.set_limits(max_subflows, max_half_open_joins);
        let mptcp = &mut Arc::make_mut(&mut entry.config).mptcp;
        mptcp.max_subflows = max_subflows;
        mptcp.max_half_open_joins = max_half_open_joins;
        true
    }
}
