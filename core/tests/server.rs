//! The server machine: configuration checks, every REQUEST case of RFC 2131 section 4.3.2,
//! relays, reservations, durability, expiry, and the rows of table 3 that replies follow.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use dhcp_core::server::{
    ClientKey, ConfigPlace, DropReason, Ipv4Net, LeaseField, LeaseRecord, LeaseTimes, PoolRange,
    RecordKind, RecvMeta, Reservation, ReservationKey, Server, ServerConfig, SubnetConfig,
    Transmit,
};
use dhcp_core::time::Instant;
use dhcp_core::wire::{Flags, Message, MessageBuilder, MessageType, Op, OptionCode};

const SERVER_ID: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const RELAY: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const UNIX0: u64 = 1_800_000_000;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn mac(n: u8) -> [u8; 6] {
    [0x02, 0, 0, 0, 0, n]
}

fn config() -> ServerConfig {
    let mut c = ServerConfig {
        server_id: Some(SERVER_ID),
        ..Default::default()
    };
    c.options
        .dns_servers(&[ip("192.0.2.53")])
        .unwrap()
        .domain_name("example.test")
        .unwrap();
    let mut local = SubnetConfig::new(Ipv4Net::new(ip("192.0.2.0"), 24));
    local
        .pools
        .push(PoolRange::new(ip("192.0.2.100"), ip("192.0.2.109")));
    local.options.routers(&[SERVER_ID]).unwrap();
    local.reservations.push(Reservation {
        key: ReservationKey::HardwareAddress(mac(0x77).to_vec()),
        address: ip("192.0.2.50"),
        host_name: Some("printer".into()),
        options: Default::default(),
        classes: Default::default(),
        boot: Default::default(),
    });
    let mut relayed = SubnetConfig::new(Ipv4Net::new(ip("198.51.100.0"), 24));
    relayed
        .pools
        .push(PoolRange::new(ip("198.51.100.100"), ip("198.51.100.199")));
    relayed.options.routers(&[RELAY]).unwrap();
    relayed.reservations.push(Reservation {
        key: ReservationKey::CircuitId(b"port-7".to_vec()),
        address: ip("198.51.100.7"),
        host_name: None,
        options: Default::default(),
        classes: Default::default(),
        boot: Default::default(),
    });
    c.subnets = vec![local, relayed];
    c
}

fn at(secs: u64) -> Instant {
    Instant::from_secs(secs)
}

fn server(c: ServerConfig) -> Server {
    Server::new(c, at(0), UNIX0).unwrap()
}

fn meta() -> RecvMeta {
    RecvMeta {
        interface: 3,
        local_address: SERVER_ID,
        source: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
    }
}

/// A client request.
struct Req {
    kind: MessageType,
    mac: [u8; 6],
    xid: u32,
    ciaddr: Ipv4Addr,
    giaddr: Ipv4Addr,
    flags: Flags,
    requested: Option<Ipv4Addr>,
    server_id: Option<Ipv4Addr>,
    extra: Vec<(u8, Vec<u8>)>,
}

fn req(kind: MessageType, n: u8) -> Req {
    Req {
        kind,
        mac: mac(n),
        xid: 0x1000 + u32::from(n),
        ciaddr: Ipv4Addr::UNSPECIFIED,
        giaddr: Ipv4Addr::UNSPECIFIED,
        flags: Flags::empty(),
        requested: None,
        server_id: None,
        extra: Vec::new(),
    }
}

impl Req {
    fn bytes(&self) -> Vec<u8> {
        let mut buf = vec![0u8; 1500];
        let mut b = MessageBuilder::new(&mut buf).unwrap();
        b.op(Op::BootRequest)
            .xid(self.xid)
            .flags(self.flags)
            .ciaddr(self.ciaddr)
            .giaddr(self.giaddr);
        b.chaddr(&self.mac).unwrap();
        b.message_type(self.kind).unwrap();
        if let Some(a) = self.requested {
            b.requested_ip(a).unwrap();
        }
        if let Some(a) = self.server_id {
            b.server_id(a).unwrap();
        }
        for (c, v) in &self.extra {
            b.option(OptionCode(*c), v).unwrap();
        }
        let n = b.finish().unwrap();
        buf.truncate(n);
        buf
    }
    fn with(mut self, f: impl FnOnce(&mut Req)) -> Req {
        f(&mut self);
        self
    }
}

struct Out {
    t: Transmit,
    bytes: Vec<u8>,
}

impl Out {
    fn msg(&self) -> Message<'_> {
        Message::parse(&self.bytes).unwrap()
    }
    fn kind(&self) -> MessageType {
        self.msg().message_type().unwrap().unwrap()
    }
}

/// Sends `r`, persists whatever the server asks, and returns its replies.
fn exchange(s: &mut Server, now: Instant, r: &Req) -> Vec<Out> {
    s.handle_packet(now, &meta(), &r.bytes());
    persist_all(s);
    drain(s)
}

fn persist_all(s: &mut Server) -> Vec<LeaseRecord> {
    let records: Vec<_> = std::iter::from_fn(|| s.poll_persist()).collect();
    if let Some(last) = records.last() {
        s.persisted(last.seq);
    }
    records
}

fn drain(s: &mut Server) -> Vec<Out> {
    let mut buf = [0u8; 1500];
    let mut out = Vec::new();
    while let Some(t) = s.poll_transmit(&mut buf) {
        out.push(Out {
            t,
            bytes: buf[..t.len].to_vec(),
        });
    }
    out
}

/// DISCOVER + REQUEST for client `n`; returns the address.
fn dora(s: &mut Server, now: Instant, n: u8) -> Ipv4Addr {
    let offer = exchange(s, now, &req(MessageType::Discover, n));
    assert_eq!(offer.len(), 1);
    let a = offer[0].msg().yiaddr();
    let ack = exchange(
        s,
        now,
        &req(MessageType::Request, n).with(|r| {
            r.requested = Some(a);
            r.server_id = Some(SERVER_ID);
        }),
    );
    assert_eq!(ack.len(), 1);
    assert_eq!(ack[0].kind(), MessageType::Ack);
    a
}

fn key(n: u8) -> ClientKey {
    ClientKey::hardware(1, &mac(n))
}

#[test]
fn config_errors_are_all_reported() {
    let mut c = config();
    c.subnets[0]
        .pools
        .push(PoolRange::new(ip("192.0.2.105"), ip("192.0.2.120")));
    c.subnets[0]
        .pools
        .push(PoolRange::new(ip("192.0.2.90"), ip("192.0.2.80")));
    c.subnets[0]
        .pools
        .push(PoolRange::new(ip("192.0.3.1"), ip("192.0.3.9")));
    c.subnets[0].reservations.push(Reservation {
        key: ReservationKey::ClientId(vec![1, 2]),
        address: ip("198.51.100.9"),
        host_name: None,
        options: Default::default(),
        classes: Default::default(),
        boot: Default::default(),
    });
    c.subnets[1].lease = LeaseTimes {
        renewal: Some(900),
        rebinding: Some(800),
        ..Default::default()
    };
    c.subnets
        .push(SubnetConfig::new(Ipv4Net::new(ip("192.0.2.128"), 25)));
    c.subnets
        .push(SubnetConfig::new(Ipv4Net::new(ip("10.0.0.1"), 8)));
    let errors = c.validate().unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let has = |s: &str| text.iter().any(|t| t.contains(s));
    assert!(
        has("pool 1 (192.0.2.105-192.0.2.120): overlaps"),
        "{text:#?}"
    );
    assert!(
        has("pool 2 (192.0.2.90-192.0.2.80): start is after end"),
        "{text:#?}"
    );
    assert!(
        has("pool 3 (192.0.3.1-192.0.3.9): is not inside 192.0.2.0/24"),
        "{text:#?}"
    );
    assert!(
        has("address 198.51.100.9 is inside another subnet, 198.51.100.0/24"),
        "{text:#?}"
    );
    assert!(
        has("subnet 198.51.100.0/24 lease: T1 900 s must be below T2 800 s"),
        "{text:#?}"
    );
    // Each error's typed place names what holds the mistake, by index.
    let places: Vec<ConfigPlace> = errors.iter().map(|e| e.place).collect();
    for want in [
        ConfigPlace::Pool { subnet: 0, pool: 1 },
        ConfigPlace::Pool { subnet: 0, pool: 3 },
        ConfigPlace::Reservation {
            subnet: 0,
            reservation: 1,
        },
        ConfigPlace::SubnetLease {
            subnet: 1,
            field: LeaseField::Renewal,
        },
        ConfigPlace::Subnet { subnet: 2 },
    ] {
        assert!(places.contains(&want), "{want:?} in {places:?}");
    }
    assert!(
        has("subnet 192.0.2.128/25: overlaps subnet 192.0.2.0/24"),
        "{text:#?}"
    );
    assert!(
        has("10.0.0.1 is not the network address of /8"),
        "{text:#?}"
    );
    assert!(has("has neither pools nor reservations"), "{text:#?}");
    assert!(errors.len() >= 8);
    assert!(Server::new(c, at(0), UNIX0).is_err());
    assert!(config().validate().is_ok());
}

