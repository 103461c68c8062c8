//! Settings of a [`Stack`](super::Stack): its interfaces and the TCP defaults.

use core::net::IpAddr;

pub use crate::conn::{MptcpConfig, MptcpEnabled};
pub use crate::tcp::TcpConfig;

pub use crate::ids::InterfaceId;

/// One network interface of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceConfig {
    /// Addresses assigned to it (IPv4 and/or IPv6).
    pub addrs: Vec<IpAddr>,
    /// Largest IP packet it carries, in bytes.
    pub mtu: usize,
    /// A backup interface (cellular on a phone, say): path managers open backup subflows
    /// from its addresses, used only when no other subflow works (the seeds'
    /// `ip link set dev X multipath backup`).
    pub backup: bool,
}

impl InterfaceConfig {
    /// An interface with one address and an Ethernet MTU of 1500.
    pub fn new(addr: IpAddr) -> Self {
        Self {
            addrs: vec![addr],
            mtu: 1500,
            backup: false,
        }
    }
}

/// The settings of one connection and its subflows. The stack's [`StackConfig::tcp`] and
/// [`StackConfig::mptcp`] are the defaults; [`Stack::connect_with`](super::Stack::connect_with)
/// and [`Stack::listen_with`](super::Stack::listen_with) take others, and a connection a
/// listener accepts has the listener's (after quinn's per-connection `TransportConfig`;
/// draft-scharf-mptcp-api REQ13: an application chooses the behaviour of its own connection).
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// TCP settings of every subflow (congestion control, buffers, timers, ...).
    pub tcp: TcpConfig,
    /// MPTCP settings (enabled, checksums, path manager, scheduler, limits).
    pub mptcp: MptcpConfig,
}

/// Settings of one host.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// The host's interfaces; [`InterfaceId`] indexes this list.
    pub interfaces: Vec<InterfaceConfig>,
    /// TCP settings for every connection (and every subflow).
    pub tcp: TcpConfig,
    /// MPTCP settings.
    pub mptcp: MptcpConfig,
    /// First and last ephemeral port for `connect` without a local port (RFC 6056 suggests
    /// 49152–65535).
    pub ephemeral_ports: (u16, u16),
    /// Answer SYNs with SYN cookies (RFC 4987 §3.6) when a listener's queue of half-open
    /// connections is full, instead of dropping them (like Linux's `tcp_syncookies=1`).
    pub syn_cookies: bool,
}

impl Default for StackConfig {
    /// No interfaces, default TCP and MPTCP settings (MPTCP on), ephemeral ports
    /// 49152–65535, SYN cookies on.
    fn default() -> Self {
        Self {
            interfaces: Vec::new(),
            tcp: TcpConfig::default(),
            mptcp: MptcpConfig::default(),
            ephemeral_ports: (49_152, 65_535),
            syn_cookies: true,
        }
    }
}
