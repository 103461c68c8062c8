//! Path managers: which subflows a connection opens, closes and prioritises, and which of
//! our addresses it announces or withdraws.
//!
//! A [`PathManager`] hears the life of its connection as [`PmEvent`]s (established, a
//! subflow established or closed with the reason, the peer announcing or removing an
//! address, one of our addresses appearing or going away, a timer it asked for), sees the
//! connection's addresses and subflows in a [`PmContext`], and answers with [`PmAction`]s,
//! which the connection carries out (opening a subflow goes through the stack, which owns
//! ports and interfaces). This is the shape of the multipath-tcp.org kernel's path-manager
//! hooks and of Linux's path-manager events (`MPTCP_EVENT_*`), in one call.
//!
//! Managers are chosen by name ([`PathManagerChoice`]), like the `path_manager` setting of
//! the seeds' kernel, or built with their parameters, or brought by the application
//! ([`PathManagerChoice::new`] takes any `PathManager + Clone`). Built in, one file each:
//!
//! - `default` ([`Passive`]): announces nothing and opens nothing; the peer's subflows are
//!   accepted. `userspace` is the same manager under the name Linux gives it: the
//!   application opens, closes and announces itself, reacting to the connection's events.
//! - `simple` ([`Simple`]): the client opens a subflow from each of its other addresses to
//!   the server's initial address, and one to each address the server announces; the
//!   server announces its other addresses.
//! - `fullmesh` ([`FullMesh`]): a subflow (or `num_subflows`) between every local and every
//!   known remote address, following addresses as they come and go.
//! - `ndiffports` ([`NDiffPorts`]): `num_subflows` subflows on the initial address pair,
//!   from different source ports.
//! - `endpoints` ([`Endpoints`]): today's Linux in-kernel path manager over endpoints
//!   configured like `ip mptcp endpoint add ADDR [signal] [subflow] [backup] [fullmesh]`
//!   (by name it has none: it only answers the peer's announcements, like Linux without
//!   endpoints; give it its list with `PathManagerChoice::new(Endpoints::new(...))`).

mod endpoints;
mod fullmesh;
mod ndiffports;
mod passive;
mod simple;

use core::fmt;
use core::net::{IpAddr, SocketAddr};
use core::str::FromStr;
use core::time::Duration;
use std::sync::Arc;

pub use endpoints::{BadEndpoint, ENDPOINT_WORDS, Endpoint, Endpoints};
pub use fullmesh::FullMesh;
pub use ndiffports::NDiffPorts;
pub use passive::Passive;
pub use simple::Simple;

use crate::ids::SubflowId;
use crate::tcp::CloseReason;
use crate::time::Instant;

/// One of our addresses as a connection knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddr {
    /// Its address id (RFC 8684 §3.4.1); the initial subflow's address is 0.
    pub id: u8,
    /// The address.
    pub addr: IpAddr,
    /// Its interface is a backup one: subflows from it should be backups (the seeds'
    /// `MPTCP_FLAG_BACKUP` on an interface, `ip link set dev X multipath backup`).
    pub backup: bool,
}

/// An address the peer announced (ADD_ADDR, RFC 8684 §3.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAddr {
    /// Its address id.
    pub id: u8,
    /// The address.
    pub addr: IpAddr,
    /// The port, when not the connection's.
    pub port: Option<u16>,
}

/// Where a subflow stands, as a path manager needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PmSubflowState {
    /// Its handshake is under way.
    Opening,
    /// Established and not closing.
    Established,
    /// Closing or closed, and not yet forgotten.
    Closing,
}

/// A subflow as a path manager sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PmSubflow {
    /// Its id.
    pub id: SubflowId,
    /// Our address and port.
    pub local: SocketAddr,
    /// The peer's address and port.
    pub remote: SocketAddr,
    /// Our address id.
    pub local_id: u8,
    /// The peer's address id, once known.
    pub remote_id: Option<u8>,
    /// Where it stands.
    pub state: PmSubflowState,
    /// We asked for it to be a backup (MP_JOIN's B flag or MP_PRIO).
    pub backup: bool,
}

