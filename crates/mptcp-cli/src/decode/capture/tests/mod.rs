//! Tests of the capture reader, on files synthesized by the small builders below.

mod formats;
mod links;
mod robustness;

use super::bytes::Endian;
use super::link;

fn put16(out: &mut Vec<u8>, endian: Endian, value: u16) {
    out.extend_from_slice(&match endian {
        Endian::Little => value.to_le_bytes(),
        Endian::Big => value.to_be_bytes(),
    });
}

fn put32(out: &mut Vec<u8>, endian: Endian, value: u32) {
    out.extend_from_slice(&match endian {
        Endian::Little => value.to_le_bytes(),
        Endian::Big => value.to_be_bytes(),
    });
}

fn put64(out: &mut Vec<u8>, endian: Endian, value: u64) {
    out.extend_from_slice(&match endian {
        Endian::Little => value.to_le_bytes(),
        Endian::Big => value.to_be_bytes(),
    });
}

/// Builds a classic pcap file.
struct PcapFile {
    endian: Endian,
    out: Vec<u8>,
}

impl PcapFile {
    fn new(endian: Endian, nanos: bool, link_type: u32) -> Self {
        let mut out = Vec::new();
        put32(
            &mut out,
            endian,
            if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 },
        );
        put16(&mut out, endian, 2);
        put16(&mut out, endian, 4);
        put32(&mut out, endian, 0); // thiszone
        put32(&mut out, endian, 0); // sigfigs
        put32(&mut out, endian, 262_144); // snaplen
        put32(&mut out, endian, link_type);
        PcapFile { endian, out }
    }

    /// A record whose original length is its captured length.
    fn record(self, seconds: u32, fraction: u32, data: &[u8]) -> Self {
        let original = u32::try_from(data.len()).unwrap();
        self.record_cut(seconds, fraction, data, original)
    }

    fn record_cut(mut self, seconds: u32, fraction: u32, data: &[u8], original: u32) -> Self {
        let endian = self.endian;
        put32(&mut self.out, endian, seconds);
        put32(&mut self.out, endian, fraction);
        put32(&mut self.out, endian, u32::try_from(data.len()).unwrap());
        put32(&mut self.out, endian, original);
        self.out.extend_from_slice(data);
        self
    }

    fn build(self) -> Vec<u8> {
        self.out
    }
}

/// Builds a pcapng file, one block at a time.
struct PcapNgFile {
    endian: Endian,
    out: Vec<u8>,
}

/// An `if_tsresol` option.
fn tsresol(value: u8) -> (u16, Vec<u8>) {
    (9, vec![value])
}

/// An `if_tsoffset` option.
fn tsoffset(endian: Endian, seconds: i64) -> (u16, Vec<u8>) {
    let mut value = Vec::new();
    put64(
        &mut value,
        endian,
        u64::from_ne_bytes(seconds.to_ne_bytes()),
    );
    (14, value)
}

impl PcapNgFile {
    /// A file starting with a section header in `endian`.
    fn new(endian: Endian) -> Self {
        let mut file = PcapNgFile {
            endian,
            out: Vec::new(),
        };
        file.section(endian);
        file
    }

    /// A block with its body padded to 32 bits.
    fn block(&mut self, kind: u32, body: &[u8]) -> &mut Self {
        let padded = body.len().next_multiple_of(4);
        let total = u32::try_from(padded + 12).unwrap();
        let endian = self.endian;
        put32(&mut self.out, endian, kind);
        put32(&mut self.out, endian, total);
        self.out.extend_from_slice(body);
        self.out.resize(self.out.len() + padded - body.len(), 0);
        put32(&mut self.out, endian, total);
        self
    }

    /// A new section, in `endian` from now on.
    fn section(&mut self, endian: Endian) -> &mut Self {
        self.endian = endian;
        let mut body = Vec::new();
        put32(&mut body, endian, 0x1a2b_3c4d);
        put16(&mut body, endian, 1);
        put16(&mut body, endian, 0);
        put64(&mut body, endian, u64::MAX); // section length not given
        self.block(0x0a0d_0d0a, &body)
    }

    fn interface(
        &mut self,
        link_type: u16,
        snap_len: u32,
        options: &[(u16, Vec<u8>)],
    ) -> &mut Self {
        let endian = self.endian;
        let mut body = Vec::new();
        put16(&mut body, endian, link_type);
        put16(&mut body, endian, 0);
        put32(&mut body, endian, snap_len);
        if !options.is_empty() {
            for (code, value) in options {
                put16(&mut body, endian, *code);
                put16(&mut body, endian, u16::try_from(value.len()).unwrap());
                body.extend_from_slice(value);
                body.resize(body.len().next_multiple_of(4), 0);
            }
            put32(&mut body, endian, 0); // opt_endofopt
        }
        self.block(1, &body)
    }

