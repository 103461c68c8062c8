//! The end-of-run report of `mptcp connect`/`listen`: a few lines for people on standard
//! error, or one JSON object (`--json`) on standard output.

use core::net::SocketAddr;
use core::time::Duration;

use serde_json::{Value as Json, json};

use super::outcome::Outcome;
use super::size::{format_bytes, format_rate, rate_bps};

/// What a run did.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// `"connect"` or `"listen"`.
    pub command: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// Why it failed (`None` when it did not).
    pub message: Option<String>,
    /// The stack's end of the connection, once there was one.
    pub local: Option<SocketAddr>,
    /// The peer: whom `connect` tried to reach, or whom `listen` accepted.
    pub peer: Option<SocketAddr>,
    /// Bytes written into the connection.
    pub bytes_sent: u64,
    /// Bytes read from it.
    pub bytes_received: u64,
    /// From the established connection to the end of the exchange.
    pub duration: Duration,
    /// With `--verify`: whether every received byte was the peer's test pattern.
    pub verified: Option<bool>,
    /// With `--verify`: where the first bad byte was.
    pub first_bad_offset: Option<u64>,
}

impl Report {
    /// A report of a run that ended before any data moved.
    pub fn failed(
        command: &'static str,
        outcome: Outcome,
        message: String,
        peer: Option<SocketAddr>,
    ) -> Self {
        Report {
            command,
            outcome,
            message: Some(message),
            local: None,
            peer,
            bytes_sent: 0,
            bytes_received: 0,
            duration: Duration::ZERO,
            verified: None,
            first_bad_offset: None,
        }
    }

    /// Payload bytes of both directions per second of [`Report::duration`], in bit/s.
    pub fn goodput_bps(&self) -> f64 {
        rate_bps(
            self.bytes_sent + self.bytes_received,
            self.duration.as_secs_f64(),
        )
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> Json {
        let addr = |a: Option<SocketAddr>| a.map(|a| a.to_string());
        let mut object = json!({
            "command": self.command,
            "protocol": "tcp",
            "outcome": self.outcome.as_str(),
            "local": addr(self.local),
            "peer": addr(self.peer),
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "duration_s": self.duration.as_secs_f64(),
            "goodput_bps": self.goodput_bps(),
        });
        if let Some(verified) = self.verified {
            object["verified"] = verified.into();
            object["first_bad_offset"] = self.first_bad_offset.into();
        }
        object["message"] = self.message.clone().into();
        object
    }

    /// The summary for people: who talked to whom, then the figures.
    pub fn summary(&self) -> String {
        let who = match (self.local, self.peer) {
            (Some(local), Some(peer)) => format!("{local} <-> {peer} over TCP"),
            (None, Some(peer)) => format!("peer {peer}"),
            _ => "no connection".to_owned(),
        };
        let seconds = self.duration.as_secs_f64();
        let verified = match self.verified {
            Some(true) => ", received data verified",
            Some(false) => ", received data NOT the test pattern",
            None => "",
        };
        format!(
            "mptcp {}: {who}\n  sent {} bytes ({}), received {} bytes ({}) in {seconds:.3} s: \
             {}{verified}",
            self.command,
            self.bytes_sent,
            format_bytes(self.bytes_sent),
            self.bytes_received,
            format_bytes(self.bytes_received),
            format_rate(self.bytes_sent + self.bytes_received, seconds),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            command: "connect",
            outcome: Outcome::Ok,
            message: None,
            local: Some("10.1.1.2:40000".parse().unwrap()),
            peer: Some("10.0.1.1:5201".parse().unwrap()),
            bytes_sent: 8 << 20,
            bytes_received: 8 << 20,
            duration: Duration::from_secs(2),
            verified: Some(true),
            first_bad_offset: None,
        }
    }

    #[test]
    fn json_has_the_documented_shape() {
        let j = report().to_json();
        let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "command",
                "protocol",
                "outcome",
                "local",
                "peer",
                "bytes_sent",
                "bytes_received",
                "duration_s",
                "goodput_bps",
                "verified",
                "first_bad_offset",
                "message"
            ]
        );
        assert_eq!(j["outcome"], "ok");
        assert_eq!(j["bytes_sent"], 8u64 << 20);
        assert_eq!(j["duration_s"], 2.0);
        assert_eq!(j["goodput_bps"], 2.0 * 8.0 * 8_388_608.0 / 2.0);
        assert_eq!(j["peer"], "10.0.1.1:5201");
        assert_eq!(j["verified"], true);
        assert!(j["first_bad_offset"].is_null());
        assert!(j["message"].is_null());
    }

    #[test]
    fn json_of_a_failure_without_verify() {
        let r = Report::failed(
            "connect",
            Outcome::Refused,
            "connection to 10.0.1.1:5999 refused".to_owned(),
            Some("10.0.1.1:5999".parse().unwrap()),
        );
        let j = r.to_json();
        assert_eq!(j["outcome"], "refused");
        assert!(j["local"].is_null());
        assert_eq!(j["goodput_bps"], 0.0);
        assert!(j.get("verified").is_none());
        assert_eq!(j["message"], "connection to 10.0.1.1:5999 refused");
    }

    #[test]
    fn summary_for_people() {
        let text = report().summary();
        assert_eq!(
            text,
            "mptcp connect: 10.1.1.2:40000 <-> 10.0.1.1:5201 over TCP\n  sent 8388608 bytes \
             (8.00 MiB), received 8388608 bytes (8.00 MiB) in 2.000 s: 67.11 Mbit/s, received \
             data verified"
        );
    }
}
