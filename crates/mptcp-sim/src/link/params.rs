//! The configuration of one direction of a link.

use core::time::Duration;

use thiserror::Error;

/// How packets are lost on the wire (after they have used the link's capacity).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum LossModel {
    /// No random loss.
    #[default]
    None,
    /// Each packet is lost independently with this probability.
    Random(f64),
    /// The Gilbert–Elliott two-state model of bursty loss: before each packet the channel
    /// moves from the good to the bad state with probability `p`, from bad to good with
    /// probability `r`; then the packet is lost with the loss probability of the state.
    GilbertElliott {
        /// Good → bad transition probability per packet.
        p: f64,
        /// Bad → good transition probability per packet.
        r: f64,
        /// Loss probability in the good state (often 0).
        loss_good: f64,
        /// Loss probability in the bad state (often 1).
        loss_bad: f64,
    },
}

impl LossModel {
    /// The long-run loss rate of the model.
    pub fn mean_loss(&self) -> f64 {
        match *self {
            Self::None => 0.0,
            Self::Random(p) => p,
            Self::GilbertElliott {
                p,
                r,
                loss_good,
                loss_bad,
            } => {
                if p + r == 0.0 {
                    return loss_good;
                }
                let bad = p / (p + r);
                bad * loss_bad + (1.0 - bad) * loss_good
            }
        }
    }

    fn probabilities(&self) -> Vec<(&'static str, f64)> {
        match *self {
            Self::None => Vec::new(),
            Self::Random(p) => vec![("loss probability", p)],
            Self::GilbertElliott {
                p,
                r,
                loss_good,
                loss_bad,
            } => vec![
                ("Gilbert-Elliott p", p),
                ("Gilbert-Elliott r", r),
                ("Gilbert-Elliott loss_good", loss_good),
                ("Gilbert-Elliott loss_bad", loss_bad),
            ],
        }
    }
}

/// The drop-tail limit of the queue in front of a link. The packet being serialized does
/// not count; packets waiting for it do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueLimit {
    /// No limit.
    #[default]
    Unlimited,
    /// At most this many packets waiting.
    Packets(usize),
    /// At most this many bytes waiting.
    Bytes(usize),
}

/// Reordering: a fraction of packets is held back for an extra delay, so that later
/// packets overtake them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reorder {
    /// Probability that a packet is held back.
    pub probability: f64,
    /// How long it is held back.
    pub extra_delay: Duration,
}

/// One direction of a point-to-point link.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkParams {
    /// Rate in bit/s; 0 means infinitely fast (no serialization delay). A packet of `n`
    /// bytes takes ⌈n·8·10⁹ / rate⌉ ns to serialize.
    pub rate_bps: u64,
    /// Propagation delay.
    pub delay: Duration,
    /// Each packet gets an extra delay drawn uniformly from `[0, jitter]`; packets still
    /// arrive in order (a packet never arrives before the one sent ahead of it).
    pub jitter: Duration,
    /// Random loss.
    pub loss: LossModel,
    /// Reordering, if any.
    pub reorder: Option<Reorder>,
    /// Probability that a packet is delivered twice.
    pub duplicate: f64,
    /// Probability that one random bit of a packet is flipped.
    pub corrupt: f64,
    /// Drop-tail queue limit.
    pub queue: QueueLimit,
    /// Largest packet (IP bytes) the link carries; larger ones are dropped and counted.
    pub mtu: usize,
}

impl Default for LinkParams {
    /// An ideal link: infinitely fast, no delay, no impairment, MTU 1500, an unlimited queue.
    fn default() -> Self {
        Self {
            rate_bps: 0,
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            loss: LossModel::None,
            reorder: None,
            duplicate: 0.0,
            corrupt: 0.0,
            queue: QueueLimit::Unlimited,
            mtu: 1500,
        }
    }
}

/// A link parameter out of range.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{name} must be a probability in [0, 1], not {value}")]
pub struct BadProbability {
    /// Which parameter.
    pub name: &'static str,
    /// Its value.
    pub value: f64,
}

impl LinkParams {
    /// Parameters of a link of `rate_bps` bit/s and `delay`, otherwise ideal.
    pub fn new(rate_bps: u64, delay: Duration) -> Self {
        Self {
            rate_bps,
            delay,
            ..Self::default()
        }
    }

    /// Checks that every probability is within [0, 1].
    pub fn validate(&self) -> Result<(), BadProbability> {
        let mut all = self.loss.probabilities();
        all.push(("duplicate", self.duplicate));
        all.push(("corrupt", self.corrupt));
        if let Some(reorder) = self.reorder {
            all.push(("reorder probability", reorder.probability));
        }
        match all
            .into_iter()
            .find(|(_, value)| !(0.0..=1.0).contains(value))
        {
            Some((name, value)) => Err(BadProbability { name, value }),
            None => Ok(()),
        }
    }

    /// Serialization time of `len` bytes, in nanoseconds (rounded up).
    pub fn serialization_nanos(&self, len: usize) -> u64 {
        if self.rate_bps == 0 {
            return 0;
        }
        let bits = len as u128 * 8 * 1_000_000_000;
        u64::try_from(bits.div_ceil(u128::from(self.rate_bps))).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialization_time_rounds_up() {
        let params = LinkParams::new(100_000_000, Duration::ZERO);
        assert_eq!(params.serialization_nanos(1500), 120_000);
        let odd = LinkParams::new(3, Duration::ZERO);
        assert_eq!(odd.serialization_nanos(1), 2_666_666_667);
        assert_eq!(LinkParams::default().serialization_nanos(1500), 0);
    }

    #[test]
    fn validates_probabilities() {
        let mut params = LinkParams::default();
        assert_eq!(params.validate(), Ok(()));
        params.loss = LossModel::GilbertElliott {
            p: 0.1,
            r: 1.5,
            loss_good: 0.0,
            loss_bad: 1.0,
        };
        let err = params.validate().unwrap_err();
        assert_eq!(err.name, "Gilbert-Elliott r");
        assert_eq!(
            err.to_string(),
            "Gilbert-Elliott r must be a probability in [0, 1], not 1.5"
        );
    }

    #[test]
    fn mean_loss_of_gilbert_elliott() {
        let model = LossModel::GilbertElliott {
            p: 0.01,
            r: 0.09,
            loss_good: 0.0,
            loss_bad: 1.0,
        };
        assert!((model.mean_loss() - 0.1).abs() < 1e-12);
    }
}
