//! A data-centre experiment: a k-ary fat-tree (Al-Fares et al., SIGCOMM 2008) whose switches
//! spread flows over their uplinks by a hash of the 5-tuple (ECMP), loaded with permutation
//! traffic, as in "Improving Datacenter Performance and Robustness with Multipath TCP"
//! (Raiciu et al., SIGCOMM 2011). Single-path TCP flows that hash onto the same link share
//! it while other links idle; a Multipath TCP connection with several subflows on the same
//! address pair (different source ports, so different hashes) spreads over several paths.
//!
//! [`FatTree`] writes the topology and its traffic as a scenario file
//! (`scenarios/fat_tree_k4.toml` is [`FatTree::k4`]), [`Transport`] says what every host
//! speaks, and [`measure`] runs a scenario and reports the aggregate throughput over a
//! window of virtual time as a share of the optimum, every host receiving at its link's
//! rate.
//!
//! ```
//! use mptcp_sim::fat_tree::FatTree;
//!
//! let tree = FatTree::k4();
//! assert_eq!((tree.hosts(), tree.switches()), (16, 20));
//! let permutation = tree.permutation();
//! // Every host sends to exactly one other host, in another pod, and receives from one.
//! let mut receivers = permutation.clone();
//! receivers.sort_unstable();
//! assert_eq!(receivers, (0..16).collect::<Vec<_>>());
//! assert!((0..16).all(|h| tree.pod(permutation[h]) != tree.pod(h)));
//! let scenario = tree.scenario();
//! assert_eq!((scenario.hosts.len(), scenario.routers.len(), scenario.links.len()), (16, 20, 48));
//! ```

use core::net::Ipv4Addr;
use core::ops::ControlFlow;
use core::time::Duration;

use crate::report::ScenarioReport;
use crate::run::{RunError, RunOptions, run_scenario_observed};
use crate::scenario::Scenario;

/// The port every host's server listens on.
pub const PORT: u16 = 80;

/// A k-ary fat-tree with permutation traffic: `k` pods of `k/2` edge and `k/2` aggregation
/// switches, `(k/2)²` core switches and `k³/4` hosts, every link alike. Each host runs a
/// server and one bulk transfer of [`bytes`](Self::bytes) to the host the seeded
/// [`permutation`](Self::permutation) gives it.
///
/// Host `i` of edge switch `e` in pod `p` has the address `10.p.e.(i+2)/24`. An edge switch
/// reaches its hosts on interfaces `0..k/2` (a /32 route each) and sends everything else up
/// over interfaces `k/2..k` (ECMP); an aggregation switch reaches edge switch `e` of its pod
/// on interface `e` (`10.p.e.0/24`) and sends the rest up to the core the same way; core
/// switch `j` reaches pod `p` on interface `p` (`10.p.0.0/16`) through aggregation switch
/// `j / (k/2)` of that pod, which reaches it on interface `k/2 + j % (k/2)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FatTree {
    /// Ports per switch: even, from 2 to 16.
    pub k: usize,
    /// Every link's rate, Mbit/s, both directions.
    pub rate_mbit: u64,
    /// Every link's propagation delay, µs.
    pub delay_us: u64,
    /// Every link's drop-tail queue, packets, each direction.
    pub queue_packets: usize,
    /// Bytes each host sends.
    pub bytes: u64,
    /// How long the scenario runs, seconds.
    pub duration_s: u64,
    /// The scenario's seed (the switches' ECMP hashes and the hosts' ports and keys).
    pub seed: u64,
    /// The seed of the permutation (who sends to whom).
    pub traffic_seed: u64,
}

impl FatTree {
    /// The shipped experiment (`scenarios/fat_tree_k4.toml`): k = 4, 16 hosts, 10 Mbit/s
    /// links of 100 µs with 50-packet queues; each host sends 8 MiB, enough to keep every
    /// flow running past [`Window::K4`] even at the full link rate.
    pub fn k4() -> Self {
        Self {
            k: 4,
            rate_mbit: 10,
            delay_us: 100,
            queue_packets: 50,
            bytes: 8 << 20,
            duration_s: 60,
            seed: 1,
            traffic_seed: 1,
        }
    }

