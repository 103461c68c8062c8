//! What our TCP achieves on the simulated links of issue 3: at least 95 % of a clean
//! 100 Mbit/s, 20 ms RTT link as goodput (payload bits over link bits, handshake and slow
//! start included), and CUBIC ahead of NewReno on the same path with 1 % random loss.

mod common;

use common::{assert_all_intact, run, shipped};
use mptcp_sim::scenario::{AppSpec, Scenario};

/// `scenario` with its bulk transfer set to `bytes`.
fn with_bulk_bytes(mut scenario: Scenario, bytes: u64) -> Scenario {
    let bulk = scenario
        .apps
        .iter_mut()
        .find_map(|app| match app {
            AppSpec::Bulk { bytes, .. } => Some(bytes),
            _ => None,
        })
        .expect("a bulk app");
    *bulk = bytes;
    scenario
}

/// `scenario` with MPTCP switched on or off on every host.
fn with_mptcp(mut scenario: Scenario, enabled: bool) -> Scenario {
    for host in &mut scenario.hosts {
        host.settings
            .push("mptcp.enabled", if enabled { "1" } else { "0" });
    }
    scenario
}

/// Goodput of a 256 MiB transfer over the clean 100 Mbit/s, 20 ms RTT link: long enough
/// that the handshake and slow start weigh little.
fn clean_goodput(mptcp: bool) -> f64 {
    let bytes = 256 << 20;
    let mut scenario = with_mptcp(with_bulk_bytes(shipped("clean_100mbit_20ms"), bytes), mptcp);
    scenario.duration = "120s".parse().unwrap();
    let report = run(&scenario);
    assert_all_intact(&report, bytes);
    let goodput = report.connections[0].goodput_bps();
    eprintln!("MPTCP {mptcp}: goodput {:.2} Mbit/s", goodput / 1e6);
    goodput
}

#[test]
fn goodput_is_at_least_95_percent_of_a_clean_100_mbit_link() {
    // TCP: 1448 payload bytes per 1500-byte packet put the ceiling at 96.5 Mbit/s.
    let tcp = clean_goodput(false);
    assert!(tcp >= 95e6, "TCP goodput {:.2} Mbit/s", tcp / 1e6);
    // MPTCP on one subflow: the DSS option (28 bytes) leaves 1420, a ceiling of 94.7.
    let mptcp = clean_goodput(true);
    assert!(mptcp >= 93e6, "MPTCP goodput {:.2} Mbit/s", mptcp / 1e6);
}

#[test]
fn cubic_beats_newreno_with_1_percent_loss() {
    let bytes = 32 << 20;
    for seed in [1, 2] {
        let goodput = |controller: &str| {
            let mut scenario = with_mptcp(with_bulk_bytes(shipped("lossy_1pct"), bytes), false);
            scenario.seed = seed;
            scenario.hosts[0]
                .settings
                .push("tcp.congestion_control", controller);
            let report = run(&scenario);
            assert_all_intact(&report, bytes);
            report.connections[0].goodput_bps()
        };
        let (cubic, reno) = (goodput("cubic"), goodput("reno"));
        assert!(
            cubic > reno,
            "seed {seed}: CUBIC {:.2} Mbit/s, NewReno {:.2} Mbit/s",
            cubic / 1e6,
            reno / 1e6
        );
        eprintln!(
            "seed {seed}: CUBIC {:.2} Mbit/s, NewReno {:.2} Mbit/s",
            cubic / 1e6,
            reno / 1e6
        );
    }
}
