//! What each request does (RFC 2131 section 4.3): the address a client is offered, and
//! DISCOVER, REQUEST, DECLINE, RELEASE.

use super::*;

impl Server {
    pub(super) fn on_discover(
        &mut self,
        now: Instant,
        ctx: &Ctx<'_, '_>,
        client: &ClientKey,
    ) -> Result<(), DropReason> {
        let requested = ctx.m.requested_ip().ok().flatten();
        let Some(a) = self.choose(ctx, client, requested) else {
            let s = &self.subnets[ctx.subnet];
            let some_pool_admits = (0..s.pools.len()).any(|i| s.admits(i, &ctx.classes));
            return Err(if some_pool_admits || s.pools.is_empty() {
                DropReason::PoolExhausted
            } else {
                DropReason::NoPoolForClass
            });
        };
        let rapid = self.subnets[ctx.subnet].rapid_commit && ctx.m.rapid_commit() == Ok(true);
        if rapid {
            self.commit(now, ctx, client, a);
            return Ok(());
        }
        let held = self
            .bindings
            .get(&a)
            .filter(|b| b.client == *client)
            .map(|b| b.state);
        if held.is_none() && ctx.reservation.is_none() && self.counts.offered >= self.max_offers {
            return Err(DropReason::TooManyOffers);
        }
        let bound = held == Some(BindingState::Bound);
        if !bound {
            self.bind(
                ctx.subnet,
                a,
                client,
                BindingState::Offered,
                now + self.offer_hold,
            );
        }
        let times = self.lease_secs(ctx);
        // An address new to the client waits for the conflict check; a DISCOVER again
        // while it runs gets the checked offer when the check ends.
        if self.probing.is_some() {
            if self.checking(a) {
                return Ok(());
            }
            if held.is_none() && self.hold_for_check(ctx, a, times) {
                return Ok(());
            }
        }
        self.reply(ctx, MessageType::Offer, Ipv4Addr::from(a), Some(times));
        Ok(())
    }

    /// A BOOTP request (RFC 951, RFC 1534): its reservation's address, or with dynamic
    /// BOOTP one from a pool open to it, bound for good; the BOOTREPLY waits for the
    /// record, as an ACK does.
    #[cold]
    #[inline(never)]
    pub(super) fn on_bootp(
        &mut self,
        ctx: &Ctx<'_, '_>,
        client: &ClientKey,
    ) -> Result<(), DropReason> {
        let a = if self.subnets[ctx.subnet].dynamic_bootp {
            self.choose(ctx, client, None)
                .ok_or(DropReason::PoolExhausted)?
        } else {
            // Without dynamic BOOTP, its reservation's address or nothing.
            ctx.reservation
                .and_then(|r| self.subnets[ctx.subnet].reservations.get(r))
                .map(|r| u32::from(r.address))
                .filter(|&a| self.is_free_for(ctx, a, client))
                .ok_or(DropReason::BootpNotServed)?
        };
        // Written before anything is bound: a BOOTREPLY that cannot be written (what it
        // must echo does not fit in BOOTP's vendor area) binds nothing.
        let times = LeaseSecs::INFINITE;
        let reply = self
            .encode(ctx, MessageType::Ack, Ipv4Addr::from(a), Some(times))
            .ok_or(DropReason::BadOption)?;
        self.bind(ctx.subnet, a, client, BindingState::Bound, Instant::MAX);
        self.record(a, client, RecordKind::Bound, Instant::MAX, None);
        self.park_ack(client, Instant::MAX, reply);
        Ok(())
    }

