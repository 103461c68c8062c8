//! Helpers of the tests that run scenarios with the stack: the shipped scenario files and a
//! check that every transfer arrived whole.

#![allow(dead_code)] // Each test binary uses its own part.

use std::path::PathBuf;

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
    run_scenario(scenario, &RunOptions::default()).expect("the scenario runs")
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
