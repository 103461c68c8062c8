//! Capture files: from the bytes of a pcap or pcapng file to numbered packets.
//!
//! # What is read
//!
//! - **pcap**, in both byte orders, with microsecond (`0xa1b2c3d4`) or nanosecond
//!   (`0xa1b23c4d`) timestamps.
//! - **pcapng**, any number of sections in either byte order, each with any number of
//!   interfaces that have their own link type, snap length, timestamp resolution
//!   (`if_tsresol`, decimal or binary; 10^-6 s when absent) and offset (`if_tsoffset`).
//!   Enhanced, Simple and (obsolete) Packet Blocks are packets; every other block is skipped.
//! - **Link layers** (see [`link`]): Ethernet with any 802.1Q / 802.1ad VLAN tags, raw IP,
//!   IPv4, IPv6, Linux cooked capture v1 and v2 (`tcpdump -i any`), BSD NULL / LOOP.
//!
//! # Frame numbers
//!
//! [`CapturedPacket::number`] is the frame number Wireshark and tshark show: every packet
//! record counts from 1, whatever it carries, including frames of a link type this module does
//! not know (they come out as [`Network::Undecodable`] rather than stopping the read).
//!
//! # Errors: what was read, then why it stopped
//!
//! A damaged file is what a debugging tool is for, so reading does not throw away the good
//! part. [`read_capture`] fails outright only when the bytes are not a capture at all (or the
//! file header is cut short); otherwise it returns a [`Capture`] with every packet up to the
//! first problem and that problem in [`Capture::error`], after which nothing more is read
//! (the file's structure can no longer be trusted). The [`CaptureReader`] iterator works the
//! same way: it yields one `Err` and then ends.
//!
//! Nothing here panics, whatever the bytes: every read is bounds-checked.
//!
//! # Memory
//!
//! The file is read into memory whole. Each packet then owns a copy of its captured frame
//! (one copy, of the frame only) and the IP packet inside is an offset into it
//! ([`Network::Ipv4`]`{ offset }`), so [`CapturedPacket::ip`] is a slice, not a further copy,
//! and the file's bytes can be dropped once read.
//!
//! ```
//! use mptcp_cli::decode::capture::{read_capture, Network};
//!
//! // A little-endian pcap file, raw IP, one packet holding the first byte of an IPv4 header.
//! let mut file = Vec::new();
//! for word in [0xa1b2_c3d4_u32, 0x0004_0002, 0, 0, 65535, 101] {
//!     file.extend_from_slice(&word.to_le_bytes());
//! }
//! file.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x45]);
//!
//! let capture = read_capture(&file).unwrap();
//! assert!(capture.error.is_none());
//! assert_eq!(capture.packets[0].number, 1);
//! assert_eq!(capture.packets[0].network, Network::Ipv4 { offset: 0 });
//! assert_eq!(capture.packets[0].ip(), Some(&[0x45][..]));
//! ```

use std::fmt;
use std::iter::FusedIterator;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod bytes;
pub mod link;
mod pcap;
mod pcapng;
#[cfg(test)]
mod tests;

pub use link::{LinkError, Network};

/// One packet record of a capture file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedPacket {
    /// The frame number as Wireshark counts it: 1 for the first packet record of the file,
    /// and every packet record counts, IP or not.
    pub number: usize,
    /// When the packet was captured, since the Unix epoch (with any pcapng `if_tsoffset`
    /// applied). Simple Packet Blocks carry no time and get the epoch itself.
    pub timestamp: Duration,
    /// The link-layer type (`LINKTYPE_*`, see [`link`]) of the interface it was captured on.
    pub link_type: u32,
    /// The pcapng interface index it was captured on within its section; 0 in a pcap file.
    pub interface: u32,
    /// The length of the packet on the wire, of which [`captured_len`](Self::captured_len)
    /// bytes were captured.
    pub original_len: usize,
    /// The captured bytes, from the start of the link-layer header.
    pub data: Vec<u8>,
    /// What the frame carries and where it starts within [`data`](Self::data).
    pub network: Network,
}

impl CapturedPacket {
    /// Locates the network layer of `data` and copies the frame in.
    fn new(
        number: usize,
        timestamp: Duration,
        link_type: u32,
        interface: u32,
        original_len: usize,
        data: &[u8],
    ) -> Self {
        CapturedPacket {
            number,
            timestamp,
            link_type,
            interface,
            original_len,
            network: link::locate_network(link_type, data),
            data: data.to_vec(),
        }
    }

    /// How many bytes of the packet were captured (the length of [`data`](Self::data)).
    pub fn captured_len(&self) -> usize {
        self.data.len()
    }

    /// The IP packet (from its IPv4 or IPv6 header to the end of the captured bytes), if the
    /// frame carries one. It may be cut short by the snap length, and may end in link-layer
    /// padding: the IP header's own length fields say where the packet really ends.
    pub fn ip(&self) -> Option<&[u8]> {
        self.data.get(self.network.ip_offset()?..)
    }
}

/// The container format of a capture file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaptureFormat {
    /// Classic libpcap.
    Pcap {
        /// Whether timestamps have nanosecond (rather than microsecond) resolution.
        nanosecond: bool,
    },
    /// pcapng.
    PcapNg,
}

impl fmt::Display for CaptureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CaptureFormat::Pcap { nanosecond: false } => "pcap",
            CaptureFormat::Pcap { nanosecond: true } => "pcap (nanosecond)",
            CaptureFormat::PcapNg => "pcapng",
        })
    }
}

/// Where in a capture file a problem was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// Byte offset of the record or block (or header) that has the problem.
    pub offset: usize,
    /// The frame number the record would have had, when it is a packet record.
    pub frame: Option<usize>,
}

