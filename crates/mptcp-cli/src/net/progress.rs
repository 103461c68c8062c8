//! A one-line progress display on standard error, only when standard error is a terminal:
//! bytes sent and received and the current rate, redrawn four times a second.
//!
//! Hand-rolled rather than `indicatif`: one line that `\r` rewrites is all it needs, and the
//! bar must never appear in logs or pipes, which [`IsTerminal`] decides.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::session::Counters;
use super::size::{format_bytes, format_rate};

/// Time between two redraws (at most 10 per second, as asked of a polite progress display).
const EVERY: Duration = Duration::from_millis(250);

/// The running display; [`Progress::finish`] erases it.
#[derive(Debug)]
pub(crate) struct Progress {
    task: JoinHandle<()>,
}

impl Progress {
    /// Starts the display if standard error is a terminal.
    pub(crate) fn start(counters: Arc<Counters>) -> Option<Progress> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(EVERY);
            // The first tick is immediate: skip it, there is nothing to show yet.
            tick.tick().await;
            let mut last = (Instant::now(), 0u64);
            loop {
                tick.tick().await;
                let sent = counters.sent.load(Ordering::Relaxed);
                let received = counters.received.load(Ordering::Relaxed);
                let now = Instant::now();
                let moved = (sent + received).saturating_sub(last.1);
                let rate = format_rate(moved, now.duration_since(last.0).as_secs_f64());
                last = (now, sent + received);
                let _ = write!(
                    std::io::stderr(),
                    "\r\x1b[Ksent {}  received {}  {rate}",
                    format_bytes(sent),
                    format_bytes(received)
                );
            }
        });
        Some(Progress { task })
    }

    /// Stops the display and erases its line.
    pub(crate) async fn finish(self) {
        self.task.abort();
        // Wait for the task to be gone, so no redraw comes after the erase.
        let _ = self.task.await;
        let _ = write!(std::io::stderr(), "\r\x1b[K");
    }
}
