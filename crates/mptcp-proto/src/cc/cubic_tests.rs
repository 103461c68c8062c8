//! Unit tests of [`Cubic`](super::Cubic): the RFC 9438 arithmetic checked against numbers
//! computed by hand from its formulas, and HyStart++ as the controller applies it.

use super::*;

const MSS: usize = 1000;

fn ctx(flight: usize, srtt_ms: u64) -> CcContext<'static> {
    CcContext {
        mss: MSS,
        srtt: Some(Duration::from_millis(srtt_ms)),
        min_rtt: Some(Duration::from_millis(srtt_ms)),
        bytes_in_flight: flight,
        siblings: &[],
    }
}

fn ack(bytes: usize, rtt_ms: u64) -> AckEvent {
    AckEvent {
        bytes_acked: bytes,
        rtt_sample: Some(Duration::from_millis(rtt_ms)),
        app_limited: false,
    }
}

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// A CUBIC without HyStart++ in congestion avoidance at `segments`·MSS.
fn in_ca(segments: usize) -> Cubic {
    let mut cubic = Cubic::with_hystart(MSS, false);
    cubic.state.cwnd = segments * MSS;
    cubic.state.ssthresh = segments * MSS;
    cubic
}

/// A CUBIC that lost a segment at 100 segments (flight 100) at 10 s and recovered: cwnd 70.
fn after_loss_at_100() -> Cubic {
    let mut cubic = in_ca(100);
    let loss = CongestionEvent::Loss { sent_at: t(9_900) };
    cubic.on_congestion_event(t(10_000), loss, &ctx(100 * MSS, 100));
    cubic.on_recovery_end(t(10_500), &ctx(70 * MSS, 100));
    cubic
}

/// `rounds` rounds of ACKs spread evenly over `rtt_ms`, starting at `start_ms`; each round
/// acknowledges the window it started with, one segment per ACK (the last one partial).
fn ack_rounds(cubic: &mut Cubic, start_ms: u64, rounds: u64, rtt_ms: u64) -> u64 {
    let mut now_us = start_ms * 1000;
    for _ in 0..rounds {
        let window = cubic.window();
        let n = window.div_ceil(MSS);
        for i in 0..n {
            now_us += rtt_ms * 1000 / n as u64;
            let bytes = MSS.min(window - i * MSS);
            let c = ctx(window, rtt_ms);
            cubic.on_ack(Instant::from_micros(now_us), &ack(bytes, rtt_ms), &c);
        }
    }
    now_us / 1000
}

#[test]
fn cube_root_is_exact_enough() {
    assert!(close(cube_root(75.0), 4.217163326508746));
    assert!(close(cube_root(-8.0), -2.0));
    assert!(close(cube_root(1e-9), 1e-3));
    assert!(close(cube_root(3.0 / 0.4), 1.9574338205844317));
    assert_eq!(cube_root(0.0), 0.0);
}

#[test]
fn constants_follow_rfc_9438() {
    assert!(close(ALPHA, 0.9 / 1.7));
    assert_eq!((C, BETA), (0.4, 0.7));
}

#[test]
fn slow_start_without_hystart_is_byte_counted_and_capped() {
    let mut cubic = Cubic::with_hystart(MSS, false);
    assert_eq!(cubic.window(), 10 * MSS);
    cubic.on_ack(t(1), &ack(MSS, 20), &ctx(9 * MSS, 20));
    assert_eq!(cubic.window(), 11 * MSS);
    cubic.on_ack(t(2), &ack(5 * MSS, 20), &ctx(9 * MSS, 20));
    assert_eq!(cubic.window(), 13 * MSS);
    cubic.state.ssthresh = 13 * MSS + 10;
    cubic.on_ack(t(3), &ack(MSS, 20), &ctx(9 * MSS, 20));
    assert_eq!(cubic.window(), 13 * MSS + 10);
    assert!(!cubic.in_slow_start());
}

