//! Link behaviour: timing, loss statistics, queues, failures, impairments.

use core::net::SocketAddr;
use core::time::Duration;

use mptcp_proto::time::Instant;
use mptcp_proto::wire::{TcpPacket, parse_ip_packet};
use mptcp_sim::hosts::{ConstantRateSender, Sink, TestHost};
use mptcp_sim::link::{Direction, LinkChange, LinkParams, LossModel, QueueLimit, Reorder};
use mptcp_sim::{LinkId, NodeId, Simulation};

const PAYLOAD: u32 = 1460;

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

/// A sender of `count` 1500-byte packets at `rate` bit/s over a link with `params` into a
/// recording sink.
fn pair(
    seed: u64,
    rate: u64,
    count: u64,
    params: LinkParams,
) -> (Simulation<TestHost>, NodeId, LinkId) {
    let mut sim = Simulation::new(seed);
    let stop = Instant::from_nanos(count * 1500 * 8 * 1_000_000_000 / rate);
    let sender = ConstantRateSender::new(addr("10.0.0.1:1000"), addr("10.0.0.2:80"), 1500, rate)
        .stopping_at(stop);
    let a = sim.add_host(sender.into());
    let b = sim.add_host(Sink::recording().into());
    let link = sim.connect((a, 0), (b, 0), params).unwrap();
    (sim, b, link)
}

fn sink(sim: &Simulation<TestHost>, node: NodeId) -> &Sink {
    sim.host(node).and_then(TestHost::as_sink).unwrap()
}

/// Packet numbers in arrival order (from the sequence numbers).
fn arrivals(sim: &Simulation<TestHost>, node: NodeId) -> Vec<u32> {
    sink(sim, node)
        .received()
        .iter()
        .map(|r| {
            let ip = parse_ip_packet(&r.bytes).unwrap();
            TcpPacket::new_checked(ip.payload).unwrap().seq_number().0 / PAYLOAD
        })
        .collect()
}

#[test]
fn arrival_is_serialization_plus_delay() {
    // Sent at 100 Mbit/s into a 10 Mbit/s link: packets queue and leave back to back.
    let params = LinkParams::new(10_000_000, Duration::from_millis(5));
    let (mut sim, b, _) = pair(1, 100_000_000, 3, params);
    sim.run_until_idle();
    let times: Vec<u64> = sink(&sim, b)
        .received()
        .iter()
        .map(|r| r.time.as_nanos())
        .collect();
    // 1500 bytes at 10 Mbit/s = 1.2 ms each, then 5 ms.
    assert_eq!(times, [6_200_000, 7_400_000, 8_600_000]);
}

#[test]
fn infinite_rate_gives_pure_delay() {
    let (mut sim, b, _) = pair(
        1,
        12_000_000,
        2,
        LinkParams::new(0, Duration::from_micros(250)),
    );
    sim.run_until_idle();
    let times: Vec<u64> = sink(&sim, b)
        .received()
        .iter()
        .map(|r| r.time.as_nanos())
        .collect();
    assert_eq!(times, [250_000, 1_250_000]);
}

#[test]
fn random_loss_rate_matches() {
    let params = LinkParams {
        loss: LossModel::Random(0.1),
        ..LinkParams::default()
    };
    let (mut sim, b, link) = pair(42, 1_200_000_000, 100_000, params);
    sim.run_until_idle();
    let stats = sim.link_stats(link, Direction::AToB).unwrap();
    assert_eq!(stats.sent_packets, 100_000);
    let rate = stats.dropped.loss as f64 / 100_000.0;
    // Binomial standard deviation is about 0.001; allow four.
    assert!((rate - 0.1).abs() < 0.004, "loss rate {rate}");
    assert_eq!(sink(&sim, b).packets(), 100_000 - stats.dropped.loss);
}

#[test]
fn gilbert_elliott_loss_is_bursty_with_the_right_mean() {
    let model = LossModel::GilbertElliott {
        p: 0.01,
        r: 0.25,
        loss_good: 0.0,
        loss_bad: 1.0,
    };
    let params = LinkParams {
        loss: model,
        ..LinkParams::default()
    };
    let (mut sim, b, _) = pair(7, 1_200_000_000, 200_000, params);
    sim.run_until_idle();
    let got = arrivals(&sim, b);
    let lost = 200_000 - got.len();
    let rate = lost as f64 / 200_000.0;
    assert!((rate - model.mean_loss()).abs() < 0.01, "loss rate {rate}");
    let bursts = got.windows(2).filter(|w| w[1] > w[0] + 1).count();
    let mean_burst = lost as f64 / bursts as f64;
    // Bursts last 1/r = 4 packets on average.
    assert!((mean_burst - 4.0).abs() < 0.4, "mean burst {mean_burst}");
}

#[test]
fn a_full_queue_drops_the_tail() {
    for queue in [QueueLimit::Packets(10), QueueLimit::Bytes(15_000)] {
        let params = LinkParams {
            queue,
            ..LinkParams::new(10_000_000, Duration::from_millis(1))
        };
        // 1000 packets at twice the link rate.
        let (mut sim, b, link) = pair(3, 20_000_000, 1000, params);
        sim.run_until_idle();
        let stats = *sim.link_stats(link, Direction::AToB).unwrap();
        assert_eq!(stats.sent_packets + stats.dropped.queue, 1000);
        // During the 0.6 s of sending the link carries 500 packets, plus the queue.
        assert!((505..=512).contains(&stats.sent_packets), "{stats:?}");
        assert_eq!(sink(&sim, b).packets(), stats.sent_packets);
    }
}

