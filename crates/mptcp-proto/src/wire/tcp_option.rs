//! TCP options (RFC 9293 §3.1, RFC 7323, RFC 2018) and the MPTCP option (kind 30).
//!
//! [`TcpOption`] is one parsed option; [`TcpOptions`] iterates over an options area;
//! [`tcp_options_len`] and [`emit_tcp_options`] size and write a list of options as an
//! options area padded to a multiple of 4 bytes.

use super::WireError;
use super::field::{Reader, Writer, length_byte};
use super::mptcp::{MPTCP_OPTION_KIND, MptcpOption};

/// TCP option kinds (IANA "TCP Option Kind Numbers").
pub mod option_kind {
    /// End of option list (RFC 9293 §3.2).
    pub const END_OF_LIST: u8 = 0;
    /// No-operation (RFC 9293 §3.2).
    pub const NO_OPERATION: u8 = 1;
    /// Maximum segment size (RFC 9293 §3.2).
    pub const MAX_SEGMENT_SIZE: u8 = 2;
    /// Window scale (RFC 7323 §2.2).
    pub const WINDOW_SCALE: u8 = 3;
    /// SACK permitted (RFC 2018 §2).
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK (RFC 2018 §3).
    pub const SACK: u8 = 5;
    /// Timestamps (RFC 7323 §3.2).
    pub const TIMESTAMP: u8 = 8;
    /// Multipath TCP (RFC 8684 §3).
    pub const MPTCP: u8 = super::MPTCP_OPTION_KIND;
}

/// Most SACK blocks one option can carry in a 40-byte options area (RFC 2018 §3).
pub const MAX_SACK_BLOCKS: usize = 4;

/// Longest TCP options area (the data offset is 4 bits: 15 × 4 − 20 bytes).
pub const MAX_OPTIONS_LEN: usize = 40;

/// One SACK block: the left and right edges of a received range (RFC 2018 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SackBlock {
    /// First sequence number of the block.
    pub left: u32,
    /// Sequence number just after the block.
    pub right: u32,
}

/// A parsed TCP option.
///
/// Options whose kind is unknown, or whose content does not parse (for example a malformed
/// MPTCP option), are kept as [`TcpOption::Unknown`] and re-emitted unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpOption<'a> {
    /// Kind 0: end of option list. Bytes after it in the header are padding.
    EndOfList,
    /// Kind 1: no-operation (padding).
    NoOperation,
    /// Kind 2: maximum segment size (SYN only).
    MaxSegmentSize(u16),
    /// Kind 3: window scale shift count (RFC 7323 §2).
    WindowScale(u8),
    /// Kind 4: SACK permitted (RFC 2018 §2).
    SackPermitted,
    /// Kind 5: SACK blocks (1 to 4; RFC 2018 §3).
    SackRange {
        /// Number of valid entries in `blocks`.
        count: u8,
        /// The blocks; only `blocks[..count]` are meaningful.
        blocks: [SackBlock; 4],
    },
    /// Kind 8: timestamps (RFC 7323 §3).
    Timestamp {
        /// TSval.
        value: u32,
        /// TSecr.
        echo_reply: u32,
    },
    /// Kind 30: Multipath TCP.
    Mptcp(MptcpOption<'a>),
    /// Any other option, or one whose content does not parse: kind and the bytes after the
    /// length byte.
    Unknown {
        /// Option kind.
        kind: u8,
        /// The bytes after the kind and length bytes.
        data: &'a [u8],
    },
}

impl<'a> TcpOption<'a> {
    /// A SACK option (RFC 2018 §3) from up to [`MAX_SACK_BLOCKS`] blocks; further blocks are
    /// dropped.
    pub fn sack(blocks: &[SackBlock]) -> Self {
        let mut out = [SackBlock { left: 0, right: 0 }; MAX_SACK_BLOCKS];
        let count = blocks.len().min(MAX_SACK_BLOCKS);
        out[..count].copy_from_slice(&blocks[..count]);
        TcpOption::SackRange {
            count: count as u8,
            blocks: out,
        }
    }

    /// The SACK blocks of a [`TcpOption::SackRange`] (at most four); empty for other options.
    pub fn sack_blocks(&self) -> &[SackBlock] {
        match self {
            TcpOption::SackRange { count, blocks } => {
                blocks.get(..usize::from(*count)).unwrap_or(blocks)
            }
            _ => &[],
        }
    }

