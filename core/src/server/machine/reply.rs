//! Replies: what a reply says and where it goes (RFC 2131 section 4.1), written at once into
//! reused buffers; the options in the client's order, copied from the cache when seen before.

use super::*;

/// What a reply says, borrowing what it echoes from the request.
#[derive(Debug, Clone)]
pub(super) struct Reply<'r> {
    pub(super) kind: MessageType,
    pub(super) xid: u32,
    pub(super) flags: Flags,
    pub(super) htype: u8,
    pub(super) chaddr: heapless::Vec<u8, 16>,
    pub(super) ciaddr: Ipv4Addr,
    pub(super) yiaddr: Ipv4Addr,
    pub(super) giaddr: Ipv4Addr,
    pub(super) server_id: Ipv4Addr,
    pub(super) subnet: u16,
    pub(super) reservation: Option<u16>,
    /// The client's classes that give it something (options, boot settings).
    pub(super) group: Group,
    pub(super) lease: Option<LeaseSecs>,
    pub(super) prl: Option<OptionData<'r>>,
    pub(super) client_id: Option<OptionData<'r>>,
    pub(super) relay_info: Option<OptionData<'r>>,
    pub(super) max_len: usize,
    pub(super) rapid_commit: bool,
    /// A BOOTREPLY to a BOOTP client: no message type, server id or lease times, nothing
    /// past the 64-byte vendor area, no overload.
    pub(super) bootp: bool,
    /// What a NAK says (56).
    pub(super) nak_message: &'static [u8],
    pub(super) destination: SocketAddrV4,
    pub(super) interface: u32,
    pub(super) hardware: Option<HardwareAddress>,
}

impl<'r> Reply<'r> {
    /// A reply of `kind` to `m` (a request, or a reply of ours being replaced), and where
    /// it goes (RFC 2131 section 4.1): no lease, reservation or rapid commit yet.
    #[inline(always)]
    pub(super) fn to(
        m: &Message<'r>,
        kind: MessageType,
        yiaddr: Ipv4Addr,
        server_id: Ipv4Addr,
        subnet: u16,
        interface: u32,
    ) -> Self {
        let giaddr = m.giaddr();
        let ciaddr = m.ciaddr();
        let broadcast_bit = m.flags().contains(Flags::BROADCAST);
        let mut hardware = None;
        let destination = if !giaddr.is_unspecified() {
            SocketAddrV4::new(giaddr, SERVER_PORT)
        } else if kind == MessageType::Nak {
            SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT)
        } else if !ciaddr.is_unspecified() {
            SocketAddrV4::new(ciaddr, CLIENT_PORT)
        } else if broadcast_bit || yiaddr.is_unspecified() {
            SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT)
        } else {
            hardware = Some(HardwareAddress::new(m.htype(), m.chaddr()));
            SocketAddrV4::new(yiaddr, CLIENT_PORT)
        };
        // NAKs through a relay ask it to broadcast (RFC 2131 section 4.3.2).
        let flags = if kind == MessageType::Nak && !giaddr.is_unspecified() {
            m.flags() | Flags::BROADCAST
        } else {
            m.flags()
        };
        let max = m
            .max_message_size()
            .ok()
            .flatten()
            .map_or(576, usize::from)
            .max(576);
        Reply {
            kind,
            xid: m.xid(),
            flags,
            htype: m.htype(),
            chaddr: heapless_from(m.chaddr().iter().copied()),
            // Table 3: OFFER and NAK carry no ciaddr.
            ciaddr: if matches!(kind, MessageType::Nak | MessageType::Offer) {
                Ipv4Addr::UNSPECIFIED
            } else {
                ciaddr
            },
            yiaddr,
            giaddr,
            server_id,
            subnet,
            reservation: None,
            group: Group(0),
            lease: None,
            prl: m.option(OptionCode::PARAMETER_REQUEST_LIST),
            client_id: m.option(OptionCode::CLIENT_ID),
            relay_info: m.option(OptionCode::RELAY_AGENT_INFO),
            max_len: max - 28,
            rapid_commit: false,
            bootp: false,
            nak_message: b"address not available",
            destination,
            interface,
            hardware,
        }
    }
}

/// A reply written and waiting to be sent (or, for an ACK, for its record to be durable).
#[derive(Debug)]
pub(super) struct Encoded {
    /// A reused 1500-byte buffer; the reply is its first `len` bytes.
    pub(super) bytes: Vec<u8>,
    pub(super) len: usize,
    pub(super) kind: MessageType,
    pub(super) yiaddr: Ipv4Addr,
    pub(super) destination: SocketAddrV4,
    pub(super) interface: u32,
    pub(super) source: Ipv4Addr,
    pub(super) hardware: Option<HardwareAddress>,
    /// A BOOTREPLY (counted apart, never turned into a NAK).
    pub(super) bootp: bool,
}

