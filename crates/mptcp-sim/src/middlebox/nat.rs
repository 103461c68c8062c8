//! A middlebox that translates source ports (a NAPT that keeps addresses).

use std::collections::HashMap;

use core::net::SocketAddr;

use mptcp_proto::time::Instant;

use super::{Direction, Middlebox, Verdict, edit_tcp};

/// Gives each inside endpoint (address and port of packets going [`Direction::AToB`]) a new
/// source port, allocated in order from a first port, and translates the destination port of
/// packets coming back ([`Direction::BToA`]). Packets coming back to an unmapped port pass
/// unchanged. Addresses are kept, so only the ports betray the translation.
#[derive(Debug, Clone)]
pub struct PortNat {
    next_port: u16,
    outbound: HashMap<SocketAddr, u16>,
    inbound: HashMap<u16, u16>,
}

impl PortNat {
    /// A NAT that allocates ports from `first_port` on (wrapping past 65535 to 1024).
    pub fn new(first_port: u16) -> Self {
        Self {
            next_port: first_port,
            outbound: HashMap::new(),
            inbound: HashMap::new(),
        }
    }

    /// The port an inside endpoint is mapped to, if it has sent anything.
    pub fn mapping(&self, inside: SocketAddr) -> Option<u16> {
        self.outbound.get(&inside).copied()
    }
}

impl Middlebox for PortNat {
    fn process(&mut self, _now: Instant, direction: Direction, packet: &mut [u8]) -> Verdict {
        edit_tcp(packet, |flow, tcp| match direction {
            Direction::AToB => {
                let port = *self.outbound.entry(flow.src).or_insert_with(|| {
                    let port = self.next_port;
                    self.next_port = self.next_port.checked_add(1).unwrap_or(1024);
                    self.inbound.insert(port, flow.src.port());
                    port
                });
                tcp.set_src_port(port);
            }
            Direction::BToA => {
                if let Some(&original) = self.inbound.get(&flow.dst.port()) {
                    tcp.set_dst_port(original);
                }
            }
        });
        Verdict::Forward
    }
}
