//! Known answers from real traffic: packets captured between two Linux 6.18 kernels speaking
//! MPTCP v1 over a veth pair (checksum offload off, so every TCP checksum on the wire is
//! real). Client 10.77.0.1 / fd77::1, server 10.77.0.2 / fd77::2 port 8080, which announces
//! 10.77.1.2 with ADD_ADDR. The client sends "hello mptcp", later 3000 bytes, the server
//! answers "ok". The `CSUM_*` packets come from a second run with
//! `net.mptcp.checksum_enabled = 1` on both sides.
//!
//! Every packet must: parse down to its MPTCP options, carry a valid IPv4 header checksum and
//! TCP checksum, and re-emit byte for byte.

use core::net::{IpAddr, Ipv4Addr};

use crate::wire::mptcp::{AddAddr, Dss, DssMapping, DssNumber, MpCapable, MptcpOption};
use crate::wire::{
    IpPayload, IpProtocol, IpRepr, Ipv4Packet, SeqNum, TcpFlags, TcpOption, TcpPacket, TcpRepr,
    dss_checksum, parse_ip_packet,
};

const V4_SYN: &[&str] = &[
    "450000402bc040004006fa5b0a4d00010a4d0002e55e1f90ca600f6200000000b002faf0837a0000",
    "020405b40402080af4efb24a000000000103030a1e040101",
];
const V4_SYN_ACK: &[&str] = &[
    "4500004800004000400626140a4d00020a4d00011f90e55ebe8e06e8ca600f63d012fe8808120000",
    "020405b40402080a8fd84406f4efb24a0103030a1e0c01019ee6a9bb987fdd37",
];
const V4_THIRD_ACK: &[&str] = &[
    "450000482bc140004006fa520a4d00010a4d0002e55e1f90ca600f63be8e06e9d010003f5b1f0000",
    "0101080af4efb24a8fd844061e140101588acccf77c31cde9ee6a9bb987fdd37",
];
const V4_ADD_ADDR: &[&str] = &[
    "4500004421444000400604d40a4d00020a4d00011f90e55ebe8e06e9ca600f63c010003f6bef0000",
    "0101080a8fd84406f4efb24a1e1030010a4d0102d0011f8094afb90c",
];
const V4_ADD_ADDR_ECHO: &[&str] = &[
    "4500003c2bc240004006fa5d0a4d00010a4d0002e55e1f90ca600f63be8e06e9a010003fc83d0000",
    "0101080af4efb24a8fd844061e0831010a4d0102",
];
const V4_FIRST_DATA: &[&str] = &[
    "450000572bc340004006fa410a4d00010a4d0002e55e1f90ca600f63be8e06e9e018003fbf620000",
    "0101080af4efb24a8fd844061e16200d4b7d310ae5cfd5ae9fea762800000001000b010168656c6c",
    "6f206d70746370",
];
const V4_DATA_ACK: &[&str] = &[
    "4500004021454000400604d70a4d00020a4d00011f90e55ebe8e06e9ca600f6eb010003f02db0000",
    "0101080a8fd84406f4efb24a1e0c2003e5cfd5ae9fea7633",
];
const V4_DATA_FIN: &[&str] = &[
    "4500004c2bc740004006fa480a4d00010a4d0002e55e1f90ca601b26be8e06e9e010003f35e10000",
    "0101080af4efb6328fd847ee1e16201d4b7d310ae5cfd5ae9fea81eb0000000000010101",
];
const V4_SERVER_DATA: &[&str] = &[
    "45000052214a4000400604c00a4d00020a4d00011f90e55ebe8e06e9ca601b26f018004893640000",
    "0101080a8fd849e3f4efb6321e1a200fe5cfd5ae9fea81ecf8d328384b7d310a0000000100020101",
    "6f6b",
];
const CSUM_FIRST_DATA: &[&str] = &[
    "45000057e16540004006449f0a4d00010a4d0002e5641f907ac0586cefca7007e018003f19530000",
    "0101080a16dbe816b4b0b7f41e18200dce95381d83b4ffdf5220de9a00000001000bb5dd68656c6c",
    "6f206d70746370",
];
const CSUM_DATA_FIN: &[&str] = &[
    "4500004ce1694000400644a60a4d00010a4d0002e5641f907ac0642fefca7007e010003f05c10000",
    "0101080a16dbebffb4b0bbdd1e18201dce95381d83b4ffdf5220ea5d0000000000013fec",
];
const CSUM_SERVER_DATA: &[&str] = &[
    "450000522e6340004006f7a60a4d00020a4d00011f90e564efca70077ac0642ff01800483a5f0000",
    "0101080ab4b0bdd116dbebff1e1c200f83b4ffdf5220ea5e491be22dce95381d0000000100025e95",
    "6f6b",
];
const V6_SYN: &[&str] = &[
    "6008e372002c0640fd770000000000000000000000000001fd770000000000000000000000000002",
    "c6d41f903e3a49d200000000b002fd2077800000020405a00402080a22cd1836000000000103030a",
    "1e040101",
];
const V6_FIRST_DATA: &[&str] = &[
    "6008e37200430640fd770000000000000000000000000001fd770000000000000000000000000002",
    "c6d41f903e3a49d30f5f8ddce018003f2b9300000101080a22cd183706f2ae741e16200d8900164a",
    "a5ec2a6d5ebf505a00000001000b010168656c6c6f206d70746370",
];

