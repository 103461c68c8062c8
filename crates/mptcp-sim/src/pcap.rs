//! A pcap writer: the classic libpcap format with nanosecond timestamps
//! (magic `0xa1b23c4d`) and link type `LINKTYPE_RAW` (101, raw IPv4 or IPv6 without a link
//! layer), which Wireshark, tshark and `mptcp decode` read.
//!
//! Output depends only on the packets and their virtual times, so the same seed gives the
//! same bytes.

use std::io::{self, Write};

use mptcp_proto::time::Instant;

/// `LINKTYPE_RAW`: each packet starts with an IPv4 or IPv6 header.
pub const LINKTYPE_RAW: u32 = 101;

/// The nanosecond-resolution pcap magic number.
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;

/// Largest packet recorded whole.
const SNAPLEN: u32 = 65_535;

/// Writes packets into a pcap stream.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header to `out` and returns the writer.
    pub fn new(mut out: W) -> io::Result<Self> {
        let mut header = [0u8; 24];
        header[0..4].copy_from_slice(&MAGIC_NANOS.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes());
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay zero.
        header[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        header[20..24].copy_from_slice(&LINKTYPE_RAW.to_le_bytes());
        out.write_all(&header)?;
        Ok(Self { out })
    }

    /// Records `packet` at virtual time `now` (truncated to 65,535 bytes).
    pub fn write_packet(&mut self, now: Instant, packet: &[u8]) -> io::Result<()> {
        let nanos = now.as_nanos();
        let seconds = u32::try_from(nanos / 1_000_000_000).unwrap_or(u32::MAX);
        let fraction = u32::try_from(nanos % 1_000_000_000).unwrap_or(0);
        let orig_len = u32::try_from(packet.len()).unwrap_or(u32::MAX);
        let captured = &packet[..packet.len().min(SNAPLEN as usize)];
        let mut record = [0u8; 16];
        record[0..4].copy_from_slice(&seconds.to_le_bytes());
        record[4..8].copy_from_slice(&fraction.to_le_bytes());
        record[8..12].copy_from_slice(&(captured.len() as u32).to_le_bytes());
        record[12..16].copy_from_slice(&orig_len.to_le_bytes());
        self.out.write_all(&record)?;
        self.out.write_all(captured)
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_header_and_records() {
        let mut writer = PcapWriter::new(Vec::new()).unwrap();
        writer
            .write_packet(Instant::from_nanos(3_000_000_007), &[0x45, 1, 2])
            .unwrap();
        let bytes = writer.out;
        assert_eq!(bytes.len(), 24 + 16 + 3);
        assert_eq!(bytes[0..4], [0x4d, 0x3c, 0xb2, 0xa1]);
        assert_eq!(bytes[20..24], [101, 0, 0, 0]);
        assert_eq!(bytes[24..28], [3, 0, 0, 0]);
        assert_eq!(bytes[28..32], [7, 0, 0, 0]);
        assert_eq!(bytes[32..36], [3, 0, 0, 0]);
        assert_eq!(bytes[40..], [0x45, 1, 2]);
    }
}
