//! `ADDR/PREFIX` arguments (`--addr 10.1.1.2/24`): an address of the stack and the network it
//! routes into the TUN device.

use core::fmt;
use core::net::IpAddr;
use core::str::FromStr;

/// An address with its prefix length, e.g. `10.1.1.2/24` or `fd00:1:1::2/64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    /// The address (the stack's own).
    pub addr: IpAddr,
    /// Prefix length: at most 32 for IPv4, 128 for IPv6.
    pub prefix: u8,
}

impl Cidr {
    /// The network: the address with its host bits cleared, as `NET/PREFIX`
    /// (`10.1.1.2/24` gives `10.1.1.0/24`), the form `ip route` accepts.
    pub fn network(&self) -> String {
        let net: IpAddr = match self.addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u32::from(a) & mask).to_be_bytes().into()
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u128::from(a) & mask).to_be_bytes().into()
            }
        };
        format!("{net}/{}", self.prefix)
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (addr, prefix) = text.split_once('/').ok_or_else(|| {
            format!("{text:?} needs a prefix length: ADDR/PREFIX, like 10.1.1.2/24")
        })?;
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IPv4 or IPv6 address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix
            .parse::<u8>()
            .ok()
            .filter(|&p| p <= max)
            .ok_or_else(|| format!("prefix length {prefix:?} is not 0 to {max}"))?;
        if addr.is_unspecified() || addr.is_multicast() {
            return Err(format!("{addr} cannot be an address of the stack"));
        }
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_clear_the_host_bits() {
        let c: Cidr = "10.1.1.2/24".parse().unwrap();
        assert_eq!(c.network(), "10.1.1.0/24");
        assert_eq!(c.to_string(), "10.1.1.2/24");
        let c: Cidr = "fd00:1:1::2/64".parse().unwrap();
        assert_eq!(c.network(), "fd00:1:1::/64");
        let c: Cidr = "192.168.7.9/32".parse().unwrap();
        assert_eq!(c.network(), "192.168.7.9/32");
        let c: Cidr = "192.168.7.9/0".parse().unwrap();
        assert_eq!(c.network(), "0.0.0.0/0");
    }

    #[test]
    fn bad_addresses_say_why() {
        let err = |s: &str| s.parse::<Cidr>().unwrap_err();
        assert!(err("10.1.1.2").contains("prefix length"));
        assert!(err("10.1.1.2/33").contains("0 to 32"));
        assert!(err("fd00::1/129").contains("0 to 128"));
        assert!(err("host/24").contains("not an IPv4 or IPv6"));
        assert!(err("0.0.0.0/8").contains("cannot be"));
    }
}