const ALL: [&[&str]; 14] = [
    V4_SYN,
    V4_SYN_ACK,
    V4_THIRD_ACK,
    V4_ADD_ADDR,
    V4_ADD_ADDR_ECHO,
    V4_FIRST_DATA,
    V4_DATA_ACK,
    V4_DATA_FIN,
    V4_SERVER_DATA,
    CSUM_FIRST_DATA,
    CSUM_DATA_FIN,
    CSUM_SERVER_DATA,
    V6_SYN,
    V6_FIRST_DATA,
];

fn bytes(hex: &[&str]) -> Vec<u8> {
    let hex: String = hex.concat();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Parses a captured packet down to its TCP segment, checking both checksums.
fn decode(packet: &[u8]) -> (IpPayload<'_>, TcpRepr<'_>) {
    let ip = parse_ip_packet(packet).unwrap();
    assert_eq!(ip.protocol, IpProtocol::TCP);
    assert_eq!(ip.fragment, None);
    if let IpRepr::Ipv4(_) = ip.ip {
        assert!(Ipv4Packet::new_checked(packet).unwrap().verify_checksum());
    }
    let tcp = TcpPacket::new_checked(ip.payload).unwrap();
    assert!(tcp.verify_checksum(ip.ip.src_addr(), ip.ip.dst_addr()));
    (ip, TcpRepr::parse(&tcp).unwrap())
}

fn only_mptcp_option<'a>(tcp: &'a TcpRepr<'_>) -> &'a MptcpOption<'a> {
    let options: Vec<_> = tcp.mptcp_options().collect();
    assert_eq!(options.len(), 1, "{:?}", tcp.options);
    options[0]
}

#[test]
fn every_captured_packet_re_emits_byte_for_byte() {
    for hex in ALL {
        let packet = bytes(hex);
        let (ip, tcp) = decode(&packet);
        assert_eq!(ip.ip.buffer_len(), packet.len());
        assert_eq!(ip.ip.header_len() + tcp.buffer_len(), packet.len());
        let mut out = vec![0u8; packet.len()];
        ip.ip.emit(&mut out);
        let header_len = ip.ip.header_len();
        let mut segment = TcpPacket::new_unchecked(&mut out[header_len..]);
        tcp.emit(&mut segment, ip.ip.src_addr(), ip.ip.dst_addr());
        assert_eq!(out, packet);
    }
}

#[test]
fn mp_capable_handshake() {
    let syn = bytes(V4_SYN);
    let (ip, tcp) = decode(&syn);
    assert_eq!(ip.ip.src_addr(), IpAddr::V4(Ipv4Addr::new(10, 77, 0, 1)));
    assert_eq!(
        (tcp.src_port, tcp.dst_port, tcp.flags),
        (58718, 8080, TcpFlags::SYN)
    );
    let capable = |version, sender_key, receiver_key| {
        MptcpOption::MpCapable(MpCapable {
            version,
            flags: 0x01,
            sender_key,
            receiver_key,
            data_len: None,
            checksum: None,
        })
    };
    assert_eq!(*only_mptcp_option(&tcp), capable(1, None, None));

    let syn_ack = bytes(V4_SYN_ACK);
    let (_, tcp) = decode(&syn_ack);
    assert_eq!(tcp.flags, TcpFlags::SYN | TcpFlags::ACK);
    assert_eq!(tcp.ack_number, SeqNum(0xca60_0f63));
    assert_eq!(
        *only_mptcp_option(&tcp),
        capable(1, Some(0x9ee6_a9bb_987f_dd37), None)
    );

    let ack = bytes(V4_THIRD_ACK);
    let (_, tcp) = decode(&ack);
    assert_eq!(
        tcp.options[..2],
        [TcpOption::NoOperation, TcpOption::NoOperation]
    );
    assert_eq!(
        *only_mptcp_option(&tcp),
        capable(1, Some(0x588a_cccf_77c3_1cde), Some(0x9ee6_a9bb_987f_dd37))
    );

    // With checksums enabled the SYN carries flag A too.
    let csum_syn_option = [0x1e, 0x04, 0x01, 0x81];
    let MptcpOption::MpCapable(c) = MptcpOption::parse(&csum_syn_option).unwrap() else {
        panic!()
    };
    assert_eq!(c.flags, 0x81);
}