    /// Switches per pod of each layer, ports up and ports down: `k/2`.
    fn half(&self) -> usize {
        self.k / 2
    }

    /// The number of hosts, `k³/4`.
    pub fn hosts(&self) -> usize {
        self.k * self.half() * self.half()
    }

    /// The number of switches: `k/2` edge and `k/2` aggregation switches in each of the `k`
    /// pods, and `(k/2)²` core switches.
    pub fn switches(&self) -> usize {
        self.k * self.k + self.half() * self.half()
    }

    /// The pod of host `host`.
    pub fn pod(&self, host: usize) -> usize {
        host / (self.half() * self.half())
    }

    /// The edge switch (within its pod) of host `host`.
    fn edge(&self, host: usize) -> usize {
        host / self.half() % self.half()
    }

    /// The address of host `host`.
    pub fn address(&self, host: usize) -> Ipv4Addr {
        let [p, e, i] = [self.pod(host), self.edge(host), host % self.half()]
            .map(|n| u8::try_from(n).expect("k is at most 16"));
        Ipv4Addr::new(10, p, e, i + 2)
    }

    /// The optimum aggregate throughput, bit/s: every host receiving at its link's rate.
    pub fn optimum_bps(&self) -> f64 {
        self.hosts() as f64 * self.rate_mbit as f64 * 1e6
    }

