//! IP: IPv4 and IPv6 headers, and one entry point from raw IP bytes to the upper-layer
//! payload ([`parse_ip_packet`]). Protocol numbers are [`IpProtocol`] (`wire/protocol.rs`).

mod ipv4;
mod ipv6;

use core::net::IpAddr;

pub use ipv4::{IPV4_MAX_OPTIONS_LEN, IPV4_MIN_HEADER_LEN, Ipv4Packet, Ipv4Repr};
pub use ipv6::{IPV6_HEADER_LEN, Ipv6Packet, Ipv6Repr, Ipv6UpperLayer, ipv6_upper_layer};

pub use super::protocol::IpProtocol;

use super::WireError;

/// Where a fragment belongs in its original packet (IPv4: RFC 791 §3.2; IPv6: RFC 8200
/// §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpFragment {
    /// Identification (16 bits in IPv4, 32 in IPv6).
    pub ident: u32,
    /// Offset of this fragment's data in the original payload, in bytes (a multiple of 8).
    pub offset: u16,
    /// More fragments follow.
    pub more: bool,
}

/// A parsed IP header of either version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpRepr<'a> {
    /// IPv4 (with its options).
    Ipv4(Ipv4Repr<'a>),
    /// IPv6 (the fixed header; extension headers are payload).
    Ipv6(Ipv6Repr),
}

impl IpRepr<'_> {
    /// Source address.
    pub fn src_addr(&self) -> IpAddr {
        match self {
            Self::Ipv4(r) => r.src.into(),
            Self::Ipv6(r) => r.src.into(),
        }
    }

    /// Destination address.
    pub fn dst_addr(&self) -> IpAddr {
        match self {
            Self::Ipv4(r) => r.dst.into(),
            Self::Ipv6(r) => r.dst.into(),
        }
    }

    /// The header's protocol field (IPv4) or next-header field (IPv6; this may name an
    /// extension header — see [`ipv6_upper_layer`]).
    pub fn protocol(&self) -> IpProtocol {
        match self {
            Self::Ipv4(r) => r.protocol,
            Self::Ipv6(r) => r.next_header,
        }
    }

    /// TTL (IPv4) or hop limit (IPv6).
    pub fn hop_limit(&self) -> u8 {
        match self {
            Self::Ipv4(r) => r.ttl,
            Self::Ipv6(r) => r.hop_limit,
        }
    }

    /// Length of the payload after this header.
    pub fn payload_len(&self) -> usize {
        match self {
            Self::Ipv4(r) => r.payload_len,
            Self::Ipv6(r) => r.payload_len,
        }
    }

    /// Length of the header.
    pub fn header_len(&self) -> usize {
        match self {
            Self::Ipv4(r) => r.header_len(),
            Self::Ipv6(r) => r.header_len(),
        }
    }

    /// Length of the whole packet.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len()
    }

    /// Writes the header into the first [`header_len`](Self::header_len) bytes of `buf`
    /// (see [`Ipv4Repr::emit`], [`Ipv6Repr::emit`]).
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than `header_len()`.
    pub fn emit(&self, buf: &mut [u8]) {
        match self {
            Self::Ipv4(r) => r.emit(&mut Ipv4Packet::new_unchecked(buf)),
            Self::Ipv6(r) => r.emit(&mut Ipv6Packet::new_unchecked(buf)),
        }
    }
}

/// An IP packet taken apart down to its upper-layer bytes (see [`parse_ip_packet`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpPayload<'a> {
    /// The IP header.
    pub ip: IpRepr<'a>,
    /// The upper-layer protocol (for IPv6: after the extension headers).
    pub protocol: IpProtocol,
    /// The upper-layer bytes: for TCP, the whole segment, ready for
    /// [`TcpPacket::new_checked`](crate::wire::TcpPacket::new_checked).
    pub payload: &'a [u8],
    /// Set when the packet is a fragment. Then `payload` is only part of the upper-layer
    /// packet (when `offset` is 0, its beginning; otherwise no header at all).
    pub fragment: Option<IpFragment>,
}

