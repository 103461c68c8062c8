//! Path managers: which subflows a connection opens and which addresses it announces.
//!
//! A [`PathManager`] sees the connection's addresses and subflows and answers with
//! [`PmAction`]s, which the connection carries out (opening a subflow goes through the stack,
//! which owns ports and interfaces). Managers are chosen by name ([`PathManagerChoice`]), like the
//! `path_manager` setting of the multipath-tcp.org kernel. Two are built in:
//!
//! - `"default"`: announces nothing and opens nothing (the peer's subflows are accepted);
//!   the seeds' kernel calls this one "default".
//! - `"simple"`: the client opens a subflow from each of its other addresses to the
//!   server's initial address, and one to each address the server announces; the server
//!   announces its other addresses (RFC 8684 §3.4.1).

use core::fmt;
use core::net::{IpAddr, SocketAddr};

/// What a path manager can see of its connection.
#[derive(Debug, Clone, Copy)]
pub struct PmContext<'a> {
    /// We opened the connection.
    pub client: bool,
    /// The initial subflow's local and remote address.
    pub initial: (SocketAddr, SocketAddr),
    /// The host's addresses with their address ids (the initial local address has id 0).
    pub local_addrs: &'a [(u8, IpAddr)],
    /// Local and remote address of every subflow open or opening.
    pub subflows: &'a [(IpAddr, SocketAddr)],
}

/// What a path manager asks its connection to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PmAction {
    /// Open a subflow from `local` to `remote` (MP_JOIN, RFC 8684 §3.2).
    OpenSubflow {
        /// Our address.
        local: IpAddr,
        /// The peer's address and port.
        remote: SocketAddr,
        /// Ask for it as a backup subflow.
        backup: bool,
    },
    /// Announce one of our addresses (ADD_ADDR, RFC 8684 §3.4.1).
    Announce {
        /// Its address id.
        id: u8,
        /// The address.
        addr: IpAddr,
    },
}

/// Decides a connection's subflows and announcements.
pub trait PathManager: fmt::Debug + Send {
    /// The connection is established and speaks MPTCP.
    fn on_established(&mut self, ctx: &PmContext<'_>) -> Vec<PmAction>;

    /// The peer announced `addr` (with `port`, when not the connection's) as address `id`.
    fn on_announced(
        &mut self,
        ctx: &PmContext<'_>,
        id: u8,
        addr: IpAddr,
        port: Option<u16>,
    ) -> Vec<PmAction>;
}

/// The names [`PathManagerChoice`] takes.
pub const PATH_MANAGERS: &[&str] = &["default", "simple"];

/// Which path manager the connections of a stack use, by name; only names of
/// [`PATH_MANAGERS`] parse, so an unknown one is an error, never a silent default.
///
/// ```
/// use mptcp_proto::pm::PathManagerChoice;
/// assert_eq!("default".parse::<PathManagerChoice>().unwrap().name(), "default");
/// assert_eq!(
///     "fullmesh".parse::<PathManagerChoice>().unwrap_err().to_string(),
///     "unknown path manager \"fullmesh\"; valid: default, simple"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathManagerChoice(&'static str);

impl PathManagerChoice {
    /// Its name.
    pub fn name(&self) -> &'static str {
        self.0
    }

    /// A new path manager of this kind, for one connection.
    pub(crate) fn build(&self) -> Box<dyn PathManager> {
        match self.0 {
            "simple" => Box::new(Simple),
            _ => Box::new(Passive),
        }
    }
}

impl Default for PathManagerChoice {
    /// `simple`.
    fn default() -> Self {
        Self("simple")
    }
}

impl core::str::FromStr for PathManagerChoice {
    type Err = UnknownPathManager;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        PATH_MANAGERS
            .iter()
            .find(|known| **known == name)
            .map(|known| Self(known))
            .ok_or_else(|| UnknownPathManager {
                name: name.to_owned(),
            })
    }
}

/// A path manager name that [`PATH_MANAGERS`] does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown path manager \"{name}\"; valid: {}", PATH_MANAGERS.join(", "))]
pub struct UnknownPathManager {
    /// The name asked for.
    pub name: String,
}

