//! `mptcp demo` as text: what runs, a table row per simulated second (written as the
//! simulation gets there), then the outcome.

use std::io::{self, Write};

use super::DemoRun;
use super::analysis::Interval;
use super::scenario::{CELLULAR_RATE, DemoConfig, WIFI_RATE};

const MBIT: f64 = 1e6;

/// The introduction and the table's heading.
pub fn write_header(out: &mut impl Write, config: &DemoConfig) -> io::Result<()> {
    writeln!(
        out,
        "A phone downloads {} from a server with Multipath TCP over Wi-Fi ({} Mbit/s, 20 ms \
         RTT) and cellular ({} Mbit/s, 60 ms RTT), in the simulator (seed {}).",
        mib(config.size),
        WIFI_RATE / 1_000_000,
        CELLULAR_RATE / 1_000_000,
        config.seed,
    )?;
    match (config.down_at(), config.up_at()) {
        (Some(down), Some(up)) => writeln!(
            out,
            "Wi-Fi goes down at {:.1} s and comes back at {:.1} s.",
            down.as_secs_f64(),
            up.as_secs_f64()
        )?,
        _ => writeln!(out, "Wi-Fi stays up.")?,
    }
    writeln!(
        out,
        "Per second: what each path's subflow received, and what the application read."
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:>11}  {:>13}  {:>13}  {:>13}  {:>16}",
        "time (s)", "Wi-Fi Mbit/s", "cell Mbit/s", "read Mbit/s", "read so far"
    )
}

/// One row of the table; `config` marks the seconds in which Wi-Fi fails or returns.
pub fn write_row(out: &mut impl Write, row: &Interval, config: &DemoConfig) -> io::Result<()> {
    let within =
        |at: Option<core::time::Duration>| at.is_some_and(|at| row.from <= at && at < row.to);
    let note = if within(config.down_at()) {
        "  <- Wi-Fi down"
    } else if within(config.up_at()) {
        "  <- Wi-Fi back"
    } else {
        ""
    };
    let percent = row.received as f64 * 100.0 / config.size.max(1) as f64;
    writeln!(
        out,
        "{:>5.1}-{:<5.1}  {:>13.1}  {:>13.1}  {:>13.1}  {:>9} {:>5.1}%{note}",
        row.from.as_secs_f64(),
        row.to.as_secs_f64(),
        row.paths[0] / MBIT,
        row.paths[1] / MBIT,
        row.goodput / MBIT,
        mib(row.received),
        percent,
    )
}

/// The outcome: bytes and integrity, goodput, failover and recovery, the subflows.
pub fn write_summary(out: &mut impl Write, run: &DemoRun) -> io::Result<()> {
    let conn = &run.download;
    writeln!(out)?;
    let verdict = match (conn.intact, conn.finished) {
        (true, true) => "intact (every byte checked against what the server sent)",
        (true, false) => "NOT finished",
        (false, _) => "DAMAGED",
    };
    writeln!(
        out,
        "downloaded {} of {} bytes in {:.2} s: {verdict}",
        conn.bytes_received,
        run.config.size,
        conn.duration().as_secs_f64(),
    )?;
    writeln!(
        out,
        "goodput    {:.2} Mbit/s ({})",
        conn.goodput_bps() / MBIT,
        if conn.mptcp {
            "Multipath TCP"
        } else {
            "plain TCP: MPTCP was not used"
        }
    )?;
    if let Some(down) = run.config.down_at().filter(|&down| down >= conn.duration()) {
        writeln!(
            out,
            "failover   none: Wi-Fi was to go down at {:.3} s, after the download had ended",
            down.as_secs_f64()
        )?;
    } else if let (Some(down), Some(failover)) = (run.config.down_at(), run.failover()) {
        let resumed = down + failover.time;
        // Without a subflow on cellular (`ndiffports`, `default`), reading resumes only
        // once Wi-Fi is back.
        let over = match run.config.up_at() {
            Some(up) if resumed >= up => "once Wi-Fi was back",
            _ => "over cellular",
        };
        writeln!(
            out,
            "failover   {} ms: Wi-Fi lost at {:.3} s, the download stalled for {} ms and went on {over} at {:.3} s",
            failover.time.as_millis(),
            down.as_secs_f64(),
            failover.stall.as_millis(),
            resumed.as_secs_f64(),
        )?;
    }
    if let (Some(up), Some(recovery)) = (run.config.up_at(), run.recovery()) {
        writeln!(
            out,
            "recovery   {} ms: Wi-Fi back at {:.3} s, carrying data again at {:.3} s",
            recovery.as_millis(),
            up.as_secs_f64(),
            (up + recovery).as_secs_f64(),
        )?;
    }
    if let Some(last) = conn.samples.last() {
        for sf in &last.subflows {
            let path = super::scenario::path_of(sf.local.ip()).unwrap_or("?");
            writeln!(
                out,
                "subflow    {path:<9} {} -> {}: {} received",
                sf.local,
                sf.remote,
                mib(sf.bytes_received)
            )?;
        }
    }
    if let Some(problem) = &conn.problem {
        writeln!(out, "problem    {problem}")?;
    }
    writeln!(
        out,
        "({:.1} s simulated in {:.2} s)",
        run.end.as_secs_f64(),
        run.wall.as_secs_f64()
    )
}

/// `12.3 MiB`.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}
