//! Behaviour tests of loss recovery: the tail loss probe and RACK time-based loss detection
//! (RFC 8985), and SACK-based recovery of several losses in one window (RFC 6675), checked
//! on the wire log against the RFCs' formulas and through `tcp_info`.
//!
//! The wire delays 10 ms each way, so every RTT sample is exactly 20 ms. Where exact
//! departure times matter, A (the sender) does not pace, so a window leaves at one instant.

mod common;

use std::time::Duration;

use common::pair::{Fate, Flow, Logged, Pair, WireConfig, pattern};
use mptcp_proto::cc;
use mptcp_proto::stack::{ConnectionHandle, TcpConfig};
use mptcp_proto::tcp::TcpInfo;
use mptcp_proto::time::Instant;

const DELAY: Duration = Duration::from_millis(10);
const RTT: Duration = Duration::from_millis(20);
/// Payload of a full segment: 1500-byte MTU, 40 bytes of headers, 12 of timestamps.
const SEG: usize = 1448;
/// RFC 8985 §7.2 WCDelAckT: the delayed-ACK allowance of a probe with one segment in flight.
const WC_DEL_ACK: Duration = Duration::from_millis(200);

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// A sender without pacing: every segment the windows allow leaves at once.
fn unpaced() -> TcpConfig {
    TcpConfig {
        pacing: false,
        ..TcpConfig::default()
    }
}

/// A (configured by `a`) connected to B (defaults) over the 10 ms wire, handshake settled.
fn connected(a: TcpConfig) -> (Pair, ConnectionHandle, ConnectionHandle) {
    let wire = WireConfig {
        delay: DELAY,
        ..WireConfig::default()
    };
    let mut p = Pair::new(a, TcpConfig::default(), wire);
    let (a, b) = p.connected();
    p.run_for(ms(100));
    let info = p.a().tcp_info(a).unwrap();
    assert_eq!(info.srtt, Some(RTT), "the SYN's RTT sample");
    (p, a, b)
}

/// Drops the first transmission of A's data segments number `which` (1-based, counted from
/// now; retransmissions count too, so only segments before any retransmission qualify).
fn drop_data_segments(p: &mut Pair, which: &[usize]) {
    let which = which.to_vec();
    let mut count = 0;
    p.hook = Some(Box::new(move |l: &Logged| {
        if l.from == 0 && l.len > 0 {
            count += 1;
            if which.contains(&count) {
                return Fate::Drop;
            }
        }
        Fate::Deliver
    }));
}

/// Delays A's data segment number `which` (1-based, counted from now) by `extra`.
fn delay_data_segment(p: &mut Pair, which: usize, extra: Duration) {
    let mut count = 0;
    p.hook = Some(Box::new(move |l: &Logged| {
        if l.from == 0 && l.len > 0 {
            count += 1;
            if count == which {
                return Fate::Delay(extra);
            }
        }
        Fate::Deliver
    }));
}

/// Queues `n` bytes of stream 1's pattern on A; they must all fit the send buffer.
fn send_pattern(p: &mut Pair, a: ConnectionHandle, n: usize) {
    let data: Vec<u8> = (0..n as u64).map(|i| pattern(1, i)).collect();
    assert_eq!(p.a().send(a, &data).unwrap(), n);
}

/// Runs until B has read `n` intact bytes of stream 1's pattern; returns when that was.
fn deliver(p: &mut Pair, b: ConnectionHandle, n: u64, limit: Duration) -> Instant {
    let mut flow = Flow::new(1, n);
    assert!(
        p.run_until(limit, |p| {
            flow.pump_recv(&mut p.stacks[1], b);
            flow.received == n
        }),
        "only {} of {n} bytes arrived",
        flow.received
    );
    p.now
}

/// A's data segments from log index `from` on (dropped ones included).
fn data_from_a(p: &Pair, from: usize) -> Vec<Logged> {
    p.log[from..]
        .iter()
        .filter(|l| l.from == 0 && l.len > 0)
        .cloned()
        .collect()
}

/// Departure times of every transmission of the data segment starting at `seq`.
fn sends_of(p: &Pair, seq: u32) -> Vec<Instant> {
    p.log
        .iter()
        .filter(|l| l.from == 0 && l.len > 0 && l.seq == seq)
        .map(|l| l.at)
        .collect()
}

/// When the last ACK from B that A received at or before `t` arrived.
fn last_ack_arrival(p: &Pair, t: Instant) -> Instant {
    p.log
        .iter()
        .filter(|l| l.from == 1 && !l.dropped && l.at + DELAY <= t)
        .map(|l| l.at + DELAY)
        .max()
        .unwrap()
}

