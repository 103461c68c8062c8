//! What can be wrong with a scenario.

use thiserror::Error;

use crate::TopologyError;
use crate::middlebox::PayloadRewriteError;

/// A scenario that cannot be read or built.
#[derive(Debug, Error)]
pub enum ScenarioError {
    /// The TOML does not parse or does not fit the schema (the message shows where).
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// Two nodes share a name.
    #[error("two nodes are named {0:?}")]
    DuplicateName(String),
    /// A link, route, event or application names a node or link that does not exist.
    #[error("{place} refers to {kind} {name:?}, which is not defined")]
    Unknown {
        /// Where the reference is ("link 2", "event 0", ...).
        place: String,
        /// "node", "host" or "link".
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A link end names an interface the host does not have.
    #[error("{place} uses interface {iface} of host {host:?}, which has {count} interface(s)")]
    NoSuchInterface {
        /// Where.
        place: String,
        /// The host.
        host: String,
        /// The interface.
        iface: usize,
        /// How many it has.
        count: usize,
    },
    /// A value is out of range or inconsistent.
    #[error("{place}: {problem}")]
    Invalid {
        /// Where.
        place: String,
        /// What is wrong.
        problem: String,
    },
    /// The topology cannot be built (an interface used twice, a bad probability).
    #[error("{place}: {source}")]
    Topology {
        /// Where.
        place: String,
        /// What is wrong.
        source: TopologyError,
    },
    /// A payload rewrite is malformed.
    #[error("{place}: {source}")]
    PayloadRewrite {
        /// Where.
        place: String,
        /// What is wrong.
        source: PayloadRewriteError,
    },
    /// A capture file cannot be created.
    #[error("{place}: cannot write capture {path}: {source}")]
    Capture {
        /// Where.
        place: String,
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}
