//! What `mptcp connect`/`listen` send: the test pattern (`--send N`), a file (`--send-file`)
//! or standard input, copied into the connection; then the sending side is shut down.

use std::path::Path;
use std::sync::atomic::Ordering;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::args::DataArgs;
use super::pattern_buf::PatternBuf;
use super::side::{Counters, SideError};

/// Size of one write into the connection.
pub(crate) const BLOCK: usize = 64 * 1024;

/// Where the bytes to send come from.
pub(crate) enum Source {
    /// `len` bytes of the test pattern.
    Pattern {
        /// The pattern, of the sender's role.
        pattern: PatternBuf,
        /// How many bytes.
        len: u64,
    },
    /// A file or standard input, to its end.
    Reader {
        /// What it is, for messages.
        name: String,
        /// The bytes.
        reader: Box<dyn AsyncRead + Unpin + Send>,
    },
}

impl Source {
    /// The source `data` asks for; `tag` is the pattern of this side's role.
    pub(crate) async fn open(data: &DataArgs, tag: u8) -> Result<Source, String> {
        if let Some(len) = data.send {
            return Ok(Source::Pattern {
                pattern: PatternBuf::new(tag, BLOCK),
                len,
            });
        }
        match &data.send_file {
            Some(path) => open_file(path).await,
            None => Ok(Source::Reader {
                name: "standard input".to_owned(),
                reader: Box::new(tokio::io::stdin()),
            }),
        }
    }

    /// Writes everything into `w`, counting in `counters.sent`, then shuts `w` down.
    pub(crate) async fn send_all<W: AsyncWrite + Unpin>(
        self,
        mut w: W,
        counters: &Counters,
    ) -> Result<(), SideError> {
        match self {
            Source::Pattern { pattern, len } => {
                let mut offset = 0u64;
                while offset < len {
                    let n = (len - offset).min(BLOCK as u64) as usize;
                    w.write_all(pattern.slice(offset, n))
                        .await
                        .map_err(SideError::Net)?;
                    offset += n as u64;
                    counters.sent.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
            Source::Reader { name, mut reader } => {
                let mut buf = vec![0u8; BLOCK];
                loop {
                    let n = reader
                        .read(&mut buf)
                        .await
                        .map_err(|e| SideError::Local(format!("cannot read {name}: {e}")))?;
                    if n == 0 {
                        break;
                    }
                    w.write_all(&buf[..n]).await.map_err(SideError::Net)?;
                    counters.sent.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        }
        w.shutdown().await.map_err(SideError::Net)
    }
}

async fn open_file(path: &Path) -> Result<Source, String> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    Ok(Source::Reader {
        name: path.display().to_string(),
        reader: Box::new(file),
    })
}
