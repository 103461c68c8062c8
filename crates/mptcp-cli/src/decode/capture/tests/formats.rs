//! The container formats: pcap and pcapng, numbering, timestamps, errors.

use std::time::Duration;

use super::super::pcapng::ticks_to_duration;
use super::super::{
    CaptureError, CaptureFormat, Location, Network, read_capture, read_capture_file,
};
use super::*;

const BOTH: [Endian; 2] = [Endian::Little, Endian::Big];

#[test]
fn pcap_in_both_byte_orders_with_micro_and_nanosecond_timestamps() {
    for endian in BOTH {
        for nanos in [false, true] {
            let file = PcapFile::new(endian, nanos, link::RAW)
                .record(1_700_000_000, 123_456, &ipv4(1))
                .record(1_700_000_001, 999_999, &ipv6(2))
                .build();
            let capture = read_capture(&file).unwrap();
            assert!(capture.error.is_none(), "{endian:?} {nanos}");
            assert_eq!(capture.format, CaptureFormat::Pcap { nanosecond: nanos });
            let unit = if nanos { 1 } else { 1_000 };
            let [first, second] = &capture.packets[..] else {
                panic!("two packets expected: {:?}", capture.packets);
            };
            assert_eq!((first.number, second.number), (1, 2));
            assert_eq!(
                first.timestamp,
                Duration::new(1_700_000_000, 123_456 * unit)
            );
            assert_eq!(
                second.timestamp,
                Duration::new(1_700_000_001, 999_999 * unit)
            );
            assert_eq!(first.link_type, link::RAW);
            assert_eq!(first.network, Network::Ipv4 { offset: 0 });
            assert_eq!(second.network, Network::Ipv6 { offset: 0 });
            assert_eq!(first.ip(), Some(&ipv4(1)[..]));
            assert_eq!(second.ip(), Some(&ipv6(2)[..]));
        }
    }
}

#[test]
fn pcap_keeps_the_original_length_of_a_packet_cut_by_the_snap_length() {
    let file = PcapFile::new(Endian::Little, false, link::ETHERNET)
        .record_cut(1, 0, &ethernet(&[], 0x0800, &ipv4(1)), 1514)
        .build();
    let packet = &read_capture(&file).unwrap().packets[0];
    assert_eq!(packet.captured_len(), 34);
    assert_eq!(packet.original_len, 1514);
    assert_eq!(packet.interface, 0);
}

#[test]
fn pcap_with_no_packets_is_an_empty_capture() {
    let file = PcapFile::new(Endian::Big, false, link::ETHERNET).build();
    let capture = read_capture(&file).unwrap();
    assert!(capture.packets.is_empty());
    assert!(capture.error.is_none());
}

#[test]
fn pcap_link_type_ignores_the_fcs_bits() {
    // FCS length 4 in the top bits, and the flag saying it is present.
    let file = PcapFile::new(Endian::Little, false, 0x4400_0001)
        .record(0, 0, &ethernet(&[], 0x0800, &ipv4(1)))
        .build();
    assert_eq!(
        read_capture(&file).unwrap().packets[0].link_type,
        link::ETHERNET
    );
}

#[test]
fn pcap_cut_in_the_last_record_keeps_the_packets_before_it() {
    let file = PcapFile::new(Endian::Little, false, link::RAW)
        .record(1, 0, &ipv4(1))
        .record(2, 0, &ipv4(2))
        .record(3, 0, &ipv4(3))
        .build();
    let third = 24 + 2 * (16 + 20);

    let cut_in_data = read_capture(&file[..file.len() - 5]).unwrap();
    assert_eq!(cut_in_data.packets.len(), 2);
    let error = cut_in_data.error.unwrap();
    assert!(
        matches!(
            error,
            CaptureError::Truncated {
                what: "pcap record data",
                at: Location { offset, frame: Some(3) },
                needed: 36,
                available: 31,
            } if offset == third
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "truncated pcap record data (frame 3 at byte offset {third}): \
             it needs 36 bytes, only 31 remain"
        )
    );

    let cut_in_header = read_capture(&file[..third + 10]).unwrap();
    assert_eq!(cut_in_header.packets.len(), 2);
    assert!(matches!(
        cut_in_header.error,
        Some(CaptureError::Truncated {
            what: "pcap record header",
            at: Location { frame: Some(3), .. },
            needed: 16,
            available: 10,
        })
    ));
    assert!(
        read_capture(&file[..third + 10])
            .unwrap()
            .into_result()
            .is_err()
    );
    assert_eq!(read_capture(&file).unwrap().into_result().unwrap().len(), 3);
}

