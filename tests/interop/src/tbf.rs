//! [`Tbf`]: a token-bucket rate limit (`tc qdisc ... tbf`), the one shaping tool
//! this kernel offers (there is no `netem`: loss is emulated in userspace by
//! [`crate::impair`]).
//!
//! `tbf` counts whole frames (Ethernet, IP and TCP headers included), so a TCP
//! transfer of `n` payload bytes over a 1500-byte MTU needs about
//! `n · 1514 / 1448` bytes of budget: roughly 4.6 % more time than `n · 8 / rate`.
//! [`Tbf::expected_transfer_time`] includes that overhead.

use std::time::Duration;

/// Ethernet frame of a full-sized TCP segment with timestamps: 14 + 20 + 32 + 1448.
const FRAME_BYTES: u64 = 1514;
/// Payload of that segment.
const PAYLOAD_BYTES: u64 = 1448;

/// A token-bucket filter as root qdisc of a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tbf {
    /// Rate in bits per second.
    pub rate_bit_s: u64,
    /// Bucket size in bytes: how much may leave at line rate after an idle time.
    pub burst_bytes: u64,
    /// Longest time a packet may wait in the queue (sets the queue limit).
    pub latency: Duration,
}

impl Tbf {
    /// `rate_bit_s` with a burst of 10 ms of traffic (at least two full frames)
    /// and a 100 ms queue.
    pub fn new(rate_bit_s: u64) -> Self {
        Tbf {
            rate_bit_s,
            burst_bytes: (rate_bit_s / 8 / 100).max(2 * FRAME_BYTES),
            latency: Duration::from_millis(100),
        }
    }

    /// [`Tbf::new`] with the rate in Mbit/s.
    pub fn mbit(rate: u64) -> Self {
        Tbf::new(rate * 1_000_000)
    }

    /// The arguments after `tc qdisc replace dev DEV root`.
    pub fn tc_args(&self) -> Vec<String> {
        vec![
            "tbf".into(),
            "rate".into(),
            format!("{}bit", self.rate_bit_s),
            "burst".into(),
            self.burst_bytes.to_string(),
            "latency".into(),
            format!("{}us", self.latency.as_micros()),
        ]
    }

    /// About how long `payload` bytes of one TCP stream take through this
    /// filter with full-sized segments (header overhead included, slow start
    /// and the handshake not).
    pub fn expected_transfer_time(&self, payload: u64) -> Duration {
        let wire_bits = payload as f64 * 8.0 * FRAME_BYTES as f64 / PAYLOAD_BYTES as f64;
        Duration::from_secs_f64(wire_bits / self.rate_bit_s as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_spell_units_tc_understands() {
        assert_eq!(
            Tbf::mbit(10).tc_args(),
            [
                "tbf",
                "rate",
                "10000000bit",
                "burst",
                "12500",
                "latency",
                "100000us"
            ]
        );
        assert_eq!(Tbf::new(100_000).burst_bytes, 2 * FRAME_BYTES);
    }

    #[test]
    fn expected_time_includes_header_overhead() {
        let t = Tbf::mbit(10).expected_transfer_time(1_250_000);
        assert!(
            (t.as_secs_f64() - 1.0 * 1514.0 / 1448.0).abs() < 1e-9,
            "{t:?}"
        );
    }
}