    /// Whom each host sends to: a permutation drawn from
    /// [`traffic_seed`](Self::traffic_seed) in which every host sends to a host of another
    /// pod (so every flow crosses the core) and receives from exactly one.
    pub fn permutation(&self) -> Vec<usize> {
        assert!(
            self.k >= 2 && self.k % 2 == 0 && self.k <= 16,
            "k must be even, 2 to 16"
        );
        let n = self.hosts();
        let mut random = SplitMix(self.traffic_seed);
        // Fisher–Yates.
        let mut permutation: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            permutation.swap(i, random.below(i + 1));
        }
        // Then each host that sends inside its own pod trades receivers with a random host
        // for whom the trade works too. A trade never breaks a host already fixed, and one
        // always exists: fewer than n/k of the n - n/k hosts of the other pods send into
        // this one.
        let pod = |host: usize| self.pod(host);
        for host in 0..n {
            while pod(permutation[host]) == pod(host) {
                let other = random.below(n);
                if pod(permutation[host]) != pod(other) && pod(permutation[other]) != pod(host) {
                    permutation.swap(host, other);
                }
            }
        }
        permutation
    }

    /// The scenario in TOML, commented: what `scenarios/fat_tree_k4.toml` holds for
    /// [`FatTree::k4`].
    pub fn to_toml(&self) -> String {
        let permutation = self.permutation();
        let half = self.half();
        let mut text = String::new();
        let mut line = |l: &str| {
            text.push_str(l);
            text.push('\n');
        };
        line(&format!(
            "# A k={} fat-tree: {} hosts, {} edge and {} aggregation switches in {} pods, {} core \
             switches,",
            self.k,
            self.hosts(),
            self.k * half,
            self.k * half,
            self.k,
            half * half
        ));
        for comment in [
            format!(
                "# every link {} Mbit/s with {} us of delay and a {}-packet queue each way. \
                 Switches spread",
                self.rate_mbit, self.delay_us, self.queue_packets
            ),
            "# flows over their uplinks by a hash of the 5-tuple (ECMP; the hash changes with \
             the seed)."
                .to_owned(),
            format!(
                "# Permutation traffic: every host sends {} bytes to one host in another pod and \
                 receives",
                self.bytes
            ),
            "# from one; the optimum is every host receiving at its link's rate (Raiciu et al., \
             SIGCOMM 2011)."
                .to_owned(),
            "#".to_owned(),
            "# Plain TCP, and Multipath TCP with 8 subflows on the same address pair:".to_owned(),
            "#".to_owned(),
            "#   cargo run --release -p mptcp-cli -- sim --set mptcp.enabled=0 \
             scenarios/fat_tree_k4.toml"
                .to_owned(),
            "#   cargo run --release -p mptcp-cli -- sim --set mptcp.path_manager=ndiffports \\"
                .to_owned(),
            "#       --set ndiffports.num_subflows=8 scenarios/fat_tree_k4.toml".to_owned(),
            "#".to_owned(),
            "# Generated by mptcp_sim::fat_tree::FatTree (a test checks that this file is what it \
             writes);"
                .to_owned(),
            "# docs/datacenter.md has the experiment and its figures.".to_owned(),
        ] {
            line(&comment);
        }
        line(&format!("seed = {}", self.seed));
        line(&format!("duration = \"{}s\"", self.duration_s));
        line("");
        line("# Host i of edge switch e in pod p: 10.p.e.(i+2).");
        line("hosts = [");
        for host in 0..self.hosts() {
            line(&format!(
                "    {{ name = \"h{host}\", addresses = [\"{}/24\"] }},",
                self.address(host)
            ));
        }
        line("]");
        line("");
        line("# Every host serves on port 80 and sends to one host.");
        line("apps = [");
        for host in 0..self.hosts() {
            line(&format!(
                "    {{ kind = \"server\", host = \"h{host}\", port = {PORT} }},"
            ));
        }
        for (host, &to) in permutation.iter().enumerate() {
            line(&format!(
                "    {{ kind = \"bulk\", host = \"h{host}\", connect = \"{}:{PORT}\", bytes = {} \
                 }},",
                self.address(to),
                self.bytes
            ));
        }
        line("]");
        line("");
        let params = format!(
            "rate = \"{}Mbit\", delay = \"{}us\", queue = {{ packets = {} }}",
            self.rate_mbit, self.delay_us, self.queue_packets
        );
        line("# Hosts to edge switches, edge to aggregation, aggregation to core.");
        line("links = [");
        for host in 0..self.hosts() {
            line(&format!(
                "    {{ a = \"h{host}:0\", b = \"{}:{}\", {params} }},",
                edge_name(self.pod(host), self.edge(host)),
                host % half
            ));
        }
        for pod in 0..self.k {
            for edge in 0..half {
                for agg in 0..half {
                    line(&format!(
                        "    {{ a = \"{}:{}\", b = \"{}:{edge}\", {params} }},",
                        edge_name(pod, edge),
                        half + agg,
                        agg_name(pod, agg),
                    ));
                }
            }
        }
        for pod in 0..self.k {
            for agg in 0..half {
                for up in 0..half {
                    line(&format!(
                        "    {{ a = \"{}:{}\", b = \"core{}:{pod}\", {params} }},",
                        agg_name(pod, agg),
                        half + up,
                        agg * half + up,
                    ));
                }
            }
        }
        line("]");
        for pod in 0..self.k {
            for edge in 0..half {
                line("");
                line("[[routers]]");
                line(&format!("name = \"{}\"", edge_name(pod, edge)));
                line("routes = [");
                for i in 0..half {
                    let host = (pod * half + edge) * half + i;
                    line(&format!(
                        "    {{ prefix = \"{}/32\", iface = {i} }},",
                        self.address(host)
                    ));
                }
                for up in half..self.k {
                    line(&format!("    {{ prefix = \"0.0.0.0/0\", iface = {up} }},"));
                }
                line("]");
            }
            for agg in 0..half {
                line("");
                line("[[routers]]");
                line(&format!("name = \"{}\"", agg_name(pod, agg)));
                line("routes = [");
                for edge in 0..half {
                    line(&format!(
                        "    {{ prefix = \"10.{pod}.{edge}.0/24\", iface = {edge} }},"
                    ));
                }
                for up in half..self.k {
                    line(&format!("    {{ prefix = \"0.0.0.0/0\", iface = {up} }},"));
                }
                line("]");
            }
        }
        for core in 0..half * half {
            line("");
            line("[[routers]]");
            line(&format!("name = \"core{core}\""));
            line("routes = [");
            for pod in 0..self.k {
                line(&format!(
                    "    {{ prefix = \"10.{pod}.0.0/16\", iface = {pod} }},"
                ));
            }
            line("]");
        }
        text
    }

    /// The scenario [`to_toml`](Self::to_toml) writes, parsed.
    pub fn scenario(&self) -> Scenario {
        Scenario::from_toml_str(&self.to_toml())
            .expect("the generated fat-tree is a valid scenario")
    }

    /// The share of the optimum that ideally fair flows would reach on this tree, a fluid
    /// model to compare the simulated stacks with: each of the `subflows` of every
    /// connection takes one of the `(k/2)²` shortest paths between its pods at random, as
    /// a flow hash does, and every link's capacity is shared max–min fairly among the
    /// subflows that cross it, each subflow on its own (as uncoupled congestion controllers
    /// share). The mean over `trials` draws from `seed`.
    ///
    /// ```
    /// use mptcp_sim::fat_tree::FatTree;
    ///
    /// let tree = FatTree::k4();
    /// let tcp = tree.fluid_share(1, 200, 1);
    /// let eight = tree.fluid_share(8, 200, 1);
    /// assert!(tcp < 0.6 && eight > 0.85, "{tcp} {eight}");
    /// ```
    pub fn fluid_share(&self, subflows: usize, trials: usize, seed: u64) -> f64 {
        let permutation = self.permutation();
        let half = self.half();
        let mut random = SplitMix(seed);
        let mut total = 0.0;
        for _ in 0..trials {
            let mut links = std::collections::BTreeMap::new();
            let mut paths = Vec::new();
            for (src, &dst) in permutation.iter().enumerate() {
                for _ in 0..subflows.max(1) {
                    let (agg, up) = (random.below(half), random.below(half));
                    let core = agg * half + up;
                    let hops = [
                        [0, src, 0, 0],
                        [1, self.pod(src), self.edge(src), agg],
                        [2, self.pod(src), agg, up],
                        [3, core, self.pod(dst), 0],
                        [4, self.pod(dst), agg, self.edge(dst)],
                        [5, dst, 0, 0],
                    ];
                    let mut path = [0; 6];
                    for (place, hop) in path.iter_mut().zip(hops) {
                        let fresh = links.len();
                        *place = *links.entry(hop).or_insert(fresh);
                    }
                    paths.push(path);
                }
            }
            total += max_min_fair(&paths, links.len()).iter().sum::<f64>();
        }
        total / (trials.max(1) * self.hosts()) as f64
    }
}

