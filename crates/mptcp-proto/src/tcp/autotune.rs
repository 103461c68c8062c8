//! Receive-buffer auto-tuning (after Linux's `tcp_rcv_space_adjust`): when the application
//! reads more than half the buffer within one RTT, the buffer is what limits the transfer,
//! so it doubles, up to a maximum.

use core::time::Duration;

use crate::time::Instant;

/// The measurement of one receive buffer's application reads.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Autotune {
    start: Option<Instant>,
    copied: usize,
}

impl Autotune {
    /// The application read `read` bytes at `now` from a buffer of `capacity` bytes (at
    /// most `max`) on a path with smoothed RTT `srtt`. Returns the new capacity when the
    /// buffer should grow.
    pub(crate) fn on_read(
        &mut self,
        now: Instant,
        read: usize,
        capacity: usize,
        max: usize,
        srtt: Option<Duration>,
    ) -> Option<usize> {
        if capacity >= max {
            return None;
        }
        let rtt = srtt.unwrap_or(Duration::from_millis(100));
        match self.start {
            Some(start) if now - start <= rtt => {
                self.copied += read;
                if self.copied * 2 >= capacity {
                    self.start = Some(now);
                    self.copied = 0;
                    return Some((capacity * 2).min(max));
                }
            }
            _ => {
                self.start = Some(now);
                self.copied = read;
            }
        }
        None
    }
}