/// Segments sent more than once, by start sequence number.
fn retransmitted(data: &[Logged]) -> Vec<u32> {
    let mut seqs: Vec<u32> = data.iter().map(|l| l.seq).collect();
    seqs.sort_unstable();
    let mut out: Vec<u32> = seqs
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    out.dedup();
    out
}

#[test]
fn tail_loss_probe_retransmits_the_last_segment_at_two_srtt() {
    let (mut p, a, b) = connected(unpaced());
    let rto = p.a().tcp_info(a).unwrap().rto;
    let start = p.log.len();
    // Ten full segments (the initial window); the last two are lost once.
    drop_data_segments(&mut p, &[9, 10]);
    let t0 = p.now;
    send_pattern(&mut p, a, 10 * SEG);
    p.run_for(ms(30));
    let srtt = p.a().tcp_info(a).unwrap().srtt.unwrap();
    let done = deliver(&mut p, b, 10 * SEG as u64, ms(5000));
    p.run_for(ms(500));

    let data = data_from_a(&p, start);
    let first: Vec<&Logged> = data.iter().take(10).collect();
    assert!(first.iter().all(|l| l.len == SEG && l.at == t0));
    let (s9, s10) = (first[8].seq, first[9].seq);
    // RFC 8985 §7.2: with two segments outstanding, PTO = 2·SRTT from the last ACK that
    // advanced SND.UNA (the ACK of segment 8, one RTT after the window left).
    let probe = &data[10];
    let ack_at = last_ack_arrival(&p, probe.at);
    let pto = 2 * srtt;
    println!(
        "window at +0; last ACK at +{:?}; SRTT {srtt:?}; PTO = 2·SRTT = {pto:?}; \
         probe at +{:?} ({} bytes at segment 10's seq: {}); RTO {rto:?} would fire at +{:?}",
        ack_at - t0,
        probe.at - t0,
        probe.len,
        probe.seq == s10,
        ack_at + rto - t0,
    );
    assert_eq!(ack_at - t0, RTT);
    assert_eq!(srtt, RTT);
    // §7.3: no new data to send, so the probe retransmits the highest-sequence segment.
    assert_eq!((probe.seq, probe.len), (s10, SEG));
    assert_eq!(probe.at, ack_at + pto);
    assert!(probe.at + ms(100) < ack_at + rto, "the probe beats the RTO");
    // The probe's SACK (one RTT later) shows segment 10 arrived; segment 9 was sent more than
    // RACK.rtt + reo_wnd before, so RACK marks it lost and it goes at once.
    let rtx9 = &data[11];
    println!(
        "segment 9 retransmitted at +{:?}; all data at B at +{:?}",
        rtx9.at - t0,
        done - t0
    );
    assert_eq!(rtx9.seq, s9);
    assert_eq!(rtx9.at, probe.at + RTT);
    assert_eq!(done, rtx9.at + DELAY);
    assert_eq!(data.len(), 12, "nothing else was sent");
    assert_eq!(retransmitted(&data), [s9, s10]);
    let info = p.a().tcp_info(a).unwrap();
    assert_eq!((info.timeouts, info.retransmits), (0, 2));
}

#[test]
fn tail_loss_probe_of_a_lone_segment_allows_for_a_delayed_ack() {
    // A 1 s RTO floor, so the 240 ms PTO comes first.
    let cfg = TcpConfig {
        min_rto: ms(1000),
        ..unpaced()
    };
    let (mut p, a, b) = connected(cfg);
    let info = p.a().tcp_info(a).unwrap();
    let (srtt, rto) = (info.srtt.unwrap(), info.rto);
    let start = p.log.len();
    drop_data_segments(&mut p, &[1]);
    let t0 = p.now;
    send_pattern(&mut p, a, 1000);
    let done = deliver(&mut p, b, 1000, ms(5000));
    p.run_for(ms(500));

    let data = data_from_a(&p, start);
    assert_eq!(data.len(), 2);
    assert!(data[0].dropped && data[0].at == t0);
    // RFC 8985 §7.2: one segment in flight, PTO = 2·SRTT + WCDelAckT.
    let pto = 2 * srtt + WC_DEL_ACK;
    println!(
        "SRTT {srtt:?}; PTO = 2·SRTT + WCDelAckT = {pto:?}; probe at +{:?}; \
         RTO {rto:?} would fire at +{:?}; data at B at +{:?}",
        data[1].at - t0,
        rto,
        done - t0
    );
    assert_eq!(rto, ms(1000));
    assert_eq!((data[1].seq, data[1].len), (data[0].seq, 1000));
    assert_eq!(data[1].at - t0, pto);
    assert_eq!(done, data[1].at + DELAY);
    let info = p.a().tcp_info(a).unwrap();
    assert_eq!((info.timeouts, info.retransmits), (0, 1));
    assert_eq!(info.bytes_in_flight, 0);
}

