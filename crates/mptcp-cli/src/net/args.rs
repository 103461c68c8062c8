//! The arguments of `mptcp connect` and `mptcp listen`, their help, and the checks clap cannot
//! express.

use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use std::path::PathBuf;

use clap::Args;
use mptcp_proto::pm::{Endpoint, PathManagerChoice};

use super::cidr::Cidr;
use super::size::parse_size;
use crate::settings::SettingsArgs;

/// The long help of `mptcp connect`.
pub const CONNECT_HELP: &str = "Connect to HOST:PORT with the userspace stack and move data, \
like netcat.

The command creates a TUN device (--tun, default mptcp0), brings it up with --mtu and routes \
the network of every --addr into it (`ip route replace NET/PREFIX dev TUN`). It does not give \
these addresses to the host's kernel: the stack owns them, and the host only forwards packets \
between its other interfaces and the TUN device. So the host must forward (`sysctl -w \
net.ipv4.ip_forward=1`, and `net.ipv6.conf.all.forwarding=1` for IPv6), and the peer's network \
must route the --addr addresses to this host. Creating the device needs root (or \
CAP_NET_ADMIN); the device and its routes disappear when the command exits.

The connection speaks Multipath TCP (RFC 8684) unless --tcp asks for plain TCP; a peer that \
does not speak MPTCP gets plain TCP all the same (fallback). With the simple path manager \
(--path-manager, the default) a client opens one more subflow from each of its other --addr \
addresses of the peer's family, and a server announces its other addresses. On a terminal, \
standard error shows the progress and one line per subflow (addresses, state, RTT, congestion \
window, bytes, backup), like `ss -M -ti`; --quiet turns that off.

Without --send or --send-file, standard input is sent. What arrives goes to standard output \
(or --output PATH, or nowhere with --discard). Once everything is sent the command half-closes \
(shutdown of the sending side) and reads until the peer closes; a peer that closes its side \
early is fine: the sending goes on to the end.

