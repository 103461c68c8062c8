//! Second stage of `mptcp decode`: from a captured packet's IP bytes to a TCP segment.

use std::net::SocketAddr;
use std::time::Duration;

use mptcp_proto::wire::{IpProtocol, TcpPacket, TcpRepr, WireError, parse_ip_packet};

use super::capture::CapturedPacket;

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
    /// The parsed TCP header, its options and payload.
    pub tcp: TcpRepr<'a>,
    /// Whether the TCP checksum (over the IPv4 or IPv6 pseudo-header) verifies.
    pub checksum_ok: bool,
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
    /// An IP or TCP header that does not parse.
    Malformed {
        /// Frame number.
        number: usize,
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
    let ip = match parse_ip_packet(bytes) {
        Ok(ip) => ip,
        Err(error) => return Frame::Malformed { number, error },
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
    let (src_ip, dst_ip) = (ip.ip.src_addr(), ip.ip.dst_addr());
    let parsed = TcpPacket::new_checked(ip.payload).and_then(|packet| {
        let tcp = TcpRepr::parse(&packet)?;
        Ok((tcp, packet.verify_checksum(src_ip, dst_ip)))
    });
    match parsed {
        Ok((tcp, checksum_ok)) => Frame::Tcp(Segment {
            number,
            timestamp: packet.timestamp,
            src: SocketAddr::new(src_ip, tcp.src_port),
            dst: SocketAddr::new(dst_ip, tcp.dst_port),
            tcp,
            checksum_ok,
        }),
        Err(error) => Frame::Malformed { number, error },
    }
}
