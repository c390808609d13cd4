//! [`Timers`]: when each binding next needs attention, in deadline order.

use alloc::collections::{BTreeSet, VecDeque};
use alloc::vec::Vec;

use super::address::Address;

/// A deadline in whole seconds after the server's epoch (rounded up, so never early):
/// four bytes a binding instead of eight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Deadline(pub(crate) u32);

impl Deadline {
    pub(crate) const NEVER: Deadline = Deadline(u32::MAX);
}

/// One timer entry: when, and the address of the binding it is for. Ordered by deadline,
/// then address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Due<A> {
    /// When.
    pub(crate) at: Deadline,
    /// The binding's address.
    pub(crate) address: A,
}

/// How many in-order runs are kept before out-of-order deadlines go to the tree.
const RUNS: usize = 8;

/// Deadlines of addresses, earliest first.
///
/// Nearly every deadline is `now + d` for one of a few durations `d` (the offer hold, a
/// subnet's lease time, the decline probation), so deadlines of one duration arrive in
/// order: each such run is a FIFO queue, and adding to it is O(1) whatever the number of
/// leases. A deadline that fits no run goes to a B-tree.
///
/// Entries are never taken out early. An entry whose address's binding has since moved
/// to another deadline, or gone, is stale: [`Timers::pop_due`] returns it and the caller
/// skips it by comparing with the binding. A stale entry lives until its own deadline,
/// so a binding usually has one or two entries (a renewal adds one before the old one is
/// due); clients that renew again and again would pile up more, so the owner calls
/// [`Timers::rebuild`] with its live deadlines when [`Timers::len`] outgrows its bindings.
#[derive(Debug)]
pub(crate) struct Timers<A> {
    runs: Vec<VecDeque<Due<A>>>,
    other: BTreeSet<Due<A>>,
    len: usize,
}

impl<A> Default for Timers<A> {
    fn default() -> Self {
        Timers {
            runs: Vec::new(),
            other: BTreeSet::new(),
            len: 0,
        }
    }
}

impl<A: Address> Timers<A> {
    /// Adds `until` for address `a`. A deadline that never comes is not kept.
    pub(crate) fn insert(&mut self, until: Deadline, a: A) {
        if until == Deadline::NEVER {
            return;
        }
        self.len += 1;
        // The run whose last deadline is the latest one not after `until` keeps the runs
        // tight; an empty run takes anything.
        let mut best: Option<(usize, Option<Deadline>)> = None;
        for (i, run) in self.runs.iter().enumerate() {
            let last = run.back().map(|e| e.at);
            if last.is_some_and(|d| d > until) {
                continue;
            }
            if best.is_none_or(|(_, b)| last > b) {
                best = Some((i, last));
            }
        }
        match best {
            Some((i, _)) => self.runs[i].push_back(Due {
                at: until,
                address: a,
            }),
            None if self.runs.len() < RUNS => {
                let mut run = VecDeque::new();
                run.push_back(Due {
                    at: until,
                    address: a,
                });
                self.runs.push(run);
            }
            None => {
                if !self.other.insert(Due {
                    at: until,
                    address: a,
                }) {
                    self.len -= 1;
                }
            }
        }
    }

    /// The earliest deadline held (possibly a stale one).
    pub(crate) fn first(&self) -> Option<Deadline> {
        let runs = self.runs.iter().filter_map(|r| r.front().map(|e| e.at));
        runs.chain(self.other.first().map(|e| e.at)).min()
    }

