//! The subflows of a connection for people and for `--json`: one row per subflow (like a
//! line of `ss -M -ti`), the table the live display redraws, and the JSON objects of the
//! report's `subflows` array.

use core::fmt::Write as _;
use core::net::SocketAddr;
use core::time::Duration;

use mptcp_proto::stack::SubflowInfo;
use mptcp_proto::tcp::TcpState;
use serde_json::{Value as Json, json};

/// What the report and the live display show of one subflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubflowRow {
    /// Our address and port.
    pub local: SocketAddr,
    /// The peer's address and port.
    pub remote: SocketAddr,
    /// Its TCP state.
    pub state: TcpState,
    /// Its handshake (MP_CAPABLE or MP_JOIN) completed.
    pub established: bool,
    /// A backup subflow: we or the peer asked for it (MP_JOIN's or MP_PRIO's B flag).
    pub backup: bool,
    /// Payload bytes sent on it, retransmissions included.
    pub bytes_sent: u64,
    /// Payload bytes received on it in order.
    pub bytes_received: u64,
    /// Smoothed round-trip time, once measured.
    pub srtt: Option<Duration>,
    /// Congestion window, bytes.
    pub cwnd: usize,
}

impl From<&SubflowInfo> for SubflowRow {
    fn from(s: &SubflowInfo) -> Self {
        SubflowRow {
            local: s.local,
            remote: s.remote,
            state: s.tcp.state,
            established: s.established,
            backup: s.backup || s.peer_backup,
            bytes_sent: s.tcp.bytes_sent,
            bytes_received: s.tcp.bytes_received,
            srtt: s.tcp.srtt,
            cwnd: s.tcp.cwnd,
        }
    }
}

impl SubflowRow {
    /// The rows of a connection's subflows, in the stack's order (the first subflow first).
    pub fn all(subflows: &[SubflowInfo]) -> Vec<SubflowRow> {
        subflows.iter().map(SubflowRow::from).collect()
    }

    /// The row as an object of the report's `subflows` array.
    pub fn to_json(&self) -> Json {
        json!({
            "local": self.local.to_string(),
            "remote": self.remote.to_string(),
            "state": state_name(self.state),
            "established": self.established,
            "backup": self.backup,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "srtt_ms": self.srtt.map(|d| d.as_secs_f64() * 1e3),
            "cwnd": self.cwnd,
        })
    }
}

/// The state as `ss` writes it (`ESTAB`, `FIN-WAIT-1`, ...).
pub fn state_name(state: TcpState) -> &'static str {
    match state {
        TcpState::SynSent => "SYN-SENT",
        TcpState::SynReceived => "SYN-RECV",
        TcpState::Established => "ESTAB",
        TcpState::FinWait1 => "FIN-WAIT-1",
        TcpState::FinWait2 => "FIN-WAIT-2",
        TcpState::CloseWait => "CLOSE-WAIT",
        TcpState::Closing => "CLOSING",
        TcpState::LastAck => "LAST-ACK",
        TcpState::TimeWait => "TIME-WAIT",
        TcpState::Closed => "CLOSED",
    }
}

/// The subflows as aligned lines, one per subflow, each starting with `indent`:
///
/// ```text
/// 10.1.1.2:40000  10.0.1.1:5201  ESTAB       rtt 0.42ms  cwnd 86.0K  sent 4.00M  recv 4.00M
/// 10.1.2.2:40001  10.0.1.1:5201  SYN-SENT    rtt -       cwnd 14.1K  sent 0B     recv 0B  backup
/// ```
///
/// A subflow whose MP_JOIN is not complete shows `joining`; a backup shows `backup`.
pub fn table(rows: &[SubflowRow], indent: &str) -> Vec<String> {
    let width = |f: fn(&SubflowRow) -> String| rows.iter().map(|r| f(r).len()).max().unwrap_or(0);
    let local_w = width(|r| r.local.to_string());
    let remote_w = width(|r| r.remote.to_string());
    rows.iter()
        .map(|r| {
            let rtt = r
                .srtt
                .map_or_else(|| "-".to_owned(), |d| format!("{:.2}ms", d.as_secs_f64() * 1e3));
            let mut line = format!(
                "{indent}{:<local_w$}  {:<remote_w$}  {:<10}  rtt {rtt:<8}  cwnd {:<6}  sent {:<6}  \
                 recv {}",
                r.local.to_string(),
                r.remote.to_string(),
                state_name(r.state),
                compact_bytes(r.cwnd as u64),
                compact_bytes(r.bytes_sent),
                compact_bytes(r.bytes_received),
            );
            if !r.established && r.state.is_synchronized() {
                line.push_str("  joining");
            }
            if r.backup {
                line.push_str("  backup");
            }
            line
        })
        .collect()
}

/// A byte count in at most six characters: `512B`, `86.0K`, `4.00M`, `1.00G` (powers of 1024).
pub fn compact_bytes(bytes: u64) -> String {
    super::size::binary_units(bytes, "", ["B", "K", "M", "G", "T"])
}

