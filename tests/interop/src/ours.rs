//! [`OurStack`]: our stack (the `mptcp-tun` runtime) on the TUN devices of chosen paths of a
//! [`Topology`], each behind an [`ImpairedDevice`], on its own tokio runtime — what every
//! test against the kernel starts with.

use std::net::IpAddr;

use mptcp_tun::{Handle, Interface, Runtime, RuntimeConfig, TunDevice};

use crate::error::{Error, Result};
use crate::impair::{ImpairCounters, ImpairedDevice, Loss};
use crate::topology::Topology;

/// MTU of the TUN devices (the veths' too).
pub const MTU: usize = 1500;

/// The tokio runtime our stack runs on in these tests: two worker threads (the machine's
/// cores), I/O and time.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Setup(format!("tokio runtime: {e}")))
}

/// Creates path `index`'s TUN device in "ours", registered with the tokio runtime `rt`,
/// and attaches it ([`Topology::attach_tun`]: up, our addresses of that path routed into it).
pub fn create_tun(topo: &Topology, index: u8, rt: &tokio::runtime::Handle) -> Result<TunDevice> {
    create_tun_with(topo, index, rt, true)
}

/// [`create_tun`], choosing whether the device offloads (without: one whole IP packet per
/// read and write, every checksum complete — what a packet-editing test device needs).
pub fn create_tun_with(
    topo: &Topology,
    index: u8,
    rt: &tokio::runtime::Handle,
    offload: bool,
) -> Result<TunDevice> {
    let dev = topo.path(index)?.tun.dev.clone();
    let name = dev.clone();
    // A TUN device belongs to the namespace of the thread that creates it; its descriptor
    // then works from the runtime's threads anywhere.
    let reactor = rt.clone();
    let tun = topo
        .ours()
        .run_in(move || {
            let _in_runtime = reactor.enter();
            TunDevice::create_with(&dev, MTU as u16, offload)
        })?
        .map_err(|e| Error::Setup(format!("TUN device {name}: {e}")))?;
    topo.attach_tun(index)?;
    Ok(tun)
}

/// Our stack running on TUN devices in the "ours" namespace. Declare it after the
/// [`Topology`] it runs in, so that it stops before the namespaces go.
#[derive(Debug)]
pub struct OurStack {
    // Field order is drop order: the stack's tasks, then the tokio runtime they run on.
    runtime: Runtime,
    rt: tokio::runtime::Runtime,
    paths: Vec<u8>,
    impair: Vec<ImpairCounters>,
}

impl OurStack {
    /// Creates the TUN device of each of `paths` (1-based) in "ours", attaches it (routes
    /// our addresses of that path into it), wraps it in an [`ImpairedDevice`] with `loss`
    /// and starts the runtime with `config`. The stack's interface `k` is `paths[k]`, with
    /// that path's IPv4 and IPv6 addresses.
    pub fn start(
        topo: &Topology,
        paths: &[u8],
        loss: Loss,
        config: RuntimeConfig,
    ) -> Result<OurStack> {
        let rt = runtime()?;
        let mut interfaces = Vec::new();
        let mut impair = Vec::new();
        for &index in paths {
            let path = topo.path(index)?.clone();
            let tun = create_tun(topo, index, rt.handle())?;
            let device = ImpairedDevice::new(tun, loss.reseeded(u64::from(index)));
            impair.push(device.counters());
            interfaces.push(Interface {
                device,
                addrs: vec![path.tun.stack_v4.addr, path.tun.stack_v6.addr],
                mtu: MTU,
            });
        }
        let runtime = {
            let _in_runtime = rt.enter();
            Runtime::start(interfaces, config)
        };
        Ok(OurStack {
            runtime,
            rt,
            paths: paths.to_vec(),
            impair,
        })
    }

    /// A handle for streams and listeners.
    pub fn handle(&self) -> Handle {
        self.runtime.handle()
    }

    /// The runtime (for its stack's counters).
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Runs `future` to completion on the stack's tokio runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }

    /// Enters the tokio runtime (for calls that must run inside one, such as binding a
    /// listener).
    pub fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.rt.enter()
    }

    /// The loss counters of path `index`'s device.
    pub fn impair(&self, index: u8) -> Option<&ImpairCounters> {
        let at = self.paths.iter().position(|&p| p == index)?;
        self.impair.get(at)
    }

    /// Our address of `family` on path `index` (as the topology plans it).
    pub fn addr(topo: &Topology, index: u8, v6: bool) -> Result<IpAddr> {
        let tun = &topo.path(index)?.tun;
        Ok(if v6 {
            tun.stack_v6.addr
        } else {
            tun.stack_v4.addr
        })
    }
}
