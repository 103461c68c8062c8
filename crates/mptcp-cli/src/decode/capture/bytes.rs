//! Checked integer reads in either byte order.
//!
//! Every read returns `None` instead of panicking when the bytes run out, so the parsers can
//! turn a short buffer into a [`CaptureError`](super::CaptureError) at the point it happens.

/// The byte order of a capture file (pcap) or of one pcapng section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Endian {
    Little,
    Big,
}

impl Endian {
    /// The `u16` at `at`, if the bytes reach that far.
    pub(super) fn u16(self, bytes: &[u8], at: usize) -> Option<u16> {
        let raw: [u8; 2] = field(bytes, at, 2)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(raw),
            Endian::Big => u16::from_be_bytes(raw),
        })
    }

    /// The `u32` at `at`, if the bytes reach that far.
    pub(super) fn u32(self, bytes: &[u8], at: usize) -> Option<u32> {
        let raw: [u8; 4] = field(bytes, at, 4)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(raw),
            Endian::Big => u32::from_be_bytes(raw),
        })
    }

    /// The `u64` at `at`, if the bytes reach that far.
    pub(super) fn u64(self, bytes: &[u8], at: usize) -> Option<u64> {
        let raw: [u8; 8] = field(bytes, at, 8)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u64::from_le_bytes(raw),
            Endian::Big => u64::from_be_bytes(raw),
        })
    }
}

/// `len` bytes starting at `start`, or `None` if they are not all there (or the end overflows).
pub(super) fn field(bytes: &[u8], start: usize, len: usize) -> Option<&[u8]> {
    bytes.get(start..start.checked_add(len)?)
}

/// A 32-bit length from a file as a `usize`; lengths that do not fit saturate, so that the
/// bounds check that follows reports them as running past the end of the file.
pub(super) fn len32(value: u32) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}
