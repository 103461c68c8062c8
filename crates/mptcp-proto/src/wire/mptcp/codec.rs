//! Framing of the MPTCP option and dispatch on its subtype (RFC 8684 §3, §7.2); parsing and
//! emitting of the small fixed-layout subtypes (REMOVE_ADDR, MP_PRIO, MP_FAIL, MP_FASTCLOSE,
//! MP_TCPRST).

use super::subtype::*;
use super::{AddAddr, AddAddrV0, Dss, MPTCP_OPTION_KIND, MpCapable, MpJoin, MptcpOption};
use crate::wire::WireError;
use crate::wire::field::{Reader, Writer, length_byte};

/// An MPTCP option split after its subtype byte, handed to the subtype parsers.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame<'a> {
    /// The option length (kind and length bytes included), equal to the length byte.
    pub(super) len: usize,
    /// The low nibble of the subtype byte (version, flags or reserved bits by subtype).
    pub(super) low: u8,
    /// The bytes after the subtype byte.
    pub(super) body: &'a [u8],
}

/// The subtype byte: subtype in the high nibble, `low` (flags or version) in the low one.
pub(super) fn subtype_byte(subtype: u8, low: u8) -> u8 {
    (subtype << 4) | (low & 0x0f)
}

impl<'a> MptcpOption<'a> {
    /// Parses one whole MPTCP option: kind byte (30), length byte (equal to `option.len()`),
    /// then the payload, whose first nibble is the subtype (RFC 8684 §3).
    ///
    /// Which layout applies is decided by the length, as documented on each variant's type;
    /// ADD_ADDR with 4 or 6 in the low nibble of its first byte is the v0 layout (RFC 6824
    /// §3.4.1: IPVer). An unknown subtype becomes [`MptcpOption::Unknown`]; a known subtype
    /// with a length it cannot have is an error ([`WireError::BadLength`]), as is an ADD_ADDR
    /// v1 whose HMAC presence contradicts its E flag ([`WireError::Malformed`]). Reserved bits
    /// are ignored. Never panics.
    ///
    /// ```
    /// use mptcp_proto::wire::mptcp::{MpCapable, MptcpOption};
    ///
    /// // Linux's MP_CAPABLE in a SYN: version 1, flag H (HMAC-SHA256).
    /// let option = MptcpOption::parse(&[30, 4, 0x01, 0x01]).unwrap();
    /// let MptcpOption::MpCapable(MpCapable { version: 1, flags: 0x01, sender_key: None, .. }) =
    ///     option else { panic!() };
    /// ```
    pub fn parse(option: &'a [u8]) -> Result<Self, WireError> {
        let &[kind, length, first, ..] = option else {
            return Err(WireError::Truncated {
                needed: 3,
                available: option.len(),
            });
        };
        if kind != MPTCP_OPTION_KIND {
            return Err(WireError::Malformed("option kind is not MPTCP (30)"));
        }
        if usize::from(length) != option.len() {
            return Err(WireError::BadLength(usize::from(length)));
        }
        let frame = Frame {
            len: option.len(),
            low: first & 0x0f,
            body: option.get(3..).unwrap_or_default(),
        };
        match first >> 4 {
            MP_CAPABLE => MpCapable::parse(frame).map(Self::MpCapable),
            MP_JOIN => MpJoin::parse(frame).map(Self::MpJoin),
            DSS => Dss::parse(frame).map(Self::Dss),
            ADD_ADDR if matches!(frame.low, 4 | 6) => AddAddrV0::parse(frame).map(Self::AddAddrV0),
            ADD_ADDR => AddAddr::parse(frame).map(Self::AddAddr),
            REMOVE_ADDR => parse_remove_addr(frame),
            MP_PRIO => parse_mp_prio(frame),
            MP_FAIL => parse_key_or_dsn(frame).map(|dsn| Self::MpFail { dsn }),
            MP_FASTCLOSE => {
                parse_key_or_dsn(frame).map(|receiver_key| Self::MpFastclose { receiver_key })
            }
            MP_TCPRST => parse_mp_tcprst(frame),
            subtype => Ok(Self::Unknown {
                subtype,
                data: option.get(2..).unwrap_or_default(),
            }),
        }
    }

    /// The subtype (see [`subtype`](super::subtype)).
    pub fn subtype(&self) -> u8 {
        match self {
            Self::MpCapable(_) => MP_CAPABLE,
            Self::MpJoin(_) => MP_JOIN,
            Self::Dss(_) => DSS,
            Self::AddAddr(_) | Self::AddAddrV0(_) => ADD_ADDR,
            Self::RemoveAddr { .. } => REMOVE_ADDR,
            Self::MpPrio { .. } => MP_PRIO,
            Self::MpFail { .. } => MP_FAIL,
            Self::MpFastclose { .. } => MP_FASTCLOSE,
            Self::MpTcpRst { .. } => MP_TCPRST,
            Self::Unknown { subtype, .. } => *subtype,
        }
    }