#[test]
fn dora_on_the_link_and_the_ack_waits_for_persistence() {
    let mut s = server(config());
    let d = req(MessageType::Discover, 1).with(|r| r.extra.push((55, vec![3, 6, 1, 15, 51])));
    s.handle_packet(at(1), &meta(), &d.bytes());
    let offer = drain(&mut s);
    assert_eq!(offer.len(), 1);
    let o = &offer[0];
    let m = o.msg();
    assert_eq!(o.kind(), MessageType::Offer);
    assert_eq!(m.op(), Op::BootReply);
    assert_eq!(m.xid(), 0x1001);
    assert_eq!(m.yiaddr(), ip("192.0.2.100"));
    assert_eq!(m.server_id().unwrap(), Some(SERVER_ID));
    // Unicast to yiaddr at chaddr: the adapter gets the hardware address to write ARP.
    assert_eq!(o.t.destination, SocketAddrV4::new(ip("192.0.2.100"), 68));
    assert_eq!(
        o.t.hardware.map(|h| (h.htype(), h.as_bytes().to_vec())),
        Some((1, mac(1).to_vec()))
    );
    assert_eq!(o.t.interface, 3);
    assert_eq!(o.t.source, SERVER_ID);
    // The client's order first, then what every lease carries.
    let codes: Vec<u8> = m.options().map(|o| o.code.0).collect();
    assert_eq!(codes, [53, 54, 3, 6, 1, 15, 51, 58, 59]);
    assert_eq!(m.lease_time().unwrap(), Some(3600));
    assert_eq!(m.renewal_time().unwrap(), Some(1800));
    assert_eq!(m.rebinding_time().unwrap(), Some(3150));
    assert!(s.poll_persist().is_none(), "an offer needs no persistence");

    let r = req(MessageType::Request, 1).with(|r| {
        r.requested = Some(ip("192.0.2.100"));
        r.server_id = Some(SERVER_ID);
        r.flags = Flags::BROADCAST;
    });
    s.handle_packet(at(2), &meta(), &r.bytes());
    assert!(
        drain(&mut s).is_empty(),
        "no ACK before the record is durable"
    );
    let rec = s.poll_persist().unwrap();
    assert_eq!(rec.address, ip("192.0.2.100"));
    assert_eq!(rec.client, key(1));
    assert_eq!(rec.kind, RecordKind::Bound);
    assert_eq!(rec.expires, UNIX0 + 2 + 3600);
    s.persisted(rec.seq - 1);
    assert!(drain(&mut s).is_empty());
    s.persisted(rec.seq);
    let ack = drain(&mut s);
    assert_eq!(ack.len(), 1);
    assert_eq!(ack[0].kind(), MessageType::Ack);
    assert_eq!(
        ack[0].t.destination,
        SocketAddrV4::new(Ipv4Addr::BROADCAST, 68),
        "broadcast bit honoured"
    );
    assert_eq!(s.bound_to(ip("192.0.2.100")), Some(&key(1)));
    assert_eq!(s.stats().received_of(MessageType::Discover), 1);
    assert_eq!(s.stats().sent_of(MessageType::Ack), 1);
}

#[test]
fn relayed_requests_select_by_giaddr_and_echo_option_82() {
    let mut s = server(config());
    let relay_info = vec![
        1, 6, b'p', b'o', b'r', b't', b'-', b'9', 2, 3, b's', b'w', b'1',
    ];
    let d = req(MessageType::Discover, 2).with(|r| {
        r.giaddr = RELAY;
        r.extra.push((82, relay_info.clone()));
    });
    let o = exchange(&mut s, at(1), &d);
    let m = o[0].msg();
    assert_eq!(m.yiaddr(), ip("198.51.100.100"));
    assert_eq!(m.giaddr(), RELAY);
    assert_eq!(o[0].t.destination, SocketAddrV4::new(RELAY, 67));
    assert!(m.routers().unwrap().unwrap().iter().eq([RELAY]));
    assert_eq!(
        m.option(OptionCode::RELAY_AGENT_INFO).unwrap(),
        &relay_info[..]
    );
    assert_eq!(
        m.options().last().unwrap().code,
        OptionCode::RELAY_AGENT_INFO,
        "option 82 comes last"
    );

    // RFC 3527 link selection beats giaddr; RFC 3011 subnet selection when unrelayed.
    let d = req(MessageType::Discover, 3).with(|r| {
        r.giaddr = ip("203.0.113.1");
        r.extra.push((82, vec![5, 4, 198, 51, 100, 0]));
    });
    assert_eq!(
        exchange(&mut s, at(1), &d)[0].msg().yiaddr(),
        ip("198.51.100.101")
    );
    let d = req(MessageType::Discover, 4).with(|r| r.extra.push((118, vec![198, 51, 100, 0])));
    assert_eq!(
        exchange(&mut s, at(1), &d)[0].msg().yiaddr(),
        ip("198.51.100.102")
    );
    // No subnet for the link: dropped.
    let d = req(MessageType::Discover, 5).with(|r| r.giaddr = ip("203.0.113.1"));
    assert!(exchange(&mut s, at(1), &d).is_empty());
    assert_eq!(s.stats().dropped(DropReason::NoSubnet), 1);
    // RFC 5107: the server id override is what the reply carries and what a REQUEST names.
    let d = req(MessageType::Discover, 6).with(|r| {
        r.giaddr = RELAY;
        r.extra.push((82, vec![11, 4, 198, 51, 100, 1]));
    });
    let o = exchange(&mut s, at(1), &d);
    assert_eq!(o[0].msg().server_id().unwrap(), Some(RELAY));
    let r = req(MessageType::Request, 6).with(|r| {
        r.giaddr = RELAY;
        r.requested = Some(o[0].msg().yiaddr());
        r.server_id = Some(RELAY);
        r.extra.push((82, vec![11, 4, 198, 51, 100, 1]));
    });
    assert_eq!(exchange(&mut s, at(2), &r)[0].kind(), MessageType::Ack);
}

