//! [`BitSet`]: a set of small integers as a hierarchy of bitmaps, so that membership,
//! insertion, removal and "the smallest member" each touch one word per level (four
//! levels cover 2^32 values) instead of walking a tree of nodes.

use alloc::vec::Vec;

/// Levels above the bits themselves: each word of one level says which words of the level
/// below are not zero. With 64-bit words, the top level has one word per 2^24 values.
const LEVELS: usize = 4;

/// A set of `u32`s. Memory grows with the largest member ever inserted (one bit per value
/// up to it, plus 1/64 of that for the upper levels), not with the number of members.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitSet {
    /// `words[0]` holds the members' bits; bit `i` of `words[l + 1]` is set when word `i`
    /// of `words[l]` is not zero.
    words: [Vec<u64>; LEVELS],
    len: usize,
}

impl BitSet {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn contains(&self, v: u32) -> bool {
        let v = v as usize;
        self.words[0]
            .get(v / 64)
            .is_some_and(|w| w & (1 << (v % 64)) != 0)
    }

    /// Adds `v`; false if it was already there.
    pub(crate) fn insert(&mut self, v: u32) -> bool {
        let mut i = v as usize;
        for (level, words) in self.words.iter_mut().enumerate() {
            let (w, bit) = (i / 64, 1u64 << (i % 64));
            if words.len() <= w {
                words.resize(w + 1, 0);
            }
            let was = words[w];
            words[w] |= bit;
            if level == 0 {
                if was & bit != 0 {
                    return false;
                }
                self.len += 1;
            }
            if was != 0 {
                break;
            }
            i = w;
        }
        true
    }

    /// Takes `v` out; false if it was not there.
    pub(crate) fn remove(&mut self, v: u32) -> bool {
        if !self.contains(v) {
            return false;
        }
        self.len -= 1;
        let mut i = v as usize;
        for words in &mut self.words {
            let w = i / 64;
            words[w] &= !(1u64 << (i % 64));
            if words[w] != 0 {
                break;
            }
            i = w;
        }
        true
    }

    /// The smallest member.
    pub(crate) fn first(&self) -> Option<u32> {
        let top = &self.words[LEVELS - 1];
        let w = top.iter().position(|&w| w != 0)?;
        let mut i = w * 64 + top[w].trailing_zeros() as usize;
        for words in self.words[..LEVELS - 1].iter().rev() {
            i = i * 64 + words[i].trailing_zeros() as usize;
        }
        Some(i as u32)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::BitSet;

    #[test]
    fn finds_members_through_every_level() {
        let mut s = BitSet::default();
        let far = (1 << 25) + 7;
        assert!(s.insert(far));
        assert!(s.insert(1 << 24));
        assert!(!s.insert(far));
        assert_eq!(s.first(), Some(1 << 24));
        assert!(s.remove(1 << 24));
        assert_eq!(s.first(), Some(far));
        assert!(s.remove(far));
        assert!(!s.remove(far));
        assert_eq!((s.first(), s.len()), (None, 0));
    }

    proptest! {
        /// The set against `BTreeSet`, with values spread over several levels.
        #[test]
        fn matches_a_btree_set(ops in proptest::collection::vec((any::<bool>(), 0u32..300_000), 0..400)) {
            let mut s = BitSet::default();
            let mut model = BTreeSet::new();
            for (add, v) in ops {
                if add {
                    prop_assert_eq!(s.insert(v), model.insert(v));
                } else {
                    prop_assert_eq!(s.remove(v), model.remove(&v));
                }
                prop_assert_eq!(s.len(), model.len());
                prop_assert_eq!(s.first(), model.first().copied());
                prop_assert_eq!(s.contains(v), model.contains(&v));
            }
        }
    }
}
