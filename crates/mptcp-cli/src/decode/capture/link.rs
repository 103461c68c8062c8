//! Link layers: where the IP packet starts inside a captured frame.
//!
//! Every captured packet carries a link-layer type (a `LINKTYPE_*` value from the tcpdump.org
//! registry). [`locate_network`] reads just enough of the link-layer header to find the
//! network-layer bytes and tell IPv4 from IPv6 from anything else. It never fails: a frame it
//! cannot decode becomes [`Network::Undecodable`], so one odd packet does not stop a capture.

use std::fmt;

use super::bytes::Endian;

/// `LINKTYPE_NULL`: BSD loopback, a 4-byte address family in the capturing host's byte order.
pub const NULL: u32 = 0;
/// `LINKTYPE_ETHERNET`: Ethernet II (and 802.3), possibly with 802.1Q / 802.1ad VLAN tags.
pub const ETHERNET: u32 = 1;
/// `DLT_RAW` as written by some BSDs: raw IPv4 or IPv6 with no link-layer header.
pub const RAW_BSD: u32 = 12;
/// `DLT_RAW` as written by OpenBSD: raw IPv4 or IPv6 with no link-layer header.
pub const RAW_OPENBSD: u32 = 14;
/// `LINKTYPE_RAW`: raw IPv4 or IPv6, told apart by the IP version nibble.
pub const RAW: u32 = 101;
/// `LINKTYPE_LOOP`: OpenBSD loopback, a 4-byte address family in network byte order.
pub const LOOP: u32 = 108;
/// `LINKTYPE_LINUX_SLL`: Linux cooked capture v1 (`tcpdump -i any` before libpcap 1.10).
pub const LINUX_SLL: u32 = 113;
/// `LINKTYPE_IPV4`: raw IPv4 with no link-layer header.
pub const IPV4: u32 = 228;
/// `LINKTYPE_IPV6`: raw IPv6 with no link-layer header.
pub const IPV6: u32 = 229;
/// `LINKTYPE_LINUX_SLL2`: Linux cooked capture v2 (`tcpdump -i any` since libpcap 1.10).
pub const LINUX_SLL2: u32 = 276;

/// Ethertype of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// Ethertype of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// Ethertype of an IEEE 802.1Q VLAN tag.
const ETHERTYPE_VLAN: u16 = 0x8100;
/// Ethertype of an IEEE 802.1ad service VLAN tag (Q-in-Q).
const ETHERTYPE_QINQ: u16 = 0x88a8;
/// The pre-standard Q-in-Q ethertype some switches still send.
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
/// Type/length values up to this are 802.3 lengths, not ethertypes (IEEE 802.3 §3.2.6).
const MAX_8023_LENGTH: u16 = 0x05ff;

/// Length of the Linux cooked v1 header; its protocol field sits at offset 14.
const SLL_HEADER_LEN: usize = 16;
/// Length of the Linux cooked v2 header; its protocol field sits at offset 0.
const SLL2_HEADER_LEN: usize = 20;
/// Length of the NULL/LOOP address-family header.
const NULL_HEADER_LEN: usize = 4;

/// The short name of a link-layer type, as in the tcpdump.org registry (`"ETHERNET"`), if it
/// is one this module knows.
pub fn link_type_name(link_type: u32) -> Option<&'static str> {
    Some(match link_type {
        NULL => "NULL",
        ETHERNET => "ETHERNET",
        RAW_BSD | RAW_OPENBSD | RAW => "RAW",
        LOOP => "LOOP",
        LINUX_SLL => "LINUX_SLL",
        IPV4 => "IPV4",
        IPV6 => "IPV6",
        LINUX_SLL2 => "LINUX_SLL2",
        _ => return None,
    })
}

/// What a captured frame carries behind its link-layer header.
///
/// The IP variants hold the offset of the IP header within the frame's bytes
/// ([`CapturedPacket::data`](super::CapturedPacket::data)), so the frame is stored once and
/// the IP packet is a slice of it: see [`CapturedPacket::ip`](super::CapturedPacket::ip).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Network {
    /// An IPv4 packet starting at `offset` within the frame.
    Ipv4 {
        /// Where the IPv4 header starts within the frame.
        offset: usize,
    },
    /// An IPv6 packet starting at `offset` within the frame.
    Ipv6 {
        /// Where the IPv6 header starts within the frame.
        offset: usize,
    },
    /// Some other network protocol (ARP, LLDP, ...).
    Other {
        /// The ethertype, when the link layer names the protocol by one; `None` for an 802.3
        /// length field, an unknown loopback address family or a raw-IP frame whose version
        /// nibble is neither 4 nor 6.
        ethertype: Option<u16>,
    },
    /// The link-layer header could not be decoded.
    Undecodable(LinkError),
}

impl Network {
    /// Where the IP header starts within the frame, for IPv4 and IPv6.
    pub fn ip_offset(self) -> Option<usize> {
        match self {
            Network::Ipv4 { offset } | Network::Ipv6 { offset } => Some(offset),
            Network::Other { .. } | Network::Undecodable(_) => None,
        }
    }
}

impl fmt::Display for Network {
    /// `IPv4`, `IPv6`, `ethertype 0x0806`, `non-IP`, or why the frame could not be decoded.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Network::Ipv4 { .. } => f.write_str("IPv4"),
            Network::Ipv6 { .. } => f.write_str("IPv6"),
            Network::Other {
                ethertype: Some(ethertype),
            } => write!(f, "ethertype {ethertype:#06x}"),
            Network::Other { ethertype: None } => f.write_str("non-IP"),
            Network::Undecodable(error) => write!(f, "{error}"),
        }
    }
}

