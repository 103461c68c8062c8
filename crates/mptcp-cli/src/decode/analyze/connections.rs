//! Between the two passes: assemble MPTCP connections from subflows. A subflow whose SYN
//! carries MP_CAPABLE founds a connection; a subflow whose SYN carries MP_JOIN joins the
//! connection whose key hashes to the token it names (RFC 8684 §3.2).

use std::collections::HashMap;

use mptcp_proto::crypto::{KeyMaterial, MptcpVersion, key_material};
use mptcp_proto::wire::mptcp::capable_flags;

use super::subflows::{Dir, SubflowTrace};

/// The two ends of an MPTCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The host that opened the connection's first subflow.
    Client,
    /// The other host.
    Server,
}

impl Side {
    /// Index into per-side arrays.
    pub fn index(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }

    /// The other end.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    /// Lower-case name for output.
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// One MPTCP connection found in the capture.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Version number from MP_CAPABLE (the SYN/ACK's when present: the negotiated one).
    pub version: u8,
    /// Keys of the client and of the server, as far as the capture shows them.
    pub keys: [Option<u64>; 2],
    /// Whether either side asked for DSS checksums (flag A of MP_CAPABLE, RFC 8684 §3.1).
    pub checksum: bool,
    /// Why the connection fell back to plain TCP, if it did (RFC 8684 §3.7).
    pub fallback: Option<&'static str>,
    /// Indices of its subflows in the subflow table, the initial one first.
    pub subflows: Vec<usize>,
}

impl Connection {
    /// The hash function family of the connection, if the version is one we know.
    pub fn crypto_version(&self) -> Option<MptcpVersion> {
        MptcpVersion::from_wire(self.version)
    }

    /// The key of `side`, when the capture shows it.
    pub fn key(&self, side: Side) -> Option<u64> {
        self.keys[side.index()]
    }

    /// Token and IDSN of the key of `side`.
    pub fn key_material(&self, side: Side) -> Option<KeyMaterial> {
        Some(key_material(self.crypto_version()?, self.key(side)?))
    }
}

/// Where a subflow sits in its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    /// Index of the connection.
    pub connection: usize,
    /// Which side of the connection sent the subflow's SYN.
    pub initiator: Side,
}

impl Membership {
    /// Which side of the connection sends in direction `dir` of the subflow.
    pub fn sender(self, dir: Dir) -> Side {
        match dir {
            Dir::FromInitiator => self.initiator,
            Dir::FromResponder => self.initiator.peer(),
        }
    }
}

/// The connections of a capture and the membership of each subflow.
#[derive(Debug, Default)]
pub struct ConnectionTable {
    /// Connections in order of their first subflow.
    pub connections: Vec<Connection>,
    /// For each subflow of the subflow table, its place in a connection, if any.
    pub membership: Vec<Option<Membership>>,
}

impl ConnectionTable {
    /// Founds connections on MP_CAPABLE subflows and attaches MP_JOIN subflows by token.
    pub fn assemble(subflows: &[SubflowTrace<'_>]) -> Self {
        let mut table = ConnectionTable {
            connections: Vec::new(),
            membership: vec![None; subflows.len()],
        };
        for (index, subflow) in subflows.iter().enumerate() {
            if let Some(connection) = found_connection(index, subflow) {
                table.membership[index] = Some(Membership {
                    connection: table.connections.len(),
                    initiator: Side::Client,
                });
                table.connections.push(connection);
            }
        }
        let tokens = table.tokens();
        for (index, subflow) in subflows.iter().enumerate() {
            let Some(token) = subflow.join.as_ref().and_then(|join| join.token) else {
                continue;
            };
            if let Some(&(connection, responder)) = tokens.get(&token) {
                table.membership[index] = Some(Membership {
                    connection,
                    initiator: responder.peer(),
                });
                table.connections[connection].subflows.push(index);
            }
        }
        table
    }

    /// Every known token, with its connection and the side whose key it hashes.
    pub fn tokens(&self) -> HashMap<u32, (usize, Side)> {
        let mut tokens = HashMap::new();
        for (index, connection) in self.connections.iter().enumerate() {
            for side in [Side::Client, Side::Server] {
                if let Some(material) = connection.key_material(side) {
                    tokens.insert(material.token, (index, side));
                }
            }
        }
        tokens
    }
}

fn found_connection(index: usize, subflow: &SubflowTrace<'_>) -> Option<Connection> {
    let [syn_version, synack_version] = subflow.capable_version;
    // A SYN without MP_CAPABLE is plain TCP; without the SYN in the capture, the SYN/ACK
    // tells.
    let syn_version = if subflow.saw_syn {
        Some(syn_version?)
    } else {
        syn_version
    };
    let version = synack_version.or(syn_version)?;
    let synack_seen = subflow.isn[Dir::FromResponder.index()].is_some();
    let fallback = (synack_seen && synack_version.is_none())
        .then_some("SYN/ACK without MP_CAPABLE: plain TCP");
    let checksum = subflow
        .capable_flags
        .iter()
        .flatten()
        .any(|flags| flags & capable_flags::CHECKSUM_REQUIRED != 0);
    Some(Connection {
        version,
        keys: [
            subflow.keys[Dir::FromInitiator.index()],
            subflow.keys[Dir::FromResponder.index()],
        ],
        checksum,
        fallback,
        subflows: vec![index],
    })
}
