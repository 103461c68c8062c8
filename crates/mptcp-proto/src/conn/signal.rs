//! Address signalling and the other connection-level options: ADD_ADDR with its HMAC and
//! echo (RFC 8684 §3.4.1), REMOVE_ADDR (§3.4.2), MP_PRIO (§3.3.8), MP_FASTCLOSE (§3.5)
//! and MP_TCPRST (§3.6).

use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use std::collections::VecDeque;

use super::{ConnEvent, Mode, MptcpConnection};
use crate::crypto::add_addr_hmac;
use crate::pm::{PmEvent, RemoteAddr};
use crate::tcp::CloseReason;
use crate::time::Instant;
use crate::wire::MptcpOption;
use crate::wire::mptcp::AddAddr;

/// How long an ADD_ADDR waits for its echo before it is sent again, by default
/// ([`MptcpConfig::add_addr_timeout`](super::MptcpConfig::add_addr_timeout)).
pub(crate) const ANNOUNCE_TIMEOUT: Duration = Duration::from_secs(2);
/// How many times an ADD_ADDR is sent before we give up on its echo.
const ANNOUNCE_TRIES: u8 = 5;

/// Every address id, for REMOVE_ADDR options to borrow theirs from (one id per option).
static ADDR_IDS: [u8; 256] = {
    let mut ids = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        ids[i] = i as u8;
        i += 1;
    }
    ids
};

/// One of our announcements, until the peer echoes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Announce {
    pub(crate) id: u8,
    pub(crate) addr: IpAddr,
    /// The port joins should go to, when not the connection's.
    pub(crate) port: Option<u16>,
    /// Waiting to be (re)sent.
    pub(crate) due: bool,
    /// Sent, waiting for the echo since then.
    pub(crate) sent_at: Option<Instant>,
    pub(crate) tries: u8,
}

/// Signalling options waiting for a segment to ride on.
#[derive(Debug, Clone)]
pub(crate) struct Signals {
    /// How long an ADD_ADDR waits for its echo.
    pub(crate) announce_timeout: Duration,
    /// Our ADD_ADDRs not yet echoed.
    pub(crate) announce: Vec<Announce>,
    /// Echoes of the peer's ADD_ADDRs to send: id, address, port.
    pub(crate) echoes: VecDeque<(u8, IpAddr, Option<u16>)>,
    /// Address ids to withdraw with REMOVE_ADDR.
    pub(crate) remove: Vec<u8>,
    /// Our address ids announced and not withdrawn: announced once only.
    pub(crate) announced: Vec<u8>,
}

impl Signals {
    /// Nothing to send; ADD_ADDRs wait `announce_timeout` for their echo.
    pub(crate) fn new(announce_timeout: Duration) -> Self {
        Self {
            announce_timeout,
            announce: Vec::new(),
            echoes: VecDeque::new(),
            remove: Vec::new(),
            announced: Vec::new(),
        }
    }

    /// Whether something waits to be sent.
    pub(crate) fn pending(&self) -> bool {
        !self.echoes.is_empty() || !self.remove.is_empty() || self.next_announce().is_some()
    }

    /// The announcement to send next. One at a time: the next goes once the previous one
    /// was echoed (or given up), as Linux announces; its path manager drops an ADD_ADDR
    /// that arrives while it still handles the previous one (`AddAddrDrop`, no echo), so
    /// back-to-back announcements would each wait for a retransmission.
    fn next_announce(&self) -> Option<usize> {
        if self.announce.iter().any(|a| !a.due && a.tries > 0) {
            return None;
        }
        self.announce.iter().position(|a| a.due)
    }

    /// The next signalling option to send, if one fits in `room` bytes, marked as sent:
    /// echoes first, then withdrawals, then announcements.
    /// `hmac` computes an announcement's truncated HMAC.
    pub(crate) fn take(
        &mut self,
        room: usize,
        hmac: impl Fn(u8, IpAddr, Option<u16>) -> u64,
    ) -> Option<MptcpOption<'static>> {
        if let Some(&(id, addr, port)) = self.echoes.front() {
            let option = MptcpOption::AddAddr(AddAddr {
                echo: true,
                addr_id: id,
                addr,
                port,
                truncated_hmac: None,
            });
            if option.buffer_len() <= room {
                self.echoes.pop_front();
                return Some(option);
            }
        }
        // Withdrawals before announcements: an address that went away and came back is
        // removed, then announced again, in that order (its old subflows are gone).
        if room >= 4 && !self.remove.is_empty() {
            let id = usize::from(self.remove.remove(0));
            return Some(MptcpOption::RemoveAddr {
                addr_ids: &ADDR_IDS[id..=id],
            });
        }
        if let Some(a) = self.next_announce().map(|i| &mut self.announce[i]) {
            let option = MptcpOption::AddAddr(AddAddr {
                echo: false,
                addr_id: a.id,
                addr: a.addr,
                port: a.port,
                truncated_hmac: Some(hmac(a.id, a.addr, a.port)),
            });
            if option.buffer_len() <= room {
                a.due = false;
                a.sent_at = None;
                a.tries += 1;
                return Some(option);
            }
        }
        None
    }

    /// Starts the echo timers of the announcements just sent, and marks those whose echo
    /// is overdue for sending again.
    pub(crate) fn on_time(&mut self, now: Instant) {
        for a in &mut self.announce {
            match a.sent_at {
                None if !a.due => a.sent_at = Some(now),
                Some(at) if now >= at + self.announce_timeout && a.tries < ANNOUNCE_TRIES => {
                    a.due = true;
                }
                _ => {}
            }
        }
        self.announce
            .retain(|a| a.due || a.sent_at.is_none() || a.tries < ANNOUNCE_TRIES);
    }

    /// When the echo timer of an announcement expires next.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        self.announce
            .iter()
            .filter(|a| !a.due && a.tries < ANNOUNCE_TRIES)
            .filter_map(|a| a.sent_at.map(|at| at + self.announce_timeout))
            .min()
    }
}

