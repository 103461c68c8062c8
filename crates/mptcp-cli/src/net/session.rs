//! One connection's data exchange: sending and receiving run at the same time, the first
//! failure of either ends both, and a peer that closes its side early does not stop sending.

use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite};

use super::side::{Counters, SideError};
use super::sink::{Sink, Verifier, recv_all};
use super::source::Source;

/// How an exchange ended.
#[derive(Debug)]
pub(crate) struct Exchange {
    /// `Ok` when everything was sent and the peer's FIN was read.
    pub(crate) result: Result<(), SideError>,
    /// With `--verify`: the offset of the first received byte that is not the pattern.
    pub(crate) first_bad: Option<u64>,
    /// From the start of the exchange to its end.
    pub(crate) duration: Duration,
}

/// Sends `source` and receives into `sink` over `stream` at the same time. The sending side
/// is shut down (half-close) after the last byte; receiving goes on to the peer's FIN.
pub(crate) async fn exchange<S>(
    stream: S,
    source: Source,
    sink: Sink,
    verify_tag: Option<u8>,
    counters: &Counters,
) -> Exchange
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let started = Instant::now();
    let (r, w) = tokio::io::split(stream);
    let mut verifier = verify_tag.map(Verifier::new);
    let result = tokio::try_join!(
        source.send_all(w, counters),
        recv_all(r, sink, &mut verifier, counters)
    )
    .map(|_| ());
    Exchange {
        result,
        first_bad: verifier.and_then(|v| v.first_bad),
        duration: started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::net::args::DataArgs;
    use crate::pattern;

    fn pattern_source(len: u64) -> DataArgs {
        DataArgs {
            send: Some(len),
            send_file: None,
            output: None,
            discard: true,
            verify: true,
            json: false,
            quiet: false,
        }
    }

    #[tokio::test]
    async fn an_early_fin_from_the_peer_does_not_stop_sending() {
        let (ours, mut theirs) = tokio::io::duplex(64 * 1024);
        // The peer half-closes at once, then reads everything.
        let peer = tokio::spawn(async move {
            theirs.shutdown().await.unwrap();
            let mut got = Vec::new();
            theirs.read_to_end(&mut got).await.unwrap();
            got
        });
        let data = pattern_source(1_000_000);
        let source = Source::open(&data, pattern::CLIENT_TAG).await.unwrap();
        let counters = Counters::default();
        let done = exchange(
            ours,
            source,
            Sink::Discard,
            Some(pattern::SERVER_TAG),
            &counters,
        )
        .await;
        done.result.unwrap();
        assert_eq!(done.first_bad, None);
        assert_eq!(counters.sent.load(Ordering::Relaxed), 1_000_000);
        assert_eq!(counters.received.load(Ordering::Relaxed), 0);
        let got = peer.await.unwrap();
        assert_eq!(got.len(), 1_000_000);
        assert_eq!(pattern::first_mismatch(pattern::CLIENT_TAG, 0, &got), None);
    }
}
