//! Conveniences for the kernel's side of a test: a connection between our stack and a
//! [`KernelPeer`] on its way ([`Opening`]), checking the finished peer, and reading the
//! kernel's counters (`MPTcpExt*`, `Tcp*`) in its namespace.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mptcp_tun::{Handle, MptcpListener, MptcpStream};

use crate::command::Spawned;
use crate::error::Result;
use crate::netns::Namespace;
use crate::peer::KernelPeer;

/// A connection on its way: the kernel peer runs, our listener (if we serve) listens;
/// [`Opening::establish`] completes it.
pub struct Opening {
    /// The kernel peer.
    pub kernel: Spawned,
    /// Our listener, when we are the server.
    pub listener: Option<MptcpListener>,
    /// The server's address.
    pub to: SocketAddr,
}

impl Opening {
    /// Our client to a kernel server: starts `peer` as a server on `listen` in `ns` (and
    /// waits until it listens); our client will connect to `to`.
    pub fn to_kernel_server(
        peer: &KernelPeer,
        ns: &Namespace,
        listen: SocketAddr,
        to: SocketAddr,
    ) -> Result<Opening> {
        Ok(Opening {
            kernel: peer.server(ns, listen)?,
            listener: None,
            to,
        })
    }

    /// A kernel client to our server: starts `peer` as a client in `ns` to `at`, where
    /// our `listener` listens.
    pub fn from_kernel_client(
        peer: &KernelPeer,
        ns: &Namespace,
        listener: MptcpListener,
        at: SocketAddr,
    ) -> Result<Opening> {
        Ok(Opening {
            kernel: peer.client(ns, at)?,
            listener: Some(listener),
            to: at,
        })
    }

    /// Connects to the kernel server, or accepts the kernel client.
    ///
    /// # Panics
    ///
    /// When connecting or accepting fails.
    pub async fn establish(&self, handle: &Handle) -> MptcpStream {
        match &self.listener {
            None => MptcpStream::connect(handle, self.to)
                .await
                .unwrap_or_else(|e| panic!("connect to {}: {e}", self.to)),
            Some(listener) => listener.accept().await.expect("accept").0,
        }
    }
}

/// Waits for the kernel peer `child` (started from `peer`) and checks that it verified
/// what it received and reports each of `expect` (e.g. `received=65536`, `end=eof`,
/// `proto=mptcp `). Returns its output without the trailing newline.
///
/// # Panics
///
/// When the peer fails or its output lacks `verify=ok` or one of `expect`.
pub fn finish_kernel(what: &str, peer: &KernelPeer, child: Spawned, expect: &[&str]) -> String {
    let out = peer
        .finish(child)
        .unwrap_or_else(|e| panic!("{what}: kernel peer failed: {e}"))
        .stdout;
    assert!(out.contains("verify=ok"), "{what}: {out}");
    for needle in expect {
        assert!(out.contains(needle), "{what}: no `{needle}` in {out}");
    }
    out.trim_end().to_owned()
}

/// The value of `key=` in a kernel-peer line.
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

/// The read stalls a kernel-peer line lists (`read_stalls=FROM-UNTIL,...`, with
/// `--report-stalls-over-ms`): when each began and ended, in [`monotonic_ns`] time.
///
/// [`monotonic_ns`]: crate::monotonic_ns
pub fn read_stalls(line: &str) -> Vec<(u64, u64)> {
    field(line, "read_stalls")
        .unwrap_or_default()
        .split(',')
        .filter_map(|stall| {
            let (from, until) = stall.split_once('-')?;
            Some((from.parse().ok()?, until.parse().ok()?))
        })
        .collect()
}

/// The kernel's counter `name` in `ns`, e.g. `MPTcpExtMPFastcloseRx` or
/// `TcpRetransSegs` (`nstat -saz`: absolute, no history written).
///
/// # Panics
///
/// When `nstat` fails or does not report `name`.
pub fn nstat(ns: &Namespace, name: &str) -> u64 {
    let out = ns.exec("nstat", &["-saz", name]).unwrap().stdout;
    out.lines()
        .find_map(|l| {
            let mut f = l.split_whitespace();
            (f.next() == Some(name)).then(|| f.next().unwrap().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no {name} in nstat output: {out}"))
}

/// [`nstat`] `name` once it moved past `before` (or after 2 s).
pub fn wait_counter(ns: &Namespace, name: &str, before: u64) -> u64 {
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        let now = nstat(ns, name);
        if now > before || Instant::now() > until {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The counters of group `group` (`MPTcpExt`, `Tcp`, ...) of `file` (`/proc/net/netstat`,
/// `/proc/net/snmp`) in `ns`, by name without the group prefix. Empty when the group is
/// missing; a value that does not parse counts as 0.
///
/// # Panics
///
/// When `file` cannot be read.
pub fn proc_counters(ns: &Namespace, file: &str, group: &str) -> HashMap<String, u64> {
    let text = ns.exec("cat", &[file]).unwrap().stdout;
    let prefix = format!("{group}:");
    let mut lines = text.lines().filter(|l| l.starts_with(&prefix));
    let (Some(names), Some(values)) = (lines.next(), lines.next()) else {
        return HashMap::new();
    };
    names
        .split_whitespace()
        .skip(1)
        .zip(values.split_whitespace().skip(1))
        .map(|(n, v)| (n.to_owned(), v.parse().unwrap_or(0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_a_kernel_peer_line() {
        let line = "proto=mptcp received=10 end=eof csum=1";
        assert_eq!(field(line, "received"), Some("10"));
        assert_eq!(field(line, "csum"), Some("1"));
        assert_eq!(field(line, "rec"), None);
    }
}
