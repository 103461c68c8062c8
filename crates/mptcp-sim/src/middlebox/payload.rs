//! A middlebox that rewrites payload bytes, as an application-level gateway (ALG) of a NAT
//! rewrites addresses inside FTP or SIP messages.

use mptcp_proto::time::Instant;
use thiserror::Error;

use super::{Direction, Middlebox, Verdict, edit_tcp};

/// A payload rewrite that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PayloadRewriteError {
    /// The pattern to find is empty.
    #[error("the pattern to find is empty")]
    EmptyPattern,
    /// Replacement and pattern differ in length (rewrites keep segment lengths).
    #[error("the replacement is {replace} bytes long, the pattern {find}: they must be equal")]
    LengthMismatch {
        /// Length of the pattern.
        find: usize,
        /// Length of the replacement.
        replace: usize,
    },
}

/// Replaces every occurrence of a byte pattern inside a TCP segment's payload with another
/// of the same length, and fixes the TCP checksum: the subflow sees valid segments, only the
/// DSS checksum (RFC 8684 §3.3.1) can tell that the data changed. It may let the first
/// segments through untouched and stop after some (an ALG that edits one message).
#[derive(Debug, Clone)]
pub struct PayloadRewriter {
    find: Vec<u8>,
    replace: Vec<u8>,
    direction: Option<Direction>,
    rewrites: u64,
    /// Segments with payload (in its direction) still to let through untouched.
    skip: u64,
    /// Segments it may still edit (`None`: no limit).
    budget: Option<u64>,
}

impl PayloadRewriter {
    /// A rewriter of `find` into `replace` for packets in `direction` (both if `None`).
    pub fn new(
        find: &[u8],
        replace: &[u8],
        direction: Option<Direction>,
    ) -> Result<Self, PayloadRewriteError> {
        if find.is_empty() {
            return Err(PayloadRewriteError::EmptyPattern);
        }
        if find.len() != replace.len() {
            return Err(PayloadRewriteError::LengthMismatch {
                find: find.len(),
                replace: replace.len(),
            });
        }
        Ok(Self {
            find: find.to_vec(),
            replace: replace.to_vec(),
            direction,
            rewrites: 0,
            skip: 0,
            budget: None,
        })
    }

    /// Lets the first `segments` segments with payload through untouched.
    pub fn starting_after(mut self, segments: u64) -> Self {
        self.skip = segments;
        self
    }

    /// Edits at most `segments` segments, then lets everything through.
    pub fn at_most(mut self, segments: u64) -> Self {
        self.budget = Some(segments);
        self
    }

    /// How many occurrences it has replaced.
    pub fn rewrites(&self) -> u64 {
        self.rewrites
    }
}

impl Middlebox for PayloadRewriter {
    fn process(&mut self, _now: Instant, direction: Direction, packet: &mut [u8]) -> Verdict {
        if self.direction.is_some_and(|d| d != direction) {
            return Verdict::Forward;
        }
        if self.budget == Some(0) {
            return Verdict::Forward;
        }
        let (find, replace, skip) = (&self.find, &self.replace, &mut self.skip);
        let rewrites = edit_tcp(packet, |_, tcp| {
            let payload = tcp.payload_mut();
            if payload.is_empty() {
                return 0;
            }
            if *skip > 0 {
                *skip -= 1;
                return 0;
            }
            let mut count = 0;
            let mut at = 0;
            while at + find.len() <= payload.len() {
                if payload[at..].starts_with(find) {
                    payload[at..at + find.len()].copy_from_slice(replace);
                    count += 1;
                    at += find.len();
                } else {
                    at += 1;
                }
            }
            count
        });
        let rewrites = rewrites.unwrap_or(0);
        self.rewrites += rewrites;
        if let Some(budget) = &mut self.budget {
            *budget -= u64::from(rewrites > 0);
        }
        Verdict::Forward
    }
}
