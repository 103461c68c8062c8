//! A bad DSS checksum against Linux kernel MPTCP (RFC 8684 §3.7): a device between our
//! stack and its TUN device flips one payload byte of one segment and fixes the TCP
//! checksum, as a rewriting middlebox does, on a connection with DSS checksums and a
//! single subflow.
//!
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use mptcp_interop::{
    KernelPeer, Opening, PayloadFlip, TamperedDevice, Topology, TopologyBuilder, create_tun_with,
    nstat, recv_pattern, require_root, send_pattern,
};
use mptcp_proto::stack::MptcpConfig;
use mptcp_tun::{Interface, Runtime, RuntimeConfig};
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;

const PEER: &str = env!("CARGO_BIN_EXE_kernel-peer");
const MIB: u64 = 1024 * 1024;
const PORT: u16 = 5201;
const LIMIT: Duration = Duration::from_secs(40);
/// The segment the device damages: well into the transfer, after slow start.
const DAMAGED_SEGMENT: u64 = 300;

/// Our stack with checksums on path 1, behind a device that damages one segment, ours
/// or the kernel's: the runtime pieces and the record of the flip.
struct Damaged {
    stack: Runtime,
    rt: tokio::runtime::Runtime,
    flip: Arc<PayloadFlip>,
}

fn start(topo: &Topology, ours_damaged: bool) -> Damaged {
    let rt = mptcp_interop::runtime().unwrap();
    let path = topo.path(1).unwrap().clone();
    let tun = create_tun_with(topo, 1, rt.handle(), false).unwrap();
    let flip = Arc::new(PayloadFlip::new(DAMAGED_SEGMENT));
    let edit = {
        let flip = flip.clone();
        Some(Box::new(move |p: &mut [u8]| flip.apply(p)) as mptcp_interop::Edit)
    };
    let config = RuntimeConfig {
        mptcp: MptcpConfig {
            checksum: true,
            ..MptcpConfig::default()
        },
        ..RuntimeConfig::default()
    };
    let (inbound, outbound) = if ours_damaged {
        (None, edit)
    } else {
        (edit, None)
    };
    let stack = {
        let _in_runtime = rt.enter();
        Runtime::start(
            vec![Interface {
                device: TamperedDevice::new(tun, inbound, outbound),
                addrs: vec![path.tun.stack_v4.addr, path.tun.stack_v6.addr],
                mtu: 1500,
            }],
            config,
        )
    };
    Damaged { stack, rt, flip }
}

fn kernel_server(topo: &Topology, peer: &KernelPeer) -> Opening {
    let any = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), PORT);
    let to = SocketAddr::new(topo.path(1).unwrap().kernel_v4.addr, PORT);
    Opening::to_kernel_server(peer, topo.kernel(), any, to).unwrap()
}

