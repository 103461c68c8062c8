//! `mptcp sim --json`: the report as one JSON object. Times are in seconds, rates in bit/s;
//! nothing depends on the wall clock, so the same scenario and seed print the same object.

use core::time::Duration;

use mptcp_sim::{ConnectionReport, ScenarioReport};
use serde_json::{Value as Json, json};

/// The report as one JSON object: the run, then an array of connections.
pub fn to_json(report: &ScenarioReport) -> Json {
    json!({
        "seed": report.seed,
        "duration_s": report.end.as_nanos() as f64 / 1e9,
        "events": report.events,
        "ok": report.all_ok(),
        "stray_sessions": report.stray_sessions,
        "connections": report.connections.iter().map(connection).collect::<Vec<_>>(),
    })
}

fn connection(conn: &ConnectionReport) -> Json {
    let millis = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1e3);
    json!({
        "client": conn.client,
        "server": conn.server,
        "remote": conn.remote.to_string(),
        "kind": conn.kind.as_str(),
        "bytes_sent": conn.bytes_sent,
        "bytes_received": conn.bytes_received,
        "expected_bytes": conn.expected_bytes,
        "intact": conn.intact,
        "finished": conn.finished,
        "mptcp": conn.mptcp,
        "start_s": conn.start.as_nanos() as f64 / 1e9,
        "duration_s": conn.duration().as_secs_f64(),
        "goodput_bps": conn.goodput_bps(),
        "retransmits": conn.retransmits,
        "timeouts": conn.timeouts,
        "srtt_ms": millis(conn.srtt),
        "min_rtt_ms": millis(conn.min_rtt),
        "stall_up_ms": millis(conn.stall_up.map(|s| s.length())),
        "stall_down_ms": millis(conn.stall_down.map(|s| s.length())),
        "problem": conn.problem,
    })
}
