//! Hostile packets against a `Stack`: one with a listener and one established connection
//! (made by a real handshake with a second stack), fed a sequence of arbitrary packets —
//! raw bytes, or TCP segments aimed at the live connection or the listener with fuzzed
//! fields — interleaved with time steps. Nothing may panic, and the stack must go quiet:
//! transmits and events drain in bounded steps.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use mptcp_proto::stack::{InterfaceConfig, InterfaceId, Stack, StackConfig};
use mptcp_proto::time::Instant;
use mptcp_proto::wire::{
    IpProtocol, IpRepr, Ipv4Repr, SeqNum, TcpFlags, TcpOptions, TcpPacket, TcpRepr,
    parse_ip_packet,
};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const PORT: u16 = 80;

/// A counter-based generator: the stacks' keys, ISNs and ports are the same every run.
struct Counter(u64);

impl rand_core::RngCore for Counter {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes()[..chunk.len()]);
        }
    }
}

fn stack(addr: Ipv4Addr, seed: u64) -> Stack {
    let config = StackConfig {
        interfaces: vec![InterfaceConfig::new(IpAddr::V4(addr))],
        ..StackConfig::default()
    };
    Stack::new(config, Box::new(Counter(seed)))
}

/// Moves every pending packet of `from` into `to`; returns the sequence and acknowledgment
/// numbers of the last one (the sender's next sequence number and what it acknowledges).
fn shuttle(now: Instant, from: &mut Stack, to: &mut Stack) -> Option<(SeqNum, SeqNum)> {
    let mut buf = vec![0u8; 65536];
    let mut last = None;
    for _ in 0..10_000 {
        let Some(transmit) = from.poll_transmit(now, &mut buf) else {
            return last;
        };
        let packet = &buf[..transmit.len];
        if let Ok(ip) = parse_ip_packet(packet)
            && let Ok(tcp) = TcpPacket::new_checked(ip.payload)
        {
            let len = tcp.payload().len() as u32;
            last = Some((tcp.seq_number() + len, tcp.ack_number()));
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

/// A TCP segment to the server from `src_port`, fields from the input.
fn segment(input: &[u8], src_port: u16, near: (SeqNum, SeqNum)) -> Vec<u8> {
    let byte = |i: usize| input.get(i).copied().unwrap_or(0);
    let word = |i: usize| u32::from_be_bytes([byte(i), byte(i + 1), byte(i + 2), byte(i + 3)]);
    let (seq, ack) = if byte(0) & 1 == 0 {
        // Near the live connection's numbers, where the state machine really looks.
        (near.0 + (word(1) % 200_000), near.1 + (word(5) % 200_000))
    } else {
        (SeqNum(word(1)), SeqNum(word(5)))
    };
    let options_len = usize::from(byte(9)) % 41;
    let options_raw = input.get(12..12 + options_len).unwrap_or_default();
    let options = TcpOptions::new(options_raw).map_while(Result::ok).collect::<Vec<_>>();
    let payload = input.get(12 + options_len..).unwrap_or_default();
    let tcp = TcpRepr {
        src_port,
        dst_port: PORT,
        seq_number: seq,
        ack_number: ack,
        flags: TcpFlags::from_bits_truncate(u16::from_be_bytes([byte(10), byte(11)])),
        window_len: u16::from_be_bytes([byte(2), byte(6)]),
        urgent_at: 0,
        options,
        payload,
    };
    let ip = IpRepr::Ipv4(Ipv4Repr {
        src: CLIENT,
        dst: SERVER,
        protocol: IpProtocol::TCP,
        payload_len: tcp.buffer_len(),
        ttl: 64,
        dscp_ecn: 0,
        ident: 0,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        options: &[],
    });
    let mut bytes = vec![0u8; ip.buffer_len()];
    ip.emit(&mut bytes);
    let header_len = bytes.len() - tcp.buffer_len();
    tcp.emit(
        &mut TcpPacket::new_unchecked(&mut bytes[header_len..]),
        IpAddr::V4(CLIENT),
        IpAddr::V4(SERVER),
    );
    bytes
}

fuzz_target!(|data: &[u8]| {
    let mut now = Instant::from_millis(1);
    let mut server = stack(SERVER, 1);
    let mut client = stack(CLIENT, 2);
    let listener = server.listen(SocketAddr::new(IpAddr::V4(SERVER), PORT), 8).unwrap();
    let conn = client
        .connect(now, SocketAddr::new(IpAddr::V4(SERVER), PORT), None)
        .unwrap();
    for _ in 0..4 {
        shuttle(now, &mut client, &mut server);
        shuttle(now, &mut server, &mut client);
    }
    let accepted = server.accept(listener).expect("handshake completed");
    client.send(conn, b"hello").unwrap();
    let near = shuttle(now, &mut client, &mut server).expect("the client sent its data");
    let local_port = client.local_addr(conn).unwrap().port();

    // Records: [kind, len, bytes...].
    let mut rest = data;
    while let [kind, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (body, next) = tail.split_at(len);
        rest = next;
        match kind % 4 {
            0 => server.handle_packet(now, InterfaceId(0), body),
            1 => server.handle_packet(now, InterfaceId(0), &segment(body, local_port, near)),
            2 => server.handle_packet(now, InterfaceId(0), &segment(body, 40_000, near)),
            _ => {
                now += Duration::from_millis(u64::from(body.first().copied().unwrap_or(1)) * 10);
                server.handle_timeout(now);
            }
        }
        drain(now, &mut server);
        let mut buf = [0u8; 4096];
        let _ = server.recv(accepted, &mut buf);
    }
});
