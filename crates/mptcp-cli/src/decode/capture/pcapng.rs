//! The pcapng format (draft-ietf-opsawg-pcapng).
//!
//! A file is a sequence of blocks: block type (4 bytes), total length (4), body, total length
//! again. A Section Header Block starts each section and fixes its byte order with the magic
//! `0x1A2B3C4D`; Interface Description Blocks then declare the section's interfaces in order
//! (index 0, 1, ...), each with its own link type, snap length and timestamp resolution
//! (`if_tsresol`) and offset (`if_tsoffset`). Packets come in Enhanced Packet Blocks (with an
//! interface index and a timestamp), Simple Packet Blocks (interface 0, no timestamp) and the
//! obsolete Packet Blocks. Every other block is skipped.

use std::time::Duration;

use super::bytes::{Endian, field, len32};
use super::{CaptureError, CapturedPacket, Location};

/// Section Header Block. Its type reads the same in both byte orders.
pub(super) const SECTION_HEADER: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const SECTION_HEADER_TYPE: u32 = 0x0a0d_0d0a;
const INTERFACE_DESCRIPTION: u32 = 0x0000_0001;
/// The obsolete Packet Block; Wireshark still reads (and counts) it.
const PACKET: u32 = 0x0000_0002;
const SIMPLE_PACKET: u32 = 0x0000_0003;
const ENHANCED_PACKET: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

/// Block type, total length, and the trailing total length.
const MIN_BLOCK_LEN: usize = 12;
/// Interface (4, or 2 + 2 dropped-packet count), timestamp (8), captured and original length.
const PACKET_FIXED_LEN: usize = 20;
/// Link type (2), reserved (2), snap length (4).
const INTERFACE_FIXED_LEN: usize = 8;
/// Byte-order magic (4), major and minor version (2 + 2), section length (8).
const SECTION_FIXED_LEN: usize = 16;

/// Option codes of an Interface Description Block.
const OPT_END_OF_OPTIONS: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;
/// `if_tsresol` when the option is absent: 10^-6 s.
const DEFAULT_TSRESOL: u8 = 6;

/// One interface of the current section.
#[derive(Debug)]
struct Interface {
    link_type: u32,
    /// Zero when there is no limit.
    snap_len: u32,
    /// The raw `if_tsresol` byte: 10^-n seconds, or 2^-n when the high bit is set.
    tsresol: u8,
    /// `if_tsoffset`: seconds to add to every timestamp.
    tsoffset: i64,
}

impl Interface {
    fn timestamp(&self, ticks: u64) -> Duration {
        let since = ticks_to_duration(ticks, self.tsresol);
        let shift = Duration::from_secs(self.tsoffset.unsigned_abs());
        if self.tsoffset >= 0 {
            since.saturating_add(shift)
        } else {
            since.saturating_sub(shift)
        }
    }
}

/// Converts a pcapng timestamp in units of `tsresol` into a duration, truncating to whole
/// nanoseconds. Never overflows: the ticks fit in 64 bits, so the seconds do too.
pub(super) fn ticks_to_duration(ticks: u64, tsresol: u8) -> Duration {
    let base: u128 = if tsresol & 0x80 == 0 { 10 } else { 2 };
    let Some(per_second) = base.checked_pow(u32::from(tsresol & 0x7f)) else {
        // More than 10^38 ticks per second: 2^64 ticks are far less than a nanosecond.
        return Duration::ZERO;
    };
    let ticks = u128::from(ticks);
    let seconds = ticks / per_second;
    // The remainder is below both 2^64 and `per_second`, so this neither overflows nor
    // reaches a full second.
    let nanos = ticks % per_second * 1_000_000_000 / per_second;
    Duration::new(
        u64::try_from(seconds).unwrap_or(u64::MAX),
        u32::try_from(nanos).unwrap_or(0),
    )
}

/// The state of a pcapng file being read: the current section's byte order and interfaces.
#[derive(Debug)]
pub(super) struct PcapNgReader {
    endian: Endian,
    interfaces: Vec<Interface>,
}

/// One whole block, checked against its own length fields.
struct Block<'a> {
    kind: u32,
    body: &'a [u8],
    at: Location,
}

impl PcapNgReader {
    /// Checks the first Section Header Block, if `bytes` starts with one. Returns `Ok(None)`
    /// when it does not.
    pub(super) fn new(bytes: &[u8]) -> Result<Option<Self>, CaptureError> {
        if bytes.get(..4) != Some(&SECTION_HEADER[..]) {
            return Ok(None);
        }
        let endian = section_endian(bytes, 0)?;
        Ok(Some(PcapNgReader {
            endian,
            interfaces: Vec::new(),
        }))
    }

