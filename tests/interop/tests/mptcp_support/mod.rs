//! What the MPTCP interop tests against the kernel share (`mptcp_kernel.rs`,
//! `mptcp_paths.rs`): a topology with our stack on some of its paths, the kernel peer,
//! the byte-pattern exchange checked on our side, and the kernel's `MPTcpExt*` counters.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use mptcp_interop::{
    KernelPeer, Loss, Opening, OurStack, Role, Spawned, Topology, TopologyBuilder, proc_counters,
};
use mptcp_tun::{MptcpListener, MptcpStream, RuntimeConfig, SubflowInfo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::timeout;

pub const PEER: &str = env!("CARGO_BIN_EXE_kernel-peer");
pub const MIB: u64 = 1024 * 1024;
/// Every test has its own namespaces, so all can use the same port.
pub const PORT: u16 = 5201;

/// A topology of `paths` paths, our stack on all of them, MPTCP limits in "kernel".
pub struct Setup {
    // Field order is drop order: the stack before the namespaces it runs in.
    /// `tcpdump`s started when `MPTCP_INTEROP_PCAP` names a directory (for debugging).
    pub captures: Vec<Spawned>,
    pub stack: OurStack,
    pub topo: Topology,
    pub v6: bool,
}

impl Setup {
    /// `paths` paths; `limits` (subflows, add_addr_accepted) in "kernel"; `kernel_setup`
    /// runs in "kernel" before our stack starts (endpoints, sysctls).
    pub fn new(
        tag: &str,
        paths: u8,
        v6: bool,
        limits: Option<(u8, u8)>,
        config: RuntimeConfig,
    ) -> Setup {
        mptcp_interop::require_root();
        let mut builder = TopologyBuilder::new(tag).paths(paths);
        if let Some((subflows, accepted)) = limits {
            builder = builder.mptcp_limits(subflows, accepted);
        }
        let topo = builder.build().unwrap();
        route_kernel_by_source(&topo);
        let indices: Vec<u8> = (1..=paths).collect();
        let mut captures = Vec::new();
        if let Some(dir) = std::env::var_os("MPTCP_INTEROP_PCAP") {
            for p in topo.paths() {
                let file = format!("{}/{tag}-{}.pcap", dir.to_string_lossy(), p.ours_dev);
                let args = [
                    "-i",
                    p.ours_dev.as_str(),
                    "-s",
                    "200",
                    "-U",
                    "-w",
                    file.as_str(),
                ];
                captures.push(topo.ours().spawn("tcpdump", &args).unwrap());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let stack = OurStack::start(&topo, &indices, Loss::NONE, config).unwrap();
        Setup {
            captures,
            stack,
            topo,
            v6,
        }
    }

    /// The kernel's address on path `i`.
    pub fn kernel_addr(&self, i: u8) -> IpAddr {
        self.topo.path(i).unwrap().kernel_addr(self.v6)
    }

    /// Our address on path `i`.
    pub fn our_addr(&self, i: u8) -> IpAddr {
        OurStack::addr(&self.topo, i, self.v6).unwrap()
    }

    /// The path our address or the kernel's address `ip` belongs to.
    pub fn path_of(&self, ip: IpAddr) -> Option<u8> {
        self.topo
            .paths()
            .iter()
            .find(|p| {
                [
                    p.kernel_v4.addr,
                    p.kernel_v6.addr,
                    p.tun.stack_v4.addr,
                    p.tun.stack_v6.addr,
                ]
                .contains(&ip)
            })
            .map(|p| p.index)
    }

    /// `ip mptcp endpoint add` of the kernel's address on path `i` as id `i`, with
    /// `flags`. Without `dev`: a subflow bound to device `ki` would drop our answers, which
    /// come back on the path of our address (ours to the kernel's path-1 address, say).
    pub fn kernel_endpoint(&self, i: u8, flags: &[&str]) {
        let addr = self.kernel_addr(i).to_string();
        let id = i.to_string();
        let mut args = vec!["mptcp", "endpoint", "add", addr.as_str(), "id", id.as_str()];
        args.extend_from_slice(flags);
        self.topo.kernel().ip(&args).unwrap();
    }

    /// Starts the kernel's side (and our listener when we serve).
    pub fn open(&self, role: Role, peer: &KernelPeer) -> Opening {
        match role {
            Role::OurClient => {
                // The kernel server listens on every address, like real servers: its
                // listener also takes the joins to the addresses it announces.
                let any: IpAddr = if self.v6 {
                    Ipv6Addr::UNSPECIFIED.into()
                } else {
                    Ipv4Addr::UNSPECIFIED.into()
                };
                let to = SocketAddr::new(self.kernel_addr(1), PORT);
                Opening::to_kernel_server(peer, self.topo.kernel(), SocketAddr::new(any, PORT), to)
                    .unwrap()
            }
            Role::OurServer => {
                let at = SocketAddr::new(self.our_addr(1), PORT);
                let listener = {
                    let _rt = self.stack.enter();
                    MptcpListener::bind(&self.stack.handle(), at).unwrap()
                };
                Opening::from_kernel_client(peer, self.topo.kernel(), listener, at).unwrap()
            }
        }
    }

    /// Runs `future` on the stack's runtime within `limit`; panics with diagnostics when
    /// it takes longer.
    pub fn run<T>(&self, what: &str, limit: Duration, future: impl Future<Output = T>) -> T {
        let outcome = self.stack.block_on(async { timeout(limit, future).await });
        outcome
            .unwrap_or_else(|_| panic!("{what}: not done within {limit:?}\n{}", self.diagnostics()))
    }

    /// Our stack's counters, the per-path packet counts and the kernel's view.
    pub fn diagnostics(&self) -> String {
        let mut text = format!("stack: {:?}\n", self.stack.runtime().stats());
        for p in self.topo.paths() {
            if let Some(c) = self.stack.impair(p.index) {
                text += &format!(
                    "path {}: in {}, out {}\n",
                    p.index,
                    c.inbound(),
                    c.outbound()
                );
            }
        }
        let ss = self.topo.kernel().exec("ss", &["-Mni"]);
        text += &ss.map_or_else(|e| e.to_string(), |f| f.stdout);
        let ss = self.topo.kernel().exec("ss", &["-tni"]);
        text += &ss.map_or_else(|e| e.to_string(), |f| f.stdout);
        text += &format!("kernel counters: {:?}", self.nonzero_counters());
        text
    }

    /// The kernel's `MPTcpExt*` counters (from `/proc/net/netstat` of "kernel"), without
    /// the prefix: `AddAddr`, `EchoAdd`, `MPJoinSynRx`, ...
    pub fn kernel_counters(&self) -> HashMap<String, u64> {
        proc_counters(self.topo.kernel(), "/proc/net/netstat", "MPTcpExt")
    }

    /// One kernel counter (0 when absent).
    pub fn counter(&self, name: &str) -> u64 {
        self.kernel_counters().get(name).copied().unwrap_or(0)
    }

    /// The counters that are not zero, sorted, for reports.
    pub fn nonzero_counters(&self) -> Vec<(String, u64)> {
        let mut v: Vec<_> = self
            .kernel_counters()
            .into_iter()
            .filter(|(_, v)| *v != 0)
            .collect();
        v.sort();
        v
    }

    /// The kernel's `ss -Mni` text.
    pub fn kernel_ss_m(&self) -> String {
        self.topo
            .kernel()
            .exec("ss", &["-Mni"])
            .map(|f| f.stdout)
            .unwrap_or_default()
    }
}

/// Source routing in "kernel", as "ours" has it: what the kernel sends from its path-`i`
/// address leaves on path `i`, whichever of our addresses it goes to. The topology routes
/// "kernel" by destination only, so a subflow the kernel opens from an endpoint on path 2
/// (bound to its device) to our path-1 address would find no route (IPv6:
/// `MPJoinSynTxConnectErr`; IPv4: the SYN waits for ARP on the wrong link). Via path
/// `i`, "ours" forwards it to the right TUN device.
fn route_kernel_by_source(topo: &Topology) {
    let kernel = topo.kernel();
    for p in topo.paths() {
        let table = (200 + u32::from(p.index)).to_string();
        for (family, from, ours, via) in [
            ("-4", p.kernel_v4.addr, "10.1.0.0/16", p.router_v4.addr),
            ("-6", p.kernel_v6.addr, "fd00:1::/32", p.router_v6.addr),
        ] {
            let (from, via) = (from.to_string(), via.to_string());
            kernel
                .ip(&[family, "rule", "add", "from", &from, "lookup", &table])
                .unwrap();
            kernel
                .ip(&[
                    family,
                    "route",
                    "add",
                    ours,
                    "via",
                    &via,
                    "dev",
                    &p.kernel_dev,
                    "table",
                    &table,
                ])
                .unwrap();
        }
    }
}

/// A runtime configuration with `settings` (`NAME=VALUE`, as `--set` takes them) set.
pub fn config_with(settings: &[&str]) -> RuntimeConfig {
    let mut config = RuntimeConfig::default();
    let mut chosen = mptcp_proto::settings::Settings::default();
    for assignment in settings {
        chosen
            .assign(assignment)
            .unwrap_or_else(|e| panic!("{assignment}: {e}"));
    }
    chosen.apply(&mut config.tcp, &mut config.mptcp);
    config
}

/// Waits for the kernel peer `child` of `peer` and checks that it received `size` bytes
/// intact, saw the end of the stream and spoke MPTCP; returns its report line.
pub fn finish_mptcp(what: &str, peer: &KernelPeer, child: Spawned, size: u64) -> String {
    let received = format!("received={size}");
    mptcp_interop::finish_kernel(what, peer, child, &[&received, "end=eof", "proto=mptcp "])
}

/// Adds to the kernel's namespace an nftables table `table` with an input chain, and each
/// of `rules` (the words after `add rule inet TABLE input`) to it.
pub fn kernel_input_rules(setup: &Setup, table: &str, rules: &[&[&str]]) {
    let nft = |args: &[&str]| {
        setup
            .topo
            .kernel()
            .exec("nft", args)
            .unwrap_or_else(|e| panic!("nft {args:?}: {e}"));
    };
    nft(&["add", "table", "inet", table]);
    nft(&[
        "add",
        "chain",
        "inet",
        table,
        "input",
        "{ type filter hook input priority 0; }",
    ]);
    for rule in rules {
        let mut args = vec!["add", "rule", "inet", table, "input"];
        args.extend_from_slice(rule);
        nft(&args);
    }
}

/// The byte counts of the counters in `table`'s input chain (in the kernel's namespace),
/// in rule order.
pub fn kernel_input_counters(setup: &Setup, table: &str, what: &str) -> Vec<u64> {
    let listing = setup
        .topo
        .kernel()
        .exec("nft", &["list", "chain", "inet", table, "input"])
        .unwrap()
        .stdout;
    listing
        .split(&format!(" {what} "))
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

/// An MPTCP kernel peer that sends `send` and expects `expect` bytes within `limit`.
pub fn kernel_peer(send: u64, expect: u64, limit: Duration) -> KernelPeer {
    KernelPeer::new(PEER)
        .transfer(send, expect, limit)
        .io_timeout(Duration::from_secs(15))
}

/// Subflows whose handshake completed and which are still open.
pub fn live(subflows: &[SubflowInfo]) -> Vec<SubflowInfo> {
    subflows
        .iter()
        .filter(|s| s.established && !is_closing(s))
        .copied()
        .collect()
}

/// Whether a subflow is closed or closing.
pub fn is_closing(s: &SubflowInfo) -> bool {
    // (mptcp-tun does not re-export the state type; its names are stable.)
    !matches!(
        format!("{:?}", s.tcp.state).as_str(),
        "Established" | "CloseWait"
    )
}

/// One line per subflow, for reports.
pub fn describe_subflows(subflows: &[SubflowInfo]) -> String {
    subflows
        .iter()
        .map(|s| {
            format!(
                "  {:?} {} -> {} ids {}/{:?} {:?}{}{} sent {} received {} retrans {}",
                s.id,
                s.local,
                s.remote,
                s.local_id,
                s.remote_id,
                s.tcp.state,
                if s.established { " established" } else { "" },
                if s.backup || s.peer_backup {
                    " backup"
                } else {
                    ""
                },
                s.tcp.bytes_sent,
                s.tcp.bytes_received,
                s.tcp.bytes_retransmitted,
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits (polling, up to `limit`) until `cond` holds on our subflows; returns them.
pub async fn wait_subflows(
    stream: &SharedStream,
    limit: Duration,
    cond: impl Fn(&[SubflowInfo]) -> bool,
) -> Result<Vec<SubflowInfo>, Vec<SubflowInfo>> {
    let until = tokio::time::Instant::now() + limit;
    loop {
        let s = stream.lock().subflows();
        if cond(&s) {
            return Ok(s);
        }
        if tokio::time::Instant::now() >= until {
            return Err(s);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A stream that a reader, a writer and a controller (subflows, `set_backup`,
/// `remove_address`) use at once: each call locks it briefly. The stream keeps separate
/// wakers for its reader and its writer, so the two halves do not wake each other's tasks
/// away.
#[derive(Clone)]
pub struct SharedStream(Arc<Mutex<MptcpStream>>);

impl SharedStream {
    pub fn new(stream: MptcpStream) -> Self {
        SharedStream(Arc::new(Mutex::new(stream)))
    }

    /// The stream, for a control call.
    pub fn lock(&self) -> MutexGuard<'_, MptcpStream> {
        self.0.lock().unwrap()
    }
}

impl AsyncRead for SharedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.lock()).poll_read(cx, buf)
    }
}

impl AsyncWrite for SharedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.lock()).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.lock()).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.lock()).poll_shutdown(cx)
    }
}
