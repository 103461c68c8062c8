//! A client with two access paths (a: 10.0.1.1, b: 10.0.2.1) to a server (10.0.3.1)
//! behind a router, as most multipath tests need it: each path's rate, delay, queue and
//! random loss, the options of each host and the client's application.

use mptcp_sim::scenario::Scenario;

/// One access path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathSpec {
    /// Rate in Mbit/s.
    pub mbit: u32,
    /// One-way delay in ms.
    pub delay_ms: u32,
    /// Queue length in packets.
    pub queue: u32,
    /// Probability that a packet is lost, each way.
    pub loss: f64,
}

impl PathSpec {
    /// A loss-free path with a 50-packet queue.
    pub const fn new(mbit: u32, delay_ms: u32) -> Self {
        Self {
            mbit,
            delay_ms,
            queue: 50,
            loss: 0.0,
        }
    }
}

/// The scenario: `paths[0]` is a, `paths[1]` is b; `client_options` and `server_options`
/// go into the hosts' tables (e.g. `settings.mptcp.scheduler = "redundant"`); `app` is the client
/// application's table without its `kind`-independent fields (e.g. `kind = "bulk"` and
/// `bytes = 1000`), connecting to the server's port 80.
pub fn two_paths(
    seed: u64,
    paths: [PathSpec; 2],
    client_options: &str,
    server_options: &str,
    app: &str,
) -> Scenario {
    let text = two_paths_text(seed, paths, client_options, server_options, app);
    Scenario::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The TOML text of [`two_paths`].
pub fn two_paths_text(
    seed: u64,
    paths: [PathSpec; 2],
    client_options: &str,
    server_options: &str,
    app: &str,
) -> String {
    let mut text = format!(
        r#"
seed = {seed}
duration = "600s"
[[hosts]]
name = "client"
addresses = ["10.0.1.1/24", "10.0.2.1/24"]
{client_options}
[[hosts]]
name = "server"
addresses = ["10.0.3.1/24"]
{server_options}
[[routers]]
name = "r"
routes = [
    {{ prefix = "10.0.1.0/24", iface = 0 }},
    {{ prefix = "10.0.2.0/24", iface = 1 }},
    {{ prefix = "10.0.3.0/24", iface = 2 }},
]
[[links]]
a = "r:2"
b = "server:0"
rate = "10000Mbit"
delay = "0ms"
[[apps]]
kind = "server"
host = "server"
port = 80
[[apps]]
host = "client"
connect = "10.0.3.1:80"
{app}
"#
    );
    for (index, path) in paths.iter().enumerate() {
        text.push_str(&format!(
            r#"
[[links]]
name = "{name}"
a = "client:{index}"
b = "r:{index}"
rate = "{}Mbit"
delay = "{}ms"
queue = {{ packets = {} }}
"#,
            path.mbit,
            path.delay_ms,
            path.queue,
            name = ["a", "b"][index],
        ));
        if path.loss > 0.0 {
            text.push_str(&format!(
                "loss = {{ model = \"random\", probability = {} }}\n",
                path.loss
            ));
        }
    }
    text
}

/// A counter of the client's subflows of `conn`, summed per path of [`two_paths`]: [a, b]
/// (e.g. `|t| t.bytes_acked`: what each path delivered to the server).
pub fn per_path(
    conn: &mptcp_sim::ConnectionReport,
    counter: impl Fn(&mptcp_proto::tcp::TcpInfo) -> u64,
) -> [u64; 2] {
    ["10.0.1.", "10.0.2."].map(|prefix| {
        conn.client_subflows
            .iter()
            .filter(|s| s.local.ip().to_string().starts_with(prefix))
            .map(|s| counter(&s.tcp))
            .sum()
    })
}
