//! First pass of the analysis: find the TCP connections (subflows) of a capture and learn what
//! their handshakes say — initial sequence numbers, MP_CAPABLE keys, MP_JOIN tokens and nonces
//! — and keep each direction's payload by relative sequence number.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::ops::Range;

use mptcp_proto::wire::mptcp::{MpJoin, MptcpOption};
use mptcp_proto::wire::{SeqNum, TcpFlags};

use super::super::segment::Segment;

/// Direction of a segment on its subflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Sent by the host that sent the first SYN.
    FromInitiator,
    /// Sent by the other host.
    FromResponder,
}

impl Dir {
    /// Index into per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Dir::FromInitiator => 0,
            Dir::FromResponder => 1,
        }
    }

    /// The opposite direction.
    pub fn reverse(self) -> Dir {
        match self {
            Dir::FromInitiator => Dir::FromResponder,
            Dir::FromResponder => Dir::FromInitiator,
        }
    }
}

/// What an MP_JOIN handshake carried (RFC 8684 §3.2).
#[derive(Debug, Clone, Default)]
pub struct JoinHandshake {
    /// Token of the responder's key, from the SYN.
    pub token: Option<u32>,
    /// R_A, from the SYN.
    pub initiator_nonce: Option<u32>,
    /// R_B, from the SYN/ACK.
    pub responder_nonce: Option<u32>,
    /// Address ids the two sides gave (SYN, SYN/ACK).
    pub addr_ids: [Option<u8>; 2],
    /// Backup bits of the SYN and SYN/ACK.
    pub backup: [bool; 2],
}

/// Everything learned about one TCP connection of the capture.
#[derive(Debug, Clone)]
pub struct SubflowTrace<'a> {
    /// The host that sent the first SYN (or, without a SYN in the capture, the first packet).
    pub initiator: SocketAddr,
    /// The other host.
    pub responder: SocketAddr,
    /// Whether the capture holds the SYN (so `initiator` is known for sure).
    pub saw_syn: bool,
    /// Initial sequence numbers per direction (from the SYN and the SYN/ACK).
    pub isn: [Option<SeqNum>; 2],
    /// MP_CAPABLE version seen on the SYN and on the SYN/ACK.
    pub capable_version: [Option<u8>; 2],
    /// MP_CAPABLE flags byte seen on the SYN and on the SYN/ACK.
    pub capable_flags: [Option<u8>; 2],
    /// Keys per direction: the key of the host that sends in that direction.
    pub keys: [Option<u64>; 2],
    /// The MP_JOIN handshake, when the subflow was opened by one.
    pub join: Option<JoinHandshake>,
    /// Payload per direction, by sequence number relative to that direction's ISN, as
    /// captured (segments may overlap).
    pub payload: [BTreeMap<u32, &'a [u8]>; 2],
    /// Payload per direction merged into contiguous runs (start, bytes), in order.
    pub streams: [Vec<(u32, Vec<u8>)>; 2],
    /// Per direction, the relative sequence numbers of payload that segments carried but the
    /// capture cut off (a snap length): disjoint ranges, in order.
    pub uncaptured: [Vec<Range<u64>>; 2],
    /// Whether a FIN or RST was seen: a later SYN on the same 4-tuple starts a new subflow.
    pub ended: bool,
}

impl<'a> SubflowTrace<'a> {
    fn new(initiator: SocketAddr, responder: SocketAddr, saw_syn: bool) -> Self {
        Self {
            initiator,
            responder,
            saw_syn,
            isn: [None; 2],
            capable_version: [None; 2],
            capable_flags: [None; 2],
            keys: [None; 2],
            join: None,
            payload: [BTreeMap::new(), BTreeMap::new()],
            streams: [Vec::new(), Vec::new()],
            uncaptured: [Vec::new(), Vec::new()],
            ended: false,
        }
    }

    /// Direction of a segment from `src`.
    pub fn direction(&self, src: SocketAddr) -> Dir {
        if src == self.initiator {
            Dir::FromInitiator
        } else {
            Dir::FromResponder
        }
    }

    /// Whether the handshake negotiated MPTCP with MP_CAPABLE.
    pub fn is_capable(&self) -> bool {
        self.capable_version[0].is_some() && self.capable_version[1].is_some()
    }

    /// Sequence number relative to the ISN of direction `dir`, when that ISN is known.
    pub fn relative(&self, dir: Dir, seq: SeqNum) -> Option<u32> {
        self.isn[dir.index()].map(|isn| seq.0.wrapping_sub(isn.0))
    }

