//! The "ours"/"kernel" topology: MPTCP sysctls inside the namespaces, per-path
//! routes, and the TUN hook — packets the kernel sends to our stack's addresses
//! arrive on the TUN device of their path, unanswered by the kernel of "ours".
//! Needs root. The TUN devices here are opened by the test itself (a stand-in
//! for the future runtime), with plain ioctls.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use mptcp_interop::{KernelPeer, Topology, TopologyBuilder, require_root};

const PEER: &str = env!("CARGO_BIN_EXE_kernel-peer");

/// `TUNSETIFF` = `_IOW('T', 202, int)`.
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;

/// Opens (creating) TUN device `name` in the calling thread's namespace, with
/// IP packets and no packet-information header.
fn open_tun(name: &str) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")?;
    // struct ifreq: char ifr_name[16]; short ifr_flags; (padding to 40 bytes).
    let mut ifreq = [0u8; 40];
    ifreq[..name.len()].copy_from_slice(name.as_bytes());
    let flags = (libc::IFF_TUN | libc::IFF_NO_PI) as i16;
    ifreq[16..18].copy_from_slice(&flags.to_ne_bytes());
    // SAFETY: `ifreq` is a 40-byte buffer laid out as struct ifreq, valid for
    // the duration of the call; the descriptor is open.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF, ifreq.as_mut_ptr()) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(file)
}

/// A TCP SYN seen on a TUN device.
#[derive(Debug)]
struct Syn {
    src: IpAddr,
    dst: IpAddr,
    mptcp_capable: bool,
}

/// Parses an IPv4 or IPv6 packet; `Some` for a TCP SYN without ACK.
fn parse_syn(pkt: &[u8]) -> Option<Syn> {
    let (src, dst, tcp) = match pkt.first()? >> 4 {
        4 if pkt.len() >= 20 && pkt[9] == 6 => {
            let ihl = usize::from(pkt[0] & 0x0f) * 4;
            let src: [u8; 4] = pkt[12..16].try_into().ok()?;
            let dst: [u8; 4] = pkt[16..20].try_into().ok()?;
            (IpAddr::from(src), IpAddr::from(dst), pkt.get(ihl..)?)
        }
        6 if pkt.len() >= 40 && pkt[6] == 6 => {
            let src: [u8; 16] = pkt[8..24].try_into().ok()?;
            let dst: [u8; 16] = pkt[24..40].try_into().ok()?;
            (IpAddr::from(src), IpAddr::from(dst), &pkt[40..])
        }
        _ => return None,
    };
    let flags = *tcp.get(13)?;
    if flags & 0x12 != 0x02 {
        return None;
    }
    let header_len = usize::from(tcp.get(12)? >> 4) * 4;
    let mut options = tcp.get(20..header_len)?;
    let mut mptcp_capable = false;
    while let Some(&kind) = options.first() {
        match kind {
            0 => break,
            1 => options = &options[1..],
            _ => {
                let len = usize::from(*options.get(1)?).max(2);
                // MPTCP option (kind 30), subtype MP_CAPABLE (0).
                if kind == 30 && options.get(2).map(|b| b >> 4) == Some(0) {
                    mptcp_capable = true;
                }
                options = options.get(len..)?;
            }
        }
    }
    Some(Syn {
        src,
        dst,
        mptcp_capable,
    })
}

/// Reads packets from `tun` until a SYN to `dst` shows up (or 5 s pass).
fn wait_for_syn(tun: &mut File, dst: IpAddr) -> Syn {
    let until = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 2048];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no SYN to {dst} arrived on the TUN device");
        let mut pfd = libc::pollfd {
            fd: tun.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let rc = unsafe { libc::poll(&mut pfd, 1, left.as_millis() as libc::c_int) };
        assert!(rc >= 0, "poll: {}", std::io::Error::last_os_error());
        if rc == 0 {
            continue;
        }
        let n = tun.read(&mut buf).unwrap();
        if let Some(syn) = parse_syn(&buf[..n]) {
            if syn.dst == dst {
                return syn;
            }
        }
    }
}

/// Opens path `index`'s TUN device inside "ours" and attaches it.
fn tun_for(topo: &Topology, index: u8) -> File {
    let name = topo.path(index).unwrap().tun.dev.clone();
    let tun = topo
        .ours()
        .run_in(move || open_tun(&name))
        .unwrap()
        .unwrap();
    topo.attach_tun(index).unwrap();
    tun
}

#[test]
fn kernel_syns_to_our_addresses_reach_the_tun_device_of_their_path() {
    require_root();
    let topo = TopologyBuilder::new("topo")
        .paths(2)
        .mptcp_limits(2, 2)
        .build()
        .unwrap();
    for ns in [topo.ours(), topo.kernel()] {
        assert_eq!(ns.read_sysctl("net.mptcp.enabled").unwrap(), "1");
    }
    let limits = topo
        .kernel()
        .ip(&["mptcp", "limits", "show"])
        .unwrap()
        .stdout;
    assert!(limits.contains("subflows 2"), "{limits}");

    let mut tuns: Vec<File> = (1..=2).map(|i| tun_for(&topo, i)).collect();
    let peer = KernelPeer::new(PEER)
        .deadline(Duration::from_secs(8))
        .io_timeout(Duration::from_secs(6));
    for (tun, path) in tuns.iter_mut().zip(topo.paths()) {
        for (stack, kernel) in [
            (path.tun.stack_v4.addr, path.kernel_v4.addr),
            (path.tun.stack_v6.addr, path.kernel_v6.addr),
        ] {
            // Nothing answers (our stack is not running), so the client just
            // retries until its guard kills it.
            let _client = peer
                .client(topo.kernel(), SocketAddr::new(stack, 5020))
                .unwrap();
            let syn = wait_for_syn(tun, stack);
            assert_eq!(syn.src, kernel, "path {}: {syn:?}", path.index);
            assert!(syn.mptcp_capable, "path {}: {syn:?}", path.index);
        }
    }

    // What our stack sends from its path-2 address leaves on path 2, even to
    // the kernel's path-1 address (policy routing in "ours").
    let route = topo
        .ours()
        .ip(&[
            "route", "get", "10.0.1.1", "from", "10.1.2.2", "iif", "tun2",
        ])
        .unwrap()
        .stdout;
    assert!(route.contains("via 10.0.2.1 dev o2"), "{route}");
    // "ours" owns none of our stack's addresses.
    let addrs = topo.ours().ip(&["addr", "show"]).unwrap().stdout;
    assert!(
        !addrs.contains("10.1.") && !addrs.contains("fd00:1:"),
        "{addrs}"
    );
}

#[test]
fn a_topology_is_removed_with_its_guard() {
    require_root();
    let names;
    {
        let topo = TopologyBuilder::new("gone").paths(3).build().unwrap();
        names = [
            topo.ours().name().to_owned(),
            topo.kernel().name().to_owned(),
        ];
        assert_eq!(topo.paths().len(), 3);
    }
    let left = mptcp_interop::netns::list().unwrap();
    for name in &names {
        assert!(!left.contains(name), "{name} still exists");
    }
    assert!(TopologyBuilder::new("bad").paths(0).build().is_err());
}
