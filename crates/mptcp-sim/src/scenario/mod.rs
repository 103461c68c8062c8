//! Scenarios: a whole experiment — hosts, routers, links, scheduled link changes,
//! applications, seed and duration — written in TOML or built in Rust, then turned into a
//! [`Simulation`](crate::Simulation) by [`Scenario::build`].
//!
//! ```toml
//! seed = 42
//! duration = "10s"
//!
//! [[hosts]]
//! name = "client"
//! addresses = ["10.0.1.1/24", "10.0.2.1/24"]   # one per interface
//!
//! [[hosts]]
//! name = "server"
//! addresses = ["10.0.3.1/24"]
//! # optional: the stack's settings by their names (`mptcp settings` lists them all)
//! settings = { mptcp.scheduler = "roundrobin", roundrobin.num_segments = 2, tcp.sack = true }
//! # profile = "overflow"        # instead of mptcp.scheduler: "bulk", "overflow", "hot-standby"
//! # backup = [1]                # interfaces whose subflows are backups
//! # endpoints = ["10.0.3.1 signal"]   # the `endpoints` path manager, as `ip mptcp endpoint`
//! # address_changes = [{ at = "2s", iface = 0, action = "remove" },
//! #                    { at = "4s", iface = 0, action = "add" }]
//!
//! [[routers]]
//! name = "r"
//! routes = [
//!     { prefix = "10.0.1.0/24", iface = 0 },
//!     { prefix = "10.0.2.0/24", iface = 1 },
//!     { prefix = "10.0.3.0/24", iface = 2 },
//! ]
//!
//! [[links]]
//! name = "wifi"
//! a = "client:0"
//! b = "r:0"
//! rate = "20Mbit"
//! delay = "15ms"
//! jitter = "2ms"
//! loss = { model = "gilbert-elliott", p = 0.01, r = 0.3 }
//! queue = { packets = 100 }
//! middleboxes = [{ kind = "strip-option", option = 30 }]   # or "drop-syn" (option = 30)
//!
//! [[links]]
//! a = "client:1"
//! b = "r:1"
//! rate = "100Mbit"
//! delay = "5ms"
//!
//! [[links]]
//! a = "r:2"
//! b = "server:0"
//! capture = "server.pcap"
//!
//! [[events]]
//! at = "3s"
//! link = "wifi"
//! action = "down"
//!
//! [[apps]]
//! kind = "server"
//! host = "server"
//! port = 80
//!
//! [[apps]]
//! kind = "bulk"
//! host = "client"
//! start = "100ms"
//! connect = "10.0.3.1:80"
//! bytes = 10_000_000
//! ```
//!
//! Unknown keys are errors (a misspelt `dealy` does not silently mean "no delay"), and
//! every error names the place it was found.

mod apps;
mod build;
mod error;
mod settings;
mod units;

use core::net::SocketAddr;

use mptcp_proto::pm::{Endpoints, PathManagerChoice};
use mptcp_proto::sched::{Profile, UnknownProfile};
use mptcp_proto::settings::Settings;
use serde::Deserialize;

pub use apps::AppSpec;
pub use build::BuiltScenario;
pub use error::ScenarioError;
pub use settings::SettingsSpec;
pub use units::{Endpoint, Prefix, Rate, Time, UnitError};

use crate::link::Direction;

/// A whole experiment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Seed of every random draw.
    pub seed: u64,
    /// How long to run.
    pub duration: Time,
    /// End hosts.
    #[serde(default)]
    pub hosts: Vec<HostSpec>,
    /// Routers.
    #[serde(default)]
    pub routers: Vec<RouterSpec>,
    /// Links.
    #[serde(default)]
    pub links: Vec<LinkSpec>,
    /// Scheduled link changes.
    #[serde(default)]
    pub events: Vec<EventSpec>,
    /// Applications.
    #[serde(default)]
    pub apps: Vec<AppSpec>,
}

