//! The fields of an MPTCP option and what the analysis derived for it, as one ordered list of
//! named values that both the text and the JSON renderers print.

use mptcp_proto::crypto::KeyMaterial;
use mptcp_proto::wire::mptcp::{
    AddAddr, AddAddrV0, Dss, DssNumber, MPTCP_OPTION_KIND, MpCapable, MpJoin, capable_flags,
    reset_reason,
};
use mptcp_proto::wire::{MptcpOption, TcpOption, TcpRepr, option_kind};

use super::super::analyze::annotate::hex;
use super::super::analyze::{Check, OptionNotes, SegmentNotes};

/// A value to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A count, length, id or sequence number: decimal in text, a number in JSON.
    Num(u64),
    /// A key, token, nonce, HMAC or checksum: hex with `digits` digits (the width of its
    /// field on the wire) in text, a number in JSON.
    Hex {
        /// The value.
        value: u64,
        /// Hex digits to print, leading zeros included.
        digits: usize,
    },
    /// A flag.
    Bool(bool),
    /// Text (names, addresses, long HMACs in hex).
    Text(String),
    /// A list of address ids.
    Ids(Vec<u8>),
    /// The outcome of a check.
    Check(Check),
}

impl Value {
    /// A hex value as wide as its type: 2 digits for a `u8`, 8 for a `u32`, 16 for a `u64`.
    pub fn hex<T: Into<u64>>(value: T) -> Value {
        Value::Hex {
            value: value.into(),
            digits: 2 * std::mem::size_of::<T>(),
        }
    }
}

/// Named values of one option, in print order.
pub type Fields = Vec<(&'static str, Value)>;

/// One MPTCP option of a segment, ready to print.
pub struct OptionEntry {
    /// The subtype's name ("MP_CAPABLE", …), or "MALFORMED" for an option that does not parse.
    pub name: &'static str,
    /// The subtype number of a parsed option (a malformed one has it among its fields).
    pub subtype_id: Option<u8>,
    /// Its fields, then what the analysis derived.
    pub fields: Fields,
}

/// The MPTCP options of a segment in wire order — parsed ones with their notes (one entry of
/// `notes.options` per parsed option), and ones that do not parse as "MALFORMED".
pub fn segment_options(tcp: &TcpRepr<'_>, notes: Option<&SegmentNotes>) -> Vec<OptionEntry> {
    let mut parsed_notes = notes.map(|n| n.options.iter());
    let mut entries = Vec::new();
    for option in &tcp.options {
        match option {
            TcpOption::Mptcp(option) => {
                let notes = parsed_notes.as_mut().and_then(Iterator::next);
                entries.push(OptionEntry {
                    name: option.name(),
                    subtype_id: Some(option.subtype()),
                    fields: option_fields(option, &notes.cloned().unwrap_or_default()),
                });
            }
            TcpOption::Unknown {
                kind: option_kind::MPTCP,
                data,
            } => entries.push(OptionEntry {
                name: "MALFORMED",
                subtype_id: None,
                fields: malformed_fields(data),
            }),
            _ => {}
        }
    }
    entries
}

/// The fields of `option` followed by what `notes` derived.
fn option_fields(option: &MptcpOption<'_>, notes: &OptionNotes) -> Fields {
    let mut fields = match option {
        MptcpOption::MpCapable(capable) => capable_fields(capable, notes),
        MptcpOption::MpJoin(join) => join_fields(join, notes),
        MptcpOption::Dss(dss) => dss_fields(dss),
        MptcpOption::AddAddr(add) => add_addr_fields(add),
        MptcpOption::AddAddrV0(add) => add_addr_v0_fields(add),
        MptcpOption::RemoveAddr { addr_ids } => vec![("addr_ids", Value::Ids(addr_ids.to_vec()))],
        MptcpOption::MpPrio { backup, addr_id } => {
            let mut fields = vec![("backup", Value::Bool(*backup))];
            push_opt(
                &mut fields,
                "addr_id",
                addr_id.map(|id| Value::Num(id.into())),
            );
            fields
        }
        MptcpOption::MpFail { dsn } => vec![("dsn", Value::hex(*dsn))],
        MptcpOption::MpFastclose { receiver_key } => {
            vec![("receiver_key", Value::hex(*receiver_key))]
        }
        MptcpOption::MpTcpRst { transient, reason } => vec![
            ("transient", Value::Bool(*transient)),
            ("reason", Value::Num((*reason).into())),
            ("reason_name", Value::Text(reason_name(*reason).to_string())),
        ],
        MptcpOption::Unknown { data, .. } => vec![("data", Value::Text(hex(data)))],
    };
    push_opt(&mut fields, "rel_dsn", notes.relative_dsn.map(Value::Num));
    push_opt(
        &mut fields,
        "rel_data_ack",
        notes.relative_data_ack.map(Value::Num),
    );
    push_opt(
        &mut fields,
        "hmac_valid",
        notes.hmac.clone().map(Value::Check),
    );
    push_opt(
        &mut fields,
        "checksum_valid",
        notes.checksum.clone().map(Value::Check),
    );
    push_opt(
        &mut fields,
        "key_valid",
        notes.key.clone().map(Value::Check),
    );
    fields
}

fn push_opt(fields: &mut Fields, name: &'static str, value: Option<Value>) {
    if let Some(value) = value {
        fields.push((name, value));
    }
}

fn push_key(
    fields: &mut Fields,
    prefix: &'static [&'static str; 3],
    key: Option<u64>,
    material: Option<KeyMaterial>,
) {
    push_opt(fields, prefix[0], key.map(Value::hex));
    if let Some(material) = material {
        fields.push((prefix[1], Value::hex(material.token)));
        fields.push((prefix[2], Value::hex(material.idsn)));
    }
}

