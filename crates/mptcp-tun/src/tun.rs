//! Linux TUN devices as [`Device`]s.
//!
//! # Why `tun-rs`
//!
//! Of the TUN crates for tokio, `tun-rs` (2.x) is the one built for speed on Linux: besides
//! plain async `recv`/`send` with non-blocking `try_recv`/`try_send` (which the runtime's
//! batching uses), it opens the device with `IFF_VNET_HDR` on request (`offload(true)`) and
//! offers `recv_multiple`/`send_multiple` with a GRO table and GSO splitting of
//! TCP/UDP super-packets, that is, the virtio-net header offloads that take a TUN device
//! towards the kernel's own throughput (up to 64 KiB per read or write instead of one MTU).
//! `tun` (rust-tun) has a tokio `AsyncDevice` and a framed codec but no offload support;
//! `tokio-tun` is a small, Linux-only wrapper with multi-queue support but neither vnet
//! headers nor batched I/O. `tun-rs` is used without its default `address-management`
//! feature: configuring the interface is the caller's job (see [`configure_with_ip`]).
//!
//! Offload is not switched on yet: the stack writes MTU-sized segments. The plan is a batch
//! form of [`Device`] (a `recv_multiple`/`send_multiple` pair) that the driver already
//! fits: it reads and writes in batches of [`BATCH`](crate::BATCH) buffers.

use core::net::IpAddr;
use std::io;
use std::process::Command;

use thiserror::Error;

use crate::device::Device;

/// Why a TUN device could not be made or configured.
#[derive(Debug, Error)]
pub enum TunError {
    /// Opening `/dev/net/tun` or creating the interface was refused (EPERM/EACCES).
    #[error("creating a TUN device needs root or CAP_NET_ADMIN")]
    PermissionDenied(#[source] io::Error),
    /// Creating the device failed otherwise.
    #[error("creating TUN device {name:?}")]
    Create {
        /// The requested name.
        name: String,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// An `ip` command of [`configure_with_ip`] failed.
    #[error("`ip {command}` failed: {detail}")]
    Ip {
        /// Its arguments.
        command: String,
        /// Its standard error, or why it could not run.
        detail: String,
    },
}

/// A TUN device (IP packets, no packet-information header).
pub struct TunDevice {
    device: tun_rs::AsyncDevice,
    name: String,
}

impl core::fmt::Debug for TunDevice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TunDevice")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TunDevice {
    /// Creates the TUN device `name` (empty: the kernel picks one) with `mtu`. The interface
    /// is left down and without addresses: bring it up and address it with
    /// [`configure_with_ip`] or your own tooling, and add the routes you need.
    ///
    /// Must be called within a tokio runtime (the device registers with its reactor).
    pub fn create(name: &str, mtu: u16) -> Result<TunDevice, TunError> {
        let mut builder = tun_rs::DeviceBuilder::new().mtu(mtu);
        if !name.is_empty() {
            builder = builder.name(name);
        }
        let device = builder.build_async().map_err(|source| {
            let denied = matches!(source.raw_os_error(), Some(1 | 13))
                || source.kind() == io::ErrorKind::PermissionDenied;
            if denied {
                TunError::PermissionDenied(source)
            } else {
                TunError::Create {
                    name: name.to_owned(),
                    source,
                }
            }
        })?;
        let name = device.name().unwrap_or_else(|_| name.to_owned());
        Ok(TunDevice { device, name })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Device for TunDevice {
    async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.device.recv(buf).await
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.device.try_recv(buf)
    }

    fn try_send(&self, packet: &[u8]) -> io::Result<()> {
        self.device.try_send(packet).map(|_| ())
    }
}

/// Brings interface `name` up with `mtu` and adds `addrs` (address, prefix length) to it by
/// running iproute2's `ip` in the current network namespace: `ip addr add ADDR/PREFIX dev
/// NAME` for each address, then `ip link set dev NAME mtu MTU up`. Routes stay the caller's
/// job. Needs root or CAP_NET_ADMIN like the device itself.
pub fn configure_with_ip(name: &str, addrs: &[(IpAddr, u8)], mtu: u16) -> Result<(), TunError> {
    for (addr, prefix) in addrs {
        let cidr = format!("{addr}/{prefix}");
        run_ip(&["addr", "add", &cidr, "dev", name])?;
    }
    run_ip(&["link", "set", "dev", name, "mtu", &mtu.to_string(), "up"])
}

fn run_ip(args: &[&str]) -> Result<(), TunError> {
    let failed = |detail: String| TunError::Ip {
        command: args.join(" "),
        detail,
    };
    let output = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| failed(e.to_string()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(failed(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ))
    }
}
