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
//! # Offload
//!
//! [`TunDevice::create`] opens the device with offload ([`TunDevice::create_with`] chooses):
//! `IFF_VNET_HDR` plus `TUNSETOFFLOAD` (checksum, TSO4, TSO6). Both directions then move
//! super-packets of up to 64 KiB through the kernel instead of one syscall, one forwarding
//! decision and one TCP receive per MTU-sized segment:
//!
//! - [`Device::send_batch`]: the driver hands over each batch of transmits with
//!   [`VIRTIO_NET_HDR_LEN`](tun_rs::VIRTIO_NET_HDR_LEN) bytes of headroom; `send_multiple`
//!   merges consecutive segments of one TCP flow in place (userspace GRO) and writes each
//!   merged packet once, with a virtio-net header asking the kernel to segment it (GSO).
//! - [`Device::recv_batch`]: `try_recv_multiple` reads one super-packet and splits it into
//!   MTU-sized segments with their checksums, so the stack only ever sees ordinary packets.
//!
//! The single-packet methods ([`Device::recv`], [`Device::try_recv`], [`Device::try_send`])
//! keep working on an offloading device: they add or strip the virtio-net header and never
//! use segmentation.

use core::net::IpAddr;
use std::io;
use std::process::Command;
use std::sync::Mutex;

use thiserror::Error;
use tun_rs::{GROTable, VIRTIO_NET_HDR_LEN};

use crate::device::{Device, recv_then_queued};

/// Largest packet one offloading read may return: an IP datagram of 64 KiB.
const MAX_SUPER_PACKET: usize = 65_535;

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

/// A TUN device (IP packets, no packet-information header), with or without offload.
pub struct TunDevice {
    device: tun_rs::AsyncDevice,
    name: String,
    /// `IFF_VNET_HDR` is on: every read and write starts with a virtio-net header.
    offload: bool,
    /// Where one offloading read lands before it is split (only the reader task uses it).
    rx_super: Mutex<Vec<u8>>,
    /// Scratch state of send-side coalescing (only the driver task uses it).
    gro: Mutex<GROTable>,
}