#[test]
fn link_down_loses_packets_in_flight_and_up_restores() {
    let params = LinkParams::new(12_000_000, Duration::from_millis(10));
    let (mut sim, b, link) = pair(1, 12_000_000, 300, params);
    sim.schedule(Instant::from_millis(100), link, LinkChange::Down, None)
        .unwrap();
    sim.schedule(Instant::from_millis(200), link, LinkChange::Up, None)
        .unwrap();
    sim.run_until_idle();
    let times: Vec<u64> = sink(&sim, b)
        .received()
        .iter()
        .map(|r| r.time.as_nanos() / 1_000_000)
        .collect();
    assert!(times.iter().all(|&t| t <= 100 || t > 210), "{times:?}");
    assert!(times.iter().any(|&t| t > 210));
    let stats = sim.link_stats(link, Direction::AToB).unwrap();
    // 1 ms per packet: ~10 in flight when it went down, ~100 sent while down.
    assert!((105..=115).contains(&stats.dropped.down), "{stats:?}");
    assert_eq!(sink(&sim, b).packets() + stats.dropped.down, 300);
}

#[test]
fn jitter_alone_keeps_order() {
    let params = LinkParams {
        jitter: Duration::from_millis(5),
        ..LinkParams::new(0, Duration::from_millis(10))
    };
    let (mut sim, b, _) = pair(9, 12_000_000, 2000, params);
    sim.run_until_idle();
    let got = arrivals(&sim, b);
    assert_eq!(got.len(), 2000);
    assert!(got.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn reordering_is_observable() {
    let params = LinkParams {
        reorder: Some(Reorder {
            probability: 0.05,
            extra_delay: Duration::from_millis(3),
        }),
        ..LinkParams::new(0, Duration::from_millis(10))
    };
    let (mut sim, b, link) = pair(11, 12_000_000, 2000, params);
    sim.run_until_idle();
    let got = arrivals(&sim, b);
    assert_eq!(got.len(), 2000);
    let mut highest = 0;
    let late = got
        .iter()
        .filter(|&&n| {
            let overtaken = n < highest;
            highest = highest.max(n);
            overtaken
        })
        .count() as u64;
    let reordered = sim.link_stats(link, Direction::AToB).unwrap().reordered;
    assert!((70..=130).contains(&reordered), "{reordered}");
    // Each held-back packet is overtaken, except among the last three (1 ms apart, held
    // 3 ms), which may have no later packet to overtake them.
    assert!(
        late <= reordered && late + 3 >= reordered,
        "{late} of {reordered}"
    );
}

#[test]
fn duplication_is_observable() {
    let params = LinkParams {
        duplicate: 0.1,
        ..LinkParams::default()
    };
    let (mut sim, b, link) = pair(5, 12_000_000, 5000, params);
    sim.run_until_idle();
    let stats = sim.link_stats(link, Direction::AToB).unwrap();
    let got = arrivals(&sim, b);
    assert_eq!(got.len() as u64, 5000 + stats.duplicated);
    assert!((400..=600).contains(&stats.duplicated));
    assert_eq!(
        got.windows(2).filter(|w| w[0] == w[1]).count() as u64,
        stats.duplicated
    );
}

#[test]
fn corruption_breaks_checksums() {
    let params = LinkParams {
        corrupt: 1.0,
        ..LinkParams::default()
    };
    let (mut sim, b, _) = pair(5, 12_000_000, 500, params);
    sim.run_until_idle();
    assert_eq!(sink(&sim, b).packets(), 500);
    assert_eq!(sink(&sim, b).bad_checksums(), 500);
    let (mut clean, b, _) = pair(5, 12_000_000, 500, LinkParams::default());
    clean.run_until_idle();
    assert_eq!(sink(&clean, b).bad_checksums(), 0);
}

#[test]
fn packets_over_the_mtu_are_dropped_and_counted() {
    let params = LinkParams {
        mtu: 1400,
        ..LinkParams::default()
    };
    let (mut sim, b, link) = pair(1, 12_000_000, 10, params);
    sim.run_until_idle();
    assert_eq!(sink(&sim, b).packets(), 0);
    assert_eq!(
        sim.link_stats(link, Direction::AToB).unwrap().dropped.mtu,
        10
    );
}

#[test]
fn scheduled_rate_change_applies_to_later_packets() {
    let (mut sim, b, link) = pair(
        1,
        100_000_000,
        4,
        LinkParams::new(12_000_000, Duration::ZERO),
    );
    // The four packets are handed over at 0, 120, 240 and 360 µs; packet 0 starts at once
    // at 12 Mbit/s (1 ms); the change lands before the others are sent.
    sim.schedule(
        Instant::from_micros(100),
        link,
        LinkChange::Rate(6_000_000),
        None,
    )
    .unwrap();
    sim.run_until_idle();
    let times: Vec<u64> = sink(&sim, b)
        .received()
        .iter()
        .map(|r| r.time.as_nanos())
        .collect();
    assert_eq!(times, [1_000_000, 3_000_000, 5_000_000, 7_000_000]);
    assert_eq!(
        sim.link_params(link, Direction::AToB).unwrap().rate_bps,
        6_000_000
    );
}
