//! [`Bindings`]: the address → binding table. One flat hash table whose entries carry
//! their own address, so an entry is the binding alone (40 bytes) and not a key beside a
//! binding padded to eight (48): at a million leases that is 17 MB less to keep and to
//! miss in the cache.

use foldhash::fast::FixedState;
use hashbrown::hash_table::{Entry, HashTable};

use super::address::Address;
use super::key::ClientKey;
use super::timers::Deadline;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BindingState {
    Offered,
    Bound,
    /// Released or expired: free, remembered so the client gets it back.
    Recent,
    Declined,
    /// Persisting failed (another server holds it, or the store is down): out of use.
    Conflict,
}

#[derive(Debug, Clone)]
pub(crate) struct Binding<A> {
    pub(crate) client: ClientKey,
    /// The address bound; the table's key, set by [`Bindings::insert`].
    pub(crate) address: A,
    pub(crate) until: Deadline,
    /// For a bound lease: the expiry of its last durable record (0: none yet), which an
    /// ACK may promise while the store cannot write.
    pub(crate) durable: Deadline,
    /// The subnet (for a delegated prefix, the prefix pool) it belongs to, by index.
    pub(crate) subnet: u16,
    pub(crate) state: BindingState,
}

fn hash<A: Address>(hasher: &FixedState, a: A) -> u64 {
    a.table_hash(hasher)
}

/// Bindings by address, with a keyed hash (addresses are chosen by clients).
#[derive(Debug, Clone)]
pub(crate) struct Bindings<A> {
    table: HashTable<Binding<A>>,
    hasher: FixedState,
}

impl<A> Default for Bindings<A> {
    fn default() -> Self {
        Bindings {
            table: HashTable::new(),
            hasher: FixedState::default(),
        }
    }
}

impl<A: Address> Bindings<A> {
    /// An empty table hashing with `seed`.
    pub(crate) fn with_seed(seed: u64) -> Self {
        Bindings {
            table: HashTable::new(),
            hasher: FixedState::with_seed(seed),
        }
    }

    /// An empty table with the same hash key.
    pub(crate) fn empty_like(&self) -> Self {
        Bindings {
            table: HashTable::new(),
            hasher: self.hasher.clone(),
        }
    }

    fn hash(&self, a: A) -> u64 {
        hash(&self.hasher, a)
    }

    pub(crate) fn get(&self, a: &A) -> Option<&Binding<A>> {
        self.table.find(self.hash(*a), |b| b.address == *a)
    }

    pub(crate) fn get_mut(&mut self, a: &A) -> Option<&mut Binding<A>> {
        let h = self.hash(*a);
        self.table.find_mut(h, |b| b.address == *a)
    }

    pub(crate) fn contains_key(&self, a: &A) -> bool {
        self.get(a).is_some()
    }

    /// Binds `a` (whatever `b.address` said), returning the binding it replaced.
    pub(crate) fn insert(&mut self, a: A, mut b: Binding<A>) -> Option<Binding<A>> {
        b.address = a;
        let Bindings { table, hasher } = self;
        match table.entry(
            hash(hasher, a),
            |x| x.address == a,
            |x| hash(hasher, x.address),
        ) {
            Entry::Occupied(mut e) => Some(core::mem::replace(e.get_mut(), b)),
            Entry::Vacant(e) => {
                e.insert(b);
                None
            }
        }
    }

    pub(crate) fn remove(&mut self, a: &A) -> Option<Binding<A>> {
        let h = self.hash(*a);
        self.table
            .find_entry(h, |b| b.address == *a)
            .ok()
            .map(|e| e.remove().0)
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Makes room for `more` bindings.
    pub(crate) fn reserve(&mut self, more: usize) {
        let Bindings { table, hasher } = self;
        table.reserve(more, |x| hash(hasher, x.address));
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&A, &Binding<A>)> {
        self.table.iter().map(|b| (&b.address, b))
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &Binding<A>> {
        self.table.iter()
    }
}

impl<'a, A> IntoIterator for &'a Bindings<A> {
    type Item = (&'a A, &'a Binding<A>);
    type IntoIter = core::iter::Map<
        hashbrown::hash_table::Iter<'a, Binding<A>>,
        fn(&Binding<A>) -> (&A, &Binding<A>),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.table.iter().map(|b| (&b.address, b))
    }
}

impl<A: Copy> IntoIterator for Bindings<A> {
    type Item = (A, Binding<A>);
    type IntoIter = core::iter::Map<
        hashbrown::hash_table::IntoIter<Binding<A>>,
        fn(Binding<A>) -> (A, Binding<A>),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.table.into_iter().map(|b| (b.address, b))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    fn binding(last: u8) -> Binding<u32> {
        Binding {
            client: ClientKey::hardware(1, &[2, 0, 0, 0, 0, last]),
            address: 0,
            until: Deadline(10),
            durable: Deadline(0),
            subnet: 0,
            state: BindingState::Bound,
        }
    }

    #[test]
    fn entries_are_found_replaced_and_removed_by_address() {
        let mut t = Bindings::<u32>::with_seed(7);
        for a in 0..1000u32 {
            assert!(t.insert(a * 7, binding(a as u8)).is_none());
        }
        assert_eq!(t.len(), 1000);
        assert_eq!(t.get(&(7 * 9)).map(|b| b.address), Some(63));
        assert!(t.get(&1).is_none());
        let old = t.insert(63, binding(200)).expect("replaced");
        assert_eq!(old.client, binding(9).client);
        assert_eq!(t.len(), 1000);
        t.get_mut(&63).expect("there").state = BindingState::Recent;
        assert_eq!(t.remove(&63).map(|b| b.state), Some(BindingState::Recent));
        assert!(!t.contains_key(&63));
        let mut seen: std::vec::Vec<u32> = t
            .iter()
            .map(|(a, b)| {
                assert_eq!(*a, b.address);
                *a
            })
            .collect();
        seen.sort_unstable();
        assert_eq!(seen.len(), 999);
        assert_eq!(t.clone().into_iter().count(), 999);
        let mut moved = t.empty_like();
        moved.reserve(10);
        assert!(moved.insert(5, binding(1)).is_none());
        assert_eq!(moved.get(&5).map(|b| b.address), Some(5));
    }
}