    /// The option kind byte.
    pub fn kind(&self) -> u8 {
        match self {
            TcpOption::EndOfList => option_kind::END_OF_LIST,
            TcpOption::NoOperation => option_kind::NO_OPERATION,
            TcpOption::MaxSegmentSize(_) => option_kind::MAX_SEGMENT_SIZE,
            TcpOption::WindowScale(_) => option_kind::WINDOW_SCALE,
            TcpOption::SackPermitted => option_kind::SACK_PERMITTED,
            TcpOption::SackRange { .. } => option_kind::SACK,
            TcpOption::Timestamp { .. } => option_kind::TIMESTAMP,
            TcpOption::Mptcp(_) => option_kind::MPTCP,
            TcpOption::Unknown { kind, .. } => *kind,
        }
    }

    /// Parses the option at the start of `bytes` and returns it with the number of bytes it
    /// takes.
    ///
    /// Kinds 0 and 1 are one byte (RFC 9293 §3.2); every other option has a length byte
    /// counting the kind and length bytes. Errors only on structural problems — the input
    /// ends before the length byte or before the option ends ([`WireError::Truncated`]), or
    /// a length byte below 2 ([`WireError::BadLength`]) — after which the rest of the options
    /// area cannot be delimited. A known kind with a length it cannot have, or an MPTCP option
    /// that does not parse, becomes [`TcpOption::Unknown`].
    pub fn parse(bytes: &'a [u8]) -> Result<(Self, usize), WireError> {
        let (kind, length) = match *bytes {
            [] => {
                return Err(WireError::Truncated {
                    needed: 1,
                    available: 0,
                });
            }
            [option_kind::END_OF_LIST, ..] => return Ok((TcpOption::EndOfList, 1)),
            [option_kind::NO_OPERATION, ..] => return Ok((TcpOption::NoOperation, 1)),
            [_] => {
                return Err(WireError::Truncated {
                    needed: 2,
                    available: 1,
                });
            }
            [kind, length, ..] => (kind, usize::from(length)),
        };
        if length < 2 {
            return Err(WireError::BadLength(length));
        }
        let option = bytes.get(..length).ok_or(WireError::Truncated {
            needed: length,
            available: bytes.len(),
        })?;
        let data = option.get(2..).unwrap_or_default();
        let parsed =
            Self::parse_known(kind, option, data).unwrap_or(TcpOption::Unknown { kind, data });
        Ok((parsed, length))
    }

    /// The option of a known kind whose length and content are valid, else `None`.
    fn parse_known(kind: u8, option: &'a [u8], data: &'a [u8]) -> Option<Self> {
        Some(match (kind, data) {
            (option_kind::MAX_SEGMENT_SIZE, &[hi, lo]) => {
                TcpOption::MaxSegmentSize(u16::from_be_bytes([hi, lo]))
            }
            (option_kind::WINDOW_SCALE, &[shift]) => TcpOption::WindowScale(shift),
            (option_kind::SACK_PERMITTED, []) => TcpOption::SackPermitted,
            (option_kind::SACK, _) => Self::parse_sack(data)?,
            (option_kind::TIMESTAMP, _) if data.len() == 8 => {
                let mut r = Reader::new(data);
                TcpOption::Timestamp {
                    value: r.u32().ok()?,
                    echo_reply: r.u32().ok()?,
                }
            }
            (option_kind::MPTCP, _) => TcpOption::Mptcp(MptcpOption::parse(option).ok()?),
            _ => return None,
        })
    }

    /// RFC 2018 §3: 1 to 4 blocks of two 32-bit edges.
    fn parse_sack(data: &[u8]) -> Option<Self> {
        let count = data.len() / 8;
        if data.len() % 8 != 0 || !(1..=MAX_SACK_BLOCKS).contains(&count) {
            return None;
        }
        let mut blocks = [SackBlock { left: 0, right: 0 }; MAX_SACK_BLOCKS];
        let mut r = Reader::new(data);
        for block in blocks.iter_mut().take(count) {
            *block = SackBlock {
                left: r.u32().ok()?,
                right: r.u32().ok()?,
            };
        }
        Some(TcpOption::SackRange {
            count: count as u8,
            blocks,
        })
    }

