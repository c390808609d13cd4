//! The conflict check before an offer (what dnsmasq and ISC dhcpd do by ping): an OFFER of
//! an address new to its client is held while the host checks that no one answers on it;
//! the host's answer sends the OFFER, or sets the address aside and offers another.

use super::*;

/// Most offers held for their check at once; past it, offers go unchecked.
const MAX_HELD: usize = 1024;

/// An OFFER waiting for its address's check, with the DISCOVER it answers.
#[derive(Debug)]
struct Held {
    offer: Encoded,
    request: Vec<u8>,
    meta: RecvMeta,
}

/// Offers held for the check, and the addresses for the host to probe.
#[derive(Debug, Default)]
pub(super) struct Probing {
    queue: VecDeque<u32>,
    held: BTreeMap<u32, Held>,
}

impl Probing {
    /// Whether another offer may be held.
    pub(super) fn has_room(&self) -> bool {
        self.held.len() < MAX_HELD
    }

    /// Drops the offer held for `a` (it expired, or its address was given up).
    pub(super) fn forget(&mut self, a: u32) {
        self.held.remove(&a);
    }
}

impl Server {
    /// Whether an OFFER of `a` is held for its check.
    #[cold]
    pub(super) fn checking(&self, a: u32) -> bool {
        self.probing
            .as_ref()
            .is_some_and(|p| p.held.contains_key(&a))
    }

    /// Holds the OFFER of `a` (granting `times`) to the request of `ctx` until the host
    /// has checked `a`; false (nothing done) when `a` is the client's reservation or no
    /// more offers may be held.
    #[cold]
    #[inline(never)]
    pub(super) fn hold_for_check(&mut self, ctx: &Ctx<'_, '_>, a: u32, times: LeaseSecs) -> bool {
        let reserved = ctx
            .reservation
            .and_then(|r| self.subnets[ctx.subnet].reservations.get(r))
            .is_some_and(|r| u32::from(r.address) == a);
        if reserved || !self.probing.as_ref().is_some_and(Probing::has_room) {
            return false;
        }
        if let Some(offer) = self.encode(ctx, MessageType::Offer, Ipv4Addr::from(a), Some(times)) {
            self.hold_offer(a, offer, ctx);
        }
        true
    }

    /// Holds `offer` of `a` (to the request of `ctx`) until the host has checked `a`.
    fn hold_offer(&mut self, a: u32, offer: Encoded, ctx: &Ctx<'_, '_>) {
        let Some(p) = &mut self.probing else {
            self.replies.push_back(offer);
            return;
        };
        p.queue.push_back(a);
        let held = Held {
            offer,
            request: ctx.m.as_bytes().to_vec(),
            meta: *ctx.meta,
        };
        if let Some(old) = p.held.insert(a, held) {
            self.spare.push(old.offer.bytes);
        }
    }

    /// The next address to check before its offer goes: the host sends an ICMP echo to it
    /// (or probes it with ARP on the local link), waits a bounded time (dnsmasq and ISC
    /// dhcpd wait a few hundred milliseconds) without holding up other clients, and
    /// reports with [`probe_result`](Self::probe_result). Only with
    /// [`ServerConfig::conflict_check`](super::ServerConfig::conflict_check).
    pub fn poll_probe(&mut self) -> Option<Ipv4Addr> {
        self.probing
            .as_mut()
            .and_then(|p| p.queue.pop_front())
            .map(Ipv4Addr::from)
    }

    /// The host's answer for `address`: no one answered (`in_use` false), and its OFFER
    /// goes; or something did, and the address is set aside as a declined one is (for
    /// the decline probation, durably) and the client's DISCOVER is answered again, with
    /// another address. An answer for an address with no offer held is ignored.
    pub fn probe_result(&mut self, now: Instant, address: Ipv4Addr, in_use: bool) {
        let now = self.clock(now);
        let a = u32::from(address);
        let Some(held) = self.probing.as_mut().and_then(|p| p.held.remove(&a)) else {
            return;
        };
        let offered = self
            .bindings
            .get(&a)
            .filter(|b| b.state == BindingState::Offered)
            .map(|b| b.client.clone());
        let Some(client) = offered else {
            self.spare.push(held.offer.bytes);
            return;
        };
        if !in_use {
            self.replies.push_back(held.offer);
            return;
        }
        self.stats.conflicts += 1;
        self.spare.push(held.offer.bytes);
        self.set_aside(now, a, &client);
        // The same DISCOVER again, counted once.
        self.stats.unreceive(MessageType::Discover);
        if let Err(reason) = self.on_packet(now, &held.meta, &held.request) {
            self.stats.drop(reason);
        }
    }

    /// Carries the offers held by `old` over to `self` after a reload; sends them unchecked
    /// when the new config turned the check off.
    pub(super) fn carry_probing(&mut self, old: Option<Probing>) {
        let Some(old) = old else { return };
        match &mut self.probing {
            Some(p) => *p = old,
            None => self.replies.extend(old.held.into_values().map(|h| h.offer)),
        }
    }
}
