//! A join the peer refuses with a RST after our third ACK (RFC 8684 §3.2, §3.6), as Linux
//! does for a join beyond its `subflows` limit: the subflow closes with the peer's
//! MP_TCPRST reason and is never reported established.
//!
//! Host A (10.0.0.1 and 10.0.1.1, the "simple" path manager) connects to host B
//! (10.0.0.2); A's join from 10.0.1.1 reaches B with a broken HMAC in its third ACK, so B
//! resets it with MP_TCPRST "MPTCP-specific error".

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use common::pair::Rng;
use mptcp_proto::stack::{
    ConnEvent, Event, InterfaceConfig, InterfaceId, MptcpConfig, Stack, StackConfig, TcpConfig,
};
use mptcp_proto::time::Instant;
use mptcp_proto::wire::mptcp::reset_reason;

fn host(addrs: &[&str]) -> Stack {
    let config = StackConfig {
        interfaces: addrs
            .iter()
            .map(|a| InterfaceConfig::new(a.parse().unwrap()))
            .collect(),
        tcp: TcpConfig::default(),
        mptcp: MptcpConfig::default(),
        ..StackConfig::default()
    };
    Stack::new(config, Box::new(Rng(addrs.len() as u64)))
}

/// Swaps two differing, even-aligned 16-bit words of the HMAC of an MP_JOIN third ACK in
/// an IPv4 packet (the TCP checksum stays valid); returns whether it did.
fn break_join_ack_hmac(packet: &mut [u8]) -> bool {
    let ip_len = usize::from(packet[0] & 0x0f) * 4;
    let tcp_len = usize::from(packet[ip_len + 12] >> 4) * 4;
    if packet[ip_len + 13] & 0x02 != 0 {
        return false;
    }
    let (mut at, end) = (ip_len + 20, ip_len + tcp_len);
    while at < end {
        match packet[at] {
            0 => return false,
            1 => at += 1,
            kind => {
                let len = usize::from(packet[at + 1]);
                if kind == 30 && len == 24 && packet[at + 2] >> 4 == 1 {
                    let mut p = at + 4 + (at + 4 - ip_len) % 2;
                    while p + 4 <= at + 24 {
                        if packet[p..p + 2] != packet[p + 2..p + 4] {
                            let (a, b) = (packet[p], packet[p + 1]);
                            packet.copy_within(p + 2..p + 4, p);
                            packet[p + 2] = a;
                            packet[p + 3] = b;
                            return true;
                        }
                        p += 2;
                    }
                    return false;
                }
                at += len.max(2);
            }
        }
    }
    false
}

#[test]
fn a_join_reset_after_the_third_ack_closes_with_the_reason_and_never_counts_as_established() {
    let mut a = host(&["10.0.0.1", "10.0.1.1"]);
    let mut b = host(&["10.0.0.2"]);
    let server: SocketAddr = "10.0.0.2:80".parse().unwrap();
    let listener = b.listen(server, 8).unwrap();
    let mut now = Instant::from_millis(1000);
    let conn = a.connect(now, server, None).unwrap();
    let mut broken = false;
    let mut events = Vec::new();
    let mut accepted = None;
    let mut buf = vec![0u8; 1500];
    for _ in 0..2000 {
        now += Duration::from_millis(1);
        for stack in [&mut a, &mut b] {
            if stack.poll_timeout().is_some_and(|t| t <= now) {
                stack.handle_timeout(now);
            }
        }
        while let Some(t) = a.poll_transmit(now, &mut buf) {
            let packet = &mut buf[..t.len];
            if !broken && t.iface == InterfaceId(1) {
                broken = break_join_ack_hmac(packet);
            }
            b.handle_packet(now, InterfaceId(0), packet);
        }
        while let Some(t) = b.poll_transmit(now, &mut buf) {
            let to: IpAddr = IpAddr::from([buf[16], buf[17], buf[18], buf[19]]);
            let iface = if to == "10.0.1.1".parse::<IpAddr>().unwrap() {
                InterfaceId(1)
            } else {
                InterfaceId(0)
            };
            a.handle_packet(now, iface, &buf[..t.len]);
        }
        while let Some(e) = a.poll_event() {
            events.push(e);
        }
        while b.poll_event().is_some() {}
        if accepted.is_none() {
            accepted = b.accept(listener).ok();
            if let Some(c) = accepted {
                // Data both ways completes the MP_CAPABLE handshake on both sides.
                b.send(c, b"hello").unwrap();
                a.send(conn, b"hello").unwrap();
            }
        }
        if events
            .iter()
            .any(|e| matches!(e, Event::Mptcp(_, ConnEvent::SubflowClosed { .. })))
        {
            break;
        }
    }
    assert!(broken, "no MP_JOIN third ACK went out: {events:?}");
    let subflows = a.subflows(conn).unwrap();
    let join = subflows
        .iter()
        .find(|s| s.local.ip() == "10.0.1.1".parse::<IpAddr>().unwrap())
        .expect("a join from 10.0.1.1");
    let closed: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Mptcp(
                _,
                ConnEvent::SubflowClosed {
                    subflow,
                    reset_reason,
                    ..
                },
            ) => Some((*subflow, *reset_reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        closed,
        [(join.id, Some(reset_reason::MPTCP_ERROR))],
        "{events:?}"
    );
    assert!(
        !events.contains(&Event::Mptcp(conn, ConnEvent::SubflowEstablished(join.id))),
        "the refused join was reported established: {events:?}"
    );
    assert!(!join.established, "{join:?}");
    // The connection itself goes on.
    assert_eq!(a.is_mptcp(conn), Some(true));
}
