//! `mptcp decode` end to end on an arbitrary file: the capture reader (pcap, pcapng, link
//! layers), the wire parsers, the connection analysis (reassembly, HMAC and checksum checks)
//! and both renderers must never panic, must account for every frame, and must say of a
//! segment cut short that it is truncated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mptcp_cli::decode::Report;
use mptcp_cli::decode::capture::read_capture;
use mptcp_cli::decode::render::{write_json, write_text};

fuzz_target!(|data: &[u8]| {
    let Ok(capture) = read_capture(data) else {
        return;
    };
    let report = Report::new(&capture.packets);
    assert_eq!(report.frames.len(), capture.packets.len());
    assert_eq!(report.entries().count(), capture.packets.len());
    // A segment the capture cut short holds fewer payload bytes than its IP header gives,
    // says so, and has no checksum verdict; any other holds them all and has one.
    for segment in report.frames.iter().filter_map(|frame| frame.segment()) {
        let cut = segment.tcp.payload.len() < segment.payload_len;
        assert!(segment.tcp.payload.len() <= segment.payload_len);
        assert_eq!(segment.truncated.is_some(), cut);
        assert_eq!(segment.checksum_ok.is_none(), cut);
    }
    let mut json = Vec::new();
    write_json(&mut json, &report).expect("writing to a Vec cannot fail");
    for line in json.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let _: serde_json::Value = serde_json::from_slice(line).expect("every line is JSON");
    }
    write_text(&mut std::io::sink(), &report).expect("writing to a sink cannot fail");
});
