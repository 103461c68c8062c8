//! Output at the connection level: the scheduler hands data to subflows with mappings
//! (RFC 8684 §3.3.1), the subflows write segments with the options of `options.rs`, and
//! the DATA_FIN goes out and is repeated until acknowledged (§3.3.3).

use super::mapping::Mapping;
use super::options::{OptionView, SubflowOptions, SubflowView, our_capable_flags};
use super::subflow::Join;
use super::{MAX_MAPPING, Mode, MptcpConnection, Role, SEND_BUFFER_BASE};
use crate::ids::InterfaceId;
use crate::time::Instant;
use crate::wire::{DataSeq, dss_checksum};

/// Bytes of TCP options a data segment of a subflow carries besides the DSS (timestamps).
const OTHER_OPTIONS: usize = 12;
/// Length of a full DSS option.
const DSS_LEN: usize = 28;

/// A segment a connection wrote: which subflow, which interface, how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentOut {
    /// Subflow index.
    pub(crate) subflow: usize,
    /// Interface to send it on.
    pub(crate) iface: InterfaceId,
    /// The subflow's local address.
    pub(crate) local: core::net::SocketAddr,
    /// The subflow's peer address.
    pub(crate) remote: core::net::SocketAddr,
    /// TCP segment length.
    pub(crate) len: usize,
}

impl MptcpConnection {
    /// Writes the next segment of any subflow into `buf`; subflows take turns.
    pub(crate) fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<SegmentOut> {
        self.schedule(now);
        let count = self.subflows.len();
        for turn in 0..count {
            let index = (self.tx_cursor + turn) % count;
            let view = self.option_view();
            let remote_token = self.keys.remote_token;
            let fastclose = self.fastclose;
            let Self {
                subflows, signals, ..
            } = self;
            let sf = &mut subflows[index];
            // RFC 8684 §3.4: signals (ADD_ADDR and its echo, REMOVE_ADDR, MP_PRIO) ride on
            // segments without data, so when one waits and this subflow owes an ACK, the
            // ACK goes alone first, as Linux sends its signals on a dedicated pure ACK
            // (in a transfer both ways, no segment would be empty for seconds, and the
            // kernel sends its ADD_ADDR again when the echo is late).
            let signal_alone = view.mptcp
                && !view.repeat_capable
                && sf.join == Join::Done
                && sf.tcp.ack_now
                && (signals.pending() || sf.prio_pending || sf.mp_fail.is_some());
            let mut hooks = SubflowOptions {
                view,
                sf: SubflowView {
                    join: sf.join,
                    local_id: sf.local_id,
                    backup: sf.backup,
                    prio_pending: sf.prio_pending,
                    mp_fail: sf.mp_fail,
                    reset_reason: sf.reset_reason,
                    fastclose,
                    remote_token,
                },
                tx: &sf.tx,
                signals,
                prio_sent: false,
                fail_sent: false,
                signal_sent: false,
            };
            let ack = if signal_alone {
                sf.tcp.poll_ack_with(now, buf, &mut hooks)
            } else {
                None
            };
            let Some(len) = ack.or_else(|| sf.tcp.poll_transmit_with(now, buf, &mut hooks)) else {
                continue;
            };
            if hooks.prio_sent {
                sf.prio_pending = false;
            }
            if hooks.fail_sent {
                sf.mp_fail = None;
            }
            // One signal per segment: the next goes on another pure ACK at once (a bulk
            // sender that receives nothing owes no ACK of its own for seconds).
            let more_signals = hooks.signal_sent && self.signals.pending();
            let out = SegmentOut {
                subflow: index,
                iface: sf.iface,
                local: sf.tcp.local_addr(),
                remote: sf.tcp.peer_addr(),
                len,
            };
            self.signals.on_time(now);
            // The next call starts with the next subflow: the scheduler hands a segment to
            // a subflow only when it has nothing unsent, so a subflow polled first every
            // time would keep the others' segments waiting for as long as it has data.
            // Those segments are data-level holes: the peer cannot DATA_ACK past them and
            // the whole send buffer went out on one subflow behind them before they left.
            self.tx_cursor = (index + 1) % count;
            self.process_subflow(index);
            if more_signals {
                self.request_ack();
            }
            return Some(out);
        }
        None
    }

