//! Round-trip time estimation and the retransmission timeout (RFC 6298).

use core::time::Duration;

/// Clock granularity G of RFC 6298 §2 (our clock is nanoseconds; 1 ms keeps the variance
/// term from vanishing on perfectly regular paths).
const GRANULARITY: Duration = Duration::from_millis(1);

/// SRTT, RTTVAR and RTO of one connection.
#[derive(Debug, Clone)]
pub(crate) struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    min_rtt: Option<Duration>,
    rto: Duration,
    min_rto: Duration,
    max_rto: Duration,
    /// Number of consecutive expirations (RFC 6298 §5.5 backoff exponent).
    backoff: u32,
}

impl RttEstimator {
    /// No sample yet: RTO is `initial` (RFC 6298 §2.1: 1 s).
    pub(crate) fn new(initial: Duration, min_rto: Duration, max_rto: Duration) -> Self {
        Self {
            srtt: None,
            rttvar: Duration::ZERO,
            min_rtt: None,
            rto: initial,
            min_rto,
            max_rto,
            backoff: 0,
        }
    }

    /// Feeds one measurement (RFC 6298 §2.2, §2.3) and recomputes RTO.
    pub(crate) fn on_sample(&mut self, r: Duration) {
        self.min_rtt = Some(self.min_rtt.map_or(r, |m| m.min(r)));
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                let delta = srtt.abs_diff(r);
                self.rttvar = (self.rttvar * 3 + delta) / 4;
                self.srtt = Some((srtt * 7 + r) / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        // RFC 6298 §2.4 asks for a 1 s floor; like Linux we take a configurable floor
        // (200 ms by default), and §2.5 allows a maximum of at least 60 s.
        self.rto = (srtt + GRANULARITY.max(self.rttvar * 4)).clamp(self.min_rto, self.max_rto);
    }

    /// RFC 6298 §5.5: the timer expired; double the timeout.
    pub(crate) fn on_timeout(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// New data was acknowledged: stop backing off (RFC 6298 §5.7 with Karn's algorithm
    /// keeping the backed-off value until a valid sample arrives is approximated by
    /// resetting on the first ACK of new data).
    pub(crate) fn reset_backoff(&mut self) {
        self.backoff = 0;
    }

    /// Consecutive timeouts.
    pub(crate) fn backoff(&self) -> u32 {
        self.backoff
    }

    /// The base timeout, without backoff.
    pub(crate) fn base_rto(&self) -> Duration {
        self.rto
    }

    /// The current timeout: base doubled per expiration, capped (RFC 6298 §5.5).
    pub(crate) fn rto(&self) -> Duration {
        let factor = 1u32 << self.backoff.min(16);
        self.rto.saturating_mul(factor).min(self.max_rto)
    }

    /// Smoothed RTT.
    pub(crate) fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// RTT variation.
    pub(crate) fn rttvar(&self) -> Duration {
        self.rttvar
    }

    /// Smallest sample seen.
    pub(crate) fn min_rtt(&self) -> Option<Duration> {
        self.min_rtt
    }
}

/// The receiver's estimate of the round trip (after Linux's `tcp_rcv_rtt_measure_ts`): a
/// data segment echoes (RFC 7323 §4.3) the timestamp of an ACK of ours the sender had
/// received, so the time since that ACK left is one round trip including every queue on
/// the way. A host that only receives has no other measure of the path's RTT once queues
/// build; the receive buffer must cover it (RFC 8684 §3.3.5 for the connection level).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReceiverRtt {
    smoothed: Option<Duration>,
}

impl ReceiverRtt {
    /// A data segment echoed a timestamp of ours sent `elapsed` ago; smoothed with gain
    /// 1/8 as RFC 6298's SRTT.
    pub(crate) fn on_echo(&mut self, elapsed: Duration) {
        let sample = elapsed.max(GRANULARITY);
        self.smoothed = Some(self.smoothed.map_or(sample, |s| (s * 7 + sample) / 8));
    }

    /// The estimate, once a sample arrived.
    pub(crate) fn get(&self) -> Option<Duration> {
        self.smoothed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn follows_rfc6298() {
        let mut rtt = RttEstimator::new(ms(1000), ms(200), ms(60_000));
        assert_eq!(rtt.rto(), ms(1000));
        rtt.on_sample(ms(100));
        assert_eq!(rtt.srtt(), Some(ms(100)));
        assert_eq!(rtt.rttvar(), ms(50));
        assert_eq!(rtt.rto(), ms(300));
        rtt.on_sample(ms(200));
        // rttvar = 3/4*50 + 1/4*100 = 62.5; srtt = 7/8*100 + 1/8*200 = 112.5
        assert_eq!(rtt.srtt(), Some(Duration::from_micros(112_500)));
        assert_eq!(rtt.rto(), Duration::from_micros(112_500 + 250_000));
        rtt.on_timeout();
        rtt.on_timeout();
        assert_eq!(rtt.rto(), Duration::from_micros(4 * 362_500));
        for _ in 0..20 {
            rtt.on_timeout();
        }
        assert_eq!(rtt.rto(), ms(60_000));
        rtt.reset_backoff();
        assert_eq!(rtt.backoff(), 0);
        rtt.on_sample(ms(1));
        assert!(rtt.rto() >= ms(200));
        assert_eq!(rtt.min_rtt(), Some(ms(1)));
    }

    #[test]
    fn the_receiver_estimate_follows_echoed_timestamps() {
        let mut rtt = ReceiverRtt::default();
        assert_eq!(rtt.get(), None);
        rtt.on_echo(ms(0));
        assert_eq!(rtt.get(), Some(GRANULARITY));
        rtt.on_echo(ms(161));
        // 7/8 * 1 + 1/8 * 161 = 21
        assert_eq!(rtt.get(), Some(ms(21)));
    }
}
