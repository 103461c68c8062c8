//! Running programs with a time limit and their output captured.
//!
//! [`run`] is for short setup commands (`ip`, `tc`, `sysctl`, `ethtool`): it waits
//! for the exit with a timeout and turns a failure into an [`Error`] that quotes
//! the command line and its standard error. [`Spawned`] is a guard for a
//! long-running child (a `kernel-peer` server, a relay): its output is collected
//! in the background, and dropping the guard kills and reaps the child, so a
//! test that fails or panics leaves no process behind.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Time limit of setup commands unless a caller gives another.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a waiting loop checks on a child.
const POLL: Duration = Duration::from_millis(5);

/// How long to wait for the output pipes to reach end of file after the child
/// exited (a grandchild could keep them open; the harness does not wait for it).
const DRAIN: Duration = Duration::from_secs(1);

/// The command line of `cmd`, arguments with spaces quoted, for messages.
pub fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        if arg.is_empty() || arg.contains(char::is_whitespace) {
            parts.push(format!("'{arg}'"));
        } else {
            parts.push(arg.into_owned());
        }
    }
    parts.join(" ")
}

/// Runs `cmd` to completion within `timeout`; fails unless it exits with status 0.
pub fn run(cmd: Command, timeout: Duration) -> Result<Finished> {
    Spawned::start(cmd)?.wait_success(timeout)
}

/// A child's output gathered by a background thread.
struct Collector {
    buf: Arc<Mutex<Vec<u8>>>,
    done: Arc<AtomicBool>,
}

impl Collector {
    fn start(mut pipe: impl Read + Send + 'static) -> Self {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let done = Arc::new(AtomicBool::new(false));
        let (b, d) = (Arc::clone(&buf), Arc::clone(&done));
        thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                b.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(&chunk[..n]);
            }
            d.store(true, Ordering::Release);
        });
        Collector { buf, done }
    }

    fn text(&self) -> String {
        let buf = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&buf).into_owned()
    }

    fn drain(&self, until: Instant) {
        while !self.done.load(Ordering::Acquire) && Instant::now() < until {
            thread::sleep(POLL);
        }
    }
}

/// A child that has exited, with everything it printed.
#[derive(Debug)]
pub struct Finished {
    /// The command line.
    pub command: String,
    /// Its exit status.
    pub status: ExitStatus,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Time from the start to the observed exit.
    pub elapsed: Duration,
}

impl Finished {
    /// `Ok(self)` if the exit status is 0, otherwise [`Error::Failed`].
    pub fn check(self) -> Result<Self> {
        if self.status.success() {
            Ok(self)
        } else {
            Err(Error::Failed {
                command: self.command,
                status: self.status,
                stdout: self.stdout,
                stderr: self.stderr,
            })
        }
    }
}

/// Guard of a running child: output captured, killed and reaped on drop.
pub struct Spawned {
    child: Option<Child>,
    command: String,
    stdout: Collector,
    stderr: Collector,
    started: Instant,
}

impl Spawned {
    /// Starts `cmd` with standard input closed and both outputs captured.
    pub fn start(mut cmd: Command) -> Result<Self> {
        let command = describe(&cmd);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(|source| Error::Spawn {
            command: command.clone(),
            source,
        })?;
        let stdout = Collector::start(child.stdout.take().expect("stdout is piped"));
        let stderr = Collector::start(child.stderr.take().expect("stderr is piped"));
        Ok(Spawned {
            child: Some(child),
            command,
            stdout,
            stderr,
            started,
        })
    }

    /// The command line.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Standard output so far.
    pub fn stdout(&self) -> String {
        self.stdout.text()
    }

