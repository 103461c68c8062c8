//! The settings registry: every knob of the stack under the name the seeds' kernel gives it
//! (`mptcp.scheduler`, `roundrobin.num_segments`, ...), like `sysctl net.mptcp.*` and the
//! module parameters of the multipath-tcp.org kernel.
//!
//! A [`Settings`] value holds one typed value per setting, read from a configuration
//! ([`Settings::from_config`]; [`Default`] reads the defaults of
//! [`StackConfig`](crate::stack::StackConfig)). [`Settings::set`] takes a name and a value as
//! text, as a command line or a configuration file gives them; an unknown name or a value out
//! of range is a [`SettingError`] that names what is valid, never a silent default.
//! [`Settings::apply`] writes the settings that were set into the TCP and MPTCP
//! configuration a stack, a runtime or one connection is built from, leaving the rest of it
//! as it was. [`SETTINGS`] describes each one: its kind and range, its default, a line of
//! documentation, and its name in the seeds' kernel and in today's Linux.
//!
//! ```
//! use mptcp_proto::settings::Settings;
//! use mptcp_proto::stack::StackConfig;
//!
//! let mut settings = Settings::default();
//! settings.set("mptcp.scheduler", "roundrobin").unwrap();
//! settings.set("roundrobin.num_segments", "3").unwrap();
//! let error = settings.set("mptcp.scheduler", "fastest").unwrap_err();
//! assert!(error.to_string().contains("default, roundrobin, redundant"));
//!
//! let mut config = StackConfig::default();
//! settings.apply(&mut config.tcp, &mut config.mptcp);
//! assert_eq!(config.mptcp.scheduler.name(), "roundrobin");
//! ```

mod table;

use core::fmt;
use core::num::NonZeroU32;

use crate::conn::MptcpConfig;
use crate::pm::{FullMesh, NDiffPorts, PathManagerChoice};
use crate::sched::{Blest, Ecf, RoundRobin, SchedulerChoice};
use crate::tcp::TcpConfig;

pub use table::SETTINGS;

/// The values of every setting, and which were set. Built with [`Default`] or
/// [`from_config`](Self::from_config), changed with [`set`](Self::set).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The settings [`set`](Self::set) was called for, which [`apply`](Self::apply) writes.
    given: Vec<&'static str>,
    mptcp_enabled: crate::conn::MptcpEnabled,
    checksum: bool,
    mptcp_syn_retries: u64,
    debug: u64,
    path_manager: &'static str,
    fullmesh_num_subflows: u16,
    fullmesh_create_on_err: bool,
    ndiffports_num_subflows: u16,
    scheduler: &'static str,
    roundrobin_num_segments: u32,
    roundrobin_cwnd_limited: bool,
    blest_lambda: f64,
    ecf_r_beta: u32,
    congestion_control: &'static str,
    subflows: u64,
    half_open_joins: u64,
    add_addr_accepted: u64,
    add_addr_timeout: u64,
    close_timeout: u64,
    send_buffer: u64,
    recv_buffer: u64,
    recv_buffer_max: u64,
    syn_retries: u64,
    nodelay: bool,
    sack: bool,
    timestamps: bool,
    window_scaling: bool,
    pacing: bool,
}

impl Default for Settings {
    /// The defaults of [`TcpConfig`] and [`MptcpConfig`], and of the seeds' module
    /// parameters for the schedulers.
    fn default() -> Self {
        Self::from_config(&TcpConfig::default(), &MptcpConfig::default())
    }
}

