//! [`monotonic_ns`]: the machine's monotonic clock (`CLOCK_MONOTONIC`), the same for every
//! process, so that a test can place what `kernel-peer` saw (its read stalls) in time against
//! what the test did (take a link down).

/// `CLOCK_MONOTONIC` now, in nanoseconds.
///
/// # Panics
///
/// If the clock cannot be read (never on Linux).
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime(2) writes one timespec through a valid, exclusive pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_MONOTONIC) failed");
    u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(ts.tv_nsec).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goes_forward_with_real_time() {
        let before = monotonic_ns();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let elapsed = monotonic_ns() - before;
        assert!(
            (20_000_000..2_000_000_000).contains(&elapsed),
            "{elapsed} ns"
        );
    }
}
