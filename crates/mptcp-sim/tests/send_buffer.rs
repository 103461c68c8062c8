//! Subflow send buffers grow with their congestion windows (after Linux's
//! `tcp_sndbuf_expand`): a subflow keeps its copy of the data until its own ACK, so at the
//! initial 256 KiB it could never have more than that in flight. Two MPTCP uploads over two
//! equal paths: long fat ones, where the initial buffers capped the transfer, and slow ones
//! with shallow queues, where the larger windows must not turn loss recovery into a
//! retransmission storm.

mod common;

use common::two_paths::{PathSpec, two_paths};
use common::{assert_all_intact, run};
use mptcp_sim::ScenarioReport;
use mptcp_sim::scenario::Scenario;

/// A two-address client uploading `bytes` over two paths of `mbit` Mbit/s with `delay_ms`
/// each way and drop-tail queues of `queue` packets.
fn equal_paths(mbit: u32, delay_ms: u32, queue: u32, bytes: u64) -> Scenario {
    let path = PathSpec {
        queue,
        ..PathSpec::new(mbit, delay_ms)
    };
    two_paths(
        1,
        [path; 2],
        "",
        "",
        &format!("kind = \"bulk\"\nbytes = {bytes}"),
    )
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
    // What the queues drop is mostly slow start's overshoot: the path holds 860 packets in
    // flight plus 100 queued, and its queueing delay at most (12 ms) stays under what
    // HyStart++ takes for a rise of the RTT (1/8 of 100 ms), so slow start runs until the
    // first losses. How far it overshoots depends on what else caps the window: 1.6-7.0 %
    // of a subflow's bytes with 4 MiB send buffers (with and without PRR, opportunistic
    // retransmission's margin and a 6 or 8 MiB receive buffer), 9.4-11.5 % when the
    // connection's could reach 8 MiB over these equal paths (it no longer can, see
    // `SEND_BUFFER_BASE`); a retransmission storm would cost several times that.
    let bytes = 64 << 20;
    let goodput = upload(&equal_paths(100, 50, 100, bytes), bytes, 0.08);
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
    let goodput = upload(&equal_paths(10, 70, 25, bytes), bytes, 0.04);
    assert!(goodput >= 16e6, "goodput {:.2} Mbit/s", goodput / 1e6);
}