#[test]
fn loss_is_a_multiplicative_decrease_by_beta() {
    let cubic = after_loss_at_100();
    assert_eq!((cubic.window(), cubic.ssthresh()), (70 * MSS, 70 * MSS));
    assert!(close(cubic.state.w_max, 100.0));
    assert!(close(cubic.state.cwnd_prior, 100.0));
    // ssthresh uses the flight, W_max the window (RFC 9438 §4.6).
    let mut cubic = in_ca(100);
    let loss = CongestionEvent::Loss { sent_at: t(0) };
    cubic.on_congestion_event(t(5), loss, &ctx(50 * MSS, 100));
    assert_eq!((cubic.window(), cubic.ssthresh()), (35 * MSS, 35 * MSS));
    assert!(close(cubic.state.w_max, 100.0));
    // Floors: 2 segments on loss; on ECN cwnd may go to 1 segment, ssthresh stays at 2.
    let mut cubic = in_ca(10);
    cubic.on_congestion_event(t(5), loss, &ctx(2 * MSS, 100));
    assert_eq!((cubic.window(), cubic.ssthresh()), (2 * MSS, 2 * MSS));
    let mut cubic = in_ca(10);
    let ecn = CongestionEvent::Ecn { sent_at: t(0) };
    cubic.on_congestion_event(t(5), ecn, &ctx(2 * MSS, 100));
    assert_eq!((cubic.window(), cubic.ssthresh()), (1400, 2 * MSS));
}

#[test]
fn a_flight_swollen_by_sacked_bytes_does_not_raise_the_window() {
    // SND.NXT − SND.UNA is four windows: the bytes SACKed above a hole that waits for its
    // retransmission. The decrease starts from the window, never from more.
    let mut cubic = in_ca(50);
    let loss = CongestionEvent::Loss { sent_at: t(0) };
    cubic.on_congestion_event(t(5), loss, &ctx(200 * MSS, 100));
    assert_eq!((cubic.window(), cubic.ssthresh()), (35 * MSS, 35 * MSS));
    let mut cubic = in_ca(50);
    cubic.on_congestion_event(t(5), CongestionEvent::Timeout, &ctx(200 * MSS, 100));
    assert_eq!((cubic.window(), cubic.ssthresh()), (MSS, 35 * MSS));
}

#[test]
fn reacts_once_per_window() {
    let mut cubic = after_loss_at_100();
    let old = CongestionEvent::Loss { sent_at: t(9_999) };
    cubic.on_congestion_event(t(10_600), old, &ctx(70 * MSS, 100));
    assert_eq!(cubic.window(), 70 * MSS);
    let new = CongestionEvent::Loss { sent_at: t(10_000) };
    cubic.on_congestion_event(t(10_600), new, &ctx(70 * MSS, 100));
    assert_eq!(cubic.window(), 49 * MSS);
}

#[test]
fn k_and_the_window_follow_the_cubic_curve() {
    let mut cubic = after_loss_at_100();
    // First CA ACK at 11 s: the epoch starts with cwnd_epoch = 70, W_max = 100:
    // K = ∛((100 − 70) / 0.4) = ∛75 = 4.217163326508746 s.
    cubic.on_ack(t(11_000), &ack(MSS, 100), &ctx(70 * MSS, 100));
    assert!(close(cubic.state.k, 4.217163326508746));
    assert!(close(cubic.w_cubic(0.0), 70.0));
    assert!(close(cubic.w_cubic(cubic.state.k), 100.0));
    assert!(close(cubic.w_cubic(1.0), 86.68076383512988));
    // At t = 0, W_cubic(0) = 70 < W_est = 70 + 0.5294/70: Reno-friendly, cwnd = W_est.
    assert!(close(cubic.state.w_est, 70.00756302521009));
    assert_eq!(cubic.window(), 70_007);
    // At t = 1 s with srtt = 100 ms: target = W_cubic(1.1) = 87.88457465954372, and
    // cwnd += (target − cwnd) / cwnd per segment: (87.8846 − 70.007) / 70.007 · 1000 bytes.
    cubic.on_ack(t(12_000), &ack(MSS, 100), &ctx(70 * MSS, 100));
    assert!(close(cubic.state.w_est, 70.01512529419327));
    assert_eq!(cubic.window(), 70_007 + 255);
    // The target is capped at 1.5·cwnd: far beyond K the curve is steep.
    let before = cubic.window();
    cubic.on_ack(t(30_000), &ack(MSS, 100), &ctx(70 * MSS, 100));
    assert_eq!(cubic.window(), before + 500);
}

