//! Every committed capture of Linux kernel MPTCP (captures/*.pcap*) decodes cleanly and every
//! value the kernel derived from its keys verifies with our code: tokens, MP_JOIN HMACs,
//! ADD_ADDR HMACs and DSS checksums. Options re-emit byte for byte. In the capture taken with
//! a snap length (`snaplen_160.pcap`), the wire layer refuses the cut packets, as the stack
//! must, and the decoder calls DSS checksums over cut bytes unknown.

mod common;

use mptcp_cli::decode::Report;
use mptcp_cli::decode::analyze::Check;
use mptcp_cli::decode::capture::CapturedPacket;
use mptcp_cli::decode::segment::Frame;
use mptcp_proto::wire::mptcp::{MpJoin, MptcpOption};
use mptcp_proto::wire::{
    TcpOption, TcpOptions, TcpPacket, WireError, option_kind, parse_ip_packet,
};

use common::{captures, captures_dir, read};

#[test]
fn every_packet_parses_and_every_mptcp_option_reemits_identically() {
    let mut options_checked = 0;
    for path in captures() {
        let packets = read(&path);
        for packet in &packets {
            let ip = packet
                .ip()
                .unwrap_or_else(|| panic!("{}#{}: not IP", path.display(), packet.number));
            if packet.captured_len() < packet.original_len {
                let refused = parse_ip_packet(ip);
                assert!(
                    matches!(refused, Err(WireError::Truncated { .. })),
                    "{}#{}: {refused:?}",
                    path.display(),
                    packet.number
                );
                continue;
            }
            let ip = parse_ip_packet(ip)
                .unwrap_or_else(|e| panic!("{}#{}: {e}", path.display(), packet.number));
            let tcp = TcpPacket::new_checked(ip.payload).unwrap();
            assert!(
                tcp.verify_checksum(ip.ip.src_addr(), ip.ip.dst_addr()),
                "{}#{}: TCP checksum",
                path.display(),
                packet.number
            );
            let mut offset = 0;
            for option in TcpOptions::new(tcp.options()) {
                let option = option.unwrap();
                let len = option.buffer_len();
                let raw = &tcp.options()[offset..offset + len];
                offset += len;
                if raw[0] != option_kind::MPTCP {
                    continue;
                }
                let TcpOption::Mptcp(mptcp) = option else {
                    panic!(
                        "{}#{}: MPTCP option did not parse: {raw:02x?}",
                        path.display(),
                        packet.number
                    );
                };
                let mut emitted = vec![0; mptcp.buffer_len()];
                mptcp.emit(&mut emitted);
                assert_eq!(
                    emitted,
                    raw,
                    "{}#{}: {mptcp:?}",
                    path.display(),
                    packet.number
                );
                options_checked += 1;
            }
        }
    }
    assert!(
        options_checked > 100,
        "only {options_checked} MPTCP options in the captures"
    );
}

#[derive(Debug, Default)]
struct Tally {
    join_syns: usize,
    join_hmacs: usize,
    add_addr_hmacs: usize,
    dss_checksums: usize,
    truncated_dss_checksums: usize,
}

/// The verdict on a DSS checksum over bytes a snap length cut off.
const TRUNCATED_MAPPING: Check = Check::Unverifiable("mapped bytes truncated in the capture");

#[test]
fn tokens_hmacs_and_checksums_verify() {
    let mut tally = Tally::default();
    for path in captures() {
        let packets = read(&path);
        let cut = packets.iter().any(|p| p.captured_len() < p.original_len);
        let report = Report::new(&packets);
        for (frame, notes) in report.entries() {
            let Frame::Tcp(segment) = frame else {
                panic!("{}: frame is not a TCP segment: {frame:?}", path.display());
            };
            let notes = notes.expect("every TCP segment is analysed");
            let at = format!("{}#{}", path.display(), segment.number);
            for (option, option_notes) in segment.tcp.mptcp_options().zip(&notes.options) {
                if let MptcpOption::MpJoin(MpJoin::Syn { .. }) = option {
                    assert!(
                        option_notes.token_connection.is_some(),
                        "{at}: MP_JOIN token of no connection"
                    );
                    tally.join_syns += 1;
                }
                if cut && option_notes.checksum == Some(TRUNCATED_MAPPING) {
                    tally.truncated_dss_checksums += 1;
                } else if let Some(check) = &option_notes.checksum {
                    assert_eq!(check, &Check::Valid, "{at}: {option:?}");
                }
                for check in [&option_notes.hmac, &option_notes.key]
                    .into_iter()
                    .flatten()
                {
                    assert_eq!(check, &Check::Valid, "{at}: {option:?}");
                }
                match (option, &option_notes.hmac) {
                    (MptcpOption::MpJoin(_), Some(_)) => tally.join_hmacs += 1,
                    (MptcpOption::AddAddr(_), Some(_)) => tally.add_addr_hmacs += 1,
                    _ => {}
                }
                if option_notes.checksum.is_some() {
                    tally.dss_checksums += 1;
                }
            }
        }
    }
    // The captures hold each kind of check, so the loop above really checked something.
    assert!(tally.join_syns >= 4, "{tally:?}");
    assert!(tally.join_hmacs >= 8, "{tally:?}");
    assert!(tally.add_addr_hmacs >= 3, "{tally:?}");
    assert!(tally.dss_checksums >= 10, "{tally:?}");
    assert!(tally.truncated_dss_checksums >= 10, "{tally:?}");
}

