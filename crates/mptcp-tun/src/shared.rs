//! The state the driver and the application handles share: the stack behind one lock, and
//! the wakers of the tasks waiting on each connection and listener.
//!
//! Every call on the stack takes the lock for a short, bounded piece of work and never
//! across an `.await`. The driver holds it to feed a batch of received packets, or to run
//! the timers, drain one batch of transmits and dispatch events; application handles hold
//! it for one `send`, `recv`, `accept`, ... call. Anything that may leave output behind
//! ([`Shared::kick`]) wakes the driver, which owns the devices and does the sending.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;

use mptcp_proto::stack::{CloseReason, ConnEvent, ConnectionHandle, Event, ListenerHandle, Stack};
use tokio::sync::Notify;

use crate::clock::Clock;

/// What the runtime knows about one connection an application handle owns.
#[derive(Debug, Default)]
pub(crate) struct ConnState {
    /// The handshake completed.
    pub(crate) connected: bool,
    /// How it ended, once it did.
    pub(crate) closed: Option<CloseReason>,
    /// The task waiting to read.
    pub(crate) reader: Option<Waker>,
    /// The task waiting to write, for the handshake, or for the peer to acknowledge our
    /// FIN ([`MptcpStream::close_gracefully`](crate::MptcpStream::close_gracefully)).
    pub(crate) writer: Option<Waker>,
    /// The connection's MPTCP events (subflows, addresses, priorities), the first
    /// [`MPTCP_EVENTS_KEPT`] of them.
    pub(crate) mptcp_events: Vec<ConnEvent>,
    /// Events not yet taken by [`MptcpStream::next_event`](crate::MptcpStream::next_event),
    /// at most [`MPTCP_EVENTS_KEPT`] (the oldest go first).
    pub(crate) pending_events: VecDeque<ConnEvent>,
    /// Events dropped from `pending_events` because nobody took them.
    pub(crate) events_lost: u64,
    /// The task waiting for the next event.
    pub(crate) event_waiter: Option<Waker>,
    /// `next_event` returned the end: later events (subflows closing after the connection
    /// did) are not queued.
    pub(crate) events_ended: bool,
}

/// How many MPTCP events a connection keeps for [`crate::MptcpStream::mptcp_events`], and
/// how many may wait for [`crate::MptcpStream::next_event`].
pub(crate) const MPTCP_EVENTS_KEPT: usize = 256;

/// The stack and the bookkeeping around it (under the lock).
pub(crate) struct Inner {
    pub(crate) stack: Stack,
    pub(crate) conns: HashMap<ConnectionHandle, ConnState>,
    pub(crate) listeners: HashMap<ListenerHandle, Option<Waker>>,
}

impl Inner {
    /// Moves the stack's events to the tasks waiting for them; returns the wakers to call
    /// once the lock is released.
    pub(crate) fn dispatch_events(&mut self, wake: &mut Vec<Waker>) {
        while let Some(event) = self.stack.poll_event() {
            match event {
                Event::Incoming(l) => {
                    if let Some(w) = self.listeners.get_mut(&l).and_then(Option::take) {
                        wake.push(w);
                    }
                }
                Event::Connected(c) | Event::Writable(c) | Event::SendComplete(c) => {
                    if let Some(state) = self.conns.get_mut(&c) {
                        state.connected |= matches!(event, Event::Connected(_));
                        wake.extend(state.writer.take());
                    }
                }
                Event::Readable(c) | Event::PeerClosed(c) => {
                    if let Some(state) = self.conns.get_mut(&c) {
                        wake.extend(state.reader.take());
                    }
                }
                Event::Closed(c, reason) => {
                    if let Some(state) = self.conns.get_mut(&c) {
                        state.closed = Some(reason);
                        wake.extend(state.reader.take());
                        wake.extend(state.writer.take());
                        wake.extend(state.event_waiter.take());
                    }
                }
                // Subflow and address events wake the task waiting for them, and the first
                // ones stay for `MptcpStream::mptcp_events`.
                Event::Mptcp(c, e) => {
                    if let Some(state) = self.conns.get_mut(&c) {
                        if state.mptcp_events.len() < MPTCP_EVENTS_KEPT {
                            state.mptcp_events.push(e);
                        }
                        if !state.events_ended {
                            if state.pending_events.len() == MPTCP_EVENTS_KEPT {
                                state.pending_events.pop_front();
                                state.events_lost += 1;
                            }
                            state.pending_events.push_back(e);
                            wake.extend(state.event_waiter.take());
                        }
                    }
                }
            }
        }
    }

    /// Takes every registered waker (the runtime is stopping).
    fn take_all_wakers(&mut self, wake: &mut Vec<Waker>) {
        for state in self.conns.values_mut() {
            wake.extend(state.reader.take());
            wake.extend(state.writer.take());
            wake.extend(state.event_waiter.take());
        }
        for waiter in self.listeners.values_mut() {
            wake.extend(waiter.take());
        }
    }
}

/// Shared between the driver tasks and every application handle.
pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// Wakes the driver: there may be output to send or a new deadline.
    driver: Notify,
    /// Wakes whoever waits for the stack to move on: the driver ran a pass.
    passes: Notify,
    pub(crate) clock: Clock,
    stopped: AtomicBool,
}

impl core::fmt::Debug for Shared {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Shared")
            .field("stopped", &self.is_stopped())
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn new(stack: Stack, clock: Clock) -> Self {
        Self {
            inner: Mutex::new(Inner {
                stack,
                conns: HashMap::new(),
                listeners: HashMap::new(),
            }),
            driver: Notify::new(),
            passes: Notify::new(),
            clock,
            stopped: AtomicBool::new(false),
        }
    }

    /// Locks the stack. A panic while it was held leaves the stack as it was at the panic;
    /// carrying on is no worse than failing every later call, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the driver to send what the stack has queued.
    pub(crate) fn kick(&self) {
        self.driver.notify_one();
    }

    /// Waits for a [`kick`](Self::kick) (one given while nobody waited is kept).
    pub(crate) async fn kicked(&self) {
        self.driver.notified().await;
    }

    /// Tells the tasks waiting in [`passed`](Self::passed) that the driver ran a pass
    /// (packets went in or out, timers ran).
    pub(crate) fn pass_done(&self) {
        self.passes.notify_waiters();
    }

    /// Waits for the driver's next pass. Create it before looking at the stack, so that a
    /// pass in between is not missed: [`Notified::enable`](tokio::sync::futures::Notified)
    /// is done here.
    pub(crate) fn passed(&self) -> impl Future<Output = ()> + '_ {
        let mut notified = Box::pin(self.passes.notified());
        notified.as_mut().enable();
        notified
    }

    /// Whether the runtime has stopped.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Marks the runtime stopped and wakes every waiting task, which then sees the error.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        let mut wake = Vec::new();
        self.lock().take_all_wakers(&mut wake);
        wake.into_iter().for_each(Waker::wake);
    }
}
