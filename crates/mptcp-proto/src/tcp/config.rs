//! Settings of the TCP engine, shared by every connection of a stack.

use core::time::Duration;
use std::sync::Arc;

use crate::cc::{self, CongestionControllerFactory};

/// TCP settings (the per-connection knobs of a socket, as stack-wide defaults).
#[derive(Debug, Clone)]
pub struct TcpConfig {
    /// Maximum segment size to announce and use (RFC 9293 §3.7.1). `None`: the interface MTU
    /// minus 40 (IPv4) or 60 (IPv6) bytes of headers.
    pub mss: Option<u16>,
    /// Send buffer size in bytes: data the application queued and the peer has not
    /// acknowledged. In a [`Stack`](crate::stack::Stack) it is where a connection's buffer
    /// starts, and the buffer of each MPTCP subflow; those grow towards twice the congestion
    /// windows, up to 4 MiB (as Linux auto-tunes a socket's send buffer); the connection's up
    /// to 8 MiB over subflows of very unequal RTT (a byte on a bufferbloated slow path is
    /// DATA_ACKed only after its round trip).
    pub send_buffer: usize,
    /// Initial receive buffer size in bytes; auto-tuned up to `recv_buffer_max`.
    pub recv_buffer: usize,
    /// Largest receive buffer auto-tuning may reach (equal to `recv_buffer` to disable it).
    /// 8 MiB by default (Linux: 6 MiB): over paths of very unequal delay the data-level
    /// buffer covers the sum of the rates over the slowest path's RTT (RFC 8684 §3.3.5).
    pub recv_buffer_max: usize,
    /// Disable Nagle's algorithm (RFC 9293 §3.7.4), like `TCP_NODELAY`.
    pub nodelay: bool,
    /// Offer selective acknowledgments (RFC 2018).
    pub sack: bool,
    /// Offer timestamps (RFC 7323 §3).
    pub timestamps: bool,
    /// Offer window scaling (RFC 7323 §2).
    pub window_scaling: bool,
    /// Builds each connection's congestion controller.
    pub congestion_control: Arc<dyn CongestionControllerFactory>,
    /// SYN retransmissions before an active open gives up (Linux `tcp_syn_retries`: 6).
    pub syn_retries: u32,
    /// SYN/ACK retransmissions before a passive open gives up (Linux `tcp_synack_retries`: 5).
    pub synack_retries: u32,
    /// Consecutive retransmission timeouts of data before the connection is dropped (Linux
    /// `tcp_retries2`: 15).
    pub max_retransmits: u32,
    /// Idle time before keep-alive probes start (RFC 9293 §3.8.4); `None` disables them.
    pub keepalive: Option<Duration>,
    /// Time between keep-alive probes.
    pub keepalive_interval: Duration,
    /// Unanswered keep-alive probes before the connection is dropped.
    pub keepalive_probes: u32,
    /// Longest time an ACK may be delayed (RFC 9293 §3.8.6.3: under 0.5 s). Zero disables
    /// delayed ACKs.
    pub delayed_ack: Duration,
    /// Pace transmissions over the round trip instead of sending windows in bursts.
    pub pacing: bool,
    /// Retransmission timeout before any RTT sample (RFC 6298 §2.1: 1 s).
    pub initial_rto: Duration,
    /// Floor of the retransmission timeout (RFC 6298 §2.4 says 1 s; Linux uses 200 ms).
    pub min_rto: Duration,
    /// Ceiling of the retransmission timeout (RFC 6298 §2.5: at least 60 s).
    pub max_rto: Duration,
    /// How long TIME-WAIT lasts: 2·MSL (RFC 9293 §3.4.2; Linux: 60 s).
    pub time_wait: Duration,
}

impl Default for TcpConfig {
    fn default() -> Self {
        Self {
            mss: None,
            send_buffer: 256 * 1024,
            recv_buffer: 128 * 1024,
            recv_buffer_max: 8 * 1024 * 1024,
            nodelay: false,
            sack: true,
            timestamps: true,
            window_scaling: true,
            congestion_control: cc::factory_by_name("cubic")
                .unwrap_or_else(|| Arc::new(cc::FixedFactory::default())),
            syn_retries: 6,
            synack_retries: 5,
            max_retransmits: 15,
            keepalive: None,
            keepalive_interval: Duration::from_secs(75),
            keepalive_probes: 9,
            delayed_ack: Duration::from_millis(40),
            pacing: true,
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_millis(200),
            max_rto: Duration::from_secs(60),
            time_wait: Duration::from_secs(60),
        }
    }
}