    /// The bytes sent in direction `dir` at relative sequence numbers `start..start + len`,
    /// when the capture holds every one of them.
    pub fn bytes(&self, dir: Dir, start: u32, len: usize) -> Option<Vec<u8>> {
        let runs = &self.streams[dir.index()];
        let index = runs.partition_point(|(run_start, _)| *run_start <= start);
        let (run_start, run) = runs.get(index.checked_sub(1)?)?;
        let offset = usize::try_from(start - run_start).ok()?;
        run.get(offset..offset.checked_add(len)?)
            .map(<[u8]>::to_vec)
    }

    /// Whether the capture cut off some of the bytes sent in direction `dir` at relative
    /// sequence numbers `start..start + len`.
    pub fn cut_off(&self, dir: Dir, start: u32, len: usize) -> bool {
        let (start, end) = (u64::from(start), u64::from(start) + len as u64);
        let ranges = &self.uncaptured[dir.index()];
        let index = ranges.partition_point(|range| range.end <= start);
        ranges.get(index).is_some_and(|range| range.start < end)
    }

    /// Merges each direction's segments, in sequence order, into contiguous runs of bytes:
    /// retransmitted or repacketised data overlaps what is there and only extends it. Merges
    /// the ranges the capture cut off the same way.
    fn build_streams(&mut self) {
        for (segments, runs) in self.payload.iter().zip(&mut self.streams) {
            for (&seq, data) in segments {
                let end = u64::from(seq) + data.len() as u64;
                match runs.last_mut() {
                    Some((run_start, run))
                        if u64::from(seq) <= u64::from(*run_start) + run.len() as u64 =>
                    {
                        let run_end = u64::from(*run_start) + run.len() as u64;
                        if end > run_end {
                            let skip = (run_end - u64::from(seq)) as usize;
                            run.extend_from_slice(&data[skip..]);
                        }
                    }
                    _ => runs.push((seq, data.to_vec())),
                }
            }
        }
        for ranges in &mut self.uncaptured {
            ranges.sort_by_key(|range| range.start);
            let mut merged: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
            for range in ranges.drain(..) {
                match merged.last_mut() {
                    Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
                    _ => merged.push(range),
                }
            }
            *ranges = merged;
        }
    }

    fn learn(&mut self, segment: &Segment<'a>) {
        let dir = self.direction(segment.src);
        let tcp = &segment.tcp;
        if tcp.flags.contains(TcpFlags::SYN) {
            self.isn[dir.index()] = Some(tcp.seq_number);
            // A SYN/ACK acknowledges the initiator's ISN + 1: this gives the initiator's ISN
            // when the capture lacks the SYN.
            if tcp.flags.contains(TcpFlags::ACK) && self.isn[dir.reverse().index()].is_none() {
                self.isn[dir.reverse().index()] = Some(tcp.ack_number - 1);
            }
        }
        if tcp.flags.contains(TcpFlags::FIN) || tcp.flags.contains(TcpFlags::RST) {
            self.ended = true;
        }
        if let Some(rel) = self.relative(dir, tcp.seq_number) {
            if !tcp.payload.is_empty() {
                // Keep the longest segment seen at each sequence number: a retransmission may
                // carry more than the original (repacketised).
                let kept = self.payload[dir.index()].entry(rel).or_insert(tcp.payload);
                if tcp.payload.len() > kept.len() {
                    *kept = tcp.payload;
                }
            }
            // Only the captured bytes are payload; the rest is known by its length alone.
            if segment.payload_len > tcp.payload.len() {
                let start = u64::from(rel);
                self.uncaptured[dir.index()]
                    .push(start + tcp.payload.len() as u64..start + segment.payload_len as u64);
            }
        }
        let syn = tcp.flags.contains(TcpFlags::SYN);
        for option in tcp.mptcp_options() {
            match option {
                MptcpOption::MpCapable(capable) => {
                    if syn {
                        self.capable_version[dir.index()] = Some(capable.version);
                        self.capable_flags[dir.index()] = Some(capable.flags);
                    }
                    if let Some(key) = capable.sender_key {
                        self.keys[dir.index()] = Some(key);
                    }
                    if let Some(key) = capable.receiver_key {
                        self.keys[dir.reverse().index()] = Some(key);
                    }
                }
                MptcpOption::MpJoin(join) => self.learn_join(dir, join),
                _ => {}
            }
        }
    }

    fn learn_join(&mut self, dir: Dir, join: &MpJoin) {
        let handshake = self.join.get_or_insert_with(JoinHandshake::default);
        match *join {
            MpJoin::Syn {
                backup,
                addr_id,
                receiver_token,
                sender_nonce,
            } => {
                handshake.token = Some(receiver_token);
                handshake.initiator_nonce = Some(sender_nonce);
                handshake.addr_ids[dir.index()] = Some(addr_id);
                handshake.backup[dir.index()] = backup;
            }
            MpJoin::SynAck {
                backup,
                addr_id,
                sender_nonce,
                ..
            } => {
                handshake.responder_nonce = Some(sender_nonce);
                handshake.addr_ids[dir.index()] = Some(addr_id);
                handshake.backup[dir.index()] = backup;
            }
            MpJoin::Ack { .. } => {}
        }
    }
}