#[test]
fn add_addr_and_its_echo() {
    let announce = bytes(V4_ADD_ADDR);
    let (_, tcp) = decode(&announce);
    // RFC 8684 §3.4.1 HMAC: key = server key ‖ client key, message = id ‖ address ‖ port 0.
    assert_eq!(
        *only_mptcp_option(&tcp),
        MptcpOption::AddAddr(AddAddr {
            echo: false,
            addr_id: 1,
            addr: Ipv4Addr::new(10, 77, 1, 2).into(),
            port: None,
            truncated_hmac: Some(0xd001_1f80_94af_b90c),
        })
    );
    let echo = bytes(V4_ADD_ADDR_ECHO);
    let (_, tcp) = decode(&echo);
    let MptcpOption::AddAddr(a) = only_mptcp_option(&tcp) else {
        panic!()
    };
    assert!(a.echo);
    assert_eq!(a.truncated_hmac, None);
}

#[test]
fn dss_without_checksum_is_followed_by_two_nops() {
    let data = bytes(V4_FIRST_DATA);
    let (_, tcp) = decode(&data);
    assert_eq!(tcp.payload, b"hello mptcp");
    assert_eq!(tcp.options.len(), 6);
    assert_eq!(
        tcp.options[4..],
        [TcpOption::NoOperation, TcpOption::NoOperation]
    );
    assert_eq!(
        *only_mptcp_option(&tcp),
        MptcpOption::Dss(Dss {
            data_fin: false,
            // 32-bit DATA_ACK: the low bits of the server's IDSN + 1.
            data_ack: Some(DssNumber::U32(0x4b7d_310a)),
            mapping: Some(DssMapping {
                // The client's IDSN + 1 (from the SHA-256 of its key).
                dsn: DssNumber::U64(0xe5cf_d5ae_9fea_7628),
                subflow_seq: 1,
                data_len: 11,
                checksum: None,
            }),
        })
    );

    let ack = bytes(V4_DATA_ACK);
    let (_, tcp) = decode(&ack);
    let MptcpOption::Dss(dss) = only_mptcp_option(&tcp) else {
        panic!()
    };
    assert_eq!(dss.data_ack, Some(DssNumber::U64(0xe5cf_d5ae_9fea_7633)));
    assert_eq!(dss.mapping, None);

    // DATA_FIN without data: subflow sequence 0, data-level length 1.
    let fin = bytes(V4_DATA_FIN);
    let (_, tcp) = decode(&fin);
    let MptcpOption::Dss(dss) = only_mptcp_option(&tcp) else {
        panic!()
    };
    assert!(dss.data_fin);
    let mapping = dss.mapping.unwrap();
    assert_eq!((mapping.subflow_seq, mapping.data_len), (0, 1));
    assert!(tcp.payload.is_empty());

    let server = bytes(V4_SERVER_DATA);
    let (_, tcp) = decode(&server);
    let MptcpOption::Dss(dss) = only_mptcp_option(&tcp) else {
        panic!()
    };
    assert_eq!(dss.data_ack, Some(DssNumber::U64(0xe5cf_d5ae_9fea_81ec)));
    assert_eq!(
        dss.mapping.unwrap().dsn,
        DssNumber::U64(0xf8d3_2838_4b7d_310a)
    );
    assert_eq!(tcp.payload, b"ok");
}

/// The DSS checksums Linux computed (RFC 8684 §3.3.1) equal ours.
#[test]
fn dss_checksums_match_linux() {
    for hex in [CSUM_FIRST_DATA, CSUM_DATA_FIN, CSUM_SERVER_DATA] {
        let packet = bytes(hex);
        let (_, tcp) = decode(&packet);
        // With checksums no NOPs follow the DSS: the checksum takes their 2 bytes.
        let Some(TcpOption::Mptcp(MptcpOption::Dss(dss))) = tcp.options.last() else {
            panic!("{:?}", tcp.options)
        };
        let mapping = dss.mapping.unwrap();
        let DssNumber::U64(dsn) = mapping.dsn else {
            panic!()
        };
        let expected = dss_checksum(dsn, mapping.subflow_seq, mapping.data_len, tcp.payload);
        assert_eq!(mapping.checksum, Some(expected), "{dss:?}");
    }
    // The 3000-byte mapping that Linux spread over three segments (checksum in each).
    assert_eq!(
        dss_checksum(0x83b4_ffdf_5220_dea5, 12, 3000, &[b'x'; 3000]),
        0x5dff
    );
}

#[test]
fn ipv6_packets() {
    let syn = bytes(V6_SYN);
    let (ip, tcp) = decode(&syn);
    assert_eq!(ip.ip.src_addr(), "fd77::1".parse::<IpAddr>().unwrap());
    assert_eq!(tcp.mss(), Some(1440));
    let data = bytes(V6_FIRST_DATA);
    let (_, tcp) = decode(&data);
    assert_eq!(tcp.payload, b"hello mptcp");
    assert_eq!(only_mptcp_option(&tcp).name(), "DSS");
}
