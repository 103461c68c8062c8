//! A middlebox between our stack and its TUN device: [`TamperedDevice`] lets a test edit
//! packets in either direction, as a device on the path would — to damage what only
//! MPTCP can notice, such as payload under DSS checksums ([`PayloadFlip`]).
//!
//! Edits work on the IP packets the stack sees. One that changes what the TCP checksum
//! sums (like [`PayloadFlip`]) needs the TUN device opened without offload
//! (`create_tun_with(.., false)`): every checksum is then complete, so it can be fixed
//! incrementally. One that only moves 16-bit words around works with offload too.

use std::io;
use std::sync::Mutex;

use mptcp_tun::Device;

/// Edits one packet in place; returns whether it changed it.
pub type Edit = Box<dyn Fn(&mut [u8]) -> bool + Send + Sync>;

/// A [`Device`] whose packets pass through `inbound` (device → stack) and `outbound`
/// (stack → device) edits.
pub struct TamperedDevice<D> {
    inner: D,
    inbound: Option<Edit>,
    outbound: Option<Edit>,
}

impl<D> std::fmt::Debug for TamperedDevice<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TamperedDevice").finish_non_exhaustive()
    }
}

impl<D: Device> TamperedDevice<D> {
    /// `inner` with edits of the packets our stack receives (`inbound`) and sends
    /// (`outbound`).
    pub fn new(inner: D, inbound: Option<Edit>, outbound: Option<Edit>) -> Self {
        TamperedDevice {
            inner,
            inbound,
            outbound,
        }
    }

    fn edit_inbound(&self, packet: &mut [u8]) {
        if let Some(edit) = &self.inbound {
            edit(packet);
        }
    }
}

impl<D: Device> Device for TamperedDevice<D> {
    async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.recv(buf).await?;
        self.edit_inbound(&mut buf[..n]);
        Ok(n)
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.try_recv(buf)?;
        self.edit_inbound(&mut buf[..n]);
        Ok(n)
    }

    fn try_send(&self, packet: &[u8]) -> io::Result<()> {
        match &self.outbound {
            Some(edit) => {
                let mut copy = packet.to_vec();
                edit(&mut copy);
                self.inner.try_send(&copy)
            }
            None => self.inner.try_send(packet),
        }
    }

    async fn recv_batch(&self, bufs: &mut [Vec<u8>], lens: &mut [usize]) -> io::Result<usize> {
        let count = self.inner.recv_batch(bufs, lens).await?;
        for (buf, &len) in bufs.iter_mut().zip(lens.iter()).take(count) {
            self.edit_inbound(&mut buf[..len]);
        }
        Ok(count)
    }

    fn headroom(&self) -> usize {
        self.inner.headroom()
    }

    fn send_capacity(&self, mtu: usize) -> usize {
        self.inner.send_capacity(mtu)
    }

    fn send_batch(&self, packets: &mut [Vec<u8>], offset: usize) {
        if let Some(edit) = &self.outbound {
            for packet in packets.iter_mut() {
                if let Some(ip) = packet.get_mut(offset..) {
                    edit(ip);
                }
            }
        }
        self.inner.send_batch(packets, offset);
    }
}

/// An edit that flips one bit of the first payload byte of the `nth` TCP segment with
/// payload it sees (1-based), and fixes the TCP checksum as a rewriting middlebox does:
/// TCP accepts the segment, only a DSS checksum can tell. It remembers the sequence
/// number of the byte it flipped.
#[derive(Debug)]
pub struct PayloadFlip {
    state: Mutex<(u64, Option<u32>)>,
    nth: u64,
}

impl PayloadFlip {
    /// Flips a byte of the `nth` segment with payload.
    pub fn new(nth: u64) -> Self {
        PayloadFlip {
            state: Mutex::new((0, None)),
            nth,
        }
    }

    /// The TCP sequence number of the byte it flipped, once it has.
    pub fn flipped(&self) -> Option<u32> {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1
    }

