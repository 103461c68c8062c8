//! Our stack on a real network for the first time: the `mptcp-tun` runtime on
//! TUN device `tun1` in "ours" against the Linux kernel's plain TCP in "kernel"
//! (the stack offers MPTCP and falls back). Each side sends the `kernel-peer`
//! byte pattern and verifies what it receives. Needs root.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mptcp_interop::{KernelPeer, Topology, TopologyBuilder, pattern, require_root};
use mptcp_tun::{Interface, MptcpListener, MptcpStream, Runtime, RuntimeConfig, TunDevice};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;

const PEER: &str = env!("CARGO_BIN_EXE_kernel-peer");
const SIZE: u64 = 8 * 1024 * 1024;
/// Bound of each test's async part; the kernel peer's own deadline is longer.
const LIMIT: Duration = Duration::from_secs(30);

/// A topology with one path and our stack running on its TUN device.
struct Setup {
    // Field order is drop order: the stack, then its tokio runtime, then the
    // namespaces.
    stack: Runtime,
    rt: tokio::runtime::Runtime,
    topo: Topology,
}

impl Setup {
    fn new(tag: &str) -> Setup {
        require_root();
        let topo = TopologyBuilder::new(tag).build().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let path = topo.path(1).unwrap().clone();
        // The device belongs to the namespace of the thread that creates it;
        // its descriptor then works from the runtime's threads anywhere.
        let reactor = rt.handle().clone();
        let dev = path.tun.dev.clone();
        let tun = topo
            .ours()
            .run_in(move || {
                let _in_runtime = reactor.enter();
                TunDevice::create(&dev, 1500)
            })
            .unwrap()
            .unwrap();
        topo.attach_tun(1).unwrap();
        let interface = Interface {
            device: tun,
            addrs: vec![path.tun.stack_v4.addr, path.tun.stack_v6.addr],
            mtu: 1500,
        };
        let stack = {
            let _in_runtime = rt.enter();
            Runtime::start(vec![interface], RuntimeConfig::default())
        };
        Setup { stack, rt, topo }
    }

    fn peer(&self) -> KernelPeer {
        KernelPeer::new(PEER)
            .tcp()
            .send(SIZE)
            .expect(SIZE)
            .deadline(LIMIT + Duration::from_secs(5))
    }
}

/// Writes `len` bytes of `tag`'s pattern, then half-closes.
async fn send_pattern(mut w: impl AsyncWrite + Unpin, tag: u8, len: u64) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut off = 0u64;
    while off < len {
        let n = (len - off).min(buf.len() as u64) as usize;
        pattern::fill(tag, off, &mut buf[..n]);
        w.write_all(&buf[..n]).await?;
        off += n as u64;
    }
    w.shutdown().await
}

/// Reads to the end of the stream; returns how many bytes came and the offset
/// of the first one that is not `tag`'s pattern.
async fn recv_pattern(mut r: impl AsyncRead + Unpin, tag: u8) -> io::Result<(u64, Option<u64>)> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0u64;
    let mut first_bad = None;
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok((got, first_bad));
        }
        if first_bad.is_none() {
            first_bad = pattern::first_mismatch(tag, got, &buf[..n]);
        }
        got += n as u64;
    }
}

/// Sends `SIZE` bytes of `send_tag`'s pattern while receiving `SIZE` bytes of
/// `recv_tag`'s, both intact.
async fn exchange(stream: MptcpStream, send_tag: u8, recv_tag: u8) {
    let (r, w) = tokio::io::split(stream);
    let (sent, received) = tokio::join!(send_pattern(w, send_tag, SIZE), recv_pattern(r, recv_tag));
    sent.unwrap();
    assert_eq!(received.unwrap(), (SIZE, None));
}

fn our_client_to_kernel_server(tag: &str, v6: bool, port: u16) {
    let setup = Setup::new(tag);
    let to = SocketAddr::new(setup.topo.path(1).unwrap().kernel_addr(v6), port);
    let peer = setup.peer();
    let server = peer.server(setup.topo.kernel(), to).unwrap();
    let started = Instant::now();
    let handle = setup.stack.handle();
    setup.rt.block_on(async {
        timeout(LIMIT, async {
            let stream = MptcpStream::connect(&handle, to).await.unwrap();
            exchange(stream, pattern::CLIENT_TAG, pattern::SERVER_TAG).await;
        })
        .await
        .expect("transfer timed out")
    });
    let out = peer.finish(server).unwrap().stdout;
    assert!(out.contains("verify=ok"), "{out}");
    eprintln!(
        "our client -> {to}: 2 x {SIZE} bytes in {:?}",
        started.elapsed()
    );
}

#[test]
fn our_client_exchanges_data_with_a_kernel_tcp_server_over_ipv4() {
    our_client_to_kernel_server("tuncli4", false, 5201);
}

#[test]
fn our_client_exchanges_data_with_a_kernel_tcp_server_over_ipv6() {
    our_client_to_kernel_server("tuncli6", true, 5202);
}

#[test]
fn a_kernel_tcp_client_exchanges_data_with_our_server() {
    let setup = Setup::new("tunsrv4");
    let at = SocketAddr::new(setup.topo.path(1).unwrap().tun.stack_v4.addr, 5203);
    let peer = setup.peer();
    let started = Instant::now();
    let handle = setup.stack.handle();
    let listener = {
        let _in_runtime = setup.rt.enter();
        MptcpListener::bind(&handle, at).unwrap()
    };
    let client = peer.client(setup.topo.kernel(), at).unwrap();
    setup.rt.block_on(async {
        timeout(LIMIT, async {
            let (stream, from) = listener.accept().await.unwrap();
            assert_eq!(from.ip(), setup.topo.path(1).unwrap().kernel_v4.addr);
            exchange(stream, pattern::SERVER_TAG, pattern::CLIENT_TAG).await;
        })
        .await
        .expect("transfer timed out")
    });
    let out = peer.finish(client).unwrap().stdout;
    assert!(out.contains("verify=ok"), "{out}");
    eprintln!(
        "kernel client -> {at}: 2 x {SIZE} bytes in {:?}",
        started.elapsed()
    );
}

#[test]
fn connecting_to_a_closed_kernel_port_is_refused() {
    let setup = Setup::new("tunrst");
    let to = SocketAddr::new(setup.topo.path(1).unwrap().kernel_v4.addr, 5204);
    let handle = setup.stack.handle();
    let err = setup
        .rt
        .block_on(async { timeout(LIMIT, MptcpStream::connect(&handle, to)).await })
        .expect("connect timed out")
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
}
