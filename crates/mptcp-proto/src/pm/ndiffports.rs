//! `ndiffports`: several subflows over one address pair, from different source ports.
//!
//! The seeds' kernel's `ndiffports` path manager (client only): once the connection is
//! established it opens subflows between the initial addresses, each from a new source
//! port, until `num_subflows` exist. Where the network spreads flows by a hash of their
//! 5-tuple (ECMP in a data centre), each subflow may take another path (Raiciu et al.,
//! "Improving datacenter performance and robustness with multipath TCP", SIGCOMM 2011).
//! Linux never had it.

use super::{PathManager, PmAction, PmContext, PmEvent};

/// Opens subflows on the initial address pair until there are `num_subflows`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NDiffPorts {
    num_subflows: u16,
}

impl NDiffPorts {
    /// The seeds' module parameter `num_subflows`: the subflows wanted on the initial pair,
    /// the initial one included (at least 1).
    pub fn new(num_subflows: u16) -> Self {
        Self {
            num_subflows: num_subflows.max(1),
        }
    }

    /// The subflows wanted, the initial one included.
    pub fn num_subflows(&self) -> u16 {
        self.num_subflows
    }
}

impl Default for NDiffPorts {
    /// The seeds' default: 2 subflows.
    fn default() -> Self {
        Self::new(2)
    }
}

impl PathManager for NDiffPorts {
    fn name(&self) -> &'static str {
        "ndiffports"
    }

    fn on_event(&mut self, ctx: &PmContext<'_>, event: &PmEvent) -> Vec<PmAction> {
        if !ctx.client || *event != PmEvent::Established {
            return Vec::new();
        }
        let (local, remote) = (ctx.initial.0.ip(), ctx.initial.1);
        let missing =
            usize::from(self.num_subflows).saturating_sub(ctx.live_between(local, remote));
        let backup = ctx.local(local).is_some_and(|l| l.backup);
        (0..missing)
            .map(|_| PmAction::OpenSubflow {
                local,
                remote,
                backup,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pm::{test_ctx, test_local, test_subflow};

    #[test]
    fn the_client_fills_the_initial_pair_up_to_num_subflows() {
        let locals = [test_local(0, "10.0.1.1"), test_local(2, "10.0.2.1")];
        let subflows = [test_subflow(0, "10.0.1.1:5000", "10.0.9.1:80")];
        let ctx = test_ctx(true, &locals, &[], &subflows);
        let actions = NDiffPorts::new(4).on_event(&ctx, &PmEvent::Established);
        assert_eq!(actions.len(), 3);
        for action in actions {
            assert_eq!(
                action,
                PmAction::OpenSubflow {
                    local: "10.0.1.1".parse().unwrap(),
                    remote: "10.0.9.1:80".parse().unwrap(),
                    backup: false
                }
            );
        }
        assert!(
            NDiffPorts::new(1)
                .on_event(&ctx, &PmEvent::Established)
                .is_empty()
        );
        // The server opens nothing.
        let server = test_ctx(false, &locals, &[], &subflows);
        assert!(
            NDiffPorts::new(4)
                .on_event(&server, &PmEvent::Established)
                .is_empty()
        );
        assert_eq!(NDiffPorts::new(0).num_subflows(), 1);
    }
}
