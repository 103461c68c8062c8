//! The end-of-run report of `mptcp connect`/`listen`: a few lines for people on standard
//! error, or one JSON object (`--json`) on standard output.

use core::net::SocketAddr;
use core::time::Duration;

use serde_json::{Value as Json, json};

use super::outcome::Outcome;
use super::size::{format_bytes, format_rate, rate_bps};
use super::subflows::{SubflowRow, table};

/// The protocol a connection spoke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// MPTCP: offered and accepted.
    Mptcp,
    /// Plain TCP, as asked (`--tcp`).
    Tcp,
    /// Plain TCP although we spoke MPTCP: the peer did not (or a middlebox stripped the
    /// options), so the connection fell back (RFC 8684 §3.7).
    TcpFallback,
}

impl Protocol {
    /// The protocol of a connection: `offered` is whether we spoke MPTCP, `mptcp` whether
    /// the connection does.
    pub fn of(offered: bool, mptcp: bool) -> Protocol {
        match (offered, mptcp) {
            (true, true) => Protocol::Mptcp,
            (true, false) => Protocol::TcpFallback,
            (false, _) => Protocol::Tcp,
        }
    }

    /// What we offer: MPTCP unless `--tcp` (for a connection never made).
    pub fn offered(mptcp: bool) -> Protocol {
        if mptcp {
            Protocol::Mptcp
        } else {
            Protocol::Tcp
        }
    }

    /// The word in `--json`'s `protocol`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Mptcp => "mptcp",
            Protocol::Tcp => "tcp",
            Protocol::TcpFallback => "tcp-fallback",
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// `"connect"` or `"listen"`.
    pub command: &'static str,
    /// What the connection spoke (for one never made: what we offered).
    pub protocol: Protocol,
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
    /// The connection's subflows at the end (one for plain TCP; none without a connection).
    pub subflows: Vec<SubflowRow>,
}

impl Report {
    /// A report of a run that ended before any data moved.
    pub fn failed(
        command: &'static str,
        protocol: Protocol,
        outcome: Outcome,
        message: String,
        peer: Option<SocketAddr>,
    ) -> Self {
        Report {
            command,
            protocol,
            outcome,
            message: Some(message),
            local: None,
            peer,
            bytes_sent: 0,
            bytes_received: 0,
            duration: Duration::ZERO,
            verified: None,
            first_bad_offset: None,
            subflows: Vec::new(),
        }
    }

    /// How many subflows completed their handshake.
    pub fn established_subflows(&self) -> usize {
        self.subflows.iter().filter(|s| s.established).count()
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
            "protocol": self.protocol.as_str(),
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
        object["subflows"] = self.subflows.iter().map(SubflowRow::to_json).collect();
        object
    }

