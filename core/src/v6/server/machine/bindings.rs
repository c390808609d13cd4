//! The lease table's changes, each kept in step with the pools, the client index, the
//! timers and the records: `bind`, `release`, `expire`, and what may be bound.

use super::*;
use crate::lease::table::Binding;
use crate::v6::server::event::Record6Kind;

impl Server6 {
    /// Whether `a` (an address, or a prefix's first address) in subnet `s` can go to
    /// `key`, whose reservation in the subnet is `mine`: it is reserved for that
    /// reservation, or it is reserved for none and is the client's already or free in a
    /// pool. A declined address, or one the store refused, goes to nobody.
    pub(super) fn available(
        &self,
        s: usize,
        ia: IaKind,
        a: u128,
        key: &ClientKey,
        mine: Option<usize>,
    ) -> bool {
        let sub = &self.subnets[s];
        let binding = self.bindings.get(&a);
        if binding
            .is_some_and(|b| matches!(b.state, BindingState::Declined | BindingState::Conflict))
        {
            return false;
        }
        if let Some(&r) = sub.reserved.get(&a) {
            // Reserved addresses are out of the pools: only their reservation's client.
            return Some(r) == mine
                && binding.is_none_or(|b| b.client == *key || b.state == BindingState::Recent);
        }
        if let Some(b) = binding {
            if b.client == *key {
                return true;
            }
            if b.state != BindingState::Recent {
                return false;
            }
        }
        match ia {
            IaKind::Address => sub.pools.iter().any(|p| p.is_free(a)),
            IaKind::Prefix => sub.pd_pools.iter().any(|(c, p)| {
                let len = c.delegated_len;
                c.index_of(Ipv6Addr::from(a), len)
                    .is_some_and(|i| p.is_free(i))
            }),
        }
    }

    /// Binds `a` to `key` in subnet `s` as `state` until `until`, taking it from its
    /// pool, and records it when it is bound or declined. Returns the record's `seq`
    /// (0: none).
    pub(super) fn bind(
        &mut self,
        s: usize,
        key: &ClientKey,
        a: u128,
        state: BindingState,
        until: Deadline,
    ) -> u64 {
        let ia = kind_of(key);
        self.take_from_pool(s, ia, a);
        let old = self.bindings.insert(
            a,
            Binding {
                client: key.clone(),
                address: a,
                until,
                durable: Deadline(0),
                subnet: s as u16,
                state,
            },
        );
        let was_offer = old
            .as_ref()
            .is_some_and(|o| o.state == BindingState::Offered);
        self.offers =
            self.offers + usize::from(state == BindingState::Offered) - usize::from(was_offer);
        if let Some(old) = old.filter(|o| o.client != *key) {
            self.clients.remove(&old.client, a);
        }
        self.clients.insert(key, a, &self.bindings);
        self.timers.insert(until, a);
        match state {
            BindingState::Bound => self.record(s, key, a, Record6Kind::Bound, until),
            BindingState::Declined => self.record(s, key, a, Record6Kind::Declined, until),
            _ => 0,
        }
    }

    /// The client gave `a` back: free, remembered as the client's. Returns the record's
    /// `seq`.
    pub(super) fn release(&mut self, a: u128) -> u64 {
        let Some(b) = self.bindings.get_mut(&a) else {
            return 0;
        };
        self.offers -= usize::from(b.state == BindingState::Offered);
        let until = self.anchor.deadline(self.now + RECENT_HOLD);
        b.state = BindingState::Recent;
        b.until = until;
        let (s, key) = (usize::from(b.subnet), b.client.clone());
        self.timers.insert(until, a);
        self.give_back(s, kind_of(&key), a);
        let now = self.anchor.deadline(self.now);
        self.record(s, &key, a, Record6Kind::Released, now)
    }

    /// Forgets `a`'s binding altogether (an operator's delete), freeing the address or
    /// prefix; recorded as released. False when nothing was bound there.
    pub fn delete_lease(&mut self, address: Ipv6Addr) -> bool {
        let a = u128::from(address);
        let Some((s, client)) = self.forget(a) else {
            return false;
        };
        let now = self.anchor.deadline(self.now);
        self.record(s, &client, a, Record6Kind::Released, now);
        true
    }

