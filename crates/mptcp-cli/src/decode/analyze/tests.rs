//! The analysis on small hand-made segment sequences: captures that lack part of a handshake,
//! MP_FAIL, infinite mappings and repacketised retransmissions.

use std::net::SocketAddr;
use std::time::Duration;

use mptcp_proto::crypto::{MptcpVersion, key_material};
use mptcp_proto::wire::mptcp::{Dss, DssMapping, DssNumber, MpCapable, MptcpOption};
use mptcp_proto::wire::{SeqNum, TcpFlags, TcpOption, TcpRepr, dss_checksum};

use super::super::segment::{Segment, Truncation};
use super::{Check, Dir, Side, analyze};

const CLIENT_KEY: u64 = 0x1111_2222_3333_4444;
const SERVER_KEY: u64 = 0x5555_6666_7777_8888;
const CLIENT_ISN: u32 = 1000;
const SERVER_ISN: u32 = 5000;

fn client() -> SocketAddr {
    SocketAddr::from(([10, 0, 1, 2], 40_000))
}

fn server() -> SocketAddr {
    SocketAddr::from(([10, 0, 1, 1], 80))
}

fn segment(
    from_client: bool,
    flags: TcpFlags,
    seq: u32,
    ack: u32,
    options: Vec<MptcpOption<'static>>,
    payload: &'static [u8],
) -> Segment<'static> {
    let (src, dst) = if from_client {
        (client(), server())
    } else {
        (server(), client())
    };
    Segment {
        number: 0,
        timestamp: Duration::ZERO,
        src,
        dst,
        tcp: TcpRepr {
            src_port: src.port(),
            dst_port: dst.port(),
            seq_number: SeqNum(seq),
            ack_number: SeqNum(ack),
            flags,
            window_len: 1000,
            urgent_at: 0,
            options: options.into_iter().map(TcpOption::Mptcp).collect(),
            payload,
        },
        payload_len: payload.len(),
        checksum_ok: Some(true),
        truncated: None,
    }
}

fn capable(flags: u8, sender_key: Option<u64>, receiver_key: Option<u64>) -> MptcpOption<'static> {
    MptcpOption::MpCapable(MpCapable {
        version: 1,
        flags,
        sender_key,
        receiver_key,
        data_len: None,
        checksum: None,
    })
}

fn syn(flags: u8) -> Segment<'static> {
    let options = vec![capable(flags, None, None)];
    segment(true, TcpFlags::SYN, CLIENT_ISN, 0, options, &[])
}

fn syn_ack(flags: u8) -> Segment<'static> {
    let options = vec![capable(flags, Some(SERVER_KEY), None)];
    let syn_ack = TcpFlags::SYN | TcpFlags::ACK;
    segment(false, syn_ack, SERVER_ISN, CLIENT_ISN + 1, options, &[])
}

fn third_ack(flags: u8) -> Segment<'static> {
    let options = vec![capable(flags, Some(CLIENT_KEY), Some(SERVER_KEY))];
    segment(
        true,
        TcpFlags::ACK,
        CLIENT_ISN + 1,
        SERVER_ISN + 1,
        options,
        &[],
    )
}

fn refs<'s, 'a>(segments: &'s [Segment<'a>]) -> Vec<&'s Segment<'a>> {
    segments.iter().collect()
}

#[test]
fn without_the_syn_the_syn_ack_sender_is_the_server() {
    let segments = [syn_ack(0x01), third_ack(0x01)];
    let analysis = analyze(&refs(&segments));
    let trace = &analysis.subflows[0];
    assert_eq!((trace.initiator, trace.responder), (client(), server()));
    let connection = &analysis.connections[0];
    assert_eq!(connection.key(Side::Client), Some(CLIENT_KEY));
    assert_eq!(connection.key(Side::Server), Some(SERVER_KEY));
    assert_eq!(analysis.segments[0].sender, Some(Side::Server));
    // The SYN/ACK acknowledges the client's ISN + 1, which gives the client's ISN.
    assert_eq!(
        trace.isn[Dir::FromInitiator.index()],
        Some(SeqNum(CLIENT_ISN))
    );
    assert_eq!(analysis.segments[1].relative_seq, Some(1));
}

#[test]
fn a_syn_without_mp_capable_founds_no_connection() {
    let plain_syn = segment(true, TcpFlags::SYN, CLIENT_ISN, 0, vec![], &[]);
    let segments = [plain_syn, syn_ack(0x01)];
    assert!(analyze(&refs(&segments)).connections.is_empty());
}

