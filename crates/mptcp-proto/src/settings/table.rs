//! Every setting, in the order `mptcp settings` lists them.

use core::time::Duration;

use super::{Kind, Setting, Value};
use crate::cc::{CONTROLLERS, factory_by_name};
use crate::conn::MptcpEnabled;
use crate::pm::PATH_MANAGERS;
use crate::sched::{BLEST_LAMBDA_RANGE, SCHEDULERS};

const MIB: u64 = 1 << 20;

/// A buffer size in bytes: from 4 KiB (Linux's smallest `tcp_rmem`/`tcp_wmem`) to 256 MiB.
const BUFFER: Kind = Kind::Integer {
    min: 4096,
    max: 256 * MIB,
};

/// A count of things per turn or a factor: 1 to 65 535.
const COUNT: Kind = Kind::Integer {
    min: 1,
    max: 65_535,
};

/// Subflows a path manager opens per address pair: 1 to 32 (each is a TCP connection;
/// the connection's subflow limit applies on top).
const SUBFLOWS: Kind = Kind::Integer { min: 1, max: 32 };

/// A number of bytes or things as the configuration holds it.
fn size(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The settings, in the order `mptcp settings` lists them.
pub static SETTINGS: &[Setting] = &[
    Setting {
        name: "mptcp.enabled",
        kind: Kind::Integer { min: 0, max: 2 },
        doc: "Offer MPTCP on connections we open and accept it when offered: 0 never (plain \
              TCP, even for connections that ask), 1 always, 2 only for connections whose own \
              settings say 1",
        seeds: Some("net.mptcp.mptcp_enabled"),
        linux: Some("net.mptcp.enabled"),
        get: |s| {
            Value::Integer(match s.mptcp_enabled {
                MptcpEnabled::Off => 0,
                MptcpEnabled::On => 1,
                MptcpEnabled::OnRequest => 2,
            })
        },
        set: |s, v| {
            s.mptcp_enabled = match v.integer() {
                0 => MptcpEnabled::Off,
                1 => MptcpEnabled::On,
                _ => MptcpEnabled::OnRequest,
            }
        },
        apply: |s, _, m| m.enabled = s.mptcp_enabled,
    },
    Setting {
        name: "mptcp.checksum",
        kind: Kind::Switch,
        doc: "Ask for DSS checksums (RFC 8684 §3.3.1); they are used when either side asks",
        seeds: Some("net.mptcp.mptcp_checksum"),
        linux: Some("net.mptcp.checksum_enabled"),
        get: |s| Value::Switch(s.checksum),
        set: |s, v| s.checksum = v.switch(),
        apply: |s, _, m| m.checksum = s.checksum,
    },
    Setting {
        name: "mptcp.syn_retries",
        kind: Kind::Integer { min: 0, max: 127 },
        doc: "Retransmissions of a SYN that still carry MP_CAPABLE; later ones go without, so \
              a path that drops SYNs with unknown options connects as plain TCP",
        seeds: Some("net.mptcp.mptcp_syn_retries"),
        linux: Some("net.mptcp.syn_retrans_before_tcp_fallback"),
        get: |s| Value::Integer(s.mptcp_syn_retries),
        set: |s, v| s.mptcp_syn_retries = v.integer(),
        apply: |s, _, m| m.syn_retries = u32::try_from(s.mptcp_syn_retries).unwrap_or(u32::MAX),
    },
    Setting {
        name: "mptcp.version",
        kind: Kind::Name(&["1"]),
        doc: "The MPTCP version offered and accepted: 1 (RFC 8684); version 0 (RFC 6824) is not \
              spoken (today's Linux does not either), only decoded",
        seeds: Some("net.mptcp.mptcp_version"),
        linux: None,
        get: |_| Value::Name("1"),
        set: |_, _| {},
        apply: |_, _, _| {},
    },
    Setting {
        name: "mptcp.debug",
        kind: Kind::Integer { min: 0, max: 2 },
        doc: "Records of what connections and subflows do, through tracing: 0 none, 1 at \
              DEBUG (events, fallbacks, failures, resets), 2 also at TRACE; the commands print \
              them on standard error",
        seeds: Some("net.mptcp.mptcp_debug"),
        linux: None,
        get: |s| Value::Integer(s.debug),
        set: |s, v| s.debug = v.integer(),
        apply: |s, _, m| m.debug = u8::try_from(s.debug).unwrap_or(u8::MAX),
    },
    Setting {
        name: "mptcp.path_manager",
        kind: Kind::Name(PATH_MANAGERS),
        doc: "Which subflows a connection opens and which addresses it announces",
        seeds: Some("net.mptcp.mptcp_path_manager"),
        linux: Some("net.mptcp.path_manager"),
        get: |s| Value::Name(s.path_manager),
        set: |s, v| s.path_manager = v.name(),
        apply: |s, _, m| m.path_manager = s.path_manager_choice(),
    },
    Setting {
        name: "fullmesh.num_subflows",
        kind: SUBFLOWS,
        doc: "fullmesh: subflows per pair of a local and a remote address (the initial one \
              counts for its pair)",
        seeds: Some("mptcp_fullmesh num_subflows"),
        linux: None,
        get: |s| Value::Integer(u64::from(s.fullmesh_num_subflows)),
        set: |s, v| s.fullmesh_num_subflows = u16::try_from(v.integer()).unwrap_or(1),
        apply: |s, _, m| s.apply_path_manager_parameters_of("fullmesh", m),
    },
    Setting {
        name: "fullmesh.create_on_err",
        kind: Kind::Switch,
        doc: "fullmesh: open again, a second later, a subflow whose handshake or \
              retransmissions timed out",
        seeds: Some("mptcp_fullmesh create_on_err"),
        linux: None,
        get: |s| Value::Switch(s.fullmesh_create_on_err),
        set: |s, v| s.fullmesh_create_on_err = v.switch(),
        apply: |s, _, m| s.apply_path_manager_parameters_of("fullmesh", m),
    },
    Setting {
        name: "ndiffports.num_subflows",
        kind: SUBFLOWS,
        doc: "ndiffports: subflows on the initial address pair, each from its own source \
              port (the initial one included)",
        seeds: Some("mptcp_ndiffports num_subflows"),
        linux: None,
        get: |s| Value::Integer(u64::from(s.ndiffports_num_subflows)),
        set: |s, v| s.ndiffports_num_subflows = u16::try_from(v.integer()).unwrap_or(1),
        apply: |s, _, m| s.apply_path_manager_parameters_of("ndiffports", m),
    },
    Setting {
        name: "mptcp.scheduler",
        kind: Kind::Name(SCHEDULERS),
        doc: "Which subflow carries the next data (docs/schedulers.md)",
        seeds: Some("net.mptcp.mptcp_scheduler"),
        linux: Some("net.mptcp.scheduler"),
        get: |s| Value::Name(s.scheduler),
        set: |s, v| s.scheduler = v.name(),
        apply: |s, _, m| m.scheduler = s.scheduler_choice(),
    },
    Setting {
        name: "roundrobin.num_segments",
        kind: COUNT,
        doc: "roundrobin: segments a subflow sends per turn",
        seeds: Some("mptcp_rr num_segments"),
        linux: None,
        get: |s| Value::Integer(u64::from(s.roundrobin_num_segments)),
        set: |s, v| s.roundrobin_num_segments = u32::try_from(v.integer()).unwrap_or(1),
        apply: |s, _, m| s.apply_parameters_of("roundrobin", m),
    },
    Setting {
        name: "roundrobin.cwnd_limited",
        kind: Kind::Switch,
        doc: "roundrobin: skip subflows whose congestion window is full (0: strict turns)",
        seeds: Some("mptcp_rr cwnd_limited"),
        linux: None,
        get: |s| Value::Switch(s.roundrobin_cwnd_limited),
        set: |s, v| s.roundrobin_cwnd_limited = v.switch(),
        apply: |s, _, m| s.apply_parameters_of("roundrobin", m),
    },
    Setting {
        name: "blest.lambda",
        kind: Kind::Decimal {
            min: *BLEST_LAMBDA_RANGE.start(),
            max: *BLEST_LAMBDA_RANGE.end(),
        },
        doc: "blest: scaling of its estimate of what the fast subflow sends meanwhile",
        seeds: Some("mptcp_blest lambda"),
        linux: None,
        get: |s| Value::Decimal(s.blest_lambda),
        set: |s, v| s.blest_lambda = v.decimal(),
        apply: |s, _, m| s.apply_parameters_of("blest", m),
    },
    Setting {
        name: "ecf.r_beta",
        kind: COUNT,
        doc: "ecf: the inverse of its hysteresis factor",
        seeds: Some("mptcp_ecf r_beta"),
        linux: None,
        get: |s| Value::Integer(u64::from(s.ecf_r_beta)),
        set: |s, v| s.ecf_r_beta = u32::try_from(v.integer()).unwrap_or(1),
        apply: |s, _, m| s.apply_parameters_of("ecf", m),
    },
    Setting {
        name: "tcp.congestion_control",
        kind: Kind::Name(CONTROLLERS),
        doc: "Each subflow's congestion controller",
        seeds: Some("net.ipv4.tcp_congestion_control"),
        linux: Some("net.ipv4.tcp_congestion_control"),
        get: |s| Value::Name(s.congestion_control),
        set: |s, v| s.congestion_control = v.name(),
        apply: |s, t, _| {
            if let Some(factory) = factory_by_name(s.congestion_control) {
                t.congestion_control = factory;
            }
        },
    },
    Setting {
        name: "limits.subflows",
        kind: Kind::Integer { min: 0, max: 8 },
        doc: "Most subflows beyond the first a connection keeps; joins beyond it are refused \
              (MP_TCPRST 3)",
        seeds: None,
        linux: Some("ip mptcp limits set subflows"),
        get: |s| Value::Integer(s.subflows),
        set: |s, v| s.subflows = v.integer(),
        apply: |s, _, m| m.max_subflows = size(s.subflows),
    },
    Setting {
        name: "limits.half_open_joins",
        kind: Kind::Integer { min: 1, max: 64 },
        doc: "Most joins the peer opened whose handshake is not complete; more are refused \
              (MP_TCPRST 2)",
        seeds: None,
        linux: None,
        get: |s| Value::Integer(s.half_open_joins),
        set: |s, v| s.half_open_joins = v.integer(),
        apply: |s, _, m| m.max_half_open_joins = size(s.half_open_joins),
    },
    Setting {
        name: "limits.add_addr_accepted",
        kind: Kind::Integer { min: 0, max: 8 },
        doc: "Most addresses the peer announces that a connection keeps and hands to its path \
              manager; later ones are echoed and ignored",
        seeds: None,
        linux: Some("ip mptcp limits set add_addr_accepted"),
        get: |s| Value::Integer(s.add_addr_accepted),
        set: |s, v| s.add_addr_accepted = v.integer(),
        apply: |s, _, m| m.max_add_addr_accepted = size(s.add_addr_accepted),
    },
    Setting {
        name: "mptcp.add_addr_timeout",
        kind: Kind::Integer { min: 1, max: 3600 },
        doc: "Seconds one of our ADD_ADDRs waits for the peer's echo before it goes again (five \
              tries)",
        seeds: None,
        linux: Some("net.mptcp.add_addr_timeout"),
        get: |s| Value::Integer(s.add_addr_timeout),
        set: |s, v| s.add_addr_timeout = v.integer(),
        apply: |s, _, m| m.add_addr_timeout = Duration::from_secs(s.add_addr_timeout),
    },
    Setting {
        name: "mptcp.close_timeout",
        kind: Kind::Integer { min: 1, max: 3600 },
        doc: "Seconds a connection the application closed may take to finish closing (both \
              ends of the stream acknowledged) before it is aborted (MP_FASTCLOSE with RST, or \
              RST)",
        seeds: None,
        linux: Some("net.mptcp.close_timeout"),
        get: |s| Value::Integer(s.close_timeout),
        set: |s, v| s.close_timeout = v.integer(),
        apply: |s, _, m| m.close_timeout = Duration::from_secs(s.close_timeout),
    },
    Setting {
        name: "tcp.send_buffer",
        kind: BUFFER,
        doc: "Send buffer a connection starts with, bytes (it grows with the windows; the TUN \
              runtime of connect/listen starts at 1 MiB)",
        seeds: Some("net.ipv4.tcp_wmem"),
        linux: Some("net.ipv4.tcp_wmem"),
        get: |s| Value::Integer(s.send_buffer),
        set: |s, v| s.send_buffer = v.integer(),
        apply: |s, t, _| t.send_buffer = size(s.send_buffer),
    },
    Setting {
        name: "tcp.recv_buffer",
        kind: BUFFER,
        doc: "Receive buffer a connection starts with, bytes",
        seeds: Some("net.ipv4.tcp_rmem"),
        linux: Some("net.ipv4.tcp_rmem"),
        get: |s| Value::Integer(s.recv_buffer),
        set: |s, v| s.recv_buffer = v.integer(),
        apply: |s, t, _| t.recv_buffer = size(s.recv_buffer),
    },
    Setting {
        name: "tcp.recv_buffer_max",
        kind: BUFFER,
        doc: "Largest receive buffer, bytes: auto-tuning grows it up to this (at or below \
              tcp.recv_buffer: a fixed buffer of this size)",
        seeds: Some("net.ipv4.tcp_rmem (max)"),
        linux: Some("net.ipv4.tcp_rmem (max)"),
        get: |s| Value::Integer(s.recv_buffer_max),
        set: |s, v| s.recv_buffer_max = v.integer(),
        apply: |s, t, _| t.recv_buffer_max = size(s.recv_buffer_max),
    },
    Setting {
        name: "tcp.syn_retries",
        kind: Kind::Integer { min: 1, max: 127 },
        doc: "SYN retransmissions before connecting gives up",
        seeds: Some("net.ipv4.tcp_syn_retries"),
        linux: Some("net.ipv4.tcp_syn_retries"),
        get: |s| Value::Integer(s.syn_retries),
        set: |s, v| s.syn_retries = v.integer(),
        apply: |s, t, _| t.syn_retries = u32::try_from(s.syn_retries).unwrap_or(u32::MAX),
    },
    Setting {
        name: "tcp.nodelay",
        kind: Kind::Switch,
        doc: "Send small segments at once instead of waiting (Nagle's algorithm off)",
        seeds: Some("TCP_NODELAY"),
        linux: Some("TCP_NODELAY"),
        get: |s| Value::Switch(s.nodelay),
        set: |s, v| s.nodelay = v.switch(),
        apply: |s, t, _| t.nodelay = s.nodelay,
    },
    Setting {
        name: "tcp.sack",
        kind: Kind::Switch,
        doc: "Offer selective acknowledgments (RFC 2018)",
        seeds: Some("net.ipv4.tcp_sack"),
        linux: Some("net.ipv4.tcp_sack"),
        get: |s| Value::Switch(s.sack),
        set: |s, v| s.sack = v.switch(),
        apply: |s, t, _| t.sack = s.sack,
    },
    Setting {
        name: "tcp.timestamps",
        kind: Kind::Switch,
        doc: "Offer timestamps (RFC 7323 §3)",
        seeds: Some("net.ipv4.tcp_timestamps"),
        linux: Some("net.ipv4.tcp_timestamps"),
        get: |s| Value::Switch(s.timestamps),
        set: |s, v| s.timestamps = v.switch(),
        apply: |s, t, _| t.timestamps = s.timestamps,
    },
    Setting {
        name: "tcp.window_scaling",
        kind: Kind::Switch,
        doc: "Offer window scaling (RFC 7323 §2)",
        seeds: Some("net.ipv4.tcp_window_scaling"),
        linux: Some("net.ipv4.tcp_window_scaling"),
        get: |s| Value::Switch(s.window_scaling),
        set: |s, v| s.window_scaling = v.switch(),
        apply: |s, t, _| t.window_scaling = s.window_scaling,
    },
    Setting {
        name: "tcp.pacing",
        kind: Kind::Switch,
        doc: "Pace segments over the round trip instead of sending windows in bursts",
        seeds: None,
        linux: Some("fq qdisc / SO_MAX_PACING_RATE"),
        get: |s| Value::Switch(s.pacing),
        set: |s, v| s.pacing = v.switch(),
        apply: |s, t, _| t.pacing = s.pacing,
    },
];