impl core::fmt::Debug for TunDevice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TunDevice")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TunDevice {
    /// Creates the TUN device `name` (empty: the kernel picks one) with `mtu` and offload
    /// (see the module documentation). The interface is left down and without addresses:
    /// bring it up and address it with [`configure_with_ip`] or your own tooling, and add
    /// the routes you need.
    ///
    /// Must be called within a tokio runtime (the device registers with its reactor).
    pub fn create(name: &str, mtu: u16) -> Result<TunDevice, TunError> {
        Self::create_with(name, mtu, true)
    }

    /// [`create`](Self::create), choosing whether to switch offload on. Without it every
    /// read and write carries one IP packet of at most `mtu` bytes.
    pub fn create_with(name: &str, mtu: u16, offload: bool) -> Result<TunDevice, TunError> {
        let mut builder = tun_rs::DeviceBuilder::new().mtu(mtu).offload(offload);
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
        Ok(TunDevice {
            device,
            name,
            offload,
            rx_super: Mutex::new(Vec::new()),
            gro: Mutex::new(GROTable::new()),
        })
    }

    /// Whether the device was opened with offload (`IFF_VNET_HDR`, TSO and checksum).
    pub fn offload(&self) -> bool {
        self.offload
    }

    /// One offloading pass without waiting: reads super-packets and splits them into
    /// `bufs` while at least a whole 64 KiB super-packet of small segments still fits.
    /// Returns how many packets came; `Ok(0)` when nothing was queued.
    fn try_recv_split(&self, bufs: &mut [Vec<u8>], lens: &mut [usize]) -> io::Result<usize> {
        let mut rx = self.rx_super.lock().unwrap_or_else(|e| e.into_inner());
        if rx.len() < VIRTIO_NET_HDR_LEN + MAX_SUPER_PACKET {
            rx.resize(VIRTIO_NET_HDR_LEN + MAX_SUPER_PACKET, 0);
        }
        let room = bufs.len().min(lens.len());
        // The first read may use every buffer; later ones only while a super-packet cut
        // into segments of 1,024 bytes or more still fits.
        let min_room = MAX_SUPER_PACKET.div_ceil(1024);
        let mut count = 0;
        while count < room && (count == 0 || room - count >= min_room) {
            match self.device.try_recv_multiple(
                &mut rx,
                &mut bufs[count..room],
                &mut lens[count..room],
                0,
            ) {
                Ok(n) => count += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // The OS refused the read: the device is gone or broken.
                Err(e) if e.raw_os_error().is_some() => {
                    if count == 0 {
                        return Err(e);
                    }
                    break;
                }
                // One packet that could not be split (it is consumed): drop it, as a
                // router would, and go on.
                Err(e) => tracing::debug!(device = %self.name, error = %e, "bad offload read"),
            }
        }
        Ok(count)
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Device for TunDevice {
    async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.offload {
            return self.device.recv(buf).await;
        }
        let mut bufs = [vec![0u8; buf.len()]];
        let mut lens = [0usize];
        loop {
            self.device.readable().await?;
            // A super-packet does not fit one buffer: it is dropped like a damaged one.
            if self.try_recv_split(&mut bufs, &mut lens)? == 1 {
                buf[..lens[0]].copy_from_slice(&bufs[0][..lens[0]]);
                return Ok(lens[0]);
            }
        }
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.offload {
            return self.device.try_recv(buf);
        }
        let mut bufs = [vec![0u8; buf.len()]];
        let mut lens = [0usize];
        match self.try_recv_split(&mut bufs, &mut lens)? {
            1 => {
                buf[..lens[0]].copy_from_slice(&bufs[0][..lens[0]]);
                Ok(lens[0])
            }
            _ => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn try_send(&self, packet: &[u8]) -> io::Result<()> {
        if !self.offload {
            return self.device.try_send(packet).map(|_| ());
        }
        // An all-zero virtio-net header: no segmentation, checksum already complete.
        let hdr = [0u8; VIRTIO_NET_HDR_LEN];
        self.device
            .try_send_vectored(&[io::IoSlice::new(&hdr), io::IoSlice::new(packet)])
            .map(|_| ())
    }

    async fn recv_batch(&self, bufs: &mut [Vec<u8>], lens: &mut [usize]) -> io::Result<usize> {
        if !self.offload {
            return recv_then_queued(self, bufs, lens).await;
        }
        loop {
            let count = self.try_recv_split(bufs, lens)?;
            if count > 0 {
                return Ok(count);
            }
            self.device.readable().await?;
        }
    }

    fn headroom(&self) -> usize {
        if self.offload { VIRTIO_NET_HDR_LEN } else { 0 }
    }

    fn send_capacity(&self, mtu: usize) -> usize {
        // `send_multiple` merges into the first packet of a run only if its buffer has room
        // for the whole super-packet (plus twice the header) without reallocating.
        if self.offload {
            2 * VIRTIO_NET_HDR_LEN + MAX_SUPER_PACKET
        } else {
            mtu
        }
    }

    fn send_batch(&self, packets: &mut [Vec<u8>], offset: usize) {
        if !self.offload || offset < VIRTIO_NET_HDR_LEN {
            for packet in packets.iter() {
                if let Err(e) = self.try_send(packet.get(offset..).unwrap_or_default()) {
                    tracing::trace!(device = %self.name, error = %e, "packet dropped on send");
                }
            }
            return;
        }
        let mut gro = self.gro.lock().unwrap_or_else(|e| e.into_inner());
        // The synchronous form of `DeviceImpl`: a TUN write does not block, and the
        // driver must not wait for one.
        let device: &tun_rs::DeviceImpl = &self.device;
        if let Err(e) = device.send_multiple(&mut gro, packets, offset) {
            tracing::trace!(device = %self.name, error = %e, "batch partly dropped on send");
        }
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