#[test]
fn mp_fail_dsn_is_in_the_receivers_data_sequence_space() {
    let server_idsn = key_material(MptcpVersion::V1, SERVER_KEY).idsn;
    // The client found a bad checksum in the server's data at relative DSN 5.
    let fail = MptcpOption::MpFail {
        dsn: server_idsn.wrapping_add(5),
    };
    let rst = segment(true, TcpFlags::RST, CLIENT_ISN + 1, 0, vec![fail], &[]);
    let segments = [syn(0x01), syn_ack(0x01), third_ack(0x01), rst];
    let analysis = analyze(&refs(&segments));
    assert_eq!(analysis.segments[3].options[0].relative_dsn, Some(5));
}

#[test]
fn the_checksum_of_an_infinite_mapping_is_zero() {
    let client_idsn = key_material(MptcpVersion::V1, CLIENT_KEY).idsn;
    let infinite = |checksum| {
        MptcpOption::Dss(Dss {
            data_fin: false,
            data_ack: None,
            mapping: Some(DssMapping {
                dsn: DssNumber::U64(client_idsn.wrapping_add(1)),
                subflow_seq: 1,
                data_len: 0,
                checksum: Some(checksum),
            }),
        })
    };
    let data = |checksum| {
        let options = vec![infinite(checksum)];
        segment(
            true,
            TcpFlags::ACK,
            CLIENT_ISN + 1,
            SERVER_ISN + 1,
            options,
            b"abcd",
        )
    };
    let segments = [syn(0x81), syn_ack(0x81), third_ack(0x81), data(0), data(7)];
    let analysis = analyze(&refs(&segments));
    assert!(analysis.connections[0].checksum);
    assert_eq!(analysis.segments[3].options[0].checksum, Some(Check::Valid));
    assert!(matches!(
        analysis.segments[4].options[0].checksum,
        Some(Check::Invalid { .. })
    ));
}

#[test]
fn a_longer_retransmission_at_the_same_sequence_number_is_kept() {
    let data = |payload| {
        segment(
            true,
            TcpFlags::ACK,
            CLIENT_ISN + 1,
            SERVER_ISN + 1,
            vec![],
            payload,
        )
    };
    let segments = [
        syn(0x01),
        syn_ack(0x01),
        data(&b"ab"[..]),
        data(&b"abcdef"[..]),
    ];
    let analysis = analyze(&refs(&segments));
    let trace = &analysis.subflows[0];
    assert_eq!(
        trace.bytes(Dir::FromInitiator, 1, 6).as_deref(),
        Some(&b"abcdef"[..])
    );
}

#[test]
fn a_mapping_over_bytes_the_snap_length_cut_off_is_not_checkable() {
    let client_idsn = key_material(MptcpVersion::V1, CLIENT_KEY).idsn;
    // A client segment at relative sequence number `rel` that maps `data_len` bytes there.
    let mapped = |rel: u32, data_len: u16, checksum: u16, payload: &'static [u8]| {
        let dss = MptcpOption::Dss(Dss {
            data_fin: false,
            data_ack: None,
            mapping: Some(DssMapping {
                dsn: DssNumber::U64(client_idsn.wrapping_add(rel.into())),
                subflow_seq: rel,
                data_len,
                checksum: Some(checksum),
            }),
        });
        let ack = TcpFlags::ACK;
        segment(
            true,
            ack,
            CLIENT_ISN + rel,
            SERVER_ISN + 1,
            vec![dss],
            payload,
        )
    };
    // 8 bytes on the wire, of which the capture kept 3.
    let mut cut = mapped(1, 8, 0x1234, b"abc");
    cut.payload_len = 8;
    cut.checksum_ok = None;
    cut.truncated = Some(Truncation::SnapLength);
    // A mapping of bytes no captured segment carried.
    let absent = mapped(9, 4, 0x1234, b"");
    // Whole bytes after the cut ones still verify.
    let dsn = client_idsn.wrapping_add(13);
    let whole = mapped(13, 4, dss_checksum(dsn, 13, 4, b"wxyz"), b"wxyz");
    let segments = [
        syn(0x81),
        syn_ack(0x81),
        third_ack(0x81),
        cut,
        absent,
        whole,
    ];
    let analysis = analyze(&refs(&segments));
    let checksum = |index: usize| analysis.segments[index].options[0].checksum.clone();
    assert_eq!(
        checksum(3),
        Some(Check::Unverifiable("mapped bytes truncated in the capture"))
    );
    assert_eq!(
        checksum(4),
        Some(Check::Unverifiable("mapped bytes not all in the capture"))
    );
    assert_eq!(checksum(5), Some(Check::Valid));
    assert_eq!(analysis.segments[5].relative_seq, Some(13));
    assert_eq!(analysis.segments[5].options[0].relative_dsn, Some(13));
}
