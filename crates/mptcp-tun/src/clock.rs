//! The monotonic clock the runtime hands to the sans-I/O stack.

use std::time::Duration;

use mptcp_proto::time::Instant;

/// Maps the OS's monotonic clock onto the stack's [`Instant`]: nanoseconds since the moment
/// the runtime started.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    origin: std::time::Instant,
}

impl Clock {
    /// A clock whose epoch is now.
    pub(crate) fn new() -> Self {
        Self {
            origin: std::time::Instant::now(),
        }
    }

    /// The current time as the stack sees it.
    pub(crate) fn now(&self) -> Instant {
        let nanos = self.origin.elapsed().as_nanos();
        Instant::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// The tokio instant of a stack deadline (for `sleep_until`).
    pub(crate) fn to_tokio(self, at: Instant) -> tokio::time::Instant {
        let offset = Duration::from_nanos(at.as_nanos());
        // Deadlines centuries away saturate to "far in the future" instead of overflowing.
        let std = self
            .origin
            .checked_add(offset)
            .unwrap_or_else(|| self.origin + Duration::from_secs(86_400 * 365));
        tokio::time::Instant::from_std(std)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_monotonic_and_maps_back() {
        let clock = Clock::new();
        let a = clock.now();
        let b = clock.now();
        assert!(b >= a);
        let deadline = Instant::from_millis(5);
        let tokio_at = clock.to_tokio(deadline);
        let expected = tokio::time::Instant::from_std(clock.origin) + Duration::from_millis(5);
        assert_eq!(tokio_at, expected);
    }
}
