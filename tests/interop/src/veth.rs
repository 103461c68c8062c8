//! [`VethLink`]: a veth pair whose two ends live in two namespaces.
//!
//! Typical use: create, add addresses to each end, optionally turn offloads off
//! or put a [`Tbf`] on an end, then [`VethLink::up`], which brings both ends up,
//! waits for carrier and installs permanent neighbour entries for the addresses
//! (a neighbour solicitation sent while a fresh veth comes up can go unanswered
//! and delay the first SYN by a second). IPv6 addresses are added with `nodad`,
//! so nothing waits for duplicate address detection. The pair disappears with
//! either namespace; it needs no guard of its own.

use std::thread;
use std::time::{Duration, Instant};

use crate::addr::IfAddr;
use crate::error::{Error, Result};
use crate::netns::Namespace;
use crate::tbf::Tbf;

/// How long [`VethLink::up`] waits for carrier.
const CARRIER_TIMEOUT: Duration = Duration::from_secs(5);

/// Offload settings for `ethtool -K` (`true` = on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offloads {
    /// TCP segmentation offload (`tso`).
    pub tso: bool,
    /// Generic segmentation offload (`gso`).
    pub gso: bool,
    /// Generic receive offload (`gro`).
    pub gro: bool,
    /// Transmit checksum offload (`tx`): when on, veth carries TCP checksums
    /// that were never computed, which a TUN reader or a capture would see.
    pub tx_checksum: bool,
}

impl Offloads {
    /// Everything off: every segment is at most one MTU and carries a real checksum.
    pub const NONE: Offloads = Offloads {
        tso: false,
        gso: false,
        gro: false,
        tx_checksum: false,
    };

    /// The arguments after `ethtool -K DEV`.
    pub fn ethtool_args(&self) -> Vec<&'static str> {
        let onoff = |b: bool| if b { "on" } else { "off" };
        vec![
            "tso",
            onoff(self.tso),
            "gso",
            onoff(self.gso),
            "gro",
            onoff(self.gro),
            "tx",
            onoff(self.tx_checksum),
        ]
    }
}

/// One end of a veth pair: a device in a namespace, with the addresses added to it.
#[derive(Clone, Debug)]
pub struct VethEnd {
    dev: String,
    addrs: Vec<IfAddr>,
}

impl VethEnd {
    /// The device name.
    pub fn dev(&self) -> &str {
        &self.dev
    }

    /// Addresses added through [`VethLink::add_addr`].
    pub fn addrs(&self) -> &[IfAddr] {
        &self.addrs
    }
}

/// Which end of a [`VethLink`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The end created in the first namespace given to [`VethLink::create`].
    A,
    /// The end moved to the second namespace.
    B,
}

/// A veth pair between two namespaces. Borrowing the namespaces guarantees
/// they outlive the link object.
#[derive(Debug)]
pub struct VethLink<'n> {
    ns_a: &'n Namespace,
    ns_b: &'n Namespace,
    a: VethEnd,
    b: VethEnd,
}

impl<'n> VethLink<'n> {
    /// `ip -n A link add DEV_A type veth peer name DEV_B netns B` (down, no
    /// addresses). Device names must be at most 15 bytes.
    pub fn create(
        ns_a: &'n Namespace,
        dev_a: &str,
        ns_b: &'n Namespace,
        dev_b: &str,
    ) -> Result<Self> {
        for dev in [dev_a, dev_b] {
            if dev.is_empty() || dev.len() > 15 {
                return Err(Error::Setup(format!(
                    "device name {dev:?} must be 1 to 15 bytes"
                )));
            }
        }
        ns_a.ip(&[
            "link",
            "add",
            dev_a,
            "type",
            "veth",
            "peer",
            "name",
            dev_b,
            "netns",
            ns_b.name(),
        ])?;
        let end = |dev: &str| VethEnd {
            dev: dev.to_owned(),
            addrs: Vec::new(),
        };
        Ok(VethLink {
            ns_a,
            ns_b,
            a: end(dev_a),
            b: end(dev_b),
        })
    }

    /// End A (in the first namespace).
    pub fn a(&self) -> &VethEnd {
        &self.a
    }

    /// End B (in the second namespace).
    pub fn b(&self) -> &VethEnd {
        &self.b
    }

    /// The namespace and device of `end`.
    pub fn side(&self, end: End) -> (&'n Namespace, &VethEnd) {
        match end {
            End::A => (self.ns_a, &self.a),
            End::B => (self.ns_b, &self.b),
        }
    }