Before it exits, the command waits until the peer has acknowledged everything it sent, the end \
of its stream (FIN or DATA_FIN) included, and then, for up to 3 s, until the closing handshake \
of every subflow is over (our FIN acknowledged and the peer's answered), so that the peer is \
not left waiting for an ACK from a process that is gone.

At the end it prints bytes sent and received, duration, goodput, the peer, the protocol and \
the subflows on standard error, or with --json one JSON object on standard output: command, \
protocol (mptcp; tcp with --tcp; tcp-fallback when the peer did not speak MPTCP), outcome (ok, \
refused, reset, timed_out, aborted, closed, verify_failed, local_error, error), local, peer, \
bytes_sent, bytes_received, duration_s, goodput_bps (both directions together), verified and \
first_bad_offset (with --verify), message, and subflows: one object per subflow with local, \
remote, state, established, backup, bytes_sent, bytes_received, srtt_ms and cwnd. \
Exit status: 0 ok, 1 the transfer failed, 2 usage error or no permission to create the device.";

/// The long help of `mptcp listen`.
pub const LISTEN_HELP: &str = "Accept one connection on [ADDR:]PORT with the userspace stack, \
move data, and exit, like `nc -l`.

Without ADDR it listens on every --addr. The network set-up, the data options, the report and \
the exit status are those of `mptcp connect` (see `mptcp connect --help`): the command creates \
and routes a TUN device, which needs root (or CAP_NET_ADMIN), and the host must forward packets \
for the --addr addresses to it. It prints `listening on ...` on standard error once it accepts \
connections.";

/// Examples shown after the options of `mptcp connect`.
pub const CONNECT_EXAMPLES: &str = "Examples:
  sudo sysctl -w net.ipv4.ip_forward=1
  sudo mptcp connect --addr 10.1.1.2/24 10.0.1.1:5201 < file
  sudo mptcp connect --addr 10.1.1.2/24 --send 64M --discard --json 10.0.1.1:5201
  sudo mptcp connect --addr 10.1.1.2/24 --addr 10.1.2.2/24 --send 1G --discard 10.0.1.1:5201
  sudo mptcp connect --tcp --addr 10.1.1.2/24 10.0.1.1:5201 < file";

/// Examples shown after the options of `mptcp listen`.
pub const LISTEN_EXAMPLES: &str = "Examples:
  sudo mptcp listen --addr 10.1.1.2/24 5201 > received
  sudo mptcp listen --addr 10.1.1.2/24 --addr fd00:1:1::2/64 --send 1G --verify --discard 5201";

/// Where the stack lives: its TUN device and addresses.
#[derive(Debug, Clone, Args)]
pub struct NetArgs {
    /// Name of the TUN device to create
    #[arg(long, value_name = "NAME", default_value = "mptcp0")]
    pub tun: String,

    /// An address of the stack, with the prefix routed into the TUN device (repeat for more,
    /// IPv4 and/or IPv6); not assigned to the host
    #[arg(long = "addr", value_name = "ADDR/PREFIX", required = true)]
    pub addrs: Vec<Cidr>,

    /// MTU of the TUN device
    #[arg(long, value_name = "BYTES", default_value_t = 1500,
          value_parser = clap::value_parser!(u16).range(1280..))]
    pub mtu: u16,

    /// Speak plain TCP: no MPTCP option is sent, and MPTCP offers are declined. Without it
    /// the connection speaks MPTCP, or plain TCP with a peer that does not
    #[arg(long)]
    pub tcp: bool,

    /// Ask for DSS checksums (RFC 8684 §3.3.1), which protect the data against middleboxes
    /// that rewrite payload; they are used when either side asks
    #[arg(long, conflicts_with = "tcp")]
    pub checksum: bool,

    /// Path manager (docs/path_managers.md): `simple` (a client opens a subflow from each of
    /// its other --addr addresses, a server announces them; the default), `default` or
    /// `userspace` (only the subflows the peer opens), `fullmesh` (every pair of addresses),
    /// `ndiffports` (several subflows on the first pair) or `endpoints` (Linux's, over the
    /// --endpoint list). The same as `--set mptcp.path_manager=NAME`; its parameters
    /// (`--set fullmesh.num_subflows=2`) apply
    #[arg(long, value_name = "NAME", value_parser = str::parse::<PathManagerChoice>,
          conflicts_with = "tcp")]
    pub path_manager: Option<PathManagerChoice>,

    /// An endpoint of the `endpoints` path manager, as `ip mptcp endpoint add` takes it:
    /// `ADDR [port P] [signal] [subflow] [backup] [fullmesh]` (one argument, quoted;
    /// repeatable). Giving any chooses that path manager
    #[arg(long, value_name = "ENDPOINT", value_parser = str::parse::<Endpoint>,
          conflicts_with = "tcp")]
    pub endpoint: Vec<Endpoint>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub settings: SettingsArgs,

    /// Give up connecting (connect: default 30) or waiting for a connection (listen: default
    /// never) after this many seconds
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
}

/// Checks that `text` has the form `HOST:PORT` (a usage error otherwise, before any name is
/// looked up).
fn parse_host_port(text: &str) -> Result<String, String> {
    let bad = || format!("{text:?} is not HOST:PORT, [IPV6]:PORT or NAME:PORT");
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let bracketed = host.starts_with('[') && host.ends_with(']');
    if host.is_empty() || (host.contains(':') && !bracketed) || port.parse::<u16>().is_err() {
        return Err(bad());
    }
    Ok(text.to_owned())
}

/// What to send, where received data goes, and how to report.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Send N bytes of the test pattern (sizes like 4096, 64M, 1G, 10MiB, 10MB) instead of
    /// standard input
    #[arg(long, value_name = "N", value_parser = parse_size, conflicts_with = "send_file")]
    pub send: Option<u64>,

    /// Send the contents of this file instead of standard input
    #[arg(long, value_name = "PATH")]
    pub send_file: Option<PathBuf>,

    /// Write received data to this file instead of standard output
    #[arg(long, value_name = "PATH", conflicts_with = "discard")]
    pub output: Option<PathBuf>,

    /// Drop received data
    #[arg(long)]
    pub discard: bool,

    /// Check that received data is the peer's test pattern (what `--send N` or `kernel-peer`
    /// sends); report the first bad offset and fail if not
    #[arg(long)]
    pub verify: bool,

    /// Print the report as one JSON object on standard output (needs --output or --discard)
    #[arg(long)]
    pub json: bool,

    /// Show no progress and no subflow table on the terminal (the report still comes)
    #[arg(long, short)]
    pub quiet: bool,
}

