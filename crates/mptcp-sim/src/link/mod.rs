//! Point-to-point links: two independent directions, each with a rate, a propagation delay,
//! a drop-tail queue and optional impairments (jitter, loss, reordering, duplication,
//! corruption), plus the middleboxes and the capture placed on the link.
//!
//! A packet entering a direction goes through, in order: the up/down check, the MTU check,
//! the link's middleboxes, queue admission, the capture, serialization (which uses the link's
//! capacity even if the packet is then lost), wire loss, corruption, then delay, jitter and
//! reordering; a duplicate, if drawn, arrives with the original.

mod params;
mod stats;

use std::collections::VecDeque;
use std::io::{self, Write};

use core::time::Duration;

use mptcp_proto::time::Instant;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use params::{BadProbability, LinkParams, LossModel, QueueLimit, Reorder};
pub use stats::{DropCause, DropCounts, LinkStats};

pub use crate::direction::Direction;
use crate::middlebox::{Middlebox, Verdict};
use crate::pcap::PcapWriter;
use crate::pool::{PacketId, PacketPool};

/// A change to a link scheduled at a point in virtual time.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkChange {
    /// The link goes down: packets in flight and queued are lost, new ones are dropped.
    Down,
    /// The link comes back up.
    Up,
    /// New rate in bit/s, for packets sent from now on.
    Rate(u64),
    /// New propagation delay, for packets sent from now on.
    Delay(Duration),
    /// New loss model.
    Loss(LossModel),
}

/// The outcome of putting a packet on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transmission {
    /// Dropped before it was sent (and freed).
    Refused(DropCause),
    /// Sent, then lost on the wire (and freed).
    Lost,
    /// Sent; arrives at `arrival`, and so does `duplicate` if drawn.
    Sent {
        arrival: u64,
        duplicate: Option<PacketId>,
    },
}

/// The pcap capture of a link, which stops at the first write error and keeps it.
struct Capture {
    writer: PcapWriter<Box<dyn Write>>,
    error: Option<io::Error>,
}

/// The state of one direction.
struct Channel {
    params: LinkParams,
    /// When the transmitter finishes the last packet admitted.
    busy_until: u64,
    /// Start of serialization and length of each packet still waiting to start.
    waiting: VecDeque<(u64, usize)>,
    waiting_bytes: usize,
    /// Arrival time of the last packet that was not held back for reordering.
    last_arrival: u64,
    /// Gilbert–Elliott state.
    bad_state: bool,
    rng: ChaCha8Rng,
    stats: LinkStats,
}

impl Channel {
    fn new(params: LinkParams, rng: ChaCha8Rng) -> Self {
        Self {
            params,
            busy_until: 0,
            waiting: VecDeque::new(),
            waiting_bytes: 0,
            last_arrival: 0,
            bad_state: false,
            rng,
            stats: LinkStats::default(),
        }
    }

    /// Forgets the packets that have started serializing by `now`.
    fn prune(&mut self, now: u64) {
        while let Some(&(start, len)) = self.waiting.front() {
            if start > now {
                break;
            }
            self.waiting.pop_front();
            self.waiting_bytes -= len;
        }
    }

    fn admits(&self, now: u64, len: usize) -> bool {
        if self.busy_until <= now {
            return true;
        }
        match self.params.queue {
            QueueLimit::Unlimited => true,
            QueueLimit::Packets(limit) => self.waiting.len() < limit,
            QueueLimit::Bytes(limit) => self.waiting_bytes + len <= limit,
        }
    }

    fn chance(&mut self, probability: f64) -> bool {
        probability > 0.0 && self.rng.random::<f64>() < probability
    }

    fn lost(&mut self) -> bool {
        match self.params.loss {
            LossModel::None => false,
            LossModel::Random(p) => self.chance(p),
            LossModel::GilbertElliott {
                p,
                r,
                loss_good,
                loss_bad,
            } => {
                let switch = if self.bad_state { r } else { p };
                if self.chance(switch) {
                    self.bad_state = !self.bad_state;
                }
                let loss = if self.bad_state { loss_bad } else { loss_good };
                self.chance(loss)
            }
        }
    }

    fn reset(&mut self, now: u64) {
        self.busy_until = now;
        self.waiting.clear();
        self.waiting_bytes = 0;
        self.last_arrival = now;
    }
}

/// A point-to-point link between two interfaces.
pub(crate) struct Link {
    channels: [Channel; 2],
    up: bool,
    /// Incremented when the link goes down, to lose the packets in flight.
    epoch: u32,
    middleboxes: Vec<Box<dyn Middlebox>>,
    capture: Option<Capture>,
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl Link {
    /// A link whose directions draw their randomness from independent streams of `seed`
    /// (streams `2·index` and `2·index + 1`), so adding a link does not change the others.
    pub fn new(index: u32, seed: u64, a_to_b: LinkParams, b_to_a: LinkParams) -> Self {
        let rng = |stream: u64| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(stream);
            rng
        };
        let base = u64::from(index) * 2;
        Self {
            channels: [
                Channel::new(a_to_b, rng(base)),
                Channel::new(b_to_a, rng(base + 1)),
            ],
            up: true,
            epoch: 0,
            middleboxes: Vec::new(),
            capture: None,
        }
    }

    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    pub fn stats(&self, direction: Direction) -> &LinkStats {
        &self.channels[direction.index()].stats
    }

