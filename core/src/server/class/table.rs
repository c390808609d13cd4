//! [`Classes`]: the configured classes as the machine runs them: each one's compiled
//! match, option table, boot settings and lease times, and the classification of a request.

use alloc::vec::Vec;

use super::exchange::Exchanges;
use super::model::{Boot, ClassConfig};
use super::program::{Program, Request};
use super::set::{ClassId, ClassSet};
use crate::server::config::LeaseTimes;
use crate::server::options::OptionTable;

/// One class as the machine runs it.
#[derive(Debug, Clone)]
pub(crate) struct Class {
    program: Option<Program>,
    pub(crate) options: OptionTable,
    pub(crate) boot: Boot,
    pub(crate) lease: LeaseTimes,
}

/// A set of classes that carry something, by its index among those seen (0: none), so
/// that a reply and the option cache name it by one byte.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Group(pub(crate) u8);

/// Most distinct groups kept; when a new one comes past it, all are forgotten (and the
/// option cache with them) and numbering starts again.
const GROUPS: usize = 64;

/// Every configured class, in configuration order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Classes {
    list: Vec<Class>,
    /// The classes whose members get something (options, boot settings, lease times):
    /// a reply depends on the client's classes only through these.
    carrying: ClassSet,
    /// The groups seen: group `n` is `groups[n - 1]`.
    groups: heapless::Vec<Grouped, GROUPS>,
    /// The classes of recent DISCOVERs, for their REQUESTs (made with the first class).
    exchanges: Exchanges,
}

/// What a group's classes give, worked out once when the group is first seen.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grouped {
    /// The classes.
    pub(crate) set: ClassSet,
    /// Their lease times merged, the first class's winning.
    pub(crate) lease: LeaseTimes,
    /// Whether any of them sets a lease time.
    pub(crate) sets_lease: bool,
    /// For the next server, server name and boot file: the first class that sets it.
    pub(crate) boot_from: [Option<u8>; 3],
}

/// Grouped with no class.
const NO_GROUP: Grouped = Grouped {
    set: ClassSet::EMPTY,
    lease: LeaseTimes {
        default: None,
        min: None,
        max: None,
        renewal: None,
        rebinding: None,
    },
    sets_lease: false,
    boot_from: [None; 3],
};

impl Classes {
    /// The classes of a (validated) configuration.
    pub(crate) fn new(config: &[ClassConfig]) -> Self {
        let mut carrying = ClassSet::EMPTY;
        let list: Vec<Class> = config
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let class = Class {
                    program: c.matches.as_ref().map(Program::compile),
                    options: OptionTable::new(&c.options),
                    boot: c.boot.clone(),
                    lease: c.lease,
                };
                let empty_lease = c.lease == LeaseTimes::default();
                if !c.options.is_empty() || !class.boot.is_empty() || !empty_lease {
                    carrying.insert(ClassId(i as u8));
                }
                class
            })
            .collect();
        Classes {
            exchanges: if list.is_empty() {
                Exchanges::default()
            } else {
                Exchanges::full()
            },
            list,
            carrying,
            groups: heapless::Vec::new(),
        }
    }

    /// The DISCOVERs' classes kept for their REQUESTs.
    pub(crate) fn exchanges(&mut self) -> &mut Exchanges {
        &mut self.exchanges
    }

    /// Whether no class is configured.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The classes `r` is in: `given` (the built-in ones and a reservation's) and every
    /// configured class whose match holds, each tested once, in configuration order, so a
    /// class's match can name the classes before it.
    pub(crate) fn classify(&self, r: &Request<'_, '_>, given: ClassSet) -> ClassSet {
        let mut member = given;
        for (i, c) in self.list.iter().enumerate() {
            let id = ClassId(i as u8);
            if member.contains(id) {
                continue;
            }
            if c.program.as_ref().is_some_and(|p| p.matches(r, &member)) {
                member.insert(id);
            }
        }
        member
    }

    /// Of `member`, the classes that give their members something: what a reply depends on.
    #[inline]
    pub(crate) fn carrying(&self, member: &ClassSet) -> ClassSet {
        if self.carrying.is_empty() {
            return ClassSet::EMPTY;
        }
        member.and(&self.carrying)
    }

    /// The group of `member`'s carrying classes, numbered on first sight; `true` with it
    /// when the numbering started again (anything keyed by group is then stale).
    #[inline]
    pub(crate) fn group(&mut self, member: &ClassSet) -> (Group, bool) {
        let set = self.carrying(member);
        if set.is_empty() {
            return (Group(0), false);
        }
        if let Some(i) = self.groups.iter().position(|g| g.set == set) {
            return (Group(i as u8 + 1), false);
        }
        let renumbered = self.groups.is_full();
        if renumbered {
            self.groups.clear();
        }
        let mut grouped = Grouped { set, ..NO_GROUP };
        for id in set.iter() {
            let Some(c) = self.list.get(usize::from(id.0)) else {
                continue;
            };
            grouped.lease = grouped.lease.over(&c.lease);
            let b = &c.boot;
            let sets = [
                b.next_server.is_some(),
                b.server_name.is_some(),
                b.boot_file.is_some(),
            ];
            for (from, set) in grouped.boot_from.iter_mut().zip(sets) {
                if from.is_none() && set {
                    *from = Some(id.0);
                }
            }
        }
        grouped.sets_lease = grouped.lease != LeaseTimes::default();
        let _ = self.groups.push(grouped);
        (Group(self.groups.len() as u8), renumbered)
    }

    /// What group `g`'s classes give.
    #[inline]
    pub(crate) fn grouped(&self, g: Group) -> &Grouped {
        match g.0 {
            0 => &NO_GROUP,
            n => self.groups.get(usize::from(n) - 1).unwrap_or(&NO_GROUP),
        }
    }

    /// Class `id`.
    #[inline]
    pub(crate) fn get(&self, id: u8) -> Option<&Class> {
        self.list.get(usize::from(id))
    }

    /// The classes of `set` that carry something, in configuration order (the order of
    /// precedence between them).
    pub(crate) fn of(&self, set: ClassSet) -> impl Iterator<Item = &Class> + '_ {
        set.iter().filter_map(|id| self.list.get(usize::from(id.0)))
    }
}