impl DataArgs {
    /// The checks clap does not make; the message says what to change.
    pub fn validate(&self) -> Result<(), String> {
        if self.json && self.output.is_none() && !self.discard {
            return Err(
                "--json prints the report on standard output, so received data cannot \
                        go there too: add --output PATH or --discard"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

/// `mptcp connect [OPTIONS] HOST:PORT`.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Where to connect: `ADDR:PORT`, `[IPV6]:PORT` or `NAME:PORT`.
    #[arg(
        value_name = "HOST:PORT",
        value_parser = parse_host_port,
        help = "Where to connect: ADDR:PORT, [IPV6]:PORT or NAME:PORT"
    )]
    pub target: String,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub net: NetArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub data: DataArgs,
}

/// `mptcp listen [OPTIONS] [ADDR:]PORT`.
#[derive(Debug, Clone, Args)]
pub struct ListenArgs {
    /// Where to listen: `PORT` (every `--addr`), `ADDR:PORT` or `[IPV6]:PORT`.
    #[arg(
        value_name = "[ADDR:]PORT",
        value_parser = parse_listen_at,
        help = "Where to listen: PORT (every --addr), ADDR:PORT or [IPV6]:PORT"
    )]
    pub at: ListenAt,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub net: NetArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub data: DataArgs,
}

/// Where `mptcp listen` listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenAt {
    /// One address of the stack, or `None` for all of them.
    pub ip: Option<IpAddr>,
    /// The port.
    pub port: u16,
}

/// Parses `PORT`, `:PORT`, `ADDR:PORT` or `[IPV6]:PORT`.
pub fn parse_listen_at(text: &str) -> Result<ListenAt, String> {
    let port_only = text.strip_prefix(':').unwrap_or(text);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(ListenAt { ip: None, port });
    }
    text.parse::<SocketAddr>()
        .map(|sa| ListenAt {
            ip: Some(sa.ip()),
            port: sa.port(),
        })
        .map_err(|_| {
            format!("{text:?} is not PORT, ADDR:PORT or [IPV6]:PORT (ports are 0 to 65535)")
        })
}

