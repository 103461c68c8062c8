//! The simulation: nodes (hosts and routers), links between their interfaces, and the event
//! loop in virtual time.

mod run;
mod trace;

use std::io::{self, Write};

use mptcp_proto::time::Instant;
use thiserror::Error;

pub use trace::TraceEvent;

use crate::event::{EventKind, EventQueue};
use crate::host::Host;
use crate::link::{BadProbability, Direction, Link, LinkChange, LinkParams, LinkStats};
use crate::middlebox::Middlebox;
use crate::pool::PacketPool;
use crate::router::Router;

/// Size of the buffer hosts write packets into.
const MAX_PACKET: usize = 65_536;

/// A host or router of a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub(crate) u32);

/// A link of a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub(crate) u32);

impl NodeId {
    /// Position among the nodes, in the order they were added.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl LinkId {
    /// Position among the links, in the order they were added.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A topology change that cannot be made.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TopologyError {
    /// The node does not exist.
    #[error("no node {0:?}")]
    UnknownNode(NodeId),
    /// The link does not exist.
    #[error("no link {0:?}")]
    UnknownLink(LinkId),
    /// The interface already has a link.
    #[error("interface {iface} of node {node:?} already has a link")]
    InterfaceInUse {
        /// The node.
        node: NodeId,
        /// The interface.
        iface: usize,
    },
    /// A link parameter is out of range.
    #[error(transparent)]
    BadParams(#[from] BadProbability),
}

enum NodeKind<H> {
    Host(H),
    Router(Router),
}

struct Node<H> {
    kind: NodeKind<H>,
    /// For each interface: its link and the direction that leaves this node.
    ports: Vec<Option<(u32, Direction)>>,
    /// The deadline the host last reported (clamped to the time it was reported).
    deadline: Option<u64>,
}

struct LinkSlot {
    link: Link,
    /// Node and interface at end `a` and end `b`.
    ends: [(u32, usize); 2],
}

/// Receives every [`TraceEvent`].
type Tracer = Box<dyn FnMut(&TraceEvent)>;

/// A deterministic network simulation in virtual time.
///
/// Build the topology with [`add_host`](Self::add_host), [`add_router`](Self::add_router)
/// and [`connect`](Self::connect), then [`run_until`](Self::run_until). Every random draw
/// comes from the seed given to [`new`](Self::new) (each link direction has its own stream),
/// and events at equal times run in the order they were queued, so the same topology, hosts
/// and seed give the same run, packet for packet.
///
/// `H` is the host type: one concrete type (or an enum, like
/// [`TestHost`](crate::hosts::TestHost)) for static dispatch, or `Box<dyn Host>`.
pub struct Simulation<H> {
    now: u64,
    seed: u64,
    queue: EventQueue,
    pool: PacketPool,
    nodes: Vec<Node<H>>,
    links: Vec<LinkSlot>,
    actions: Vec<(LinkId, LinkChange, Option<Direction>)>,
    scratch: Box<[u8]>,
    tracer: Option<Tracer>,
    events: u64,
    unconnected: u64,
}

impl<H: Host> Simulation<H> {
    /// An empty simulation at time zero, whose randomness derives from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            now: 0,
            seed,
            queue: EventQueue::default(),
            pool: PacketPool::default(),
            nodes: Vec::new(),
            links: Vec::new(),
            actions: Vec::new(),
            scratch: vec![0; MAX_PACKET].into_boxed_slice(),
            tracer: None,
            events: 0,
            unconnected: 0,
        }
    }

    /// Adds a host. It is polled for transmissions and its deadline at the current time.
    pub fn add_host(&mut self, host: H) -> NodeId {
        let id = self.push_node(NodeKind::Host(host));
        self.queue.push(self.now, EventKind::Wake { node: id.0 });
        id
    }

    /// Adds a router.
    pub fn add_router(&mut self, router: Router) -> NodeId {
        self.push_node(NodeKind::Router(router))
    }

    fn push_node(&mut self, kind: NodeKind<H>) -> NodeId {
        let id = NodeId(u32::try_from(self.nodes.len()).expect("fewer than 2^32 nodes"));
        self.nodes.push(Node {
            kind,
            ports: Vec::new(),
            deadline: None,
        });
        id
    }

    /// Connects interface `a.1` of node `a.0` to interface `b.1` of node `b.0` with a link
    /// whose directions both have `params`.
    pub fn connect(
        &mut self,
        a: (NodeId, usize),
        b: (NodeId, usize),
        params: LinkParams,
    ) -> Result<LinkId, TopologyError> {
        self.connect_asymmetric(a, b, params.clone(), params)
    }

    /// Connects two interfaces with a link whose directions differ.
    pub fn connect_asymmetric(
        &mut self,
        a: (NodeId, usize),
        b: (NodeId, usize),
        a_to_b: LinkParams,
        b_to_a: LinkParams,
    ) -> Result<LinkId, TopologyError> {
        a_to_b.validate()?;
        b_to_a.validate()?;
        for (node, iface) in [a, b] {
            let slot = self
                .nodes
                .get(node.index())
                .ok_or(TopologyError::UnknownNode(node))?;
            if slot.ports.get(iface).is_some_and(Option::is_some) || a == b {
                return Err(TopologyError::InterfaceInUse { node, iface });
            }
        }
        let id = LinkId(u32::try_from(self.links.len()).expect("fewer than 2^32 links"));
        for ((node, iface), direction) in [(a, Direction::AToB), (b, Direction::BToA)] {
            let ports = &mut self.nodes[node.index()].ports;
            if ports.len() <= iface {
                ports.resize(iface + 1, None);
            }
            ports[iface] = Some((id.0, direction));
        }
        self.links.push(LinkSlot {
            link: Link::new(id.0, self.seed, a_to_b, b_to_a),
            ends: [(a.0.0, a.1), (b.0.0, b.1)],
        });
        Ok(id)
    }

    fn link_slot(&mut self, link: LinkId) -> Result<&mut LinkSlot, TopologyError> {
        self.links
            .get_mut(link.index())
            .ok_or(TopologyError::UnknownLink(link))
    }

    /// Places a middlebox on a link: it sees every packet entering the link, either way.
    pub fn add_link_middlebox(
        &mut self,
        link: LinkId,
        middlebox: Box<dyn Middlebox>,
    ) -> Result<(), TopologyError> {
        self.link_slot(link)?.link.add_middlebox(middlebox);
        Ok(())
    }

    /// Records the packets a link sends, both ways, into a pcap stream: each packet that the
    /// link admits (past the up/down and MTU checks, the middleboxes and the queue), as it
    /// enters the link, stamped with that time. Packets refused at the entrance are not
    /// recorded (the link's counters have them); packets lost on the wire are recorded
    /// (they were sent), and corruption and duplication happen after the capture.
    ///
    /// A write error stops the capture; [`finish_captures`](Self::finish_captures) reports
    /// it.
    pub fn capture_link(&mut self, link: LinkId, out: Box<dyn Write>) -> io::Result<()> {
        self.link_slot(link)
            .map_err(|error| io::Error::new(io::ErrorKind::NotFound, error))?
            .link
            .set_capture(out)
    }

    /// Flushes every capture; the first error of any capture, if one failed.
    pub fn finish_captures(&mut self) -> io::Result<()> {
        let mut result = Ok(());
        for slot in &mut self.links {
            let finished = slot.link.finish_capture();
            if result.is_ok() {
                result = finished;
            }
        }
        result
    }

    /// Schedules a change of `link` at `at` (for one direction, or both when `direction` is
    /// `None`; up and down always affect both).
    pub fn schedule(
        &mut self,
        at: Instant,
        link: LinkId,
        change: LinkChange,
        direction: Option<Direction>,
    ) -> Result<(), TopologyError> {
        self.link_slot(link)?;
        if let LinkChange::Loss(loss) = change {
            LinkParams {
                loss,
                ..LinkParams::default()
            }
            .validate()?;
        }
        let index = u32::try_from(self.actions.len()).expect("fewer than 2^32 actions");
        self.actions.push((link, change, direction));
        self.queue.push(at.as_nanos(), EventKind::Action { index });
        Ok(())
    }

    /// Calls `tracer` for everything that happens from now on.
    pub fn set_tracer(&mut self, tracer: impl FnMut(&TraceEvent) + 'static) {
        self.tracer = Some(Box::new(tracer));
    }

    /// Asks the simulation to poll host `node` for transmissions and its deadline at the
    /// current time (after it was changed through [`host_mut`](Self::host_mut)).
    pub fn wake(&mut self, node: NodeId) {
        self.queue.push(self.now, EventKind::Wake { node: node.0 });
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        Instant::from_nanos(self.now)
    }

    /// The host `node`, if it is one.
    pub fn host(&self, node: NodeId) -> Option<&H> {
        match &self.nodes.get(node.index())?.kind {
            NodeKind::Host(host) => Some(host),
            NodeKind::Router(_) => None,
        }
    }

    /// The host `node`, writable; call [`wake`](Self::wake) if it has something to send.
    pub fn host_mut(&mut self, node: NodeId) -> Option<&mut H> {
        match &mut self.nodes.get_mut(node.index())?.kind {
            NodeKind::Host(host) => Some(host),
            NodeKind::Router(_) => None,
        }
    }

    /// The router `node`, if it is one.
    pub fn router(&self, node: NodeId) -> Option<&Router> {
        match &self.nodes.get(node.index())?.kind {
            NodeKind::Router(router) => Some(router),
            NodeKind::Host(_) => None,
        }
    }

    /// The counters of one direction of a link.
    pub fn link_stats(&self, link: LinkId, direction: Direction) -> Option<&LinkStats> {
        Some(self.links.get(link.index())?.link.stats(direction))
    }

    /// The current parameters of one direction of a link.
    pub fn link_params(&self, link: LinkId, direction: Direction) -> Option<&LinkParams> {
        Some(self.links.get(link.index())?.link.params(direction))
    }

    /// Events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.events
    }

    /// Packets sent by hosts or routed by routers to interfaces without a link.
    pub fn unconnected_packets(&self) -> u64 {
        self.unconnected
    }

    /// Events waiting in the queue.
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }

    /// Packets currently in flight on links.
    pub fn packets_in_flight(&self) -> usize {
        self.pool.in_use()
    }
}
