//! The seeds' data-centre claim (issue 12; docs/datacenter.md): in a k=4 fat-tree whose
//! switches spread flows by a 5-tuple hash, permutation traffic over single-path TCP loses
//! much of the network to flows that hash onto the same links, and Multipath TCP with 8
//! subflows on the same address pair (`ndiffports`) spreads over the paths and gets most of
//! the optimum back. Raiciu et al. (SIGCOMM 2011) measured about 50 % for TCP and about
//! 90 % for 8 subflows. The test prints every run (`-- --nocapture`).

mod common;

use std::path::PathBuf;

use mptcp_sim::fat_tree::{FatTree, Measurement, Transport, Window, measure};

/// Seeds of the run (each gives other ECMP hashes and other source ports).
const SEEDS: u64 = 3;
/// TCP's mean share of the optimum stays below this.
const TCP_AT_MOST: f64 = 0.60;
/// MPTCP's mean share with 8 subflows reaches this.
const MPTCP_8_AT_LEAST: f64 = 0.80;
/// MPTCP with 8 subflows beats TCP by this much of the optimum on every seed.
const MPTCP_8_LEAD: f64 = 0.20;
/// The transport under test against TCP.
const MPTCP_8: Transport = Transport::Mptcp { subflows: 8 };

#[test]
fn the_shipped_scenario_is_the_generated_fat_tree() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/fat_tree_k4.toml");
    let shipped = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    assert!(
        shipped == FatTree::k4().to_toml(),
        "scenarios/fat_tree_k4.toml is not what FatTree::k4() writes; regenerate it with \
         `cargo run --release -p mptcp-sim --example fat-tree -- scenario > \
         scenarios/fat_tree_k4.toml`"
    );
    assert_eq!(common::shipped("fat_tree_k4"), FatTree::k4().scenario());
}

/// The shipped scenario with `seed`, every host speaking `transport`, measured.
fn run(transport: Transport, seed: u64) -> Measurement {
    let mut scenario = common::shipped("fat_tree_k4");
    scenario.seed = seed;
    transport.apply(&mut scenario);
    let run = measure(&scenario, Window::K4).expect("the scenario runs");
    common::assert_all_intact(&run.report, FatTree::k4().bytes);
    assert!(
        run.none_done,
        "{transport} seed {seed}: a transfer ended within the window"
    );
    for conn in &run.report.connections {
        let subflows = match transport {
            Transport::Tcp => 0,
            Transport::Mptcp { subflows } => usize::from(subflows),
        };
        assert_eq!(
            (conn.mptcp, conn.client_subflows.len()),
            (subflows > 0, subflows),
            "{transport} seed {seed}: {} -> {}",
            conn.client,
            conn.remote
        );
    }
    run
}

#[test]
fn mptcp_with_8_subflows_fills_the_fat_tree_where_tcp_flows_collide() {
    let tree = FatTree::k4();
    let cases: Vec<(Transport, u64)> = (1..=SEEDS)
        .flat_map(|seed| [(Transport::Tcp, seed), (MPTCP_8, seed)])
        .collect();
    // Two threads: the runs are all of this test's time.
    let shares: Vec<f64> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .chunks(cases.len().div_ceil(2))
            .map(|chunk| {
                scope.spawn(|| {
                    chunk
                        .iter()
                        .map(|&(transport, seed)| run(transport, seed).share_of(tree.optimum_bps()))
                        .collect::<Vec<f64>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a run panicked"))
            .collect()
    });
    let mut mean = [0.0; 2];
    for (&(transport, seed), &share) in cases.iter().zip(&shares) {
        println!(
            "{transport:18} seed {seed}: {:5.1} % of the optimum",
            100.0 * share
        );
        mean[usize::from(transport != Transport::Tcp)] += share / SEEDS as f64;
    }
    let [tcp, mptcp] = mean;
    println!(
        "mean: TCP {:.1} %, {MPTCP_8} {:.1} % (Raiciu et al.: about 50 % and 90 %)",
        100.0 * tcp,
        100.0 * mptcp
    );
    assert!(tcp <= TCP_AT_MOST, "TCP at {tcp:.3} of the optimum");
    assert!(
        mptcp >= MPTCP_8_AT_LEAST,
        "{MPTCP_8} at {mptcp:.3} of the optimum"
    );
    for pair in shares.chunks(2) {
        assert!(
            pair[1] - pair[0] >= MPTCP_8_LEAD,
            "{MPTCP_8} {:.3} against TCP {:.3}",
            pair[1],
            pair[0]
        );
    }
}
