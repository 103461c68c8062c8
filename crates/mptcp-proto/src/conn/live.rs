//! What an application changes on a live connection (draft-scharf-mptcp-api REQ11, REQ13:
//! a connection's policies set while it runs): its scheduler, path manager, congestion
//! control and limits. Each takes effect at once; what the connection already did stays.

use std::sync::Arc;

use super::MptcpConnection;
use crate::cc::CongestionControllerFactory;
use crate::pm::PathManagerChoice;
use crate::sched::SchedulerChoice;
use crate::time::Instant;

impl MptcpConnection {
    /// Replaces the connection's scheduler with a fresh copy of `choice`; it decides where
    /// every segment goes from the next one on. Data already handed to subflows stays where
    /// it is.
    pub fn set_scheduler(&mut self, choice: &SchedulerChoice) {
        self.sched = choice.build();
    }

    /// The name of the connection's scheduler.
    pub fn scheduler(&self) -> &'static str {
        self.sched.name()
    }

    /// Replaces the connection's path manager. If the connection is established, the new
    /// one hears it at once, and every address the peer announced, so it opens and
    /// announces what it would have; it sees the subflows already open, which stay.
    pub fn set_path_manager(&mut self, choice: PathManagerChoice) {
        self.pm = choice.build();
        self.pm_choice = choice;
        self.pm_timer = None;
        if self.pm_started {
            self.start_path_manager();
        }
    }

    /// The connection's path manager.
    pub fn path_manager(&self) -> PathManagerChoice {
        self.pm_choice.clone()
    }

    /// Gives every subflow a new congestion controller from `factory`, and the subflows
    /// opened later too. Each starts from the controller's initial state (its initial
    /// window, in slow start), as Linux's `TCP_CONGESTION` on an open socket re-initialises
    /// the controller.
    pub fn set_congestion_control(
        &mut self,
        now: Instant,
        factory: &Arc<dyn CongestionControllerFactory>,
    ) {
        for sf in self.subflows.iter_mut().filter(|s| !s.is_closed()) {
            sf.tcp.set_congestion_control(now, factory);
        }
    }

    /// Sets the most subflows beyond the first and the most half-open joins (see
    /// [`MptcpConfig::max_subflows`](super::MptcpConfig::max_subflows)): joins beyond them
    /// are refused from now on; subflows already open stay.
    pub fn set_limits(&mut self, max_subflows: usize, max_half_open_joins: usize) {
        self.max_subflows = max_subflows;
        self.max_half_open_joins = max_half_open_joins;
    }
}
