//! [`Namespace`]: a network namespace that exists exactly as long as its guard.
//!
//! Every namespace gets a name no other run can use: [`NAME_PREFIX`], the process
//! id of the test binary, a counter and a short tag (`mpi-4711-3-kernel`). Dropping
//! the guard kills every process still inside the namespace (all of them were
//! started by this test: nothing else knows the name) and deletes it with
//! `ip netns del`; veth ends and TUN devices inside vanish with it. Unwinding runs
//! the drop, so a failing or panicking test cleans up too.
//!
//! A test binary killed outright (SIGKILL, a CI timeout) cannot run destructors.
//! The first [`Namespace::new`] of a process therefore removes namespaces left by
//! earlier test processes that no longer exist (names with [`NAME_PREFIX`] whose
//! process id is not running); it never touches other namespaces.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::command::{Finished, SETUP_TIMEOUT, Spawned, run};
use crate::error::{Error, Result};

/// First part of the name of every namespace the harness creates.
pub const NAME_PREFIX: &str = "mpi";

/// Namespaces created by this process so far (part of the unique name).
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Stale namespaces are swept once per process.
static SWEEP: Once = Once::new();

/// The names `ip netns list` shows.
pub fn list() -> Result<Vec<String>> {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "list"]);
    let out = run(cmd, SETUP_TIMEOUT)?;
    // Lines look like "name (id: 3)" or just "name".
    Ok(out
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

/// Whether `name` is currently a namespace.
pub fn exists(name: &str) -> Result<bool> {
    Ok(list()?.iter().any(|n| n == name))
}

/// The name for the next namespace with `tag`: prefix, pid, counter, tag
/// (reduced to lowercase letters, digits and '-', at most 16 characters).
pub fn unique_name(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tag: String = tag
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(16)
        .collect();
    format!("{NAME_PREFIX}-{}-{n}-{tag}", std::process::id())
}

/// The process id inside a harness namespace name, if it is one.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(NAME_PREFIX)?.strip_prefix('-')?;
    rest.split('-').next()?.parse().ok()
}

/// Deletes harness namespaces whose creating process is gone (done once per
/// process by the first [`Namespace::new`]; callable directly).
pub fn sweep_stale() {
    let Ok(names) = list() else { return };
    for name in names {
        let Some(pid) = owner_pid(&name) else {
            continue;
        };
        if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            eprintln!("interop: removing stale namespace {name} (its test process {pid} is gone)");
            remove(&name);
        }
    }
}

/// Kills the processes inside namespace `name`, then deletes it. Best effort:
/// problems are printed, since this runs from `Drop`.
fn remove(name: &str) {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let pids = pids_of(name).unwrap_or_default();
        if pids.is_empty() || Instant::now() >= until {
            break;
        }
        for pid in pids {
            if let Ok(pid) = libc::pid_t::try_from(pid) {
                // SAFETY: kill(2) has no memory-safety preconditions.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        thread::sleep(Duration::from_millis(10));
    }
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "del", name]);
    if let Err(e) = run(cmd, SETUP_TIMEOUT) {
        eprintln!("interop: could not delete namespace {name}: {e}");
    }
}

/// Process ids inside namespace `name` (`ip netns pids`).
fn pids_of(name: &str) -> Result<Vec<u32>> {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "pids", name]);
    let out = run(cmd, SETUP_TIMEOUT)?;
    Ok(out
        .stdout
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect())
}

/// A network namespace, deleted (with every process in it) when dropped.
#[derive(Debug)]
pub struct Namespace {
    name: String,
}

