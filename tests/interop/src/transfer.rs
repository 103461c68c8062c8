//! Byte-pattern streams over any [`AsyncRead`]/[`AsyncWrite`]: what the interop tests
//! send to and check from the kernel peer, which uses the same [`pattern`].
//!
//! - [`write_pattern`]/[`send_pattern`]: write a stretch of a tag's pattern (the latter
//!   then half-closes), optionally counting progress in an [`AtomicU64`].
//! - [`recv_pattern`]: read to the end, checking the pattern, into a [`Received`];
//!   [`assert_intact`] and [`recv_intact`] check it is exactly what was sent.
//! - [`exchange`]: both directions at once on one stream, each checked.
//! - [`Role`]: which side our stack plays, and so which tags go which way.
//! - [`wait_for`]: polls a condition on the runtime until it holds.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::pattern;

/// Bytes of one read or write (one pattern chunk).
const CHUNK: usize = 64 * 1024;

/// Which side our stack plays against the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Our client connects to a kernel server.
    OurClient,
    /// A kernel client connects to our server.
    OurServer,
}

impl Role {
    /// The pattern tags of what we send and what we receive.
    pub fn tags(self) -> (u8, u8) {
        match self {
            Role::OurClient => (pattern::CLIENT_TAG, pattern::SERVER_TAG),
            Role::OurServer => (pattern::SERVER_TAG, pattern::CLIENT_TAG),
        }
    }

    /// Who connects to whom, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Role::OurClient => "our client -> kernel server",
            Role::OurServer => "kernel client -> our server",
        }
    }
}

/// Writes `tag`'s pattern from offset `from` up to offset `end` (no shutdown), storing
/// the offset reached in `progress` after every write; returns the offset reached before
/// an error (`end` when all went out).
pub async fn write_pattern(
    mut w: impl AsyncWrite + Unpin,
    tag: u8,
    from: u64,
    end: u64,
    progress: Option<&AtomicU64>,
) -> (u64, io::Result<()>) {
    let mut buf = vec![0u8; CHUNK];
    let mut off = from;
    while off < end {
        let n = (end - off).min(buf.len() as u64) as usize;
        pattern::fill(tag, off, &mut buf[..n]);
        let mut done = 0;
        while done < n {
            match w.write(&buf[done..n]).await {
                Ok(0) => return (off, Err(io::ErrorKind::WriteZero.into())),
                Ok(k) => {
                    done += k;
                    off += k as u64;
                    if let Some(progress) = progress {
                        progress.store(off, Ordering::Relaxed);
                    }
                }
                Err(e) => return (off, Err(e)),
            }
        }
        // Let the reader joined with this writer run: filling the pattern takes long in a
        // debug build, and a writer that never waits would starve it (the receive window
        // would close because nobody reads).
        tokio::task::yield_now().await;
    }
    (off, Ok(()))
}

/// Writes `len` bytes of `tag`'s pattern (counting them in `progress`), then
/// half-closes.
pub async fn send_pattern(
    mut w: impl AsyncWrite + Unpin,
    tag: u8,
    len: u64,
    progress: Option<&AtomicU64>,
) -> io::Result<()> {
    write_pattern(&mut w, tag, 0, len, progress).await.1?;
    w.shutdown().await
}

/// What a reader got: the byte count, the offset of the first byte that is not the
/// pattern, and how the stream ended (`Ok` at end of stream).
#[derive(Debug)]
pub struct Received {
    /// Bytes read.
    pub bytes: u64,
    /// Offset of the first byte that broke the pattern.
    pub first_bad: Option<u64>,
    /// `Ok` at a clean end of stream, else the read error.
    pub end: io::Result<()>,
}

/// Reads until the end of the stream or an error, checking `tag`'s pattern and storing
/// the byte count in `progress` after every read.
pub async fn recv_pattern(
    mut r: impl AsyncRead + Unpin,
    tag: u8,
    progress: Option<&AtomicU64>,
) -> Received {
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0u64;
    let mut first_bad = None;
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                return Received {
                    bytes: got,
                    first_bad,
                    end: Err(e),
                };
            }
        };
        if first_bad.is_none() {
            first_bad = pattern::first_mismatch(tag, got, &buf[..n]);
        }
        got += n as u64;
        if let Some(progress) = progress {
            progress.store(got, Ordering::Relaxed);
        }
    }
    Received {
        bytes: got,
        first_bad,
        end: Ok(()),
    }
}

/// Asserts that `r` is exactly `len` intact bytes and a clean end of stream.
///
/// # Panics
///
/// Otherwise, with `what` in the message.
pub fn assert_intact(what: &str, r: &Received, len: u64) {
    assert!(
        r.end.is_ok(),
        "{what}: read failed after {} bytes: {:?}",
        r.bytes,
        r.end
    );
    assert_eq!(r.first_bad, None, "{what}: pattern broken");
    assert_eq!(r.bytes, len, "{what}: wrong length");
}

/// Reads to the end of the stream and asserts ([`assert_intact`]) that exactly `len`
/// intact bytes of `tag`'s pattern and a clean end arrived.
pub async fn recv_intact(r: impl AsyncRead + Unpin, tag: u8, len: u64, what: &str) {
    let received = recv_pattern(r, tag, None).await;
    assert_intact(what, &received, len);
}

/// Sends `len` bytes while receiving `len` bytes, both at once, each way checked (tags
/// from `role`); half-closes after sending. `stream` may be owned or borrowed.
///
/// # Panics
///
/// When sending fails or what arrived is not intact.
pub async fn exchange<S>(what: &str, stream: S, role: Role, len: u64)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (send_tag, recv_tag) = role.tags();
    let (r, w) = tokio::io::split(stream);
    let (sent, received) = tokio::join!(
        send_pattern(w, send_tag, len, None),
        recv_pattern(r, recv_tag, None)
    );
    sent.unwrap_or_else(|e| panic!("{what}: sending failed: {e}"));
    assert_intact(what, &received, len);
}

/// Polls `check` every 10 ms until it returns `Some`, within `limit`.
///
/// # Panics
///
/// When `limit` passes first.
pub async fn wait_for<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < until, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_exchange_over_a_duplex_pipe_is_intact() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (a, b) = tokio::io::duplex(16 * 1024);
            let len = 3 * CHUNK as u64 + 17;
            tokio::join!(
                exchange("client", a, Role::OurClient, len),
                exchange("server", b, Role::OurServer, len)
            );
        });
    }

    #[test]
    fn a_broken_byte_and_a_resumed_write_are_reported() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (mut a, b) = tokio::io::duplex(1024 * 1024);
            let progress = AtomicU64::new(0);
            let tag = pattern::CLIENT_TAG;
            let (n, end) = write_pattern(&mut a, tag, 0, 1000, Some(&progress)).await;
            assert!(end.is_ok());
            assert_eq!((n, progress.load(Ordering::Relaxed)), (1000, 1000));
            a.write_all(&[!pattern::byte(tag, 1000)]).await.unwrap();
            write_pattern(&mut a, tag, 1001, 2000, None)
                .await
                .1
                .unwrap();
            drop(a);
            let got = recv_pattern(b, tag, None).await;
            assert_eq!((got.bytes, got.first_bad), (2000, Some(1000)));
            assert!(got.end.is_ok());
        });
    }
}
