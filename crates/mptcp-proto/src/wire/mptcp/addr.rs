//! ADD_ADDR in its two versions: v1 (RFC 8684 §3.4.1) with the E flag and a truncated HMAC,
//! and v0 (RFC 6824 §3.4.1) with the IP version in the low nibble of the subtype byte.
//!
//! Both are: subtype byte, address id, address (4 or 16 bytes), optional port (2 bytes), and
//! in v1 an optional truncated HMAC (8 bytes). Which optional fields are present is told by
//! the length.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::codec::{Frame, subtype_byte};
use super::subtype::ADD_ADDR;
use super::{AddAddr, AddAddrV0};
use crate::wire::WireError;
use crate::wire::field::{Reader, Writer};

const PORT_LEN: usize = 2;
const HMAC_LEN: usize = 8;

/// The fixed part of an ADD_ADDR of the given family: kind, length, subtype, id, address.
fn fixed_len(ipv6: bool) -> usize {
    4 + if ipv6 { 16 } else { 4 }
}

fn read_addr(r: &mut Reader<'_>, ipv6: bool) -> Result<IpAddr, WireError> {
    Ok(if ipv6 {
        Ipv6Addr::from(r.array::<16>()?).into()
    } else {
        Ipv4Addr::from(r.array::<4>()?).into()
    })
}

fn put_addr(w: &mut Writer<'_>, addr: IpAddr) {
    match addr {
        IpAddr::V4(v4) => w.put(v4.octets()),
        IpAddr::V6(v6) => w.put(v6.octets()),
    }
}

/// The optional fields after the address: `(port, hmac)` presence, from what the length
/// leaves after the fixed part.
fn optional_fields(len: usize, ipv6: bool) -> Result<(bool, bool), WireError> {
    match len.checked_sub(fixed_len(ipv6)) {
        Some(0) => Ok((false, false)),
        Some(PORT_LEN) => Ok((true, false)),
        Some(HMAC_LEN) => Ok((false, true)),
        Some(10) => Ok((true, true)),
        _ => Err(WireError::BadLength(len)),
    }
}

impl AddAddr {
    /// Lengths 8/10/16/18 are IPv4 and 20/22/28/30 IPv6 (without/with port, without/with
    /// HMAC). The HMAC must be present exactly when E is clear (RFC 8684 §3.4.1), else
    /// [`WireError::Malformed`].
    pub(super) fn parse(frame: Frame<'_>) -> Result<Self, WireError> {
        let ipv6 = frame.len >= fixed_len(true);
        let (has_port, has_hmac) = optional_fields(frame.len, ipv6)?;
        let echo = frame.low & 1 != 0;
        if has_hmac == echo {
            return Err(WireError::Malformed(
                "ADD_ADDR must carry an HMAC exactly when it is not an echo",
            ));
        }
        let mut r = Reader::new(frame.body);
        Ok(Self {
            echo,
            addr_id: r.u8()?,
            addr: read_addr(&mut r, ipv6)?,
            port: has_port.then(|| r.u16()).transpose()?,
            truncated_hmac: has_hmac.then(|| r.u64()).transpose()?,
        })
    }

    /// Option length by family, port and HMAC.
    pub(super) fn len(&self) -> usize {
        fixed_len(self.addr.is_ipv6())
            + self.port.map_or(0, |_| PORT_LEN)
            + self.truncated_hmac.map_or(0, |_| HMAC_LEN)
    }

    /// Writes from the subtype byte on. `echo` and `truncated_hmac` are written as they are,
    /// even when they contradict each other (such an option does not parse back).
    pub(super) fn emit_body(&self, w: &mut Writer<'_>) {
        w.put_u8(subtype_byte(ADD_ADDR, u8::from(self.echo)));
        w.put_u8(self.addr_id);
        put_addr(w, self.addr);
        if let Some(port) = self.port {
            w.put(port.to_be_bytes());
        }
        if let Some(hmac) = self.truncated_hmac {
            w.put(hmac.to_be_bytes());
        }
    }
}

impl AddAddrV0 {
    /// IPVer 4 with length 8 or 10, IPVer 6 with length 20 or 22 (without/with port).
    pub(super) fn parse(frame: Frame<'_>) -> Result<Self, WireError> {
        let ipv6 = frame.low == 6;
        let (has_port, false) = optional_fields(frame.len, ipv6)? else {
            return Err(WireError::BadLength(frame.len));
        };
        let mut r = Reader::new(frame.body);
        Ok(Self {
            addr_id: r.u8()?,
            addr: read_addr(&mut r, ipv6)?,
            port: has_port.then(|| r.u16()).transpose()?,
        })
    }

    /// Option length by family and port.
    pub(super) fn len(&self) -> usize {
        fixed_len(self.addr.is_ipv6()) + self.port.map_or(0, |_| PORT_LEN)
    }

