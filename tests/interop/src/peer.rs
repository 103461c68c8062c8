//! [`KernelPeer`]: how a test runs the `kernel-peer` program inside a namespace.
//!
//! The binary's path comes from the test (`env!("CARGO_BIN_EXE_kernel-peer")` in
//! an integration test of this package). Every run gets `--deadline-ms`, so a
//! peer that hangs ends itself; [`Spawned`] guards kill it anyway when dropped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::command::{Finished, Spawned};
use crate::error::Result;
use crate::netns::Namespace;

/// The line a `kernel-peer` server prints on stderr once it listens.
pub const LISTENING: &str = "listening on";

/// Extra time a harness waits beyond a peer's own deadline before killing it.
const GRACE: Duration = Duration::from_secs(2);

/// Options of one `kernel-peer` run (a client or a server).
#[derive(Clone, Debug)]
pub struct KernelPeer {
    binary: PathBuf,
    tcp: bool,
    send: u64,
    expect: Option<u64>,
    deadline: Duration,
    io_timeout: Duration,
    extra: Vec<String>,
}

impl KernelPeer {
    /// An MPTCP peer that sends and expects nothing, with a 20 s deadline.
    pub fn new(binary: impl Into<PathBuf>) -> Self {
        KernelPeer {
            binary: binary.into(),
            tcp: false,
            send: 0,
            expect: None,
            deadline: Duration::from_secs(20),
            io_timeout: Duration::from_secs(10),
            extra: Vec::new(),
        }
    }

    /// Plain TCP instead of `IPPROTO_MPTCP`.
    pub fn tcp(mut self) -> Self {
        self.tcp = true;
        self
    }

    /// Send `bytes` pattern bytes.
    pub fn send(mut self, bytes: u64) -> Self {
        self.send = bytes;
        self
    }

    /// Require exactly `bytes` pattern bytes from the other side.
    pub fn expect(mut self, bytes: u64) -> Self {
        self.expect = Some(bytes);
        self
    }

    /// The peer exits (status 3) after this long.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Timeout of connect, accept and every read and write.
    pub fn io_timeout(mut self, timeout: Duration) -> Self {
        self.io_timeout = timeout;
        self
    }

    /// A peer for a transfer test: sends `send` and expects `expect` pattern bytes, with
    /// a 20 s I/O timeout and a deadline 5 s beyond `limit` (the test's own bound), so
    /// the test times out first and reports.
    pub fn transfer(self, send: u64, expect: u64, limit: Duration) -> Self {
        self.send(send)
            .expect(expect)
            .io_timeout(Duration::from_secs(20))
            .deadline(limit + Duration::from_secs(5))
    }

    /// Any other `kernel-peer` option, e.g. `["--chunk", "2048"]`.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.extra.push(arg.into());
        self
    }

    /// How long a harness should wait for this peer: its deadline plus a grace.
    pub fn wait_limit(&self) -> Duration {
        self.deadline + GRACE
    }

    fn args(&self, role: &str, addr_flag: &str, addr: SocketAddr) -> Vec<String> {
        let mut args = vec![
            role.to_owned(),
            addr_flag.to_owned(),
            addr.to_string(),
            "--send".to_owned(),
            self.send.to_string(),
            "--deadline-ms".to_owned(),
            self.deadline.as_millis().to_string(),
            "--io-timeout-ms".to_owned(),
            self.io_timeout.as_millis().to_string(),
        ];
        if self.tcp {
            args.push("--tcp".to_owned());
        }
        if let Some(n) = self.expect {
            args.push("--expect".to_owned());
            args.push(n.to_string());
        }
        args.extend(self.extra.iter().cloned());
        args
    }

    fn spawn(&self, ns: &Namespace, args: &[String]) -> Result<Spawned> {
        let mut cmd = ns.command(&self.binary.to_string_lossy());
        cmd.args(args);
        Spawned::start(cmd)
    }

    /// Starts a server on `listen` in `ns` and waits until it listens.
    pub fn server(&self, ns: &Namespace, listen: SocketAddr) -> Result<Spawned> {
        let mut child = self.spawn(ns, &self.args("server", "--listen", listen))?;
        child.wait_for_stderr(LISTENING, self.io_timeout)?;
        Ok(child)
    }

    /// Starts a client to `connect` in `ns`.
    pub fn client(&self, ns: &Namespace, connect: SocketAddr) -> Result<Spawned> {
        self.spawn(ns, &self.args("client", "--connect", connect))
    }

    /// Waits for `child` (started from this configuration) within
    /// [`KernelPeer::wait_limit`]; fails unless it exits 0.
    pub fn finish(&self, child: Spawned) -> Result<Finished> {
        child.wait_success(self.wait_limit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_carry_deadline_and_options() {
        let peer = KernelPeer::new("/bin/kernel-peer")
            .tcp()
            .send(10)
            .expect(20)
            .deadline(Duration::from_secs(5))
            .arg("--linger0");
        let args = peer.args("client", "--connect", "10.0.1.1:80".parse().unwrap());
        assert_eq!(
            args,
            [
                "client",
                "--connect",
                "10.0.1.1:80",
                "--send",
                "10",
                "--deadline-ms",
                "5000",
                "--io-timeout-ms",
                "10000",
                "--tcp",
                "--expect",
                "20",
                "--linger0"
            ]
        );
        assert_eq!(peer.wait_limit(), Duration::from_secs(7));
    }
}