#[test]
fn tail_loss_probe_is_not_scheduled_after_the_rto() {
    // Default 200 ms RTO floor: 2·SRTT + WCDelAckT = 240 ms would come after the RTO, so the
    // probe goes at the RTO's expiry instead (RFC 8985 §7.2) — as a probe, not a timeout.
    let (mut p, a, b) = connected(unpaced());
    let rto = p.a().tcp_info(a).unwrap().rto;
    let start = p.log.len();
    drop_data_segments(&mut p, &[1]);
    let t0 = p.now;
    send_pattern(&mut p, a, 1000);
    deliver(&mut p, b, 1000, ms(5000));
    p.run_for(ms(500));
    let data = data_from_a(&p, start);
    println!("RTO {rto:?}; probe at +{:?}", data[1].at - t0);
    assert_eq!(rto, ms(200));
    assert_eq!(data.len(), 2);
    assert_eq!(data[1].at - t0, rto);
    let info = p.a().tcp_info(a).unwrap();
    assert_eq!((info.timeouts, info.retransmits), (0, 1));
}

#[test]
fn tail_loss_probe_does_not_postpone_the_rto_of_a_path_that_died() {
    let (mut p, a, _b) = connected(unpaced());
    let rto = p.a().tcp_info(a).unwrap().rto;
    let start = p.log.len();
    // Ten full segments; the path dies after the fifth: nothing of A's gets through again.
    let mut count = 0;
    p.hook = Some(Box::new(move |l: &Logged| {
        if l.from == 0 && l.len > 0 {
            count += 1;
            if count > 5 {
                return Fate::Drop;
            }
        }
        Fate::Deliver
    }));
    send_pattern(&mut p, a, 10 * SEG);
    // Up to the first timeout (the next comes 2·RTO later).
    p.run_for(ms(500));

    let data = data_from_a(&p, start);
    let probe = &data[10];
    let ack_at = last_ack_arrival(&p, probe.at);
    let srtt = p.a().tcp_info(a).unwrap().srtt.unwrap();
    // RFC 8985 §7.2: the probe goes 2·SRTT after the last ACK; §7.3: then the RTO, which
    // the probe leaves where that ACK armed it (RFC 6298 §5.3) rather than restarting it:
    // the first segment that never arrived goes again one RTO after the last ACK, not
    // 2·SRTT later (which, for MPTCP, is that much longer before a dead path's data moves).
    let timeout = &data[11];
    println!(
        "last ACK at +{:?}; probe at +{:?}; RTO {rto:?}: segment 6 again at +{:?}",
        ack_at - p.log[start].at,
        probe.at - p.log[start].at,
        timeout.at - p.log[start].at,
    );
    assert_eq!(probe.at, ack_at + 2 * srtt);
    assert_eq!(timeout.seq, data[5].seq);
    assert_eq!(timeout.at, ack_at + rto);
    assert_eq!(p.a().tcp_info(a).unwrap().timeouts, 1);
}

