//! Whole IP packets that carry a TCP segment: what the stack sends, and what tests, fuzz
//! targets and simulated hosts build.

use core::net::{IpAddr, SocketAddr};

use super::{IpProtocol, IpRepr, Ipv4Repr, Ipv6Repr, TcpPacket, TcpRepr};

/// The IP header for a TCP segment of `tcp_len` bytes, or `None` when `src` and `dst` are
/// of different IP versions.
fn ip_header(src: IpAddr, dst: IpAddr, tcp_len: usize) -> Option<IpRepr<'static>> {
    Some(match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => IpRepr::Ipv4(Ipv4Repr {
            src,
            dst,
            protocol: IpProtocol::TCP,
            payload_len: tcp_len,
            ttl: 64,
            dscp_ecn: 0,
            ident: 0,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            options: &[],
        }),
        (IpAddr::V6(src), IpAddr::V6(dst)) => IpRepr::Ipv6(Ipv6Repr {
            src,
            dst,
            next_header: IpProtocol::TCP,
            payload_len: tcp_len,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        }),
        _ => return None,
    })
}

/// Writes an IP packet carrying `segment` from `src` to `dst` into `buf` (ports come from
/// `segment`, addresses from `src` and `dst`), with both checksums, and returns its length;
/// `None` if the addresses are of different versions or `buf` is too short.
pub fn write_tcp_packet(
    src: IpAddr,
    dst: IpAddr,
    segment: &TcpRepr,
    buf: &mut [u8],
) -> Option<usize> {
    let ip = ip_header(src, dst, segment.buffer_len())?;
    let len = ip.buffer_len();
    let packet = buf.get_mut(..len)?;
    ip.emit(packet);
    let mut tcp = TcpPacket::new_unchecked(&mut packet[ip.header_len()..]);
    segment.emit(&mut tcp, src, dst);
    Some(len)
}

/// An IP packet carrying `segment` between `src` and `dst`, whose ports replace the
/// segment's.
///
/// # Panics
///
/// If `src` and `dst` are of different IP versions.
pub fn tcp_packet(src: SocketAddr, dst: SocketAddr, segment: &TcpRepr) -> Vec<u8> {
    let mut segment = segment.clone();
    segment.src_port = src.port();
    segment.dst_port = dst.port();
    let mut buf = vec![0; 60 + segment.buffer_len()];
    let len = write_tcp_packet(src.ip(), dst.ip(), &segment, &mut buf)
        .expect("source and destination of the same IP version");
    buf.truncate(len);
    buf
}
