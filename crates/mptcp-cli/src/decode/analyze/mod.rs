//! Third stage of `mptcp decode`: what the segments of a capture mean together.
//!
//! Two passes. The first ([`subflows`]) groups segments into subflows by 4-tuple and SYN and
//! learns their handshakes and payload; then [`connections`] assembles MPTCP connections from
//! MP_CAPABLE and MP_JOIN subflows; the second pass ([`annotate`]) explains every MPTCP option
//! with the whole capture known, so that a checksum can be verified over a mapping that later
//! segments complete.

pub mod annotate;
pub mod connections;
pub mod subflows;
#[cfg(test)]
mod tests;

use mptcp_proto::wire::SeqNum;

pub use annotate::{Check, OptionNotes};
pub use connections::{Connection, ConnectionTable, Membership, Side};
pub use subflows::{Dir, SubflowTable, SubflowTrace};

use super::segment::Segment;
use annotate::Context;

/// What the analysis says of one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentNotes {
    /// Index of the segment's subflow in [`Analysis::subflows`].
    pub subflow: usize,
    /// Index of the subflow's connection in [`Analysis::connections`], if any.
    pub connection: Option<usize>,
    /// Which side of that connection sent the segment.
    pub sender: Option<Side>,
    /// Sequence number relative to the sender's ISN on this subflow.
    pub relative_seq: Option<u32>,
    /// Acknowledgment number relative to the receiver's ISN on this subflow.
    pub relative_ack: Option<u32>,
    /// One entry per MPTCP option of the segment, in wire order.
    pub options: Vec<OptionNotes>,
}

/// The analysis of a whole capture.
#[derive(Debug)]
pub struct Analysis<'a> {
    /// Every TCP connection (subflow) of the capture.
    pub subflows: Vec<SubflowTrace<'a>>,
    /// Where each subflow belongs.
    pub membership: Vec<Option<Membership>>,
    /// Every MPTCP connection of the capture.
    pub connections: Vec<Connection>,
    /// One entry per segment given to [`analyze`], in the same order.
    pub segments: Vec<SegmentNotes>,
}

/// Analyses the TCP segments of one capture, in capture order.
pub fn analyze<'a>(segments: &[&Segment<'a>]) -> Analysis<'a> {
    let table = SubflowTable::learn(segments);
    let connections = ConnectionTable::assemble(&table.subflows);
    let notes = segments
        .iter()
        .zip(&table.segment_subflow)
        .map(|(segment, &subflow)| {
            let trace = &table.subflows[subflow];
            let membership = connections.membership[subflow];
            let context = Context {
                subflow: trace,
                dir: trace.direction(segment.src),
                connection: membership.map(|m| (&connections.connections[m.connection], m)),
            };
            notes_for(segment, &context, subflow)
        })
        .collect();
    Analysis {
        subflows: table.subflows,
        membership: connections.membership,
        connections: connections.connections,
        segments: notes,
    }
}

fn notes_for(segment: &Segment<'_>, context: &Context<'_, '_>, subflow: usize) -> SegmentNotes {
    let tcp = &segment.tcp;
    let ack_seen = tcp.flags.contains(mptcp_proto::wire::TcpFlags::ACK);
    let relative_ack = |ack: SeqNum| context.subflow.relative(context.dir.reverse(), ack);
    SegmentNotes {
        subflow,
        connection: context.connection.map(|(_, m)| m.connection),
        sender: context.connection.map(|(_, m)| m.sender(context.dir)),
        relative_seq: context.subflow.relative(context.dir, tcp.seq_number),
        relative_ack: ack_seen.then(|| relative_ack(tcp.ack_number)).flatten(),
        options: tcp.mptcp_options().map(|o| context.annotate(o)).collect(),
    }
}