#[test]
fn tail_loss_probe_sends_new_data_when_there_is_some() {
    let (mut p, a, b) = connected(unpaced());
    let start = p.log.len();
    // Nine full segments and a 100-byte tail (segment 10) leave at once within the initial
    // window; the last two full segments and the tail are lost.
    drop_data_segments(&mut p, &[8, 9, 10]);
    let t0 = p.now;
    let first = 9 * SEG + 100;
    send_pattern(&mut p, a, first);
    p.run_for(ms(5));
    // 50 more bytes, which Nagle holds while the small tail is unacknowledged.
    let more: Vec<u8> = (first as u64..first as u64 + 50)
        .map(|i| pattern(1, i))
        .collect();
    assert_eq!(p.a().send(a, &more).unwrap(), 50);
    let total = first + 50;
    p.run_for(ms(25));
    let srtt = p.a().tcp_info(a).unwrap().srtt.unwrap();
    let done = deliver(&mut p, b, total as u64, ms(5000));
    p.run_for(ms(500));

    let data = data_from_a(&p, start);
    assert!(data[..9].iter().all(|l| l.len == SEG && l.at == t0));
    assert_eq!((data[9].len, data[9].at), (100, t0));
    let (s8, s9, s10) = (data[7].seq, data[8].seq, data[9].seq);
    let probe = &data[10];
    let ack_at = last_ack_arrival(&p, probe.at);
    println!(
        "last ACK at +{:?}; probe at +{:?}: {} new bytes at SND.NXT",
        ack_at - t0,
        probe.at - t0,
        probe.len
    );
    // RFC 8985 §7.3: new data is sent when there is some.
    assert_eq!(probe.seq, s10.wrapping_add(100));
    assert_eq!(probe.len, 50);
    assert_eq!(probe.at, ack_at + 2 * srtt);
    // Its SACK lets RACK mark the three holes lost; each goes once, at once.
    let rtx: Vec<(u32, Instant)> = data[11..].iter().map(|l| (l.seq, l.at)).collect();
    println!(
        "retransmissions at {:?}; all data at B at +{:?}",
        rtx.iter().map(|(_, t)| *t - t0).collect::<Vec<_>>(),
        done - t0
    );
    // Retransmission starts as the probe's SACK arrives; recovery (PRR) may spread the
    // three over the next ACKs.
    let at = probe.at + RTT;
    let seqs: Vec<u32> = rtx.iter().map(|r| r.0).collect();
    assert_eq!(seqs, [s8, s9, s10]);
    assert_eq!(rtx[0].1, at);
    assert!(rtx.iter().all(|r| r.1 >= at && r.1 <= at + RTT), "{rtx:?}");
    assert_eq!(done, rtx[2].1 + DELAY);
    let info = p.a().tcp_info(a).unwrap();
    assert_eq!((info.timeouts, info.retransmits), (0, 3));
}

#[test]
fn rack_marks_a_hole_lost_by_time_without_three_duplicate_acks() {
    let (mut p, a, b) = connected(unpaced());
    let min_rtt = p.a().tcp_info(a).unwrap().min_rtt.unwrap();
    let start = p.log.len();
    // Twenty segments; segment 8 of the initial window of ten is lost, so only two segments
    // (9 and 10) are SACKed above it before the window grows.
    drop_data_segments(&mut p, &[8]);
    let t0 = p.now;
    send_pattern(&mut p, a, 20 * SEG);
    let done = deliver(&mut p, b, 20 * SEG as u64, ms(5000));
    p.run_for(ms(500));

    let data = data_from_a(&p, start);
    let s8 = data[7].seq;
    let sends = sends_of(&p, s8);
    assert_eq!(sends.len(), 2, "segment 8 is retransmitted exactly once");
    let rtx = sends[1];
    // RFC 8985 §6.2: lost once RACK.rtt + RACK.reo_wnd has passed since it was sent, where
    // RACK.rtt is that of segment 10 (20 ms) and reo_wnd = min_rtt/4 (fewer than DupThresh
    // segments SACKed, no reordering seen).
    let reo_wnd = min_rtt / 4;
    // ACKs that A had received with the hole at SND.UNA; the first of them moved SND.UNA up
    // to it, so only the others are duplicates.
    let at_hole = p
        .log
        .iter()
        .filter(|l| l.from == 1 && l.ack == s8 && l.at + DELAY <= rtx)
        .count();
    assert!(at_hole >= 1, "the SACK of segments 9 and 10 came first");
    let dup_acks = at_hole - 1;
    println!(
        "segment 8 sent at +0, retransmitted at +{:?} = RACK.rtt {RTT:?} + reo_wnd \
         {reo_wnd:?}; duplicate ACKs before: {dup_acks}; all data at B at +{:?}",
        rtx - t0,
        done - t0
    );
    assert_eq!(sends[0], t0);
    assert_eq!(rtx - t0, RTT + reo_wnd);
    assert_eq!(reo_wnd, ms(5));
    assert!(dup_acks < 3);
    assert_eq!(retransmitted(&data), [s8]);
    let info = p.a().tcp_info(a).unwrap();
    assert_eq!((info.timeouts, info.retransmits), (0, 1));
}