#[test]
fn a_cut_file_header_is_an_error() {
    let file = PcapFile::new(Endian::Little, true, link::RAW).build();
    assert!(matches!(
        read_capture(&file[..10]),
        Err(CaptureError::Truncated {
            what: "pcap file header",
            needed: 24,
            available: 10,
            ..
        })
    ));
    let file = PcapNgFile::new(Endian::Little).build();
    assert!(matches!(
        read_capture(&file[..9]),
        Err(CaptureError::Truncated {
            what: "pcapng section header block",
            ..
        })
    ));
}

#[test]
fn other_files_are_not_captures() {
    let error = read_capture(b"hello, world").unwrap_err();
    assert!(matches!(
        error,
        CaptureError::NotACapture { magic: 0x6865_6c6c }
    ));
    assert_eq!(
        error.to_string(),
        "not a pcap or pcapng capture: the file starts with 0x68656c6c"
    );
    assert!(matches!(
        read_capture(b"hi"),
        Err(CaptureError::NotACapture { magic: 0x6869_0000 })
    ));
    assert!(matches!(read_capture(b""), Err(CaptureError::Empty)));
}

#[test]
fn pcapng_interfaces_have_their_own_link_type_and_resolution() {
    for endian in BOTH {
        let mut file = PcapNgFile::new(endian);
        file.interface(link::ETHERNET as u16, 0, &[]) // 10^-6 by default
            .interface(link::LINUX_SLL2 as u16, 0, &[tsresol(9)])
            .interface(link::RAW as u16, 0, &[tsresol(3)])
            .interface(
                link::IPV6 as u16,
                0,
                &[tsresol(0x80 | 10), tsoffset(endian, 100)],
            )
            .interface(link::IPV4 as u16, 0, &[tsoffset(endian, -1_000)])
            .enhanced(0, 1_700_000_000_123_456, &ethernet(&[], 0x0800, &ipv4(1)))
            .enhanced(1, 1_700_000_000_123_456_789, &sll2(0x86dd, &ipv6(2)))
            .enhanced(2, 1_700_000_000_123, &ipv4(3))
            .enhanced(3, 3 * 512, &ipv6(4))
            .enhanced(4, 1_000_500_000, &ipv4(5));
        let capture = read_capture(&file.build()).unwrap();
        assert!(capture.error.is_none(), "{:?}", capture.error);
        assert_eq!(capture.format, CaptureFormat::PcapNg);
        let seen: Vec<_> = capture
            .packets
            .iter()
            .map(|p| (p.number, p.interface, p.link_type, p.timestamp, p.network))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    1,
                    0,
                    link::ETHERNET,
                    Duration::new(1_700_000_000, 123_456_000),
                    Network::Ipv4 { offset: 14 }
                ),
                (
                    2,
                    1,
                    link::LINUX_SLL2,
                    Duration::new(1_700_000_000, 123_456_789),
                    Network::Ipv6 { offset: 20 }
                ),
                (
                    3,
                    2,
                    link::RAW,
                    Duration::new(1_700_000_000, 123_000_000),
                    Network::Ipv4 { offset: 0 }
                ),
                (
                    4,
                    3,
                    link::IPV6,
                    Duration::new(101, 500_000_000),
                    Network::Ipv6 { offset: 0 }
                ),
                (
                    5,
                    4,
                    link::IPV4,
                    Duration::new(0, 500_000_000),
                    Network::Ipv4 { offset: 0 }
                ),
            ],
            "{endian:?}"
        );
        assert_eq!(capture.packets[1].ip(), Some(&ipv6(2)[..]));
        assert_eq!(capture.packets[0].original_len, 34 + 100);
    }
}