/// An end host: its name, the address of each interface, in order, and its TCP settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// Unique among hosts and routers.
    pub name: String,
    /// Address and prefix length of interface 0, 1, ...
    pub addresses: Vec<Prefix>,
    /// The stack's settings (`mptcp_proto::settings`), by name; the defaults if absent.
    #[serde(default)]
    pub settings: SettingsSpec,
    /// An application profile (see `mptcp_proto::sched::PROFILES`), instead of a
    /// scheduler: it names one.
    #[serde(default)]
    pub profile: Option<String>,
    /// Interfaces (by index) that are backups: path managers open backup subflows from
    /// their addresses (a phone's cellular, say).
    #[serde(default)]
    pub backup: Vec<usize>,
    /// The host's addresses going away and coming back while it runs (what a phone leaving
    /// Wi-Fi looks like to its stack), in any order.
    #[serde(default)]
    pub address_changes: Vec<AddressChangeSpec>,
    /// Endpoints for the `endpoints` path manager, as `ip mptcp endpoint add` takes them
    /// (`"10.0.2.1 subflow backup"`); giving any chooses that path manager.
    #[serde(default)]
    pub endpoints: Vec<String>,
}

/// An address of a host removed or given back at a time:
/// `{ at = "2s", iface = 1, action = "remove" }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressChangeSpec {
    /// When.
    pub at: Time,
    /// Which interface's address (the host's `addresses` give it).
    pub iface: usize,
    /// Remove it or give it back.
    pub action: AddressAction,
}

/// What happens to the address: `"remove"` or `"add"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddressAction {
    /// The host loses it: its subflows close, path managers hear it.
    Remove,
    /// The host has it (again).
    Add,
}

impl HostSpec {
    /// The `endpoints` path manager over the host's endpoints, if it has any.
    pub fn endpoints(&self) -> Result<Option<PathManagerChoice>, String> {
        if self.endpoints.is_empty() {
            return Ok(None);
        }
        if self.settings.has("mptcp.path_manager") {
            return Err(
                "both mptcp.path_manager and endpoints (endpoints choose the \
                        `endpoints` path manager)"
                    .to_owned(),
            );
        }
        let endpoints = self
            .endpoints
            .iter()
            .map(|e| {
                e.parse::<mptcp_proto::pm::Endpoint>()
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(PathManagerChoice::new(Endpoints::new(endpoints))))
    }

    /// The settings of this host's stack, its profile's scheduler included.
    pub fn settings(&self) -> Result<Settings, String> {
        self.settings_with(&SettingsSpec::default())
    }

    /// The settings of connections with `extra` settings of their own, over the host's.
    pub fn settings_with(&self, extra: &SettingsSpec) -> Result<Settings, String> {
        let mut spec = self.settings.clone();
        spec.0.extend(extra.0.iter().cloned());
        let mut settings = spec.settings().map_err(|e| e.to_string())?;
        if let Some(profile) = &self.profile {
            if spec.has("mptcp.scheduler") {
                return Err("both mptcp.scheduler and a profile (a profile names its \
                            scheduler)"
                    .to_owned());
            }
            let profile: Profile = profile.parse().map_err(|e: UnknownProfile| e.to_string())?;
            settings
                .set("mptcp.scheduler", profile.scheduler().name())
                .map_err(|e| e.to_string())?;
        }
        Ok(settings)
    }
}

/// A router and its static routing table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterSpec {
    /// Unique among hosts and routers.
    pub name: String,
    /// Routes; several with the same prefix share the traffic by flow (ECMP).
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
    /// Middleboxes on the router.
    #[serde(default)]
    pub middleboxes: Vec<RouterMiddleboxSpec>,
}

/// A route: packets to `prefix` leave on `iface`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Destination prefix.
    pub prefix: Prefix,
    /// Outgoing interface.
    pub iface: usize,
}

/// A middlebox on a router, with the interface whose arrivals are its `a → b` direction.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterMiddleboxSpec {
    /// The inside interface.
    pub inside: usize,
    /// The middlebox.
    pub middlebox: MiddleboxSpec,
}

/// A middlebox (see [`crate::middlebox`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum MiddleboxSpec {
    /// [`OptionStripper`](crate::middlebox::OptionStripper).
    StripOption {
        /// The option kind (30 for MPTCP).
        option: u8,
        /// Packets to let through untouched first (both directions; default 0).
        #[serde(default)]
        after: u64,
    },
    /// [`SynDropper`](crate::middlebox::SynDropper).
    DropSyn {
        /// The option kind whose SYNs are dropped (30 for MPTCP).
        option: u8,
    },
    /// [`SeqRewriter`](crate::middlebox::SeqRewriter).
    SeqRewrite {
        /// Offset added to sequence numbers.
        offset: u32,
    },
    /// [`PortNat`](crate::middlebox::PortNat).
    Nat {
        /// First port allocated.
        first_port: u16,
    },
    /// [`PayloadRewriter`](crate::middlebox::PayloadRewriter).
    PayloadRewrite {
        /// Text to find.
        find: String,
        /// Text of the same length to put instead.
        replace: String,
        /// Only this direction (both if absent).
        #[serde(default)]
        direction: Option<DirectionSpec>,
        /// Segments with payload to let through untouched first (default 0).
        #[serde(default)]
        after: u64,
        /// Edit at most this many segments (no limit if absent).
        #[serde(default)]
        segments: Option<u64>,
    },
}

