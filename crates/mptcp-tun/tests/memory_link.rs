//! The whole application API over two runtimes joined by an in-memory link (no root).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use mptcp_tun::{Interface, MemoryDevice, MptcpListener, MptcpStream, Runtime, RuntimeConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

const CLIENT: &str = "10.0.0.1";
const SERVER: &str = "10.0.0.2";
const LIMIT: Duration = Duration::from_secs(60);

/// Two hosts, `CLIENT` and `SERVER`, on one in-memory link.
fn hosts(config: RuntimeConfig) -> (Runtime, Runtime) {
    let (a, b) = MemoryDevice::pair(4096);
    let start = |device, addr: &str, seed| {
        Runtime::start(
            vec![Interface::new(device, addr.parse().unwrap())],
            RuntimeConfig {
                seed: Some(seed),
                ..config.clone()
            },
        )
    };
    (start(a, CLIENT, 1), start(b, SERVER, 2))
}

fn server_addr(port: u16) -> SocketAddr {
    SocketAddr::new(SERVER.parse().unwrap(), port)
}

/// Byte `i` of the test stream named `salt`.
fn pattern(salt: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(u32::from(salt)) as u8
        })
        .collect()
}

/// Writes `data` and half-closes while reading the peer's whole stream.
async fn exchange(stream: MptcpStream, data: Vec<u8>) -> io::Result<Vec<u8>> {
    let (mut reader, mut writer) = tokio::io::split(stream);
    let write = async move {
        writer.write_all(&data).await?;
        writer.shutdown().await?;
        io::Result::Ok(writer)
    };
    let read = async move {
        let mut received = Vec::new();
        reader.read_to_end(&mut received).await?;
        io::Result::Ok(received)
    };
    let (writer, received) = tokio::try_join!(write, read)?;
    drop(writer);
    Ok(received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_mib_cross_intact_both_ways() {
    let (client, server) = hosts(RuntimeConfig::default());
    let listener = MptcpListener::bind(&server.handle(), server_addr(5000)).unwrap();
    const LEN: usize = 8 << 20;
    let serve = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        exchange(stream, pattern(2, LEN)).await.unwrap()
    });
    let stream = MptcpStream::connect(&client.handle(), server_addr(5000))
        .await
        .unwrap();
    let from_server = timeout(LIMIT, exchange(stream, pattern(1, LEN)))
        .await
        .expect("transfer finishes")
        .unwrap();
    let from_client = timeout(LIMIT, serve).await.unwrap().unwrap();
    assert!(
        from_server == pattern(2, LEN),
        "server → client bytes differ"
    );
    assert!(
        from_client == pattern(1, LEN),
        "client → server bytes differ"
    );
}

#[tokio::test]
async fn addresses_are_those_of_both_ends() {
    let (client, server) = hosts(RuntimeConfig::default());
    let listener = MptcpListener::bind(&server.handle(), "0.0.0.0:0".parse().unwrap()).unwrap();
    let port = listener.local_addr().unwrap().port();
    assert_ne!(port, 0);
    let handle = client.handle();
    let (stream, accepted) = tokio::join!(
        MptcpStream::connect(&handle, server_addr(port)),
        listener.accept()
    );
    let (stream, (accepted, peer)) = (stream.unwrap(), accepted.unwrap());
    assert_eq!(stream.peer_addr().unwrap(), server_addr(port));
    assert_eq!(stream.local_addr().unwrap().ip().to_string(), CLIENT);
    assert_eq!(peer, stream.local_addr().unwrap());
    assert_eq!(accepted.peer_addr().unwrap(), peer);
    assert_eq!(accepted.local_addr().unwrap(), server_addr(port));
}