#[test]
fn pcapng_counts_every_packet_block_and_skips_the_rest() {
    for endian in BOTH {
        let capture = read_capture(&rich_pcapng(endian)).unwrap();
        assert!(capture.error.is_none(), "{:?}", capture.error);
        let seen: Vec<_> = capture
            .packets
            .iter()
            .map(|p| (p.number, p.link_type, p.network))
            .collect();
        assert_eq!(
            seen,
            [
                (1, link::ETHERNET, Network::Ipv4 { offset: 18 }),
                (2, link::LINUX_SLL2, Network::Ipv6 { offset: 20 }),
                (
                    3,
                    link::ETHERNET,
                    Network::Other {
                        ethertype: Some(0x0806)
                    }
                ),
                (4, link::NULL, Network::Ipv6 { offset: 4 }),
                (5, link::ETHERNET, Network::Ipv6 { offset: 14 }),
            ]
        );
        // 2^40 ticks of 2^-10 s, less the interface's offset of -5 s.
        assert_eq!(
            capture.packets[3].timestamp,
            Duration::from_secs((1 << 30) - 5)
        );
        // The obsolete Packet Block uses the default resolution of its interface.
        assert_eq!(capture.packets[4].timestamp, Duration::from_micros(5));
    }
}

#[test]
fn pcapng_simple_packets_take_interface_zero_and_its_snap_length() {
    let arp = ethernet(&[], 0x0806, &[0; 28]);
    let mut file = PcapNgFile::new(Endian::Little);
    file.interface(link::ETHERNET as u16, 40, &[])
        .simple(42, &arp) // cut to the snap length of 40
        .simple(41, &arp[..41]) // 41 bytes and 3 of padding
        .simple(42, &arp[..20]); // a writer that cut it without saying
    let capture = read_capture(&file.build()).unwrap();
    let lengths: Vec<_> = capture
        .packets
        .iter()
        .map(|p| (p.number, p.captured_len(), p.original_len, p.timestamp))
        .collect();
    assert_eq!(
        lengths,
        [
            (1, 40, 42, Duration::ZERO),
            (2, 40, 41, Duration::ZERO),
            (3, 20, 42, Duration::ZERO)
        ]
    );
    assert_eq!(capture.packets[0].data, arp[..40]);
}

