//! Many seeds, each a different run: 256 KiB over a link that loses, reorders, duplicates
//! and corrupts packets in both directions. Every transfer must arrive byte for byte; a
//! failing seed is a reproducible bug (`mptcp sim --seed N` on the same scenario).

mod common;

use common::{assert_all_intact, sweep};
use mptcp_sim::scenario::Scenario;

const SCENARIO: &str = r#"
seed = 0
duration = "120s"
hosts = [
    { name = "client", addresses = ["10.0.0.1/24"] },
    { name = "server", addresses = ["10.0.0.2/24"] },
]
[[links]]
a = "client:0"
b = "server:0"
rate = "20Mbit"
delay = "10ms"
queue = { packets = 50 }
loss = { model = "random", probability = 0.02 }
reorder = { probability = 0.03, delay = "3ms" }
duplicate = 0.02
corrupt = 0.005

[[apps]]
kind = "server"
host = "server"
port = 80

[[apps]]
kind = "bulk"
host = "client"
connect = "10.0.0.2:80"
bytes = 262_144
"#;

#[test]
fn every_seed_delivers_intact() {
    let scenario = Scenario::from_toml_str(SCENARIO).unwrap();
    sweep(
        200,
        |_| scenario.clone(),
        |report| assert_all_intact(report, 262_144),
    );
}