#[test]
fn concave_growth_reaches_w_max_around_k() {
    let mut cubic = after_loss_at_100();
    // RTT 100 ms: ~42 rounds until K; the window then is about W_max.
    let end = ack_rounds(&mut cubic, 11_000, 42, 100);
    let t_end = (end - 11_000) as f64 / 1000.0;
    assert!((t_end - cubic.state.k).abs() < 0.3, "t {t_end}");
    let cwnd = cubic.window() as f64 / MSS as f64;
    assert!((99.0..=101.5).contains(&cwnd), "cwnd {cwnd}");
    // The growth slows around W_max (the plateau): less than 1 segment per round there.
    let before = cubic.window();
    ack_rounds(&mut cubic, end, 2, 100);
    assert!(cubic.window() - before < 2 * MSS);
}

#[test]
fn reno_friendly_region_takes_over_with_small_rtt() {
    // RTT 1 ms: the curve moves 3·C·K²·0.001 ≈ 0.02 segment per RTT, W_est 0.53.
    let mut cubic = after_loss_at_100();
    let end = ack_rounds(&mut cubic, 11_000, 20, 1);
    let t_end = (end - 11_000) as f64 / 1000.0;
    assert!(cubic.w_cubic(t_end) < cubic.state.w_est);
    assert_eq!(cubic.window(), (cubic.state.w_est * MSS as f64) as usize);
    let grown = cubic.window() as f64 / MSS as f64 - 70.0;
    assert!((grown - 20.0 * ALPHA).abs() < 0.2, "grew {grown}");
    // With RTT 100 ms the cubic curve is ahead of W_est instead.
    let mut cubic = after_loss_at_100();
    ack_rounds(&mut cubic, 11_000, 20, 100);
    assert!(cubic.window() as f64 / MSS as f64 > 70.0 + 20.0 * ALPHA + 5.0);
}

#[test]
fn reno_friendly_alpha_becomes_one_past_cwnd_prior() {
    // cwnd 10 → 7 (cwnd_prior 10). With RTT 1 ms the window grows α = 0.53 per round
    // until W_est reaches 10, then 1 per round.
    let mut cubic = in_ca(10);
    let loss = CongestionEvent::Loss { sent_at: t(0) };
    cubic.on_congestion_event(t(1), loss, &ctx(10 * MSS, 1));
    cubic.on_recovery_end(t(2), &ctx(7 * MSS, 1));
    let end = ack_rounds(&mut cubic, 10, 8, 1);
    let w = cubic.state.w_est;
    assert!(w >= 10.0, "W_est {w}");
    let before = cubic.window();
    ack_rounds(&mut cubic, end, 10, 1);
    let grown = (cubic.window() - before) as f64 / MSS as f64;
    assert!((grown - 10.0).abs() < 0.5, "grew {grown}");
}

