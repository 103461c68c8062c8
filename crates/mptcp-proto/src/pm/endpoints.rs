//! `endpoints`: today's Linux in-kernel path manager, configured the way
//! `ip mptcp endpoint add ADDR [port P] [signal] [subflow] [backup] [fullmesh]` configures
//! it, so that a user moving from the kernel finds the same subflows (behaviour observed
//! from Linux 6.x and its documentation, ip-mptcp(8)):
//!
//! - once the connection is established, and again each time a subflow is, each `signal`
//!   endpoint is announced (ADD_ADDR, with its port if it has one) and each `subflow`
//!   endpoint opens a subflow to the peer's initial address — or, if it is also
//!   `fullmesh`, to every peer address a subflow already reaches; each endpoint is used
//!   once per connection, and the connection's subflow limit (`limits.subflows`) bounds
//!   them all;
//! - an address the peer announces (up to `limits.add_addr_accepted`) gets a subflow from
//!   every `fullmesh` endpoint of its family, or, without any, one from the initial local
//!   address;
//! - `backup` makes the endpoint's subflows backups (and the initial subflow too when its
//!   address is a `backup` endpoint);
//! - the endpoint of the initial subflow's address is used by that subflow already;
//! - an endpoint whose address goes away is withdrawn (the connection sends REMOVE_ADDR
//!   for any address it used or announced); when the address comes back the endpoint is
//!   used again.
//!
//! Both roles follow the same rules, as in Linux (a server's `subflow` endpoints open
//! subflows towards the client).

use core::fmt;
use core::net::{IpAddr, SocketAddr};
use core::str::FromStr;

use super::{PathManager, PmAction, PmContext, PmEvent, RemoteAddr};
use crate::ids::SubflowId;

/// One endpoint, as `ip mptcp endpoint add` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The local address.
    pub addr: IpAddr,
    /// For `signal`: the port announced with it, where joins are expected (this stack
    /// accepts joins on any of its ports).
    pub port: Option<u16>,
    /// Announce it to the peer (ADD_ADDR).
    pub signal: bool,
    /// Open a subflow from it.
    pub subflow: bool,
    /// Its subflows are backups.
    pub backup: bool,
    /// Its subflows go to every known peer address, and it answers every announcement.
    pub fullmesh: bool,
}

impl Endpoint {
    /// An endpoint with no flag set (it does nothing until one is).
    pub fn new(addr: IpAddr) -> Self {
        Self {
            addr,
            port: None,
            signal: false,
            subflow: false,
            backup: false,
            fullmesh: false,
        }
    }
}

/// The words an endpoint takes after its address.
pub const ENDPOINT_WORDS: &[&str] = &["port", "signal", "subflow", "backup", "fullmesh"];

/// An endpoint that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad endpoint \"{text}\": {problem} (expected ADDR [port P] [{}]...)", ENDPOINT_WORDS[1..].join("|"))]
pub struct BadEndpoint {
    /// The text.
    pub text: String,
    /// What is wrong.
    pub problem: String,
}

impl FromStr for Endpoint {
    type Err = BadEndpoint;

