//! `limits.add_addr_accepted` (docs/settings.md): a server with three addresses announces
//! its two others (ADD_ADDR); a client with one address joins each announced address it
//! accepts. Accepting one, it opens one join; by default, both.

mod common;

use common::assert_all_intact;
use mptcp_sim::scenario::Scenario;

const BYTES: u64 = 2 << 20;

/// The client (one address) downloads `BYTES` from the server (three addresses, each on
/// its own link to the router), the client's settings being `client`.
fn scenario(client: &str) -> Scenario {
    let text = format!(
        r#"
seed = 1
duration = "30s"
[[hosts]]
name = "client"
addresses = ["10.0.1.1/24"]
{client}
[[hosts]]
name = "server"
addresses = ["10.0.2.1/24", "10.0.3.1/24", "10.0.4.1/24"]
[[routers]]
name = "r"
routes = [
    {{ prefix = "10.0.1.0/24", iface = 0 }},
    {{ prefix = "10.0.2.0/24", iface = 1 }},
    {{ prefix = "10.0.3.0/24", iface = 2 }},
    {{ prefix = "10.0.4.0/24", iface = 3 }},
]
[[links]]
a = "client:0"
b = "r:0"
rate = "100Mbit"
delay = "5ms"
[[links]]
a = "server:0"
b = "r:1"
rate = "20Mbit"
delay = "5ms"
[[links]]
a = "server:1"
b = "r:2"
rate = "20Mbit"
delay = "5ms"
[[links]]
a = "server:2"
b = "r:3"
rate = "20Mbit"
delay = "5ms"
[[apps]]
kind = "server"
host = "server"
port = 80
[[apps]]
kind = "download"
host = "client"
connect = "10.0.2.1:80"
bytes = {BYTES}
"#
    );
    Scenario::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The client's subflows of its download, after it.
fn subflows(client: &str) -> usize {
    let report = common::run(&scenario(client));
    assert_all_intact(&report, BYTES);
    let conn = &report.connections[0];
    assert!(conn.mptcp);
    conn.client_subflows.len()
}

#[test]
fn limits_add_addr_accepted_bounds_the_announced_addresses_a_client_joins() {
    let all = subflows("");
    let one = subflows("settings.limits.add_addr_accepted = 1");
    let none = subflows("settings.limits.add_addr_accepted = 0");
    println!("subflows: default {all}, add_addr_accepted 1: {one}, 0: {none}");
    assert_eq!((all, one, none), (3, 2, 1));
}
