//! The [`Host`] trait: what the simulator drives at each end of the network.

use mptcp_proto::time::Instant;

/// A simulated end host, driven by the simulator in virtual time with the sans-I/O contract
/// of `mptcp_proto` (inputs are `handle_*`, outputs are `poll_*`, time is a parameter).
///
/// After every input (a packet, a timeout, a wake-up) the simulator drains
/// [`poll_transmit`](Self::poll_transmit) until it returns `None`, then reads
/// [`poll_timeout`](Self::poll_timeout) and calls [`handle_timeout`](Self::handle_timeout)
/// once virtual time reaches that deadline (a deadline in the past fires at once). Only the
/// latest deadline counts: reporting a new one replaces the old.
///
/// # Applications
///
/// Applications are part of the host, not of the simulator: a host that runs a `Stack`
/// owns the stack and its applications (a bulk sender of N bytes, request/response, on/off
/// traffic), calls the applications after each input it hands to the stack, and reports the
/// earliest of the stack's deadline and the applications' own (a start time, the next "on"
/// period) from `poll_timeout`. The simulator then needs nothing application-specific, and
/// the same composite host can later run over TUN devices.
pub trait Host {
    /// A raw IP packet arrived on interface `iface`.
    fn handle_packet(&mut self, now: Instant, iface: usize, packet: &[u8]);

    /// Virtual time reached the deadline last reported by `poll_timeout`.
    fn handle_timeout(&mut self, now: Instant);

    /// Writes the next raw IP packet to send into `buf` (64 KiB long) and returns the
    /// interface to send it on and its length, or `None` when there is nothing to send.
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(usize, usize)>;

    /// The next time the host wants [`handle_timeout`](Self::handle_timeout), if any.
    fn poll_timeout(&mut self) -> Option<Instant>;
}

impl<H: Host + ?Sized> Host for Box<H> {
    fn handle_packet(&mut self, now: Instant, iface: usize, packet: &[u8]) {
        (**self).handle_packet(now, iface, packet);
    }

    fn handle_timeout(&mut self, now: Instant) {
        (**self).handle_timeout(now);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(usize, usize)> {
        (**self).poll_transmit(now, buf)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        (**self).poll_timeout()
    }
}
