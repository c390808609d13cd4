//! Each IA of a message: what it is granted (RFC 8415 sections 18.3.1, 18.3.2, 18.3.4,
//! 18.3.5), and which of the addresses the client listed it can no longer use.
//!
//! One address per IA_NA and one prefix per IA_PD, chosen in this order: the IA's own
//! binding on this link; the client's reservation (its n-th address for its n-th IA); the
//! address or prefix the client asked for, if free in a pool; the next free one of a pool
//! (for a prefix, of a pool delegating the length asked for, if any). A listed address the
//! IA does not get goes back with lifetimes 0.

use super::validate::Request;
use super::*;
use crate::v6::server::event::lease_key;
use crate::v6::wire::{OptionCode, Status};

/// What a message asks of its IAs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// SOLICIT: offer, held briefly.
    Advertise,
    /// REQUEST, or SOLICIT with rapid commit: bind.
    Request,
    /// RENEW or REBIND: extend (or, for an IA the server has no binding of, bind what
    /// can be, as Kea does; else NoBinding).
    Extend,
}

/// An address or prefix as a reply carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Granted {
    pub(super) address: u128,
    /// 128 for an address.
    pub(super) prefix_len: u8,
    pub(super) preferred: u32,
    pub(super) valid: u32,
}

/// One IA of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct IaOut {
    /// IA_NA, IA_TA or IA_PD.
    pub(super) code: OptionCode,
    pub(super) iaid: u32,
    pub(super) t1: u32,
    pub(super) t2: u32,
    pub(super) entries: Vec<Granted>,
    pub(super) status: Option<(Status, &'static str)>,
}

impl IaOut {
    pub(super) fn empty(code: OptionCode, iaid: u32, status: Status, text: &'static str) -> Self {
        IaOut {
            code,
            iaid,
            t1: 0,
            t2: 0,
            entries: Vec::new(),
            status: Some((status, text)),
        }
    }
}

/// An IA as the client sent it: kind, IAID, and the addresses or prefixes it listed.
#[derive(Debug, Clone)]
pub(super) struct IaIn {
    pub(super) ia: IaKind,
    pub(super) iaid: u32,
    /// (address or prefix, prefix length: 128 for an address).
    pub(super) listed: heapless::Vec<(u128, u8), 8>,
}

/// The IA_NAs, then the IA_PDs, of a message (malformed ones left out).
pub(super) fn ias_of(msg: &crate::v6::wire::Message<'_>) -> Vec<IaIn> {
    let mut out = Vec::new();
    for ia in msg.ia_nas().flatten().take(MAX_IAS) {
        let mut listed = heapless::Vec::new();
        for a in ia.addresses().flatten() {
            let _ = listed.push((u128::from(a.address), 128));
        }
        out.push(IaIn {
            ia: IaKind::Address,
            iaid: ia.iaid,
            listed,
        });
    }
    for ia in msg.ia_pds().flatten().take(MAX_IAS) {
        let mut listed = heapless::Vec::new();
        for p in ia.prefixes().flatten() {
            let _ = listed.push((u128::from(p.prefix), p.prefix_len));
        }
        out.push(IaIn {
            ia: IaKind::Prefix,
            iaid: ia.iaid,
            listed,
        });
    }
    out
}

impl Server6 {
    /// The client's reservation in subnet `s`, by DUID, then by link-layer address, then
    /// by the relay's remote id.
    pub(super) fn reservation_of(&self, s: usize, req: &Request<'_>) -> Option<usize> {
        let sub = &self.subnets[s];
        sub.by_duid
            .get(req.duid)
            .or_else(|| req.hw.and_then(|h| sub.by_hw.get(h)))
            .or_else(|| req.remote_id.and_then(|r| sub.by_remote_id.get(r)))
            .copied()
    }

    /// Whether address or prefix `a` belongs on subnet `s`'s link.
    fn appropriate(&self, s: usize, ia: IaKind, a: u128) -> bool {
        let cfg = &self.config.subnets[s];
        match ia {
            IaKind::Address => cfg.prefix.contains(Ipv6Addr::from(a)),
            IaKind::Prefix => {
                cfg.pd_pools
                    .iter()
                    .any(|p| p.prefix.contains(Ipv6Addr::from(a)))
                    || self.subnets[s].reserved.contains_key(&a)
            }
        }
    }

    /// The next free address or prefix of subnet `s`'s pools (a prefix pool delegating
    /// `want_len` first, when the client asked for a length).
    fn next_free(&mut self, s: usize, ia: IaKind, want_len: u8) -> Option<u128> {
        let sub = &mut self.subnets[s];
        match ia {
            IaKind::Address => sub.pools.iter_mut().find_map(|p| p.peek()),
            IaKind::Prefix => {
                let preferred = sub
                    .pd_pools
                    .iter_mut()
                    .filter(|(c, _)| c.delegated_len == want_len)
                    .find_map(|(c, p)| p.peek().map(|i| c.prefix_at(i)));
                preferred.or_else(|| {
                    sub.pd_pools
                        .iter_mut()
                        .find_map(|(c, p)| p.peek().map(|i| c.prefix_at(i)))
                })
            }
        }
    }