#[test]
fn fast_retransmission_of_the_first_segment_restarts_the_retransmission_timer() {
    // No RTO floor: after a warm-up of exact 20 ms samples the RTO is SRTT plus a few ms,
    // as a per-ACK estimator makes it on any path whose RTT barely varies.
    let cfg = TcpConfig {
        min_rto: ms(1),
        ..unpaced()
    };
    let (mut p, a, b) = connected(cfg);
    for _ in 0..4 {
        send_pattern(&mut p, a, 20 * SEG);
        deliver(&mut p, b, 20 * SEG as u64, ms(1000));
        p.run_for(ms(100));
    }
    let info = p.a().tcp_info(a).unwrap();
    let (rto, reo_wnd) = (info.rto, info.min_rtt.unwrap() / 4);
    let flight = info.cwnd.min(info.snd_wnd) / SEG;
    // The ACK that reaches a hole arms the timer one RTT after the hole was sent; RACK sends
    // the hole again RACK.rtt + reo_wnd after that, and its ACK needs another RTT. A timer
    // left running from that ACK expires first when RTO < RTT + reo_wnd.
    assert!(rto < RTT + reo_wnd, "RTO {rto:?}");
    let start = p.log.len();
    // The third-last segment of a full window: two segments are SACKed above it, fewer than
    // DupThresh, so RACK waits out the reordering window.
    let lost = flight - 2;
    drop_data_segments(&mut p, &[lost]);
    let t0 = p.now;
    send_pattern(&mut p, a, flight * SEG);
    deliver(&mut p, b, (flight * SEG) as u64, ms(5000));
    p.run_for(ms(500));

    let data = data_from_a(&p, start);
    let hole = data[lost - 1].seq;
    let sends = sends_of(&p, hole);
    println!(
        "RTO {rto:?}; window of {flight} segments at +0; segment {lost} retransmitted at \
         +{:?}",
        sends.iter().map(|t| *t - t0).collect::<Vec<_>>()
    );
    assert_eq!(sends, [t0, t0 + RTT + reo_wnd]);
    // RFC 6298 §5.3 restarts the timer on the ACK that reaches the hole; restarted again
    // when the hole is retransmitted, it gives the retransmission a whole RTO to be
    // acknowledged, as RFC 6582 §3.2 step 5 does on a partial ACK.
    assert_eq!(retransmitted(&data), [hole]);
    let info = p.a().tcp_info(a).unwrap();
    assert_eq!(
        (info.timeouts, info.retransmits),
        (0, 1),
        "no spurious timeout"
    );
}

#[test]
fn a_timeout_during_recovery_does_not_raise_ssthresh_above_the_window() {
    let (mut p, a, b) = connected(unpaced());
    // Segment 31 is lost; when it goes again, the path's delay jumps by 300 ms for 100 ms
    // (a route change), so the RTO (200 ms) expires before the retransmission arrives, with
    // the segments after the hole SACKed and those sent since on their way.
    let mut count = 0;
    let mut hole = None;
    let mut spike_until = None;
    p.hook = Some(Box::new(move |l: &Logged| {
        if l.from == 0 && l.len > 0 {
            count += 1;
            if count == 31 {
                hole = Some(l.seq);
                return Fate::Drop;
            }
            if hole == Some(l.seq) {
                hole = None;
                spike_until = Some(l.at + ms(100));
            }
            if spike_until.is_some_and(|t| l.at < t) {
                return Fate::Delay(ms(300));
            }
        }
        Fate::Deliver
    }));
    let total = 2 << 20;
    let mut up = Flow::new(1, total);
    let mut shots = Vec::new();
    assert!(p.run_until(ms(20_000), |p| {
        up.pump_send(&mut p.stacks[0], a);
        up.pump_recv(&mut p.stacks[1], b);
        shots.push(p.stacks[0].tcp_info(a).unwrap());
        up.eof
    }));
    assert_eq!(up.received, total);
    let k = shots.iter().position(|i| i.timeouts == 1).unwrap();
    let (before, after) = (&shots[k - 1], &shots[k]);
    println!(
        "before the timeout: cwnd {}, ssthresh {}; after: cwnd {}, ssthresh {}",
        before.cwnd, before.ssthresh, after.cwnd, after.ssthresh
    );
    // FlightSize (SND.NXT − SND.UNA) at the timeout also counts the bytes SACKed above the
    // hole, well over the window; RFC 9438 §4.8 (with §4.6): ssthresh is β_cubic times the
    // window that met congestion, never more.
    assert_eq!(after.cwnd, SEG);
    assert!(
        after.ssthresh <= before.cwnd * 7 / 10,
        "ssthresh {} from a window of {}",
        after.ssthresh,
        before.cwnd
    );
    assert_eq!(shots.last().unwrap().timeouts, 1);
}

