//! A fluid, one-window-per-RTT model of a single flow over a bottleneck with a drop-tail
//! buffer and random loss: a sanity check that the controllers behave as their RFCs predict
//! when driven by an ACK clock, not a substitute for the simulator.

use core::time::Duration;

use super::{
    AckEvent, CcContext, CongestionControllerFactory, CongestionEvent, CubicFactory, RenoFactory,
};
use crate::time::Instant;

const MSS: usize = 1460;

/// xorshift64*: a tiny deterministic generator, good enough for Bernoulli losses.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The bottleneck: a rate, a base RTT, a drop-tail buffer and a random loss probability.
struct Path {
    rate_bps: f64,
    base_rtt: f64,
    buffer_segments: usize,
    loss: f64,
}

impl Path {
    fn segment_time(&self) -> f64 {
        (MSS * 8) as f64 / self.rate_bps
    }

    /// Segments the pipe holds without queueing.
    fn bdp_segments(&self) -> usize {
        (self.base_rtt / self.segment_time()) as usize
    }
}

/// Runs one flow for `seconds` and returns its goodput in Mbit/s.
///
/// Each round sends the window the controller has at its start. Segments beyond
/// BDP + buffer are dropped by the tail, every other one is lost with probability `loss`;
/// the rest are acknowledged one by one, evenly over the round's RTT (base RTT plus the
/// queueing delay of the standing queue). The first loss of a round is reported when its
/// ACK would have been due; recovery ends with the round.
fn goodput(factory: &dyn CongestionControllerFactory, path: &Path, seconds: f64, seed: u64) -> f64 {
    let mut cc = factory.build(Instant::ZERO, MSS);
    let mut rng = Rng(seed);
    let bdp = path.bdp_segments();
    let capacity = bdp + path.buffer_segments;
    let mut now = 0.0f64;
    let mut delivered = 0usize;
    let at = |s: f64| Instant::from_nanos((s * 1e9) as u64);
    while now < seconds {
        let n = (cc.window() / MSS).max(1);
        let queued = n.min(capacity).saturating_sub(bdp);
        let rtt = path.base_rtt + queued as f64 * path.segment_time();
        let rtt_sample = Duration::from_secs_f64(rtt);
        let flight = n * MSS;
        let ctx = CcContext {
            mss: MSS,
            srtt: Some(rtt_sample),
            min_rtt: Some(Duration::from_secs_f64(path.base_rtt)),
            bytes_in_flight: flight,
            siblings: &[],
        };
        let mut lost = false;
        for i in 0..n {
            let t = now + rtt * (i + 1) as f64 / n as f64;
            if i >= capacity || rng.next_f64() < path.loss {
                if !lost {
                    let event = CongestionEvent::Loss { sent_at: at(now) };
                    cc.on_congestion_event(at(t), event, &ctx);
                    lost = true;
                }
                continue;
            }
            delivered += MSS;
            let ack = AckEvent {
                bytes_acked: MSS,
                rtt_sample: Some(rtt_sample),
                app_limited: false,
            };
            cc.on_ack(at(t), &ack, &ctx);
        }
        now += rtt;
        if lost {
            cc.on_recovery_end(at(now), &ctx);
        }
    }
    (delivered * 8) as f64 / now / 1e6
}

fn path(loss: f64) -> Path {
    let mut path = Path {
        rate_bps: 100e6,
        base_rtt: 0.020,
        buffer_segments: 0,
        loss,
    };
    // A buffer of one BDP.
    path.buffer_segments = path.bdp_segments();
    path
}

#[test]
fn cubic_beats_reno_at_one_percent_loss() {
    let path = path(0.01);
    let reno = goodput(&RenoFactory, &path, 120.0, 0x5EED_0001);
    let cubic = goodput(&CubicFactory, &path, 120.0, 0x5EED_0001);
    // Mathis et al.: Reno ≈ 1.22·MSS / (RTT·√p) ≈ 7.1 Mbit/s here.
    assert!((5.0..10.0).contains(&reno), "reno {reno:.2} Mbit/s");
    assert!(cubic > reno, "cubic {cubic:.2} ≤ reno {reno:.2} Mbit/s");
    assert!(cubic < 100.0);
}

#[test]
fn both_fill_a_clean_link() {
    let path = path(0.0);
    for factory in [
        &RenoFactory as &dyn CongestionControllerFactory,
        &CubicFactory,
    ] {
        let rate = goodput(factory, &path, 60.0, 1);
        assert!(rate > 80.0, "{} {rate:.2} Mbit/s", factory.name());
        assert!(rate <= 100.0 + 1e-6, "{} {rate:.2} Mbit/s", factory.name());
    }
}
