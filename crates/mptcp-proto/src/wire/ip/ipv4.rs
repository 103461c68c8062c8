//! IPv4 (RFC 791): a checked view over a packet and its parsed header.

use core::net::Ipv4Addr;
use core::ops::Range;

use super::{IpFragment, IpProtocol};
use crate::wire::WireError;
use crate::wire::checksum::Checksum;
use crate::wire::field::{get, packet_view, set};

/// Byte offsets of the fixed header fields (RFC 791 §3.1).
mod offset {
    pub(super) const VER_IHL: usize = 0;
    pub(super) const DSCP_ECN: usize = 1;
    pub(super) const TOTAL_LEN: usize = 2;
    pub(super) const IDENT: usize = 4;
    pub(super) const FLAGS_FRAG: usize = 6;
    pub(super) const TTL: usize = 8;
    pub(super) const PROTOCOL: usize = 9;
    pub(super) const CHECKSUM: usize = 10;
    pub(super) const SRC: usize = 12;
    pub(super) const DST: usize = 16;
}

/// Length of the IPv4 header without options.
pub const IPV4_MIN_HEADER_LEN: usize = 20;
/// Longest IPv4 options area (IHL is 4 bits: 15 × 4 − 20 bytes).
pub const IPV4_MAX_OPTIONS_LEN: usize = 40;

const DONT_FRAG: u16 = 0x4000;
const MORE_FRAGS: u16 = 0x2000;
const FRAG_OFFSET_MASK: u16 = 0x1fff;

packet_view!(
    /// A view of an IPv4 packet over a byte buffer.
    ///
    /// Build it with [`new_checked`](Self::new_checked) on untrusted bytes: afterwards no accessor
    /// panics. The buffer may be longer than the packet (an Ethernet frame is padded to 60 bytes):
    /// [`payload`](Self::payload) ends where the total-length field says.
    Ipv4Packet
);

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Checks that the buffer holds a whole IPv4 packet (RFC 791 §3.1): at least 20 bytes,
    /// version 4, IHL ≥ 5, and header length ≤ total length ≤ buffer length.
    pub fn check_len(&self) -> Result<(), WireError> {
        let available = self.bytes().len();
        if available < IPV4_MIN_HEADER_LEN {
            return Err(WireError::Truncated {
                needed: IPV4_MIN_HEADER_LEN,
                available,
            });
        }
        if self.version() != 4 {
            return Err(WireError::BadVersion(self.version()));
        }
        let header_len = self.header_len();
        let total_len = usize::from(self.total_len());
        if header_len < IPV4_MIN_HEADER_LEN {
            return Err(WireError::BadLength(header_len));
        }
        if header_len > available {
            return Err(WireError::Truncated {
                needed: header_len,
                available,
            });
        }
        if total_len < header_len {
            return Err(WireError::BadLength(total_len));
        }
        if total_len > available {
            return Err(WireError::Truncated {
                needed: total_len,
                available,
            });
        }
        Ok(())
    }

    /// Version field (4 in a checked packet).
    pub fn version(&self) -> u8 {
        self.bytes()[offset::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.bytes()[offset::VER_IHL] & 0x0f) * 4
    }

    /// The former type-of-service byte: DSCP (6 bits) and ECN (2 bits) (RFC 2474, RFC 3168).
    pub fn dscp_ecn(&self) -> u8 {
        self.bytes()[offset::DSCP_ECN]
    }

    /// Total length of the packet, header included.
    pub fn total_len(&self) -> u16 {
        self.u16_at(offset::TOTAL_LEN)
    }

    /// Identification (for fragment reassembly).
    pub fn ident(&self) -> u16 {
        self.u16_at(offset::IDENT)
    }

    /// DF: do not fragment.
    pub fn dont_frag(&self) -> bool {
        self.u16_at(offset::FLAGS_FRAG) & DONT_FRAG != 0
    }

    /// MF: more fragments follow.
    pub fn more_frags(&self) -> bool {
        self.u16_at(offset::FLAGS_FRAG) & MORE_FRAGS != 0
    }

    /// Fragment offset in bytes (the field counts 8-byte units).
    pub fn frag_offset(&self) -> u16 {
        (self.u16_at(offset::FLAGS_FRAG) & FRAG_OFFSET_MASK) << 3
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.bytes()[offset::TTL]
    }

    /// Protocol of the payload.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol(self.bytes()[offset::PROTOCOL])
    }

    /// Header checksum field.
    pub fn checksum(&self) -> u16 {
        self.u16_at(offset::CHECKSUM)
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(get::<4>(self.bytes(), offset::SRC))
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(get::<4>(self.bytes(), offset::DST))
    }

    fn options_range(&self) -> Range<usize> {
        IPV4_MIN_HEADER_LEN..self.header_len()
    }

    fn payload_range(&self) -> Range<usize> {
        self.header_len()..usize::from(self.total_len())
    }

    /// The options area of the header (possibly empty).
    pub fn options(&self) -> &[u8] {
        &self.bytes()[self.options_range()]
    }

    /// The payload: from the end of the header to the total length (buffer padding excluded).
    pub fn payload(&self) -> &[u8] {
        &self.bytes()[self.payload_range()]
    }

    /// Whether the header checksum is correct (RFC 791 §3.1, computed as in RFC 1071).
    pub fn verify_checksum(&self) -> bool {
        Checksum::new()
            .add_bytes(&self.bytes()[..self.header_len()])
            .is_valid()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Sets version 4 and the header length in bytes (a multiple of 4, 20 to 60).
    pub fn set_version_and_header_len(&mut self, header_len: usize) {
        let ihl = u8::try_from(header_len / 4).unwrap_or(0x0f) & 0x0f;
        self.bytes_mut()[offset::VER_IHL] = 0x40 | ihl;
    }

    /// Sets the DSCP/ECN byte.
    pub fn set_dscp_ecn(&mut self, value: u8) {
        self.bytes_mut()[offset::DSCP_ECN] = value;
    }

    /// Sets the total length.
    pub fn set_total_len(&mut self, value: u16) {
        self.set_u16_at(offset::TOTAL_LEN, value);
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, value: u16) {
        self.set_u16_at(offset::IDENT, value);
    }

    /// Sets the flags (DF, MF; the reserved bit is cleared) and the fragment offset in bytes
    /// (its low 3 bits are dropped: the field counts 8-byte units).
    pub fn set_fragment(&mut self, dont_frag: bool, more_frags: bool, frag_offset: u16) {
        let mut value = (frag_offset >> 3) & FRAG_OFFSET_MASK;
        if dont_frag {
            value |= DONT_FRAG;
        }
        if more_frags {
            value |= MORE_FRAGS;
        }
        self.set_u16_at(offset::FLAGS_FRAG, value);
    }

    /// Sets the time to live.
    pub fn set_ttl(&mut self, value: u8) {
        self.bytes_mut()[offset::TTL] = value;
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, value: IpProtocol) {
        self.bytes_mut()[offset::PROTOCOL] = value.0;
    }

    /// Sets the header checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        self.set_u16_at(offset::CHECKSUM, value);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        set(self.bytes_mut(), offset::SRC, addr.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        set(self.bytes_mut(), offset::DST, addr.octets());
    }

    /// The options area, writable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let range = self.options_range();
        &mut self.bytes_mut()[range]
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload_range();
        &mut self.bytes_mut()[range]
    }

    /// Computes the header checksum and writes it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let header_len = self.header_len();
        let sum = Checksum::new()
            .add_bytes(&self.bytes()[..header_len])
            .finish();
        self.set_checksum(sum);
    }
}

