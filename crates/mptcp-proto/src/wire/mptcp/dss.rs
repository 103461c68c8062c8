//! DSS, the data sequence signal (RFC 8684 §3.3): DATA_ACK, mapping, DATA_FIN.
//!
//! Layout after the kind and length bytes: subtype and 4 reserved bits; 3 reserved bits and
//! the flags F m M a A ([`dss_flags`](super::dss_flags)); the DATA_ACK (4 or 8 bytes, if A);
//! the mapping (if M): DSN (4 or 8 bytes), subflow sequence number (4), data-level length (2),
//! and the checksum (2) when checksums are in use. The checksum's presence is told by the
//! length alone: 2 bytes more than the flags account for.

use super::codec::{Frame, subtype_byte};
use super::dss_flags::{ACK_64, DATA_ACK, DATA_FIN, DSN_64, MAPPING};
use super::subtype::DSS;
use super::{Dss, DssMapping, DssNumber};
use crate::wire::field::{Reader, Writer};
use crate::wire::{DataSeq, WireError};

impl DssNumber {
    /// Reads 8 bytes when `wide`, else 4.
    fn read(r: &mut Reader<'_>, wide: bool) -> Result<Self, WireError> {
        if wide {
            r.u64().map(Self::U64)
        } else {
            r.u32().map(Self::U32)
        }
    }

    /// Bytes on the wire: 4 or 8.
    pub fn wire_len(self) -> usize {
        match self {
            Self::U32(_) => 4,
            Self::U64(_) => 8,
        }
    }

    /// Whether this is the 8-byte form (flag `m` or `a`).
    pub fn is_64(self) -> bool {
        matches!(self, Self::U64(_))
    }

    /// The full 64-bit value: a 64-bit number as it is, a 32-bit one expanded to the value
    /// closest to `reference` (RFC 8684 §3.3: the upper bits are inferred).
    pub fn expand(self, reference: DataSeq) -> DataSeq {
        match self {
            Self::U64(value) => DataSeq(value),
            Self::U32(low) => DataSeq::expand(reference, low),
        }
    }

    fn put(self, w: &mut Writer<'_>) {
        match self {
            Self::U32(value) => w.put(value.to_be_bytes()),
            Self::U64(value) => w.put(value.to_be_bytes()),
        }
    }
}

impl DssMapping {
    /// Bytes on the wire: DSN, subflow sequence number, length, and the checksum if any.
    fn wire_len(&self) -> usize {
        self.dsn.wire_len() + 6 + if self.checksum.is_some() { 2 } else { 0 }
    }
}

impl Dss {
    /// The flags byte: F m M a A as the fields say (reserved bits zero).
    pub fn flags(&self) -> u8 {
        let mut flags = 0;
        if self.data_fin {
            flags |= DATA_FIN;
        }
        if let Some(ack) = self.data_ack {
            flags |= DATA_ACK | if ack.is_64() { ACK_64 } else { 0 };
        }
        if let Some(mapping) = self.mapping {
            flags |= MAPPING | if mapping.dsn.is_64() { DSN_64 } else { 0 };
        }
        flags
    }

    /// Reads a DSS option. The length must be exactly what the flags call for, or that plus 2
    /// when a mapping is present (the checksum); anything else is [`WireError::BadLength`].
    /// Flags `a` without `A` and `m` without `M` are ignored.
    pub(super) fn parse(frame: Frame<'_>) -> Result<Self, WireError> {
        let Some((&flags, fields)) = frame.body.split_first() else {
            return Err(WireError::BadLength(frame.len));
        };
        let mut r = Reader::new(fields);
        let has = |flag| flags & flag != 0;
        let ack_len = match (has(DATA_ACK), has(ACK_64)) {
            (false, _) => 0,
            (true, false) => 4,
            (true, true) => 8,
        };
        let mapping_len = match (has(MAPPING), has(DSN_64)) {
            (false, _) => 0,
            (true, false) => 4 + 6,
            (true, true) => 8 + 6,
        };
        let expected = 4 + ack_len + mapping_len;
        let has_checksum = if frame.len == expected {
            false
        } else if has(MAPPING) && frame.len == expected + 2 {
            true
        } else {
            return Err(WireError::BadLength(frame.len));
        };
        let data_ack = has(DATA_ACK)
            .then(|| DssNumber::read(&mut r, has(ACK_64)))
            .transpose()?;
        let mapping = if has(MAPPING) {
            Some(DssMapping {
                dsn: DssNumber::read(&mut r, has(DSN_64))?,
                subflow_seq: r.u32()?,
                data_len: r.u16()?,
                checksum: has_checksum.then(|| r.u16()).transpose()?,
            })
        } else {
            None
        };
        Ok(Self {
            data_fin: has(DATA_FIN),
            data_ack,
            mapping,
        })
    }

    /// Option length: 4, plus the DATA_ACK, plus the mapping.
    pub(super) fn len(&self) -> usize {
        4 + self.data_ack.map_or(0, DssNumber::wire_len)
            + self.mapping.as_ref().map_or(0, DssMapping::wire_len)
    }

