//! The persistence handshake: replies wait for their records (`persisted`,
//! `persist_failed`), and `restore` rebuilds the lease table from the records kept.

use super::*;
use crate::v6::server::event::{lease_key, Record6Kind};

impl Server6 {
    /// Every record up to `seq` is durable: the replies waiting for them go out.
    pub fn persisted(&mut self, seq: u64) {
        while self.inflight.front().is_some_and(|(s, _)| *s <= seq) {
            self.inflight.pop_front();
        }
        while self
            .waiting
            .front()
            .is_some_and(|(_, last, _)| *last <= seq)
        {
            if let Some((_, _, p)) = self.waiting.pop_front() {
                self.ready.push_back(p);
            }
        }
    }

    /// Record `seq` was refused by the store (another server holds its address, in a
    /// shared database): the address or prefix is out of use for a while (the binding in
    /// Conflict for the offer hold, the client no longer pointed at it), and the replies
    /// that depend on the record are dropped (the client asks again and gets another),
    /// counted as [`DropReason6::PersistFailed`].
    pub fn persist_failed(&mut self, seq: u64) {
        if let Some(a) = self.take_inflight(seq) {
            let until = self.anchor.deadline(self.now + OFFER_HOLD);
            if let Some(b) = self.bindings.get_mut(&a) {
                if b.state == BindingState::Bound {
                    b.state = BindingState::Conflict;
                    b.until = until;
                    let key = b.client.clone();
                    self.clients.remove(&key, a);
                    self.timers.insert(until, a);
                }
            }
        }
        self.drop_waiting_on(seq);
    }

    /// Record `seq` could not be written (the store is down): the replies that depend on
    /// it are dropped (the client asks again, and the binding is written again then); the
    /// binding itself is left as it is.
    pub fn persist_unavailable(&mut self, seq: u64) {
        self.take_inflight(seq);
        self.drop_waiting_on(seq);
    }

    fn take_inflight(&mut self, seq: u64) -> Option<u128> {
        let i = self.inflight.iter().position(|(s, _)| *s == seq)?;
        self.inflight.remove(i).map(|(_, a)| a)
    }

    /// Drops every reply one of whose records is `seq`.
    fn drop_waiting_on(&mut self, seq: u64) {
        let before = self.waiting.len();
        self.waiting
            .retain(|(first, last, _)| !(*first <= seq && seq <= *last));
        for _ in self.waiting.len()..before {
            self.stats.drop(DropReason6::PersistFailed);
        }
    }

    /// Replays one kept record (at start, in the order written). Records of addresses
    /// no subnet holds any more are skipped; leases already over are not bound.
    pub fn restore(&mut self, record: &Lease6Record) {
        let a = u128::from(record.address);
        let Some(s) = self.subnet_holding(record.ia, a, record.prefix_len) else {
            return;
        };
        let key = lease_key(record.ia, record.iaid, &record.duid);
        let expires = self.anchor.instant_of(record.expires);
        let live = record.expires == u64::MAX || expires > self.now;
        let until = if record.expires == u64::MAX {
            Deadline::NEVER
        } else {
            self.anchor.deadline(expires)
        };
        let state = match record.kind {
            Record6Kind::Bound if live => BindingState::Bound,
            Record6Kind::Declined if live => BindingState::Declined,
            // A probation that ended: the address is simply free again, as the live
            // machine left it.
            Record6Kind::Declined => {
                self.forget(a);
                return;
            }
            _ => BindingState::Recent,
        };
        // Remembered for a day after it ended, as the live machine does.
        let recent_until = self.anchor.deadline(
            self.anchor
                .instant_of(record.expires.saturating_add(RECENT_HOLD.as_secs())),
        );
        if state == BindingState::Recent && recent_until <= self.anchor.deadline(self.now) {
            // Ended more than a day ago: forgotten, as the live machine would have.
            self.forget(a);
            return;
        }
        let before = self.records.len();
        if state == BindingState::Recent {
            // Remembered for the client, free in its pool.
            if self
                .bindings
                .get(&a)
                .is_some_and(|b| b.client != key && b.state != BindingState::Recent)
            {
                return;
            }
            self.bind(s, &key, a, BindingState::Recent, recent_until);
            self.give_back(s, record.ia, a);
        } else {
            self.bind(s, &key, a, state, until);
        }
        self.records.truncate(before);
        self.inflight.clear();
        self.next_seq = self.next_seq.max(record.seq + 1);
    }

    /// The subnet whose pools or reservations hold `a/len`.
    fn subnet_holding(&self, ia: IaKind, a: u128, len: u8) -> Option<usize> {
        let addr = Ipv6Addr::from(a);
        self.config.subnets.iter().position(|s| match ia {
            IaKind::Address => s.prefix.contains(addr),
            IaKind::Prefix => {
                s.pd_pools.iter().any(|p| p.index_of(addr, len).is_some())
                    || s.reservations.iter().any(|r| {
                        r.prefixes
                            .iter()
                            .any(|p| p.first() == a && p.prefix_len == len)
                    })
            }
        })
    }
}
