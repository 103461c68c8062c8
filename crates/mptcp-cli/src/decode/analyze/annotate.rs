//! Second pass of the analysis: with every subflow and connection known, explain each MPTCP
//! option of each segment — derived tokens and IDSNs, relative data sequence numbers, and
//! whether HMACs and checksums verify.

use mptcp_proto::crypto::{KeyMaterial, add_addr_hmac, join_ack_hmac, join_synack_hmac};
use mptcp_proto::wire::mptcp::{AddAddr, Dss, DssMapping, DssNumber, MpCapable, MpJoin};
use mptcp_proto::wire::{DataSeq, MptcpOption, dss_checksum};

use super::connections::{Connection, Membership, Side};
use super::subflows::{Dir, SubflowTrace};

/// The outcome of checking a value against the one derived from the keys or the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The value on the wire is the expected one.
    Valid,
    /// The value on the wire differs; `expected` is what it should be (hex).
    Invalid {
        /// The expected value, in hex.
        expected: String,
    },
    /// The capture lacks what the check needs.
    Unverifiable(&'static str),
}

impl Check {
    fn compare<T: PartialEq + std::fmt::LowerHex>(actual: T, expected: T) -> Check {
        if actual == expected {
            Check::Valid
        } else {
            Check::Invalid {
                expected: format!("{expected:#x}"),
            }
        }
    }

    /// `Some(true)` when valid, `Some(false)` when invalid, `None` when it could not be
    /// checked.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Check::Valid => Some(true),
            Check::Invalid { .. } => Some(false),
            Check::Unverifiable(_) => None,
        }
    }
}

/// What the analysis derived for one MPTCP option.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionNotes {
    /// Token and IDSN of the sender's key carried by MP_CAPABLE.
    pub sender_key: Option<KeyMaterial>,
    /// Token and IDSN of the receiver's key carried by MP_CAPABLE.
    pub receiver_key: Option<KeyMaterial>,
    /// For an MP_JOIN SYN: the connection whose key hashes to the token, if any.
    pub token_connection: Option<usize>,
    /// MP_JOIN or ADD_ADDR HMAC check.
    pub hmac: Option<Check>,
    /// DSS (or MP_CAPABLE-with-data) checksum check.
    pub checksum: Option<Check>,
    /// For MP_FASTCLOSE: whether the key is the receiver's key.
    pub key: Option<Check>,
    /// DSN relative to the IDSN of the data's sender: the option's sender for a DSS mapping,
    /// its receiver for MP_FAIL.
    pub relative_dsn: Option<u64>,
    /// DATA_ACK relative to the IDSN of the data's sender (the segment's receiver).
    pub relative_data_ack: Option<u64>,
}

/// Everything a segment is in its connection.
pub struct Context<'t, 'a> {
    /// The segment's subflow.
    pub subflow: &'t SubflowTrace<'a>,
    /// The segment's direction on it.
    pub dir: Dir,
    /// The subflow's connection, if it belongs to one.
    pub connection: Option<(&'t Connection, Membership)>,
}

impl Context<'_, '_> {
    fn sender(&self) -> Option<(&Connection, Side)> {
        self.connection
            .map(|(connection, membership)| (connection, membership.sender(self.dir)))
    }

    fn sender_material(&self) -> Option<KeyMaterial> {
        let (connection, sender) = self.sender()?;
        connection.key_material(sender)
    }

    fn receiver_material(&self) -> Option<KeyMaterial> {
        let (connection, sender) = self.sender()?;
        connection.key_material(sender.peer())
    }

