//! The host's addresses while it runs: their address ids (RFC 8684 §3.4.1), and addresses
//! that appear and go away (a phone leaving Wi-Fi, a DHCP lease renewed with a new
//! address), which every connection's path manager hears.

use core::net::IpAddr;

use thiserror::Error;

use super::{ConnectionHandle, InterfaceId, Stack};
use crate::pm::LocalAddr;

/// Why an address could not be added or announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AddressError {
    /// No interface has this id.
    #[error("no such interface")]
    NoSuchInterface,
    /// The host already has this address.
    #[error("the host already has this address")]
    InUse,
    /// The host (or the connection) does not have this address.
    #[error("address not available on this host")]
    NotAvailable,
    /// Unspecified, multicast or broadcast: not an address of a host.
    #[error("not a unicast address")]
    NotUnicast,
    /// Every address id is taken (255 addresses have been seen).
    #[error("no free address id")]
    NoFreeId,
    /// No such connection, or it does not speak MPTCP.
    #[error("the connection cannot announce addresses")]
    NotMultipath,
    /// The connection announced this address already (withdraw it first to announce it
    /// with another port).
    #[error("the address is announced already")]
    AlreadyAnnounced,
}

/// Address ids of the host's addresses: the first address seen gets 1, the next 2, ...;
/// an address that goes away keeps its id for when it comes back (id 0 is each
/// connection's initial address).
#[derive(Debug, Clone, Default)]
pub(super) struct AddressIds(Vec<IpAddr>);

impl AddressIds {
    /// Ids for `addrs`, in order.
    pub(super) fn new<'a>(addrs: impl IntoIterator<Item = &'a IpAddr>) -> Self {
        let mut ids = Self::default();
        for &addr in addrs {
            ids.of(addr);
        }
        ids
    }

    /// The id of `addr`, if it has one.
    fn get(&self, addr: IpAddr) -> Option<u8> {
        let index = self.0.iter().position(|a| *a == addr)?;
        u8::try_from(index + 1).ok()
    }

    /// The id of `addr`, given now if it has none.
    pub(super) fn of(&mut self, addr: IpAddr) -> Option<u8> {
        let index = match self.0.iter().position(|a| *a == addr) {
            Some(index) => index,
            None if self.0.len() < usize::from(u8::MAX) => {
                self.0.push(addr);
                self.0.len() - 1
            }
            None => return None,
        };
        u8::try_from(index + 1).ok()
    }
}

impl Stack {
    /// Every address of the host with its id and its interface's backup flag, in
    /// interface order.
    pub(crate) fn addresses(&self) -> Vec<LocalAddr> {
        let mut all = Vec::new();
        for iface in &self.config.interfaces {
            for &addr in &iface.addrs {
                if let Some(id) = self.addr_ids.get(addr) {
                    all.push(LocalAddr {
                        id,
                        addr,
                        backup: iface.backup,
                    });
                }
            }
        }
        all
    }

    /// Gives interface `iface` the address `addr` while the stack runs. Every MPTCP
    /// connection's path manager hears it (`fullmesh` announces it on a server and opens
    /// subflows from it on a client).
    pub fn add_host_address(
        &mut self,
        iface: InterfaceId,
        addr: IpAddr,
    ) -> Result<(), AddressError> {
        let unicast = match addr {
            IpAddr::V4(a) => !a.is_unspecified() && !a.is_multicast() && !a.is_broadcast(),
            IpAddr::V6(a) => !a.is_unspecified() && !a.is_multicast(),
        };
        if !unicast {
            return Err(AddressError::NotUnicast);
        }
        if self.iface_of(addr).is_some() {
            return Err(AddressError::InUse);
        }
        if iface.0 >= self.config.interfaces.len() {
            return Err(AddressError::NoSuchInterface);
        }
        let id = self.addr_ids.of(addr).ok_or(AddressError::NoFreeId)?;
        let interface = &mut self.config.interfaces[iface.0];
        interface.addrs.push(addr);
        let local = LocalAddr {
            id,
            addr,
            backup: interface.backup,
        };
        let ids: Vec<u64> = self.conns.keys().copied().collect();
        for id in ids {
            if let Some(entry) = self.conns.get_mut(&id) {
                entry.conn.local_address_added(local);
            }
            self.after(id);
        }
        Ok(())
    }

    /// Takes address `addr` away from the host while the stack runs: the subflows from it
    /// close at once (nothing can be sent from it any more), their data moves to the
    /// others, and every connection's path manager hears it (`fullmesh` sends REMOVE_ADDR).
    /// A connection whose every subflow used it ends. Returns false if the host had no
    /// such address.
    pub fn remove_host_address(&mut self, addr: IpAddr) -> bool {
        let Some(iface) = self.iface_of(addr) else {
            return false;
        };
        self.config.interfaces[iface.0].addrs.retain(|a| *a != addr);
        let ids: Vec<u64> = self.conns.keys().copied().collect();
        for id in ids {
            if let Some(entry) = self.conns.get_mut(&id) {
                entry.conn.local_address_removed(addr);
            }
            self.after(id);
        }
        true
    }

    /// Announces our address `addr` to the peer of `conn` (ADD_ADDR, RFC 8684 §3.4.1),
    /// with `port` when joins should go to another port than the connection's (a listener
    /// of the application's must be there): what an application running its own path
    /// management (`userspace`) does.
    pub fn announce_address(
        &mut self,
        conn: ConnectionHandle,
        addr: IpAddr,
        port: Option<u16>,
    ) -> Result<(), AddressError> {
        let entry = self
            .conns
            .get_mut(&conn.0)
            .filter(|e| e.conn.is_mptcp())
            .ok_or(AddressError::NotMultipath)?;
        let id = entry
            .conn
            .local_addr_id(addr)
            .ok_or(AddressError::NotAvailable)?;
        if entry.conn.announce_with_port(id, addr, port) {
            Ok(())
        } else {
            Err(AddressError::AlreadyAnnounced)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_start_at_one_and_an_address_keeps_its_id() {
        let mut ids = AddressIds::default();
        let a: IpAddr = "10.0.1.1".parse().unwrap();
        let b: IpAddr = "10.0.2.1".parse().unwrap();
        assert_eq!(ids.of(a), Some(1));
        assert_eq!(ids.of(b), Some(2));
        assert_eq!(ids.of(a), Some(1));
        for n in 0..300u32 {
            let addr = IpAddr::from(n.to_be_bytes().map(|x| x.wrapping_add(1)));
            let _ = ids.of(addr);
        }
        assert_eq!(
            ids.of("192.0.2.200".parse().unwrap()),
            None,
            "255 ids at most"
        );
        assert_eq!(ids.of(b), Some(2));
    }
}
