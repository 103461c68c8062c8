//! IP protocol numbers, on their own so that both the IP headers and the checksums (whose
//! pseudo-header names the protocol) can use them.

use core::fmt;

/// An IP protocol number / IPv6 next-header value (IANA "Assigned Internet Protocol
/// Numbers").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// IPv6 Hop-by-Hop Options (RFC 8200 §4.3).
    pub const HOP_BY_HOP: Self = Self(0);
    /// ICMP (RFC 792).
    pub const ICMP: Self = Self(1);
    /// TCP (RFC 9293).
    pub const TCP: Self = Self(6);
    /// UDP (RFC 768).
    pub const UDP: Self = Self(17);
    /// IPv6 Routing header (RFC 8200 §4.4).
    pub const IPV6_ROUTE: Self = Self(43);
    /// IPv6 Fragment header (RFC 8200 §4.5).
    pub const IPV6_FRAG: Self = Self(44);
    /// ICMPv6 (RFC 4443).
    pub const ICMPV6: Self = Self(58);
    /// IPv6 "no next header" (RFC 8200 §4.7).
    pub const IPV6_NO_NEXT: Self = Self(59);
    /// IPv6 Destination Options (RFC 8200 §4.6).
    pub const IPV6_OPTS: Self = Self(60);

    /// The usual short name, if this code knows one.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::HOP_BY_HOP => "HOPOPT",
            Self::ICMP => "ICMP",
            Self::TCP => "TCP",
            Self::UDP => "UDP",
            Self::IPV6_ROUTE => "IPv6-Route",
            Self::IPV6_FRAG => "IPv6-Frag",
            Self::ICMPV6 => "ICMPv6",
            Self::IPV6_NO_NEXT => "IPv6-NoNxt",
            Self::IPV6_OPTS => "IPv6-Opts",
            _ => return None,
        })
    }
}

/// The name (`TCP`), or the number for protocols without a known name.
impl fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.0),
        }
    }
}