impl Server {
    pub(super) fn reply(
        &mut self,
        ctx: &Ctx<'_, '_>,
        kind: MessageType,
        yiaddr: Ipv4Addr,
        times: Option<LeaseSecs>,
    ) {
        let kind = if kind == MessageType::Inform {
            MessageType::Ack
        } else {
            kind
        };
        if let Some(r) = self.encode(ctx, kind, yiaddr, times) {
            self.replies.push_back(r);
        }
    }

    /// Builds and writes a reply now, into a reused buffer.
    pub(super) fn encode(
        &mut self,
        ctx: &Ctx<'_, '_>,
        kind: MessageType,
        yiaddr: Ipv4Addr,
        times: Option<LeaseSecs>,
    ) -> Option<Encoded> {
        let r = self.build(ctx, kind, yiaddr, times);
        self.encode_reply(&r)
    }

    /// Writes `r` into a reused buffer: the options in the client's order, or, if that
    /// crowds out what every reply must carry, the must-haves first. `None` when neither
    /// fits the client's maximum message size.
    #[inline(always)]
    pub(super) fn encode_reply(&mut self, r: &Reply<'_>) -> Option<Encoded> {
        // The builder writes every byte of the message, so a reused buffer needs no zeroing.
        let mut bytes = self.spare.pop().unwrap_or_else(|| alloc::vec![0; 1500]);
        let cache = &mut self.option_cache;
        let scope = Scope {
            subnets: &self.subnets,
            classes: &self.classes,
        };
        let written = Self::write(&scope, cache, r, &mut bytes, false)
            .or_else(|_| Self::write(&scope, cache, r, &mut bytes, true));
        let Ok(len) = written else {
            self.spare.push(bytes);
            return None;
        };
        Some(Encoded {
            bytes,
            len,
            kind: r.kind,
            yiaddr: r.yiaddr,
            destination: r.destination,
            interface: r.interface,
            source: r.server_id,
            hardware: r.hardware,
            bootp: r.bootp,
        })
    }

