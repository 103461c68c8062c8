//! How the stack's outcomes appear to users: as [`std::io::Error`]s with the kinds they know
//! from the operating system's sockets.

use std::io;

use mptcp_proto::stack::CloseReason;

/// The error a read, write or connect reports on a connection that ended for `reason`.
/// `None` for an orderly close (reads then return end of stream).
pub(crate) fn close_error(reason: CloseReason) -> Option<io::Error> {
    let (kind, text) = match reason {
        CloseReason::Normal => return None,
        CloseReason::Refused => (io::ErrorKind::ConnectionRefused, "connection refused"),
        CloseReason::Reset => (io::ErrorKind::ConnectionReset, "connection reset by peer"),
        CloseReason::TimedOut => (io::ErrorKind::TimedOut, "connection timed out"),
        CloseReason::Aborted => (io::ErrorKind::ConnectionAborted, "connection aborted"),
    };
    Some(io::Error::new(kind, text))
}

/// The error of a call on a connection that is not (or no longer) there.
pub(crate) fn not_connected() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "not connected")
}

/// The error of every call once the runtime has stopped.
pub(crate) fn runtime_gone() -> io::Error {
    io::Error::other("the mptcp-tun runtime has stopped")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_map_to_the_kinds_users_know() {
        let kind = |r| close_error(r).map(|e| e.kind());
        assert_eq!(kind(CloseReason::Normal), None);
        assert_eq!(
            kind(CloseReason::Refused),
            Some(io::ErrorKind::ConnectionRefused)
        );
        assert_eq!(
            kind(CloseReason::Reset),
            Some(io::ErrorKind::ConnectionReset)
        );
        assert_eq!(kind(CloseReason::TimedOut), Some(io::ErrorKind::TimedOut));
        assert_eq!(
            kind(CloseReason::Aborted),
            Some(io::ErrorKind::ConnectionAborted)
        );
    }
}