#[test]
fn fast_convergence_lowers_w_max() {
    let mut cubic = after_loss_at_100();
    cubic.state.cwnd = 80 * MSS;
    let loss = CongestionEvent::Loss { sent_at: t(20_000) };
    cubic.on_congestion_event(t(20_100), loss, &ctx(80 * MSS, 100));
    // cwnd 80 < W_max 100: W_max = 80 · (1 + 0.7) / 2 = 68.
    assert!(close(cubic.state.w_max, 68.0));
    assert!(close(cubic.state.cwnd_prior, 80.0));
    assert_eq!(cubic.window(), 56 * MSS);
    // K then is ∛((68 − 56) / 0.4) = ∛30.
    cubic.on_recovery_end(t(20_200), &ctx(56 * MSS, 100));
    cubic.on_ack(t(20_300), &ack(MSS, 100), &ctx(56 * MSS, 100));
    assert!(close(cubic.state.k, 3.1072325059538586));
    // A window above W_max sets W_max to it.
    cubic.state.cwnd = 90 * MSS;
    let loss = CongestionEvent::Loss { sent_at: t(30_000) };
    cubic.on_congestion_event(t(30_100), loss, &ctx(90 * MSS, 100));
    assert!(close(cubic.state.w_max, 90.0));
}

#[test]
fn timeout_collapses_and_restarts_the_curve() {
    let mut cubic = in_ca(100);
    cubic.on_congestion_event(t(1_000), CongestionEvent::Timeout, &ctx(100 * MSS, 100));
    assert_eq!((cubic.window(), cubic.ssthresh()), (MSS, 70 * MSS));
    // A repeated timeout keeps ssthresh.
    cubic.on_congestion_event(t(3_000), CongestionEvent::Timeout, &ctx(100 * MSS, 100));
    assert_eq!((cubic.window(), cubic.ssthresh()), (MSS, 70 * MSS));
    // Slow start with L = 1 segment up to ssthresh.
    cubic.on_ack(t(3_100), &ack(4 * MSS, 100), &ctx(0, 100));
    assert_eq!(cubic.window(), 2 * MSS);
    while cubic.in_slow_start() {
        cubic.on_ack(t(3_200), &ack(MSS, 100), &ctx(0, 100));
    }
    assert_eq!(cubic.window(), 70 * MSS);
    // First CA ACK: K = 0 and W_max = cwnd_epoch (RFC 9438 §4.8).
    cubic.on_ack(t(3_300), &ack(MSS, 100), &ctx(0, 100));
    assert_eq!(cubic.state.k, 0.0);
    assert!(close(cubic.state.w_max, 70.0));
}

#[test]
fn spurious_congestion_restores_everything() {
    let mut cubic = after_loss_at_100();
    ack_rounds(&mut cubic, 11_000, 5, 100);
    let before = cubic.state;
    let loss = CongestionEvent::Loss { sent_at: t(11_400) };
    cubic.on_congestion_event(t(11_600), loss, &ctx(cubic.window(), 100));
    assert!(cubic.window() < before.cwnd);
    cubic.on_spurious_congestion(t(11_700), &ctx(cubic.window(), 100));
    assert_eq!(cubic.state, before);
    cubic.on_congestion_event(t(12_000), CongestionEvent::Timeout, &ctx(80 * MSS, 100));
    cubic.on_spurious_congestion(t(12_100), &ctx(MSS, 100));
    assert_eq!(cubic.state, before);
}

#[test]
fn app_limited_time_does_not_advance_the_curve() {
    let mut cubic = after_loss_at_100();
    cubic.on_ack(t(11_000), &ack(MSS, 100), &ctx(70 * MSS, 100));
    let cwnd = cubic.window();
    let limited = AckEvent {
        app_limited: true,
        ..ack(MSS, 100)
    };
    for i in 0..50 {
        cubic.on_ack(t(11_100 + i * 100), &limited, &ctx(10 * MSS, 100));
    }
    assert_eq!(cubic.window(), cwnd);
    // Five seconds later the epoch has moved with them: t is 0.1 s, not 5.1 s.
    cubic.on_ack(t(16_100), &ack(MSS, 100), &ctx(70 * MSS, 100));
    assert_eq!(cubic.state.epoch.unwrap().start, t(16_000));
    assert!(cubic.window() < cwnd + MSS);
}

