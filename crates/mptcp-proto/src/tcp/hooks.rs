//! How a layer above TCP shapes the segments of a connection it drives as a subflow.
//!
//! The MPTCP connection level (RFC 8684) rides on TCP options: it adds MP_CAPABLE, DSS and
//! the signalling options to the segments a subflow sends, bounds each segment so that it
//! never straddles two data-sequence mappings (RFC 8684 §3.3.1), and advertises the
//! connection-level receive window (§3.3.4) instead of the subflow's own. The TCP engine
//! calls these hooks while it builds a segment; plain TCP uses [`NoHooks`].

use crate::wire::{SeqNum, TcpFlags, TcpOption};

/// A segment the TCP engine is about to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutgoingSegment {
    /// Its flags.
    pub flags: TcpFlags,
    /// Sequence number of its first byte (of the SYN for a SYN).
    pub seq: SeqNum,
    /// Payload length.
    pub len: usize,
    /// The connection's initial send sequence number (subflow-relative numbers count from
    /// it).
    pub iss: SeqNum,
}

/// What the layer above adds to outgoing segments. Every method has a plain-TCP default.
pub trait SegmentHooks {
    /// Option bytes the layer needs on a segment with `flags` that carries data (`data`) or
    /// not; the engine keeps them free of its own optional options (SACK blocks) and takes
    /// them off the payload room. [`add_options`] may write less, never more.
    ///
    /// [`add_options`]: SegmentHooks::add_options
    fn option_space(&self, _flags: TcpFlags, _data: bool) -> usize {
        0
    }

    /// The most payload bytes one segment may carry from sequence number `seq`, given that
    /// the engine would send `len`.
    fn limit_payload(&self, _seq: SeqNum, len: usize) -> usize {
        len
    }

    /// Appends the layer's options to `options` for `segment`. `room` is what is left of
    /// the 40-byte option area.
    fn add_options(
        &mut self,
        _segment: &OutgoingSegment,
        _room: usize,
        _options: &mut Vec<TcpOption<'static>>,
    ) {
    }

    /// Whether the layer above holds more data for this connection than its send buffer
    /// shows (so a segment that empties the buffer is not application-limited).
    fn more_data_pending(&self) -> bool {
        false
    }

    /// The receive window to advertise, when the layer keeps its own (the engine advertises
    /// the smaller of this and its buffer's free space).
    fn receive_window(&self) -> Option<usize> {
        None
    }
}

/// Plain TCP: no options added, no limits.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl SegmentHooks for NoHooks {}
