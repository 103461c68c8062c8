//! The Internet checksum (RFC 1071) and the pseudo-headers it is computed over: IPv4 and IPv6
//! for TCP (RFC 9293 §3.1, RFC 8200 §8.1) and the MPTCP DSS pseudo-header (RFC 8684 §3.3.1).
//!
//! # Computing and verifying
//!
//! To **compute** a checksum, sum the covered bytes with the checksum field set to zero and
//! take [`Checksum::finish`]. To **verify** a received one, sum the covered bytes *as
//! received* (checksum field included) and check [`Checksum::is_valid`]: the one's-complement
//! sum of data that carries a correct checksum is `0xffff` (RFC 1071 §1, step 3).
//!
//! ```
//! use mptcp_proto::wire::{internet_checksum, Checksum};
//!
//! let mut header = [0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
//! let sum = internet_checksum(&header);
//! header[10..12].copy_from_slice(&sum.to_be_bytes());
//! assert!(Checksum::new().add_bytes(&header).is_valid());
//! ```

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::protocol::IpProtocol;

/// A running one's-complement sum (RFC 1071 §4.1) over a byte stream that may arrive in
/// pieces of any length: an odd-length piece leaves its last byte pending until the next
/// piece (or [`finish`](Self::finish), which pads it with a zero byte).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    /// Sum of 32-bit big-endian words; since 2^16 ≡ 1 (mod 2^16 − 1), folding it gives the
    /// same result as summing 16-bit words.
    sum: u64,
    /// The first byte of a 16-bit word whose second byte has not arrived yet.
    pending: Option<u8>,
}

impl Checksum {
    /// An empty sum.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `data` to the stream.
    pub fn add_bytes(&mut self, data: &[u8]) -> &mut Self {
        let mut data = data;
        if let Some(high) = self.pending.take() {
            match data.split_first() {
                Some((&low, rest)) => {
                    self.add_word(u16::from_be_bytes([high, low]).into());
                    data = rest;
                }
                None => {
                    self.pending = Some(high);
                    return self;
                }
            }
        }
        let mut words = data.chunks_exact(4);
        // RFC 1071 §2(B): the sum is independent of byte order. The body is summed as
        // little-endian words (plain loads, which the compiler vectorises), folded to 16
        // bits and swapped into network order. The fold is zero only for all-zero data, like
        // the big-endian sum, so the result is the same as adding the words one by one.
        let mut swapped = 0u64;
        for word in &mut words {
            if let &[a, b, c, d] = word {
                swapped += u64::from(u32::from_le_bytes([a, b, c, d]));
            }
        }
        self.add_word(fold(swapped).swap_bytes().into());
        match *words.remainder() {
            [a, b, c] => {
                self.add_word(u16::from_be_bytes([a, b]).into());
                self.pending = Some(c);
            }
            [a, b] => self.add_word(u16::from_be_bytes([a, b]).into()),
            [a] => self.pending = Some(a),
            _ => {}
        }
        self
    }

    /// Adds a big-endian 16-bit field.
    pub fn add_u16(&mut self, value: u16) -> &mut Self {
        self.add_bytes(&value.to_be_bytes())
    }

    /// Adds a big-endian 32-bit field.
    pub fn add_u32(&mut self, value: u32) -> &mut Self {
        self.add_bytes(&value.to_be_bytes())
    }

    /// Adds a big-endian 64-bit field.
    pub fn add_u64(&mut self, value: u64) -> &mut Self {
        self.add_bytes(&value.to_be_bytes())
    }

    fn add_word(&mut self, word: u32) {
        // At most 2^32 words of 2^32 each before overflow: far beyond any packet.
        self.sum += u64::from(word);
    }

    /// The one's-complement sum folded to 16 bits (before the final complement).
    pub fn folded(&self) -> u16 {
        let mut sum = self.sum;
        if let Some(high) = self.pending {
            // RFC 1071 §4.1: an odd trailing byte is padded with a zero byte.
            sum += u64::from(high) << 8;
        }
        fold(sum)
    }

    /// The checksum to put in a header: the one's complement of the sum (RFC 1071 §1).
    pub fn finish(&self) -> u16 {
        !self.folded()
    }

    /// Whether a sum taken over data *including* its checksum field is correct (the sum is
    /// `0xffff`, RFC 1071 §1 step 3).
    pub fn is_valid(&self) -> bool {
        self.folded() == 0xffff
    }
}