    /// `ADDR [port P] [signal] [subflow] [backup] [fullmesh]`, as `ip mptcp endpoint add`
    /// takes them.
    ///
    /// ```
    /// use mptcp_proto::pm::Endpoint;
    /// let e: Endpoint = "10.0.2.1 subflow backup".parse().unwrap();
    /// assert!(e.subflow && e.backup && !e.signal);
    /// assert!("10.0.2.1 laminar".parse::<Endpoint>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |problem: String| BadEndpoint {
            text: text.to_owned(),
            problem,
        };
        let mut words = text.split_whitespace();
        let addr = words.next().ok_or_else(|| bad("no address".to_owned()))?;
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| bad(format!("\"{addr}\" is not an IP address")))?;
        let mut endpoint = Endpoint::new(addr);
        while let Some(word) = words.next() {
            match word {
                "signal" => endpoint.signal = true,
                "subflow" => endpoint.subflow = true,
                "backup" => endpoint.backup = true,
                "fullmesh" => endpoint.fullmesh = true,
                "port" => {
                    let port = words.next().unwrap_or_default();
                    let port = port
                        .parse::<u16>()
                        .ok()
                        .filter(|p| *p != 0)
                        .ok_or_else(|| bad(format!("\"{port}\" is not a port")))?;
                    endpoint.port = Some(port);
                }
                other => {
                    return Err(bad(format!(
                        "unknown word \"{other}\"; valid: {}",
                        ENDPOINT_WORDS.join(", ")
                    )));
                }
            }
        }
        if endpoint.fullmesh && endpoint.signal {
            // ip-mptcp(8): fullmesh cannot go with signal.
            return Err(bad("fullmesh cannot go with signal".to_owned()));
        }
        if endpoint.port.is_some() && !endpoint.signal {
            return Err(bad("a port is for signal endpoints".to_owned()));
        }
        Ok(endpoint)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.addr)?;
        if let Some(port) = self.port {
            write!(f, " port {port}")?;
        }
        for (on, word) in [
            (self.signal, "signal"),
            (self.subflow, "subflow"),
            (self.backup, "backup"),
            (self.fullmesh, "fullmesh"),
        ] {
            if on {
                write!(f, " {word}")?;
            }
        }
        Ok(())
    }
}

/// The Linux-style path manager over a list of endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    endpoints: Vec<Endpoint>,
    /// Endpoints (by address) this connection announced.
    signaled: Vec<IpAddr>,
    /// Endpoints (by address) this connection opened its subflow(s) from.
    used: Vec<IpAddr>,
    /// The initial subflow's endpoint was accounted for.
    initial_done: bool,
}

impl Endpoints {
    /// A manager over `endpoints` (in the order `ip mptcp endpoint show` would list them).
    pub fn new(endpoints: Vec<Endpoint>) -> Self {
        Self {
            endpoints,
            ..Self::default()
        }
    }

    /// The endpoints.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// What Linux does when the connection or a subflow becomes established.
    fn announce_and_open(&mut self, ctx: &PmContext<'_>, actions: &mut Vec<PmAction>) {
        let initial = ctx.initial.0.ip();
        if !self.initial_done {
            self.initial_done = true;
            if let Some(e) = self.endpoints.iter().find(|e| e.addr == initial) {
                self.signaled.push(e.addr);
                self.used.push(e.addr);
                if e.backup {
                    actions.push(PmAction::SetBackup {
                        subflow: SubflowId(0),
                        backup: true,
                    });
                }
            }
        }
        for e in self.endpoints.iter().filter(|e| e.signal) {
            let Some(local) = ctx.local(e.addr) else {
                continue;
            };
            if !self.signaled.contains(&e.addr) {
                self.signaled.push(e.addr);
                // (A manager set on a live connection does not announce again.)
                if !ctx.announced.contains(&local.id) {
                    actions.push(PmAction::Announce {
                        id: local.id,
                        addr: e.addr,
                        port: e.port,
                    });
                }
            }
        }
        for e in self.endpoints.iter().filter(|e| e.subflow) {
            if ctx.local(e.addr).is_none() || self.used.contains(&e.addr) {
                continue;
            }
            self.used.push(e.addr);
            // Peer addresses this endpoint has no subflow to yet (a manager set on a live
            // connection sees the subflows already open).
            let remotes: Vec<SocketAddr> = if e.fullmesh {
                let mut reached: Vec<SocketAddr> = Vec::new();
                for s in ctx.subflows.iter().filter(|s| s.is_live()) {
                    if !reached.contains(&s.remote) {
                        reached.push(s.remote);
                    }
                }
                reached
            } else {
                ctx.remote_endpoints()
                    .filter(|(id, _)| *id == 0)
                    .map(|(_, remote)| remote)
                    .collect()
            };
            let remotes = remotes
                .into_iter()
                .filter(|remote| ctx.live_between(e.addr, *remote) == 0);
            for remote in remotes {
                if remote.is_ipv4() == e.addr.is_ipv4() {
                    actions.push(PmAction::OpenSubflow {
                        local: e.addr,
                        remote,
                        backup: e.backup,
                    });
                }
            }
        }
    }