impl PmSubflow {
    /// It is opening or established (not on its way out).
    pub fn is_live(&self) -> bool {
        self.state != PmSubflowState::Closing
    }
}

/// What a path manager can see of its connection.
#[derive(Debug, Clone, Copy)]
pub struct PmContext<'a> {
    /// Now.
    pub now: Instant,
    /// We opened the connection.
    pub client: bool,
    /// The initial subflow's local and remote address.
    pub initial: (SocketAddr, SocketAddr),
    /// The host's usable addresses with their ids and flags.
    pub local_addrs: &'a [LocalAddr],
    /// The addresses the peer announced and has not withdrawn.
    pub remote_addrs: &'a [RemoteAddr],
    /// Every subflow not yet forgotten.
    pub subflows: &'a [PmSubflow],
    /// Our address ids announced to the peer and not withdrawn.
    pub announced: &'a [u8],
    /// The peer withdrew its initial address (REMOVE_ADDR with id 0): no new subflow
    /// should go there.
    pub initial_remote_withdrawn: bool,
}

impl PmContext<'_> {
    /// The live subflows (opening or established) from `local` to `remote`.
    pub fn live_between(&self, local: IpAddr, remote: SocketAddr) -> usize {
        self.subflows
            .iter()
            .filter(|s| s.is_live() && s.local.ip() == local && s.remote == remote)
            .count()
    }

    /// The peer's addresses we know: the initial one (id 0) and the announced ones, each
    /// with the port to connect to.
    pub fn remote_endpoints(&self) -> impl Iterator<Item = (u8, SocketAddr)> + '_ {
        let port = self.initial.1.port();
        let initial = (!self.initial_remote_withdrawn).then_some((0, self.initial.1));
        initial.into_iter().chain(
            self.remote_addrs
                .iter()
                .map(move |r| (r.id, SocketAddr::new(r.addr, r.port.unwrap_or(port)))),
        )
    }

    /// Our address `addr`, if the host has it.
    pub fn local(&self, addr: IpAddr) -> Option<&LocalAddr> {
        self.local_addrs.iter().find(|l| l.addr == addr)
    }

    /// Where subflows to the peer's address `remote` go: its port, or the connection's.
    pub fn endpoint_of(&self, remote: &RemoteAddr) -> SocketAddr {
        SocketAddr::new(remote.addr, remote.port.unwrap_or(self.initial.1.port()))
    }
}

/// Something that happened to the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PmEvent {
    /// The connection is established and speaks MPTCP (from now on subflows can join).
    /// A manager set on a live connection hears this first, then every address the peer
    /// announced so far.
    Established,
    /// A subflow completed its handshake.
    SubflowEstablished(PmSubflow),
    /// A subflow ended (it is no longer among the context's live subflows).
    SubflowClosed {
        /// The subflow as it was.
        subflow: PmSubflow,
        /// How its TCP connection ended (a join that timed out is
        /// [`CloseReason::TimedOut`], one the peer refused [`CloseReason::Refused`]).
        reason: CloseReason,
    },
    /// The peer announced an address (ADD_ADDR with a valid HMAC, within the limit).
    AddressAnnounced(RemoteAddr),
    /// The peer withdrew an address (REMOVE_ADDR; id 0 is its initial address), or gave
    /// its id another address (a NAT rebinding, say: `AddressAnnounced` follows with the
    /// new one). The subflows to it are closing, those still opening too.
    AddressRemoved(RemoteAddr),
    /// The host gained an address.
    LocalAddressAdded(LocalAddr),
    /// The host lost an address; the subflows from it are closing and their data went to
    /// the others.
    LocalAddressRemoved(LocalAddr),
    /// The time asked for with [`PmAction::WakeAt`] came.
    Timer,
}

