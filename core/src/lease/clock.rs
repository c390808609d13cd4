//! [`Anchor`]: the one tie between the machine's monotonic [`Instant`]s, the whole-second
//! [`Deadline`]s its timers and bindings keep, and the Unix seconds its lease records carry.

use core::time::Duration;

use super::timers::Deadline;
use crate::time::Instant;

/// An `Instant` and the Unix time it was, given once when the machine is made (the core
/// reads no clock). Conversions round so that a deadline is never earlier than the time it
/// stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Anchor {
    at: Instant,
    unix: u64,
}

impl Anchor {
    /// `at` was `unix` seconds after the Unix epoch.
    pub(crate) fn new(at: Instant, unix: u64) -> Self {
        Anchor { at, unix }
    }

    /// The Unix time the anchor was taken at.
    pub(crate) fn unix(&self) -> u64 {
        self.unix
    }

    /// `t` as a deadline: whole seconds after the anchor, rounded up (`Instant::MAX` is
    /// [`Deadline::NEVER`]).
    pub(crate) fn deadline(&self, t: Instant) -> Deadline {
        if t == Instant::MAX {
            return Deadline::NEVER;
        }
        let since = t.saturating_duration_since(self.at);
        let secs = since.as_secs() + u64::from(since.subsec_nanos() > 0);
        Deadline(u32::try_from(secs).unwrap_or(u32::MAX).min(u32::MAX - 1))
    }

    /// The latest deadline that has come by `now`: whole seconds after the anchor, rounded
    /// down.
    pub(crate) fn due(&self, now: Instant) -> Deadline {
        let since = now.saturating_duration_since(self.at).as_secs();
        Deadline(u32::try_from(since).unwrap_or(u32::MAX).min(u32::MAX - 1))
    }

    /// The instant of `d` ([`Deadline::NEVER`] is `Instant::MAX`).
    pub(crate) fn instant(&self, d: Deadline) -> Instant {
        if d == Deadline::NEVER {
            Instant::MAX
        } else {
            self.at + Duration::from_secs(u64::from(d.0))
        }
    }

    /// `t` in Unix seconds, rounded up (a deadline is never written earlier than it is).
    pub(crate) fn unix_of(&self, t: Instant) -> u64 {
        if t == Instant::MAX {
            return u64::MAX;
        }
        if t >= self.at {
            let d = t - self.at;
            self.unix
                .saturating_add(d.as_secs() + u64::from(d.subsec_nanos() > 0))
        } else {
            self.unix.saturating_sub((self.at - t).as_secs())
        }
    }

    /// The instant of Unix time `unix`.
    pub(crate) fn instant_of(&self, unix: u64) -> Instant {
        if unix >= self.unix {
            self.at + Duration::from_secs(unix - self.unix)
        } else {
            self.at - Duration::from_secs(self.unix - unix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_and_unix_times_too() {
        let a = Anchor::new(Instant::from_secs(10), 1_000);
        let t = Instant::from_secs(12) + Duration::from_millis(1);
        assert_eq!(a.deadline(t), Deadline(3));
        assert_eq!(a.due(t), Deadline(2));
        assert_eq!(a.instant(Deadline(3)), Instant::from_secs(13));
        assert_eq!(a.unix_of(t), 1_003);
        assert_eq!(a.instant_of(1_003), Instant::from_secs(13));
        assert_eq!(a.instant_of(995), Instant::from_secs(5));
        assert_eq!(a.deadline(Instant::MAX), Deadline::NEVER);
        assert_eq!(a.instant(Deadline::NEVER), Instant::MAX);
        assert_eq!(a.unix_of(Instant::MAX), u64::MAX);
    }
}