    /// The reply to the request in `ctx`, and where it goes (RFC 2131 section 4.1).
    #[inline(always)]
    pub(super) fn build<'r>(
        &self,
        ctx: &Ctx<'_, 'r>,
        kind: MessageType,
        yiaddr: Ipv4Addr,
        times: Option<LeaseSecs>,
    ) -> Reply<'r> {
        let m = ctx.m;
        let mut r = Reply::to(
            m,
            kind,
            yiaddr,
            ctx.server_id,
            ctx.subnet as u16,
            ctx.meta.interface,
        );
        r.reservation = ctx.reservation.map(|r| r as u16);
        r.group = ctx.group;
        if ctx.bootp {
            r.bootp = true;
            r.max_len = BOOTP_MIN_LEN;
            return r;
        }
        r.lease = times;
        r.rapid_commit = kind == MessageType::Ack
            && m.rapid_commit() == Ok(true)
            && self.subnets[ctx.subnet].rapid_commit;
        r
    }

    pub(super) fn write(
        scope: &Scope<'_>,
        cache: &mut OptionCache,
        r: &Reply<'_>,
        buf: &mut [u8],
        musts_first: bool,
    ) -> Result<usize, EmitError> {
        let subnet = scope
            .subnets
            .get(usize::from(r.subnet))
            .ok_or(EmitError::BufferTooSmall { available: 0 })?;
        let reservation = r
            .reservation
            .and_then(|i| subnet.reservations.get(usize::from(i)));
        // A client in no class that carries something, without a reservation, on a subnet
        // without boot settings (nearly every client of most networks) skips the lookups.
        let plain = r.group == Group(0) && reservation.is_none() && subnet.no_boot;
        let settings = Settings {
            subnet,
            reservation,
            classes: scope.classes,
            group: if plain { Group(0) } else { r.group },
        };
        let mut b = MessageBuilder::new(buf)?;
        b.op(Op::BootReply)
            .htype(r.htype)
            .xid(r.xid)
            .flags(r.flags)
            .ciaddr(r.ciaddr)
            .yiaddr(r.yiaddr)
            .giaddr(r.giaddr);
        b.chaddr(&r.chaddr)?;
        let boot = (r.kind != MessageType::Nak && !plain)
            .then(|| settings.boot())
            .flatten();
        if let Some(boot) = &boot {
            if let Some(a) = boot.next_server {
                b.siaddr(a);
            }
            if let Some(name) = boot.server_name.filter(|n| n.len() <= SNAME_MAX) {
                b.sname(name)?;
            }
            if let Some(file) = boot.boot_file.filter(|f| f.len() <= FILE_MAX) {
                b.file(file)?;
            }
        }
        b.max_len(r.max_len)?.allow_overload(!r.bootp);
        let mut written = Written::default();
        if !r.bootp {
            b.message_type(r.kind)?.server_id(r.server_id)?;
            written.mark(OptionCode::MESSAGE_TYPE);
            written.mark(OptionCode::SERVER_ID);
        } else {
            // BOOTP's 64-byte vendor area: what is echoed goes first, the options after it
            // as far as they fit.
            Self::write_echoed(&mut b, r)?;
        }
        if r.kind == MessageType::Nak {
            b.error_message(r.nak_message)?;
        } else {
            let host_name = reservation.and_then(|res| res.host_name.as_deref());
            // Nearly every reply writes a block of options seen before (the same list on
            // the same subnet): copied, with this lease's times.
            let list = r
                .prl
                .and_then(|p| p.as_slice())
                .filter(|l| !l.is_empty() && !musts_first && reservation.is_none());
            let times = Times::of(r.lease);
            let key = BlockKey {
                subnet: r.subnet,
                group: r.group,
                times,
            };
            let copied_block = match list {
                Some(l) => cache
                    .get(&key, l)
                    .is_some_and(|block| block.write(&mut b, r.lease)),
                None => false,
            };
            if !copied_block {
                let start = b.options_mark();
                let dropped = Self::write_listed(&mut b, &mut written, r, &settings, musts_first)?;
                // Kept only when it is the whole answer to the list, in one piece.
                if let (Some(l), Some(start), false) = (list, start, dropped) {
                    if let Some(bytes) = b.written_since(start) {
                        cache.put(key, l, bytes);
                    }
                }
            }
            if !plain && !r.bootp {
                // A copied block answered the whole list: what it lists is written.
                if let (true, Some(l)) = (copied_block, list) {
                    for &code in l {
                        written.mark(OptionCode(code));
                    }
                }
                Self::write_unasked(&mut b, &mut written, &settings, boot.as_ref())?;
            }
            if let Some(h) = host_name {
                if !written.mark(OptionCode::HOST_NAME) {
                    b.host_name(h.as_bytes())?;
                }
            }
            if r.rapid_commit {
                b.rapid_commit()?;
            }
        }
        if !r.bootp {
            if let Some(id) = &r.client_id {
                b.option_data(OptionCode::CLIENT_ID, id)?;
            }
            if let Some(info) = &r.relay_info {
                b.option_data(OptionCode::RELAY_AGENT_INFO, info)?;
            }
        }
        b.finish()
    }

    /// The client id (61, RFC 6842) and relay agent information (82, RFC 3046) echoed,
    /// first in a BOOTREPLY (the others write them last, below).
    #[cold]
    fn write_echoed(b: &mut MessageBuilder<'_>, r: &Reply<'_>) -> Result<(), EmitError> {
        if let Some(id) = &r.client_id {
            b.option_data(OptionCode::CLIENT_ID, id)?;
        }
        if let Some(info) = &r.relay_info {
            b.option_data(OptionCode::RELAY_AGENT_INFO, info)?;
        }
        Ok(())
    }
}

impl Server {
    /// Writes what a client needs whether it asks or not: a boot file too long for `file`
    /// (67), and a class's vendor class (60), which UEFI HTTP boot requires echoed.
    fn write_unasked(
        b: &mut MessageBuilder<'_>,
        written: &mut Written,
        settings: &Settings<'_>,
        boot: Option<&BootRef<'_>>,
    ) -> Result<(), EmitError> {
        let long_file = boot
            .and_then(|b| b.boot_file)
            .filter(|f| f.len() > FILE_MAX);
        if let Some(file) = long_file {
            if !written.mark(OptionCode::BOOTFILE) {
                b.option(OptionCode::BOOTFILE, file)?;
            }
        }
        if let Some(v) = settings.class_option(OptionCode::VENDOR_CLASS_ID) {
            if !written.mark(OptionCode::VENDOR_CLASS_ID) {
                b.option(OptionCode::VENDOR_CLASS_ID, v)?;
            }
        }
        Ok(())
    }