impl Namespace {
    /// Creates a namespace named after `tag` (see [`unique_name`]) with its
    /// loopback up.
    pub fn new(tag: &str) -> Result<Self> {
        SWEEP.call_once(sweep_stale);
        let name = unique_name(tag);
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "add", &name]);
        run(cmd, SETUP_TIMEOUT)?;
        // From here on the guard owns it: an error below still deletes it.
        let ns = Namespace { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The namespace's name (as `ip netns list` shows it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip netns exec NAME program`, to add arguments to and run or spawn.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }

    /// Runs `program args` inside, with [`SETUP_TIMEOUT`]; fails unless it exits 0.
    pub fn exec(&self, program: &str, args: &[&str]) -> Result<Finished> {
        self.exec_timeout(program, args, SETUP_TIMEOUT)
    }

    /// Runs `program args` inside within `timeout`; fails unless it exits 0.
    pub fn exec_timeout(
        &self,
        program: &str,
        args: &[&str],
        timeout: Duration,
    ) -> Result<Finished> {
        let mut cmd = self.command(program);
        cmd.args(args);
        run(cmd, timeout)
    }

    /// Starts a long-running `program args` inside; the guard kills it on drop.
    pub fn spawn(&self, program: &str, args: &[&str]) -> Result<Spawned> {
        let mut cmd = self.command(program);
        cmd.args(args);
        Spawned::start(cmd)
    }

    /// `ip -n NAME args`.
    pub fn ip(&self, args: &[&str]) -> Result<Finished> {
        let mut cmd = Command::new("ip");
        cmd.args(["-n", &self.name]).args(args);
        run(cmd, SETUP_TIMEOUT)
    }

    /// `tc -n NAME args`.
    pub fn tc(&self, args: &[&str]) -> Result<Finished> {
        let mut cmd = Command::new("tc");
        cmd.args(["-n", &self.name]).args(args);
        run(cmd, SETUP_TIMEOUT)
    }

    /// Sets sysctl `key` (e.g. `net.mptcp.enabled`) inside this namespace only.
    pub fn sysctl(&self, key: &str, value: &str) -> Result<()> {
        self.exec("sysctl", &["-q", "-w", &format!("{key}={value}")])?;
        Ok(())
    }

    /// Reads sysctl `key` as this namespace sees it.
    pub fn read_sysctl(&self, key: &str) -> Result<String> {
        Ok(self.exec("sysctl", &["-n", key])?.stdout.trim().to_owned())
    }

    /// Enables MPTCP sockets here (`net.mptcp.enabled=1`, a per-namespace sysctl).
    pub fn enable_mptcp(&self) -> Result<()> {
        self.sysctl("net.mptcp.enabled", "1")
    }

    /// `ip mptcp limits set subflows S add_addr_accepted A` (in-kernel path manager).
    pub fn mptcp_limits(&self, subflows: u8, add_addr_accepted: u8) -> Result<()> {
        self.ip(&[
            "mptcp",
            "limits",
            "set",
            "subflows",
            &subflows.to_string(),
            "add_addr_accepted",
            &add_addr_accepted.to_string(),
        ])?;
        Ok(())
    }

    /// `ip mptcp endpoint add ADDR dev DEV FLAGS...`, e.g. flags `["signal"]`,
    /// `["subflow"]`, `["id", "7", "signal"]` or `["port", "41000", "signal"]`.
    pub fn mptcp_endpoint_add(&self, addr: &str, dev: &str, flags: &[&str]) -> Result<()> {
        let mut args = vec!["mptcp", "endpoint", "add", addr, "dev", dev];
        args.extend_from_slice(flags);
        self.ip(&args)?;
        Ok(())
    }

    /// Processes currently inside (`ip netns pids`).
    pub fn pids(&self) -> Result<Vec<u32>> {
        pids_of(&self.name)
    }

    /// Runs `f` on a new thread that has joined this namespace (`setns`), and
    /// returns its result. Sockets and TUN devices opened by `f` belong to this
    /// namespace and keep belonging to it after the thread ends: this is how a
    /// test will create the stack's TUN devices inside "ours".
    pub fn run_in<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let path = format!("/run/netns/{}", self.name);
        let handle = File::open(&path).map_err(|e| Error::io(format!("opening {path}"), e))?;
        let name = self.name.clone();
        thread::spawn(move || {
            // SAFETY: the descriptor is open for the duration of the call;
            // setns(2) only changes this thread's network namespace.
            let rc = unsafe { libc::setns(handle.as_raw_fd(), libc::CLONE_NEWNET) };
            if rc != 0 {
                return Err(Error::io(
                    format!("setns into {name}"),
                    std::io::Error::last_os_error(),
                ));
            }
            drop(handle);
            Ok(f())
        })
        .join()
        .map_err(|_| {
            Error::Setup(format!(
                "the closure run in namespace {} panicked",
                self.name
            ))
        })?
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        remove(&self.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_carry_pid_and_tag() {
        let a = unique_name("Kernel Side!");
        let b = unique_name("kernel");
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("{NAME_PREFIX}-{}-", std::process::id())));
        assert!(a.ends_with("-kernelside"), "{a}");
        assert_eq!(owner_pid(&a), Some(std::process::id()));
    }

    #[test]
    fn only_harness_names_have_an_owner() {
        assert_eq!(owner_pid("mpi-123-0-x"), Some(123));
        assert_eq!(owner_pid("mpcap123-x-c"), None);
        assert_eq!(owner_pid("mpi-abc-0"), None);
        assert_eq!(owner_pid("other"), None);
    }
}