#[test]
fn reservations_win() {
    let mut s = server(config());
    // By hardware address, with its host name.
    let o = exchange(&mut s, at(1), &req(MessageType::Discover, 0x77));
    assert_eq!(o[0].msg().yiaddr(), ip("192.0.2.50"));
    assert_eq!(o[0].msg().host_name().unwrap().unwrap(), "printer");
    // By relay circuit id.
    let d = req(MessageType::Discover, 8).with(|r| {
        r.giaddr = RELAY;
        r.extra.push((82, b"\x01\x06port-7".to_vec()));
    });
    assert_eq!(
        exchange(&mut s, at(1), &d)[0].msg().yiaddr(),
        ip("198.51.100.7")
    );
    // Nobody else gets a reserved address, even asking for it.
    let d = req(MessageType::Discover, 9).with(|r| r.requested = Some(ip("192.0.2.50")));
    assert_ne!(
        exchange(&mut s, at(1), &d)[0].msg().yiaddr(),
        ip("192.0.2.50")
    );
    // A reserved client asking for another address is NAKed, so it comes to its own.
    let r = req(MessageType::Request, 0x77).with(|r| r.requested = Some(ip("192.0.2.101")));
    assert_eq!(exchange(&mut s, at(2), &r)[0].kind(), MessageType::Nak);
}

#[test]
fn request_cases_of_rfc2131_4_3_2() {
    let mut c = config();
    c.authoritative = false;
    let mut s = server(c.clone());
    let a = dora(&mut s, at(1), 1);

    // SELECTING, another server chosen: silence, and our offer is withdrawn.
    let o = exchange(&mut s, at(2), &req(MessageType::Discover, 2));
    let offered = o[0].msg().yiaddr();
    let r = req(MessageType::Request, 2).with(|r| {
        r.requested = Some(offered);
        r.server_id = Some(ip("192.0.2.99"));
    });
    assert!(exchange(&mut s, at(3), &r).is_empty());
    assert_eq!(s.stats().dropped(DropReason::OtherServer), 1);
    assert!(s.bound_to(offered).is_none());
    // SELECTING, our server id, an address we did not offer: NAK.
    let r = req(MessageType::Request, 3).with(|r| {
        r.requested = Some(ip("192.0.2.105"));
        r.server_id = Some(SERVER_ID);
    });
    let nak = exchange(&mut s, at(3), &r);
    assert_eq!(nak[0].kind(), MessageType::Nak);
    assert_eq!(
        nak[0].t.destination,
        SocketAddrV4::new(Ipv4Addr::BROADCAST, 68)
    );
    let nm = nak[0].msg();
    assert_eq!(
        (nm.yiaddr(), nm.ciaddr()),
        (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED)
    );
    assert!(nm.lease_time().unwrap().is_none());
    assert!(nm.error_message().unwrap().is_some());

    // INIT-REBOOT: known → ACK; wrong network → NAK; someone else's → NAK; unknown → silence.
    let reboot = |n: u8, a: Ipv4Addr| req(MessageType::Request, n).with(|r| r.requested = Some(a));
    assert_eq!(
        exchange(&mut s, at(4), &reboot(1, a))[0].kind(),
        MessageType::Ack
    );
    assert_eq!(
        exchange(&mut s, at(4), &reboot(1, ip("10.1.1.1")))[0].kind(),
        MessageType::Nak
    );
    assert_eq!(
        exchange(&mut s, at(4), &reboot(4, a))[0].kind(),
        MessageType::Nak
    );
    assert!(exchange(&mut s, at(4), &reboot(4, ip("192.0.2.108"))).is_empty());
    assert_eq!(s.stats().dropped(DropReason::Unknown), 1);

    // RENEWING (unicast, ciaddr): known → ACK to ciaddr; someone else's → NAK.
    let renew = |n: u8, a: Ipv4Addr| req(MessageType::Request, n).with(|r| r.ciaddr = a);
    let ack = exchange(&mut s, at(5), &renew(1, a));
    assert_eq!(ack[0].kind(), MessageType::Ack);
    assert_eq!(ack[0].t.destination, SocketAddrV4::new(a, 68));
    assert_eq!(ack[0].msg().ciaddr(), a);
    assert_eq!(
        exchange(&mut s, at(5), &renew(4, a))[0].kind(),
        MessageType::Nak
    );
    // REBINDING for an address this non-authoritative server never saw: silence.
    assert!(exchange(&mut s, at(5), &renew(5, ip("192.0.2.107"))).is_empty());

    // An authoritative server takes over an unknown client's free address (as after losing
    // its leases), and NAKs one that is taken.
    c.authoritative = true;
    let mut s = server(c);
    let a = dora(&mut s, at(1), 1);
    assert_eq!(
        exchange(&mut s, at(2), &reboot(7, ip("192.0.2.108")))[0].kind(),
        MessageType::Ack
    );
    assert_eq!(s.bound_to(ip("192.0.2.108")), Some(&key(7)));
    assert_eq!(
        exchange(&mut s, at(2), &reboot(8, a))[0].kind(),
        MessageType::Nak
    );
    assert_eq!(
        exchange(&mut s, at(2), &renew(9, ip("192.0.2.109")))[0].kind(),
        MessageType::Ack
    );
}

#[test]
fn decline_quarantines_release_frees_and_recent_leases_come_back() {
    let mut c = config();
    c.decline_probation = Duration::from_secs(600);
    let mut s = server(c);
    let a = dora(&mut s, at(1), 1);
    s.handle_packet(
        at(2),
        &meta(),
        &req(MessageType::Decline, 1)
            .with(|r| r.requested = Some(a))
            .bytes(),
    );
    let rec = persist_all(&mut s);
    assert_eq!(rec[0].kind, RecordKind::Declined);
    assert!(s.bound_to(a).is_none());
    // Not offered to anyone during probation.
    for n in 2..=10 {
        let o = exchange(&mut s, at(3), &req(MessageType::Discover, n));
        assert_ne!(o[0].msg().yiaddr(), a, "client {n}");
    }
    // A DECLINE for an address the client does not hold is ignored.
    s.handle_packet(
        at(3),
        &meta(),
        &req(MessageType::Decline, 3)
            .with(|r| r.requested = Some(ip("192.0.2.50")))
            .bytes(),
    );
    assert_eq!(s.stats().dropped(DropReason::NotHeld), 1);

    let mut s = server(config());
    let a = dora(&mut s, at(1), 1);
    s.handle_packet(
        at(2),
        &meta(),
        &req(MessageType::Release, 1).with(|r| r.ciaddr = a).bytes(),
    );
    assert!(drain(&mut s).is_empty(), "no reply to RELEASE");
    assert_eq!(persist_all(&mut s)[0].kind, RecordKind::Released);
    assert!(s.bound_to(a).is_none());
    // Another client gets a fresh address; the releasing client gets its own back.
    let b = dora(&mut s, at(3), 2);
    assert_ne!(a, b);
    assert_eq!(dora(&mut s, at(4), 1), a);
}