/// What every host speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Plain TCP (`mptcp.enabled = 0`).
    Tcp,
    /// Multipath TCP with this many subflows on the connection's address pair: the `default`
    /// path manager for one, `ndiffports` with `ndiffports.num_subflows` for more.
    Mptcp {
        /// Subflows per connection, the first one included.
        subflows: u8,
    },
}

impl Transport {
    /// The settings that choose it, by name, as `mptcp sim --set` takes them.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        match *self {
            Self::Tcp => vec![("mptcp.enabled", "0".to_owned())],
            Self::Mptcp { subflows: 0 | 1 } => vec![
                ("mptcp.enabled", "1".to_owned()),
                ("mptcp.path_manager", "default".to_owned()),
            ],
            Self::Mptcp { subflows } => vec![
                ("mptcp.enabled", "1".to_owned()),
                ("mptcp.path_manager", "ndiffports".to_owned()),
                ("ndiffports.num_subflows", subflows.to_string()),
            ],
        }
    }

    /// Sets [`settings`](Self::settings) on every host of `scenario`, over the host's own.
    pub fn apply(&self, scenario: &mut Scenario) {
        for host in &mut scenario.hosts {
            for (name, value) in self.settings() {
                host.settings.push(name, &value);
            }
        }
    }
}

impl core::fmt::Display for Transport {
    /// "TCP", "MPTCP, 1 subflow", "MPTCP, 8 subflows".
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Through `pad`, so that widths and alignments apply.
        f.pad(&match *self {
            Self::Tcp => "TCP".to_owned(),
            Self::Mptcp { subflows: 1 } => "MPTCP, 1 subflow".to_owned(),
            Self::Mptcp { subflows } => format!("MPTCP, {subflows} subflows"),
        })
    }
}