    /// Looks at one packet; flips a byte if it is the one.
    pub fn apply(&self, packet: &mut [u8]) -> bool {
        let Some((tcp, payload)) = tcp_payload(packet) else {
            return false;
        };
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 += 1;
        if state.0 != self.nth {
            return false;
        }
        let seq = u32::from_be_bytes([
            packet[tcp + 4],
            packet[tcp + 5],
            packet[tcp + 6],
            packet[tcp + 7],
        ]);
        state.1 = Some(seq);
        // The flipped byte's 16-bit word of the checksum sum, before and after (RFC 1624).
        let word_at = tcp + (payload - tcp) / 2 * 2;
        let old_word = u16::from_be_bytes([packet[word_at], packet[word_at + 1]]);
        packet[payload] ^= 0x01;
        let new_word = u16::from_be_bytes([packet[word_at], packet[word_at + 1]]);
        let check = u16::from_be_bytes([packet[tcp + 16], packet[tcp + 17]]);
        let fixed = !ones_add(ones_add(!check, !old_word), new_word);
        packet[tcp + 16..tcp + 18].copy_from_slice(&fixed.to_be_bytes());
        true
    }
}

fn ones_add(a: u16, b: u16) -> u16 {
    let sum = u32::from(a) + u32::from(b);
    ((sum & 0xffff) + (sum >> 16)) as u16
}

/// Where the TCP header and its payload start in an IPv4 or IPv6 (no extension headers)
/// packet, for segments with payload.
fn tcp_payload(packet: &[u8]) -> Option<(usize, usize)> {
    let (tcp, end) = match packet.first()? >> 4 {
        4 if *packet.get(9)? == 6 => {
            let total = usize::from(u16::from_be_bytes([*packet.get(2)?, *packet.get(3)?]));
            (usize::from(packet[0] & 0x0f) * 4, total)
        }
        6 if *packet.get(6)? == 6 => {
            let len = usize::from(u16::from_be_bytes([*packet.get(4)?, *packet.get(5)?]));
            (40, 40 + len)
        }
        _ => return None,
    };
    let payload = tcp + usize::from(packet.get(tcp + 12)? >> 4) * 4;
    (payload < end && end <= packet.len()).then_some((tcp, payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mptcp_proto::wire::{TcpPacket, parse_ip_packet};

    /// An IPv4 TCP segment (sequence number 1000) with a valid checksum.
    fn segment(payload: &[u8]) -> Vec<u8> {
        let mut packet = vec![0u8; 40];
        packet[0] = 0x45;
        let total = (40 + payload.len()) as u16;
        packet[2..4].copy_from_slice(&total.to_be_bytes());
        packet[8] = 64;
        packet[9] = 6;
        packet[12..16].copy_from_slice(&[10, 0, 0, 1]);
        packet[16..20].copy_from_slice(&[10, 0, 0, 2]);
        packet[24..28].copy_from_slice(&1000u32.to_be_bytes());
        packet[32] = 5 << 4;
        packet[33] = 0x10;
        packet.extend_from_slice(payload);
        let mut tcp = TcpPacket::new_unchecked(&mut packet[20..]);
        tcp.fill_checksum([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        packet
    }

    #[test]
    fn the_nth_segment_is_flipped_and_its_tcp_checksum_still_holds() {
        let flip = PayloadFlip::new(2);
        let mut first = segment(b"hello");
        assert!(!flip.apply(&mut first));
        let mut second = segment(b"world!");
        assert!(flip.apply(&mut second));
        assert_eq!(flip.flipped(), Some(1000));
        let ip = parse_ip_packet(&second).unwrap();
        let tcp = TcpPacket::new_checked(ip.payload).unwrap();
        assert_eq!(tcp.payload(), b"vorld!");
        assert!(tcp.verify_checksum(ip.ip.src_addr(), ip.ip.dst_addr()));
        let mut third = segment(b"again");
        assert!(!flip.apply(&mut third));
    }
}
