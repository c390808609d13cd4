//! [`Clients`]: each client's current address. [`ClientIndex`] holds it by a 32-bit keyed
//! hash of the client; the rare clients whose hash another's entry already holds are kept
//! apart, by that hash.
//!
//! An open-addressing table with linear probing whose slots hold key and value together
//! (eight bytes for IPv4), so that looking a client up and then indexing it touch one cache line:
//! at a million clients a new client costs one cache miss here, where a table with its
//! control bytes apart from its entries costs two. Removal shifts the entries behind back,
//! so no tombstones pile up as clients come and go. The keys are already keyed hashes, so
//! their low bits pick the slot as they are.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::address::Address;
use super::key::ClientKey;
use super::table::Bindings;

/// Each client's current address, confirmed by the binding at that address (so an entry
/// never needs removing when its binding goes to another client).
#[derive(Debug)]
pub(crate) struct Clients<A> {
    index: ClientIndex<A>,
    /// Clients whose hash another client's entry already holds (rare: about a hundred
    /// among a million clients), by that hash, so that a client not indexed costs an
    /// integer search here, not key comparisons; clients made to share one hash are a
    /// B-tree search among themselves.
    collided: BTreeMap<u32, BTreeMap<ClientKey, A>>,
    /// Keys the hash, so that clients can't choose ids that collide.
    key: u64,
}

impl<A: Address> Clients<A> {
    /// No clients, the hash keyed from `seed`.
    pub(crate) fn with_seed(seed: u64) -> Self {
        Clients {
            index: ClientIndex::default(),
            collided: BTreeMap::new(),
            key: crate::rng::Rng::new(seed ^ 0x5eed).next_u64(),
        }
    }

    /// No clients, the same hash key (a reload indexes the clients it carries over again).
    pub(crate) fn empty_like(&self) -> Self {
        Clients {
            index: ClientIndex::default(),
            collided: BTreeMap::new(),
            key: self.key,
        }
    }

    /// Clients in the index (those in the side map not counted).
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Makes room for `more` clients at once.
    pub(crate) fn reserve(&mut self, more: usize) {
        self.index.reserve(more);
    }

    /// The client's keyed 64-bit hash (its low 32 bits key the index; the rate limit takes
    /// all of it).
    #[inline]
    pub(crate) fn hash(&self, c: &ClientKey) -> u64 {
        // FNV-1a over the key, keyed and finished with a SplitMix64 round.
        let mut h = 0xcbf2_9ce4_8422_2325 ^ self.key;
        for &b in c.as_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^ (h >> 31)
    }

    /// The client's current address, if it has one.
    #[inline]
    pub(crate) fn get(&self, c: &ClientKey, bindings: &Bindings<A>) -> Option<A> {
        let h = self.hash(c) as u32;
        match self.index.get(h) {
            Some(a) if bindings.get(&a).is_some_and(|b| b.client == *c) => Some(a),
            _ if self.collided.is_empty() => None,
            _ => self.collided.get(&h)?.get(c).copied(),
        }
    }

    /// Records `a` as the client's current address.
    pub(crate) fn insert(&mut self, c: &ClientKey, a: A, bindings: &Bindings<A>) {
        let h = self.hash(c) as u32;
        let taken = self
            .index
            .get(h)
            .is_some_and(|x| bindings.get(&x).is_some_and(|b| b.client != *c && x != a));
        if taken {
            self.collided.entry(h).or_default().insert(c.clone(), a);
        } else {
            self.index.insert(h, a);
            if !self.collided.is_empty() {
                self.drop_collided(h, c, None);
            }
        }
    }

    /// Forgets `a` as the client's current address.
    pub(crate) fn remove(&mut self, c: &ClientKey, a: A) {
        let h = self.hash(c) as u32;
        if self.index.get(h) == Some(a) {
            self.index.remove(h);
        } else if !self.collided.is_empty() {
            self.drop_collided(h, c, Some(a));
        }
    }

    /// Removes the client's side-map entry (only if it holds `a`, when given).
    fn drop_collided(&mut self, h: u32, c: &ClientKey, a: Option<A>) {
        if let Some(same) = self.collided.get_mut(&h) {
            if a.is_none_or(|a| same.get(c) == Some(&a)) {
                same.remove(c);
            }
            if same.is_empty() {
                self.collided.remove(&h);
            }
        }
    }
}

/// Key 0 marks an empty slot, so a key of 0 is stored as 1: the caller's collision
/// handling (another client's address under the same key) covers the two sharing a slot.
fn stored(key: u32) -> u32 {
    key.max(1)
}

