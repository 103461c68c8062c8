//! Human-readable output: a block per TCP segment, then a summary per connection.

use std::io::{self, Write};

use super::super::Report;
use super::super::analyze::{Analysis, Check, SegmentNotes};
use super::super::segment::{Frame, Segment};
use super::fields::{Value, segment_options};

/// Writes the report as text.
pub fn write_text(out: &mut impl Write, report: &Report<'_>) -> io::Result<()> {
    for (frame, notes) in report.entries() {
        match frame {
            Frame::Tcp(segment) => write_segment(out, segment, notes)?,
            Frame::Skipped { number, what } => writeln!(out, "{number:>5} skipped: {what}")?,
            Frame::Malformed {
                number,
                addresses,
                error,
            } => match addresses {
                Some((src, dst)) => {
                    writeln!(out, "{number:>5} malformed: {src} > {dst} TCP: {error}")?
                }
                None => writeln!(out, "{number:>5} malformed: {error}")?,
            },
        }
    }
    write_connections(out, &report.analysis)
}

fn write_segment(
    out: &mut impl Write,
    segment: &Segment<'_>,
    notes: Option<&SegmentNotes>,
) -> io::Result<()> {
    let tcp = &segment.tcp;
    let time = segment.timestamp;
    write!(
        out,
        "{:>5} {}.{:06} {} > {} [{}] seq={} ack={} win={} len={}",
        segment.number,
        time.as_secs(),
        time.subsec_micros(),
        segment.src,
        segment.dst,
        tcp.flags,
        tcp.seq_number,
        tcp.ack_number,
        tcp.window_len,
        segment.payload_len,
    )?;
    if let Some(truncation) = segment.truncated {
        write!(
            out,
            " ({} captured: {}, TCP checksum not checkable)",
            tcp.payload.len(),
            truncation.describe()
        )?;
    }
    if segment.checksum_ok == Some(false) {
        write!(out, " BAD-TCP-CHECKSUM")?;
    }
    if let Some(notes) = notes {
        if let Some(rel) = notes.relative_seq {
            write!(out, " rseq={rel}")?;
        }
        if let Some(rel) = notes.relative_ack {
            write!(out, " rack={rel}")?;
        }
        write!(out, " subflow={}", notes.subflow + 1)?;
        if let Some(connection) = notes.connection {
            write!(out, " conn={}", connection + 1)?;
        }
        if let Some(sender) = notes.sender {
            write!(out, " from={}", sender.name())?;
        }
    }
    writeln!(out)?;
    for entry in segment_options(tcp, notes) {
        write!(out, "      {}", entry.name)?;
        for (name, value) in entry.fields {
            write!(out, " {name}={}", text_value(&value))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn text_value(value: &Value) -> String {
    match value {
        Value::Num(n) => n.to_string(),
        Value::Hex { value, digits } => format!("{value:#0width$x}", width = digits + 2),
        Value::Bool(b) => b.to_string(),
        Value::Text(t) => t.clone(),
        Value::Ids(ids) => format!("{ids:?}"),
        Value::Check(Check::Valid) => "yes".to_string(),
        Value::Check(Check::Invalid { expected }) => format!("NO(expected {expected})"),
        Value::Check(Check::Unverifiable(why)) => format!("unknown({why})"),
    }
}

fn write_connections(out: &mut impl Write, analysis: &Analysis<'_>) -> io::Result<()> {
    for (index, connection) in analysis.connections.iter().enumerate() {
        writeln!(out)?;
        write!(
            out,
            "MPTCP connection {}: version {}",
            index + 1,
            connection.version
        )?;
        writeln!(
            out,
            ", DSS checksum {}",
            if connection.checksum { "on" } else { "off" }
        )?;
        if let Some(why) = connection.fallback {
            writeln!(out, "  fallback: {why}")?;
        }
        for side in [
            super::super::analyze::Side::Client,
            super::super::analyze::Side::Server,
        ] {
            write!(out, "  {} key ", side.name())?;
            match (connection.key(side), connection.key_material(side)) {
                (Some(key), Some(m)) => writeln!(
                    out,
                    "{key:#018x} token {:#010x} idsn {:#018x}",
                    m.token, m.idsn
                )?,
                (Some(key), None) => writeln!(out, "{key:#018x}")?,
                _ => writeln!(out, "not in the capture")?,
            }
        }
        for &subflow in &connection.subflows {
            let trace = &analysis.subflows[subflow];
            let how = match &trace.join {
                None => "initial subflow (MP_CAPABLE)".to_string(),
                Some(join) => {
                    let opener = analysis.membership[subflow].map_or("?", |m| m.initiator.name());
                    let ids = join
                        .addr_ids
                        .map(|id| id.map_or("?".to_string(), |id| id.to_string()));
                    let backup = if join.backup.iter().any(|b| *b) {
                        ", backup"
                    } else {
                        ""
                    };
                    format!(
                        "MP_JOIN opened by the {opener}, address ids {}/{}{backup}",
                        ids[0], ids[1]
                    )
                }
            };
            writeln!(
                out,
                "  subflow {}: {} <-> {}: {how}",
                subflow + 1,
                trace.initiator,
                trace.responder
            )?;
        }
    }
    Ok(())
}
