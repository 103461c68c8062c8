//! Additional subflows: the MP_JOIN handshake (RFC 8684 §3.2) in both roles.
//!
//! The initiator's SYN names the connection by the receiver's token and carries a random
//! number R_A; the SYN/ACK proves the responder knows both keys with a truncated
//! HMAC(Key_B ‖ Key_A, R_B ‖ R_A); the third ACK proves the initiator does with
//! HMAC(Key_A ‖ Key_B, R_A ‖ R_B) and is repeated until acknowledged. A wrong HMAC resets
//! the subflow.

use super::subflow::{Join, Subflow, SubflowId};
use super::{ConnEvent, Mode, MptcpConnection};
use crate::crypto::{MptcpVersion, join_ack_hmac, join_synack_hmac};
use crate::ids::InterfaceId;
use crate::tcp::{TcpConnection, TcpState};
use crate::wire::mptcp::{MpJoin, reset_reason};
use crate::wire::{MptcpOption, TcpFlags, TcpRepr};

/// The MP_JOIN of a SYN, as the stack hands it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JoinSyn {
    pub(crate) backup: bool,
    pub(crate) addr_id: u8,
    pub(crate) token: u32,
    pub(crate) nonce: u32,
}

impl JoinSyn {
    /// The MP_JOIN of a SYN segment, if it has one.
    pub(crate) fn of(seg: &TcpRepr<'_>) -> Option<JoinSyn> {
        seg.mptcp_options().find_map(|o| match *o {
            MptcpOption::MpJoin(MpJoin::Syn {
                backup,
                addr_id,
                receiver_token,
                sender_nonce,
            }) => Some(JoinSyn {
                backup,
                addr_id,
                token: receiver_token,
                nonce: sender_nonce,
            }),
            _ => None,
        })
    }
}

impl MptcpConnection {
    /// Whether the connection can take or open more subflows: it speaks MPTCP and knows
    /// the peer's key.
    pub(crate) fn can_join(&self) -> bool {
        self.mode == Mode::Mptcp
            && self.keys.remote.is_some()
            && self.fully_established
            && self.close_reason.is_none()
    }

    fn next_id(&mut self) -> SubflowId {
        let id = SubflowId(self.next_subflow);
        self.next_subflow += 1;
        id
    }

    /// Adds a subflow we open: `tcp` in SYN-SENT from our address id `local_id`; its SYN
    /// carries MP_JOIN with our random `nonce`.
    pub(crate) fn add_subflow(
        &mut self,
        tcp: TcpConnection,
        iface: InterfaceId,
        local_id: u8,
        backup: bool,
        nonce: u32,
    ) -> SubflowId {
        let id = self.next_id();
        let mut sf = Subflow::new(id, tcp, iface, Join::Initiated { nonce });
        sf.local_id = local_id;
        sf.backup = backup;
        self.subflows.push(sf);
        id
    }

    /// Accepts a subflow the peer opened: `tcp` answers its SYN (`syn`), from our address
    /// id `local_id`; our SYN/ACK carries MP_JOIN with our random `nonce`.
    pub(crate) fn accept_join(
        &mut self,
        tcp: TcpConnection,
        iface: InterfaceId,
        local_id: u8,
        syn: JoinSyn,
        nonce: u32,
    ) -> SubflowId {
        let id = self.next_id();
        let mut sf = Subflow::new(
            id,
            tcp,
            iface,
            Join::Responded {
                nonce,
                peer_nonce: syn.nonce,
            },
        );
        sf.local_id = local_id;
        sf.remote_id = Some(syn.addr_id);
        sf.peer_backup = syn.backup;
        sf.rx_next = Some(sf.tcp.irs + 1);
        self.subflows.push(sf);
        id
    }

