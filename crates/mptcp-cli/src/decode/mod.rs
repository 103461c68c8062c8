//! `mptcp decode`: read a capture file and explain the Multipath TCP in it.
//!
//! The work happens in stages, one module each:
//!
//! - [`capture`]: the file formats (pcap, pcapng) and link layers (Ethernet, Linux cooked
//!   capture, raw IP, BSD loopback), down to numbered packets with their IP bytes located.
//! - [`segment`]: IP and TCP headers parsed with `mptcp_proto::wire`, TCP checksum checked;
//!   a packet a snap length cut short is decoded from its headers and marked truncated.
//! - [`analyze`]: subflows, MPTCP connections, tokens, IDSNs, HMAC and checksum checks.
//! - [`render`]: text or JSON lines.

pub mod analyze;
pub mod capture;
pub mod render;
pub mod segment;

use analyze::{Analysis, SegmentNotes};
use capture::CapturedPacket;
use segment::{Frame, Segment, decode_frame};

/// A decoded and analysed capture.
#[derive(Debug)]
pub struct Report<'a> {
    /// Every captured frame, decoded.
    pub frames: Vec<Frame<'a>>,
    /// What the TCP segments mean together.
    pub analysis: Analysis<'a>,
    /// For each frame, the index of its notes in `analysis.segments` (TCP frames only).
    notes_index: Vec<Option<usize>>,
}

impl<'a> Report<'a> {
    /// Decodes and analyses captured packets.
    pub fn new(packets: &'a [CapturedPacket]) -> Self {
        let frames: Vec<Frame<'a>> = packets.iter().map(decode_frame).collect();
        let segments: Vec<&Segment<'a>> = frames.iter().filter_map(Frame::segment).collect();
        let analysis = analyze::analyze(&segments);
        let mut next = 0;
        let notes_index = frames
            .iter()
            .map(|frame| {
                frame.segment().map(|_| {
                    next += 1;
                    next - 1
                })
            })
            .collect();
        Report {
            frames,
            analysis,
            notes_index,
        }
    }

    /// Every frame with the analysis of its segment (for TCP frames).
    pub fn entries(&self) -> impl Iterator<Item = (&Frame<'a>, Option<&SegmentNotes>)> {
        self.frames
            .iter()
            .zip(&self.notes_index)
            .map(|(frame, index)| (frame, index.and_then(|i| self.analysis.segments.get(i))))
    }
}