/// Slow start with HyStart++: one round of `n` one-segment ACKs at `rtt_ms`, the flight after
/// each being `flight` segments. Returns the window growth of each ACK.
fn hystart_round(cubic: &mut Cubic, n: usize, rtt_ms: u64, flight: usize) -> Vec<usize> {
    (0..n)
        .map(|_| {
            let before = cubic.window();
            cubic.on_ack(t(0), &ack(MSS, rtt_ms), &ctx(flight * MSS, rtt_ms));
            cubic.window() - before
        })
        .collect()
}

#[test]
fn hystart_leaves_slow_start_on_rtt_increase_and_resumes_when_it_falls() {
    let mut cubic = Cubic::new(MSS);
    // Round 1: the initial window of 10 segments (9 in flight after the first ACK).
    cubic.on_ack(t(0), &ack(MSS, 20), &ctx(9 * MSS, 20));
    hystart_round(&mut cubic, 9, 20, 20);
    assert_eq!(cubic.window(), 20 * MSS);
    // Round 2 (20 segments) at 30 ms ≥ 20 + max(4, 20/8) ms: the 8th sample enters CSS;
    // from then on each segment acknowledged adds a quarter segment.
    let growth = hystart_round(&mut cubic, 12, 30, 20);
    assert_eq!(growth[..8], [MSS; 8]);
    assert_eq!(growth[8..], [MSS / 4; 4]);
    assert!(cubic.in_slow_start());
    assert!(matches!(cubic.state.hystart.phase(), Phase::Css { .. }));
    hystart_round(&mut cubic, 8, 30, 20);
    // Round 3 at 25 ms, below the 30 ms baseline: the exit was spurious; slow start resumes
    // after the 8th sample.
    let growth = hystart_round(&mut cubic, 10, 25, 20);
    assert_eq!(growth[..8], [MSS / 4; 8]);
    assert_eq!(growth[8..], [MSS; 2]);
    assert_eq!(cubic.state.hystart.phase(), Phase::SlowStart);
}

#[test]
fn hystart_enters_congestion_avoidance_after_five_css_rounds() {
    let mut cubic = Cubic::new(MSS);
    cubic.on_ack(t(0), &ack(MSS, 20), &ctx(9 * MSS, 20));
    hystart_round(&mut cubic, 9, 20, 20);
    // CSS from round 2; rounds 2..=6 complete it.
    for _ in 0..4 {
        hystart_round(&mut cubic, 20, 30, 20);
        assert!(cubic.in_slow_start());
    }
    hystart_round(&mut cubic, 19, 30, 20);
    assert!(cubic.in_slow_start());
    hystart_round(&mut cubic, 1, 30, 20);
    assert!(!cubic.in_slow_start());
    let cwnd = cubic.window();
    assert_eq!(cubic.ssthresh(), cwnd);
    // 10 + 10 (round 1) + 8 + 12/4 (round 2) + 4·20/4 (rounds 3–6) segments.
    assert_eq!(cwnd, 51 * MSS);
    // W_max was never set by a loss: the first epoch starts its curve at cwnd, K = 0, and
    // W_est ≥ cwnd_prior, so the Reno-friendly growth is a full segment per RTT.
    cubic.on_ack(t(1), &ack(MSS, 30), &ctx(cwnd, 30));
    assert_eq!(cubic.state.k, 0.0);
    assert!(close(cubic.state.w_max, cwnd as f64 / MSS as f64));
    // A loss now ends HyStart++ for good: the next slow start is standard.
    let loss = CongestionEvent::Loss { sent_at: t(1) };
    cubic.on_congestion_event(t(2), loss, &ctx(cwnd, 30));
    assert_eq!(cubic.state.hystart.phase(), Phase::Done);
}

#[test]
fn factory_builds_cubic() {
    let cc = CubicFactory.build(Instant::ZERO, 1460);
    assert_eq!((CubicFactory.name(), cc.name()), ("cubic", "cubic"));
    assert_eq!(cc.window(), 14_600);
}