/// Parses seconds (`30`, `0.5`) into a duration.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{text:?} is not a positive number of seconds"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Connect {
        #[command(flatten)]
        args: ConnectArgs,
    }

    #[derive(Debug, Parser)]
    struct Listen {
        #[command(flatten)]
        args: ListenArgs,
    }

    fn connect(args: &[&str]) -> Result<ConnectArgs, clap::Error> {
        Connect::try_parse_from(std::iter::once("connect").chain(args.iter().copied()))
            .map(|c| c.args)
    }

    #[test]
    fn defaults_and_repeated_addresses() {
        let a = connect(&[
            "--addr",
            "10.1.1.2/24",
            "--addr",
            "fd00:1:1::2/64",
            "10.0.1.1:5201",
        ])
        .unwrap();
        assert_eq!(a.target, "10.0.1.1:5201");
        assert_eq!(a.net.tun, "mptcp0");
        assert_eq!(a.net.mtu, 1500);
        assert_eq!(a.net.addrs.len(), 2);
        assert_eq!(a.net.timeout, None);
        assert!(!a.net.tcp && !a.net.checksum && !a.data.quiet);
        assert_eq!(a.net.path_manager, None);
        assert_eq!(a.data.send, None);
        assert!(a.data.validate().is_ok());
    }

    #[test]
    fn data_options() {
        let a = connect(&[
            "--addr",
            "10.1.1.2/24",
            "--tun",
            "tun7",
            "--tcp",
            "--send",
            "8M",
            "--verify",
            "--discard",
            "--json",
            "--timeout",
            "2.5",
            "10.0.1.1:5201",
        ])
        .unwrap();
        assert_eq!(a.net.tun, "tun7");
        assert!(a.net.tcp);
        assert_eq!(a.data.send, Some(8 << 20));
        assert!(a.data.verify && a.data.discard && a.data.json);
        assert_eq!(a.net.timeout, Some(Duration::from_millis(2500)));
        assert!(a.data.validate().is_ok());
    }

    #[test]
    fn mptcp_options() {
        let a = connect(&[
            "--addr",
            "10.1.1.2/24",
            "--checksum",
            "--path-manager",
            "default",
            "-q",
            "10.0.1.1:5201",
        ])
        .unwrap();
        assert!(a.net.checksum && !a.net.tcp && a.data.quiet);
        assert_eq!(a.net.path_manager.map(|p| p.name()), Some("default"));
    }

    #[test]
    fn json_needs_somewhere_else_for_the_data() {
        let a = connect(&["--addr", "10.1.1.2/24", "--json", "10.0.1.1:1"]).unwrap();
        let err = a.data.validate().unwrap_err();
        assert!(err.contains("--output PATH or --discard"), "{err}");
        let a = connect(&[
            "--addr",
            "10.1.1.2/24",
            "--json",
            "--output",
            "/tmp/x",
            "10.0.1.1:1",
        ])
        .unwrap();
        assert!(a.data.validate().is_ok());
    }

    #[test]
    fn usage_errors() {
        use clap::error::ErrorKind;
        let kind = |args: &[&str]| connect(args).unwrap_err().kind();
        // --addr is required.
        assert_eq!(kind(&["10.0.1.1:1"]), ErrorKind::MissingRequiredArgument);
        // The target needs its port.
        for target in ["10.0.1.1", "h:", "h:99999", ":80", "fe80::1:80"] {
            assert_eq!(
                kind(&["--addr", "10.1.1.2/24", target]),
                ErrorKind::ValueValidation,
                "{target}"
            );
        }
        assert!(connect(&["--addr", "10.1.1.2/24", "[fe80::1]:80"]).is_ok());
        assert_eq!(
            kind(&["--addr", "10.1.1.2", "10.0.1.1:1"]),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            kind(&[
                "--addr",
                "10.1.1.2/24",
                "--send",
                "1",
                "--send-file",
                "f",
                "h:1"
            ]),
            ErrorKind::ArgumentConflict
        );
        assert_eq!(
            kind(&["--addr", "10.1.1.2/24", "--output", "f", "--discard", "h:1"]),
            ErrorKind::ArgumentConflict
        );
        assert_eq!(
            kind(&["--addr", "10.1.1.2/24", "--send", "lots", "h:1"]),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            kind(&["--addr", "10.1.1.2/24", "--timeout", "0", "h:1"]),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            kind(&["--addr", "10.1.1.2/24", "--mtu", "500", "h:1"]),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            kind(&["--addr", "10.1.1.2/24", "--path-manager", "bogus", "h:1"]),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            kind(&["--addr", "10.1.1.2/24", "--set", "mptcp.enabled=3", "h:1"]),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            kind(&["--addr", "10.1.1.2/24", "--tcp", "--checksum", "h:1"]),
            ErrorKind::ArgumentConflict
        );
    }

    #[test]
    fn listen_addresses() {
        let parse = |s| parse_listen_at(s);
        assert_eq!(
            parse("5201"),
            Ok(ListenAt {
                ip: None,
                port: 5201
            })
        );
        assert_eq!(parse(":80"), Ok(ListenAt { ip: None, port: 80 }));
        assert_eq!(
            parse("10.1.1.2:80"),
            Ok(ListenAt {
                ip: Some("10.1.1.2".parse().unwrap()),
                port: 80
            })
        );
        assert_eq!(
            parse("[fd00:1:1::2]:80").unwrap().ip,
            Some("fd00:1:1::2".parse().unwrap())
        );
        assert!(parse("70000").is_err());
        assert!(parse("host:80").is_err());
        let l = Listen::try_parse_from(["listen", "--addr", "10.1.1.2/24", "--discard", "7"])
            .unwrap()
            .args;
        assert_eq!(l.at.port, 7);
        assert!(l.data.discard);
    }
}
