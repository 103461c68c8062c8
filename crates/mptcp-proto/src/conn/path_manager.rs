//! The connection's side of its path manager (see [`crate::pm`]): what the manager sees,
//! what it hears and when, and how its answers are carried out.

use core::net::IpAddr;

use super::subflow::{Join, Subflow};
use super::{Mode, MptcpConnection, SubflowRequest};
use crate::pm::{LocalAddr, PmAction, PmContext, PmEvent, PmSubflow, PmSubflowState};
use crate::tcp::{CloseReason, TcpState};
use crate::time::Instant;

impl Subflow {
    /// What a path manager sees of this subflow.
    pub(super) fn pm_view(&self) -> PmSubflow {
        let state = if self.retired || self.is_closed() || self.tcp.state() == TcpState::TimeWait {
            PmSubflowState::Closing
        } else if self.join != Join::Done || !self.tcp.state().is_synchronized() {
            PmSubflowState::Opening
        } else {
            PmSubflowState::Established
        };
        PmSubflow {
            id: self.id,
            local: self.tcp.local_addr(),
            remote: self.tcp.peer_addr(),
            local_id: self.local_id,
            remote_id: self.remote_id,
            state,
            backup: self.backup,
        }
    }
}

impl MptcpConnection {
    /// Tells the path manager that the connection is established, then every address the
    /// peer announced (Linux's server sends its ADD_ADDR on a pure ACK without DSS, which
    /// can come before the DSS that makes our client's connection fully established).
    pub(super) fn start_path_manager(&mut self) {
        self.pm_started = true;
        self.pm_hear(PmEvent::Established);
        for announced in self.remote_addrs.clone() {
            self.pm_hear(PmEvent::AddressAnnounced(announced));
        }
    }

    /// The path manager hears `event` (once it has heard that the connection is
    /// established), and its answers are carried out.
    pub(super) fn pm_hear(&mut self, event: PmEvent) {
        if !self.pm_started || self.mode != Mode::Mptcp || self.close_reason.is_some() {
            return;
        }
        let subflows: Vec<PmSubflow> = self.subflows.iter().map(Subflow::pm_view).collect();
        let ctx = PmContext {
            now: self.now,
            client: self.role == super::Role::Client,
            initial: self.first,
            local_addrs: &self.local_addrs,
            remote_addrs: &self.remote_addrs,
            subflows: &subflows,
            announced: &self.signals.announced,
            initial_remote_withdrawn: self.initial_remote_withdrawn,
        };
        let actions = self.pm.on_event(&ctx, &event);
        for action in actions {
            self.pm_act(action);
        }
    }

    fn pm_act(&mut self, action: PmAction) {
        match action {
            PmAction::OpenSubflow {
                local,
                remote,
                backup,
            } => self.requests.push_back(SubflowRequest {
                local,
                remote,
                backup,
            }),
            PmAction::CloseSubflow(subflow) => {
                self.close_subflow(subflow);
            }
            PmAction::Announce { id, addr, port } => {
                let _ = self.announce_with_port(id, addr, port);
            }
            PmAction::Withdraw(id) => self.withdraw(id),
            PmAction::SetBackup { subflow, backup } => {
                self.set_backup(subflow, backup);
            }
            PmAction::WakeAt(at) => self.pm_timer = Some(at),
        }
    }

    /// The path manager's timer, if it asked for one.
    pub(super) fn pm_timeout(&self) -> Option<Instant> {
        self.pm_timer
    }

    /// Runs the path manager's timer if it is due.
    pub(super) fn pm_on_time(&mut self, now: Instant) {
        if self.pm_timer.is_some_and(|at| at <= now) {
            self.pm_timer = None;
            self.pm_hear(PmEvent::Timer);
        }
    }

    /// The host gained address `addr`: the connection may use it (the path manager decides).
    pub(crate) fn local_address_added(&mut self, addr: LocalAddr) {
        if self.local_addrs.iter().any(|l| l.addr == addr.addr) {
            return;
        }
        self.local_addrs.push(addr);
        self.pm_hear(PmEvent::LocalAddressAdded(addr));
    }

    /// The host lost address `addr`: its subflows can send nothing more, so they close at
    /// once (no RST can leave from an address we no longer have) and their data moves to
    /// the others; if a subflow used it or it was announced, REMOVE_ADDR tells the peer
    /// (as Linux does), so that it closes its side at once. Then the path manager hears it
    /// (after the `SubflowClosed` of each of its subflows).
    pub(crate) fn local_address_removed(&mut self, addr: IpAddr) {
        let Some(position) = self.local_addrs.iter().position(|l| l.addr == addr) else {
            return;
        };
        let gone = self.local_addrs.remove(position);
        let mut used = false;
        for index in 0..self.subflows.len() {
            let sf = &self.subflows[index];
            if sf.tcp.local_addr().ip() != addr || sf.is_closed() {
                continue;
            }
            used = true;
            self.reinject_from(index);
            let sf = &mut self.subflows[index];
            sf.retired = true;
            sf.tcp.set_closed(CloseReason::Aborted);
            self.process_subflow(index);
        }
        if used || self.signals.announced.contains(&gone.id) {
            self.withdraw(gone.id);
        }
        self.pm_hear(PmEvent::LocalAddressRemoved(gone));
    }
}