    /// Reads blocks from `*offset` up to and including the next packet block, which becomes
    /// frame `number`; `offset` moves past every block read. `None` at the end of the file.
    pub(super) fn next_packet(
        &mut self,
        bytes: &[u8],
        offset: &mut usize,
        number: usize,
    ) -> Option<Result<CapturedPacket, CaptureError>> {
        while *offset < bytes.len() {
            let block = match self.block(bytes, *offset, number) {
                Ok(block) => block,
                Err(error) => return Some(Err(error)),
            };
            // The block was found complete, so this stays within the file.
            *offset = offset.saturating_add(block.body.len() + MIN_BLOCK_LEN);
            let done = match block.kind {
                ENHANCED_PACKET | PACKET => return Some(self.packet(&block, number)),
                SIMPLE_PACKET => return Some(self.simple_packet(&block, number)),
                INTERFACE_DESCRIPTION => self.interface(&block),
                SECTION_HEADER_TYPE => self.section(&block),
                // Name resolution, interface statistics, decryption secrets, custom, ...
                _ => Ok(()),
            };
            if let Err(error) = done {
                return Some(Err(error));
            }
        }
        None
    }

    /// The block at `start`, complete and consistent. A Section Header Block switches the
    /// byte order first, since its own length is written in the new one.
    fn block<'a>(
        &mut self,
        bytes: &'a [u8],
        start: usize,
        number: usize,
    ) -> Result<Block<'a>, CaptureError> {
        let available = bytes.len().saturating_sub(start);
        if available < 8 {
            return Err(CaptureError::Truncated {
                what: "pcapng block header",
                at: Location {
                    offset: start,
                    frame: None,
                },
                needed: 8,
                available,
            });
        }
        if field(bytes, start, 4) == Some(&SECTION_HEADER[..]) {
            self.endian = section_endian(bytes, start)?;
        }
        let kind = self.endian.u32(bytes, start).unwrap_or(0);
        let total_len = len32(self.endian.u32(bytes, start + 4).unwrap_or(0));
        let at = Location {
            offset: start,
            frame: matches!(kind, ENHANCED_PACKET | PACKET | SIMPLE_PACKET).then_some(number),
        };
        if total_len < MIN_BLOCK_LEN || total_len % 4 != 0 {
            return Err(CaptureError::Malformed {
                what: "pcapng block length must be a multiple of 4 and at least 12",
                at,
            });
        }
        let Some(block) = field(bytes, start, total_len) else {
            return Err(CaptureError::Truncated {
                what: block_name(kind),
                at,
                needed: total_len,
                available,
            });
        };
        if self.endian.u32(block, total_len - 4).map(len32) != Some(total_len) {
            return Err(CaptureError::Malformed {
                what: "pcapng block: trailing length differs from leading length",
                at,
            });
        }
        let body = block.get(8..total_len - 4).unwrap_or_default();
        Ok(Block { kind, body, at })
    }

    /// An Enhanced Packet Block or an obsolete Packet Block: they differ only in the width
    /// of the interface index (32 bits, or 16 bits followed by a drop count).
    fn packet(&self, block: &Block<'_>, number: usize) -> Result<CapturedPacket, CaptureError> {
        let malformed = |what| CaptureError::Malformed { what, at: block.at };
        let endian = self.endian;
        let fixed = field(block.body, 0, PACKET_FIXED_LEN)
            .ok_or_else(|| malformed("pcapng packet block shorter than its fixed fields"))?;
        let read = |at| endian.u32(fixed, at).unwrap_or(0);
        let index = if block.kind == ENHANCED_PACKET {
            read(0)
        } else {
            u32::from(endian.u16(fixed, 0).unwrap_or(0))
        };
        let interface = self.interface_at(index, block.at)?;
        let ticks = (u64::from(read(4)) << 32) | u64::from(read(8));
        let (captured_len, original_len) = (len32(read(12)), len32(read(16)));
        let data = field(block.body, PACKET_FIXED_LEN, captured_len).ok_or_else(|| {
            malformed("pcapng packet block: captured length runs past the end of the block")
        })?;
        Ok(CapturedPacket::new(
            number,
            interface.timestamp(ticks),
            interface.link_type,
            index,
            original_len,
            data,
        ))
    }

    /// A Simple Packet Block: interface 0, no timestamp (so the epoch, as Wireshark shows
    /// it), and a captured length that is the smallest of the original length, the snap
    /// length and what the block holds.
    fn simple_packet(
        &self,
        block: &Block<'_>,
        number: usize,
    ) -> Result<CapturedPacket, CaptureError> {
        let original_len =
            self.endian
                .u32(block.body, 0)
                .map(len32)
                .ok_or(CaptureError::Malformed {
                    what: "pcapng simple packet block shorter than its fixed fields",
                    at: block.at,
                })?;
        let interface = self.interface_at(0, block.at)?;
        let room = block.body.len().saturating_sub(4);
        let mut captured_len = original_len.min(room);
        if interface.snap_len != 0 {
            captured_len = captured_len.min(len32(interface.snap_len));
        }
        let data = field(block.body, 4, captured_len).unwrap_or_default();
        Ok(CapturedPacket::new(
            number,
            Duration::ZERO,
            interface.link_type,
            0,
            original_len,
            data,
        ))
    }

    fn interface_at(&self, index: u32, at: Location) -> Result<&Interface, CaptureError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .ok_or(CaptureError::UnknownInterface {
                interface: index,
                known: self.interfaces.len(),
                at,
            })
    }

    /// A Section Header Block (whose byte order [`Self::block`] has already switched to):
    /// a new section, whose interfaces start again from index 0.
    fn section(&mut self, block: &Block<'_>) -> Result<(), CaptureError> {
        if block.body.len() < SECTION_FIXED_LEN {
            return Err(CaptureError::Malformed {
                what: "pcapng section header block shorter than its fixed fields",
                at: block.at,
            });
        }
        self.interfaces.clear();
        Ok(())
    }

    /// An Interface Description Block: the next interface of the section. Unknown or
    /// malformed options are ignored, as they do not change how packets are read.
    fn interface(&mut self, block: &Block<'_>) -> Result<(), CaptureError> {
        let endian = self.endian;
        if block.body.len() < INTERFACE_FIXED_LEN {
            return Err(CaptureError::Malformed {
                what: "pcapng interface description block shorter than its fixed fields",
                at: block.at,
            });
        }
        let mut interface = Interface {
            link_type: u32::from(endian.u16(block.body, 0).unwrap_or(0)),
            snap_len: endian.u32(block.body, 4).unwrap_or(0),
            tsresol: DEFAULT_TSRESOL,
            tsoffset: 0,
        };
        let options = block.body.get(INTERFACE_FIXED_LEN..).unwrap_or_default();
        let mut at = 0;
        while let (Some(code), Some(len)) = (endian.u16(options, at), endian.u16(options, at + 2)) {
            let len = usize::from(len);
            let Some(value) = field(options, at + 4, len) else {
                break;
            };
            match code {
                OPT_END_OF_OPTIONS => break,
                OPT_IF_TSRESOL => {
                    if let Some(&resolution) = value.first() {
                        interface.tsresol = resolution;
                    }
                }
                OPT_IF_TSOFFSET => {
                    if let Some(seconds) = endian.u64(value, 0) {
                        interface.tsoffset = i64::from_ne_bytes(seconds.to_ne_bytes());
                    }
                }
                _ => {}
            }
            // Option values are padded to 32 bits.
            at += 4 + len.next_multiple_of(4);
        }
        self.interfaces.push(interface);
        Ok(())
    }
}

