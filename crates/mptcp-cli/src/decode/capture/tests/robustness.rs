//! Nothing panics on arbitrary bytes: random files, damaged real-looking files, cut files.

use proptest::prelude::*;

use super::super::{CaptureReader, read_capture};
use super::*;

/// Reads `bytes` and checks what a caller relies on, whatever the bytes were.
fn read_and_check(bytes: &[u8]) -> Option<usize> {
    let capture = read_capture(bytes).ok()?;
    for (index, packet) in capture.packets.iter().enumerate() {
        assert_eq!(packet.number, index + 1);
        assert_eq!(packet.captured_len(), packet.data.len());
        // An IP offset always lies within the frame.
        assert_eq!(packet.network.ip_offset().is_some(), packet.ip().is_some());
        let _ = packet.network.to_string();
    }
    if let Some(error) = &capture.error {
        let _ = error.to_string();
    }
    // The iterator agrees with the collected form, and stops after an error.
    let mut reader = CaptureReader::new(bytes).unwrap();
    let yielded = reader.by_ref().count();
    assert_eq!(
        yielded,
        capture.packets.len() + usize::from(capture.error.is_some())
    );
    assert!(reader.next().is_none());
    Some(capture.packets.len())
}

/// A pcap file with a frame of every shape Ethernet can take.
fn rich_pcap(endian: Endian, nanos: bool) -> Vec<u8> {
    PcapFile::new(endian, nanos, link::ETHERNET)
        .record(1, 1, &ethernet(&[], 0x0800, &ipv4(1)))
        .record(
            2,
            2,
            &ethernet(&[(0x88a8, 1), (0x8100, 2)], 0x86dd, &ipv6(2)),
        )
        .record(3, 3, &ethernet(&[], 0x0806, &[0; 28]))
        .record(4, 4, &[0; 5])
        .record_cut(5, 5, &ethernet(&[], 0x0800, &ipv4(3)), 1500)
        .build()
}

fn valid_files() -> Vec<Vec<u8>> {
    vec![
        rich_pcapng(Endian::Little),
        rich_pcapng(Endian::Big),
        rich_pcap(Endian::Little, false),
        rich_pcap(Endian::Big, true),
    ]
}

#[test]
fn every_prefix_of_a_valid_file_reads_cleanly() {
    for file in valid_files() {
        let all = read_and_check(&file).unwrap();
        assert_eq!(all, 5);
        for end in 0..file.len() {
            let prefix = &file[..end];
            match read_capture(prefix) {
                // Only a prefix too short for the file header fails outright.
                Err(_) => assert!(end < 24, "prefix of {end} bytes"),
                Ok(capture) => {
                    assert!(capture.packets.len() <= all);
                    assert_eq!(
                        capture.packets[..],
                        read_capture(&file).unwrap().packets[..capture.packets.len()]
                    );
                }
            }
            read_and_check(prefix);
        }
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        read_and_check(&bytes);
    }

    #[test]
    fn random_records_after_a_pcap_header_never_panic(
        endian in prop_oneof![Just(Endian::Little), Just(Endian::Big)],
        nanos in any::<bool>(),
        link_type in prop_oneof![
            Just(link::ETHERNET), Just(link::LINUX_SLL), Just(link::LINUX_SLL2),
            Just(link::NULL), Just(link::RAW), any::<u32>(),
        ],
        records in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut file = PcapFile::new(endian, nanos, link_type).build();
        file.extend_from_slice(&records);
        read_and_check(&file);
    }

    #[test]
    fn random_blocks_after_a_pcapng_header_never_panic(
        endian in prop_oneof![Just(Endian::Little), Just(Endian::Big)],
        blocks in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut file = PcapNgFile::new(endian);
        file.interface(link::ETHERNET as u16, 0, &[tsresol(9)]);
        let mut file = file.build();
        file.extend_from_slice(&blocks);
        read_and_check(&file);
    }

    #[test]
    fn damaged_valid_files_never_panic(
        which in 0..4usize,
        writes in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let mut file = valid_files().swap_remove(which);
        for (at, byte) in writes {
            let len = file.len();
            file[at % len] = byte;
        }
        if let Some(cut) = cut {
            file.truncate(cut % (file.len() + 1));
        }
        read_and_check(&file);
    }
}
