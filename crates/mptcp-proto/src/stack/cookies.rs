//! SYN cookies (RFC 4987 §3.6): once a listener's queue of half-open connections is full,
//! a SYN is answered without keeping any state. The SYN/ACK's initial sequence number
//! encodes what the SYN asked for and a MAC of the 4-tuple, the client's ISN and the time;
//! the ACK that completes the handshake gives it back (ACK − 1), and the connection is built
//! then, as if its SYN had been queued.
//!
//! Layout of the cookie ISN (32 bits): a 2-bit time counter (64 s periods; the current and
//! the previous one are accepted), 9 bits of the SYN's terms (MSS index, window scale,
//! SACK, MPTCP, DSS checksum) and a 21-bit HMAC-SHA256 over the rest, keyed with a secret
//! drawn from the stack's generator. A blind attacker completes a connection with
//! probability 2⁻²¹ per forged ACK, and only while the listener has recently sent cookies.
//!
//! MPTCP goes through (RFC 8684 §3.1, as Linux does with syncookies): the SYN/ACK carries
//! a key derived from the same secret, the client's third ACK (or its first data) echoes
//! both keys in MP_CAPABLE, and a key that is not the derived one is not accepted. Options
//! of the SYN that no bit keeps (timestamps come back on the ACK itself) are not needed.

use core::net::SocketAddr;
use core::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use rand_core::RngCore;
use sha2::Sha256;

use crate::time::Instant;
use crate::wire::mptcp::{MpCapable, capable_flags};
use crate::wire::{MptcpOption, SeqNum, TcpFlags, TcpOption, TcpRepr};

/// Length of one period of the cookie's time counter.
const PERIOD: Duration = Duration::from_secs(64);

/// How long after its last cookie a listener still accepts cookie ACKs: the counter's
/// two valid periods.
pub(crate) const COOKIE_LIFETIME: Duration = Duration::from_secs(128);

/// The MSS values a cookie can keep (RFC 4987 §3.6: a small table; these are Linux's,
/// chosen for common paths: minimum, tunnels, Ethernet with options, Ethernet).
const MSS_TABLE: [u16; 4] = [536, 1300, 1440, 1460];

/// Window scale field value meaning "not offered".
const NO_WSCALE: u32 = 15;

const MAC_BITS: u32 = 21;
const TERMS_BITS: u32 = 9;

/// What a SYN asked for, as far as a cookie keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SynTerms {
    /// The peer's MSS, rounded down to [`MSS_TABLE`].
    pub(crate) mss: u16,
    /// The peer's window scale, if it offered one (and we use window scaling).
    pub(crate) wscale: Option<u8>,
    /// SACK permitted (and we use SACK).
    pub(crate) sack: bool,
    /// MP_CAPABLE accepted: the SYN offered a version we speak and MPTCP is on.
    pub(crate) mptcp: bool,
    /// DSS checksums in use (either side asked).
    pub(crate) checksum: bool,
}

impl SynTerms {
    /// The terms of `syn` for a listener with these settings; `mptcp` is the SYN's
    /// acceptable MP_CAPABLE flags, if any and if MPTCP is on.
    pub(crate) fn of(
        syn: &TcpRepr<'_>,
        tcp: &crate::tcp::TcpConfig,
        mptcp: Option<u8>,
        want_checksum: bool,
    ) -> Self {
        let peer_mss = syn.mss().unwrap_or(MSS_TABLE[0]);
        let mss = MSS_TABLE
            .iter()
            .rev()
            .find(|&&m| m <= peer_mss)
            .copied()
            .unwrap_or(MSS_TABLE[0]);
        Self {
            mss,
            wscale: syn
                .window_scale()
                .filter(|_| tcp.window_scaling)
                .map(|s| s.min(14)),
            sack: tcp.sack && syn.sack_permitted(),
            mptcp: mptcp.is_some(),
            checksum: mptcp.is_some_and(|flags| {
                want_checksum || flags & capable_flags::CHECKSUM_REQUIRED != 0
            }),
        }
    }

    fn bits(self) -> u32 {
        let mss = MSS_TABLE.iter().position(|&m| m == self.mss).unwrap_or(0) as u32;
        let wscale = self.wscale.map_or(NO_WSCALE, u32::from);
        mss | wscale << 2
            | u32::from(self.sack) << 6
            | u32::from(self.mptcp) << 7
            | u32::from(self.checksum) << 8
    }

