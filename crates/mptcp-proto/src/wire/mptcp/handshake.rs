//! MP_CAPABLE (RFC 8684 §3.1, RFC 6824 §3.1) and MP_JOIN (RFC 8684 §3.2): the options of the
//! connection and subflow handshakes.

use super::codec::{Frame, subtype_byte};
use super::subtype::{MP_CAPABLE, MP_JOIN};
use super::{MpCapable, MpJoin};
use crate::wire::WireError;
use crate::wire::field::{Reader, Writer};

impl MpCapable {
    /// Reads the fields the length announces (see the table on [`MpCapable`]).
    pub(super) fn parse(frame: Frame<'_>) -> Result<Self, WireError> {
        if !matches!(frame.len, 4 | 12 | 20 | 22 | 24) {
            return Err(WireError::BadLength(frame.len));
        }
        let mut r = Reader::new(frame.body);
        let flags = r.u8()?;
        let sender_key = (frame.len >= 12).then(|| r.u64()).transpose()?;
        let receiver_key = (frame.len >= 20).then(|| r.u64()).transpose()?;
        let data_len = (frame.len >= 22).then(|| r.u16()).transpose()?;
        let checksum = (frame.len >= 24).then(|| r.u16()).transpose()?;
        Ok(Self {
            version: frame.low,
            flags,
            sender_key,
            receiver_key,
            data_len,
            checksum,
        })
    }

    /// Option length: that of the longest layout whose last field is present (4, 12, 20, 22
    /// or 24). Fields of that layout which are `None` are sent as zero.
    pub(super) fn len(&self) -> usize {
        if self.checksum.is_some() {
            24
        } else if self.data_len.is_some() {
            22
        } else if self.receiver_key.is_some() {
            20
        } else if self.sender_key.is_some() {
            12
        } else {
            4
        }
    }

    /// Writes from the subtype byte on; `version` contributes its low 4 bits.
    pub(super) fn emit_body(&self, w: &mut Writer<'_>) {
        let len = self.len();
        w.put_u8(subtype_byte(MP_CAPABLE, self.version));
        w.put_u8(self.flags);
        if len >= 12 {
            w.put(self.sender_key.unwrap_or(0).to_be_bytes());
        }
        if len >= 20 {
            w.put(self.receiver_key.unwrap_or(0).to_be_bytes());
        }
        if len >= 22 {
            w.put(self.data_len.unwrap_or(0).to_be_bytes());
        }
        if len >= 24 {
            w.put(self.checksum.unwrap_or(0).to_be_bytes());
        }
    }
}

impl MpJoin {
    /// RFC 8684 §3.2: length 12 in the SYN, 16 in the SYN/ACK, 24 in the third ACK. Flag B is
    /// the lowest bit of the subtype byte (reserved in the ACK, whose next byte is reserved
    /// too).
    pub(super) fn parse(frame: Frame<'_>) -> Result<Self, WireError> {
        let mut r = Reader::new(frame.body);
        let backup = frame.low & 1 != 0;
        match frame.len {
            12 => Ok(Self::Syn {
                backup,
                addr_id: r.u8()?,
                receiver_token: r.u32()?,
                sender_nonce: r.u32()?,
            }),
            16 => Ok(Self::SynAck {
                backup,
                addr_id: r.u8()?,
                truncated_hmac: r.u64()?,
                sender_nonce: r.u32()?,
            }),
            24 => {
                r.u8()?;
                Ok(Self::Ack { hmac: r.array()? })
            }
            len => Err(WireError::BadLength(len)),
        }
    }

    /// Option length: 12, 16 or 24 by handshake step.
    pub(super) fn len(&self) -> usize {
        match self {
            Self::Syn { .. } => 12,
            Self::SynAck { .. } => 16,
            Self::Ack { .. } => 24,
        }
    }

