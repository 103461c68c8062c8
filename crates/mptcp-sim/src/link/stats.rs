//! Per-direction link counters.

/// Why a link dropped a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropCause {
    /// The link was down when the packet was sent, or went down while it was in flight.
    Down,
    /// The packet was larger than the link's MTU.
    Mtu,
    /// The drop-tail queue was full.
    Queue,
    /// Random or bursty loss on the wire.
    Loss,
    /// A middlebox on the link discarded it.
    Middlebox,
}

/// Packets dropped, by cause.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DropCounts {
    /// See [`DropCause::Down`].
    pub down: u64,
    /// See [`DropCause::Mtu`].
    pub mtu: u64,
    /// See [`DropCause::Queue`].
    pub queue: u64,
    /// See [`DropCause::Loss`].
    pub loss: u64,
    /// See [`DropCause::Middlebox`].
    pub middlebox: u64,
}

impl DropCounts {
    /// Counts one drop.
    pub(crate) fn count(&mut self, cause: DropCause) {
        *match cause {
            DropCause::Down => &mut self.down,
            DropCause::Mtu => &mut self.mtu,
            DropCause::Queue => &mut self.queue,
            DropCause::Loss => &mut self.loss,
            DropCause::Middlebox => &mut self.middlebox,
        } += 1;
    }

    /// All drops.
    pub fn total(&self) -> u64 {
        self.down + self.mtu + self.queue + self.loss + self.middlebox
    }
}

/// Counters of one direction of a link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Packets put on the wire (admitted to the queue).
    pub sent_packets: u64,
    /// Bytes put on the wire.
    pub sent_bytes: u64,
    /// Packets handed to the far end (duplicates included).
    pub delivered_packets: u64,
    /// Bytes handed to the far end.
    pub delivered_bytes: u64,
    /// Drops by cause.
    pub dropped: DropCounts,
    /// Extra copies made by duplication.
    pub duplicated: u64,
    /// Packets with a flipped bit.
    pub corrupted: u64,
    /// Packets held back for reordering.
    pub reordered: u64,
}