#[test]
fn inform_gets_options_without_a_lease() {
    let mut s = server(config());
    let r = req(MessageType::Inform, 1).with(|r| {
        r.ciaddr = ip("192.0.2.20");
        r.extra.push((55, vec![6, 15, 51]));
    });
    let o = exchange(&mut s, at(1), &r);
    let m = o[0].msg();
    assert_eq!(o[0].kind(), MessageType::Ack);
    assert_eq!(m.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert!(m.lease_time().unwrap().is_none() && m.renewal_time().unwrap().is_none());
    assert_eq!(m.domain_name().unwrap().unwrap(), "example.test");
    assert_eq!(o[0].t.destination, SocketAddrV4::new(ip("192.0.2.20"), 68));
}

#[test]
fn rapid_commit_answers_discover_with_ack() {
    let mut c = config();
    c.rapid_commit = true;
    let mut s = server(c);
    let d = req(MessageType::Discover, 1).with(|r| r.extra.push((80, vec![])));
    s.handle_packet(at(1), &meta(), &d.bytes());
    assert!(drain(&mut s).is_empty());
    persist_all(&mut s);
    let o = drain(&mut s);
    assert_eq!(o[0].kind(), MessageType::Ack);
    assert!(o[0].msg().rapid_commit().unwrap());
    // Without the option, the usual OFFER.
    assert_eq!(
        exchange(&mut s, at(1), &req(MessageType::Discover, 2))[0].kind(),
        MessageType::Offer
    );
}

#[test]
fn offers_and_leases_expire_on_the_timers() {
    let mut c = config();
    c.offer_hold = Duration::from_secs(30);
    c.subnets[0].lease = LeaseTimes {
        default: Some(300),
        ..Default::default()
    };
    let mut s = server(c);
    let o = exchange(&mut s, at(1), &req(MessageType::Discover, 1));
    let offered = o[0].msg().yiaddr();
    assert_eq!(s.poll_timeout(), Some(at(31)));
    s.handle_timeout(at(31));
    assert_eq!(s.stats().offers_expired, 1);
    // The address is free again.
    let u = s.usage().next().unwrap();
    assert_eq!(u.free, u.size);
    let asked = req(MessageType::Discover, 2).with(|r| r.requested = Some(offered));
    assert_eq!(exchange(&mut s, at(32), &asked)[0].msg().yiaddr(), offered);
    let a = dora(&mut s, at(40), 3);
    s.handle_timeout(at(340));
    assert!(s.bound_to(a).is_none());
    assert_eq!(s.stats().leases_expired, 1);
    assert_eq!(
        dora(&mut s, at(400), 3),
        a,
        "an expired lease's client gets its address back"
    );
}

#[test]
fn pool_exhaustion_gives_no_offer() {
    let mut s = server(config());
    for n in 1..=10 {
        dora(&mut s, at(1), n);
    }
    assert!(exchange(&mut s, at(2), &req(MessageType::Discover, 11)).is_empty());
    assert_eq!(s.stats().dropped(DropReason::PoolExhausted), 1);
    let u = s.usage().next().unwrap();
    assert_eq!((u.bound, u.free, u.size), (10, 0, 10));
}

#[test]
fn restore_rebuilds_the_table() {
    let mut s = server(config());
    let mut log = Vec::new();
    let mut addrs = Vec::new();
    for n in 1..=5 {
        s.handle_packet(at(1), &meta(), &req(MessageType::Discover, n).bytes());
        let a = drain(&mut s)[0].msg().yiaddr();
        let r = req(MessageType::Request, n).with(|r| {
            r.requested = Some(a);
            r.server_id = Some(SERVER_ID);
        });
        s.handle_packet(at(2), &meta(), &r.bytes());
        log.extend(persist_all(&mut s));
        drain(&mut s);
        addrs.push(a);
    }
    s.handle_packet(
        at(3),
        &meta(),
        &req(MessageType::Release, 5)
            .with(|r| r.ciaddr = addrs[4])
            .bytes(),
    );
    log.extend(persist_all(&mut s));

    // A new server (a restart, 100 s later by both clocks) from the records.
    let mut s2 = Server::new(config(), at(1000), UNIX0 + 100).unwrap();
    for rec in &log {
        s2.restore(rec);
    }
    for n in 1..=4 {
        assert_eq!(s2.bound_to(addrs[usize::from(n) - 1]), Some(&key(n)));
    }
    assert!(s2.bound_to(addrs[4]).is_none());
    // Clients renew and keep their address; the released one gets its own back.
    let renew = req(MessageType::Request, 2).with(|r| r.ciaddr = addrs[1]);
    assert_eq!(
        exchange(&mut s2, at(1001), &renew)[0].kind(),
        MessageType::Ack
    );
    assert_eq!(dora(&mut s2, at(1002), 5), addrs[4]);
    // New clients never get a restored address.
    let fresh = dora(&mut s2, at(1003), 6);
    assert!(!addrs.contains(&fresh));
    // The expiry came back in the server's own time, a second late rather than early
    // (records hold whole seconds).
    let restored = s2.leases().find(|l| l.address == addrs[0]).unwrap().expires;
    assert_eq!(restored, at(1000) + Duration::from_secs(3600 + 2 - 100 + 1));
}

#[test]
fn persist_failure_withholds_the_ack_and_moves_the_client_on() {
    let mut s = server(config());
    let o = exchange(&mut s, at(1), &req(MessageType::Discover, 1));
    let a = o[0].msg().yiaddr();
    let r = req(MessageType::Request, 1).with(|r| {
        r.requested = Some(a);
        r.server_id = Some(SERVER_ID);
    });
    s.handle_packet(at(2), &meta(), &r.bytes());
    let rec = s.poll_persist().unwrap();
    s.persist_failed(rec.seq);
    s.persisted(rec.seq);
    // A NAK instead of the ACK, at once: the client starts over without waiting.
    let sent = drain(&mut s);
    assert_eq!(sent.len(), 1, "one reply, and never the ACK");
    assert_eq!(sent[0].kind(), MessageType::Nak);
    assert_eq!(sent[0].msg().yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(
        sent[0].msg().xid(),
        Message::parse(&r.bytes()).unwrap().xid()
    );
    assert_eq!(
        sent[0].t.destination,
        SocketAddrV4::new(Ipv4Addr::BROADCAST, 68)
    );
    assert_eq!(sent[0].msg().server_id(), Ok(Some(SERVER_ID)));
    let text: Vec<u8> = sent[0]
        .msg()
        .error_message()
        .unwrap()
        .unwrap()
        .data()
        .bytes()
        .collect();
    assert_eq!(text, b"address taken by another server");
    assert_eq!(s.stats().persist_failures, 1);
    assert!(s.bound_to(a).is_none());
    // The client's retry is refused, and its next DISCOVER gets another address.
    assert_eq!(exchange(&mut s, at(3), &r)[0].kind(), MessageType::Nak);
    assert_ne!(
        exchange(&mut s, at(4), &req(MessageType::Discover, 1))[0]
            .msg()
            .yiaddr(),
        a
    );
}

#[test]
fn a_refused_relayed_lease_is_naked_through_the_relay_with_option_82() {
    let mut s = server(config());
    let relay_info = vec![1, 3, b'p', b'-', b'1'];
    let relayed = |kind| {
        req(kind, 7).with(|r| {
            r.giaddr = RELAY;
            r.extra.push((82, relay_info.clone()));
        })
    };
    let a = exchange(&mut s, at(1), &relayed(MessageType::Discover))[0]
        .msg()
        .yiaddr();
    let r = relayed(MessageType::Request).with(|r| {
        r.requested = Some(a);
        r.server_id = Some(SERVER_ID);
    });
    s.handle_packet(at(2), &meta(), &r.bytes());
    let rec = s.poll_persist().unwrap();
    s.persist_failed(rec.seq);
    let sent = drain(&mut s);
    assert_eq!(sent.len(), 1);
    let m = sent[0].msg();
    assert_eq!(sent[0].kind(), MessageType::Nak);
    assert_eq!(sent[0].t.destination, SocketAddrV4::new(RELAY, 67));
    assert!(
        m.flags().contains(Flags::BROADCAST),
        "the relay broadcasts a NAK"
    );
    assert_eq!(m.giaddr(), RELAY);
    assert_eq!(
        m.option(OptionCode::RELAY_AGENT_INFO).unwrap(),
        &relay_info[..]
    );
}

#[test]
fn a_store_that_cannot_write_withholds_new_leases_and_answers_renewals_from_durable_ones() {
    let mut s = server(config());
    // Client 1 holds a durable lease from t=1 (3600 s).
    let a1 = dora(&mut s, at(1), 1);
    // The store goes down. Client 2's new lease is withheld and undone.
    let o = exchange(&mut s, at(10), &req(MessageType::Discover, 2));
    let a2 = o[0].msg().yiaddr();
    let r2 = req(MessageType::Request, 2).with(|r| {
        r.requested = Some(a2);
        r.server_id = Some(SERVER_ID);
    });
    s.handle_packet(at(11), &meta(), &r2.bytes());
    let rec = s.poll_persist().unwrap();
    s.persist_unavailable(rec.seq);
    assert!(
        drain(&mut s).is_empty(),
        "no ACK for a lease the store never held"
    );
    assert!(s.bound_to(a2).is_none(), "the new lease is undone");
    // Client 1 renews at t=1001: the ACK promises only what the store holds (until
    // t=1+3600, a second rounded up), with T1 and T2 for that.
    let renew = req(MessageType::Request, 1).with(|r| r.ciaddr = a1);
    s.handle_packet(at(1001), &meta(), &renew.bytes());
    let rec = s.poll_persist().unwrap();
    s.persist_unavailable(rec.seq);
    let ack = drain(&mut s);
    assert_eq!(ack.len(), 1);
    let m = ack[0].msg();
    assert_eq!(m.message_type().unwrap(), Some(MessageType::Ack));
    let lease = m.lease_time().unwrap().unwrap();
    assert!((2599..=2601).contains(&lease), "lease {lease}");
    assert_eq!(m.renewal_time().unwrap(), Some(lease / 2));
    assert_eq!(
        m.rebinding_time().unwrap(),
        Some(lease / 8 * 7 + lease % 8 * 7 / 8)
    );
    assert_eq!(s.bound_to(a1), Some(&key(1)));
    assert_eq!(s.stats().persist_failures, 2);
    assert_eq!(s.stats().acks_from_durable, 1);
    // The store writes again: client 2's retry gets its lease, client 1's renewal a
    // full one.
    let o = exchange(&mut s, at(1100), &req(MessageType::Discover, 2));
    let a2 = o[0].msg().yiaddr();
    let ack = exchange(
        &mut s,
        at(1100),
        &req(MessageType::Request, 2).with(|r| {
            r.requested = Some(a2);
            r.server_id = Some(SERVER_ID);
        }),
    );
    assert_eq!(ack[0].kind(), MessageType::Ack);
    let ack = exchange(&mut s, at(1200), &renew);
    assert_eq!(ack[0].msg().lease_time().unwrap(), Some(3600));
}

/// The same renewal answered from the durable record, with the lease times written last
/// and far into the options field (past where the parse's option index reaches): the
/// lease, T1 and T2 are all rewritten, so T1 never outlasts the shortened lease.
#[test]
fn a_renewal_answered_from_the_durable_record_rewrites_lease_times_far_into_the_reply() {
    let mut c = config();
    c.subnets[0].options.raw(224, &[b'x'; 250]).unwrap();
    let mut s = server(c);
    // The list asks for the long option and not for 51, 58, 59: they come after it.
    let listed = |r: &mut Req| r.extra.push((55, vec![224, 1, 3]));
    let o = exchange(&mut s, at(1), &req(MessageType::Discover, 1).with(listed));
    let a1 = o[0].msg().yiaddr();
    let r1 = req(MessageType::Request, 1).with(|r| {
        listed(r);
        r.requested = Some(a1);
        r.server_id = Some(SERVER_ID);
    });
    assert_eq!(exchange(&mut s, at(1), &r1)[0].kind(), MessageType::Ack);
    let renew = req(MessageType::Request, 1).with(|r| {
        listed(r);
        r.ciaddr = a1;
    });
    s.handle_packet(at(1001), &meta(), &renew.bytes());
    let rec = s.poll_persist().unwrap();
    s.persist_unavailable(rec.seq);
    let ack = drain(&mut s);
    assert_eq!(ack.len(), 1, "the renewal is answered");
    let m = ack[0].msg();
    let lease = m.lease_time().unwrap().unwrap();
    assert!((2599..=2601).contains(&lease), "lease {lease}");
    assert_eq!(m.renewal_time().unwrap(), Some(lease / 2));
    let codes: Vec<u8> = m.options().map(|o| o.code.0).collect();
    assert_eq!(
        codes[codes.len() - 3..],
        [51, 58, 59],
        "the lease times come last"
    );
}

#[test]
fn a_discover_flood_is_capped_and_known_clients_are_still_answered() {
    let mut c = config();
    c.max_offers = 3;
    let mut s = server(c);
    // Client 1 holds a lease; clients 10..=12 fill the offers; 13 is dropped.
    let a1 = dora(&mut s, at(1), 1);
    for n in 10..=12 {
        assert_eq!(
            exchange(&mut s, at(2), &req(MessageType::Discover, n)).len(),
            1
        );
    }
    assert!(exchange(&mut s, at(2), &req(MessageType::Discover, 13)).is_empty());
    assert_eq!(s.stats().dropped(DropReason::TooManyOffers), 1);
    // A client asking again for its own offer, the bound client and the reserved one are
    // answered all the same.
    assert_eq!(
        exchange(&mut s, at(3), &req(MessageType::Discover, 10)).len(),
        1
    );
    let o = exchange(&mut s, at(3), &req(MessageType::Discover, 1));
    assert_eq!(o[0].msg().yiaddr(), a1);
    let o = exchange(&mut s, at(3), &req(MessageType::Discover, 0x77));
    assert_eq!(o[0].msg().yiaddr(), ip("192.0.2.50"));
    // Once the offers expire (60 s hold), new clients are served again.
    s.handle_timeout(at(100));
    assert_eq!(
        exchange(&mut s, at(100), &req(MessageType::Discover, 13)).len(),
        1
    );
}

#[test]
fn the_rate_limit_drops_a_clients_excess_and_counts_it() {
    let mut c = config();
    c.rate_limit = Some(2);
    let mut s = server(c);
    let answered = (0..5)
        .filter(|_| !exchange(&mut s, at(5), &req(MessageType::Discover, 1)).is_empty())
        .count();
    assert_eq!(answered, 2);
    assert_eq!(s.stats().dropped(DropReason::RateLimited), 3);
    // Another client is not held back, and the next second starts over.
    assert_eq!(
        exchange(&mut s, at(5), &req(MessageType::Discover, 2)).len(),
        1
    );
    assert_eq!(
        exchange(&mut s, at(6), &req(MessageType::Discover, 1)).len(),
        1
    );
}

/// Found by the server driver's durability check: an ACK whose record stayed pending for
/// longer than the lease must not go out once the address has expired and moved on.
#[test]
fn an_ack_whose_lease_ran_out_while_its_record_waited_is_dropped() {
    let mut c = config();
    c.lease.default = Some(120);
    c.lease.min = Some(10);
    c.authoritative = true;
    let mut s = server(c);
    let o = exchange(&mut s, at(1), &req(MessageType::Discover, 1));
    let a = o[0].msg().yiaddr();
    let r = req(MessageType::Request, 1).with(|r| {
        r.requested = Some(a);
        r.server_id = Some(SERVER_ID);
    });
    s.handle_packet(at(2), &meta(), &r.bytes());
    let first = s.poll_persist().unwrap();
    // The store is slow: the lease runs out, and client 2 asks for the same address.
    s.handle_timeout(at(200));
    let r2 = req(MessageType::Request, 2).with(|r| r.requested = Some(a));
    s.handle_packet(at(201), &meta(), &r2.bytes());
    let second = s.poll_persist().unwrap();
    assert_eq!(second.address, a);
    s.persisted(first.seq.max(second.seq));
    let sent = drain(&mut s);
    assert_eq!(sent.len(), 1, "only the live lease's ACK goes out");
    assert_eq!(sent[0].msg().chaddr(), &mac(2)[..]);
    assert_eq!(s.stats().stale_acks, 1);
}

#[test]
fn reconfigure_keeps_every_lease_and_stops_renewing_those_of_a_removed_pool() {
    let mut s = server(config());
    let a1 = dora(&mut s, at(1), 1);
    let o = exchange(&mut s, at(2), &req(MessageType::Discover, 2));
    let offered = o[0].msg().yiaddr();
    // The new config: the pool moves to .150-.159, a new DNS server, a reservation.
    let mut c = config();
    c.subnets[0].pools[0] = PoolRange::new(ip("192.0.2.150"), ip("192.0.2.159"));
    c.options = Default::default();
    c.options.dns_servers(&[ip("192.0.2.54")]).unwrap();
    let mut bad = c.clone();
    bad.subnets[0].pools[0].end = ip("10.0.0.1");
    assert!(s.reconfigure(bad).is_err(), "a bad config is refused");
    assert_eq!(s.bound_to(a1), Some(&key(1)), "and nothing changed");
    assert_eq!((s.usage().next().unwrap().bound, s.offers_held()), (1, 1));
    s.reconfigure(c).unwrap();
    // The lease is kept, but not renewed: its pool is gone, and it is no subnet's lease
    // in the counts any more.
    assert_eq!(s.bound_to(a1), Some(&key(1)));
    assert_eq!((s.usage().next().unwrap().bound, s.offers_held()), (0, 1));
    assert!(s.pool_usage().all(|u| u.bound == 0));
    let renew = req(MessageType::Request, 1).with(|r| r.ciaddr = a1);
    assert_eq!(exchange(&mut s, at(3), &renew)[0].kind(), MessageType::Nak);
    // The client starts over in the new pool and gets the new options; client 2's offer
    // from the old pool is not taken up either.
    let o = exchange(&mut s, at(4), &req(MessageType::Discover, 1));
    let m = o[0].msg();
    assert!(
        u32::from(m.yiaddr()) >= u32::from(ip("192.0.2.150")),
        "{}",
        m.yiaddr()
    );
    let dns: Vec<_> = m.dns_servers().unwrap().unwrap().iter().collect();
    assert_eq!(dns, [ip("192.0.2.54")]);
    let r2 = req(MessageType::Request, 2).with(|r| {
        r.requested = Some(offered);
        r.server_id = Some(SERVER_ID);
    });
    assert_eq!(exchange(&mut s, at(5), &r2)[0].kind(), MessageType::Nak);
    // Reservations and relayed subnets still work, and the old lease runs out quietly.
    let o = exchange(&mut s, at(6), &req(MessageType::Discover, 0x77));
    assert_eq!(o[0].msg().yiaddr(), ip("192.0.2.50"));
    s.handle_timeout(at(4000));
    assert!(s.bound_to(a1).is_none());
}

#[test]
fn replies_respect_the_max_message_size_and_echo_the_client_id() {
    let mut c = config();
    let long = "x".repeat(200);
    c.subnets[0]
        .options
        .raw(224, long.as_bytes())
        .unwrap()
        .raw(225, long.as_bytes())
        .unwrap();
    let mut s = server(c);
    let d = req(MessageType::Discover, 1).with(|r| {
        r.extra.push((55, vec![224, 225, 1, 3]));
        r.extra.push((61, vec![0xff, 0, 0, 0, 1, 0, 4, 1, 2, 3]));
    });
    let o = exchange(&mut s, at(1), &d);
    assert!(o[0].bytes.len() <= 576 - 28, "{} bytes", o[0].bytes.len());
    // However full, a reply carries what every lease must.
    assert_eq!(o[0].msg().lease_time().unwrap(), Some(3600));
    let m = o[0].msg();
    assert!(m.overload().is_some(), "options overflowed into file/sname");
    assert!(m.option(OptionCode(224)).unwrap().eq_bytes(long.as_bytes()));
    assert!(m.option(OptionCode(225)).unwrap().eq_bytes(long.as_bytes()));
    assert_eq!(
        m.option(OptionCode::CLIENT_ID).unwrap(),
        &[0xff, 0, 0, 0, 1, 0, 4, 1, 2, 3][..]
    );
    // The client id is the identity: the same id from another MAC is the same client.
    let d2 = req(MessageType::Discover, 2)
        .with(|r| r.extra.push((61, vec![0xff, 0, 0, 0, 1, 0, 4, 1, 2, 3])));
    assert_eq!(exchange(&mut s, at(2), &d2)[0].msg().yiaddr(), m.yiaddr());
}

#[test]
fn malformed_and_foreign_packets_are_dropped() {
    let mut s = server(config());
    s.handle_packet(at(1), &meta(), &[1, 2, 3]);
    let mut reply = req(MessageType::Offer, 1).bytes();
    reply[0] = 2;
    s.handle_packet(at(1), &meta(), &reply);
    s.handle_packet(at(1), &meta(), &req(MessageType::Offer, 1).bytes());
    let mut bad = req(MessageType::Discover, 1)
        .with(|r| r.extra.push((50, vec![1, 2])))
        .bytes();
    s.handle_packet(at(1), &meta(), &bad);
    bad.truncate(241);
    s.handle_packet(at(1), &meta(), &bad);
    assert_eq!(s.stats().dropped(DropReason::Malformed), 2);
    assert_eq!(s.stats().dropped(DropReason::NotRequest), 1);
    assert_eq!(s.stats().dropped(DropReason::Unexpected), 1);
    // The DISCOVER with a malformed requested address got an offer: the option is ignored.
    assert_eq!(drain(&mut s).len(), 1);
    // A valid exchange still works.
    dora(&mut s, at(2), 1);
}

#[test]
fn a_slash_8_pool_allocates_without_scanning() {
    let mut c = ServerConfig {
        server_id: Some(ip("10.0.0.1")),
        ..Default::default()
    };
    let mut net = SubnetConfig::new(Ipv4Net::new(ip("10.0.0.0"), 8));
    net.pools
        .push(PoolRange::new(ip("10.0.0.10"), ip("10.255.255.250")));
    c.subnets.push(net);
    let mut s = Server::new(c, at(0), UNIX0).unwrap();
    let meta = RecvMeta {
        interface: 1,
        local_address: ip("10.0.0.1"),
        source: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
    };
    let mut buf = [0u8; 1500];
    let mut last = Ipv4Addr::UNSPECIFIED;
    for i in 0..20_000u32 {
        let mut r = req(MessageType::Discover, 0);
        r.mac = [2, 1, (i >> 16) as u8, (i >> 8) as u8, i as u8, 0];
        s.handle_packet(at(1), &meta, &r.bytes());
        let t = s.poll_transmit(&mut buf).unwrap();
        last = Message::parse(&buf[..t.len]).unwrap().yiaddr();
    }
    assert_eq!(
        last,
        ip("10.0.78.41"),
        "addresses are handed out in order from the cursor"
    );
    let u = s.usage().next().unwrap();
    assert_eq!(u.size, 16_777_201);
    assert_eq!(u.free, u.size - 20_000);
}

#[test]
fn a_held_address_is_never_given_to_another_client() {
    let mut s = server(config());
    let a = dora(&mut s, at(1), 1);
    // Asked for in DISCOVER: another address is offered.
    let d = req(MessageType::Discover, 2).with(|r| r.requested = Some(a));
    let offered = exchange(&mut s, at(2), &d)[0].msg().yiaddr();
    assert_ne!(offered, a);
    // Asked for in SELECTING, INIT-REBOOT and RENEWING: NAK.
    for r in [
        req(MessageType::Request, 2).with(|r| {
            r.requested = Some(a);
            r.server_id = Some(SERVER_ID);
        }),
        req(MessageType::Request, 2).with(|r| r.requested = Some(a)),
        req(MessageType::Request, 2).with(|r| r.ciaddr = a),
    ] {
        assert_eq!(exchange(&mut s, at(3), &r)[0].kind(), MessageType::Nak);
    }
    assert_eq!(s.bound_to(a), Some(&key(1)));
    // An offer is held for its client too.
    let o = exchange(&mut s, at(4), &req(MessageType::Discover, 3))[0]
        .msg()
        .yiaddr();
    let d = req(MessageType::Discover, 4).with(|r| r.requested = Some(o));
    assert_ne!(exchange(&mut s, at(4), &d)[0].msg().yiaddr(), o);
}

mod common;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1500))]

    /// The fuzz target's driver on random bytes (it asserts its own invariants).
    #[test]
    fn fuzz_driver_on_random_bytes(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
        common::server_driver::drive(&data);
    }
}

