//! Failover with data flowing both ways: the shipped scenario `failover` (a client with two
//! paths, a at 20 Mbit/s 10 ms and b at 10 Mbit/s 20 ms, exchanging data with a server both
//! ways at once; the connection starts on path a, the client joins from path b). A path
//! goes down mid-transfer — the first subflow's or the second's, for good or for a while.
//!
//! What a user checks: every byte arrives both ways, and neither application waits longer
//! for data than one retransmission timeout of the subflow that failed plus one round trip
//! of the one that works — everything the failed subflow held goes on the other at once
//! (RFC 8684 §3.3.6), not a little per data-level timeout. The bound is computed per
//! direction from what the sending end measured (both ends are sampled every 10 ms): the
//! failed subflow's RTO just before the failure and the working subflow's smoothed RTT
//! during the stall — plus the working subflow's RTO when it was recovering a loss of its
//! own meanwhile (the moved data waits behind that hole at the receiver). After the
//! failure the transfer runs at the surviving path's rate, and a path that comes back
//! carries data again.

mod common;

use core::net::{IpAddr, Ipv4Addr};
use core::time::Duration;

use common::{shipped, sweep_with};
use mptcp_proto::time::Instant;
use mptcp_sim::scenario::{ActionSpec, AppSpec, EventSpec, Scenario, Time};
use mptcp_sim::{ConnectionReport, RunOptions, Sample, ScenarioReport, Stall, SubflowSample};

const MIB: u64 = 1 << 20;

/// How often both ends are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);

/// One path of the scenario.
#[derive(Debug, Clone, Copy)]
struct Path {
    /// Its link's name.
    link: &'static str,
    /// Its place among the scenario's links.
    index: usize,
    /// The client's address on it.
    client: Ipv4Addr,
}

const PATH_A: Path = Path {
    link: "a",
    index: 0,
    client: Ipv4Addr::new(10, 0, 1, 1),
};
const PATH_B: Path = Path {
    link: "b",
    index: 1,
    client: Ipv4Addr::new(10, 0, 2, 1),
};

impl Path {
    /// Whether subflow `sf` (seen from either end) runs over this path.
    fn carries(&self, sf: &SubflowSample) -> bool {
        [sf.local.ip(), sf.remote.ip()].contains(&IpAddr::V4(self.client))
    }

    /// Its rate in the scenario, bit/s.
    fn rate(&self, scenario: &Scenario) -> f64 {
        scenario.links[self.index]
            .rate
            .expect("the paths have a rate")
            .0 as f64
    }
}

/// An outage: `path` goes down at `down` and, if `back` is given, up again then.
#[derive(Debug, Clone, Copy)]
struct Outage {
    path: Path,
    down: Duration,
    back: Option<Duration>,
}

impl Outage {
    /// The path that keeps working.
    fn survivor(&self) -> Path {
        if self.path.index == PATH_A.index {
            PATH_B
        } else {
            PATH_A
        }
    }
}

/// The shipped `failover` scenario with `bytes` each way and `outage`.
fn scenario(bytes: u64, outage: Outage) -> Scenario {
    let mut scenario = shipped("failover");
    let AppSpec::Exchange { up, down, .. } = &mut scenario.apps[1] else {
        panic!("the failover scenario's client exchanges data");
    };
    (*up, *down) = (bytes, bytes);
    let event = |at: Duration, action| EventSpec {
        at: Time(at),
        link: outage.path.link.to_owned(),
        direction: None,
        action,
    };
    scenario.events = vec![event(outage.down, ActionSpec::Down)];
    scenario
        .events
        .extend(outage.back.map(|back| event(back, ActionSpec::Up)));
    scenario
}

fn options() -> RunOptions {
    RunOptions {
        sample_every: Some(SAMPLE_EVERY),
        ..RunOptions::default()
    }
}

/// One direction of the exchange, as the sending and the receiving end saw it.
struct Direction<'a> {
    name: &'static str,
    sender: &'a [Sample],
    receiver: &'a [Sample],
    stall: Option<Stall>,
}

/// Both directions of `conn`'s exchange.
fn directions(conn: &ConnectionReport) -> [Direction<'_>; 2] {
    [
        Direction {
            name: "client to server",
            sender: &conn.samples,
            receiver: &conn.server_samples,
            stall: conn.stall_up,
        },
        Direction {
            name: "server to client",
            sender: &conn.server_samples,
            receiver: &conn.samples,
            stall: conn.stall_down,
        },
    ]
}

