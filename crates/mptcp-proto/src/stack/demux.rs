//! Demultiplexing: which connection or listener a segment belongs to (by 4-tuple, then by
//! local address and port), and the RST for segments that belong to none.

use core::cell::Cell;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::collections::HashMap;

use crate::wire::{SeqNum, TcpFlags, TcpRepr};

/// Lookup tables from addresses to connection and listener ids.
#[derive(Debug, Default)]
pub(crate) struct Demux {
    conns: HashMap<(SocketAddr, SocketAddr), u64>,
    listeners: HashMap<SocketAddr, u64>,
    /// The connection found last, if it still exists: segments come in trains of the same
    /// connection, and a comparison is cheaper than hashing the 4-tuple (the table keeps
    /// its keyed hash, since remote peers choose the keys).
    last: Cell<Option<((SocketAddr, SocketAddr), u64)>>,
}

impl Demux {
    /// The connection of `local` ← `remote`.
    pub(crate) fn conn(&self, local: SocketAddr, remote: SocketAddr) -> Option<u64> {
        let key = (local, remote);
        if let Some((last, id)) = self.last.get() {
            if last == key {
                return Some(id);
            }
        }
        let id = self.conns.get(&key).copied()?;
        self.last.set(Some((key, id)));
        Some(id)
    }

    pub(crate) fn insert_conn(&mut self, local: SocketAddr, remote: SocketAddr, id: u64) {
        self.conns.insert((local, remote), id);
        self.last.set(None);
    }

    pub(crate) fn remove_conn(&mut self, local: SocketAddr, remote: SocketAddr) {
        self.conns.remove(&(local, remote));
        self.last.set(None);
    }

    /// The listener for `local`: one bound to that exact address first, then one bound to
    /// the unspecified address of its family.
    pub(crate) fn listener(&self, local: SocketAddr) -> Option<u64> {
        self.listeners.get(&local).copied().or_else(|| {
            let any: IpAddr = match local.ip() {
                IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
                IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
            };
            self.listeners
                .get(&SocketAddr::new(any, local.port()))
                .copied()
        })
    }

    /// Whether a listener is bound to exactly `local`.
    pub(crate) fn listener_bound(&self, local: SocketAddr) -> bool {
        self.listeners.contains_key(&local)
    }

    /// Whether any listener or connection uses `port` on `ip`.
    pub(crate) fn port_used(&self, ip: IpAddr, port: u16) -> bool {
        self.listener(SocketAddr::new(ip, port)).is_some()
            || self
                .conns
                .keys()
                .any(|(local, _)| local.port() == port && local.ip() == ip)
    }

    pub(crate) fn insert_listener(&mut self, local: SocketAddr, id: u64) {
        self.listeners.insert(local, id);
    }

    pub(crate) fn remove_listener(&mut self, local: SocketAddr) {
        self.listeners.remove(&local);
    }
}

/// The reset answering a segment that matches nothing (RFC 9293 §3.10.7.1): `(seq, ack,
/// flags)`, or `None` for a RST (never answered).
pub(crate) fn reset_for(seg: &TcpRepr<'_>) -> Option<(SeqNum, SeqNum, TcpFlags)> {
    if seg.flags.contains(TcpFlags::RST) {
        return None;
    }
    Some(if seg.flags.contains(TcpFlags::ACK) {
        (seg.ack_number, SeqNum(0), TcpFlags::RST)
    } else {
        (
            SeqNum(0),
            seg.seq_number + seg.seq_len() as u32,
            TcpFlags::RST | TcpFlags::ACK,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_falls_back_to_unspecified() {
        let mut d = Demux::default();
        d.insert_listener("0.0.0.0:80".parse().unwrap(), 1);
        d.insert_listener("10.0.0.1:80".parse().unwrap(), 2);
        assert_eq!(d.listener("10.0.0.1:80".parse().unwrap()), Some(2));
        assert_eq!(d.listener("10.0.0.2:80".parse().unwrap()), Some(1));
        assert_eq!(d.listener("[::1]:80".parse().unwrap()), None);
        assert!(d.port_used("10.0.0.9".parse().unwrap(), 80));
    }
}
