//! Scenario files: parsing, building, running, and the errors for bad files.

use mptcp_sim::hosts::{ConstantRateSender, Sink, TestHost};
use mptcp_sim::link::{Direction, LossModel, QueueLimit};
use mptcp_sim::scenario::{AppSpec, Scenario, ScenarioError};

const GOOD: &str = r#"
seed = 42
duration = "2s"

[[hosts]]
name = "client"
addresses = ["10.0.1.1/24", "10.0.2.1/24"]

[[hosts]]
name = "server"
addresses = ["10.0.3.1/24"]

[[routers]]
name = "r"
routes = [
    { prefix = "10.0.1.0/24", iface = 0 },
    { prefix = "10.0.2.0/24", iface = 1 },
    { prefix = "10.0.3.0/24", iface = 2 },
]
middleboxes = [{ inside = 0, middlebox = { kind = "nat", first_port = 50000 } }]

[[links]]
name = "wifi"
a = "client:0"
b = "r:0"
rate = "20Mbit"
delay = "15ms"
jitter = "2ms"
loss = { model = "gilbert-elliott", p = 0.01, r = 0.3 }
queue = { packets = 100 }
middleboxes = [{ kind = "strip-option", option = 30 }]

[[links]]
a = "client:1"
b = "r:1"
rate = "100Mbit"
delay = "5ms"
queue = { bytes = 150000 }

[[links]]
a = "r:2"
b = "server:0"
reorder = { probability = 0.01, delay = "1ms" }

[[events]]
at = "1s"
link = "wifi"
action = "down"

[[events]]
at = "1.5s"
link = "wifi"
direction = "a-to-b"
action = { rate = "5Mbit" }

[[apps]]
kind = "server"
host = "server"
port = 80

[[apps]]
kind = "bulk"
host = "client"
start = "100ms"
connect = "10.0.3.1:80"
bytes = 10_000_000
"#;

#[test]
fn a_good_scenario_parses_builds_and_runs() {
    let scenario = Scenario::from_toml_str(GOOD).unwrap();
    assert_eq!(scenario.apps_of("client").count(), 1);
    let mut built = scenario
        .build(|host, apps| -> TestHost {
            if host.name == "client" {
                assert!(matches!(
                    apps,
                    [AppSpec::Bulk {
                        bytes: 10_000_000,
                        ..
                    }]
                ));
                let src = std::net::SocketAddr::new(host.addresses[0].addr, 40000);
                ConstantRateSender::new(src, "10.0.3.1:80".parse().unwrap(), 1000, 4_000_000).into()
            } else {
                Sink::new().into()
            }
        })
        .unwrap();
    let wifi = built.links[0];
    let params = built.simulation.link_params(wifi, Direction::AToB).unwrap();
    assert_eq!(params.rate_bps, 20_000_000);
    assert_eq!(params.queue, QueueLimit::Packets(100));
    assert!(matches!(
        params.loss,
        LossModel::GilbertElliott { loss_bad: 1.0, .. }
    ));
    built.run();
    assert_eq!(built.simulation.now().as_nanos(), 2_000_000_000);
    let server = built.node("server").unwrap();
    let received = built
        .simulation
        .host(server)
        .and_then(TestHost::as_sink)
        .unwrap();
    // 500 packets/s for the 1 s the wifi link is up, less Gilbert-Elliott losses.
    assert!(
        (400..=500).contains(&received.packets()),
        "{}",
        received.packets()
    );
    let params = built.simulation.link_params(wifi, Direction::AToB).unwrap();
    assert_eq!(params.rate_bps, 5_000_000);
    let router = built.node("r").unwrap();
    assert_eq!(
        built.simulation.router(router).unwrap().stats().forwarded,
        received.packets()
    );
}

fn error(text: &str) -> String {
    Scenario::from_toml_str(text).unwrap_err().to_string()
}

const HEAD: &str = "seed = 1\nduration = \"1s\"\n[[hosts]]\nname = \"h\"\naddresses = [\"10.0.0.1/24\"]\n[[hosts]]\nname = \"g\"\naddresses = [\"10.0.0.2/24\"]\n";