/// What a check found in one direction.
#[derive(Debug)]
struct Figures {
    /// The longest stall.
    stall: Stall,
    /// The part of it the failure accounts for: from the failure, if the stall spans it
    /// (a loss on the path just before it is part of the same damage); the whole stall
    /// otherwise, so that the bound holds for every stall.
    counted: Stall,
    /// The RTO of the sender's subflow on the failed path.
    rto: Duration,
    /// The smoothed RTT of its subflow on the surviving path.
    rtt: Duration,
    /// That subflow retransmitted during the stall: it was recovering a loss of its own.
    recovering: bool,
    /// Its RTO.
    survivor_rto: Duration,
}

impl Figures {
    /// One RTO of the failed subflow plus one RTT of the working one. The receiver takes
    /// a subflow's bytes in order, so when the working subflow was recovering a loss of
    /// its own, the data moved to it waited behind that hole as well, which its own
    /// recovery fills within its RTO (RACK's time threshold, at worst its timer).
    fn bound(&self) -> Duration {
        let own_loss = if self.recovering {
            self.survivor_rto
        } else {
            Duration::ZERO
        };
        self.rto + self.rtt + own_loss
    }
}

/// What else a run must show after the failure, beside the bound on the stall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// From a second after the failure to its end, each direction runs at 80% of the
    /// surviving path's rate or more (the path stays down; the transfer lasts well
    /// beyond that second).
    SurvivorRate,
    /// Nothing more (a transfer that may end within a second of the failure).
    Nothing,
}

impl Direction<'_> {
    /// The longest stall and what bounds it: the largest RTO the sender's subflow on the
    /// failed path had in the 50 ms before the failure at `down` (the samples are 10 ms
    /// apart); the largest smoothed RTT and RTO of its subflow on the surviving path during
    /// the counted stall, and whether that subflow retransmitted then.
    fn figures(&self, outage: &Outage, down: Instant) -> Figures {
        let stall = self
            .stall
            .unwrap_or_else(|| panic!("{}: nothing read", self.name));
        let mut counted = stall;
        if stall.until > down {
            counted.from = stall.from.max(down);
        }
        let before = down - Duration::from_millis(50);
        let rto = subflow_values(self.sender, before, down, outage.path, |sf| Some(sf.rto))
            .max()
            .unwrap_or_else(|| panic!("{}: no subflow on the failed path", self.name));
        let survivor = outage.survivor();
        let (from, until) = (counted.from, counted.until);
        let rtt = subflow_values(self.sender, from, until, survivor, |sf| sf.srtt)
            .max()
            .unwrap_or_else(|| panic!("{}: no RTT on the surviving path", self.name));
        let survivor_rto = subflow_values(self.sender, from, until, survivor, |sf| Some(sf.rto))
            .max()
            .unwrap_or(rtt);
        let retransmits = |s: &Sample| -> u64 {
            let on_survivor = s.subflows.iter().filter(|sf| survivor.carries(sf));
            on_survivor.map(|sf| sf.retransmits).sum()
        };
        let first = self.sender.iter().rev().find(|s| s.at <= from);
        let last = self.sender.iter().find(|s| s.at >= until);
        let recovering = first.map_or(0, retransmits) < last.map_or(u64::MAX, retransmits);
        Figures {
            stall,
            counted,
            rto,
            rtt,
            recovering,
            survivor_rto,
        }
    }

    /// Asserts that from `from` until the direction had `bytes`, payload was read at 80%
    /// of `path`'s rate or more.
    fn assert_rate_after(&self, from: Instant, bytes: u64, path: Path, scenario: &Scenario) {
        let rate = self.rate_after(from, bytes);
        println!("{}: {:.2} Mbit/s from {from:?}", self.name, rate / 1e6);
        assert!(
            rate >= 0.8 * path.rate(scenario),
            "{}: {:.2} Mbit/s from {from:?}",
            self.name,
            rate / 1e6
        );
    }

    /// Payload bytes read per second from `from` until the direction had `bytes`.
    fn rate_after(&self, from: Instant, bytes: u64) -> f64 {
        let start = self
            .receiver
            .iter()
            .find(|s| s.at >= from)
            .unwrap_or_else(|| panic!("{}: not sampled after {from:?}", self.name));
        let end = self
            .receiver
            .iter()
            .find(|s| s.received == bytes)
            .unwrap_or_else(|| panic!("{}: never had {bytes} bytes", self.name));
        let seconds = end.at.saturating_duration_since(start.at).as_secs_f64();
        (end.received - start.received) as f64 * 8.0 / seconds
    }

    /// Payload bytes the receiver got on `path`'s subflows from `from` on.
    fn received_on_after(&self, path: Path, from: Instant) -> u64 {
        let on_path = |sample: &Sample| -> u64 {
            sample
                .subflows
                .iter()
                .filter(|sf| path.carries(sf))
                .map(|sf| sf.bytes_received)
                .sum()
        };
        let start = self
            .receiver
            .iter()
            .find(|s| s.at >= from)
            .map_or(0, on_path);
        let end = self.receiver.last().map_or(0, on_path);
        end - start
    }
}

