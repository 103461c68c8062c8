//! `mptcp sim`: the report as a table, one row per connection, and a line per problem.

use core::time::Duration;
use std::io::{self, Write};

use mptcp_sim::Stall;

use super::SimRun;

/// Writes the run as text: a heading with the seed and the speed, the table, the problems.
pub fn write_text(out: &mut impl Write, run: &SimRun) -> io::Result<()> {
    let report = &run.report;
    let simulated = report.end.as_nanos() as f64 / 1e9;
    let wall = run.wall.as_secs_f64();
    writeln!(
        out,
        "seed {}: {simulated:.3} s simulated in {wall:.3} s ({:.1}x real time, {} events)",
        report.seed,
        simulated / wall.max(1e-9),
        report.events,
    )?;
    writeln!(
        out,
        "{:>3}  {:<28} {:<16} {:>12} {:>10} {:>13} {:>7} {:>9} {:>10}  intact",
        "#", "connection", "kind", "bytes", "duration", "goodput", "retrans", "srtt", "stall"
    )?;
    for (index, conn) in report.connections.iter().enumerate() {
        let millis = |d: Option<Duration>| {
            d.map_or_else(
                || "-".to_owned(),
                |d| format!("{:.1} ms", d.as_secs_f64() * 1e3),
            )
        };
        let stall = Stall::longest(conn.stall_up, conn.stall_down).map(|s| s.length());
        let intact = match (conn.intact, conn.finished) {
            (true, true) => "yes",
            (true, false) => "NO (unfinished)",
            (false, _) => "NO",
        };
        writeln!(
            out,
            "{index:>3}  {:<28} {:<16} {:>12} {:>8.3} s {:>8.2} Mbit/s {:>7} {:>9} {:>10}  {intact}",
            format!("{} -> {}", conn.client, conn.remote),
            conn.kind.as_str(),
            conn.bytes_received,
            conn.duration().as_secs_f64(),
            conn.goodput_bps() / 1e6,
            conn.retransmits,
            millis(conn.srtt),
            millis(stall),
        )?;
    }
    for (index, conn) in report.connections.iter().enumerate() {
        if let Some(problem) = &conn.problem {
            writeln!(out, "connection {index}: {problem}")?;
        }
    }
    if report.stray_sessions > 0 {
        writeln!(
            out,
            "{} connection(s) reached a server with a damaged header",
            report.stray_sessions
        )?;
    }
    Ok(())
}