impl MptcpConnection {
    /// Announces our address `addr` as address `id` (ADD_ADDR, RFC 8684 §3.4.1); it is
    /// sent again until the peer echoes it.
    pub fn announce(&mut self, id: u8, addr: IpAddr) {
        let _ = self.announce_with_port(id, addr, None);
    }

    /// Announces our address `addr` as address `id`, with the port joins should go to
    /// when it is not the connection's (the listener on it is the application's).
    /// Returns false (and sends nothing) if the connection does not speak MPTCP or id
    /// `id` is announced already.
    pub fn announce_with_port(&mut self, id: u8, addr: IpAddr, port: Option<u16>) -> bool {
        if self.mode != Mode::Mptcp || self.signals.announced.contains(&id) {
            return false;
        }
        self.signals.announced.push(id);
        self.signals.announce.push(Announce {
            id,
            addr,
            port,
            due: true,
            sent_at: None,
            tries: 0,
        });
        self.request_ack();
        true
    }

    /// Withdraws our address `addr` from this connection (REMOVE_ADDR, §3.4.2): the
    /// subflows using it close, their data goes on the others, and no path manager opens
    /// from it again. Returns false if the connection has no such address.
    pub fn remove_address(&mut self, addr: IpAddr) -> bool {
        let Some(id) = self.local_addr_id(addr) else {
            return false;
        };
        self.local_addrs.retain(|l| l.addr != addr);
        self.withdraw(id);
        true
    }

    /// Sends REMOVE_ADDR for our address id `id` (once), and stops announcing it; the
    /// subflows from it close.
    pub(super) fn withdraw(&mut self, id: u8) {
        for index in 0..self.subflows.len() {
            let sf = &self.subflows[index];
            if sf.local_id == id && !sf.retired && !sf.is_closed() {
                self.reinject_from(index);
                let sf = &mut self.subflows[index];
                sf.retired = true;
                sf.tcp.abort();
            }
        }
        self.signals.announce.retain(|a| a.id != id);
        self.signals.announced.retain(|a| *a != id);
        if self.mode == Mode::Mptcp && !self.signals.remove.contains(&id) {
            self.signals.remove.push(id);
            self.request_ack();
        }
    }

    /// The signalling options of a segment on subflow `index` (RFC 8684 §3.3.8, §3.4,
    /// §3.5, §3.6).
    pub(super) fn signal_input(&mut self, index: usize, option: &MptcpOption<'_>) {
        match *option {
            MptcpOption::AddAddr(a) if a.echo => {
                self.signals.announce.retain(|ours| ours.id != a.addr_id);
            }
            MptcpOption::AddAddr(a) => self.on_add_addr(&a),
            MptcpOption::RemoveAddr { addr_ids } => {
                for &id in addr_ids {
                    self.on_remove_addr(id);
                }
            }
            MptcpOption::MpPrio { backup, .. } => {
                let sf = &mut self.subflows[index];
                if sf.peer_backup != backup {
                    sf.peer_backup = backup;
                    let subflow = sf.id;
                    self.events
                        .push_back(ConnEvent::PeerPriority { subflow, backup });
                }
            }
            MptcpOption::MpFastclose { receiver_key } if receiver_key == self.keys.local => {
                // §3.5: the peer dropped the whole connection.
                for sf in &mut self.subflows {
                    sf.tcp.set_closed(CloseReason::Reset);
                }
                self.set_closed(CloseReason::Reset);
            }
            MptcpOption::MpTcpRst { reason, .. } => {
                self.subflows[index].peer_reset_reason = Some(reason);
            }
            _ => {}
        }
    }