    /// The subtype's name as in RFC 8684 ("MP_CAPABLE", "DSS", …; "unknown" otherwise).
    pub fn name(&self) -> &'static str {
        match self {
            Self::MpCapable(_) => "MP_CAPABLE",
            Self::MpJoin(_) => "MP_JOIN",
            Self::Dss(_) => "DSS",
            Self::AddAddr(_) | Self::AddAddrV0(_) => "ADD_ADDR",
            Self::RemoveAddr { .. } => "REMOVE_ADDR",
            Self::MpPrio { .. } => "MP_PRIO",
            Self::MpFail { .. } => "MP_FAIL",
            Self::MpFastclose { .. } => "MP_FASTCLOSE",
            Self::MpTcpRst { .. } => "MP_TCPRST",
            Self::Unknown { .. } => "unknown",
        }
    }

    /// Length of the option on the wire, kind and length bytes included.
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::MpCapable(o) => o.len(),
            Self::MpJoin(o) => o.len(),
            Self::Dss(o) => o.len(),
            Self::AddAddr(o) => o.len(),
            Self::AddAddrV0(o) => o.len(),
            Self::RemoveAddr { addr_ids } => 3 + addr_ids.len(),
            Self::MpPrio { addr_id, .. } => 3 + usize::from(addr_id.is_some()),
            Self::MpFail { .. } | Self::MpFastclose { .. } => 12,
            Self::MpTcpRst { .. } => 4,
            Self::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Writes the whole option (kind, length, payload) into the first
    /// [`buffer_len`](Self::buffer_len) bytes of `buf`, reserved bits as zero.
    ///
    /// Emitting a parsed option gives back its bytes, except for reserved bits that were set.
    /// [`MptcpOption::Unknown`] writes `data` as it is (its `subtype` field is not used).
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than `buffer_len()`.
    pub fn emit(&self, buf: &mut [u8]) {
        let mut w = Writer::new(buf);
        w.put_u8(MPTCP_OPTION_KIND);
        w.put_u8(length_byte(self.buffer_len()));
        match *self {
            Self::MpCapable(o) => o.emit_body(&mut w),
            Self::MpJoin(o) => o.emit_body(&mut w),
            Self::Dss(o) => o.emit_body(&mut w),
            Self::AddAddr(o) => o.emit_body(&mut w),
            Self::AddAddrV0(o) => o.emit_body(&mut w),
            Self::RemoveAddr { addr_ids } => {
                w.put_u8(subtype_byte(REMOVE_ADDR, 0));
                w.put_slice(addr_ids);
            }
            Self::MpPrio { backup, addr_id } => {
                w.put_u8(subtype_byte(MP_PRIO, u8::from(backup)));
                if let Some(id) = addr_id {
                    w.put_u8(id);
                }
            }
            Self::MpFail { dsn: value }
            | Self::MpFastclose {
                receiver_key: value,
            } => {
                w.put_u8(subtype_byte(self.subtype(), 0));
                w.put_u8(0);
                w.put(value.to_be_bytes());
            }
            Self::MpTcpRst { transient, reason } => {
                w.put_u8(subtype_byte(MP_TCPRST, u8::from(transient)));
                w.put_u8(reason);
            }
            Self::Unknown { data, .. } => w.put_slice(data),
        }
    }
}

