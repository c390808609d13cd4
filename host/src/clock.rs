//! The bridge from the OS clocks to the core's time: monotonic [`Instant`]s since the
//! adapter started, Unix seconds for lease records, and seeds from the OS's randomness.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dhcp_core::time::Instant;

/// Converts between `std::time::Instant` and the core's [`Instant`] (microseconds since
/// this clock was made).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: std::time::Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A clock whose epoch is now.
    pub fn new() -> Self {
        Clock {
            origin: std::time::Instant::now(),
        }
    }

    /// The core's now.
    pub fn now(&self) -> Instant {
        self.core(std::time::Instant::now())
    }

    /// A std instant as the core's.
    pub fn core(&self, t: std::time::Instant) -> Instant {
        let micros = t.saturating_duration_since(self.origin).as_micros();
        Instant::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }

    /// The core's instant as a std one (far future for [`Instant::MAX`]).
    pub fn std(&self, t: Instant) -> std::time::Instant {
        let far = Duration::from_secs(100 * 365 * 86_400);
        let d = Duration::from_micros(t.as_micros()).min(far);
        self.origin + d
    }
}

/// Seconds since the Unix epoch, by the wall clock.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A seed for the machines' random choices (xids, jitter) from the OS.
pub fn os_seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        // No OS randomness: the time still differs between runs and hosts.
        return unix_now() ^ u64::from(std::process::id()).rotate_left(32);
    }
    u64::from_le_bytes(b)
}
