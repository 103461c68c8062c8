//! The MPTCP option (TCP option kind 30), every subtype of RFC 8684 (v1) and RFC 6824 (v0).
//!
//! [`MptcpOption`] is the parsed form: one variant per subtype. It covers the *payload* of the
//! TCP option — the bytes after the kind and length bytes — and knows its own total length
//! ([`MptcpOption::buffer_len`], kind and length bytes included). Which layout a subtype uses
//! is decided from the option length (and, for ADD_ADDR, from the v0 IPVer nibble), so one
//! parser reads both protocol versions.
//!
//! Reserved bits are ignored on receipt and sent as zero (RFC 8684 §3).
//!
//! The code is split by concern: `codec` frames the option and dispatches on the subtype
//! (and holds the small fixed-size subtypes); `handshake` reads and writes MP_CAPABLE and
//! MP_JOIN; `dss` the data sequence signal; `addr` ADD_ADDR in both versions.

mod addr;
mod codec;
mod dss;
mod handshake;

use core::net::IpAddr;

/// TCP option kind of MPTCP (RFC 8684 §3, IANA).
pub const MPTCP_OPTION_KIND: u8 = 30;

/// MPTCP option subtypes (RFC 8684 §7.2).
pub mod subtype {
    /// MP_CAPABLE.
    pub const MP_CAPABLE: u8 = 0x0;
    /// MP_JOIN.
    pub const MP_JOIN: u8 = 0x1;
    /// DSS (data sequence signal).
    pub const DSS: u8 = 0x2;
    /// ADD_ADDR.
    pub const ADD_ADDR: u8 = 0x3;
    /// REMOVE_ADDR.
    pub const REMOVE_ADDR: u8 = 0x4;
    /// MP_PRIO.
    pub const MP_PRIO: u8 = 0x5;
    /// MP_FAIL.
    pub const MP_FAIL: u8 = 0x6;
    /// MP_FASTCLOSE.
    pub const MP_FASTCLOSE: u8 = 0x7;
    /// MP_TCPRST.
    pub const MP_TCPRST: u8 = 0x8;
    /// Private use (experimental).
    pub const MP_EXPERIMENTAL: u8 = 0xf;
}

/// MP_CAPABLE flag bits (RFC 8684 §3.1).
pub mod capable_flags {
    /// A: checksum required.
    pub const CHECKSUM_REQUIRED: u8 = 0x80;
    /// B: extensibility.
    pub const EXTENSIBILITY: u8 = 0x40;
    /// C: do not attempt to establish new subflows to this address and port.
    pub const NO_JOIN_INITIAL_ADDRESS: u8 = 0x20;
    /// H: HMAC-SHA256 (v1) / HMAC-SHA1 (v0).
    pub const HMAC_SHA: u8 = 0x01;
}

/// DSS flag bits, in the byte after the subtype byte (RFC 8684 §3.3).
pub mod dss_flags {
    /// F: DATA_FIN.
    pub const DATA_FIN: u8 = 0x10;
    /// m: the data sequence number is 8 octets (else 4).
    pub const DSN_64: u8 = 0x08;
    /// M: a mapping (DSN, subflow sequence number, data-level length, checksum) is present.
    pub const MAPPING: u8 = 0x04;
    /// a: the DATA_ACK is 8 octets (else 4).
    pub const ACK_64: u8 = 0x02;
    /// A: a DATA_ACK is present.
    pub const DATA_ACK: u8 = 0x01;
}

/// A 64-bit MPTCP key as sent on the wire (RFC 8684 §3.1).
pub type Key = u64;

/// MP_CAPABLE (RFC 8684 §3.1, RFC 6824 §3.1). The layout follows the option length:
///
/// | length | fields present                                   | used in                     |
/// |--------|--------------------------------------------------|-----------------------------|
/// | 4      | none                                             | v1 SYN                      |
/// | 12     | `sender_key`                                     | v1 SYN/ACK, v0 SYN, SYN/ACK |
/// | 20     | `sender_key`, `receiver_key`                     | third ACK (v0 and v1)       |
/// | 22     | both keys, `data_len`                            | v1 first data, no checksum  |
/// | 24     | both keys, `data_len`, `checksum`                | v1 first data, checksum     |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MpCapable {
    /// Protocol version: 0 (RFC 6824) or 1 (RFC 8684).
    pub version: u8,
    /// Flags byte `ABCDEFGH` (see [`capable_flags`]).
    pub flags: u8,
    /// The sender's key.
    pub sender_key: Option<Key>,
    /// The receiver's key (echoed back to it).
    pub receiver_key: Option<Key>,
    /// Data-level length of the payload of this segment (v1 only).
    pub data_len: Option<u16>,
    /// DSS checksum of this segment (v1 only, when checksums are in use).
    pub checksum: Option<u16>,
}

/// MP_JOIN (RFC 8684 §3.2): three layouts, one per handshake step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MpJoin {
    /// In the SYN (length 12).
    Syn {
        /// B: the subflow is a backup.
        backup: bool,
        /// Address id of the sender's source address.
        addr_id: u8,
        /// Token of the *receiver's* key.
        receiver_token: u32,
        /// The sender's random number (R_A).
        sender_nonce: u32,
    },
    /// In the SYN/ACK (length 16).
    SynAck {
        /// B: the subflow is a backup.
        backup: bool,
        /// Address id of the sender's source address.
        addr_id: u8,
        /// Leftmost 64 bits of HMAC(Key_B ‖ Key_A, R_B ‖ R_A).
        truncated_hmac: u64,
        /// The sender's random number (R_B).
        sender_nonce: u32,
    },
    /// In the third ACK (length 24).
    Ack {
        /// Leftmost 160 bits of HMAC(Key_A ‖ Key_B, R_A ‖ R_B).
        hmac: [u8; 20],
    },
}

