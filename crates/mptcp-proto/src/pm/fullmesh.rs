//! `fullmesh`: a subflow between every usable local address and every known remote
//! address, following both as they come and go.
//!
//! After the seeds' kernel (multipath-tcp.org v0.9x `mptcp_fullmesh`, summarised in
//! REFERENCES.md §5):
//! - the host's usable addresses are its addresses but loopback and link-local ones; an
//!   address of a backup interface gives backup subflows;
//! - client: once established, `num_subflows` subflows on every pair of a local address
//!   and a known remote address of the same family (the initial subflow counts for the
//!   initial pair); each announced address adds its pairs;
//! - server: announces its other addresses and opens nothing;
//! - an address that appears is announced (server) and used (client); one that goes away
//!   is withdrawn (the connection closes its subflows, moves their data and sends
//!   REMOVE_ADDR); when it comes back its pairs are opened again;
//! - a pair is tried once: a subflow that failed is not opened again, except that with
//!   `create_on_err` one that timed out is re-created after a second;
//! - an ADD_ADDR that gives a known address id a new address (a NAT rebinding): the
//!   connection reports the old one removed and the new one announced, so the pairs move.

use core::net::{IpAddr, SocketAddr};

use super::{LocalAddr, PathManager, PmAction, PmContext, PmEvent, RETRY_AFTER};
use crate::tcp::CloseReason;

/// A full mesh of subflows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullMesh {
    num_subflows: u16,
    create_on_err: bool,
    /// Pairs already opened (or tried): not opened again unless forgotten.
    tried: Vec<(IpAddr, SocketAddr)>,
    /// Pairs to try again when the timer fires (`create_on_err`).
    retry: Vec<(IpAddr, SocketAddr)>,
}

impl FullMesh {
    /// The seeds' module parameters: `num_subflows` per address pair (at least 1), and
    /// `create_on_err`, re-creating subflows that timed out.
    pub fn new(num_subflows: u16, create_on_err: bool) -> Self {
        Self {
            num_subflows: num_subflows.max(1),
            create_on_err,
            tried: Vec::new(),
            retry: Vec::new(),
        }
    }

    /// Subflows per address pair.
    pub fn num_subflows(&self) -> u16 {
        self.num_subflows
    }

    /// Whether subflows that timed out are re-created.
    pub fn create_on_err(&self) -> bool {
        self.create_on_err
    }

    /// Whether a path manager should use `addr`: not loopback, not link-local.
    pub fn usable(addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => !a.is_loopback() && !a.is_link_local() && !a.is_unspecified(),
            IpAddr::V6(a) => {
                !a.is_loopback() && !a.is_unspecified() && (a.segments()[0] & 0xffc0) != 0xfe80
            }
        }
    }

    /// Opens what the mesh lacks on the pairs not tried yet (client only).
    fn fill(&mut self, ctx: &PmContext<'_>, actions: &mut Vec<PmAction>) {
        if !ctx.client {
            return;
        }
        for local in ctx.local_addrs.iter().filter(|l| Self::usable(l.addr)) {
            for (_, remote) in ctx.remote_endpoints() {
                self.fill_pair(ctx, local, remote, actions);
            }
        }
    }

    fn fill_pair(
        &mut self,
        ctx: &PmContext<'_>,
        local: &LocalAddr,
        remote: SocketAddr,
        actions: &mut Vec<PmAction>,
    ) {
        let pair = (local.addr, remote);
        if local.addr.is_ipv4() != remote.is_ipv4() || self.tried.contains(&pair) {
            return;
        }
        self.tried.push(pair);
        let missing =
            usize::from(self.num_subflows).saturating_sub(ctx.live_between(pair.0, remote));
        actions.extend((0..missing).map(|_| PmAction::OpenSubflow {
            local: local.addr,
            remote,
            backup: local.backup,
        }));
    }

    /// Forgets the pairs `which` selects, so that they are opened again when asked.
    fn forget(&mut self, which: impl Fn(&(IpAddr, SocketAddr)) -> bool) {
        self.tried.retain(|p| !which(p));
        self.retry.retain(|p| !which(p));
    }

    /// Announces our usable addresses not announced yet, but the initial one (server).
    fn announce(ctx: &PmContext<'_>, actions: &mut Vec<PmAction>) {
        if ctx.client {
            return;
        }
        actions.extend(
            ctx.local_addrs
                .iter()
                .filter(|l| l.id != 0 && Self::usable(l.addr))
                .filter(|l| !ctx.announced.contains(&l.id))
                .map(|l| PmAction::Announce {
                    id: l.id,
                    addr: l.addr,
                    port: None,
                }),
        );
    }
}

