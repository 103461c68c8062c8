//! A host that sends TCP segments at a constant rate, regardless of any feedback.

use core::net::SocketAddr;

use mptcp_proto::time::Instant;
use mptcp_proto::wire::{SeqNum, TcpFlags, TcpRepr};

use super::tcp_packet;
use crate::host::Host;

/// Sends IP packets of a fixed length carrying TCP data segments (ACK set, consecutive
/// sequence numbers starting at 0, payload bytes `0, 1, 2, …`) at a constant bit rate on one
/// interface, from a start time to an optional stop time. Received packets are ignored.
///
/// Packet `k` leaves at `start + ⌊k · len · 8 · 10⁹ / rate⌋` ns, so the rate does not drift.
#[derive(Debug, Clone)]
pub struct ConstantRateSender {
    iface: usize,
    template: Vec<u8>,
    tcp_offset: usize,
    payload_len: u32,
    rate_bps: u64,
    start: Instant,
    stop: Option<Instant>,
    /// Packets whose departure time has been reached.
    due: u64,
    sent: u64,
}

impl ConstantRateSender {
    /// A sender of IP packets of `packet_len` bytes (at least 40 for IPv4, 60 for IPv6) from
    /// `src` to `dst` at `rate_bps` bit/s (not zero), starting at time zero on interface 0.
    ///
    /// # Panics
    ///
    /// If the addresses are of different versions, the rate is zero or the packet is too
    /// short for the headers.
    pub fn new(src: SocketAddr, dst: SocketAddr, packet_len: usize, rate_bps: u64) -> Self {
        assert!(
            rate_bps > 0,
            "the rate of a constant-rate sender is not zero"
        );
        let headers = if src.is_ipv4() { 40 } else { 60 };
        let payload: Vec<u8> = (0..packet_len.checked_sub(headers).expect("room for headers"))
            .map(|i| i as u8)
            .collect();
        let segment = TcpRepr {
            src_port: src.port(),
            dst_port: dst.port(),
            seq_number: SeqNum(0),
            ack_number: SeqNum(1),
            flags: TcpFlags::ACK,
            window_len: 65_535,
            urgent_at: 0,
            options: Vec::new(),
            payload: &payload,
        };
        let template = tcp_packet(src, dst, &segment);
        Self {
            iface: 0,
            tcp_offset: template.len() - segment.buffer_len(),
            template,
            payload_len: u32::try_from(payload.len()).unwrap_or(u32::MAX),
            rate_bps,
            start: Instant::ZERO,
            stop: None,
            due: 0,
            sent: 0,
        }
    }

    /// Sends on interface `iface` instead of 0.
    pub fn on_iface(mut self, iface: usize) -> Self {
        self.iface = iface;
        self
    }

    /// Starts at `start` instead of time zero.
    pub fn starting_at(mut self, start: Instant) -> Self {
        self.start = start;
        self
    }

    /// Sends nothing from `stop` on.
    pub fn stopping_at(mut self, stop: Instant) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Packets sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    fn departure(&self, index: u64) -> Instant {
        let bits = u128::from(index) * self.template.len() as u128 * 8 * 1_000_000_000;
        let offset = u64::try_from(bits / u128::from(self.rate_bps)).unwrap_or(u64::MAX);
        Instant::from_nanos(self.start.as_nanos().saturating_add(offset))
    }

    fn stopped_at(&self, time: Instant) -> bool {
        self.stop.is_some_and(|stop| time >= stop)
    }
}

fn ones_add(a: u16, b: u16) -> u16 {
    let sum = u32::from(a) + u32::from(b);
    ((sum & 0xffff) + (sum >> 16)) as u16
}

impl Host for ConstantRateSender {
    fn handle_packet(&mut self, _now: Instant, _iface: usize, _packet: &[u8]) {}

    fn handle_timeout(&mut self, now: Instant) {
        while self.departure(self.due) <= now && !self.stopped_at(self.departure(self.due)) {
            self.due += 1;
        }
    }

    fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<(usize, usize)> {
        if self.sent == self.due {
            return None;
        }
        let len = self.template.len();
        let packet = &mut buf[..len];
        packet.copy_from_slice(&self.template);
        let seq = (self.sent as u32).wrapping_mul(self.payload_len);
        let tcp = &mut packet[self.tcp_offset..];
        tcp[4..8].copy_from_slice(&seq.to_be_bytes());
        // RFC 1624: the template's sequence number is 0, so the checksum only gains the new
        // words.
        let old = u16::from_be_bytes([tcp[16], tcp[17]]);
        let sum = ones_add(ones_add(!old, (seq >> 16) as u16), seq as u16);
        tcp[16..18].copy_from_slice(&(!sum).to_be_bytes());
        self.sent += 1;
        Some((self.iface, len))
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        let next = self.departure(self.due);
        (!self.stopped_at(next)).then_some(next)
    }
}