/// A parsed IPv4 header (RFC 791 §3.1). The reserved flag bit is not represented (sent as
/// zero); everything else is, so emitting a parsed header gives back the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr<'a> {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Protocol of the payload.
    pub protocol: IpProtocol,
    /// Payload length (total length minus header length).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// DSCP (6 bits) and ECN (2 bits).
    pub dscp_ecn: u8,
    /// Identification.
    pub ident: u16,
    /// DF: do not fragment.
    pub dont_frag: bool,
    /// MF: more fragments follow.
    pub more_frags: bool,
    /// Fragment offset in bytes (a multiple of 8).
    pub frag_offset: u16,
    /// Raw options area (a multiple of 4 bytes on the wire, at most 40).
    pub options: &'a [u8],
}

impl<'a> Ipv4Repr<'a> {
    /// Parses the header of a packet. Does not verify the header checksum: call
    /// [`Ipv4Packet::verify_checksum`] for that.
    pub fn parse(packet: &Ipv4Packet<&'a [u8]>) -> Result<Self, WireError> {
        packet.check_len()?;
        let bytes: &'a [u8] = packet.as_inner();
        Ok(Self {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: packet.payload_range().len(),
            ttl: packet.ttl(),
            dscp_ecn: packet.dscp_ecn(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
            options: &bytes[packet.options_range()],
        })
    }

    /// The options that fit in a header: the first 40 bytes.
    fn emitted_options(&self) -> &'a [u8] {
        self.options
            .get(..IPV4_MAX_OPTIONS_LEN)
            .unwrap_or(self.options)
    }

    /// Header length: 20 bytes plus the options padded to a multiple of 4 (options beyond
    /// 40 bytes are not emitted).
    pub fn header_len(&self) -> usize {
        IPV4_MIN_HEADER_LEN + self.emitted_options().len().next_multiple_of(4)
    }

