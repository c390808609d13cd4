//! What each reply does (RFC 2131 section 4.4): every check in order (parse, op, type,
//! state, xid, chaddr, server id, address, lease time), then OFFER, NAK, ACK, and the ACK
//! to an INFORM.

use super::*;

impl Client {
    pub(super) fn on_packet(&mut self, now: Instant, packet: &[u8]) -> Result<(), DropReason> {
        let m = Message::parse(packet).map_err(|_| DropReason::Malformed)?;
        if m.op() != Op::BootReply {
            return Err(DropReason::NotReply);
        }
        let kind = m
            .message_type()
            .map_err(|_| DropReason::BadOption)?
            .ok_or(DropReason::NotReply)?;
        let listening = matches!(
            self.state,
            State::Selecting
                | State::Requesting
                | State::Rebooting
                | State::Renewing
                | State::Rebinding
                | State::Informing
        );
        if !listening {
            return Err(DropReason::Unexpected);
        }
        if m.xid() != self.xid {
            return Err(DropReason::WrongXid);
        }
        if m.htype() != self.config.htype || m.chaddr() != &self.config.hardware_address[..] {
            return Err(DropReason::WrongChaddr);
        }
        let server_id = m.server_id().map_err(|_| DropReason::BadOption)?;
        match (self.state, kind) {
            (State::Selecting, MessageType::Offer) => self.on_offer(now, &m, server_id),
            (State::Selecting, MessageType::Ack)
                if self.config.rapid_commit && m.rapid_commit() == Ok(true) =>
            {
                self.on_ack(now, &m, server_id)
            }
            (State::Requesting, MessageType::Ack | MessageType::Nak) => {
                let expected = self.offer.map(|o| o.server_id);
                if server_id.is_none() || server_id != expected {
                    return Err(DropReason::WrongServer);
                }
                if kind == MessageType::Nak {
                    self.on_nak(now);
                    Ok(())
                } else {
                    self.on_ack(now, &m, server_id)
                }
            }
            (State::Renewing, MessageType::Ack | MessageType::Nak) => {
                let expected = self.lease.as_ref().map(Lease::server_id);
                if server_id.is_some() && server_id != expected {
                    return Err(DropReason::WrongServer);
                }
                if kind == MessageType::Nak {
                    self.on_nak(now);
                    Ok(())
                } else {
                    self.on_ack(now, &m, server_id.or(expected))
                }
            }
            (State::Rebooting | State::Rebinding, MessageType::Nak) => {
                self.on_nak(now);
                Ok(())
            }
            (State::Rebooting | State::Rebinding, MessageType::Ack) => {
                self.on_ack(now, &m, server_id)
            }
            (State::Informing, MessageType::Ack) => self.on_inform_ack(now, &m, server_id),
            _ => Err(DropReason::Unexpected),
        }
    }

    pub(super) fn on_offer(
        &mut self,
        now: Instant,
        m: &Message<'_>,
        server_id: Option<Ipv4Addr>,
    ) -> Result<(), DropReason> {
        let (server_id, address, lease_secs) = terms(m, server_id)?;
        if self.config.ipv6_only {
            if let Some(wait) = m.ipv6_only_preferred().map_err(|_| DropReason::BadOption)? {
                let wait = Duration::from_secs(u64::from(wait)).max(MIN_V6ONLY_WAIT);
                self.state = State::Ipv6Only;
                self.offer = None;
                self.pending = None;
                self.timer = Some(now + wait);
                self.push(Event::Ipv6OnlyPreferred(wait));
                return Ok(());
            }
        }
        let offer = Offer {
            address,
            server_id,
            lease_secs,
        };
        if self.config.offer_window.is_zero() {
            self.request(now, offer);
            return Ok(());
        }
        let wanted = self.config.requested_address;
        let better = |a: &Offer, b: &Offer| {
            let key = |o: &Offer| (Some(o.address) == wanted, o.lease_secs);
            key(a) > key(b)
        };
        match self.offer {
            Some(best) if !better(&offer, &best) => {}
            _ => self.offer = Some(offer),
        }
        let window_end = (self.started + self.config.offer_window).max(now + MIN_TIMER);
        self.timer = Some(self.timer.map_or(window_end, |t| t.min(window_end)));
        Ok(())
    }

    pub(super) fn on_nak(&mut self, now: Instant) {
        self.push(Event::Nak);
        if self.lease.take().is_some() {
            self.push(Event::LeaseLost);
        }
        self.naks += 1;
        // The first NAK restarts at once; repeated ones back off, so a hostile or broken
        // server cannot make the client loop.
        let delay = match self.naks {
            0 | 1 => Duration::ZERO,
            n => (self.config.restart_delay * (1 << (n - 2).min(6))).min(Duration::from_secs(300)),
        };
        self.restart(now, delay);
    }

    pub(super) fn on_ack(
        &mut self,
        now: Instant,
        m: &Message<'_>,
        server_id: Option<Ipv4Addr>,
    ) -> Result<(), DropReason> {
        let (server_id, address, lease_secs) = terms(m, server_id)?;
        if lease_secs == 0 {
            return Err(DropReason::MissingLeaseTime);
        }
        let previous = self.lease.as_ref().map(Lease::address);
        let extending = matches!(self.state, State::Renewing | State::Rebinding);
        if extending && previous != Some(address) {
            return Err(DropReason::BadAddress);
        }
        let lease = Lease::new(m, server_id, self.lease_start, Some(lease_secs))
            .ok_or(DropReason::TooLarge)?;
        let remembered = self.state == State::Rebooting && self.target == Some(address);
        self.lease = Some(lease);
        match self.state {
            State::Renewing => self.bound(now, Event::Renewed),
            State::Rebinding => self.bound(now, Event::Rebound),
            _ if self.config.probe && !remembered => {
                self.state = State::Probing;
                self.pending = None;
                self.timer = Some(now + self.config.probe_timeout.max(MIN_TIMER));
                self.push(Event::ProbeAddress(address));
            }
            _ => self.bound(now, Event::Bound),
        }
        Ok(())
    }

    pub(super) fn on_inform_ack(
        &mut self,
        _now: Instant,
        m: &Message<'_>,
        server_id: Option<Ipv4Addr>,
    ) -> Result<(), DropReason> {
        let address = self.target.unwrap_or(Ipv4Addr::UNSPECIFIED);
        let server = server_id.unwrap_or(m.siaddr());
        let mut lease = Lease::new(m, server, self.started, None).ok_or(DropReason::TooLarge)?;
        lease.set_address(address);
        self.lease = Some(lease);
        self.state = State::Idle;
        self.timer = None;
        self.pending = None;
        self.push(Event::Informed);
        Ok(())
    }
}
