//! Simple hosts for testing and benchmarking the simulator itself (the `Stack` runs in
//! [`StackHost`](crate::StackHost)): a constant-rate sender, a counting or recording sink,
//! and a ping-pong pair; plus [`TestHost`], one type for all of them, so that a
//! [`Simulation`](crate::Simulation) can mix them.

mod ping_pong;
mod sender;
mod sink;

pub use mptcp_proto::wire::{tcp_packet, write_tcp_packet};
pub use ping_pong::{Echo, Pinger};
pub use sender::ConstantRateSender;
pub use sink::{Received, Sink, checksums_ok};

use mptcp_proto::time::Instant;

use crate::host::Host;

/// Any of the test hosts.
#[derive(Debug, Clone)]
pub enum TestHost {
    /// See [`ConstantRateSender`].
    Sender(ConstantRateSender),
    /// See [`Sink`].
    Sink(Sink),
    /// See [`Echo`].
    Echo(Echo),
    /// See [`Pinger`].
    Pinger(Pinger),
}

impl TestHost {
    /// The sink, if this is one.
    pub fn as_sink(&self) -> Option<&Sink> {
        match self {
            Self::Sink(sink) => Some(sink),
            _ => None,
        }
    }

    /// The sender, if this is one.
    pub fn as_sender(&self) -> Option<&ConstantRateSender> {
        match self {
            Self::Sender(sender) => Some(sender),
            _ => None,
        }
    }

    /// The pinger, if this is one.
    pub fn as_pinger(&self) -> Option<&Pinger> {
        match self {
            Self::Pinger(pinger) => Some(pinger),
            _ => None,
        }
    }

    fn inner(&mut self) -> &mut dyn Host {
        match self {
            Self::Sender(host) => host,
            Self::Sink(host) => host,
            Self::Echo(host) => host,
            Self::Pinger(host) => host,
        }
    }
}

impl Host for TestHost {
    fn handle_packet(&mut self, now: Instant, iface: usize, packet: &[u8]) {
        self.inner().handle_packet(now, iface, packet);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.inner().handle_timeout(now);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(usize, usize)> {
        self.inner().poll_transmit(now, buf)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.inner().poll_timeout()
    }
}

macro_rules! from_host {
    ($($variant:ident($ty:ty)),*) => {$(
        impl From<$ty> for TestHost {
            fn from(host: $ty) -> Self {
                Self::$variant(host)
            }
        }
    )*};
}

from_host!(
    Sender(ConstantRateSender),
    Sink(Sink),
    Echo(Echo),
    Pinger(Pinger)
);
