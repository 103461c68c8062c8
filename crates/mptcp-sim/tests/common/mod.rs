//! Helpers of the tests that run scenarios with the stack: the shipped scenario files, a
//! check that every transfer arrived whole, and seeded sweeps.

#![allow(dead_code)] // Each test binary uses its own part.

pub mod two_paths;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::Instant;

use mptcp_sim::scenario::Scenario;
use mptcp_sim::{RunOptions, ScenarioReport, run_scenario};

/// The scenario `scenarios/NAME.toml` of the repository.
pub fn shipped(name: &str) -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    Scenario::from_toml_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// Runs `scenario` without captures.
pub fn run(scenario: &Scenario) -> ScenarioReport {
    run_with(scenario, &RunOptions::default())
}

/// Runs `scenario` with `options`.
pub fn run_with(scenario: &Scenario, options: &RunOptions) -> ScenarioReport {
    run_scenario(scenario, options).expect("the scenario runs")
}

/// Asserts that every connection finished intact and received `bytes` payload bytes.
pub fn assert_all_intact(report: &ScenarioReport, bytes: u64) {
    assert!(!report.connections.is_empty(), "no connections");
    for conn in &report.connections {
        assert!(
            conn.ok() && conn.bytes_received == bytes,
            "seed {}: {} -> {} received {} of {bytes} bytes, intact {}, finished {}: {:?}",
            report.seed,
            conn.client,
            conn.remote,
            conn.bytes_received,
            conn.intact,
            conn.finished,
            conn.problem,
        );
    }
    assert_eq!(report.stray_sessions, 0, "seed {}", report.seed);
}

/// The environment variable that sets how many seeds every sweep runs (`scripts/soak` sets
/// it; without it each sweep runs its own default, what CI runs).
pub const SWEEP_SEEDS_VAR: &str = "MPTCP_SWEEP_SEEDS";

/// Runs `scenario(seed)` with seeds 1 to N and checks each report with `check`; N is
/// [`SWEEP_SEEDS_VAR`] if set, else `default_seeds`. A failing check does not stop the
/// sweep: its panic message is printed and the sweep goes on. At the end one line reports
/// the sweep (for `scripts/soak` to read; test binaries show it with `--nocapture`):
///
/// `sweep <test>: seeds N, not intact N, not finished N, failed N, S s`
///
/// counting the seeds where some connection read wrong or missing bytes, where some
/// transfer did not complete, and where `check` panicked; then, if any seed failed, the
/// sweep panics naming them. Returns N.
pub fn sweep(
    default_seeds: u64,
    scenario: impl FnMut(u64) -> Scenario,
    check: impl FnMut(&ScenarioReport),
) -> u64 {
    sweep_with(default_seeds, &RunOptions::default(), scenario, check)
}

/// [`sweep`], running each scenario with `options` (samples, captures).
pub fn sweep_with(
    default_seeds: u64,
    options: &RunOptions,
    mut scenario: impl FnMut(u64) -> Scenario,
    mut check: impl FnMut(&ScenarioReport),
) -> u64 {
    let seeds = match std::env::var(SWEEP_SEEDS_VAR) {
        Ok(n) => n
            .parse()
            .unwrap_or_else(|_| panic!("{SWEEP_SEEDS_VAR}={n}: not a number of seeds")),
        Err(_) => default_seeds,
    };
    let start = Instant::now();
    let (mut not_intact, mut not_finished, mut failed) = (0, 0, Vec::new());
    for seed in 1..=seeds {
        let mut scenario = scenario(seed);
        scenario.seed = seed;
        let report = run_with(&scenario, options);
        not_intact += u32::from(report.connections.iter().any(|c| !c.intact));
        not_finished += u32::from(report.connections.iter().any(|c| !c.finished));
        if catch_unwind(AssertUnwindSafe(|| check(&report))).is_err() {
            failed.push(seed);
        }
    }
    let thread = std::thread::current();
    println!(
        "sweep {}: seeds {seeds}, not intact {not_intact}, not finished {not_finished}, \
         failed {}, {:.1} s",
        thread.name().unwrap_or("?"),
        failed.len(),
        start.elapsed().as_secs_f64(),
    );
    assert!(
        failed.is_empty(),
        "{} of {seeds} seeds failed: {failed:?}",
        failed.len()
    );
    seeds
}
