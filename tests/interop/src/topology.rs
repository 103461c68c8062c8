//! [`Topology`]: the interop test network — our stack in namespace "ours", the
//! Linux kernel in namespace "kernel", joined by one veth pair per path.
//!
//! ```text
//!   namespace "kernel"                 namespace "ours"
//!   kernel-peer (kernel MPTCP)         kernel: router only     our stack (userspace)
//!   k1 10.0.1.1  fd00:0:1::1 ── veth ── o1 10.0.1.2 fd00:0:1::2 ── tun1 ── 10.1.1.2 fd00:1:1::2
//!   k2 10.0.2.1  fd00:0:2::1 ── veth ── o2 10.0.2.2 fd00:0:2::2 ── tun2 ── 10.1.2.2 fd00:1:2::2
//! ```
//!
//! Path `i` (1-based) is the link `10.0.i.0/24` + `fd00:0:i::/64`; our stack owns
//! the prefix `10.1.i.0/24` + `fd00:1:i::/64` ([`TunPlan`]) and uses `10.1.i.2`
//! and `fd00:1:i::2`. No interface of "ours" carries those addresses: the kernel
//! of "ours" only forwards (IPv4 and IPv6 forwarding on, reverse-path filter off),
//! so it never answers for them — no RST, no ICMP — and every packet to them
//! reaches the TUN device, where our stack reads it.
//!
//! Routes set up by [`TopologyBuilder::build`]:
//! - in "kernel": `10.1.i.0/24 via 10.0.i.2 dev ki` (and the IPv6 twin), so the
//!   kernel reaches each of our addresses over its own path;
//! - in "ours": `ip rule from 10.1.i.0/24 lookup 100+i`, table `100+i` holding
//!   `default via 10.0.i.1 dev oi`, so what our stack sends from its path-`i`
//!   address leaves on path `i` whatever the destination (an MP_JOIN from
//!   `10.1.2.2` to `10.0.1.1` takes path 2).
//!
//! # Attaching the TUN runtime (the hook)
//!
//! The route that carries packets *to* our stack needs the TUN device, which
//! only the runtime creates. The steps ([`crate::create_tun`] does 1 and 2, and
//! [`crate::OurStack`] all three):
//!
//! 1. Create the device inside "ours": `topology.ours().run_in(|| TunDevice::create(..))`
//!    — [`Namespace::run_in`] runs the closure on a thread that joined the
//!    namespace with `setns`, and a TUN device belongs to the namespace its
//!    creator was in; the returned file descriptor stays usable from any thread.
//!    Open it with `IFF_TUN | IFF_NO_PI` (IP packets, no extra header).
//! 2. Call [`Topology::attach_tun`] for that path: it sets the device up and
//!    routes the path's stack prefix into it (`10.1.i.0/24 dev tuni`).
//! 3. Run the stack on the descriptor with addresses [`TunPlan::stack_v4`] /
//!    [`TunPlan::stack_v6`]; the kernel peer connects to them (or listens on
//!    [`Path::kernel_v4`] for our stack to connect to).
//!
//! MPTCP sysctls are set inside the namespaces only: `net.mptcp.enabled=1` in
//! both, and `ip mptcp limits` in "kernel" when [`TopologyBuilder::mptcp_limits`]
//! asks; endpoints are a test's business (`topology.kernel().mptcp_endpoint_add`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::addr::IfAddr;
use crate::error::{Error, Result};
use crate::netns::Namespace;
use crate::tbf::Tbf;
use crate::veth::{End, Offloads, VethLink};

/// Most paths a topology may have (device and table numbering stay simple).
pub const MAX_PATHS: u8 = 8;

/// Where our stack's TUN device for one path goes and which addresses it owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunPlan {
    /// Device name the runtime must create in "ours": `tun{i}`.
    pub dev: String,
    /// Our stack's IPv4 address on this path: `10.1.i.2/24`.
    pub stack_v4: IfAddr,
    /// Our stack's IPv6 address on this path: `fd00:1:i::2/64`.
    pub stack_v6: IfAddr,
}

