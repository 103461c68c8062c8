//! The runtime: a [`Stack`] driven by tokio tasks over one or more [`Device`]s.
//!
//! # Design
//!
//! The stack sits behind one `std::sync::Mutex` (`Shared`) rather than inside a task
//! that serves a command channel. Application calls (`send`, `recv`, `accept`) are then
//! plain function calls under a short lock, with no message, no reply channel and no extra
//! task switch per read or write; the lock is never held across an `.await`, and the tasks
//! that do I/O hold it only while the stack computes, never during a system call.
//!
//! - One **reader task per device** waits for packets with [`Device::recv_batch`] (one
//!   packet, then whatever is already queued, up to [`RX_BATCH`]; an offloading TUN device
//!   splits its super-packets there), and only then locks the stack once to feed the whole
//!   batch through `handle_packet`, and wakes the driver.
//! - One **driver task** runs the timers that are due, drains up to [`BATCH`] transmits of
//!   `poll_transmit` into buffers with each device's [`Device::headroom`] in front, sorted
//!   by device, dispatches the stack's events to the wakers of the waiting application
//!   tasks, reads the next deadline, unlocks, and only then hands each device its share
//!   with [`Device::send_batch`] (an offloading TUN device merges consecutive segments
//!   into one write there). It sleeps until the deadline or until something kicks it: a
//!   reader task's batch or an application call that queued output.

use core::net::IpAddr;
use core::time::Duration;
use std::sync::Arc;
use std::task::Waker;

use mptcp_proto::stack::{
    AddressError, ConnectionConfig, InterfaceConfig, InterfaceId, MptcpConfig, Stack, StackConfig,
    StackStats, TcpConfig,
};
use rand_chacha::ChaCha12Rng;
use rand_core::{RngCore, SeedableRng};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::device::Device;
use crate::shared::Shared;

/// Transmits written per pass of the stack lock (at most; one device's share goes to
/// [`Device::send_batch`] at once).
pub const BATCH: usize = 64;

/// Buffers of one read pass ([`Device::recv_batch`]): room for the segments of a few
/// 64 KiB super-packets of an offloading device.
pub const RX_BATCH: usize = 256;

/// Send buffer of [`RuntimeConfig::default`]: larger than the stack's own default, because
/// a host behind a TUN device reaches rates where 256 KiB in flight is the limit (to the
/// kernel over a 0-delay veth path, 1 MiB took a bulk send from about 9 to 12 Gbit/s; see
/// `docs/benchmarks.md`). The simulator keeps the stack's default.
pub const RUNTIME_SEND_BUFFER: usize = 1024 * 1024;

/// A device of the host with the addresses the stack uses on it.
#[derive(Debug)]
pub struct Interface<D> {
    /// Where its packets come from and go to.
    pub device: D,
    /// The host's addresses on this interface (IPv4 and/or IPv6).
    pub addrs: Vec<IpAddr>,
    /// Largest IP packet it carries, in bytes.
    pub mtu: usize,
}

impl<D> Interface<D> {
    /// An interface with one address and an MTU of 1500.
    pub fn new(device: D, addr: IpAddr) -> Self {
        Self {
            device,
            addrs: vec![addr],
            mtu: 1500,
        }
    }
}

/// Settings of a [`Runtime`].
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// TCP settings for every connection. The default is the stack's
    /// [`TcpConfig::default`] with a send buffer of [`RUNTIME_SEND_BUFFER`].
    pub tcp: TcpConfig,
    /// MPTCP settings (MPTCP on by default; connections to peers without it fall back to
    /// TCP).
    pub mptcp: MptcpConfig,
    /// First and last ephemeral port.
    pub ephemeral_ports: (u16, u16),
    /// Answer SYNs with SYN cookies when a listener's SYN queue is full (see
    /// [`StackConfig::syn_cookies`]).
    pub syn_cookies: bool,
    /// Seed for the stack's randomness (keys, ISNs, ports), for repeatable tests. `None`
    /// (the default) seeds from the operating system.
    pub seed: Option<u64>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        let stack = StackConfig::default();
        Self {
            tcp: TcpConfig {
                send_buffer: stack.tcp.send_buffer.max(RUNTIME_SEND_BUFFER),
                ..stack.tcp
            },
            mptcp: stack.mptcp,
            ephemeral_ports: stack.ephemeral_ports,
            syn_cookies: stack.syn_cookies,
            seed: None,
        }
    }
}

