//! [`Exchanges`]: the classes each client's DISCOVER fell in, kept for the REQUEST of the
//! same exchange (the same `xid`, RFC 2131 section 4.4.1), so that a client that sends what
//! its classes match on only in its DISCOVER (some network boot ROMs leave option 60 out
//! of the REQUEST) keeps them for the whole exchange.

use alloc::vec::Vec;

use super::set::ClassSet;

/// Exchanges remembered; a newer one in the same slot replaces an older one.
const SLOTS: usize = 1024;

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    client: u64,
    xid: u32,
    classes: ClassSet,
}

/// A fixed table of recent DISCOVERs' classes, by client and transaction id; empty (it
/// remembers nothing) by default.
#[derive(Debug, Clone, Default)]
pub(crate) struct Exchanges {
    slots: Vec<Slot>,
}

impl Exchanges {
    /// A table of its full size, allocated once.
    pub(crate) fn full() -> Self {
        Exchanges {
            slots: alloc::vec![Slot::default(); SLOTS],
        }
    }

    fn slot(&self, client: u64, xid: u32) -> usize {
        let n = self.slots.len().max(1) as u64;
        ((client ^ u64::from(xid).rotate_left(17)) % n) as usize
    }

    /// Remembers the classes of a DISCOVER from `client` (its key's hash) with `xid`.
    pub(crate) fn remember(&mut self, client: u64, xid: u32, classes: ClassSet) {
        let i = self.slot(client, xid);
        if let Some(s) = self.slots.get_mut(i) {
            *s = Slot {
                client,
                xid,
                classes,
            };
        }
    }

    /// The classes of `client`'s DISCOVER with `xid`, if still remembered.
    pub(crate) fn recall(&self, client: u64, xid: u32) -> Option<ClassSet> {
        self.slots
            .get(self.slot(client, xid))
            .filter(|s| s.client == client && s.xid == xid && !s.classes.is_empty())
            .map(|s| s.classes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ClassId;

    #[test]
    fn a_request_finds_its_discovers_classes_and_no_other_exchanges() {
        let mut e = Exchanges::full();
        let pxe = ClassSet::of([ClassId(3)]);
        e.remember(42, 7, pxe);
        assert_eq!(e.recall(42, 7), Some(pxe));
        assert_eq!(e.recall(42, 8), None);
        assert_eq!(e.recall(43, 7), None);
    }
}