/// A config with options enough that a reply to a long list needs option overload at the
/// smallest maximum message size.
fn config_with_many_options() -> ServerConfig {
    let mut c = config();
    c.subnets[0]
        .options
        .ntp_servers(&[ip("192.0.2.123")])
        .unwrap()
        .mtu(1400)
        .unwrap()
        .raw(43, &[7; 200])
        .unwrap()
        .raw(66, b"tftp.example.test")
        .unwrap()
        .raw(224, &[1; 180])
        .unwrap();
    c
}

/// The reply to `r` from `s`, the client's earlier requests answered.
fn reply_to(s: &mut Server, r: &Req) -> Vec<u8> {
    let out = exchange(s, at(1), r);
    assert_eq!(out.len(), 1, "one reply");
    out[0].bytes.clone()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// A reply whose options come from the cache of option blocks is the reply written
    /// option by option: a server answers a list once (filling the cache) and again with
    /// other lease times, and a fresh server answers the second request directly.
    #[test]
    fn cached_reply_options_are_the_options_written_one_by_one(
        list in proptest::collection::vec(1u8..=254, 1..40),
        first in 60u32..100_000,
        second in 60u32..100_000,
        max in 576u16..1500,
    ) {
        let ask = |kind, lease: u32| {
            let list = list.clone();
            req(kind, 9).with(move |r| {
                r.extra.push((55, list));
                r.extra.push((51, lease.to_be_bytes().to_vec()));
                r.extra.push((57, max.to_be_bytes().to_vec()));
            })
        };
        let offer = |lease| ask(MessageType::Discover, lease);
        let mut cached = server(config_with_many_options());
        reply_to(&mut cached, &offer(first));
        let mut fresh = server(config_with_many_options());
        proptest::prop_assert_eq!(
            reply_to(&mut cached, &offer(second)),
            reply_to(&mut fresh, &offer(second))
        );

        let request = |lease| {
            ask(MessageType::Request, lease).with(|r| {
                r.requested = Some(ip("192.0.2.100"));
                r.server_id = Some(SERVER_ID);
            })
        };
        let mut cached = server(config_with_many_options());
        let mut fresh = server(config_with_many_options());
        for s in [&mut cached, &mut fresh] {
            // An OFFER from a DISCOVER with no list, so that nothing of the list is cached.
            reply_to(s, &req(MessageType::Discover, 9));
        }
        reply_to(&mut cached, &request(first));
        proptest::prop_assert_eq!(
            reply_to(&mut cached, &request(second)),
            reply_to(&mut fresh, &request(second))
        );
    }
}

