//! Settings of docs/settings.md against the Linux kernel. Needs root and nftables.
//!
//! - `mptcp.syn_retries`: a firewall in the kernel's namespace drops every SYN that carries
//!   MP_CAPABLE (nftables `tcp option mptcp exists`), as middleboxes that refuse unknown
//!   options do. Our client's first SYN and `syn_retries` retransmissions carry it and are
//!   dropped (the firewall's counter says how many); the next goes without, the kernel's
//!   MPTCP listener takes it as plain TCP (its peer reports `proto=mptcp-fallback` and
//!   the kernel never counted an MP_CAPABLE SYN), and 1 MiB each way arrives intact.

mod mptcp_support;

use std::time::{Duration, Instant};

use mptcp_interop::{Role, exchange, finish_kernel};
use mptcp_proto::settings::Settings;
use mptcp_support::{MIB, Setup, kernel_peer};
use mptcp_tun::RuntimeConfig;

const LIMIT: Duration = Duration::from_secs(60);
const TABLE: &str = "syn_firewall";

/// Adds to the kernel's namespace a firewall that drops, and counts, SYNs with MP_CAPABLE
/// (every MPTCP option on a SYN is one).
fn drop_mp_capable_syns(setup: &Setup) {
    let nft = |args: &[&str]| {
        setup
            .topo
            .kernel()
            .exec("nft", args)
            .unwrap_or_else(|e| panic!("nft {args:?}: {e}"));
    };
    nft(&["add", "table", "inet", TABLE]);
    nft(&[
        "add",
        "chain",
        "inet",
        TABLE,
        "input",
        "{ type filter hook input priority 0; }",
    ]);
    nft(&[
        "add",
        "rule",
        "inet",
        TABLE,
        "input",
        "tcp",
        "flags",
        "&",
        "(syn|ack)",
        "==",
        "syn",
        "tcp",
        "option",
        "mptcp",
        "exists",
        "counter",
        "drop",
    ]);
}

/// The SYNs the firewall dropped.
fn dropped(setup: &Setup) -> u64 {
    let listing = setup
        .topo
        .kernel()
        .exec("nft", &["list", "chain", "inet", TABLE, "input"])
        .unwrap()
        .stdout;
    let count = listing
        .split("counter packets ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok());
    count.unwrap_or_else(|| panic!("no counter in:\n{listing}"))
}

#[test]
fn syns_a_firewall_drops_for_mp_capable_connect_as_tcp_after_mptcp_syn_retries() {
    let what = "our client, mptcp.syn_retries=1, MP_CAPABLE SYNs dropped";
    let mut config = RuntimeConfig::default();
    let mut settings = Settings::default();
    settings.set("mptcp.syn_retries", "1").unwrap();
    settings.apply(&mut config.tcp, &mut config.mptcp);
    let setup = Setup::new("synrt", 1, false, None, config);
    drop_mp_capable_syns(&setup);
    let peer = kernel_peer(MIB, MIB, LIMIT);
    let opening = setup.open(Role::OurClient, &peer);
    let started = Instant::now();
    let (mptcp, took) = setup.run(what, LIMIT, async {
        let mut stream = opening.establish(&setup.stack.handle()).await;
        let took = started.elapsed();
        let mptcp = stream.is_mptcp();
        exchange(what, &mut stream, Role::OurClient, MIB).await;
        (mptcp, took)
    });
    let line = finish_kernel(
        what,
        &peer,
        opening.kernel,
        &["proto=mptcp-fallback", "end=eof"],
    );
    let dropped = dropped(&setup);
    let capable_syns = setup.counter("MPCapableSYNRX");
    println!(
        "{what}: connected as TCP after {took:?}; the firewall dropped {dropped} SYNs; \
         kernel MPCapableSYNRX {capable_syns}\n{line}"
    );
    assert!(!mptcp, "{what}: our stream claims MPTCP");
    assert_eq!(
        dropped, 2,
        "{what}: the first SYN and one retransmission carry MP_CAPABLE"
    );
    assert_eq!(capable_syns, 0, "{what}: the kernel saw an MP_CAPABLE SYN");
    // The retransmissions leave 1 s and 3 s after the first SYN (RFC 6298's initial RTO,
    // doubled): the second one, without the option, gets through.
    assert!(
        took >= Duration::from_millis(2900) && took < Duration::from_secs(5),
        "{what}: connected after {took:?}"
    );
}