    /// Annotates one MPTCP option of a segment sent in this context.
    pub fn annotate(&self, option: &MptcpOption<'_>) -> OptionNotes {
        match option {
            MptcpOption::MpCapable(capable) => self.capable(capable),
            MptcpOption::MpJoin(join) => self.join(join),
            MptcpOption::Dss(dss) => self.dss(dss),
            MptcpOption::AddAddr(add) => self.add_addr(add),
            // RFC 8684 §3.7: MP_FAIL is sent by the receiver of the data whose checksum
            // failed; its DSN is in the data sequence space of the option's receiver.
            MptcpOption::MpFail { dsn } => OptionNotes {
                relative_dsn: self.receiver_material().map(|m| dsn.wrapping_sub(m.idsn)),
                ..OptionNotes::default()
            },
            MptcpOption::MpFastclose { receiver_key } => OptionNotes {
                key: Some(self.fastclose_key(*receiver_key)),
                ..OptionNotes::default()
            },
            _ => OptionNotes::default(),
        }
    }

    fn capable(&self, capable: &MpCapable) -> OptionNotes {
        let derive = |key| Some(mptcp_proto::crypto::key_material(version(capable)?, key));
        let mut notes = OptionNotes {
            sender_key: capable.sender_key.and_then(derive),
            receiver_key: capable.receiver_key.and_then(derive),
            ..OptionNotes::default()
        };
        // RFC 8684 §3.1: data on the MP_CAPABLE ACK is mapped implicitly to DSN = IDSN + 1
        // at subflow sequence 1; its checksum is the DSS checksum of that mapping.
        if capable.data_len.is_some() {
            notes.relative_dsn = Some(1);
        }
        if let (Some(data_len), Some(checksum)) = (capable.data_len, capable.checksum) {
            notes.checksum = Some(match notes.sender_key {
                Some(material) => self.mapping_checksum(
                    material.idsn.wrapping_add(1),
                    1,
                    data_len,
                    false,
                    checksum,
                ),
                None => Check::Unverifiable("sender key unknown"),
            });
        }
        notes
    }

    fn join(&self, join: &MpJoin) -> OptionNotes {
        let mut notes = OptionNotes::default();
        match join {
            MpJoin::Syn { .. } => {
                notes.token_connection = self.connection.map(|(_, m)| m.connection);
            }
            MpJoin::SynAck { truncated_hmac, .. } => {
                notes.hmac = Some(self.join_hmac(|version, initiator, responder, r_a, r_b| {
                    Check::compare(
                        *truncated_hmac,
                        join_synack_hmac(version, responder, initiator, r_b, r_a),
                    )
                }));
            }
            MpJoin::Ack { hmac } => {
                notes.hmac = Some(self.join_hmac(|version, initiator, responder, r_a, r_b| {
                    let expected = join_ack_hmac(version, initiator, responder, r_a, r_b);
                    if *hmac == expected {
                        Check::Valid
                    } else {
                        Check::Invalid {
                            expected: hex(&expected),
                        }
                    }
                }));
            }
        }
        notes
    }

    /// Runs `check(version, key_A, key_B, R_A, R_B)` when the capture holds all of them.
    fn join_hmac(
        &self,
        check: impl FnOnce(mptcp_proto::crypto::MptcpVersion, u64, u64, u32, u32) -> Check,
    ) -> Check {
        let Some((connection, membership)) = self.connection else {
            return Check::Unverifiable("token of no connection in the capture");
        };
        let Some(version) = connection.crypto_version() else {
            return Check::Unverifiable("unknown MPTCP version");
        };
        let keys = (
            connection.key(membership.initiator),
            connection.key(membership.initiator.peer()),
        );
        let (Some(key_a), Some(key_b)) = keys else {
            return Check::Unverifiable("keys not in the capture");
        };
        let join = self.subflow.join.as_ref();
        let nonces = join.map(|j| (j.initiator_nonce, j.responder_nonce));
        let Some((Some(r_a), Some(r_b))) = nonces else {
            return Check::Unverifiable("MP_JOIN SYN or SYN/ACK not in the capture");
        };
        check(version, key_a, key_b, r_a, r_b)
    }