/// Found by the server fuzz target (its check that an ACK goes out only for the lease its
/// durable record holds): a client's ACK waited for its record while its address went
/// to another client at the same deadline; the ACK must then be dropped.
#[test]
fn fuzz_regression_an_ack_for_an_address_that_moved_on_is_dropped() {
    common::server_driver::drive(&[
        0x00, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x02, 0x42, 0x42, 0x4a, 0x42, 0x42,
        0x2e, 0xa9, 0x00, 0x64, 0x34, 0xc6, 0xa9, 0x00, 0x04,
    ]);
}

/// Found by the server fuzz target: records of a client's older and newer leases, replayed
/// in order, must leave it holding only the newer one.
#[test]
fn restoring_a_clients_older_and_newer_lease_keeps_only_the_newer() {
    let mut s = server(config());
    let rec = |seq, last: u8| LeaseRecord {
        seq,
        address: Ipv4Addr::new(192, 0, 2, last),
        client: key(1),
        kind: RecordKind::Bound,
        expires: UNIX0 + 3600,
        host_name: None,
    };
    s.restore(&rec(1, 100));
    s.restore(&rec(2, 101));
    let held: Vec<_> = s.leases().map(|l| l.address).collect();
    assert_eq!(held, [ip("192.0.2.101")]);
    // The older address went back to the pool.
    let u = s.usage().next().unwrap();
    assert_eq!(u.free, u.size - 1);
}

