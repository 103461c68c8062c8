//! Routers: nodes with several interfaces that forward packets by longest-prefix match on a
//! static table, spreading flows over equal-cost routes by a hash of their 5-tuple (ECMP).

use core::net::IpAddr;

use mptcp_proto::time::Instant;
use mptcp_proto::wire::{IpProtocol, IpRepr, Ipv4Packet, parse_ip_packet};
use thiserror::Error;

use crate::middlebox::{Direction, Middlebox, Verdict};

/// One entry of a routing table: packets to `prefix/prefix_len` leave on `iface`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Network address (bits past the prefix length are ignored).
    pub prefix: IpAddr,
    /// Prefix length in bits.
    pub prefix_len: u8,
    /// Outgoing interface.
    pub iface: usize,
}

/// A route that cannot be added.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("prefix length {prefix_len} is longer than the {max} bits of {prefix}")]
pub struct BadPrefixLen {
    /// The prefix.
    pub prefix: IpAddr,
    /// The length given.
    pub prefix_len: u8,
    /// The address length.
    pub max: u8,
}

/// Why a router did not forward a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ForwardError {
    /// Not an IP packet, or an IPv4 header with a wrong checksum.
    #[error("not an IP packet, or a wrong IPv4 header checksum")]
    Malformed,
    /// No route matches the destination.
    #[error("no route to the destination")]
    NoRoute,
    /// The TTL or hop limit ran out.
    #[error("TTL expired")]
    TtlExpired,
    /// A middlebox on the router dropped it.
    #[error("dropped by a middlebox")]
    Middlebox,
}

/// What a router did, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouterStats {
    /// Packets forwarded.
    pub forwarded: u64,
    /// Packets that were not IP or had a wrong IPv4 header checksum.
    pub malformed: u64,
    /// Packets without a route.
    pub no_route: u64,
    /// Packets whose TTL ran out.
    pub ttl_expired: u64,
    /// Packets a middlebox dropped.
    pub middlebox: u64,
    /// Packets routed to an interface without a link.
    pub unconnected: u64,
}

/// A router: a static routing table, middleboxes, counters.
pub struct Router {
    routes: Vec<Route>,
    middleboxes: Vec<(Box<dyn Middlebox>, usize)>,
    hash_seed: u64,
    stats: RouterStats,
}

impl Default for Router {
    fn default() -> Self {
        Self::new()
    }
}

