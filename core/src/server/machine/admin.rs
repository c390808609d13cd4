//! Operations the host asks for at run time: a new configuration, a lease deleted,
//! reservations added and removed.

use super::*;

impl Server {
    /// Applies a new configuration without losing a lease or an exchange in flight: it is
    /// validated first (every mistake returned, nothing changed); then subnets, pools,
    /// options, reservations and limits are replaced, and every binding carried over.
    /// A lease whose address is no longer in a pool of its subnet (nor reserved) is kept
    /// until it expires and is not renewed; offers, ACKs waiting for their record, queued
    /// replies and records, timers and counters carry on.
    pub fn reconfigure(&mut self, config: ServerConfig) -> Result<(), Vec<ConfigError>> {
        let mut next = Server::new(config, self.now, self.anchor.unix())?;
        next.anchor = self.anchor;
        next.clients = self.clients.empty_like();
        next.bindings = self.bindings.empty_like();
        next.now = self.now;
        next.seq = self.seq;
        next.stats = core::mem::take(&mut self.stats);
        next.timers = core::mem::take(&mut self.timers);
        next.replies = core::mem::take(&mut self.replies);
        next.waiting = core::mem::take(&mut self.waiting);
        next.records = core::mem::take(&mut self.records);
        next.spare = core::mem::take(&mut self.spare);
        next.carry_probing(self.probing.take());
        for (a, mut b) in core::mem::take(&mut self.bindings) {
            let address = Ipv4Addr::from(a);
            let subnet = next.subnets.iter().position(|s| s.net.contains(address));
            let placed = subnet.and_then(|i| {
                let s = &mut next.subnets[i];
                if b.state == BindingState::Recent {
                    // A recent lease only remembers; it holds nothing.
                    return s.pools.iter().any(|p| p.contains(a)).then_some(i);
                }
                if s.by_address.contains_key(&a) {
                    return Some(i);
                }
                s.pool_of(a).map(|p| {
                    p.take_specific(a);
                    i
                })
            });
            match placed {
                Some(i) => b.subnet = i as u16,
                None if b.state == BindingState::Recent => continue,
                None => b.subnet = ORPHAN,
            }
            if b.state != BindingState::Declined {
                let client = b.client.clone();
                next.bindings.insert(a, b);
                next.index_client(&client, a);
            } else {
                next.bindings.insert(a, b);
            }
        }
        for b in next.bindings.values() {
            let state = Some(b.state);
            tally(
                &mut next.counts,
                &next.subnets,
                b.subnet,
                b.address,
                None,
                state,
            );
        }
        *self = next;
        Ok(())
    }

    /// Deletes the lease (or offer) on `address`: the address is free again, and a
    /// `Released` record is emitted so the deletion outlives a restart. False when the
    /// address holds no lease or offer.
    pub fn delete_lease(&mut self, address: Ipv4Addr) -> bool {
        let a = u32::from(address);
        let Some(b) = self.bindings.get(&a) else {
            return false;
        };
        if !matches!(b.state, BindingState::Bound | BindingState::Offered) {
            return false;
        }
        let (client, bound) = (b.client.clone(), b.state == BindingState::Bound);
        self.unbind(a);
        if bound {
            self.record(a, &client, RecordKind::Released, self.now, None);
        }
        true
    }

    /// Adds a reservation at run time, to the subnet that contains its address. Refused
    /// when the address is outside every subnet, already reserved, or held by another
    /// client than the reservation's (delete that lease first). Runtime reservations last
    /// until the server stops: put them in the config to keep them.
    pub fn add_reservation(&mut self, r: Reservation) -> Result<(), ConfigError> {
        let a = u32::from(r.address);
        let at = alloc::format!("reservation {}", r.address);
        let Some(i) = self.subnets.iter().position(|s| s.net.contains(r.address)) else {
            return Err(ConfigError {
                place: ConfigPlace::NewReservation,
                at,
                what: "the address is in no configured subnet".into(),
            });
        };
        let s = &self.subnets[i];
        if s.by_address.contains_key(&a) || s.by_key.contains_key(&r.key) {
            return Err(ConfigError {
                place: ConfigPlace::NewReservation,
                at,
                what: alloc::format!("{} or the address is already reserved", r.key),
            });
        }
        let owner = match &r.key {
            ReservationKey::HardwareAddress(mac) => Some(ClientKey::hardware(1, mac)),
            ReservationKey::ClientId(id) => Some(ClientKey::new(id)),
            _ => None,
        };
        if let Some(b) = self.bindings.get(&a) {
            let held = matches!(b.state, BindingState::Bound | BindingState::Offered);
            if held && owner.as_ref() != Some(&b.client) {
                return Err(ConfigError {
                    place: ConfigPlace::NewReservation,
                    at,
                    what: alloc::format!("the address is held by {}", b.client),
                });
            }
        }
        let free = !self.bindings.contains_key(&a)
            || self
                .bindings
                .get(&a)
                .is_some_and(|b| b.state == BindingState::Recent);
        let s = &mut self.subnets[i];
        if free {
            if let Some(p) = s.pool_of(a) {
                p.take_specific(a);
            }
        }
        s.by_key.insert(r.key.clone(), s.reservations.len());
        s.by_address.insert(a, s.reservations.len());
        s.reservations.push(r);
        Ok(())
    }

    /// Removes the reservation of `address`; a lease on it stays until it ends, and the
    /// address then goes back to its pool. False when there is none.
    pub fn remove_reservation(&mut self, address: Ipv4Addr) -> bool {
        let a = u32::from(address);
        let Some(i) = self
            .subnets
            .iter()
            .position(|s| s.by_address.contains_key(&a))
        else {
            return false;
        };
        let held = self
            .bindings
            .get(&a)
            .is_some_and(|b| !matches!(b.state, BindingState::Recent));
        let s = &mut self.subnets[i];
        s.reservations.retain(|r| r.address != address);
        s.by_key = s
            .reservations
            .iter()
            .enumerate()
            .map(|(n, r)| (r.key.clone(), n))
            .collect();
        s.by_address = s
            .reservations
            .iter()
            .enumerate()
            .map(|(n, r)| (u32::from(r.address), n))
            .collect();
        if !held {
            if let Some(p) = s.pool_of(a) {
                p.give_back(a);
            }
        }
        true
    }

    /// Every reservation: its subnet and itself.
    pub fn reservations(&self) -> impl Iterator<Item = (Ipv4Net, &Reservation)> + '_ {
        self.subnets
            .iter()
            .flat_map(|s| s.reservations.iter().map(move |r| (s.net, r)))
    }
}