#[test]
fn pcapng_sections_change_byte_order_and_start_interfaces_again() {
    let mut file = PcapNgFile::new(Endian::Little);
    file.interface(link::ETHERNET as u16, 0, &[])
        .interface(link::RAW as u16, 0, &[])
        .enhanced(1, 1, &ipv4(1))
        .section(Endian::Big)
        .interface(link::LINUX_SLL as u16, 0, &[tsresol(9)])
        .enhanced(0, 2, &sll(0x0800, &ipv4(2)))
        .enhanced(1, 3, &ipv4(3));
    let capture = read_capture(&file.build()).unwrap();
    let seen: Vec<_> = capture
        .packets
        .iter()
        .map(|p| (p.number, p.link_type, p.timestamp, p.network))
        .collect();
    assert_eq!(
        seen,
        [
            (
                1,
                link::RAW,
                Duration::from_micros(1),
                Network::Ipv4 { offset: 0 }
            ),
            (
                2,
                link::LINUX_SLL,
                Duration::from_nanos(2),
                Network::Ipv4 { offset: 16 }
            ),
        ]
    );
    // Interface 1 belonged to the first section only.
    let error = capture.error.unwrap();
    assert!(
        matches!(
            error,
            CaptureError::UnknownInterface {
                interface: 1,
                known: 1,
                at: Location { frame: Some(3), .. }
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("names interface 1, but its section describes 1")
    );
}

#[test]
fn pcapng_packet_before_any_interface_is_an_error() {
    let mut file = PcapNgFile::new(Endian::Big);
    file.simple(20, &ipv4(1));
    let capture = read_capture(&file.build()).unwrap();
    assert!(capture.packets.is_empty());
    assert!(matches!(
        capture.error,
        Some(CaptureError::UnknownInterface {
            interface: 0,
            known: 0,
            at: Location {
                offset: 28,
                frame: Some(1)
            }
        })
    ));
}

#[test]
fn pcapng_cut_in_the_last_block_keeps_the_packets_before_it() {
    let mut file = PcapNgFile::new(Endian::Little);
    file.interface(link::RAW as u16, 0, &[])
        .enhanced(0, 1, &ipv4(1));
    let last = file.build().len();
    file.enhanced(0, 2, &ipv4(2));
    let bytes = file.build();

    let capture = read_capture(&bytes[..bytes.len() - 4]).unwrap();
    assert_eq!(capture.packets.len(), 1);
    let error = capture.error.unwrap();
    assert!(
        matches!(
            error,
            CaptureError::Truncated {
                what: "pcapng enhanced packet block",
                at: Location { offset, frame: Some(2) },
                needed: 52,
                available: 48,
            } if offset == last
        ),
        "{error:?}"
    );
    let capture = read_capture(&bytes[..last + 6]).unwrap();
    assert!(matches!(
        capture.error,
        Some(CaptureError::Truncated {
            what: "pcapng block header",
            needed: 8,
            available: 6,
            ..
        })
    ));
}

#[test]
fn pcapng_inconsistent_blocks_are_errors() {
    let mut file = PcapNgFile::new(Endian::Little);
    file.interface(link::RAW as u16, 0, &[])
        .enhanced(0, 1, &ipv4(1));
    let good = file.build();
    let epb = good.len() - 52;
    let malformed = |bytes: &[u8]| match read_capture(bytes).unwrap().error {
        Some(CaptureError::Malformed { what, at }) => (what, at),
        other => panic!("{other:?}"),
    };

    let mut bad_length = good.clone();
    bad_length[epb + 4] = 50; // not a multiple of 4
    let (what, at) = malformed(&bad_length);
    assert!(what.contains("multiple of 4"));
    assert_eq!(
        at,
        Location {
            offset: epb,
            frame: Some(1)
        }
    );

    let mut bad_trailer = good.clone();
    bad_trailer[good.len() - 4] = 48;
    assert!(malformed(&bad_trailer).0.contains("trailing length"));

    let mut long_capture = good.clone();
    long_capture[epb + 20] = 200; // captured length past the block
    assert!(malformed(&long_capture).0.contains("captured length"));

    let mut bad_magic = good.clone();
    bad_magic[8] = 0;
    assert!(matches!(
        read_capture(&bad_magic),
        Err(CaptureError::Malformed { what, .. }) if what.contains("byte-order magic")
    ));
}

#[test]
fn pcapng_timestamp_resolutions() {
    let second_and_half = Duration::from_millis(1_500);
    assert_eq!(ticks_to_duration(1_500_000, 6), second_and_half);
    assert_eq!(ticks_to_duration(1_500_000_000, 9), second_and_half);
    assert_eq!(ticks_to_duration(15, 1), second_and_half);
    assert_eq!(ticks_to_duration(3, 0x81), second_and_half);
    assert_eq!(ticks_to_duration(1536, 0x8a), second_and_half);
    assert_eq!(ticks_to_duration(1_500_000_000_000, 12), second_and_half);
    assert_eq!(
        ticks_to_duration(1_234_567_891, 12),
        Duration::from_nanos(1_234_567)
    );
    assert_eq!(
        ticks_to_duration(u64::MAX, 0),
        Duration::from_secs(u64::MAX)
    );
    assert_eq!(
        ticks_to_duration(u64::MAX, 0x80),
        Duration::from_secs(u64::MAX)
    );
    assert_eq!(ticks_to_duration(u64::MAX, 0x7f), Duration::ZERO);
    assert_eq!(ticks_to_duration(u64::MAX, 0xff), Duration::ZERO);
    assert_eq!(ticks_to_duration(u64::MAX, 38), Duration::ZERO);
    assert_eq!(
        ticks_to_duration(1 << 63, 0x80 | 63),
        Duration::from_secs(1)
    );
}

#[test]
fn reads_files_from_disk() {
    let file = PcapFile::new(Endian::Little, false, link::RAW)
        .record(7, 8, &ipv4(1))
        .build();
    let path = std::env::temp_dir().join(format!("mptcp-cli-capture-{}.pcap", std::process::id()));
    std::fs::write(&path, &file).unwrap();
    let capture = read_capture_file(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        capture.unwrap().packets[0].timestamp,
        Duration::new(7, 8_000)
    );

    let missing = std::env::temp_dir().join("mptcp-cli-no-such-capture.pcap");
    let error = read_capture_file(&missing).unwrap_err();
    assert!(matches!(error, CaptureError::Io { .. }));
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot read {}: ", missing.display()))
    );
}