/// A running host: the stack and the tasks that drive it. Dropping it stops the tasks;
/// streams and listeners still open then fail with an error.
#[derive(Debug)]
pub struct Runtime {
    handle: Handle,
    tasks: Vec<JoinHandle<()>>,
}

/// A cheap, cloneable reference to a [`Runtime`], from which streams and listeners are
/// made.
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl core::fmt::Debug for Handle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

impl Handle {
    /// The settings connections get without their own: the runtime's, to change and hand
    /// to [`MptcpStream::connect_with`](crate::MptcpStream::connect_with) or
    /// [`MptcpListener::bind_with`](crate::MptcpListener::bind_with).
    pub fn connection_config(&self) -> ConnectionConfig {
        self.shared.lock().stack.connection_config()
    }

    /// Gives interface `iface` (its place in [`Runtime::start`]'s list) the address `addr`
    /// while the runtime runs, as when a phone joins a network; every connection's path
    /// manager hears it. The device must already deliver packets for it (a route or an
    /// address on the system's side).
    pub fn add_host_address(&self, iface: usize, addr: IpAddr) -> Result<(), AddressError> {
        let done = self
            .shared
            .lock()
            .stack
            .add_host_address(InterfaceId(iface), addr);
        self.shared.kick();
        done
    }

    /// Takes address `addr` away while the runtime runs: its subflows close, their data
    /// moves to the others, and every connection's path manager hears it (`fullmesh`
    /// sends REMOVE_ADDR). Returns false if the host had no such address.
    pub fn remove_host_address(&self, addr: IpAddr) -> bool {
        let done = self.shared.lock().stack.remove_host_address(addr);
        self.shared.kick();
        done
    }
}

impl Runtime {
    /// Starts the stack over `interfaces` (their order gives the stack's interface ids).
    /// Spawns one reader task per device and the driver task on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub fn start<D: Device>(interfaces: Vec<Interface<D>>, config: RuntimeConfig) -> Self {
        let stack_config = StackConfig {
            interfaces: interfaces
                .iter()
                .map(|i| InterfaceConfig {
                    addrs: i.addrs.clone(),
                    mtu: i.mtu,
                    backup: false,
                })
                .collect(),
            tcp: config.tcp,
            mptcp: config.mptcp,
            ephemeral_ports: config.ephemeral_ports,
            syn_cookies: config.syn_cookies,
        };
        let rng: Box<dyn RngCore + Send> = match config.seed {
            Some(seed) => Box::new(ChaCha12Rng::seed_from_u64(seed)),
            None => Box::new(ChaCha12Rng::from_os_rng()),
        };
        let buf_len = interfaces.iter().map(|i| i.mtu).max().unwrap_or(1500);
        let shared = Arc::new(Shared::new(Stack::new(stack_config, rng), Clock::new()));
        let devices: Arc<[D]> = interfaces.into_iter().map(|i| i.device).collect();
        let mut tasks: Vec<JoinHandle<()>> = (0..devices.len())
            .map(|index| tokio::spawn(read_loop(shared.clone(), devices.clone(), index, buf_len)))
            .collect();
        tasks.push(tokio::spawn(drive(shared.clone(), devices, buf_len)));
        Self {
            handle: Handle { shared },
            tasks,
        }
    }

    /// A handle for making streams and listeners.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// The stack's packet counters.
    pub fn stats(&self) -> StackStats {
        self.handle.shared.lock().stack.stats()
    }

    /// Waits until every connection has finished its closing handshake — each subflow
    /// closed, or in TIME-WAIT, from which our last ACK has gone — or until `limit` has
    /// passed, and returns how many subflows were still open
    /// ([`Stack::open_subflows`]). The closing handshake needs the runtime: a program that
    /// drops it right after [`MptcpStream::close_gracefully`](crate::MptcpStream::close_gracefully)
    /// leaves its subflows in FIN-WAIT and the peer's in LAST-ACK, retransmitting FINs
    /// nobody answers. Connections still open (not closed by either side) count, so close
    /// them first; a subflow whose path died never finishes, hence the limit.
    ///
    /// ```no_run
    /// # async fn demo(runtime: mptcp_tun::Runtime, stream: mptcp_tun::MptcpStream) -> std::io::Result<()> {
    /// use std::time::Duration;
    /// stream.close_gracefully().await?;
    /// runtime.linger(Duration::from_secs(5)).await;
    /// drop(runtime); // nothing of the closing handshake is left to do
    /// # Ok(()) }
    /// ```
    pub async fn linger(&self, limit: Duration) -> usize {
        let shared = &self.handle.shared;
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let passed = shared.passed();
            let open = shared.lock().stack.open_subflows();
            if shared.is_stopped() {
                return open;
            }
            if open == 0 {
                // The last ACK of a closing handshake (the one answering the peer's FIN, which
                // put the subflow in TIME-WAIT) may still wait in the stack for the driver:
                // two passes from now, one has begun after this look and sent it.
                for _ in 0..2 {
                    let passed = shared.passed();
                    shared.kick();
                    if tokio::time::timeout_at(deadline, passed).await.is_err() {
                        break;
                    }
                }
                return open;
            }
            if tokio::time::timeout_at(deadline, passed).await.is_err() {
                return shared.lock().stack.open_subflows();
            }
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        self.handle.shared.stop();
    }
}

