//! The event queue: a min-heap of small events in virtual time, with a sequence number that
//! breaks ties in insertion order, so that equal times always pop in the same order.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::link::Direction;
use crate::pool::PacketId;

/// What happens when an event fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum EventKind {
    /// A packet reaches the far end of one direction of a link. `epoch` is the link's epoch
    /// when the packet was sent: a link that went down since then loses it.
    Deliver {
        link: u32,
        direction: Direction,
        packet: PacketId,
        epoch: u32,
    },
    /// A host's timer, as it last reported through `poll_timeout`.
    HostTimer { node: u32 },
    /// Drain a host's transmissions and read its next deadline, without a timeout.
    Wake { node: u32 },
    /// A scheduled change of a link (index into the simulation's action list).
    Action { index: u32 },
}

/// One queued event; ordered by time, then by insertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Event {
    pub time: u64,
    pub seq: u64,
    pub kind: EventKind,
}

impl Event {
    /// Time and insertion sequence as one number: sequence numbers are unique, so this
    /// orders events completely, in one comparison without branches.
    fn key(&self) -> u128 {
        (u128::from(self.time) << 64) | u128::from(self.seq)
    }
}

impl Ord for Event {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The queue of pending events.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Reverse<Event>>,
    next_seq: u64,
}

impl EventQueue {
    /// Queues `kind` to fire at `time` (nanoseconds), after every event already queued for
    /// the same time.
    pub fn push(&mut self, time: u64, kind: EventKind) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Event { time, seq, kind }));
    }

    /// The time of the earliest event.
    pub fn peek_time(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse(event)| event.time)
    }

    /// Removes and returns the earliest event.
    pub fn pop(&mut self) -> Option<Event> {
        self.heap.pop().map(|Reverse(event)| event)
    }

    /// Number of queued events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_insertion_order() {
        let mut queue = EventQueue::default();
        queue.push(20, EventKind::Wake { node: 0 });
        queue.push(10, EventKind::Wake { node: 1 });
        queue.push(20, EventKind::Wake { node: 2 });
        queue.push(10, EventKind::HostTimer { node: 3 });
        let order: Vec<_> = std::iter::from_fn(|| queue.pop())
            .map(|event| (event.time, event.kind))
            .collect();
        assert_eq!(
            order,
            [
                (10, EventKind::Wake { node: 1 }),
                (10, EventKind::HostTimer { node: 3 }),
                (20, EventKind::Wake { node: 0 }),
                (20, EventKind::Wake { node: 2 }),
            ]
        );
        assert_eq!(queue.len(), 0);
    }
}
