//! The end of a program: [`Runtime::linger`] lets the closing handshake finish before the
//! runtime goes, over a link with a delay (so that the handshake outlasts the last read).

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use mptcp_tun::{Device, Interface, MptcpListener, MptcpStream, Runtime, RuntimeConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::time::{Instant, sleep_until, timeout};

const CLIENT: &str = "10.0.0.1";
const SERVER: &str = "10.0.0.2";
const LIMIT: Duration = Duration::from_secs(30);
/// One-way delay of the link.
const DELAY: Duration = Duration::from_millis(20);

/// One end of a point-to-point link that delivers, in order, what the other end sends
/// [`DELAY`] later.
struct DelayedLink {
    incoming: tokio::sync::Mutex<UnboundedReceiver<Vec<u8>>>,
    /// Packets sent, with the instant they are due at the other end.
    outgoing: Mutex<UnboundedSender<(Instant, Vec<u8>)>>,
}

impl DelayedLink {
    /// The two ends; a task per direction holds each packet until it is due.
    fn pair() -> (DelayedLink, DelayedLink) {
        let direction = || {
            let (send, mut held) = unbounded_channel::<(Instant, Vec<u8>)>();
            let (deliver, incoming) = unbounded_channel();
            tokio::spawn(async move {
                while let Some((due, packet)) = held.recv().await {
                    sleep_until(due).await;
                    if deliver.send(packet).is_err() {
                        return;
                    }
                }
            });
            (send, incoming)
        };
        let ((to_b, at_b), (to_a, at_a)) = (direction(), direction());
        let end = |outgoing, incoming| DelayedLink {
            incoming: tokio::sync::Mutex::new(incoming),
            outgoing: Mutex::new(outgoing),
        };
        (end(to_b, at_a), end(to_a, at_b))
    }
}

impl Device for DelayedLink {
    async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let packet = self.incoming.lock().await.recv().await;
        let packet = packet.ok_or_else(|| io::Error::other("link gone"))?;
        let n = packet.len().min(buf.len());
        buf[..n].copy_from_slice(&packet[..n]);
        Ok(n)
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut incoming = self
            .incoming
            .try_lock()
            .map_err(|_| io::Error::from(io::ErrorKind::WouldBlock))?;
        let packet = incoming
            .try_recv()
            .map_err(|_| io::Error::from(io::ErrorKind::WouldBlock))?;
        let n = packet.len().min(buf.len());
        buf[..n].copy_from_slice(&packet[..n]);
        Ok(n)
    }

    fn try_send(&self, packet: &[u8]) -> io::Result<()> {
        let due = Instant::now() + DELAY;
        let outgoing = self
            .outgoing
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?;
        outgoing
            .send((due, packet.to_vec()))
            .map_err(|_| io::Error::other("link gone"))
    }
}

/// Two hosts on one delayed link.
fn hosts(mptcp: bool) -> (Runtime, Runtime) {
    let (a, b) = DelayedLink::pair();
    let start = |device, addr: &str, seed| {
        let mut config = RuntimeConfig {
            seed: Some(seed),
            ..RuntimeConfig::default()
        };
        config.mptcp.enabled = mptcp.into();
        Runtime::start(vec![Interface::new(device, addr.parse().unwrap())], config)
    };
    (start(a, CLIENT, 1), start(b, SERVER, 2))
}

/// Writes `len` bytes and half-closes while reading the peer's whole stream; returns how
/// many bytes came.
async fn exchange(stream: MptcpStream, len: usize) -> io::Result<usize> {
    let (mut reader, mut writer) = tokio::io::split(stream);
    let write = async move {
        writer.write_all(&vec![7; len]).await?;
        writer.shutdown().await?;
        io::Result::Ok(writer)
    };
    let read = async move {
        let mut received = Vec::new();
        reader.read_to_end(&mut received).await?;
        io::Result::Ok(received.len())
    };
    let (writer, received) = tokio::try_join!(write, read)?;
    drop(writer);
    Ok(received)
}

/// Both ends exchange 100 kB and close; the client ends its program there, lingering or
/// not. Returns how many of the server's subflows are still open a second later.
async fn server_left_open(mptcp: bool, linger: bool) -> usize {
    let (client, server) = hosts(mptcp);
    let addr = SocketAddr::new(SERVER.parse().unwrap(), 80);
    let listener = MptcpListener::bind(&server.handle(), addr).unwrap();
    let serve = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        exchange(stream, 100_000).await.unwrap()
    });
    let stream = MptcpStream::connect(&client.handle(), addr).await.unwrap();
    let received = timeout(LIMIT, exchange(stream, 100_000)).await.unwrap();
    assert_eq!(received.unwrap(), 100_000);
    if linger {
        // The closing handshake needs a round trip more than the last read.
        let open = timeout(LIMIT, client.linger(Duration::from_secs(5))).await;
        assert_eq!(
            open.unwrap(),
            0,
            "mptcp {mptcp}: the client's subflows still open"
        );
    }
    drop(client);
    assert_eq!(timeout(LIMIT, serve).await.unwrap().unwrap(), 100_000);
    server.linger(Duration::from_secs(1)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_lingers_leaves_the_peer_nothing_open() {
    for mptcp in [true, false] {
        assert_eq!(server_left_open(mptcp, true).await, 0, "mptcp {mptcp}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_does_not_linger_leaves_the_peer_retransmitting_its_fin() {
    // What `linger` is for. An MPTCP connection closes its subflows only after both
    // DATA_FINs (RFC 8684 §3.3.3), a round trip after the last read: the server's subflow
    // FIN then finds nobody to acknowledge it. (Over plain TCP the FIN that ends the last
    // read is acknowledged at once, before the read returns.)
    assert!(server_left_open(true, false).await > 0);
}