    /// What Linux does when the peer announces an address.
    fn answer(&self, ctx: &PmContext<'_>, remote: &RemoteAddr, actions: &mut Vec<PmAction>) {
        let to = SocketAddr::new(remote.addr, remote.port.unwrap_or(ctx.initial.1.port()));
        let reached = ctx.subflows.iter().any(|s| s.is_live() && s.remote == to);
        if reached {
            return;
        }
        let family = |a: &IpAddr| a.is_ipv4() == to.is_ipv4();
        let fullmesh: Vec<_> = self
            .endpoints
            .iter()
            .filter(|e| e.fullmesh && family(&e.addr) && ctx.local(e.addr).is_some())
            .map(|e| (e.addr, e.backup))
            .collect();
        if fullmesh.is_empty() {
            // No fullmesh endpoint: from the address routing would pick; here the
            // initial one (if the host still has it), or the host's first of the
            // announced family.
            let initial = ctx.initial.0.ip();
            let local = Some(initial)
                .filter(|a| family(a) && ctx.local(*a).is_some())
                .or_else(|| ctx.local_addrs.iter().map(|l| l.addr).find(family));
            if let Some(local) = local {
                actions.push(PmAction::OpenSubflow {
                    local,
                    remote: to,
                    backup: false,
                });
            }
            return;
        }
        actions.extend(
            fullmesh
                .into_iter()
                .map(|(local, backup)| PmAction::OpenSubflow {
                    local,
                    remote: to,
                    backup,
                }),
        );
    }
}

