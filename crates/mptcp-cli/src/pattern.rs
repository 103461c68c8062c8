//! The byte pattern `kernel-peer` sends and verifies, for the other side of a
//! transfer (our stack) to produce and check the same bytes. `mptcp connect`
//! and `mptcp listen` send it with `--send N` and check it with `--verify`.
//!
//! Each direction has its own tag, so bytes echoed back or crossed between the
//! directions do not verify. The period 251 is prime, so a lost, duplicated or
//! shifted block of any usual segment size shows up.

/// Tag of the bytes a client sends.
pub const CLIENT_TAG: u8 = 0;
/// Tag of the bytes a server sends.
pub const SERVER_TAG: u8 = 0x80;

/// Byte number `offset` of a stream sent with `tag`.
pub fn byte(tag: u8, offset: u64) -> u8 {
    ((offset % 251) as u8).wrapping_add(tag)
}

/// Fills `buf` with the bytes at `offset..offset + buf.len()` of a stream sent
/// with `tag`.
pub fn fill(tag: u8, offset: u64, buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = byte(tag, offset + i as u64);
    }
}

/// The stream offset of the first byte of `buf` (starting at `offset`) that
/// differs from the pattern of `tag`.
pub fn first_mismatch(tag: u8, offset: u64, buf: &[u8]) -> Option<u64> {
    buf.iter()
        .enumerate()
        .find(|&(i, &b)| b != byte(tag, offset + i as u64))
        .map(|(i, _)| offset + i as u64)
}

/// How many bytes of `buf` (starting at stream offset `offset`) differ from the pattern
/// of `tag`.
pub fn mismatches(tag: u8, offset: u64, buf: &[u8]) -> u64 {
    buf.iter()
        .enumerate()
        .filter(|&(i, &b)| b != byte(tag, offset + i as u64))
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_differ_and_the_period_is_251() {
        for off in [0u64, 1, 250, 251, 1_000_000] {
            assert_ne!(byte(CLIENT_TAG, off), byte(SERVER_TAG, off));
            assert_eq!(byte(CLIENT_TAG, off), byte(CLIENT_TAG, off + 251));
        }
    }

    #[test]
    fn fill_and_first_mismatch_agree() {
        let mut buf = [0u8; 600];
        fill(SERVER_TAG, 1000, &mut buf);
        assert_eq!(first_mismatch(SERVER_TAG, 1000, &buf), None);
        assert_eq!(first_mismatch(CLIENT_TAG, 1000, &buf), Some(1000));
        assert_eq!(mismatches(SERVER_TAG, 1000, &buf), 0);
        buf[300] ^= 1;
        assert_eq!(first_mismatch(SERVER_TAG, 1000, &buf), Some(1300));
        assert_eq!(mismatches(SERVER_TAG, 1000, &buf), 1);
    }
}