    /// Length of the whole packet: header plus payload.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Writes the header (options padded with zero bytes) and its checksum into the first
    /// [`header_len`](Self::header_len) bytes of `packet`; the payload is the caller's. A
    /// total length beyond 65535 is written as 65535.
    ///
    /// # Panics
    ///
    /// If the buffer is shorter than `header_len()`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv4Packet<T>) {
        let header_len = self.header_len();
        packet.set_version_and_header_len(header_len);
        packet.set_dscp_ecn(self.dscp_ecn);
        packet.set_total_len(u16::try_from(self.buffer_len()).unwrap_or(u16::MAX));
        packet.set_ident(self.ident);
        packet.set_fragment(self.dont_frag, self.more_frags, self.frag_offset);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src);
        packet.set_dst_addr(self.dst);
        let options = self.emitted_options();
        let area = &mut packet.bytes_mut()[IPV4_MIN_HEADER_LEN..header_len];
        let (head, padding) = area.split_at_mut(options.len());
        head.copy_from_slice(options);
        padding.fill(0);
        packet.fill_checksum();
    }

    /// The fragment this packet is, if it is one (MF set or a non-zero offset).
    pub fn fragment(&self) -> Option<IpFragment> {
        (self.more_frags || self.frag_offset != 0).then_some(IpFragment {
            ident: u32::from(self.ident),
            offset: self.frag_offset,
            more: self.more_frags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 192.168.0.1 → 192.168.0.199, UDP, total length 0x73 (checksum b861), then padding.
    fn sample() -> Vec<u8> {
        let mut bytes = vec![
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        bytes.resize(0x73 + 6, 0xee);
        bytes
    }

    #[test]
    fn view_reads_fields_and_stops_payload_at_total_length() {
        let bytes = sample();
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.version(), 4);
        assert_eq!(packet.header_len(), 20);
        assert_eq!(packet.total_len(), 0x73);
        assert!(packet.dont_frag());
        assert!(!packet.more_frags());
        assert_eq!(packet.frag_offset(), 0);
        assert_eq!(packet.ttl(), 64);
        assert_eq!(packet.protocol(), IpProtocol::UDP);
        assert_eq!(packet.src_addr(), Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(packet.dst_addr(), Ipv4Addr::new(192, 168, 0, 199));
        assert_eq!(packet.payload().len(), 0x73 - 20);
        assert!(packet.options().is_empty());
        assert!(packet.verify_checksum());
    }

    #[test]
    fn repr_round_trip_is_byte_exact() {
        let bytes = sample();
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        let repr = Ipv4Repr::parse(&packet).unwrap();
        assert_eq!(repr.payload_len, 0x73 - 20);
        assert_eq!(repr.fragment(), None);
        let mut out = vec![0u8; repr.header_len()];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, bytes[..20]);
    }

    #[test]
    fn options_and_fragments() {
        let repr = Ipv4Repr {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            protocol: IpProtocol::TCP,
            payload_len: 8,
            ttl: 3,
            dscp_ecn: 0x02,
            ident: 0x1234,
            dont_frag: false,
            more_frags: true,
            frag_offset: 1480,
            options: &[1, 1, 1],
        };
        assert_eq!(repr.header_len(), 24);
        let mut out = vec![0xffu8; repr.buffer_len()];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut out[..]));
        assert_eq!(out[20..24], [1, 1, 1, 0]);
        let packet = Ipv4Packet::new_checked(&out[..]).unwrap();
        assert!(packet.verify_checksum());
        let parsed = Ipv4Repr::parse(&packet).unwrap();
        assert_eq!(parsed.options, [1, 1, 1, 0]);
        assert_eq!(parsed.frag_offset, 1480);
        assert_eq!(
            parsed.fragment(),
            Some(IpFragment {
                ident: 0x1234,
                offset: 1480,
                more: true
            })
        );
    }

    #[test]
    fn check_len_rejects_bad_headers() {
        let bytes = sample();
        let check = |b: &[u8]| Ipv4Packet::new_checked(b).map(|_| ());
        assert_eq!(
            check(&bytes[..19]),
            Err(WireError::Truncated {
                needed: 20,
                available: 19
            })
        );
        assert_eq!(
            check(&bytes[..3]),
            Err(WireError::Truncated {
                needed: 20,
                available: 3
            })
        );
        let mut v6 = bytes.clone();
        v6[0] = 0x65;
        assert_eq!(check(&v6), Err(WireError::BadVersion(6)));
        let mut short_ihl = bytes.clone();
        short_ihl[0] = 0x44;
        assert_eq!(check(&short_ihl), Err(WireError::BadLength(16)));
        let mut long_ihl = bytes[..40].to_vec();
        long_ihl[0] = 0x4f;
        long_ihl[3] = 40;
        assert_eq!(
            check(&long_ihl),
            Err(WireError::Truncated {
                needed: 60,
                available: 40
            })
        );
        assert_eq!(
            check(&bytes[..0x72]),
            Err(WireError::Truncated {
                needed: 0x73,
                available: 0x72
            })
        );
        let mut tiny_total = bytes.clone();
        tiny_total[3] = 19;
        assert_eq!(check(&tiny_total), Err(WireError::BadLength(19)));
    }
}
