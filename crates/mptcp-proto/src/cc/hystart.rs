//! HyStart++ (RFC 9406): leaving the initial slow start on a rise in delay, through a
//! Conservative Slow Start (CSS) that can still change its mind.
//!
//! RFC 9406 §4.2 measures rounds with sequence numbers: a round ends when the ACK for
//! `windowEnd` (SND.NXT at the round's start) arrives. The controller sees no sequence
//! numbers, only [`AckEvent`](super::AckEvent)s and the bytes in flight, so it counts the
//! same thing in bytes: at the start of a round, SND.NXT − SND.UNA is the flight, and the
//! round ends once that many bytes have been newly acknowledged.

use core::time::Duration;

/// RFC 9406 §4.3: lower bound of the delay-increase threshold.
const MIN_RTT_THRESH: Duration = Duration::from_millis(4);
/// RFC 9406 §4.3: upper bound of the delay-increase threshold.
const MAX_RTT_THRESH: Duration = Duration::from_millis(16);
/// RFC 9406 §4.3: the threshold is lastRoundMinRTT / MIN_RTT_DIVISOR, clamped.
const MIN_RTT_DIVISOR: u32 = 8;
/// RFC 9406 §4.3: RTT samples a round needs before it may be judged.
const N_RTT_SAMPLE: u32 = 8;
/// RFC 9406 §4.3: CSS grows the window this many times slower than slow start.
pub(crate) const CSS_GROWTH_DIVISOR: usize = 4;
/// RFC 9406 §4.3: rounds of CSS before congestion avoidance.
const CSS_ROUNDS: u32 = 5;

/// Where HyStart++ stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Standard slow start, watching the delay.
    SlowStart,
    /// Conservative Slow Start since the delay rose (RFC 9406 §4.2).
    Css {
        /// `cssBaselineMinRtt`: the round minimum that triggered CSS.
        baseline: Duration,
        /// Rounds completed in CSS, the round that entered it included.
        rounds: u32,
    },
    /// Finished: congestion avoidance, or a congestion event ended the initial slow start
    /// (RFC 9406 §4.2: HyStart++ is for the initial slow start only).
    Done,
}

/// The HyStart++ state of one subflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HyStart {
    phase: Phase,
    /// Bytes that end the current round, once one has started.
    round_bytes: Option<usize>,
    /// Bytes newly acknowledged since the round started.
    round_acked: usize,
    /// `lastRoundMinRTT`.
    last_round_min: Option<Duration>,
    /// `currentRoundMinRTT`.
    current_round_min: Option<Duration>,
    /// `rttSampleCount`.
    samples: u32,
}

impl Default for HyStart {
    fn default() -> Self {
        HyStart {
            phase: Phase::SlowStart,
            round_bytes: None,
            round_acked: 0,
            last_round_min: None,
            current_round_min: None,
            samples: 0,
        }
    }
}

impl HyStart {
    /// The current phase.
    pub(crate) fn phase(&self) -> Phase {
        self.phase
    }

    /// Ends HyStart++ for this connection (a congestion event, or congestion avoidance).
    pub(crate) fn finish(&mut self) {
        self.phase = Phase::Done;
    }

