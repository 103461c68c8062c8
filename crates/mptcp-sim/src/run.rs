//! Running a [`Scenario`] with the real TCP [`Stack`] on every host: the host factory for
//! [`Scenario::build`] and [`run_scenario`], which builds, runs and reports in one call.

use core::ops::ControlFlow;
use core::time::Duration;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::PathBuf;

use mptcp_proto::stack::{ConnectionConfig, InterfaceConfig, Stack, StackConfig};
use mptcp_proto::time::Instant;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use thiserror::Error;

use crate::report::ScenarioReport;
use crate::scenario::{AppSpec, BuiltScenario, HostSpec, LinkSpec, Scenario, ScenarioError};
use crate::stack_host::{AddressChange, StackHost};

/// How to run a scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Write a capture of every link into this directory (created if missing), named
    /// `link<index>.pcap` or `link<index>-<name>.pcap` after the link's place and name in the
    /// scenario.
    pub pcap_dir: Option<PathBuf>,
    /// Sample both ends of every connection this often (virtual time) into
    /// [`ConnectionReport::samples`](crate::ConnectionReport::samples) and
    /// [`server_samples`](crate::ConnectionReport::server_samples): bytes sent and read,
    /// and each subflow's counters. `None`: no samples.
    pub sample_every: Option<Duration>,
}