/// A client that moves to another link gets a new address; its old lease ends with a
/// durable `Released` record, so that a store other servers share frees that address too.
#[test]
fn a_client_that_moves_releases_its_old_lease_durably() {
    let mut s = server(config());
    let mut records = Vec::new();
    let mut step = |s: &mut Server, r: Req| {
        s.handle_packet(at(1), &meta(), &r.bytes());
        records.extend(persist_all(s));
        drain(s)
    };
    let offer = step(&mut s, req(MessageType::Discover, 8));
    let local = offer[0].msg().yiaddr();
    step(
        &mut s,
        req(MessageType::Request, 8).with(|r| {
            r.requested = Some(local);
            r.server_id = Some(SERVER_ID);
        }),
    );
    let offer = step(
        &mut s,
        req(MessageType::Discover, 8).with(|r| r.giaddr = RELAY),
    );
    assert_eq!(offer[0].msg().yiaddr(), ip("198.51.100.100"));
    let kinds: Vec<_> = records.iter().map(|r| (r.address, r.kind)).collect();
    assert_eq!(
        kinds,
        [(local, RecordKind::Bound), (local, RecordKind::Released)]
    );
    // Replayed, the records leave the old address free.
    let mut again = server(config());
    for r in &records {
        again.restore(r);
    }
    assert_eq!(again.leases().count(), 0);
}

/// Servers sharing a store may read a client's release of the address it left after the
/// lease that replaced it: replayed in that order, the client keeps the newer lease.
#[test]
fn a_release_of_an_address_a_client_left_does_not_end_its_newer_lease() {
    let mut s = server(config());
    let rec = |seq, last: u8, kind| LeaseRecord {
        seq,
        address: Ipv4Addr::new(192, 0, 2, last),
        client: key(1),
        kind,
        expires: UNIX0 + 3600,
        host_name: None,
    };
    s.restore(&rec(1, 100, RecordKind::Bound));
    s.restore(&rec(3, 101, RecordKind::Bound));
    s.restore(&rec(2, 100, RecordKind::Released));
    let held: Vec<_> = s.leases().map(|l| l.address).collect();
    assert_eq!(held, [ip("192.0.2.101")]);
    // The client's DISCOVER finds its lease.
    let offer = exchange(&mut s, at(1), &req(MessageType::Discover, 1));
    assert_eq!(offer[0].msg().yiaddr(), ip("192.0.2.101"));
}

