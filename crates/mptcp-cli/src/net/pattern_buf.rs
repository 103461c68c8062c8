//! Fast access to the test pattern ([`crate::pattern`]): one precomputed period-aligned table
//! that sending copies from and verifying compares with, instead of computing byte by byte.

use crate::pattern;

/// The pattern's period (see [`crate::pattern`]).
const PERIOD: usize = 251;

/// The bytes of one direction's pattern for any offset, in slices of up to `max` bytes.
#[derive(Debug, Clone)]
pub(crate) struct PatternBuf {
    tag: u8,
    table: Vec<u8>,
    max: usize,
}

impl PatternBuf {
    /// The pattern of `tag`, handed out in slices of at most `max` bytes.
    pub(crate) fn new(tag: u8, max: usize) -> Self {
        let mut table = vec![0u8; max + PERIOD];
        pattern::fill(tag, 0, &mut table);
        Self { tag, table, max }
    }

    /// The `len` (at most `max`) pattern bytes at stream offset `offset`.
    pub(crate) fn slice(&self, offset: u64, len: usize) -> &[u8] {
        let len = len.min(self.max);
        let start = (offset % PERIOD as u64) as usize;
        &self.table[start..start + len]
    }

    /// The stream offset of the first byte of `data` (at `offset`) that is not the pattern.
    pub(crate) fn first_mismatch(&self, offset: u64, data: &[u8]) -> Option<u64> {
        let mut at = 0usize;
        for chunk in data.chunks(self.max) {
            let position = offset + at as u64;
            if chunk != self.slice(position, chunk.len()) {
                return pattern::first_mismatch(self.tag, position, chunk);
            }
            at += chunk.len();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_the_pattern_at_any_offset() {
        let buf = PatternBuf::new(pattern::SERVER_TAG, 1000);
        for offset in [0u64, 1, 250, 251, 999_999] {
            let mut want = vec![0u8; 1000];
            pattern::fill(pattern::SERVER_TAG, offset, &mut want);
            assert_eq!(buf.slice(offset, 1000), &want[..]);
            assert_eq!(buf.first_mismatch(offset, &want), None);
            want[700] ^= 0xff;
            assert_eq!(buf.first_mismatch(offset, &want), Some(offset + 700));
        }
        // Longer than `max`: checked piece by piece.
        let mut long = vec![0u8; 2500];
        pattern::fill(pattern::SERVER_TAG, 5, &mut long);
        assert_eq!(buf.first_mismatch(5, &long), None);
        long[2400] = 0;
        assert_eq!(buf.first_mismatch(5, &long), Some(2405));
        let client = PatternBuf::new(pattern::CLIENT_TAG, 1000);
        assert_eq!(client.first_mismatch(5, &long), Some(5));
    }
}
