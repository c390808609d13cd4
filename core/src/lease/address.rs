//! [`Address`]: what the lease tables need of the thing they lease, so that one pool,
//! table, index and timer queue serve IPv4 addresses (`u32`), IPv6 addresses (`u128`)
//! and delegated prefixes (their index in a prefix pool, `u64`).

use core::fmt::Debug;
use core::hash::BuildHasher;

use foldhash::fast::FixedState;

/// A leasable address as an integer. Ranges of it are at most 2^64 - 1 long, so an
/// offset into one is a `u64`.
pub(crate) trait Address: Copy + Ord + Debug + Default {
    /// `self - start`, for `start <= self` with the difference below 2^64.
    fn offset_from(self, start: Self) -> u64;

    /// `start + offset`, for a result inside the range `offset` was taken from.
    fn at_offset(start: Self, offset: u64) -> Self;

    /// The address's position hash in a [`Bindings`](super::table::Bindings) table.
    /// Sixteen neighbouring addresses (which pools hand out one after the other and
    /// journals restore one after the other) sit in neighbouring entries, so a run of new
    /// leases writes a few cache lines instead of one line (and, at a million leases, one
    /// cache miss) each; the tag bits (the top seven, which the table compares before
    /// keys) hash the whole address, so the sixteen don't all match one another's tag.
    /// Keyed, so that clients, who can ask for addresses, can't choose ones that pile up.
    fn table_hash(self, hasher: &FixedState) -> u64;
}

const TAG: u64 = 0xFE00_0000_0000_0000;

impl Address for u32 {
    #[inline]
    fn offset_from(self, start: Self) -> u64 {
        u64::from(self - start)
    }

    #[inline]
    fn at_offset(start: Self, offset: u64) -> Self {
        start + offset as u32
    }

    #[inline]
    fn table_hash(self, hasher: &FixedState) -> u64 {
        let block = hasher.hash_one(self >> 4);
        (hasher.hash_one(self) & TAG) | (block & !TAG & !0xF) | u64::from(self & 0xF)
    }
}

impl Address for u64 {
    #[inline]
    fn offset_from(self, start: Self) -> u64 {
        self - start
    }

    #[inline]
    fn at_offset(start: Self, offset: u64) -> Self {
        start + offset
    }

    #[inline]
    fn table_hash(self, hasher: &FixedState) -> u64 {
        let block = hasher.hash_one(self >> 4);
        (hasher.hash_one(self) & TAG) | (block & !TAG & !0xF) | (self & 0xF)
    }
}

impl Address for u128 {
    #[inline]
    fn offset_from(self, start: Self) -> u64 {
        (self - start) as u64
    }

    #[inline]
    fn at_offset(start: Self, offset: u64) -> Self {
        start + u128::from(offset)
    }

    #[inline]
    fn table_hash(self, hasher: &FixedState) -> u64 {
        let block = hasher.hash_one(self >> 4);
        (hasher.hash_one(self) & TAG) | (block & !TAG & !0xF) | (self as u64 & 0xF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_trip_and_neighbours_share_a_block() {
        let h = FixedState::with_seed(3);
        let start = 0x2001_0db8_0000_0000_0000_0000_0000_1000u128;
        let a = u128::at_offset(start, 77);
        assert_eq!(a.offset_from(start), 77);
        assert_eq!(u32::at_offset(10, 5).offset_from(10), 5);
        assert_eq!(u64::at_offset(1 << 40, 9).offset_from(1 << 40), 9);
        // Sixteen neighbours differ only in the low four position bits.
        let base = start & !0xF;
        let pos = |x: u128| x.table_hash(&h) & !TAG;
        for i in 1..16 {
            assert_eq!(pos(base + i) & !0xF, pos(base) & !0xF);
            assert_eq!(pos(base + i) & 0xF, i as u64);
        }
    }
}