    fn add_addr(&self, add: &AddAddr) -> OptionNotes {
        let hmac = add.truncated_hmac.map(|wire| {
            let Some((connection, sender)) = self.sender() else {
                return Check::Unverifiable("subflow of no known connection");
            };
            match (connection.key(sender), connection.key(sender.peer())) {
                (Some(own), Some(peer)) => Check::compare(
                    wire,
                    add_addr_hmac(own, peer, add.addr_id, add.addr, add.port),
                ),
                _ => Check::Unverifiable("keys not in the capture"),
            }
        });
        OptionNotes {
            hmac,
            ..OptionNotes::default()
        }
    }

    fn dss(&self, dss: &Dss) -> OptionNotes {
        let sender = self.sender_material();
        let receiver = self.receiver_material();
        let relative = |number: DssNumber, material: Option<KeyMaterial>| {
            material.map(|m| number.expand(DataSeq(m.idsn)).0.wrapping_sub(m.idsn))
        };
        let mut notes = OptionNotes {
            relative_data_ack: dss.data_ack.and_then(|ack| relative(ack, receiver)),
            ..OptionNotes::default()
        };
        if let Some(mapping) = &dss.mapping {
            notes.relative_dsn = relative(mapping.dsn, sender);
            notes.checksum = mapping
                .checksum
                .map(|checksum| self.dss_mapping_checksum(mapping, sender, dss.data_fin, checksum));
        }
        notes
    }

    fn dss_mapping_checksum(
        &self,
        mapping: &DssMapping,
        sender: Option<KeyMaterial>,
        data_fin: bool,
        checksum: u16,
    ) -> Check {
        let dsn = match (mapping.dsn, sender) {
            (DssNumber::U64(dsn), _) => dsn,
            (number, Some(material)) => number.expand(DataSeq(material.idsn)).0,
            (DssNumber::U32(_), None) => return Check::Unverifiable("32-bit DSN, keys unknown"),
        };
        self.mapping_checksum(
            dsn,
            mapping.subflow_seq,
            mapping.data_len,
            data_fin,
            checksum,
        )
    }

    /// Checks the DSS checksum of a mapping over the reassembled subflow bytes it covers
    /// (RFC 8684 §3.3.1); the DATA_FIN counts in `data_len` but has no byte. Bytes a snap
    /// length cut off are missing, not zero: a mapping over them is not checkable.
    fn mapping_checksum(
        &self,
        dsn: u64,
        subflow_seq: u32,
        data_len: u16,
        data_fin: bool,
        checksum: u16,
    ) -> Check {
        // An infinite mapping (data-level length 0, RFC 8684 §3.7) covers no bounded range;
        // Linux (and Apple's stack) send its checksum as 0.
        if data_len == 0 {
            return Check::compare(checksum, 0);
        }
        let payload_len = usize::from(data_len) - usize::from(data_fin);
        let bytes = if payload_len == 0 {
            Some(Vec::new())
        } else {
            self.subflow.bytes(self.dir, subflow_seq, payload_len)
        };
        match bytes {
            Some(bytes) => {
                Check::compare(checksum, dss_checksum(dsn, subflow_seq, data_len, &bytes))
            }
            None if self.subflow.cut_off(self.dir, subflow_seq, payload_len) => {
                Check::Unverifiable("mapped bytes truncated in the capture")
            }
            None => Check::Unverifiable("mapped bytes not all in the capture"),
        }
    }

    fn fastclose_key(&self, key: u64) -> Check {
        let Some((connection, sender)) = self.sender() else {
            return Check::Unverifiable("subflow of no known connection");
        };
        match connection.key(sender.peer()) {
            Some(expected) => Check::compare(key, expected),
            None => Check::Unverifiable("receiver's key not in the capture"),
        }
    }
}

fn version(capable: &MpCapable) -> Option<mptcp_proto::crypto::MptcpVersion> {
    mptcp_proto::crypto::MptcpVersion::from_wire(capable.version)
}

/// Lower-case hex of a byte string.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
