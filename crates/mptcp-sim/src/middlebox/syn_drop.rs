//! A middlebox that drops SYNs carrying a TCP option, as firewalls that refuse unknown
//! options do (RFC 8684 §3.7 / Honda et al., "Is it still possible to extend TCP?", IMC
//! 2011: some paths drop SYNs with MP_CAPABLE). Connections get through only if the client
//! tries again without the option.

use mptcp_proto::time::Instant;
use mptcp_proto::wire::{IpProtocol, TcpFlags, TcpPacket, parse_ip_packet};

use super::{Direction, Middlebox, Verdict, for_each_option};

/// Drops every SYN (not SYN/ACK) that carries an option of one kind, in both directions.
#[derive(Debug, Clone)]
pub struct SynDropper {
    kind: u8,
    dropped: u64,
}

impl SynDropper {
    /// A dropper of SYNs with options of `kind` (30: MPTCP).
    pub fn new(kind: u8) -> Self {
        Self { kind, dropped: 0 }
    }

    /// How many SYNs it has dropped.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Whether `packet` is a SYN with an option of our kind.
    fn matches(&self, packet: &[u8]) -> bool {
        let Ok(ip) = parse_ip_packet(packet) else {
            return false;
        };
        if ip.protocol != IpProtocol::TCP || ip.fragment.is_some() {
            return false;
        }
        let Ok(tcp) = TcpPacket::new_checked(ip.payload) else {
            return false;
        };
        let flags = tcp.flags();
        if !flags.contains(TcpFlags::SYN) || flags.contains(TcpFlags::ACK) {
            return false;
        }
        let mut found = false;
        for_each_option(tcp.options(), |kind, _, _| found |= kind == self.kind);
        found
    }
}

impl Middlebox for SynDropper {
    fn process(&mut self, _now: Instant, _direction: Direction, packet: &mut [u8]) -> Verdict {
        if self.matches(packet) {
            self.dropped += 1;
            Verdict::Drop
        } else {
            Verdict::Forward
        }
    }
}
