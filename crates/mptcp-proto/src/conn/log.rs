//! `mptcp.debug` ([`MptcpConfig::debug`](super::MptcpConfig::debug)): records of what a
//! connection and its subflows do, through `tracing`, each naming the connection (our token,
//! as `ss -M` and Linux's MPTCP events name it) and the subflow when there is one. Level 1
//! records at DEBUG what the application's events say and what it does not see (fallbacks,
//! subflows taken for failed, MP_FAIL, resets); level 2 adds TRACE records of re-injection.

use core::fmt;

use super::{ConnEvent, MptcpConnection, SubflowId};

impl MptcpConnection {
    /// A DEBUG record about subflow `subflow` (or the connection), at `mptcp.debug` 1 or more.
    pub(super) fn note(&self, subflow: Option<SubflowId>, what: fmt::Arguments<'_>) {
        if self.debug >= 1 {
            tracing::debug!(
                connection = format_args!("{:08x}", self.keys.local_token),
                subflow = subflow.map(|s| s.0),
                "{what}"
            );
        }
    }

    /// A TRACE record, at `mptcp.debug` 2.
    pub(super) fn detail(&self, subflow: Option<SubflowId>, what: fmt::Arguments<'_>) {
        if self.debug >= 2 {
            tracing::trace!(
                connection = format_args!("{:08x}", self.keys.local_token),
                subflow = subflow.map(|s| s.0),
                "{what}"
            );
        }
    }

    /// The record of an event the application takes: at DEBUG, those of the connection's
    /// life and its subflows; at TRACE, those of the byte stream (readable, writable).
    pub(super) fn note_event(&self, event: &ConnEvent) {
        let subflow = match event {
            ConnEvent::SubflowEstablished(id)
            | ConnEvent::SubflowClosed { subflow: id, .. }
            | ConnEvent::PeerPriority { subflow: id, .. } => Some(*id),
            _ => None,
        };
        match event {
            ConnEvent::Readable | ConnEvent::Writable | ConnEvent::SendComplete => {
                self.detail(subflow, format_args!("{event:?}"));
            }
            _ => self.note(subflow, format_args!("{event:?}")),
        }
    }
}
