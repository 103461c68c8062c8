//! The link layers: where the IP bytes are, through a whole file and frame by frame.

use super::super::link::{LinkError, link_type_name, locate_network};
use super::super::{Network, read_capture};
use super::*;

const ARP: u16 = 0x0806;

/// Reads `frame` back from a one-packet pcap file of `link_type`, and returns what was found
/// and the IP bytes.
fn through_a_file(link_type: u32, frame: &[u8]) -> (Network, Option<Vec<u8>>) {
    let file = PcapFile::new(Endian::Big, false, link_type)
        .record(1, 2, frame)
        .build();
    let capture = read_capture(&file).unwrap();
    assert!(capture.error.is_none());
    let packet = &capture.packets[0];
    assert_eq!((packet.number, packet.link_type), (1, link_type));
    (packet.network, packet.ip().map(<[u8]>::to_vec))
}

fn too_short(needed: usize, captured: usize) -> Network {
    Network::Undecodable(LinkError::TooShort { needed, captured })
}

#[test]
fn ethernet_finds_ipv4_and_ipv6_and_names_the_rest() {
    assert_eq!(
        through_a_file(link::ETHERNET, &ethernet(&[], 0x0800, &ipv4(1))),
        (Network::Ipv4 { offset: 14 }, Some(ipv4(1)))
    );
    assert_eq!(
        through_a_file(link::ETHERNET, &ethernet(&[], 0x86dd, &ipv6(2))),
        (Network::Ipv6 { offset: 14 }, Some(ipv6(2)))
    );
    assert_eq!(
        through_a_file(link::ETHERNET, &ethernet(&[], ARP, &[0; 28])),
        (
            Network::Other {
                ethertype: Some(ARP)
            },
            None
        )
    );
    // An 802.3 frame: a length, not an ethertype.
    assert_eq!(
        locate_network(link::ETHERNET, &ethernet(&[], 46, &[0; 46])),
        Network::Other { ethertype: None }
    );
}

#[test]
fn ethernet_skips_vlan_tags() {
    let one_tag = ethernet(&[(0x8100, 10)], 0x0800, &ipv4(1));
    assert_eq!(
        through_a_file(link::ETHERNET, &one_tag),
        (Network::Ipv4 { offset: 18 }, Some(ipv4(1)))
    );
    let q_in_q = ethernet(&[(0x88a8, 100), (0x8100, 10)], 0x86dd, &ipv6(2));
    assert_eq!(
        through_a_file(link::ETHERNET, &q_in_q),
        (Network::Ipv6 { offset: 22 }, Some(ipv6(2)))
    );
    let old_q_in_q = ethernet(&[(0x9100, 100), (0x8100, 10)], ARP, &[0; 28]);
    assert_eq!(
        locate_network(link::ETHERNET, &old_q_in_q),
        Network::Other {
            ethertype: Some(ARP)
        }
    );
}

#[test]
fn ethernet_frames_too_short_for_their_header_are_undecodable() {
    assert_eq!(locate_network(link::ETHERNET, &[0; 13]), too_short(14, 13));
    assert_eq!(locate_network(link::ETHERNET, &[]), too_short(14, 0));
    let cut_tag = &ethernet(&[(0x8100, 10)], 0x0800, &[])[..17];
    assert_eq!(locate_network(link::ETHERNET, cut_tag), too_short(18, 17));
    // A header and nothing behind it is still IPv4, just empty.
    let empty = ethernet(&[], 0x0800, &[]);
    assert_eq!(
        locate_network(link::ETHERNET, &empty),
        Network::Ipv4 { offset: 14 }
    );
}

#[test]
fn raw_ip_is_told_apart_by_the_version_nibble() {
    for link_type in [link::RAW, link::RAW_BSD, link::RAW_OPENBSD] {
        assert_eq!(
            through_a_file(link_type, &ipv4(1)),
            (Network::Ipv4 { offset: 0 }, Some(ipv4(1)))
        );
        assert_eq!(
            through_a_file(link_type, &ipv6(2)),
            (Network::Ipv6 { offset: 0 }, Some(ipv6(2)))
        );
        assert_eq!(
            locate_network(link_type, &[0x50, 0]),
            Network::Other { ethertype: None }
        );
        assert_eq!(locate_network(link_type, &[]), too_short(1, 0));
    }
}

#[test]
fn ipv4_and_ipv6_link_types_start_with_the_ip_header() {
    assert_eq!(
        through_a_file(link::IPV4, &ipv4(1)),
        (Network::Ipv4 { offset: 0 }, Some(ipv4(1)))
    );
    assert_eq!(
        through_a_file(link::IPV6, &ipv6(2)),
        (Network::Ipv6 { offset: 0 }, Some(ipv6(2)))
    );
}

