//! A middlebox that strips a TCP option, as firewalls that drop unknown options do.

use mptcp_proto::time::Instant;

use mptcp_proto::wire::option_kind;

use super::{Direction, Middlebox, Verdict, copy_options, edit_tcp, for_each_option};

/// Overwrites every TCP option of one kind with NOP options (kind 1), in both directions,
/// keeping the header length. `OptionStripper::new(30)` removes MPTCP, which makes the
/// endpoints fall back to plain TCP; [`starting_after`](Self::starting_after) lets the
/// first packets through untouched, like a path that changes mid-connection.
#[derive(Debug, Clone)]
pub struct OptionStripper {
    kind: u8,
    stripped: u64,
    /// Packets to let through untouched before stripping.
    after: u64,
    /// Packets seen (both directions).
    seen: u64,
}

impl OptionStripper {
    /// A stripper of options of `kind`.
    pub fn new(kind: u8) -> Self {
        Self::starting_after(kind, 0)
    }

    /// A stripper of options of `kind` that lets the first `packets` packets (both
    /// directions together) through untouched.
    pub fn starting_after(kind: u8, packets: u64) -> Self {
        Self {
            kind,
            stripped: 0,
            after: packets,
            seen: 0,
        }
    }

    /// How many options it has stripped.
    pub fn stripped(&self) -> u64 {
        self.stripped
    }
}

impl Middlebox for OptionStripper {
    fn process(&mut self, _now: Instant, _direction: Direction, packet: &mut [u8]) -> Verdict {
        self.seen += 1;
        if self.seen <= self.after {
            return Verdict::Forward;
        }
        let kind = self.kind;
        let stripped = edit_tcp(packet, |_, tcp| {
            let (copy, len) = copy_options(tcp.options());
            let options = tcp.options_mut();
            let mut stripped = 0;
            for_each_option(&copy[..len], |k, at, len| {
                if k == kind {
                    options[at..at + len].fill(option_kind::NO_OPERATION);
                    stripped += 1;
                }
            });
            stripped
        });
        self.stripped += stripped.unwrap_or(0);
        Verdict::Forward
    }
}
