//! [`ClassId`] and [`ClassSet`]: which classes a client is in, as a fixed-size bit set.

use core::fmt;

/// One class: an index into [`ServerConfig::classes`](crate::server::ServerConfig::classes),
/// or one of the two built-in classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassId(pub u8);

impl ClassId {
    /// Built in: the request is BOOTP, not DHCP (no message type; Kea's `BOOTP`).
    pub const BOOTP: ClassId = ClassId(253);
    /// Built in: the client has a reservation in the subnet it asks on (Kea's `KNOWN`).
    pub const KNOWN: ClassId = ClassId(254);
    /// Built in: the client has no reservation there (Kea's `UNKNOWN`).
    pub const UNKNOWN: ClassId = ClassId(255);
    /// Most classes a configuration may define: the ids below the built-in ones.
    pub const MAX_CONFIGURED: usize = 253;

    /// The names of the built-in classes.
    pub const BUILTIN_NAMES: [&'static str; 3] = ["known", "unknown", "bootp"];

    /// The built-in class called `name` (`known`, `unknown`, `bootp`).
    pub fn builtin(name: &str) -> Option<ClassId> {
        match name {
            "known" => Some(ClassId::KNOWN),
            "bootp" => Some(ClassId::BOOTP),
            "unknown" => Some(ClassId::UNKNOWN),
            _ => None,
        }
    }

    /// Whether this is one of the built-in classes.
    pub fn is_builtin(self) -> bool {
        self == ClassId::KNOWN || self == ClassId::UNKNOWN || self == ClassId::BOOTP
    }
}

/// A set of [`ClassId`]s; copying and testing it never allocates.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ClassSet([u64; 4]);

/// The built-in classes' bits (253..=255) in the set's last word.
const BUILTIN_BITS: u64 = 0b111 << 61;

impl ClassSet {
    /// No class.
    pub const EMPTY: ClassSet = ClassSet([0; 4]);

    /// The set holding `ids`.
    pub fn of(ids: impl IntoIterator<Item = ClassId>) -> Self {
        let mut s = ClassSet::EMPTY;
        for id in ids {
            s.insert(id);
        }
        s
    }

    /// Adds `id`.
    #[inline]
    pub fn insert(&mut self, id: ClassId) {
        self.0[usize::from(id.0 >> 6)] |= 1 << (id.0 & 63);
    }

    /// Whether `id` is in the set.
    #[inline]
    pub fn contains(&self, id: ClassId) -> bool {
        self.0[usize::from(id.0 >> 6)] & (1 << (id.0 & 63)) != 0
    }

    /// Whether the set is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        let [a, b, c, d] = self.0;
        a | b | c | d == 0
    }

    /// Whether the two sets share a class.
    #[inline]
    pub fn intersects(&self, other: &ClassSet) -> bool {
        self.0.iter().zip(other.0).any(|(a, b)| a & b != 0)
    }

    /// The classes in either set.
    #[inline]
    pub fn or(&self, other: &ClassSet) -> ClassSet {
        let mut out = *self;
        for (a, b) in out.0.iter_mut().zip(other.0) {
            *a |= b;
        }
        out
    }

    /// The built-in classes of the set.
    #[inline]
    pub fn builtins(&self) -> ClassSet {
        let mut out = ClassSet::EMPTY;
        out.0[3] = self.0[3] & BUILTIN_BITS;
        out
    }

    /// The set without the built-in classes.
    #[inline]
    pub fn configured(&self) -> ClassSet {
        let mut out = *self;
        out.0[3] &= !BUILTIN_BITS;
        out
    }

    /// The classes in both sets.
    #[inline]
    pub fn and(&self, other: &ClassSet) -> ClassSet {
        let mut out = *self;
        for (a, b) in out.0.iter_mut().zip(other.0) {
            *a &= b;
        }
        out
    }

    /// The classes in the set, lowest id (earliest in the configuration) first.
    #[inline]
    pub fn iter(self) -> impl Iterator<Item = ClassId> {
        Ids {
            words: self.0,
            word: 0,
        }
    }
}

/// The ids of a [`ClassSet`], lowest first.
struct Ids {
    words: [u64; 4],
    word: usize,
}

impl Iterator for Ids {
    type Item = ClassId;

    #[inline]
    fn next(&mut self) -> Option<ClassId> {
        while let Some(w) = self.words.get_mut(self.word) {
            if *w != 0 {
                let bit = w.trailing_zeros();
                *w &= *w - 1;
                return Some(ClassId((self.word as u32 * 64 + bit) as u8));
            }
            self.word += 1;
        }
        None
    }
}

impl fmt::Debug for ClassSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(|c| c.0)).finish()
    }
}

/// Which clients may take addresses from a pool, by class (Kea's `client-class` and
/// `require-client-classes`, dnsmasq's tags on a range).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolClasses {
    /// Only clients in one of these classes; empty: every client not denied.
    pub allow: ClassSet,
    /// No client in one of these classes.
    pub deny: ClassSet,
}

impl PoolClasses {
    /// Open to every client.
    pub const OPEN: PoolClasses = PoolClasses {
        allow: ClassSet::EMPTY,
        deny: ClassSet::EMPTY,
    };

    /// Whether the pool is open to every client.
    #[inline]
    pub fn is_open(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    /// Whether a client in `classes` may take addresses from the pool.
    #[inline]
    pub fn admits(&self, classes: &ClassSet) -> bool {
        (self.allow.is_empty() || self.allow.intersects(classes)) && !self.deny.intersects(classes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_hold_every_id() {
        let mut s = ClassSet::EMPTY;
        for id in [0u8, 63, 64, 127, 200, 254, 255] {
            assert!(!s.contains(ClassId(id)));
            s.insert(ClassId(id));
            assert!(s.contains(ClassId(id)));
        }
        let ids: alloc::vec::Vec<u8> = s.iter().map(|c| c.0).collect();
        assert_eq!(ids, [0, 63, 64, 127, 200, 254, 255]);
    }

    #[test]
    fn pools_admit_by_allow_and_deny() {
        let phones = ClassSet::of([ClassId(1)]);
        let known = ClassSet::of([ClassId::KNOWN]);
        let only_phones = PoolClasses {
            allow: phones,
            deny: ClassSet::EMPTY,
        };
        assert!(only_phones.admits(&phones));
        assert!(!only_phones.admits(&known));
        let not_unknown = PoolClasses {
            allow: ClassSet::EMPTY,
            deny: ClassSet::of([ClassId::UNKNOWN]),
        };
        assert!(not_unknown.admits(&known));
        assert!(!not_unknown.admits(&ClassSet::of([ClassId::UNKNOWN])));
        assert!(PoolClasses::OPEN.admits(&ClassSet::EMPTY));
    }
}
