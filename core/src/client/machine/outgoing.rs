//! [`Outgoing`]: the message the client sends next, kept as a small description and
//! written into the caller's buffer only at `poll_transmit`, so the machine holds no
//! second message buffer.

use super::*;

/// The message the next `poll_transmit` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outgoing {
    Discover,
    Select(Offer),
    Reboot(Ipv4Addr),
    Renew {
        address: Ipv4Addr,
        server_id: Ipv4Addr,
    },
    Rebind(Ipv4Addr),
    Decline {
        address: Ipv4Addr,
        server_id: Ipv4Addr,
    },
    Release {
        address: Ipv4Addr,
        server_id: Ipv4Addr,
    },
    Inform(Ipv4Addr),
}

impl Client {
    pub(super) fn write(&self, out: Outgoing, buf: &mut [u8]) -> Result<Transmit, EmitError> {
        let cfg = &self.config;
        let broadcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, SERVER_PORT);
        let unspecified = Ipv4Addr::UNSPECIFIED;
        let (kind, ciaddr, destination, source) = match out {
            Outgoing::Discover => (MessageType::Discover, unspecified, broadcast, unspecified),
            Outgoing::Select(_) | Outgoing::Reboot(_) => {
                (MessageType::Request, unspecified, broadcast, unspecified)
            }
            Outgoing::Renew { address, server_id } => (
                MessageType::Request,
                address,
                SocketAddrV4::new(server_id, SERVER_PORT),
                address,
            ),
            Outgoing::Rebind(address) => (MessageType::Request, address, broadcast, address),
            Outgoing::Decline { .. } => (MessageType::Decline, unspecified, broadcast, unspecified),
            Outgoing::Release { address, server_id } => (
                MessageType::Release,
                address,
                SocketAddrV4::new(server_id, SERVER_PORT),
                address,
            ),
            Outgoing::Inform(address) => (MessageType::Inform, address, broadcast, address),
        };
        let mut b = MessageBuilder::new(buf)?;
        b.op(Op::BootRequest)
            .htype(cfg.htype)
            .xid(self.xid)
            .secs(self.pending_secs)
            .ciaddr(ciaddr);
        b.chaddr(&cfg.hardware_address)?;
        let wants_broadcast = matches!(
            out,
            Outgoing::Discover | Outgoing::Select(_) | Outgoing::Reboot(_)
        );
        if cfg.broadcast && wants_broadcast {
            b.flags(Flags::BROADCAST);
        }
        b.message_type(kind)?;
        if let Some(id) = &cfg.client_id {
            b.client_id(id)?;
        }
        match out {
            Outgoing::Discover => {
                if let Some(a) = cfg.requested_address {
                    b.requested_ip(a)?;
                }
            }
            Outgoing::Select(offer) => {
                b.requested_ip(offer.address)?.server_id(offer.server_id)?;
            }
            Outgoing::Reboot(address) => {
                b.requested_ip(address)?;
            }
            Outgoing::Decline { address, server_id } => {
                b.requested_ip(address)?
                    .server_id(server_id)?
                    .error_message(b"address in use")?;
            }
            Outgoing::Release { server_id, .. } => {
                b.server_id(server_id)?;
                if !self.release_message.is_empty() {
                    b.error_message(self.release_message.as_bytes())?;
                }
            }
            Outgoing::Renew { .. } | Outgoing::Rebind(_) | Outgoing::Inform(_) => {}
        }
        let asking = !matches!(out, Outgoing::Decline { .. } | Outgoing::Release { .. });
        if asking {
            if let (Some(secs), false) = (cfg.lease_time, matches!(out, Outgoing::Inform(_))) {
                b.lease_time(secs)?;
            }
            b.max_message_size(cfg.max_message_size.max(576))?;
            if let Some(fqdn) = &cfg.fqdn {
                let mut flags = FqdnFlags::E;
                if cfg.fqdn_server_update {
                    flags |= FqdnFlags::S;
                }
                b.client_fqdn(flags, fqdn)?;
            } else if let Some(name) = &cfg.host_name {
                b.host_name(name.as_bytes())?;
            }
            if let Some(vendor) = &cfg.vendor_class {
                b.vendor_class_id(vendor)?;
            }
            let mut prl = [0u8; 65];
            let mut n = 0;
            let v6 = cfg.ipv6_only.then_some(OptionCode::IPV6_ONLY_PREFERRED.0);
            for code in cfg.parameters.iter().copied().chain(v6) {
                if n < prl.len() && !prl[..n].contains(&code) {
                    prl[n] = code;
                    n += 1;
                }
            }
            if n > 0 {
                b.parameter_request_list(&prl[..n])?;
            }
            if cfg.rapid_commit && matches!(out, Outgoing::Discover) {
                b.rapid_commit()?;
            }
        }
        let len = b.finish()?;
        Ok(Transmit {
            len,
            destination,
            source,
        })
    }
}
