//! `mptcp settings`, and the `--set NAME=VALUE` / `--config FILE` options of every command
//! that runs a stack (`connect`, `listen`, `demo`, `sim`). The names and their checks are the
//! library's registry ([`mptcp_proto::settings`]); a configuration file is TOML in the form a
//! scenario's `settings` table takes ([`SettingsSpec`]).

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;
use mptcp_proto::settings::{SETTINGS, Settings};
use mptcp_sim::scenario::SettingsSpec;
use serde_json::json;

/// `--set` and `--config`.
#[derive(Debug, Clone, Default, Args)]
pub struct SettingsArgs {
    /// Set a setting of the stack, e.g. `--set mptcp.scheduler=roundrobin` (repeatable;
    /// `mptcp settings` lists them all)
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_assignment)]
    pub set: Vec<(String, String)>,

    /// Read settings from a TOML file (`mptcp.scheduler = "roundrobin"`, or a `[mptcp]`
    /// table with `scheduler = "roundrobin"`); `--set` wins over it
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Checks `NAME=VALUE` against the registry as clap parses it, so that a bad one is a usage
/// error (status 2) naming what is valid.
fn parse_assignment(text: &str) -> Result<(String, String), String> {
    Settings::default()
        .assign(text)
        .map_err(|error| error.to_string())?;
    let (name, value) = text.split_once('=').unwrap_or((text, ""));
    Ok((name.trim().to_owned(), value.trim().to_owned()))
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// It cannot be read.
    #[error("--config {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// It is not TOML of settings, or names an unknown setting or a bad value.
    #[error("--config {path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Options that contradict each other or a setting.
    #[error("{0}")]
    Conflict(String),
}

impl SettingsArgs {
    /// The settings the file and then `--set` give, checked.
    pub fn spec(&self) -> Result<SettingsSpec, ConfigError> {
        self.resolve().map(|(spec, _)| spec)
    }

    /// The defaults with the file and `--set` applied.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        self.resolve().map(|(_, settings)| settings)
    }

    fn resolve(&self) -> Result<(SettingsSpec, Settings), ConfigError> {
        let shown = self
            .config
            .as_ref()
            .map_or_else(|| "--set".to_owned(), |p| p.display().to_string());
        let mut spec = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: shown.clone(),
                    source,
                })?;
                toml::from_str(&text).map_err(|error| ConfigError::Invalid {
                    path: shown.clone(),
                    message: error.to_string(),
                })?
            }
            None => SettingsSpec::default(),
        };
        for (name, value) in &self.set {
            spec.push(name, value);
        }
        // Each `--set` was checked as clap parsed it: an error here is the file's.
        let settings = spec.settings().map_err(|error| ConfigError::Invalid {
            path: shown,
            message: error.to_string(),
        })?;
        Ok((spec, settings))
    }
}

/// `mptcp settings`: every setting with its value, default and meaning, like `sysctl -a`.
pub fn write_text(out: &mut impl Write, settings: &Settings) -> io::Result<()> {
    let width = SETTINGS.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let values: Vec<(String, String)> = SETTINGS
        .iter()
        .map(|s| (s.value(settings), s.default_value()))
        .collect();
    let value_width = values
        .iter()
        .map(|(v, d)| v.len().max(d.len()))
        .max()
        .unwrap_or(0)
        .max("DEFAULT".len());
    writeln!(
        out,
        "{:width$}  {:value_width$}  {:value_width$}  MEANING",
        "NAME", "VALUE", "DEFAULT"
    )?;
    for (setting, (value, default)) in SETTINGS.iter().zip(values) {
        writeln!(
            out,
            "{:width$}  {value:value_width$}  {default:value_width$}  {} ({})",
            setting.name, setting.doc, setting.kind
        )?;
    }
    Ok(())
}

/// `mptcp settings --json`: one object per setting.
pub fn to_json(settings: &Settings) -> serde_json::Value {
    SETTINGS
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "value": s.value(settings),
                "default": s.default_value(),
                "takes": s.kind.to_string(),
                "meaning": s.doc,
                "seeds": s.seeds,
                "linux": s.linux,
            })
        })
        .collect()
}
