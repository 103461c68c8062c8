//! The cryptography of MPTCP: keys → tokens and initial data sequence numbers, and the HMACs
//! that authenticate MP_JOIN and ADD_ADDR.
//!
//! MPTCP v1 (RFC 8684) uses SHA-256 and HMAC-SHA256; v0 (RFC 6824) uses SHA-1 and HMAC-SHA1.
//! Every key and nonce enters the hash in network byte order.

use core::net::IpAddr;

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The MPTCP protocol version, which decides the hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MptcpVersion {
    /// RFC 6824: SHA-1.
    V0,
    /// RFC 8684: SHA-256.
    V1,
}

impl MptcpVersion {
    /// The version from the number carried in MP_CAPABLE, if it is one we know.
    pub fn from_wire(version: u8) -> Option<Self> {
        match version {
            0 => Some(Self::V0),
            1 => Some(Self::V1),
            _ => None,
        }
    }
}

/// The token and the initial data sequence number derived from one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyMaterial {
    /// Connection token: the most significant 32 bits of the key's hash (RFC 8684 §3.2).
    pub token: u32,
    /// Initial data sequence number: the least significant 64 bits of the hash (RFC 8684 §3.1).
    pub idsn: u64,
}

/// Derives the token and IDSN of `key` (RFC 8684 §3.1–3.2; RFC 6824 §3.1–3.2 for v0).
///
/// ```
/// use mptcp_proto::crypto::{key_material, MptcpVersion};
/// let m = key_material(MptcpVersion::V1, 0x0102_0304_0506_0708);
/// assert_eq!(m.token, 0x6684_0dda);
/// ```
pub fn key_material(version: MptcpVersion, key: u64) -> KeyMaterial {
    let key = key.to_be_bytes();
    match version {
        MptcpVersion::V0 => split_digest(&Sha1::digest(key)),
        MptcpVersion::V1 => split_digest(&Sha256::digest(key)),
    }
}

/// Token from the first four bytes, IDSN from the last eight.
fn split_digest(digest: &[u8]) -> KeyMaterial {
    let mut token = [0u8; 4];
    token.copy_from_slice(&digest[..4]);
    let mut idsn = [0u8; 8];
    idsn.copy_from_slice(&digest[digest.len() - 8..]);
    KeyMaterial {
        token: u32::from_be_bytes(token),
        idsn: u64::from_be_bytes(idsn),
    }
}

/// HMAC with the 16-byte key `key1 ‖ key2` over `message`; returns the whole MAC
/// (20 bytes for v0, 32 for v1).
fn keyed_hmac(version: MptcpVersion, key1: u64, key2: u64, message: &[u8]) -> Vec<u8> {
    let mut hmac_key = [0u8; 16];
    hmac_key[..8].copy_from_slice(&key1.to_be_bytes());
    hmac_key[8..].copy_from_slice(&key2.to_be_bytes());
    match version {
        MptcpVersion::V0 => mac_bytes::<Hmac<Sha1>>(&hmac_key, message),
        MptcpVersion::V1 => mac_bytes::<Hmac<Sha256>>(&hmac_key, message),
    }
}

fn mac_bytes<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn join_message(first_nonce: u32, second_nonce: u32) -> [u8; 8] {
    let mut message = [0u8; 8];
    message[..4].copy_from_slice(&first_nonce.to_be_bytes());
    message[4..].copy_from_slice(&second_nonce.to_be_bytes());
    message
}

/// The truncated HMAC the MP_JOIN responder B sends in its SYN/ACK: the leftmost 64 bits of
/// HMAC(Key_B ‖ Key_A, R_B ‖ R_A) (RFC 8684 §3.2).
pub fn join_synack_hmac(
    version: MptcpVersion,
    responder_key: u64,
    initiator_key: u64,
    responder_nonce: u32,
    initiator_nonce: u32,
) -> u64 {
    let mac = keyed_hmac(
        version,
        responder_key,
        initiator_key,
        &join_message(responder_nonce, initiator_nonce),
    );
    let mut leftmost = [0u8; 8];
    leftmost.copy_from_slice(&mac[..8]);
    u64::from_be_bytes(leftmost)
}

