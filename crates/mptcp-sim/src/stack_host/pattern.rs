//! What the applications send: a short header that says what the connection is, then a
//! deterministic byte pattern that the receiver checks as it arrives, without storing it.
//!
//! The pattern is a function of the connection's salt and the byte's position in its
//! stream (8-byte words of a multiplicative hash), so lost, duplicated, reordered, shifted
//! or corrupted bytes, and bytes of another connection, all show as mismatches.

/// Length of the [`Header`] on the wire.
pub(crate) const HEADER_LEN: usize = 32;

/// Marks the start of every application stream.
const MAGIC: [u8; 4] = *b"MPSM";

/// What a client tells the server in the first bytes of its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// Identifies the connection in the whole scenario and seeds its pattern.
    pub(crate) salt: u64,
    /// What the server does with the stream.
    pub(crate) kind: StreamKind,
}

/// The shape of a client's stream, as the server needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamKind {
    /// `bytes` bytes of pattern, then the end of the stream.
    Bulk {
        /// Payload bytes after the header.
        bytes: u64,
    },
    /// Requests of `request` bytes, each answered with `response` bytes.
    RequestResponse {
        /// Bytes per request.
        request: u64,
        /// Bytes per response.
        response: u64,
    },
    /// Pattern bytes for as long as the connection lasts.
    Open,
    /// No bytes after the header; the server sends `bytes` bytes back, then closes.
    Download {
        /// Bytes the server sends.
        bytes: u64,
    },
    /// `up` bytes of pattern, while the server sends `down` bytes back from the start.
    Exchange {
        /// Payload bytes after the header.
        up: u64,
        /// Bytes the server sends.
        down: u64,
    },
}

impl Header {
    /// The header's bytes: magic, kind, three zero bytes, salt, two parameters (big-endian).
    pub(crate) fn encode(&self) -> [u8; HEADER_LEN] {
        let (code, a, b) = match self.kind {
            StreamKind::Bulk { bytes } => (1, bytes, 0),
            StreamKind::RequestResponse { request, response } => (2, request, response),
            StreamKind::Open => (3, 0, 0),
            StreamKind::Download { bytes } => (4, bytes, 0),
            StreamKind::Exchange { up, down } => (5, up, down),
        };
        let mut out = [0; HEADER_LEN];
        out[..4].copy_from_slice(&MAGIC);
        out[4] = code;
        out[8..16].copy_from_slice(&self.salt.to_be_bytes());
        out[16..24].copy_from_slice(&a.to_be_bytes());
        out[24..32].copy_from_slice(&b.to_be_bytes());
        out
    }

    /// Reads a header; `None` if the bytes are not one.
    pub(crate) fn decode(bytes: &[u8; HEADER_LEN]) -> Option<Self> {
        if bytes[..4] != MAGIC || bytes[5..8] != [0; 3] {
            return None;
        }
        let word = |at: usize| {
            let mut raw = [0; 8];
            raw.copy_from_slice(&bytes[at..at + 8]);
            u64::from_be_bytes(raw)
        };
        let (a, b) = (word(16), word(24));
        let kind = match (bytes[4], a, b) {
            (1, bytes, 0) => StreamKind::Bulk { bytes },
            (2, request, response) if request > 0 => {
                StreamKind::RequestResponse { request, response }
            }
            (3, 0, 0) => StreamKind::Open,
            (4, bytes, 0) => StreamKind::Download { bytes },
            (5, up, down) => StreamKind::Exchange { up, down },
            _ => return None,
        };
        Some(Self {
            salt: word(8),
            kind,
        })
    }
}

/// The pattern of one stream direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pattern {
    key: u64,
}

impl Pattern {
    /// The pattern of the client-to-server direction of connection `salt`.
    pub(crate) fn upstream(salt: u64) -> Self {
        Self { key: mix(salt) }
    }

    /// The pattern of the server-to-client direction of connection `salt`.
    pub(crate) fn downstream(salt: u64) -> Self {
        Self {
            key: mix(salt ^ 0xd0d0_d0d0_d0d0_d0d0),
        }
    }

    fn word(self, index: u64) -> [u8; 8] {
        mix(self.key ^ index).to_le_bytes()
    }

