//! The persistence handshake: a lease record made durable (or refused, or not written)
//! releases or replaces its ACK; `restore` replays records at start-up.

use super::*;

/// An ACK held until its lease record is durable, with what tells, once it is, whether the
/// lease is still the one the ACK promises.
#[derive(Debug)]
pub(super) struct WaitingAck {
    /// The record's sequence number.
    pub(super) seq: u64,
    /// The lease's deadline as the ACK grants it.
    pub(super) until: Deadline,
    /// The client it is granted to.
    pub(super) client: ClientKey,
    /// The ACK, written.
    pub(super) ack: Encoded,
}

impl Server {
    /// Holds `ack`, granting `client` its lease until `until`, behind the record just
    /// emitted.
    #[inline]
    pub(super) fn park_ack(&mut self, client: &ClientKey, until: Instant, ack: Encoded) {
        let until = self.anchor.deadline(until);
        self.waiting.push_back(WaitingAck {
            seq: self.seq,
            until,
            client: client.clone(),
            ack,
        });
    }

    /// Records up to `seq` are durable: their ACKs may go.
    pub fn persisted(&mut self, seq: u64) {
        while self.waiting.front().is_some_and(|w| w.seq <= seq) {
            let Some(WaitingAck {
                until,
                client: owner,
                ack: r,
                ..
            }) = self.waiting.pop_front()
            else {
                break;
            };
            // While the record waited, the lease may have run out (and the address gone to
            // another client) or been renewed again: then this ACK would promise what is
            // no longer so, and it is dropped.
            match self.bindings.get_mut(&u32::from(r.yiaddr)) {
                Some(b)
                    if b.state == BindingState::Bound && b.until == until && b.client == owner =>
                {
                    b.durable = until;
                    self.replies.push_back(r);
                }
                _ => {
                    self.stats.stale_acks += 1;
                    self.spare.push(r.bytes);
                }
            }
        }
    }

    /// The store refused record `seq` (another server holds the address): its ACK is
    /// replaced by a NAK, so the client starts over at once with a DISCOVER, and the
    /// address is taken out of use for the offer hold time, so that it gets another one.
    pub fn persist_failed(&mut self, seq: u64) {
        let Some(i) = self.waiting.iter().position(|w| w.seq == seq) else {
            return;
        };
        let Some(WaitingAck {
            until: leased,
            client: owner,
            ack: r,
            ..
        }) = self.waiting.remove(i)
        else {
            return;
        };
        self.stats.persist_failures += 1;
        if let Some(nak) = self.nak_instead(&r) {
            self.replies.push_back(nak);
        }
        self.spare.push(r.bytes);
        let a = u32::from(r.yiaddr);
        let until = self.anchor.deadline(self.now + self.offer_hold);
        // Only the lease the record was for is taken out, not one that replaced it since.
        if let Some(b) = self
            .bindings
            .get_mut(&a)
            .filter(|b| b.until == leased && b.client == owner)
        {
            let (old, new) = (Some(b.state), Some(BindingState::Conflict));
            tally(&mut self.counts, &self.subnets, b.subnet, a, old, new);
            b.state = BindingState::Conflict;
            b.until = until;
            let client = b.client.clone();
            self.add_timer(until, a);
            self.unindex_client(&client, a);
        }
    }

    /// The NAK that replaces an ACK whose lease the store refused, written from the ACK
    /// as a NAK to its request would be (RFC 2131 table 3; client id and option 82 echoed).
    pub(super) fn nak_instead(&mut self, ack: &Encoded) -> Option<Encoded> {
        // A BOOTP client knows no NAK: it retries.
        if ack.bootp {
            return None;
        }
        let m = Message::parse(ack.bytes.get(..ack.len)?).ok()?;
        let subnet = self
            .subnets
            .iter()
            .position(|s| s.net.contains(ack.yiaddr))?;
        let mut r = Reply::to(
            &m,
            MessageType::Nak,
            Ipv4Addr::UNSPECIFIED,
            ack.source,
            subnet as u16,
            ack.interface,
        );
        r.nak_message = b"address taken by another server";
        self.encode_reply(&r)
    }

    /// The store could not write record `seq` (a full disk, a database that is down).
    /// A renewal whose lease has a durable record still running is answered with that
    /// lease, shortened to what the store holds; any other ACK is withheld, and a lease
    /// that was new is undone, its address free again. The client retries, and gets its
    /// lease once the store writes again.
    pub fn persist_unavailable(&mut self, seq: u64) {
        let Some(i) = self.waiting.iter().position(|w| w.seq == seq) else {
            return;
        };
        let Some(WaitingAck {
            until,
            client: owner,
            ack: mut r,
            ..
        }) = self.waiting.remove(i)
        else {
            return;
        };
        self.stats.persist_failures += 1;
        let a = u32::from(r.yiaddr);
        let now = self.anchor.deadline(self.now);
        let Some(b) = self.bindings.get_mut(&a) else {
            return;
        };
        // As in `persisted`: a lease that ran out or moved on meanwhile is not answered.
        if b.state != BindingState::Bound || b.until != until || b.client != owner {
            return;
        }
        if b.durable > now {
            let left = b.durable.0 - now.0;
            let durable = b.durable;
            if left > 0 && set_lease_times(&mut r.bytes[..r.len], left) {
                b.until = durable;
                self.add_timer(durable, a);
                self.stats.acks_from_durable += 1;
                self.replies.push_back(r);
                return;
            }
        }
        if b.durable == Deadline(0) {
            self.unbind(a);
        }
    }

    /// Replays one record at start-up (records in the order they were written).
    pub fn restore(&mut self, record: &LeaseRecord) {
        let a = u32::from(record.address);
        let Some(subnet) = self
            .subnets
            .iter()
            .position(|s| s.net.contains(record.address))
        else {
            return;
        };
        self.seq = self.seq.max(record.seq);
        // Records hold whole seconds and the two clocks' anchors differ by a fraction of
        // one: a second more keeps a restored lease or probation from ending early.
        let expires = self.anchor.instant_of(record.expires.saturating_add(1));
        let until = self.anchor.deadline(expires);
        self.unbind(a);
        let live = expires > self.now;
        let state = match record.kind {
            RecordKind::Bound if live => BindingState::Bound,
            RecordKind::Declined if live => BindingState::Declined,
            RecordKind::Declined => return,
            _ => BindingState::Recent,
        };
        if state != BindingState::Recent {
            if let Some(p) = self.subnets[subnet].pool_of(a) {
                p.take_specific(a);
            }
            self.add_timer(until, a);
        }
        // A client holds one address. A release of an address it left replays as a
        // memory of it, not as its current address: servers sharing a store may read the
        // release after the lease that replaced it.
        let moved_on = state == BindingState::Recent
            && self.client_of(&record.client).is_some_and(|b| {
                b != a
                    && self
                        .bindings
                        .get(&b)
                        .is_some_and(|b| b.state == BindingState::Bound)
            });
        if state != BindingState::Declined && !moved_on {
            self.forget_other_address(&record.client, a);
            self.index_client(&record.client, a);
        }
        let old = self.bindings.insert(
            a,
            Binding {
                address: a,
                client: record.client.clone(),
                state,
                until,
                durable: if state == BindingState::Bound {
                    until
                } else {
                    Deadline(0)
                },
                subnet: subnet as u16,
            },
        );
        self.count_inserted(a, old.as_ref(), subnet as u16, state);
    }
}