/// RFC 2131 table 3, row by row, for OFFER, ACK (to REQUEST), ACK (to INFORM) and NAK.
#[test]
fn replies_follow_rfc2131_table_3() {
    let mut s = server(config());
    let ask = |r: Req| {
        r.with(|r| {
            r.flags = Flags::BROADCAST;
            r.extra.push((55, vec![50, 51, 55, 57, 1, 3, 56, 61]));
            r.extra.push((61, vec![1, 2, 0, 0, 0, 0, 9]));
            r.extra.push((57, vec![2, 64]));
        })
    };
    let offer = exchange(
        &mut s,
        at(1),
        &ask(req(MessageType::Discover, 9).with(|r| r.ciaddr = ip("192.0.2.222"))),
    );
    let a = offer[0].msg().yiaddr();
    let ack = exchange(
        &mut s,
        at(2),
        &ask(req(MessageType::Request, 9).with(|r| {
            r.requested = Some(a);
            r.server_id = Some(SERVER_ID);
        })),
    );
    let inform = exchange(
        &mut s,
        at(3),
        &ask(req(MessageType::Inform, 10).with(|r| r.ciaddr = ip("192.0.2.20"))),
    );
    let nak = exchange(
        &mut s,
        at(4),
        &ask(req(MessageType::Request, 11).with(|r| r.requested = Some(ip("10.9.9.9")))),
    );
    let rows = [
        ("OFFER", &offer[0], Ipv4Addr::UNSPECIFIED, a, true),
        ("ACK", &ack[0], Ipv4Addr::UNSPECIFIED, a, true),
        (
            "ACK to INFORM",
            &inform[0],
            ip("192.0.2.20"),
            Ipv4Addr::UNSPECIFIED,
            false,
        ),
        (
            "NAK",
            &nak[0],
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            false,
        ),
    ];
    for (name, out, ciaddr, yiaddr, lease) in rows {
        let m = out.msg();
        assert_eq!(m.op(), Op::BootReply, "{name}: op");
        assert_eq!(
            (m.htype(), m.hlen(), m.hops(), m.secs()),
            (1, 6, 0, 0),
            "{name}: htype, hlen, hops, secs"
        );
        assert_eq!(m.flags(), Flags::BROADCAST, "{name}: flags from the client");
        assert_eq!(m.ciaddr(), ciaddr, "{name}: ciaddr");
        assert_eq!(m.yiaddr(), yiaddr, "{name}: yiaddr");
        assert_eq!(m.giaddr(), Ipv4Addr::UNSPECIFIED, "{name}: giaddr");
        // 50, 55, 57: MUST NOT. 53, 54: MUST. 51: MUST with a lease, else MUST NOT.
        for code in [50u8, 55, 57] {
            assert!(
                m.option(OptionCode(code)).is_none(),
                "{name}: option {code}"
            );
        }
        assert!(
            m.message_type().unwrap().is_some() && m.server_id().unwrap() == Some(SERVER_ID),
            "{name}: 53, 54"
        );
        assert_eq!(m.lease_time().unwrap().is_some(), lease, "{name}: 51");
        // 61 echoed (RFC 6842).
        assert_eq!(
            m.option(OptionCode::CLIENT_ID).unwrap(),
            &[1, 2, 0, 0, 0, 0, 9][..],
            "{name}: 61"
        );
        // 56 only in a NAK.
        assert_eq!(
            m.error_message().unwrap().is_some(),
            name == "NAK",
            "{name}: 56"
        );
        if name == "NAK" {
            let codes: Vec<u8> = m.options().map(|o| o.code.0).collect();
            assert_eq!(codes, [53, 54, 56, 61], "NAK: nothing else");
        }
    }
}

/// RFC 8925 section 3.3: IPv6-only preferred (108) goes only to a client whose parameter
/// request list names it, never in the "everything configured" answer to a client that
/// sent no list.
#[test]
fn rfc8925_3_3_ipv6_only_preferred_only_when_listed() {
    let mut c = config();
    c.options.ipv6_only_wait(1800).unwrap();
    let mut s = server(c);
    let unlisted = exchange(&mut s, at(1), &req(MessageType::Discover, 1));
    let m = unlisted[0].msg();
    assert!(
        m.routers().unwrap().is_some(),
        "configured options still come"
    );
    assert_eq!(m.ipv6_only_preferred().unwrap(), None);
    let other = req(MessageType::Discover, 2).with(|r| r.extra.push((55, vec![1, 3, 6])));
    let o = exchange(&mut s, at(1), &other);
    assert_eq!(o[0].msg().ipv6_only_preferred().unwrap(), None);
    let listed = req(MessageType::Discover, 3).with(|r| r.extra.push((55, vec![1, 3, 108])));
    let o = exchange(&mut s, at(1), &listed);
    assert_eq!(o[0].msg().ipv6_only_preferred().unwrap(), Some(1800));
}

/// RFC 2131 section 3.3: a lease of 0xffffffff is infinite; it carries no T1 or T2 and
/// its record never expires.
#[test]
fn rfc2131_3_3_an_infinite_lease_has_no_t1_or_t2() {
    let mut c = config();
    c.lease = LeaseTimes {
        default: Some(u32::MAX),
        min: Some(60),
        max: Some(u32::MAX),
        ..Default::default()
    };
    let mut s = server(c);
    let o = exchange(&mut s, at(1), &req(MessageType::Discover, 1));
    let a = o[0].msg().yiaddr();
    s.handle_packet(
        at(2),
        &meta(),
        &req(MessageType::Request, 1)
            .with(|r| {
                r.requested = Some(a);
                r.server_id = Some(SERVER_ID);
            })
            .bytes(),
    );
    let records = persist_all(&mut s);
    assert_eq!(records[0].expires, u64::MAX, "the record never expires");
    let ack = drain(&mut s);
    let m = ack[0].msg();
    assert_eq!(m.lease_time().unwrap(), Some(u32::MAX));
    assert!(m.option(OptionCode::RENEWAL_TIME).is_none());
    assert!(m.option(OptionCode::REBINDING_TIME).is_none());
    // The offer's deadline passes (its entry is stale by then), and nothing is left due.
    s.handle_timeout(at(61));
    assert_eq!(s.poll_timeout(), None, "nothing to expire");
    s.handle_timeout(at(10_000_000));
    assert_eq!(s.bound_to(a), Some(&key(1)));
}

/// RFC 2131 section 4.3.1: a requested lease time (51) is granted within the configured
/// bounds; T1 and T2 follow the time granted.
#[test]
fn rfc2131_4_3_1_a_requested_lease_time_is_kept_within_min_and_max() {
    let mut s = server(config());
    let granted = |s: &mut Server, n: u8, asked: u32| {
        let d = req(MessageType::Discover, n)
            .with(|r| r.extra.push((51, asked.to_be_bytes().to_vec())));
        let o = exchange(s, at(1), &d);
        let m = o[0].msg();
        let t1 = m
            .option(OptionCode::RENEWAL_TIME)
            .map(|v| v.bytes().collect::<Vec<u8>>());
        (m.lease_time().unwrap().unwrap(), t1)
    };
    // The defaults: 60 s to 86 400 s.
    assert_eq!(granted(&mut s, 1, 10).0, 60);
    assert_eq!(
        granted(&mut s, 2, 7200),
        (7200, Some(3600u32.to_be_bytes().to_vec()))
    );
    assert_eq!(granted(&mut s, 3, 1_000_000).0, 86_400);
}

/// RFC 3046 sections 2.0-2.1 and RFC 4361: a reservation by relay remote id (82,
/// sub-option 2) or by client id (61) gives that client its address.
#[test]
fn reservations_by_remote_id_and_client_id() {
    let mut c = config();
    c.subnets[1].reservations.push(Reservation {
        key: ReservationKey::RemoteId(b"cpe-42".to_vec()),
        address: ip("198.51.100.42"),
        host_name: None,
        options: Default::default(),
        classes: Default::default(),
        boot: Default::default(),
    });
    c.subnets[0].reservations.push(Reservation {
        key: ReservationKey::ClientId(vec![0xff, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]),
        address: ip("192.0.2.60"),
        host_name: None,
        options: Default::default(),
        classes: Default::default(),
        boot: Default::default(),
    });
    let mut s = server(c);
    let d = req(MessageType::Discover, 9).with(|r| {
        r.giaddr = RELAY;
        r.extra.push((82, b"\x02\x06cpe-42".to_vec()));
    });
    assert_eq!(
        exchange(&mut s, at(1), &d)[0].msg().yiaddr(),
        ip("198.51.100.42")
    );
    let d = req(MessageType::Discover, 10)
        .with(|r| r.extra.push((61, vec![0xff, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4])));
    assert_eq!(
        exchange(&mut s, at(1), &d)[0].msg().yiaddr(),
        ip("192.0.2.60")
    );
    // Another MAC with the same client id is the same client.
    let d = req(MessageType::Discover, 11)
        .with(|r| r.extra.push((61, vec![0xff, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4])));
    assert_eq!(
        exchange(&mut s, at(1), &d)[0].msg().yiaddr(),
        ip("192.0.2.60")
    );
}