/// One veth path between "kernel" and "ours".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// 1-based path number.
    pub index: u8,
    /// Device in "kernel": `k{i}`.
    pub kernel_dev: String,
    /// Device in "ours": `o{i}`.
    pub ours_dev: String,
    /// The kernel's address on this path: `10.0.i.1/24`.
    pub kernel_v4: IfAddr,
    /// The kernel's IPv6 address: `fd00:0:i::1/64`.
    pub kernel_v6: IfAddr,
    /// The forwarding address of "ours" on this path: `10.0.i.2/24`.
    pub router_v4: IfAddr,
    /// The forwarding IPv6 address of "ours": `fd00:0:i::2/64`.
    pub router_v6: IfAddr,
    /// The TUN device and stack addresses behind "ours" on this path.
    pub tun: TunPlan,
    /// Policy routing table of this path in "ours".
    pub table: u32,
}

impl Path {
    /// The addressing plan of path `index` (1-based).
    pub fn plan(index: u8) -> Self {
        let v4 = |net: u8, host: u8| IfAddr::new(Ipv4Addr::new(10, net, index, host), 24);
        let v6 = |net: u16, host: u16| {
            IfAddr::new(
                Ipv6Addr::new(0xfd00, net, u16::from(index), 0, 0, 0, 0, host),
                64,
            )
        };
        Path {
            index,
            kernel_dev: format!("k{index}"),
            ours_dev: format!("o{index}"),
            kernel_v4: v4(0, 1),
            kernel_v6: v6(0, 1),
            router_v4: v4(0, 2),
            router_v6: v6(0, 2),
            tun: TunPlan {
                dev: format!("tun{index}"),
                stack_v4: v4(1, 2),
                stack_v6: v6(1, 2),
            },
            table: 100 + u32::from(index),
        }
    }

    /// The kernel's address of the given family on this path.
    pub fn kernel_addr(&self, v6: bool) -> IpAddr {
        if v6 {
            self.kernel_v6.addr
        } else {
            self.kernel_v4.addr
        }
    }
}

/// Builds a [`Topology`].
#[derive(Clone, Debug)]
pub struct TopologyBuilder {
    tag: String,
    paths: u8,
    offloads: Option<Offloads>,
    tbf: Vec<(u8, Tbf)>,
    limits: Option<(u8, u8)>,
}

impl TopologyBuilder {
    /// One path, offloads untouched, no rate limit; `tag` goes into the
    /// namespace names.
    pub fn new(tag: &str) -> Self {
        TopologyBuilder {
            tag: tag.to_owned(),
            paths: 1,
            offloads: None,
            tbf: Vec::new(),
            limits: None,
        }
    }

    /// Number of veth paths (1 to [`MAX_PATHS`]).
    pub fn paths(mut self, n: u8) -> Self {
        self.paths = n;
        self
    }

    /// `ethtool -K` settings for both ends of every path.
    pub fn offloads(mut self, offloads: Offloads) -> Self {
        self.offloads = Some(offloads);
        self
    }

    /// Rate-limits path `index` in both directions.
    pub fn tbf(mut self, index: u8, tbf: Tbf) -> Self {
        self.tbf.push((index, tbf));
        self
    }

    /// `ip mptcp limits set subflows S add_addr_accepted A` in "kernel".
    pub fn mptcp_limits(mut self, subflows: u8, add_addr_accepted: u8) -> Self {
        self.limits = Some((subflows, add_addr_accepted));
        self
    }

    /// Creates the namespaces, links, addresses, routes and sysctls. On error
    /// everything made so far is removed (the guards drop).
    pub fn build(self) -> Result<Topology> {
        if self.paths == 0 || self.paths > MAX_PATHS {
            return Err(Error::Setup(format!(
                "a topology has 1 to {MAX_PATHS} paths, not {}",
                self.paths
            )));
        }
        if let Some((i, _)) = self.tbf.iter().find(|(i, _)| *i == 0 || *i > self.paths) {
            return Err(Error::Setup(format!(
                "tbf for path {i}, which does not exist"
            )));
        }
        let ours = Namespace::new(&format!("{}-ours", self.tag))?;
        let kernel = Namespace::new(&format!("{}-kernel", self.tag))?;
        for ns in [&ours, &kernel] {
            ns.enable_mptcp()?;
            ns.sysctl("net.ipv6.conf.default.accept_dad", "0")?;
            ns.sysctl("net.ipv6.conf.default.accept_ra", "0")?;
            ns.sysctl("net.ipv6.conf.default.router_solicitations", "0")?;
        }
        ours.sysctl("net.ipv4.ip_forward", "1")?;
        ours.sysctl("net.ipv6.conf.all.forwarding", "1")?;
        ours.sysctl("net.ipv4.conf.all.rp_filter", "0")?;
        ours.sysctl("net.ipv4.conf.default.rp_filter", "0")?;
        if let Some((subflows, accepted)) = self.limits {
            kernel.mptcp_limits(subflows, accepted)?;
        }
        let paths: Vec<Path> = (1..=self.paths).map(Path::plan).collect();
        for path in &paths {
            let mut link = VethLink::create(&kernel, &path.kernel_dev, &ours, &path.ours_dev)?;
            link.add_addr(End::A, path.kernel_v4)?;
            link.add_addr(End::A, path.kernel_v6)?;
            link.add_addr(End::B, path.router_v4)?;
            link.add_addr(End::B, path.router_v6)?;
            if let Some(offloads) = self.offloads {
                link.set_offloads(offloads)?;
            }
            for (_, tbf) in self.tbf.iter().filter(|(i, _)| *i == path.index) {
                link.set_tbf(End::A, tbf)?;
                link.set_tbf(End::B, tbf)?;
            }
            link.up()?;
            route_path(&kernel, &ours, path)?;
        }
        Ok(Topology {
            ours,
            kernel,
            paths,
        })
    }
}