    /// Standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr.text()
    }

    /// Waits until standard error contains `needle` (e.g. a server's "listening
    /// on"). Fails if the child exits first or `timeout` passes; the child keeps
    /// running in that case (dropping the guard ends it).
    pub fn wait_for_stderr(&mut self, needle: &str, timeout: Duration) -> Result<()> {
        let until = Instant::now() + timeout;
        loop {
            if self.stderr().contains(needle) {
                return Ok(());
            }
            let child = self.child.as_mut().expect("child present until waited");
            if let Some(status) = child
                .try_wait()
                .map_err(|e| Error::io(format!("waiting for `{}`", self.command), e))?
            {
                self.stderr.drain(Instant::now() + DRAIN);
                return Err(Error::Setup(format!(
                    "`{}` exited ({status}) before printing {needle:?}\n  stderr: {}",
                    self.command,
                    self.stderr().trim_end()
                )));
            }
            if Instant::now() >= until {
                return Err(Error::Setup(format!(
                    "`{}` did not print {needle:?} within {timeout:?}\n  stderr: {}",
                    self.command,
                    self.stderr().trim_end()
                )));
            }
            thread::sleep(POLL);
        }
    }

    /// Waits for the exit; after `timeout` the child is killed and the result is
    /// [`Error::Timeout`]. Any exit status is returned as is.
    pub fn wait(mut self, timeout: Duration) -> Result<Finished> {
        let until = Instant::now() + timeout;
        let mut child = self.child.take().expect("child present until waited");
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    let elapsed = self.started.elapsed();
                    let drain_until = Instant::now() + DRAIN;
                    self.stdout.drain(drain_until);
                    self.stderr.drain(drain_until);
                    return Ok(Finished {
                        command: self.command.clone(),
                        status,
                        stdout: self.stdout(),
                        stderr: self.stderr(),
                        elapsed,
                    });
                }
                Ok(None) if Instant::now() < until => thread::sleep(POLL),
                Ok(None) => {
                    kill_and_reap(&mut child);
                    let drain_until = Instant::now() + DRAIN;
                    self.stdout.drain(drain_until);
                    self.stderr.drain(drain_until);
                    return Err(Error::Timeout {
                        command: self.command.clone(),
                        after: timeout,
                        stdout: self.stdout(),
                        stderr: self.stderr(),
                    });
                }
                Err(e) => {
                    kill_and_reap(&mut child);
                    return Err(Error::io(format!("waiting for `{}`", self.command), e));
                }
            }
        }
    }

    /// [`Spawned::wait`], then fails unless the exit status is 0.
    pub fn wait_success(self, timeout: Duration) -> Result<Finished> {
        self.wait(timeout)?.check()
    }

    /// Kills and reaps the child now (dropping the guard does the same).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_and_reap(&mut child);
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.kill();
    }
}

/// SIGKILL (ignoring "already exited") and reap, so no zombie stays behind.
fn kill_and_reap(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn describe_quotes_arguments_with_spaces() {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", "a b", ""]);
        assert_eq!(describe(&c), "ip netns exec 'a b' ''");
    }

    #[test]
    fn run_captures_output_and_reports_failures() {
        let ok = run(sh("echo out; echo err >&2"), SETUP_TIMEOUT).unwrap();
        assert_eq!(ok.stdout, "out\n");
        assert_eq!(ok.stderr, "err\n");
        let err = run(sh("echo boom >&2; exit 3"), SETUP_TIMEOUT).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("sh -c 'echo boom >&2; exit 3'"), "{text}");
        assert!(text.contains("stderr: boom"), "{text}");
    }

    #[test]
    fn run_kills_after_the_timeout() {
        let started = Instant::now();
        let err = run(
            sh("echo started >&2; exec sleep 30"),
            Duration::from_millis(200),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(err.to_string().contains("started"), "{err}");
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let err = run(Command::new("/nonexistent/program"), SETUP_TIMEOUT).unwrap_err();
        assert!(matches!(err, Error::Spawn { .. }), "{err}");
    }

    #[test]
    fn dropping_the_guard_kills_the_child() {
        let mut child = Spawned::start(sh("echo ready >&2; exec sleep 30")).unwrap();
        child
            .wait_for_stderr("ready", Duration::from_secs(5))
            .unwrap();
        let pid = child.id();
        drop(child);
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn wait_for_stderr_fails_when_the_child_exits_first() {
        let mut child = Spawned::start(sh("echo nope >&2; exit 1")).unwrap();
        let err = child
            .wait_for_stderr("listening", Duration::from_secs(5))
            .unwrap_err();
        assert!(err.to_string().contains("exited"), "{err}");
    }
}