    /// The summary for people: who talked to whom over what, the figures, and for MPTCP
    /// one line per subflow.
    pub fn summary(&self) -> String {
        let over = match self.protocol {
            Protocol::Mptcp => match self.established_subflows() {
                1 => "MPTCP (1 subflow)".to_owned(),
                n => format!("MPTCP ({n} subflows)"),
            },
            Protocol::Tcp => "TCP".to_owned(),
            Protocol::TcpFallback => "TCP (fallback: the peer does not speak MPTCP)".to_owned(),
        };
        let who = match (self.local, self.peer) {
            (Some(local), Some(peer)) => format!("{local} <-> {peer} over {over}"),
            (None, Some(peer)) => format!("peer {peer}"),
            _ => "no connection".to_owned(),
        };
        let seconds = self.duration.as_secs_f64();
        let verified = match self.verified {
            Some(true) => ", received data verified",
            Some(false) => ", received data NOT the test pattern",
            None => "",
        };
        let mut text = format!(
            "mptcp {}: {who}\n  sent {} bytes ({}), received {} bytes ({}) in {seconds:.3} s: \
             {}{verified}",
            self.command,
            self.bytes_sent,
            format_bytes(self.bytes_sent),
            self.bytes_received,
            format_bytes(self.bytes_received),
            format_rate(self.bytes_sent + self.bytes_received, seconds),
        );
        if self.protocol == Protocol::Mptcp {
            for line in table(&self.subflows, "  ") {
                text.push('\n');
                text.push_str(&line);
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use mptcp_proto::tcp::TcpState;

    use super::*;

    fn subflow(local: &str, backup: bool) -> SubflowRow {
        SubflowRow {
            local: local.parse().unwrap(),
            remote: "10.0.1.1:5201".parse().unwrap(),
            state: TcpState::Established,
            established: true,
            backup,
            bytes_sent: 4 << 20,
            bytes_received: 4 << 20,
            srtt: Some(Duration::from_micros(1500)),
            cwnd: 64 * 1024,
        }
    }

    fn report() -> Report {
        Report {
            command: "connect",
            protocol: Protocol::Tcp,
            outcome: Outcome::Ok,
            message: None,
            local: Some("10.1.1.2:40000".parse().unwrap()),
            peer: Some("10.0.1.1:5201".parse().unwrap()),
            bytes_sent: 8 << 20,
            bytes_received: 8 << 20,
            duration: Duration::from_secs(2),
            verified: Some(true),
            first_bad_offset: None,
            subflows: vec![subflow("10.1.1.2:40000", false)],
        }
    }

    fn mptcp_report() -> Report {
        Report {
            protocol: Protocol::Mptcp,
            subflows: vec![
                subflow("10.1.1.2:40000", false),
                subflow("10.1.2.2:40001", true),
            ],
            ..report()
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
                "message",
                "subflows"
            ]
        );
        assert_eq!(j["protocol"], "tcp");
        assert_eq!(j["outcome"], "ok");
        assert_eq!(j["bytes_sent"], 8u64 << 20);
        assert_eq!(j["duration_s"], 2.0);
        assert_eq!(j["goodput_bps"], 2.0 * 8.0 * 8_388_608.0 / 2.0);
        assert_eq!(j["peer"], "10.0.1.1:5201");
        assert_eq!(j["verified"], true);
        assert!(j["first_bad_offset"].is_null());
        assert!(j["message"].is_null());
        assert_eq!(j["subflows"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn json_of_an_mptcp_run_lists_its_subflows() {
        let j = mptcp_report().to_json();
        assert_eq!(j["protocol"], "mptcp");
        let subflows = j["subflows"].as_array().unwrap();
        assert_eq!(subflows.len(), 2);
        assert_eq!(subflows[1]["local"], "10.1.2.2:40001");
        assert_eq!(subflows[1]["remote"], "10.0.1.1:5201");
        assert_eq!(subflows[1]["established"], true);
        assert_eq!(subflows[1]["backup"], true);
        assert_eq!(subflows[1]["bytes_sent"], 4u64 << 20);
        assert_eq!(subflows[1]["bytes_received"], 4u64 << 20);
        assert_eq!(subflows[1]["srtt_ms"], 1.5);
        assert_eq!(subflows[1]["cwnd"], 65_536);
        let fallback = Report {
            protocol: Protocol::of(true, false),
            ..report()
        };
        assert_eq!(fallback.to_json()["protocol"], "tcp-fallback");
    }

    #[test]
    fn protocols() {
        assert_eq!(Protocol::of(true, true), Protocol::Mptcp);
        assert_eq!(Protocol::of(true, false), Protocol::TcpFallback);
        assert_eq!(Protocol::of(false, false), Protocol::Tcp);
        assert_eq!(Protocol::offered(true).as_str(), "mptcp");
        assert_eq!(Protocol::offered(false).as_str(), "tcp");
    }

    #[test]
    fn json_of_a_failure_without_verify() {
        let r = Report::failed(
            "connect",
            Protocol::Mptcp,
            Outcome::Refused,
            "connection to 10.0.1.1:5999 refused".to_owned(),
            Some("10.0.1.1:5999".parse().unwrap()),
        );
        let j = r.to_json();
        assert_eq!(j["protocol"], "mptcp");
        assert_eq!(j["outcome"], "refused");
        assert!(j["local"].is_null());
        assert_eq!(j["goodput_bps"], 0.0);
        assert!(j.get("verified").is_none());
        assert_eq!(j["message"], "connection to 10.0.1.1:5999 refused");
        assert_eq!(j["subflows"], serde_json::json!([]));
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
        let fallback = Report {
            protocol: Protocol::TcpFallback,
            ..report()
        };
        assert!(
            fallback
                .summary()
                .starts_with("mptcp connect: 10.1.1.2:40000 <-> 10.0.1.1:5201 over TCP (fallback: the peer does not speak MPTCP)\n"),
            "{}",
            fallback.summary()
        );
    }

    #[test]
    fn summary_of_an_mptcp_run_lists_the_subflows() {
        let text = mptcp_report().summary();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "mptcp connect: 10.1.1.2:40000 <-> 10.0.1.1:5201 over MPTCP (2 subflows)"
        );
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[2].starts_with("  10.1.1.2:40000  10.0.1.1:5201  ESTAB"),
            "{text}"
        );
        assert!(
            lines[3].starts_with("  10.1.2.2:40001  10.0.1.1:5201  ESTAB"),
            "{text}"
        );
        assert!(lines[3].ends_with("  backup"), "{text}");
        let one = Report {
            subflows: vec![subflow("10.1.1.2:40000", false)],
            ..mptcp_report()
        };
        assert!(one.summary().contains("over MPTCP (1 subflow)\n"));
    }
}
