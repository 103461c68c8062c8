//! A capture taken with a snap length decodes like the whole capture, less the payload.
//!
//! Every whole committed capture is rewritten as `tcpdump -s 160` would have written it (each
//! packet record keeps its first 160 bytes and its original length; pcap and pcapng, Ethernet
//! and Linux cooked, IPv4 and IPv6) and both are decoded: the same frames, none malformed, the
//! same headers, MPTCP options, connections, tokens and HMAC verdicts; the cut frames say so
//! with the right lengths, and DSS checksums over cut bytes become unknown.

mod common;

use std::path::Path;

use mptcp_cli::decode::Report;
use mptcp_cli::decode::analyze::{Check, OptionNotes};
use mptcp_cli::decode::capture::{CapturedPacket, read_capture};
use mptcp_cli::decode::render::write_json;
use mptcp_cli::decode::segment::{Frame, Truncation};
use mptcp_proto::wire::TcpRepr;
use serde_json::Value;

use common::{captures, read};

const SNAP: usize = 160;
const TRUNCATED_MAPPING: Check = Check::Unverifiable("mapped bytes truncated in the capture");

/// The byte order of a pcap file or pcapng section.
#[derive(Clone, Copy)]
struct Order {
    little: bool,
}

impl Order {
    fn get(self, bytes: &[u8], at: usize) -> usize {
        let raw: [u8; 4] = bytes[at..at + 4].try_into().unwrap();
        let value = if self.little {
            u32::from_le_bytes(raw)
        } else {
            u32::from_be_bytes(raw)
        };
        value as usize
    }

    fn put(self, value: usize) -> [u8; 4] {
        let value = u32::try_from(value).unwrap();
        if self.little {
            value.to_le_bytes()
        } else {
            value.to_be_bytes()
        }
    }
}

/// A pcap file with each record cut to [`SNAP`] bytes (draft-ietf-opsawg-pcap §4-5: the file
/// header's snap length, and each record's captured length, with its original length kept).
fn snap_pcap(file: &[u8]) -> Vec<u8> {
    let order = Order {
        little: file[..4] == [0xd4, 0xc3, 0xb2, 0xa1] || file[..4] == [0x4d, 0x3c, 0xb2, 0xa1],
    };
    let mut out = file[..24].to_vec();
    out[16..20].copy_from_slice(&order.put(SNAP));
    let mut at = 24;
    while at < file.len() {
        let captured = order.get(file, at + 8);
        let kept = captured.min(SNAP);
        out.extend_from_slice(&file[at..at + 8]);
        out.extend_from_slice(&order.put(kept));
        out.extend_from_slice(&file[at + 12..at + 16]);
        out.extend_from_slice(&file[at + 16..at + 16 + kept]);
        at += 16 + captured;
    }
    out
}

/// A pcapng file with each Enhanced Packet Block cut to [`SNAP`] bytes and each interface's
/// snap length set to it (draft-ietf-opsawg-pcapng §4.2, §4.3); other blocks are copied.
fn snap_pcapng(file: &[u8]) -> Vec<u8> {
    let mut order = Order { little: true };
    let mut out = Vec::new();
    let mut at = 0;
    while at < file.len() {
        if file[at..at + 4] == [0x0a, 0x0d, 0x0d, 0x0a] {
            order.little = file[at + 8..at + 12] == [0x4d, 0x3c, 0x2b, 0x1a];
        }
        let (kind, total) = (order.get(file, at), order.get(file, at + 4));
        let body = &file[at + 8..at + total - 4];
        let body = match kind {
            1 => {
                let mut body = body.to_vec();
                body[4..8].copy_from_slice(&order.put(SNAP));
                body
            }
            6 => {
                let captured = order.get(body, 12);
                let kept = captured.min(SNAP);
                let mut cut = body[..20].to_vec();
                cut[12..16].copy_from_slice(&order.put(kept));
                cut.extend_from_slice(&body[20..20 + kept]);
                cut.resize(20 + kept.next_multiple_of(4), 0);
                cut.extend_from_slice(&body[20 + captured.next_multiple_of(4)..]);
                cut
            }
            _ => body.to_vec(),
        };
        let len = body.len() + 12;
        for part in [
            &order.put(kind)[..],
            &order.put(len),
            &body,
            &order.put(len),
        ] {
            out.extend_from_slice(part);
        }
        at += total;
    }
    out
}

/// `path` as read with a snap length of [`SNAP`].
fn read_snapped(path: &Path) -> Vec<CapturedPacket> {
    let file = std::fs::read(path).unwrap();
    let snapped = if path.extension().is_some_and(|e| e == "pcapng") {
        snap_pcapng(&file)
    } else {
        snap_pcap(&file)
    };
    read_capture(&snapped).unwrap().into_result().unwrap()
}