    /// What the options of this pass say.
    fn option_view(&self) -> OptionView {
        let flags_checksum = match self.role {
            Role::Client => self.want_checksum,
            Role::Server => self.checksum,
        };
        OptionView {
            mptcp: self.mode == Mode::Mptcp,
            local_key: self.keys.local,
            remote_key: self.keys.remote,
            capable_flags: our_capable_flags(flags_checksum),
            checksum: self.checksum,
            repeat_capable: self.role == Role::Client && !self.fully_established,
            data_ack: self.rx_ready.then_some(self.rcv_nxt),
            window: self.recv.window(),
            data_fin: self.fin_dsn.filter(|_| !self.fin_acked),
            data_pending: self.snd_una + self.send_buf.len() as u64 != self.snd_nxt,
            infinite: self.infinite_tx,
        }
    }

    /// Whether data may be handed to subflows yet.
    fn data_ready(&self) -> bool {
        match self.mode {
            Mode::Tcp => true,
            // The server needs the client's key (its IDSN) first; the client the SYN/ACK.
            Mode::Mptcp => self.keys.remote.is_some() && self.fully_established_for_data(),
        }
    }

    fn fully_established_for_data(&self) -> bool {
        self.role == Role::Client || self.fully_established
    }

    /// The scheduler: hands re-injected data, then new data, to subflows, one mapping per
    /// segment, and queues the DATA_FIN (or, for TCP, the FIN) after the last byte.
    fn schedule(&mut self, now: Instant) {
        if self.close_reason.is_some() || !self.data_ready() {
            return;
        }
        if !self.send_buf.is_empty() {
            let mut scratch = self.take_scratch();
            while self.schedule_one(&mut scratch) {}
            while self.retransmit_opportunistically(now, &mut scratch) {}
            self.scratch = scratch;
        }
        self.finish_mp_fail(now);
        self.arm_data_rto(now);
        self.queue_fin(now);
    }

    /// Hands one segment's worth of data to a subflow; false when nothing more can go.
    fn schedule_one(&mut self, scratch: &mut [u8]) -> bool {
        // Re-injected data first (RFC 8684 §3.3.6).
        if self.reinject_one(scratch) {
            return true;
        }
        // Then copies of data already sent, for schedulers that ask for them.
        if self.copy_one(scratch) {
            return true;
        }
        let end = self.snd_una + self.send_buf.len() as u64;
        let avail = end.diff(self.snd_nxt).max(0) as usize;
        if avail == 0 || !self.new_data_allowed() {
            return false;
        }
        let Some(index) = self.pick_subflow(None) else {
            return false;
        };
        let mut n = avail;
        if self.mode == Mode::Mptcp {
            // RFC 8684 §3.3.4: stay within the connection-level window, whose right edge is
            // the latest DATA_ACK plus the window of the segment carrying it (before any
            // DATA_ACK: the handshake's window). A subflow's window counts from the
            // DATA_ACK it came with, not from today's: another subflow may have brought a
            // later DATA_ACK with a smaller window since (the kernel drops data beyond
            // its edge as `NoDSSInWindow`, after acknowledging it at the subflow level).
            let sf = &self.subflows[index];
            let edge = self
                .snd_wnd_edge
                .unwrap_or(self.snd_una + sf.tcp.snd_wnd as u64);
            let mut room = edge.diff(self.snd_nxt).max(0) as usize;
            if room == 0 && self.snd_nxt == self.snd_una && self.nothing_in_flight() {
                // A closed window (the DATA_ACK at its right edge) with nothing in flight:
                // hand over one segment anyway, so the subflow's zero-window probes (RFC
                // 9293 §3.8.6.1) find out when it opens even if the window update is lost.
                // Only then: while data is outstanding at the data level the peer's next
                // DATA_ACK moves the edge, or the data-level retransmission (`arm_data_rto`)
                // asks for one. Data handed over here is in no scoreboard until its subflow
                // sends it, so without the `snd_nxt` check every subflow would get a
                // segment beyond the edge in turn, and so again each time the last of them
                // is acknowledged; Linux acknowledges such data on the subflow and drops it
                // (`NoDSSInWindow`), leaving a hole at its DATA_ACK.
                room = usize::MAX;
            }
            n = n.min(room);
        }
        let sent = self.hand_over(index, self.snd_nxt, n, scratch);
        self.snd_nxt += sent as u64;
        sent > 0
    }