    /// Binds `a` to `client`, emits the record and queues the ACK behind it; nothing while
    /// the conflict check of `a` runs (no OFFER of it has gone yet: the client retries).
    pub(super) fn commit(&mut self, now: Instant, ctx: &Ctx<'_, '_>, client: &ClientKey, a: u32) {
        if self.probing.is_some() && self.checking(a) {
            return;
        }
        let times = self.lease_secs(ctx);
        let until = if times.is_infinite() {
            Instant::MAX
        } else {
            now + Duration::from_secs(u64::from(times.lease))
        };
        self.bind(ctx.subnet, a, client, BindingState::Bound, until);
        let host_name = ctx
            .m
            .host_name()
            .ok()
            .flatten()
            .filter(|h| h.is_printable_ascii())
            .map(|h| h.data().bytes().collect());
        self.record(a, client, RecordKind::Bound, until, host_name);
        if let Some(r) = self.encode(ctx, MessageType::Ack, Ipv4Addr::from(a), Some(times)) {
            self.park_ack(client, until, r);
        }
    }

    /// Emits the next lease record for the caller to make durable.
    pub(super) fn record(
        &mut self,
        a: u32,
        client: &ClientKey,
        kind: RecordKind,
        expires: Instant,
        host_name: Option<Vec<u8>>,
    ) {
        self.seq += 1;
        self.records.push_back(LeaseRecord {
            seq: self.seq,
            address: Ipv4Addr::from(a),
            client: client.clone(),
            kind,
            expires: self.anchor.unix_of(expires),
            host_name,
        });
    }

    pub(super) fn nak(&mut self, ctx: &Ctx<'_, '_>) {
        self.reply(ctx, MessageType::Nak, Ipv4Addr::UNSPECIFIED, None);
    }

    pub(super) fn on_request(
        &mut self,
        now: Instant,
        ctx: &Ctx<'_, '_>,
        client: &ClientKey,
    ) -> Result<(), DropReason> {
        let m = ctx.m;
        let server_id = m.server_id().map_err(|_| DropReason::BadOption)?;
        let requested = m.requested_ip().map_err(|_| DropReason::BadOption)?;
        let net = self.subnets[ctx.subnet].net;
        let authoritative = self.subnets[ctx.subnet].authoritative;
        if let Some(sid) = server_id {
            // SELECTING: the client chose a server.
            if sid != ctx.server_id {
                if let Some(a) = self.client_of(client) {
                    if self
                        .bindings
                        .get(&a)
                        .is_some_and(|b| b.state == BindingState::Offered)
                    {
                        self.unbind(a);
                    }
                }
                return Err(DropReason::OtherServer);
            }
            let a = u32::from(requested.unwrap_or(m.ciaddr()));
            let ours = self.bindings.get(&a).is_some_and(|b| {
                b.client == *client
                    && matches!(
                        b.state,
                        BindingState::Offered | BindingState::Bound | BindingState::Recent
                    )
            });
            if ours && self.is_free_for(ctx, a, client) {
                self.commit(now, ctx, client, a);
            } else {
                self.nak(ctx);
            }
            return Ok(());
        }
        // INIT-REBOOT (option 50) or RENEWING/REBINDING (ciaddr).
        let address = match requested {
            Some(a) => a,
            None if !m.ciaddr().is_unspecified() => m.ciaddr(),
            None => return Err(DropReason::BadOption),
        };
        let a = u32::from(address);
        if !net.is_host(address) {
            self.nak(ctx);
            return Ok(());
        }
        // A reserved client asking for another address is told no, so it takes its own.
        if let Some(r) = ctx
            .reservation
            .and_then(|r| self.subnets[ctx.subnet].reservations.get(r))
        {
            if r.address != address {
                self.nak(ctx);
                return Ok(());
            }
        }
        match self.bindings.get(&a) {
            Some(b)
                if b.client == *client
                    && b.state != BindingState::Declined
                    && b.state != BindingState::Conflict =>
            {
                if self.is_free_for(ctx, a, client) {
                    self.commit(now, ctx, client, a);
                } else {
                    self.nak(ctx);
                }
            }
            Some(b) if b.state != BindingState::Recent => self.nak(ctx),
            _ if !authoritative => return Err(DropReason::Unknown),
            _ => {
                let in_pool = self.subnets[ctx.subnet].pools.iter().any(|p| p.contains(a));
                let reserved_here = ctx.reservation.is_some();
                if (in_pool || reserved_here) && self.is_free_for(ctx, a, client) {
                    self.commit(now, ctx, client, a);
                } else {
                    self.nak(ctx);
                }
            }
        }
        Ok(())
    }

