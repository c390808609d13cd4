//! Writing ADVERTISE and REPLY (RFC 8415 section 18.3.10: server id, client id, the IAs,
//! a status, the options asked for), and wrapping them in a RELAY-REPL for each relay the
//! request came through (section 19.3: the hop count, link and peer addresses copied, the
//! interface id echoed), addressed to the request's source.

use super::ia::IaOut;
use super::validate::Request;
use super::*;
use crate::v6::wire::{EmitError, MessageBuilder, OptionCode, Status};

/// Room for one reply; a reply that does not fit is dropped and counted.
const REPLY_ROOM: usize = 4096;

/// What a reply says besides its IAs.
#[derive(Debug, Clone, Copy)]
pub(super) struct ReplyParts<'r> {
    pub(super) kind: MessageType,
    pub(super) ias: &'r [IaOut],
    pub(super) status: Option<(Status, &'static str)>,
    /// Which subnet's and reservation's options apply.
    pub(super) subnet: Option<usize>,
    pub(super) reservation: Option<usize>,
    pub(super) rapid_commit: bool,
    /// The highest record `seq` the reply depends on (0: none).
    pub(super) seq: u64,
    /// Whether it answers an INFORMATION-REQUEST.
    pub(super) information: bool,
}

impl<'r> ReplyParts<'r> {
    /// A REPLY with `ias` and `status`, the options of `subnet`, nothing waited for.
    pub(super) fn reply(
        ias: &'r [IaOut],
        status: Option<(Status, &'static str)>,
        subnet: Option<usize>,
    ) -> Self {
        ReplyParts {
            kind: MessageType::Reply,
            ias,
            status,
            subnet,
            reservation: None,
            rapid_commit: false,
            seq: 0,
            information: false,
        }
    }
}

impl Server6 {
    /// Encodes a reply and queues it (behind its records, when it has any).
    pub(super) fn send(
        &mut self,
        meta: &RecvMeta6,
        relayed: &Relayed<'_>,
        req: &Request<'_>,
        parts: ReplyParts<'_>,
    ) -> Result<(), DropReason6> {
        // Encoded in one buffer kept for it, then copied into a recycled one of its length:
        // no 4 KiB allocated and zeroed per reply.
        let mut scratch = core::mem::take(&mut self.scratch);
        scratch.resize(REPLY_ROOM, 0);
        let written = self.write_reply(&mut scratch, relayed, req, &parts);
        let mut bytes = self.spare.pop().unwrap_or_default();
        bytes.clear();
        if let Ok(len) = written {
            bytes.extend_from_slice(&scratch[..len]);
        }
        self.scratch = scratch;
        written.map_err(|_| DropReason6::ReplyTooLarge)?;
        if !relayed.relays.is_empty() {
            bytes = wrap_in_relays(bytes, relayed).map_err(|_| DropReason6::ReplyTooLarge)?;
        }
        let pending = Pending {
            bytes,
            destination: meta.source,
            interface: meta.interface,
            kind: parts.kind as u8,
        };
        if parts.seq == 0 {
            self.ready.push_back(pending);
        } else {
            self.waiting
                .push_back((self.message_first, parts.seq, pending));
        }
        Ok(())
    }

    fn write_reply(
        &self,
        buf: &mut [u8],
        relayed: &Relayed<'_>,
        req: &Request<'_>,
        parts: &ReplyParts<'_>,
    ) -> Result<usize, EmitError> {
        let msg = &relayed.message;
        let mut b = MessageBuilder::new(buf, parts.kind as u8, msg.transaction_id())?;
        b.server_id(&self.config.server_duid)?;
        if !req.duid.is_empty() {
            b.client_id(req.duid)?;
        }
        if parts.kind == MessageType::Advertise && self.config.preference > 0 {
            b.preference(self.config.preference)?;
        }
        if parts.rapid_commit {
            b.rapid_commit()?;
        }
        for ia in parts.ias {
            write_ia(&mut b, ia)?;
        }
        if let Some((status, text)) = parts.status {
            b.status(status, text)?;
        }
        self.write_options(&mut b, req, parts)?;
        Ok(b.finish())
    }

