//! Property tests: transfers survive any seeded loss and reordering; no input panics a stack.

mod common;

use std::time::Duration;

use common::pair::{Pair, WireConfig, craft, sock, transfer};
use mptcp_proto::stack::{InterfaceId, TcpConfig};
use mptcp_proto::wire::{SackBlock, TcpFlags, TcpOption};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn transfer_survives_loss_and_reordering(
        seed in any::<u64>(),
        loss in 0.0f64..0.08,
        reorder in 0.0f64..0.2,
        duplicate in 0.0f64..0.05,
        both_ways in any::<bool>(),
    ) {
        let wire = WireConfig { seed, loss, reorder, duplicate, ..WireConfig::default() };
        let mut p = Pair::new(TcpConfig::default(), TcpConfig::default(), wire);
        let back = if both_ways { 64 * 1024 } else { 0 };
        prop_assert!(transfer(&mut p, 256 * 1024, back, Duration::from_secs(3600)));
    }
}

fn option() -> impl Strategy<Value = TcpOption<'static>> {
    prop_oneof![
        any::<u16>().prop_map(TcpOption::MaxSegmentSize),
        any::<u8>().prop_map(TcpOption::WindowScale),
        Just(TcpOption::SackPermitted),
        Just(TcpOption::NoOperation),
        (any::<u32>(), any::<u32>())
            .prop_map(|(value, echo_reply)| TcpOption::Timestamp { value, echo_reply }),
        proptest::collection::vec((any::<u32>(), any::<u32>()), 1..4).prop_map(|b| {
            let blocks: Vec<SackBlock> = b
                .into_iter()
                .map(|(left, right)| SackBlock { left, right })
                .collect();
            TcpOption::sack(&blocks)
        }),
    ]
}

/// A segment with valid checksums and arbitrary fields.
fn segment() -> impl Strategy<Value = (u32, u32, u16, u16, Vec<TcpOption<'static>>, Vec<u8>, bool)>
{
    (
        any::<u32>(),
        any::<u32>(),
        any::<u16>(),
        any::<u16>(),
        proptest::collection::vec(option(), 0..3),
        proptest::collection::vec(any::<u8>(), 0..64),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_input_never_panics(
        raw in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 1..8),
        crafted in proptest::collection::vec(segment(), 1..24),
        seed in any::<u64>(),
    ) {
        let mut p = Pair::new(TcpConfig::default(), TcpConfig::default(), WireConfig { seed, ..WireConfig::default() });
        let (a, _b) = p.connected();
        p.a().send(a, &[5u8; 5000]).unwrap();
        p.run_for(Duration::from_millis(15));
        let a_addr = p.a().local_addr(a).unwrap();
        let now = p.now;
        for bytes in &raw {
            p.b().handle_packet(now, InterfaceId(0), bytes);
        }
        // Near-valid segments: the real 4-tuple (or the listener), sequence numbers close to
        // the real ones half the time, random flags, options and payload.
        let near = p.log.iter().rev().find(|l| l.from == 0).map(|l| (l.seq, l.ack)).unwrap();
        for (k, (seq, ack, flags, window, options, payload, close)) in crafted.into_iter().enumerate() {
            let (seq, ack) = if close { (near.0.wrapping_add(seq % 4096), near.1.wrapping_add(ack % 4096).wrapping_sub(2048)) } else { (seq, ack) };
            let src = if k % 3 == 0 { sock("10.0.0.1:7777") } else { a_addr };
            let flags = TcpFlags::from_bits_truncate(flags & 0x1ff);
            let packet = craft(src, sock("10.0.0.2:80"), seq, ack, flags, window, options, &payload);
            let now = p.now;
            p.b().handle_packet(now, InterfaceId(0), &packet);
            p.flush();
            p.run_for(Duration::from_millis(3));
        }
        p.run_for(Duration::from_secs(30));
    }
}