    /// Length of the option on the wire, kind and length bytes included.
    pub fn buffer_len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::NoOperation => 1,
            TcpOption::MaxSegmentSize(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::SackRange { .. } => 2 + 8 * self.sack_blocks().len(),
            TcpOption::Timestamp { .. } => 10,
            TcpOption::Mptcp(option) => option.buffer_len(),
            TcpOption::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Writes the option into the first [`buffer_len`](Self::buffer_len) bytes of `buf`.
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than `buffer_len()`.
    pub fn emit(&self, buf: &mut [u8]) {
        if let TcpOption::Mptcp(option) = self {
            return option.emit(buf);
        }
        let mut w = Writer::new(buf);
        w.put_u8(self.kind());
        if matches!(self, TcpOption::EndOfList | TcpOption::NoOperation) {
            return;
        }
        w.put_u8(length_byte(self.buffer_len()));
        match *self {
            TcpOption::MaxSegmentSize(mss) => w.put(mss.to_be_bytes()),
            TcpOption::WindowScale(shift) => w.put_u8(shift),
            TcpOption::SackRange { .. } => {
                for block in self.sack_blocks() {
                    w.put(block.left.to_be_bytes());
                    w.put(block.right.to_be_bytes());
                }
            }
            TcpOption::Timestamp { value, echo_reply } => {
                w.put(value.to_be_bytes());
                w.put(echo_reply.to_be_bytes());
            }
            TcpOption::Unknown { data, .. } => w.put_slice(data),
            TcpOption::EndOfList
            | TcpOption::NoOperation
            | TcpOption::SackPermitted
            | TcpOption::Mptcp(_) => {}
        }
    }
}

/// An iterator over the options of an options area (the TCP header after its first 20
/// bytes), in wire order, NOPs included.
///
/// It stops after [`TcpOption::EndOfList`] (what follows is padding, RFC 9293 §3.2) and after
/// the first structural error (see [`TcpOption::parse`]), which it yields as one `Err`.
#[derive(Debug, Clone)]
pub struct TcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptions<'a> {
    /// Iterates over the options in `area`.
    pub fn new(area: &'a [u8]) -> Self {
        Self { rest: area }
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = Result<TcpOption<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let item = TcpOption::parse(self.rest);
        self.rest = match item {
            Ok((TcpOption::EndOfList, _)) | Err(_) => &[],
            Ok((_, used)) => self.rest.get(used..).unwrap_or_default(),
        };
        Some(item.map(|(option, _)| option))
    }
}

impl core::iter::FusedIterator for TcpOptions<'_> {}

