//! Application profiles (draft-scharf-mptcp-api, seed 004, §6.1 and its `TCP_MP_PROFILE`
//! socket option, §6.5.3): what an application wants of the paths, each built on a
//! scheduler.
//!
//! - `bulk` — aggregate everything: `default` (lowest RTT with room, every path used once
//!   the faster ones are full, opportunistic retransmission).
//! - `overflow` — latency-sensitive with overflow: stay on the lowest-latency path and
//!   spill onto others only when it is full and waiting for it would finish later: `ecf`.
//! - `hot-standby` — latency-sensitive with hot standby: one path carries data, the others
//!   stand by and take over at once on failure: `standby`.

use core::fmt;
use core::str::FromStr;

use super::{Ecf, HotStandby, MinRtt, SchedulerChoice};

/// An application profile; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// Aggregate every path.
    #[default]
    Bulk,
    /// The lowest-latency path, others only when it is full.
    Overflow,
    /// One path, the others idle until it fails.
    HotStandby,
}

/// The profiles' names, as [`Profile::from_str`] takes them.
pub const PROFILES: &[&str] = &["bulk", "overflow", "hot-standby"];

/// A profile name that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {name:?}; valid: {}", PROFILES.join(", "))]
pub struct UnknownProfile {
    /// The name asked for.
    pub name: String,
}

impl Profile {
    /// The profile's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bulk => "bulk",
            Self::Overflow => "overflow",
            Self::HotStandby => "hot-standby",
        }
    }

    /// The scheduler that gives the profile's behaviour.
    pub fn scheduler(self) -> SchedulerChoice {
        match self {
            Self::Bulk => SchedulerChoice::new(MinRtt),
            Self::Overflow => SchedulerChoice::new(Ecf::default()),
            Self::HotStandby => SchedulerChoice::new(HotStandby),
        }
    }
}

impl FromStr for Profile {
    type Err = UnknownProfile;

    /// ```
    /// use mptcp_proto::sched::Profile;
    /// assert_eq!("overflow".parse::<Profile>().unwrap().scheduler().name(), "ecf");
    /// let err = "fast".parse::<Profile>().unwrap_err();
    /// assert_eq!(err.to_string(), "unknown profile \"fast\"; valid: bulk, overflow, hot-standby");
    /// ```
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        [Self::Bulk, Self::Overflow, Self::HotStandby]
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| UnknownProfile {
                name: name.to_owned(),
            })
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_to_its_profile() {
        for name in PROFILES {
            assert_eq!(name.parse::<Profile>().unwrap().name(), *name);
        }
        assert_eq!(Profile::HotStandby.scheduler().name(), "standby");
        assert_eq!(Profile::default().scheduler().name(), "default");
    }
}
