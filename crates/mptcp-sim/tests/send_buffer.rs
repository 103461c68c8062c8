//! Subflow send buffers grow with their congestion windows (after Linux's
//! `tcp_sndbuf_expand`): a subflow keeps its copy of the data until its own ACK, so at the
//! initial 256 KiB it could never have more than that in flight. Two MPTCP uploads over two
//! equal paths: long fat ones, where the initial buffers capped the transfer, and slow ones
//! with shallow queues, where the larger windows must not turn loss recovery into a
//! retransmission storm.

mod common;

use common::{assert_all_intact, run};
use mptcp_sim::ScenarioReport;
use mptcp_sim::scenario::Scenario;

/// A two-address client uploading `bytes` to a server behind a router, over two paths of
/// `rate` with `delay` each way and drop-tail queues of `queue` packets.
fn two_paths(rate: &str, delay: &str, queue: usize, bytes: u64) -> Scenario {
    Scenario::from_toml_str(&format!(
        r#"
        seed = 1
        duration = "120s"
        hosts = [
            {{ name = "client", addresses = ["10.0.1.1/24", "10.0.2.1/24"] }},
            {{ name = "server", addresses = ["10.0.3.1/24"] }},
        ]
        [[routers]]
        name = "r"
        routes = [
            {{ prefix = "10.0.1.0/24", iface = 0 }},
            {{ prefix = "10.0.2.0/24", iface = 1 }},
            {{ prefix = "10.0.3.0/24", iface = 2 }},
        ]
        [[links]]
        a = "client:0"
        b = "r:0"
        rate = "{rate}"
        delay = "{delay}"
        queue = {{ packets = {queue} }}
        [[links]]
        a = "client:1"
        b = "r:1"
        rate = "{rate}"
        delay = "{delay}"
        queue = {{ packets = {queue} }}
        [[links]]
        a = "r:2"
        b = "server:0"
        rate = "10000Mbit"
        delay = "0ms"
        [[apps]]
        kind = "server"
        host = "server"
        port = 80
        [[apps]]
        kind = "bulk"
        host = "client"
        connect = "10.0.3.1:80"
        bytes = {bytes}
        "#
    ))
    .expect("a valid scenario")
}

/// Runs `scenario`, checks the upload of `bytes` arrived whole over two subflows and that
/// no subflow timed out or retransmitted more than `max_share` of what it sent; returns the
/// goodput in bit/s.
fn upload(scenario: &Scenario, bytes: u64, max_share: f64) -> f64 {
    let report: ScenarioReport = run(scenario);
    assert_all_intact(&report, bytes);
    let conn = &report.connections[0];
    assert!(conn.mptcp);
    assert_eq!(conn.client_subflows.len(), 2);
    let goodput = conn.goodput_bps();
    for subflow in &conn.client_subflows {
        let tcp = &subflow.tcp;
        let share = tcp.bytes_retransmitted as f64 / tcp.bytes_sent as f64;
        eprintln!(
            "subflow {}: {} bytes sent, {:.2} % retransmitted, {} timeouts, cwnd {}",
            subflow.local,
            tcp.bytes_sent,
            share * 100.0,
            tcp.timeouts,
            tcp.cwnd
        );
        assert_eq!(tcp.timeouts, 0, "{}", subflow.local);
        assert!(
            share <= max_share,
            "{}: {:.2} %",
            subflow.local,
            share * 100.0
        );
    }
    eprintln!("goodput {:.2} Mbit/s", goodput / 1e6);
    goodput
}

#[test]
fn subflows_outgrow_their_initial_send_buffer_on_long_fat_paths() {
    // 100 Mbit/s with 50 ms each way: a bandwidth-delay product of 1.25 MB per path. With
    // 256 KiB in flight per subflow and an RTT of at least 100 ms, the two could carry at
    // most 2 · 256 KiB / 100 ms = 42 Mbit/s.
    // What the queues drop is mostly slow start's overshoot (the path holds 860 packets in
    // flight plus 100 queued): 2.1-6.6 % of a subflow's bytes depending on how the two
    // subflows share the load (measured with and without PRR and opportunistic
    // retransmission's margin); a retransmission storm would cost several times that.
    let bytes = 64 << 20;
    let goodput = upload(&two_paths("100Mbit", "50ms", 100, bytes), bytes, 0.08);
    assert!(goodput >= 100e6, "goodput {:.2} Mbit/s", goodput / 1e6);
}

#[test]
fn larger_windows_over_shallow_queues_set_off_no_retransmission_storm() {
    // 10 Mbit/s with 70 ms each way and 25-packet queues: each path holds 175 KB plus
    // 37.5 KB queued, so the windows outgrow 128 KiB and the buffers grow past 256 KiB.
    // Recovery must cost about what the queues drop (see tcp_loss_recovery.rs for the
    // bound), with no timeout; the slow start of a 140 ms path and the epochs' reductions
    // leave the goodput above 80 % of the 20 Mbit/s.
    let bytes = 32 << 20;
    let goodput = upload(&two_paths("10Mbit", "70ms", 25, bytes), bytes, 0.04);
    assert!(goodput >= 16e6, "goodput {:.2} Mbit/s", goodput / 1e6);
}