#[tokio::test]
async fn half_close_lets_the_peer_answer() {
    let (client, server) = hosts(RuntimeConfig::default());
    let listener = MptcpListener::bind(&server.handle(), server_addr(7)).unwrap();
    let serve = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        // Ends at the client's FIN, while the server can still write.
        stream.read_to_end(&mut request).await.unwrap();
        stream.write_all(b"pong: ").await.unwrap();
        stream.write_all(&request).await.unwrap();
        stream.shutdown().await.unwrap();
        // Stays open until the client has read everything.
        let mut rest = [0u8; 1];
        assert_eq!(stream.read(&mut rest).await.unwrap(), 0);
    });
    let mut stream = MptcpStream::connect(&client.handle(), server_addr(7))
        .await
        .unwrap();
    stream.write_all(b"ping").await.unwrap();
    stream.shutdown().await.unwrap();
    // Shutting down twice is harmless, and writing after it fails.
    stream.shutdown().await.unwrap();
    assert!(stream.write_all(b"late").await.is_err());
    let mut reply = Vec::new();
    timeout(LIMIT, stream.read_to_end(&mut reply))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply, b"pong: ping");
    // After the end of the stream, reads keep returning 0.
    assert_eq!(stream.read(&mut [0u8; 8]).await.unwrap(), 0);
    timeout(LIMIT, serve).await.unwrap().unwrap();
}

#[tokio::test]
async fn connecting_to_a_closed_port_is_refused() {
    let (client, _server) = hosts(RuntimeConfig::default());
    let err = timeout(
        LIMIT,
        MptcpStream::connect(&client.handle(), server_addr(9)),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn closing_with_unread_data_resets_the_peer() {
    let (client, server) = hosts(RuntimeConfig::default());
    let listener = MptcpListener::bind(&server.handle(), server_addr(80)).unwrap();
    let serve = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut first = [0u8; 1];
        stream.read_exact(&mut first).await.unwrap();
        // The rest of the request is left unread: dropping the stream sends RST.
    });
    let mut stream = MptcpStream::connect(&client.handle(), server_addr(80))
        .await
        .unwrap();
    stream.write_all(&[7u8; 1000]).await.unwrap();
    timeout(LIMIT, serve).await.unwrap().unwrap();
    let err = timeout(LIMIT, stream.read(&mut [0u8; 16]))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
}

#[tokio::test]
async fn a_silent_peer_times_out() {
    let mut config = RuntimeConfig::default();
    config.tcp.syn_retries = 1;
    config.tcp.initial_rto = Duration::from_millis(100);
    // The far end of the link exists but nobody reads it.
    let (device, _silent) = MemoryDevice::pair(64);
    let client = Runtime::start(
        vec![Interface::new(device, CLIENT.parse().unwrap())],
        RuntimeConfig {
            seed: Some(3),
            ..config
        },
    );
    let err = timeout(
        LIMIT,
        MptcpStream::connect(&client.handle(), server_addr(80)),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
}

#[tokio::test]
async fn calls_fail_once_the_runtime_is_dropped() {
    let (client, server) = hosts(RuntimeConfig::default());
    let listener = MptcpListener::bind(&server.handle(), server_addr(81)).unwrap();
    let handle = client.handle();
    let (stream, accepted) = tokio::join!(
        MptcpStream::connect(&handle, server_addr(81)),
        listener.accept()
    );
    let (mut stream, _accepted) = (stream.unwrap(), accepted.unwrap());
    let reader = tokio::spawn(async move { stream.read(&mut [0u8; 8]).await });
    tokio::task::yield_now().await;
    drop(client);
    let result = timeout(LIMIT, reader).await.unwrap().unwrap();
    assert!(result.is_err());
}

fn with_mptcp(enabled: bool) -> RuntimeConfig {
    let mut config = RuntimeConfig::default();
    config.mptcp.enabled = enabled.into();
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_gracefully_returns_once_the_peer_has_everything() {
    for mptcp in [true, false] {
        let (client, server) = hosts(with_mptcp(mptcp));
        let listener = MptcpListener::bind(&server.handle(), server_addr(82)).unwrap();
        let serve = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut received = Vec::new();
            stream.read_to_end(&mut received).await.unwrap();
            received
        });
        let mut stream = MptcpStream::connect(&client.handle(), server_addr(82))
            .await
            .unwrap();
        assert_eq!(stream.is_mptcp(), mptcp);
        const LEN: usize = 1 << 20;
        stream.write_all(&pattern(3, LEN)).await.unwrap();
        timeout(LIMIT, stream.close_gracefully())
            .await
            .expect("the peer acknowledges our FIN")
            .unwrap();
        // Nothing leaves the client any more, yet the server gets every byte and the end.
        drop(client);
        let received = timeout(LIMIT, serve).await.unwrap().unwrap();
        assert!(received == pattern(3, LEN), "mptcp {mptcp}: bytes differ");
    }
}

