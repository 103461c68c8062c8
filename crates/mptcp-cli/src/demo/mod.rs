//! `mptcp demo`: a phone downloads a file over Wi-Fi and cellular at once with Multipath
//! TCP, in the simulator (no root, no network); Wi-Fi fails mid-transfer and comes back. The
//! download goes on over cellular and picks Wi-Fi up again.
//!
//! - [`scenario`]: the network and the download ([`DemoConfig`]).
//! - [`analysis`]: what is measured from the download's samples: per-second throughput of
//!   each path, the failover time, Wi-Fi's recovery.
//! - [`write_header`], [`write_row`], [`write_summary`]: the text output, one table row per
//!   simulated second as the run gets there; [`to_json`]: the summary for scripts.

pub mod analysis;
mod json;
pub mod scenario;
mod text;

use core::ops::ControlFlow;
use core::time::Duration;
use std::path::PathBuf;
use std::time::Instant as WallClock;

use clap::Args;
use mptcp_sim::{ConnectionReport, RunError, RunOptions, run_scenario_observed};

pub use analysis::{Failover, Interval};
pub use json::to_json;
pub use scenario::DemoConfig;
pub use text::{write_header, write_row, write_summary};

use crate::net::size::parse_size;
use crate::settings::{ConfigError, SettingsArgs};

/// The options of `mptcp demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Bytes to download (like 4096, 16M, 64MiB, 100MB)
    #[arg(long, value_name = "N", value_parser = parse_download_size, default_value = "64M")]
    pub size: u64,

    /// Seed of the simulation (same seed, same run)
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    /// When Wi-Fi goes down, in seconds from the start
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_seconds)]
    pub fail_at: f64,

    /// How long Wi-Fi stays down, in seconds (0: it never fails)
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_seconds)]
    pub fail_for: f64,

    /// Write a pcap capture of every link into this directory
    #[arg(long, value_name = "DIR")]
    pub pcap: Option<PathBuf>,

    /// Print one JSON object (the summary and the per-second series) instead of text
    #[arg(long)]
    pub json: bool,

    /// Settings of the phone's and the server's stacks
    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// A download size: at least one byte.
fn parse_download_size(text: &str) -> Result<u64, String> {
    match parse_size(text)? {
        0 => Err("a download of 0 bytes shows nothing: give at least 1 byte".to_owned()),
        size => Ok(size),
    }
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && (0.0..=86_400.0).contains(&value) => Ok(value),
        _ => Err(format!(
            "{text:?} is not a number of seconds between 0 and 86400"
        )),
    }
}

impl DemoArgs {
    /// The run these options describe; an error if the settings file cannot be used.
    pub fn config(&self) -> Result<DemoConfig, ConfigError> {
        Ok(DemoConfig {
            size: self.size,
            seed: self.seed,
            fail_at: Duration::from_secs_f64(self.fail_at),
            fail_for: Duration::from_secs_f64(self.fail_for),
            settings: self.settings.spec()?,
        })
    }
}

/// A finished demo.
#[derive(Debug, Clone)]
pub struct DemoRun {
    /// What ran.
    pub config: DemoConfig,
    /// The download, with its samples.
    pub download: ConnectionReport,
    /// Simulated time at the end of the run.
    pub end: Duration,
    /// Wall-clock time of the simulation.
    pub wall: Duration,
}

impl DemoRun {
    /// Every byte arrived, unchanged, and the download finished.
    pub fn ok(&self) -> bool {
        self.download.ok()
    }

    /// The per-second table (the last row may cover less than a second).
    pub fn intervals(&self) -> Vec<Interval> {
        analysis::intervals(&self.download, true)
    }

    /// The failover, if Wi-Fi failed during the download.
    pub fn failover(&self) -> Option<Failover> {
        analysis::failover(&self.download, &self.config)
    }

    /// How long Wi-Fi took to carry data again once back, if it did.
    pub fn recovery(&self) -> Option<Duration> {
        analysis::recovery(&self.download, &self.config)
    }
}

/// Runs the demo; `on_second` gets each whole second of the table as the simulation
/// reaches it. The run stops when the download is complete (or at the scenario's end).
pub fn run(
    config: &DemoConfig,
    pcap_dir: Option<PathBuf>,
    mut on_second: impl FnMut(&Interval),
) -> Result<DemoRun, RunError> {
    let scenario = config.scenario();
    let options = RunOptions {
        pcap_dir,
        sample_every: Some(analysis::SAMPLE_EVERY),
    };
    let wall = WallClock::now();
    let mut shown = 0;
    let report = run_scenario_observed(
        &scenario,
        &options,
        Some(Duration::from_secs(1)),
        |so_far| {
            let Some(download) = so_far.connections.first() else {
                return ControlFlow::Continue(());
            };
            let rows = analysis::intervals(download, false);
            for row in rows.iter().skip(shown) {
                on_second(row);
            }
            shown = shown.max(rows.len());
            if download.finished {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )?;
    let wall = wall.elapsed();
    let download = report
        .connections
        .into_iter()
        .next()
        .expect("the demo scenario has one client");
    Ok(DemoRun {
        config: config.clone(),
        download,
        end: report
            .end
            .saturating_duration_since(mptcp_proto::time::Instant::ZERO),
        wall,
    })
}