    /// Writes the options `r`'s parameter request list asks for, in its order (all those
    /// configured, `reservation`'s first, when it sent none), and what every lease carries; with `musts_first`,
    /// those first. An option that does not fit in the client's maximum message size is
    /// left out (the result says whether one was); a must-have that does not fit is an
    /// error.
    pub(super) fn write_listed(
        b: &mut MessageBuilder<'_>,
        written: &mut Written,
        r: &Reply<'_>,
        settings: &Settings<'_>,
        musts_first: bool,
    ) -> Result<bool, EmitError> {
        let (subnet, reservation) = (settings.subnet, settings.reservation);
        let value = |code: OptionCode| -> Option<[u8; 4]> {
            match code {
                OptionCode::SUBNET_MASK => Some(subnet.net.mask().octets()),
                _ => lease_option(code, r.lease).map(u32::to_be_bytes),
            }
        };
        let configured = |code: OptionCode| settings.option(code);
        let musts: &[OptionCode] = if r.lease.is_some() {
            &MUSTS_WITH_LEASE
        } else {
            &MUSTS
        };
        if musts_first {
            for &code in musts {
                if let Some(v) = value(code) {
                    written.mark(code);
                    b.option(code, &v)?;
                }
            }
        }
        // The list as it lies in the request when it is one piece (nearly always).
        let copied: heapless::Vec<u8, 255>;
        let wanted: &[u8] = match r.prl.filter(|p| !p.is_empty()) {
            Some(prl) => match prl.as_slice() {
                Some(slice) => slice,
                None => {
                    copied = heapless_from(prl.bytes());
                    &copied
                }
            },
            None => {
                // Everything configured, but IPv6-only preferred (108): RFC 8925 section
                // 3.3 sends it only to a client that lists it.
                let member = settings.classes.grouped(settings.group).set;
                let classes = settings.classes.of(member);
                copied = heapless_from(
                    reservation
                        .iter()
                        .flat_map(|res| res.options.iter())
                        .map(|(c, _)| c.0)
                        .chain(classes.flat_map(|c| c.options.codes().iter().copied()))
                        .chain(subnet.options.codes().iter().copied())
                        .filter(|&c| OptionCode(c) != OptionCode::IPV6_ONLY_PREFERRED),
                );
                &copied
            }
        };
        let mut dropped = false;
        for &code in wanted {
            let code = OptionCode(code);
            // Pad and end are not options; the client id and relay information are echoed
            // after the list, not on request.
            let echoed_or_none = matches!(
                code,
                OptionCode::PAD
                    | OptionCode::END
                    | OptionCode::CLIENT_ID
                    | OptionCode::RELAY_AGENT_INFO
            );
            if echoed_or_none || written.mark(code) {
                continue;
            }
            // `value` knows exactly the must-haves: one that does not fit is an error.
            if let Some(v) = value(code) {
                b.option(code, &v)?;
            } else if let Some(v) = configured(code) {
                dropped |= b.option(code, v).is_err();
            }
        }
        for &code in musts {
            if let Some(v) = value(code) {
                if !written.mark(code) {
                    b.option(code, &v)?;
                }
            }
        }
        Ok(dropped)
    }
}

/// Longest server name that fits in `sname` (64 bytes, NUL-terminated).
const SNAME_MAX: usize = 63;
/// Longest boot file name that fits in `file` (128 bytes, NUL-terminated).
const FILE_MAX: usize = 127;

/// What the server holds that a reply is written from.
pub(super) struct Scope<'s> {
    pub(super) subnets: &'s [Subnet],
    pub(super) classes: &'s Classes,
}

/// The scopes a reply's settings come from, in precedence: the reservation, the client's
/// classes in configuration order, the subnet (the server-wide settings merged in).
pub(super) struct Settings<'s> {
    pub(super) subnet: &'s Subnet,
    pub(super) reservation: Option<&'s Reservation>,
    pub(super) classes: &'s Classes,
    /// The client's classes that carry something.
    pub(super) group: Group,
}

/// Boot settings as a reply writes them.
#[derive(Default)]
pub(super) struct BootRef<'s> {
    pub(super) next_server: Option<Ipv4Addr>,
    pub(super) server_name: Option<&'s [u8]>,
    pub(super) boot_file: Option<&'s [u8]>,
}

impl<'s> BootRef<'s> {
    /// `b` as bytes.
    #[inline]
    fn of(b: &'s Boot) -> Self {
        BootRef {
            next_server: b.next_server,
            server_name: b.server_name.as_deref().map(str::as_bytes),
            boot_file: b.boot_file.as_deref().map(str::as_bytes),
        }
    }

    /// What `self` leaves unset, from `base`.
    #[inline]
    fn fill(&mut self, base: &BootRef<'s>) {
        self.next_server = self.next_server.or(base.next_server);
        self.server_name = self.server_name.or(base.server_name);
        self.boot_file = self.boot_file.or(base.boot_file);
    }
}

