//! Which way a packet crosses a link: a leaf, so that links and the middleboxes on them both
//! name directions without depending on each other both ways.

/// One of the two directions of a link, named after its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// From end `a` to end `b`.
    AToB,
    /// From end `b` to end `a`.
    BToA,
}

impl Direction {
    /// The other direction.
    pub fn reverse(self) -> Self {
        match self {
            Self::AToB => Self::BToA,
            Self::BToA => Self::AToB,
        }
    }

    /// 0 for `AToB`, 1 for `BToA` (to index per-direction state).
    pub(crate) fn index(self) -> usize {
        match self {
            Self::AToB => 0,
            Self::BToA => 1,
        }
    }
}