/// The stretch of virtual time whose throughput counts: after slow start and the joins,
/// before the first transfer can end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Start, from time zero.
    pub from: Duration,
    /// End, from time zero.
    pub until: Duration,
}

impl Window {
    /// The window of [`FatTree::k4`]: from 1 s to 6 s, while every flow still has data to
    /// send (8 MiB take 6.7 s even at the full 10 Mbit/s).
    pub const K4: Self = Self {
        from: Duration::from_secs(1),
        until: Duration::from_secs(6),
    };

    /// Its length.
    pub fn length(&self) -> Duration {
        self.until.saturating_sub(self.from)
    }
}

/// A scenario run measured over a [`Window`].
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The whole run, to the scenario's end.
    pub report: ScenarioReport,
    /// The window.
    pub window: Window,
    /// Per connection, in the report's order, the bytes its receiving application read
    /// within the window.
    pub window_bytes: Vec<u64>,
    /// No transfer had completed by the window's end: the window saw every connection
    /// sharing the network all along (else a faster one left its links to the others).
    pub none_done: bool,
}

impl Measurement {
    /// Each connection's goodput within the window, bit/s, in the report's order.
    pub fn goodputs_bps(&self) -> Vec<f64> {
        let seconds = self.window.length().as_secs_f64();
        self.window_bytes
            .iter()
            .map(|&bytes| bytes as f64 * 8.0 / seconds)
            .collect()
    }

    /// The sum of the connections' goodputs within the window, bit/s.
    pub fn aggregate_bps(&self) -> f64 {
        self.goodputs_bps().iter().sum()
    }

    /// [`aggregate_bps`](Self::aggregate_bps) as a share of `optimum_bps` (0 to 1).
    pub fn share_of(&self, optimum_bps: f64) -> f64 {
        self.aggregate_bps() / optimum_bps
    }
}

/// Runs `scenario` to its end and measures what every connection's receiver read within
/// `window` (which must end by the scenario's end).
pub fn measure(scenario: &Scenario, window: Window) -> Result<Measurement, RunError> {
    assert!(
        window.from < window.until && window.until <= scenario.duration.0,
        "the window {window:?} must be a stretch of the scenario's {:?}",
        scenario.duration.0
    );
    // The run stops to look at every multiple of `step`, which both ends of the window are.
    let step = Duration::from_nanos(gcd(
        window.from.as_nanos() as u64,
        window.until.as_nanos() as u64,
    ));
    let received = |report: &ScenarioReport| -> Vec<u64> {
        report
            .connections
            .iter()
            .map(|c| c.bytes_received)
            .collect()
    };
    let (mut at_from, mut at_until, mut none_done) = (None, None, false);
    let report = run_scenario_observed(scenario, &RunOptions::default(), Some(step), |so_far| {
        let now = Duration::from_nanos(so_far.end.as_nanos());
        if now == window.from {
            at_from = Some(received(so_far));
        } else if now == window.until {
            at_until = Some(received(so_far));
            none_done = so_far.connections.iter().all(|c| !c.finished);
        }
        ControlFlow::Continue(())
    })?;
    let (at_from, at_until) = (
        at_from.expect("the run passed the window's start"),
        at_until.expect("the run passed the window's end"),
    );
    Ok(Measurement {
        report,
        window,
        window_bytes: at_until.iter().zip(&at_from).map(|(u, f)| u - f).collect(),
        none_done,
    })
}