/// What a path manager asks its connection to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PmAction {
    /// Open a subflow from `local` to `remote` (MP_JOIN, RFC 8684 §3.2) from a fresh
    /// ephemeral port.
    OpenSubflow {
        /// Our address.
        local: IpAddr,
        /// The peer's address and port.
        remote: SocketAddr,
        /// Ask for it as a backup subflow.
        backup: bool,
    },
    /// Close a subflow; its data goes on the others.
    CloseSubflow(SubflowId),
    /// Announce one of our addresses (ADD_ADDR, RFC 8684 §3.4.1), with a port when
    /// joins should go to another than the connection's.
    Announce {
        /// Its address id.
        id: u8,
        /// The address.
        addr: IpAddr,
        /// The port, if not the connection's.
        port: Option<u16>,
    },
    /// Withdraw our address id (REMOVE_ADDR, RFC 8684 §3.4.2): its subflows close.
    Withdraw(u8),
    /// Make a subflow a backup, or a regular one again (MP_PRIO, RFC 8684 §3.3.8).
    SetBackup {
        /// Which subflow.
        subflow: SubflowId,
        /// Backup or not.
        backup: bool,
    },
    /// Hear [`PmEvent::Timer`] at this time (one timer per manager; a later request
    /// replaces an earlier one).
    WakeAt(Instant),
}

/// Decides a connection's subflows and announcements. One per connection; it hears every
/// [`PmEvent`] of its connection in order.
pub trait PathManager: fmt::Debug + Send {
    /// Its name (the one [`PathManagerChoice`] parses, for built-in ones).
    fn name(&self) -> &'static str;

    /// Something happened: what should the connection do?
    fn on_event(&mut self, ctx: &PmContext<'_>, event: &PmEvent) -> Vec<PmAction>;
}

/// The names [`PathManagerChoice`] takes.
pub const PATH_MANAGERS: &[&str] = &[
    "default",
    "userspace",
    "simple",
    "fullmesh",
    "ndiffports",
    "endpoints",
];

/// How long the seeds' fullmesh waits before it tries again a subflow that could not be
/// created or that timed out.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Which path manager a connection uses: a built-in one by name (`"fullmesh".parse()`),
/// a built-in one with its parameters (`PathManagerChoice::new(NDiffPorts::new(4))`), or
/// one of the application's own (any `PathManager + Clone`). Each connection gets its own
/// copy. An unknown name is an error that lists the valid ones, never a silent default.
///
/// ```
/// use mptcp_proto::pm::PathManagerChoice;
/// assert_eq!("default".parse::<PathManagerChoice>().unwrap().name(), "default");
/// assert_eq!(
///     "binder".parse::<PathManagerChoice>().unwrap_err().to_string(),
///     "unknown path manager \"binder\"; valid: default, userspace, simple, fullmesh, ndiffports, \
///      endpoints"
/// );
/// ```
#[derive(Clone)]
pub struct PathManagerChoice {
    name: &'static str,
    build: Arc<dyn Fn() -> Box<dyn PathManager> + Send + Sync>,
}

impl PathManagerChoice {
    /// Every connection starts with a copy of `manager`.
    pub fn new<P: PathManager + Clone + Sync + 'static>(manager: P) -> Self {
        Self {
            name: manager.name(),
            build: Arc::new(move || Box::new(manager.clone())),
        }
    }

    /// Its name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// A new path manager of this kind, for one connection.
    pub(crate) fn build(&self) -> Box<dyn PathManager> {
        (self.build)()
    }
}

impl Default for PathManagerChoice {
    /// `simple`.
    fn default() -> Self {
        Self::new(Simple)
    }
}

impl FromStr for PathManagerChoice {
    type Err = UnknownPathManager;