/// A sum of 16-bit (or 32-bit) words folded to 16 bits with end-around carry: the same
/// value modulo 2^16 − 1, and zero only if `sum` is zero.
fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // The loop leaves sum ≤ 0xffff.
    u16::try_from(sum).unwrap_or(u16::MAX)
}

/// The Internet checksum of `data` (RFC 1071): the one's complement of its one's-complement
/// sum.
pub fn internet_checksum(data: &[u8]) -> u16 {
    Checksum::new().add_bytes(data).finish()
}

/// A sum started with the IPv4 pseudo-header of TCP/UDP (RFC 9293 §3.1): source, destination,
/// a zero byte, the protocol and the upper-layer length. Add the upper-layer bytes next.
pub fn pseudo_header_checksum_v4(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: IpProtocol,
    len: u16,
) -> Checksum {
    let mut sum = Checksum::new();
    sum.add_bytes(&src.octets())
        .add_bytes(&dst.octets())
        .add_bytes(&[0, protocol.0])
        .add_u16(len);
    sum
}

/// A sum started with the IPv6 pseudo-header (RFC 8200 §8.1): source, destination, the 32-bit
/// upper-layer length, three zero bytes and the next header value. Add the upper-layer bytes
/// next.
pub fn pseudo_header_checksum_v6(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    protocol: IpProtocol,
    len: u32,
) -> Checksum {
    let mut sum = Checksum::new();
    sum.add_bytes(&src.octets())
        .add_bytes(&dst.octets())
        .add_u32(len)
        .add_bytes(&[0, 0, 0, protocol.0]);
    sum
}

/// The pseudo-header sum for a pair of addresses of either family: IPv4 when both are IPv4,
/// otherwise IPv6 with any IPv4 address written IPv4-mapped (a mixed pair never occurs on the
/// wire; this keeps the function total). `len` is the upper-layer length; over IPv4 only its
/// low 16 bits exist.
pub fn pseudo_header_checksum(
    src: IpAddr,
    dst: IpAddr,
    protocol: IpProtocol,
    len: u32,
) -> Checksum {
    match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            pseudo_header_checksum_v4(src, dst, protocol, len as u16)
        }
        _ => pseudo_header_checksum_v6(to_v6(src), to_v6(dst), protocol, len),
    }
}