    fn from_bits(bits: u32) -> Self {
        let wscale = (bits >> 2) & 0xf;
        Self {
            mss: MSS_TABLE[(bits & 3) as usize],
            wscale: (wscale != NO_WSCALE).then_some(wscale as u8),
            sack: bits & 1 << 6 != 0,
            mptcp: bits & 1 << 7 != 0,
            checksum: bits & 1 << 8 != 0,
        }
    }

    /// The flags of the MP_CAPABLE we answer with (and accept the connection with).
    pub(crate) fn capable_flags(self) -> Option<u8> {
        self.mptcp.then_some(
            capable_flags::HMAC_SHA
                | if self.checksum {
                    capable_flags::CHECKSUM_REQUIRED
                } else {
                    0
                },
        )
    }
}

/// The secret of a host's cookies.
pub(crate) struct CookieJar {
    secret: [u8; 32],
}

impl core::fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CookieJar { .. }")
    }
}

/// What the MAC covers besides the secret.
#[derive(Clone, Copy)]
struct Handshake {
    local: SocketAddr,
    remote: SocketAddr,
    peer_isn: SeqNum,
}

impl CookieJar {
    pub(crate) fn new(rng: &mut dyn RngCore) -> Self {
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        Self { secret }
    }

    /// HMAC-SHA256 of the handshake, a label and a value, keyed with the secret.
    fn mac(&self, label: u8, hs: Handshake, value: u32) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).expect("any key length");
        mac.update(&[label]);
        for addr in [hs.local, hs.remote] {
            match addr.ip() {
                core::net::IpAddr::V4(ip) => mac.update(&ip.octets()),
                core::net::IpAddr::V6(ip) => mac.update(&ip.octets()),
            }
            mac.update(&addr.port().to_be_bytes());
        }
        mac.update(&hs.peer_isn.0.to_be_bytes());
        mac.update(&value.to_be_bytes());
        mac.finalize().into_bytes().into()
    }

    fn counter(now: Instant) -> u32 {
        (now.as_nanos() / PERIOD.as_nanos() as u64) as u32
    }

    /// The MAC bits of a cookie with time counter `counter` (2 bits) and `terms`.
    fn cookie_mac(&self, hs: Handshake, counter: u32, terms: u32) -> u32 {
        let digest = self.mac(b'c', hs, counter << TERMS_BITS | terms);
        u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) >> (32 - MAC_BITS)
    }

    /// Our ISN for a SYN from `remote` with ISN `peer_isn` to `local`, keeping `terms`.
    pub(crate) fn isn(
        &self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        peer_isn: SeqNum,
        terms: SynTerms,
    ) -> SeqNum {
        let hs = Handshake {
            local,
            remote,
            peer_isn,
        };
        let counter = Self::counter(now) & 3;
        let terms = terms.bits();
        SeqNum(
            counter << (TERMS_BITS + MAC_BITS)
                | terms << MAC_BITS
                | self.cookie_mac(hs, counter, terms),
        )
    }

    /// The terms kept in `isn` if it is a cookie we made for this handshake in the current
    /// or the previous period.
    pub(crate) fn check(
        &self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        peer_isn: SeqNum,
        isn: SeqNum,
    ) -> Option<SynTerms> {
        let hs = Handshake {
            local,
            remote,
            peer_isn,
        };
        let counter = isn.0 >> (TERMS_BITS + MAC_BITS);
        let terms = (isn.0 >> MAC_BITS) & ((1 << TERMS_BITS) - 1);
        let now_counter = Self::counter(now);
        let fresh = counter == now_counter & 3 || counter == now_counter.wrapping_sub(1) & 3;
        let mac = isn.0 & ((1 << MAC_BITS) - 1);
        (fresh && mac == self.cookie_mac(hs, counter, terms)).then(|| SynTerms::from_bits(terms))
    }

    /// The timestamp offset of the connection (the same when its ACK comes back).
    pub(crate) fn ts_offset(&self, local: SocketAddr, remote: SocketAddr, peer_isn: SeqNum) -> u32 {
        let digest = self.mac(
            b't',
            Handshake {
                local,
                remote,
                peer_isn,
            },
            0,
        );
        u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
    }

    /// The MPTCP key of the connection whose cookie is `isn`.
    pub(crate) fn mptcp_key(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
        peer_isn: SeqNum,
        isn: SeqNum,
    ) -> u64 {
        let digest = self.mac(
            b'k',
            Handshake {
                local,
                remote,
                peer_isn,
            },
            isn.0,
        );
        let mut key = [0u8; 8];
        key.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(key)
    }
}

