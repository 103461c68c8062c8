//! Property: every valid value survives emit → parse unchanged, with `buffer_len` bytes on
//! the wire and a valid checksum where there is one.

use proptest::prelude::*;

use super::strategies::{address_pair, ipv4_repr, ipv6_repr, mptcp_option, tcp_option, tcp_repr};
use crate::wire::{
    Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, MptcpOption, TcpOption, TcpPacket, TcpRepr,
    parse_ip_packet,
};

proptest! {
    #[test]
    fn mptcp_option_round_trip(option in mptcp_option()) {
        let mut buf = vec![0u8; option.buffer_len()];
        option.emit(&mut buf);
        prop_assert_eq!(usize::from(buf[1]), buf.len());
        prop_assert_eq!(MptcpOption::parse(&buf), Ok(option));
    }

    #[test]
    fn tcp_option_round_trip(option in tcp_option()) {
        let mut buf = vec![0u8; option.buffer_len()];
        option.emit(&mut buf);
        prop_assert_eq!(TcpOption::parse(&buf), Ok((option, buf.len())));
    }

    #[test]
    fn tcp_segment_round_trip(repr in tcp_repr(), (src, dst) in address_pair()) {
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut TcpPacket::new_unchecked(&mut buf[..]), src, dst);
        let packet = TcpPacket::new_checked(&buf[..]).unwrap();
        prop_assert!(packet.verify_checksum(src, dst));
        prop_assert_eq!(packet.header_len(), repr.header_len());
        prop_assert_eq!(TcpRepr::parse(&packet), Ok(repr));
    }

    #[test]
    fn ipv4_header_round_trip(repr in ipv4_repr()) {
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
        let packet = Ipv4Packet::new_checked(&buf[..]).unwrap();
        prop_assert!(packet.verify_checksum());
        prop_assert_eq!(Ipv4Repr::parse(&packet), Ok(repr));
        let parsed = parse_ip_packet(&buf).unwrap();
        prop_assert_eq!(parsed.payload.len(), repr.payload_len);
        prop_assert_eq!(parsed.fragment, repr.fragment());
    }

    #[test]
    fn ipv6_header_round_trip(repr in ipv6_repr()) {
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]));
        let packet = Ipv6Packet::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(Ipv6Repr::parse(&packet), Ok(repr));
    }
}
