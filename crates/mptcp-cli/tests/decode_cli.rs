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

#[test]
fn prints_one_line_per_packet() {
    let (output, _) = decode("good.pcap", Some(&raw_ip_pcap(3)), false);
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    let lines: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines,
        [
            ["1", "0.000000000", "IPv4", "60"],
            ["2", "1.000000000", "IPv4", "60"],
            ["3", "2.000000000", "IPv4", "60"],
        ]
    );
    assert!(output.stderr.is_empty());
}

#[test]
fn json_gives_one_object_per_packet() {
    let (output, _) = decode("good.json.pcap", Some(&raw_ip_pcap(2)), true);
    assert!(output.status.success());
    let objects: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[1]["number"], 2);
    assert_eq!(objects[1]["timestamp"], "1700000001.250000000");
    assert_eq!(objects[1]["network"], "IPv4");
    assert_eq!(objects[1]["captured_len"], 20);
    assert_eq!(objects[1]["original_len"], 60);
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
