//! A middlebox that rewrites TCP sequence numbers, as some firewalls randomize initial
//! sequence numbers.

use std::collections::HashSet;

use mptcp_proto::time::Instant;
use mptcp_proto::wire::{SeqNum, TcpFlags, option_kind};

use super::{Direction, Flow, Middlebox, Verdict, copy_options, edit_tcp, for_each_option};

/// Adds a fixed offset to the sequence numbers of each flow in the direction it was first
/// seen in, and subtracts it from the acknowledgment numbers and SACK blocks going the other
/// way, so both ends stay consistent while the subflow sequence numbers on either side of the
/// box differ (which MPTCP's DSS mappings, relative to the subflow ISN, must survive).
#[derive(Debug, Clone)]
pub struct SeqRewriter {
    offset: u32,
    /// Flows in the direction of their first packet.
    forward: HashSet<Flow>,
}

impl SeqRewriter {
    /// A rewriter that shifts sequence numbers by `offset`.
    pub fn new(offset: u32) -> Self {
        Self {
            offset,
            forward: HashSet::new(),
        }
    }
}

impl Middlebox for SeqRewriter {
    fn process(&mut self, _now: Instant, _direction: Direction, packet: &mut [u8]) -> Verdict {
        let offset = self.offset;
        let forward = &mut self.forward;
        edit_tcp(packet, |flow, tcp| {
            if forward.contains(&flow.reverse()) {
                if tcp.flags().contains(TcpFlags::ACK) {
                    tcp.set_ack_number(tcp.ack_number() - offset);
                }
                let (copy, len) = copy_options(tcp.options());
                let options = tcp.options_mut();
                for_each_option(&copy[..len], |kind, at, len| {
                    if kind != option_kind::SACK {
                        return;
                    }
                    // RFC 2018 §3: after kind and length, blocks of two 32-bit edges.
                    for edge in (at + 2..)
                        .step_by(4)
                        .take_while(|edge| edge + 4 <= at + len)
                    {
                        let raw = &mut options[edge..edge + 4];
                        let value = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
                        raw.copy_from_slice(&(SeqNum(value) - offset).0.to_be_bytes());
                    }
                });
            } else {
                forward.insert(flow);
                tcp.set_seq_number(tcp.seq_number() + offset);
            }
        });
        Verdict::Forward
    }
}
