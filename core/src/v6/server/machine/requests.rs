//! What each message type does (RFC 8415 section 18.3): SOLICIT, REQUEST / RENEW /
//! REBIND, RELEASE, DECLINE, CONFIRM, INFORMATION-REQUEST.

use super::ia::{ias_of, IaOut, Mode};
use super::reply::ReplyParts;
use super::validate::Request;
use super::*;
use crate::v6::wire::{OptionCode, Status};

impl Server6 {
    /// Grants every IA of the message; the reply's IAs and the highest record `seq`.
    fn grant_all(
        &mut self,
        mode: Mode,
        s: usize,
        relayed: &Relayed<'_>,
        req: &Request<'_>,
        reservation: Option<usize>,
    ) -> (Vec<IaOut>, u64) {
        let mut out = Vec::new();
        let mut seq = 0;
        let (mut na, mut pd) = (0, 0);
        for ia in ias_of(&relayed.message) {
            let n = match ia.ia {
                IaKind::Address => &mut na,
                IaKind::Prefix => &mut pd,
            };
            let (ia_out, s_seq) = self.grant(mode, s, req, &ia, *n, reservation);
            *n += 1;
            seq = seq.max(s_seq);
            out.push(ia_out);
        }
        // Temporary addresses are not served: each IA_TA says so.
        for ta in relayed.message.ia_tas().flatten() {
            out.push(IaOut::empty(
                OptionCode::IA_TA,
                ta.iaid,
                Status::NO_ADDRS_AVAIL,
                "temporary addresses are not served",
            ));
        }
        (out, seq)
    }

    pub(super) fn on_solicit(
        &mut self,
        meta: &RecvMeta6,
        relayed: &Relayed<'_>,
        req: &Request<'_>,
        subnet: Option<usize>,
    ) -> Result<(), DropReason6> {
        let s = subnet.ok_or(DropReason6::NoSubnet)?;
        let rapid = req.rapid_commit && self.subnets[s].rapid_commit;
        let reservation = self.reservation_of(s, req);
        let mode = if rapid {
            Mode::Request
        } else {
            Mode::Advertise
        };
        let (ias, seq) = self.grant_all(mode, s, relayed, req, reservation);
        let status = ias
            .is_empty()
            .then_some((Status::NO_ADDRS_AVAIL, "no IA in the solicit"));
        let kind = if rapid {
            MessageType::Reply
        } else {
            MessageType::Advertise
        };
        self.send(
            meta,
            relayed,
            req,
            ReplyParts {
                kind,
                ias: &ias,
                status,
                subnet,
                reservation,
                rapid_commit: rapid,
                seq,
                information: false,
            },
        )
    }

    pub(super) fn on_commit(
        &mut self,
        kind: MessageType,
        meta: &RecvMeta6,
        relayed: &Relayed<'_>,
        req: &Request<'_>,
        subnet: Option<usize>,
    ) -> Result<(), DropReason6> {
        let s = subnet.ok_or(DropReason6::NoSubnet)?;
        let reservation = self.reservation_of(s, req);
        let mode = if kind == MessageType::Request {
            Mode::Request
        } else {
            Mode::Extend
        };
        let (ias, seq) = self.grant_all(mode, s, relayed, req, reservation);
        let parts = ReplyParts {
            reservation,
            seq,
            ..ReplyParts::reply(&ias, None, subnet)
        };
        self.send(meta, relayed, req, parts)
    }

    /// RELEASE and DECLINE: each listed address the IA holds is given back (or
    /// quarantined); an IA holding none of them says NoBinding (sections 18.3.7, 18.3.8).
    pub(super) fn give_up(
        &mut self,
        declined: bool,
        meta: &RecvMeta6,
        relayed: &Relayed<'_>,
        req: &Request<'_>,
        subnet: Option<usize>,
    ) -> Result<(), DropReason6> {
        let mut ias = Vec::new();
        let mut seq = 0;
        for ia in ias_of(&relayed.message) {
            let key = crate::v6::server::event::lease_key(ia.ia, ia.iaid, req.duid);
            let mut found = false;
            for &(a, _) in &ia.listed {
                let held = self.bindings.get(&a).filter(|b| {
                    b.client == key
                        && matches!(b.state, BindingState::Bound | BindingState::Offered)
                });
                let Some(b) = held else { continue };
                found = true;
                let s = usize::from(b.subnet);
                let rec = if declined {
                    self.stats.declined += 1;
                    let until = self.deadline_in(self.config.decline_probation);
                    self.bind(s, &key, a, BindingState::Declined, until)
                } else {
                    self.release(a)
                };
                seq = seq.max(rec);
            }
            if !found {
                let code = match ia.ia {
                    IaKind::Address => OptionCode::IA_NA,
                    IaKind::Prefix => OptionCode::IA_PD,
                };
                ias.push(IaOut::empty(
                    code,
                    ia.iaid,
                    Status::NO_BINDING,
                    "no binding for this IA",
                ));
            }
        }
        let text = if declined { "declined" } else { "released" };
        let parts = ReplyParts {
            seq,
            ..ReplyParts::reply(&ias, Some((Status::SUCCESS, text)), subnet)
        };
        self.send(meta, relayed, req, parts)
    }

    /// CONFIRM (section 18.3.3): are the client's addresses right for its link? No reply
    /// when there is nothing to check or the link is unknown.
    pub(super) fn on_confirm(
        &mut self,
        meta: &RecvMeta6,
        relayed: &Relayed<'_>,
        req: &Request<'_>,
        subnet: Option<usize>,
    ) -> Result<(), DropReason6> {
        let msg = &relayed.message;
        let na = msg.ia_nas().flatten().flat_map(|ia| {
            ia.addresses()
                .flatten()
                .map(|a| a.address)
                .collect::<Vec<_>>()
        });
        let ta = msg.ia_tas().flatten().flat_map(|ia| {
            ia.addresses()
                .flatten()
                .map(|a| a.address)
                .collect::<Vec<_>>()
        });
        let addresses: Vec<Ipv6Addr> = na.chain(ta).collect();
        if addresses.is_empty() {
            return Err(DropReason6::NothingToConfirm);
        }
        let s = subnet.ok_or(DropReason6::NoSubnet)?;
        let prefix = self.config.subnets[s].prefix;
        let status = if addresses.iter().all(|a| prefix.contains(*a)) {
            (Status::SUCCESS, "all addresses still on link")
        } else {
            (Status::NOT_ON_LINK, "some addresses are not on link")
        };
        self.send(
            meta,
            relayed,
            req,
            ReplyParts::reply(&[], Some(status), subnet),
        )
    }

    /// INFORMATION-REQUEST (section 18.3.6): the options asked for, no IAs.
    pub(super) fn on_information(
        &mut self,
        meta: &RecvMeta6,
        relayed: &Relayed<'_>,
        req: &Request<'_>,
        subnet: Option<usize>,
    ) -> Result<(), DropReason6> {
        let reservation = subnet.and_then(|s| {
            (!req.duid.is_empty() || req.hw.is_some())
                .then(|| self.reservation_of(s, req))
                .flatten()
        });
        let parts = ReplyParts {
            reservation,
            information: true,
            ..ReplyParts::reply(&[], None, subnet)
        };
        self.send(meta, relayed, req, parts)
    }
}
