//! Settings of docs/settings.md against the Linux kernel. Needs root and nftables.
//!
//! - `mptcp.syn_retries`: a firewall in the kernel's namespace drops every SYN that carries
//!   MP_CAPABLE (nftables `tcp option mptcp exists`), as middleboxes that refuse unknown
//!   options do. Our client's first SYN and `syn_retries` retransmissions carry it and are
//!   dropped (the firewall's counter says how many); the next goes without, the kernel's
//!   MPTCP listener takes it as plain TCP (its peer reports `proto=mptcp-fallback` and
//!   the kernel never counted an MP_CAPABLE SYN), and 1 MiB each way arrives intact.
//! - `mptcp.enabled = 2`: our stack speaks MPTCP only on connections whose own settings ask
//!   (`MptcpStream::connect_with`): to the same kernel MPTCP server, one connection with the
//!   stack's settings is plain TCP (the kernel's socket fell back), the next, asking, is
//!   MPTCP at both ends.
//! - `limits.subflows`: our server allows one subflow beyond the first; a kernel client
//!   with a `subflow` endpoint on its second address joins our initial address and the
//!   address we announce. One join is refused (RST with MP_TCPRST "administratively
//!   prohibited"): the kernel sent two join SYNs and got one SYN/ACK, and its connection
//!   has one extra subflow, as ours has; 8 MiB each way arrive intact.
//! - `limits.add_addr_accepted`: a kernel server on three paths announces its two other
//!   addresses; our client accepting one echoes both (the kernel stops repeating them) and
//!   joins one: two joins from our other addresses and one to an announced address.

mod mptcp_support;

use std::time::{Duration, Instant};

use mptcp_interop::{Role, exchange, field, finish_kernel, recv_intact, write_pattern};
use mptcp_proto::stack::MptcpEnabled;
use mptcp_support::{
    MIB, Setup, config_with, describe_subflows, kernel_input_counters, kernel_input_rules,
    kernel_peer,
};
use mptcp_tun::MptcpStream;
use tokio::io::AsyncWriteExt;

const LIMIT: Duration = Duration::from_secs(60);
const TABLE: &str = "syn_firewall";

/// Adds to the kernel's namespace a firewall that drops, and counts, SYNs with MP_CAPABLE
/// (every MPTCP option on a SYN is one).
fn drop_mp_capable_syns(setup: &Setup) {
    let rule: &[&str] = &[
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
    ];
    kernel_input_rules(setup, TABLE, &[rule]);
}

/// The SYNs the firewall dropped.
fn dropped(setup: &Setup) -> u64 {
    let counts = kernel_input_counters(setup, TABLE, "packets");
    *counts.first().expect("the firewall's counter")
}

