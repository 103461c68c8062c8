//! Emulated packet loss between our stack and the network, in userspace.
//!
//! This kernel has no `netem`, so loss on a path has to be made in userspace.
//! [`ImpairedDevice`] wraps the [`Device`] our stack runs on (a TUN device, or a
//! [`MemoryDevice`](mptcp_tun::MemoryDevice) in unit tests) and drops whole IP
//! packets with a probability per direction:
//!
//! - **inbound** (device → stack): the packet is read from the device and
//!   thrown away before the stack sees it — a segment of the *kernel's* TCP is
//!   lost, and the kernel must recover it;
//! - **outbound** (stack → device): the packet never reaches the device — one
//!   of *our* segments is lost, and our stack must recover it.
//!
//! ```text
//!   "kernel" ── veth ── "ours" (router) ── tun1 ══ ImpairedDevice ══ our stack
//!                                                   drops here
//! ```
//!
//! Each direction draws from its own ChaCha8 stream (the simulator's generator)
//! seeded by the test, so a seed reproduces the same drop pattern for the same
//! sequence of packets in that direction — and one direction's traffic does not
//! shift the other's pattern. With an offloading TUN device the draw is still
//! per IP packet of at most one MTU: inbound after the device split its
//! super-packets ([`Device::recv_batch`]), outbound before it merges segments
//! ([`Device::send_batch`]). Packets are not copied or delayed: the wrapper
//! decides, per packet, "pass" or "drop", and counts both ([`ImpairCounters`]),
//! so a test can assert that the loss it asked for happened.
//!
//! # Where it ends, and what it does not do
//!
//! Only loss: no delay, jitter or reordering. Rate limits stay with `tbf` on the
//! veths ([`crate::Tbf`]), where the queue sits in the kernel and can be
//! measured with `tc -s qdisc`. The wrapper costs one random draw per packet
//! (none at probability 0), so it does not slow down the runtime it wraps.
//!
//! A relay between two kernel endpoints (delay, reordering, loss for paths that
//! do not end in our stack, e.g. kernel ↔ kernel baselines) would need a third
//! namespace copying frames between two `AF_PACKET` sockets or TUN devices,
//! with the same seeded per-direction draws; it has not been needed yet.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mptcp_tun::Device;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// Loss settings of an [`ImpairedDevice`]: a drop probability per direction and
/// the seed of the random draws.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Loss {
    /// Probability (0 to 1) that a packet from the device to the stack is dropped.
    pub inbound: f64,
    /// Probability (0 to 1) that a packet from the stack to the device is dropped.
    pub outbound: f64,
    /// Seed of the draws; the same seed drops the same packets of the same sequence.
    pub seed: u64,
}

impl Loss {
    /// No loss (the wrapper only counts packets).
    pub const NONE: Loss = Loss {
        inbound: 0.0,
        outbound: 0.0,
        seed: 0,
    };

    /// The same probability `p` in both directions.
    pub fn both(p: f64, seed: u64) -> Loss {
        Loss {
            inbound: p,
            outbound: p,
            seed,
        }
    }

    /// The same probabilities with a seed derived from this one and `salt` (one per
    /// device, so that two paths do not drop the same packet numbers).
    pub fn reseeded(self, salt: u64) -> Loss {
        Loss {
            seed: self.seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            ..self
        }
    }
}

/// Packets one direction of an [`ImpairedDevice`] handled so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Packets that reached the wrapper in this direction.
    pub seen: u64,
    /// Of those, packets it dropped.
    pub dropped: u64,
}

impl Tally {
    /// The share of packets dropped (0 when none were seen).
    pub fn drop_rate(&self) -> f64 {
        if self.seen == 0 {
            0.0
        } else {
            self.dropped as f64 / self.seen as f64
        }
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} dropped ({:.2} %)",
            self.dropped,
            self.seen,
            100.0 * self.drop_rate()
        )
    }
}

/// The counters of an [`ImpairedDevice`], readable after the device moved into
/// a runtime (clones share the counters).
#[derive(Clone, Debug, Default)]
pub struct ImpairCounters {
    inbound: Arc<Counter>,
    outbound: Arc<Counter>,
}

impl ImpairCounters {
    /// Device → stack: segments of the peer.
    pub fn inbound(&self) -> Tally {
        self.inbound.tally()
    }

    /// Stack → device: our segments.
    pub fn outbound(&self) -> Tally {
        self.outbound.tally()
    }
}

#[derive(Debug, Default)]
struct Counter {
    seen: AtomicU64,
    dropped: AtomicU64,
}