/// What to write to redraw a block of lines at the bottom of a terminal that shows
/// `previous` lines of the last block (0 at first): back to the first of them, erase to the
/// end of the screen, write `lines` (without a final newline, so the cursor stays on the
/// block's last line). Each line is cut to `columns - 1` characters so that none wraps,
/// which would throw the count off.
pub fn redraw(previous: usize, lines: &[String], columns: usize) -> String {
    let mut out = String::from("\r");
    if previous > 1 {
        let _ = write!(out, "\x1b[{}A", previous - 1);
    }
    out.push_str("\x1b[J");
    let keep = columns.saturating_sub(1).max(1);
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.extend(line.chars().take(keep));
    }
    out
}

#[cfg(test)]
mod tests {
    use mptcp_proto::stack::SubflowId;
    use mptcp_proto::tcp::TcpInfo;

    use super::*;

    fn row(local: &str, backup: bool) -> SubflowRow {
        SubflowRow {
            local: local.parse().unwrap(),
            remote: "10.0.1.1:5201".parse().unwrap(),
            state: TcpState::Established,
            established: true,
            backup,
            bytes_sent: 4 << 20,
            bytes_received: 3_500_000,
            srtt: Some(Duration::from_micros(420)),
            cwnd: 88_064,
        }
    }

    #[test]
    fn a_row_from_the_stack_and_as_json() {
        let info = SubflowInfo {
            id: SubflowId(1),
            local: "10.1.2.2:40001".parse().unwrap(),
            remote: "10.0.1.1:5201".parse().unwrap(),
            local_id: 2,
            remote_id: Some(0),
            established: true,
            backup: false,
            peer_backup: true,
            tcp: TcpInfo {
                state: TcpState::Established,
                srtt: Some(Duration::from_millis(12)),
                cwnd: 14_480,
                bytes_sent: 1000,
                bytes_received: 2000,
                rttvar: Duration::ZERO,
                min_rtt: None,
                rto: Duration::from_millis(200),
                ssthresh: usize::MAX,
                bytes_in_flight: 0,
                bytes_retransmitted: 0,
                bytes_acked: 1000,
                retransmits: 0,
                timeouts: 0,
                segments_in: 3,
                segments_out: 3,
                snd_wnd: 65_535,
                rcv_wnd: 65_535,
                rcv_buffer: 65_535,
                mss: 1448,
                sack: true,
                timestamps: true,
                wscale: Some((7, 7)),
                congestion_control: "cubic",
            },
        };
        let r = SubflowRow::from(&info);
        assert!(r.backup, "the peer's backup flag counts");
        let j = r.to_json();
        let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "local",
                "remote",
                "state",
                "established",
                "backup",
                "bytes_sent",
                "bytes_received",
                "srtt_ms",
                "cwnd"
            ]
        );
        assert_eq!(j["local"], "10.1.2.2:40001");
        assert_eq!(j["state"], "ESTAB");
        assert_eq!(j["bytes_sent"], 1000);
        assert_eq!(j["bytes_received"], 2000);
        assert_eq!(j["srtt_ms"], 12.0);
        assert_eq!(j["cwnd"], 14_480);
        let unmeasured = SubflowRow { srtt: None, ..r };
        assert!(unmeasured.to_json()["srtt_ms"].is_null());
    }

    #[test]
    fn the_table_aligns_its_columns_and_flags_backups_and_joins() {
        let joining = SubflowRow {
            state: TcpState::SynReceived,
            established: false,
            srtt: None,
            bytes_sent: 0,
            bytes_received: 0,
            ..row("10.1.2.2:5", true)
        };
        let lines = table(&[row("10.1.1.2:40000", false), joining], "  ");
        assert_eq!(
            lines,
            [
                "  10.1.1.2:40000  10.0.1.1:5201  ESTAB       rtt 0.42ms    cwnd 86.0K   sent \
                 4.00M   recv 3.34M",
                "  10.1.2.2:5      10.0.1.1:5201  SYN-RECV    rtt -         cwnd 86.0K   sent \
                 0B      recv 0B  backup",
            ]
        );
        let ready = SubflowRow {
            state: TcpState::FinWait1,
            established: false,
            ..row("10.1.2.2:5", false)
        };
        assert!(table(&[ready], "").first().unwrap().ends_with("  joining"));
        assert!(table(&[], "  ").is_empty());
    }

    #[test]
    fn compact_byte_counts() {
        assert_eq!(compact_bytes(0), "0B");
        assert_eq!(compact_bytes(1023), "1023B");
        assert_eq!(compact_bytes(1024), "1.00K");
        assert_eq!(compact_bytes(88_064), "86.0K");
        assert_eq!(compact_bytes(8 << 20), "8.00M");
        assert_eq!(compact_bytes(3 << 30), "3.00G");
    }

    #[test]
    fn redrawing_goes_back_over_the_previous_block() {
        let lines = vec!["sent 1 MiB".to_owned(), "  subflow".to_owned()];
        assert_eq!(redraw(0, &lines, 80), "\r\x1b[Jsent 1 MiB\n  subflow");
        assert_eq!(redraw(1, &lines, 80), "\r\x1b[Jsent 1 MiB\n  subflow");
        assert_eq!(
            redraw(3, &lines, 80),
            "\r\x1b[2A\x1b[Jsent 1 MiB\n  subflow"
        );
        // Lines are cut so that none wraps; erasing is a redraw of nothing.
        assert_eq!(redraw(2, &lines, 6), "\r\x1b[1A\x1b[Jsent \n  sub");
        assert_eq!(redraw(2, &[], 80), "\r\x1b[1A\x1b[J");
    }
}