    /// Grants one IA; the reply's IA and the highest record `seq` it made (0: none).
    /// `n` is the IA's place among the message's IAs of its kind.
    pub(super) fn grant(
        &mut self,
        mode: Mode,
        s: usize,
        req: &Request<'_>,
        ia_in: &IaIn,
        n: usize,
        reservation: Option<usize>,
    ) -> (IaOut, u64) {
        let ia = ia_in.ia;
        let key = lease_key(ia, ia_in.iaid, req.duid);
        let lifetimes = self.subnets[s].lifetimes;
        let code = match ia {
            IaKind::Address => OptionCode::IA_NA,
            IaKind::Prefix => OptionCode::IA_PD,
        };
        let reserved: Option<u128> = reservation.and_then(|r| {
            let r = &self.config.subnets[s].reservations[r];
            match ia {
                IaKind::Address => r.addresses.get(n).map(|a| u128::from(*a)),
                IaKind::Prefix => r.prefixes.get(n).map(|p| p.first()),
            }
        });
        let previous = self.clients.get(&key, &self.bindings);
        let own = previous.filter(|a| {
            self.bindings
                .get(a)
                .is_some_and(|b| usize::from(b.subnet) == s && b.client == key)
                && (reserved.is_none() || reserved == Some(*a))
                && self.available(s, ia, *a, &key, reservation)
        });
        let bindable = |me: &Self, a: u128| me.available(s, ia, a, &key, reservation);
        let hinted = ia_in
            .listed
            .iter()
            .map(|(a, _)| *a)
            .find(|a| reserved.is_none() && self.appropriate(s, ia, *a) && bindable(self, *a));
        let want_len = ia_in.listed.first().map_or(0, |(_, l)| *l);
        let chosen = own
            .or(reserved.filter(|a| bindable(self, *a)))
            .or(hinted)
            .or_else(|| {
                if reserved.is_some() {
                    None
                } else {
                    self.next_free(s, ia, want_len)
                }
            });
        let mut out = IaOut {
            code,
            iaid: ia_in.iaid,
            t1: 0,
            t2: 0,
            entries: Vec::new(),
            status: None,
        };
        let mut seq = 0;
        match chosen {
            Some(a) => {
                let already_bound = self
                    .bindings
                    .get(&a)
                    .is_some_and(|b| b.client == key && b.state == BindingState::Bound);
                match mode {
                    Mode::Advertise if already_bound => {}
                    Mode::Advertise if self.offers >= MAX_OFFERS_HELD => {}
                    Mode::Advertise => {
                        let until = self.anchor.deadline(self.now + OFFER_HOLD);
                        self.bind(s, &key, a, BindingState::Offered, until);
                    }
                    Mode::Request | Mode::Extend => {
                        let until = self.deadline_in(lifetimes.valid);
                        seq = self.bind(s, &key, a, BindingState::Bound, until);
                        // The IA moves off what it held (now another's reservation, or on
                        // another link): that goes back, recorded, not left bound.
                        if let Some(old) = previous.filter(|p| *p != a) {
                            let held = self.bindings.get(&old).is_some_and(|b| {
                                b.client == key
                                    && matches!(
                                        b.state,
                                        BindingState::Bound | BindingState::Offered
                                    )
                            });
                            if held {
                                seq = seq.max(self.release(old));
                            }
                        }
                    }
                }
                out.entries.push(Granted {
                    address: a,
                    prefix_len: self.prefix_len(s, ia, a),
                    preferred: lifetimes.preferred,
                    valid: lifetimes.valid,
                });
                out.t1 = lifetimes.renew();
                out.t2 = lifetimes.rebind();
            }
            None => {
                out.status = Some(match (mode, ia) {
                    (Mode::Extend, _) => (Status::NO_BINDING, "no binding for this IA"),
                    (_, IaKind::Address) => (Status::NO_ADDRS_AVAIL, "no addresses available"),
                    (_, IaKind::Prefix) => (Status::NO_PREFIX_AVAIL, "no prefixes available"),
                });
            }
        }
        // What the client listed and does not get: lifetimes 0 (sections 18.3.2, 18.3.4),
        // except in an ADVERTISE, which binds nothing.
        if mode != Mode::Advertise {
            for &(a, len) in &ia_in.listed {
                if out.entries.iter().any(|g| g.address == a) {
                    continue;
                }
                out.entries.push(Granted {
                    address: a,
                    prefix_len: if ia == IaKind::Address { 128 } else { len },
                    preferred: 0,
                    valid: 0,
                });
            }
        }
        (out, seq)
    }
}
