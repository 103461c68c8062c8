//! Hostile packets against a `Stack`: one with a listener and one established MPTCP
//! connection (made by a real handshake with a second stack), fed a sequence of arbitrary
//! packets — raw bytes, TCP segments aimed at the live connection or the listener with fuzzed
//! fields, or segments carrying well-formed MPTCP options built from the live connection's
//! keys, token and sequence numbers (DSS mappings and DATA_ACKs near the real ones, MP_JOIN
//! SYNs with the real token, ADD_ADDR with a valid HMAC, REMOVE_ADDR, MP_PRIO, MP_FASTCLOSE,
//! MP_TCPRST, MP_FAIL) — interleaved with time steps. Nothing may panic, and the stack must go
//! quiet: transmits and events drain in bounded steps.
#![no_main]

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use common::{Counter, Keys, Seen, hostile, inspect};
use libfuzzer_sys::fuzz_target;
use mptcp_proto::stack::{InterfaceConfig, InterfaceId, Stack, StackConfig};
use mptcp_proto::time::Instant;

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const PORT: u16 = 80;

fn stack(addr: Ipv4Addr, seed: u64) -> Stack {
    let config = StackConfig {
        interfaces: vec![InterfaceConfig::new(IpAddr::V4(addr))],
        ..StackConfig::default()
    };
    Stack::new(config, Box::new(Counter(seed)))
}

/// Moves every pending packet of `from` into `to`; returns what the last one showed (the
/// sender's next sequence number and what it acknowledges), and notes the MP_CAPABLE key of
/// the sender in `key`.
fn shuttle(now: Instant, from: &mut Stack, to: &mut Stack, key: &mut u64) -> Option<Seen> {
    let mut buf = vec![0u8; 65536];
    let mut last = None;
    for _ in 0..10_000 {
        let Some(transmit) = from.poll_transmit(now, &mut buf) else {
            return last;
        };
        let packet = &buf[..transmit.len];
        if let Some(seen) = inspect(packet) {
            *key = seen.capable_key.unwrap_or(*key);
            last = Some(seen);
        }
        to.handle_packet(now, InterfaceId(0), packet);
    }
    panic!("a stack kept transmitting");
}

/// Drains the server's output and events; the stack must go quiet.
fn drain(now: Instant, server: &mut Stack) {
    let mut buf = vec![0u8; 65536];
    for _ in 0..10_000 {
        if server.poll_transmit(now, &mut buf).is_none() {
            break;
        }
    }
    for _ in 0..10_000 {
        if server.poll_event().is_none() {
            return;
        }
    }
    panic!("events never drained");
}

fuzz_target!(|data: &[u8]| {
    let mut now = Instant::from_millis(1);
    let mut server = stack(SERVER, 1);
    let mut client = stack(CLIENT, 2);
    let listener = server
        .listen(SocketAddr::new(IpAddr::V4(SERVER), PORT), 8)
        .unwrap();
    let conn = client
        .connect(now, SocketAddr::new(IpAddr::V4(SERVER), PORT), None)
        .unwrap();
    let mut keys = Keys::default();
    for _ in 0..4 {
        shuttle(now, &mut client, &mut server, &mut keys.peer);
        shuttle(now, &mut server, &mut client, &mut keys.target);
    }
    let accepted = server.accept(listener).expect("handshake completed");
    client.send(conn, b"hello").unwrap();
    let aim = shuttle(now, &mut client, &mut server, &mut keys.peer)
        .and_then(|seen| seen.aim(keys))
        .expect("the client sent its data");

    // Records: [kind, len, bytes...].
    let mut rest = data;
    while let [kind, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (body, next) = tail.split_at(len);
        rest = next;
        if kind % 6 == 5 {
            now += Duration::from_millis(u64::from(body.first().copied().unwrap_or(1)) * 10);
            server.handle_timeout(now);
        } else {
            server.handle_packet(now, InterfaceId(0), &hostile(kind % 6, body, &aim));
        }
        drain(now, &mut server);
        let mut buf = [0u8; 4096];
        let _ = server.recv(accepted, &mut buf);
    }
});
