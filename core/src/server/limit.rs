//! [`RateLimit`]: at most so many requests a second from one client, in fixed memory.

use alloc::vec;
use alloc::vec::Vec;

/// Slots in the table: clients whose hashes share a slot evict each other.
const SLOTS: usize = 4096;

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    client: u32,
    second: u32,
    count: u32,
}

/// Counts each client's requests in the current second, in a table of fixed size
/// allocated once, so that a flood from millions of addresses costs no memory.
///
/// A client is its keyed hash (a flooder cannot choose which slot it lands in). Two
/// clients in one slot evict each other and restart their counts: the limiter fails
/// open, never shutting out a client it merely lost track of.
#[derive(Debug)]
pub(crate) struct RateLimit {
    per_second: u32,
    slots: Vec<Slot>,
}

impl RateLimit {
    /// A limit of `per_second` requests a second per client.
    pub(crate) fn new(per_second: u32) -> Self {
        RateLimit {
            per_second,
            slots: vec![Slot::default(); SLOTS],
        }
    }

    /// Counts one request from `client` in `second`; false when it is over the limit.
    pub(crate) fn allow(&mut self, client: u64, second: u32) -> bool {
        let Some(slot) = self.slots.get_mut(client as usize % SLOTS) else {
            return true;
        };
        let id = (client >> 32) as u32;
        if slot.client != id || slot.second != second {
            *slot = Slot {
                client: id,
                second,
                count: 1,
            };
            return true;
        }
        slot.count = slot.count.saturating_add(1);
        slot.count <= self.per_second
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_excess_of_one_second_is_refused_and_the_next_second_starts_over() {
        let mut l = RateLimit::new(3);
        let a = 0x1234_5678_0000_0001;
        let b = 0x9999_0000_0000_0002;
        assert_eq!((0..5).filter(|_| l.allow(a, 7)).count(), 3);
        assert_eq!(
            (0..5).filter(|_| l.allow(b, 7)).count(),
            3,
            "another client"
        );
        assert!(l.allow(a, 8));
    }
}
