//! Kernel interop test harness: network namespaces joined by veth links, the
//! Linux kernel's MPTCP on one side (driven by the `kernel-peer` program of this
//! package) and, later, our userspace stack on TUN devices on the other.
//!
//! - [`Namespace`]: a uniquely named network namespace, removed with every
//!   process in it when the guard drops — also when a test fails or panics.
//! - [`VethLink`]: a veth pair between two namespaces, with addresses (IPv6
//!   without duplicate address detection), offload settings and a [`Tbf`] rate
//!   limit.
//! - [`Topology`]: namespaces "ours" and "kernel" joined by one veth per path,
//!   with forwarding and routes so that our stack's addresses reach TUN devices
//!   in "ours" (see the module documentation for the TUN hook).
//! - [`KernelPeer`]: runs `kernel-peer` clients and servers in a namespace;
//!   [`pattern`] (from `mptcp-cli`, whose `mptcp connect`/`listen` use it
//!   too) is the byte pattern it sends and verifies; [`kernel`] checks a finished
//!   peer ([`finish_kernel`]) and reads the kernel's counters ([`nstat`]).
//! - [`transfer`]: the pattern over our side's streams: [`write_pattern`],
//!   [`recv_pattern`], [`exchange`] of both directions at once, per [`Role`].
//! - [`clock`]: the machine's monotonic clock, shared with `kernel-peer`;
//! - [`command`]: setup commands with timeouts and quoted error messages;
//!   [`Spawned`] guards long-running children.
//! - [`ImpairedDevice`]: seeded random packet loss in each direction between
//!   our stack and its TUN device (this kernel has no `netem`), with counters;
//!   [`TamperedDevice`] edits packets there instead, as a middlebox would
//!   ([`PayloadFlip`]: one payload byte, the TCP checksum fixed).
//!
//! Tests that use namespaces need root; they call [`require_root`] first, which
//! fails with a clear message otherwise. Traffic only flows inside namespaces
//! the test created: nothing is configured in the root namespace.

pub mod addr;
pub mod clock;
pub mod command;
pub mod error;
pub mod impair;
pub mod kernel;
pub mod netns;
pub mod ours;
pub mod peer;
pub mod tamper;
pub mod tbf;
pub mod topology;
pub mod transfer;
pub mod veth;

pub use mptcp_cli::pattern;

pub use addr::IfAddr;
pub use clock::monotonic_ns;
pub use command::{Finished, Spawned};
pub use error::{Error, Result};
pub use impair::{ImpairCounters, ImpairedDevice, Loss, Tally};
pub use kernel::{Opening, field, finish_kernel, nstat, proc_counters, read_stalls, wait_counter};
pub use netns::Namespace;
pub use ours::{OurStack, create_tun, create_tun_with, runtime};
pub use peer::KernelPeer;
pub use tamper::{Edit, PayloadFlip, TamperedDevice};
pub use tbf::Tbf;
pub use topology::{Path, Topology, TopologyBuilder, TunPlan};
pub use transfer::{
    Received, Role, assert_intact, exchange, recv_intact, recv_pattern, send_pattern, wait_for,
    write_pattern,
};
pub use veth::{End, Offloads, VethLink};

use std::path::Path as FsPath;

/// Programs the harness runs.
const TOOLS: [&str; 4] = ["ip", "tc", "sysctl", "ethtool"];

/// Checks that the harness can work here: root, MPTCP in the kernel, and the
/// tools it runs. Returns a message naming what is missing.
pub fn check_environment() -> std::result::Result<(), String> {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        return Err(format!(
            "this test needs root (it creates network namespaces; effective uid is {euid}). \
             CI runs the test command as root; locally run `sudo -E ./scripts/test`, or skip \
             these tests with `cargo test --workspace --exclude mptcp-interop`"
        ));
    }
    if !FsPath::new("/proc/sys/net/mptcp/enabled").exists() {
        return Err("this kernel has no MPTCP (/proc/sys/net/mptcp/enabled is missing)".into());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for tool in TOOLS {
        let found = std::env::split_paths(&path).any(|dir| dir.join(tool).is_file());
        if !found {
            return Err(format!(
                "`{tool}` is not on PATH (install iproute2, procps and ethtool)"
            ));
        }
    }
    Ok(())
}

/// Panics with a clear message unless [`check_environment`] passes. Tests that
/// need root call it first: without root they fail loudly, never pass silently.
pub fn require_root() {
    if let Err(msg) = check_environment() {
        panic!("interop harness: {msg}");
    }
}
