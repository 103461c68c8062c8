//! The TCP header (RFC 9293 §3.1): flags, a checked view over a segment ([`TcpPacket`]) and
//! the parsed segment ([`TcpRepr`]).

use core::fmt;
use core::net::IpAddr;
use core::ops::Range;
use core::ops::{BitAnd, BitOr, BitOrAssign};

use super::checksum::pseudo_header_checksum;
use super::field::{get, packet_view, set};
use super::ip::IpProtocol;
use super::mptcp::MptcpOption;
use super::tcp_option::{MAX_OPTIONS_LEN, emit_tcp_options, tcp_options_len};
use super::{SackBlock, SeqNum, TcpOption, TcpOptions, WireError};

/// Length of the TCP header without options.
pub const TCP_HEADER_LEN: usize = 20;

/// Byte offsets of the header fields (RFC 9293 §3.1).
mod offset {
    pub(super) const SRC_PORT: usize = 0;
    pub(super) const DST_PORT: usize = 2;
    pub(super) const SEQ: usize = 4;
    pub(super) const ACK: usize = 8;
    pub(super) const DATA_OFFSET: usize = 12;
    pub(super) const FLAGS: usize = 13;
    pub(super) const WINDOW: usize = 14;
    pub(super) const CHECKSUM: usize = 16;
    pub(super) const URGENT: usize = 18;
}

/// The nine TCP flag bits (RFC 9293 §3.1, RFC 3168 for ECE and CWR, RFC 3540 for NS). The
/// three reserved bits of the header are not represented: they are sent as zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(u16);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: Self = Self(0x001);
    /// Synchronize sequence numbers.
    pub const SYN: Self = Self(0x002);
    /// Reset the connection.
    pub const RST: Self = Self(0x004);
    /// Push function.
    pub const PSH: Self = Self(0x008);
    /// Acknowledgment field is significant.
    pub const ACK: Self = Self(0x010);
    /// Urgent pointer field is significant.
    pub const URG: Self = Self(0x020);
    /// ECN echo (RFC 3168).
    pub const ECE: Self = Self(0x040);
    /// Congestion window reduced (RFC 3168).
    pub const CWR: Self = Self(0x080);
    /// ECN nonce sum (RFC 3540, historic; the lowest reserved bit of byte 12).
    pub const NS: Self = Self(0x100);

    const ALL: u16 = 0x1ff;
    const NAMES: [(Self, &'static str); 9] = [
        (Self::FIN, "FIN"),
        (Self::SYN, "SYN"),
        (Self::RST, "RST"),
        (Self::PSH, "PSH"),
        (Self::ACK, "ACK"),
        (Self::URG, "URG"),
        (Self::ECE, "ECE"),
        (Self::CWR, "CWR"),
        (Self::NS, "NS"),
    ];

    /// No flag set.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// The flags of the low 9 bits of `bits` (bit 8 is NS, bits 0..8 are byte 13 of the
    /// header); other bits are dropped.
    pub const fn from_bits_truncate(bits: u16) -> Self {
        Self(bits & Self::ALL)
    }

    /// The flags as bits (see [`from_bits_truncate`](Self::from_bits_truncate)).
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Sets or clears the flags of `other`.
    pub fn set(&mut self, other: Self, on: bool) {
        if on {
            self.0 |= other.0;
        } else {
            self.0 &= !other.0;
        }
    }
}

impl BitOr for TcpFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for TcpFlags {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

/// The set flags in bit order, comma-separated: `SYN,ACK`, `FIN,PSH,ACK`; `none` when empty.
impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut first = true;
        for (flag, name) in Self::NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TcpFlags({self})")
    }
}