/// A SYN/ACK sent with a cookie, waiting for `poll_transmit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CookieSynAck {
    pub(crate) iface: crate::stack::InterfaceId,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) isn: SeqNum,
    pub(crate) peer_isn: SeqNum,
    pub(crate) terms: SynTerms,
    /// Our MSS on this path.
    pub(crate) our_mss: u16,
    /// Our window scale, when the peer offered one.
    pub(crate) our_wscale: u8,
    /// The receive window we advertise (unscaled, as on every SYN).
    pub(crate) window: u16,
    /// Our timestamp and the peer's to echo, when the SYN had timestamps.
    pub(crate) timestamps: Option<(u32, u32)>,
    /// Our MPTCP key, when the SYN offered MPTCP.
    pub(crate) key: Option<u64>,
}

impl CookieSynAck {
    /// The segment, with options in the order our stateful SYN/ACK has them.
    pub(crate) fn repr(&self) -> TcpRepr<'static> {
        let mut options = vec![TcpOption::MaxSegmentSize(self.our_mss)];
        if self.terms.sack {
            options.push(TcpOption::SackPermitted);
        }
        if let Some((value, echo_reply)) = self.timestamps {
            options.push(TcpOption::Timestamp { value, echo_reply });
        }
        if self.terms.wscale.is_some() {
            options.push(TcpOption::NoOperation);
            options.push(TcpOption::WindowScale(self.our_wscale));
        }
        if let (Some(key), Some(flags)) = (self.key, self.terms.capable_flags()) {
            options.push(TcpOption::Mptcp(MptcpOption::MpCapable(MpCapable {
                version: 1,
                flags,
                sender_key: Some(key),
                receiver_key: None,
                data_len: None,
                checksum: None,
            })));
        }
        TcpRepr {
            src_port: self.local.port(),
            dst_port: self.remote.port(),
            seq_number: self.isn,
            ack_number: self.peer_isn + 1,
            flags: TcpFlags::SYN | TcpFlags::ACK,
            window_len: self.window,
            urgent_at: 0,
            options,
            payload: &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn jar() -> CookieJar {
        CookieJar { secret: [7; 32] }
    }

    const TERMS: SynTerms = SynTerms {
        mss: 1440,
        wscale: Some(7),
        sack: true,
        mptcp: true,
        checksum: false,
    };

    #[test]
    fn a_cookie_gives_back_its_terms_for_two_periods_only() {
        let (l, r, isn) = (addr("10.0.0.1:80"), addr("10.0.0.2:4000"), SeqNum(12345));
        let at = Instant::ZERO + Duration::from_secs(1000);
        let cookie = jar().isn(at, l, r, isn, TERMS);
        assert_eq!(jar().check(at, l, r, isn, cookie), Some(TERMS));
        let later = at + PERIOD;
        assert_eq!(jar().check(later, l, r, isn, cookie), Some(TERMS));
        assert_eq!(jar().check(later + PERIOD, l, r, isn, cookie), None);
    }

    #[test]
    fn a_cookie_is_bound_to_its_handshake_and_secret() {
        let (l, r, isn) = (addr("10.0.0.1:80"), addr("10.0.0.2:4000"), SeqNum(12345));
        let at = Instant::ZERO;
        let cookie = jar().isn(at, l, r, isn, TERMS);
        assert_eq!(jar().check(at, l, addr("10.0.0.2:4001"), isn, cookie), None);
        assert_eq!(jar().check(at, l, r, SeqNum(12346), cookie), None);
        assert_eq!(jar().check(at, l, r, isn, cookie + 1), None);
        let other = CookieJar { secret: [8; 32] };
        assert_eq!(other.check(at, l, r, isn, cookie), None);
    }

    #[test]
    fn every_term_survives_the_round_trip() {
        for bits in 0..1 << TERMS_BITS {
            let terms = SynTerms::from_bits(bits);
            if terms.wscale.is_some_and(|w| w > 14) {
                continue;
            }
            assert_eq!(SynTerms::from_bits(terms.bits()), terms);
        }
        let syn_mss = |mss| SynTerms { mss, ..TERMS };
        assert_eq!(SynTerms::from_bits(syn_mss(1460).bits()).mss, 1460);
        assert_eq!(SynTerms::from_bits(syn_mss(536).bits()).mss, 536);
    }
}
