//! A fixed-capacity byte ring: the storage under the send and receive buffers. Copies in and
//! out in at most two pieces. Its storage is allocated on the first write (so a connection
//! that never carries data, such as a half-open one, holds none) and again only when grown.

/// A ring of bytes with a capacity chosen at construction (and raised by [`grow`]).
///
/// [`grow`]: ByteRing::grow
#[derive(Debug, Clone)]
pub(crate) struct ByteRing {
    /// `capacity` bytes once something was written, empty before.
    buf: Vec<u8>,
    capacity: usize,
    head: usize,
    len: usize,
}

impl ByteRing {
    /// An empty ring holding up to `capacity` bytes.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            buf: Vec::new(),
            capacity,
            head: 0,
            len: 0,
        }
    }

    /// Bytes the ring can hold.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes stored.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether no byte is stored.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room left.
    pub(crate) fn free(&self) -> usize {
        self.capacity() - self.len
    }

    /// Index in `buf` of the byte `offset` bytes after the head.
    fn index(&self, offset: usize) -> usize {
        let cap = self.capacity();
        let i = self.head + offset;
        if i >= cap { i - cap } else { i }
    }

    /// Appends as much of `data` as fits; returns how much did.
    pub(crate) fn push(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        self.write_at(self.len, &data[..n]);
        self.len += n;
        n
    }

    /// Writes `data` at `offset` bytes after the head, without changing the length. The
    /// caller keeps `offset + data.len() <= capacity`.
    pub(crate) fn write_at(&mut self, offset: usize, data: &[u8]) {
        if data.is_empty() || self.capacity() == 0 {
            return;
        }
        if self.buf.is_empty() {
            self.buf = vec![0; self.capacity];
        }
        let start = self.index(offset);
        let first = data.len().min(self.capacity() - start);
        self.buf[start..start + first].copy_from_slice(&data[..first]);
        self.buf[..data.len() - first].copy_from_slice(&data[first..]);
    }

    /// Copies bytes from `offset` after the head into `out`; returns how many (bounded by
    /// the stored length).
    pub(crate) fn read_at(&self, offset: usize, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len.saturating_sub(offset));
        if n == 0 {
            return 0;
        }
        let start = self.index(offset);
        let first = n.min(self.capacity() - start);
        out[..first].copy_from_slice(&self.buf[start..start + first]);
        out[first..n].copy_from_slice(&self.buf[..n - first]);
        n
    }

    /// Marks `n` bytes written with [`write_at`](Self::write_at) after the end as stored.
    pub(crate) fn extend(&mut self, n: usize) {
        self.len = (self.len + n).min(self.capacity());
    }

    /// Drops `n` bytes from the front.
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = self.index(n);
        self.len -= n;
    }

    /// Raises the capacity to `capacity` (never lowers it), keeping the bytes stored and the
    /// bytes written beyond them up to the old capacity.
    pub(crate) fn grow(&mut self, capacity: usize) {
        let old = self.capacity();
        if capacity <= old {
            return;
        }
        self.capacity = capacity;
        if self.buf.is_empty() {
            return;
        }
        let mut buf = vec![0; capacity];
        buf[..old - self.head].copy_from_slice(&self.buf[self.head..]);
        buf[old - self.head..old].copy_from_slice(&self.buf[..self.head]);
        self.buf = buf;
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_grows() {
        let mut ring = ByteRing::new(8);
        assert_eq!(ring.push(b"abcdef"), 6);
        ring.consume(4);
        assert_eq!(ring.push(b"ghijklmn"), 6);
        let mut out = [0; 8];
        assert_eq!(ring.read_at(0, &mut out), 8);
        assert_eq!(&out, b"efghijkl");
        ring.write_at(8, b"");
        ring.grow(16);
        assert_eq!(ring.read_at(2, &mut out), 6);
        assert_eq!(&out[..6], b"ghijkl");
        assert_eq!(ring.push(b"mnop"), 4);
        assert_eq!(ring.len(), 12);
        ring.consume(12);
        assert!(ring.is_empty());
        // Bytes written past the end keep their place when the stored bytes are consumed.
        ring.push(b"ab");
        ring.write_at(5, b"xy");
        ring.consume(2);
        ring.write_at(0, b"cde");
        ring.extend(5);
        let mut out = [0; 5];
        assert_eq!(ring.read_at(0, &mut out), 5);
        assert_eq!(&out, b"cdexy");
    }
}
