//! [`OptionCache`]: the options a reply writes for a client's parameter request list,
//! encoded once for each subnet, set of classes and list, then copied.
//!
//! Clients of one kind ask for the same options in the same order, so a reply's options
//! (the configured ones in the client's order, and the lease times) are nearly always a
//! block seen before, but for the lease times, which are written into the copy. The
//! cache holds a few blocks in fixed space: nothing is allocated on the packet path.

use heapless::Vec as Fixed;

use super::class::table::Group;
use super::lease::LeaseSecs;
use crate::wire::{MessageBuilder, OptionCode};

/// Longest list kept.
const LIST_MAX: usize = 64;
/// Largest block kept.
const BLOCK_MAX: usize = 384;
/// Blocks kept; a new one replaces the oldest.
const ENTRIES: usize = 8;

/// What lease times a reply carries, which decides which of them its block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Times {
    /// None (INFORM, NAK).
    None,
    /// A lease time, T1 and T2.
    Finite,
    /// An infinite lease: no T1, T2.
    Infinite,
}

impl Times {
    /// The kind of `lease`, as [`lease_option`] writes it.
    pub(crate) fn of(lease: Option<LeaseSecs>) -> Self {
        match (lease, lease_option(OptionCode::RENEWAL_TIME, lease)) {
            (None, _) => Times::None,
            (Some(_), None) => Times::Infinite,
            (Some(_), Some(_)) => Times::Finite,
        }
    }
}

/// The value of the lease time (51), T1 (58) or T2 (59) that a reply granting `lease`
/// carries: an infinite lease carries no T1 or T2, as it is never renewed.
#[inline]
pub(crate) fn lease_option(code: OptionCode, lease: Option<LeaseSecs>) -> Option<u32> {
    let t = lease?;
    match code {
        OptionCode::LEASE_TIME => Some(t.lease),
        OptionCode::RENEWAL_TIME if !t.is_infinite() => Some(t.renewal),
        OptionCode::REBINDING_TIME if !t.is_infinite() => Some(t.rebinding),
        _ => None,
    }
}

/// What a block of options depends on besides the list: the subnet, the client's classes
/// that carry options, and the kind of lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockKey {
    pub(crate) subnet: u16,
    pub(crate) group: Group,
    pub(crate) times: Times,
}

/// One block: the options written for `list` under `key`.
#[derive(Debug)]
pub(crate) struct Block {
    key: BlockKey,
    list: Fixed<u8, LIST_MAX>,
    bytes: Fixed<u8, BLOCK_MAX>,
    /// Where the values of the lease time (51), T1 (58) and T2 (59) start in `bytes`, when
    /// the block holds them from the lease (not from config).
    at: [Option<u16>; 3],
}

impl Block {
    /// Appends the block to `b`'s options with `lease`'s times (lease, T1, T2) written
    /// in; false, and nothing written, when it does not fit in the `options` field.
    #[inline]
    pub(crate) fn write(&self, b: &mut MessageBuilder<'_>, lease: Option<LeaseSecs>) -> bool {
        let mut values = [(0, [0; 4]); 3];
        let mut n = 0;
        if let Some(t) = lease {
            for (at, v) in self.at.iter().zip([t.lease, t.renewal, t.rebinding]) {
                if let Some(at) = at {
                    values[n] = (usize::from(*at), v.to_be_bytes());
                    n += 1;
                }
            }
        }
        b.encoded_options_with(&self.bytes, &values[..n])
    }
}

/// A few blocks, by key and list.
#[derive(Debug, Default)]
pub(crate) struct OptionCache {
    blocks: Fixed<Block, ENTRIES>,
    next: usize,
}

impl OptionCache {
    /// The block for `list` under `key`, if kept.
    #[inline]
    pub(crate) fn get(&self, key: &BlockKey, list: &[u8]) -> Option<&Block> {
        self.blocks.iter().find(|b| b.key == *key && b.list == list)
    }

    /// Keeps `bytes` (whole options) as the block for `list` under `key`; a list or block
    /// too long for the fixed space is not kept.
    pub(crate) fn put(&mut self, key: BlockKey, list: &[u8], bytes: &[u8]) {
        let times = key.times;
        let (Ok(list), Ok(bytes)) = (Fixed::from_slice(list), Fixed::from_slice(bytes)) else {
            return;
        };
        let mut at = [None; 3];
        let mut i = 0;
        while let (Some(&code), Some(&len)) = (bytes.get(i), bytes.get(i + 1)) {
            let slot = match (OptionCode(code), times) {
                (OptionCode::LEASE_TIME, Times::Finite | Times::Infinite) => Some(0),
                (OptionCode::RENEWAL_TIME, Times::Finite) => Some(1),
                (OptionCode::REBINDING_TIME, Times::Finite) => Some(2),
                _ => None,
            };
            if let Some(slot) = slot.filter(|_| len == 4) {
                at[slot] = u16::try_from(i + 2).ok();
            }
            i += 2 + usize::from(len);
        }
        let block = Block {
            key,
            list,
            bytes,
            at,
        };
        if self.blocks.len() < ENTRIES {
            let _ = self.blocks.push(block);
        } else if let Some(old) = self.blocks.get_mut(self.next) {
            *old = block;
            self.next = (self.next + 1) % ENTRIES;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(subnet: u16, times: Times) -> BlockKey {
        BlockKey {
            subnet,
            group: Group(0),
            times,
        }
    }

    #[test]
    fn lease_times_are_written_into_the_copy() {
        let mut c = OptionCache::default();
        let block = [
            1, 4, 255, 255, 255, 0, 51, 4, 0, 0, 0, 0, 3, 4, 1, 2, 3, 4, 58, 4, 0, 0, 0, 0,
        ];
        c.put(key(0, Times::Finite), &[1, 51, 3, 58], &block);
        assert!(c.get(&key(0, Times::Finite), &[1, 51, 3]).is_none());
        assert!(c.get(&key(1, Times::Finite), &[1, 51, 3, 58]).is_none());
        assert!(c.get(&key(0, Times::Infinite), &[1, 51, 3, 58]).is_none());
        let mut classed = key(0, Times::Finite);
        classed.group = Group(1);
        assert!(c.get(&classed, &[1, 51, 3, 58]).is_none());
        let cached = c.get(&key(0, Times::Finite), &[1, 51, 3, 58]).unwrap();
        let mut buf = [0u8; 576];
        let mut b = MessageBuilder::new(&mut buf).unwrap();
        let start = b.options_mark().unwrap();
        let lease = LeaseSecs {
            lease: 3600,
            renewal: 1800,
            rebinding: 3150,
        };
        assert!(cached.write(&mut b, Some(lease)));
        let mut want = block;
        want[8..12].copy_from_slice(&3600u32.to_be_bytes());
        want[20..24].copy_from_slice(&1800u32.to_be_bytes());
        assert_eq!(b.written_since(start).unwrap(), &want[..]);
    }

    #[test]
    fn the_oldest_block_makes_room() {
        let mut c = OptionCache::default();
        for k in 0..=ENTRIES as u8 {
            c.put(key(0, Times::None), &[k], &[1, 4, 255, 255, 255, 0]);
        }
        assert!(c.get(&key(0, Times::None), &[0]).is_none());
        assert!((1..=ENTRIES as u8).all(|k| c.get(&key(0, Times::None), &[k]).is_some()));
    }
}