#[test]
fn our_damaged_segment_makes_the_kernel_send_mp_fail_and_both_fall_back_to_tcp() {
    require_root();
    let what = "our data damaged";
    let size = 8 * MIB;
    let topo = TopologyBuilder::new("mpfailo").build().unwrap();
    let damaged = start(&topo, true);
    // The kernel closes its side only after ours, as a server that answers would.
    let peer = KernelPeer::new(PEER)
        .transfer(0, size, LIMIT)
        .arg("--shutdown-after-eof");
    let opening = kernel_server(&topo, &peer);
    let handle = damaged.stack.handle();
    let mptcp = damaged.rt.block_on(async {
        timeout(LIMIT, async {
            let mut stream = opening.establish(&handle).await;
            assert!(stream.is_mptcp(), "{what}: no MPTCP");
            send_pattern(&mut stream, mptcp_interop::pattern::CLIENT_TAG, size, None)
                .await
                .unwrap_or_else(|e| panic!("{what}: send: {e}"));
            stream.shutdown().await.unwrap();
            stream.shutdown_complete().await.unwrap();
            stream.is_mptcp()
        })
        .await
        .unwrap_or_else(|_| panic!("{what}: not done within {LIMIT:?}"))
    });
    let out = opening.kernel.wait(peer.wait_limit()).unwrap().stdout;
    let counter = |name| nstat(topo.kernel(), name);
    let counters = [
        "MPTcpExtDataCsumErr",
        "MPTcpExtMPFailTx",
        "MPTcpExtMPFailRx",
        "MPTcpExtInfiniteMapRx",
        "MPTcpExtNoDSSInWindow",
    ]
    .map(|name| (name, counter(name)));
    eprintln!(
        "{what}: flipped seq {:?}; still MPTCP: {mptcp}; {counters:?}; {}",
        damaged.flip.flipped(),
        out.trim_end()
    );
    assert!(damaged.flip.flipped().is_some(), "{what}: nothing damaged");
    assert!(!mptcp, "{what}: our stream did not fall back");
    assert!(counters[0].1 >= 1, "{what}: the kernel saw no bad checksum");
    assert!(counters[1].1 >= 1, "{what}: the kernel sent no MP_FAIL");
    assert!(
        counters[2].1 >= 1,
        "{what}: our answer to MP_FAIL was not seen"
    );
    assert_eq!(
        counters[3].1, 1,
        "{what}: our infinite mapping was not seen"
    );
    assert_eq!(
        counters[4].1, 0,
        "{what}: the kernel dropped data after the fall back"
    );
    // Linux hands the damaged byte to its application, and nothing else differs.
    assert!(
        out.contains(&format!("received={size} ")) && out.contains(", 1 bytes differ"),
        "{what}: {out}"
    );
    drop(damaged);
}

#[test]
fn a_damaged_kernel_segment_makes_us_send_mp_fail_and_never_reach_our_application() {
    require_root();
    let what = "the kernel's data damaged";
    let size = 8 * MIB;
    let topo = TopologyBuilder::new("mpfailk").build().unwrap();
    let damaged = start(&topo, false);
    let peer = KernelPeer::new(PEER).transfer(size, 0, LIMIT);
    let opening = kernel_server(&topo, &peer);
    let handle = damaged.stack.handle();
    let received = damaged.rt.block_on(async {
        timeout(LIMIT, async {
            let mut stream = opening.establish(&handle).await;
            stream.shutdown().await.unwrap();
            recv_pattern(&mut stream, mptcp_interop::pattern::SERVER_TAG, None).await
        })
        .await
        .unwrap_or_else(|_| panic!("{what}: not done within {LIMIT:?}"))
    });
    let out = opening.kernel.wait(peer.wait_limit()).unwrap().stdout;
    let counter = |name| nstat(topo.kernel(), name);
    let counters = [
        "MPTcpExtMPFailRx",
        "MPTcpExtInfiniteMapTx",
        "MPTcpExtMPRstRx",
        "MPTcpExtMPFastcloseRx",
    ]
    .map(|name| (name, counter(name)));
    eprintln!(
        "{what}: flipped seq {:?}; we read {} bytes, first bad {:?}, end {:?}; {counters:?}; {}",
        damaged.flip.flipped(),
        received.bytes,
        received.first_bad,
        received.end,
        out.trim_end()
    );
    assert!(damaged.flip.flipped().is_some(), "{what}: nothing damaged");
    assert_eq!(received.first_bad, None, "{what}: a damaged byte was read");
    assert!(counters[0].1 >= 1, "{what}: our MP_FAIL was not seen");
    // The kernel sends its infinite mapping with new data; when our receive window is full
    // of data after the hole, it has none to send, and our wait for the mapping ends in
    // the same reset after 10 s (so `MPTcpExtInfiniteMapTx` is 1 or 0). A kernel that has
    // not fallen back yet reads our reset's MP_TCPRST and MP_FASTCLOSE (one that has reads
    // no option any more).
    if counters[1].1 == 0 {
        assert!(
            counters[2].1 >= 1 && counters[3].1 >= 1,
            "{what}: our reset's options were not seen"
        );
    }
    match &received.end {
        // Our own reset: the stream says the connection was aborted here.
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionAborted, "{what}"),
        // The kernel sent the data again before its infinite mapping: all of it.
        Ok(()) => assert_eq!(received.bytes, size, "{what}"),
    }
    drop(damaged);
}