/// Why a scenario could not be run.
#[derive(Debug, Error)]
pub enum RunError {
    /// The scenario is invalid or cannot be built.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A capture file could not be created or written.
    #[error("cannot write capture {path}: {source}")]
    Capture {
        /// The file (or the directory, if it could not be created).
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

/// Builds `scenario` with a [`StackHost`] on every host, runs it to its end and reports
/// every connection.
///
/// ```
/// use mptcp_sim::scenario::Scenario;
/// use mptcp_sim::{RunOptions, run_scenario};
///
/// let scenario = Scenario::from_toml_str(r#"
///     seed = 1
///     duration = "5s"
///     hosts = [
///         { name = "client", addresses = ["10.0.0.1/24"] },
///         { name = "server", addresses = ["10.0.0.2/24"] },
///     ]
///     links = [{ a = "client:0", b = "server:0", rate = "10Mbit", delay = "10ms" }]
///     apps = [
///         { kind = "server", host = "server", port = 80 },
///         { kind = "bulk", host = "client", connect = "10.0.0.2:80", bytes = 100_000 },
///     ]
/// "#).unwrap();
/// let report = run_scenario(&scenario, &RunOptions::default()).unwrap();
/// assert!(report.all_ok());
/// assert_eq!(report.connections[0].bytes_received, 100_000);
/// ```
pub fn run_scenario(scenario: &Scenario, options: &RunOptions) -> Result<ScenarioReport, RunError> {
    run_scenario_observed(scenario, options, None, |_| ControlFlow::Continue(()))
}

/// [`run_scenario`] that shows its progress: every `step` of virtual time (if given) it
/// hands `observe` the report so far (its `end` is the current time), and stops early if
/// `observe` says [`ControlFlow::Break`] (the report then ends there). The run is the same
/// as without observing, event for event.
///
/// ```
/// use core::ops::ControlFlow;
/// use core::time::Duration;
/// use mptcp_sim::scenario::Scenario;
/// use mptcp_sim::{RunOptions, run_scenario_observed};
///
/// let scenario = Scenario::from_toml_str(r#"
///     seed = 1
///     duration = "60s"
///     hosts = [
///         { name = "client", addresses = ["10.0.0.1/24"] },
///         { name = "server", addresses = ["10.0.0.2/24"] },
///     ]
///     links = [{ a = "client:0", b = "server:0", rate = "10Mbit", delay = "10ms" }]
///     apps = [
///         { kind = "server", host = "server", port = 80 },
///         { kind = "download", host = "client", connect = "10.0.0.2:80", bytes = 100_000 },
///     ]
/// "#).unwrap();
/// let mut seen = 0;
/// let step = Some(Duration::from_millis(100));
/// let report = run_scenario_observed(&scenario, &RunOptions::default(), step, |so_far| {
///     seen += 1;
///     if so_far.all_ok() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
/// })
/// .unwrap();
/// assert!(report.all_ok());
/// assert!(seen < 10 && report.end.as_nanos() < 1_000_000_000);
/// ```
pub fn run_scenario_observed(
    scenario: &Scenario,
    options: &RunOptions,
    step: Option<Duration>,
    mut observe: impl FnMut(&ScenarioReport) -> ControlFlow<()>,
) -> Result<ScenarioReport, RunError> {
    let mut make_host = stack_hosts(scenario);
    let mut built = scenario.build(|host, apps| match options.sample_every {
        Some(every) => make_host(host, apps).with_sampling(every),
        None => make_host(host, apps),
    })?;
    if let Some(dir) = &options.pcap_dir {
        let failed = |path: PathBuf| move |source| RunError::Capture { path, source };
        fs::create_dir_all(dir).map_err(failed(dir.clone()))?;
        for (index, (&link, spec)) in built.links.iter().zip(&scenario.links).enumerate() {
            let path = dir.join(capture_name(index, spec));
            let file = File::create(&path).map_err(failed(path.clone()))?;
            built
                .simulation
                .capture_link(link, Box::new(BufWriter::new(file)))
                .map_err(failed(path))?;
        }
    }
    let mut end = built.end;
    match step.filter(|step| !step.is_zero()) {
        None => built.run(),
        Some(step) => {
            let mut now = Instant::ZERO;
            while now < built.end {
                now = (now + step).min(built.end);
                built.simulation.run_until(now);
                if observe(&report(scenario, &built, now)).is_break() {
                    end = now;
                    break;
                }
            }
        }
    }
    built
        .simulation
        .finish_captures()
        .map_err(|source| RunError::Capture {
            path: options.pcap_dir.clone().unwrap_or_default(),
            source,
        })?;
    Ok(report(scenario, &built, end))
}

/// The report of `built` (made from `scenario`) at `end`.
fn report(scenario: &Scenario, built: &BuiltScenario<StackHost>, end: Instant) -> ScenarioReport {
    let hosts = scenario.hosts.iter().filter_map(|host| {
        let node = built.node(&host.name)?;
        built.simulation.host(node)
    });
    ScenarioReport::collect(
        scenario.seed,
        end,
        built.simulation.events_processed(),
        hosts,
    )
}

/// `link3.pcap`, or `link3-wifi.pcap` for a link named "wifi".
fn capture_name(index: usize, spec: &LinkSpec) -> String {
    match &spec.name {
        Some(name) => format!("link{index}-{name}.pcap"),
        None => format!("link{index}.pcap"),
    }
}

/// The host factory for [`Scenario::build`]: a [`StackHost`] for each host, with the stack
/// `stack_config` describes and a random generator seeded from the scenario's seed and the
/// host's place among the hosts.
pub fn stack_hosts(scenario: &Scenario) -> impl FnMut(&HostSpec, &[&AppSpec]) -> StackHost + '_ {
    move |host, apps| {
        let index = scenario
            .hosts
            .iter()
            .position(|h| h.name == host.name)
            .unwrap_or(scenario.hosts.len());
        let rng = host_rng(scenario.seed, index);
        let stack = Stack::new(stack_config(scenario, host), Box::new(rng));
        let apps: Vec<_> = apps
            .iter()
            .map(|app| (*app, app_config(&stack, host, app)))
            .collect();
        let changes = host.address_changes.iter().map(|change| AddressChange {
            at: Instant::ZERO + change.at.0,
            iface: change.iface,
            addr: host.addresses[change.iface].addr,
            action: change.action,
        });
        StackHost::new(host.name.clone(), index, stack, &apps).with_address_changes(changes)
    }
}

/// The settings of `app`'s connections when it has settings of its own, over its host's
/// (`None`: the stack's).
fn app_config(stack: &Stack, host: &HostSpec, app: &AppSpec) -> Option<ConnectionConfig> {
    if app.settings().0.is_empty() {
        return None;
    }
    let settings = host
        .settings_with(app.settings())
        .expect("Scenario::build validates every application's settings first");
    let mut config = stack.connection_config();
    settings.apply(&mut config.tcp, &mut config.mptcp);
    Some(config)
}

/// The generator of host number `index`: ChaCha8 keyed with the seed, the index and a label,
/// so it shares no stream with the links (which key ChaCha8 with the seed alone).
fn host_rng(seed: u64, index: usize) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(index as u64).to_le_bytes());
    key[16..].copy_from_slice(b"mptcp-sim host\0\0");
    ChaCha8Rng::from_seed(key)
}

/// The stack settings of `host`: an interface per address, with the MTU of the link on it
/// (1500 if none), and the host's TCP and MPTCP settings (validated with the scenario).
fn stack_config(scenario: &Scenario, host: &HostSpec) -> StackConfig {
    let interfaces = host
        .addresses
        .iter()
        .enumerate()
        .map(|(iface, prefix)| {
            let mtu = scenario
                .links
                .iter()
                .find(|link| {
                    [&link.a, &link.b]
                        .iter()
                        .any(|end| end.node == host.name && end.iface == iface)
                })
                .and_then(|link| link.mtu)
                .unwrap_or(1500);
            InterfaceConfig {
                addrs: vec![prefix.addr],
                mtu,
                backup: host.backup.contains(&iface),
            }
        })
        .collect();
    let mut config = StackConfig {
        interfaces,
        ..StackConfig::default()
    };
    host.settings()
        .expect("Scenario::build validates every host's settings first")
        .apply(&mut config.tcp, &mut config.mptcp);
    if let Some(manager) = host
        .endpoints()
        .expect("Scenario::build validates every host's endpoints first")
    {
        config.mptcp.path_manager = manager;
    }
    config
}