packet_view!(
    /// A view of a TCP segment over a byte buffer: the buffer is the whole segment (the IP
    /// payload), header, options and data.
    ///
    /// Build it with [`new_checked`](Self::new_checked) on untrusted bytes: afterwards no accessor
    /// panics.
    TcpPacket
);

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Checks that the buffer holds a TCP header (RFC 9293 §3.1): at least 20 bytes, a data
    /// offset of at least 5 words, and the header within the buffer.
    pub fn check_len(&self) -> Result<(), WireError> {
        let available = self.bytes().len();
        if available < TCP_HEADER_LEN {
            return Err(WireError::Truncated {
                needed: TCP_HEADER_LEN,
                available,
            });
        }
        let header_len = self.header_len();
        if header_len < TCP_HEADER_LEN {
            return Err(WireError::BadLength(header_len));
        }
        if header_len > available {
            return Err(WireError::Truncated {
                needed: header_len,
                available,
            });
        }
        Ok(())
    }

    fn u32_at(&self, at: usize) -> u32 {
        u32::from_be_bytes(get(self.bytes(), at))
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        self.u16_at(offset::SRC_PORT)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        self.u16_at(offset::DST_PORT)
    }

    /// Sequence number.
    pub fn seq_number(&self) -> SeqNum {
        SeqNum(self.u32_at(offset::SEQ))
    }

    /// Acknowledgment number (meaningful when ACK is set).
    pub fn ack_number(&self) -> SeqNum {
        SeqNum(self.u32_at(offset::ACK))
    }

    /// Header length in bytes (data offset × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.bytes()[offset::DATA_OFFSET] >> 4) * 4
    }

    /// The flags.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags::from_bits_truncate(self.u16_at(offset::DATA_OFFSET))
    }

    /// Window (unscaled).
    pub fn window_len(&self) -> u16 {
        self.u16_at(offset::WINDOW)
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        self.u16_at(offset::CHECKSUM)
    }

    /// Urgent pointer.
    pub fn urgent_at(&self) -> u16 {
        self.u16_at(offset::URGENT)
    }

    fn options_range(&self) -> Range<usize> {
        TCP_HEADER_LEN..self.header_len()
    }

    /// The options area (header bytes after the first 20); iterate it with [`TcpOptions`].
    pub fn options(&self) -> &[u8] {
        &self.bytes()[self.options_range()]
    }

    /// The data after the header.
    pub fn payload(&self) -> &[u8] {
        &self.bytes()[self.header_len()..]
    }

    /// Whether the checksum is correct for a segment between `src` and `dst` (RFC 9293 §3.1
    /// with the IPv4 pseudo-header; RFC 8200 §8.1 with the IPv6 one).
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        self.sum(src, dst).is_valid()
    }

    fn sum(&self, src: IpAddr, dst: IpAddr) -> super::Checksum {
        let len = u32::try_from(self.bytes().len()).unwrap_or(u32::MAX);
        let mut sum = pseudo_header_checksum(src, dst, IpProtocol::TCP, len);
        sum.add_bytes(self.bytes());
        sum
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, value: u16) {
        self.set_u16_at(offset::SRC_PORT, value);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, value: u16) {
        self.set_u16_at(offset::DST_PORT, value);
    }

    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, value: SeqNum) {
        set(self.bytes_mut(), offset::SEQ, value.0.to_be_bytes());
    }

    /// Sets the acknowledgment number.
    pub fn set_ack_number(&mut self, value: SeqNum) {
        set(self.bytes_mut(), offset::ACK, value.0.to_be_bytes());
    }

    /// Sets the header length in bytes (a multiple of 4, 20 to 60), keeping the flags and
    /// clearing the reserved bits.
    pub fn set_header_len(&mut self, header_len: usize) {
        let words = u8::try_from(header_len / 4).unwrap_or(0x0f) & 0x0f;
        let ns = self.bytes()[offset::DATA_OFFSET] & 1;
        self.bytes_mut()[offset::DATA_OFFSET] = (words << 4) | ns;
    }

    /// Sets the flags, keeping the header length and clearing the reserved bits.
    pub fn set_flags(&mut self, flags: TcpFlags) {
        let [ns, low] = flags.bits().to_be_bytes();
        let buf = self.bytes_mut();
        buf[offset::DATA_OFFSET] = (buf[offset::DATA_OFFSET] & 0xf0) | ns;
        buf[offset::FLAGS] = low;
    }

    /// Sets the window.
    pub fn set_window_len(&mut self, value: u16) {
        self.set_u16_at(offset::WINDOW, value);
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        self.set_u16_at(offset::CHECKSUM, value);
    }

    /// Sets the urgent pointer.
    pub fn set_urgent_at(&mut self, value: u16) {
        self.set_u16_at(offset::URGENT, value);
    }

    /// The options area, writable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let range = self.options_range();
        &mut self.bytes_mut()[range]
    }

    /// The data after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.bytes_mut()[start..]
    }

    /// Computes the checksum over the pseudo-header and the whole buffer, and writes it.
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let sum = self.sum(src, dst).finish();
        self.set_checksum(sum);
    }
}

