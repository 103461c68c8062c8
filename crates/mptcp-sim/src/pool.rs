//! Packet buffers in flight, recycled: a packet is an index into a slab of byte vectors, and
//! a freed vector keeps its capacity for the next packet, so that after warm-up the hot path
//! does not allocate.

/// A packet held by the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PacketId(u32);

/// The slab of packet buffers.
#[derive(Debug, Default)]
pub(crate) struct PacketPool {
    buffers: Vec<Vec<u8>>,
    free: Vec<u32>,
}

impl PacketPool {
    /// Stores a copy of `bytes`.
    pub fn alloc(&mut self, bytes: &[u8]) -> PacketId {
        match self.free.pop() {
            Some(index) => {
                let buffer = &mut self.buffers[index as usize];
                buffer.clear();
                buffer.extend_from_slice(bytes);
                PacketId(index)
            }
            None => {
                let index = u32::try_from(self.buffers.len()).expect("fewer than 2^32 packets");
                self.buffers.push(bytes.to_vec());
                PacketId(index)
            }
        }
    }

    /// Stores a copy of packet `id`.
    pub fn duplicate(&mut self, id: PacketId) -> PacketId {
        let copy = match self.free.pop() {
            Some(index) => index,
            None => {
                self.buffers.push(Vec::new());
                u32::try_from(self.buffers.len() - 1).expect("fewer than 2^32 packets")
            }
        };
        let (source, target) = if copy < id.0 {
            let (low, high) = self.buffers.split_at_mut(id.0 as usize);
            (&high[0], &mut low[copy as usize])
        } else {
            let (low, high) = self.buffers.split_at_mut(copy as usize);
            (&low[id.0 as usize], &mut high[0])
        };
        target.clear();
        target.extend_from_slice(source);
        PacketId(copy)
    }

    /// The bytes of packet `id`.
    pub fn get(&self, id: PacketId) -> &[u8] {
        &self.buffers[id.0 as usize]
    }

    /// The bytes of packet `id`, writable.
    pub fn get_mut(&mut self, id: PacketId) -> &mut [u8] {
        &mut self.buffers[id.0 as usize]
    }

    /// Returns packet `id`'s buffer to the pool.
    pub fn free(&mut self, id: PacketId) {
        self.free.push(id.0);
    }

    /// Number of packets currently held.
    pub fn in_use(&self) -> usize {
        self.buffers.len() - self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycles_buffers() {
        let mut pool = PacketPool::default();
        let a = pool.alloc(b"hello");
        let b = pool.duplicate(a);
        assert_eq!(pool.get(b), b"hello");
        pool.get_mut(a)[0] = b'j';
        assert_eq!(pool.get(a), b"jello");
        assert_eq!(pool.get(b), b"hello");
        pool.free(a);
        assert_eq!(pool.in_use(), 1);
        let c = pool.alloc(b"hi");
        assert_eq!(c, a);
        assert_eq!(pool.get(c), b"hi");
        let d = pool.duplicate(c);
        assert_eq!(pool.get(d), b"hi");
        assert_eq!(pool.in_use(), 3);
    }
}
