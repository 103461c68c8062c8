//! Measures how fast the simulator runs: a constant-rate sender pushes 1500-byte packets at
//! 100 Mbit/s through one link (100 Mbit/s, 10 ms, a 1000-packet queue) into a sink, for a
//! number of simulated seconds (the first argument, default 86: about 1 GiB), and prints
//! simulated seconds per wall-clock second.
//!
//! `cargo run --release -p mptcp-sim --example sim-speed -- 86`

use core::time::Duration;
use std::time::Instant as WallClock;

use mptcp_proto::time::Instant;
use mptcp_sim::Simulation;
use mptcp_sim::hosts::{ConstantRateSender, Sink, TestHost};
use mptcp_sim::link::{Direction, LinkParams, QueueLimit};

const RATE: u64 = 100_000_000;

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("a number of simulated seconds"))
        .unwrap_or(86);
    let end = Instant::from_millis(seconds * 1000);
    let mut sim = Simulation::<TestHost>::new(1);
    let sender = ConstantRateSender::new(
        "10.0.0.1:40000".parse().unwrap(),
        "10.0.0.2:80".parse().unwrap(),
        1500,
        RATE,
    )
    .stopping_at(end);
    let a = sim.add_host(sender.into());
    let b = sim.add_host(Sink::new().into());
    let params = LinkParams {
        queue: QueueLimit::Packets(1000),
        ..LinkParams::new(RATE, Duration::from_millis(10))
    };
    let link = sim.connect((a, 0), (b, 0), params).expect("a valid link");
    let wall = WallClock::now();
    sim.run_until(end + Duration::from_secs(1));
    let elapsed = wall.elapsed().as_secs_f64();
    let stats = sim.link_stats(link, Direction::AToB).expect("the link");
    let received = sim.host(b).and_then(TestHost::as_sink).expect("the sink");
    println!(
        "{seconds} simulated s in {elapsed:.3} wall s: {:.1}x real time; {} packets, {:.3} GiB \
         delivered, {} events, {:.0} ns/packet",
        (seconds + 1) as f64 / elapsed,
        received.packets(),
        received.bytes() as f64 / (1u64 << 30) as f64,
        sim.events_processed(),
        elapsed * 1e9 / stats.delivered_packets.max(1) as f64,
    );
}
