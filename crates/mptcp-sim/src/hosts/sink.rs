//! A host that receives and counts.

use mptcp_proto::time::Instant;
use mptcp_proto::wire::{IpProtocol, IpRepr, Ipv4Packet, TcpPacket, parse_ip_packet};

use crate::host::Host;

/// A packet a [`Sink`] kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Arrival time.
    pub time: Instant,
    /// Interface it arrived on.
    pub iface: usize,
    /// The raw IP packet.
    pub bytes: Vec<u8>,
}

/// Receives packets and counts them; optionally checks their checksums (IPv4 header and
/// TCP) and keeps a copy of each. Sends nothing.
#[derive(Debug, Clone, Default)]
pub struct Sink {
    packets: u64,
    bytes: u64,
    bad_checksums: u64,
    verify: bool,
    record: bool,
    received: Vec<Received>,
}

impl Sink {
    /// A sink that only counts.
    pub fn new() -> Self {
        Self::default()
    }

    /// A sink that also checks checksums and keeps every packet.
    pub fn recording() -> Self {
        Self {
            verify: true,
            record: true,
            ..Self::default()
        }
    }

    /// Packets received.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Bytes received.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Packets whose IP header or TCP checksum was wrong, or that did not parse (counted
    /// only by a recording sink).
    pub fn bad_checksums(&self) -> u64 {
        self.bad_checksums
    }

    /// The packets kept by a recording sink, in arrival order.
    pub fn received(&self) -> &[Received] {
        &self.received
    }
}

/// Whether `packet` is an IP packet with a correct header checksum (IPv4) and, if it
/// carries TCP, a correct TCP checksum.
pub fn checksums_ok(packet: &[u8]) -> bool {
    let Ok(ip) = parse_ip_packet(packet) else {
        return false;
    };
    if let IpRepr::Ipv4(_) = ip.ip
        && !Ipv4Packet::new_unchecked(packet).verify_checksum()
    {
        return false;
    }
    if ip.protocol != IpProtocol::TCP {
        return true;
    }
    TcpPacket::new_checked(ip.payload)
        .is_ok_and(|tcp| tcp.verify_checksum(ip.ip.src_addr(), ip.ip.dst_addr()))
}

impl Host for Sink {
    fn handle_packet(&mut self, now: Instant, iface: usize, packet: &[u8]) {
        self.packets += 1;
        self.bytes += packet.len() as u64;
        if self.verify && !checksums_ok(packet) {
            self.bad_checksums += 1;
        }
        if self.record {
            self.received.push(Received {
                time: now,
                iface,
                bytes: packet.to_vec(),
            });
        }
    }

    fn handle_timeout(&mut self, _now: Instant) {}

    fn poll_transmit(&mut self, _now: Instant, _buf: &mut [u8]) -> Option<(usize, usize)> {
        None
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }
}
