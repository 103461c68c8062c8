//! Property: no parser panics, whatever the bytes; and what parses, re-emits to something that
//! parses to the same value.

use proptest::collection::vec;
use proptest::prelude::*;

use crate::wire::{
    IpRepr, MptcpOption, TcpOption, TcpOptions, TcpPacket, TcpRepr, parse_ip_packet,
};

/// Bytes shaped like an MPTCP option (kind 30, a correct length byte, any subtype byte) so
/// that the subtype parsers are reached, not only the framing checks.
fn mptcp_shaped() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 1..=40).prop_map(|payload| {
        let mut option = vec![30, (payload.len() + 2) as u8];
        option.extend(payload);
        option
    })
}

/// Raw bytes with the IP version nibble and length fields made plausible, so that the
/// extension-header walk and the TCP parser are reached.
fn ip_shaped() -> impl Strategy<Value = Vec<u8>> {
    (any::<bool>(), vec(any::<u8>(), 40..=120)).prop_map(|(v6, mut bytes)| {
        let len = bytes.len();
        if v6 {
            bytes[0] = 0x60 | (bytes[0] & 0x0f);
            bytes[4..6].copy_from_slice(&((len - 40) as u16).to_be_bytes());
            bytes[6] = [0, 6, 43, 44, 60][usize::from(bytes[6]) % 5];
        } else {
            bytes[0] = 0x45;
            bytes[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            bytes[9] = 6;
        }
        bytes
    })
}

fn check_mptcp(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(option) = MptcpOption::parse(bytes) {
        let mut out = vec![0u8; option.buffer_len()];
        option.emit(&mut out);
        prop_assert_eq!(MptcpOption::parse(&out), Ok(option));
    }
    Ok(())
}

fn check_tcp_options(area: &[u8]) -> Result<(), TestCaseError> {
    let mut errors = 0;
    for item in TcpOptions::new(area) {
        match item {
            Ok(option) => {
                let mut out = vec![0u8; option.buffer_len()];
                option.emit(&mut out);
                prop_assert_eq!(TcpOption::parse(&out), Ok((option, out.len())));
            }
            Err(_) => errors += 1,
        }
    }
    prop_assert!(errors <= 1);
    Ok(())
}

fn check_segment(bytes: &[u8], ip: Option<&IpRepr<'_>>) -> Result<(), TestCaseError> {
    let Ok(packet) = TcpPacket::new_checked(bytes) else {
        return Ok(());
    };
    if let Some(ip) = ip {
        packet.verify_checksum(ip.src_addr(), ip.dst_addr());
    }
    let Ok(repr) = TcpRepr::parse(&packet) else {
        return Ok(());
    };
    prop_assert!(repr.buffer_len() <= bytes.len());
    for option in repr.mptcp_options() {
        let mut out = vec![0u8; option.buffer_len()];
        option.emit(&mut out);
        prop_assert_eq!(MptcpOption::parse(&out), Ok(*option));
    }
    Ok(())
}

proptest! {
    #[test]
    fn mptcp_parse_never_panics(bytes in vec(any::<u8>(), 0..48)) {
        check_mptcp(&bytes)?;
    }

    #[test]
    fn mptcp_parse_of_framed_bytes_is_stable(bytes in mptcp_shaped()) {
        check_mptcp(&bytes)?;
    }

    #[test]
    fn tcp_options_never_panic(area in vec(any::<u8>(), 0..60)) {
        check_tcp_options(&area)?;
    }

    #[test]
    fn tcp_segment_parse_never_panics(mut bytes in vec(any::<u8>(), 0..120)) {
        check_segment(&bytes, None)?;
        // Again with a plausible data offset, to reach the options.
        if let Some(offset) = bytes.get_mut(12) {
            *offset = (*offset & 0x0f) | (5 + *offset % 11) << 4;
        }
        check_segment(&bytes, None)?;
    }

    #[test]
    fn ip_parse_never_panics(bytes in vec(any::<u8>(), 0..100)) {
        let _ = parse_ip_packet(&bytes);
    }

    #[test]
    fn ip_parse_of_plausible_packets(bytes in ip_shaped()) {
        if let Ok(parsed) = parse_ip_packet(&bytes) {
            check_segment(parsed.payload, Some(&parsed.ip))?;
        }
    }
}
