//! The application part of a scenario: what runs on the hosts next to the `Stack`. Parsed
//! and validated here (the host exists, sizes are not zero); each host's applications are
//! handed to the host factory of [`Scenario::build`](super::Scenario::build), and
//! [`StackHost`](crate::StackHost) runs them.

use core::net::SocketAddr;

use serde::Deserialize;

use super::settings::SettingsSpec;
use super::units::{Rate, Time};

/// An application on a host.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AppSpec {
    /// Connects to `connect` at `start` and sends `bytes` bytes, then closes.
    Bulk {
        /// The host it runs on.
        host: String,
        /// When it starts.
        #[serde(default)]
        start: Time,
        /// The server address.
        connect: SocketAddr,
        /// How much to send.
        bytes: u64,
        /// Settings of its connections, over its host's (docs/settings.md).
        #[serde(default)]
        settings: SettingsSpec,
    },
    /// Connects to `connect` at `start`, asks the server for `bytes` bytes and reads them
    /// until the server closes: a download, the reverse of [`Bulk`](Self::Bulk).
    Download {
        /// The host it runs on.
        host: String,
        /// When it starts.
        #[serde(default)]
        start: Time,
        /// The server address.
        connect: SocketAddr,
        /// How much to fetch.
        bytes: u64,
        /// Settings of its connections, over its host's (docs/settings.md).
        #[serde(default)]
        settings: SettingsSpec,
    },
    /// Connects to `connect` at `start` and transfers both ways at once: sends `up` bytes
    /// and closes, while the server sends `down` bytes from the moment it has the
    /// client's header; both directions are checked byte for byte.
    Exchange {
        /// The host it runs on.
        host: String,
        /// When it starts.
        #[serde(default)]
        start: Time,
        /// The server address.
        connect: SocketAddr,
        /// How much the client sends.
        up: u64,
        /// How much the server sends.
        down: u64,
        /// Settings of its connections, over its host's (docs/settings.md).
        #[serde(default)]
        settings: SettingsSpec,
    },
    /// Connects at `start` and sends `count` requests of `request` bytes, each after the
    /// previous response of `response` bytes.
    RequestResponse {
        /// The host it runs on.
        host: String,
        /// When it starts.
        #[serde(default)]
        start: Time,
        /// The server address.
        connect: SocketAddr,
        /// Request size.
        request: u64,
        /// Response size.
        response: u64,
        /// Number of exchanges.
        count: u32,
        /// Settings of its connections, over its host's (docs/settings.md).
        #[serde(default)]
        settings: SettingsSpec,
    },
    /// Connects at `start` and alternates sending at `rate` for `on` and pausing for
    /// `off`.
    OnOff {
        /// The host it runs on.
        host: String,
        /// When it starts.
        #[serde(default)]
        start: Time,
        /// The server address.
        connect: SocketAddr,
        /// Sending rate while on.
        rate: Rate,
        /// Length of an on period.
        on: Time,
        /// Length of an off period.
        off: Time,
        /// Settings of its connections, over its host's (docs/settings.md).
        #[serde(default)]
        settings: SettingsSpec,
    },
    /// Listens on `port` and accepts connections: reads and checks what bulk and on/off
    /// clients send, answers request/response clients, sends downloads.
    Server {
        /// The host it runs on.
        host: String,
        /// The port it listens on.
        port: u16,
        /// Settings of its connections, over its host's (docs/settings.md).
        #[serde(default)]
        settings: SettingsSpec,
    },
}

impl AppSpec {
    /// The host the application runs on.
    pub fn host(&self) -> &str {
        match self {
            Self::Bulk { host, .. }
            | Self::Download { host, .. }
            | Self::Exchange { host, .. }
            | Self::RequestResponse { host, .. }
            | Self::OnOff { host, .. }
            | Self::Server { host, .. } => host,
        }
    }

    /// The settings of its connections, over its host's.
    pub fn settings(&self) -> &SettingsSpec {
        match self {
            Self::Bulk { settings, .. }
            | Self::Download { settings, .. }
            | Self::Exchange { settings, .. }
            | Self::RequestResponse { settings, .. }
            | Self::OnOff { settings, .. }
            | Self::Server { settings, .. } => settings,
        }
    }

    /// What is wrong with its parameters, if anything.
    pub(crate) fn problem(&self) -> Option<&'static str> {
        match self {
            Self::Bulk { bytes: 0, .. } => Some("a bulk transfer of 0 bytes"),
            Self::Download { bytes: 0, .. } => Some("a download of 0 bytes"),
            Self::Exchange { up: 0, .. } | Self::Exchange { down: 0, .. } => {
                Some("an exchange of 0 bytes one way")
            }
            Self::RequestResponse { count: 0, .. } => Some("a request/response count of 0"),
            Self::RequestResponse { request: 0, .. }
            | Self::RequestResponse { response: 0, .. } => Some("a request or response of 0 bytes"),
            Self::OnOff { rate: Rate(0), .. } => Some("an on/off rate of 0"),
            Self::OnOff { on, .. } if on.0.is_zero() => Some("an on period of 0"),
            Self::Server { port: 0, .. } => Some("a server on port 0"),
            _ => None,
        }
    }
}
