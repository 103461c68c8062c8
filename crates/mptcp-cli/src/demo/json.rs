//! `mptcp demo --json`: the outcome and the per-second series as one JSON object. Times are
//! in seconds or milliseconds (as the key says), rates in bit/s; nothing depends on the wall
//! clock, so the same options print the same object.

use serde_json::{Value as Json, json};

use super::DemoRun;
use super::analysis::PATHS;
use super::scenario::path_of;

/// The demo's outcome: `intact`, `finished`, `bytes`, `goodput_bps`, `failover_ms`,
/// `stall_ms`, `recovery_ms`, the subflows, and `per_second` with each path's throughput.
pub fn to_json(run: &DemoRun) -> Json {
    let conn = &run.download;
    let failover = run.failover();
    let subflows: Vec<Json> = conn
        .samples
        .last()
        .map(|last| {
            last.subflows
                .iter()
                .map(|sf| {
                    json!({
                        "path": path_of(sf.local.ip()),
                        "local": sf.local.to_string(),
                        "remote": sf.remote.to_string(),
                        "bytes_received": sf.bytes_received,
                        "bytes_sent": sf.bytes_sent,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let per_second: Vec<Json> = run
        .intervals()
        .iter()
        .map(|row| {
            let mut entry = json!({
                "from_s": row.from.as_secs_f64(),
                "to_s": row.to.as_secs_f64(),
                "goodput_bps": row.goodput,
                "received": row.received,
            });
            for (path, bps) in PATHS.iter().zip(row.paths) {
                entry[format!("{path}_bps")] = json!(bps);
            }
            entry
        })
        .collect();
    json!({
        "seed": run.config.seed,
        "size": run.config.size,
        "wifi_down_s": run.config.down_at().map(|d| d.as_secs_f64()),
        "wifi_up_s": run.config.up_at().map(|d| d.as_secs_f64()),
        "intact": conn.intact,
        "finished": conn.finished,
        "bytes": conn.bytes_received,
        "duration_s": conn.duration().as_secs_f64(),
        "goodput_bps": conn.goodput_bps(),
        "mptcp": conn.mptcp,
        "failover_ms": failover.map(|f| f.time.as_secs_f64() * 1e3),
        "stall_ms": failover.map(|f| f.stall.as_secs_f64() * 1e3),
        "recovery_ms": run.recovery().map(|d| d.as_secs_f64() * 1e3),
        "retransmits": conn.retransmits,
        "problem": conn.problem,
        "subflows": subflows,
        "per_second": per_second,
    })
}