#[test]
fn syns_a_firewall_drops_for_mp_capable_connect_as_tcp_after_mptcp_syn_retries() {
    let what = "our client, mptcp.syn_retries=1, MP_CAPABLE SYNs dropped";
    let config = config_with(&["mptcp.syn_retries=1"]);
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

#[test]
fn limits_subflows_refuses_the_kernels_join_beyond_it() {
    let what = "our server, limits.subflows=1, a kernel client joining twice";
    let size = 8 * MIB;
    let config = config_with(&["limits.subflows=1"]);
    let setup = Setup::new("lmsub", 2, false, Some((8, 8)), config);
    setup.kernel_endpoint(2, &["subflow"]);
    let peer = kernel_peer(size, size, LIMIT);
    let opening = setup.open(Role::OurServer, &peer);
    let subflows = setup.run(what, LIMIT, async {
        let mut stream = opening.establish(&setup.stack.handle()).await;
        assert!(stream.is_mptcp(), "{what}: not MPTCP");
        exchange(what, &mut stream, Role::OurServer, size).await;
        stream.subflows()
    });
    let received = format!("received={size}");
    let line = finish_kernel(
        what,
        &peer,
        opening.kernel,
        &[&received, "end=eof", "proto=mptcp "],
    );
    let refused = setup.stack.runtime().stats().joins_refused;
    let (syns, syn_acks) = (
        setup.counter("MPJoinSynTx"),
        setup.counter("MPJoinSynAckRx"),
    );
    println!(
        "{what}: we refused {refused} join(s); kernel MPJoinSynTx {syns}, MPJoinSynAckRx \
         {syn_acks}\n{line}\nour subflows:\n{}",
        describe_subflows(&subflows)
    );
    assert_eq!(refused, 1, "{what}");
    assert_eq!(
        (syns, syn_acks),
        (2, 1),
        "{what}: {:?}",
        setup.nonzero_counters()
    );
    assert_eq!(field(&line, "extra_subflows"), Some("1"), "{what}: {line}");
    // The first subflow and the one join we accepted.
    assert_eq!(
        subflows.len(),
        2,
        "{what}: {}",
        describe_subflows(&subflows)
    );
}

#[test]
fn mptcp_enabled_2_speaks_mptcp_only_where_a_connection_asks() {
    let config = config_with(&["mptcp.enabled=2"]);
    let setup = Setup::new("enon2", 1, false, None, config);
    for ask in [false, true] {
        let what = format!("our client, mptcp.enabled=2, the connection asking: {ask}");
        let peer = kernel_peer(MIB, MIB, LIMIT);
        let opening = setup.open(Role::OurClient, &peer);
        let handle = setup.stack.handle();
        let mptcp = setup.run(&what, LIMIT, async {
            let mut stream = if ask {
                let mut own = handle.connection_config();
                own.mptcp.enabled = MptcpEnabled::On;
                MptcpStream::connect_with(&handle, opening.to, own).await
            } else {
                MptcpStream::connect(&handle, opening.to).await
            }
            .unwrap_or_else(|e| panic!("{what}: connect: {e}"));
            let mptcp = stream.is_mptcp();
            exchange(&what, &mut stream, Role::OurClient, MIB).await;
            mptcp
        });
        let kernel_saw = if ask {
            "proto=mptcp "
        } else {
            "proto=mptcp-fallback"
        };
        let line = finish_kernel(&what, &peer, opening.kernel, &[kernel_saw, "end=eof"]);
        println!("{what}: ours MPTCP {mptcp}; {line}");
        assert_eq!(mptcp, ask, "{what}");
    }
}

#[test]
fn limits_add_addr_accepted_joins_one_of_the_kernels_two_announced_addresses() {
    let what = "our client, limits.add_addr_accepted=1, a kernel server announcing two";
    let config = config_with(&["limits.add_addr_accepted=1"]);
    let setup = Setup::new("lmadd", 3, false, Some((8, 8)), config);
    setup.kernel_endpoint(2, &["signal"]);
    setup.kernel_endpoint(3, &["signal"]);
    let peer = kernel_peer(MIB, 8 * MIB, LIMIT);
    let opening = setup.open(Role::OurClient, &peer);
    let subflows = setup.run(what, LIMIT, async {
        let mut stream = opening.establish(&setup.stack.handle()).await;
        assert!(stream.is_mptcp(), "{what}: not MPTCP");
        let (_, recv_tag) = Role::OurClient.tags();
        let sent = write_pattern(&mut stream, Role::OurClient.tags().0, 0, 8 * MIB, None).await;
        sent.1.unwrap_or_else(|e| panic!("{what}: sending: {e}"));
        // Everything the announcements lead to has happened by now.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let subflows = stream.subflows();
        stream.shutdown().await.unwrap();
        recv_intact(stream, recv_tag, MIB, what).await;
        subflows
    });
    let received = format!("received={}", 8 * MIB);
    let line = finish_kernel(what, &peer, opening.kernel, &[&received, "proto=mptcp "]);
    let echoed = setup.counter("EchoAdd");
    println!(
        "{what}: kernel EchoAdd {echoed}\n{line}\nour subflows:\n{}",
        describe_subflows(&subflows)
    );
    assert_eq!(echoed, 2, "{what}: both announcements echoed");
    let to_announced = subflows
        .iter()
        .filter(|s| s.remote.ip() != setup.kernel_addr(1))
        .count();
    assert_eq!(to_announced, 1, "{what}: {}", describe_subflows(&subflows));
    assert_eq!(field(&line, "extra_subflows"), Some("3"), "{what}: {line}");
}