    /// Hands a segment of its own copy of data other subflows carry to the subflow the
    /// scheduler picks for one (`Scheduler::pick_copy`; redundant scheduling); false when
    /// it picks none.
    fn copy_one(&mut self, scratch: &mut [u8]) -> bool {
        if self.mode != Mode::Mptcp {
            return false;
        }
        let views = self.subflow_views();
        let picked = self.sched.pick_copy(&self.sched_context(), &views);
        self.return_views(views);
        let Some(index) = picked else {
            return false;
        };
        let start = self.copy_start(&self.subflows[index]);
        let len = self.snd_nxt.diff(start).max(0) as usize;
        len > 0 && self.hand_over(index, start, len, scratch) > 0
    }

    /// Copies up to `len` bytes from data sequence number `dsn` into subflow `index` with
    /// their mapping (at most one segment's worth for MPTCP); returns how many.
    pub(super) fn hand_over(
        &mut self,
        index: usize,
        dsn: DataSeq,
        len: usize,
        scratch: &mut [u8],
    ) -> usize {
        let mut n = len.min(scratch.len()).min(MAX_MAPPING);
        let sf = &mut self.subflows[index];
        if self.mode == Mode::Mptcp {
            n = n.min(sf.tcp.mss.saturating_sub(OTHER_OPTIONS + DSS_LEN).max(1));
            if sf.tcp.send_buf.free() < n {
                // The subflow keeps its copy until its own ACK: at the configured size its
                // buffer would cap it at that much in flight, whatever its window. Plain TCP
                // keeps the configured size.
                sf.tcp.expand_send_buffer(SEND_BUFFER_BASE);
            }
        }
        n = n.min(sf.tcp.send_buf.free());
        if n == 0 {
            return 0;
        }
        let offset = dsn.diff(self.snd_una) as usize;
        let n = self.send_buf.read_at(offset, &mut scratch[..n]);
        let ssn = sf.tcp.data_start() + sf.tcp.send_queue_len() as u32;
        let pushed = sf.tcp.send(&scratch[..n]).unwrap_or(0);
        if pushed == 0 {
            return 0;
        }
        let checksum = self.checksum.then(|| {
            let rel = ssn.diff(sf.tcp.iss) as u32;
            dss_checksum(dsn.0, rel, pushed as u16, &scratch[..pushed])
        });
        let end = dsn + pushed as u64;
        sf.carried_to = Some(sf.carried_to.map_or(end, |to| to.max(end)));
        sf.tx.insert(Mapping {
            ssn,
            dsn,
            len: Some(pushed as u32),
            checksum,
            fin: false,
        });
        pushed
    }

    /// The subflow the next data goes to: for TCP the only one; for MPTCP the
    /// scheduler's choice (never `exclude`).
    pub(super) fn pick_subflow(&mut self, exclude: Option<usize>) -> Option<usize> {
        if self.mode == Mode::Tcp {
            let sf = self.subflows.first()?;
            let usable =
                sf.tcp.state().can_send() && sf.tcp.state().is_synchronized() && !sf.tcp.fin_queued;
            return usable.then_some(0);
        }
        let views = self.subflow_views();
        let picked = self.sched.pick(&self.sched_context(), &views, exclude);
        self.return_views(views);
        picked
    }

    /// After the last byte is mapped: the DATA_FIN (MPTCP) or the subflow's FIN (TCP).
    fn queue_fin(&mut self, now: Instant) {
        let end = self.snd_una + self.send_buf.len() as u64;
        if !self.fin_queued || self.snd_nxt != end {
            return;
        }
        match self.mode {
            Mode::Tcp => {
                if let Some(sf) = self.subflows.first_mut() {
                    sf.tcp.shutdown();
                }
            }
            Mode::Mptcp if self.fin_dsn.is_none() => {
                self.fin_dsn = Some(end);
                self.request_ack();
                self.fin_rto_at = Some(now + self.fin_rto());
            }
            Mode::Mptcp => {}
        }
    }