/// Announces nothing, opens nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Passive;

impl PathManager for Passive {
    fn on_established(&mut self, _ctx: &PmContext<'_>) -> Vec<PmAction> {
        Vec::new()
    }

    fn on_announced(
        &mut self,
        _ctx: &PmContext<'_>,
        _id: u8,
        _addr: IpAddr,
        _port: Option<u16>,
    ) -> Vec<PmAction> {
        Vec::new()
    }
}

/// The client opens subflows from its other addresses and to announced ones; the server
/// announces its other addresses.
#[derive(Debug, Clone, Copy, Default)]
pub struct Simple;

impl Simple {
    /// Our addresses other than the initial one, of the initial subflow's family.
    fn other_locals<'a>(ctx: &'a PmContext<'_>) -> impl Iterator<Item = (u8, IpAddr)> + 'a {
        let initial = ctx.initial.0.ip();
        ctx.local_addrs
            .iter()
            .copied()
            .filter(move |(_, a)| *a != initial && a.is_ipv4() == initial.is_ipv4())
    }
}

impl PathManager for Simple {
    fn on_established(&mut self, ctx: &PmContext<'_>) -> Vec<PmAction> {
        if ctx.client {
            Self::other_locals(ctx)
                .map(|(_, local)| PmAction::OpenSubflow {
                    local,
                    remote: ctx.initial.1,
                    backup: false,
                })
                .collect()
        } else {
            Self::other_locals(ctx)
                .map(|(id, addr)| PmAction::Announce { id, addr })
                .collect()
        }
    }

    fn on_announced(
        &mut self,
        ctx: &PmContext<'_>,
        _id: u8,
        addr: IpAddr,
        port: Option<u16>,
    ) -> Vec<PmAction> {
        let remote = SocketAddr::new(addr, port.unwrap_or(ctx.initial.1.port()));
        let local = ctx.initial.0.ip();
        let known = ctx.subflows.iter().any(|(_, r)| *r == remote);
        if !ctx.client || known || local.is_ipv4() != addr.is_ipv4() {
            return Vec::new();
        }
        vec![PmAction::OpenSubflow {
            local,
            remote,
            backup: false,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(
        client: bool,
        locals: &'a [(u8, IpAddr)],
        subflows: &'a [(IpAddr, SocketAddr)],
    ) -> PmContext<'a> {
        PmContext {
            client,
            initial: (
                "10.0.1.1:5000".parse().unwrap(),
                "10.0.9.1:80".parse().unwrap(),
            ),
            local_addrs: locals,
            subflows,
        }
    }

    #[test]
    fn the_simple_client_joins_from_its_other_addresses_and_to_announced_ones() {
        let locals = [
            (0, "10.0.1.1".parse().unwrap()),
            (2, "10.0.2.1".parse().unwrap()),
            (3, "fd00::1".parse().unwrap()),
        ];
        let subflows = [(locals[0].1, "10.0.9.1:80".parse().unwrap())];
        let c = ctx(true, &locals, &subflows);
        assert_eq!(
            Simple.on_established(&c),
            [PmAction::OpenSubflow {
                local: locals[1].1,
                remote: "10.0.9.1:80".parse().unwrap(),
                backup: false
            }]
        );
        let announced = Simple.on_announced(&c, 1, "10.0.8.1".parse().unwrap(), None);
        assert_eq!(
            announced,
            [PmAction::OpenSubflow {
                local: locals[0].1,
                remote: "10.0.8.1:80".parse().unwrap(),
                backup: false
            }]
        );
        // A server announces instead, and ignores announcements.
        let s = ctx(false, &locals, &subflows);
        assert_eq!(
            Simple.on_established(&s),
            [PmAction::Announce {
                id: 2,
                addr: locals[1].1
            }]
        );
        assert!(
            Simple
                .on_announced(&s, 1, "10.0.8.1".parse().unwrap(), None)
                .is_empty()
        );
        assert!(Passive.on_established(&c).is_empty());
        for name in PATH_MANAGERS {
            assert_eq!(name.parse::<PathManagerChoice>().unwrap().name(), *name);
        }
        assert!("fullmesh".parse::<PathManagerChoice>().is_err());
    }
}
