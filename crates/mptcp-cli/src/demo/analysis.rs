//! What the demo measures, from the samples of the download (taken every
//! [`SAMPLE_EVERY`]): each second's throughput per path, the failover time and the time Wi-Fi
//! takes to carry data again once it is back.

use core::time::Duration;

use mptcp_proto::time::Instant;
use mptcp_sim::{ConnectionReport, Sample};

use super::scenario::{CELLULAR, DemoConfig, WIFI, path_of};

/// How often the download is sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(10);

/// The paths, in the order of the table's columns.
pub const PATHS: [&str; 2] = [WIFI, CELLULAR];

/// How long after the loss of Wi-Fi a pause in delivery still counts as caused by it.
const FAILOVER_WINDOW: Duration = Duration::from_secs(2);

/// One interval of the per-second table (the last may be shorter).
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Start, from the beginning of the run.
    pub from: Duration,
    /// End.
    pub to: Duration,
    /// Bits per second each path carried to the phone (in the order of [`PATHS`]), as its
    /// subflows received them in order (re-injected bytes count on both paths).
    pub paths: [f64; 2],
    /// Bits per second the application read.
    pub goodput: f64,
    /// Bytes the application had read at the end.
    pub received: u64,
}

/// Counters at one instant: bytes read by the application, and by the subflows of each path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counters {
    received: u64,
    paths: [u64; 2],
}

impl Counters {
    fn of(sample: &Sample) -> Self {
        let mut paths = [0; 2];
        for sf in &sample.subflows {
            if let Some(index) =
                path_of(sf.local.ip()).and_then(|p| PATHS.iter().position(|&q| q == p))
            {
                paths[index] += sf.bytes_received;
            }
        }
        Self {
            received: sample.received,
            paths,
        }
    }
}

/// The counters as of `at`: the last sample taken at or before it (zero before the first).
fn counters_at(samples: &[Sample], at: Instant) -> Counters {
    let taken = samples.partition_point(|s| s.at <= at);
    taken
        .checked_sub(1)
        .map_or_else(Counters::default, |i| Counters::of(&samples[i]))
}

/// One interval per second of the download, up to its last sample; only whole seconds
/// unless `last` (then the final part-second too).
pub fn intervals(conn: &ConnectionReport, last: bool) -> Vec<Interval> {
    let Some(end) = conn.samples.last().map(|s| s.at) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut from = Instant::ZERO;
    while from < end {
        let to = (from + Duration::from_secs(1)).min(end);
        if to < from + Duration::from_secs(1) && !last {
            break;
        }
        let (a, b) = (
            counters_at(&conn.samples, from),
            counters_at(&conn.samples, to),
        );
        let seconds = to.saturating_duration_since(from).as_secs_f64();
        let bps = |x: u64, y: u64| (y - x) as f64 * 8.0 / seconds;
        out.push(Interval {
            from: from.saturating_duration_since(Instant::ZERO),
            to: to.saturating_duration_since(Instant::ZERO),
            paths: [bps(a.paths[0], b.paths[0]), bps(a.paths[1], b.paths[1])],
            goodput: bps(a.received, b.received),
            received: b.received,
        });
        from = to;
    }
    out
}

/// The failover: how long the loss of Wi-Fi interrupted the download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failover {
    /// From the loss of Wi-Fi to the end of the pause it caused ([`failover`]).
    pub time: Duration,
    /// The pause itself: how long the application read nothing.
    pub stall: Duration,
}

/// The failover time: from the instant Wi-Fi goes down to the first sample at which the
/// application reads data again after the longest pause in its reading (no byte read
/// between two samples, 10 ms apart) that starts within 2 s of the loss. The data Wi-Fi had
/// in flight is lost with it and blocks in-order delivery until the sender re-injects it on
/// cellular; the end of that pause is when cellular carries the download. Zero if reading
/// never paused; `None` if Wi-Fi did not fail or the download ended before it did.
pub fn failover(conn: &ConnectionReport, config: &DemoConfig) -> Option<Failover> {
    let down = Instant::ZERO + config.down_at()?;
    let samples = &conn.samples;
    let first = samples.partition_point(|s| s.at <= down);
    if first == samples.len() {
        return None;
    }
    // Pauses: runs of samples in which nothing new was read, as (start, end) where `start`
    // is the last sample before the pause and `end` the first that read again.
    let mut best: Option<(Instant, Instant)> = None;
    let mut pause_start: Option<Instant> = None;
    for pair in samples[first.saturating_sub(1)..].windows(2) {
        let (prev, next) = (&pair[0], &pair[1]);
        if next.received == prev.received {
            if pause_start.is_none() {
                if prev.at.saturating_duration_since(down) > FAILOVER_WINDOW {
                    break;
                }
                pause_start = Some(prev.at.max(down));
            }
        } else if let Some(start) = pause_start.take() {
            let longer = best.is_none_or(|(s, e)| {
                next.at.saturating_duration_since(start) > e.saturating_duration_since(s)
            });
            if longer {
                best = Some((start, next.at));
            }
        }
    }
    Some(match best {
        Some((start, end)) => Failover {
            time: end.saturating_duration_since(down),
            stall: end.saturating_duration_since(start),
        },
        None => Failover {
            time: Duration::ZERO,
            stall: Duration::ZERO,
        },
    })
}

/// How long after Wi-Fi comes back its subflow carries data again: to the first sample at
/// which the Wi-Fi subflows received more than at the previous one. `None` if Wi-Fi did not
/// fail, or never carried data again before the download ended.
pub fn recovery(conn: &ConnectionReport, config: &DemoConfig) -> Option<Duration> {
    let up = Instant::ZERO + config.up_at()?;
    let samples = &conn.samples;
    let first = samples.partition_point(|s| s.at <= up).checked_sub(1)?;
    samples[first..].windows(2).find_map(|pair| {
        let (prev, next) = (Counters::of(&pair[0]), Counters::of(&pair[1]));
        (next.paths[0] > prev.paths[0]).then(|| pair[1].at.saturating_duration_since(up))
    })
}
