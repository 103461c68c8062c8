//! Schedulers: which subflow carries the next data (RFC 8684 leaves this to the
//! implementation; the names follow the multipath-tcp.org kernel).
//!
//! A [`Scheduler`] sees one [`SubflowView`] per subflow and picks where new or re-injected
//! data goes. Built in: `"default"`, the kernel's minimum-RTT scheduler.

use core::fmt;
use core::time::Duration;

/// What a scheduler sees of one subflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubflowView {
    /// Position in the connection's subflow list.
    pub index: usize,
    /// The subflow can carry data at all (established, handshake done, not closing).
    pub usable: bool,
    /// Smoothed RTT, once measured.
    pub srtt: Option<Duration>,
    /// Congestion-window bytes not in flight.
    pub cwnd_room: usize,
    /// Bytes handed to it and not yet sent.
    pub unsent: usize,
    /// Either side asked for it as a backup (RFC 8684 §3.3.8).
    pub backup: bool,
    /// Its retransmission timer fired since it last acknowledged new data.
    pub potentially_failed: bool,
}

impl SubflowView {
    /// Usable and not suspected of having failed.
    fn working(&self) -> bool {
        self.usable && !self.potentially_failed
    }

    /// Working, with room in its window and nothing waiting.
    fn ready(&self) -> bool {
        self.working() && self.cwnd_room > 0 && self.unsent == 0
    }
}

/// Picks the subflow for the next data.
pub trait Scheduler: fmt::Debug + Send {
    /// The subflow (an index of `subflows`) for new data, or `None` to wait. `exclude` is a
    /// subflow that must not be chosen (the one re-injected data comes from).
    fn pick(&mut self, subflows: &[SubflowView], exclude: Option<usize>) -> Option<usize>;
}

/// The names [`by_name`] knows.
pub const SCHEDULERS: &[&str] = &["default"];

/// The scheduler called `name`.
pub fn by_name(name: &str) -> Option<Box<dyn Scheduler>> {
    match name {
        "default" => Some(Box::new(MinRtt)),
        _ => None,
    }
}

/// Minimum RTT first among the subflows with room in their congestion window; backup
/// subflows only when no other subflow works (the multipath-tcp.org kernel's default).
#[derive(Debug, Clone, Copy, Default)]
pub struct MinRtt;

impl Scheduler for MinRtt {
    fn pick(&mut self, subflows: &[SubflowView], exclude: Option<usize>) -> Option<usize> {
        let allowed = |s: &&SubflowView| Some(s.index) != exclude;
        let regular_works = subflows
            .iter()
            .filter(allowed)
            .any(|s| s.working() && !s.backup);
        subflows
            .iter()
            .filter(allowed)
            .filter(|s| s.ready() && !(s.backup && regular_works))
            .min_by_key(|s| s.srtt.unwrap_or(Duration::MAX))
            .map(|s| s.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(index: usize, rtt_ms: u64, backup: bool) -> SubflowView {
        SubflowView {
            index,
            usable: true,
            srtt: Some(Duration::from_millis(rtt_ms)),
            cwnd_room: 10_000,
            unsent: 0,
            backup,
            potentially_failed: false,
        }
    }

    #[test]
    fn lowest_rtt_with_room_wins_and_backups_wait_for_the_others_to_fail() {
        let mut s = MinRtt;
        let mut subflows = [view(0, 60, false), view(1, 20, false), view(2, 5, true)];
        assert_eq!(s.pick(&subflows, None), Some(1));
        assert_eq!(s.pick(&subflows, Some(1)), Some(0));
        subflows[1].cwnd_room = 0;
        assert_eq!(s.pick(&subflows, None), Some(0));
        subflows[0].unsent = 100;
        // Regular subflows work but are busy: wait rather than use the backup.
        assert_eq!(s.pick(&subflows, None), None);
        subflows[0].potentially_failed = true;
        subflows[1].usable = false;
        assert_eq!(s.pick(&subflows, None), Some(2));
    }
}