/// A direction of a link, written "a-to-b" or "b-to-a".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DirectionSpec {
    /// From end `a`.
    AToB,
    /// From end `b`.
    BToA,
}

impl From<DirectionSpec> for Direction {
    fn from(spec: DirectionSpec) -> Self {
        match spec {
            DirectionSpec::AToB => Direction::AToB,
            DirectionSpec::BToA => Direction::BToA,
        }
    }
}

/// A loss model (see [`LossModel`](crate::link::LossModel)).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LossSpec {
    /// Independent loss.
    Random {
        /// Loss probability.
        probability: f64,
    },
    /// Gilbert–Elliott bursty loss.
    GilbertElliott {
        /// Good → bad probability.
        p: f64,
        /// Bad → good probability.
        r: f64,
        /// Loss in the good state (default 0).
        #[serde(default)]
        loss_good: f64,
        /// Loss in the bad state (default 1).
        #[serde(default = "one")]
        loss_bad: f64,
    },
}

fn one() -> f64 {
    1.0
}

/// A drop-tail queue limit: exactly one of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    /// In packets.
    pub packets: Option<usize>,
    /// In bytes.
    pub bytes: Option<usize>,
}

/// Reordering (see [`Reorder`](crate::link::Reorder)).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReorderSpec {
    /// Fraction of packets held back.
    pub probability: f64,
    /// How long.
    pub delay: Time,
}

/// A link between two interfaces; every parameter applies to both directions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Name, for events to refer to.
    #[serde(default)]
    pub name: Option<String>,
    /// End `a`.
    pub a: Endpoint,
    /// End `b`.
    pub b: Endpoint,
    /// Rate (infinite if absent).
    #[serde(default)]
    pub rate: Option<Rate>,
    /// Propagation delay.
    #[serde(default)]
    pub delay: Time,
    /// Jitter (without reordering).
    #[serde(default)]
    pub jitter: Time,
    /// Loss.
    #[serde(default)]
    pub loss: Option<LossSpec>,
    /// Reordering.
    #[serde(default)]
    pub reorder: Option<ReorderSpec>,
    /// Duplication probability.
    #[serde(default)]
    pub duplicate: f64,
    /// Corruption probability.
    #[serde(default)]
    pub corrupt: f64,
    /// Queue limit (unlimited if absent).
    #[serde(default)]
    pub queue: Option<QueueSpec>,
    /// MTU (1500 if absent).
    #[serde(default)]
    pub mtu: Option<usize>,
    /// Middleboxes on the link.
    #[serde(default)]
    pub middleboxes: Vec<MiddleboxSpec>,
    /// A pcap file to write the link's packets into.
    #[serde(default)]
    pub capture: Option<String>,
}

impl LinkSpec {
    /// An ideal link between `a` and `b`; set the other fields as needed.
    pub fn new(a: Endpoint, b: Endpoint) -> Self {
        Self {
            name: None,
            a,
            b,
            rate: None,
            delay: Time::default(),
            jitter: Time::default(),
            loss: None,
            reorder: None,
            duplicate: 0.0,
            corrupt: 0.0,
            queue: None,
            mtu: None,
            middleboxes: Vec::new(),
            capture: None,
        }
    }
}

/// A change of a link at a time.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// When.
    pub at: Time,
    /// The link's name.
    pub link: String,
    /// Only this direction (both if absent; up and down always affect both).
    #[serde(default)]
    pub direction: Option<DirectionSpec>,
    /// What changes.
    pub action: ActionSpec,
}

/// What a scheduled event does: `"down"`, `"up"`, `{ rate = "10Mbit" }`,
/// `{ delay = "50ms" }` or `{ loss = { model = "random", probability = 0.1 } }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum ActionSpec {
    /// The link goes down.
    Down,
    /// The link comes up.
    Up,
    /// New rate.
    Rate(Rate),
    /// New delay.
    Delay(Time),
    /// New loss model.
    Loss(LossSpec),
}