#[test]
fn linux_cooked_v1_has_the_protocol_at_offset_14() {
    assert_eq!(
        through_a_file(link::LINUX_SLL, &sll(0x0800, &ipv4(1))),
        (Network::Ipv4 { offset: 16 }, Some(ipv4(1)))
    );
    assert_eq!(
        through_a_file(link::LINUX_SLL, &sll(0x86dd, &ipv6(2))),
        (Network::Ipv6 { offset: 16 }, Some(ipv6(2)))
    );
    assert_eq!(
        locate_network(link::LINUX_SLL, &sll(ARP, &[0; 28])),
        Network::Other {
            ethertype: Some(ARP)
        }
    );
    // A VLAN tag the kernel left in: TCI, then the inner protocol.
    let mut tagged = sll(0x8100, &[0, 10, 0x08, 0x00]);
    tagged.extend_from_slice(&ipv4(3));
    assert_eq!(
        through_a_file(link::LINUX_SLL, &tagged),
        (Network::Ipv4 { offset: 20 }, Some(ipv4(3)))
    );
    assert_eq!(locate_network(link::LINUX_SLL, &[0; 15]), too_short(16, 15));
}

#[test]
fn linux_cooked_v2_has_the_protocol_at_offset_0() {
    assert_eq!(
        through_a_file(link::LINUX_SLL2, &sll2(0x0800, &ipv4(1))),
        (Network::Ipv4 { offset: 20 }, Some(ipv4(1)))
    );
    assert_eq!(
        through_a_file(link::LINUX_SLL2, &sll2(0x86dd, &ipv6(2))),
        (Network::Ipv6 { offset: 20 }, Some(ipv6(2)))
    );
    assert_eq!(
        locate_network(link::LINUX_SLL2, &sll2(ARP, &[0; 28])),
        Network::Other {
            ethertype: Some(ARP)
        }
    );
    assert_eq!(
        locate_network(link::LINUX_SLL2, &[0x08, 0]),
        too_short(20, 2)
    );
}

#[test]
fn loopback_reads_the_address_family_in_either_byte_order() {
    for link_type in [link::NULL, link::LOOP] {
        for endian in [Endian::Little, Endian::Big] {
            assert_eq!(
                through_a_file(link_type, &loopback(endian, 2, &ipv4(1))),
                (Network::Ipv4 { offset: 4 }, Some(ipv4(1)))
            );
            for inet6 in [10, 23, 24, 28, 30] {
                assert_eq!(
                    through_a_file(link_type, &loopback(endian, inet6, &ipv6(2))),
                    (Network::Ipv6 { offset: 4 }, Some(ipv6(2))),
                    "{endian:?} {inet6}"
                );
            }
            assert_eq!(
                locate_network(link_type, &loopback(endian, 7, &[1, 2])),
                Network::Other { ethertype: None }
            );
        }
        assert_eq!(locate_network(link_type, &[2, 0, 0]), too_short(4, 3));
    }
}

#[test]
fn unsupported_link_types_are_yielded_and_counted() {
    const USER0: u32 = 147;
    let file = PcapFile::new(Endian::Little, false, USER0)
        .record(1, 0, &ipv4(1))
        .record(2, 0, &ipv4(2))
        .build();
    let capture = read_capture(&file).unwrap();
    assert!(capture.error.is_none());
    let numbers: Vec<_> = capture
        .packets
        .iter()
        .map(|p| (p.number, p.network))
        .collect();
    let unsupported = Network::Undecodable(LinkError::UnsupportedLinkType(USER0));
    assert_eq!(numbers, [(1, unsupported), (2, unsupported)]);
    assert_eq!(capture.packets[0].ip(), None);

    // In pcapng, a packet on an unsupported interface between two on Ethernet.
    let mut file = PcapNgFile::new(Endian::Little);
    file.interface(link::ETHERNET as u16, 0, &[])
        .interface(USER0 as u16, 0, &[])
        .enhanced(0, 1, &ethernet(&[], 0x0800, &ipv4(1)))
        .enhanced(1, 2, &ipv4(2))
        .enhanced(0, 3, &ethernet(&[], 0x0800, &ipv4(3)));
    let capture = read_capture(&file.build()).unwrap();
    let numbers: Vec<_> = capture
        .packets
        .iter()
        .map(|p| (p.number, p.network))
        .collect();
    assert_eq!(
        numbers,
        [
            (1, Network::Ipv4 { offset: 14 }),
            (2, unsupported),
            (3, Network::Ipv4 { offset: 14 })
        ]
    );
}

#[test]
fn names_and_descriptions() {
    assert_eq!(link_type_name(link::LINUX_SLL2), Some("LINUX_SLL2"));
    assert_eq!(link_type_name(link::RAW_BSD), Some("RAW"));
    assert_eq!(link_type_name(147), None);
    assert_eq!(Network::Ipv4 { offset: 0 }.to_string(), "IPv4");
    assert_eq!(Network::Ipv6 { offset: 0 }.to_string(), "IPv6");
    assert_eq!(
        Network::Other {
            ethertype: Some(ARP)
        }
        .to_string(),
        "ethertype 0x0806"
    );
    assert_eq!(Network::Other { ethertype: None }.to_string(), "non-IP");
    assert_eq!(
        Network::Undecodable(LinkError::UnsupportedLinkType(147)).to_string(),
        "unsupported link type 147"
    );
    assert_eq!(
        too_short(14, 3).to_string(),
        "link-layer header truncated: needs 14 bytes, frame has 3"
    );
}