/// The HMAC the MP_JOIN initiator A sends in the third ACK: the leftmost 160 bits of
/// HMAC(Key_A ‖ Key_B, R_A ‖ R_B) (RFC 8684 §3.2; the whole HMAC-SHA1 in v0).
pub fn join_ack_hmac(
    version: MptcpVersion,
    initiator_key: u64,
    responder_key: u64,
    initiator_nonce: u32,
    responder_nonce: u32,
) -> [u8; 20] {
    let mac = keyed_hmac(
        version,
        initiator_key,
        responder_key,
        &join_message(initiator_nonce, responder_nonce),
    );
    let mut leftmost = [0u8; 20];
    leftmost.copy_from_slice(&mac[..20]);
    leftmost
}

/// The truncated HMAC of an ADD_ADDR announcement (RFC 8684 §3.4.1): the rightmost 64 bits of
/// HMAC(Key_sender ‖ Key_receiver, address id ‖ address ‖ port), the port being 0 when the
/// option carries none. Only MPTCP v1 authenticates ADD_ADDR; RFC 6824 (v0) has no HMAC.
pub fn add_addr_hmac(
    sender_key: u64,
    receiver_key: u64,
    addr_id: u8,
    addr: IpAddr,
    port: Option<u16>,
) -> u64 {
    let mut message = Vec::with_capacity(1 + 16 + 2);
    message.push(addr_id);
    match addr {
        IpAddr::V4(v4) => message.extend_from_slice(&v4.octets()),
        IpAddr::V6(v6) => message.extend_from_slice(&v6.octets()),
    }
    message.extend_from_slice(&port.unwrap_or(0).to_be_bytes());
    let mac = keyed_hmac(MptcpVersion::V1, sender_key, receiver_key, &message);
    let mut rightmost = [0u8; 8];
    rightmost.copy_from_slice(&mac[mac.len() - 8..]);
    u64::from_be_bytes(rightmost)
}

#[cfg(test)]
mod tests {
    //! Known answers computed independently (OpenSSL through Python's hashlib/hmac) from the
    //! RFC 8684 / RFC 6824 definitions; the capture tests check the same functions against
    //! values the Linux kernel put on the wire.
    use super::*;

    const KEY_A: u64 = 0x1111_1111_1111_1111;
    const KEY_B: u64 = 0x2222_2222_2222_2222;
    const R_A: u32 = 0xaaaa_aaaa;
    const R_B: u32 = 0xbbbb_bbbb;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn token_and_idsn() {
        let v1 = key_material(MptcpVersion::V1, 0x0102_0304_0506_0708);
        assert_eq!(v1.token, 0x6684_0dda);
        assert_eq!(v1.idsn, 0xf5a1_01d3_d29d_6f72);
        let v0 = key_material(MptcpVersion::V0, 0x0102_0304_0506_0708);
        assert_eq!(v0.token, 0xdd57_83bc);
        assert_eq!(v0.idsn, 0x3a95_ed6e_4ebb_4ad5);
    }

    #[test]
    fn join_hmacs_v1() {
        let synack = join_synack_hmac(MptcpVersion::V1, KEY_B, KEY_A, R_B, R_A);
        assert_eq!(synack, 0x3952_324e_6d19_9a37);
        let ack = join_ack_hmac(MptcpVersion::V1, KEY_A, KEY_B, R_A, R_B);
        assert_eq!(hex(&ack), "317d2ee3f32d4187e2e83f44e58ae305d9e8d981");
    }

    #[test]
    fn join_hmacs_v0() {
        let synack = join_synack_hmac(MptcpVersion::V0, KEY_B, KEY_A, R_B, R_A);
        assert_eq!(synack, 0x020c_3b8a_7837_e41b);
        let ack = join_ack_hmac(MptcpVersion::V0, KEY_A, KEY_B, R_A, R_B);
        assert_eq!(hex(&ack), "5079a817a5a794f62d919a02a9d6db40c9707046");
    }

    #[test]
    fn add_addr_hmacs() {
        let v4 = add_addr_hmac(KEY_A, KEY_B, 3, "10.0.2.1".parse().unwrap(), None);
        assert_eq!(v4, 0xadd8_bfbc_2b88_1889);
        let v6 = add_addr_hmac(KEY_A, KEY_B, 7, "fd00::2".parse().unwrap(), Some(10100));
        assert_eq!(v6, 0x6428_7e8d_7b37_b84e);
    }

    #[test]
    fn version_numbers() {
        assert_eq!(MptcpVersion::from_wire(0), Some(MptcpVersion::V0));
        assert_eq!(MptcpVersion::from_wire(1), Some(MptcpVersion::V1));
        assert_eq!(MptcpVersion::from_wire(2), None);
    }
}