#[test]
fn reordering_within_the_reordering_window_is_not_taken_for_loss() {
    for (extra, spurious) in [(ms(3), false), (ms(8), true)] {
        let (mut p, a, b) = connected(unpaced());
        let before = p.a().tcp_info(a).unwrap();
        let reo_wnd = before.min_rtt.unwrap() / 4;
        let start = p.log.len();
        // Segment 8 of 20 arrives `extra` late, after 9 and 10.
        delay_data_segment(&mut p, 8, extra);
        let t0 = p.now;
        send_pattern(&mut p, a, 20 * SEG);
        deliver(&mut p, b, 20 * SEG as u64, ms(5000));
        p.run_for(ms(500));

        let data = data_from_a(&p, start);
        let sends = sends_of(&p, data[7].seq);
        let info = p.a().tcp_info(a).unwrap();
        println!(
            "segment 8 delayed {extra:?} (reo_wnd {reo_wnd:?}): its ACK at +{:?}, sent at \
             {:?}; retransmits {}, ssthresh {} -> {}",
            RTT + extra,
            sends.iter().map(|t| *t - t0).collect::<Vec<_>>(),
            info.retransmits,
            shown(before.ssthresh),
            shown(info.ssthresh)
        );
        assert_eq!(info.timeouts, 0);
        if spurious {
            // Later than RACK.rtt + reo_wnd: taken for a loss, exactly at the deadline.
            assert_eq!(sends, [t0, t0 + RTT + reo_wnd]);
            assert_eq!(info.retransmits, 1);
        } else {
            assert!(extra < reo_wnd);
            assert_eq!(sends, [t0]);
            assert_eq!(info.retransmits, 0);
            assert!(retransmitted(&data).is_empty());
            assert_eq!(info.ssthresh, before.ssthresh, "no congestion response");
        }
    }
}

/// ssthresh for printing.
fn shown(ssthresh: usize) -> String {
    if ssthresh == usize::MAX {
        "unset".into()
    } else {
        ssthresh.to_string()
    }
}

/// A's `tcp_info` after each step of a run.
struct Snapshot {
    at: Instant,
    info: TcpInfo,
}

#[test]
fn rfc6675_recovery_repairs_several_losses_in_one_window() {
    for name in ["reno", "cubic"] {
        let cfg = TcpConfig {
            congestion_control: cc::factory_by_name(name).unwrap(),
            ..TcpConfig::default()
        };
        let (mut p, a, b) = connected(cfg);
        let start = p.log.len();
        // Three holes in the third flight of slow start (segments 11–30 are the second).
        let lost = [31, 34, 37];
        drop_data_segments(&mut p, &lost);
        let t0 = p.now;
        let total = 300 * 1024;
        let mut up = Flow::new(1, total);
        let mut shots = Vec::new();
        assert!(p.run_until(ms(10_000), |p| {
            up.pump_send(&mut p.stacks[0], a);
            up.pump_recv(&mut p.stacks[1], b);
            shots.push(Snapshot {
                at: p.now,
                info: p.stacks[0].tcp_info(a).unwrap(),
            });
            up.eof
        }));
        assert_eq!(up.received, total);

        let data = data_from_a(&p, start);
        let holes: Vec<u32> = lost.iter().map(|&k| data[k - 1].seq).collect();
        let base = data[0].seq;
        // Each lost segment goes exactly twice; nothing else is retransmitted.
        assert_eq!(retransmitted(&data), holes);
        let rtx: Vec<Instant> = holes.iter().map(|&s| sends_of(&p, s)[1]).collect();
        assert!(rtx.windows(2).all(|w| w[0] <= w[1]), "in sequence order");
        let info = p.a().tcp_info(a).unwrap();
        assert_eq!(info.timeouts, 0, "{name}: no RTO");
        assert_eq!(info.retransmits, lost.len() as u64);

        // The reduction: the first snapshot with ssthresh set.
        let k = shots
            .iter()
            .position(|s| s.info.ssthresh != usize::MAX)
            .unwrap();
        let at_loss = &shots[k];
        let ssthresh = at_loss.info.ssthresh;
        // RFC 6675 §5 step 4.2 / RFC 5681 (4): ssthresh from FlightSize at the loss, which
        // is SND.NXT − SND.UNA just before the ACK that revealed it.
        let high = data
            .iter()
            .filter(|l| l.at < at_loss.at)
            .map(|l| l.seq.wrapping_add(l.len as u32).wrapping_sub(base))
            .max()
            .unwrap();
        let una = shots[k - 1].info.bytes_acked as u32;
        let flight = (high - una) as usize;
        let expected = if name == "reno" {
            (flight / 2).max(2 * SEG)
        } else {
            (flight / 10 * 7 + flight % 10 * 7 / 10).max(2 * SEG)
        };
        // Recovery ends once everything sent before it (up to RecoveryPoint) is ACKed.
        let end = shots
            .iter()
            .position(|s| s.info.bytes_acked >= u64::from(high))
            .unwrap();
        println!(
            "{name}: holes at +{:?}, retransmitted at {:?}; loss seen at +{:?}: FlightSize \
             {flight}, ssthresh {ssthresh} (expected {expected}), cwnd {}; recovery ends at \
             +{:?} with cwnd {} ssthresh {}; {} bytes in {:?}",
            lost.map(|k| data[k - 1].at - t0),
            rtx.iter().map(|t| *t - t0).collect::<Vec<_>>(),
            at_loss.at - t0,
            at_loss.info.cwnd,
            shots[end].at - t0,
            shots[end].info.cwnd,
            shots[end].info.ssthresh,
            total,
            p.now - t0
        );
        assert_eq!(ssthresh, expected, "{name}: ssthresh from FlightSize");
        // One reduction for the three losses, and no growth during recovery.
        for s in &shots[k..=end] {
            assert_eq!(s.info.ssthresh, ssthresh, "{name}: once per window");
            assert_eq!(s.info.cwnd, ssthresh, "{name}: cwnd = ssthresh in recovery");
        }
        assert!(rtx.iter().all(|&t| t < shots[end].at));
        assert_eq!(rtx[0], at_loss.at, "{name}: the first hole goes at once");
        // RFC 6675 §5 NextSeg: the lost segments go before any new data.
        let meanwhile: Vec<u32> = data
            .iter()
            .filter(|l| l.at >= rtx[0] && l.at <= rtx[2])
            .map(|l| l.seq)
            .collect();
        assert_eq!(meanwhile, holes, "{name}: only the holes, in order");
        // After recovery the window grows again from ssthresh.
        assert!(info.cwnd > ssthresh);
    }
}

