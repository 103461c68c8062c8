//! How a `mptcp connect`/`listen` run ended, as a word for `--json` and scripts, an exit status,
//! and a sentence for people.

use core::net::SocketAddr;
use std::io;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything was sent, the peer's FIN was read, and `--verify` (if asked) passed.
    Ok,
    /// The peer answered the SYN with a reset: nothing listens there.
    Refused,
    /// The peer reset the connection.
    Reset,
    /// Connecting, waiting for a connection, or retransmitting took too long.
    TimedOut,
    /// The stack aborted the connection.
    Aborted,
    /// The connection was gone before everything was sent.
    Closed,
    /// The data arrived, but it is not the peer's test pattern.
    VerifyFailed,
    /// A local file, standard input or standard output failed.
    LocalError,
    /// Anything else.
    Error,
}

impl Outcome {
    /// The word in `--json`'s `outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Reset => "reset",
            Outcome::TimedOut => "timed_out",
            Outcome::Aborted => "aborted",
            Outcome::Closed => "closed",
            Outcome::VerifyFailed => "verify_failed",
            Outcome::LocalError => "local_error",
            Outcome::Error => "error",
        }
    }

    /// The exit status: 0 for [`Outcome::Ok`], 1 otherwise.
    pub fn exit_code(self) -> u8 {
        u8::from(self != Outcome::Ok)
    }

    /// The outcome a connection error of this kind means.
    pub fn of_error(error: &io::Error) -> Outcome {
        match error.kind() {
            io::ErrorKind::ConnectionRefused => Outcome::Refused,
            io::ErrorKind::ConnectionReset => Outcome::Reset,
            io::ErrorKind::TimedOut => Outcome::TimedOut,
            io::ErrorKind::ConnectionAborted => Outcome::Aborted,
            io::ErrorKind::BrokenPipe | io::ErrorKind::NotConnected => Outcome::Closed,
            _ => Outcome::Error,
        }
    }
}

/// The sentence for a connection that could not be made to `peer`.
pub fn connect_failure(peer: SocketAddr, error: &io::Error) -> (Outcome, String) {
    let outcome = Outcome::of_error(error);
    let text = match outcome {
        Outcome::Refused => format!("connection to {peer} refused"),
        Outcome::TimedOut => format!("connection to {peer} timed out"),
        _ => format!("connection to {peer} failed: {error}"),
    };
    (outcome, text)
}

/// The sentence for a connection with `peer` that failed after moving some bytes.
pub fn transfer_failure(
    peer: SocketAddr,
    error: &io::Error,
    sent: u64,
    received: u64,
) -> (Outcome, String) {
    let outcome = Outcome::of_error(error);
    let after = format!("after {sent} bytes sent and {received} bytes received");
    let text = match outcome {
        Outcome::Reset | Outcome::Refused => {
            format!("the peer {peer} reset the connection {after}")
        }
        Outcome::TimedOut => format!("the connection with {peer} timed out {after}"),
        Outcome::Aborted => format!("the connection with {peer} was aborted {after}"),
        Outcome::Closed => format!("the connection with {peer} closed {after}, before the end"),
        _ => format!("the connection with {peer} failed {after}: {error}"),
    };
    (outcome, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_outcomes_and_sentences() {
        let peer: SocketAddr = "10.0.1.1:5999".parse().unwrap();
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(
            connect_failure(peer, &refused),
            (
                Outcome::Refused,
                "connection to 10.0.1.1:5999 refused".to_owned()
            )
        );
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        let (outcome, text) = transfer_failure(peer, &reset, 1000, 7);
        assert_eq!(outcome, Outcome::Reset);
        assert_eq!(
            text,
            "the peer 10.0.1.1:5999 reset the connection after 1000 bytes sent and 7 bytes \
             received"
        );
        let timed_out = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(
            transfer_failure(peer, &timed_out, 0, 0).0,
            Outcome::TimedOut
        );
        assert_eq!(
            Outcome::of_error(&io::ErrorKind::BrokenPipe.into()),
            Outcome::Closed
        );
        assert_eq!(Outcome::of_error(&io::Error::other("x")), Outcome::Error);
    }

    #[test]
    fn only_ok_exits_zero() {
        assert_eq!(Outcome::Ok.exit_code(), 0);
        for o in [Outcome::Refused, Outcome::Reset, Outcome::VerifyFailed] {
            assert_eq!(o.exit_code(), 1);
        }
        assert_eq!(Outcome::TimedOut.as_str(), "timed_out");
    }
}
