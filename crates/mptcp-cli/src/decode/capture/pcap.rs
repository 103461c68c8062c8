//! The classic libpcap format.
//!
//! A 24-byte file header (magic, version, time zone, sigfigs, snap length, link type), then
//! records of a 16-byte header (seconds, fraction, captured length, original length) and the
//! captured bytes. The magic gives both the byte order and the unit of the fraction:
//! `0xa1b2c3d4` microseconds, `0xa1b23c4d` nanoseconds.
//! Reference: draft-ietf-opsawg-pcap, "PCAP Capture File Format".

use std::time::Duration;

use super::bytes::{Endian, field, len32};
use super::{CaptureError, CapturedPacket, Location};

/// The magic number of a pcap file with microsecond timestamps.
pub(super) const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// The magic number of a pcap file with nanosecond timestamps.
pub(super) const MAGIC_NANOS: u32 = 0xa1b2_3c4d;

const FILE_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;
/// The link type is the low bits of the header's last field; the high bits may say whether
/// frames end with an FCS (libpcap's `LT_LINKTYPE`).
const LINK_TYPE_MASK: u32 = 0x03ff_ffff;

/// What the file header says about every record.
#[derive(Debug)]
pub(super) struct PcapReader {
    endian: Endian,
    /// Nanoseconds in the fraction field, rather than microseconds.
    nanos: bool,
    link_type: u32,
}

impl PcapReader {
    /// Reads the file header, if `bytes` starts with a pcap magic number (in either order).
    /// Returns `Ok(None)` when it does not.
    pub(super) fn new(bytes: &[u8]) -> Result<Option<Self>, CaptureError> {
        let (endian, nanos) = match (Endian::Little.u32(bytes, 0), Endian::Big.u32(bytes, 0)) {
            (Some(MAGIC_MICROS), _) => (Endian::Little, false),
            (Some(MAGIC_NANOS), _) => (Endian::Little, true),
            (_, Some(MAGIC_MICROS)) => (Endian::Big, false),
            (_, Some(MAGIC_NANOS)) => (Endian::Big, true),
            _ => return Ok(None),
        };
        let link_type = endian
            .u32(bytes, 20)
            .ok_or_else(|| CaptureError::Truncated {
                what: "pcap file header",
                at: Location::file_start(),
                needed: FILE_HEADER_LEN,
                available: bytes.len(),
            })?;
        Ok(Some(PcapReader {
            endian,
            nanos,
            link_type: link_type & LINK_TYPE_MASK,
        }))
    }

    /// Where the first record starts.
    pub(super) fn first_record(&self) -> usize {
        FILE_HEADER_LEN
    }

    /// Whether timestamps are in nanoseconds.
    pub(super) fn nanos(&self) -> bool {
        self.nanos
    }

    /// Reads the record at `*offset` as frame `number` and moves `offset` past it; `None` at
    /// the end of the file.
    pub(super) fn next_packet(
        &mut self,
        bytes: &[u8],
        offset: &mut usize,
        number: usize,
    ) -> Option<Result<CapturedPacket, CaptureError>> {
        let available = bytes.len().saturating_sub(*offset);
        if available == 0 {
            return None;
        }
        let at = Location {
            offset: *offset,
            frame: Some(number),
        };
        let Some(header) = field(bytes, *offset, RECORD_HEADER_LEN) else {
            return Some(Err(CaptureError::Truncated {
                what: "pcap record header",
                at,
                needed: RECORD_HEADER_LEN,
                available,
            }));
        };
        // The header is all there, so none of these reads can fail.
        let read = |at| self.endian.u32(header, at).unwrap_or(0);
        let (seconds, fraction) = (read(0), read(4));
        let (captured_len, original_len) = (len32(read(8)), len32(read(12)));
        let data_start = offset.saturating_add(RECORD_HEADER_LEN);
        let Some(data) = field(bytes, data_start, captured_len) else {
            return Some(Err(CaptureError::Truncated {
                what: "pcap record data",
                at,
                needed: RECORD_HEADER_LEN.saturating_add(captured_len),
                available,
            }));
        };
        *offset = data_start.saturating_add(captured_len);
        // Cannot overflow: u32::MAX seconds are 4.3e18 ns and the fraction adds at most 4.3e12.
        let fraction_nanos = u64::from(fraction) * if self.nanos { 1 } else { 1_000 };
        let timestamp = Duration::from_nanos(u64::from(seconds) * 1_000_000_000 + fraction_nanos);
        Some(Ok(CapturedPacket::new(
            number,
            timestamp,
            self.link_type,
            0,
            original_len,
            data,
        )))
    }
}
