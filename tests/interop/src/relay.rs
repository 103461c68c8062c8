//! Design of the userspace impairment relay (not built yet).
//!
//! This kernel has no `netem`, so delay, loss and reordering on a path have to
//! be made in userspace. `tbf` already gives rate limits; the relay adds the rest.
//!
//! # Shape
//!
//! A third namespace "relay" sits in the middle of a path:
//!
//! ```text
//!   "kernel"  ki ── veth ── ri-k  [relay]  ri-o ── veth ── oi  "ours"
//! ```
//!
//! The relay program (a binary of this package, like `kernel-peer`) opens both
//! of its interfaces as raw `AF_PACKET` sockets (`ETH_P_ALL`, bound to the
//! device, with `PACKET_IGNORE_OUTGOING` so that it does not read its own
//! writes), or — for a stack-side path — a TUN device, and copies frames between
//! them. Its own kernel never sees the traffic as addressed to it: the relay
//! interfaces carry no addresses, and `net.ipv4.conf.*.forwarding` stays off.
//! Offloads are turned off on both veths (frames of at most one MTU, real
//! checksums), which the harness already supports ([`crate::Offloads::NONE`]).
//!
//! # Impairments, per direction
//!
//! - **loss**: drop a frame with probability `p`, from a seeded ChaCha8 stream
//!   (the simulator's generator, so a seed reproduces the same drop pattern for
//!   the same packet sequence); optionally a Gilbert–Elliott two-state model for
//!   bursts; optionally "drop the n-th data segment" for exact test scripts.
//! - **delay**: a fixed delay plus uniform jitter; frames wait in a queue ordered
//!   by release time, and a timer (`timerfd` or `poll` timeout) releases them.
//!   With jitter off, release order equals arrival order (no reordering).
//! - **reordering**: with probability `r`, hold a frame back by an extra delay.
//! - **rate** stays with `tbf` on the relay's egress veth, so the queue sits in
//!   the kernel where it can be measured with `tc -s qdisc`.
//!
//! # Control and accounting
//!
//! Options on the command line (`--loss 0.01 --delay-ms 20 --jitter-ms 5
//! --seed 7`, separately for each direction), a `--deadline-ms` like
//! `kernel-peer`, and on exit one line of counters per direction (frames seen,
//! dropped, delayed, reordered) that tests can assert on. The harness would start
//! it with [`crate::Namespace::spawn`], so the guard kills it on drop.
//!
//! # Where it ends
//!
//! One thread per direction copying frames keeps up with tens of thousands of
//! packets per second — enough for the emulated links of the test suites (tens
//! of Mbit/s), not for the 10 Gbit/s throughput measurements, which run
//! without a relay.
