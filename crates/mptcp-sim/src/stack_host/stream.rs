//! One direction of an application stream: a [`Sender`] that writes the pattern into the
//! stack as fast as the send buffer takes it (up to a target the application raises), and a
//! [`Receiver`] that checks every byte read against the pattern.

use mptcp_proto::stack::{ConnectionHandle, RecvError, SendError, Stack};
use mptcp_proto::time::Instant;

use super::pattern::{HEADER_LEN, Pattern};
use crate::sample::Stall;

/// Pattern bytes generated ahead of the send buffer.
const AHEAD: usize = 64 * 1024;

/// Writes an optional header and then pattern bytes into a connection.
#[derive(Debug)]
pub(crate) struct Sender {
    pattern: Pattern,
    header: [u8; HEADER_LEN],
    /// Header bytes still to send (from the end of `header`).
    header_left: usize,
    /// Pattern bytes the stack accepted.
    sent: u64,
    /// Pattern bytes the application wants sent so far.
    target: u64,
    /// Pattern bytes from position `sent`, generated ahead: `ahead[next..]`.
    ahead: Vec<u8>,
    next: usize,
}

impl Sender {
    /// A sender of `pattern` that first sends `header`, if any.
    pub(crate) fn new(pattern: Pattern, header: Option<[u8; HEADER_LEN]>) -> Self {
        Self {
            pattern,
            header: header.unwrap_or([0; HEADER_LEN]),
            header_left: if header.is_some() { HEADER_LEN } else { 0 },
            sent: 0,
            target: 0,
            ahead: Vec::new(),
            next: 0,
        }
    }

    /// Pattern bytes the stack accepted (the header not included).
    pub(crate) fn sent(&self) -> u64 {
        self.sent
    }

    /// Whether everything wanted so far, header included, is in the stack.
    pub(crate) fn caught_up(&self) -> bool {
        self.header_left == 0 && self.sent == self.target
    }

    /// Raises the number of pattern bytes to send to `target` (never lowers it).
    pub(crate) fn want(&mut self, target: u64) {
        self.target = self.target.max(target);
    }

    /// Hands the stack as much as it takes of what is wanted. `Ok` also when the send
    /// buffer is full (an [`Event::Writable`](mptcp_proto::stack::Event) follows).
    pub(crate) fn pump(
        &mut self,
        stack: &mut Stack,
        conn: ConnectionHandle,
    ) -> Result<(), SendError> {
        while self.header_left > 0 {
            let from = HEADER_LEN - self.header_left;
            match stack.send(conn, &self.header[from..]) {
                Ok(n) => self.header_left -= n,
                Err(SendError::WouldBlock) => return Ok(()),
                Err(error) => return Err(error),
            }
        }
        while self.sent < self.target {
            if self.next == self.ahead.len() {
                self.refill();
            }
            let wanted = usize::try_from(self.target - self.sent).unwrap_or(usize::MAX);
            let end = self.ahead.len().min(self.next.saturating_add(wanted));
            match stack.send(conn, &self.ahead[self.next..end]) {
                Ok(n) => {
                    self.next += n;
                    self.sent += n as u64;
                }
                Err(SendError::WouldBlock) => return Ok(()),
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    fn refill(&mut self) {
        self.ahead.resize(AHEAD, 0);
        self.pattern.fill(self.sent, &mut self.ahead);
        self.next = 0;
    }
}

/// Checks the bytes of one direction against the pattern as they are read.
#[derive(Debug, Clone)]
pub(crate) struct Receiver {
    pattern: Pattern,
    /// Bytes read.
    pub(crate) received: u64,
    /// Position of the first byte that differed from the pattern.
    pub(crate) mismatch: Option<u64>,
    /// When the last byte was read.
    pub(crate) last: Option<Instant>,
    /// The longest gap between two reads that returned data.
    stall: Option<Stall>,
}

impl Receiver {
    /// A receiver expecting `pattern` from position 0.
    pub(crate) fn new(pattern: Pattern) -> Self {
        Self {
            pattern,
            received: 0,
            mismatch: None,
            last: None,
            stall: None,
        }
    }

    /// The longest gap between two reads that returned data, or from the last read to
    /// `open_until` if that is longer (for a stream that stopped short).
    pub(crate) fn longest_stall(&self, open_until: Option<Instant>) -> Option<Stall> {
        let trailing = self
            .last
            .zip(open_until)
            .map(|(from, until)| Stall { from, until });
        Stall::longest(self.stall, trailing)
    }

    /// Takes the next bytes of the stream, read at `now`.
    pub(crate) fn take(&mut self, now: Instant, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if self.mismatch.is_none() && !self.pattern.matches(self.received, data) {
            let mut expected = vec![0; data.len()];
            self.pattern.fill(self.received, &mut expected);
            let at = expected.iter().zip(data).position(|(a, b)| a != b);
            self.mismatch = Some(self.received + at.unwrap_or(0) as u64);
        }
        self.received += data.len() as u64;
        if let Some(from) = self.last {
            self.stall = Stall::longest(self.stall, Some(Stall { from, until: now }));
        }
        self.last = Some(now);
    }
}

/// How a [`read_available`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadEnd {
    /// Nothing more to read for now.
    Drained,
    /// The peer's FIN: the stream is over.
    Eof,
    /// The connection failed.
    Failed(RecvError),
}

/// Reads everything the stack holds for `conn` through `scratch`, handing each chunk to
/// `take`, until the stack has no more, the stream ends or the connection fails.
pub(crate) fn read_available(
    stack: &mut Stack,
    conn: ConnectionHandle,
    scratch: &mut [u8],
    mut take: impl FnMut(&[u8]),
) -> ReadEnd {
    loop {
        match stack.recv(conn, scratch) {
            Ok(0) => return ReadEnd::Eof,
            Ok(n) => take(&scratch[..n]),
            Err(RecvError::WouldBlock) => return ReadEnd::Drained,
            Err(error) => return ReadEnd::Failed(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_gap_between_reads_is_the_stall() {
        let pattern = Pattern::upstream(1);
        let mut bytes = [0; 300];
        pattern.fill(0, &mut bytes);
        let mut receiver = Receiver::new(pattern);
        assert_eq!(receiver.longest_stall(None), None);
        for (ms, range) in [
            (100, 0..100),
            (110, 100..150),
            (150, 150..200),
            (155, 200..300),
        ] {
            receiver.take(Instant::from_millis(ms), &bytes[range]);
        }
        // An empty read is no read.
        receiver.take(Instant::from_millis(400), &[]);
        let stall = Stall {
            from: Instant::from_millis(110),
            until: Instant::from_millis(150),
        };
        assert_eq!(receiver.longest_stall(None), Some(stall));
        assert_eq!(stall.length(), core::time::Duration::from_millis(40));
        // A stream that stopped short stalled until the end of the run.
        let open = receiver.longest_stall(Some(Instant::from_millis(500)));
        assert_eq!(
            open,
            Some(Stall {
                from: Instant::from_millis(155),
                until: Instant::from_millis(500),
            })
        );
        assert_eq!(receiver.mismatch, None);
    }
}
