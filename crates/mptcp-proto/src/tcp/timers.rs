//! Timers: retransmission (RFC 6298), tail-loss probe and RACK reordering (RFC 8985),
//! delayed ACK, persist (zero-window probes, RFC 9293 §3.8.6.1), keep-alive (§3.8.4) and
//! TIME-WAIT (§3.4.2). All deadlines are instants handed in by the caller.

use core::time::Duration;

use super::connection::{Probe, TcpConnection};
use super::state::{CloseReason, TcpState};
use crate::cc::CongestionEvent;
use crate::time::Instant;

fn due(at: Option<Instant>, now: Instant) -> bool {
    at.is_some_and(|t| t <= now)
}

impl TcpConnection {
    /// The earliest instant at which [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == TcpState::Closed {
            return None;
        }
        [
            self.rto_at,
            self.tlp_at,
            self.rack_at,
            self.delack_at,
            self.persist_at,
            self.keepalive_at,
            self.time_wait_at,
            self.pacing_blocked.then_some(self.pace_at),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == TcpState::Closed {
            return;
        }
        if due(self.time_wait_at, now) {
            self.time_wait_at = None;
            self.set_closed(CloseReason::Normal);
            return;
        }
        if self.pacing_blocked && self.pace_at <= now {
            self.pacing_blocked = false;
        }
        if due(self.delack_at, now) {
            self.delack_at = None;
            self.ack_now = true;
        }
        if due(self.rack_at, now) {
            self.rack_at = None;
            self.detect_loss(now);
        }
        if due(self.tlp_at, now) {
            self.on_tlp(now);
        }
        if due(self.rto_at, now) {
            self.rto_at = None;
            self.on_rto(now);
            if self.state == TcpState::Closed {
                return;
            }
        }
        if due(self.persist_at, now) {
            self.probe = Some(Probe::Persist);
            self.persist_backoff = self.persist_backoff.saturating_add(1);
            self.persist_at = Some(now + self.persist_interval());
        }
        if due(self.keepalive_at, now) {
            self.on_keepalive(now);
        }
        self.update_timers(now);
    }

    /// The probe timer expired (RFC 8985 §7.3): one probe, then the RTO as a last resort.
    ///
    /// The probe does not postpone the RTO: it stays where the last ACK armed it, as Linux
    /// counts it from the oldest outstanding segment's transmission rather than from the
    /// probe. Otherwise a path that died would cost a probe timeout on top of the RTO, and
    /// MPTCP moves a subflow's data to the other subflows only when that RTO fires. When
    /// the RTO is due as well (§7.2: the probe timeout is capped by it), a probe that
    /// would retransmit the oldest outstanding segment takes the RTO's place, and the RTO
    /// counts again from it; otherwise the RTO goes now and its retransmissions replace
    /// the probe.
    fn on_tlp(&mut self, now: Instant) {
        self.tlp_at = None;
        self.tlp_done = true;
        let rto_due = due(self.rto_at, now);
        let probes_oldest = self.sb.len() == 1 && !self.has_new_data();
        if !rto_due || probes_oldest {
            self.probe = Some(Probe::Tlp);
        }
        if (rto_due && probes_oldest) || self.rto_at.is_none() {
            self.rto_at = Some(now + self.rtt.rto());
        }
    }

    /// Zero-window probe interval: the RTO, backed off per unanswered probe (RFC 9293
    /// §3.8.6.1 "exponential backoff"), capped at the maximum RTO.
    fn persist_interval(&self) -> core::time::Duration {
        let factor = 1u32 << self.persist_backoff.min(16);
        self.rtt
            .base_rto()
            .saturating_mul(factor)
            .min(self.cfg.max_rto)
    }

    /// The retransmission timer expired (RFC 6298 §5.4–5.6).
    fn on_rto(&mut self, now: Instant) {
        self.stats.timeouts += 1;
        match self.state {
            TcpState::SynSent | TcpState::SynReceived => {
                let limit = if self.state == TcpState::SynSent {
                    self.cfg.syn_retries
                } else {
                    self.cfg.synack_retries
                };
                if self.syn_retransmits >= limit {
                    self.set_closed(CloseReason::TimedOut);
                    return;
                }
                self.syn_retransmits += 1;
                self.stats.retransmits += 1;
                self.rtt.on_timeout();
                self.syn_pending = true;
            }
            _ => {
                if self.sb.is_empty() {
                    return;
                }
                if self.rtt.backoff() >= self.cfg.max_retransmits {
                    self.set_closed(CloseReason::TimedOut);
                    return;
                }
                // RFC 5681 §3.1 / RFC 6675 §5.1: the window collapses.
                self.cc_call(|cc, ctx| cc.on_congestion_event(now, CongestionEvent::Timeout, ctx));
                if self.sack_ok {
                    // RFC 8985 §6.3: the first segment and those sent over an RTT ago.
                    let srtt = self.rtt.srtt().unwrap_or(Duration::from_secs(1));
                    self.rack
                        .mark_losses_on_rto(&mut self.sb, now, self.rtt.min_rtt(), srtt);
                } else {
                    // Without SACK nothing tells which segments arrived: all go again.
                    self.sb.mark_all_lost();
                }
                self.recovery = Some(self.snd_nxt);
                // Recovery after a timeout is slow start from one segment (RFC 5681 §3.1),
                // not PRR's reduction.
                self.prr = None;
                self.fast_retransmit = true;
                self.rtt.on_timeout();
                self.tlp_at = None;
                self.rack_at = None;
                self.pace_at = now;
                self.rto_at = Some(now + self.rtt.rto());
            }
        }
    }

    fn on_keepalive(&mut self, now: Instant) {
        let Some(idle) = self.cfg.keepalive else {
            self.keepalive_at = None;
            return;
        };
        if !matches!(self.state, TcpState::Established | TcpState::CloseWait) || !self.sb.is_empty()
        {
            self.keepalive_at = Some(now + idle);
            return;
        }
        if self.keepalive_sent >= self.cfg.keepalive_probes {
            self.set_closed(CloseReason::TimedOut);
            return;
        }
        self.keepalive_sent += 1;
        self.probe = Some(Probe::Keepalive);
        self.keepalive_at = Some(now + self.cfg.keepalive_interval);
    }

    /// Keeps the retransmission and persist timers consistent with what is outstanding.
    pub(crate) fn update_timers(&mut self, now: Instant) {
        if !self.state.is_synchronized() || self.state == TcpState::TimeWait {
            return;
        }
        if self.sb.is_empty() {
            self.rto_at = None;
            self.tlp_at = None;
            self.rack_at = None;
            let window_closed = (self.snd_una + self.snd_wnd as u32) <= self.snd_nxt;
            if window_closed && self.has_new_data() {
                if self.persist_at.is_none() {
                    self.persist_at = Some(now + self.persist_interval());
                }
            } else {
                self.persist_at = None;
            }
        } else {
            self.persist_at = None;
            if self.rto_at.is_none() {
                self.rto_at = Some(now + self.rtt.rto());
            }
        }
    }
}
