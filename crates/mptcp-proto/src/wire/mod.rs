//! The bytes on the wire: IP and TCP headers, TCP options, the MPTCP option, checksums.
//!
//! Every header comes in two forms (after smoltcp):
//! - a **checked view** (`Ipv4Packet`, `Ipv6Packet`, `TcpPacket`) wrapping any `AsRef<[u8]>`
//!   buffer, whose `new_checked` constructor validates lengths once so that field accessors
//!   never panic afterwards;
//! - a **representation** (`Ipv4Repr`, `Ipv6Repr`, `TcpRepr`, `TcpOption`, `MptcpOption`)
//!   with `parse` (never panics, whatever the bytes), `buffer_len` and `emit` (byte-exact:
//!   parsing a packet and emitting its representation gives back the same bytes).
//!
//! # Decoding a captured packet
//!
//! ```
//! use mptcp_proto::wire::{parse_ip_packet, IpProtocol, TcpPacket, TcpRepr};
//! # use mptcp_proto::wire::{IpRepr, Ipv4Repr, TcpFlags, TcpOption, SeqNum};
//! # use mptcp_proto::wire::mptcp::{MpCapable, MptcpOption};
//! # let tcp = TcpRepr {
//! #     src_port: 40000, dst_port: 80, seq_number: SeqNum(1), ack_number: SeqNum(0),
//! #     flags: TcpFlags::SYN, window_len: 64240, urgent_at: 0, payload: &[],
//! #     options: vec![TcpOption::Mptcp(MptcpOption::MpCapable(MpCapable {
//! #         version: 1, flags: 0x01, sender_key: None, receiver_key: None,
//! #         data_len: None, checksum: None }))],
//! # };
//! # let ip = IpRepr::Ipv4(Ipv4Repr { src: [10, 0, 0, 1].into(), dst: [10, 0, 0, 2].into(),
//! #     protocol: IpProtocol::TCP, payload_len: tcp.buffer_len(), ttl: 64, dscp_ecn: 0,
//! #     ident: 0, dont_frag: true, more_frags: false, frag_offset: 0, options: &[] });
//! # let mut bytes = vec![0; ip.buffer_len()];
//! # ip.emit(&mut bytes);
//! # tcp.emit(&mut TcpPacket::new_unchecked(&mut bytes[20..]), ip.src_addr(), ip.dst_addr());
//! let ip = parse_ip_packet(&bytes)?;
//! assert_eq!(ip.protocol, IpProtocol::TCP);
//! let packet = TcpPacket::new_checked(ip.payload)?;
//! assert!(packet.verify_checksum(ip.ip.src_addr(), ip.ip.dst_addr()));
//! let segment = TcpRepr::parse(&packet)?;
//! for option in segment.mptcp_options() {
//!     println!("{}: {option:?}", option.name());
//! }
//! # Ok::<(), mptcp_proto::wire::WireError>(())
//! ```

mod checksum;
mod error;
mod field;
mod ip;
pub mod mptcp;
mod packet;
mod protocol;
mod seq;
mod tcp;
mod tcp_option;
#[cfg(test)]
mod tests;

pub use checksum::{
    Checksum, dss_checksum, dss_pseudo_header, internet_checksum, pseudo_header_checksum,
    pseudo_header_checksum_v4, pseudo_header_checksum_v6,
};
pub use error::WireError;
pub use ip::{
    IPV4_MAX_OPTIONS_LEN, IPV4_MIN_HEADER_LEN, IPV6_HEADER_LEN, IpFragment, IpPayload, IpProtocol,
    IpRepr, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, Ipv6UpperLayer, ipv6_upper_layer,
    parse_ip_packet,
};
pub use mptcp::MptcpOption;
pub use packet::{tcp_packet, write_tcp_packet};
pub use seq::{DataSeq, SeqNum};
pub use tcp::{TCP_HEADER_LEN, TcpFlags, TcpPacket, TcpRepr};
pub use tcp_option::{
    MAX_OPTIONS_LEN, MAX_SACK_BLOCKS, SackBlock, TcpOption, TcpOptions, emit_tcp_options,
    option_kind, tcp_options_len,
};
