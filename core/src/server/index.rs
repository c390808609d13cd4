//! [`ClientIndex`]: each client's address, by a 32-bit keyed hash of the client.
//!
//! An open-addressing table with linear probing whose slots hold key and value together
//! (eight bytes), so that looking a client up and then indexing it touch one cache line:
//! at a million clients a new client costs one cache miss here, where a table with its
//! control bytes apart from its entries costs two. Removal shifts the entries behind back,
//! so no tombstones pile up as clients come and go. The keys are already keyed hashes, so
//! their low bits pick the slot as they are.

use alloc::vec::Vec;

/// Key 0 marks an empty slot, so a key of 0 is stored as 1: the caller's collision
/// handling (another client's address under the same key) covers the two sharing a slot.
fn stored(key: u32) -> u32 {
    key.max(1)
}

/// Client hash → address.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientIndex {
    /// `key << 32 | address`, or 0 for an empty slot; a power of two long (or empty).
    slots: Vec<u64>,
    len: usize,
}

impl ClientIndex {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Where `key` is, or the empty slot where it would go.
    fn find(&self, key: u32) -> usize {
        let mask = self.mask();
        let mut i = key as usize & mask;
        loop {
            let s = self.slots[i];
            if s == 0 || (s >> 32) as u32 == key {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    pub(crate) fn get(&self, key: u32) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let s = self.slots[self.find(stored(key))];
        (s != 0).then_some(s as u32)
    }

    /// Sets `key`'s address, replacing any it had.
    pub(crate) fn insert(&mut self, key: u32, address: u32) {
        self.reserve(1);
        let key = stored(key);
        let i = self.find(key);
        self.len += usize::from(self.slots[i] == 0);
        self.slots[i] = (u64::from(key) << 32) | u64::from(address);
    }

    pub(crate) fn remove(&mut self, key: u32) {
        if self.slots.is_empty() {
            return;
        }
        let mask = self.mask();
        let mut hole = self.find(stored(key));
        if self.slots[hole] == 0 {
            return;
        }
        self.len -= 1;
        // Move back every entry after the hole whose home is not between the hole and it,
        // so that no probe from a home stops at the hole before reaching its entry.
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s == 0 {
                break;
            }
            let home = (s >> 32) as usize & mask;
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = 0;
    }

    /// Makes room for `more` entries (the table stays at most three quarters full).
    pub(crate) fn reserve(&mut self, more: usize) {
        let need = self.len + more;
        if need * 4 <= self.slots.len() * 3 {
            return;
        }
        let size = (need * 4 / 3 + 1).next_power_of_two().max(16);
        let old = core::mem::replace(&mut self.slots, alloc::vec![0; size]);
        for s in old.into_iter().filter(|&s| s != 0) {
            let i = self.find((s >> 32) as u32);
            self.slots[i] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::ClientIndex;

    /// Keys crowded into few slots, 0 and 1 among them.
    fn key_of(k: u32) -> u32 {
        match k {
            39 => 0,
            38 => 1,
            _ => k
                .wrapping_mul(16)
                .wrapping_sub(u32::from(k.is_multiple_of(3)) * 17),
        }
    }

    proptest! {
        /// The index against `HashMap`, with keys crowded into few slots (so that probe
        /// runs wrap around the table's end and removals shift entries back).
        #[test]
        fn matches_a_hash_map(ops in proptest::collection::vec((0u8..3, 0u32..40, any::<u32>()), 0..500)) {
            let mut index = ClientIndex::default();
            let mut model: HashMap<u32, u32> = HashMap::new();
            for (op, k, a) in ops {
                // Keys 0 and 1 share a slot by design; the model does the same.
                let key = key_of(k);
                let mk = key.max(1);
                match op {
                    0 => {
                        index.insert(key, a);
                        model.insert(mk, a);
                    }
                    1 => {
                        index.remove(key);
                        model.remove(&mk);
                    }
                    _ => {}
                }
                prop_assert_eq!(index.len(), model.len());
                for probe in 0..40u32 {
                    let key = key_of(probe);
                    prop_assert_eq!(index.get(key), model.get(&key.max(1)).copied(), "key {}", key);
                }
            }
        }
    }
}