/// The values `value` gives for the subflows on `path` in the samples from `from` to `to`.
fn subflow_values<'a>(
    samples: &'a [Sample],
    from: Instant,
    to: Instant,
    path: Path,
    value: impl Fn(&SubflowSample) -> Option<Duration> + 'a,
) -> impl Iterator<Item = Duration> + 'a {
    samples
        .iter()
        .filter(move |s| s.at >= from && s.at <= to)
        .flat_map(|s| &s.subflows)
        .filter(move |sf| path.carries(sf))
        .filter_map(value)
}

/// Checks a run of `scenario(bytes, outage)`: both transfers intact; in each direction the
/// longest stall within the bound; what `after` asks with the path down for good; with the
/// path back, at least 1 MiB more over it each way. Returns the figures of both directions.
fn check(
    report: &ScenarioReport,
    scenario: &Scenario,
    bytes: u64,
    outage: &Outage,
    after: After,
) -> [Figures; 2] {
    let seed = report.seed;
    common::assert_all_intact(report, 2 * bytes);
    let conn = &report.connections[0];
    assert!(conn.mptcp, "seed {seed}: not MPTCP");
    let first = conn.client_subflows.iter().min_by_key(|s| s.id).unwrap();
    assert_eq!(
        first.local.ip(),
        IpAddr::V4(PATH_A.client),
        "seed {seed}: the first subflow is on path a"
    );
    let down = Instant::ZERO + outage.down;
    directions(conn).map(|dir| {
        let figures = dir.figures(outage, down);
        assert!(
            figures.counted.length() <= figures.bound(),
            "seed {seed}, {}: stalled {:?} from {:?} ({:?} counted), more than {:?}: \
             {figures:?}",
            dir.name,
            figures.stall.length(),
            figures.stall.from,
            figures.counted.length(),
            figures.bound(),
        );
        match (outage.back, after) {
            (None, After::SurvivorRate) => {
                let settled = down + Duration::from_secs(1);
                dir.assert_rate_after(settled, bytes, outage.survivor(), scenario);
            }
            (Some(back), _) => {
                let again = dir.received_on_after(outage.path, Instant::ZERO + back);
                assert!(
                    again >= MIB,
                    "seed {seed}, {}: {again} bytes over the path that came back",
                    dir.name
                );
            }
            (None, After::Nothing) => {}
        }
        figures
    })
}

/// Runs `scenario(bytes, outage(seed))` for each seed of a sweep, checks it and prints the
/// figures.
fn run_sweep(default_seeds: u64, bytes: u64, after: After, outage: impl Fn(u64) -> Outage) {
    sweep_with(
        default_seeds,
        &options(),
        |seed| scenario(bytes, outage(seed)),
        |report| {
            let outage = outage(report.seed);
            let figures = check(report, &scenario(bytes, outage), bytes, &outage, after);
            for (name, f) in ["up", "down"].iter().zip(&figures) {
                println!(
                    "seed {} path {} down at {:?}{}: {name} stall {:?} from {:?}, {:?} counted \
                     (bound {:?} = RTO {:?} + RTT {:?}{})",
                    report.seed,
                    outage.path.link,
                    outage.down,
                    outage
                        .back
                        .map_or(String::new(), |b| format!(", back at {b:?}")),
                    f.stall.length(),
                    f.stall.from,
                    f.counted.length(),
                    f.bound(),
                    f.rto,
                    f.rtt,
                    if f.recovering {
                        format!(" + its own loss, its RTO {:?}", f.survivor_rto)
                    } else {
                        String::new()
                    },
                );
            }
        },
    );
}

#[test]
fn the_first_path_going_down_for_good_moves_64_mib_each_way_to_the_second_at_once() {
    run_sweep(1, 64 * MIB, After::SurvivorRate, |_| Outage {
        path: PATH_A,
        down: Duration::from_secs(3),
        back: None,
    });
}

#[test]
fn the_first_path_going_down_at_any_moment_stalls_no_longer_than_rto_plus_rtt() {
    // The failure lands at a different point of the transfer for each seed, from slow
    // start to its last hundreds of milliseconds.
    run_sweep(8, 4 * MIB, After::Nothing, |seed| Outage {
        path: PATH_A,
        down: Duration::from_millis(300 + 97 * seed % 800),
        back: None,
    });
}

#[test]
fn the_second_path_going_down_for_good_moves_both_ways_to_the_first() {
    run_sweep(1, 16 * MIB, After::SurvivorRate, |seed| Outage {
        path: PATH_B,
        down: Duration::from_millis(1500 + 331 * seed % 1000),
        back: None,
    });
}