impl Counter {
    fn tally(&self) -> Tally {
        Tally {
            seen: self.seen.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// One direction: its probability as a threshold on 32-bit draws, and its stream.
#[derive(Debug)]
struct Direction {
    /// A draw below this drops the packet: `p · 2³²` (0 never drops, 2³² always does).
    threshold: u64,
    rng: Mutex<ChaCha8Rng>,
    counter: Arc<Counter>,
}

impl Direction {
    fn new(p: f64, seed: u64, stream: u64, counter: Arc<Counter>) -> Direction {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        Direction {
            threshold: (p.clamp(0.0, 1.0) * 4_294_967_296.0) as u64,
            rng: Mutex::new(rng),
            counter,
        }
    }

    /// Counts one packet and decides whether it is dropped.
    fn drops(&self) -> bool {
        self.counter.seen.fetch_add(1, Ordering::Relaxed);
        if self.threshold == 0 {
            return false;
        }
        let draw = self
            .rng
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_u32();
        let drop = u64::from(draw) < self.threshold;
        if drop {
            self.counter.dropped.fetch_add(1, Ordering::Relaxed);
        }
        drop
    }
}

/// A [`Device`] that loses packets: `inner` with independent random loss in
/// each direction (see the [module documentation](self)).
#[derive(Debug)]
pub struct ImpairedDevice<D> {
    inner: D,
    inbound: Direction,
    outbound: Direction,
    counters: ImpairCounters,
}

impl<D: Device> ImpairedDevice<D> {
    /// Wraps `inner` with the loss of `loss`.
    pub fn new(inner: D, loss: Loss) -> Self {
        let counters = ImpairCounters::default();
        ImpairedDevice {
            inner,
            inbound: Direction::new(loss.inbound, loss.seed, 0, counters.inbound.clone()),
            outbound: Direction::new(loss.outbound, loss.seed, 1, counters.outbound.clone()),
            counters,
        }
    }

    /// A handle on the counters, to keep when the device moves into a runtime.
    pub fn counters(&self) -> ImpairCounters {
        self.counters.clone()
    }
}

impl<D: Device> Device for ImpairedDevice<D> {
    async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.inner.recv(buf).await?;
            if !self.inbound.drops() {
                return Ok(n);
            }
        }
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.inner.try_recv(buf)?;
            if !self.inbound.drops() {
                return Ok(n);
            }
        }
    }

    /// A dropped packet is reported as sent: it was lost on the way, as on a wire.
    fn try_send(&self, packet: &[u8]) -> io::Result<()> {
        if self.outbound.drops() {
            return Ok(());
        }
        self.inner.try_send(packet)
    }

    /// The inner device's batch (an offloading TUN device splits its super-packets
    /// there, so the draw is per real packet), without the dropped packets.
    async fn recv_batch(&self, bufs: &mut [Vec<u8>], lens: &mut [usize]) -> io::Result<usize> {
        loop {
            let count = self.inner.recv_batch(bufs, lens).await?;
            let mut kept = 0;
            for i in 0..count {
                if !self.inbound.drops() {
                    bufs.swap(kept, i);
                    lens.swap(kept, i);
                    kept += 1;
                }
            }
            if kept > 0 {
                return Ok(kept);
            }
        }
    }

    fn headroom(&self) -> usize {
        self.inner.headroom()
    }

    fn send_capacity(&self, mtu: usize) -> usize {
        self.inner.send_capacity(mtu)
    }