    pub fn params(&self, direction: Direction) -> &LinkParams {
        &self.channels[direction.index()].params
    }

    pub fn add_middlebox(&mut self, middlebox: Box<dyn Middlebox>) {
        self.middleboxes.push(middlebox);
    }

    pub fn set_capture(&mut self, out: Box<dyn Write>) -> io::Result<()> {
        self.capture = Some(Capture {
            writer: PcapWriter::new(out)?,
            error: None,
        });
        Ok(())
    }

    /// Flushes the capture and returns its first error, if any.
    pub fn finish_capture(&mut self) -> io::Result<()> {
        match &mut self.capture {
            None => Ok(()),
            Some(capture) => match capture.error.take() {
                Some(error) => Err(error),
                None => capture.writer.flush(),
            },
        }
    }

    /// Applies a scheduled change to one direction, or to both if `direction` is `None`.
    pub fn apply(&mut self, now: u64, change: &LinkChange, direction: Option<Direction>) {
        match change {
            LinkChange::Down => {
                if self.up {
                    self.up = false;
                    self.epoch = self.epoch.wrapping_add(1);
                    self.channels.iter_mut().for_each(|c| c.reset(now));
                }
            }
            LinkChange::Up => self.up = true,
            _ => {
                for (index, channel) in self.channels.iter_mut().enumerate() {
                    if direction.is_some_and(|d| d.index() != index) {
                        continue;
                    }
                    match change {
                        LinkChange::Rate(rate) => channel.params.rate_bps = *rate,
                        LinkChange::Delay(delay) => channel.params.delay = *delay,
                        LinkChange::Loss(loss) => channel.params.loss = *loss,
                        LinkChange::Down | LinkChange::Up => {}
                    }
                }
            }
        }
    }

    /// Puts `packet` on the link in `direction` at `now`.
    pub fn transmit(
        &mut self,
        now: u64,
        direction: Direction,
        pool: &mut PacketPool,
        packet: PacketId,
    ) -> Transmission {
        let refused = self.admit(now, direction, pool, packet);
        let channel = &mut self.channels[direction.index()];
        if let Err(cause) = refused {
            channel.stats.dropped.count(cause);
            pool.free(packet);
            return Transmission::Refused(cause);
        }
        let len = pool.get(packet).len();
        if let Some(capture) = &mut self.capture
            && capture.error.is_none()
            && let Err(error) = capture
                .writer
                .write_packet(Instant::from_nanos(now), pool.get(packet))
        {
            capture.error = Some(error);
        }
        let start = channel.busy_until.max(now);
        let finish = start + channel.params.serialization_nanos(len);
        channel.busy_until = finish;
        if start > now {
            channel.waiting.push_back((start, len));
            channel.waiting_bytes += len;
        }
        channel.stats.sent_packets += 1;
        channel.stats.sent_bytes += len as u64;
        if channel.lost() {
            channel.stats.dropped.count(DropCause::Loss);
            pool.free(packet);
            return Transmission::Lost;
        }
        if channel.chance(channel.params.corrupt) {
            let bit = channel.rng.random_range(0..len * 8);
            pool.get_mut(packet)[bit / 8] ^= 1 << (bit % 8);
            channel.stats.corrupted += 1;
        }
        let mut arrival = finish + nanos(channel.params.delay);
        let jitter = nanos(channel.params.jitter);
        if jitter > 0 {
            arrival += channel.rng.random_range(0..=jitter);
        }
        let held_back = channel
            .params
            .reorder
            .is_some_and(|reorder| channel.chance(reorder.probability));
        if held_back {
            arrival += channel.params.reorder.map_or(0, |r| nanos(r.extra_delay));
            channel.stats.reordered += 1;
        } else {
            arrival = arrival.max(channel.last_arrival);
            channel.last_arrival = arrival;
        }
        let duplicate = channel.chance(channel.params.duplicate).then(|| {
            channel.stats.duplicated += 1;
            pool.duplicate(packet)
        });
        Transmission::Sent { arrival, duplicate }
    }

    /// The checks before the queue: up, MTU, middleboxes, queue space.
    fn admit(
        &mut self,
        now: u64,
        direction: Direction,
        pool: &mut PacketPool,
        packet: PacketId,
    ) -> Result<(), DropCause> {
        if !self.up {
            return Err(DropCause::Down);
        }
        let channel = &self.channels[direction.index()];
        if pool.get(packet).len() > channel.params.mtu {
            return Err(DropCause::Mtu);
        }
        let instant = Instant::from_nanos(now);
        for middlebox in &mut self.middleboxes {
            if middlebox.process(instant, direction, pool.get_mut(packet)) == Verdict::Drop {
                return Err(DropCause::Middlebox);
            }
        }
        let channel = &mut self.channels[direction.index()];
        channel.prune(now);
        if channel.admits(now, pool.get(packet).len()) {
            Ok(())
        } else {
            Err(DropCause::Queue)
        }
    }

    /// A packet sent in `epoch` reaches the end of `direction`: whether it survives (the
    /// link did not go down meanwhile), counted either way.
    pub fn deliver(&mut self, direction: Direction, epoch: u32, len: usize) -> bool {
        let stats = &mut self.channels[direction.index()].stats;
        if epoch != self.epoch {
            stats.dropped.count(DropCause::Down);
            return false;
        }
        stats.delivered_packets += 1;
        stats.delivered_bytes += len as u64;
        true
    }
}
