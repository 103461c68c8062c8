//! Sans-I/O Multipath TCP protocol core.
//!
//! This crate holds everything of the protocol that does not touch an operating system: the
//! bytes on the wire ([`wire`]), the cryptography of MPTCP ([`crypto`]), the TCP subflow
//! engine ([`tcp`]), congestion controllers ([`cc`]), the MPTCP connection level ([`conn`]),
//! path managers ([`pm`]), schedulers ([`sched`]), the settings registry ([`settings`]) and
//! one host's stack ([`stack`]). It owns no sockets, threads or clocks: time and randomness
//! are always handed in by the caller, so every run is repeatable.
//!
//! # Layers
//!
//! - [`wire`]: IPv4/IPv6/TCP headers, TCP options and the MPTCP option (kind 30), each as a
//!   checked view over a byte buffer plus a parsed representation (`*Repr`) that emits
//!   byte-exactly; Internet and DSS checksums; wrapping sequence-number newtypes.
//! - [`crypto`]: key → token / IDSN, MP_JOIN and ADD_ADDR HMACs for MPTCP v0 and v1.
//! - [`tcp`]: one TCP connection (a subflow): RFC 9293 state machine, buffers, RFC 6298 RTO,
//!   SACK and RFC 6675 recovery, RACK-TLP, PRR (RFC 6937), RFC 7323, RFC 5961 checks.
//! - [`cc`]: the congestion-controller trait and its implementations.
//! - [`conn`]: one MPTCP connection (RFC 8684): its subflows, the data level (mappings,
//!   DATA_ACKs, re-injection, DATA_FIN), signals, MP_FAIL and fallback.
//! - [`pm`] and [`sched`]: which subflows a connection opens, and which subflow carries the
//!   next data.
//! - [`settings`]: every setting by the seeds' names, checked, applied to a configuration.
//! - [`stack`]: one host — interfaces, listeners, connections, demultiplexing by 4-tuple —
//!   behind the handle/poll API (`handle_packet`, `handle_timeout`, `poll_transmit`,
//!   `poll_timeout`, `poll_event`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cc;
pub mod conn;
pub mod crypto;
mod ids;
pub mod pm;
pub mod sched;
pub mod settings;
pub mod stack;
pub mod tcp;
pub mod time;
pub mod wire;
