//! Behaviour tests of keep-alive (RFC 9293 §3.8.4), receive-buffer auto-tuning and pacing,
//! observed the way a user would: on the wire log and through `tcp_info`.

mod common;

use std::time::Duration;

use common::pair::{Flow, Pair, WireConfig};
use mptcp_proto::stack::{CloseReason, ConnectionHandle, Event, RecvError, TcpConfig};
use mptcp_proto::tcp::TcpState;
use mptcp_proto::time::Instant;
use mptcp_proto::wire::TcpFlags;

const IDLE: Duration = Duration::from_secs(30);
const INTERVAL: Duration = Duration::from_secs(5);
const PROBES: u32 = 3;

fn keepalive_config() -> TcpConfig {
    TcpConfig {
        keepalive: Some(IDLE),
        keepalive_interval: INTERVAL,
        keepalive_probes: PROBES,
        ..TcpConfig::default()
    }
}

/// `actual` is `expected` within a millisecond (the harness's clock has no jitter, but the
/// engine may round to its timestamp tick).
fn assert_near(actual: Duration, expected: Duration, what: &str) {
    let diff = actual.abs_diff(expected);
    assert!(
        diff <= Duration::from_millis(1),
        "{what}: {actual:?}, expected {expected:?}"
    );
}

/// Sequence number following the last segment `side` put on the wire (its SND.NXT, as long
/// as that segment was no probe).
fn wire_snd_nxt(p: &Pair, side: usize) -> u32 {
    let last = p.log.iter().rev().find(|l| l.from == side).unwrap();
    let ctl = u32::from(last.flags.contains(TcpFlags::SYN))
        + u32::from(last.flags.contains(TcpFlags::FIN));
    last.seq.wrapping_add(last.len as u32).wrapping_add(ctl)
}

/// When the last segment from the other side reached `side` (the wire has no rate limit).
fn last_arrival(p: &Pair, side: usize) -> Instant {
    let last = p
        .log
        .iter()
        .rev()
        .find(|l| l.from != side && !l.dropped)
        .unwrap();
    last.at + p.wire.delay
}

/// Connects, moves a few bytes each way and lets every ACK settle.
fn connected_and_quiet(p: &mut Pair) -> (ConnectionHandle, ConnectionHandle) {
    let (a, b) = p.connected();
    let mut buf = [0u8; 16];
    p.a().send(a, b"ping").unwrap();
    assert!(p.run_until(Duration::from_secs(1), |p| {
        p.stacks[1].recv(b, &mut buf).is_ok()
    }));
    p.b().send(b, b"pong").unwrap();
    assert!(p.run_until(Duration::from_secs(1), |p| {
        p.stacks[0].recv(a, &mut buf).is_ok()
    }));
    p.run_for(Duration::from_secs(1));
    (a, b)
}