/// The JSON lines of a report, less what depends on the captured payload: the TCP checksum,
/// the truncation fields and the DSS checksum verdicts.
fn json_without_payload(report: &Report<'_>) -> Vec<Value> {
    let mut out = Vec::new();
    write_json(&mut out, report).unwrap();
    let mut lines: Vec<Value> = out
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).unwrap())
        .collect();
    for line in &mut lines {
        let object = line.as_object_mut().unwrap();
        for key in [
            "tcp_checksum_ok",
            "truncated",
            "captured_payload",
            "truncated_by",
        ] {
            object.remove(key);
        }
        for option in object
            .get_mut("mptcp")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let option = option.as_object_mut().unwrap();
            option.retain(|key, _| !key.starts_with("checksum_valid"));
        }
    }
    lines
}

/// Counts of what the comparison saw, so that it is known to have seen something.
#[derive(Debug, Default)]
struct Tally {
    frames: usize,
    truncated: usize,
    mptcp_options: usize,
    hmacs: usize,
    checksums_unknown: usize,
}

/// The notes of an option with the DSS checksum verdict left out.
fn without_checksum(notes: &OptionNotes) -> OptionNotes {
    OptionNotes {
        checksum: None,
        ..notes.clone()
    }
}

/// A segment's header and options, without its payload.
fn headers<'a>(tcp: &TcpRepr<'a>) -> TcpRepr<'a> {
    TcpRepr {
        payload: &[],
        ..tcp.clone()
    }
}

/// Compares one capture, whole and cut.
fn compare(path: &Path, tally: &mut Tally) {
    let at = path.display();
    let whole_packets = read(path);
    let cut_packets = read_snapped(path);
    assert_eq!(whole_packets.len(), cut_packets.len(), "{at}");
    let (whole, cut) = (Report::new(&whole_packets), Report::new(&cut_packets));
    assert_eq!(
        json_without_payload(&whole),
        json_without_payload(&cut),
        "{at}"
    );
    let entries = whole.entries().zip(cut.entries()).zip(&whole_packets);
    for (((whole_frame, whole_notes), (cut_frame, cut_notes)), packet) in entries {
        let (Frame::Tcp(full), Frame::Tcp(short)) = (whole_frame, cut_frame) else {
            panic!("{at}: {whole_frame:?} became {cut_frame:?}");
        };
        let at = format!("{at}#{}", full.number);
        tally.frames += 1;
        // Every header field and option is the same; only payload bytes are missing.
        assert_eq!(headers(&short.tcp), headers(&full.tcp), "{at}");
        assert_eq!((short.src, short.dst), (full.src, full.dst), "{at}");
        assert_eq!(full.payload_len, full.tcp.payload.len(), "{at}");
        assert_eq!(short.payload_len, full.payload_len, "{at}");
        // A frame longer than the snap length keeps its headers and the payload up to it.
        let headers_len = packet.data.len() - full.payload_len;
        let captured = full.payload_len.min(SNAP.saturating_sub(headers_len));
        assert_eq!(short.tcp.payload, &full.tcp.payload[..captured], "{at}");
        if captured < full.payload_len {
            tally.truncated += 1;
            assert_eq!(short.truncated, Some(Truncation::SnapLength), "{at}");
            assert_eq!(short.checksum_ok, None, "{at}");
        } else {
            assert_eq!(short.truncated, None, "{at}");
            assert_eq!(short.checksum_ok, full.checksum_ok, "{at}");
        }
        let (full_notes, short_notes) = (whole_notes.unwrap(), cut_notes.unwrap());
        assert_eq!(full_notes.options.len(), short_notes.options.len());
        for (full, short) in full_notes.options.iter().zip(&short_notes.options) {
            tally.mptcp_options += 1;
            tally.hmacs += usize::from(full.hmac.is_some());
            // Tokens, keys, HMACs and relative numbers come from option fields alone.
            assert_eq!(without_checksum(short), without_checksum(full), "{at}");
            match (&full.checksum, &short.checksum) {
                (Some(Check::Valid), Some(check)) if *check == TRUNCATED_MAPPING => {
                    tally.checksums_unknown += 1;
                }
                (full, short) => assert_eq!(short, full, "{at}"),
            }
        }
    }
}

#[test]
fn a_snap_length_cuts_payload_only() {
    let mut tally = Tally::default();
    for path in captures() {
        let whole = read(&path)
            .iter()
            .all(|packet| packet.captured_len() == packet.original_len);
        if whole {
            let before = tally.truncated;
            compare(&path, &mut tally);
            assert!(tally.truncated > before, "{}: nothing cut", path.display());
        }
    }
    assert!(tally.frames > 1000, "{tally:?}");
    assert!(tally.truncated > 300, "{tally:?}");
    assert!(tally.mptcp_options > 1000, "{tally:?}");
    assert!(tally.hmacs >= 10, "{tally:?}");
    assert!(tally.checksums_unknown >= 10, "{tally:?}");
}
