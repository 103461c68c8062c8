//! Packets out and timers: the connections' segments in turn, the resets the stack owes,
//! each wrapped in its IP header; the next deadline.

use super::*;

impl Stack {
    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        // In id order, without collecting the due ids: `after` may drop the connection, so
        // each step looks up the next due one after the last id handled.
        let mut after = None;
        while let Some(id) = self.next_due(after, now) {
            after = Some(id);
            if let Some(entry) = self.conns.get_mut(&id) {
                entry.conn.handle_timeout(now);
            }
            self.after(id);
        }
    }

    /// The first connection after id `after` (from the start if `None`) whose timer is due
    /// at `now`.
    fn next_due(&self, after: Option<u64>, now: Instant) -> Option<u64> {
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.conns
            .range((from, Bound::Unbounded))
            .find(|(_, e)| e.conn.poll_timeout().is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
    }

    /// The next instant at which [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.conns
            .values()
            .filter_map(|e| e.conn.poll_timeout())
            .min()
    }

    /// Writes the next IP packet to send into `buf` (which should hold the interface MTU)
    /// and says on which interface it goes; `None` when nothing is ready. Connections take
    /// turns.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        self.now = self.now.max(now);
        if let Some(rst) = self.resets.pop_front() {
            let len = self.emit_reset(&rst, buf)?;
            self.stats.resets_sent += 1;
            self.stats.packets_out += 1;
            return Some(Transmit {
                iface: rst.iface,
                len,
            });
        }
        if let Some(reply) = self.cookie_replies.pop_front() {
            let len = write_tcp_packet(reply.local.ip(), reply.remote.ip(), &reply.repr(), buf)?;
            self.stats.packets_out += 1;
            return Some(Transmit {
                iface: reply.iface,
                len,
            });
        }
        // Round robin from the connection after the last one that sent, wrapping around
        // once; nothing below adds or drops connections until a segment is written.
        let mut at = self.cursor;
        for _ in 0..self.conns.len() {
            let Some(id) = self.conn_after(at) else {
                break;
            };
            at = id;
            let Some(entry) = self.conns.get_mut(&id) else {
                continue;
            };
            // Room for the larger header when any subflow is IPv6 (a connection can mix
            // families, RFC 8684 §3.4.1); an IPv4 segment written there moves up after.
            let header = if entry.conn.has_ipv6_subflow() {
                IPV6_HEADER_LEN
            } else {
                IPV4_MIN_HEADER_LEN
            };
            let Some(out) = buf
                .get_mut(header..)
                .and_then(|b| entry.conn.poll_transmit(now, b))
            else {
                continue;
            };
            if out.local.is_ipv4() && header != IPV4_MIN_HEADER_LEN {
                buf.copy_within(header..header + out.len, IPV4_MIN_HEADER_LEN);
            }
            let iface = out.iface;
            self.ip_ident = self.ip_ident.wrapping_add(1);
            let len = write_ip_header(buf, out.local.ip(), out.remote.ip(), out.len, self.ip_ident);
            self.cursor = id;
            self.stats.packets_out += 1;
            self.after(id);
            return Some(Transmit { iface, len });
        }
        None
    }

    /// The id of the connection after id `at`, wrapping around to the first.
    fn conn_after(&self, at: u64) -> Option<u64> {
        let from = Bound::Excluded(at);
        self.conns
            .range((from, Bound::Unbounded))
            .next()
            .or_else(|| self.conns.iter().next())
            .map(|(id, _)| *id)
    }

    fn emit_reset(&self, rst: &PendingReset, buf: &mut [u8]) -> Option<usize> {
        let repr = TcpRepr {
            src_port: rst.local.port(),
            dst_port: rst.remote.port(),
            seq_number: rst.seq,
            ack_number: rst.ack,
            flags: rst.flags,
            window_len: 0,
            urgent_at: 0,
            options: rst
                .mptcp_reason
                .map(|reason| {
                    TcpOption::Mptcp(MptcpOption::MpTcpRst {
                        transient: false,
                        reason,
                    })
                })
                .into_iter()
                .collect(),
            payload: &[],
        };
        write_tcp_packet(rst.local.ip(), rst.remote.ip(), &repr, buf)
    }
}

/// Writes the IP header in front of a TCP segment of `segment` bytes; returns the packet
/// length.
fn write_ip_header(buf: &mut [u8], src: IpAddr, dst: IpAddr, segment: usize, ident: u16) -> usize {
    let ip = match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => IpRepr::Ipv4(Ipv4Repr {
            src,
            dst,
            protocol: IpProtocol::TCP,
            payload_len: segment,
            ttl: 64,
            dscp_ecn: 0,
            ident,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            options: &[],
        }),
        (src, dst) => IpRepr::Ipv6(Ipv6Repr {
            src: to_v6(src),
            dst: to_v6(dst),
            next_header: IpProtocol::TCP,
            payload_len: segment,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        }),
    };
    ip.emit(buf);
    ip.buffer_len()
}

fn to_v6(ip: IpAddr) -> core::net::Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}