#[test]
fn keepalive_probes_an_idle_connection_and_the_answer_keeps_it_up() {
    let mut p = Pair::new(
        keepalive_config(),
        TcpConfig::default(),
        WireConfig::default(),
    );
    let (a, b) = connected_and_quiet(&mut p);
    let snd_nxt = wire_snd_nxt(&p, 0);
    let rcv_nxt = wire_snd_nxt(&p, 1);
    let idle_since = last_arrival(&p, 0);
    let quiet = p.log.len();

    p.run_for(Duration::from_secs(100));
    let after: Vec<_> = p.log[quiet..].to_vec();
    let probes: Vec<_> = after.iter().filter(|l| l.from == 0).collect();
    // RFC 9293 §3.8.4: SEG.SEQ = SND.NXT - 1, carrying no data (or one garbage byte).
    for probe in &probes {
        assert_eq!(probe.seq, snd_nxt.wrapping_sub(1), "{probe:?}");
        assert!(probe.len <= 1, "{probe:?}");
        assert!(probe.flags.contains(TcpFlags::ACK));
        assert_eq!(probe.ack, rcv_nxt);
    }
    // The first probe after IDLE of silence; each answer restarts the idle period, so the
    // next comes IDLE after the answer arrived (one RTT of 20 ms later), not after INTERVAL.
    assert_eq!(probes.len(), 3, "{probes:?}");
    assert_near(probes[0].at - idle_since, IDLE, "first probe");
    for w in probes.windows(2) {
        assert_near(
            w[1].at - w[0].at,
            IDLE + 2 * p.wire.delay,
            "between answered probes",
        );
    }
    // B answers each probe at once with an ACK of its RCV.NXT (the probe is below it).
    let answers: Vec<_> = after.iter().filter(|l| l.from == 1).collect();
    assert_eq!(answers.len(), probes.len());
    for (probe, answer) in probes.iter().zip(&answers) {
        assert_eq!(answer.flags, TcpFlags::ACK);
        assert_eq!(answer.ack, snd_nxt);
        assert_eq!(answer.len, 0);
        assert_eq!(answer.at - probe.at, p.wire.delay);
    }
    eprintln!(
        "keepalive: probes at +{:?} after idle, then every {:?}",
        probes[0].at - idle_since,
        probes[1].at - probes[0].at
    );

    assert!(!p.events[0].iter().any(|e| matches!(e, Event::Closed(..))));
    assert_eq!(p.a().tcp_info(a).unwrap().state, TcpState::Established);
    assert_eq!(p.b().tcp_info(b).unwrap().state, TcpState::Established);
    // The connection still carries data.
    let mut flow = Flow::new(3, 10_000);
    assert!(p.run_until(Duration::from_secs(5), |p| {
        flow.pump_send(&mut p.stacks[0], a);
        flow.pump_recv(&mut p.stacks[1], b);
        flow.eof
    }));
    assert_eq!(flow.received, 10_000);
}

#[test]
fn keepalive_times_out_after_unanswered_probes() {
    let mut p = Pair::new(
        keepalive_config(),
        TcpConfig::default(),
        WireConfig::default(),
    );
    let (a, b) = connected_and_quiet(&mut p);
    let snd_nxt = wire_snd_nxt(&p, 0);
    let idle_since = last_arrival(&p, 0);
    let quiet = p.log.len();
    // The peer vanishes.
    p.blackhole = [true, true];

    assert!(p.run_until(Duration::from_secs(600), |p| {
        p.has_event(0, Event::Closed(a, CloseReason::TimedOut))
    }));
    let closed_after = p.now - idle_since;
    // RFC 9293 §3.8.4 / Linux: IDLE, then PROBES probes INTERVAL apart, the connection
    // dropped INTERVAL after the last one.
    assert_near(closed_after, IDLE + INTERVAL * PROBES, "time to close");
    let probes: Vec<_> = p.log[quiet..].iter().filter(|l| l.from == 0).collect();
    assert_eq!(probes.len(), PROBES as usize, "{probes:?}");
    for (k, probe) in probes.iter().enumerate() {
        assert!(probe.dropped);
        assert_eq!(probe.seq, snd_nxt.wrapping_sub(1));
        assert!(probe.len <= 1);
        assert_near(
            probe.at - idle_since,
            IDLE + INTERVAL * k as u32,
            "unanswered probe",
        );
    }
    assert!(!p.log[quiet..].iter().any(|l| l.from == 1));
    eprintln!(
        "keepalive: {} unanswered probes, closed {closed_after:?} after the last arrival",
        probes.len()
    );
    let mut buf = [0u8; 4];
    assert!(matches!(
        p.a().recv(a, &mut buf),
        Err(RecvError::Closed | RecvError::InvalidHandle)
    ));
    // Without keep-alive the peer does not notice anything.
    assert_eq!(p.b().tcp_info(b).unwrap().state, TcpState::Established);
}

