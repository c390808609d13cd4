//! [`Pool`]: which addresses of one range are free, without scanning the range.
//!
//! Addresses from `cursor` up have never been handed out and are free, except the few in
//! `ahead` (taken out of order: a requested address, a reservation, a restored lease).
//! Below `cursor`, an address is free only if it is in `freed`, a bitmap hierarchy. So
//! taking or freeing an address is O(1) (amortized: the cursor skips each `ahead` entry
//! once; `freed` touches one word per level), whatever the size of the range, and the
//! memory held is one bit per address below the cursor (128 KiB for a million used), plus
//! the addresses taken out of order above it.

use alloc::collections::BTreeSet;

use super::bitset::BitSet;

/// The free/used state of one address range.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    start: u32,
    end: u32,
    /// Next never-used address; `end + 1` once all have been used.
    cursor: u64,
    /// Free addresses below `cursor`, as offsets from `start`.
    freed: BitSet,
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
            freed: BitSet::default(),
            ahead: BTreeSet::new(),
        }
    }

    pub(crate) fn contains(&self, a: u32) -> bool {
        self.start <= a && a <= self.end
    }

    /// First and last address.
    pub(crate) fn range(&self) -> (u32, u32) {
        (self.start, self.end)
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
            self.freed.contains(a - self.start)
        }
    }

    /// The free address to hand out next, without taking it: never-used ones first (so a
    /// client's recent address stays free for it as long as possible), then the lowest
    /// freed one.
    pub(crate) fn peek(&mut self) -> Option<u32> {
        while self.cursor <= u64::from(self.end) {
            let a = self.cursor as u32;
            if !self.ahead.remove(&a) {
                return Some(a);
            }
            self.cursor += 1;
        }
        self.freed.first().map(|o| self.start + o)
    }

    /// Takes `a` if it is free.
    pub(crate) fn take_specific(&mut self, a: u32) -> bool {
        if !self.contains(a) {
            return false;
        }
        if u64::from(a) >= self.cursor {
            if self.ahead.contains(&a) {
                return false;
            }
            if u64::from(a) == self.cursor {
                self.cursor += 1;
            } else {
                self.ahead.insert(a);
            }
            true
        } else {
            self.freed.remove(a - self.start)
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
            self.freed.insert(a - self.start);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::collections::BTreeSet;
    use std::vec::Vec;

    use proptest::prelude::*;

    use super::Pool;

    #[derive(Debug, Clone)]
    enum Op {
        Peek,
        Take,
        TakeSpecific(u32),
        GiveBack(u32),
    }

    fn op(size: u32) -> impl Strategy<Value = Op> {
        prop_oneof![
            1 => Just(Op::Peek),
            3 => Just(Op::Take),
            2 => (0..size + 4).prop_map(Op::TakeSpecific),
            2 => (0..size + 4).prop_map(Op::GiveBack),
        ]
    }

    proptest! {
        /// The pool against the obvious model: a set of used addresses.
        #[test]
        fn pool_matches_a_set_of_used_addresses(size in 1u32..64, ops in proptest::collection::vec(op(64), 0..300)) {
            let start = 1000u32;
            let end = start + size - 1;
            let mut pool = Pool::new(start, end);
            let mut used: BTreeSet<u32> = BTreeSet::new();
            for op in ops {
                match op {
                    Op::Peek => {
                        let got = pool.peek();
                        match got {
                            Some(a) => prop_assert!((start..=end).contains(&a) && !used.contains(&a), "peeked a used {}", a),
                            None => prop_assert_eq!(used.len() as u32, size),
                        }
                        // Peeking takes nothing.
                        prop_assert_eq!(pool.free(), u64::from(size) - used.len() as u64);
                    }
                    Op::Take => {
                        let got = pool.peek().filter(|&a| pool.take_specific(a));
                        match got {
                            Some(a) => {
                                prop_assert!((start..=end).contains(&a));
                                prop_assert!(used.insert(a), "{} handed out twice", a);
                            }
                            None => prop_assert_eq!(used.len() as u32, size, "no address while some are free"),
                        }
                    }
                    Op::TakeSpecific(o) => {
                        let a = start + o;
                        let free = (start..=end).contains(&a) && !used.contains(&a);
                        prop_assert_eq!(pool.take_specific(a), free);
                        if free {
                            used.insert(a);
                        }
                    }
                    Op::GiveBack(o) => {
                        let a = start + o;
                        pool.give_back(a);
                        used.remove(&a);
                    }
                }
                prop_assert_eq!(pool.free(), u64::from(size) - used.len() as u64);
                let sample: Vec<u32> = (start.saturating_sub(2)..=end + 2).collect();
                for a in sample {
                    prop_assert_eq!(pool.is_free(a), (start..=end).contains(&a) && !used.contains(&a), "address {}", a);
                }
            }
        }
    }
}