/// A parsed TCP segment (RFC 9293 §3.1).
///
/// `options` are in wire order with NOPs and the end-of-list option, so emitting a parsed
/// segment gives back its bytes (the reserved header bits and any bytes after an end-of-list
/// option other than the zero padding up to the next multiple of 4 excepted).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TcpRepr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_number: SeqNum,
    /// Acknowledgment number (sent as it is even when ACK is clear).
    pub ack_number: SeqNum,
    /// Flags.
    pub flags: TcpFlags,
    /// Window (unscaled).
    pub window_len: u16,
    /// Urgent pointer.
    pub urgent_at: u16,
    /// Options in wire order.
    pub options: Vec<TcpOption<'a>>,
    /// Data.
    pub payload: &'a [u8],
}

impl<'a> TcpRepr<'a> {
    /// Parses a segment. Does not verify the checksum (see [`TcpPacket::verify_checksum`]).
    /// Fails if the header does not fit the buffer or the options area is structurally broken
    /// (an option length below 2 or past the header; see [`TcpOptions`]); RFC 9293 §3.1 asks
    /// a receiver to be prepared for such illegal option lengths.
    pub fn parse(packet: &TcpPacket<&'a [u8]>) -> Result<Self, WireError> {
        packet.check_len()?;
        let bytes: &'a [u8] = packet.as_inner();
        let options = TcpOptions::new(&bytes[packet.options_range()]).collect::<Result<_, _>>()?;
        Ok(Self {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq_number: packet.seq_number(),
            ack_number: packet.ack_number(),
            flags: packet.flags(),
            window_len: packet.window_len(),
            urgent_at: packet.urgent_at(),
            options,
            payload: &bytes[packet.header_len()..],
        })
    }

    /// The options that are emitted: the longest prefix of `options` that fits the 40-byte
    /// options area.
    fn emitted_options(&self) -> &[TcpOption<'a>] {
        let mut len = 0;
        let count = self
            .options
            .iter()
            .take_while(|option| {
                len += option.buffer_len();
                len <= MAX_OPTIONS_LEN
            })
            .count();
        &self.options[..count]
    }

    /// Header length: 20 bytes plus the options padded to a multiple of 4. Options that do
    /// not fit the 40-byte options area are not emitted (nor counted), from the first one
    /// that overflows it.
    pub fn header_len(&self) -> usize {
        TCP_HEADER_LEN + tcp_options_len(self.emitted_options())
    }

    /// Length of the segment: header plus payload.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// Sequence space the segment takes: payload length, plus one each for SYN and FIN
    /// (RFC 9293 §3.4).
    pub fn seq_len(&self) -> usize {
        self.payload.len()
            + usize::from(self.flags.contains(TcpFlags::SYN))
            + usize::from(self.flags.contains(TcpFlags::FIN))
    }