#[tokio::test]
async fn close_gracefully_reports_a_reset() {
    let (client, server) = hosts(RuntimeConfig::default());
    let listener = MptcpListener::bind(&server.handle(), server_addr(83)).unwrap();
    let serve = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut first = [0u8; 1];
        stream.read_exact(&mut first).await.unwrap();
        // The rest is left unread: dropping the stream resets the connection.
    });
    let mut stream = MptcpStream::connect(&client.handle(), server_addr(83))
        .await
        .unwrap();
    stream.write_all(&[7u8; 1000]).await.unwrap();
    timeout(LIMIT, serve).await.unwrap().unwrap();
    let err = timeout(LIMIT, stream.close_gracefully())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
}

#[tokio::test]
async fn a_monitor_sees_the_subflows_while_the_stream_is_busy() {
    for mptcp in [true, false] {
        let (client, server) = hosts(with_mptcp(mptcp));
        let listener = MptcpListener::bind(&server.handle(), server_addr(84)).unwrap();
        let handle = client.handle();
        let (stream, accepted) = tokio::join!(
            MptcpStream::connect(&handle, server_addr(84)),
            listener.accept()
        );
        let (mut stream, (mut accepted, _)) = (stream.unwrap(), accepted.unwrap());
        let monitor = stream.monitor();
        stream.write_all(b"hello").await.unwrap();
        let mut got = [0u8; 5];
        accepted.read_exact(&mut got).await.unwrap();
        assert_eq!(monitor.is_mptcp(), mptcp);
        assert_eq!(accepted.is_mptcp(), mptcp);
        let subflows = tokio::spawn(async move { monitor.subflows() })
            .await
            .unwrap();
        assert_eq!(subflows.len(), 1, "mptcp {mptcp}: {subflows:?}");
        let first = &subflows[0];
        assert!(first.established && !first.backup);
        assert_eq!(first.local, stream.local_addr().unwrap());
        assert_eq!(first.remote, server_addr(84));
        assert!(first.tcp.bytes_sent >= 5, "{first:?}");
    }
}

#[tokio::test]
async fn a_stream_and_a_listener_take_settings_of_their_own() {
    let (client, server) = hosts(RuntimeConfig::default());
    let mut listening = server.handle().connection_config();
    listening.mptcp.scheduler = "redundant".parse().unwrap();
    let listener = MptcpListener::bind_with(
        &server.handle(),
        "0.0.0.0:0".parse().unwrap(),
        mptcp_tun::DEFAULT_BACKLOG,
        listening,
    )
    .unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = client.handle();
    let mut connecting = handle.connection_config();
    connecting.mptcp.scheduler = "roundrobin".parse().unwrap();
    let (with_own, accepted) = tokio::join!(
        MptcpStream::connect_with(&handle, server_addr(port), connecting),
        listener.accept()
    );
    let (with_own, (accepted, _)) = (with_own.unwrap(), accepted.unwrap());
    let plain = MptcpStream::connect(&handle, server_addr(port));
    let (plain, plain_accepted) = tokio::join!(plain, listener.accept());
    let (plain, _) = (plain.unwrap(), plain_accepted.unwrap());
    assert_eq!(with_own.scheduler(), Some("roundrobin"));
    assert_eq!(accepted.scheduler(), Some("redundant"), "the listener's");
    assert_eq!(plain.scheduler(), Some("default"), "the runtime's");
    // And changed while they run.
    let reno = mptcp_proto::cc::factory_by_name("reno").unwrap();
    plain.set_congestion_control(reno);
    assert!(
        plain
            .subflows()
            .iter()
            .all(|s| s.tcp.congestion_control == "reno")
    );
    let passive: mptcp_proto::pm::PathManagerChoice = "default".parse().unwrap();
    plain.set_path_manager(passive.clone());
    assert_eq!(plain.path_manager(), Some(passive));
}