/// REMOVE_ADDR (RFC 8684 §3.4.2): length 3 + n, n ≥ 1 address ids.
fn parse_remove_addr(frame: Frame<'_>) -> Result<MptcpOption<'_>, WireError> {
    if frame.body.is_empty() {
        return Err(WireError::BadLength(frame.len));
    }
    Ok(MptcpOption::RemoveAddr {
        addr_ids: frame.body,
    })
}

/// MP_PRIO: length 3 (RFC 8684 §3.3.8), or 4 with an address id (RFC 6824 §3.3.8); flag B
/// is the lowest bit of the subtype byte.
fn parse_mp_prio(frame: Frame<'_>) -> Result<MptcpOption<'_>, WireError> {
    let addr_id = match *frame.body {
        [] => None,
        [id] => Some(id),
        _ => return Err(WireError::BadLength(frame.len)),
    };
    Ok(MptcpOption::MpPrio {
        backup: frame.low & 1 != 0,
        addr_id,
    })
}

/// MP_FAIL (RFC 8684 §3.7) and MP_FASTCLOSE (§3.5): length 12, 12 reserved bits, then a
/// 64-bit value (the DSN, resp. the receiver's key).
fn parse_key_or_dsn(frame: Frame<'_>) -> Result<u64, WireError> {
    if frame.len != 12 {
        return Err(WireError::BadLength(frame.len));
    }
    let mut r = Reader::new(frame.body);
    r.u8()?;
    r.u64()
}

/// MP_TCPRST (RFC 8684 §3.6): length 4; flags U, V, W, T in the low nibble (T, transient, is
/// the lowest bit; U, V, W are unassigned), then the reason byte.
fn parse_mp_tcprst(frame: Frame<'_>) -> Result<MptcpOption<'_>, WireError> {
    match *frame.body {
        [reason] => Ok(MptcpOption::MpTcpRst {
            transient: frame.low & 1 != 0,
            reason,
        }),
        _ => Err(WireError::BadLength(frame.len)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::reset_reason;
    use super::*;

    fn round_trip(bytes: &[u8]) -> MptcpOption<'_> {
        let option = MptcpOption::parse(bytes).unwrap();
        assert_eq!(option.buffer_len(), bytes.len());
        let mut out = vec![0u8; bytes.len()];
        option.emit(&mut out);
        assert_eq!(out, bytes, "{option:?}");
        option
    }

    #[test]
    fn framing_errors() {
        assert_eq!(
            MptcpOption::parse(&[30, 2]),
            Err(WireError::Truncated {
                needed: 3,
                available: 2
            })
        );
        assert_eq!(
            MptcpOption::parse(&[2, 4, 5, 0xb4]),
            Err(WireError::Malformed("option kind is not MPTCP (30)"))
        );
        assert_eq!(
            MptcpOption::parse(&[30, 5, 0x01, 0x01]),
            Err(WireError::BadLength(5))
        );
    }

    #[test]
    fn remove_addr() {
        let option = round_trip(&[30, 5, 0x40, 3, 7]);
        assert_eq!(option, MptcpOption::RemoveAddr { addr_ids: &[3, 7] });
        assert_eq!(option.name(), "REMOVE_ADDR");
        assert_eq!(
            MptcpOption::parse(&[30, 3, 0x40]),
            Err(WireError::BadLength(3))
        );
    }

    #[test]
    fn mp_prio_v1_and_v0() {
        let v1 = round_trip(&[30, 3, 0x51]);
        assert_eq!(
            v1,
            MptcpOption::MpPrio {
                backup: true,
                addr_id: None
            }
        );
        let v0 = round_trip(&[30, 4, 0x50, 9]);
        assert_eq!(
            v0,
            MptcpOption::MpPrio {
                backup: false,
                addr_id: Some(9)
            }
        );
        assert_eq!(
            MptcpOption::parse(&[30, 5, 0x50, 9, 9]),
            Err(WireError::BadLength(5))
        );
    }

    #[test]
    fn mp_fail_and_fastclose() {
        let fail = round_trip(&[30, 12, 0x60, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            fail,
            MptcpOption::MpFail {
                dsn: 0x0102_0304_0506_0708
            }
        );
        assert_eq!(fail.subtype(), MP_FAIL);
        let close = round_trip(&[
            30, 12, 0x70, 0, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
        ]);
        assert_eq!(
            close,
            MptcpOption::MpFastclose {
                receiver_key: 0xfedc_ba98_7654_3210
            }
        );
        assert_eq!(close.name(), "MP_FASTCLOSE");
        assert_eq!(
            MptcpOption::parse(&[30, 4, 0x70, 0]),
            Err(WireError::BadLength(4))
        );
    }

    #[test]
    fn mp_tcprst() {
        let rst = round_trip(&[30, 4, 0x81, 0x06]);
        assert_eq!(
            rst,
            MptcpOption::MpTcpRst {
                transient: true,
                reason: reset_reason::MIDDLEBOX_INTERFERENCE
            }
        );
        // U, V, W are ignored on receipt and sent as zero.
        let parsed = MptcpOption::parse(&[30, 4, 0x8e, 0x01]).unwrap();
        assert_eq!(
            parsed,
            MptcpOption::MpTcpRst {
                transient: false,
                reason: 1
            }
        );
        assert_eq!(
            MptcpOption::parse(&[30, 3, 0x80]),
            Err(WireError::BadLength(3))
        );
    }

    #[test]
    fn reserved_bits_are_dropped() {
        let parsed = MptcpOption::parse(&[30, 12, 0x6f, 0xff, 0, 0, 0, 0, 0, 0, 0, 1]).unwrap();
        let mut out = [0u8; 12];
        parsed.emit(&mut out);
        assert_eq!(out, [30, 12, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn unknown_subtypes_are_kept_raw() {
        let option = round_trip(&[30, 5, 0xf3, 0xaa, 0xbb]);
        assert_eq!(
            option,
            MptcpOption::Unknown {
                subtype: 0xf,
                data: &[0xf3, 0xaa, 0xbb]
            }
        );
        assert_eq!(option.name(), "unknown");
        assert_eq!(option.subtype(), 0xf);
        let nine = round_trip(&[30, 3, 0x90]);
        assert_eq!(nine.subtype(), 9);
    }
}
