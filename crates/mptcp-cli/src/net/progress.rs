//! The live display on standard error, only when standard error is a terminal: a line with
//! the bytes sent and received and the current rate, then one line per subflow (like
//! `ss -M -ti`: addresses, state, RTT, congestion window, bytes, backup), redrawn four times
//! a second.
//!
//! Hand-rolled rather than `indicatif`: a few lines that ANSI escapes rewrite are all it
//! needs, and the display must never appear in logs or pipes, which [`IsTerminal`] decides.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mptcp_tun::StreamMonitor;
use tokio::task::JoinHandle;

use super::side::Counters;
use super::size::{format_bytes, format_rate};
use super::subflows::{SubflowRow, redraw, table};

/// Time between two redraws (at most 10 per second, as asked of a polite progress display).
const EVERY: Duration = Duration::from_millis(250);

/// Terminal width when `COLUMNS` does not say.
const DEFAULT_COLUMNS: usize = 80;

/// The running display; [`Progress::finish`] erases it.
#[derive(Debug)]
pub(crate) struct Progress {
    task: JoinHandle<()>,
    /// Lines of the block on the screen now.
    drawn: Arc<AtomicUsize>,
    columns: usize,
}

impl Progress {
    /// Starts the display if standard error is a terminal and `quiet` is not set.
    pub(crate) fn start(
        counters: Arc<Counters>,
        monitor: StreamMonitor,
        quiet: bool,
    ) -> Option<Progress> {
        if quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        let columns = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .filter(|&c: &usize| c > 0)
            .unwrap_or(DEFAULT_COLUMNS);
        let drawn = Arc::new(AtomicUsize::new(0));
        let shown = drawn.clone();
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
                let mut lines = vec![format!(
                    "sent {}  received {}  {rate}",
                    format_bytes(sent),
                    format_bytes(received)
                )];
                lines.extend(table(&SubflowRow::all(&monitor.subflows()), "  "));
                let frame = redraw(shown.load(Ordering::Relaxed), &lines, columns);
                let _ = std::io::stderr().write_all(frame.as_bytes());
                shown.store(lines.len(), Ordering::Relaxed);
            }
        });
        Some(Progress {
            task,
            drawn,
            columns,
        })
    }

    /// Stops the display and erases it.
    pub(crate) async fn finish(self) {
        self.task.abort();
        // Wait for the task to be gone, so no redraw comes after the erase.
        let _ = self.task.await;
        let erase = redraw(self.drawn.load(Ordering::Relaxed), &[], self.columns);
        let _ = std::io::stderr().write_all(erase.as_bytes());
    }
}