    /// The MP_JOIN part of a segment on a joining subflow `index`.
    pub(super) fn join_input(&mut self, index: usize, seg: &TcpRepr<'_>) {
        let (Some(remote_key), local_key) = (self.keys.remote, self.keys.local) else {
            return;
        };
        let join = seg.mptcp_options().find_map(|o| match *o {
            MptcpOption::MpJoin(j) => Some(j),
            _ => None,
        });
        let sf = &mut self.subflows[index];
        let state = sf.tcp.state();
        if seg.flags.contains(TcpFlags::RST) {
            // §3.6: the peer refused the join (Linux does so on the third ACK when it is
            // beyond its limits). A RST never completes a join; keep its MP_TCPRST reason.
            if state == TcpState::Closed {
                sf.peer_reset_reason = seg.mptcp_options().find_map(|o| match *o {
                    MptcpOption::MpTcpRst { reason, .. } => Some(reason),
                    _ => None,
                });
            }
            return;
        }
        match (sf.join, join) {
            (
                Join::Initiated { nonce },
                Some(MpJoin::SynAck {
                    backup,
                    addr_id,
                    truncated_hmac,
                    sender_nonce,
                }),
            ) if state.is_synchronized() => {
                let expected =
                    join_synack_hmac(MptcpVersion::V1, remote_key, local_key, sender_nonce, nonce);
                if truncated_hmac != expected {
                    self.reset_subflow(index, reset_reason::MPTCP_ERROR);
                    return;
                }
                let sf = &mut self.subflows[index];
                sf.remote_id = Some(addr_id);
                sf.peer_backup = backup;
                sf.rx_next = Some(sf.tcp.irs + 1);
                sf.join = Join::AckPending {
                    nonce,
                    peer_nonce: sender_nonce,
                };
            }
            (Join::Initiated { .. }, _) if state.is_synchronized() => {
                // §3.2: a SYN/ACK without a valid MP_JOIN: this path cannot join.
                self.reset_subflow(index, reset_reason::MPTCP_ERROR);
            }
            (Join::AckPending { .. }, _) if !seg.flags.contains(TcpFlags::SYN) => {
                // The peer acknowledged our third ACK: the subflow is established.
                self.join_done(index);
            }
            (Join::Responded { nonce, peer_nonce }, Some(MpJoin::Ack { hmac })) => {
                let expected =
                    join_ack_hmac(MptcpVersion::V1, remote_key, local_key, peer_nonce, nonce);
                if hmac != expected {
                    self.reset_subflow(index, reset_reason::MPTCP_ERROR);
                    return;
                }
                self.join_done(index);
                // The fourth ACK tells the initiator its third arrived.
                self.subflows[index].tcp.ack_now = true;
            }
            (Join::Responded { .. }, _)
                if state.is_synchronized() && !seg.flags.contains(TcpFlags::SYN) =>
            {
                // The segment completing the handshake lacks the HMAC.
                self.reset_subflow(index, reset_reason::MPTCP_ERROR);
            }
            _ => {}
        }
    }

    fn join_done(&mut self, index: usize) {
        let sf = &mut self.subflows[index];
        sf.join = Join::Done;
        let id = sf.id;
        self.joined_any = true;
        self.events.push_back(ConnEvent::SubflowEstablished(id));
        self.on_join_during_fail();
        let view = crate::pm::PmSubflow {
            state: crate::pm::PmSubflowState::Established,
            ..self.subflows[index].pm_view()
        };
        self.pm_hear(crate::pm::PmEvent::SubflowEstablished(view));
    }

    /// Resets subflow `index` with MP_TCPRST `reason` (RFC 8684 §3.6).
    pub(super) fn reset_subflow(&mut self, index: usize, reason: u8) {
        let id = self.subflows[index].id;
        self.note(Some(id), format_args!("reset, MP_TCPRST reason {reason}"));
        self.reinject_from(index);
        let sf = &mut self.subflows[index];
        sf.reset_reason = Some(reason);
        sf.retired = true;
        sf.tcp.abort();
    }
}