impl Location {
    fn file_start() -> Self {
        Location {
            offset: 0,
            frame: None,
        }
    }
}

impl fmt::Display for Location {
    /// `frame 3 at byte offset 240`, or `byte offset 240`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(frame) = self.frame {
            write!(f, "frame {frame} at ")?;
        }
        write!(f, "byte offset {}", self.offset)
    }
}

/// Why a capture file could not be read (any further).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The file is empty.
    #[error("the file is empty, not a pcap or pcapng capture")]
    Empty,
    /// The file does not start with a pcap or pcapng magic number.
    #[error("not a pcap or pcapng capture: the file starts with {magic:#010x}")]
    NotACapture {
        /// The first four bytes, read big-endian (fewer bytes are padded with zeros).
        magic: u32,
    },
    /// The file ends inside a header, record or block: it was cut short, typically because
    /// the capture was still being written or a copy was interrupted.
    #[error("truncated {what} ({at}): it needs {needed} bytes, only {available} remain")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Where it starts.
        at: Location,
        /// How many bytes it needs from where it starts.
        needed: usize,
        /// How many bytes the file has from there.
        available: usize,
    },
    /// A header, record or block contradicts itself.
    #[error("malformed capture ({at}): {what}")]
    Malformed {
        /// What is wrong.
        what: &'static str,
        /// The record or block it is wrong in.
        at: Location,
    },
    /// A pcapng packet names an interface its section has not described.
    #[error("pcapng packet ({at}) names interface {interface}, but its section describes {known}")]
    UnknownInterface {
        /// The interface index in the packet.
        interface: u32,
        /// How many interfaces the section had described so far.
        known: usize,
        /// The packet's block.
        at: Location,
    },
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// A whole capture file, read: the packets, and the error that stopped reading early if any.
#[derive(Debug)]
pub struct Capture {
    /// The container format.
    pub format: CaptureFormat,
    /// Every packet that could be read, in file order, numbered from 1.
    pub packets: Vec<CapturedPacket>,
    /// The problem that stopped reading before the end of the file; `packets` holds everything
    /// before it. `None` when the whole file was read.
    pub error: Option<CaptureError>,
}

impl Capture {
    /// All the packets, or the error that stopped reading early (dropping the packets read
    /// before it), for callers that want all or nothing.
    pub fn into_result(self) -> Result<Vec<CapturedPacket>, CaptureError> {
        match self.error {
            None => Ok(self.packets),
            Some(error) => Err(error),
        }
    }
}

/// Reads a whole capture file held in memory.
///
/// Fails only if `bytes` are not a pcap or pcapng file (or end inside the file header); a
/// problem further on is returned in [`Capture::error`] with the packets before it. See the
/// [module documentation](self).
pub fn read_capture(bytes: &[u8]) -> Result<Capture, CaptureError> {
    let mut reader = CaptureReader::new(bytes)?;
    let mut packets = Vec::new();
    let mut error = None;
    for item in reader.by_ref() {
        match item {
            Ok(packet) => packets.push(packet),
            Err(stop) => error = Some(stop),
        }
    }
    Ok(Capture {
        format: reader.format(),
        packets,
        error,
    })
}

/// Reads a capture file from disk, as [`read_capture`] does from memory.
pub fn read_capture_file(path: impl AsRef<Path>) -> Result<Capture, CaptureError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| CaptureError::Io {
        path: path.to_owned(),
        source,
    })?;
    read_capture(&bytes)
}

/// Reads the packets of a capture file one by one, borrowing the file's bytes.
///
/// Yields `Ok` for each packet record in file order; after the first `Err` (or the end of the
/// file) it yields nothing more.
#[derive(Debug)]
pub struct CaptureReader<'a> {
    bytes: &'a [u8],
    /// Where the next record or block starts.
    offset: usize,
    /// How many packets have been yielded.
    packets: usize,
    state: State,
    done: bool,
}

#[derive(Debug)]
enum State {
    Pcap(pcap::PcapReader),
    PcapNg(pcapng::PcapNgReader),
}

impl<'a> CaptureReader<'a> {
    /// Recognises the format of `bytes` and checks its file header.
    pub fn new(bytes: &'a [u8]) -> Result<Self, CaptureError> {
        if bytes.is_empty() {
            return Err(CaptureError::Empty);
        }
        let (state, offset) = if let Some(reader) = pcap::PcapReader::new(bytes)? {
            let first = reader.first_record();
            (State::Pcap(reader), first)
        } else if let Some(reader) = pcapng::PcapNgReader::new(bytes)? {
            (State::PcapNg(reader), 0)
        } else {
            let mut magic = [0; 4];
            for (to, from) in magic.iter_mut().zip(bytes) {
                *to = *from;
            }
            return Err(CaptureError::NotACapture {
                magic: u32::from_be_bytes(magic),
            });
        };
        Ok(CaptureReader {
            bytes,
            offset,
            packets: 0,
            state,
            done: false,
        })
    }

    /// The container format.
    pub fn format(&self) -> CaptureFormat {
        match &self.state {
            State::Pcap(reader) => CaptureFormat::Pcap {
                nanosecond: reader.nanos(),
            },
            State::PcapNg(_) => CaptureFormat::PcapNg,
        }
    }

    /// The byte offset of the next record or block to read.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl Iterator for CaptureReader<'_> {
    type Item = Result<CapturedPacket, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let number = self.packets + 1;
        let item = match &mut self.state {
            State::Pcap(reader) => reader.next_packet(self.bytes, &mut self.offset, number),
            State::PcapNg(reader) => reader.next_packet(self.bytes, &mut self.offset, number),
        };
        match item {
            Some(Ok(_)) => self.packets = number,
            Some(Err(_)) | None => self.done = true,
        }
        item
    }
}

impl FusedIterator for CaptureReader<'_> {}