    /// Writes the pattern bytes at positions `offset..offset + out.len()` into `out`: the
    /// end of a partial first word, whole words, then the start of a partial last word.
    pub(crate) fn fill(self, offset: u64, out: &mut [u8]) {
        let start = (offset % 8) as usize;
        let head = if start == 0 {
            0
        } else {
            (8 - start).min(out.len())
        };
        let (first, rest) = out.split_at_mut(head);
        first.copy_from_slice(&self.word(offset / 8)[start..start + head]);
        let mut index = (offset + head as u64) / 8;
        let mut words = rest.chunks_exact_mut(8);
        for word in &mut words {
            word.copy_from_slice(&self.word(index));
            index += 1;
        }
        let last = words.into_remainder();
        let len = last.len();
        last.copy_from_slice(&self.word(index)[..len]);
    }

    /// Whether `data` equals the pattern at positions `offset..offset + data.len()`.
    pub(crate) fn matches(self, offset: u64, data: &[u8]) -> bool {
        let start = (offset % 8) as usize;
        let head = if start == 0 {
            0
        } else {
            (8 - start).min(data.len())
        };
        let (first, rest) = data.split_at(head);
        if first != &self.word(offset / 8)[start..start + head] {
            return false;
        }
        let mut index = (offset + head as u64) / 8;
        let mut words = rest.chunks_exact(8);
        // Whole words compare as integers; the differences accumulate without branches.
        let mut diff = 0;
        for word in &mut words {
            let mut raw = [0; 8];
            raw.copy_from_slice(word);
            diff |= u64::from_le_bytes(raw) ^ mix(self.key ^ index);
            index += 1;
        }
        let last = words.remainder();
        diff == 0 && last == &self.word(index)[..last.len()]
    }
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
fn mix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_split_of_the_pattern_checks() {
        let pattern = Pattern::upstream(7);
        let mut whole = vec![0; 10_000];
        pattern.fill(0, &mut whole);
        let mut position = 0;
        for size in [1, 3, 8, 13, 4096, 5000] {
            let end = (position + size).min(whole.len());
            assert!(pattern.matches(position as u64, &whole[position..end]));
            position = end;
        }
        let mut split = vec![0; 100];
        pattern.fill(37, &mut split);
        assert_eq!(split, whole[37..137]);
    }

    #[test]
    fn fill_and_matches_agree_with_the_bytewise_definition() {
        let pattern = Pattern::downstream(3);
        let byte = |position: u64| pattern.word(position / 8)[(position % 8) as usize];
        for offset in 0..20u64 {
            for len in 0..40usize {
                let mut out = vec![0; len];
                pattern.fill(offset, &mut out);
                let expected: Vec<u8> = (offset..offset + len as u64).map(byte).collect();
                assert_eq!(out, expected, "offset {offset}, length {len}");
                assert!(pattern.matches(offset, &expected));
                for flip in 0..len {
                    let mut bad = expected.clone();
                    bad[flip] ^= 0x80;
                    assert!(
                        !pattern.matches(offset, &bad),
                        "offset {offset}, flip {flip}"
                    );
                }
            }
        }
    }

    #[test]
    fn shifted_corrupted_or_foreign_bytes_do_not_check() {
        let pattern = Pattern::upstream(7);
        let mut data = vec![0; 3000];
        pattern.fill(1000, &mut data);
        assert!(!pattern.matches(999, &data));
        assert!(!pattern.matches(1000 + 256, &data));
        assert!(!Pattern::downstream(7).matches(1000, &data));
        assert!(!Pattern::upstream(8).matches(1000, &data));
        data[2999] ^= 1;
        assert!(!pattern.matches(1000, &data));
    }

    #[test]
    fn headers_round_trip_and_reject_garbage() {
        for kind in [
            StreamKind::Bulk { bytes: 1 << 40 },
            StreamKind::RequestResponse {
                request: 100,
                response: 0,
            },
            StreamKind::Open,
            StreamKind::Download { bytes: 1 << 26 },
            StreamKind::Exchange {
                up: 1 << 26,
                down: 3,
            },
        ] {
            let header = Header { salt: 99, kind };
            assert_eq!(Header::decode(&header.encode()), Some(header));
        }
        let mut bad = Header {
            salt: 1,
            kind: StreamKind::Open,
        }
        .encode();
        bad[0] = b'X';
        assert_eq!(Header::decode(&bad), None);
        assert_eq!(Header::decode(&[0; HEADER_LEN]), None);
    }
}