/// The Section Header Block at `start` (whose type has been checked): its byte order.
fn section_endian(bytes: &[u8], start: usize) -> Result<Endian, CaptureError> {
    let at = Location {
        offset: start,
        frame: None,
    };
    let magic_at = start.saturating_add(8);
    match (
        Endian::Big.u32(bytes, magic_at),
        Endian::Little.u32(bytes, magic_at),
    ) {
        (Some(BYTE_ORDER_MAGIC), _) => Ok(Endian::Big),
        (_, Some(BYTE_ORDER_MAGIC)) => Ok(Endian::Little),
        (Some(_), _) => Err(CaptureError::Malformed {
            what: "pcapng section header block: unknown byte-order magic",
            at,
        }),
        (None, _) => Err(CaptureError::Truncated {
            what: "pcapng section header block",
            at,
            needed: 12,
            available: bytes.len().saturating_sub(start),
        }),
    }
}

/// How a block of this type is named in error messages.
fn block_name(kind: u32) -> &'static str {
    match kind {
        SECTION_HEADER_TYPE => "pcapng section header block",
        INTERFACE_DESCRIPTION => "pcapng interface description block",
        ENHANCED_PACKET => "pcapng enhanced packet block",
        SIMPLE_PACKET => "pcapng simple packet block",
        PACKET => "pcapng packet block",
        _ => "pcapng block",
    }
}