impl Scenario {
    /// Parses and validates a scenario written in TOML.
    pub fn from_toml_str(text: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario = toml::from_str(text)?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// The applications that run on host `name`.
    pub fn apps_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a AppSpec> + 'a {
        self.apps.iter().filter(move |app| app.host() == name)
    }

    /// Checks names, references and values (building checks the rest: interfaces used
    /// twice, probabilities).
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let mut names = std::collections::HashSet::new();
        let all = self.hosts.iter().map(|h| &h.name);
        for name in all.chain(self.routers.iter().map(|r| &r.name)) {
            if !names.insert(name.as_str()) {
                return Err(ScenarioError::DuplicateName(name.clone()));
            }
        }
        let invalid = |place: String, problem: &str| ScenarioError::Invalid {
            place,
            problem: problem.to_owned(),
        };
        for host in &self.hosts {
            let place = format!("host {:?}", host.name);
            if let Err(problem) = host.settings().and_then(|_| host.endpoints()) {
                return Err(invalid(place, &problem));
            }
            let ifaces = host.addresses.len();
            let changes = host.address_changes.iter().map(|c| c.iface);
            if host
                .backup
                .iter()
                .copied()
                .chain(changes)
                .any(|i| i >= ifaces)
            {
                return Err(invalid(
                    place,
                    "an interface index in backup or address_changes beyond its addresses",
                ));
            }
        }
        for (index, link) in self.links.iter().enumerate() {
            let place = link_place(index, link);
            for end in [&link.a, &link.b] {
                self.check_end(&place, end)?;
            }
            if let Some(queue) = link.queue
                && queue.packets.is_some() == queue.bytes.is_some()
            {
                return Err(invalid(
                    place,
                    "a queue limit needs exactly one of packets, bytes",
                ));
            }
            if link.mtu.is_some_and(|mtu| mtu < 68) {
                return Err(invalid(place, "an MTU below 68 bytes"));
            }
        }
        for (index, event) in self.events.iter().enumerate() {
            if !self
                .links
                .iter()
                .any(|l| l.name.as_deref() == Some(&event.link))
            {
                return Err(ScenarioError::Unknown {
                    place: format!("event {index}"),
                    kind: "link",
                    name: event.link.clone(),
                });
            }
        }
        for (index, app) in self.apps.iter().enumerate() {
            let place = format!("app {index}");
            let Some(host) = self.hosts.iter().find(|h| h.name == app.host()) else {
                return Err(ScenarioError::Unknown {
                    place,
                    kind: "host",
                    name: app.host().to_owned(),
                });
            };
            if let Some(problem) = app.problem() {
                return Err(invalid(place, problem));
            }
            if let Err(problem) = host.settings_with(app.settings()) {
                return Err(invalid(place, &problem));
            }
            if let AppSpec::Bulk { connect, .. }
            | AppSpec::Download { connect, .. }
            | AppSpec::Exchange { connect, .. }
            | AppSpec::RequestResponse { connect, .. }
            | AppSpec::OnOff { connect, .. } = app
                && !self.has_address(*connect)
            {
                return Err(invalid(place, "connects to an address no host has"));
            }
        }
        Ok(())
    }

    fn has_address(&self, target: SocketAddr) -> bool {
        self.hosts
            .iter()
            .flat_map(|h| &h.addresses)
            .any(|prefix| prefix.addr == target.ip())
    }

    fn check_end(&self, place: &str, end: &Endpoint) -> Result<(), ScenarioError> {
        if let Some(host) = self.hosts.iter().find(|h| h.name == end.node) {
            if end.iface >= host.addresses.len() {
                return Err(ScenarioError::NoSuchInterface {
                    place: place.to_owned(),
                    host: host.name.clone(),
                    iface: end.iface,
                    count: host.addresses.len(),
                });
            }
            return Ok(());
        }
        if self.routers.iter().any(|r| r.name == end.node) {
            return Ok(());
        }
        Err(ScenarioError::Unknown {
            place: place.to_owned(),
            kind: "node",
            name: end.node.clone(),
        })
    }
}

/// "link 2 (wifi)" or "link 2".
fn link_place(index: usize, link: &LinkSpec) -> String {
    match &link.name {
        Some(name) => format!("link {index} ({name})"),
        None => format!("link {index}"),
    }
}
