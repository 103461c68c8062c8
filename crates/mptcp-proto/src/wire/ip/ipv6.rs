//! IPv6 (RFC 8200): a checked view over a packet, its parsed fixed header, and the walk over
//! extension headers to the upper-layer protocol.

use core::net::Ipv6Addr;
use core::ops::Range;

use super::{IpFragment, IpProtocol};
use crate::wire::WireError;
use crate::wire::field::{Reader, get, packet_view, set};

/// Byte offsets of the fixed header fields (RFC 8200 §3).
mod offset {
    pub(super) const VER_TC_FLOW: usize = 0;
    pub(super) const PAYLOAD_LEN: usize = 4;
    pub(super) const NEXT_HEADER: usize = 6;
    pub(super) const HOP_LIMIT: usize = 7;
    pub(super) const SRC: usize = 8;
    pub(super) const DST: usize = 24;
}

/// Length of the fixed IPv6 header.
pub const IPV6_HEADER_LEN: usize = 40;

const FLOW_LABEL_MASK: u32 = 0x000f_ffff;

packet_view!(
    /// A view of an IPv6 packet over a byte buffer.
    ///
    /// Build it with [`new_checked`](Self::new_checked) on untrusted bytes: afterwards no accessor
    /// panics. [`payload`](Self::payload) ends where the payload-length field says (extension
    /// headers included), so trailing buffer padding is excluded. Jumbograms (RFC 2675) are not
    /// supported: a zero payload length means an empty payload.
    Ipv6Packet
);

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Checks that the buffer holds a whole IPv6 packet (RFC 8200 §3): at least the 40-byte
    /// header, version 6, and 40 + payload length ≤ buffer length.
    pub fn check_len(&self) -> Result<(), WireError> {
        let available = self.bytes().len();
        if available < IPV6_HEADER_LEN {
            return Err(WireError::Truncated {
                needed: IPV6_HEADER_LEN,
                available,
            });
        }
        if self.version() != 6 {
            return Err(WireError::BadVersion(self.version()));
        }
        let needed = IPV6_HEADER_LEN + usize::from(self.payload_len());
        if needed > available {
            return Err(WireError::Truncated { needed, available });
        }
        Ok(())
    }

    fn first_word(&self) -> u32 {
        u32::from_be_bytes(get(self.bytes(), offset::VER_TC_FLOW))
    }

    /// Version field (6 in a checked packet).
    pub fn version(&self) -> u8 {
        self.bytes()[offset::VER_TC_FLOW] >> 4
    }

    /// Traffic class: DSCP (6 bits) and ECN (2 bits).
    pub fn traffic_class(&self) -> u8 {
        let [version_class, class_flow] = get(self.bytes(), offset::VER_TC_FLOW);
        (version_class << 4) | (class_flow >> 4)
    }

    /// Flow label (20 bits).
    pub fn flow_label(&self) -> u32 {
        self.first_word() & FLOW_LABEL_MASK
    }

    /// Payload length: everything after the fixed header, extension headers included.
    pub fn payload_len(&self) -> u16 {
        self.u16_at(offset::PAYLOAD_LEN)
    }

    /// Next header: the first extension header or the upper-layer protocol.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(self.bytes()[offset::NEXT_HEADER])
    }

    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.bytes()[offset::HOP_LIMIT]
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(get::<16>(self.bytes(), offset::SRC))
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(get::<16>(self.bytes(), offset::DST))
    }

    fn payload_range(&self) -> Range<usize> {
        IPV6_HEADER_LEN..IPV6_HEADER_LEN + usize::from(self.payload_len())
    }

    /// The payload (extension headers and upper layer), as long as the payload-length field
    /// says.
    pub fn payload(&self) -> &[u8] {
        &self.bytes()[self.payload_range()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    /// Writes version 6, the traffic class and the flow label (its low 20 bits).
    pub fn set_version_class_flow(&mut self, traffic_class: u8, flow_label: u32) {
        let word = (6 << 28) | (u32::from(traffic_class) << 20) | (flow_label & FLOW_LABEL_MASK);
        set(self.bytes_mut(), offset::VER_TC_FLOW, word.to_be_bytes());
    }

    /// Sets the payload length.
    pub fn set_payload_len(&mut self, value: u16) {
        self.set_u16_at(offset::PAYLOAD_LEN, value);
    }

    /// Sets the next header.
    pub fn set_next_header(&mut self, value: IpProtocol) {
        self.bytes_mut()[offset::NEXT_HEADER] = value.0;
    }

    /// Sets the hop limit.
    pub fn set_hop_limit(&mut self, value: u8) {
        self.bytes_mut()[offset::HOP_LIMIT] = value;
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv6Addr) {
        set(self.bytes_mut(), offset::SRC, addr.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv6Addr) {
        set(self.bytes_mut(), offset::DST, addr.octets());
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload_range();
        &mut self.bytes_mut()[range]
    }
}

/// A parsed IPv6 fixed header (RFC 8200 §3). Extension headers belong to the payload; see
/// [`ipv6_upper_layer`]. Every bit of the fixed header is represented, so emitting a parsed
/// header gives back the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Repr {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Next header (the first extension header or the upper-layer protocol).
    pub next_header: IpProtocol,
    /// Payload length (extension headers included).
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
}

impl Ipv6Repr {
    /// Parses the fixed header of a packet.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv6Packet<T>) -> Result<Self, WireError> {
        packet.check_len()?;
        Ok(Self {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.payload_len()),
            hop_limit: packet.hop_limit(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
        })
    }

    /// Header length: always 40 bytes.
    pub fn header_len(&self) -> usize {
        IPV6_HEADER_LEN
    }

    /// Length of the whole packet: header plus payload.
    pub fn buffer_len(&self) -> usize {
        IPV6_HEADER_LEN + self.payload_len
    }

    /// Writes the fixed header into the first 40 bytes of `packet`; the payload is the
    /// caller's. A payload length beyond 65535 is written as 65535; only the low 20 bits of
    /// the flow label are written.
    ///
    /// # Panics
    ///
    /// If the buffer is shorter than 40 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv6Packet<T>) {
        packet.set_version_class_flow(self.traffic_class, self.flow_label);
        packet.set_payload_len(u16::try_from(self.payload_len).unwrap_or(u16::MAX));
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src);
        packet.set_dst_addr(self.dst);
    }
}

