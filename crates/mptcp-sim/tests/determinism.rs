//! Same scenario and seed: the same run, event for event and capture byte for byte.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use core::time::Duration;

use mptcp_proto::time::Instant;
use mptcp_sim::hosts::{ConstantRateSender, Echo, Pinger, Sink, TestHost};
use mptcp_sim::link::{LinkChange, LinkParams, LossModel, QueueLimit, Reorder};
use mptcp_sim::middlebox::SeqRewriter;
use mptcp_sim::{Router, Simulation, TraceEvent};

/// A writer whose bytes can be read after the simulation took it.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A sender and a pinger through two routers, over impaired links; returns the trace and
/// the capture of the router's uplink.
fn run(seed: u64) -> (Vec<TraceEvent>, Vec<u8>) {
    let mut sim = Simulation::<TestHost>::new(seed);
    let left = [
        sim.add_host(
            ConstantRateSender::new(
                "10.0.1.1:1".parse().unwrap(),
                "10.0.2.1:80".parse().unwrap(),
                1200,
                5_000_000,
            )
            .stopping_at(Instant::from_millis(300))
            .into(),
        ),
        sim.add_host(
            Pinger::new(
                "10.0.1.2:2".parse().unwrap(),
                "10.0.2.2:7".parse().unwrap(),
                50,
                100,
                Instant::from_millis(1),
            )
            .into(),
        ),
    ];
    let right = [
        sim.add_host(Sink::new().into()),
        sim.add_host(Echo::new().into()),
    ];
    let impaired = LinkParams {
        jitter: Duration::from_micros(300),
        loss: LossModel::Random(0.02),
        reorder: Some(Reorder {
            probability: 0.02,
            extra_delay: Duration::from_millis(2),
        }),
        duplicate: 0.01,
        corrupt: 0.01,
        queue: QueueLimit::Packets(20),
        ..LinkParams::new(8_000_000, Duration::from_millis(3))
    };
    // A small star: each host on its own link to a switch-like router.
    let mut router2 = Router::new();
    router2
        .add_route("10.0.1.0".parse().unwrap(), 24, 0)
        .unwrap();
    router2
        .add_route("10.0.2.1".parse().unwrap(), 32, 1)
        .unwrap();
    router2
        .add_route("10.0.2.2".parse().unwrap(), 32, 2)
        .unwrap();
    let r2 = sim.add_router(router2);
    let mut router1 = Router::new();
    router1
        .add_route("10.0.2.0".parse().unwrap(), 24, 0)
        .unwrap();
    router1
        .add_route("10.0.1.1".parse().unwrap(), 32, 1)
        .unwrap();
    router1
        .add_route("10.0.1.2".parse().unwrap(), 32, 2)
        .unwrap();
    let r1 = sim.add_router(router1);
    sim.connect((left[0], 0), (r1, 1), LinkParams::default())
        .unwrap();
    sim.connect((left[1], 0), (r1, 2), LinkParams::default())
        .unwrap();
    let uplink = sim.connect((r1, 0), (r2, 0), impaired).unwrap();
    sim.connect((r2, 1), (right[0], 0), LinkParams::default())
        .unwrap();
    sim.connect((r2, 2), (right[1], 0), LinkParams::default())
        .unwrap();
    sim.add_link_middlebox(uplink, Box::new(SeqRewriter::new(99)))
        .unwrap();
    sim.schedule(Instant::from_millis(150), uplink, LinkChange::Down, None)
        .unwrap();
    sim.schedule(Instant::from_millis(170), uplink, LinkChange::Up, None)
        .unwrap();
    let capture = Shared::default();
    sim.capture_link(uplink, Box::new(capture.clone())).unwrap();
    let trace = Rc::new(RefCell::new(Vec::new()));
    let sink = trace.clone();
    sim.set_tracer(move |event| sink.borrow_mut().push(event.clone()));
    sim.run_until(Instant::from_millis(500));
    sim.finish_captures().unwrap();
    let events = trace.borrow().clone();
    let bytes = capture.0.borrow().clone();
    (events, bytes)
}

#[test]
fn same_seed_same_trace_and_capture() {
    let (trace, pcap) = run(5);
    assert!(trace.len() > 1000, "{} events", trace.len());
    assert!(pcap.len() > 100_000);
    let (again, pcap_again) = run(5);
    assert_eq!(trace, again);
    assert_eq!(pcap, pcap_again);
    let (other, other_pcap) = run(6);
    assert_ne!(trace, other);
    assert_ne!(pcap, other_pcap);
}
