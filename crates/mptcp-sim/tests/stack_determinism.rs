//! Same scenario and seed with the stack on every host: the same report and byte-identical
//! captures; another seed: different captures.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::shipped;
use mptcp_sim::scenario::{AppSpec, Scenario};
use mptcp_sim::{RunOptions, ScenarioReport, run_scenario};

/// Runs `scenario` with captures into a fresh directory `name`; the report and the captures
/// by file name.
fn run_captured(scenario: &Scenario, name: &str) -> (ScenarioReport, Vec<(String, Vec<u8>)>) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    let options = RunOptions {
        pcap_dir: Some(dir.clone()),
        ..RunOptions::default()
    };
    let report = run_scenario(scenario, &options).unwrap();
    (report, read_dir(&dir))
}

fn read_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn same_seed_same_captures() {
    // Loss, reordering, jitter and a routed path, shortened to 4 MiB.
    let mut scenario = shipped("middlebox_seq_rewrite");
    let AppSpec::Bulk { bytes, .. } = &mut scenario.apps[1] else {
        panic!("expected a bulk app, found {:?}", scenario.apps[1]);
    };
    *bytes = 4 << 20;
    scenario.duration = "20s".parse().unwrap();
    let (first, first_pcaps) = run_captured(&scenario, "determinism-a");
    let (second, second_pcaps) = run_captured(&scenario, "determinism-b");
    assert!(first.all_ok(), "{first:?}");
    assert_eq!(first, second);
    assert_eq!(first_pcaps.len(), 2);
    assert!(first_pcaps.iter().all(|(_, bytes)| bytes.len() > 4 << 20));
    assert!(first_pcaps == second_pcaps, "captures differ");
    scenario.seed += 1;
    let (_, other_pcaps) = run_captured(&scenario, "determinism-c");
    assert!(
        first_pcaps != other_pcaps,
        "another seed gave the same captures"
    );
}