/// Length of the options area that [`emit_tcp_options`] writes: the options' lengths added up
/// and rounded up to a multiple of 4.
pub fn tcp_options_len(options: &[TcpOption<'_>]) -> usize {
    options
        .iter()
        .map(TcpOption::buffer_len)
        .sum::<usize>()
        .next_multiple_of(4)
}

/// Writes `options` one after the other at the start of `area`, then zero bytes up to the
/// next multiple of 4 (zero is the end-of-list kind, RFC 9293 §3.2, so the padding reads as
/// the end of the list). Returns the number of bytes written, [`tcp_options_len`].
///
/// # Panics
///
/// If `area` is shorter than `tcp_options_len(options)`.
pub fn emit_tcp_options(options: &[TcpOption<'_>], area: &mut [u8]) -> usize {
    let mut pos = 0;
    for option in options {
        option.emit(&mut area[pos..]);
        pos += option.buffer_len();
    }
    let end = pos.next_multiple_of(4);
    area[pos..end].fill(0);
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::mptcp::MpCapable;

    /// The options of a Linux 6.18 SYN with MPTCP v1: MSS 1460, SACK permitted, timestamps,
    /// NOP, window scale 10, MP_CAPABLE.
    const LINUX_SYN: [u8; 24] = [
        0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0xf4, 0xef, 0xb2, 0x4a, 0x00, 0x00, 0x00,
        0x00, 0x01, 0x03, 0x03, 0x0a, 0x1e, 0x04, 0x01, 0x01,
    ];

    #[test]
    fn linux_syn_options() {
        let options: Vec<_> = TcpOptions::new(&LINUX_SYN)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            options,
            [
                TcpOption::MaxSegmentSize(1460),
                TcpOption::SackPermitted,
                TcpOption::Timestamp {
                    value: 0xf4ef_b24a,
                    echo_reply: 0
                },
                TcpOption::NoOperation,
                TcpOption::WindowScale(10),
                TcpOption::Mptcp(MptcpOption::MpCapable(MpCapable {
                    version: 1,
                    flags: 0x01,
                    sender_key: None,
                    receiver_key: None,
                    data_len: None,
                    checksum: None,
                })),
            ]
        );
        assert_eq!(tcp_options_len(&options), 24);
        let mut area = [0xffu8; 24];
        assert_eq!(emit_tcp_options(&options, &mut area), 24);
        assert_eq!(area, LINUX_SYN);
    }

    #[test]
    fn sack_blocks() {
        let bytes = [5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 9];
        let (option, used) = TcpOption::parse(&bytes).unwrap();
        assert_eq!(used, 18);
        assert_eq!(
            option.sack_blocks(),
            [
                SackBlock { left: 1, right: 2 },
                SackBlock { left: 5, right: 9 }
            ]
        );
        assert_eq!(option, TcpOption::sack(option.sack_blocks()));
        let mut out = [0u8; 18];
        option.emit(&mut out);
        assert_eq!(out, bytes);
        // Zero or five blocks, or a partial block: kept raw.
        for bad in [&[5u8, 2][..], &[5, 6, 0, 0, 0, 1]] {
            assert!(matches!(
                TcpOption::parse(bad),
                Ok((TcpOption::Unknown { kind: 5, .. }, _))
            ));
        }
        let five = TcpOption::sack(&[SackBlock { left: 1, right: 2 }; 5]);
        assert_eq!(five.sack_blocks().len(), MAX_SACK_BLOCKS);
        assert_eq!(five.buffer_len(), 34);
    }

    #[test]
    fn bad_lengths_of_known_kinds_are_kept_raw() {
        for bytes in [
            &[2u8, 3, 5][..],
            &[3, 4, 1, 2],
            &[4, 3, 0],
            &[8, 6, 1, 2, 3, 4],
            &[30, 3, 0x30], // ADD_ADDR too short
        ] {
            let (option, used) = TcpOption::parse(bytes).unwrap();
            assert_eq!(used, bytes.len());
            assert_eq!(
                option,
                TcpOption::Unknown {
                    kind: bytes[0],
                    data: &bytes[2..]
                }
            );
            let mut out = vec![0u8; option.buffer_len()];
            option.emit(&mut out);
            assert_eq!(out, bytes);
        }
    }

    #[test]
    fn structural_errors_stop_the_iterator() {
        let collect = |area| TcpOptions::new(area).collect::<Vec<_>>();
        assert_eq!(
            collect(&[1, 2]),
            [
                Ok(TcpOption::NoOperation),
                Err(WireError::Truncated {
                    needed: 2,
                    available: 1
                })
            ]
        );
        assert_eq!(
            collect(&[1, 8, 1, 1, 1]),
            [Ok(TcpOption::NoOperation), Err(WireError::BadLength(1))]
        );
        assert_eq!(
            collect(&[8, 10, 0, 0]),
            [Err(WireError::Truncated {
                needed: 10,
                available: 4
            })]
        );
        assert_eq!(collect(&[]), []);
    }

    #[test]
    fn end_of_list_ends_the_options() {
        let collect = |area| TcpOptions::new(area).collect::<Vec<_>>();
        assert_eq!(
            collect(&[2, 4, 5, 0xb4, 0, 0xff, 0xff, 0xff]),
            [
                Ok(TcpOption::MaxSegmentSize(1460)),
                Ok(TcpOption::EndOfList)
            ]
        );
        let options = [TcpOption::MaxSegmentSize(1460), TcpOption::EndOfList];
        let mut area = [0xffu8; 8];
        assert_eq!(emit_tcp_options(&options, &mut area), 8);
        assert_eq!(area, [2, 4, 5, 0xb4, 0, 0, 0, 0]);
    }

    #[test]
    fn unknown_kinds_round_trip() {
        let bytes = [254, 6, 0xf9, 0x89, 1, 2];
        let (option, used) = TcpOption::parse(&bytes).unwrap();
        assert_eq!(
            (option, used),
            (
                TcpOption::Unknown {
                    kind: 254,
                    data: &bytes[2..]
                },
                6
            )
        );
        assert_eq!(option.kind(), 254);
        assert_eq!(option.sack_blocks(), []);
        let mut out = [0u8; 6];
        option.emit(&mut out);
        assert_eq!(out, bytes);
    }
}
