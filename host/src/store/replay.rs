//! [`Replay`]: when a record another server wrote (learned through a shared store) may be
//! replayed into this server's machine.
//!
//! A learned record can be older than this server's own write of the same address: the
//! follower read the row just before that write committed, or while it was in flight.
//! Replayed then, it would undo the write in memory (the store itself stays right). So a
//! learned record waits while a write of its address is in flight, and is dropped when
//! this server's last write of the address has a higher version (versions of one row only
//! grow: [`Committed::versions`](crate::store::Committed::versions)).

use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dhcp_core::server::LeaseRecord;

use crate::store::Learned;

/// How long the version of a write is remembered. A learned record is read and replayed
/// within moments; one older than its address's last write by more than this is taken as
/// newer.
const KEEP: Duration = Duration::from_secs(60);

/// Orders learned records after this server's own writes.
#[derive(Debug)]
pub struct Replay {
    /// Records handed to the store and not yet answered, in order: (seq, address).
    in_flight: VecDeque<(u64, u32)>,
    /// How many of them name each address.
    pending: HashMap<u32, u32>,
    /// The version of this server's last write of each address, and when it was answered.
    written: HashMap<u32, (u64, Instant)>,
    /// Learned records waiting for a write of their address, in the order they came.
    held: Vec<Learned>,
    swept: Instant,
    stale: u64,
}

impl Replay {
    /// Nothing in flight, nothing written.
    pub fn new(now: Instant) -> Self {
        Replay {
            in_flight: VecDeque::new(),
            pending: HashMap::new(),
            written: HashMap::new(),
            held: Vec::new(),
            swept: now,
            stale: 0,
        }
    }

    /// Record `seq`, for `address`, goes to the store.
    pub fn submitted(&mut self, seq: u64, address: Ipv4Addr) {
        let a = u32::from(address);
        self.in_flight.push_back((seq, a));
        *self.pending.entry(a).or_default() += 1;
    }

    /// The store answered every record up to `upto` (written, refused, or failed), having
    /// written `versions`. Returns the held learned records now due, in the order they came.
    pub fn answered(
        &mut self,
        upto: u64,
        versions: &[(Ipv4Addr, u64)],
        now: Instant,
    ) -> Vec<LeaseRecord> {
        while let Some(&(seq, a)) = self.in_flight.front() {
            if seq > upto {
                break;
            }
            self.in_flight.pop_front();
            if let Some(n) = self.pending.get_mut(&a) {
                *n -= 1;
                if *n == 0 {
                    self.pending.remove(&a);
                }
            }
        }
        for &(a, v) in versions {
            let w = self.written.entry(u32::from(a)).or_insert((v, now));
            *w = (w.0.max(v), now);
        }
        if now.duration_since(self.swept) >= KEEP / 2 {
            self.swept = now;
            self.written
                .retain(|_, (_, at)| now.duration_since(*at) < KEEP);
        }
        let held = std::mem::take(&mut self.held);
        held.into_iter().filter_map(|l| self.learned(l)).collect()
    }

    /// A learned record: `Some` when it may be replayed now; `None` when it waits for a
    /// write in flight (and comes back from [`answered`](Self::answered)) or is older than
    /// this server's last write of its address.
    pub fn learned(&mut self, l: Learned) -> Option<LeaseRecord> {
        let a = u32::from(l.record.address);
        if self.pending.contains_key(&a) {
            self.held.push(l);
            return None;
        }
        if self.written.get(&a).is_some_and(|&(v, _)| v > l.version) {
            self.stale += 1;
            tracing::debug!(
                "learned record of {} (version {}) is older than this server's write: not replayed",
                l.record.address,
                l.version
            );
            return None;
        }
        Some(l.record)
    }

    /// How many learned records were dropped as older than this server's own writes.
    pub fn stale(&self) -> u64 {
        self.stale
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcp_core::server::{ClientKey, RecordKind};

    fn learned(last: u8, version: u64) -> Learned {
        Learned {
            record: LeaseRecord {
                seq: version,
                address: Ipv4Addr::new(192, 0, 2, last),
                client: ClientKey::new(&[last]),
                kind: RecordKind::Released,
                expires: 0,
                host_name: None,
            },
            version,
        }
    }

    fn ip(last: u8) -> Ipv4Addr {
        Ipv4Addr::new(192, 0, 2, last)
    }

    #[test]
    fn a_record_of_an_address_in_flight_waits_and_is_dropped_when_older() {
        let t = Instant::now();
        let mut r = Replay::new(t);
        r.submitted(1, ip(10));
        r.submitted(2, ip(11));
        assert_eq!(r.learned(learned(10, 5)), None);
        assert_eq!(r.learned(learned(11, 9)), None);
        assert!(r.learned(learned(12, 5)).is_some(), "no write of .12");
        // Record 1 written as version 6: the held version 5 is older.
        assert!(r.answered(1, &[(ip(10), 6)], t).is_empty());
        assert_eq!(r.stale(), 1);
        // Record 2 refused (no version): the held record is replayed.
        let due = r.answered(2, &[], t);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].address, ip(11));
        // Later learned records of .10: older dropped, newer replayed.
        assert_eq!(r.learned(learned(10, 4)), None);
        assert!(r.learned(learned(10, 7)).is_some());
    }

    #[test]
    fn versions_are_forgotten_after_a_while() {
        let t = Instant::now();
        let mut r = Replay::new(t);
        r.submitted(1, ip(10));
        r.answered(1, &[(ip(10), 6)], t);
        assert_eq!(r.learned(learned(10, 5)), None);
        r.answered(1, &[], t + KEEP);
        assert!(r.learned(learned(10, 5)).is_some());
    }
}
