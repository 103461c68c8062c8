//! What the runtime needs from a network device, and an in-memory implementation for tests.
//!
//! A [`Device`] carries whole IP packets (no link-layer header). The runtime waits for one
//! packet with [`Device::recv`], then takes whatever else is already queued with
//! [`Device::try_recv`] before it runs the stack, so a burst costs one pass of the stack
//! lock. Sending never waits: IP may drop, and TCP recovers from it, while a stalled sender
//! would stall every connection of the host.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// A network device carrying IP packets: a TUN device, or an in-memory link in tests.
pub trait Device: Send + Sync + 'static {
    /// Waits for the next packet and copies it into `buf`; returns its length.
    fn recv(&self, buf: &mut [u8]) -> impl Future<Output = io::Result<usize>> + Send;

    /// Takes a packet that is already queued; `Err(WouldBlock)` when there is none.
    fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize>;

    /// Sends one packet without waiting. A full queue may drop it (`Err(WouldBlock)`), as
    /// a router would.
    fn try_send(&self, packet: &[u8]) -> io::Result<()>;

    /// Waits for at least one packet, then takes what else is already queued: packet `i`
    /// goes to `bufs[i][..lens[i]]`. Returns how many packets came (at least 1 on `Ok`).
    /// Every buffer is at least one MTU long; `lens` is as long as `bufs`.
    ///
    /// The provided form is one [`recv`](Self::recv) and then [`try_recv`](Self::try_recv)
    /// until the queue is empty or the buffers are used up. A device with receive offload
    /// overrides it to split the super-packets it reads into MTU-sized ones.
    fn recv_batch(
        &self,
        bufs: &mut [Vec<u8>],
        lens: &mut [usize],
    ) -> impl Future<Output = io::Result<usize>> + Send {
        recv_then_queued(self, bufs, lens)
    }

    /// Bytes a caller of [`send_batch`](Self::send_batch) must leave free in front of each
    /// packet (room for a per-packet header such as the virtio-net header of an offloading
    /// TUN device). 0 by default.
    fn headroom(&self) -> usize {
        0
    }

    /// Capacity the buffers handed to [`send_batch`](Self::send_batch) should have, headroom
    /// included, for packets of at most `mtu` bytes: `mtu` by default; an offloading device
    /// asks for room to merge a whole super-packet in place.
    fn send_capacity(&self, mtu: usize) -> usize {
        mtu
    }

    /// Sends a batch of packets without waiting: packet `i` is `packets[i][offset..]`, with
    /// `offset >= self.headroom()`. The device may use the headroom and change the
    /// buffers (a device with send offload merges consecutive TCP segments of one flow
    /// into one super-packet in place); the caller refills them before reuse. Packets a
    /// full queue refused are dropped, as [`try_send`](Self::try_send) drops them.
    ///
    /// The provided form calls [`try_send`](Self::try_send) once per packet.
    fn send_batch(&self, packets: &mut [Vec<u8>], offset: usize) {
        for packet in packets.iter() {
            if let Err(e) = self.try_send(packet.get(offset..).unwrap_or_default()) {
                tracing::trace!(error = %e, "packet dropped on send");
            }
        }
    }
}

/// The provided [`Device::recv_batch`]: one `recv`, then `try_recv` until the queue is empty
/// or the buffers are used up.
pub(crate) async fn recv_then_queued<D: Device + ?Sized>(
    device: &D,
    bufs: &mut [Vec<u8>],
    lens: &mut [usize],
) -> io::Result<usize> {
    let room = bufs.len().min(lens.len());
    if room == 0 {
        return Ok(0);
    }
    lens[0] = device.recv(&mut bufs[0]).await?;
    let mut count = 1;
    while count < room {
        match device.try_recv(&mut bufs[count]) {
            Ok(n) => {
                lens[count] = n;
                count += 1;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => {
                tracing::debug!(error = %e, "try_recv failed");
                break;
            }
        }
    }
    Ok(count)
}

/// One end of an in-memory point-to-point link: what one end sends, the other receives, in
/// order. The link holds at most `capacity` packets in each direction and drops beyond.
#[derive(Debug)]
pub struct MemoryDevice {
    rx: Arc<Queue>,
    tx: Arc<Queue>,
}

#[derive(Debug, Default)]
struct Queue {
    packets: Mutex<VecDeque<Vec<u8>>>,
    capacity: usize,
    ready: Notify,
    dropped: AtomicU64,
}

impl MemoryDevice {
    /// Two connected ends of a link holding up to `capacity` packets each way.
    pub fn pair(capacity: usize) -> (MemoryDevice, MemoryDevice) {
        let queue = || {
            Arc::new(Queue {
                capacity: capacity.max(1),
                ..Queue::default()
            })
        };
        let (a_to_b, b_to_a) = (queue(), queue());
        (
            MemoryDevice {
                rx: b_to_a.clone(),
                tx: a_to_b.clone(),
            },
            MemoryDevice {
                rx: a_to_b,
                tx: b_to_a,
            },
        )
    }

    /// Packets this end sent that the link dropped because it was full.
    pub fn dropped(&self) -> u64 {
        self.tx.dropped.load(Ordering::Relaxed)
    }
}

impl Queue {
    fn pop(&self, buf: &mut [u8]) -> Option<usize> {
        let packet = self.packets.lock().ok()?.pop_front()?;
        let n = packet.len().min(buf.len());
        buf[..n].copy_from_slice(&packet[..n]);
        Some(n)
    }
}

impl Device for MemoryDevice {
    async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // Register interest before looking, so a push between the two is not missed.
            let ready = self.rx.ready.notified();
            if let Some(n) = self.rx.pop(buf) {
                return Ok(n);
            }
            ready.await;
        }
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.rx
            .pop(buf)
            .ok_or_else(|| io::ErrorKind::WouldBlock.into())
    }

    fn try_send(&self, packet: &[u8]) -> io::Result<()> {
        let mut packets = self
            .tx
            .packets
            .lock()
            .map_err(|_| io::Error::other("link poisoned"))?;
        if packets.len() >= self.tx.capacity {
            self.tx.dropped.fetch_add(1, Ordering::Relaxed);
            return Err(io::ErrorKind::WouldBlock.into());
        }
        packets.push_back(packet.to_vec());
        drop(packets);
        self.tx.ready.notify_one();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_link_carries_packets_in_order_and_drops_when_full() {
        let (a, b) = MemoryDevice::pair(2);
        a.try_send(b"one").unwrap();
        a.try_send(b"two").unwrap();
        assert_eq!(
            a.try_send(b"three").unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert_eq!(a.dropped(), 1);
        let mut buf = [0u8; 16];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"one");
        let n = b.try_recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"two");
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        // Nothing crossed the other way.
        assert!(a.try_recv(&mut buf).is_err());
    }

    #[tokio::test]
    async fn recv_wakes_when_a_packet_arrives() {
        let (a, b) = MemoryDevice::pair(8);
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 16];
            let n = b.recv(&mut buf).await.unwrap();
            buf[..n].to_vec()
        });
        tokio::task::yield_now().await;
        a.try_send(b"late").unwrap();
        assert_eq!(reader.await.unwrap(), b"late");
    }
}