fn address_bits(addr: IpAddr) -> (u128, u8) {
    match addr {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

fn matches(route: &Route, dst: IpAddr) -> bool {
    let (prefix, width) = address_bits(route.prefix);
    let (addr, addr_width) = address_bits(dst);
    if width != addr_width {
        return false;
    }
    let shift = u32::from(width - route.prefix_len);
    route.prefix_len == 0 || (prefix >> shift) == (addr >> shift)
}

/// SplitMix64's finalizer: spreads the bits of a hash.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Router {
    /// A router with an empty table and hash seed 0.
    pub fn new() -> Self {
        Self {
            routes: Vec::new(),
            middleboxes: Vec::new(),
            hash_seed: 0,
            stats: RouterStats::default(),
        }
    }

    /// Uses `seed` in the ECMP hash, so that different routers split flows differently.
    pub fn with_hash_seed(mut self, seed: u64) -> Self {
        self.hash_seed = seed;
        self
    }

    /// Adds a route. Several routes with the same prefix are equal-cost paths.
    pub fn add_route(
        &mut self,
        prefix: IpAddr,
        prefix_len: u8,
        iface: usize,
    ) -> Result<(), BadPrefixLen> {
        let max = address_bits(prefix).1;
        if prefix_len > max {
            return Err(BadPrefixLen {
                prefix,
                prefix_len,
                max,
            });
        }
        self.routes.push(Route {
            prefix,
            prefix_len,
            iface,
        });
        Ok(())
    }

    /// Places a middlebox on the router: packets arriving on `inside_iface` pass it as
    /// [`Direction::AToB`], packets arriving elsewhere as [`Direction::BToA`].
    pub fn add_middlebox(&mut self, middlebox: Box<dyn Middlebox>, inside_iface: usize) {
        self.middleboxes.push((middlebox, inside_iface));
    }

    /// The counters.
    pub fn stats(&self) -> &RouterStats {
        &self.stats
    }

    /// The interface a packet leaves on: among the routes with the longest prefix matching
    /// its destination, the one picked by the hash of its 5-tuple.
    pub fn select(&self, packet: &[u8]) -> Result<usize, ForwardError> {
        let ip = parse_ip_packet(packet).map_err(|_| ForwardError::Malformed)?;
        let dst = ip.ip.dst_addr();
        let best = self
            .routes
            .iter()
            .filter(|route| matches(route, dst))
            .map(|route| route.prefix_len)
            .max()
            .ok_or(ForwardError::NoRoute)?;
        let candidates = || {
            self.routes
                .iter()
                .filter(move |route| route.prefix_len == best && matches(route, dst))
        };
        let count = candidates().count();
        if count == 1 {
            return candidates()
                .next()
                .map(|r| r.iface)
                .ok_or(ForwardError::NoRoute);
        }
        let ports = match ip.protocol {
            IpProtocol::TCP | IpProtocol::UDP
                if ip.fragment.is_none_or(|f| f.offset == 0) && ip.payload.len() >= 4 =>
            {
                u32::from_be_bytes([ip.payload[0], ip.payload[1], ip.payload[2], ip.payload[3]])
            }
            _ => 0,
        };
        let hash = self.flow_hash(ip.ip.src_addr(), dst, ip.protocol, ports);
        let pick = (hash % count as u64) as usize;
        candidates()
            .nth(pick)
            .map(|r| r.iface)
            .ok_or(ForwardError::NoRoute)
    }

    /// FNV-1a over the 5-tuple, seeded, then mixed.
    fn flow_hash(&self, src: IpAddr, dst: IpAddr, protocol: IpProtocol, ports: u32) -> u64 {
        let mut hash = 0xcbf2_9ce4_8422_2325 ^ self.hash_seed;
        let mut eat = |bytes: &[u8]| {
            for &byte in bytes {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        eat(&address_bits(src).0.to_be_bytes());
        eat(&address_bits(dst).0.to_be_bytes());
        eat(&[protocol.0]);
        eat(&ports.to_be_bytes());
        mix(hash)
    }

    /// Passes a packet that arrived on `iface` through the middleboxes, picks its outgoing
    /// interface and decrements its TTL (fixing the IPv4 header checksum).
    pub(crate) fn forward(
        &mut self,
        now: Instant,
        iface: usize,
        packet: &mut [u8],
    ) -> Result<usize, ForwardError> {
        let result = self.forward_inner(now, iface, packet);
        match result {
            Ok(_) => self.stats.forwarded += 1,
            Err(ForwardError::Malformed) => self.stats.malformed += 1,
            Err(ForwardError::NoRoute) => self.stats.no_route += 1,
            Err(ForwardError::TtlExpired) => self.stats.ttl_expired += 1,
            Err(ForwardError::Middlebox) => self.stats.middlebox += 1,
        }
        result
    }

    /// Counts a packet routed to an interface that has no link.
    pub(crate) fn count_unconnected(&mut self) {
        self.stats.forwarded -= 1;
        self.stats.unconnected += 1;
    }

    fn forward_inner(
        &mut self,
        now: Instant,
        iface: usize,
        packet: &mut [u8],
    ) -> Result<usize, ForwardError> {
        for (middlebox, inside) in &mut self.middleboxes {
            let direction = if *inside == iface {
                Direction::AToB
            } else {
                Direction::BToA
            };
            if middlebox.process(now, direction, packet) == Verdict::Drop {
                return Err(ForwardError::Middlebox);
            }
        }
        let out = self.select(packet)?;
        let (ipv4, hop_limit) = match parse_ip_packet(packet) {
            Ok(ip) => (matches!(ip.ip, IpRepr::Ipv4(_)), ip.ip.hop_limit()),
            Err(_) => return Err(ForwardError::Malformed),
        };
        // RFC 1812 §5.2.2: a router drops an IPv4 header with a wrong checksum.
        if ipv4 && !Ipv4Packet::new_unchecked(&*packet).verify_checksum() {
            return Err(ForwardError::Malformed);
        }
        if hop_limit <= 1 {
            return Err(ForwardError::TtlExpired);
        }
        if ipv4 {
            let mut view = Ipv4Packet::new_unchecked(&mut *packet);
            view.set_ttl(hop_limit - 1);
            view.fill_checksum();
        } else {
            packet[7] = hop_limit - 1;
        }
        Ok(out)
    }
}