    /// Writes from the subtype byte on.
    pub(super) fn emit_body(&self, w: &mut Writer<'_>) {
        match *self {
            Self::Syn {
                backup,
                addr_id,
                receiver_token,
                sender_nonce,
            } => {
                w.put_u8(subtype_byte(MP_JOIN, u8::from(backup)));
                w.put_u8(addr_id);
                w.put(receiver_token.to_be_bytes());
                w.put(sender_nonce.to_be_bytes());
            }
            Self::SynAck {
                backup,
                addr_id,
                truncated_hmac,
                sender_nonce,
            } => {
                w.put_u8(subtype_byte(MP_JOIN, u8::from(backup)));
                w.put_u8(addr_id);
                w.put(truncated_hmac.to_be_bytes());
                w.put(sender_nonce.to_be_bytes());
            }
            Self::Ack { hmac } => {
                w.put_u8(subtype_byte(MP_JOIN, 0));
                w.put_u8(0);
                w.put(hmac);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::capable_flags::{CHECKSUM_REQUIRED, HMAC_SHA};
    use super::super::{MptcpOption, subtype};
    use super::*;

    fn round_trip(bytes: &[u8]) -> MptcpOption<'_> {
        let option = MptcpOption::parse(bytes).unwrap();
        let mut out = vec![0u8; option.buffer_len()];
        option.emit(&mut out);
        assert_eq!(out, bytes, "{option:?}");
        option
    }

    const KEY_A: [u8; 8] = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
    const KEY_B: [u8; 8] = [0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00];

    fn capable(bytes: &[u8]) -> MpCapable {
        match round_trip(bytes) {
            MptcpOption::MpCapable(c) => c,
            other => panic!("not MP_CAPABLE: {other:?}"),
        }
    }

    #[test]
    fn mp_capable_v1_syn_as_linux_sends_it() {
        // Kind 30, length 4, subtype 0 / version 1, flags H.
        let c = capable(&[0x1e, 0x04, 0x01, 0x01]);
        assert_eq!(
            c,
            MpCapable {
                version: 1,
                flags: HMAC_SHA,
                sender_key: None,
                receiver_key: None,
                data_len: None,
                checksum: None
            }
        );
        // With checksums enabled Linux adds flag A.
        assert_eq!(
            capable(&[0x1e, 0x04, 0x01, 0x81]).flags,
            CHECKSUM_REQUIRED | HMAC_SHA
        );
    }

    #[test]
    fn mp_capable_each_length() {
        let mut syn_ack = vec![0x1e, 12, 0x01, 0x01];
        syn_ack.extend_from_slice(&KEY_B);
        let c = capable(&syn_ack);
        assert_eq!(c.sender_key, Some(0x99aa_bbcc_ddee_ff00));
        assert_eq!(c.receiver_key, None);

        let mut ack = vec![0x1e, 20, 0x01, 0x01];
        ack.extend_from_slice(&KEY_A);
        ack.extend_from_slice(&KEY_B);
        let c = capable(&ack);
        assert_eq!(c.sender_key, Some(0x1122_3344_5566_7788));
        assert_eq!(c.receiver_key, Some(0x99aa_bbcc_ddee_ff00));

        let mut data = ack.clone();
        data[1] = 22;
        data.extend_from_slice(&[0x05, 0xdc]);
        let c = capable(&data);
        assert_eq!((c.data_len, c.checksum), (Some(1500), None));

        let mut data_csum = data.clone();
        data_csum[1] = 24;
        data_csum.extend_from_slice(&[0xab, 0xcd]);
        let c = capable(&data_csum);
        assert_eq!((c.data_len, c.checksum), (Some(1500), Some(0xabcd)));
    }

    #[test]
    fn mp_capable_v0_syn_carries_the_key() {
        let mut syn = vec![0x1e, 12, 0x00, 0x81];
        syn.extend_from_slice(&KEY_A);
        let c = capable(&syn);
        assert_eq!((c.version, c.flags), (0, 0x81));
        assert_eq!(c.sender_key, Some(0x1122_3344_5566_7788));
    }

    #[test]
    fn mp_capable_bad_lengths() {
        for len in [3usize, 5, 8, 13, 21, 23, 25] {
            let mut bytes = vec![0u8; len];
            bytes[..3].copy_from_slice(&[0x1e, len as u8, 0x01]);
            assert_eq!(MptcpOption::parse(&bytes), Err(WireError::BadLength(len)));
        }
    }

    #[test]
    fn mp_capable_missing_fields_are_emitted_as_zero() {
        let odd = MpCapable {
            version: 1,
            flags: 0,
            sender_key: None,
            receiver_key: Some(5),
            data_len: None,
            checksum: None,
        };
        let mut out = [0xffu8; 20];
        MptcpOption::MpCapable(odd).emit(&mut out);
        assert_eq!(out[..12], [0x1e, 20, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(out[12..], 5u64.to_be_bytes());
    }

    #[test]
    fn mp_join_syn() {
        let option = round_trip(&[0x1e, 12, 0x11, 0x02, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 42]);
        assert_eq!(
            option,
            MptcpOption::MpJoin(MpJoin::Syn {
                backup: true,
                addr_id: 2,
                receiver_token: 0xdead_beef,
                sender_nonce: 42
            })
        );
        assert_eq!(option.subtype(), subtype::MP_JOIN);
        assert_eq!(option.name(), "MP_JOIN");
    }

    #[test]
    fn mp_join_syn_ack_and_ack() {
        let mut syn_ack = vec![0x1e, 16, 0x10, 0x00];
        syn_ack.extend_from_slice(&KEY_A);
        syn_ack.extend_from_slice(&7u32.to_be_bytes());
        assert_eq!(
            round_trip(&syn_ack),
            MptcpOption::MpJoin(MpJoin::SynAck {
                backup: false,
                addr_id: 0,
                truncated_hmac: 0x1122_3344_5566_7788,
                sender_nonce: 7
            })
        );
        let mut ack = vec![0x1e, 24, 0x10, 0x00];
        let hmac: [u8; 20] = core::array::from_fn(|i| i as u8);
        ack.extend_from_slice(&hmac);
        assert_eq!(round_trip(&ack), MptcpOption::MpJoin(MpJoin::Ack { hmac }));
        assert_eq!(
            MptcpOption::parse(&[0x1e, 4, 0x10, 0]),
            Err(WireError::BadLength(4))
        );
    }
}
