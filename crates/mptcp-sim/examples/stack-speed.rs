//! Measures how fast the simulator runs the real TCP stack: a bulk transfer of 1 GiB (the
//! first argument, in MiB, default 1024) from one `StackHost` to another over one 100 Mbit/s
//! link with 10 ms each way (20 ms RTT) and a drop-tail queue of about one bandwidth-delay
//! product, through [`run_scenario`]. The scenario lasts as long as the second argument (in
//! seconds, default 90: a 1 GiB transfer at line rate takes about 89 s). Prints simulated
//! seconds per wall-clock second, simulator events per wall-clock second, and the goodput.
//!
//! `cargo run --release -p mptcp-sim --example stack-speed -- 1024 90`

use std::time::Instant as WallClock;

use mptcp_sim::scenario::Scenario;
use mptcp_sim::{RunOptions, run_scenario};

fn main() {
    let mut args = std::env::args().skip(1);
    let mebibytes: u64 = args
        .next()
        .map(|arg| arg.parse().expect("a transfer size in MiB"))
        .unwrap_or(1024);
    let seconds: u64 = args
        .next()
        .map(|arg| arg.parse().expect("a number of simulated seconds"))
        .unwrap_or(90);
    let scenario = Scenario::from_toml_str(&format!(
        r#"
        seed = 1
        duration = "{seconds}s"
        hosts = [
            {{ name = "client", addresses = ["10.0.0.1/24"] }},
            {{ name = "server", addresses = ["10.0.0.2/24"] }},
        ]
        links = [{{ a = "client:0", b = "server:0", rate = "100Mbit", delay = "10ms",
                    queue = {{ packets = 167 }} }}]
        apps = [
            {{ kind = "server", host = "server", port = 5001 }},
            {{ kind = "bulk", host = "client", connect = "10.0.0.2:5001",
               bytes = {bytes} }},
        ]
        "#,
        bytes = mebibytes << 20,
    ))
    .expect("a valid scenario");
    let wall = WallClock::now();
    let report = run_scenario(&scenario, &RunOptions::default()).expect("the scenario runs");
    let elapsed = wall.elapsed().as_secs_f64();
    let simulated = report.end.as_nanos() as f64 / 1e9;
    let connection = &report.connections[0];
    println!(
        "{simulated:.1} simulated s in {elapsed:.3} wall s: {:.1}x real time; {} events, {:.2} M \
         events/s; transfer {} in {:.2} s, goodput {:.2} Mbit/s, {} retransmits",
        simulated / elapsed,
        report.events,
        report.events as f64 / elapsed / 1e6,
        if connection.ok() { "intact" } else { "NOT OK" },
        connection.duration().as_secs_f64(),
        connection.goodput_bps() / 1e6,
        connection.retransmits,
    );
}
