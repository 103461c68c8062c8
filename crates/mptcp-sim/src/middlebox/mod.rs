//! Middleboxes: packet transformers placed on a link (acting on packets as they enter it,
//! before the capture, so a link's pcap shows what its far end receives) or on a router
//! (acting on packets as they arrive, before routing).
//!
//! The transforms here keep packet lengths (a stripped option becomes NOPs, a payload
//! rewrite replaces bytes one for one) and fix the TCP checksum incrementally (RFC 1624), as
//! real middleboxes do: a segment whose checksum was wrong before stays wrong, and one that
//! was right stays right, so only an end-to-end check such as the DSS checksum notices a
//! rewrite.

mod nat;
mod payload;
mod seq;
mod strip;
mod syn_drop;

use core::net::SocketAddr;

use mptcp_proto::time::Instant;
use mptcp_proto::wire::{Checksum, IpProtocol, MAX_OPTIONS_LEN, TcpPacket, parse_ip_packet};

pub use nat::PortNat;
pub use payload::{PayloadRewriteError, PayloadRewriter};
pub use seq::SeqRewriter;
pub use strip::OptionStripper;
pub use syn_drop::SynDropper;

pub use crate::direction::Direction;

/// What a middlebox does with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Pass it on (possibly modified).
    Forward,
    /// Discard it.
    Drop,
}

/// A packet transformer.
///
/// `direction` tells which way the packet goes: on a link, [`Direction::AToB`] is from the
/// link's end `a`; on a router, `AToB` is for packets arriving on the interface the
/// middlebox was placed on as its `a` side (its "inside"), `BToA` for all others.
pub trait Middlebox {
    /// Inspects and possibly rewrites `packet` (a raw IP packet) in place.
    fn process(&mut self, now: Instant, direction: Direction, packet: &mut [u8]) -> Verdict;
}

/// The addresses and ports of a TCP segment, as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flow {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
}

impl Flow {
    /// The flow of the other direction.
    pub fn reverse(self) -> Self {
        Self {
            src: self.dst,
            dst: self.src,
        }
    }
}

fn ones_add(a: u16, b: u16) -> u16 {
    let sum = u32::from(a) + u32::from(b);
    ((sum & 0xffff) + (sum >> 16)) as u16
}

/// Sum of a segment's bytes except the checksum field (bytes 16 and 17).
fn sum_without_checksum(segment: &[u8]) -> u16 {
    Checksum::new()
        .add_bytes(&segment[..16])
        .add_bytes(&segment[18..])
        .folded()
}

/// Runs `edit` on the TCP segment inside IP packet `packet`, if it holds a whole one, and
/// then updates the checksum by the difference of the sums before and after (RFC 1624
/// eqn. 3), which keeps a wrong checksum wrong. Addresses must not change.
pub(crate) fn edit_tcp<R>(
    packet: &mut [u8],
    edit: impl FnOnce(Flow, &mut TcpPacket<&mut [u8]>) -> R,
) -> Option<R> {
    let (range, src, dst) = {
        let ip = parse_ip_packet(packet).ok()?;
        if ip.protocol != IpProtocol::TCP || ip.fragment.is_some() {
            return None;
        }
        TcpPacket::new_checked(ip.payload).ok()?;
        let start = ip.payload.as_ptr() as usize - packet.as_ptr() as usize;
        (
            start..start + ip.payload.len(),
            ip.ip.src_addr(),
            ip.ip.dst_addr(),
        )
    };
    let segment = &mut packet[range];
    let before = sum_without_checksum(segment);
    let mut view = TcpPacket::new_unchecked(segment);
    let flow = Flow {
        src: SocketAddr::new(src, view.src_port()),
        dst: SocketAddr::new(dst, view.dst_port()),
    };
    let result = edit(flow, &mut view);
    let segment = view.into_inner();
    let after = sum_without_checksum(segment);
    let old = u16::from_be_bytes([segment[16], segment[17]]);
    let new = !ones_add(ones_add(!old, !before), after);
    segment[16..18].copy_from_slice(&new.to_be_bytes());
    Some(result)
}

/// A copy of a TCP options area (at most 40 bytes) and its length, to walk while the
/// original is rewritten.
pub(crate) fn copy_options(area: &[u8]) -> ([u8; MAX_OPTIONS_LEN], usize) {
    let mut copy = [0; MAX_OPTIONS_LEN];
    let len = area.len().min(MAX_OPTIONS_LEN);
    copy[..len].copy_from_slice(&area[..len]);
    (copy, len)
}

/// Calls `visit(kind, offset, len)` for each option in a TCP options area (offsets within
/// the area; `len` includes kind and length bytes), stopping at the end-of-list option or at
/// a malformed length.
pub(crate) fn for_each_option(area: &[u8], mut visit: impl FnMut(u8, usize, usize)) {
    let mut at = 0;
    while let Some(&kind) = area.get(at) {
        match kind {
            0 => return,
            1 => {
                visit(kind, at, 1);
                at += 1;
            }
            _ => {
                let Some(&len) = area.get(at + 1) else { return };
                let len = usize::from(len);
                if len < 2 || at + len > area.len() {
                    return;
                }
                visit(kind, at, len);
                at += len;
            }
        }
    }
}

#[cfg(test)]
mod tests;
