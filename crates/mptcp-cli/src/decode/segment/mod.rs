//! Second stage of `mptcp decode`: from a captured packet's IP bytes to a TCP segment.
//!
//! A packet cut short by the capture's snap length (or whose IP header gives a length past
//! the end of its frame) is decoded from the bytes that were captured: when they hold the IP
//! headers and the whole TCP header, options included, the segment has every field, its
//! payload length is the one the IP header gives, and [`Segment::truncated`] says why fewer
//! payload bytes are at hand (module `ip_prefix` reads the IP header of such a packet). Its TCP
//! checksum covers bytes that are not there, so it is not checked. A packet cut inside its
//! headers is [`Frame::Malformed`].

mod ip_prefix;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mptcp_proto::wire::{IpProtocol, TcpPacket, TcpRepr, WireError};

use super::capture::CapturedPacket;
use ip_prefix::parse_ip_prefix;

/// One TCP segment read from a capture.
#[derive(Debug, Clone)]
pub struct Segment<'a> {
    /// Frame number in the capture (1-based, as Wireshark counts).
    pub number: usize,
    /// Capture time, since the Unix epoch.
    pub timestamp: Duration,
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// The parsed TCP header and its options; its `payload` holds the payload bytes that were
    /// captured: all of them unless the segment is [`truncated`](Self::truncated).
    pub tcp: TcpRepr<'a>,
    /// The payload length the IP header gives, captured or not.
    pub payload_len: usize,
    /// Whether the TCP checksum (over the IPv4 or IPv6 pseudo-header) verifies; `None` when
    /// the segment is truncated, so the bytes it covers are not all there.
    pub checksum_ok: Option<bool>,
    /// Why the capture holds fewer than `payload_len` payload bytes, when it does.
    pub truncated: Option<Truncation>,
}

/// Why a segment's payload was not all captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncation {
    /// The capture recorded the frame shorter than it was on the wire: a snap length.
    SnapLength,
    /// The frame was recorded whole, but its IP header gives a length past its end.
    ShortFrame,
}

impl Truncation {
    /// A name for JSON: `snap_length` or `short_frame`.
    pub fn name(self) -> &'static str {
        match self {
            Truncation::SnapLength => "snap_length",
            Truncation::ShortFrame => "short_frame",
        }
    }

    /// What happened, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Truncation::SnapLength => "truncated by snap length",
            Truncation::ShortFrame => "frame shorter than its IP length",
        }
    }
}

/// What a captured packet turned out to be.
#[derive(Debug, Clone)]
pub enum Frame<'a> {
    /// A TCP segment.
    Tcp(Segment<'a>),
    /// A packet that is not TCP over IP (ARP, UDP, an IP fragment, ...): skipped.
    Skipped {
        /// Frame number.
        number: usize,
        /// What it was.
        what: String,
    },
    /// An IP or TCP header that does not parse, or that the capture cut short.
    Malformed {
        /// Frame number.
        number: usize,
        /// Source and destination address, when the IP header parsed (then the TCP header
        /// is what does not).
        addresses: Option<(IpAddr, IpAddr)>,
        /// Why it does not parse.
        error: WireError,
    },
}

impl<'a> Frame<'a> {
    /// The TCP segment, if this frame is one.
    pub fn segment(&self) -> Option<&Segment<'a>> {
        match self {
            Frame::Tcp(segment) => Some(segment),
            _ => None,
        }
    }
}

/// Decodes the IP and TCP headers of one captured packet.
pub fn decode_frame(packet: &CapturedPacket) -> Frame<'_> {
    let number = packet.number;
    let Some(bytes) = packet.ip() else {
        return Frame::Skipped {
            number,
            what: format!("not IP ({:?})", packet.network),
        };
    };
    let ip = match parse_ip_prefix(bytes) {
        Ok(ip) => ip,
        Err(error) => {
            return Frame::Malformed {
                number,
                addresses: None,
                error,
            };
        }
    };
    if ip.protocol != IpProtocol::TCP {
        let name = ip.protocol.name().unwrap_or("unknown protocol");
        return Frame::Skipped {
            number,
            what: format!("{name} ({})", ip.protocol.0),
        };
    }
    if ip.fragment.is_some() {
        return Frame::Skipped {
            number,
            what: "IP fragment".to_string(),
        };
    }
    // The checksum covers the whole segment: it can be checked only if all of it is here.
    let whole = ip.captured.len() >= ip.len;
    let parsed = TcpPacket::new_checked(ip.captured).and_then(|packet| {
        let tcp = TcpRepr::parse(&packet)?;
        let checksum_ok = whole.then(|| packet.verify_checksum(ip.src, ip.dst));
        Ok((tcp, packet.header_len(), checksum_ok))
    });
    let (tcp, header_len, checksum_ok) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            return Frame::Malformed {
                number,
                addresses: Some((ip.src, ip.dst)),
                error,
            };
        }
    };
    let truncated = (!whole).then_some(if packet.captured_len() < packet.original_len {
        Truncation::SnapLength
    } else {
        Truncation::ShortFrame
    });
    Frame::Tcp(Segment {
        number,
        timestamp: packet.timestamp,
        src: SocketAddr::new(ip.src, tcp.src_port),
        dst: SocketAddr::new(ip.dst, tcp.dst_port),
        payload_len: ip.len.saturating_sub(header_len),
        tcp,
        checksum_ok,
        truncated,
    })
}