/// The routes of one path (see the module documentation).
fn route_path(kernel: &Namespace, ours: &Namespace, path: &Path) -> Result<()> {
    let table = path.table.to_string();
    for (stack, kernel_addr, router, family) in [
        (&path.tun.stack_v4, &path.kernel_v4, &path.router_v4, "-4"),
        (&path.tun.stack_v6, &path.kernel_v6, &path.router_v6, "-6"),
    ] {
        let net = stack.network();
        let via = router.addr.to_string();
        kernel.ip(&[
            family,
            "route",
            "add",
            &net,
            "via",
            &via,
            "dev",
            &path.kernel_dev,
        ])?;
        ours.ip(&[family, "rule", "add", "from", &net, "lookup", &table])?;
        let gw = kernel_addr.addr.to_string();
        ours.ip(&[
            family,
            "route",
            "add",
            "default",
            "via",
            &gw,
            "dev",
            &path.ours_dev,
            "table",
            &table,
        ])?;
    }
    Ok(())
}

/// Namespaces "ours" and "kernel" and the paths between them; dropping it
/// removes everything (processes in the namespaces included).
#[derive(Debug)]
pub struct Topology {
    // Field order is drop order: "ours" (where the stack's devices live) first.
    ours: Namespace,
    kernel: Namespace,
    paths: Vec<Path>,
}

impl Topology {
    /// Where our stack runs (on TUN devices); its kernel only forwards.
    pub fn ours(&self) -> &Namespace {
        &self.ours
    }

    /// Where the Linux kernel peer runs.
    pub fn kernel(&self) -> &Namespace {
        &self.kernel
    }

    /// The paths, index 1 first.
    pub fn paths(&self) -> &[Path] {
        &self.paths
    }

    /// Path `index` (1-based).
    pub fn path(&self, index: u8) -> Result<&Path> {
        self.paths
            .iter()
            .find(|p| p.index == index)
            .ok_or_else(|| Error::Setup(format!("no path {index}")))
    }

    /// The TUN hook: once the runtime has created device [`TunPlan::dev`] of
    /// path `index` inside "ours", sets it up and routes the stack's prefixes
    /// of that path into it.
    pub fn attach_tun(&self, index: u8) -> Result<()> {
        let path = self.path(index)?;
        let dev = path.tun.dev.as_str();
        self.ours.ip(&["link", "set", dev, "up"])?;
        for (family, stack) in [("-4", &path.tun.stack_v4), ("-6", &path.tun.stack_v6)] {
            self.ours
                .ip(&[family, "route", "replace", &stack.network(), "dev", dev])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_plan_of_path_two() {
        let p = Path::plan(2);
        assert_eq!(p.kernel_dev, "k2");
        assert_eq!(p.ours_dev, "o2");
        assert_eq!(p.kernel_v4.to_string(), "10.0.2.1/24");
        assert_eq!(p.kernel_v6.to_string(), "fd00:0:2::1/64");
        assert_eq!(p.router_v4.to_string(), "10.0.2.2/24");
        assert_eq!(p.tun.dev, "tun2");
        assert_eq!(p.tun.stack_v4.to_string(), "10.1.2.2/24");
        assert_eq!(p.tun.stack_v6.to_string(), "fd00:1:2::2/64");
        assert_eq!(p.tun.stack_v4.network(), "10.1.2.0/24");
        assert_eq!(p.table, 102);
    }
}