/// A sender whose send buffer (4 MiB) lets its window run far past what the path holds, over
/// a 10 Mbit/s bottleneck with 70 ms each way and a drop-tail queue of 50 full-sized packets:
/// the path holds 175 KB in flight plus 75 KB queued, the SRTT climbs towards the 200 ms
/// RTO floor as the queue fills, and every congestion epoch ends in drops at the queue.
///
/// Recovering from those drops must cost about what the queue dropped: the overshoot of the
/// last slow-start round (at most the ~250 KB the path and its queue hold, 3 % of the 8 MiB)
/// plus a few segments per later epoch, so at most 4 % of the bytes sent; and the timer must
/// not expire while fast recovery repairs a hole, so there is no timeout. Before, the timer
/// armed by the ACK that reached the hole expired before the hole's retransmission could be
/// acknowledged (RTO ≈ SRTT here); the timeout went back over every unSACKed segment and set
/// ssthresh from a FlightSize swollen by the bytes SACKed above the hole — above the window
/// that had just overflowed the queue — so the next epoch overflowed it sooner: 22 % of the
/// bytes sent were retransmissions, with 11 timeouts, at 7.6 Mbit/s.
#[test]
fn a_large_send_buffer_over_a_shallow_queue_does_not_set_off_a_retransmission_storm() {
    const BYTES: u64 = 8 << 20;
    const RATE: u64 = 10_000_000;
    let sender = TcpConfig {
        send_buffer: 4 << 20,
        ..TcpConfig::default()
    };
    let wire = WireConfig {
        delay: ms(70),
        rate: Some(RATE),
        queue: 50 * 1500,
        ..WireConfig::default()
    };
    let mut p = Pair::new(sender, TcpConfig::default(), wire);
    let (a, b) = p.connected();
    let start = p.now;
    let mut flow = Flow::new(1, BYTES);
    assert!(p.run_until(Duration::from_secs(60), |p| {
        flow.pump_send(&mut p.stacks[0], a);
        flow.pump_recv(&mut p.stacks[1], b);
        flow.eof
    }));
    assert_eq!(flow.received, BYTES);
    let goodput = (BYTES * 8) as f64 / (p.now - start).as_secs_f64();
    let info = p.a().tcp_info(a).unwrap();
    let share = info.bytes_retransmitted as f64 / info.bytes_sent as f64;
    println!(
        "{} bytes sent, {} retransmitted ({:.2} %) in {} segments, {} timeouts; goodput \
         {:.2} Mbit/s",
        info.bytes_sent,
        info.bytes_retransmitted,
        share * 100.0,
        info.retransmits,
        info.timeouts,
        goodput / 1e6
    );
    assert_eq!(info.timeouts, 0, "no spurious timeout");
    assert!(share <= 0.04, "{:.2} % retransmitted", share * 100.0);
    // 1448 payload bytes per 1500-byte packet cap goodput at 96.5 % of the link; the slow
    // start and the epochs' reductions leave it above 85 %.
    assert!(
        goodput >= 0.85 * RATE as f64,
        "goodput {:.2} Mbit/s",
        goodput / 1e6
    );
}