impl Settings {
    /// The values of `tcp` and `mptcp`, none of them set yet. Scheduler parameters are
    /// the seeds' defaults (a built scheduler does not tell its parameters); a scheduler of
    /// the application's own shows its name.
    pub fn from_config(tcp: &TcpConfig, mptcp: &MptcpConfig) -> Self {
        let round_robin = RoundRobin::default();
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        Self {
            given: Vec::new(),
            mptcp_enabled: mptcp.enabled,
            checksum: mptcp.checksum,
            mptcp_syn_retries: u64::from(mptcp.syn_retries),
            debug: u64::from(mptcp.debug),
            path_manager: mptcp.path_manager.name(),
            fullmesh_num_subflows: FullMesh::default().num_subflows(),
            fullmesh_create_on_err: FullMesh::default().create_on_err(),
            ndiffports_num_subflows: NDiffPorts::default().num_subflows(),
            scheduler: mptcp.scheduler.name(),
            roundrobin_num_segments: round_robin.num_segments(),
            roundrobin_cwnd_limited: round_robin.cwnd_limited(),
            blest_lambda: Blest::default().lambda(),
            ecf_r_beta: Ecf::default().r_beta(),
            congestion_control: tcp.congestion_control.name(),
            subflows: count(mptcp.max_subflows),
            half_open_joins: count(mptcp.max_half_open_joins),
            add_addr_accepted: count(mptcp.max_add_addr_accepted),
            add_addr_timeout: mptcp.add_addr_timeout.as_secs(),
            close_timeout: mptcp.close_timeout.as_secs(),
            send_buffer: count(tcp.send_buffer),
            recv_buffer: count(tcp.recv_buffer),
            recv_buffer_max: count(tcp.recv_buffer_max),
            syn_retries: u64::from(tcp.syn_retries),
            nodelay: tcp.nodelay,
            sack: tcp.sack,
            timestamps: tcp.timestamps,
            window_scaling: tcp.window_scaling,
            pacing: tcp.pacing,
        }
    }

    /// Sets `name` to `value` (as text: `0`/`1` or `false`/`true` for switches, decimal
    /// numbers, names).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), SettingError> {
        let setting = Setting::find(name)?;
        let parsed = setting
            .kind
            .parse(value)
            .ok_or_else(|| SettingError::BadValue {
                name: setting.name,
                value: value.to_owned(),
                expected: setting.kind.to_string(),
            })?;
        (setting.set)(self, parsed);
        if !self.given.contains(&setting.name) {
            self.given.push(setting.name);
        }
        Ok(())
    }

    /// Sets a `NAME=VALUE` assignment, as `--set` takes it.
    pub fn assign(&mut self, assignment: &str) -> Result<(), SettingError> {
        let (name, value) = assignment
            .split_once('=')
            .ok_or_else(|| SettingError::NotAnAssignment(assignment.to_owned()))?;
        self.set(name.trim(), value.trim())
    }

    /// Whether `name` was [`set`](Self::set) (a value given, not the default kept).
    pub fn is_set(&self, name: &str) -> bool {
        self.given.contains(&name)
    }

    /// The value of `name`, as [`set`](Self::set) takes it.
    pub fn get(&self, name: &str) -> Result<String, SettingError> {
        Ok((Setting::find(name)?.get)(self).to_string())
    }

    /// Writes the settings that were [`set`](Self::set) into the configuration of a stack,
    /// a runtime or a connection; everything else in it stays as it was.
    pub fn apply(&self, tcp: &mut TcpConfig, mptcp: &mut MptcpConfig) {
        for setting in SETTINGS.iter().filter(|s| self.given.contains(&s.name)) {
            (setting.apply)(self, tcp, mptcp);
        }
    }

    /// A path manager's parameters changed: rebuild it if it is the one they belong to.
    fn apply_path_manager_parameters_of(&self, manager: &str, mptcp: &mut MptcpConfig) {
        if self.path_manager == manager {
            mptcp.path_manager = self.path_manager_choice();
        }
    }

    /// The path manager `mptcp.path_manager` names, built with its parameters.
    pub fn path_manager_choice(&self) -> PathManagerChoice {
        match self.path_manager {
            "fullmesh" => PathManagerChoice::new(FullMesh::new(
                self.fullmesh_num_subflows,
                self.fullmesh_create_on_err,
            )),
            "ndiffports" => PathManagerChoice::new(NDiffPorts::new(self.ndiffports_num_subflows)),
            name => name.parse().unwrap_or_default(),
        }
    }

    /// The scheduler's parameters changed: rebuild it if it is the one they belong to.
    fn apply_parameters_of(&self, scheduler: &str, mptcp: &mut MptcpConfig) {
        if self.scheduler == scheduler {
            mptcp.scheduler = self.scheduler_choice();
        }
    }

    /// The scheduler `mptcp.scheduler` names, built with its parameters (`default` for a
    /// scheduler of the application's own, which it cannot build).
    pub fn scheduler_choice(&self) -> SchedulerChoice {
        match self.scheduler {
            "roundrobin" => SchedulerChoice::new(RoundRobin::new(
                self.roundrobin_num_segments,
                self.roundrobin_cwnd_limited,
            )),
            // The range was checked when it was set.
            "blest" => SchedulerChoice::new(Blest::new(self.blest_lambda).unwrap_or_default()),
            "ecf" => SchedulerChoice::new(Ecf::new(
                NonZeroU32::new(self.ecf_r_beta).unwrap_or(NonZeroU32::MIN),
            )),
            name => name.parse().unwrap_or_default(),
        }
    }
}

