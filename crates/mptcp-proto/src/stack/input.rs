//! Packets in: checked, demultiplexed to a connection, a listener or a join (or answered
//! with a reset), then what each connection has to say after it.

use super::*;

impl Stack {
    /// Takes one IP packet received on `iface`. Packets that are malformed, fail a checksum,
    /// are not TCP or not for this host are dropped and counted ([`Stack::stats`]); nothing
    /// panics on any input.
    pub fn handle_packet(&mut self, now: Instant, iface: InterfaceId, packet: &[u8]) {
        self.now = self.now.max(now);
        self.stats.packets_in += 1;
        let Ok(ip) = parse_ip_packet(packet) else {
            self.stats.malformed += 1;
            return;
        };
        if ip.protocol != IpProtocol::TCP || ip.fragment.is_some() {
            self.stats.not_for_us += 1;
            return;
        }
        if matches!(ip.ip, IpRepr::Ipv4(_))
            && !Ipv4Packet::new_checked(packet).is_ok_and(|p| p.verify_checksum())
        {
            self.stats.bad_checksum += 1;
            return;
        }
        let (src, dst) = (ip.ip.src_addr(), ip.ip.dst_addr());
        if self.iface_of(dst).is_none() {
            self.stats.not_for_us += 1;
            return;
        }
        let Ok(packet) = TcpPacket::new_checked(ip.payload) else {
            self.stats.malformed += 1;
            return;
        };
        if !packet.verify_checksum(src, dst) {
            self.stats.bad_checksum += 1;
            return;
        }
        let Ok(seg) = TcpRepr::parse(&packet) else {
            self.stats.malformed += 1;
            return;
        };
        if seg.src_port == 0 || seg.dst_port == 0 || src.is_unspecified() || src.is_multicast() {
            self.stats.malformed += 1;
            return;
        }
        let local = SocketAddr::new(dst, seg.dst_port);
        let remote = SocketAddr::new(src, seg.src_port);
        if let Some(id) = self.demux.conn(local, remote) {
            if let Some(entry) = self.conns.get_mut(&id) {
                if let Some(index) = entry.conn.subflow_index(local, remote) {
                    entry.conn.handle_segment(now, index, &seg);
                }
            }
            self.after(id);
            return;
        }
        let iface = self.iface_of(dst).unwrap_or(iface);
        if seg.flags == TcpFlags::SYN {
            if let Some(join) = JoinSyn::of(&seg) {
                // RFC 8684 §3.2: a join names its connection by token, whatever the port.
                self.on_join_syn(now, iface, local, remote, &seg, join);
                return;
            }
        }
        if let Some(lid) = self.demux.listener(local) {
            self.on_listen(now, iface, lid, local, remote, &seg);
            return;
        }
        self.queue_reset(iface, local, remote, &seg);
    }

    pub(super) fn queue_reset(
        &mut self,
        iface: InterfaceId,
        local: SocketAddr,
        remote: SocketAddr,
        seg: &TcpRepr<'_>,
    ) {
        self.queue_reset_with(iface, local, remote, seg, None);
    }

    /// Queues the RST answering `seg` (at most 1024 wait; more are dropped), with an
    /// MP_TCPRST of `mptcp_reason` if given.
    pub(super) fn queue_reset_with(
        &mut self,
        iface: InterfaceId,
        local: SocketAddr,
        remote: SocketAddr,
        seg: &TcpRepr<'_>,
        mptcp_reason: Option<u8>,
    ) {
        if let Some((seq, ack, flags)) = reset_for(seg) {
            if self.resets.len() < 1024 {
                self.resets.push_back(PendingReset {
                    iface,
                    local,
                    remote,
                    seq,
                    ack,
                    flags,
                    mptcp_reason,
                });
            }
        }
    }

    /// Moves a connection's events to the stack's queue and drops it once finished.
    pub(super) fn after(&mut self, id: u64) {
        let Some(entry) = self.conns.get_mut(&id) else {
            return;
        };
        let demux = &mut self.demux;
        entry
            .conn
            .reap_subflows(|local, remote| demux.remove_conn(local, remote));
        let handle = ConnectionHandle(id);
        while let Some(event) = entry.conn.poll_event() {
            match (entry.listener, event) {
                (Some(lid), ConnEvent::Connected) => {
                    if let Some(l) = self.listeners.get_mut(&lid) {
                        l.established(id);
                        self.events.push_back(Event::Incoming(ListenerHandle(lid)));
                    }
                }
                (Some(lid), ConnEvent::Closed(_)) => {
                    if let Some(l) = self.listeners.get_mut(&lid) {
                        l.closed(id);
                    }
                    entry.listener = None;
                    entry.released = true;
                }
                // Not accepted (a listener's, or orphaned when its listener closed or it
                // failed before `accept`): nobody holds the handle.
                (Some(_), _) => {}
                (None, _) if !entry.owned => {}
                (None, event) => self.events.push_back(match event {
                    ConnEvent::Connected => Event::Connected(handle),
                    ConnEvent::Readable => Event::Readable(handle),
                    ConnEvent::Writable => Event::Writable(handle),
                    ConnEvent::PeerClosed => Event::PeerClosed(handle),
                    ConnEvent::SendComplete => Event::SendComplete(handle),
                    ConnEvent::Closed(reason) => Event::Closed(handle, reason),
                    other => Event::Mptcp(handle, other),
                }),
            }
        }
        self.open_requested_subflows(id);
        self.reap(id);
    }

    pub(super) fn reap(&mut self, id: u64) {
        let Some(entry) = self.conns.get(&id) else {
            return;
        };
        // The handle stays valid (recv reports the end or the error) until the
        // application releases it with `close` or `abort`.
        let done = entry.conn.is_finished() && entry.listener.is_none() && entry.released;
        if done {
            self.forget(id);
        }
    }

    /// Drops connection `id` and every trace of it (its 4-tuples, its token).
    pub(super) fn forget(&mut self, id: u64) {
        let Some(entry) = self.conns.remove(&id) else {
            return;
        };
        for (local, remote) in entry.conn.tuples() {
            self.demux.remove_conn(local, remote);
        }
        self.tokens.remove(&entry.conn.local_token());
    }
}

/// The flags of a SYN's MP_CAPABLE if it is one we accept: version 1, HMAC-SHA256, no
/// extensibility bit (as Linux: a SYN with B set or of version 0 gets plain TCP).
pub(super) fn syn_capable(seg: &TcpRepr<'_>) -> Option<u8> {
    seg.mptcp_options().find_map(|o| match o {
        MptcpOption::MpCapable(c)
            if c.version == 1
                && c.flags & capable_flags::EXTENSIBILITY == 0
                && c.flags & capable_flags::HMAC_SHA != 0 =>
        {
            Some(c.flags)
        }
        _ => None,
    })
}