    /// Removes `a`'s binding, whatever its state, freeing it in its pool; its subnet and
    /// client, when there was one.
    pub(super) fn forget(&mut self, a: u128) -> Option<(usize, ClientKey)> {
        let b = self.bindings.remove(&a)?;
        let s = usize::from(b.subnet);
        self.offers -= usize::from(b.state == BindingState::Offered);
        self.clients.remove(&b.client, a);
        if b.state != BindingState::Recent {
            self.give_back(s, kind_of(&b.client), a);
        }
        Some((s, b.client))
    }

    /// The timer for `a` at `at` came due: an offer or a lease ends, a probation is over.
    pub(super) fn expire(&mut self, a: u128, at: Deadline) {
        let Some(b) = self.bindings.get_mut(&a) else {
            return;
        };
        if b.until != at {
            return; // stale: the binding moved on since
        }
        let (s, key, state) = (usize::from(b.subnet), b.client.clone(), b.state);
        match state {
            BindingState::Bound => {
                // Remembered for a while so the client gets it back, then forgotten.
                let until = self.anchor.deadline(self.now + RECENT_HOLD);
                b.state = BindingState::Recent;
                b.until = until;
                self.timers.insert(until, a);
                self.give_back(s, kind_of(&key), a);
            }
            BindingState::Offered | BindingState::Declined | BindingState::Conflict => {
                self.offers -= usize::from(state == BindingState::Offered);
                self.bindings.remove(&a);
                self.clients.remove(&key, a);
                self.give_back(s, kind_of(&key), a);
            }
            BindingState::Recent => {
                // Free in its pool already: only the memory of it goes.
                self.bindings.remove(&a);
                self.clients.remove(&key, a);
            }
        }
    }

    fn take_from_pool(&mut self, s: usize, ia: IaKind, a: u128) {
        self.mark_in_pool(s, ia, a, true);
    }

    pub(super) fn give_back(&mut self, s: usize, ia: IaKind, a: u128) {
        self.mark_in_pool(s, ia, a, false);
    }

    /// Marks `a` used (`take`) or free in its pool; reserved addresses and prefixes stay
    /// out of their pools (taken out at start).
    fn mark_in_pool(&mut self, s: usize, ia: IaKind, a: u128, take: bool) {
        let Some(sub) = self.subnets.get_mut(s) else {
            return;
        };
        if sub.reserved.contains_key(&a) {
            return;
        }
        fn mark<A: crate::lease::address::Address>(p: &mut Pool<A>, x: A, take: bool) {
            if take {
                p.take_specific(x);
            } else {
                p.give_back(x);
            }
        }
        match ia {
            IaKind::Address => {
                if let Some(p) = sub.pools.iter_mut().find(|p| p.contains(a)) {
                    mark(p, a, take);
                }
            }
            IaKind::Prefix => {
                for (c, p) in sub.pd_pools.iter_mut() {
                    if let Some(i) = c.index_of(Ipv6Addr::from(a), c.delegated_len) {
                        mark(p, i, take);
                    }
                }
            }
        }
    }

    /// Queues a record of `a`'s change; its `seq`.
    fn record(
        &mut self,
        s: usize,
        key: &ClientKey,
        a: u128,
        kind: Record6Kind,
        until: Deadline,
    ) -> u64 {
        let ia = kind_of(key);
        let bytes = key.as_bytes();
        let seq = self.next_seq;
        self.next_seq += 1;
        self.inflight.push_back((seq, a));
        self.records.push_back(Lease6Record {
            seq,
            ia,
            address: Ipv6Addr::from(a),
            prefix_len: self.prefix_len(s, ia, a),
            duid: bytes.get(5..).unwrap_or(&[]).to_vec(),
            iaid: bytes
                .get(1..5)
                .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            kind,
            expires: self.anchor.unix_of(self.anchor.instant(until)),
        });
        seq
    }
}
