//! Runs the [`mptcp_proto`] stack over real networks: TUN devices driven by tokio, with an
//! application API in the image of `tokio::net`.
//!
//! - [`Runtime`] owns the sans-I/O [`Stack`](mptcp_proto::stack::Stack) and the tasks that
//!   drive it: one reader per [`Device`] and one driver for timers, transmissions and
//!   wake-ups (the design is described in the [`runtime`] module).
//! - [`MptcpStream`] (tokio `AsyncRead` + `AsyncWrite`) and [`MptcpListener`] are the
//!   application's side, made from a runtime's [`Handle`].
//! - [`Device`] is what the runtime needs from a network device: a Linux TUN device
//!   ([`TunDevice`]) or, for tests without root, an in-memory link ([`MemoryDevice`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mptcp_tun::{Interface, MptcpStream, Runtime, RuntimeConfig, TunDevice};
//! let tun = TunDevice::create("mptcp0", 1500)?;
//! mptcp_tun::configure_with_ip(tun.name(), &[("10.0.0.1".parse()?, 24)], 1500)?;
//! let runtime = Runtime::start(
//!     vec![Interface::new(tun, "10.0.0.1".parse()?)],
//!     RuntimeConfig::default(),
//! );
//! let stream = MptcpStream::connect(&runtime.handle(), "10.0.0.2:80".parse()?).await?;
//! # drop(stream); Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod clock;
pub mod device;
mod error;
mod listener;
pub mod runtime;
mod shared;
mod stream;
#[cfg(target_os = "linux")]
mod tun;

pub use device::{Device, MemoryDevice};
pub use listener::{DEFAULT_BACKLOG, MptcpListener};
pub use mptcp_proto::stack::{AddressError, SubflowId, SubflowInfo};
pub use runtime::{BATCH, Handle, Interface, Runtime, RuntimeConfig};
pub use stream::{MptcpStream, StreamMonitor};
#[cfg(target_os = "linux")]
pub use tun::{TunDevice, TunError, configure_with_ip};