    /// The data-level retransmission timer (RFC 8684 §3.3.6): runs while the oldest byte
    /// not DATA_ACKed was handed to subflows and every working one that carried it has it
    /// acknowledged (or none carries it any more). The peer's subflow then has it but its
    /// connection did not take it — Linux drops data beyond its connection-level window
    /// (`NoDSSInWindow`) or under memory pressure (`RcvPruned`) after acknowledging it on
    /// the subflow — and only sending it again unblocks the connection. The other
    /// subflows may be busy meanwhile: new data flowing within the window does not fill the
    /// hole at the DATA_ACK, and waiting for them to drain would leave it open as long as
    /// the window lets data flow. The timer restarts when the DATA_ACK advances. While we
    /// answer the peer's MP_FAIL it does not run: `fail.rs` decides then what goes again
    /// (nothing, if the peer kept the damaged data: §3.7, one to one after the fall back).
    fn arm_data_rto(&mut self, now: Instant) {
        let head = self.snd_una;
        // A "potentially failed" subflow (a path that went down) may hold its data for
        // ever; that data was re-injected elsewhere and does not count.
        let stuck = self.mode == Mode::Mptcp
            && self.new_data_allowed()
            && self.snd_nxt > head
            && !self.subflows.iter().any(|s| {
                !s.potentially_failed && !s.is_closed() && s.tx.maps_from(head, s.tcp.data_start())
            });
        if !stuck {
            self.data_rto_at = None;
        } else if self.data_rto_at.is_none() {
            self.data_rto_at = Some(now + self.fin_rto());
        }
    }

    /// Whether no working subflow has data in flight. A "potentially failed" subflow (a
    /// path that went down) may hold its data for ever; that data was re-injected
    /// elsewhere and does not count.
    fn nothing_in_flight(&self) -> bool {
        self.subflows
            .iter()
            .filter(|s| !s.potentially_failed)
            .all(|s| s.tcp.sb.is_empty())
    }

    /// Retransmission timeout of the DATA_FIN and of the data level: the RTO of the
    /// subflow that carries them ([`ack_carrier`](Self::ack_carrier)), a working one. Not
    /// the first subflow's: when its path died, its RTO doubles at every one of its
    /// timeouts, and the data level would wait 0.2, 0.4, 0.8 ... 51 s in turn.
    fn fin_rto(&self) -> core::time::Duration {
        self.ack_carrier()
            .map_or(core::time::Duration::from_secs(1), |i| {
                self.subflows[i].tcp.rtt.rto()
            })
    }

    /// The next instant a timer of the connection or of a subflow is due.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.subflows
            .iter()
            .filter_map(|s| s.tcp.poll_timeout())
            .chain(self.fin_rto_at)
            .chain(self.data_rto_at)
            .chain(self.mp_fail_deadline())
            .chain(self.signals.next_timeout())
            .chain(self.close_deadline.filter(|_| self.stuck_closing()))
            .chain(self.pm_timeout())
            .min()
    }

    /// The application closed the connection at `now`: if it has not finished closing
    /// `timeout` later, it is aborted ([`MptcpConfig::close_timeout`](crate::conn::MptcpConfig::close_timeout)).
    pub(crate) fn close_within(&mut self, now: Instant, timeout: core::time::Duration) {
        self.close_deadline.get_or_insert(now + timeout);
    }

    /// Closing has not finished: the end of our stream is not acknowledged or the peer's
    /// has not come (what follows — subflow FINs, TIME-WAIT — is TCP's own business).
    fn stuck_closing(&self) -> bool {
        self.close_reason.is_none() && !(self.fin_acked && self.fin_received)
    }

    /// Runs the timers due at `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        if self.stuck_closing() && self.close_deadline.is_some_and(|t| t <= now) {
            self.note(
                None,
                format_args!("still closing at close_timeout: aborted"),
            );
            self.abort();
        }
        for index in 0..self.subflows.len() {
            if self.subflows[index]
                .tcp
                .poll_timeout()
                .is_some_and(|t| t <= now)
            {
                self.refresh_siblings(index);
                self.subflows[index].tcp.handle_timeout(now);
                self.process_subflow(index);
                self.check_syn_retries(index);
            }
        }
        if self.data_rto_at.is_some_and(|t| t <= now) {
            // §3.3.6: the oldest data not DATA_ACKed goes again, on any subflow (no subflow
            // index is excluded) and whatever the window: it starts at the DATA_ACK.
            self.data_rto_at = None;
            let len = self.snd_nxt.diff(self.snd_una).clamp(0, MAX_MAPPING as i64) as u32;
            if len > 0 {
                self.resend_oldest(len);
            }
            self.request_ack();
        }
        self.on_mp_fail_timeout(now);
        if self.fin_rto_at.is_some_and(|t| t <= now) {
            // RFC 8684 §3.3.3: the DATA_FIN is repeated until it is acknowledged.
            self.request_ack();
            self.fin_rto_at = Some(now + self.fin_rto());
        }
        if self.signals.next_timeout().is_some_and(|t| t <= now) {
            // §3.4.1: an ADD_ADDR goes again until it is echoed.
            self.signals.on_time(now);
            self.request_ack();
        }
        self.pm_on_time(now);
    }
}