    /// Writes the segment into `packet` and fills in its checksum for `src` → `dst`.
    ///
    /// The packet's buffer is the segment: it should be exactly
    /// [`buffer_len`](Self::buffer_len) bytes, since the checksum covers the whole buffer.
    ///
    /// # Panics
    ///
    /// If the buffer is shorter than `buffer_len()`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut TcpPacket<T>,
        src: IpAddr,
        dst: IpAddr,
    ) {
        let header_len = self.header_len();
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq_number);
        packet.set_ack_number(self.ack_number);
        packet.set_header_len(header_len);
        packet.set_flags(self.flags);
        packet.set_window_len(self.window_len);
        packet.set_urgent_at(self.urgent_at);
        emit_tcp_options(self.emitted_options(), packet.options_mut());
        packet.payload_mut()[..self.payload.len()].copy_from_slice(self.payload);
        packet.fill_checksum(src, dst);
    }

    /// The MPTCP options, in wire order.
    pub fn mptcp_options(&self) -> impl Iterator<Item = &MptcpOption<'a>> {
        self.options.iter().filter_map(|option| match option {
            TcpOption::Mptcp(mptcp) => Some(mptcp),
            _ => None,
        })
    }

    /// The value of the first option `pick` accepts.
    fn find<R>(&self, pick: impl FnMut(&TcpOption<'a>) -> Option<R>) -> Option<R> {
        self.options.iter().find_map(pick)
    }

    /// The maximum segment size option, if any.
    pub fn mss(&self) -> Option<u16> {
        self.find(|option| match *option {
            TcpOption::MaxSegmentSize(mss) => Some(mss),
            _ => None,
        })
    }

    /// The window scale shift count, if the option is present (RFC 7323 §2).
    pub fn window_scale(&self) -> Option<u8> {
        self.find(|option| match *option {
            TcpOption::WindowScale(shift) => Some(shift),
            _ => None,
        })
    }

    /// Whether the SACK-permitted option is present (RFC 2018 §2).
    pub fn sack_permitted(&self) -> bool {
        self.options.contains(&TcpOption::SackPermitted)
    }

    /// The blocks of the first SACK option; empty without one (RFC 2018 §3).
    pub fn sack_blocks(&self) -> &[SackBlock] {
        self.options
            .iter()
            .find(|option| matches!(option, TcpOption::SackRange { .. }))
            .map_or(&[], TcpOption::sack_blocks)
    }

    /// The timestamps option as `(TSval, TSecr)`, if present (RFC 7323 §3).
    pub fn timestamp(&self) -> Option<(u32, u32)> {
        self.find(|option| match *option {
            TcpOption::Timestamp { value, echo_reply } => Some((value, echo_reply)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::mptcp::MptcpOption;
    use core::net::Ipv4Addr;

    const SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 77, 0, 1));
    const DST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 77, 0, 2));

    /// The TCP part of a SYN captured from Linux 6.18 (10.77.0.1:58718 → 10.77.0.2:8080).
    const LINUX_SYN: [u8; 44] = [
        0xe5, 0x5e, 0x1f, 0x90, 0xca, 0x60, 0x0f, 0x62, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x02, 0xfa,
        0xf0, 0x83, 0x7a, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0xf4, 0xef,
        0xb2, 0x4a, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a, 0x1e, 0x04, 0x01, 0x01,
    ];

    #[test]
    fn flags_display() {
        assert_eq!((TcpFlags::SYN | TcpFlags::ACK).to_string(), "SYN,ACK");
        assert_eq!(
            (TcpFlags::FIN | TcpFlags::PSH | TcpFlags::ACK).to_string(),
            "FIN,PSH,ACK"
        );
        assert_eq!(TcpFlags::empty().to_string(), "none");
        assert_eq!(format!("{:?}", TcpFlags::RST), "TcpFlags(RST)");
        assert_eq!(
            TcpFlags::from_bits_truncate(0xff01),
            TcpFlags::NS | TcpFlags::FIN
        );
        let mut flags = TcpFlags::SYN;
        flags |= TcpFlags::ECE | TcpFlags::CWR;
        flags.set(TcpFlags::SYN, false);
        assert_eq!(flags.to_string(), "ECE,CWR");
        assert!((flags & TcpFlags::ECE).contains(TcpFlags::ECE));
    }

    #[test]
    fn view_of_a_linux_syn() {
        let packet = TcpPacket::new_checked(&LINUX_SYN[..]).unwrap();
        assert_eq!(packet.src_port(), 58718);
        assert_eq!(packet.dst_port(), 8080);
        assert_eq!(packet.seq_number(), SeqNum(0xca60_0f62));
        assert_eq!(packet.ack_number(), SeqNum(0));
        assert_eq!(packet.header_len(), 44);
        assert_eq!(packet.flags(), TcpFlags::SYN);
        assert_eq!(packet.window_len(), 64240);
        assert_eq!(packet.checksum(), 0x837a);
        assert_eq!(packet.urgent_at(), 0);
        assert_eq!(packet.options().len(), 24);
        assert!(packet.payload().is_empty());
        assert!(packet.verify_checksum(SRC, DST));
        assert!(!packet.verify_checksum(DST, DST));
    }

    #[test]
    fn repr_of_a_linux_syn_is_byte_exact() {
        let packet = TcpPacket::new_checked(&LINUX_SYN[..]).unwrap();
        let repr = TcpRepr::parse(&packet).unwrap();
        assert_eq!(repr.mss(), Some(1460));
        assert_eq!(repr.window_scale(), Some(10));
        assert!(repr.sack_permitted());
        assert_eq!(repr.timestamp(), Some((0xf4ef_b24a, 0)));
        assert_eq!(repr.sack_blocks(), []);
        assert_eq!(repr.seq_len(), 1);
        let names: Vec<_> = repr.mptcp_options().map(MptcpOption::name).collect();
        assert_eq!(names, ["MP_CAPABLE"]);
        assert_eq!(repr.buffer_len(), LINUX_SYN.len());
        let mut out = vec![0u8; repr.buffer_len()];
        repr.emit(&mut TcpPacket::new_unchecked(&mut out[..]), SRC, DST);
        assert_eq!(out, LINUX_SYN);
    }

    #[test]
    fn check_len_rejects_bad_headers() {
        let check = |b: &[u8]| TcpPacket::new_checked(b).map(|_| ());
        assert_eq!(
            check(&LINUX_SYN[..19]),
            Err(WireError::Truncated {
                needed: 20,
                available: 19
            })
        );
        assert_eq!(
            check(&LINUX_SYN[..43]),
            Err(WireError::Truncated {
                needed: 44,
                available: 43
            })
        );
        let mut small_offset = LINUX_SYN;
        small_offset[12] = 0x40;
        assert_eq!(check(&small_offset), Err(WireError::BadLength(16)));
        // A broken option length fails the parse of the segment, not of the view.
        let mut broken = LINUX_SYN;
        broken[21] = 1;
        let packet = TcpPacket::new_checked(&broken[..]).unwrap();
        assert_eq!(TcpRepr::parse(&packet), Err(WireError::BadLength(1)));
    }

    #[test]
    fn options_beyond_forty_bytes_are_not_emitted() {
        let repr = TcpRepr {
            src_port: 1,
            dst_port: 2,
            seq_number: SeqNum(3),
            ack_number: SeqNum(4),
            flags: TcpFlags::ACK | TcpFlags::NS,
            window_len: 5,
            urgent_at: 6,
            options: vec![
                TcpOption::Timestamp {
                    value: 1,
                    echo_reply: 2,
                },
                TcpOption::sack(&[SackBlock { left: 1, right: 2 }; 3]),
                TcpOption::Timestamp {
                    value: 3,
                    echo_reply: 4,
                },
            ],
            payload: b"data",
        };
        assert_eq!(repr.header_len(), 20 + 36);
        let mut out = vec![0u8; repr.buffer_len()];
        repr.emit(&mut TcpPacket::new_unchecked(&mut out[..]), SRC, DST);
        let packet = TcpPacket::new_checked(&out[..]).unwrap();
        assert!(packet.verify_checksum(SRC, DST));
        assert_eq!(packet.flags(), TcpFlags::ACK | TcpFlags::NS);
        let parsed = TcpRepr::parse(&packet).unwrap();
        assert_eq!(parsed.options, repr.options[..2]);
        assert_eq!(parsed.sack_blocks().len(), 3);
        assert_eq!(parsed.payload, b"data");
    }

    #[test]
    fn setters_keep_neighbouring_fields() {
        let mut bytes = LINUX_SYN;
        let mut packet = TcpPacket::new_unchecked(&mut bytes[..]);
        packet.set_flags(TcpFlags::SYN | TcpFlags::ACK | TcpFlags::NS);
        assert_eq!(packet.header_len(), 44);
        packet.set_header_len(24);
        assert_eq!(packet.flags(), TcpFlags::SYN | TcpFlags::ACK | TcpFlags::NS);
        assert_eq!(packet.options().len(), 4);
        packet.options_mut().copy_from_slice(&[1, 1, 1, 0]);
        assert_eq!(packet.payload_mut().len(), 20);
        packet.fill_checksum(SRC, DST);
        assert!(packet.verify_checksum(SRC, DST));
        assert_eq!(packet.into_inner()[20..24], [1, 1, 1, 0]);
    }
}