impl Default for FullMesh {
    /// The seeds' defaults: one subflow per pair, no re-creation.
    fn default() -> Self {
        Self::new(1, false)
    }
}

impl PathManager for FullMesh {
    fn name(&self) -> &'static str {
        "fullmesh"
    }

    fn on_event(&mut self, ctx: &PmContext<'_>, event: &PmEvent) -> Vec<PmAction> {
        let mut actions = Vec::new();
        match *event {
            PmEvent::Established | PmEvent::LocalAddressAdded(_) => {
                Self::announce(ctx, &mut actions);
                self.fill(ctx, &mut actions);
            }
            PmEvent::AddressAnnounced(_) => self.fill(ctx, &mut actions),
            PmEvent::AddressRemoved(remote) => {
                // The pairs to it are gone; if the peer announces it again, they reopen.
                let gone = ctx.endpoint_of(&remote);
                self.forget(|p| p.1 == gone);
            }
            PmEvent::LocalAddressRemoved(local) => {
                // (The connection sent REMOVE_ADDR.) When it returns, its pairs reopen.
                self.forget(|p| p.0 == local.addr);
            }
            PmEvent::SubflowClosed { subflow, reason } => {
                let pair = (subflow.local.ip(), subflow.remote);
                if self.create_on_err && reason == CloseReason::TimedOut && ctx.client {
                    if !self.retry.contains(&pair) {
                        self.retry.push(pair);
                    }
                    actions.push(PmAction::WakeAt(ctx.now + RETRY_AFTER));
                }
            }
            PmEvent::Timer => {
                for pair in core::mem::take(&mut self.retry) {
                    self.tried.retain(|p| *p != pair);
                    let known = ctx.remote_endpoints().any(|(_, r)| r == pair.1);
                    if let (Some(local), true) = (ctx.local(pair.0).copied(), known) {
                        self.fill_pair(ctx, &local, pair.1, &mut actions);
                    }
                }
            }
            PmEvent::SubflowEstablished(_) => {}
        }
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pm::{
        PmSubflowState, RemoteAddr, test_ctx, test_local, test_open as open, test_subflow,
    };

    #[test]
    fn the_client_opens_every_pair_of_its_family_and_backup_interfaces_give_backups() {
        let mut locals = [
            test_local(0, "10.0.1.1"),
            test_local(2, "10.0.2.1"),
            test_local(3, "127.0.0.1"),
            test_local(4, "fd00::1"),
        ];
        locals[1].backup = true;
        let remotes = [RemoteAddr {
            id: 5,
            addr: "10.0.8.1".parse().unwrap(),
            port: None,
        }];
        let subflows = [test_subflow(0, "10.0.1.1:5000", "10.0.9.1:80")];
        let ctx = test_ctx(true, &locals, &remotes, &subflows);
        let mut mesh = FullMesh::default();
        assert_eq!(
            mesh.on_event(&ctx, &PmEvent::Established),
            [
                open("10.0.1.1", "10.0.8.1:80", false),
                open("10.0.2.1", "10.0.9.1:80", true),
                open("10.0.2.1", "10.0.8.1:80", true),
            ]
        );
        // Heard again: nothing more (each pair is tried once).
        assert!(mesh.on_event(&ctx, &PmEvent::Established).is_empty());
    }

    #[test]
    fn num_subflows_per_pair_counts_the_initial_subflow() {
        let locals = [test_local(0, "10.0.1.1"), test_local(2, "10.0.2.1")];
        let subflows = [test_subflow(0, "10.0.1.1:5000", "10.0.9.1:80")];
        let ctx = test_ctx(true, &locals, &[], &subflows);
        let actions = FullMesh::new(2, false).on_event(&ctx, &PmEvent::Established);
        assert_eq!(
            actions,
            [
                open("10.0.1.1", "10.0.9.1:80", false),
                open("10.0.2.1", "10.0.9.1:80", false),
                open("10.0.2.1", "10.0.9.1:80", false),
            ]
        );
    }

    #[test]
    fn the_server_announces_its_other_addresses_once_and_opens_nothing() {
        let locals = [test_local(0, "10.0.1.1"), test_local(2, "10.0.2.1")];
        let subflows = [test_subflow(0, "10.0.1.1:80", "10.0.9.1:5000")];
        let mut ctx = test_ctx(false, &locals, &[], &subflows);
        let mut mesh = FullMesh::default();
        let announce = PmAction::Announce {
            id: 2,
            addr: "10.0.2.1".parse().unwrap(),
            port: None,
        };
        assert_eq!(mesh.on_event(&ctx, &PmEvent::Established), [announce]);
        ctx.announced = &[2];
        assert!(mesh.on_event(&ctx, &PmEvent::Established).is_empty());
    }

    #[test]
    fn an_address_that_goes_is_withdrawn_and_reopened_when_it_comes_back() {
        let locals = [test_local(0, "10.0.1.1"), test_local(2, "10.0.2.1")];
        let subflows = [test_subflow(0, "10.0.1.1:5000", "10.0.9.1:80")];
        let mut mesh = FullMesh::default();
        let ctx = test_ctx(true, &locals, &[], &subflows);
        assert_eq!(mesh.on_event(&ctx, &PmEvent::Established).len(), 1);
        let gone = test_ctx(true, &locals[..1], &[], &subflows);
        assert!(
            mesh.on_event(&gone, &PmEvent::LocalAddressRemoved(locals[1]))
                .is_empty()
        );
        assert_eq!(
            mesh.on_event(&ctx, &PmEvent::LocalAddressAdded(locals[1])),
            [open("10.0.2.1", "10.0.9.1:80", false)]
        );
    }

    #[test]
    fn create_on_err_reopens_a_timed_out_subflow_a_second_later() {
        let locals = [test_local(0, "10.0.1.1"), test_local(2, "10.0.2.1")];
        let initial = [test_subflow(0, "10.0.1.1:5000", "10.0.9.1:80")];
        let ctx = test_ctx(true, &locals, &[], &initial);
        let mut dead = test_subflow(1, "10.0.2.1:6000", "10.0.9.1:80");
        dead.state = PmSubflowState::Closing;
        let timed_out = PmEvent::SubflowClosed {
            subflow: dead,
            reason: CloseReason::TimedOut,
        };
        for create_on_err in [false, true] {
            let mut mesh = FullMesh::new(1, create_on_err);
            assert_eq!(mesh.on_event(&ctx, &PmEvent::Established).len(), 1);
            let wake = mesh.on_event(&ctx, &timed_out);
            let reopened = mesh.on_event(&ctx, &PmEvent::Timer);
            if create_on_err {
                assert_eq!(wake, [PmAction::WakeAt(ctx.now + RETRY_AFTER)]);
                assert_eq!(reopened, [open("10.0.2.1", "10.0.9.1:80", false)]);
            } else {
                assert!(wake.is_empty() && reopened.is_empty());
            }
            // A reset is not retried either way.
            let reset = PmEvent::SubflowClosed {
                subflow: dead,
                reason: CloseReason::Reset,
            };
            assert!(mesh.on_event(&ctx, &reset).is_empty());
        }
    }

    #[test]
    fn a_known_id_with_a_new_address_moves_its_pairs() {
        let locals = [test_local(0, "10.0.1.1")];
        let old = RemoteAddr {
            id: 5,
            addr: "10.0.8.1".parse().unwrap(),
            port: None,
        };
        let new = RemoteAddr {
            addr: "10.0.7.1".parse().unwrap(),
            ..old
        };
        let subflows = [test_subflow(0, "10.0.1.1:5000", "10.0.9.1:80")];
        let mut mesh = FullMesh::default();
        let before = [old];
        let ctx = test_ctx(true, &locals, &before, &subflows);
        assert_eq!(
            mesh.on_event(&ctx, &PmEvent::Established),
            [open("10.0.1.1", "10.0.8.1:80", false)]
        );
        // The connection reports the change as the old address removed, the new announced.
        let ctx = test_ctx(true, &locals, &[], &subflows);
        assert!(
            mesh.on_event(&ctx, &PmEvent::AddressRemoved(old))
                .is_empty()
        );
        let after = [new];
        let ctx = test_ctx(true, &locals, &after, &subflows);
        assert_eq!(
            mesh.on_event(&ctx, &PmEvent::AddressAnnounced(new)),
            [open("10.0.1.1", "10.0.7.1:80", false)]
        );
        // Back to the old address: its pair was forgotten, so it opens again.
        let ctx = test_ctx(true, &locals, &before, &subflows);
        assert!(
            mesh.on_event(&ctx, &PmEvent::AddressRemoved(new))
                .is_empty()
        );
        assert_eq!(
            mesh.on_event(&ctx, &PmEvent::AddressAnnounced(old)),
            [open("10.0.1.1", "10.0.8.1:80", false)]
        );
    }

    #[test]
    fn loopback_and_link_local_addresses_are_not_used() {
        for addr in ["127.0.0.1", "169.254.1.1", "fe80::1", "::1"] {
            assert!(!FullMesh::usable(addr.parse().unwrap()), "{addr}");
        }
        for addr in ["10.0.0.1", "fd00::1", "2001:db8::1"] {
            assert!(FullMesh::usable(addr.parse().unwrap()), "{addr}");
        }
    }
}
