//! `mptcp connect` and `mptcp listen`: netcat over the userspace stack on a TUN device.
//!
//! The command creates a TUN device, brings it up and routes the stack's addresses (`--addr`)
//! into it without giving them to the host's kernel, starts the `mptcp-tun` runtime on it, and
//! then makes ([`connect`]) or accepts ([`listen`]) one connection. It sends standard input, a
//! file or `N` bytes of the test [`pattern`](crate::pattern), writes what arrives to standard
//! output, a file or nowhere, and ends with a [`Report`].
//!
//! One job per module:
//!
//! - [`args`]: the options, their help and the checks clap cannot make;
//! - [`size`]: `64M`-style sizes; [`cidr`]: `ADDR/PREFIX`;
//! - `host`: the TUN device, its routes ([`route_into`]) and the runtime;
//! - `source` / `sink`: what is sent, where received data goes, `--verify`;
//! - `session`: sending and receiving at the same time over one connection;
//! - `progress`: the progress line and the live subflow table on a terminal;
//! - [`subflows`]: the subflows as table lines and JSON objects;
//! - [`outcome`] / [`report`]: how the run ended and over what protocol, for people and for
//!   `--json`;
//! - `command`: the two commands from arguments to exit status, ending with a graceful close
//!   ([`MptcpStream::shutdown_complete`](mptcp_tun::MptcpStream::shutdown_complete)) and
//!   the end of the closing handshake ([`Runtime::linger`](mptcp_tun::Runtime::linger)).
//!
//! Connections speak MPTCP unless `--tcp` asks for plain TCP; a peer without MPTCP gets plain
//! TCP (the report says `tcp-fallback`).

pub mod args;
pub mod cidr;
pub mod outcome;
mod pattern_buf;
pub mod report;
mod session;
mod side;
mod sink;
pub mod size;
mod source;
pub mod subflows;

#[cfg(target_os = "linux")]
mod command;
#[cfg(target_os = "linux")]
mod host;
#[cfg(target_os = "linux")]
mod progress;

pub use args::{ConnectArgs, DataArgs, ListenArgs, NetArgs};
pub use cidr::Cidr;
pub use outcome::Outcome;
pub use report::{Protocol, Report};

#[cfg(target_os = "linux")]
pub use command::{connect, listen};
#[cfg(target_os = "linux")]
pub use host::route_into;

/// `mptcp connect` needs Linux TUN devices.
#[cfg(not(target_os = "linux"))]
pub fn connect(_args: &ConnectArgs) -> u8 {
    eprintln!("mptcp connect: TUN devices are supported on Linux only");
    1
}

/// `mptcp listen` needs Linux TUN devices.
#[cfg(not(target_os = "linux"))]
pub fn listen(_args: &ListenArgs) -> u8 {
    eprintln!("mptcp listen: TUN devices are supported on Linux only");
    1
}
