//! Turning a [`Scenario`] into a [`Simulation`].

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;

use mptcp_proto::time::Instant;

use super::{
    ActionSpec, AppSpec, HostSpec, LinkSpec, LossSpec, MiddleboxSpec, Scenario, ScenarioError,
    link_place,
};
use crate::link::{LinkChange, LinkParams, LossModel, QueueLimit, Reorder};
use crate::middlebox::{
    Middlebox, OptionStripper, PayloadRewriter, PortNat, SeqRewriter, SynDropper,
};
use crate::{Host, LinkId, NodeId, Router, Simulation};

/// A scenario made into a simulation, with its names resolved.
pub struct BuiltScenario<H> {
    /// The simulation, at time zero.
    pub simulation: Simulation<H>,
    /// Hosts and routers by name.
    pub nodes: BTreeMap<String, NodeId>,
    /// Links in the order of the scenario.
    pub links: Vec<LinkId>,
    /// When the scenario ends.
    pub end: Instant,
}

impl<H: Host> BuiltScenario<H> {
    /// Runs the simulation to the scenario's end.
    pub fn run(&mut self) {
        self.simulation.run_until(self.end);
    }

    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<NodeId> {
        self.nodes.get(name).copied()
    }
}

impl From<LossSpec> for LossModel {
    fn from(spec: LossSpec) -> Self {
        match spec {
            LossSpec::Random { probability } => LossModel::Random(probability),
            LossSpec::GilbertElliott {
                p,
                r,
                loss_good,
                loss_bad,
            } => LossModel::GilbertElliott {
                p,
                r,
                loss_good,
                loss_bad,
            },
        }
    }
}

impl LinkSpec {
    /// The parameters of each direction.
    pub fn params(&self) -> LinkParams {
        LinkParams {
            rate_bps: self.rate.map_or(0, |rate| rate.0),
            delay: self.delay.0,
            jitter: self.jitter.0,
            loss: self.loss.map_or(LossModel::None, LossModel::from),
            reorder: self.reorder.map(|reorder| Reorder {
                probability: reorder.probability,
                extra_delay: reorder.delay.0,
            }),
            duplicate: self.duplicate,
            corrupt: self.corrupt,
            queue: match self.queue {
                Some(queue) => match (queue.packets, queue.bytes) {
                    (Some(packets), _) => QueueLimit::Packets(packets),
                    (None, Some(bytes)) => QueueLimit::Bytes(bytes),
                    (None, None) => QueueLimit::Unlimited,
                },
                None => QueueLimit::Unlimited,
            },
            mtu: self.mtu.unwrap_or(1500),
        }
    }
}

impl MiddleboxSpec {
    /// The middlebox this describes.
    pub fn instantiate(&self, place: &str) -> Result<Box<dyn Middlebox>, ScenarioError> {
        Ok(match self {
            Self::StripOption { option, after } => {
                Box::new(OptionStripper::starting_after(*option, *after))
            }
            Self::DropSyn { option } => Box::new(SynDropper::new(*option)),
            Self::SeqRewrite { offset } => Box::new(SeqRewriter::new(*offset)),
            Self::Nat { first_port } => Box::new(PortNat::new(*first_port)),
            Self::PayloadRewrite {
                find,
                replace,
                direction,
                after,
                segments,
            } => {
                let rewriter = PayloadRewriter::new(
                    find.as_bytes(),
                    replace.as_bytes(),
                    direction.map(Into::into),
                )
                .map_err(|source| ScenarioError::PayloadRewrite {
                    place: place.to_owned(),
                    source,
                })?
                .starting_after(*after);
                Box::new(match segments {
                    Some(n) => rewriter.at_most(*n),
                    None => rewriter,
                })
            }
        })
    }
}

impl Scenario {
    /// Builds the simulation, with each host made by `make_host` from its description and
    /// its applications. Validates first.
    pub fn build<H: Host>(
        &self,
        mut make_host: impl FnMut(&HostSpec, &[&AppSpec]) -> H,
    ) -> Result<BuiltScenario<H>, ScenarioError> {
        self.validate()?;
        let mut simulation = Simulation::new(self.seed);
        let mut nodes = BTreeMap::new();
        for host in &self.hosts {
            let apps: Vec<&AppSpec> = self.apps_of(&host.name).collect();
            nodes.insert(
                host.name.clone(),
                simulation.add_host(make_host(host, &apps)),
            );
        }
        for (index, spec) in self.routers.iter().enumerate() {
            let place = format!("router {:?}", spec.name);
            let mut router = Router::new().with_hash_seed(self.seed ^ ((index as u64) << 32));
            for route in &spec.routes {
                router
                    .add_route(route.prefix.addr, route.prefix.len, route.iface)
                    .map_err(|error| ScenarioError::Invalid {
                        place: place.clone(),
                        problem: error.to_string(),
                    })?;
            }
            for placed in &spec.middleboxes {
                router.add_middlebox(placed.middlebox.instantiate(&place)?, placed.inside);
            }
            nodes.insert(spec.name.clone(), simulation.add_router(router));
        }
        let mut links = Vec::new();
        let mut named = BTreeMap::new();
        for (index, spec) in self.links.iter().enumerate() {
            let place = link_place(index, spec);
            let topology = |source| ScenarioError::Topology {
                place: place.clone(),
                source,
            };
            let a = (nodes[&spec.a.node], spec.a.iface);
            let b = (nodes[&spec.b.node], spec.b.iface);
            let link = simulation.connect(a, b, spec.params()).map_err(topology)?;
            for middlebox in &spec.middleboxes {
                simulation
                    .add_link_middlebox(link, middlebox.instantiate(&place)?)
                    .map_err(topology)?;
            }
            if let Some(path) = &spec.capture {
                let capture_error = |source| ScenarioError::Capture {
                    place: place.clone(),
                    path: path.clone(),
                    source,
                };
                let file = File::create(path).map_err(capture_error)?;
                simulation
                    .capture_link(link, Box::new(BufWriter::new(file)))
                    .map_err(capture_error)?;
            }
            if let Some(name) = &spec.name {
                named.insert(name.clone(), link);
            }
            links.push(link);
        }
        for (index, event) in self.events.iter().enumerate() {
            let change = match event.action {
                ActionSpec::Down => LinkChange::Down,
                ActionSpec::Up => LinkChange::Up,
                ActionSpec::Rate(rate) => LinkChange::Rate(rate.0),
                ActionSpec::Delay(delay) => LinkChange::Delay(delay.0),
                ActionSpec::Loss(loss) => LinkChange::Loss(loss.into()),
            };
            let at = Instant::ZERO + event.at.0;
            simulation
                .schedule(
                    at,
                    named[&event.link],
                    change,
                    event.direction.map(Into::into),
                )
                .map_err(|source| ScenarioError::Topology {
                    place: format!("event {index}"),
                    source,
                })?;
        }
        Ok(BuiltScenario {
            simulation,
            nodes,
            links,
            end: Instant::ZERO + self.duration.0,
        })
    }
}
