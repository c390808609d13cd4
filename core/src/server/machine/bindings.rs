//! Changes to the lease table, each kept in step with the pools, the client index, the
//! timers and the counts.

use super::*;

/// Keeps `counts` as the binding at address `a` in subnet `subnet` goes from `old` to
/// `new` (`None`: none).
pub(super) fn tally(
    counts: &mut Counts,
    subnets: &[Subnet],
    subnet: u16,
    a: u32,
    old: Option<BindingState>,
    new: Option<BindingState>,
) {
    let pool = || {
        let s = subnets.get(usize::from(subnet))?;
        s.pools.iter().position(|p| p.contains(a))
    };
    counts.change(subnet, pool, old, new);
}

impl Server {
    /// Adds a deadline for `a`, and drops the stale entries when they come to outnumber
    /// the bindings three to one (amortized O(log n): a lease renewed at T1 has two entries
    /// at times, which alone never sets this off).
    pub(super) fn add_timer(&mut self, until: Deadline, a: u32) {
        self.timers.insert(until, a);
        if self.timers.len() > 3 * self.bindings.len() + 1024 {
            let live = self
                .bindings
                .values()
                .filter(|b| b.state != BindingState::Recent);
            self.timers.rebuild(
                live.map(|b| Due {
                    at: b.until,
                    address: b.address,
                })
                .collect(),
            );
        }
    }

    /// Counts the binding of `a` just inserted in `subnet` as `state`, in place of `old`.
    pub(super) fn count_inserted(
        &mut self,
        a: u32,
        old: Option<&Binding<u32>>,
        subnet: u16,
        state: BindingState,
    ) {
        if let Some(old) = old {
            let was = Some(old.state);
            tally(&mut self.counts, &self.subnets, old.subnet, a, was, None);
        }
        tally(
            &mut self.counts,
            &self.subnets,
            subnet,
            a,
            None,
            Some(state),
        );
    }

    /// Frees `a` in its pool and forgets its binding.
    pub(super) fn unbind(&mut self, a: u32) {
        if let Some(b) = self.bindings.remove(&a) {
            tally(
                &mut self.counts,
                &self.subnets,
                b.subnet,
                a,
                Some(b.state),
                None,
            );
            self.unindex_client(&b.client, a);
            if b.state != BindingState::Recent {
                self.give_back(usize::from(b.subnet), a);
            }
        }
    }

    /// Frees `a` but remembers whose it was.
    pub(super) fn make_recent(&mut self, a: u32) {
        let Some(b) = self.bindings.get_mut(&a) else {
            return;
        };
        if b.state == BindingState::Recent {
            return;
        }
        if b.subnet == ORPHAN {
            // Nothing to remember a lease by whose pool is gone.
            self.unbind(a);
            return;
        }
        let (old, new) = (Some(b.state), Some(BindingState::Recent));
        tally(&mut self.counts, &self.subnets, b.subnet, a, old, new);
        b.state = BindingState::Recent;
        b.durable = Deadline(0);
        let subnet = usize::from(b.subnet);
        self.give_back(subnet, a);
    }

    pub(super) fn give_back(&mut self, subnet: usize, a: u32) {
        if let Some(s) = self.subnets.get_mut(subnet) {
            if !s.by_address.contains_key(&a) {
                if let Some(p) = s.pool_of(a) {
                    p.give_back(a);
                }
            }
        }
    }

    /// Marks `a` used for `client` (taking it from its pool if it was free).
    pub(super) fn bind(
        &mut self,
        subnet: usize,
        a: u32,
        client: &ClientKey,
        state: BindingState,
        until: Instant,
    ) {
        let until = self.anchor.deadline(until);
        // The common case (REQUEST after OFFER, a renewal): same client, same address.
        if let Some(b) = self.bindings.get_mut(&a) {
            if b.client == *client && matches!(b.state, BindingState::Offered | BindingState::Bound)
            {
                let old = core::mem::replace(&mut b.until, until);
                tally(
                    &mut self.counts,
                    &self.subnets,
                    b.subnet,
                    a,
                    Some(b.state),
                    Some(state),
                );
                b.state = state;
                if old != until {
                    self.add_timer(until, a);
                }
                return;
            }
        }
        let was_free = match self.bindings.get(&a) {
            None => true,
            Some(b) => b.state == BindingState::Recent,
        };
        if let Some(old) = self.bindings.get(&a) {
            if old.client != *client {
                let old_client = old.client.clone();
                self.unindex_client(&old_client, a);
            }
        }
        if was_free {
            if let Some(p) = self.subnets.get_mut(subnet).and_then(|s| {
                if s.by_address.contains_key(&a) {
                    None
                } else {
                    s.pool_of(a)
                }
            }) {
                p.take_specific(a);
            }
        }
        if let Some(left) = self.forget_other_address(client, a) {
            // Durably, so that a store the address is shared through frees it too.
            self.record(left, client, RecordKind::Released, self.now, None);
        }
        self.index_client(client, a);
        let old = self.bindings.insert(
            a,
            Binding {
                address: a,
                client: client.clone(),
                state,
                until,
                durable: Deadline(0),
                subnet: subnet as u16,
            },
        );
        self.count_inserted(a, old.as_ref(), subnet as u16, state);
        self.add_timer(until, a);
    }

    /// The client's current address, if it has one.
    #[inline]
    pub(super) fn client_of(&self, c: &ClientKey) -> Option<u32> {
        self.clients.get(c, &self.bindings)
    }

    /// Records `a` as the client's current address.
    pub(super) fn index_client(&mut self, c: &ClientKey, a: u32) {
        self.clients.insert(c, a, &self.bindings);
    }

    /// Forgets `a` as the client's current address.
    pub(super) fn unindex_client(&mut self, c: &ClientKey, a: u32) {
        self.clients.remove(c, a);
    }

    /// A client holds one address: when it gets `a`, an older one of its goes back.
    /// Returns the address of a lease this ended.
    pub(super) fn forget_other_address(&mut self, client: &ClientKey, a: u32) -> Option<u32> {
        let old = self.client_of(client).filter(|&old| old != a)?;
        match self.bindings.get(&old).map(|b| b.state) {
            Some(BindingState::Offered) => self.unbind(old),
            Some(BindingState::Bound) => {
                self.make_recent(old);
                return Some(old);
            }
            _ => {}
        }
        None
    }
}
