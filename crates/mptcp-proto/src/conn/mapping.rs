//! Data sequence mappings (RFC 8684 §3.3.1): which bytes of a subflow's sequence space carry
//! which bytes of the connection's data sequence space.
//!
//! The sender keeps the mappings of the data it handed to a subflow until the subflow
//! acknowledges them, and writes the mapping of each segment's bytes into its DSS option.
//! The receiver keeps the mappings it was told until the subflow's in-order bytes they cover
//! have been moved to the connection level.

use std::collections::VecDeque;

use crate::wire::{DataSeq, SeqNum};

/// One mapping: `len` bytes from subflow sequence number `ssn` are data bytes from `dsn`.
/// `len == None` is the infinite mapping of a connection that fell back to TCP (RFC 8684
/// §3.7): every later subflow byte maps one to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mapping {
    /// Absolute subflow sequence number of the first byte.
    pub(crate) ssn: SeqNum,
    /// Data sequence number of the first byte.
    pub(crate) dsn: DataSeq,
    /// Length in bytes (a DATA_FIN is not counted), `None` for the infinite mapping.
    pub(crate) len: Option<u32>,
    /// DSS checksum of the mapped bytes, when checksums are in use.
    pub(crate) checksum: Option<u16>,
    /// The DSS that carried it also carried the DATA_FIN (its data-level length on the
    /// wire, which the checksum covers, is one more than `len`).
    pub(crate) fin: bool,
}

impl Mapping {
    /// Subflow sequence number after the last mapped byte (`None`: no end).
    pub(crate) fn ssn_end(&self) -> Option<SeqNum> {
        self.len.map(|len| self.ssn + len)
    }

    /// Whether subflow sequence number `seq` is mapped by this mapping.
    pub(crate) fn covers(&self, seq: SeqNum) -> bool {
        seq >= self.ssn && self.ssn_end().is_none_or(|end| seq < end)
    }

    /// The data sequence number of subflow byte `seq` (which it must cover).
    pub(crate) fn dsn_of(&self, seq: SeqNum) -> DataSeq {
        self.dsn + seq.diff(self.ssn) as u64
    }
}

/// The mappings of one direction of one subflow, in subflow sequence order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Mappings {
    maps: VecDeque<Mapping>,
}

impl Mappings {
    /// Adds a mapping after the others (the sender's new data, or a mapping the peer sent).
    /// A mapping already known (same start) is not added twice; returns false when `map`
    /// conflicts with a known one (same start, different meaning).
    pub(crate) fn insert(&mut self, map: Mapping) -> bool {
        if let Some(known) = self.maps.iter().find(|m| m.ssn == map.ssn) {
            return known.dsn == map.dsn && known.len == map.len;
        }
        let at = self.maps.partition_point(|m| m.ssn < map.ssn);
        self.maps.insert(at, map);
        true
    }

    /// How many mappings are held.
    pub(crate) fn len(&self) -> usize {
        self.maps.len()
    }

    /// The mapping that covers subflow byte `seq`.
    pub(crate) fn find(&self, seq: SeqNum) -> Option<&Mapping> {
        self.maps.iter().rev().find(|m| m.covers(seq))
    }

