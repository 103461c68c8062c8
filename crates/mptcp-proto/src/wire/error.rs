//! The one error type of the wire layer.

/// Why a sequence of bytes is not a valid header or option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The buffer ends before the structure it should hold.
    #[error("truncated: need {needed} bytes, have {available}")]
    Truncated {
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// A length field is inconsistent with the structure or the buffer.
    #[error("bad length field: {0}")]
    BadLength(usize),
    /// A version field names a version this code does not speak.
    #[error("unsupported version {0}")]
    BadVersion(u8),
    /// A field holds a value the format forbids.
    #[error("malformed {0}")]
    Malformed(&'static str),
}
