//! `mptcp decode` as a user runs it: output, messages and exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A little-endian microsecond pcap file of raw IP with `count` minimal IPv4 packets, one
/// second apart.
fn raw_ip_pcap(count: u32) -> Vec<u8> {
    let mut file = Vec::new();
    for word in [0xa1b2_c3d4_u32, 0x0004_0002, 0, 0, 65_535, 101] {
        file.extend_from_slice(&word.to_le_bytes());
    }
    for second in 0..count {
        for word in [1_700_000_000 + second, 250_000, 20, 60] {
            file.extend_from_slice(&word.to_le_bytes());
        }
        file.extend_from_slice(&[0x45, 0, 0, 60]);
        file.extend_from_slice(&[0; 16]);
    }
    file
}

/// Writes `bytes` to a file of the test's own and runs `mptcp decode` on it.
fn decode(name: &str, bytes: Option<&[u8]>, json: bool) -> (Output, PathBuf) {
    let path = std::env::temp_dir().join(format!("mptcp-cli-{}-{name}", std::process::id()));
    if let Some(bytes) = bytes {
        std::fs::write(&path, bytes).unwrap();
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_mptcp"));
    command.arg("decode").arg(&path);
    if json {
        command.arg("--json");
    }
    let output = command.output().unwrap();
    if bytes.is_some() {
        std::fs::remove_file(&path).unwrap();
    }
    (output, path)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn decode_capture(name: &str, json: bool) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../captures")
        .join(name);
    let mut command = Command::new(env!("CARGO_BIN_EXE_mptcp"));
    command.arg("decode").arg(&path);
    if json {
        command.arg("--json");
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(output.stderr.is_empty());
    text(&output.stdout)
}

#[test]
fn text_shows_each_segment_its_options_and_a_connection_summary() {
    let stdout = decode_capture("mp_join_client.pcap", false);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].contains("> 10.0.1.1:40000 [SYN] seq="),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("len=0") && lines[0].contains("subflow=1 conn=1 from=client"));
    assert!(
        lines[1]
            .trim_start()
            .starts_with("MP_CAPABLE version=1 flags=0x01")
    );
    let join_syn = lines
        .iter()
        .find(|l| l.contains("MP_JOIN stage=SYN "))
        .unwrap();
    assert!(join_syn.contains("token_connection=1"), "{join_syn}");
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("hmac_valid=yes"))
            .count()
            == 2
    );
    assert!(!stdout.contains("hmac_valid=NO") && !stdout.contains("BAD-TCP-CHECKSUM"));
    let summary = stdout
        .split("MPTCP connection 1: version 1")
        .nth(1)
        .unwrap();
    assert!(summary.contains("subflow 1: 10.0.1.2:"), "{summary}");
    assert!(
        summary.contains("MP_JOIN opened by the client"),
        "{summary}"
    );
}

#[test]
fn json_gives_one_object_per_frame_then_per_connection() {
    let stdout = decode_capture("add_addr_v4.pcap", true);
    let objects: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let segments: Vec<_> = objects.iter().filter(|o| o["type"] == "tcp").collect();
    assert_eq!(segments.len(), 107);
    assert_eq!(segments[0]["frame"], 1);
    assert_eq!(segments[0]["flags"], "SYN");
    let add_addr = segments
        .iter()
        .flat_map(|s| s["mptcp"].as_array().unwrap())
        .find(|o| o["subtype"] == "ADD_ADDR" && o["echo"] == false)
        .unwrap();
    assert_eq!(add_addr["addr"], "10.0.2.1");
    assert_eq!(add_addr["hmac_valid"], true);
    let connections: Vec<_> = objects
        .iter()
        .filter(|o| o["type"] == "connection")
        .collect();
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0]["subflows"].as_array().unwrap().len(), 2);
    let token = connections[0]["server"]["token"].as_u64().unwrap();
    let join = segments
        .iter()
        .flat_map(|s| s["mptcp"].as_array().unwrap())
        .find(|o| o["stage"] == "SYN")
        .unwrap();
    assert_eq!(join["receiver_token"].as_u64(), Some(token));
}

/// `(len, captured)` of a segment line that says a snap length cut the segment.
fn cut_by_snap_length(line: &str) -> Option<(usize, usize)> {
    let marker = " captured: truncated by snap length, TCP checksum not checkable) ";
    let (before, _) = line.split_once(marker)?;
    let (before, captured) = before.rsplit_once(" (")?;
    let (_, len) = before.rsplit_once(" len=")?;
    Some((len.parse().ok()?, captured.parse().ok()?))
}

#[test]
fn frames_cut_by_a_snap_length_say_so() {
    let stdout = decode_capture("snaplen_160.pcap", false);
    let cut: Vec<(usize, usize)> = stdout.lines().filter_map(cut_by_snap_length).collect();
    assert_eq!(cut.len(), 48, "{stdout}");
    assert!(cut.iter().all(|(len, captured)| captured < len));
    assert!(!stdout.contains("malformed") && !stdout.contains("BAD-TCP-CHECKSUM"));
    assert!(stdout.contains("checksum_valid=unknown(mapped bytes truncated in the capture)"));
    assert_eq!(stdout.matches("hmac_valid=yes").count(), 3);

    let stdout = decode_capture("snaplen_160.pcap", true);
    let segments: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|o: &serde_json::Value| o["type"] == "tcp")
        .collect();
    assert_eq!(segments.len(), 108);
    for segment in &segments {
        if segment["truncated"] == true {
            assert_eq!(segment["truncated_by"], "snap_length");
            assert!(segment["tcp_checksum_ok"].is_null());
            let captured = segment["captured_payload"].as_u64().unwrap();
            assert!(
                captured < segment["payload_len"].as_u64().unwrap(),
                "{segment}"
            );
        } else {
            assert_eq!(segment["truncated"], false);
            assert_eq!(segment["tcp_checksum_ok"], true);
            assert!(segment.get("captured_payload").is_none());
        }
    }
}

#[test]
fn a_cut_file_prints_what_it_can_then_fails() {
    let file = raw_ip_pcap(3);
    let (output, path) = decode("cut.pcap", Some(&file[..file.len() - 1]), false);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout).lines().count(), 2);
    assert_eq!(
        text(&output.stderr),
        format!(
            "mptcp decode: {}: truncated pcap record data (frame 3 at byte offset 96): \
             it needs 36 bytes, only 35 remain\n",
            path.display()
        )
    );
}

#[test]
fn other_files_fail_with_a_message_and_no_backtrace() {
    let (output, path) = decode("text.txt", Some(b"just some text\n"), false);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        format!(
            "mptcp decode: {}: not a pcap or pcapng capture: the file starts with 0x6a757374\n",
            path.display()
        )
    );

    let (output, path) = decode("missing.pcap", None, false);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(&format!("mptcp decode: cannot read {}: ", path.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}