/// The greatest common divisor of `a` and `b`.
fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The rates of flows that cross the links `paths` (each of capacity 1) under max–min
/// fairness, by progressive filling: the link with the least capacity per flow left fixes
/// its flows' rate, which the other links on their paths then lose, and so on.
fn max_min_fair(paths: &[[usize; 6]], links: usize) -> Vec<f64> {
    let mut rate = vec![0.0; paths.len()];
    let mut capacity = vec![1.0_f64; links];
    let mut active: Vec<usize> = (0..paths.len()).collect();
    while !active.is_empty() {
        let mut crossing = vec![0usize; links];
        for &flow in &active {
            for &link in &paths[flow] {
                crossing[link] += 1;
            }
        }
        let (bottleneck, share) = (0..links)
            .filter(|&link| crossing[link] > 0)
            .map(|link| (link, capacity[link] / crossing[link] as f64))
            .fold((0, f64::INFINITY), |best, this| {
                if this.1 < best.1 { this } else { best }
            });
        active.retain(|&flow| {
            if !paths[flow].contains(&bottleneck) {
                return true;
            }
            rate[flow] = share;
            for &link in &paths[flow] {
                capacity[link] -= share;
            }
            false
        });
    }
    rate
}

/// SplitMix64: a tiny generator whose stream never changes with a crate's version.
struct SplitMix(u64);

impl SplitMix {
    /// A number below `bound`.
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % bound as u64) as usize
    }
}

/// The name of edge switch `edge` of pod `pod`.
fn edge_name(pod: usize, edge: usize) -> String {
    format!("edge{pod}_{edge}")
}

/// The name of aggregation switch `agg` of pod `pod`.
fn agg_name(pod: usize, agg: usize) -> String {
    format!("agg{pod}_{agg}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(k: usize, traffic_seed: u64) -> FatTree {
        FatTree {
            k,
            traffic_seed,
            ..FatTree::k4()
        }
    }

    #[test]
    fn every_host_sends_to_one_host_of_another_pod_and_receives_from_one() {
        for k in [2, 4, 6, 8, 16] {
            for seed in 1..=5 {
                let tree = tree(k, seed);
                let permutation = tree.permutation();
                let mut receivers = permutation.clone();
                receivers.sort_unstable();
                assert_eq!(receivers, (0..tree.hosts()).collect::<Vec<_>>(), "k {k}");
                for (host, &to) in permutation.iter().enumerate() {
                    assert_ne!(tree.pod(host), tree.pod(to), "k {k} seed {seed}: {host}");
                }
            }
        }
    }

    #[test]
    fn the_written_scenario_has_every_host_switch_and_link() {
        for k in [2, 4, 6] {
            let tree = tree(k, 1);
            let scenario = tree.scenario();
            let half = k / 2;
            assert_eq!(scenario.hosts.len(), k * k * k / 4);
            assert_eq!(scenario.routers.len(), tree.switches());
            // Hosts to edge, edge to aggregation, aggregation to core.
            assert_eq!(scenario.links.len(), 3 * k * half * half);
            assert_eq!(scenario.apps.len(), 2 * tree.hosts());
            let addresses: std::collections::BTreeSet<_> =
                (0..tree.hosts()).map(|h| tree.address(h)).collect();
            assert_eq!(addresses.len(), tree.hosts());
        }
    }

    #[test]
    fn the_fluid_model_is_full_with_one_path_and_fills_more_with_more_subflows() {
        assert_eq!(tree(2, 1).fluid_share(1, 10, 1), 1.0);
        let tree = FatTree::k4();
        let shares: Vec<f64> = [1, 2, 4, 8]
            .iter()
            .map(|&n| tree.fluid_share(n, 200, 1))
            .collect();
        assert!(shares.windows(2).all(|w| w[0] < w[1]), "{shares:?}");
        assert!(shares[0] > 0.4 && shares[3] < 1.0, "{shares:?}");
    }
}