fn capable_fields(capable: &MpCapable, notes: &OptionNotes) -> Fields {
    let mut fields = vec![
        ("version", Value::Num(capable.version.into())),
        ("flags", Value::hex(capable.flags)),
        ("flag_names", Value::Text(capable_flag_names(capable.flags))),
    ];
    push_key(
        &mut fields,
        &["sender_key", "sender_token", "sender_idsn"],
        capable.sender_key,
        notes.sender_key,
    );
    push_key(
        &mut fields,
        &["receiver_key", "receiver_token", "receiver_idsn"],
        capable.receiver_key,
        notes.receiver_key,
    );
    push_opt(
        &mut fields,
        "data_len",
        capable.data_len.map(|l| Value::Num(l.into())),
    );
    push_opt(&mut fields, "checksum", capable.checksum.map(Value::hex));
    fields
}

fn capable_flag_names(flags: u8) -> String {
    let names = [
        (capable_flags::CHECKSUM_REQUIRED, "A"),
        (capable_flags::EXTENSIBILITY, "B"),
        (capable_flags::NO_JOIN_INITIAL_ADDRESS, "C"),
        (capable_flags::HMAC_SHA, "H"),
    ];
    names
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}

fn join_fields(join: &MpJoin, notes: &OptionNotes) -> Fields {
    match *join {
        MpJoin::Syn {
            backup,
            addr_id,
            receiver_token,
            sender_nonce,
        } => {
            let mut fields = vec![
                ("stage", Value::Text("SYN".into())),
                ("backup", Value::Bool(backup)),
                ("addr_id", Value::Num(addr_id.into())),
                ("receiver_token", Value::hex(receiver_token)),
                ("sender_nonce", Value::hex(sender_nonce)),
            ];
            let connection = notes.token_connection.map(|c| Value::Num(c as u64 + 1));
            push_opt(&mut fields, "token_connection", connection);
            fields
        }
        MpJoin::SynAck {
            backup,
            addr_id,
            truncated_hmac,
            sender_nonce,
        } => vec![
            ("stage", Value::Text("SYN/ACK".into())),
            ("backup", Value::Bool(backup)),
            ("addr_id", Value::Num(addr_id.into())),
            ("truncated_hmac", Value::hex(truncated_hmac)),
            ("sender_nonce", Value::hex(sender_nonce)),
        ],
        MpJoin::Ack { hmac } => vec![
            ("stage", Value::Text("ACK".into())),
            ("hmac", Value::Text(hex(&hmac))),
        ],
    }
}

