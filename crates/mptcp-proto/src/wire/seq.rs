//! Sequence-number newtypes with wrapping (serial-number) comparison.
//!
//! TCP sequence numbers are 32 bits and wrap (RFC 9293 §3.4); MPTCP data sequence numbers are
//! 64 bits (RFC 8684 §3.3). Both are compared in serial-number arithmetic: `a < b` when `b` is
//! ahead of `a` by less than half the number space.

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, AddAssign, Sub};

macro_rules! sequence_number {
    ($(#[$doc:meta])* $name:ident, $raw:ty, $signed:ty) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(pub $raw);

        impl $name {
            /// Signed distance from `other` to `self` (positive when `self` is ahead).
            pub fn diff(self, other: Self) -> $signed {
                self.0.wrapping_sub(other.0) as $signed
            }

            /// The larger of two sequence numbers in serial order.
            pub fn max(self, other: Self) -> Self {
                if self >= other { self } else { other }
            }

            /// The smaller of two sequence numbers in serial order.
            pub fn min(self, other: Self) -> Self {
                if self <= other { self } else { other }
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }

        /// Serial-number order. Not transitive across more than half the number space, as
        /// with every wrapping sequence space; only compare numbers within one window.
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> Ordering {
                self.diff(*other).cmp(&0)
            }
        }

        impl Add<$raw> for $name {
            type Output = Self;
            fn add(self, rhs: $raw) -> Self {
                Self(self.0.wrapping_add(rhs))
            }
        }

        impl AddAssign<$raw> for $name {
            fn add_assign(&mut self, rhs: $raw) {
                self.0 = self.0.wrapping_add(rhs);
            }
        }

        impl Sub<$raw> for $name {
            type Output = Self;
            fn sub(self, rhs: $raw) -> Self {
                Self(self.0.wrapping_sub(rhs))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

sequence_number!(
    /// A 32-bit TCP (subflow) sequence number.
    SeqNum, u32, i32
);
sequence_number!(
    /// A 64-bit MPTCP data sequence number (DSN).
    DataSeq, u64, i64
);

impl DataSeq {
    /// Expands a 32-bit DSN or DATA_ACK received on the wire to 64 bits, choosing the value
    /// closest to `reference` whose low 32 bits are `low` (RFC 8684 §3.3: "the 64-bit value is
    /// inferred from the lower 32 bits").
    pub fn expand(reference: DataSeq, low: u32) -> DataSeq {
        let candidate = DataSeq((reference.0 & !0xffff_ffff) | u64::from(low));
        let delta = candidate.diff(reference);
        if delta > i64::from(i32::MAX) {
            candidate - (1u64 << 32)
        } else if delta < i64::from(i32::MIN) {
            candidate + (1u64 << 32)
        } else {
            candidate
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_order_32() {
        assert!(SeqNum(u32::MAX) < SeqNum(0));
        assert!(SeqNum(5) > SeqNum(u32::MAX - 5));
        assert_eq!(SeqNum(3).diff(SeqNum(u32::MAX)), 4);
        assert_eq!(SeqNum(u32::MAX) + 2, SeqNum(1));
        assert_eq!(SeqNum(1).max(SeqNum(u32::MAX)), SeqNum(1));
    }

    #[test]
    fn wrapping_order_64() {
        assert!(DataSeq(u64::MAX) < DataSeq(1));
        assert_eq!(DataSeq(0) - 1, DataSeq(u64::MAX));
    }

    #[test]
    fn expand_32_bit_values() {
        let r = DataSeq(0x1_ffff_fff0);
        assert_eq!(DataSeq::expand(r, 0x0000_0010), DataSeq(0x2_0000_0010));
        assert_eq!(DataSeq::expand(r, 0xffff_ff00), DataSeq(0x1_ffff_ff00));
        let r = DataSeq(0x2_0000_0005);
        assert_eq!(DataSeq::expand(r, 0xffff_fffe), DataSeq(0x1_ffff_fffe));
    }
}