    /// Writes from the subtype byte on.
    pub(super) fn emit_body(&self, w: &mut Writer<'_>) {
        w.put_u8(subtype_byte(DSS, 0));
        w.put_u8(self.flags());
        if let Some(ack) = self.data_ack {
            ack.put(w);
        }
        if let Some(mapping) = self.mapping {
            mapping.dsn.put(w);
            w.put(mapping.subflow_seq.to_be_bytes());
            w.put(mapping.data_len.to_be_bytes());
            if let Some(checksum) = mapping.checksum {
                w.put(checksum.to_be_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::MptcpOption;
    use super::*;

    fn dss(bytes: &[u8]) -> Dss {
        let option = MptcpOption::parse(bytes).unwrap();
        let mut out = vec![0u8; option.buffer_len()];
        option.emit(&mut out);
        assert_eq!(out, bytes, "{option:?}");
        match option {
            MptcpOption::Dss(d) => d,
            other => panic!("not DSS: {other:?}"),
        }
    }

    /// What Linux sends with data: 64-bit DATA_ACK and 64-bit mapping, no checksum
    /// (length 4 + 8 + 8 + 4 + 2 = 26; the two NOPs after it are separate TCP options).
    #[test]
    fn linux_data_segment() {
        let mut bytes = vec![0x1e, 26, 0x20, 0x0f];
        bytes.extend_from_slice(&0x0000_0001_0000_0100u64.to_be_bytes());
        bytes.extend_from_slice(&0x1234_5678_9abc_def0u64.to_be_bytes());
        bytes.extend_from_slice(&1u32.to_be_bytes());
        bytes.extend_from_slice(&1448u16.to_be_bytes());
        assert_eq!(
            dss(&bytes),
            Dss {
                data_fin: false,
                data_ack: Some(DssNumber::U64(0x0000_0001_0000_0100)),
                mapping: Some(DssMapping {
                    dsn: DssNumber::U64(0x1234_5678_9abc_def0),
                    subflow_seq: 1,
                    data_len: 1448,
                    checksum: None
                })
            }
        );
        // The same with a checksum: length 28.
        bytes[1] = 28;
        bytes.extend_from_slice(&[0xbe, 0xef]);
        assert_eq!(dss(&bytes).mapping.unwrap().checksum, Some(0xbeef));
    }

    #[test]
    fn pure_data_ack_32_and_64() {
        let d = dss(&[0x1e, 8, 0x20, 0x01, 0, 0, 1, 0]);
        assert_eq!(d.data_ack, Some(DssNumber::U32(256)));
        assert_eq!(d.mapping, None);
        let d = dss(&[0x1e, 12, 0x20, 0x03, 0, 0, 0, 0, 0, 0, 1, 0]);
        assert_eq!(d.data_ack, Some(DssNumber::U64(256)));
    }

    /// DATA_FIN alone: mapping with subflow sequence 0 and data-level length 1 (32-bit DSN).
    #[test]
    fn data_fin_mapping() {
        let d = dss(&[
            0x1e, 18, 0x20, 0x15, 0, 0, 0, 9, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 1,
        ]);
        assert!(d.data_fin);
        assert_eq!(d.data_ack, Some(DssNumber::U32(9)));
        let mapping = d.mapping.unwrap();
        assert_eq!(mapping.dsn, DssNumber::U32(0x10));
        assert_eq!((mapping.subflow_seq, mapping.data_len), (0, 1));
        assert_eq!(d.flags(), DATA_FIN | MAPPING | DATA_ACK);
    }

    #[test]
    fn bad_lengths() {
        // Ack flag but no room for it.
        assert_eq!(
            MptcpOption::parse(&[0x1e, 4, 0x20, 0x01]),
            Err(WireError::BadLength(4))
        );
        // No mapping: the checksum's two bytes are not allowed.
        assert_eq!(
            MptcpOption::parse(&[0x1e, 10, 0x20, 0x01, 0, 0, 0, 1, 0, 0]),
            Err(WireError::BadLength(10))
        );
        // The flags byte itself is missing.
        assert_eq!(
            MptcpOption::parse(&[0x1e, 3, 0x20]),
            Err(WireError::BadLength(3))
        );
    }

    #[test]
    fn lone_width_flags_are_ignored() {
        // 'a' without 'A', 'm' without 'M': an empty DSS.
        let parsed = MptcpOption::parse(&[0x1e, 4, 0x20, 0x0a]).unwrap();
        assert_eq!(
            parsed,
            MptcpOption::Dss(Dss {
                data_fin: false,
                data_ack: None,
                mapping: None
            })
        );
    }

    #[test]
    fn expand_32_bit_numbers() {
        let reference = DataSeq(0x5_ffff_fff0);
        assert_eq!(
            DssNumber::U32(0x10).expand(reference),
            DataSeq(0x6_0000_0010)
        );
        assert_eq!(DssNumber::U64(7).expand(reference), DataSeq(7));
    }
}