    /// Takes the earliest entry if its deadline is at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Deadline) -> Option<Due<A>> {
        let mut best: Option<(usize, Deadline)> = None;
        for (i, run) in self.runs.iter().enumerate() {
            if let Some(&Due { at: d, .. }) = run.front() {
                if d <= now && best.is_none_or(|(_, b)| d < b) {
                    best = Some((i, d));
                }
            }
        }
        let tree = self.other.first().copied().filter(|e| e.at <= now);
        let popped = match (best, tree) {
            (Some((_, d)), Some(t)) if t.at < d => self.other.pop_first(),
            (Some((i, _)), _) => self.runs[i].pop_front(),
            (None, Some(_)) => self.other.pop_first(),
            (None, None) => None,
        };
        self.len -= usize::from(popped.is_some());
        popped
    }

    /// Entries held, stale ones included.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Replaces every entry with `live` (duplicates dropped): one sort, O(n log n), with
    /// no lookup per old entry, so that a server with a million leases drops its stale
    /// entries in a few tens of milliseconds rather than by a million random reads.
    pub(crate) fn rebuild(&mut self, mut live: Vec<Due<A>>) {
        live.retain(|e| e.at != Deadline::NEVER);
        live.sort_unstable();
        live.dedup();
        self.len = live.len();
        self.other.clear();
        self.runs.clear();
        self.runs.push(VecDeque::from(live));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_deadline_order_whatever_the_insert_order() {
        let mut t = Timers::<u32>::default();
        // Three durations interleaved, plus deadlines out of any order (more than RUNS).
        let mut expected = Vec::new();
        for i in 0..50u32 {
            for (k, d) in [(0, 60), (1, 3600), (2, 86_400)] {
                let at = Deadline(i * 7 + d);
                t.insert(at, i * 3 + k);
                expected.push(Due {
                    at,
                    address: i * 3 + k,
                });
            }
            let odd = Deadline((i * 7919) % 5000);
            t.insert(odd, 100_000 + i);
            expected.push(Due {
                at: odd,
                address: 100_000 + i,
            });
        }
        t.insert(Deadline::NEVER, 7);
        assert_eq!(t.len(), expected.len());
        expected.sort();
        let mut popped = Vec::new();
        while let Some(e) = t.pop_due(Deadline(u32::MAX - 1)) {
            popped.push(e);
        }
        let deadlines = |v: &[Due<u32>]| v.iter().map(|e| e.at).collect::<Vec<_>>();
        assert_eq!(deadlines(&popped), deadlines(&expected));
        assert_eq!(t.first(), None);
    }

    #[test]
    fn rebuild_keeps_only_the_live_entries_in_order() {
        let mut t = Timers::<u32>::default();
        for a in 0..10 {
            t.insert(Deadline(100 + a), a);
            t.insert(Deadline(5000 - a), a);
        }
        t.rebuild(alloc::vec![
            Due {
                at: Deadline(108),
                address: 8
            },
            Due {
                at: Deadline(4999),
                address: 1
            },
            Due {
                at: Deadline(108),
                address: 8
            },
            Due {
                at: Deadline::NEVER,
                address: 3
            },
        ]);
        assert_eq!(t.len(), 2);
        t.insert(Deadline(200), 4);
        assert_eq!(
            t.pop_due(Deadline(9000)),
            Some(Due {
                at: Deadline(108),
                address: 8
            })
        );
        assert_eq!(
            t.pop_due(Deadline(9000)),
            Some(Due {
                at: Deadline(200),
                address: 4
            })
        );
        assert_eq!(
            t.pop_due(Deadline(9000)),
            Some(Due {
                at: Deadline(4999),
                address: 1
            })
        );
        assert_eq!(t.pop_due(Deadline(9000)), None);
    }

    #[test]
    fn only_due_entries_pop() {
        let mut t = Timers::<u32>::default();
        t.insert(Deadline(10), 1);
        t.insert(Deadline(20), 2);
        assert_eq!(t.first(), Some(Deadline(10)));
        assert_eq!(t.pop_due(Deadline(9)), None);
        assert_eq!(
            t.pop_due(Deadline(15)),
            Some(Due {
                at: Deadline(10),
                address: 1
            })
        );
        assert_eq!(t.pop_due(Deadline(15)), None);
        assert_eq!(t.first(), Some(Deadline(20)));
    }
}
