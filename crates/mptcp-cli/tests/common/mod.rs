//! The committed captures of Linux kernel MPTCP (`captures/*.pcap*`), for the tests that read
//! them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use mptcp_cli::decode::capture::{CapturedPacket, read_capture_file};

/// The directory of the committed captures.
pub fn captures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../captures")
}

/// Every pcap and pcapng file of `captures/`, sorted by name.
pub fn captures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(captures_dir())
        .expect("captures/ directory")
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            ext == "pcap" || ext == "pcapng"
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the committed captures, found {files:?}"
    );
    files
}

/// Every packet of a capture file, which must read to its end.
pub fn read(path: &Path) -> Vec<CapturedPacket> {
    read_capture_file(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_result()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
