//! tshark is the referee of `mptcp decode`: on every committed capture, the MPTCP values of
//! `mptcp decode --json` must equal those of `tshark -T json`, field by field — keys, tokens,
//! IDSNs, nonces, HMACs, DSNs, subflow sequence numbers, data-level lengths, DATA_ACKs,
//! checksums, address ids, addresses, ports, flags and reset reasons.
//!
//! Needs `tshark` on PATH (`./scripts/test` checks for it; CI installs it).

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use common::captures;

/// How a value of ours is written to compare with tshark's text.
#[derive(Clone, Copy)]
enum Form {
    /// A number in decimal (tshark's form for integers).
    Decimal,
    /// A flag as "1" or "0".
    Flag,
    /// A number as "0x" and this many hex digits (tshark's form for checksums and reasons).
    Hex(usize),
    /// A string as it is (addresses, HMAC hex).
    Text,
}

/// One tshark field and where its values are in our JSON.
struct Field {
    tshark: &'static str,
    /// MPTCP subtypes whose options carry it in our JSON.
    subtypes: &'static [u64],
    ours: &'static str,
    form: Form,
    /// Relative values: tshark 4.0 computes them wrongly on subflows that the server opened
    /// (it takes the IDSN of the wrong side), so those subflows are left out for these fields.
    relative: bool,
}

const fn field(
    tshark: &'static str,
    subtypes: &'static [u64],
    ours: &'static str,
    form: Form,
) -> Field {
    Field {
        tshark,
        subtypes,
        ours,
        form,
        relative: false,
    }
}

const ALL: &[u64] = &[0, 1, 2, 3, 4, 5, 6, 7, 8];

const FIELDS: &[Field] = &[
    field(
        "tcp.options.mptcp.subtype",
        ALL,
        "subtype_id",
        Form::Decimal,
    ),
    field("tcp.options.mptcp.version", &[0], "version", Form::Decimal),
    field(
        "tcp.options.mptcp.sendkey",
        &[0],
        "sender_key",
        Form::Decimal,
    ),
    field(
        "tcp.options.mptcp.recvkey",
        &[0, 7],
        "receiver_key",
        Form::Decimal,
    ),
    field("mptcp.expected_token", &[0], "sender_token", Form::Decimal),
    field("mptcp.expected_idsn", &[0], "sender_idsn", Form::Decimal),
    field(
        "tcp.options.mptcp.recvtok",
        &[1],
        "receiver_token",
        Form::Decimal,
    ),
    field(
        "tcp.options.mptcp.sendrand",
        &[1],
        "sender_nonce",
        Form::Decimal,
    ),
    field(
        "tcp.options.mptcp.sendtrunchmac",
        &[1],
        "truncated_hmac",
        Form::Decimal,
    ),
    field("tcp.options.mptcp.sendhmac", &[1], "hmac", Form::Text),
    field(
        "tcp.options.mptcp.backup.flag",
        &[1, 5],
        "backup",
        Form::Flag,
    ),
    field(
        "tcp.options.mptcp.addrid",
        &[1, 3, 5],
        "addr_id",
        Form::Decimal,
    ),
    field(
        "tcp.options.mptcp.addaddrtrunchmac",
        &[3],
        "truncated_hmac",
        Form::Decimal,
    ),
    field("tcp.options.mptcp.echo", &[3], "echo", Form::Flag),
    field("tcp.options.mptcp.port", &[3], "port", Form::Decimal),
    field(
        "tcp.options.mptcp.rawdataack",
        &[2],
        "data_ack",
        Form::Decimal,
    ),
    field("tcp.options.mptcp.rawdataseqno", &[2], "dsn", Form::Decimal),
    field(
        "tcp.options.mptcp.subflowseqno",
        &[2],
        "subflow_seq",
        Form::Decimal,
    ),
    field(
        "tcp.options.mptcp.datalvllen",
        &[0, 2],
        "data_len",
        Form::Decimal,
    ),
    // tshark 4.0 shows the checksum of MP_CAPABLE only, not of DSS; the DSS checksums are
    // checked in tests/captures.rs by recomputing them over the captured payload.
    field("tcp.options.mptcp.checksum", &[0], "checksum", Form::Hex(4)),
    field("tcp.options.mptcp.rst_reason", &[8], "reason", Form::Hex(2)),
    field(
        "tcp.options.mptcp.flag_T.flag",
        &[8],
        "transient",
        Form::Flag,
    ),
    Field {
        relative: true,
        ..field("mptcp.dss.dsn", &[2], "rel_dsn", Form::Decimal)
    },
    Field {
        relative: true,
        ..field("mptcp.ack", &[2], "rel_data_ack", Form::Decimal)
    },
];

/// Fields whose values need special handling of our side (address families, id lists).
const ADDRESS_FIELDS: &[(&str, bool)] = &[
    ("tcp.options.mptcp.ipv4", false),
    ("tcp.options.mptcp.ipv6", true),
];
const REMOVED_IDS: &str = "tcp.options.mptcp.addrid";

type Values = BTreeMap<usize, BTreeMap<String, Vec<String>>>;