#[test]
fn idle_connection_without_keepalive_stays_silent() {
    let mut p = Pair::new(
        TcpConfig::default(),
        TcpConfig::default(),
        WireConfig::default(),
    );
    let (a, b) = connected_and_quiet(&mut p);
    let quiet = p.log.len();
    assert_eq!(p.a().poll_timeout(), None);
    assert_eq!(p.b().poll_timeout(), None);
    p.run_for(Duration::from_secs(3 * 3600));
    assert_eq!(p.log.len(), quiet, "{:?}", &p.log[quiet..]);
    assert_eq!(p.a().tcp_info(a).unwrap().state, TcpState::Established);
    assert_eq!(p.b().tcp_info(b).unwrap().state, TcpState::Established);
    assert!(
        p.events
            .iter()
            .flatten()
            .all(|e| !matches!(e, Event::Closed(..)))
    );
}

const TUNE_INITIAL: usize = 16 * 1024;
const TUNE_MAX: usize = 512 * 1024;
const BULK: u64 = 2 * 1024 * 1024;

#[derive(Debug)]
struct Bulk {
    elapsed: Duration,
    /// Largest `tcp_info().rcv_buffer` of the receiver during the transfer.
    max_rcv_buffer: usize,
    /// Largest window the receiver advertised (scaled), bytes.
    max_window: usize,
}

/// 2 MiB from A to B over 100 Mbit/s with 50 ms each way (BDP 1.25 MB); B's receive
/// buffer starts at 16 KiB and may grow to `recv_max`.
fn bulk(recv_max: usize) -> Bulk {
    let sender = TcpConfig {
        send_buffer: 1 << 20,
        ..TcpConfig::default()
    };
    let receiver = TcpConfig {
        recv_buffer: TUNE_INITIAL,
        recv_buffer_max: recv_max,
        ..TcpConfig::default()
    };
    let wire = WireConfig {
        delay: Duration::from_millis(50),
        rate: Some(100_000_000),
        ..WireConfig::default()
    };
    let mut p = Pair::new(sender, receiver, wire);
    let (a, b) = p.connected();
    let info = p.b().tcp_info(b).unwrap();
    assert_eq!(info.rcv_buffer, TUNE_INITIAL);
    let wscale = info.wscale.map_or(0, |(ours, _)| ours);
    let start = p.now;
    let from = p.log.len();
    let mut flow = Flow::new(1, BULK);
    let mut max_rcv_buffer = 0;
    assert!(p.run_until(Duration::from_secs(60), |p| {
        flow.pump_send(&mut p.stacks[0], a);
        flow.pump_recv(&mut p.stacks[1], b);
        if let Some(info) = p.stacks[1].tcp_info(b) {
            max_rcv_buffer = max_rcv_buffer.max(info.rcv_buffer);
        }
        flow.eof
    }));
    assert_eq!(flow.received, BULK);
    let max_window = p.log[from..]
        .iter()
        .filter(|l| l.from == 1)
        .map(|l| usize::from(l.window) << wscale)
        .max()
        .unwrap();
    Bulk {
        elapsed: p.now - start,
        max_rcv_buffer,
        max_window,
    }
}

#[test]
fn receive_buffer_autotuning_opens_the_window_up_to_the_maximum() {
    let tuned = bulk(TUNE_MAX);
    let capped = bulk(TUNE_INITIAL);
    let goodput = |b: &Bulk| BULK as f64 * 8.0 / b.elapsed.as_secs_f64() / 1e6;
    eprintln!(
        "autotuning: tuned {tuned:?} ({:.1} Mbit/s), capped {capped:?} ({:.1} Mbit/s)",
        goodput(&tuned),
        goodput(&capped)
    );
    assert!(tuned.max_rcv_buffer > TUNE_INITIAL);
    assert!(tuned.max_rcv_buffer <= TUNE_MAX);
    // The window the sender sees follows the buffer (the BDP exceeds the maximum).
    assert!(tuned.max_window > 4 * TUNE_INITIAL, "{tuned:?}");
    assert!(tuned.max_window <= TUNE_MAX, "{tuned:?}");
    assert_eq!(capped.max_rcv_buffer, TUNE_INITIAL);
    assert!(capped.max_window <= TUNE_INITIAL, "{capped:?}");
    // A 16 KiB window over a 100 ms RTT allows about 1.3 Mbit/s.
    assert!(
        goodput(&tuned) > 5.0 * goodput(&capped),
        "tuned {tuned:?}, capped {capped:?}"
    );
}

