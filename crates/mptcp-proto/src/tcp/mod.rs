//! The TCP engine: one connection's state machine (RFC 9293), sequence spaces, send and
//! receive buffers, RTT estimation (RFC 6298), SACK (RFC 2018) with SACK-based recovery
//! (RFC 6675), RACK-TLP (RFC 8985), window scaling, timestamps and PAWS (RFC 7323), the
//! RFC 5961 checks, delayed ACKs, Nagle, zero-window probes, keep-alive, receive-buffer
//! auto-tuning and pacing.
//!
//! [`TcpConnection`] is usable on its own: it takes parsed segments
//! ([`TcpRepr`](crate::wire::TcpRepr)) in and writes segments out, so the MPTCP connection
//! level can drive it as a subflow. The [`Stack`](crate::stack::Stack) is a thin layer over
//! it that parses IP packets and demultiplexes them.

mod autotune;
mod config;
mod connection;
mod hooks;
mod input;
mod output;
mod prr;
mod rack;
mod recv_buffer;
mod ring;
mod rtt;
mod scoreboard;
mod state;
mod timers;

pub(crate) use autotune::{Autotune, TuneRtts};
pub use config::TcpConfig;
pub use connection::{ConnectionParams, TcpConnection, TcpInfo};
pub(crate) use connection::{initial_window, our_window_scale, ts_clock};
pub use hooks::{NoHooks, OutgoingSegment, SegmentHooks};
pub(crate) use recv_buffer::RecvBuffer;
pub(crate) use ring::ByteRing;
pub use state::{CloseReason, TcpEvent, TcpState};
