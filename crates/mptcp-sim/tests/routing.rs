//! Routers: longest prefix match, ECMP by flow, TTL, ping-pong through a router.

use core::net::SocketAddr;
use core::time::Duration;

use mptcp_proto::time::Instant;
use mptcp_proto::wire::{SeqNum, TcpFlags, TcpRepr, parse_ip_packet};
use mptcp_sim::hosts::{
    ConstantRateSender, Echo, Pinger, Sink, TestHost, checksums_ok, tcp_packet,
};
use mptcp_sim::link::{Direction, LinkParams};
use mptcp_sim::router::ForwardError;
use mptcp_sim::{Router, Simulation};

fn packet(src: &str, dst: &str) -> Vec<u8> {
    let src: SocketAddr = src.parse().unwrap();
    let dst: SocketAddr = dst.parse().unwrap();
    let segment = TcpRepr {
        src_port: 0,
        dst_port: 0,
        seq_number: SeqNum(1),
        ack_number: SeqNum(0),
        flags: TcpFlags::SYN,
        window_len: 100,
        urgent_at: 0,
        options: Vec::new(),
        payload: &[],
    };
    tcp_packet(src, dst, &segment)
}

#[test]
fn longest_prefix_wins() {
    let mut router = Router::new();
    router.add_route("0.0.0.0".parse().unwrap(), 0, 0).unwrap();
    router.add_route("10.0.0.0".parse().unwrap(), 8, 1).unwrap();
    router
        .add_route("10.1.2.0".parse().unwrap(), 24, 2)
        .unwrap();
    router
        .add_route("2001:db8::".parse().unwrap(), 32, 3)
        .unwrap();
    let select = |dst| router.select(&packet("10.9.9.9:1", dst));
    assert_eq!(select("10.1.2.3:80"), Ok(2));
    assert_eq!(select("10.1.3.3:80"), Ok(1));
    assert_eq!(select("192.0.2.1:80"), Ok(0));
    assert_eq!(
        router.select(&packet("[2001:db8::1]:1", "[2001:db8::2]:2")),
        Ok(3)
    );
    assert_eq!(
        router.select(&packet("[2001:db8::1]:1", "[2001:db9::2]:2")),
        Err(ForwardError::NoRoute)
    );
    assert_eq!(router.select(&[0x55; 40]), Err(ForwardError::Malformed));
    assert!(
        router
            .add_route("10.0.0.0".parse().unwrap(), 33, 0)
            .is_err()
    );
}

#[test]
fn ecmp_spreads_flows_and_keeps_each_on_one_path() {
    let mut router = Router::new().with_hash_seed(3);
    for iface in 0..4 {
        router
            .add_route("10.2.0.0".parse().unwrap(), 16, iface)
            .unwrap();
    }
    let mut per_path = [0; 4];
    for port in 1000..1400 {
        let src = format!("10.1.0.1:{port}");
        let path = router.select(&packet(&src, "10.2.0.1:80")).unwrap();
        assert_eq!(router.select(&packet(&src, "10.2.0.1:80")).unwrap(), path);
        per_path[path] += 1;
    }
    assert!(
        per_path.iter().all(|&n| (70..=130).contains(&n)),
        "{per_path:?}"
    );
}

#[test]
fn forwarding_decrements_ttl_and_keeps_checksums() {
    let mut sim = Simulation::<TestHost>::new(1);
    let sender = ConstantRateSender::new(
        "10.0.1.1:5".parse().unwrap(),
        "10.0.2.1:6".parse().unwrap(),
        500,
        4_000_000,
    )
    .stopping_at(Instant::from_millis(10));
    let a = sim.add_host(sender.into());
    let b = sim.add_host(Sink::recording().into());
    let mut router = Router::new();
    router
        .add_route("10.0.2.0".parse().unwrap(), 24, 1)
        .unwrap();
    let r = sim.add_router(router);
    sim.connect((a, 0), (r, 0), LinkParams::default()).unwrap();
    sim.connect((r, 1), (b, 0), LinkParams::default()).unwrap();
    sim.run_until_idle();
    let sink = sim.host(b).and_then(TestHost::as_sink).unwrap();
    assert_eq!(sink.packets(), 10);
    for received in sink.received() {
        assert!(checksums_ok(&received.bytes));
        assert_eq!(parse_ip_packet(&received.bytes).unwrap().ip.hop_limit(), 63);
    }
    assert_eq!(sim.router(r).unwrap().stats().forwarded, 10);
}

#[test]
fn ping_pong_through_a_router_takes_both_delays() {
    let mut sim = Simulation::<TestHost>::new(1);
    let pinger = Pinger::new(
        "10.0.1.1:5".parse().unwrap(),
        "10.0.2.1:7".parse().unwrap(),
        5,
        60,
        Instant::from_millis(1),
    );
    let a = sim.add_host(pinger.into());
    let b = sim.add_host(Echo::new().into());
    let mut router = Router::new();
    router
        .add_route("10.0.1.0".parse().unwrap(), 24, 0)
        .unwrap();
    router
        .add_route("10.0.2.0".parse().unwrap(), 24, 1)
        .unwrap();
    let r = sim.add_router(router);
    sim.connect(
        (a, 0),
        (r, 0),
        LinkParams::new(0, Duration::from_millis(10)),
    )
    .unwrap();
    let far = sim
        .connect(
            (r, 1),
            (b, 0),
            LinkParams::new(8_000_000, Duration::from_millis(20)),
        )
        .unwrap();
    sim.run_until_idle();
    let rtts = sim.host(a).and_then(TestHost::as_pinger).unwrap().rtts();
    // 100-byte packets: 100 µs of serialization each way on the 8 Mbit/s link.
    assert_eq!(rtts, [Duration::from_micros(60_200); 5]);
    let stats = sim.link_stats(far, Direction::BToA).unwrap();
    assert_eq!(stats.delivered_packets, 5);
}
