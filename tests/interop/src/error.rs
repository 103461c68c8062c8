//! The harness's error type: every failure names the command that failed and
//! carries what it printed on standard error, so a broken setup explains itself.

use std::fmt;
use std::io;
use std::process::ExitStatus;
use std::time::Duration;

/// Result of a harness operation.
pub type Result<T> = std::result::Result<T, Error>;

/// Why a harness operation failed.
#[derive(Debug)]
pub enum Error {
    /// The program could not be started at all (not installed, not executable).
    Spawn {
        /// The command line, as a shell would show it.
        command: String,
        /// What `execve` (or the fork) reported.
        source: io::Error,
    },
    /// The command ran but exited unsuccessfully.
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: ExitStatus,
        /// What it wrote on standard output.
        stdout: String,
        /// What it wrote on standard error.
        stderr: String,
    },
    /// The command did not finish in time and was killed.
    Timeout {
        /// The command line.
        command: String,
        /// The time it was given.
        after: Duration,
        /// Standard output up to the kill.
        stdout: String,
        /// Standard error up to the kill.
        stderr: String,
    },
    /// Any other input/output error, with what was being done.
    Io {
        /// What the harness was doing.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The environment or a result was not what the harness needs.
    Setup(String),
}

impl Error {
    /// An [`Error::Io`] with context.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Appends `label: text` (trimmed) when `text` is not empty.
fn write_output(f: &mut fmt::Formatter<'_>, label: &str, text: &str) -> fmt::Result {
    let text = text.trim_end();
    if !text.is_empty() {
        write!(f, "\n  {label}: {}", text.replace('\n', "\n    "))?;
    }
    Ok(())
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Spawn { command, source } => write!(f, "could not run `{command}`: {source}"),
            Error::Failed {
                command,
                status,
                stdout,
                stderr,
            } => {
                write!(f, "`{command}` failed ({status})")?;
                write_output(f, "stderr", stderr)?;
                write_output(f, "stdout", stdout)
            }
            Error::Timeout {
                command,
                after,
                stdout,
                stderr,
            } => {
                write!(
                    f,
                    "`{command}` did not finish within {after:?} and was killed"
                )?;
                write_output(f, "stderr", stderr)?;
                write_output(f, "stdout", stdout)
            }
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Setup(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Spawn { source, .. } | Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