    /// The options the client asked for, in its order, each from the reservation, else
    /// the pool of the first address the reply grants, else the client's classes (in
    /// configuration order), else the subnet, else the server.
    fn write_options(
        &self,
        b: &mut MessageBuilder<'_>,
        req: &Request<'_>,
        parts: &ReplyParts<'_>,
    ) -> Result<(), EmitError> {
        let sub = parts.subnet.and_then(|s| self.config.subnets.get(s));
        let reserved = parts
            .reservation
            .and_then(|r| sub?.reservations.get(r))
            .map(|r| &r.options);
        let pool = sub.and_then(|s| {
            let granted = parts
                .ias
                .iter()
                .filter(|ia| ia.code == OptionCode::IA_NA)
                .flat_map(|ia| &ia.entries)
                .find(|g| g.valid > 0)?;
            let a = Ipv6Addr::from(granted.address);
            s.pools.iter().find(|p| p.contains(a)).map(|p| &p.options)
        });
        for (i, c) in req.oro.chunks_exact(2).enumerate() {
            let code = OptionCode(u16::from_be_bytes([c[0], c[1]]));
            // A code asked twice is answered once; the information refresh time only in
            // a reply to an INFORMATION-REQUEST (RFC 8415 section 21.23).
            if req.oro[..2 * i].chunks_exact(2).any(|d| d == c)
                || (code == OptionCode::INFORMATION_REFRESH_TIME && !parts.information)
            {
                continue;
            }
            let value = reserved
                .and_then(|o| o.get(code))
                .or_else(|| pool?.get(code))
                .or_else(|| self.class_option(req.classes, code))
                .or_else(|| sub?.options.get(code))
                .or_else(|| self.config.options.get(code));
            if let Some(v) = value {
                b.option(code, v)?;
            }
        }
        Ok(())
    }

    /// Option `code` from the first of the client's classes that sets it.
    fn class_option(&self, classes: u64, code: OptionCode) -> Option<&[u8]> {
        if classes == 0 {
            return None;
        }
        self.config
            .classes
            .iter()
            .enumerate()
            .filter(|(i, _)| classes & (1 << i) != 0)
            .find_map(|(_, c)| c.options.get(code))
    }

    /// A REPLY with UseMulticast (section 18.3.2): server id, client id, the status, and
    /// nothing else.
    pub(super) fn reply_use_multicast(
        &mut self,
        meta: &RecvMeta6,
        relayed: &Relayed<'_>,
        req: &Request<'_>,
    ) -> Result<(), DropReason6> {
        let plain = Request { oro: &[], ..*req };
        let status = Some((Status::USE_MULTICAST, "use multicast"));
        self.send(meta, relayed, &plain, ReplyParts::reply(&[], status, None))
    }
}

fn write_ia(b: &mut MessageBuilder<'_>, ia: &IaOut) -> Result<(), EmitError> {
    let fill = |b: &mut MessageBuilder<'_>| -> Result<(), EmitError> {
        for g in &ia.entries {
            if ia.code == OptionCode::IA_PD {
                b.ia_prefix(
                    g.preferred,
                    g.valid,
                    g.prefix_len,
                    Ipv6Addr::from(g.address),
                    |_| Ok(()),
                )?;
            } else {
                b.ia_address(Ipv6Addr::from(g.address), g.preferred, g.valid, |_| Ok(()))?;
            }
        }
        if let Some((status, text)) = ia.status {
            b.status(status, text)?;
        }
        Ok(())
    };
    match ia.code {
        OptionCode::IA_PD => b.ia_pd(ia.iaid, ia.t1, ia.t2, fill)?,
        OptionCode::IA_TA => b.ia_ta(ia.iaid, fill)?,
        _ => b.ia_na(ia.iaid, ia.t1, ia.t2, fill)?,
    };
    Ok(())
}

/// `inner` wrapped in a RELAY-REPL for each relay, innermost first.
fn wrap_in_relays(mut inner: Vec<u8>, relayed: &Relayed<'_>) -> Result<Vec<u8>, EmitError> {
    for relay in relayed.relays.iter().rev() {
        let mut buf =
            alloc::vec![0u8; inner.len() + 64 + relay.interface_id().map_or(0, |i| i.len() + 4)];
        let mut b = MessageBuilder::relay(
            &mut buf,
            MessageType::RelayRepl,
            relay.hop_count(),
            relay.link_address(),
            relay.peer_address(),
        )?;
        if let Some(id) = relay.interface_id() {
            b.interface_id(id)?;
        }
        b.relay_message(&inner)?;
        let len = b.finish();
        buf.truncate(len);
        inner = buf;
    }
    Ok(inner)
}