/// A connection from `client` to `server`, with a byte gone each way (so it is fully
/// established and joins can follow): the client's stream, the server's, the port.
async fn fully_established(client: &Runtime, server: &Runtime) -> (MptcpStream, MptcpStream, u16) {
    let listener = MptcpListener::bind(&server.handle(), server_addr(0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = client.handle();
    let (stream, accepted) = tokio::join!(
        MptcpStream::connect(&handle, server_addr(port)),
        listener.accept()
    );
    let (mut stream, (mut accepted, _)) = (stream.unwrap(), accepted.unwrap());
    stream.write_all(b"?").await.unwrap();
    accepted.write_all(b"!").await.unwrap();
    let mut byte = [0; 1];
    stream.read_exact(&mut byte).await.unwrap();
    accepted.read_exact(&mut byte).await.unwrap();
    (stream, accepted, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_wake_the_task_that_waits_for_them_and_end_with_the_connection() {
    use mptcp_proto::stack::ConnEvent;
    let (client, server) = hosts(RuntimeConfig::default());
    let (mut stream, accepted, port) = fully_established(&client, &server).await;
    let first = timeout(LIMIT, stream.next_event()).await.unwrap();
    let Some(ConnEvent::SubflowEstablished(first)) = first else {
        panic!("first event {first:?}");
    };
    // A task waiting for the next event is woken by a subflow joined meanwhile.
    let join = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        stream
            .open_subflow(CLIENT.parse().unwrap(), server_addr(port), false)
            .unwrap()
    };
    let (event, opened) = tokio::join!(timeout(LIMIT, stream.next_event()), join);
    assert_eq!(event.unwrap(), Some(ConnEvent::SubflowEstablished(opened)));
    assert_ne!(opened, first);
    // Both ends close: the events end (after any subflow closings that came first).
    drop(accepted);
    stream.shutdown().await.unwrap();
    while let Some(event) = timeout(LIMIT, stream.next_event()).await.unwrap() {
        assert!(
            matches!(event, ConnEvent::SubflowClosed { subflow, .. } if [first, opened].contains(&subflow)),
            "{event:?}"
        );
    }
    assert_eq!(stream.events_lost(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_nobody_takes_stop_at_256_the_oldest_dropped_first() {
    use mptcp_proto::stack::ConnEvent;
    let (client, server) = hosts(RuntimeConfig::default());
    let (stream, accepted, _) = fully_established(&client, &server).await;
    // Events the server had since it accepted: one per MP_PRIO.
    let had = |s: &MptcpStream| s.mptcp_events().len() as u64 + s.events_lost();
    assert_eq!(had(&accepted), 0);
    let until = tokio::time::Instant::now() + LIMIT;
    // The client flips its subflow's priority 300 times, each once the last arrived; the
    // server's application takes none of the events meanwhile.
    let subflow = stream.subflows()[0].id;
    for flip in 0..300u64 {
        assert!(stream.set_backup(subflow, flip % 2 == 0));
        while had(&accepted) < flip + 1 && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    assert_eq!(had(&accepted), 300, "every flip arrived");
    assert_eq!(accepted.events_lost(), 300 - 256);
    let mut waiting = Vec::new();
    while waiting.len() < 256 {
        waiting.push(
            timeout(LIMIT, accepted.next_event())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    // The oldest went: what waits is flips 44 to 299 (flip n asks backup for even n).
    let peer = accepted.subflows()[0].id;
    for (k, event) in waiting.iter().enumerate() {
        let flip = 44 + k as u64;
        let backup = flip % 2 == 0;
        assert_eq!(
            *event,
            ConnEvent::PeerPriority {
                subflow: peer,
                backup
            },
            "flip {flip}"
        );
    }
}