/// What went wrong with a setting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingError {
    /// No setting has this name.
    #[error("unknown setting \"{0}\"; valid: {names}", names = Setting::names().join(", "))]
    UnknownName(String),
    /// The value is not one the setting takes.
    #[error("bad value \"{value}\" for {name}: expected {expected}")]
    BadValue {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: String,
        /// What it takes.
        expected: String,
    },
    /// Not of the form `NAME=VALUE`.
    #[error("\"{0}\" is not NAME=VALUE")]
    NotAnAssignment(String),
}

/// One setting: its name, what it takes, where it comes from and what it does.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// Its name (`mptcp.scheduler`).
    pub name: &'static str,
    /// The values it takes.
    pub kind: Kind,
    /// What it does, in a line.
    pub doc: &'static str,
    /// Its name in the seeds' multipath-tcp.org kernel, if it has one there.
    pub seeds: Option<&'static str>,
    /// Its name in today's Linux, if it has one there.
    pub linux: Option<&'static str>,
    get: fn(&Settings) -> Value,
    set: fn(&mut Settings, Value),
    apply: fn(&Settings, &mut TcpConfig, &mut MptcpConfig),
}

impl Setting {
    /// The setting called `name`.
    pub fn find(name: &str) -> Result<&'static Setting, SettingError> {
        SETTINGS
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| SettingError::UnknownName(name.to_owned()))
    }

    /// Every setting's name.
    pub fn names() -> Vec<&'static str> {
        SETTINGS.iter().map(|s| s.name).collect()
    }

    /// Its value in `settings`, as text.
    pub fn value(&self, settings: &Settings) -> String {
        (self.get)(settings).to_string()
    }

    /// Its default, as text.
    pub fn default_value(&self) -> String {
        self.value(&Settings::default())
    }
}

/// The values a setting takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Off or on: `0`/`1` (or `false`/`true`).
    Switch,
    /// A whole number in `min..=max`.
    Integer {
        /// Smallest.
        min: u64,
        /// Largest.
        max: u64,
    },
    /// A decimal number in `min..=max`.
    Decimal {
        /// Smallest.
        min: f64,
        /// Largest.
        max: f64,
    },
    /// One of these names.
    Name(&'static [&'static str]),
}

impl Kind {
    fn parse(&self, text: &str) -> Option<Value> {
        match *self {
            Kind::Switch => match text {
                "0" | "false" => Some(Value::Switch(false)),
                "1" | "true" => Some(Value::Switch(true)),
                _ => None,
            },
            Kind::Integer { min, max } => text
                .parse()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .map(Value::Integer),
            Kind::Decimal { min, max } => text
                .parse()
                .ok()
                .filter(|x| (min..=max).contains(x))
                .map(Value::Decimal),
            Kind::Name(names) => names.iter().find(|n| **n == text).map(|n| Value::Name(n)),
        }
    }
}

impl fmt::Display for Kind {
    /// What it takes, in words ("0 or 1", "an integer from 1 to 64", "one of: ...").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Switch => write!(f, "0 or 1"),
            Kind::Integer { min, max } => write!(f, "an integer from {min} to {max}"),
            Kind::Decimal { min, max } => write!(f, "a number from {min} to {max}"),
            Kind::Name(names) => write!(f, "one of: {}", names.join(", ")),
        }
    }
}

/// A parsed value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Switch(bool),
    Integer(u64),
    Decimal(f64),
    Name(&'static str),
}

impl Value {
    fn switch(self) -> bool {
        matches!(self, Value::Switch(true))
    }

    fn integer(self) -> u64 {
        match self {
            Value::Integer(n) => n,
            _ => 0,
        }
    }

    fn decimal(self) -> f64 {
        match self {
            Value::Decimal(x) => x,
            _ => 0.0,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Value::Name(n) => n,
            _ => "",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Switch(on) => write!(f, "{}", u8::from(*on)),
            Value::Integer(n) => write!(f, "{n}"),
            Value::Decimal(x) => write!(f, "{x}"),
            Value::Name(n) => f.write_str(n),
        }
    }
}

#[cfg(test)]
mod tests;