/// One slot: a client's key (0: empty) and its address.
#[derive(Debug, Clone, Copy, Default)]
struct Slot<A> {
    key: u32,
    address: A,
}

/// Client hash → address.
#[derive(Debug, Clone)]
pub(crate) struct ClientIndex<A> {
    /// A power of two long (or empty).
    slots: Vec<Slot<A>>,
    len: usize,
}

impl<A> Default for ClientIndex<A> {
    fn default() -> Self {
        ClientIndex {
            slots: Vec::new(),
            len: 0,
        }
    }
}

impl<A: Address> ClientIndex<A> {
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
            let s = self.slots[i].key;
            if s == 0 || s == key {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    pub(crate) fn get(&self, key: u32) -> Option<A> {
        if self.slots.is_empty() {
            return None;
        }
        let s = self.slots[self.find(stored(key))];
        (s.key != 0).then_some(s.address)
    }

    /// Sets `key`'s address, replacing any it had.
    pub(crate) fn insert(&mut self, key: u32, address: A) {
        self.reserve(1);
        let key = stored(key);
        let i = self.find(key);
        self.len += usize::from(self.slots[i].key == 0);
        self.slots[i] = Slot { key, address };
    }

    pub(crate) fn remove(&mut self, key: u32) {
        if self.slots.is_empty() {
            return;
        }
        let mask = self.mask();
        let mut hole = self.find(stored(key));
        if self.slots[hole].key == 0 {
            return;
        }
        self.len -= 1;
        // Move back every entry after the hole whose home is not between the hole and it,
        // so that no probe from a home stops at the hole before reaching its entry.
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s.key == 0 {
                break;
            }
            let home = s.key as usize & mask;
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
        self.slots[hole] = Slot::default();
    }

    /// Makes room for `more` entries (the table stays at most three quarters full).
    pub(crate) fn reserve(&mut self, more: usize) {
        let need = self.len + more;
        if need * 4 <= self.slots.len() * 3 {
            return;
        }
        let size = (need * 4 / 3 + 1).next_power_of_two().max(16);
        let old = core::mem::replace(&mut self.slots, alloc::vec![Slot::default(); size]);
        for s in old.into_iter().filter(|s| s.key != 0) {
            let i = self.find(s.key);
            self.slots[i] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::{ClientIndex, Clients};
    use crate::lease::key::ClientKey;
    use crate::lease::table::{Binding, BindingState, Bindings};
    use crate::lease::timers::Deadline;

    fn bind(bindings: &mut Bindings<u32>, clients: &mut Clients<u32>, c: &ClientKey, a: u32) {
        bindings.insert(
            a,
            Binding {
                address: a,
                client: c.clone(),
                state: BindingState::Bound,
                until: Deadline(100),
                durable: Deadline(0),
                subnet: 0,
            },
        );
        clients.insert(c, a, bindings);
    }

    /// Two clients whose index hashes collide (a birthday search over hardware keys).
    fn colliding(clients: &Clients<u32>) -> (ClientKey, ClientKey) {
        let mut seen = HashMap::<u32, ClientKey>::new();
        for i in 0u32.. {
            let b = i.to_be_bytes();
            let k = ClientKey::hardware(1, &[2, 0, b[0], b[1], b[2], b[3]]);
            if let Some(first) = seen.insert(clients.hash(&k) as u32, k.clone()) {
                return (first, k);
            }
        }
        unreachable!()
    }

    #[test]
    fn clients_whose_hashes_collide_each_keep_their_own_address() {
        let (mut b, mut c) = (Bindings::with_seed(1), Clients::with_seed(1));
        let (one, two) = colliding(&c);
        let other = ClientKey::hardware(1, &[9; 6]);
        bind(&mut b, &mut c, &one, 10);
        bind(&mut b, &mut c, &two, 20);
        assert_eq!(c.collided.len(), 1, "the second client went to `collided`");
        assert_eq!(c.get(&one, &b), Some(10));
        assert_eq!(c.get(&two, &b), Some(20));
        assert_eq!(c.get(&other, &b), None);
        // Moving the collided client, then forgetting the first: the second stays found.
        b.remove(&20);
        bind(&mut b, &mut c, &two, 30);
        assert_eq!(c.get(&two, &b), Some(30));
        c.remove(&one, 10);
        b.remove(&10);
        assert_eq!(c.get(&one, &b), None);
        assert_eq!(c.get(&two, &b), Some(30));
        c.remove(&two, 30);
        assert_eq!(c.get(&two, &b), None);
        assert!(c.collided.is_empty());
    }

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
            let mut index = ClientIndex::<u32>::default();
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