    /// A built-in manager with its default parameters (the seeds' module parameters).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "default" => Ok(Self::new(Passive::DEFAULT)),
            "userspace" => Ok(Self::new(Passive::USERSPACE)),
            "simple" => Ok(Self::new(Simple)),
            "fullmesh" => Ok(Self::new(FullMesh::default())),
            "ndiffports" => Ok(Self::new(NDiffPorts::default())),
            "endpoints" => Ok(Self::new(Endpoints::default())),
            _ => Err(UnknownPathManager {
                name: name.to_owned(),
            }),
        }
    }
}

impl PartialEq for PathManagerChoice {
    /// Same name (parameters are not compared).
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for PathManagerChoice {}

impl fmt::Debug for PathManagerChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PathManagerChoice")
            .field(&self.name)
            .finish()
    }
}

/// A path manager name that [`PATH_MANAGERS`] does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown path manager \"{name}\"; valid: {}", PATH_MANAGERS.join(", "))]
pub struct UnknownPathManager {
    /// The name asked for.
    pub name: String,
}

/// A context for the managers' unit tests: a client (or server) whose initial subflow
/// goes from 10.0.1.1:5000 to 10.0.9.1:80.
#[cfg(test)]
pub(crate) fn test_ctx<'a>(
    client: bool,
    local_addrs: &'a [LocalAddr],
    remote_addrs: &'a [RemoteAddr],
    subflows: &'a [PmSubflow],
) -> PmContext<'a> {
    PmContext {
        now: Instant::ZERO,
        client,
        initial: (
            "10.0.1.1:5000".parse().unwrap(),
            "10.0.9.1:80".parse().unwrap(),
        ),
        local_addrs,
        remote_addrs,
        subflows,
        announced: &[],
        initial_remote_withdrawn: false,
    }
}

/// A live, established subflow for the unit tests.
#[cfg(test)]
pub(crate) fn test_subflow(id: u32, local: &str, remote: &str) -> PmSubflow {
    PmSubflow {
        id: SubflowId(id),
        local: local.parse().unwrap(),
        remote: remote.parse().unwrap(),
        local_id: 0,
        remote_id: Some(0),
        state: PmSubflowState::Established,
        backup: false,
    }
}

/// `OpenSubflow` from `local` to `remote`, for the unit tests.
#[cfg(test)]
pub(crate) fn test_open(local: &str, remote: &str, backup: bool) -> PmAction {
    PmAction::OpenSubflow {
        local: local.parse().unwrap(),
        remote: remote.parse().unwrap(),
        backup,
    }
}

/// A local address for the unit tests.
#[cfg(test)]
pub(crate) fn test_local(id: u8, addr: &str) -> LocalAddr {
    LocalAddr {
        id,
        addr: addr.parse().unwrap(),
        backup: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_to_itself_and_others_are_refused_with_the_list() {
        for name in PATH_MANAGERS {
            let choice: PathManagerChoice = name.parse().unwrap();
            assert_eq!(choice.name(), *name);
            assert_eq!(choice.build().name(), *name);
        }
        let error = "binder".parse::<PathManagerChoice>().unwrap_err();
        assert!(error.to_string().contains("fullmesh, ndiffports"));
    }

    #[test]
    fn the_context_lists_the_initial_and_announced_remote_endpoints() {
        let remotes = [RemoteAddr {
            id: 3,
            addr: "10.0.8.1".parse().unwrap(),
            port: Some(8080),
        }];
        let subflows = [test_subflow(0, "10.0.1.1:5000", "10.0.9.1:80")];
        let ctx = test_ctx(true, &[], &remotes, &subflows);
        let endpoints: Vec<_> = ctx.remote_endpoints().collect();
        assert_eq!(
            endpoints,
            [
                (0, "10.0.9.1:80".parse().unwrap()),
                (3, "10.0.8.1:8080".parse().unwrap())
            ]
        );
        assert_eq!(
            ctx.live_between("10.0.1.1".parse().unwrap(), "10.0.9.1:80".parse().unwrap()),
            1
        );
    }
}