/// Frames of `file`, with `corrupt` applied to the first frame it accepts.
fn corrupted(file: &str, corrupt: impl Fn(&mut CapturedPacket) -> bool) -> Vec<CapturedPacket> {
    let mut packets = read(&captures_dir().join(file));
    let target = packets
        .iter_mut()
        .find_map(|p| corrupt(p).then_some(p.number));
    assert!(target.is_some(), "{file}: nothing to corrupt");
    packets
}

fn checks(
    packets: &[CapturedPacket],
    pick: fn(&mptcp_cli::decode::analyze::OptionNotes) -> &Option<Check>,
) -> Vec<Check> {
    let report = Report::new(packets);
    let notes = report.analysis.segments.iter().flat_map(|s| &s.options);
    notes.filter_map(|n| pick(n).clone()).collect()
}

/// Replaces the first occurrence of `needle` in the frame by its bitwise complement.
fn flip(packet: &mut CapturedPacket, needle: &[u8]) -> bool {
    let Some(at) = packet.data.windows(needle.len()).position(|w| w == needle) else {
        return false;
    };
    packet.data[at..at + needle.len()]
        .iter_mut()
        .for_each(|b| *b = !*b);
    true
}

#[test]
fn a_corrupted_join_hmac_is_reported_invalid() {
    let original = read(&captures_dir().join("mp_join_client.pcap"));
    let report = Report::new(&original);
    let hmac = report
        .frames
        .iter()
        .filter_map(Frame::segment)
        .flat_map(|s| s.tcp.mptcp_options().copied().collect::<Vec<_>>())
        .find_map(|o| match o {
            MptcpOption::MpJoin(MpJoin::SynAck { truncated_hmac, .. }) => Some(truncated_hmac),
            _ => None,
        })
        .expect("an MP_JOIN SYN/ACK");
    let packets = corrupted("mp_join_client.pcap", |p| flip(p, &hmac.to_be_bytes()));
    let results = checks(&packets, |n| &n.hmac);
    assert!(
        results.iter().any(|c| matches!(c, Check::Invalid { .. })),
        "{results:?}"
    );
}

#[test]
fn a_corrupted_payload_byte_fails_the_dss_checksum() {
    // The last byte of a full-sized data frame is payload (no Ethernet padding).
    let packets = corrupted("dss_checksum.pcap", |p| {
        if p.data.len() < 1000 {
            return false;
        }
        let last = p.data.len() - 1;
        p.data[last] ^= 0x55;
        true
    });
    let results = checks(&packets, |n| &n.checksum);
    // Every segment that repeats the damaged mapping reports it; other mappings still verify.
    assert!(results.contains(&Check::Valid), "{results:?}");
    let invalid = results
        .iter()
        .filter(|c| matches!(c, Check::Invalid { .. }))
        .count();
    assert!(invalid >= 1, "{results:?}");
}

#[test]
fn a_malformed_mptcp_option_is_shown_not_dropped() {
    // An ADD_ADDR announcement (with HMAC) whose E flag is set: echo and HMAC contradict.
    let packets = corrupted("add_addr_v4.pcap", |p| {
        let Some(at) = p.data.windows(3).position(|w| w == [0x1e, 0x10, 0x30]) else {
            return false;
        };
        p.data[at + 2] = 0x31;
        true
    });
    let report = Report::new(&packets);
    let mut text = Vec::new();
    mptcp_cli::decode::render::write_text(&mut text, &report).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("MALFORMED subtype_id=3 error=malformed ADD_ADDR"),
        "{text}"
    );
    let mut json = Vec::new();
    mptcp_cli::decode::render::write_json(&mut json, &report).unwrap();
    let json = String::from_utf8(json).unwrap();
    assert!(
        json.contains(r#""data":"31010a000201"#) && json.contains(r#""subtype":"MALFORMED""#),
        "{json}"
    );
}