    /// §3.4.1: an announcement with a valid HMAC is recorded, echoed and given to the
    /// path manager; one with a bad HMAC is ignored.
    fn on_add_addr(&mut self, a: &AddAddr) {
        let Some(remote_key) = self.keys.remote else {
            return;
        };
        let expected = add_addr_hmac(remote_key, self.keys.local, a.addr_id, a.addr, a.port);
        if a.truncated_hmac != Some(expected) {
            return;
        }
        // One echo per address id waits at most (the peer may repeat its ADD_ADDR faster
        // than pure ACKs carry echoes).
        if !self.signals.echoes.iter().any(|e| e.0 == a.addr_id) {
            self.signals.echoes.push_back((a.addr_id, a.addr, a.port));
        }
        self.request_ack();
        let announced = RemoteAddr {
            id: a.addr_id,
            addr: a.addr,
            port: a.port,
        };
        if a.addr_id == 0 {
            // Id 0 is the initial address (RFC 8684 §3.4.1); it is echoed, nothing more.
            return;
        }
        match self.remote_addrs.iter().find(|r| r.id == a.addr_id) {
            Some(known) if *known == announced => return,
            // A known id with another address (the peer's NAT rebinding, say; the seeds'
            // fullmesh updates it): the old address is gone, its subflows close, and the
            // new one is announced, within the limit like any other.
            Some(_) => self.on_remove_addr(a.addr_id),
            None => {}
        }
        if self.remote_addrs.len() >= self.max_add_addr_accepted {
            // Beyond what we accept: echoed (the peer stops repeating it) and nothing
            // more, as Linux does past `add_addr_accepted`.
            self.note(
                None,
                format_args!(
                    "ADD_ADDR {} ({}) beyond the limit: echoed only",
                    a.addr_id, a.addr
                ),
            );
            return;
        }
        self.remote_addrs.push(announced);
        self.events.push_back(ConnEvent::AddressAnnounced {
            id: a.addr_id,
            addr: a.addr,
            port: a.port,
        });
        // (Before the path manager starts, it hears of it when it does.)
        self.pm_hear(PmEvent::AddressAnnounced(announced));
    }

    /// §3.4.2: the peer withdrew address `id` (id 0: its initial address): close the
    /// subflows to it, those still opening too.
    fn on_remove_addr(&mut self, id: u8) {
        let first_remote = self.first.1;
        let gone = match self.remote_addrs.iter().position(|r| r.id == id) {
            Some(at) => Some(self.remote_addrs.remove(at)),
            None if id == 0 => {
                self.initial_remote_withdrawn = true;
                Some(RemoteAddr {
                    id: 0,
                    addr: first_remote.ip(),
                    port: Some(first_remote.port()),
                })
            }
            None => None,
        };
        let port = |r: &RemoteAddr| r.port.unwrap_or(first_remote.port());
        let mut closed = None;
        for index in 0..self.subflows.len() {
            let sf = &self.subflows[index];
            let to_it = sf.remote_id == Some(id)
                || gone.is_some_and(|r| sf.tcp.peer_addr() == SocketAddr::new(r.addr, port(&r)));
            if to_it && !sf.retired && !sf.is_closed() {
                closed.get_or_insert(sf.tcp.peer_addr());
                self.reinject_from(index);
                let sf = &mut self.subflows[index];
                sf.retired = true;
                sf.tcp.abort();
            }
        }
        let gone = gone.or_else(|| {
            closed.map(|remote| RemoteAddr {
                id,
                addr: remote.ip(),
                port: Some(remote.port()),
            })
        });
        if let Some(gone) = gone {
            self.events.push_back(ConnEvent::AddressRemoved { id });
            self.pm_hear(PmEvent::AddressRemoved(gone));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An address withdrawn and announced again before either option left: the peer hears
    /// REMOVE_ADDR first, then ADD_ADDR, and ends up knowing the address.
    #[test]
    fn a_withdrawal_goes_before_an_announcement() {
        let mut s = Signals::new(ANNOUNCE_TIMEOUT);
        s.remove.push(2);
        s.announce.push(Announce {
            id: 2,
            addr: "10.1.2.2".parse().unwrap(),
            port: None,
            due: true,
            sent_at: None,
            tries: 0,
        });
        let first = s.take(28, |_, _, _| 7);
        assert!(matches!(
            first,
            Some(MptcpOption::RemoveAddr { addr_ids: [2] })
        ));
        let second = s.take(28, |_, _, _| 7);
        assert!(matches!(second, Some(MptcpOption::AddAddr(a)) if a.addr_id == 2 && !a.echo));
    }

    /// Linux drops an ADD_ADDR that arrives while its path manager handles the previous
    /// one: ours go one at a time, the next once the previous is echoed.
    #[test]
    fn announcements_go_one_at_a_time() {
        let mut s = Signals::new(ANNOUNCE_TIMEOUT);
        for (id, addr) in [(2, "10.1.2.2"), (3, "10.1.3.2")] {
            s.announce.push(Announce {
                id,
                addr: addr.parse().unwrap(),
                port: None,
                due: true,
                sent_at: None,
                tries: 0,
            });
        }
        let first = s.take(28, |_, _, _| 7);
        assert!(matches!(first, Some(MptcpOption::AddAddr(a)) if a.addr_id == 2));
        assert!(!s.pending(), "the second waits for the first's echo");
        assert!(s.take(28, |_, _, _| 7).is_none());
        // The echo of id 2 arrives (signal_input removes it).
        s.announce.retain(|a| a.id != 2);
        assert!(s.pending());
        let second = s.take(28, |_, _, _| 7);
        assert!(matches!(second, Some(MptcpOption::AddAddr(a)) if a.addr_id == 3));
    }
}
