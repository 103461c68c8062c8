//! The library behind the `mptcp` command.
//!
//! The binary (`src/main.rs`) only parses arguments and prints; everything that can be tested
//! lives here:
//!
//! - [`demo`]: `mptcp demo`, a phone downloading over Wi-Fi and cellular in the simulator
//!   while Wi-Fi fails and comes back.
//! - [`decode`]: `mptcp decode`, which reads a capture file and explains the Multipath TCP in
//!   it. Its first stage, [`decode::capture`], turns a pcap or pcapng file into numbered
//!   packets whose IP bytes have been located behind the link-layer header.
//! - [`sim`]: `mptcp sim`, which runs a scenario file in the simulator with the stack on every
//!   host and reports each connection.
//! - [`net`]: `mptcp connect` and `mptcp listen`, netcat over the stack on a TUN device.
//! - [`settings`]: `mptcp settings`, and `--set` / `--config` for every command that runs a
//!   stack.
//! - [`pattern`]: the test byte pattern that `--send N` sends and `--verify` checks, shared
//!   with the interop suite's `kernel-peer`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod decode;
pub mod demo;
pub mod net;
pub mod pattern;
pub mod settings;
pub mod sim;
