//! The stack as a host on the network: the TUN device it creates, the routes that lead its
//! addresses into the device, and the `mptcp-tun` runtime on top.

use std::io::{self, Write};
use std::process::Command;
use std::time::Duration;

use mptcp_proto::pm::{Endpoints, PathManagerChoice};
use mptcp_proto::stack::MptcpEnabled;
use mptcp_tun::{Handle, Interface, Runtime, RuntimeConfig, TunDevice, TunError};

use super::args::NetArgs;
use super::cidr::Cidr;
use crate::settings::ConfigError;

/// Why the host could not be set up, and the exit status that says so.
#[derive(Debug)]
pub(crate) struct SetupError {
    /// The sentence after `mptcp COMMAND: ` (or the whole line for [`SetupError::needs_root`]).
    pub(crate) message: String,
    /// Printed as is, without the `mptcp COMMAND: ` prefix.
    pub(crate) whole_line: bool,
    /// 2 for missing privileges or bad settings, 1 otherwise.
    pub(crate) exit_code: u8,
}

impl SetupError {
    fn needs_root(command: &str, tun: &str) -> Self {
        SetupError {
            message: format!(
                "mptcp {command} needs root (or CAP_NET_ADMIN) to create TUN device {tun}; run \
                 it with sudo"
            ),
            whole_line: true,
            exit_code: 2,
        }
    }

    fn other(message: String) -> Self {
        SetupError {
            message,
            whole_line: false,
            exit_code: 1,
        }
    }
}

/// The running stack on its TUN device. Dropping it stops the stack; the kernel removes the
/// device, and the routes with it, when the process exits.
#[derive(Debug)]
pub(crate) struct Host {
    runtime: Runtime,
    /// The stack offers and accepts MPTCP on its connections (not `--tcp`, not
    /// `mptcp.enabled` 0 or 2).
    pub(crate) mptcp: bool,
}

impl Host {
    /// Creates the TUN device, brings it up, routes every `--addr` network into it and starts
    /// the stack with those addresses. Must run inside the tokio runtime.
    pub(crate) fn start(net: &NetArgs, command: &str) -> Result<Host, SetupError> {
        let config = runtime_config(net).map_err(|e| SetupError {
            message: e.to_string(),
            whole_line: false,
            exit_code: 2,
        })?;
        let mptcp = config.mptcp.enabled.is_on();
        let device = TunDevice::create(&net.tun, net.mtu).map_err(|e| match e {
            TunError::PermissionDenied(_) => SetupError::needs_root(command, &net.tun),
            TunError::Create { source, .. } => {
                SetupError::other(format!("cannot create TUN device {}: {source}", net.tun))
            }
            other => SetupError::other(format!(
                "cannot create TUN device {}: {}",
                net.tun,
                describe(&other)
            )),
        })?;
        let name = device.name().to_owned();
        // Up with the MTU, and no address: the host's kernel must not answer for the stack.
        mptcp_tun::configure_with_ip(&name, &[], net.mtu)
            .map_err(|e| SetupError::other(format!("cannot set up {name}: {}", describe(&e))))?;
        for cidr in &net.addrs {
            route_into(&name, cidr).map_err(|e| {
                SetupError::other(format!("cannot route {} into {name}: {e}", cidr.network()))
            })?;
        }
        let interface = Interface {
            device,
            addrs: net.addrs.iter().map(|c| c.addr).collect(),
            mtu: usize::from(net.mtu),
        };
        let runtime = Runtime::start(vec![interface], config);
        Ok(Host { runtime, mptcp })
    }

    /// A handle for streams and listeners.
    pub(crate) fn handle(&self) -> Handle {
        self.runtime.handle()
    }

    /// Lets the closing handshake of the connection finish before the stack goes with the
    /// process — at most [`LINGER`]: a subflow whose path died never finishes — and says
    /// on standard error when it did not finish.
    pub(crate) async fn linger(&self, command: &str) {
        let open = self.runtime.linger(LINGER).await;
        if open > 0 {
            let _ = writeln!(
                io::stderr(),
                "mptcp {command}: {open} subflow(s) still closing after {} s (a path down?); \
                 exiting anyway",
                LINGER.as_secs()
            );
        }
    }
}

/// How long a command waits at its end for the closing handshake (our subflows' FINs
/// acknowledged, the peer's answered): [`Runtime::linger`].
const LINGER: Duration = Duration::from_secs(3);

/// The runtime's settings from the options: `--config` and `--set`, then `--tcp`,
/// `--checksum` and `--path-manager` (which say the same as settings, and win).
fn runtime_config(net: &NetArgs) -> Result<RuntimeConfig, ConfigError> {
    let mut config = RuntimeConfig::default();
    let mut settings = net.settings.settings()?;
    if let Some(path_manager) = &net.path_manager {
        // Through the settings, so that its parameters (`fullmesh.num_subflows`) apply.
        settings
            .set("mptcp.path_manager", path_manager.name())
            .map_err(|e| ConfigError::Conflict(e.to_string()))?;
    }
    settings.apply(&mut config.tcp, &mut config.mptcp);
    if net.tcp {
        config.mptcp.enabled = MptcpEnabled::Off;
    }
    if net.checksum {
        config.mptcp.checksum = true;
    }
    if !net.endpoint.is_empty() {
        let chosen = config.mptcp.path_manager.name();
        let named = net.path_manager.is_some() || settings.is_set("mptcp.path_manager");
        if named && chosen != "endpoints" {
            return Err(ConfigError::Conflict(format!(
                "--endpoint is for the endpoints path manager, not {chosen}"
            )));
        }
        config.mptcp.path_manager = PathManagerChoice::new(Endpoints::new(net.endpoint.clone()));
    }
    Ok(config)
}

/// `ip route replace NET/PREFIX dev NAME`: packets to `cidr`'s network go into device `name`
/// (in the current network namespace). Needs root or CAP_NET_ADMIN.
pub fn route_into(name: &str, cidr: &Cidr) -> io::Result<()> {
    let family = if cidr.addr.is_ipv4() { "-4" } else { "-6" };
    let net = cidr.network();
    let output = Command::new("ip")
        .args([family, "route", "replace", &net, "dev", name])
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run `ip`: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "`ip {family} route replace {net} dev {name}` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// An error with its sources, `: `-separated.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
