//! [`Pool`]: which addresses of one range are free, without scanning the range, whatever
//! its size (a DHCPv6 pool can span a /64: no structure here grows with the range).
//!
//! Addresses from `cursor` up have never been handed out and are free, except the few in
//! `ahead` (taken out of order: a requested address, a reservation, a restored lease).
//! Below `cursor`, an address is free only if it is in `freed`, a bitmap hierarchy. So
//! taking or freeing an address is O(1) (amortized: the cursor skips each `ahead` entry
//! once; `freed` touches one word per level), whatever the size of the range, and the
//! memory held is one bit per address below the cursor (128 KiB for a million used), plus
//! the addresses taken out of order above it. The cursor only passes addresses handed out
//! (or taken ahead), so it stays far below 2^32 offsets, which the bitmap covers; an
//! address freed above that is not handed out again until the server restarts.

use alloc::collections::BTreeSet;

use super::address::Address;
use super::bitset::BitSet;

/// The free/used state of one address range.
#[derive(Debug, Clone)]
pub(crate) struct Pool<A> {
    start: A,
    end: A,
    /// `end`'s offset from `start`.
    last: u64,
    /// Offset of the next never-used address; `last + 1` once all have been used.
    cursor: u64,
    /// Free addresses below `cursor`, as offsets from `start`.
    freed: BitSet,
    /// Used addresses at or above `cursor`.
    ahead: BTreeSet<A>,
}

impl<A: Address> Pool<A> {
    /// A range with every address free; at most 2^64 - 1 addresses long.
    pub(crate) fn new(start: A, end: A) -> Self {
        Pool {
            start,
            end,
            last: end.offset_from(start).min(u64::MAX - 1),
            cursor: 0,
            freed: BitSet::default(),
            ahead: BTreeSet::new(),
        }
    }

    #[inline]
    pub(crate) fn contains(&self, a: A) -> bool {
        self.start <= a && a <= self.end
    }

    /// First and last address.
    pub(crate) fn range(&self) -> (A, A) {
        (self.start, self.end)
    }

    /// Number of addresses in the range.
    pub(crate) fn size(&self) -> u64 {
        self.last + 1
    }

    /// Number of free addresses.
    pub(crate) fn free(&self) -> u64 {
        (self.last + 1 - self.cursor) - self.ahead.len() as u64 + self.freed.len() as u64
    }

    /// `a`'s offset as the bitmap of freed addresses holds it (none past 2^32).
    #[inline]
    fn bit(&self, a: A) -> Option<u32> {
        u32::try_from(a.offset_from(self.start)).ok()
    }

    pub(crate) fn is_free(&self, a: A) -> bool {
        if !self.contains(a) {
            return false;
        }
        if a.offset_from(self.start) >= self.cursor {
            !self.ahead.contains(&a)
        } else {
            self.bit(a).is_some_and(|b| self.freed.contains(b))
        }
    }

    /// The free address to hand out next, without taking it: never-used ones first (so a
    /// client's recent address stays free for it as long as possible), then the lowest
    /// freed one.
    pub(crate) fn peek(&mut self) -> Option<A> {
        while self.cursor <= self.last {
            let a = A::at_offset(self.start, self.cursor);
            if self.ahead.is_empty() || !self.ahead.remove(&a) {
                return Some(a);
            }
            self.cursor += 1;
        }
        self.freed
            .first()
            .map(|o| A::at_offset(self.start, u64::from(o)))
    }

    /// Takes `a` if it is free.
    pub(crate) fn take_specific(&mut self, a: A) -> bool {
        if !self.contains(a) {
            return false;
        }
        let offset = a.offset_from(self.start);
        if offset >= self.cursor {
            if self.ahead.contains(&a) {
                return false;
            }
            if offset == self.cursor {
                self.cursor += 1;
            } else {
                self.ahead.insert(a);
            }
            true
        } else {
            self.bit(a).is_some_and(|b| self.freed.remove(b))
        }
    }

    /// Makes a used address free again.
    pub(crate) fn give_back(&mut self, a: A) {
        if !self.contains(a) {
            return;
        }
        if a.offset_from(self.start) >= self.cursor {
            self.ahead.remove(&a);
        } else if let Some(b) = self.bit(a) {
            self.freed.insert(b);
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
            let mut pool = Pool::<u32>::new(start, end);
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

    #[test]
    fn a_pool_spanning_a_slash_64_hands_out_from_its_start() {
        let start = 0x2001_0db8_0000_0001_0000_0000_0000_0001u128;
        let end = 0x2001_0db8_0000_0001_ffff_ffff_ffff_fffeu128;
        let mut pool = Pool::new(start, end);
        assert_eq!(pool.size(), u64::MAX - 1);
        let far = end - 5;
        assert!(pool.take_specific(far));
        assert!(!pool.is_free(far));
        assert_eq!(pool.peek(), Some(start));
        assert!(pool.take_specific(start));
        assert_eq!(pool.peek(), Some(start + 1));
        pool.give_back(start);
        pool.give_back(far);
        assert!(pool.is_free(far) && pool.is_free(start));
        assert_eq!(pool.free(), pool.size());
    }
}