fn to_v6(addr: IpAddr) -> Ipv6Addr {
    match addr {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// A sum started with the DSS checksum pseudo-header (RFC 8684 §3.3.1): the 64-bit data
/// sequence number, the 32-bit subflow sequence number (relative to the subflow's initial
/// sequence number), the 16-bit data-level length and a 16-bit zero checksum field. Add the
/// payload of the mapping next, in as many pieces as it arrives.
pub fn dss_pseudo_header(dsn: u64, subflow_seq: u32, data_len: u16) -> Checksum {
    let mut sum = Checksum::new();
    sum.add_u64(dsn)
        .add_u32(subflow_seq)
        .add_u16(data_len)
        .add_u16(0);
    sum
}

/// The DSS checksum of a mapping (RFC 8684 §3.3.1): the one's complement of the
/// one's-complement sum of the pseudo-header (see [`dss_pseudo_header`]) and the mapped
/// payload. `data_len` counts a DATA_FIN, `payload` does not.
///
/// To verify a received checksum, compare it with this value.
pub fn dss_checksum(dsn: u64, subflow_seq: u32, data_len: u16, payload: &[u8]) -> u16 {
    dss_pseudo_header(dsn, subflow_seq, data_len)
        .add_bytes(payload)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
    #[test]
    fn rfc1071_example_sum() {
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(Checksum::new().add_bytes(&data).folded(), 0xddf2);
        assert_eq!(internet_checksum(&data), !0xddf2);
    }

    /// A classic IPv4 header (the Wikipedia example): checksum b861.
    #[test]
    fn ipv4_header_known_answer() {
        let mut header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(internet_checksum(&header), 0xb861);
        header[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert!(Checksum::new().add_bytes(&header).is_valid());
        header[0] ^= 1;
        assert!(!Checksum::new().add_bytes(&header).is_valid());
    }

    /// The sum of 16-bit big-endian words, one at a time, as RFC 1071 §4.1 writes it.
    fn reference_folded(data: &[u8]) -> u16 {
        let mut sum = 0u32;
        for pair in data.chunks(2) {
            let word = u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]);
            sum += u32::from(word);
            sum = (sum & 0xffff) + (sum >> 16);
        }
        u16::try_from(sum).unwrap()
    }

    #[test]
    fn word_sums_equal_the_rfc1071_reference() {
        let mut seed = 0x1234_5678u32;
        let mut byte = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 16) as u8
        };
        let random: Vec<u8> = (0..1600).map(|_| byte()).collect();
        for data in [random, vec![0xff; 1600], vec![0; 1600]] {
            for len in (0..64).chain([255, 1459, 1460, 1500, 1600]) {
                let data = &data[..len];
                let expected = reference_folded(data);
                assert_eq!(Checksum::new().add_bytes(data).folded(), expected, "{len}");
                // After an odd first byte the rest is summed out of word alignment.
                if let Some((first, rest)) = data.split_first() {
                    let mut sum = Checksum::new();
                    sum.add_bytes(&[*first]).add_bytes(rest);
                    assert_eq!(sum.folded(), expected, "{len}, split after one byte");
                }
            }
        }
    }

    #[test]
    fn odd_pieces_equal_one_piece() {
        let data: Vec<u8> = (0u8..=200).map(|i| i.wrapping_mul(37)).collect();
        let whole = internet_checksum(&data);
        for split in [0, 1, 3, 5, 100, 199, 201] {
            let (a, b) = data.split_at(split);
            let mut sum = Checksum::new();
            sum.add_bytes(a).add_bytes(&[]).add_bytes(b);
            assert_eq!(sum.finish(), whole, "split at {split}");
        }
        let mut bytewise = Checksum::new();
        data.iter().for_each(|b| {
            bytewise.add_bytes(&[*b]);
        });
        assert_eq!(bytewise.finish(), whole);
        // Odd length: the last byte is the high byte of a zero-padded word.
        assert_eq!(internet_checksum(&[0x12]), !0x1200);
    }

    #[test]
    fn fields_equal_their_bytes() {
        let mut a = Checksum::new();
        a.add_bytes(&[7])
            .add_u16(0x1234)
            .add_u32(0xdead_beef)
            .add_u64(u64::MAX);
        let mut b = Checksum::new();
        b.add_bytes(&[7, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef])
            .add_bytes(&[0xff; 8]);
        assert_eq!(a.finish(), b.finish());
    }

    #[test]
    fn pseudo_headers_known_answer() {
        // 10.0.0.1 → 10.0.0.2, TCP, 20 bytes: words 0a00 0001 0a00 0002 0006 0014.
        let v4 = pseudo_header_checksum_v4(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            IpProtocol::TCP,
            20,
        );
        assert_eq!(
            v4.folded(),
            0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 0x0006 + 0x0014
        );
        // ::1 → ::2, TCP, 20 bytes.
        let v6 = pseudo_header_checksum_v6(
            Ipv6Addr::LOCALHOST,
            "::2".parse().unwrap(),
            IpProtocol::TCP,
            20,
        );
        assert_eq!(v6.folded(), 1 + 2 + 20 + 6);
        let generic = pseudo_header_checksum(
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            "::2".parse().unwrap(),
            IpProtocol::TCP,
            20,
        );
        assert_eq!(generic, v6);
    }

    /// Worked by hand: DSN 0x0102030405060708, subflow seq 1, length 4, payload "abcd".
    /// Words: 0102 0304 0506 0708 | 0000 0001 | 0004 | 0000 | 6162 6364
    /// sum = 0x0102+0x0304+0x0506+0x0708+0x0001+0x0004+0x6162+0x6364 = 0xd4df → checksum 0x2b20.
    #[test]
    fn dss_checksum_known_answer() {
        assert_eq!(dss_checksum(0x0102_0304_0506_0708, 1, 4, b"abcd"), 0x2b20);
        // Verification by summing with the received checksum in the zero field.
        let mut with_checksum = Checksum::new();
        with_checksum
            .add_u64(0x0102_0304_0506_0708)
            .add_u32(1)
            .add_u16(4)
            .add_u16(0x2b20)
            .add_bytes(b"abcd");
        assert!(with_checksum.is_valid());
        // A DATA_FIN-only mapping: no payload, length 1.
        assert_eq!(dss_checksum(0, 0, 1, &[]), !1);
    }
}