    /// Drops packets of the batch (before an offloading device merges what is
    /// left), then hands the rest to the inner device.
    fn send_batch(&self, packets: &mut [Vec<u8>], offset: usize) {
        let mut kept = 0;
        for i in 0..packets.len() {
            if !self.outbound.drops() {
                packets.swap(kept, i);
                kept += 1;
            }
        }
        if kept > 0 {
            self.inner.send_batch(&mut packets[..kept], offset);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mptcp_tun::MemoryDevice;
    use std::time::Duration;

    const PACKETS: u32 = 20_000;

    /// Sends `PACKETS` numbered packets out of `dev`; returns the numbers that
    /// reached `peer`.
    fn send_through(dev: &ImpairedDevice<MemoryDevice>, peer: &MemoryDevice) -> Vec<u32> {
        let mut buf = [0u8; 4];
        let mut arrived = Vec::new();
        for i in 0..PACKETS {
            dev.try_send(&i.to_be_bytes()).unwrap();
            if let Ok(4) = peer.try_recv(&mut buf) {
                arrived.push(u32::from_be_bytes(buf));
            }
        }
        arrived
    }

    /// Queues `PACKETS` numbered packets from `peer` to `dev`; returns the
    /// numbers `dev.recv` delivered until nothing more came.
    async fn receive_through(dev: &ImpairedDevice<MemoryDevice>, peer: &MemoryDevice) -> Vec<u32> {
        for i in 0..PACKETS {
            peer.try_send(&i.to_be_bytes()).unwrap();
        }
        let mut buf = [0u8; 4];
        let mut arrived = Vec::new();
        while let Ok(n) = tokio::time::timeout(Duration::from_millis(100), dev.recv(&mut buf)).await
        {
            assert_eq!(n.unwrap(), 4);
            arrived.push(u32::from_be_bytes(buf));
        }
        arrived
    }

    #[tokio::test]
    async fn drops_about_the_given_share_each_way_and_counts_it() {
        let (ours, theirs) = MemoryDevice::pair(PACKETS as usize);
        let dev = ImpairedDevice::new(
            ours,
            Loss {
                inbound: 0.05,
                outbound: 0.01,
                seed: 7,
            },
        );
        let counters = dev.counters();
        let sent = send_through(&dev, &theirs);
        let out = counters.outbound();
        assert_eq!(out.seen, u64::from(PACKETS));
        assert_eq!(out.dropped + sent.len() as u64, out.seen, "{out}");
        assert!((0.007..0.013).contains(&out.drop_rate()), "{out}");
        // Order is kept and nothing is duplicated.
        assert!(sent.windows(2).all(|w| w[0] < w[1]));

        let received = receive_through(&dev, &theirs).await;
        let inb = counters.inbound();
        assert_eq!(inb.seen, u64::from(PACKETS));
        assert_eq!(inb.dropped + received.len() as u64, inb.seen, "{inb}");
        assert!((0.04..0.06).contains(&inb.drop_rate()), "{inb}");
        assert!(received.windows(2).all(|w| w[0] < w[1]));
        // Outbound was not disturbed by the inbound traffic.
        assert_eq!(counters.outbound(), out);
    }

    #[tokio::test]
    async fn batches_lose_packets_like_single_packets() {
        const N: u32 = 10_000;
        let (ours, theirs) = MemoryDevice::pair(N as usize);
        let dev = ImpairedDevice::new(ours, Loss::both(0.02, 3));
        let counters = dev.counters();
        // Outbound: batches of 50, each packet's bytes after a 2-byte headroom.
        let mut arrived = Vec::new();
        let mut buf = [0u8; 4];
        for start in (0..N).step_by(50) {
            let mut batch: Vec<Vec<u8>> = (start..start + 50)
                .map(|i| [[0u8; 2].as_slice(), &i.to_be_bytes()].concat())
                .collect();
            dev.send_batch(&mut batch, 2);
            while let Ok(4) = theirs.try_recv(&mut buf) {
                arrived.push(u32::from_be_bytes(buf));
            }
        }
        let out = counters.outbound();
        assert_eq!(out.seen, u64::from(N));
        assert_eq!(out.dropped + arrived.len() as u64, out.seen, "{out}");
        assert!((0.01..0.03).contains(&out.drop_rate()), "{out}");
        assert!(arrived.windows(2).all(|w| w[0] < w[1]));

        // Inbound: whatever `recv_batch` returns is in order and never a dropped one.
        for i in 0..N {
            theirs.try_send(&i.to_be_bytes()).unwrap();
        }
        let mut bufs = vec![vec![0u8; 4]; 64];
        let mut lens = vec![0usize; 64];
        let mut received = Vec::new();
        while let Ok(n) = tokio::time::timeout(
            Duration::from_millis(100),
            dev.recv_batch(&mut bufs, &mut lens),
        )
        .await
        {
            for (b, &len) in bufs.iter().zip(&lens).take(n.unwrap()) {
                assert_eq!(len, 4);
                received.push(u32::from_be_bytes(b[..4].try_into().unwrap()));
            }
        }
        let inb = counters.inbound();
        assert_eq!(inb.seen, u64::from(N));
        assert_eq!(inb.dropped + received.len() as u64, inb.seen, "{inb}");
        assert!((0.01..0.03).contains(&inb.drop_rate()), "{inb}");
        assert!(received.windows(2).all(|w| w[0] < w[1]));
    }

    #[tokio::test]
    async fn the_same_seed_drops_the_same_packets() {
        let run = |seed| {
            let (ours, theirs) = MemoryDevice::pair(4);
            let dev = ImpairedDevice::new(ours, Loss::both(0.1, seed));
            send_through(&dev, &theirs)
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[tokio::test]
    async fn no_loss_passes_everything_and_full_loss_nothing() {
        let (ours, theirs) = MemoryDevice::pair(4);
        let dev = ImpairedDevice::new(ours, Loss::NONE);
        assert_eq!(send_through(&dev, &theirs).len(), PACKETS as usize);
        assert_eq!(dev.counters().outbound().dropped, 0);

        let (ours, theirs) = MemoryDevice::pair(4);
        let dev = ImpairedDevice::new(ours, Loss::both(1.0, 1));
        assert!(send_through(&dev, &theirs).is_empty());
        theirs.try_send(b"lost").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(
            dev.try_recv(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert_eq!(
            dev.counters().inbound(),
            Tally {
                seen: 1,
                dropped: 1
            }
        );
    }
}