    pub(super) fn on_decline(
        &mut self,
        now: Instant,
        ctx: &Ctx<'_, '_>,
        client: &ClientKey,
    ) -> Result<(), DropReason> {
        let a = u32::from(
            ctx.m
                .requested_ip()
                .ok()
                .flatten()
                .ok_or(DropReason::BadOption)?,
        );
        let held = self.bindings.get(&a).is_some_and(|b| {
            b.client == *client && matches!(b.state, BindingState::Offered | BindingState::Bound)
        });
        if !held {
            return Err(DropReason::NotHeld);
        }
        self.set_aside(now, a, client);
        Ok(())
    }

    /// Takes `a`, offered to or held by `client`, out of use for the decline probation (a
    /// DECLINE, or an address the conflict check found in use), durably.
    pub(super) fn set_aside(&mut self, now: Instant, a: u32, client: &ClientKey) {
        let until_instant = now + self.decline_probation;
        let until = self.anchor.deadline(until_instant);
        if let Some(b) = self.bindings.get_mut(&a) {
            let (old, new) = (Some(b.state), Some(BindingState::Declined));
            tally(&mut self.counts, &self.subnets, b.subnet, a, old, new);
            b.state = BindingState::Declined;
            b.until = until;
        }
        self.add_timer(until, a);
        self.unindex_client(client, a);
        self.record(a, client, RecordKind::Declined, until_instant, None);
    }

    pub(super) fn on_release(
        &mut self,
        ctx: &Ctx<'_, '_>,
        client: &ClientKey,
    ) -> Result<(), DropReason> {
        let a = u32::from(ctx.m.ciaddr());
        let held = self
            .bindings
            .get(&a)
            .is_some_and(|b| b.client == *client && b.state == BindingState::Bound);
        if !held {
            return Err(DropReason::NotHeld);
        }
        self.make_recent(a);
        self.record(a, client, RecordKind::Released, self.now, None);
        Ok(())
    }

    /// Whether the client of `ctx` may have `a`: not reserved for another, in a pool open
    /// to its classes (or its reservation), and free or already its own.
    pub(super) fn is_free_for(&self, ctx: &Ctx<'_, '_>, a: u32, client: &ClientKey) -> bool {
        let reservation = ctx.reservation;
        let Some(s) = self.subnets.get(ctx.subnet) else {
            return false;
        };
        if s.reserved_for_other(a, reservation) {
            return false;
        }
        let reserved_here = reservation
            .and_then(|r| s.reservations.get(r))
            .is_some_and(|r| u32::from(r.address) == a);
        if !reserved_here && !s.admits_address(a, &ctx.classes) {
            return false;
        }
        match self.bindings.get(&a) {
            // A lease whose pool a reload removed runs out; it is not renewed.
            Some(b) if b.subnet == ORPHAN => false,
            Some(b) if b.client == *client => matches!(
                b.state,
                BindingState::Offered | BindingState::Bound | BindingState::Recent
            ),
            Some(b) if b.state == BindingState::Recent => s.pools.iter().any(|p| p.is_free(a)),
            Some(_) => false,
            None => reserved_here || s.pools.iter().any(|p| p.is_free(a)),
        }
    }