#[test]
fn typos_and_bad_values_are_located() {
    let typo = error(&format!(
        "{HEAD}[[links]]\na = \"h:0\"\nb = \"g:0\"\ndealy = \"5ms\"\n"
    ));
    assert!(typo.contains("unknown field `dealy`"), "{typo}");
    assert!(typo.contains("line 12"), "{typo}");
    let duration = error(&format!(
        "{HEAD}[[links]]\na = \"h:0\"\nb = \"g:0\"\ndelay = \"5\"\n"
    ));
    assert!(duration.contains("invalid duration \"5\""), "{duration}");
    assert!(
        duration.contains("like \\\"10ms\\\"") || duration.contains("like \"10ms\""),
        "{duration}"
    );
    let model = error(&format!(
        "{HEAD}[[links]]\na = \"h:0\"\nb = \"g:0\"\nloss = {{ model = \"uniform\", p = 0.1 }}\n"
    ));
    assert!(model.contains("uniform"), "{model}");
    let missing = error("seed = 1\n");
    assert!(missing.contains("missing field `duration`"), "{missing}");
}

#[test]
fn references_are_checked() {
    let node = error(&format!(
        "{HEAD}[[links]]\na = \"h:0\"\nb = \"nowhere:0\"\n"
    ));
    assert_eq!(
        node,
        "link 0 refers to node \"nowhere\", which is not defined"
    );
    let iface = error(&format!(
        "{HEAD}[[links]]\nname = \"l\"\na = \"h:1\"\nb = \"g:0\"\n"
    ));
    assert_eq!(
        iface,
        "link 0 (l) uses interface 1 of host \"h\", which has 1 interface(s)"
    );
    let link = error(&format!(
        "{HEAD}[[events]]\nat = \"1s\"\nlink = \"l\"\naction = \"up\"\n"
    ));
    assert_eq!(link, "event 0 refers to link \"l\", which is not defined");
    let dup = error(&format!("{HEAD}[[routers]]\nname = \"h\"\n"));
    assert_eq!(dup, "two nodes are named \"h\"");
    let app = error(&format!(
        "{HEAD}[[apps]]\nkind = \"bulk\"\nhost = \"h\"\nconnect = \"10.9.9.9:80\"\nbytes = 5\n"
    ));
    assert_eq!(app, "app 0: connects to an address no host has");
    let zero = error(&format!(
        "{HEAD}[[apps]]\nkind = \"bulk\"\nhost = \"h\"\nconnect = \"10.0.0.2:80\"\nbytes = 0\n"
    ));
    assert_eq!(zero, "app 0: a bulk transfer of 0 bytes");
    let queue = error(&format!(
        "{HEAD}[[links]]\na = \"h:0\"\nb = \"g:0\"\nqueue = {{ packets = 1, bytes = 2 }}\n"
    ));
    assert_eq!(
        queue,
        "link 0: a queue limit needs exactly one of packets, bytes"
    );
}

#[test]
fn build_errors_name_the_place() {
    let text = format!("{HEAD}[[links]]\na = \"h:0\"\nb = \"g:0\"\nduplicate = 1.5\n");
    let scenario = Scenario::from_toml_str(&text).unwrap();
    let err = scenario.build(|_, _| Sink::new()).err().unwrap();
    assert!(matches!(err, ScenarioError::Topology { .. }));
    assert_eq!(
        err.to_string(),
        "link 0: duplicate must be a probability in [0, 1], not 1.5"
    );
    let text = format!(
        "{HEAD}[[links]]\na = \"h:0\"\nb = \"g:0\"\nmiddleboxes = [{{ kind = \"payload-rewrite\", find = \"ab\", replace = \"c\" }}]\n"
    );
    let err = Scenario::from_toml_str(&text)
        .unwrap()
        .build(|_, _| Sink::new())
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "link 0: the replacement is 1 bytes long, the pattern 2: they must be equal"
    );
}

#[test]
fn captures_are_written_to_files() {
    let path = std::env::temp_dir().join(format!("mptcp-sim-test-{}.pcap", std::process::id()));
    let text = format!(
        "{HEAD}[[links]]\na = \"h:0\"\nb = \"g:0\"\ncapture = {:?}\n",
        path.display().to_string()
    );
    let mut built = Scenario::from_toml_str(&text)
        .unwrap()
        .build(|host, _| -> TestHost {
            if host.name == "h" {
                ConstantRateSender::new(
                    "10.0.0.1:1".parse().unwrap(),
                    "10.0.0.2:2".parse().unwrap(),
                    100,
                    8000,
                )
                .into()
            } else {
                Sink::new().into()
            }
        })
        .unwrap();
    built.run();
    built.simulation.finish_captures().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    // 10 packets per second of 100 bytes, at 0 ms .. 1000 ms inclusive: 11 records.
    assert_eq!(bytes.len(), 24 + 11 * (16 + 100));
}
