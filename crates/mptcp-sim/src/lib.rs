//! A deterministic network simulator in virtual time, for the userspace Multipath TCP stack.
//!
//! # Layers
//!
//! - [`Host`]: what sits at the ends of the network, driven with the sans-I/O contract of
//!   `mptcp_proto` (`handle_packet`, `handle_timeout`, `poll_transmit`, `poll_timeout`).
//!   The MPTCP `Stack` and its applications plug in as one host; [`hosts`] has simple
//!   hosts for tests and benchmarks.
//! - [`Simulation`]: nodes (hosts and [`Router`]s), point-to-point links between their
//!   interfaces, and the event loop. Events sit in a binary heap ordered by virtual time and
//!   then by insertion, so equal times always run in the same order; every random draw comes
//!   from a seeded ChaCha8 stream per link direction. Same topology, hosts and seed: same
//!   run, byte for byte.
//! - [`link`]: rate, propagation delay, jitter, loss (random or Gilbert–Elliott), reordering,
//!   duplication, bit corruption, a drop-tail queue, an MTU, scheduled changes, counters.
//! - [`router`]: longest-prefix-match forwarding with ECMP by 5-tuple hash.
//! - [`middlebox`]: packet transformers on links or routers (strip a TCP option, rewrite
//!   sequence numbers, translate ports, rewrite payload, drop SYNs that carry an option).
//! - [`pcap`]: per-link captures, byte-identical for the same seed.
//! - [`scenario`]: the same topology described in TOML (or built in Rust) and turned into a
//!   simulation.
//! - [`StackHost`]: a host running the TCP `Stack` of `mptcp_proto` and the scenario's
//!   applications, which check every byte they receive; [`run_scenario`] builds a scenario
//!   with one on every host, runs it and returns a [`ScenarioReport`].
//! - [`fat_tree`]: a data-centre experiment, a k-ary fat-tree with ECMP and permutation
//!   traffic, measured as a share of the optimum (docs/datacenter.md).
//!
//! # Example
//!
//! ```
//! use core::time::Duration;
//! use mptcp_proto::time::Instant;
//! use mptcp_sim::hosts::{ConstantRateSender, Sink, TestHost};
//! use mptcp_sim::link::{Direction, LinkParams};
//! use mptcp_sim::Simulation;
//!
//! let mut sim = Simulation::<TestHost>::new(7);
//! let sender = ConstantRateSender::new(
//!     "10.0.0.1:5000".parse().unwrap(),
//!     "10.0.0.2:80".parse().unwrap(),
//!     1500,
//!     10_000_000,
//! )
//! .stopping_at(Instant::from_millis(100));
//! let a = sim.add_host(sender.into());
//! let b = sim.add_host(Sink::new().into());
//! let link = sim
//!     .connect((a, 0), (b, 0), LinkParams::new(10_000_000, Duration::from_millis(5)))
//!     .unwrap();
//! sim.run_until(Instant::from_millis(1000));
//! assert_eq!(sim.link_stats(link, Direction::AToB).unwrap().delivered_packets, 84);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod direction;
mod event;
pub mod fat_tree;
mod host;
pub mod hosts;
pub mod link;
pub mod middlebox;
pub mod pcap;
mod pool;
pub mod report;
pub mod router;
pub mod run;
mod sample;
pub mod scenario;
mod sim;
mod stack_host;

pub use host::Host;
pub use report::{ConnectionReport, Sample, ScenarioReport, Stall, SubflowSample, TrafficKind};
pub use router::Router;
pub use run::{RunError, RunOptions, run_scenario, run_scenario_observed};
pub use sim::{LinkId, NodeId, Simulation, TopologyError, TraceEvent};
pub use stack_host::{AddressChange, StackHost};
