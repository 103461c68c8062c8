//! `mptcp sim`: runs a scenario file in the simulator, with the stack on every host, and
//! reports each connection as a table ([`write_text`]) or one JSON object ([`to_json`]).

mod json;
mod text;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant as WallClock};

use core::ops::ControlFlow;
use mptcp_sim::scenario::{Scenario, ScenarioError, SettingsSpec};

use mptcp_sim::{RunError, RunOptions, ScenarioReport, run_scenario_observed};
use thiserror::Error;

pub use json::to_json;
pub use text::write_text;

/// Why a scenario file could not be run.
#[derive(Debug, Error)]
pub enum SimError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid scenario.
    #[error("{path}: {source}")]
    Scenario {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: ScenarioError,
    },
    /// The scenario cannot be built or its captures written.
    #[error("{path}: {source}")]
    Run {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: RunError,
    },
}

impl SimError {
    /// The scenario (or the settings given with it) is what is wrong: a usage error, not a
    /// failed run.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::Read { .. }
                | Self::Scenario { .. }
                | Self::Run {
                    source: RunError::Scenario(_),
                    ..
                }
        )
    }
}

/// A finished run and how long it took on the wall clock.
#[derive(Debug, Clone)]
pub struct SimRun {
    /// What the run produced.
    pub report: ScenarioReport,
    /// Wall-clock time of the simulation.
    pub wall: Duration,
}

/// Reads the scenario at `path`, replaces its seed with `seed` if given, adds `settings` to
/// every host's (after its own, so they win), runs it. Every simulated second, `progress`
/// hears how far the run is and the scenario's duration (the run is the same either way).
pub fn run_file(
    path: &Path,
    seed: Option<u64>,
    settings: &SettingsSpec,
    options: &RunOptions,
    mut progress: impl FnMut(Duration, Duration),
) -> Result<SimRun, SimError> {
    let text = std::fs::read_to_string(path).map_err(|source| SimError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut scenario = Scenario::from_toml_str(&text).map_err(|source| SimError::Scenario {
        path: path.to_owned(),
        source,
    })?;
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    for host in &mut scenario.hosts {
        host.settings.0.extend(settings.0.iter().cloned());
        if settings.has("mptcp.scheduler") {
            // The command line's scheduler replaces the scenario's profile.
            host.profile = None;
        }
    }
    let wall = WallClock::now();
    let total = scenario.duration.0;
    let step = Some(Duration::from_secs(1));
    let report = run_scenario_observed(&scenario, options, step, |so_far| {
        progress(Duration::from_nanos(so_far.end.as_nanos()), total);
        ControlFlow::Continue(())
    })
    .map_err(|source| SimError::Run {
        path: path.to_owned(),
        source,
    })?;
    Ok(SimRun {
        report,
        wall: wall.elapsed(),
    })
}