/// Parses raw IP bytes (as in a capture without link layer), IPv4 or IPv6 by the version
/// nibble, down to the upper-layer bytes.
///
/// Checks lengths (trailing link-layer padding is cut off by the IP length fields) but not
/// the IPv4 header checksum: call [`Ipv4Packet::verify_checksum`] for that. Never panics.
///
/// ```
/// use mptcp_proto::wire::{parse_ip_packet, IpProtocol};
///
/// let mut bytes = vec![0x45, 0, 0, 24, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
/// bytes.extend_from_slice(&[1, 2, 3, 4]);
/// let parsed = parse_ip_packet(&bytes).unwrap();
/// assert_eq!(parsed.protocol, IpProtocol::TCP);
/// assert_eq!(parsed.payload, [1, 2, 3, 4]);
/// assert_eq!(parsed.ip.src_addr().to_string(), "10.0.0.1");
/// ```
pub fn parse_ip_packet(bytes: &[u8]) -> Result<IpPayload<'_>, WireError> {
    let version = bytes.first().ok_or(WireError::Truncated {
        needed: 1,
        available: 0,
    })? >> 4;
    match version {
        4 => {
            let packet = Ipv4Packet::new_checked(bytes)?;
            let repr = Ipv4Repr::parse(&packet)?;
            let payload = bytes
                .get(repr.header_len()..repr.buffer_len())
                .ok_or(WireError::BadLength(repr.buffer_len()))?;
            Ok(IpPayload {
                ip: IpRepr::Ipv4(repr),
                protocol: repr.protocol,
                payload,
                fragment: repr.fragment(),
            })
        }
        6 => {
            let packet = Ipv6Packet::new_checked(bytes)?;
            let repr = Ipv6Repr::parse(&packet)?;
            let payload = bytes
                .get(IPV6_HEADER_LEN..repr.buffer_len())
                .ok_or(WireError::BadLength(repr.buffer_len()))?;
            let upper = ipv6_upper_layer(repr.next_header, payload)?;
            Ok(IpPayload {
                ip: IpRepr::Ipv6(repr),
                protocol: upper.protocol,
                payload: payload.get(upper.offset..).unwrap_or_default(),
                fragment: upper.fragment,
            })
        }
        other => Err(WireError::BadVersion(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn parses_ipv4_with_padding() {
        let repr = Ipv4Repr {
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: Ipv4Addr::new(192, 0, 2, 2),
            protocol: IpProtocol::TCP,
            payload_len: 4,
            ttl: 64,
            dscp_ecn: 0,
            ident: 7,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            options: &[],
        };
        let mut frame = vec![0u8; 60];
        IpRepr::Ipv4(repr).emit(&mut frame);
        frame[20..24].copy_from_slice(b"TCP!");
        let parsed = parse_ip_packet(&frame).unwrap();
        assert_eq!(parsed.ip, IpRepr::Ipv4(repr));
        assert_eq!(parsed.protocol, IpProtocol::TCP);
        assert_eq!(parsed.payload, b"TCP!");
        assert_eq!(parsed.fragment, None);
        assert_eq!(parsed.ip.hop_limit(), 64);
        assert_eq!(parsed.ip.buffer_len(), 24);
    }

    #[test]
    fn parses_ipv6_through_extension_headers() {
        let repr = Ipv6Repr {
            src: Ipv6Addr::LOCALHOST,
            dst: "2001:db8::1".parse().unwrap(),
            next_header: IpProtocol::IPV6_OPTS,
            payload_len: 12,
            hop_limit: 1,
            traffic_class: 0,
            flow_label: 0,
        };
        let ip = IpRepr::Ipv6(repr);
        let mut bytes = vec![0u8; ip.buffer_len()];
        ip.emit(&mut bytes);
        bytes[40..48].copy_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
        bytes[48..52].copy_from_slice(b"tcp!");
        let parsed = parse_ip_packet(&bytes).unwrap();
        assert_eq!(parsed.protocol, IpProtocol::TCP);
        assert_eq!(parsed.payload, b"tcp!");
        assert_eq!(parsed.ip.protocol(), IpProtocol::IPV6_OPTS);
        assert_eq!(parsed.ip.src_addr(), IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(parsed.ip.header_len(), 40);
    }

    #[test]
    fn rejects_other_versions_and_empty_input() {
        assert_eq!(parse_ip_packet(&[0x55; 40]), Err(WireError::BadVersion(5)));
        assert_eq!(
            parse_ip_packet(&[]),
            Err(WireError::Truncated {
                needed: 1,
                available: 0
            })
        );
    }

    #[test]
    fn protocol_names() {
        assert_eq!(IpProtocol::TCP.to_string(), "TCP");
        assert_eq!(IpProtocol(253).to_string(), "253");
    }
}