#[test]
fn a_path_that_comes_back_carries_data_again() {
    // Odd seeds take the first subflow's path down for a second, even seeds the
    // second's.
    run_sweep(2, 16 * MIB, After::Nothing, |seed| {
        let down = Duration::from_millis(1500 + 173 * seed % 1000);
        Outage {
            path: if seed % 2 == 1 { PATH_A } else { PATH_B },
            down,
            back: Some(down + Duration::from_secs(1)),
        }
    });
}

#[test]
fn both_paths_failing_and_the_second_coming_back_resumes_on_it_at_its_rate() {
    // Both paths go down at 2 s; path b is back 300 ms later, path a never. The second
    // subflow's timer fires first, so its data is queued for re-injection ahead of the
    // first subflow's, and can go nowhere but the dead path: waiting for that in strict
    // turns held the first subflow's data back for good (the data-level timeout found
    // nothing it could send either), and the transfer stopped.
    let bytes = 8 * MIB;
    let outage = Outage {
        path: PATH_A,
        down: Duration::from_secs(2),
        back: None,
    };
    let mut scenario = scenario(bytes, outage);
    let blink = |at: Duration, action| EventSpec {
        at: Time(at),
        link: PATH_B.link.to_owned(),
        direction: None,
        action,
    };
    let b_back = outage.down + Duration::from_millis(300);
    scenario.events.push(blink(outage.down, ActionSpec::Down));
    scenario.events.push(blink(b_back, ActionSpec::Up));
    let report = common::run_with(&scenario, &options());
    common::assert_all_intact(&report, 2 * bytes);
    for dir in directions(&report.connections[0]) {
        // Two seconds after path b is back (its timer found it again after up to 400 ms,
        // it resent what both subflows held, its window grew back from one segment), the
        // transfer runs at its rate.
        let settled = Instant::ZERO + b_back + Duration::from_secs(2);
        dir.assert_rate_after(settled, bytes, PATH_B, &scenario);
    }
}

#[test]
fn both_paths_failing_at_once_and_coming_back_carry_data_again_at_their_rate() {
    // Both paths go down at 2 s and come back 500 ms later. The subflow whose timer fires
    // second is not taken for failed as well (no other subflow works): its retransmissions
    // find the path again, and new data does not wait for all its old data first.
    let bytes = 16 * MIB;
    let outage = Outage {
        path: PATH_A,
        down: Duration::from_secs(2),
        back: Some(Duration::from_millis(2500)),
    };
    let mut scenario = scenario(bytes, outage);
    for (at, action) in [
        (outage.down, ActionSpec::Down),
        (outage.back.unwrap(), ActionSpec::Up),
    ] {
        scenario.events.push(EventSpec {
            at: Time(at),
            link: PATH_B.link.to_owned(),
            direction: None,
            action,
        });
    }
    let report = common::run_with(&scenario, &options());
    common::assert_all_intact(&report, 2 * bytes);
    let back = Instant::ZERO + outage.back.unwrap();
    let down = Instant::ZERO + outage.down;
    for dir in directions(&report.connections[0]) {
        // Nothing can arrive before the first retransmission timer that fires after the
        // return (each subflow's timer backed off during the outage) and its round trip.
        let stall = dir.stall.expect("data was read");
        let before_return = back - SAMPLE_EVERY;
        let any_path = |sf: &SubflowSample| Some(sf.rto);
        let rto = [PATH_A, PATH_B]
            .into_iter()
            .flat_map(|path| subflow_values(dir.sender, before_return, back, path, any_path))
            .max()
            .expect("subflows at the return");
        let rtt = [PATH_A, PATH_B]
            .into_iter()
            .flat_map(|path| subflow_values(dir.sender, Instant::ZERO, down, path, |sf| sf.srtt))
            .max()
            .expect("RTTs before the outage");
        println!(
            "{}: stall {:?}..{:?}, resumed {:?} after the return (bound: backed-off RTO {rto:?} + RTT {rtt:?})",
            dir.name,
            stall.from,
            stall.until,
            stall.until.saturating_duration_since(back)
        );
        assert!(stall.until <= back + rto + rtt, "{}: {stall:?}", dir.name);
        for path in [PATH_A, PATH_B] {
            let again = dir.received_on_after(path, back);
            println!(
                "{}: {again} bytes over {} after the return",
                dir.name, path.link
            );
            assert!(again >= MIB, "{}: {again} bytes on {}", dir.name, path.link);
        }
        let rate = dir.rate_after(back + Duration::from_secs(1), bytes);
        let sum = PATH_A.rate(&scenario) + PATH_B.rate(&scenario);
        println!(
            "{}: {:.2} Mbit/s from a second after the return",
            dir.name,
            rate / 1e6
        );
        assert!(rate >= 0.8 * sum, "{}: {rate} bit/s", dir.name);
    }
}
