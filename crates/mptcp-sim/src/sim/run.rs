//! The event loop: popping events in time order and dispatching them to links, hosts and
//! routers.

use mptcp_proto::time::Instant;

use super::{LinkId, NodeId, NodeKind, Simulation, TraceEvent};
use crate::event::EventKind;
use crate::host::Host;
use crate::link::{Direction, DropCause, Transmission};
use crate::pool::PacketId;

impl<H: Host> Simulation<H> {
    /// Runs every event up to and including time `end`, then sets the clock to `end`.
    pub fn run_until(&mut self, end: Instant) {
        while let Some(time) = self.queue.peek_time() {
            if time > end.as_nanos() {
                break;
            }
            self.step();
        }
        self.now = self.now.max(end.as_nanos());
    }

    /// Runs until no event is left (no packet in flight, no host deadline, no scheduled
    /// change) and returns the time of the last event. Does not return while a host keeps
    /// reporting deadlines (such as a constant-rate sender without a stop time).
    pub fn run_until_idle(&mut self) -> Instant {
        while self.queue.peek_time().is_some() {
            self.step();
        }
        self.now()
    }

    /// Runs the earliest event; whether there was one.
    pub fn step(&mut self) -> bool {
        let Some(event) = self.queue.pop() else {
            return false;
        };
        self.now = event.time;
        self.events += 1;
        match event.kind {
            EventKind::Deliver {
                link,
                direction,
                packet,
                epoch,
            } => self.deliver(link, direction, packet, epoch),
            EventKind::HostTimer { node } => {
                let slot = &mut self.nodes[node as usize];
                if slot.deadline == Some(event.time) {
                    slot.deadline = None;
                    if let NodeKind::Host(host) = &mut slot.kind {
                        host.handle_timeout(Instant::from_nanos(event.time));
                    }
                    self.trace(|time| TraceEvent::Timeout {
                        time,
                        node: NodeId(node),
                    });
                    self.service_host(node);
                }
            }
            EventKind::Wake { node } => self.service_host(node),
            EventKind::Action { index } => {
                let (link, change, direction) = self.actions[index as usize].clone();
                self.links[link.index()]
                    .link
                    .apply(event.time, &change, direction);
                self.trace(|time| TraceEvent::LinkChanged {
                    time,
                    link,
                    change,
                    direction,
                });
            }
        }
        true
    }

    fn trace(&mut self, event: impl FnOnce(Instant) -> TraceEvent) {
        if let Some(tracer) = &mut self.tracer {
            tracer(&event(Instant::from_nanos(self.now)));
        }
    }

    fn deliver(&mut self, link: u32, direction: Direction, packet: PacketId, epoch: u32) {
        let len = self.pool.get(packet).len();
        let slot = &mut self.links[link as usize];
        if !slot.link.deliver(direction, epoch, len) {
            self.pool.free(packet);
            self.trace(|time| TraceEvent::Dropped {
                time,
                link: LinkId(link),
                direction,
                cause: DropCause::Down,
                len,
            });
            return;
        }
        let (node, iface) = match direction {
            Direction::AToB => slot.ends[1],
            Direction::BToA => slot.ends[0],
        };
        self.trace(|time| TraceEvent::Delivered {
            time,
            node: NodeId(node),
            iface,
            len,
        });
        let now = Instant::from_nanos(self.now);
        match &mut self.nodes[node as usize].kind {
            NodeKind::Host(host) => {
                host.handle_packet(now, iface, self.pool.get(packet));
                self.pool.free(packet);
                self.service_host(node);
            }
            NodeKind::Router(router) => match router.forward(now, iface, self.pool.get_mut(packet))
            {
                Ok(out) => self.send(node, out, packet),
                Err(error) => {
                    self.pool.free(packet);
                    self.trace(|time| TraceEvent::NotForwarded {
                        time,
                        node: NodeId(node),
                        error,
                    });
                }
            },
        }
    }

    /// Drains a host's transmissions, then records its deadline.
    fn service_host(&mut self, node: u32) {
        let now = Instant::from_nanos(self.now);
        loop {
            let NodeKind::Host(host) = &mut self.nodes[node as usize].kind else {
                return;
            };
            let Some((iface, len)) = host.poll_transmit(now, &mut self.scratch) else {
                break;
            };
            let packet = self
                .pool
                .alloc(&self.scratch[..len.min(self.scratch.len())]);
            self.send(node, iface, packet);
        }
        let slot = &mut self.nodes[node as usize];
        let NodeKind::Host(host) = &mut slot.kind else {
            return;
        };
        let deadline = host.poll_timeout().map(|t| t.as_nanos().max(self.now));
        if deadline != slot.deadline {
            slot.deadline = deadline;
            if let Some(time) = deadline {
                self.queue.push(time, EventKind::HostTimer { node });
            }
        }
    }

    /// Puts a packet on the link of `iface` of `node`.
    fn send(&mut self, node: u32, iface: usize, packet: PacketId) {
        let Some(&Some((link, direction))) = self.nodes[node as usize].ports.get(iface) else {
            self.pool.free(packet);
            self.unconnected += 1;
            if let NodeKind::Router(router) = &mut self.nodes[node as usize].kind {
                router.count_unconnected();
            }
            self.trace(|time| TraceEvent::Unconnected {
                time,
                node: NodeId(node),
                iface,
            });
            return;
        };
        let len = self.pool.get(packet).len();
        let slot = &mut self.links[link as usize];
        let epoch = slot.link.epoch();
        let outcome = slot
            .link
            .transmit(self.now, direction, &mut self.pool, packet);
        let link_id = LinkId(link);
        if !matches!(outcome, Transmission::Refused(_)) {
            self.trace(|time| TraceEvent::Sent {
                time,
                link: link_id,
                direction,
                len,
            });
        }
        match outcome {
            Transmission::Refused(cause) => self.trace(|time| TraceEvent::Dropped {
                time,
                link: link_id,
                direction,
                cause,
                len,
            }),
            Transmission::Lost => self.trace(|time| TraceEvent::Dropped {
                time,
                link: link_id,
                direction,
                cause: DropCause::Loss,
                len,
            }),
            Transmission::Sent { arrival, duplicate } => {
                for packet in std::iter::once(packet).chain(duplicate) {
                    self.queue.push(
                        arrival,
                        EventKind::Deliver {
                            link,
                            direction,
                            packet,
                            epoch,
                        },
                    );
                }
            }
        }
    }
}
