//! `simple`: a partial mesh, and the stack's default. The client opens one subflow from
//! each of its other addresses to the server's initial address, and one from its initial
//! address to each address the server announces (RFC 8684 §3.4.1); the server announces
//! its other addresses. Addresses of the other family than the initial subflow's are left
//! alone, and so are addresses that come and go while the connection runs (see
//! [`FullMesh`](super::FullMesh) for a manager that follows them).

use core::net::{IpAddr, SocketAddr};

use super::{LocalAddr, PathManager, PmAction, PmContext, PmEvent};

/// The client joins from its other addresses and to announced ones; the server announces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Simple;

impl Simple {
    /// Our addresses other than the initial one (id 0), of the initial subflow's family.
    fn other_locals<'a>(ctx: &'a PmContext<'_>) -> impl Iterator<Item = &'a LocalAddr> + 'a {
        let v4 = ctx.initial.0.is_ipv4();
        ctx.local_addrs
            .iter()
            .filter(move |l| l.id != 0 && l.addr.is_ipv4() == v4)
    }

    /// A subflow from `local` to `remote`, unless one is open or opening.
    fn open(ctx: &PmContext<'_>, local: IpAddr, remote: SocketAddr, out: &mut Vec<PmAction>) {
        if ctx.live_between(local, remote) == 0 && local.is_ipv4() == remote.is_ipv4() {
            let backup = ctx.local(local).is_some_and(|l| l.backup);
            out.push(PmAction::OpenSubflow {
                local,
                remote,
                backup,
            });
        }
    }
}

impl PathManager for Simple {
    fn name(&self) -> &'static str {
        "simple"
    }

    fn on_event(&mut self, ctx: &PmContext<'_>, event: &PmEvent) -> Vec<PmAction> {
        let mut actions = Vec::new();
        match (ctx.client, event) {
            (true, PmEvent::Established) => {
                for local in Self::other_locals(ctx) {
                    Self::open(ctx, local.addr, ctx.initial.1, &mut actions);
                }
            }
            (false, PmEvent::Established) => {
                actions.extend(
                    Self::other_locals(ctx)
                        .filter(|l| !ctx.announced.contains(&l.id))
                        .map(|l| PmAction::Announce {
                            id: l.id,
                            addr: l.addr,
                            port: None,
                        }),
                );
            }
            (true, PmEvent::AddressAnnounced(remote)) => {
                let initial = ctx.initial.0.ip();
                if ctx.local(initial).is_some() {
                    Self::open(ctx, initial, ctx.endpoint_of(remote), &mut actions);
                }
            }
            _ => {}
        }
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pm::{RemoteAddr, test_ctx, test_local, test_subflow};

    #[test]
    fn the_client_joins_from_its_other_addresses_and_to_announced_ones() {
        let locals = [
            test_local(0, "10.0.1.1"),
            test_local(2, "10.0.2.1"),
            test_local(3, "fd00::1"),
        ];
        let subflows = [test_subflow(0, "10.0.1.1:5000", "10.0.9.1:80")];
        let c = test_ctx(true, &locals, &[], &subflows);
        assert_eq!(
            Simple.on_event(&c, &PmEvent::Established),
            [PmAction::OpenSubflow {
                local: locals[1].addr,
                remote: "10.0.9.1:80".parse().unwrap(),
                backup: false
            }]
        );
        let announced = RemoteAddr {
            id: 1,
            addr: "10.0.8.1".parse().unwrap(),
            port: None,
        };
        assert_eq!(
            Simple.on_event(&c, &PmEvent::AddressAnnounced(announced)),
            [PmAction::OpenSubflow {
                local: locals[0].addr,
                remote: "10.0.8.1:80".parse().unwrap(),
                backup: false
            }]
        );
        // A server announces instead, and ignores announcements.
        let s = test_ctx(false, &locals, &[], &subflows);
        assert_eq!(
            Simple.on_event(&s, &PmEvent::Established),
            [PmAction::Announce {
                id: 2,
                addr: locals[1].addr,
                port: None
            }]
        );
        assert!(
            Simple
                .on_event(&s, &PmEvent::AddressAnnounced(announced))
                .is_empty()
        );
    }

    #[test]
    fn what_is_open_is_not_opened_again() {
        let locals = [test_local(0, "10.0.1.1"), test_local(2, "10.0.2.1")];
        let subflows = [
            test_subflow(0, "10.0.1.1:5000", "10.0.9.1:80"),
            test_subflow(1, "10.0.2.1:6000", "10.0.9.1:80"),
        ];
        let c = test_ctx(true, &locals, &[], &subflows);
        assert!(Simple.on_event(&c, &PmEvent::Established).is_empty());
    }
}