/// Reads packets from device `index` and feeds them to the stack in batches.
async fn read_loop<D: Device>(shared: Arc<Shared>, devices: Arc<[D]>, index: usize, len: usize) {
    let device = &devices[index];
    let mut bufs = vec![vec![0u8; len]; RX_BATCH];
    let mut lens = [0usize; RX_BATCH];
    loop {
        let count = match device.recv_batch(&mut bufs, &mut lens).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(device = index, error = %e, "receive failed; reader stops");
                return;
            }
        };
        {
            let mut inner = shared.lock();
            let now = shared.clock.now();
            for (buf, &n) in bufs.iter().zip(&lens).take(count) {
                inner
                    .stack
                    .handle_packet(now, InterfaceId(index), &buf[..n]);
            }
        }
        shared.kick();
    }
}

/// Runs timers, sends what the stack queued and wakes the application tasks.
async fn drive<D: Device>(shared: Arc<Shared>, devices: Arc<[D]>, len: usize) {
    // One headroom for all devices: the largest any of them asks for.
    let head = devices.iter().map(Device::headroom).max().unwrap_or(0);
    // Free buffers, and per device the packets of this pass (moved, never copied).
    let capacity = devices
        .iter()
        .map(|d| d.send_capacity(head + len))
        .max()
        .unwrap_or(0)
        .max(head + len);
    let mut pool: Vec<Vec<u8>> = (0..BATCH)
        .map(|_| {
            let mut buf = Vec::with_capacity(capacity);
            buf.resize(head + len, 0);
            buf
        })
        .collect();
    let mut queues: Vec<Vec<Vec<u8>>> = devices.iter().map(|_| Vec::with_capacity(BATCH)).collect();
    let mut wake: Vec<Waker> = Vec::new();
    loop {
        let mut sent = 0;
        let deadline = {
            let mut inner = shared.lock();
            let now = shared.clock.now();
            if inner.stack.poll_timeout().is_some_and(|at| at <= now) {
                inner.stack.handle_timeout(now);
            }
            while sent < BATCH {
                let mut buf = pool.pop().unwrap_or_else(|| Vec::with_capacity(capacity));
                // A buffer a device merged packets into may have grown; the bytes beyond
                // `head + len` are never looked at.
                buf.resize(head + len, 0);
                let Some(t) = inner.stack.poll_transmit(now, &mut buf[head..]) else {
                    pool.push(buf);
                    break;
                };
                sent += 1;
                buf.truncate(head + t.len);
                match queues.get_mut(t.iface.0) {
                    Some(queue) => queue.push(buf),
                    None => pool.push(buf),
                }
            }
            inner.dispatch_events(&mut wake);
            inner.stack.poll_timeout()
        };
        for (device, queue) in devices.iter().zip(queues.iter_mut()) {
            if !queue.is_empty() {
                device.send_batch(queue, head);
                pool.append(queue);
            }
        }
        wake.drain(..).for_each(Waker::wake);
        shared.pass_done();
        if sent == BATCH {
            // More may be waiting; let other tasks run, then go on draining.
            tokio::task::yield_now().await;
            continue;
        }
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(shared.clock.to_tokio(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shared.kicked() => {}
            () = sleep => {}
        }
    }
}
