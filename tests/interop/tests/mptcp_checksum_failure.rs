//! A bad DSS checksum against Linux kernel MPTCP (RFC 8684 §3.7): a device between our
//! stack and its TUN device flips one payload byte of one segment and fixes the TCP
//! checksum, as a rewriting middlebox does, on a connection with DSS checksums and a
//! single subflow.
//!
//! (The other direction — our data damaged, the kernel's MP_FAIL answered by our infinite
//! mapping — is not tested against the kernel yet: the kernel takes our answer and mapping
//! by its counters, but its application then reads the end of the stream early. See
//! `conn/fail.rs`.)
//!
//! - The kernel's data damaged: we drop the damaged mapping and send MP_FAIL, which the
//!   kernel takes and answers with its infinite mapping. Linux does not send the dropped
//!   data again, so the mapping leaves a hole, and we reset the connection: our
//!   application reads only intact bytes, then `ConnectionReset`.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use mptcp_interop::{
    KernelPeer, Opening, PayloadFlip, TamperedDevice, Topology, TopologyBuilder, create_tun_with,
    nstat, recv_pattern, require_root,
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

/// Our stack with checksums on path 1, behind a device that damages one segment the
/// kernel sends: the runtime pieces and the record of the flip.
struct Damaged {
    stack: Runtime,
    rt: tokio::runtime::Runtime,
    flip: Arc<PayloadFlip>,
}

fn start(topo: &Topology) -> Damaged {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
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
    let stack = {
        let _in_runtime = rt.enter();
        Runtime::start(
            vec![Interface {
                device: TamperedDevice::new(tun, edit, None),
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
fn a_damaged_kernel_segment_makes_us_send_mp_fail_and_never_reach_our_application() {
    require_root();
    let what = "the kernel's data damaged";
    let size = 8 * MIB;
    let topo = TopologyBuilder::new("mpfailk").build().unwrap();
    let damaged = start(&topo);
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
    let counters = ["MPTcpExtMPFailRx", "MPTcpExtInfiniteMapTx"].map(|name| (name, counter(name)));
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
    assert!(
        counters[1].1 >= 1,
        "{what}: the kernel sent no infinite mapping"
    );
    match &received.end {
        // Our own reset: the stream says the connection was aborted here.
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionAborted, "{what}"),
        // The kernel sent the data again before its infinite mapping: all of it.
        Ok(()) => assert_eq!(received.bytes, size, "{what}"),
    }
    drop(damaged);
}