impl PathManager for Endpoints {
    fn name(&self) -> &'static str {
        "endpoints"
    }

    fn on_event(&mut self, ctx: &PmContext<'_>, event: &PmEvent) -> Vec<PmAction> {
        let mut actions = Vec::new();
        match event {
            PmEvent::Established
            | PmEvent::SubflowEstablished(_)
            | PmEvent::LocalAddressAdded(_) => {
                self.announce_and_open(ctx, &mut actions);
            }
            PmEvent::AddressAnnounced(remote) => self.answer(ctx, remote, &mut actions),
            PmEvent::LocalAddressRemoved(local) => {
                // (The connection sent REMOVE_ADDR.) When it returns, it is used again.
                self.signaled.retain(|a| *a != local.addr);
                self.used.retain(|a| *a != local.addr);
            }
            PmEvent::SubflowClosed { .. } | PmEvent::AddressRemoved(_) | PmEvent::Timer => {}
        }
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pm::{test_ctx, test_local, test_open as open, test_subflow};

    fn endpoints(list: &[&str]) -> Endpoints {
        Endpoints::new(list.iter().map(|e| e.parse().unwrap()).collect())
    }

    #[test]
    fn endpoints_parse_as_ip_mptcp_takes_them_and_print_back() {
        for text in [
            "10.0.2.1 subflow",
            "10.0.2.1 subflow backup fullmesh",
            "fd00::2 port 8080 signal",
            "10.0.2.1 signal subflow",
        ] {
            let e: Endpoint = text.parse().unwrap();
            assert_eq!(e.to_string(), text);
        }
        for bad in [
            "",
            "ten subflow",
            "10.0.2.1 laminar",
            "10.0.2.1 port 0 signal",
            "10.0.2.1 port",
            "10.0.2.1 signal fullmesh",
            "10.0.2.1 port 80 subflow",
        ] {
            let error = bad.parse::<Endpoint>().unwrap_err();
            assert!(error.to_string().contains("expected ADDR"), "{error}");
        }
    }

    #[test]
    fn subflow_endpoints_join_the_initial_address_and_signal_ones_are_announced() {
        let locals = [
            test_local(0, "10.0.1.1"),
            test_local(2, "10.0.2.1"),
            test_local(3, "10.0.5.1"),
        ];
        let subflows = [test_subflow(0, "10.0.1.1:5000", "10.0.9.1:80")];
        let ctx = test_ctx(true, &locals, &[], &subflows);
        let mut pm = endpoints(&[
            "10.0.1.1 subflow backup",
            "10.0.2.1 subflow backup",
            "10.0.5.1 port 8080 signal",
            "10.0.7.1 subflow",
        ]);
        assert_eq!(
            pm.on_event(&ctx, &PmEvent::Established),
            [
                PmAction::SetBackup {
                    subflow: SubflowId(0),
                    backup: true
                },
                PmAction::Announce {
                    id: 3,
                    addr: "10.0.5.1".parse().unwrap(),
                    port: Some(8080)
                },
                open("10.0.2.1", "10.0.9.1:80", true),
            ],
            "the initial address's endpoint is the initial subflow's; 10.0.7.1 is not ours"
        );
        assert!(
            pm.on_event(&ctx, &PmEvent::Established).is_empty(),
            "once each"
        );
    }

    #[test]
    fn announcements_are_answered_from_fullmesh_endpoints_or_the_initial_address() {
        let locals = [test_local(0, "10.0.1.1"), test_local(2, "10.0.2.1")];
        let subflows = [test_subflow(0, "10.0.1.1:5000", "10.0.9.1:80")];
        let remote = RemoteAddr {
            id: 4,
            addr: "10.0.8.1".parse().unwrap(),
            port: None,
        };
        let remotes = [remote];
        let ctx = test_ctx(true, &locals, &remotes, &subflows);
        let event = PmEvent::AddressAnnounced(remote);
        assert_eq!(
            endpoints(&["10.0.2.1 subflow"]).on_event(&ctx, &event),
            [open("10.0.1.1", "10.0.8.1:80", false)]
        );
        assert_eq!(
            endpoints(&[
                "10.0.1.1 subflow fullmesh",
                "10.0.2.1 subflow fullmesh backup"
            ])
            .on_event(&ctx, &event),
            [
                open("10.0.1.1", "10.0.8.1:80", false),
                open("10.0.2.1", "10.0.8.1:80", true)
            ]
        );
    }

    #[test]
    fn a_fullmesh_subflow_endpoint_reaches_every_peer_address_a_subflow_reaches() {
        let locals = [test_local(0, "10.0.1.1"), test_local(2, "10.0.2.1")];
        let subflows = [
            test_subflow(0, "10.0.1.1:5000", "10.0.9.1:80"),
            test_subflow(1, "10.0.1.1:5001", "10.0.8.1:80"),
        ];
        let ctx = test_ctx(true, &locals, &[], &subflows);
        assert_eq!(
            endpoints(&["10.0.2.1 subflow fullmesh"]).on_event(&ctx, &PmEvent::Established),
            [
                open("10.0.2.1", "10.0.9.1:80", false),
                open("10.0.2.1", "10.0.8.1:80", false)
            ]
        );
    }

    #[test]
    fn set_on_a_live_connection_it_opens_only_what_is_missing() {
        let locals = [test_local(0, "10.0.1.1"), test_local(2, "10.0.2.1")];
        let subflows = [
            test_subflow(0, "10.0.1.1:5000", "10.0.9.1:80"),
            test_subflow(1, "10.0.2.1:5001", "10.0.9.1:80"),
        ];
        let mut ctx = test_ctx(true, &locals, &[], &subflows);
        ctx.announced = &[2];
        let mut pm = endpoints(&["10.0.2.1 subflow", "10.0.2.1 signal"]);
        assert!(pm.on_event(&ctx, &PmEvent::Established).is_empty());
    }

    #[test]
    fn an_endpoint_whose_address_goes_is_withdrawn_and_used_again_when_it_returns() {
        let locals = [test_local(0, "10.0.1.1"), test_local(2, "10.0.2.1")];
        let subflows = [test_subflow(0, "10.0.1.1:5000", "10.0.9.1:80")];
        let ctx = test_ctx(true, &locals, &[], &subflows);
        let mut pm = endpoints(&["10.0.2.1 subflow"]);
        assert_eq!(pm.on_event(&ctx, &PmEvent::Established).len(), 1);
        assert!(
            pm.on_event(&ctx, &PmEvent::LocalAddressRemoved(locals[1]))
                .is_empty()
        );
        assert_eq!(
            pm.on_event(&ctx, &PmEvent::LocalAddressAdded(locals[1])),
            [open("10.0.2.1", "10.0.9.1:80", false)]
        );
    }
}