/// Proportional Rate Reduction (RFC 6937): when many segments of one flight are lost at
/// once, RACK marks them all lost within a few ACKs and `pipe` falls far below the reduced
/// window. Sending `cwnd − pipe` would then let that whole difference out back to back, into
/// the queue that just overflowed. With PRR, pipe at or below ssthresh grows back by at most
/// what each ACK delivered plus one segment (PRR-SSRB, §3): B acknowledges each out-of-order
/// segment at once, so every ACK in recovery delivers one segment and A answers it with at
/// most two, the ACK clock of slow start rather than a burst. Everything is repaired once,
/// without a timeout.
///
/// A 10 Mbit/s bottleneck (with a queue deep enough not to drop) spaces the segments, so B
/// acknowledges them one or two at a time; A does not pace, so anything the windows allow
/// leaves at the instant an ACK arrives.
#[test]
fn many_losses_at_once_are_repaired_without_a_burst() {
    let wire = WireConfig {
        delay: DELAY,
        rate: Some(10_000_000),
        queue: 1000 * 1500,
        ..WireConfig::default()
    };
    let mut p = Pair::new(unpaced(), TcpConfig::default(), wire);
    let (a, b) = p.connected();
    let start = p.log.len();
    // Fifty segments in a row of the fourth flight of slow start (71–150): their first
    // transmissions
    // (retransmissions may go before the last of them leaves).
    let lost = 81..=130;
    let mut seen = std::collections::HashSet::new();
    let dropping = lost.clone();
    p.hook = Some(Box::new(move |l: &Logged| {
        if l.from == 0 && l.len > 0 && seen.insert(l.seq) && dropping.contains(&seen.len()) {
            return Fate::Drop;
        }
        Fate::Deliver
    }));
    let total = 600 * 1024;
    let mut up = Flow::new(1, total);
    assert!(p.run_until(ms(10_000), |p| {
        up.pump_send(&mut p.stacks[0], a);
        up.pump_recv(&mut p.stacks[1], b);
        up.eof
    }));
    assert_eq!(up.received, total);

    let data = data_from_a(&p, start);
    let mut firsts = std::collections::HashSet::new();
    let new: Vec<&Logged> = data.iter().filter(|l| firsts.insert(l.seq)).collect();
    let holes: Vec<u32> = lost.map(|k| new[k - 1].seq).collect();
    // Each lost segment goes exactly twice; nothing else is retransmitted.
    assert_eq!(retransmitted(&data), holes);
    let info = p.a().tcp_info(a).unwrap();
    assert_eq!(info.timeouts, 0, "no RTO");
    assert_eq!(info.retransmits, holes.len() as u64);

    // Recovery: from the first retransmission until the last hole is acknowledged.
    let first_rtx = sends_of(&p, holes[0])[1];
    let last_end = holes[holes.len() - 1].wrapping_add(SEG as u32);
    let repaired = p
        .log
        .iter()
        .find(|l| l.from == 1 && l.ack.wrapping_sub(last_end) as i32 >= 0 && l.at >= first_rtx)
        .map(|l| l.at + DELAY)
        .unwrap();
    let mut bursts: Vec<(Instant, usize)> = Vec::new();
    for l in data
        .iter()
        .filter(|l| l.at >= first_rtx && l.at <= repaired)
    {
        match bursts.last_mut() {
            Some((at, n)) if *at == l.at => *n += 1,
            _ => bursts.push((l.at, 1)),
        }
    }
    let sizes: Vec<usize> = bursts.iter().map(|&(_, n)| n).collect();
    println!(
        "recovery from +{:?} to +{:?}: segments sent per ACK {sizes:?}",
        first_rtx - data[0].at,
        repaired - data[0].at,
    );
    assert!(sizes.len() >= holes.len() / 2, "sent in response to ACKs");
    assert!(
        sizes.iter().all(|&n| n <= 2),
        "at most one delivered segment plus one per ACK: {sizes:?}"
    );
}