    /// Adds `addr` to `end` (IPv6 with `nodad`).
    pub fn add_addr(&mut self, end: End, addr: IfAddr) -> Result<()> {
        let (ns, veth) = match end {
            End::A => (self.ns_a, &mut self.a),
            End::B => (self.ns_b, &mut self.b),
        };
        let text = addr.to_string();
        let mut args = vec!["addr", "add", &text, "dev", &veth.dev];
        if addr.is_ipv6() {
            args.push("nodad");
        }
        ns.ip(&args)?;
        veth.addrs.push(addr);
        Ok(())
    }

    /// `ethtool -K` on both ends.
    pub fn set_offloads(&self, offloads: Offloads) -> Result<()> {
        for end in [End::A, End::B] {
            let (ns, veth) = self.side(end);
            let mut args = vec!["-K", veth.dev.as_str()];
            args.extend(offloads.ethtool_args());
            ns.exec("ethtool", &args)?;
        }
        Ok(())
    }

    /// Puts `tbf` as root qdisc on `end`: it limits what that end sends.
    pub fn set_tbf(&self, end: End, tbf: &Tbf) -> Result<()> {
        let (ns, veth) = self.side(end);
        let tbf_args = tbf.tc_args();
        let mut args = vec!["qdisc", "replace", "dev", veth.dev.as_str(), "root"];
        args.extend(tbf_args.iter().map(String::as_str));
        ns.tc(&args)?;
        Ok(())
    }

    /// Brings both ends up, waits for carrier, and makes each end's addresses
    /// permanent neighbours of the other end.
    pub fn up(&self) -> Result<()> {
        for end in [End::A, End::B] {
            let (ns, veth) = self.side(end);
            ns.ip(&["link", "set", &veth.dev, "up"])?;
        }
        let until = Instant::now() + CARRIER_TIMEOUT;
        while !(self.has_carrier(End::A)? && self.has_carrier(End::B)?) {
            if Instant::now() >= until {
                return Err(Error::Setup(format!(
                    "veth {}/{} has no carrier after {CARRIER_TIMEOUT:?}",
                    self.a.dev, self.b.dev
                )));
            }
            thread::sleep(Duration::from_millis(10));
        }
        for (from, to) in [(End::A, End::B), (End::B, End::A)] {
            let (ns, veth) = self.side(from);
            let (_, peer) = self.side(to);
            let mac = self.mac(to)?;
            for addr in &peer.addrs {
                let ip = addr.addr.to_string();
                ns.ip(&[
                    "neigh",
                    "replace",
                    &ip,
                    "lladdr",
                    &mac,
                    "dev",
                    &veth.dev,
                    "nud",
                    "permanent",
                ])?;
            }
        }
        Ok(())
    }

    /// Whether `end` reports carrier (flag `LOWER_UP`).
    fn has_carrier(&self, end: End) -> Result<bool> {
        let (ns, veth) = self.side(end);
        let out = ns.ip(&["-o", "link", "show", "dev", &veth.dev])?;
        Ok(out.stdout.contains("LOWER_UP"))
    }

    /// The Ethernet address of `end`.
    pub fn mac(&self, end: End) -> Result<String> {
        let (ns, veth) = self.side(end);
        let out = ns.ip(&["-o", "link", "show", "dev", &veth.dev])?;
        parse_mac(&out.stdout)
            .ok_or_else(|| Error::Setup(format!("no link/ether address in: {}", out.stdout.trim())))
    }
}

/// The address after `link/ether` in `ip -o link show` output.
fn parse_mac(line: &str) -> Option<String> {
    let mut words = line.split_whitespace();
    words.find(|w| *w == "link/ether")?;
    words.next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offload_arguments() {
        assert_eq!(
            Offloads::NONE.ethtool_args(),
            ["tso", "off", "gso", "off", "gro", "off", "tx", "off"]
        );
    }

    #[test]
    fn mac_is_read_from_ip_link_output() {
        let line = "5: k1@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP \
                    mode DEFAULT group default qlen 1000\\    link/ether 0a:1b:2c:3d:4e:5f brd \
                    ff:ff:ff:ff:ff:ff link-netns x";
        assert_eq!(parse_mac(line).as_deref(), Some("0a:1b:2c:3d:4e:5f"));
        assert_eq!(parse_mac("1: lo: <LOOPBACK> link/loopback 00:00"), None);
    }
}