/// Why the link-layer header of one frame could not be decoded.
///
/// This is a per-packet condition, not a [`CaptureError`](super::CaptureError): the packet is
/// still yielded (so frame numbers stay those of Wireshark) and reading goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum LinkError {
    /// The link-layer type is not one this decoder knows.
    #[error("unsupported link type {0}")]
    UnsupportedLinkType(u32),
    /// The frame ends inside its link-layer header.
    #[error("link-layer header truncated: needs {needed} bytes, frame has {captured}")]
    TooShort {
        /// How many bytes the link-layer header needs (so far as it was read).
        needed: usize,
        /// How many bytes were captured.
        captured: usize,
    },
}

/// Finds the network-layer bytes of a frame of the given link-layer type.
///
/// Never panics, whatever the bytes.
///
/// ```
/// use mptcp_cli::decode::capture::{link, Network};
///
/// let mut frame = vec![0u8; 12]; // destination and source MAC
/// frame.extend_from_slice(&[0x86, 0xdd]); // ethertype IPv6
/// frame.push(0x60); // first byte of the IPv6 header
/// assert_eq!(link::locate_network(link::ETHERNET, &frame), Network::Ipv6 { offset: 14 });
/// ```
pub fn locate_network(link_type: u32, frame: &[u8]) -> Network {
    match link_type {
        NULL | LOOP => loopback(frame),
        ETHERNET => by_ethertype(frame, 12),
        RAW | RAW_BSD | RAW_OPENBSD => raw_ip(frame),
        IPV4 => Network::Ipv4 { offset: 0 },
        IPV6 => Network::Ipv6 { offset: 0 },
        LINUX_SLL => behind_header(frame, SLL_HEADER_LEN, 14),
        LINUX_SLL2 => behind_header(frame, SLL2_HEADER_LEN, 0),
        other => Network::Undecodable(LinkError::UnsupportedLinkType(other)),
    }
}

/// A frame whose fixed-size header of `header_len` bytes holds the ethertype at `type_at`
/// (the Linux cooked captures).
fn behind_header(frame: &[u8], header_len: usize, type_at: usize) -> Network {
    if frame.len() < header_len {
        return too_short(frame, header_len);
    }
    match Endian::Big.u16(frame, type_at) {
        Some(ethertype) => dispatch(frame, ethertype, header_len),
        None => too_short(frame, header_len),
    }
}

/// An ethertype at `type_at` and the payload right behind it, skipping any VLAN tags
/// (IEEE 802.1Q: a tag is the TPID we just read, 2 bytes of TCI, then the inner type).
fn by_ethertype(frame: &[u8], mut type_at: usize) -> Network {
    loop {
        let Some(ethertype) = Endian::Big.u16(frame, type_at) else {
            return too_short(frame, type_at.saturating_add(2));
        };
        match ethertype {
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => {
                type_at = type_at.saturating_add(4);
            }
            _ => return dispatch(frame, ethertype, type_at.saturating_add(2)),
        }
    }
}

/// The network layer named by `ethertype`, starting at `payload`. Linux cooked captures may
/// still carry VLAN tags (when the kernel did not strip them); those are skipped too.
fn dispatch(frame: &[u8], ethertype: u16, payload: usize) -> Network {
    match ethertype {
        ETHERTYPE_IPV4 => Network::Ipv4 { offset: payload },
        ETHERTYPE_IPV6 => Network::Ipv6 { offset: payload },
        ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => {
            by_ethertype(frame, payload.saturating_add(2))
        }
        length if length <= MAX_8023_LENGTH => Network::Other { ethertype: None },
        other => Network::Other {
            ethertype: Some(other),
        },
    }
}

/// Raw IP: the version nibble of the first byte tells IPv4 from IPv6.
fn raw_ip(frame: &[u8]) -> Network {
    match frame.first().map(|byte| byte >> 4) {
        Some(4) => Network::Ipv4 { offset: 0 },
        Some(6) => Network::Ipv6 { offset: 0 },
        Some(_) => Network::Other { ethertype: None },
        None => too_short(frame, 1),
    }
}

/// NULL and LOOP: a 4-byte address family. NULL is in the capturing host's byte order and LOOP
/// is meant to be big-endian, but writers get it wrong; as address families are small
/// numbers, the smaller of the two readings is the right one (as Wireshark does it).
fn loopback(frame: &[u8]) -> Network {
    let (Some(little), Some(big)) = (Endian::Little.u32(frame, 0), Endian::Big.u32(frame, 0))
    else {
        return too_short(frame, NULL_HEADER_LEN);
    };
    match little.min(big) {
        // AF_INET is 2 everywhere.
        2 => Network::Ipv4 {
            offset: NULL_HEADER_LEN,
        },
        // AF_INET6: Linux 10, Windows 23, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30.
        10 | 23 | 24 | 28 | 30 => Network::Ipv6 {
            offset: NULL_HEADER_LEN,
        },
        _ => Network::Other { ethertype: None },
    }
}

fn too_short(frame: &[u8], needed: usize) -> Network {
    Network::Undecodable(LinkError::TooShort {
        needed,
        captured: frame.len(),
    })
}