/// A data sequence number as carried by DSS: 32 or 64 bits on the wire (flag `m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DssNumber {
    /// 4 bytes on the wire.
    U32(u32),
    /// 8 bytes on the wire.
    U64(u64),
}

/// The mapping part of a DSS option (flag `M`, RFC 8684 §3.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DssMapping {
    /// Data sequence number of the first byte of the mapping.
    pub dsn: DssNumber,
    /// Subflow sequence number, relative to the subflow's initial sequence number.
    pub subflow_seq: u32,
    /// Data-level length (DATA_FIN counts one).
    pub data_len: u16,
    /// DSS checksum, when checksums are in use (RFC 8684 §3.3.1).
    pub checksum: Option<u16>,
}

/// DSS — data sequence signal (RFC 8684 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dss {
    /// F: DATA_FIN.
    pub data_fin: bool,
    /// DATA_ACK (flag `A`; 64-bit when flag `a`).
    pub data_ack: Option<DssNumber>,
    /// The mapping (flag `M`; 64-bit DSN when flag `m`).
    pub mapping: Option<DssMapping>,
}

/// ADD_ADDR of MPTCP v1 (RFC 8684 §3.4.1).
///
/// Lengths: IPv4 8/10 (echo, without/with port) and 16/18 (with HMAC); IPv6 20/22 and 28/30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddAddr {
    /// E: this is the echo of an announcement (and carries no HMAC).
    pub echo: bool,
    /// Address id.
    pub addr_id: u8,
    /// The announced address.
    pub addr: IpAddr,
    /// The announced port, when one is carried.
    pub port: Option<u16>,
    /// Rightmost 64 bits of the ADD_ADDR HMAC; `None` exactly when `echo`.
    pub truncated_hmac: Option<u64>,
}

/// ADD_ADDR of MPTCP v0 (RFC 6824 §3.4.1): the low nibble of the first byte is the IP
/// version (4 or 6); no HMAC, no echo. Lengths: IPv4 8/10, IPv6 20/22 (without/with port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddAddrV0 {
    /// Address id.
    pub addr_id: u8,
    /// The announced address.
    pub addr: IpAddr,
    /// The announced port, when one is carried.
    pub port: Option<u16>,
}

/// Reasons carried by MP_TCPRST (RFC 8684 §3.6).
pub mod reset_reason {
    /// Unspecified error.
    pub const UNSPECIFIED: u8 = 0x00;
    /// MPTCP-specific error.
    pub const MPTCP_ERROR: u8 = 0x01;
    /// Lack of resources.
    pub const NO_RESOURCES: u8 = 0x02;
    /// Administratively prohibited.
    pub const ADMIN_PROHIBITED: u8 = 0x03;
    /// Too much outstanding data.
    pub const TOO_MUCH_OUTSTANDING: u8 = 0x04;
    /// Unacceptable performance.
    pub const UNACCEPTABLE_PERFORMANCE: u8 = 0x05;
    /// Middlebox interference.
    pub const MIDDLEBOX_INTERFERENCE: u8 = 0x06;
}

/// A parsed MPTCP option: one variant per subtype.
///
/// `'a` borrows from the packet for the variable-length parts (REMOVE_ADDR ids, unknown
/// subtypes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MptcpOption<'a> {
    /// MP_CAPABLE, v0 and v1.
    MpCapable(MpCapable),
    /// MP_JOIN, v0 and v1 (same layout).
    MpJoin(MpJoin),
    /// DSS, v0 and v1 (same layout).
    Dss(Dss),
    /// ADD_ADDR, v1 layout.
    AddAddr(AddAddr),
    /// ADD_ADDR, v0 layout.
    AddAddrV0(AddAddrV0),
    /// REMOVE_ADDR (RFC 8684 §3.4.2): one or more address ids.
    RemoveAddr {
        /// The removed address ids (at least one).
        addr_ids: &'a [u8],
    },
    /// MP_PRIO (RFC 8684 §3.3.8; v0 may name an address id, RFC 6824 §3.3.8).
    MpPrio {
        /// B: the sender wants this subflow (or the subflows of `addr_id`) as backup.
        backup: bool,
        /// Address id (v0 only, length 4).
        addr_id: Option<u8>,
    },
    /// MP_FAIL (RFC 8684 §3.7): the DSN where checksum failure begins.
    MpFail {
        /// 64-bit data sequence number.
        dsn: u64,
    },
    /// MP_FASTCLOSE (RFC 8684 §3.5): the receiver's key.
    MpFastclose {
        /// The key of the host the option is sent to.
        receiver_key: Key,
    },
    /// MP_TCPRST (RFC 8684 §3.6), carried only on RST segments.
    MpTcpRst {
        /// T: the error is transient.
        transient: bool,
        /// Reason code (see [`reset_reason`]).
        reason: u8,
    },
    /// A subtype this code does not know (including MP_EXPERIMENTAL), kept as raw bytes.
    Unknown {
        /// The subtype nibble.
        subtype: u8,
        /// Every byte after the kind and length bytes (subtype byte included).
        data: &'a [u8],
    },
}