/// The subflows of a capture and which one each segment belongs to.
#[derive(Debug, Default)]
pub struct SubflowTable<'a> {
    /// Every TCP connection seen, in order of first appearance.
    pub subflows: Vec<SubflowTrace<'a>>,
    /// For each segment (in the order given), the index of its subflow.
    pub segment_subflow: Vec<usize>,
}

impl<'a> SubflowTable<'a> {
    /// Groups segments into subflows and learns their handshakes.
    pub fn learn(segments: &[&Segment<'a>]) -> Self {
        let mut table = SubflowTable::default();
        let mut by_pair: HashMap<(SocketAddr, SocketAddr), usize> = HashMap::new();
        for segment in segments {
            let pair = ordered_pair(segment.src, segment.dst);
            let is_first_syn = segment.tcp.flags.contains(TcpFlags::SYN)
                && !segment.tcp.flags.contains(TcpFlags::ACK);
            let current = by_pair.get(&pair).copied();
            let index = match current {
                Some(index) if !starts_new_subflow(&table.subflows[index], segment) => index,
                _ => {
                    // Without the SYN in the capture, the sender of a SYN/ACK is the responder.
                    let is_syn_ack = segment.tcp.flags.contains(TcpFlags::SYN)
                        && segment.tcp.flags.contains(TcpFlags::ACK);
                    let (initiator, responder) = if is_syn_ack {
                        (segment.dst, segment.src)
                    } else {
                        (segment.src, segment.dst)
                    };
                    table
                        .subflows
                        .push(SubflowTrace::new(initiator, responder, is_first_syn));
                    by_pair.insert(pair, table.subflows.len() - 1);
                    table.subflows.len() - 1
                }
            };
            table.subflows[index].learn(segment);
            table.segment_subflow.push(index);
        }
        for subflow in &mut table.subflows {
            subflow.build_streams();
        }
        table
    }
}

/// A SYN opens a new subflow on a 4-tuple unless it repeats the SYN already seen there.
fn starts_new_subflow(trace: &SubflowTrace<'_>, segment: &Segment<'_>) -> bool {
    let flags = segment.tcp.flags;
    if !flags.contains(TcpFlags::SYN) || flags.contains(TcpFlags::ACK) {
        return false;
    }
    let retransmitted = segment.src == trace.initiator
        && trace.isn[0] == Some(segment.tcp.seq_number)
        && !trace.ended;
    !retransmitted
}

fn ordered_pair(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace_with(segments: &[(u32, &'static [u8])]) -> SubflowTrace<'static> {
        let addr = |port| SocketAddr::from(([10, 0, 0, 1], port));
        let mut trace = SubflowTrace::new(addr(1), addr(2), true);
        for &(seq, data) in segments {
            trace.payload[0].insert(seq, data);
        }
        trace.build_streams();
        trace
    }

    #[test]
    fn bytes_reassemble_across_segments_and_overlaps() {
        let trace = trace_with(&[(1, b"abcd"), (5, b"efgh"), (3, b"cdefghij"), (11, b"kl")]);
        let dir = Dir::FromInitiator;
        assert_eq!(trace.bytes(dir, 1, 4).as_deref(), Some(&b"abcd"[..]));
        assert_eq!(trace.bytes(dir, 2, 9).as_deref(), Some(&b"bcdefghij"[..]));
        assert_eq!(trace.bytes(dir, 6, 7).as_deref(), Some(&b"fghijkl"[..]));
        // A gap (nothing covers 13) or data past the end: not all bytes are there.
        assert_eq!(trace.bytes(dir, 11, 3), None);
        assert_eq!(trace.bytes(Dir::FromResponder, 1, 1), None);
    }

    #[test]
    fn cut_off_ranges_merge_and_answer_overlaps() {
        let mut trace = trace_with(&[]);
        trace.uncaptured[0] = vec![20..30, 5..10, 8..12, 12..14];
        trace.build_streams();
        assert_eq!(trace.uncaptured[0], [5..14, 20..30]);
        let dir = Dir::FromInitiator;
        assert!(trace.cut_off(dir, 0, 6) && trace.cut_off(dir, 13, 1) && trace.cut_off(dir, 29, 9));
        assert!(
            !trace.cut_off(dir, 0, 5) && !trace.cut_off(dir, 14, 6) && !trace.cut_off(dir, 30, 9)
        );
        assert!(!trace.cut_off(Dir::FromResponder, 5, 9));
    }
}
