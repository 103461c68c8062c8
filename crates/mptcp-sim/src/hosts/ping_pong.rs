//! A ping-pong pair: a pinger that sends one segment at a time and an echo host that
//! reflects every segment to its sender.

use std::collections::VecDeque;

use core::net::SocketAddr;
use core::time::Duration;

use mptcp_proto::time::Instant;
use mptcp_proto::wire::{IpProtocol, SeqNum, TcpFlags, TcpPacket, TcpRepr, parse_ip_packet};

use super::tcp_packet;
use crate::host::Host;

/// Reflects every TCP segment it receives back out of the interface it came in on, with
/// addresses and ports swapped and sequence number and payload kept.
#[derive(Debug, Clone, Default)]
pub struct Echo {
    replies: VecDeque<(usize, Vec<u8>)>,
}

impl Echo {
    /// An echo host.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Host for Echo {
    fn handle_packet(&mut self, _now: Instant, iface: usize, packet: &[u8]) {
        let Ok(ip) = parse_ip_packet(packet) else {
            return;
        };
        if ip.protocol != IpProtocol::TCP {
            return;
        }
        let Ok(tcp) = TcpPacket::new_checked(ip.payload) else {
            return;
        };
        let Ok(segment) = TcpRepr::parse(&tcp) else {
            return;
        };
        let from = SocketAddr::new(ip.ip.src_addr(), segment.src_port);
        let to = SocketAddr::new(ip.ip.dst_addr(), segment.dst_port);
        self.replies
            .push_back((iface, tcp_packet(to, from, &segment)));
    }

    fn handle_timeout(&mut self, _now: Instant) {}

    fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<(usize, usize)> {
        let (iface, reply) = self.replies.pop_front()?;
        buf[..reply.len()].copy_from_slice(&reply);
        Some((iface, reply.len()))
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }
}

/// Sends `count` pings (TCP segments with sequence numbers 0, 1, …, each `payload_len`
/// bytes of payload) one at a time from interface 0: the first at its start time, each next
/// one when the previous one comes back. Records the round-trip times.
#[derive(Debug, Clone)]
pub struct Pinger {
    src: SocketAddr,
    dst: SocketAddr,
    payload: Vec<u8>,
    count: u32,
    start: Instant,
    /// The ping in flight, and when it left.
    outstanding: Option<(u32, Instant)>,
    /// The next ping to send, once it is due.
    next: u32,
    ready: bool,
    rtts: Vec<Duration>,
}

impl Pinger {
    /// A pinger of `dst` from `src`, sending its first ping at `start`.
    pub fn new(
        src: SocketAddr,
        dst: SocketAddr,
        count: u32,
        payload_len: usize,
        start: Instant,
    ) -> Self {
        Self {
            src,
            dst,
            payload: vec![0x55; payload_len],
            count,
            start,
            outstanding: None,
            next: 0,
            ready: false,
            rtts: Vec::new(),
        }
    }

    /// The round-trip times measured so far.
    pub fn rtts(&self) -> &[Duration] {
        &self.rtts
    }
}

impl Host for Pinger {
    fn handle_packet(&mut self, now: Instant, _iface: usize, packet: &[u8]) {
        let Some((seq, sent)) = self.outstanding else {
            return;
        };
        let echoed = parse_ip_packet(packet)
            .ok()
            .and_then(|ip| TcpPacket::new_checked(ip.payload).ok())
            .map(|tcp| tcp.seq_number());
        if echoed == Some(SeqNum(seq)) {
            self.rtts.push(now - sent);
            self.outstanding = None;
            self.ready = self.next < self.count;
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if now >= self.start && self.next == 0 && self.outstanding.is_none() {
            self.ready = self.count > 0;
        }
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(usize, usize)> {
        if !self.ready {
            return None;
        }
        self.ready = false;
        let segment = TcpRepr {
            src_port: self.src.port(),
            dst_port: self.dst.port(),
            seq_number: SeqNum(self.next),
            ack_number: SeqNum(0),
            flags: TcpFlags::ACK | TcpFlags::PSH,
            window_len: 65_535,
            urgent_at: 0,
            options: Vec::new(),
            payload: &self.payload,
        };
        let packet = tcp_packet(self.src, self.dst, &segment);
        buf[..packet.len()].copy_from_slice(&packet);
        self.outstanding = Some((self.next, now));
        self.next += 1;
        Some((0, packet.len()))
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        (self.next == 0 && self.outstanding.is_none() && !self.ready).then_some(self.start)
    }
}