    #[inline(always)]
    pub(super) fn reservation_of(
        &self,
        subnet: usize,
        m: &Message<'_>,
        relay: Option<&RelayAgentInfo<'_>>,
    ) -> Option<usize> {
        let s = self.subnets.get(subnet)?;
        if s.by_key.is_empty() {
            return None;
        }
        let mut keys: heapless::Vec<ReservationKey, 5> = heapless::Vec::new();
        if let Ok(Some(id)) = m.client_id() {
            let _ = keys.push(ReservationKey::ClientId(id.data().bytes().collect()));
        }
        let _ = keys.push(ReservationKey::HardwareAddress(m.chaddr().to_vec()));
        if let Some(r) = relay {
            if let Some(c) = r.circuit_id() {
                let _ = keys.push(ReservationKey::CircuitId(c.bytes().collect()));
            }
            if let Some(c) = r.remote_id() {
                let _ = keys.push(ReservationKey::RemoteId(c.bytes().collect()));
            }
        }
        if let Some(id) = m.option(OptionCode::CLIENT_UUID) {
            let _ = keys.push(ReservationKey::MachineId(id.bytes().collect()));
        }
        keys.iter().find_map(|k| s.by_key.get(k).copied())
    }

    /// The address to offer: the reservation, the client's current or recent address, the
    /// requested one, else a free one from the first pool open to the client's classes.
    #[inline(always)]
    pub(super) fn choose(
        &mut self,
        ctx: &Ctx<'_, '_>,
        client: &ClientKey,
        requested: Option<Ipv4Addr>,
    ) -> Option<u32> {
        let subnet = ctx.subnet;
        if let Some(r) = ctx
            .reservation
            .and_then(|r| self.subnets[subnet].reservations.get(r))
        {
            let a = u32::from(r.address);
            if self.is_free_for(ctx, a, client) {
                return Some(a);
            }
        }
        if let Some(a) = self.client_of(client) {
            let same_subnet = self
                .bindings
                .get(&a)
                .is_some_and(|b| usize::from(b.subnet) == subnet);
            if same_subnet && self.is_free_for(ctx, a, client) {
                return Some(a);
            }
        }
        if let Some(a) = requested.map(u32::from) {
            let s = &self.subnets[subnet];
            if s.pools.iter().any(|p| p.contains(a)) && self.is_free_for(ctx, a, client) {
                return Some(a);
            }
        }
        let s = &mut self.subnets[subnet];
        // `bind` takes it from the pool.
        if !s.restricted {
            return s.pools.iter_mut().find_map(Pool::peek);
        }
        let access = &s.access;
        s.pools
            .iter_mut()
            .zip(access)
            .filter(|(_, a)| a.admits(&ctx.classes))
            .find_map(|(p, _)| p.peek())
    }

    /// The lease, T1 and T2 granted to the request of `ctx`: the time it asks for within
    /// the bounds of its classes, else its subnet's (else the default of the first of those
    /// that sets one), T1 and T2 as configured when they fit under it, else 1/2 and 7/8 of
    /// it (RFC 2131 section 4.4.5).
    pub(super) fn lease_secs(&self, ctx: &Ctx<'_, '_>) -> LeaseSecs {
        // RFC 1534 section 4: an address given to a BOOTP client is given for good.
        if ctx.bootp {
            return LeaseSecs::INFINITE;
        }
        let m = ctx.m;
        let mut t = self.subnets[ctx.subnet].times;
        if ctx.group != Group(0) {
            let g = self.classes.grouped(ctx.group);
            if g.sets_lease {
                t = g.lease.over(&t);
            }
        }
        let default = t.default.unwrap_or(3600).max(1);
        let min = t.min.unwrap_or(1).max(1);
        let max = t.max.unwrap_or(u32::MAX).max(min);
        let lease = m
            .lease_time()
            .ok()
            .flatten()
            .map_or(default, |asked| asked.clamp(min, max));
        if lease == u32::MAX {
            return LeaseSecs::INFINITE;
        }
        let t2 = t
            .rebinding
            .filter(|&t2| t2 < lease)
            .unwrap_or((u64::from(lease) * 7 / 8) as u32);
        let t1 = t
            .renewal
            .filter(|&t1| t1 < t2)
            .unwrap_or(lease / 2)
            .min(t2.saturating_sub(1));
        LeaseSecs {
            lease,
            renewal: t1,
            rebinding: t2,
        }
    }
}
