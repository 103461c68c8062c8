//! The IP header of a captured packet that a snap length may have cut short.
//!
//! [`parse_ip_packet`] takes a whole packet: its checked views refuse an IPv4 total length or
//! an IPv6 payload length that runs past the buffer, as a network stack must (it drops a packet
//! shorter than its header says, and this module leaves that so). A capture taken with a snap
//! length (`tcpdump -s 160`) keeps only the first bytes of each packet, whose headers are intact
//! and worth reading. [`parse_ip_prefix`] reads them with the same parser: when the packet is
//! cut short, it parses a copy of the captured bytes whose length field (RFC 791 §3.1 total
//! length, RFC 8200 §3 payload length) says what was captured, and keeps the length the real
//! header gives. The copy differs from the captured bytes in that field alone, and only the
//! headers' fields are read from it.

use std::net::IpAddr;

use mptcp_proto::wire::{
    IPV6_HEADER_LEN, IpFragment, IpPayload, IpProtocol, WireError, parse_ip_packet,
};

/// An IP packet taken apart down to the upper-layer bytes that were captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPrefix<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The upper-layer protocol (for IPv6, after the extension headers).
    pub protocol: IpProtocol,
    /// Set when the packet is a fragment (see [`IpPayload`]).
    pub fragment: Option<IpFragment>,
    /// The upper-layer bytes that were captured: all of them, or the first ones.
    pub captured: &'a [u8],
    /// The length of the upper-layer bytes as the IP header gives it: more than
    /// `captured.len()` when the packet was cut short.
    pub len: usize,
}

/// Parses raw IP bytes as [`parse_ip_packet`] does, except that the packet may end before
/// the length its header gives, as long as its headers (IPv6: extension headers included)
/// were captured. Never panics.
///
/// Fails with the error `parse_ip_packet` gives on the bytes as captured when the packet is
/// not merely cut short, or is cut inside its IP headers.
pub fn parse_ip_prefix(bytes: &[u8]) -> Result<IpPrefix<'_>, WireError> {
    let error = match parse_ip_packet(bytes) {
        Ok(ip) => return Ok(IpPrefix::new(&ip, ip.payload, ip.payload.len())),
        Err(error) => error,
    };
    let cut_short = || {
        let field = LengthField::of(bytes)?;
        let claimed = field.read(bytes)?;
        if claimed <= bytes.len() {
            return None;
        }
        let mut copy = bytes.to_vec();
        field.write(&mut copy)?;
        let ip = parse_ip_packet(&copy).ok()?;
        // The upper-layer bytes run to the end of the copy, whose length field covers it all.
        let offset = copy.len().checked_sub(ip.payload.len())?;
        Some(IpPrefix::new(
            &ip,
            bytes.get(offset..)?,
            claimed.checked_sub(offset)?,
        ))
    };
    cut_short().ok_or(error)
}

impl<'a> IpPrefix<'a> {
    /// The headers of `ip`, with the upper-layer bytes `captured` of `len`.
    fn new(ip: &IpPayload<'_>, captured: &'a [u8], len: usize) -> Self {
        IpPrefix {
            src: ip.ip.src_addr(),
            dst: ip.ip.dst_addr(),
            protocol: ip.protocol,
            fragment: ip.fragment,
            captured,
            len,
        }
    }
}

/// The field that gives the length of an IP packet: where it is, and how many bytes of the
/// packet come before the ones it counts.
#[derive(Clone, Copy)]
struct LengthField {
    at: usize,
    uncounted: usize,
}

impl LengthField {
    /// The length field of the version the first nibble names: IPv4's total length counts
    /// the whole packet, IPv6's payload length what follows the fixed header.
    fn of(bytes: &[u8]) -> Option<Self> {
        match bytes.first()? >> 4 {
            4 => Some(LengthField {
                at: 2,
                uncounted: 0,
            }),
            6 => Some(LengthField {
                at: 4,
                uncounted: IPV6_HEADER_LEN,
            }),
            _ => None,
        }
    }

    /// The length of the packet the field gives, if the field was captured.
    fn read(self, bytes: &[u8]) -> Option<usize> {
        let raw = bytes.get(self.at..self.at + 2)?;
        Some(self.uncounted + usize::from(u16::from_be_bytes([raw[0], raw[1]])))
    }

    /// Makes the field give the length of `bytes`, if it can.
    fn write(self, bytes: &mut [u8]) -> Option<()> {
        let value = u16::try_from(bytes.len().checked_sub(self.uncounted)?).ok()?;
        bytes
            .get_mut(self.at..self.at + 2)?
            .copy_from_slice(&value.to_be_bytes());
        Some(())
    }
}
