//! Machine-readable output: one JSON object per line — one per captured frame, then one per
//! MPTCP connection.

use std::io::{self, Write};

use serde_json::{Map, Value as Json, json};

use super::super::Report;
use super::super::analyze::{Analysis, Check, SegmentNotes, Side};
use super::super::segment::{Frame, Segment};
use super::fields::{Value, segment_options};

/// Writes the report as JSON lines.
pub fn write_json(out: &mut impl Write, report: &Report<'_>) -> io::Result<()> {
    for (frame, notes) in report.entries() {
        let object = match frame {
            Frame::Tcp(segment) => segment_json(segment, notes),
            Frame::Skipped { number, what } => {
                json!({"type": "skipped", "frame": number, "what": what})
            }
            Frame::Malformed {
                number,
                addresses,
                error,
            } => {
                let mut object = json!({"type": "malformed", "frame": number});
                let map = object.as_object_mut().expect("a JSON object literal");
                if let Some((src, dst)) = addresses {
                    map.insert("src".into(), json!(src.to_string()));
                    map.insert("dst".into(), json!(dst.to_string()));
                }
                map.insert("error".into(), json!(error.to_string()));
                object
            }
        };
        writeln!(out, "{object}")?;
    }
    for object in connections_json(&report.analysis) {
        writeln!(out, "{object}")?;
    }
    Ok(())
}

fn segment_json(segment: &Segment<'_>, notes: Option<&SegmentNotes>) -> Json {
    let tcp = &segment.tcp;
    let mut object = json!({
        "type": "tcp",
        "frame": segment.number,
        "time": segment.timestamp.as_secs_f64(),
        "src": segment.src.ip().to_string(),
        "src_port": segment.src.port(),
        "dst": segment.dst.ip().to_string(),
        "dst_port": segment.dst.port(),
        "flags": tcp.flags.to_string(),
        "seq": tcp.seq_number.0,
        "ack": tcp.ack_number.0,
        "window": tcp.window_len,
        "payload_len": segment.payload_len,
        "tcp_checksum_ok": segment.checksum_ok,
        "truncated": segment.truncated.is_some(),
    });
    let map = object.as_object_mut().expect("a JSON object literal");
    if let Some(truncation) = segment.truncated {
        map.insert("captured_payload".into(), json!(tcp.payload.len()));
        map.insert("truncated_by".into(), json!(truncation.name()));
    }
    if let Some(notes) = notes {
        map.insert("subflow".into(), json!(notes.subflow + 1));
        insert_opt(map, "connection", notes.connection.map(|c| json!(c + 1)));
        insert_opt(map, "sender", notes.sender.map(|s| json!(s.name())));
        insert_opt(map, "rel_seq", notes.relative_seq.map(|r| json!(r)));
        insert_opt(map, "rel_ack", notes.relative_ack.map(|r| json!(r)));
    }
    let options = segment_options(tcp, notes)
        .into_iter()
        .map(|entry| {
            let mut fields = Map::new();
            fields.insert("subtype".into(), json!(entry.name));
            insert_opt(
                &mut fields,
                "subtype_id",
                entry.subtype_id.map(|id| json!(id)),
            );
            for (name, value) in entry.fields {
                insert_value(&mut fields, name, value);
            }
            Json::Object(fields)
        })
        .collect();
    map.insert("mptcp".into(), Json::Array(options));
    object
}

fn insert_opt(map: &mut Map<String, Json>, name: &str, value: Option<Json>) {
    if let Some(value) = value {
        map.insert(name.into(), value);
    }
}

fn insert_value(map: &mut Map<String, Json>, name: &str, value: Value) {
    let json = match value {
        Value::Num(n) | Value::Hex { value: n, .. } => json!(n),
        Value::Bool(b) => json!(b),
        Value::Text(t) => json!(t),
        Value::Ids(ids) => json!(ids),
        Value::Check(check) => {
            match &check {
                Check::Invalid { expected } => {
                    map.insert(format!("{name}_expected"), json!(expected));
                }
                Check::Unverifiable(why) => {
                    map.insert(format!("{name}_unknown_because"), json!(why));
                }
                Check::Valid => {}
            }
            json!(check.as_bool())
        }
    };
    map.insert(name.into(), json);
}

fn connections_json(analysis: &Analysis<'_>) -> Vec<Json> {
    analysis
        .connections
        .iter()
        .enumerate()
        .map(|(index, connection)| {
            let key = |side: Side| {
                let material = connection.key_material(side);
                json!({
                    "key": connection.key(side),
                    "token": material.map(|m| m.token),
                    "idsn": material.map(|m| m.idsn),
                })
            };
            let subflows: Vec<Json> = connection
                .subflows
                .iter()
                .map(|&subflow| {
                    let trace = &analysis.subflows[subflow];
                    json!({
                        "subflow": subflow + 1,
                        "initiator": trace.initiator.to_string(),
                        "responder": trace.responder.to_string(),
                        "join": trace.join.is_some(),
                        "opened_by": analysis.membership[subflow].map(|m| m.initiator.name()),
                    })
                })
                .collect();
            json!({
                "type": "connection",
                "connection": index + 1,
                "version": connection.version,
                "checksum": connection.checksum,
                "fallback": connection.fallback,
                "client": key(Side::Client),
                "server": key(Side::Server),
                "subflows": subflows,
            })
        })
        .collect()
}
