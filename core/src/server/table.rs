//! [`Bindings`]: the address → binding table. One flat hash table whose entries carry
//! their own address, so an entry is the binding alone (40 bytes) and not a key beside a
//! binding padded to eight (48): at a million leases that is 17 MB less to keep and to
//! miss in the cache.

use core::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::hash_table::{Entry, HashTable};

use super::lease::ClientKey;
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
pub(crate) struct Binding {
    pub(crate) client: ClientKey,
    /// The address bound; the table's key, set by [`Bindings::insert`].
    pub(crate) address: u32,
    pub(crate) until: Deadline,
    /// For a bound lease: the expiry of its last durable record (0: none yet), which an
    /// ACK may promise while the store cannot write.
    pub(crate) durable: Deadline,
    pub(crate) subnet: u16,
    pub(crate) state: BindingState,
}

/// Bindings by address, with a keyed hash (addresses are chosen by clients).
#[derive(Debug, Clone, Default)]
pub(crate) struct Bindings {
    table: HashTable<Binding>,
    hasher: FixedState,
}

impl Bindings {
    /// An empty table hashing with `seed`.
    pub(crate) fn with_seed(seed: u64) -> Self {
        Bindings {
            table: HashTable::new(),
            hasher: FixedState::with_seed(seed),
        }
    }

    fn hash(&self, a: u32) -> u64 {
        self.hasher.hash_one(a)
    }

    pub(crate) fn get(&self, a: &u32) -> Option<&Binding> {
        self.table.find(self.hash(*a), |b| b.address == *a)
    }

    pub(crate) fn get_mut(&mut self, a: &u32) -> Option<&mut Binding> {
        let h = self.hash(*a);
        self.table.find_mut(h, |b| b.address == *a)
    }

    pub(crate) fn contains_key(&self, a: &u32) -> bool {
        self.get(a).is_some()
    }

    /// Binds `a` (whatever `b.address` said), returning the binding it replaced.
    pub(crate) fn insert(&mut self, a: u32, mut b: Binding) -> Option<Binding> {
        b.address = a;
        let Bindings { table, hasher } = self;
        match table.entry(
            hasher.hash_one(a),
            |x| x.address == a,
            |x| hasher.hash_one(x.address),
        ) {
            Entry::Occupied(mut e) => Some(core::mem::replace(e.get_mut(), b)),
            Entry::Vacant(e) => {
                e.insert(b);
                None
            }
        }
    }

    pub(crate) fn remove(&mut self, a: &u32) -> Option<Binding> {
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
        table.reserve(more, |x| hasher.hash_one(x.address));
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&u32, &Binding)> {
        self.table.iter().map(|b| (&b.address, b))
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &Binding> {
        self.table.iter()
    }
}

impl<'a> IntoIterator for &'a Bindings {
    type Item = (&'a u32, &'a Binding);
    type IntoIter =
        core::iter::Map<hashbrown::hash_table::Iter<'a, Binding>, fn(&Binding) -> (&u32, &Binding)>;

    fn into_iter(self) -> Self::IntoIter {
        self.table.iter().map(|b| (&b.address, b))
    }
}

impl IntoIterator for Bindings {
    type Item = (u32, Binding);
    type IntoIter =
        core::iter::Map<hashbrown::hash_table::IntoIter<Binding>, fn(Binding) -> (u32, Binding)>;

    fn into_iter(self) -> Self::IntoIter {
        self.table.into_iter().map(|b| (b.address, b))
    }
}