impl<'s> Settings<'s> {
    /// The value of option `code` from the nearest scope that sets it. The host name (12)
    /// of a reservation, its server name (66) and boot file (67) count as options.
    #[inline]
    pub(super) fn option(&self, code: OptionCode) -> Option<&'s [u8]> {
        if let Some(res) = self.reservation {
            if let Some(h) = res
                .host_name
                .as_deref()
                .filter(|_| code == OptionCode::HOST_NAME)
            {
                return Some(h.as_bytes());
            }
            if let Some(v) = res.options.get(code) {
                return Some(v);
            }
        }
        if matches!(code, OptionCode::TFTP_SERVER | OptionCode::BOOTFILE) {
            let boot = self.boot();
            let v = if code == OptionCode::TFTP_SERVER {
                boot.and_then(|b| b.server_name)
            } else {
                boot.and_then(|b| b.boot_file)
            };
            if v.is_some() {
                return v;
            }
        }
        self.class_option(code)
            .or_else(|| self.subnet.options.get(code.0))
    }

    /// The value of option `code` from the first of the client's classes that sets it.
    #[inline]
    pub(super) fn class_option(&self, code: OptionCode) -> Option<&'s [u8]> {
        if self.group == Group(0) {
            return None;
        }
        let member = self.classes.grouped(self.group).set;
        self.classes.of(member).find_map(|c| c.options.get(code.0))
    }

    /// The boot settings, each from the nearest scope that sets it; `None` when no
    /// scope sets any.
    #[inline]
    pub(super) fn boot(&self) -> Option<BootRef<'s>> {
        let res = self.reservation.map(|r| &r.boot).filter(|b| !b.is_empty());
        if res.is_none() && self.group == Group(0) {
            return (!self.subnet.no_boot).then(|| BootRef::of(&self.subnet.boot));
        }
        let mut boot = res.map(BootRef::of).unwrap_or_default();
        // Each setting from the first of the client's classes that sets it.
        let [next_server, server_name, boot_file] = self
            .classes
            .grouped(self.group)
            .boot_from
            .map(|from| from.and_then(|i| self.classes.get(i)).map(|c| &c.boot));
        let bytes = |s: &'s Option<alloc::string::String>| s.as_deref().map(str::as_bytes);
        boot.next_server = boot.next_server.or(next_server.and_then(|b| b.next_server));
        boot.server_name = boot
            .server_name
            .or(server_name.and_then(|b| bytes(&b.server_name)));
        boot.boot_file = boot
            .boot_file
            .or(boot_file.and_then(|b| bytes(&b.boot_file)));
        boot.fill(&BootRef::of(&self.subnet.boot));
        Some(boot)
    }
}

/// What every reply granting a lease carries, asked for or not.
const MUSTS_WITH_LEASE: [OptionCode; 4] = [
    OptionCode::LEASE_TIME,
    OptionCode::RENEWAL_TIME,
    OptionCode::REBINDING_TIME,
    OptionCode::SUBNET_MASK,
];
/// What every other reply but a NAK carries.
const MUSTS: [OptionCode; 1] = [OptionCode::SUBNET_MASK];

/// The option codes a reply has written, so that none is written twice.
#[derive(Default)]
pub(super) struct Written([u64; 4]);

impl Written {
    /// Marks `code` written; true when it already was.
    #[inline]
    pub(super) fn mark(&mut self, code: OptionCode) -> bool {
        let (w, bit) = (usize::from(code.0 >> 6), 1u64 << (code.0 & 63));
        let seen = self.0[w] & bit != 0;
        self.0[w] |= bit;
        seen
    }
}

/// Rewrites the lease time (51) of an encoded reply to `lease` seconds, and T1 (58) and T2
/// (59) to the RFC 2131 defaults for it (1/2 and 7/8), in place. False when the reply
/// carries no lease time in its `options` field (the caller then must not send it).
pub(super) fn set_lease_times(reply: &mut [u8], lease: u32) -> bool {
    let Ok(m) = Message::parse(reply) else {
        return false;
    };
    let at = |code| m.option_range(code).filter(|r| r.len() == 4);
    let values = [
        (at(OptionCode::LEASE_TIME), lease),
        (at(OptionCode::RENEWAL_TIME), lease / 2),
        (
            at(OptionCode::REBINDING_TIME),
            (u64::from(lease) * 7 / 8) as u32,
        ),
    ];
    if values[0].0.is_none() {
        return false;
    }
    for (range, v) in values {
        if let Some(dst) = range.and_then(|r| reply.get_mut(r)) {
            dst.copy_from_slice(&v.to_be_bytes());
        }
    }
    true
}
