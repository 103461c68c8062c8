//! Receive-buffer auto-tuning (after Linux's `tcp_rcv_space_adjust`): the buffer must hold
//! what the sender can have in flight, the delivery rate times the round trip. The reads
//! of the application are counted over one measurement period (the RTT, or for an MPTCP
//! connection the fastest subflow's); when the rate they show, over the round trip the
//! buffer must cover (for MPTCP the slowest subflow's, RFC 8684 §3.3.5), needs at least
//! half the buffer, the buffer is what limits the transfer: it grows to twice that need,
//! at least doubling, up to a maximum.

use core::time::Duration;

use crate::time::Instant;

/// The round trip assumed before one is measured.
const UNMEASURED_RTT: Duration = Duration::from_millis(100);

/// The round trips auto-tuning works with.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TuneRtts {
    /// How long reads are counted before they are judged (the shortest RTT).
    pub(crate) period: Option<Duration>,
    /// The round trip the buffer must cover (the longest RTT).
    pub(crate) span: Option<Duration>,
}

impl TuneRtts {
    /// One path: both are its RTT.
    pub(crate) fn single(rtt: Option<Duration>) -> Self {
        Self {
            period: rtt,
            span: rtt,
        }
    }
}

/// The measurement of one receive buffer's application reads.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Autotune {
    start: Option<Instant>,
    copied: usize,
}

impl Autotune {
    /// The application read `read` bytes at `now` from a buffer of `capacity` bytes (at
    /// most `max`). Returns the new capacity when the buffer should grow.
    pub(crate) fn on_read(
        &mut self,
        now: Instant,
        read: usize,
        capacity: usize,
        max: usize,
        rtts: TuneRtts,
    ) -> Option<usize> {
        if capacity >= max {
            return None;
        }
        let period = rtts
            .period
            .unwrap_or(UNMEASURED_RTT)
            .max(Duration::from_micros(1));
        let span = rtts.span.unwrap_or(period).max(period);
        match self.start {
            Some(start) if now - start <= period => {
                self.copied += read;
                // What the rate of this period needs over the span.
                let need = (self.copied as u128 * span.as_nanos() / period.as_nanos())
                    .min(usize::MAX as u128) as usize;
                if need.saturating_mul(2) >= capacity {
                    self.start = Some(now);
                    self.copied = 0;
                    let grown = need.saturating_mul(2).max(capacity.saturating_mul(2));
                    return Some(grown.min(max));
                }
            }
            _ => {
                self.start = Some(now);
                self.copied = read;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn one_path_doubles_when_half_the_buffer_is_read_within_an_rtt() {
        let mut tune = Autotune::default();
        let rtts = TuneRtts::single(Some(ms(10)));
        let t = Instant::from_millis;
        assert_eq!(tune.on_read(t(0), 1000, 4000, 1 << 20, rtts), None);
        assert_eq!(tune.on_read(t(5), 999, 4000, 1 << 20, rtts), None);
        assert_eq!(tune.on_read(t(9), 1, 4000, 1 << 20, rtts), Some(8000));
        // A new period starts; reads spread over more than an RTT do not grow it.
        assert_eq!(tune.on_read(t(30), 1000, 8000, 1 << 20, rtts), None);
        assert_eq!(tune.on_read(t(45), 3000, 8000, 1 << 20, rtts), None);
        // Never beyond the maximum.
        assert_eq!(tune.on_read(t(50), 8000, 8000, 10_000, rtts), Some(10_000));
    }

    #[test]
    fn a_slow_second_path_makes_the_buffer_cover_its_round_trip() {
        let mut tune = Autotune::default();
        let rtts = TuneRtts {
            period: Some(ms(10)),
            span: Some(ms(200)),
        };
        let t = Instant::from_millis;
        assert_eq!(tune.on_read(t(0), 1000, 64_000, 1 << 30, rtts), None);
        // 2000 bytes in 10 ms is 40 000 over 200 ms: twice that is needed.
        assert_eq!(
            tune.on_read(t(8), 1000, 64_000, 1 << 30, rtts),
            Some(128_000)
        );
        // 10 000 bytes in the next 10 ms need 200 000 over 200 ms: twice that.
        assert_eq!(
            tune.on_read(t(15), 10_000, 128_000, 1 << 30, rtts),
            Some(400_000)
        );
    }
}
