//! `default` and `userspace`: nothing automatic.
//!
//! The seeds' kernel's `default` path manager opens no subflow and announces no address;
//! subflows the peer opens are accepted (up to the limits). Linux's `userspace` path
//! manager does the same on its own, leaving every decision to a program: here that
//! program is the application, which opens, closes and announces through the stack's
//! calls (`Stack::open_subflow`, `close_subflow`, `announce_address`, `remove_address`,
//! `set_backup`) as it hears the connection's events.

use super::{PathManager, PmAction, PmContext, PmEvent};

/// Announces nothing, opens nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passive {
    name: &'static str,
}

impl Passive {
    /// The seeds' `default`.
    pub const DEFAULT: Self = Self { name: "default" };
    /// Linux's `userspace`: the application drives.
    pub const USERSPACE: Self = Self { name: "userspace" };
}

impl Default for Passive {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl PathManager for Passive {
    fn name(&self) -> &'static str {
        self.name
    }

    fn on_event(&mut self, _ctx: &PmContext<'_>, _event: &PmEvent) -> Vec<PmAction> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pm::{RemoteAddr, test_ctx, test_local};

    #[test]
    fn nothing_happens_whatever_is_heard() {
        let locals = [test_local(0, "10.0.1.1"), test_local(2, "10.0.2.1")];
        let remote = RemoteAddr {
            id: 1,
            addr: "10.0.8.1".parse().unwrap(),
            port: None,
        };
        for client in [true, false] {
            let ctx = test_ctx(client, &locals, &[], &[]);
            for event in [
                PmEvent::Established,
                PmEvent::AddressAnnounced(remote),
                PmEvent::LocalAddressAdded(locals[1]),
            ] {
                for mut manager in [Passive::DEFAULT, Passive::USERSPACE] {
                    assert!(manager.on_event(&ctx, &event).is_empty());
                }
            }
        }
    }
}
