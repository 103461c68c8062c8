//! Where received data goes (standard output, `--output PATH`, or nowhere with `--discard`),
//! and the `--verify` check of the peer's test pattern on the way.

use std::sync::atomic::Ordering;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::args::DataArgs;
use super::pattern_buf::PatternBuf;
use super::side::{Counters, SideError};
use super::source::BLOCK;

/// The destination of received bytes.
pub(crate) enum Sink {
    /// Standard output or a file.
    Writer {
        /// What it is, for messages.
        name: String,
        /// The bytes go here.
        writer: Box<dyn AsyncWrite + Unpin + Send>,
    },
    /// Nowhere.
    Discard,
}

impl Sink {
    /// The sink `data` asks for (the file is created or truncated now).
    pub(crate) async fn open(data: &DataArgs) -> Result<Sink, String> {
        if data.discard {
            return Ok(Sink::Discard);
        }
        match &data.output {
            Some(path) => {
                let file = tokio::fs::File::create(path)
                    .await
                    .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
                Ok(Sink::Writer {
                    name: path.display().to_string(),
                    writer: Box::new(file),
                })
            }
            None => Ok(Sink::Writer {
                name: "standard output".to_owned(),
                writer: Box::new(tokio::io::stdout()),
            }),
        }
    }
}

/// The `--verify` check: the received stream must be the peer's pattern.
#[derive(Debug)]
pub(crate) struct Verifier {
    pattern: PatternBuf,
    /// Stream offset of the first byte that is not the pattern.
    pub(crate) first_bad: Option<u64>,
}

impl Verifier {
    /// Checks against the pattern of `tag` (the peer's role).
    pub(crate) fn new(tag: u8) -> Self {
        Self {
            pattern: PatternBuf::new(tag, BLOCK),
            first_bad: None,
        }
    }

    /// Checks `data`, which starts at stream offset `offset`.
    pub(crate) fn check(&mut self, offset: u64, data: &[u8]) {
        if self.first_bad.is_none() {
            self.first_bad = self.pattern.first_mismatch(offset, data);
        }
    }
}

/// Reads `r` to its end into `sink`, counting in `counters.received` and checking with
/// `verifier`; flushes the sink at the end.
pub(crate) async fn recv_all<R: AsyncRead + Unpin>(
    mut r: R,
    sink: Sink,
    verifier: &mut Option<Verifier>,
    counters: &Counters,
) -> Result<(), SideError> {
    let mut buf = vec![0u8; BLOCK];
    let mut offset = 0u64;
    let (name, mut writer) = match sink {
        Sink::Writer { name, writer } => (name, Some(writer)),
        Sink::Discard => (String::new(), None),
    };
    let local = |e: std::io::Error| SideError::Local(format!("cannot write {name}: {e}"));
    loop {
        let n = r.read(&mut buf).await.map_err(SideError::Net)?;
        if n == 0 {
            break;
        }
        if let Some(v) = verifier.as_mut() {
            v.check(offset, &buf[..n]);
        }
        if let Some(w) = writer.as_mut() {
            w.write_all(&buf[..n]).await.map_err(local)?;
        }
        offset += n as u64;
        counters.received.fetch_add(n as u64, Ordering::Relaxed);
    }
    if let Some(w) = writer.as_mut() {
        w.flush().await.map_err(local)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern;

    #[tokio::test]
    async fn receiving_counts_verifies_and_writes() {
        let mut data = vec![0u8; 200_000];
        pattern::fill(pattern::SERVER_TAG, 0, &mut data);
        data[150_000] ^= 1;
        let counters = Counters::default();
        let mut verifier = Some(Verifier::new(pattern::SERVER_TAG));
        recv_all(&data[..], Sink::Discard, &mut verifier, &counters)
            .await
            .unwrap();
        assert_eq!(counters.received.load(Ordering::Relaxed), 200_000);
        assert_eq!(verifier.unwrap().first_bad, Some(150_000));

        let dir = std::env::temp_dir().join(format!("mptcp-sink-{}", std::process::id()));
        let data_args = DataArgs {
            send: None,
            send_file: None,
            output: Some(dir.clone()),
            discard: false,
            verify: false,
            json: false,
            quiet: false,
        };
        let sink = Sink::open(&data_args).await.unwrap();
        recv_all(&b"hello"[..], sink, &mut None, &Counters::default())
            .await
            .unwrap();
        assert_eq!(std::fs::read(&dir).unwrap(), b"hello");
        std::fs::remove_file(&dir).unwrap();
    }
}