    /// Accounts one ACK of the initial slow start and returns the phase in which the window
    /// grows on it: RFC 9406 §4.2 grows the window first, then records the RTT sample and
    /// judges the round. `flight` is the bytes in flight after the ACK. When the returned
    /// phase is CSS and [`HyStart::phase`] is afterwards [`Phase::Done`], the caller enters
    /// congestion avoidance with `ssthresh = cwnd`.
    ///
    /// An ACK's RTT sample belongs to the round its data was sent in, so the ACK that
    /// completes a round is sampled and judged before the next round starts.
    pub(crate) fn on_ack(
        &mut self,
        bytes_acked: usize,
        rtt_sample: Option<Duration>,
        flight: usize,
    ) -> Phase {
        let grow_in = self.phase;
        if grow_in == Phase::Done {
            return grow_in;
        }
        if let Some(rtt) = rtt_sample {
            // RFC 9406 §4.2: currentRoundMinRTT = min(currentRoundMinRTT, currRTT).
            self.current_round_min = Some(self.current_round_min.map_or(rtt, |m| m.min(rtt)));
            self.samples += 1;
        }
        if self.samples >= N_RTT_SAMPLE {
            match (self.phase, self.current_round_min, self.last_round_min) {
                (Phase::SlowStart, Some(current), Some(last)) => {
                    // RFC 9406 §4.2: RttThresh = max(MIN_RTT_THRESH,
                    //     min(lastRoundMinRTT / MIN_RTT_DIVISOR, MAX_RTT_THRESH)); exit to
                    // CSS once currentRoundMinRTT >= lastRoundMinRTT + RttThresh.
                    let threshold = (last / MIN_RTT_DIVISOR).clamp(MIN_RTT_THRESH, MAX_RTT_THRESH);
                    if current >= last + threshold {
                        self.phase = Phase::Css {
                            baseline: current,
                            rounds: 0,
                        };
                    }
                }
                (Phase::Css { baseline, .. }, Some(current), _) if current < baseline => {
                    // RFC 9406 §4.2: the delay fell below cssBaselineMinRtt, so leaving slow
                    // start was spurious: resume it.
                    self.phase = Phase::SlowStart;
                }
                _ => {}
            }
        }
        // The first round is the initial window: what was in flight before the first ACK.
        self.round_acked = self.round_acked.saturating_add(bytes_acked);
        let round_end = *self
            .round_bytes
            .get_or_insert(flight.saturating_add(bytes_acked));
        if self.round_acked >= round_end {
            if let Phase::Css { rounds, .. } = &mut self.phase {
                *rounds += 1;
                if *rounds >= CSS_ROUNDS {
                    // RFC 9406 §4.2: "If CSS_ROUNDS rounds are complete, enter congestion
                    // avoidance by setting the ssthresh to the current cwnd."
                    self.phase = Phase::Done;
                    return grow_in;
                }
            }
            // RFC 9406 §4.2: a new round: windowEnd = SND.NXT, lastRoundMinRTT =
            // currentRoundMinRTT, currentRoundMinRTT = infinity, rttSampleCount = 0.
            self.round_bytes = Some(flight);
            self.round_acked = 0;
            self.last_round_min = self.current_round_min.take();
            self.samples = 0;
        }
        grow_in
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: usize = 1000;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    /// The first round of a connection: an initial window of `n` segments, one ACK each.
    fn first_round(h: &mut HyStart, n: usize, rtt: Duration) {
        h.on_ack(MSS, Some(rtt), (n - 1) * MSS);
        round_of(h, n - 1, n, rtt);
    }

    /// `acks` one-segment ACKs with the given RTT and `n` segments in flight after each.
    fn round_of(h: &mut HyStart, acks: usize, n: usize, rtt: Duration) -> Vec<Phase> {
        (0..acks)
            .map(|_| h.on_ack(MSS, Some(rtt), n * MSS))
            .collect()
    }

    /// A whole round of `n` segments.
    fn round(h: &mut HyStart, n: usize, rtt: Duration) -> Vec<Phase> {
        round_of(h, n, n, rtt)
    }

    #[test]
    fn rounds_are_counted_in_bytes_of_the_flight_at_their_start() {
        let mut h = HyStart::default();
        // The first ACK: 9 segments still in flight, so the first round is 10 segments.
        h.on_ack(MSS, Some(ms(50)), 9 * MSS);
        assert_eq!((h.round_bytes, h.round_acked), (Some(10 * MSS), MSS));
        for _ in 0..8 {
            h.on_ack(MSS, Some(ms(40)), 20 * MSS);
        }
        assert_eq!((h.current_round_min, h.samples), (Some(ms(40)), 9));
        // The 10th ACK is still sampled in round 1, then round 2 starts, 20 segments long.
        h.on_ack(MSS, Some(ms(30)), 20 * MSS);
        assert_eq!(h.last_round_min, Some(ms(30)));
        assert_eq!(h.current_round_min, None);
        assert_eq!(
            (h.round_bytes, h.round_acked, h.samples),
            (Some(20 * MSS), 0, 0)
        );
    }

    #[test]
    fn threshold_is_clamped_between_4_and_16_ms() {
        // last = 20 ms: 20/8 = 2.5 ms, raised to 4 ms; 80 ms: 10 ms; 400 ms: 50 → 16 ms.
        for (last, current, leaves) in [
            (20, 23, false),
            (20, 24, true),
            (80, 89, false),
            (80, 90, true),
            (400, 415, false),
            (400, 416, true),
        ] {
            let mut h = HyStart::default();
            first_round(&mut h, 10, ms(last));
            round(&mut h, 10, ms(current));
            let entered = matches!(h.phase(), Phase::Css { .. });
            assert_eq!(entered, leaves, "last {last} ms, current {current} ms");
        }
    }

    #[test]
    fn needs_eight_samples_in_the_round() {
        let mut h = HyStart::default();
        first_round(&mut h, 10, ms(20));
        // 7 slow samples: not judged yet.
        round_of(&mut h, 7, 10, ms(40));
        assert_eq!(h.phase(), Phase::SlowStart);
        // The 8th: enter CSS with the round minimum as baseline; this ACK grew in slow start.
        assert_eq!(h.on_ack(MSS, Some(ms(40)), 10 * MSS), Phase::SlowStart);
        let css = Phase::Css {
            baseline: ms(40),
            rounds: 0,
        };
        assert_eq!(h.phase(), css);
        assert_eq!(h.on_ack(MSS, Some(ms(40)), 10 * MSS), css);
        // ACKs without samples neither count nor judge.
        let mut h = HyStart::default();
        first_round(&mut h, 10, ms(20));
        for _ in 0..9 {
            h.on_ack(MSS, None, 10 * MSS);
        }
        assert_eq!(h.on_ack(MSS, Some(ms(40)), 10 * MSS), Phase::SlowStart);
        assert_eq!(h.phase(), Phase::SlowStart);
    }

    #[test]
    fn css_lasts_five_rounds_unless_the_delay_falls() {
        let mut h = HyStart::default();
        first_round(&mut h, 10, ms(20));
        round(&mut h, 10, ms(30));
        assert!(matches!(h.phase(), Phase::Css { rounds: 1, .. }));
        // Three more rounds complete without the delay falling: still CSS...
        for r in 2..5 {
            let phases = round(&mut h, 10, ms(30));
            assert!(phases.iter().all(|p| matches!(p, Phase::Css { .. })));
            assert!(matches!(h.phase(), Phase::Css { rounds, .. } if rounds == r));
        }
        // ...and the end of the fifth moves to congestion avoidance.
        let phases = round(&mut h, 10, ms(30));
        assert!(phases.iter().all(|p| matches!(p, Phase::Css { .. })));
        assert_eq!(h.phase(), Phase::Done);
        assert_eq!(h.on_ack(MSS, Some(ms(1)), 10 * MSS), Phase::Done);

        // A round whose minimum falls below the baseline resumes slow start.
        let mut h = HyStart::default();
        first_round(&mut h, 10, ms(20));
        round(&mut h, 10, ms(30));
        round_of(&mut h, 7, 10, ms(29));
        assert!(matches!(h.phase(), Phase::Css { .. }));
        assert!(matches!(
            h.on_ack(MSS, Some(ms(29)), 10 * MSS),
            Phase::Css { .. }
        ));
        assert_eq!(h.phase(), Phase::SlowStart);
        assert_eq!(h.on_ack(MSS, Some(ms(29)), 10 * MSS), Phase::SlowStart);
    }
}
