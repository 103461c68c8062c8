//! The demo's network: a phone with Wi-Fi and cellular, a router, a server; Wi-Fi goes down
//! and comes back; the phone downloads from the server over MPTCP.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;

use mptcp_sim::scenario::{
    ActionSpec, AppSpec, Endpoint, EventSpec, HostSpec, LinkSpec, Prefix, QueueSpec, Rate,
    RouteSpec, RouterSpec, Scenario, SettingsSpec, Time,
};

/// The Wi-Fi link's name (and the phone's interface 0).
pub const WIFI: &str = "wifi";
/// The cellular link's name (and the phone's interface 1).
pub const CELLULAR: &str = "cellular";
/// The phone's Wi-Fi address.
pub const WIFI_ADDR: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 20);
/// The phone's cellular address.
pub const CELLULAR_ADDR: Ipv4Addr = Ipv4Addr::new(100, 64, 7, 20);
/// The server's address and port.
pub const SERVER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 10)), 443);

/// Wi-Fi: 30 Mbit/s, 20 ms round trip to the server.
pub const WIFI_RATE: u64 = 30_000_000;
/// Cellular: 10 Mbit/s, 60 ms round trip to the server.
pub const CELLULAR_RATE: u64 = 10_000_000;
const WIFI_DELAY: Duration = Duration::from_millis(9);
const CELLULAR_DELAY: Duration = Duration::from_millis(29);
/// One way through the server's data centre link (1 Gbit/s).
const CORE_DELAY: Duration = Duration::from_millis(1);

/// What the demo runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// Bytes downloaded.
    pub size: u64,
    /// Seed of the simulation.
    pub seed: u64,
    /// When Wi-Fi goes down (from the start of the run).
    pub fail_at: Duration,
    /// How long it stays down (zero: it never fails).
    pub fail_for: Duration,
    /// The settings of both stacks (`--set`, `--config`).
    pub settings: SettingsSpec,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            size: 64 << 20,
            seed: 1,
            fail_at: Duration::from_secs(5),
            fail_for: Duration::from_secs(5),
            settings: SettingsSpec::default(),
        }
    }
}

impl DemoConfig {
    /// When Wi-Fi goes down, if it does.
    pub fn down_at(&self) -> Option<Duration> {
        (!self.fail_for.is_zero()).then_some(self.fail_at)
    }

    /// When Wi-Fi comes back, if it went down.
    pub fn up_at(&self) -> Option<Duration> {
        self.down_at().map(|at| at + self.fail_for)
    }

    /// The scenario: the phone (Wi-Fi on interface 0, cellular on 1), a router, the server
    /// behind a fast link; the phone downloads `size` bytes at time zero. It runs long
    /// enough for the download to finish over cellular alone twice over.
    pub fn scenario(&self) -> Scenario {
        let prefix = |addr: Ipv4Addr| Prefix {
            addr: addr.into(),
            len: 24,
        };
        let net = |addr: Ipv4Addr| {
            let [a, b, c, _] = addr.octets();
            prefix(Ipv4Addr::new(a, b, c, 0))
        };
        let end = |node: &str, iface| Endpoint {
            node: node.to_owned(),
            iface,
        };
        let server_ip = match SERVER.ip() {
            IpAddr::V4(ip) => ip,
            IpAddr::V6(_) => unreachable!("the demo server is IPv4"),
        };
        let access = |name: &str, iface, rate, delay| LinkSpec {
            name: Some(name.to_owned()),
            rate: Some(Rate(rate)),
            delay: Time(delay),
            queue: Some(QueueSpec {
                packets: Some(50),
                bytes: None,
            }),
            ..LinkSpec::new(end("phone", iface), end("router", iface))
        };
        let core = LinkSpec {
            name: Some("core".to_owned()),
            rate: Some(Rate(1_000_000_000)),
            delay: Time(CORE_DELAY),
            ..LinkSpec::new(end("router", 2), end("server", 0))
        };
        let host = |name: &str, addresses| HostSpec {
            name: name.to_owned(),
            addresses,
            settings: self.settings.clone(),
            profile: None,
            backup: Vec::new(),
            address_changes: Vec::new(),
            endpoints: Vec::new(),
        };
        let event = |at: Duration, action| EventSpec {
            at: Time(at),
            link: WIFI.to_owned(),
            direction: None,
            action,
        };
        let events = match (self.down_at(), self.up_at()) {
            (Some(down), Some(up)) => {
                vec![event(down, ActionSpec::Down), event(up, ActionSpec::Up)]
            }
            _ => Vec::new(),
        };
        let cellular_only = Duration::from_secs_f64(self.size as f64 * 8.0 / CELLULAR_RATE as f64);
        Scenario {
            seed: self.seed,
            duration: Time(
                self.up_at().unwrap_or_default() + 2 * cellular_only + Duration::from_secs(30),
            ),
            hosts: vec![
                host("phone", vec![prefix(WIFI_ADDR), prefix(CELLULAR_ADDR)]),
                host("server", vec![prefix(server_ip)]),
            ],
            routers: vec![RouterSpec {
                name: "router".to_owned(),
                routes: [net(WIFI_ADDR), net(CELLULAR_ADDR), net(server_ip)]
                    .into_iter()
                    .enumerate()
                    .map(|(iface, prefix)| RouteSpec { prefix, iface })
                    .collect(),
                middleboxes: Vec::new(),
            }],
            links: vec![
                access(WIFI, 0, WIFI_RATE, WIFI_DELAY),
                access(CELLULAR, 1, CELLULAR_RATE, CELLULAR_DELAY),
                core,
            ],
            events,
            apps: vec![
                AppSpec::Server {
                    host: "server".to_owned(),
                    port: SERVER.port(),
                    settings: SettingsSpec::default(),
                },
                AppSpec::Download {
                    host: "phone".to_owned(),
                    start: Time::default(),
                    connect: SERVER,
                    bytes: self.size,
                    settings: SettingsSpec::default(),
                },
            ],
        }
    }
}

/// The path a subflow from local address `ip` takes.
pub fn path_of(ip: IpAddr) -> Option<&'static str> {
    match ip {
        ip if ip == IpAddr::V4(WIFI_ADDR) => Some(WIFI),
        ip if ip == IpAddr::V4(CELLULAR_ADDR) => Some(CELLULAR),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_is_valid() {
        let scenario = DemoConfig::default().scenario();
        scenario.validate().unwrap();
        assert_eq!(scenario.events.len(), 2);
        let calm = DemoConfig {
            fail_for: Duration::ZERO,
            ..DemoConfig::default()
        };
        assert!(calm.scenario().events.is_empty());
    }
}