    /// Writes from the subtype byte on; IPVer follows the address family.
    pub(super) fn emit_body(&self, w: &mut Writer<'_>) {
        let ip_version = if self.addr.is_ipv6() { 6 } else { 4 };
        w.put_u8(subtype_byte(ADD_ADDR, ip_version));
        w.put_u8(self.addr_id);
        put_addr(w, self.addr);
        if let Some(port) = self.port {
            w.put(port.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::MptcpOption;
    use super::*;

    fn round_trip(bytes: &[u8]) -> MptcpOption<'_> {
        let option = MptcpOption::parse(bytes).unwrap();
        assert_eq!(option.buffer_len(), bytes.len());
        let mut out = vec![0u8; bytes.len()];
        option.emit(&mut out);
        assert_eq!(out, bytes, "{option:?}");
        option
    }

    const HMAC: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

    #[test]
    fn v1_ipv4_announcement_and_echo() {
        let mut announce = vec![0x1e, 16, 0x30, 1, 10, 0, 2, 1];
        announce.extend_from_slice(&HMAC);
        assert_eq!(
            round_trip(&announce),
            MptcpOption::AddAddr(AddAddr {
                echo: false,
                addr_id: 1,
                addr: Ipv4Addr::new(10, 0, 2, 1).into(),
                port: None,
                truncated_hmac: Some(0x0102_0304_0506_0708)
            })
        );
        let echo = round_trip(&[0x1e, 8, 0x31, 1, 10, 0, 2, 1]);
        let MptcpOption::AddAddr(echo) = echo else {
            panic!()
        };
        assert!(echo.echo);
        assert_eq!(echo.truncated_hmac, None);
        assert_eq!(echo.port, None);
    }

    #[test]
    fn v1_with_port_and_ipv6() {
        let mut with_port = vec![0x1e, 18, 0x30, 2, 10, 0, 3, 1, 0x1f, 0x90];
        with_port.extend_from_slice(&HMAC);
        let MptcpOption::AddAddr(a) = round_trip(&with_port) else {
            panic!()
        };
        assert_eq!(a.port, Some(8080));

        let addr: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let mut v6 = vec![0x1e, 30, 0x30, 3];
        v6.extend_from_slice(&addr.octets());
        v6.extend_from_slice(&[0x1f, 0x90]);
        v6.extend_from_slice(&HMAC);
        let MptcpOption::AddAddr(a) = round_trip(&v6) else {
            panic!()
        };
        assert_eq!((a.addr, a.port), (IpAddr::V6(addr), Some(8080)));

        let mut v6_echo = vec![0x1e, 20, 0x31, 3];
        v6_echo.extend_from_slice(&addr.octets());
        let MptcpOption::AddAddr(a) = round_trip(&v6_echo) else {
            panic!()
        };
        assert!(a.echo && a.addr.is_ipv6() && a.truncated_hmac.is_none());
    }

    #[test]
    fn v1_flag_and_hmac_must_agree() {
        // Announcement without HMAC.
        assert!(matches!(
            MptcpOption::parse(&[0x1e, 8, 0x30, 1, 10, 0, 2, 1]),
            Err(WireError::Malformed(_))
        ));
        // Echo with HMAC.
        let mut bytes = vec![0x1e, 16, 0x31, 1, 10, 0, 2, 1];
        bytes.extend_from_slice(&HMAC);
        assert!(matches!(
            MptcpOption::parse(&bytes),
            Err(WireError::Malformed(_))
        ));
    }

    #[test]
    fn bad_lengths() {
        for len in [4usize, 7, 9, 12, 14, 19, 24, 26, 31] {
            let mut bytes = vec![0u8; len];
            bytes[..3].copy_from_slice(&[0x1e, len as u8, 0x31]);
            assert_eq!(
                MptcpOption::parse(&bytes),
                Err(WireError::BadLength(len)),
                "{len}"
            );
        }
    }

    #[test]
    fn v0_layouts() {
        let option = round_trip(&[0x1e, 8, 0x34, 5, 192, 168, 1, 2]);
        assert_eq!(
            option,
            MptcpOption::AddAddrV0(AddAddrV0 {
                addr_id: 5,
                addr: Ipv4Addr::new(192, 168, 1, 2).into(),
                port: None
            })
        );
        assert_eq!(option.name(), "ADD_ADDR");
        let MptcpOption::AddAddrV0(a) = round_trip(&[0x1e, 10, 0x34, 5, 192, 168, 1, 2, 0, 80])
        else {
            panic!()
        };
        assert_eq!(a.port, Some(80));
        let mut v6 = vec![0x1e, 22, 0x36, 6];
        v6.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        v6.extend_from_slice(&[0, 80]);
        let MptcpOption::AddAddrV0(a) = round_trip(&v6) else {
            panic!()
        };
        assert_eq!(a.addr, IpAddr::V6(Ipv6Addr::LOCALHOST));
        // IPVer and length disagree; a v0 ADD_ADDR has no HMAC.
        assert_eq!(
            MptcpOption::parse(&[0x1e, 8, 0x36, 5, 192, 168, 1, 2]),
            Err(WireError::BadLength(8))
        );
        let mut with_hmac = vec![0x1e, 16, 0x34, 1, 10, 0, 2, 1];
        with_hmac.extend_from_slice(&HMAC);
        assert_eq!(
            MptcpOption::parse(&with_hmac),
            Err(WireError::BadLength(16))
        );
    }
}