const PACED_BULK: u64 = 512 * 1024;

/// Data segments A emits moving `PACED_BULK` bytes over an infinitely fast wire with 50 ms
/// each way: (departure, payload length), in order.
fn departures(pacing: bool) -> Vec<(Instant, usize)> {
    let sender = TcpConfig {
        pacing,
        send_buffer: 1 << 20,
        ..TcpConfig::default()
    };
    let wire = WireConfig {
        delay: Duration::from_millis(50),
        ..WireConfig::default()
    };
    let mut p = Pair::new(sender, TcpConfig::default(), wire);
    let (a, b) = p.connected();
    let from = p.log.len();
    let mut flow = Flow::new(1, PACED_BULK);
    assert!(p.run_until(Duration::from_secs(30), |p| {
        flow.pump_send(&mut p.stacks[0], a);
        flow.pump_recv(&mut p.stacks[1], b);
        flow.eof
    }));
    assert_eq!(flow.received, PACED_BULK);
    let info = p.a().tcp_info(a).unwrap();
    assert_eq!(info.retransmits, 0);
    eprintln!("pacing {pacing}: final cwnd {}", info.cwnd);
    p.log[from..]
        .iter()
        .filter(|l| l.from == 0 && l.len > 0)
        .map(|l| (l.at, l.len))
        .collect()
}

/// Sizes of the groups of segments that left at the same instant, in order.
fn bursts(deps: &[(Instant, usize)]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for (k, (at, _)) in deps.iter().enumerate() {
        if k > 0 && deps[k - 1].0 == *at {
            *out.last_mut().unwrap() += 1;
        } else {
            out.push(1);
        }
    }
    out
}

#[test]
fn pacing_spreads_segments_and_no_pacing_sends_window_bursts() {
    let paced = departures(true);
    let unpaced = departures(false);
    let paced_bursts = bursts(&paced);
    let unpaced_bursts = bursts(&unpaced);
    eprintln!(
        "pacing: {} segments at {} instants, largest burst {:?}; without: {} segments, bursts {unpaced_bursts:?}",
        paced.len(),
        paced_bursts.len(),
        paced_bursts.iter().max(),
        unpaced.len()
    );

    // Without pacing the initial window (10 segments) leaves at one instant, and each
    // round trip's ACKs release a whole, larger window at once. (On this infinitely fast
    // wire a window arrives at one instant and is answered by a single ACK, which slow start
    // credits with at most 2 segments, RFC 3465 §2.3: the window grows by 2 per round trip.)
    assert_eq!(unpaced_bursts[0], 10);
    let (last, whole) = unpaced_bursts.split_last().unwrap();
    assert!(whole.windows(2).all(|w| w[1] > w[0]), "{unpaced_bursts:?}");
    assert!(*last <= whole[whole.len() - 1]);
    assert!(unpaced_bursts.len() <= 20, "{unpaced_bursts:?}");

    // With pacing the initial window is spread over the round trip: in slow start the
    // rate is 2·cwnd/SRTT = 2·14480 B / 100 ms, so a full segment every 5 ms (the first
    // gap is 1 ms shorter: the pacer allows 1 ms of credit).
    let first: Vec<Duration> = paced[..10].windows(2).map(|w| w[1].0 - w[0].0).collect();
    eprintln!("pacing: first-window gaps {first:?}");
    assert_eq!(first[0], Duration::from_millis(4));
    for gap in &first[1..] {
        assert_eq!(*gap, Duration::from_millis(5));
    }
    // Never more than a few segments at one instant: the pacer's 1 ms of credit is worth
    // at most 2·cwnd·1 ms/SRTT, under 6 segments even at the final cwnd of ~300 segments.
    assert!(
        paced_bursts.iter().all(|&n| n <= 4),
        "paced bursts {paced_bursts:?}"
    );
    // Most segments leave on their own.
    let alone = paced_bursts.iter().filter(|&&n| n == 1).count();
    assert!(
        alone * 10 >= paced.len() * 7,
        "paced bursts {paced_bursts:?}"
    );
}