/// Where the upper-layer header starts in an IPv6 payload (see [`ipv6_upper_layer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6UpperLayer {
    /// The upper-layer protocol (the first next-header value that is not a walked extension
    /// header).
    pub protocol: IpProtocol,
    /// Offset of the upper-layer bytes in the IPv6 payload.
    pub offset: usize,
    /// The fragment header met on the way, if any.
    pub fragment: Option<IpFragment>,
}

/// Walks the extension headers at the start of an IPv6 payload (RFC 8200 §4) to the
/// upper-layer protocol.
///
/// `next_header` is the fixed header's next-header value and `payload` the IPv6 payload.
/// Hop-by-Hop Options (0), Routing (43) and Destination Options (60) are skipped by their
/// length field; any other value is the upper layer. A Fragment header (44, RFC 8200 §4.5) is
/// reported in [`Ipv6UpperLayer::fragment`]: a first fragment (offset 0) is walked on, a later
/// fragment stops the walk right after the fragment header, with the fragment's next header
/// as `protocol` (its bytes are the middle of some upper-layer packet, not a header).
///
/// Errors with [`WireError::Truncated`] when an extension header runs past the payload. Never
/// panics; every header consumes at least 8 bytes, so the walk ends.
pub fn ipv6_upper_layer(
    next_header: IpProtocol,
    payload: &[u8],
) -> Result<Ipv6UpperLayer, WireError> {
    let mut protocol = next_header;
    let mut reader = Reader::new(payload);
    let mut fragment = None;
    loop {
        match protocol {
            IpProtocol::HOP_BY_HOP | IpProtocol::IPV6_ROUTE | IpProtocol::IPV6_OPTS => {
                let [next, len_units] = reader.array()?;
                // Length in 8-octet units, not counting the first 8 octets (RFC 8200 §4.3).
                reader.take(usize::from(len_units) * 8 + 6)?;
                protocol = IpProtocol(next);
            }
            IpProtocol::IPV6_FRAG => {
                let [next, _reserved] = reader.array()?;
                let offset_flags = reader.u16()?;
                let ident = reader.u32()?;
                let this = IpFragment {
                    ident,
                    offset: offset_flags & !0x7,
                    more: offset_flags & 1 != 0,
                };
                fragment = Some(this);
                protocol = IpProtocol(next);
                if this.offset != 0 {
                    break;
                }
            }
            _ => break,
        }
    }
    let offset = payload.len() - reader.rest().len();
    Ok(Ipv6UpperLayer {
        protocol,
        offset,
        fragment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// fd00::1 → fd00::2, class 0xb8, flow 0x12345, Hop-by-Hop (8 bytes of padding options)
    /// then 20 bytes of "TCP", then 4 bytes of buffer padding.
    fn sample() -> Vec<u8> {
        let mut bytes = vec![0x6b, 0x81, 0x23, 0x45, 0x00, 28, 0x00, 64];
        bytes.extend_from_slice(&"fd00::1".parse::<Ipv6Addr>().unwrap().octets());
        bytes.extend_from_slice(&"fd00::2".parse::<Ipv6Addr>().unwrap().octets());
        bytes.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
        bytes.extend_from_slice(&[0xaa; 20]);
        bytes.extend_from_slice(&[0; 4]);
        bytes
    }

    #[test]
    fn view_reads_fields() {
        let bytes = sample();
        let packet = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.version(), 6);
        assert_eq!(packet.traffic_class(), 0xb8);
        assert_eq!(packet.flow_label(), 0x12345);
        assert_eq!(packet.payload_len(), 28);
        assert_eq!(packet.next_header(), IpProtocol::HOP_BY_HOP);
        assert_eq!(packet.hop_limit(), 64);
        assert_eq!(packet.src_addr(), "fd00::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(packet.dst_addr(), "fd00::2".parse::<Ipv6Addr>().unwrap());
        assert_eq!(packet.payload().len(), 28);
        let upper = ipv6_upper_layer(packet.next_header(), packet.payload()).unwrap();
        assert_eq!(
            upper,
            Ipv6UpperLayer {
                protocol: IpProtocol::TCP,
                offset: 8,
                fragment: None
            }
        );
    }

    #[test]
    fn repr_round_trip_is_byte_exact() {
        let bytes = sample();
        let repr = Ipv6Repr::parse(&Ipv6Packet::new_checked(&bytes[..]).unwrap()).unwrap();
        assert_eq!(repr.buffer_len(), 68);
        let mut out = [0u8; IPV6_HEADER_LEN];
        repr.emit(&mut Ipv6Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, bytes[..IPV6_HEADER_LEN]);
    }

    #[test]
    fn fragments_are_reported() {
        // Destination options (16 bytes), then a fragment header at offset 1232, MF set.
        let mut payload = vec![IpProtocol::IPV6_FRAG.0, 1];
        payload.extend_from_slice(&[0; 14]);
        payload.extend_from_slice(&[6, 0]);
        payload.extend_from_slice(&(1232u16 | 1).to_be_bytes());
        payload.extend_from_slice(&0xdead_beefu32.to_be_bytes());
        payload.extend_from_slice(&[0x55; 8]);
        let upper = ipv6_upper_layer(IpProtocol::IPV6_OPTS, &payload).unwrap();
        let fragment = IpFragment {
            ident: 0xdead_beef,
            offset: 1232,
            more: true,
        };
        assert_eq!(
            upper,
            Ipv6UpperLayer {
                protocol: IpProtocol::TCP,
                offset: 24,
                fragment: Some(fragment)
            }
        );
        // A first fragment is walked on: here its next header is another Destination Options
        // header, which the remaining 8 bytes hold.
        payload[16] = IpProtocol::IPV6_OPTS.0;
        payload[18..20].copy_from_slice(&1u16.to_be_bytes());
        payload[24] = IpProtocol::UDP.0;
        payload[25] = 0;
        let upper = ipv6_upper_layer(IpProtocol::IPV6_OPTS, &payload).unwrap();
        assert_eq!(upper.protocol, IpProtocol::UDP);
        assert_eq!(upper.offset, 32);
        assert_eq!(upper.fragment.map(|f| (f.offset, f.more)), Some((0, true)));
    }

    #[test]
    fn truncated_extension_headers_are_errors() {
        assert_eq!(
            ipv6_upper_layer(IpProtocol::HOP_BY_HOP, &[6, 1, 0, 0, 0, 0, 0, 0]),
            Err(WireError::Truncated {
                needed: 14,
                available: 6
            })
        );
        assert!(ipv6_upper_layer(IpProtocol::IPV6_FRAG, &[6, 0, 0]).is_err());
        assert!(ipv6_upper_layer(IpProtocol::IPV6_ROUTE, &[]).is_err());
        let upper = ipv6_upper_layer(IpProtocol::TCP, &[]).unwrap();
        assert_eq!((upper.protocol, upper.offset), (IpProtocol::TCP, 0));
    }

    #[test]
    fn check_len_rejects_bad_headers() {
        let bytes = sample();
        let check = |b: &[u8]| Ipv6Packet::new_checked(b).map(|_| ());
        assert_eq!(
            check(&bytes[..39]),
            Err(WireError::Truncated {
                needed: 40,
                available: 39
            })
        );
        assert_eq!(
            check(&bytes[..67]),
            Err(WireError::Truncated {
                needed: 68,
                available: 67
            })
        );
        let mut v4 = bytes.clone();
        v4[0] = 0x45;
        assert_eq!(check(&v4), Err(WireError::BadVersion(4)));
    }
}