    /// The mappings, in subflow sequence order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Mapping> + '_ {
        self.maps.iter()
    }

    /// Drops the oldest mappings whose bytes are acknowledged both by the subflow (up to
    /// `seq`) and at the data level (up to `data_una`).
    pub(crate) fn drop_delivered(&mut self, seq: SeqNum, data_una: DataSeq) {
        while self.maps.front().is_some_and(|m| {
            let (Some(ssn_end), Some(len)) = (m.ssn_end(), m.len) else {
                return false;
            };
            ssn_end <= seq && m.dsn + u64::from(len) <= data_una
        }) {
            self.maps.pop_front();
        }
    }

    /// Drops the mappings that end at or before `seq`.
    pub(crate) fn drop_before(&mut self, seq: SeqNum) {
        while self
            .maps
            .front()
            .is_some_and(|m| m.ssn_end().is_some_and(|end| end <= seq))
        {
            self.maps.pop_front();
        }
    }

    /// Whether data byte `dsn` is mapped to a subflow byte at or after `seq` (the sender:
    /// handed to the subflow and not yet acknowledged by it, when `seq` is its SND.UNA).
    pub(crate) fn maps_from(&self, dsn: DataSeq, seq: SeqNum) -> bool {
        self.maps.iter().any(|m| {
            let Some(len) = m.len else {
                return false;
            };
            let offset = dsn.diff(m.dsn);
            (0..i64::from(len)).contains(&offset) && m.ssn + offset as u32 >= seq
        })
    }

    /// The finite mappings held, as data sequence ranges (start, length).
    pub(crate) fn ranges(&self) -> impl Iterator<Item = (DataSeq, u32)> + '_ {
        self.maps.iter().filter_map(|m| Some((m.dsn, m.len?)))
    }

    /// Drops the mappings that start at or after `seq` (an infinite mapping replaces them).
    pub(crate) fn remove_from(&mut self, seq: SeqNum) {
        self.maps.retain(|m| m.ssn < seq);
    }

    /// Where the infinite mapping starts, if there is one.
    pub(crate) fn infinite_start(&self) -> Option<SeqNum> {
        self.maps.iter().find(|m| m.len.is_none()).map(|m| m.ssn)
    }

    /// Forgets every mapping.
    pub(crate) fn clear(&mut self) {
        self.maps.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(ssn: u32, dsn: u64, len: u32) -> Mapping {
        Mapping {
            ssn: SeqNum(ssn),
            dsn: DataSeq(dsn),
            len: Some(len),
            checksum: None,
            fin: false,
        }
    }

    #[test]
    fn lookups_cover_each_byte_once_and_wrap() {
        let mut maps = Mappings::default();
        assert!(maps.insert(map(u32::MAX - 9, 1000, 20)));
        assert!(maps.insert(map(10, 5000, 10)));
        let m = maps.find(SeqNum(5)).unwrap();
        assert_eq!(m.dsn_of(SeqNum(5)), DataSeq(1015));
        assert_eq!(
            maps.find(SeqNum(12)).unwrap().dsn_of(SeqNum(12)),
            DataSeq(5002)
        );
        assert!(maps.find(SeqNum(20)).is_none());
        maps.drop_before(SeqNum(10));
        assert!(maps.find(SeqNum(5)).is_none());
        assert!(maps.find(SeqNum(12)).is_some());
    }

    #[test]
    fn a_data_byte_is_found_on_the_subflow_only_while_its_subflow_byte_is_not_acknowledged() {
        let mut maps = Mappings::default();
        assert!(maps.insert(map(u32::MAX - 9, 1000, 20)));
        // Data byte 1015 is subflow byte 5 (after the wrap).
        assert!(maps.maps_from(DataSeq(1015), SeqNum(5)));
        assert!(maps.maps_from(DataSeq(1015), SeqNum(u32::MAX)));
        assert!(!maps.maps_from(DataSeq(1015), SeqNum(6)));
        assert!(!maps.maps_from(DataSeq(1020), SeqNum(0)));
        assert!(!maps.maps_from(DataSeq(999), SeqNum(0)));
    }

    #[test]
    fn a_repeated_mapping_is_kept_once_and_a_conflicting_one_refused() {
        let mut maps = Mappings::default();
        assert!(maps.insert(map(1, 100, 50)));
        assert!(maps.insert(map(1, 100, 50)));
        assert!(!maps.insert(map(1, 200, 50)));
        maps.drop_before(SeqNum(51));
        assert!(maps.find(SeqNum(1)).is_none());
    }

    #[test]
    fn the_infinite_mapping_covers_everything_after_its_start() {
        let mut maps = Mappings::default();
        maps.insert(Mapping {
            ssn: SeqNum(100),
            dsn: DataSeq(7),
            len: None,
            checksum: None,
            fin: false,
        });
        let m = maps.find(SeqNum(100 + 1_000_000)).unwrap();
        assert_eq!(m.dsn_of(SeqNum(100 + 1_000_000)), DataSeq(1_000_007));
        maps.drop_before(SeqNum(5_000_000));
        assert!(maps.find(SeqNum(5_000_000)).is_some());
    }
}
