//! [`IfAddr`]: an interface address with its prefix length, as `ip addr` takes it.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An address and prefix length, e.g. `10.0.1.1/24` or `fd00:0:1::1/64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IfAddr {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length (0–32 for IPv4, 0–128 for IPv6).
    pub prefix: u8,
}

impl IfAddr {
    /// `addr/prefix`; panics if the prefix is too long for the family.
    pub fn new(addr: impl Into<IpAddr>, prefix: u8) -> Self {
        let addr = addr.into();
        assert!(
            prefix <= max_prefix(addr),
            "prefix /{prefix} too long for {addr}"
        );
        IfAddr { addr, prefix }
    }

    /// Whether this is an IPv6 address.
    pub fn is_ipv6(&self) -> bool {
        self.addr.is_ipv6()
    }

    /// The network this address is in, as `network/prefix` text.
    pub fn network(&self) -> String {
        let net = match self.addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::from((u32::from(a) & mask).to_be_bytes())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::from((u128::from(a) & mask).to_be_bytes())
            }
        };
        format!("{net}/{}", self.prefix)
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

impl fmt::Display for IfAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for IfAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: expected ADDRESS/PREFIX"))?;
        let addr: IpAddr = addr.parse().map_err(|e| format!("{s:?}: {e}"))?;
        let prefix: u8 = prefix.parse().map_err(|e| format!("{s:?}: prefix: {e}"))?;
        if prefix > max_prefix(addr) {
            return Err(format!("{s:?}: prefix too long"));
        }
        Ok(IfAddr { addr, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_both_families() {
        for text in ["10.0.1.1/24", "fd00:0:1::1/64"] {
            assert_eq!(text.parse::<IfAddr>().unwrap().to_string(), text);
        }
        assert!("10.0.1.1".parse::<IfAddr>().is_err());
        assert!("10.0.1.1/33".parse::<IfAddr>().is_err());
        assert!("fd00::1/129".parse::<IfAddr>().is_err());
    }

    #[test]
    fn network_masks_host_bits() {
        assert_eq!(
            "10.1.2.77/24".parse::<IfAddr>().unwrap().network(),
            "10.1.2.0/24"
        );
        assert_eq!(
            "fd00:1:2::2/64".parse::<IfAddr>().unwrap().network(),
            "fd00:1:2::/64"
        );
        assert_eq!(
            "10.1.2.77/0".parse::<IfAddr>().unwrap().network(),
            "0.0.0.0/0"
        );
    }
}
