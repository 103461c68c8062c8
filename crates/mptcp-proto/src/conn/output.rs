//! Output at the connection level: the scheduler hands data to subflows with mappings
//! (RFC 8684 §3.3.1), the subflows write segments with the options of `options.rs`, and
//! the DATA_FIN goes out and is repeated until acknowledged (§3.3.3).

use super::mapping::Mapping;
use super::options::{OptionView, SubflowOptions, our_capable_flags};
use super::{MAX_MAPPING, Mode, MptcpConnection, Role};
use crate::stack::InterfaceId;
use crate::tcp::TcpState;
use crate::time::Instant;
use crate::wire::dss_checksum;

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
    /// Writes the next segment of any subflow into `buf`.
    pub(crate) fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<SegmentOut> {
        self.schedule(now);
        for index in 0..self.subflows.len() {
            let view = self.option_view();
            let sf = &mut self.subflows[index];
            let mut hooks = SubflowOptions { view, tx: &sf.tx };
            if let Some(len) = sf.tcp.poll_transmit_with(now, buf, &mut hooks) {
                let out = SegmentOut {
                    subflow: index,
                    iface: sf.iface,
                    local: sf.tcp.local_addr(),
                    remote: sf.tcp.peer_addr(),
                    len,
                };
                self.process_subflow(index);
                return Some(out);
            }
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

    /// The scheduler: hands unmapped data to subflows, one mapping per segment, and queues
    /// the DATA_FIN (or, for TCP, the FIN) after the last byte.
    fn schedule(&mut self, now: Instant) {
        if self.close_reason.is_some() || !self.data_ready() {
            return;
        }
        let mut scratch = core::mem::take(&mut self.scratch);
        loop {
            let end = self.snd_una + self.send_buf.len() as u64;
            let avail = end.diff(self.snd_nxt).max(0) as usize;
            if avail == 0 {
                break;
            }
            let Some(index) = self.pick_subflow() else {
                break;
            };
            let mut n = avail.min(scratch.len()).min(MAX_MAPPING);
            if self.mode == Mode::Mptcp {
                // RFC 8684 §3.3.4: stay within the connection-level window, whose right
                // edge is the latest DATA_ACK plus the window of the segment carrying it
                // (before any DATA_ACK: the handshake's window).
                let sf = &self.subflows[index];
                let edge = self.snd_wnd_edge.max(self.snd_una + sf.tcp.snd_wnd as u64);
                let mut room = edge.diff(self.snd_nxt).max(0) as usize;
                let segment = sf.tcp.mss.saturating_sub(OTHER_OPTIONS + DSS_LEN).max(1);
                if room == 0 && self.subflows.iter().all(|s| s.tcp.sb.is_empty()) {
                    // A closed window with nothing in flight: hand over one segment anyway,
                    // so the subflow's zero-window probes (RFC 9293 §3.8.6.1) find out when
                    // it opens even if the window update is lost.
                    room = segment;
                }
                n = n.min(room).min(segment);
            }
            let sf = &mut self.subflows[index];
            n = n.min(sf.tcp.send_buf.free());
            if n == 0 {
                break;
            }
            let offset = self.snd_nxt.diff(self.snd_una) as usize;
            let n = self.send_buf.read_at(offset, &mut scratch[..n]);
            let ssn = sf.tcp.data_start() + sf.tcp.send_queue_len() as u32;
            let pushed = sf.tcp.send(&scratch[..n]).unwrap_or(0);
            if pushed == 0 {
                break;
            }
            let checksum = self.checksum.then(|| {
                let rel = ssn.diff(sf.tcp.iss) as u32;
                dss_checksum(self.snd_nxt.0, rel, pushed as u16, &scratch[..pushed])
            });
            sf.tx.insert(Mapping {
                ssn,
                dsn: self.snd_nxt,
                len: Some(pushed as u32),
                checksum,
                fin: false,
            });
            self.snd_nxt += pushed as u64;
        }
        self.scratch = scratch;
        self.queue_fin(now);
    }

    /// The subflow new data goes to: for TCP the only one; for MPTCP the established
    /// subflow with room in its congestion window and nothing unsent, lowest RTT first.
    fn pick_subflow(&self) -> Option<usize> {
        let usable = |sf: &super::Subflow| {
            sf.tcp.state().can_send() && sf.tcp.state().is_synchronized() && !sf.tcp.fin_queued
        };
        if self.mode == Mode::Tcp {
            return self.subflows.first().filter(|s| usable(s)).map(|_| 0);
        }
        self.subflows
            .iter()
            .enumerate()
            .filter(|(_, s)| usable(s) && s.unsent() == 0 && s.cwnd_room() > 0)
            .min_by_key(|(_, s)| s.tcp.rtt.srtt())
            .map(|(i, _)| i)
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

    /// Retransmission timeout of the DATA_FIN: the first live subflow's RTO.
    fn fin_rto(&self) -> core::time::Duration {
        self.subflows
            .iter()
            .find(|s| s.tcp.state() != TcpState::Closed)
            .map_or(core::time::Duration::from_secs(1), |s| s.tcp.rtt.rto())
    }

    /// The next instant a timer of the connection or of a subflow is due.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.subflows
            .iter()
            .filter_map(|s| s.tcp.poll_timeout())
            .chain(self.fin_rto_at)
            .min()
    }

    /// Runs the timers due at `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        for index in 0..self.subflows.len() {
            if self.subflows[index]
                .tcp
                .poll_timeout()
                .is_some_and(|t| t <= now)
            {
                self.subflows[index].tcp.handle_timeout(now);
                self.process_subflow(index);
            }
        }
        if self.fin_rto_at.is_some_and(|t| t <= now) {
            // RFC 8684 §3.3.3: the DATA_FIN is repeated until it is acknowledged.
            self.request_ack();
            self.fin_rto_at = Some(now + self.fin_rto());
        }
    }
}
