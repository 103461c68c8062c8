//! `tbf` really limits the rate: a 2 MiB transfer through a 10 Mbit/s filter
//! takes about size·8/rate (plus header overhead), and the same transfer
//! without the filter is much faster. Needs root. Kept in its own test binary
//! so no other transfer competes for the CPU while it is timed.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mptcp_interop::{End, KernelPeer, Namespace, Tbf, VethLink, require_root};

const PEER: &str = env!("CARGO_BIN_EXE_kernel-peer");
const SIZE: u64 = 2 * 1024 * 1024;

/// Time from starting the client until the server has received everything.
fn one_way(client: &Namespace, server: &Namespace, to: SocketAddr) -> Duration {
    let sender = KernelPeer::new(PEER)
        .tcp()
        .send(SIZE)
        .expect(0)
        .deadline(Duration::from_secs(20));
    let receiver = KernelPeer::new(PEER)
        .tcp()
        .expect(SIZE)
        .deadline(Duration::from_secs(20));
    let srv = receiver.server(server, to).unwrap();
    let started = Instant::now();
    let cli = sender.client(client, to).unwrap();
    let srv = receiver.finish(srv).unwrap();
    let elapsed = started.elapsed();
    sender.finish(cli).unwrap();
    assert!(srv.stdout.contains("verify=ok"), "{}", srv.stdout);
    elapsed
}

#[test]
fn tbf_limits_the_rate_of_a_transfer() {
    require_root();
    let client = Namespace::new("tbf-c").unwrap();
    let server = Namespace::new("tbf-s").unwrap();
    let mut link = VethLink::create(&client, "cli", &server, "srv").unwrap();
    link.add_addr(End::A, "10.0.1.2/24".parse().unwrap())
        .unwrap();
    link.add_addr(End::B, "10.0.1.1/24".parse().unwrap())
        .unwrap();
    link.up().unwrap();

    let unlimited = one_way(&client, &server, "10.0.1.1:5010".parse().unwrap());

    let tbf = Tbf::mbit(10);
    link.set_tbf(End::A, &tbf).unwrap();
    let qdisc = client.tc(&["qdisc", "show", "dev", "cli"]).unwrap().stdout;
    assert!(
        qdisc.contains("tbf") && qdisc.contains("rate 10Mbit"),
        "{qdisc}"
    );
    let limited = one_way(&client, &server, "10.0.1.1:5011".parse().unwrap());

    let expected = tbf.expected_transfer_time(SIZE);
    let ratio = limited.as_secs_f64() / expected.as_secs_f64();
    eprintln!(
        "2 MiB: unlimited {unlimited:?}, tbf 10 Mbit/s {limited:?}, expected {expected:?} \
         (ratio {ratio:.3})"
    );
    assert!(
        (0.9..1.4).contains(&ratio),
        "through tbf 10 Mbit/s 2 MiB took {limited:?}, expected about {expected:?}"
    );
    assert!(
        unlimited < expected / 4,
        "without tbf the transfer took {unlimited:?}: the link is too slow to show the limit"
    );
}
