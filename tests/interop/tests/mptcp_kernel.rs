//! Our MPTCP against the Linux kernel's MPTCP, one path: the `mptcp-tun` runtime on TUN
//! devices in "ours", `kernel-peer` (an `IPPROTO_MPTCP` socket) in "kernel". Each side
//! sends the byte pattern and verifies what it receives. Needs root.
//!
//! - **The data path**: 64 MiB each way at once, our client → kernel server and kernel
//!   client → our server, IPv4 and IPv6: the kernel reports `proto=mptcp` (its
//!   `MPTCP_INFO` works: no fallback) and our stream `is_mptcp()`.
//! - **DSS checksums**: the kernel with `net.mptcp.checksum_enabled=1` (our side does not
//!   ask; the kernel does), 64 MiB each way in both roles: `MPTCP_INFO` shows checksums on
//!   and the kernel counted no checksum error.
//!
//! Several subflows, ADD_ADDR, REMOVE_ADDR and MP_PRIO are in `mptcp_paths.rs`.

mod mptcp_support;

use std::time::{Duration, Instant};

use mptcp_interop::{Role, exchange, field, finish_kernel};
use mptcp_support::{MIB, Setup, kernel_peer};
use mptcp_tun::RuntimeConfig;

/// Bytes each way.
const SIZE: u64 = 64 * MIB;
/// Bound of one case (debug build).
const LIMIT: Duration = Duration::from_secs(60);

/// 64 MiB each way at once over one path; returns the kernel peer's line.
fn one_path(tag: &str, role: Role, v6: bool, kernel_checksum: bool) -> String {
    let what = format!(
        "{} over {}{}",
        role.describe(),
        if v6 { "IPv6" } else { "IPv4" },
        if kernel_checksum {
            ", kernel asks for DSS checksums"
        } else {
            ""
        }
    );
    let setup = Setup::new(tag, 1, v6, None, RuntimeConfig::default());
    if kernel_checksum {
        setup
            .topo
            .kernel()
            .sysctl("net.mptcp.checksum_enabled", "1")
            .unwrap();
    }
    let peer = kernel_peer(SIZE, SIZE, LIMIT);
    let opening = setup.open(role, &peer);
    let (elapsed, mptcp) = setup.run(&what, LIMIT, async {
        let stream = opening.establish(&setup.stack.handle()).await;
        let mptcp = stream.is_mptcp();
        let started = Instant::now();
        exchange(&what, stream, role, SIZE).await;
        (started.elapsed(), mptcp)
    });
    let received = format!("received={SIZE}");
    let line = finish_kernel(
        &what,
        &peer,
        opening.kernel,
        &[&received, "end=eof", "proto=mptcp "],
    );
    assert!(mptcp, "{what}: our stream is not MPTCP");
    let counters = setup.nonzero_counters();
    let mbit = SIZE as f64 * 8.0 / elapsed.as_secs_f64() / 1e6;
    eprintln!(
        "{what}: 2 x {} MiB in {:.2} s = {mbit:.0} Mbit/s each way\n  {line}\n  kernel: {counters:?}",
        SIZE / MIB,
        elapsed.as_secs_f64()
    );
    let ours = setup.our_addr(1);
    assert!(
        line.contains(&format!("{ours}")),
        "{what}: not our address: {line}"
    );
    assert_eq!(
        setup.counter("DataCsumErr"),
        0,
        "{what}: the kernel saw bad checksums"
    );
    assert_eq!(setup.counter("DSSNotMatching"), 0, "{what}: {counters:?}");
    let csum = field(&line, "csum").unwrap_or("?");
    let want = if kernel_checksum { "1" } else { "0" };
    assert_eq!(csum, want, "{what}: the kernel's csum flag: {line}");
    line
}

#[test]
fn our_client_exchanges_64mib_with_a_kernel_mptcp_server_over_ipv4() {
    one_path("mk-c4", Role::OurClient, false, false);
}

#[test]
fn our_client_exchanges_64mib_with_a_kernel_mptcp_server_over_ipv6() {
    one_path("mk-c6", Role::OurClient, true, false);
}

#[test]
fn a_kernel_mptcp_client_exchanges_64mib_with_our_server_over_ipv4() {
    one_path("mk-s4", Role::OurServer, false, false);
}

#[test]
fn a_kernel_mptcp_client_exchanges_64mib_with_our_server_over_ipv6() {
    one_path("mk-s6", Role::OurServer, true, false);
}

#[test]
fn dss_checksums_asked_by_the_kernel_server_64mib_each_way() {
    one_path("mk-csc", Role::OurClient, false, true);
}

#[test]
fn dss_checksums_asked_by_the_kernel_client_64mib_each_way() {
    one_path("mk-css", Role::OurServer, true, true);
}