    fn enhanced(&mut self, interface: u32, ticks: u64, data: &[u8]) -> &mut Self {
        let endian = self.endian;
        let mut body = Vec::new();
        put32(&mut body, endian, interface);
        put32(&mut body, endian, (ticks >> 32) as u32);
        put32(&mut body, endian, ticks as u32);
        put32(&mut body, endian, u32::try_from(data.len()).unwrap());
        put32(&mut body, endian, u32::try_from(data.len()).unwrap() + 100);
        body.extend_from_slice(data);
        self.block(6, &body)
    }

    fn obsolete_packet(&mut self, interface: u16, ticks: u64, data: &[u8]) -> &mut Self {
        let endian = self.endian;
        let mut body = Vec::new();
        put16(&mut body, endian, interface);
        put16(&mut body, endian, 0); // drops
        put32(&mut body, endian, (ticks >> 32) as u32);
        put32(&mut body, endian, ticks as u32);
        put32(&mut body, endian, u32::try_from(data.len()).unwrap());
        put32(&mut body, endian, u32::try_from(data.len()).unwrap());
        body.extend_from_slice(data);
        self.block(2, &body)
    }

    fn simple(&mut self, original_len: u32, data: &[u8]) -> &mut Self {
        let endian = self.endian;
        let mut body = Vec::new();
        put32(&mut body, endian, original_len);
        body.extend_from_slice(data);
        self.block(3, &body)
    }

    fn build(&self) -> Vec<u8> {
        self.out.clone()
    }
}

/// A minimal IPv4 header (TCP, no options), tagged with `mark` in its identification field.
fn ipv4(mark: u8) -> Vec<u8> {
    let mut packet = vec![0; 20];
    packet[0] = 0x45;
    packet[3] = 20;
    packet[5] = mark;
    packet[9] = 6;
    packet
}

/// A minimal IPv6 header (TCP next header), tagged with `mark` in its flow label.
fn ipv6(mark: u8) -> Vec<u8> {
    let mut packet = vec![0; 40];
    packet[0] = 0x60;
    packet[3] = mark;
    packet[6] = 6;
    packet
}

/// An Ethernet II frame; each VLAN tag is a (TPID, VLAN id) pair put before the ethertype.
fn ethernet(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    for (tpid, vlan) in tags {
        frame.extend_from_slice(&tpid.to_be_bytes());
        frame.extend_from_slice(&vlan.to_be_bytes());
    }
    frame.extend_from_slice(&ethertype.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// A Linux cooked v1 frame: packet type, ARPHRD_ETHER, address length, address, protocol.
fn sll(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0, 4, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 1, 0, 0];
    frame.extend_from_slice(&protocol.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// A Linux cooked v2 frame: protocol, reserved, interface index, ARPHRD_ETHER, packet type,
/// address length, address.
fn sll2(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = protocol.to_be_bytes().to_vec();
    frame.extend_from_slice(&[0, 0, 0, 0, 0, 3, 0, 1, 4, 6]);
    frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0, 0]);
    frame.extend_from_slice(payload);
    frame
}

/// A NULL / LOOP frame with the address family in `endian`.
fn loopback(endian: Endian, family: u32, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    put32(&mut frame, endian, family);
    frame.extend_from_slice(payload);
    frame
}

/// A file of every link type and interesting frame, to mutate in the robustness tests.
fn rich_pcapng(endian: Endian) -> Vec<u8> {
    let mut file = PcapNgFile::new(endian);
    file.interface(link::ETHERNET as u16, 0, &[])
        .interface(link::LINUX_SLL2 as u16, 0, &[tsresol(9)])
        .interface(
            link::NULL as u16,
            64,
            &[tsresol(0x80 | 10), tsoffset(endian, -5)],
        )
        .enhanced(
            0,
            1_700_000_000_000_001,
            &ethernet(&[(0x8100, 7)], 0x0800, &ipv4(1)),
        )
        .enhanced(1, 1_700_000_000_000_000_002, &sll2(0x86dd, &ipv6(2)))
        .block(4, &[0; 8]) // name resolution
        .simple(60, &ethernet(&[], 0x0806, &[0; 28]))
        .enhanced(2, 1 << 40, &loopback(Endian::Big, 30, &ipv6(3)))
        .obsolete_packet(0, 5, &ethernet(&[], 0x86dd, &ipv6(4)))
        .block(5, &[0; 16]); // interface statistics
    file.build()
}