fn tshark(path: &Path) -> Values {
    let mut command = Command::new("tshark");
    command.args([
        "-n",
        "-o",
        "mptcp.analyze_mptcp:TRUE",
        "-o",
        "mptcp.relative_sequence_numbers:TRUE",
    ]);
    command.args(["-T", "json", "-e", "frame.number"]);
    let names = FIELDS
        .iter()
        .map(|f| f.tshark)
        .chain(ADDRESS_FIELDS.iter().map(|(name, _)| *name));
    for name in names.collect::<HashSet<_>>() {
        command.args(["-e", name]);
    }
    let output = command
        .arg("-r")
        .arg(path)
        .output()
        .expect("tshark must be installed (apt-get install tshark)");
    assert!(
        output.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let packets: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    let mut values = Values::new();
    for packet in packets {
        let layers = packet["_source"]["layers"].as_object().unwrap();
        let frame: usize = layers["frame.number"][0].as_str().unwrap().parse().unwrap();
        let fields = layers
            .iter()
            .filter(|(name, _)| name.as_str() != "frame.number")
            .map(|(name, list)| {
                let list = list
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string());
                (name.clone(), list.collect())
            })
            .collect();
        values.insert(frame, fields);
    }
    values
}

fn text(value: &Value, form: Form) -> String {
    match (form, value) {
        (Form::Flag, Value::Bool(b)) => u8::from(*b).to_string(),
        (Form::Hex(width), Value::Number(n)) => format!("0x{:0width$x}", n.as_u64().unwrap()),
        (Form::Text | Form::Decimal, Value::String(s)) => s.clone(),
        (Form::Decimal, Value::Number(n)) => n.to_string(),
        (form, value) => panic!("unexpected value {value} for {}", form_name(form)),
    }
}

fn form_name(form: Form) -> &'static str {
    match form {
        Form::Decimal => "decimal",
        Form::Flag => "flag",
        Form::Hex(_) => "hex",
        Form::Text => "text",
    }
}

/// Our values, in tshark's field names, for every frame.
fn ours(path: &Path) -> Values {
    let output = Command::new(env!("CARGO_BIN_EXE_mptcp"))
        .arg("decode")
        .arg("--json")
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "mptcp decode failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = output
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let server_opened: HashSet<u64> = lines
        .iter()
        .filter(|l| l["type"] == "connection")
        .flat_map(|l| l["subflows"].as_array().unwrap().iter())
        .filter(|s| s["opened_by"] == "server")
        .map(|s| s["subflow"].as_u64().unwrap())
        .collect();
    let mut values = Values::new();
    for line in lines.iter().filter(|l| l["type"] == "tcp") {
        let frame = line["frame"].as_u64().unwrap() as usize;
        let on_server_subflow = line["subflow"]
            .as_u64()
            .is_some_and(|s| server_opened.contains(&s));
        let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for option in line["mptcp"].as_array().unwrap() {
            let subtype = option["subtype_id"].as_u64().unwrap();
            for f in FIELDS {
                if !f.subtypes.contains(&subtype) || (f.relative && on_server_subflow) {
                    continue;
                }
                if let Some(value) = option.get(f.ours) {
                    fields
                        .entry(f.tshark.to_string())
                        .or_default()
                        .push(text(value, f.form));
                }
            }
            if let Some(addr) = option.get("addr").and_then(Value::as_str) {
                let (name, _) = ADDRESS_FIELDS
                    .iter()
                    .find(|(_, v6)| *v6 == addr.contains(':'))
                    .unwrap();
                fields
                    .entry(name.to_string())
                    .or_default()
                    .push(addr.to_string());
            }
            for id in option
                .get("addr_ids")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                fields
                    .entry(REMOVED_IDS.to_string())
                    .or_default()
                    .push(id.to_string());
            }
        }
        values.insert(frame, fields);
    }
    values
}

#[test]
fn decode_json_matches_tshark_on_every_capture() {
    let files = captures();
    let mut compared: BTreeMap<&str, usize> = BTreeMap::new();
    for path in &files {
        let theirs = tshark(path);
        let mut mine = ours(path);
        for (frame, mut fields) in theirs {
            let mut our_fields = mine.remove(&frame).unwrap_or_default();
            for f in FIELDS.iter().filter(|f| f.relative) {
                // Where we left a relative value out, leave tshark's out too.
                if !our_fields.contains_key(f.tshark) {
                    fields.remove(f.tshark);
                }
            }
            for (name, list) in &fields {
                let ours = our_fields.remove(name).unwrap_or_default();
                assert_eq!(&ours, list, "{}#{frame}: {name}", path.display());
                *compared
                    .entry(
                        FIELDS
                            .iter()
                            .map(|f| f.tshark)
                            .chain(ADDRESS_FIELDS.iter().map(|a| a.0))
                            .find(|n| n == name)
                            .unwrap(),
                    )
                    .or_default() += list.len();
            }
            assert!(
                our_fields.is_empty(),
                "{}#{frame}: fields tshark does not show: {our_fields:?}",
                path.display()
            );
        }
        assert!(
            mine.values().all(BTreeMap::is_empty),
            "{}: frames tshark does not show",
            path.display()
        );
    }
    // Every field was really compared somewhere (the captures hold every option kind).
    for name in FIELDS
        .iter()
        .map(|f| f.tshark)
        .chain(ADDRESS_FIELDS.iter().map(|a| a.0))
    {
        assert!(
            compared.get(name).copied().unwrap_or(0) > 0,
            "{name} never compared: {compared:?}"
        );
    }
}