fn dss_number(number: DssNumber) -> (u64, bool) {
    match number {
        DssNumber::U32(value) => (value.into(), false),
        DssNumber::U64(value) => (value, true),
    }
}

fn dss_fields(dss: &Dss) -> Fields {
    let mut fields = vec![("data_fin", Value::Bool(dss.data_fin))];
    if let Some(ack) = dss.data_ack {
        let (value, wide) = dss_number(ack);
        fields.push(("data_ack", Value::Num(value)));
        fields.push(("data_ack_64bit", Value::Bool(wide)));
    }
    if let Some(mapping) = &dss.mapping {
        let (dsn, wide) = dss_number(mapping.dsn);
        fields.push(("dsn", Value::Num(dsn)));
        fields.push(("dsn_64bit", Value::Bool(wide)));
        fields.push(("subflow_seq", Value::Num(mapping.subflow_seq.into())));
        fields.push(("data_len", Value::Num(mapping.data_len.into())));
        push_opt(&mut fields, "checksum", mapping.checksum.map(Value::hex));
    }
    fields
}

fn address_fields(addr_id: u8, addr: std::net::IpAddr, port: Option<u16>) -> Fields {
    let mut fields = vec![
        ("addr_id", Value::Num(addr_id.into())),
        ("addr", Value::Text(addr.to_string())),
    ];
    push_opt(&mut fields, "port", port.map(|p| Value::Num(p.into())));
    fields
}

fn add_addr_fields(add: &AddAddr) -> Fields {
    let mut fields = vec![("echo", Value::Bool(add.echo))];
    fields.extend(address_fields(add.addr_id, add.addr, add.port));
    push_opt(
        &mut fields,
        "truncated_hmac",
        add.truncated_hmac.map(Value::hex),
    );
    fields
}

fn add_addr_v0_fields(add: &AddAddrV0) -> Fields {
    let mut fields = vec![("version", Value::Num(0))];
    fields.extend(address_fields(add.addr_id, add.addr, add.port));
    fields
}

/// An MPTCP option (kind 30) that does not parse: its subtype nibble (when there is one), why
/// it does not parse, and its bytes after the kind and length bytes. `data` is as kept in
/// `TcpOption::Unknown`.
fn malformed_fields(data: &[u8]) -> Fields {
    let mut option = vec![
        MPTCP_OPTION_KIND,
        u8::try_from(data.len() + 2).unwrap_or(u8::MAX),
    ];
    option.extend_from_slice(data);
    let error = match MptcpOption::parse(&option) {
        Err(error) => error.to_string(),
        Ok(_) => "unexpected".to_string(),
    };
    let mut fields = Vec::new();
    push_opt(
        &mut fields,
        "subtype_id",
        data.first().map(|byte| Value::Num((byte >> 4).into())),
    );
    fields.push(("error", Value::Text(error)));
    fields.push(("data", Value::Text(hex(data))));
    fields
}

/// The name of an MP_TCPRST reason code (RFC 8684 §3.6).
pub fn reason_name(reason: u8) -> &'static str {
    match reason {
        reset_reason::UNSPECIFIED => "unspecified",
        reset_reason::MPTCP_ERROR => "MPTCP-specific error",
        reset_reason::NO_RESOURCES => "lack of resources",
        reset_reason::ADMIN_PROHIBITED => "administratively prohibited",
        reset_reason::TOO_MUCH_OUTSTANDING => "too much outstanding data",
        reset_reason::UNACCEPTABLE_PERFORMANCE => "unacceptable performance",
        reset_reason::MIDDLEBOX_INTERFERENCE => "middlebox interference",
        _ => "unknown reason",
    }
}
