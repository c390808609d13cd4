//! [`Pool`]: which addresses of one range are free, without scanning the range.
//!
//! Addresses from `cursor` up have never been handed out and are free, except the few in
//! `ahead` (taken out of order: a requested address, a reservation, a restored lease).
//! Below `cursor`, an address is free only if it is in `freed`. So taking an address is
//! O(log n) (amortized: the cursor skips each `ahead` entry once), and the memory held is
//! proportional to the addresses touched out of order, not to the size of the range: a /8
//! costs the same as a /24.

use alloc::collections::BTreeSet;

/// The free/used state of one address range.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    start: u32,
    end: u32,
    /// Next never-used address; `end + 1` once all have been used.
    cursor: u64,
    /// Free addresses below `cursor`.
    freed: BTreeSet<u32>,
    /// Used addresses at or above `cursor`.
    ahead: BTreeSet<u32>,
}

impl Pool {
    /// A range with every address free.
    pub(crate) fn new(start: u32, end: u32) -> Self {
        Pool {
            start,
            end,
            cursor: u64::from(start),
            freed: BTreeSet::new(),
            ahead: BTreeSet::new(),
        }
    }

    pub(crate) fn contains(&self, a: u32) -> bool {
        self.start <= a && a <= self.end
    }

    /// Number of addresses in the range.
    pub(crate) fn size(&self) -> u64 {
        u64::from(self.end) - u64::from(self.start) + 1
    }

    /// Number of free addresses.
    pub(crate) fn free(&self) -> u64 {
        (u64::from(self.end) + 1 - self.cursor) - self.ahead.len() as u64 + self.freed.len() as u64
    }

    pub(crate) fn is_free(&self, a: u32) -> bool {
        if !self.contains(a) {
            return false;
        }
        if u64::from(a) >= self.cursor {
            !self.ahead.contains(&a)
        } else {
            self.freed.contains(&a)
        }
    }

    /// Takes a free address: never-used ones first (so a client's recent address stays
    /// free for it as long as possible), then the lowest freed one.
    pub(crate) fn take(&mut self) -> Option<u32> {
        while self.cursor <= u64::from(self.end) {
            let a = self.cursor as u32;
            self.cursor += 1;
            if !self.ahead.remove(&a) {
                return Some(a);
            }
        }
        self.freed.pop_first()
    }

    /// Takes `a` if it is free.
    pub(crate) fn take_specific(&mut self, a: u32) -> bool {
        if !self.contains(a) {
            return false;
        }
        if u64::from(a) >= self.cursor {
            self.ahead.insert(a)
        } else {
            self.freed.remove(&a)
        }
    }

    /// Makes a used address free again.
    pub(crate) fn give_back(&mut self, a: u32) {
        if !self.contains(a) {
            return;
        }
        if u64::from(a) >= self.cursor {
            self.ahead.remove(&a);
        } else {
            self.freed.insert(a);
        }
    }
}
