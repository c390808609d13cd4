//! The client machine against a scripted server, in virtual time with a seeded RNG.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use dhcp_core::client::{Client, ClientConfig, DropReason, Event, State, Transmit};
use dhcp_core::time::Instant;
use dhcp_core::wire::typed::{FqdnFlags, Route};
use dhcp_core::wire::{EmitError, Flags, Message, MessageBuilder, MessageType, Op, OptionCode};

const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x42];
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const OTHER_SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

fn at(secs: f64) -> Instant {
    Instant::from_micros((secs * 1e6).round() as u64)
}

fn secs(i: Instant) -> f64 {
    i.as_micros() as f64 / 1e6
}

/// A client with exact (unjittered) timers unless a test says otherwise.
fn config() -> ClientConfig {
    let mut c = ClientConfig::new(MAC);
    c.retransmit.jitter = Duration::ZERO;
    c.host_name = Some("host1".try_into().unwrap());
    c
}

struct Sent {
    t: Transmit,
    bytes: Vec<u8>,
}

impl Sent {
    fn msg(&self) -> Message<'_> {
        Message::parse(&self.bytes).unwrap()
    }
    fn kind(&self) -> MessageType {
        self.msg().message_type().unwrap().unwrap()
    }
}

fn drain(c: &mut Client) -> Vec<Sent> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1500];
    while let Some(t) = c.poll_transmit(&mut buf) {
        out.push(Sent {
            t,
            bytes: buf[..t.len].to_vec(),
        });
    }
    out
}

fn events(c: &mut Client) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn one(c: &mut Client) -> Sent {
    let mut s = drain(c);
    assert_eq!(s.len(), 1, "expected one message");
    s.pop().unwrap()
}

/// A server reply to `req`.
fn reply(
    req: &Message<'_>,
    kind: MessageType,
    server: Ipv4Addr,
    f: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), EmitError>,
) -> Vec<u8> {
    let mut buf = vec![0u8; 1500];
    let mut b = MessageBuilder::new(&mut buf).unwrap();
    b.op(Op::BootReply)
        .xid(req.xid())
        .flags(req.flags())
        .ciaddr(req.ciaddr());
    b.chaddr(req.chaddr()).unwrap();
    b.message_type(kind).unwrap().server_id(server).unwrap();
    f(&mut b).unwrap();
    let n = b.finish().unwrap();
    buf.truncate(n);
    buf
}

fn offer(req: &Message<'_>, server: Ipv4Addr, addr: Ipv4Addr, lease: u32) -> Vec<u8> {
    reply(req, MessageType::Offer, server, |b| {
        b.yiaddr(addr);
        b.lease_time(lease)?;
        Ok(())
    })
}

fn ack(req: &Message<'_>, server: Ipv4Addr, addr: Ipv4Addr, lease: u32) -> Vec<u8> {
    reply(req, MessageType::Ack, server, |b| {
        b.yiaddr(addr);
        b.lease_time(lease)?
            .subnet_mask(Ipv4Addr::new(255, 255, 255, 0))?
            .routers(&[SERVER])?
            .dns_servers(&[Ipv4Addr::new(192, 0, 2, 53)])?;
        Ok(())
    })
}

fn nak(req: &Message<'_>, server: Ipv4Addr) -> Vec<u8> {
    reply(req, MessageType::Nak, server, |b| {
        b.error_message(b"wrong address")?;
        Ok(())
    })
}

/// Runs a client through DISCOVER/OFFER/REQUEST/ACK at t=0 with `lease` seconds.
fn bound_client(cfg: ClientConfig, lease: u32) -> Client {
    let mut c = Client::new(cfg, 7);
    c.start(at(0.0));
    let d = one(&mut c);
    c.handle_packet(at(0.01), &offer(&d.msg(), SERVER, ADDR, lease));
    let r = one(&mut c);
    c.handle_packet(at(0.02), &ack(&r.msg(), SERVER, ADDR, lease));
    assert_eq!(events(&mut c), vec![Event::Bound]);
    c
}

#[test]
fn dora_binds_with_the_right_messages() {
    let mut c = Client::new(config(), 1);
    assert_eq!(c.state(), State::Idle);
    assert!(drain(&mut c).is_empty());
    c.start(at(0.0));
    assert_eq!(c.state(), State::Selecting);
    let d = one(&mut c);
    assert_eq!(d.t.destination, SocketAddrV4::new(Ipv4Addr::BROADCAST, 67));
    assert_eq!(d.t.source, Ipv4Addr::UNSPECIFIED);
    let m = d.msg();
    assert_eq!(d.kind(), MessageType::Discover);
    assert_eq!(m.op(), Op::BootRequest);
    assert_eq!(m.chaddr(), &MAC);
    assert_eq!(m.flags(), Flags::BROADCAST);
    assert_eq!(m.ciaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(m.max_message_size().unwrap(), Some(1500));
    assert_eq!(m.host_name().unwrap().unwrap(), "host1");
    let prl: Vec<u8> = m
        .parameter_request_list()
        .unwrap()
        .unwrap()
        .iter()
        .map(|c| c.0)
        .collect();
    for code in [1, 3, 6, 15, 26, 28, 42, 51, 58, 59, 119, 121] {
        assert!(prl.contains(&code), "parameter {code} requested");
    }
    assert!(m.requested_ip().unwrap().is_none() && m.server_id().unwrap().is_none());

    c.handle_packet(at(0.5), &offer(&m, SERVER, ADDR, 3600));
    assert_eq!(c.state(), State::Requesting);
    let r = one(&mut c);
    let rm = r.msg();
    assert_eq!(r.kind(), MessageType::Request);
    assert_eq!(rm.xid(), m.xid(), "REQUEST keeps the OFFER's xid");
    assert_eq!(rm.requested_ip().unwrap(), Some(ADDR));
    assert_eq!(rm.server_id().unwrap(), Some(SERVER));
    assert_eq!(rm.ciaddr(), Ipv4Addr::UNSPECIFIED);
    assert!(r.t.is_broadcast());

    let routes = [
        Route {
            destination: Ipv4Addr::new(198, 51, 100, 0),
            prefix_len: 24,
            router: OTHER_SERVER,
        },
        Route {
            destination: Ipv4Addr::UNSPECIFIED,
            prefix_len: 0,
            router: SERVER,
        },
    ];
    let a = reply(&rm, MessageType::Ack, SERVER, |b| {
        b.yiaddr(ADDR);
        b.lease_time(3600)?
            .subnet_mask(Ipv4Addr::new(255, 255, 255, 0))?
            .routers(&[OTHER_SERVER])?
            .dns_servers(&[Ipv4Addr::new(192, 0, 2, 53), Ipv4Addr::new(192, 0, 2, 54)])?
            .domain_name(b"example.test")?
            .domain_search(&["example.test", "corp.example.test"])?
            .classless_routes(&routes)?
            .ntp_servers(&[Ipv4Addr::new(192, 0, 2, 123)])?
            .mtu(1400)?
            .broadcast_address(Ipv4Addr::new(192, 0, 2, 255))?
            .captive_portal(b"https://portal.example.test/")?
            .option(OptionCode(224), b"site-specific")?;
        Ok(())
    });
    c.handle_packet(at(1.0), &a);
    assert_eq!(c.state(), State::Bound);
    assert_eq!(events(&mut c), vec![Event::Bound]);
    let l = c.lease().unwrap();
    assert_eq!(l.address(), ADDR);
    assert_eq!(l.server_id(), SERVER);
    assert_eq!(l.subnet_mask(), Some(Ipv4Addr::new(255, 255, 255, 0)));
    assert_eq!(l.prefix_len(), Some(24));
    assert_eq!(l.dns_servers().unwrap().iter().count(), 2);
    assert_eq!(l.domain_name().unwrap(), "example.test");
    assert_eq!(
        l.domain_search()
            .unwrap()
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>(),
        ["example.test", "corp.example.test"]
    );
    // Classless routes replace option 3 (RFC 3442).
    assert!(l.default_routers().is_none());
    assert_eq!(l.routes().collect::<Vec<_>>(), routes);
    assert_eq!(
        l.ntp_servers().unwrap().first(),
        Some(Ipv4Addr::new(192, 0, 2, 123))
    );
    assert_eq!(l.mtu(), Some(1400));
    assert_eq!(l.broadcast_address(), Some(Ipv4Addr::new(192, 0, 2, 255)));
    assert_eq!(l.captive_portal().unwrap(), "https://portal.example.test/");
    assert!(l
        .message()
        .unwrap()
        .option(OptionCode(224))
        .unwrap()
        .eq_bytes(b"site-specific"));
    // Times run from when the REQUEST was sent (t=0.5).
    assert_eq!(l.lease_time(), Some(Duration::from_secs(3600)));
    assert_eq!(l.renewal_time(), Some(Duration::from_secs(1800)));
    assert_eq!(l.rebinding_time(), Some(Duration::from_secs(3150)));
    assert_eq!(l.obtained(), at(0.5));
    assert_eq!(l.renew_at(), Some(at(1800.5)));
    assert_eq!(l.rebind_at(), Some(at(3150.5)));
    assert_eq!(l.expires_at(), Some(at(3600.5)));
    assert_eq!(c.poll_timeout(), Some(at(1800.5)));
}

#[test]
fn without_classless_routes_option_3_gives_the_default_route() {
    let c = bound_client(config(), 600);
    let l = c.lease().unwrap();
    assert_eq!(l.default_routers().unwrap().first(), Some(SERVER));
    assert_eq!(
        l.routes().collect::<Vec<_>>(),
        [Route {
            destination: Ipv4Addr::UNSPECIFIED,
            prefix_len: 0,
            router: SERVER
        }]
    );
}

#[test]
fn discover_retransmits_4_8_16_32_64_then_backs_off() {
    let mut c = Client::new(config(), 3);
    c.start(at(0.0));
    let first = one(&mut c).msg().xid();
    let mut times = vec![0.0];
    let mut xids = vec![first];
    while times.len() < 8 {
        let t = c.poll_timeout().unwrap();
        c.handle_timeout(t);
        for s in drain(&mut c) {
            assert_eq!(s.kind(), MessageType::Discover);
            times.push(secs(t));
            xids.push(s.msg().xid());
        }
    }
    // 5 tries at 0, 4, 12, 28, 60; the 5th try's wait (64 s) ends at 124 with no offer:
    // INIT for 10 s, then a new round from 134 with a new xid.
    assert_eq!(times, [0.0, 4.0, 12.0, 28.0, 60.0, 134.0, 138.0, 146.0]);
    assert!(xids[..5].iter().all(|&x| x == first));
    assert_ne!(xids[5], first);
    assert_eq!(xids[5], xids[6]);
}

#[test]
fn jitter_is_within_one_second_and_seeded() {
    let schedule = |seed| {
        let mut cfg = config();
        cfg.retransmit.jitter = Duration::from_secs(1);
        let mut c = Client::new(cfg, seed);
        c.start(at(0.0));
        drain(&mut c);
        let mut times = Vec::new();
        for _ in 0..4 {
            let t = c.poll_timeout().unwrap();
            c.handle_timeout(t);
            drain(&mut c);
            times.push(secs(t));
        }
        times
    };
    let a = schedule(11);
    assert_eq!(a, schedule(11), "same seed, same schedule");
    assert_ne!(a, schedule(12));
    let mut prev = 0.0;
    for (t, base) in a.iter().zip([4.0, 8.0, 16.0, 32.0]) {
        let gap = t - prev;
        assert!(
            (base - 1.0..=base + 1.0).contains(&gap),
            "gap {gap} around {base}"
        );
        prev = *t;
    }
}

#[test]
fn request_retries_then_falls_back_to_discover() {
    let mut c = Client::new(config(), 5);
    c.start(at(0.0));
    let d = one(&mut c);
    c.handle_packet(at(1.0), &offer(&d.msg(), SERVER, ADDR, 600));
    let mut requests = vec![1.0];
    drain(&mut c);
    loop {
        let t = c.poll_timeout().unwrap();
        c.handle_timeout(t);
        let s = one(&mut c);
        if s.kind() == MessageType::Discover {
            assert_eq!(secs(t), 61.0);
            assert_ne!(s.msg().xid(), d.msg().xid());
            break;
        }
        requests.push(secs(t));
    }
    assert_eq!(requests, [1.0, 5.0, 13.0, 29.0]);
}

#[test]
fn whole_lease_lifetime_renew_rebind_expire() {
    let mut c = bound_client(config(), 3600);
    // Bound at t=0.01 (REQUEST sent then): T1 1800.01, T2 3150.01, expiry 3600.01.
    let t0 = 0.01;
    let mut log = Vec::new();
    loop {
        let t = c.poll_timeout().unwrap();
        c.handle_timeout(t);
        let evs = events(&mut c);
        for s in drain(&mut c) {
            log.push((
                ((secs(t) - t0) * 1000.0).round() / 1000.0,
                s.kind(),
                s.t.is_broadcast(),
                s.msg().ciaddr(),
            ));
            let m = s.msg();
            if s.kind() == MessageType::Request {
                assert!(
                    m.requested_ip().unwrap().is_none(),
                    "no option 50 when renewing"
                );
                assert!(
                    m.server_id().unwrap().is_none(),
                    "no option 54 when renewing"
                );
                assert_eq!(m.flags(), Flags::empty());
                if !s.t.is_broadcast() {
                    assert_eq!(s.t.destination, SocketAddrV4::new(SERVER, 67));
                }
                assert_eq!(s.t.source, ADDR);
            }
        }
        if evs.contains(&Event::Expired) {
            assert_eq!(c.state(), State::Selecting);
            assert!(c.lease().is_none());
            break;
        }
    }
    let renew: Vec<f64> = log
        .iter()
        .filter(|l| !l.2 && l.1 == MessageType::Request)
        .map(|l| l.0)
        .collect();
    let rebind: Vec<f64> = log
        .iter()
        .filter(|l| l.2 && l.1 == MessageType::Request)
        .map(|l| l.0)
        .collect();
    // RENEWING: at T1, then half the time left to T2 each time, at least 60 s.
    assert_eq!(renew, [1800.0, 2475.0, 2812.5, 2981.25, 3065.625, 3125.625]);
    // REBINDING: at T2, then half the time left to expiry, at least 60 s, not past it.
    assert_eq!(rebind, [3150.0, 3375.0, 3487.5, 3547.5]);
    assert!(log
        .iter()
        .filter(|l| l.1 == MessageType::Request)
        .all(|l| l.3 == ADDR));
    let last = log.last().unwrap();
    assert_eq!((last.0, last.1), (3600.0, MessageType::Discover));
}

#[test]
fn renew_ack_extends_the_lease() {
    let mut c = bound_client(config(), 1000);
    c.handle_timeout(at(500.01));
    assert_eq!(c.state(), State::Renewing);
    let r = one(&mut c);
    c.handle_packet(at(501.0), &ack(&r.msg(), SERVER, ADDR, 1000));
    assert_eq!(events(&mut c), vec![Event::Renewed]);
    assert_eq!(c.state(), State::Bound);
    let l = c.lease().unwrap();
    assert_eq!(l.obtained(), at(500.01));
    assert_eq!(l.expires_at(), Some(at(1500.01)));
    assert_eq!(c.poll_timeout(), Some(at(1000.01)));
}

#[test]
fn rebind_ack_from_another_server() {
    let mut c = bound_client(config(), 1000);
    c.handle_timeout(at(500.01));
    drain(&mut c);
    c.handle_timeout(at(875.01));
    assert_eq!(c.state(), State::Rebinding);
    let r = one(&mut c);
    assert!(r.t.is_broadcast());
    c.handle_packet(at(876.0), &ack(&r.msg(), OTHER_SERVER, ADDR, 1000));
    assert_eq!(events(&mut c), vec![Event::Rebound]);
    assert_eq!(c.lease().unwrap().server_id(), OTHER_SERVER);
}

#[test]
fn renewing_takes_replies_only_from_its_server() {
    let mut c = bound_client(config(), 1000);
    c.handle_timeout(at(500.01));
    let r = one(&mut c);
    c.handle_packet(at(501.0), &ack(&r.msg(), OTHER_SERVER, ADDR, 1000));
    assert_eq!(c.state(), State::Renewing);
    assert_eq!(c.stats().dropped(DropReason::WrongServer), 1);
    // An ACK for another address while renewing is refused.
    c.handle_packet(
        at(501.0),
        &ack(&r.msg(), SERVER, Ipv4Addr::new(192, 0, 2, 101), 1000),
    );
    assert_eq!(c.stats().dropped(DropReason::BadAddress), 1);
}

#[test]
fn nak_while_requesting_restarts_and_repeated_naks_back_off() {
    let mut c = Client::new(config(), 9);
    c.start(at(0.0));
    let d = one(&mut c);
    c.handle_packet(at(0.1), &offer(&d.msg(), SERVER, ADDR, 600));
    let r = one(&mut c);
    // A NAK from a server we did not select is ignored.
    c.handle_packet(at(0.2), &nak(&r.msg(), OTHER_SERVER));
    assert_eq!(c.state(), State::Requesting);
    c.handle_packet(at(0.2), &nak(&r.msg(), SERVER));
    assert_eq!(events(&mut c), vec![Event::Nak]);
    let d2 = one(&mut c);
    assert_eq!(d2.kind(), MessageType::Discover);
    assert_ne!(d2.msg().xid(), r.msg().xid());
    c.handle_packet(at(0.3), &offer(&d2.msg(), SERVER, ADDR, 600));
    let r2 = one(&mut c);
    c.handle_packet(at(0.4), &nak(&r2.msg(), SERVER));
    assert_eq!(events(&mut c), vec![Event::Nak]);
    assert_eq!(c.state(), State::Init);
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.poll_timeout(), Some(at(10.4)));
}

#[test]
fn nak_while_renewing_loses_the_lease() {
    let mut c = bound_client(config(), 1000);
    c.handle_timeout(at(500.01));
    let r = one(&mut c);
    c.handle_packet(at(501.0), &nak(&r.msg(), SERVER));
    assert_eq!(events(&mut c), vec![Event::Nak, Event::LeaseLost]);
    assert!(c.lease().is_none());
    assert_eq!(one(&mut c).kind(), MessageType::Discover);
}

#[test]
fn offer_window_picks_the_requested_address_then_the_longest_lease() {
    let mut cfg = config();
    cfg.offer_window = Duration::from_secs(2);
    cfg.requested_address = Some(Ipv4Addr::new(192, 0, 2, 150));
    let mut c = Client::new(cfg.clone(), 4);
    c.start(at(0.0));
    let d = one(&mut c);
    assert_eq!(
        d.msg().requested_ip().unwrap(),
        Some(Ipv4Addr::new(192, 0, 2, 150))
    );
    c.handle_packet(at(0.1), &offer(&d.msg(), SERVER, ADDR, 7200));
    c.handle_packet(
        at(0.2),
        &offer(&d.msg(), OTHER_SERVER, Ipv4Addr::new(192, 0, 2, 150), 600),
    );
    c.handle_packet(
        at(0.3),
        &offer(
            &d.msg(),
            Ipv4Addr::new(192, 0, 2, 3),
            Ipv4Addr::new(192, 0, 2, 160),
            9000,
        ),
    );
    assert_eq!(c.state(), State::Selecting);
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.poll_timeout(), Some(at(2.0)));
    c.handle_timeout(at(2.0));
    let r = one(&mut c);
    assert_eq!(r.msg().server_id().unwrap(), Some(OTHER_SERVER));

    cfg.requested_address = None;
    let mut c = Client::new(cfg, 4);
    c.start(at(0.0));
    let d = one(&mut c);
    c.handle_packet(at(0.1), &offer(&d.msg(), SERVER, ADDR, 600));
    c.handle_packet(
        at(0.2),
        &offer(&d.msg(), OTHER_SERVER, Ipv4Addr::new(192, 0, 2, 150), 7200),
    );
    c.handle_timeout(at(2.0));
    assert_eq!(one(&mut c).msg().server_id().unwrap(), Some(OTHER_SERVER));
}

#[test]
fn init_reboot_confirms_or_falls_back() {
    // The server confirms the remembered address.
    let mut c = Client::new(config(), 2);
    c.start_reboot(at(0.0), ADDR);
    assert_eq!(c.state(), State::Rebooting);
    let r = one(&mut c);
    let m = r.msg();
    assert_eq!(r.kind(), MessageType::Request);
    assert!(r.t.is_broadcast());
    assert_eq!(m.requested_ip().unwrap(), Some(ADDR));
    assert!(m.server_id().unwrap().is_none());
    assert_eq!(m.ciaddr(), Ipv4Addr::UNSPECIFIED);
    c.handle_packet(at(0.1), &ack(&m, SERVER, ADDR, 600));
    assert_eq!(events(&mut c), vec![Event::Bound]);

    // A stale lease: the server NAKs, the client discovers.
    let mut c = Client::new(config(), 2);
    c.start_reboot(at(0.0), Ipv4Addr::new(10, 9, 9, 9));
    let r = one(&mut c);
    c.handle_packet(at(0.1), &nak(&r.msg(), SERVER));
    assert_eq!(events(&mut c), vec![Event::Nak]);
    assert_eq!(one(&mut c).kind(), MessageType::Discover);

    // Silence: after the configured tries, discovery.
    let mut c = Client::new(config(), 2);
    c.start_reboot(at(0.0), ADDR);
    drain(&mut c);
    let mut kinds = Vec::new();
    while kinds.last() != Some(&MessageType::Discover) {
        let t = c.poll_timeout().unwrap();
        c.handle_timeout(t);
        kinds.extend(drain(&mut c).iter().map(Sent::kind));
    }
    assert_eq!(
        kinds,
        [
            MessageType::Request,
            MessageType::Request,
            MessageType::Request,
            MessageType::Discover
        ]
    );
}

#[test]
fn foreign_and_malformed_replies_are_dropped_and_counted() {
    let mut c = Client::new(config(), 6);
    c.start(at(0.0));
    let d = one(&mut c);
    let m = d.msg();
    let good = offer(&m, SERVER, ADDR, 600);
    let mut cases: Vec<(Vec<u8>, DropReason)> = Vec::new();
    cases.push((vec![1, 2, 3], DropReason::Malformed));
    let mut request = good.clone();
    request[0] = 1;
    cases.push((request, DropReason::NotReply));
    let mut xid = good.clone();
    xid[4] ^= 0xff;
    cases.push((xid, DropReason::WrongXid));
    let mut chaddr = good.clone();
    chaddr[28 + 5] ^= 0xff;
    cases.push((chaddr, DropReason::WrongChaddr));
    cases.push((
        reply(&m, MessageType::Ack, SERVER, |b| {
            b.yiaddr(ADDR);
            b.lease_time(60)?;
            Ok(())
        }),
        DropReason::Unexpected,
    ));
    for bad in [
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(224, 0, 0, 1),
        Ipv4Addr::new(127, 0, 0, 1),
    ] {
        cases.push((offer(&m, SERVER, bad, 600), DropReason::BadAddress));
    }
    cases.push((
        reply(&m, MessageType::Offer, SERVER, |b| {
            b.yiaddr(ADDR);
            Ok(())
        }),
        DropReason::MissingLeaseTime,
    ));
    let mut no_server = vec![0u8; 600];
    let mut b = MessageBuilder::new(&mut no_server).unwrap();
    b.op(Op::BootReply).xid(m.xid()).yiaddr(ADDR);
    b.chaddr(&MAC).unwrap();
    b.message_type(MessageType::Offer)
        .unwrap()
        .lease_time(600)
        .unwrap();
    let n = b.finish().unwrap();
    cases.push((no_server[..n].to_vec(), DropReason::WrongServer));
    let bad_lease = reply(&m, MessageType::Offer, SERVER, |b| {
        b.yiaddr(ADDR);
        b.option(OptionCode::LEASE_TIME, &[0, 2, 88])?;
        Ok(())
    });
    cases.push((bad_lease, DropReason::BadOption));
    for (i, (packet, reason)) in cases.iter().enumerate() {
        let before = c.stats().dropped(*reason);
        c.handle_packet(at(0.1), packet);
        assert_eq!(
            c.stats().dropped(*reason),
            before + 1,
            "case {i}: {reason:?}"
        );
        assert_eq!(c.state(), State::Selecting, "case {i}");
        assert!(
            drain(&mut c).is_empty() && events(&mut c).is_empty(),
            "case {i}"
        );
    }
    // After all of that, the valid offer still works.
    c.handle_packet(at(0.2), &good);
    assert_eq!(c.state(), State::Requesting);
    // Packets while bound are unexpected.
    let mut c = bound_client(config(), 600);
    c.handle_packet(at(1.0), &good);
    assert_eq!(c.stats().dropped(DropReason::Unexpected), 1);
    assert_eq!(c.state(), State::Bound);
}

#[test]
fn ack_without_lease_time_is_refused() {
    let mut c = Client::new(config(), 8);
    c.start(at(0.0));
    let d = one(&mut c);
    c.handle_packet(at(0.1), &offer(&d.msg(), SERVER, ADDR, 600));
    let r = one(&mut c);
    let no_lease = reply(&r.msg(), MessageType::Ack, SERVER, |b| {
        b.yiaddr(ADDR);
        Ok(())
    });
    c.handle_packet(at(0.2), &no_lease);
    assert_eq!(c.stats().dropped(DropReason::MissingLeaseTime), 1);
    assert_eq!(c.state(), State::Requesting);
}

#[test]
fn release_is_unicast_to_the_server() {
    let mut c = bound_client(config(), 600);
    c.release(at(10.0));
    assert_eq!(events(&mut c), vec![Event::Released(ADDR)]);
    let s = one(&mut c);
    assert_eq!(s.kind(), MessageType::Release);
    assert_eq!(s.t.destination, SocketAddrV4::new(SERVER, 67));
    assert_eq!(s.msg().ciaddr(), ADDR);
    assert_eq!(s.msg().server_id().unwrap(), Some(SERVER));
    assert!(s.msg().requested_ip().unwrap().is_none());
    assert_eq!(c.state(), State::Idle);
    assert!(c.lease().is_none() && c.poll_timeout().is_none());
    c.release(at(11.0));
    assert!(drain(&mut c).is_empty());
}

#[test]
fn release_lease_gives_back_a_lease_the_machine_never_held() {
    let mut c = Client::new(config(), 12);
    c.release_lease(at(1.0), ADDR, SERVER, Some("shutting down"));
    assert_eq!(events(&mut c), vec![Event::Released(ADDR)]);
    let s = one(&mut c);
    assert_eq!(s.kind(), MessageType::Release);
    assert_eq!(s.t.destination, SocketAddrV4::new(SERVER, 67));
    assert_eq!(s.msg().ciaddr(), ADDR);
    assert_eq!(s.msg().server_id().unwrap(), Some(SERVER));
    let text = s.msg().option(OptionCode::MESSAGE).unwrap();
    assert_eq!(text.bytes().collect::<Vec<u8>>(), b"shutting down");
    assert_eq!(c.state(), State::Idle);
    // A plain release afterwards carries no message.
    let mut c = bound_client(config(), 600);
    c.release_lease(at(10.0), ADDR, SERVER, Some("x"));
    let _ = one(&mut c);
    let mut c2 = bound_client(config(), 600);
    c2.release(at(10.0));
    assert!(one(&mut c2).msg().option(OptionCode::MESSAGE).is_none());
    assert!(c.lease().is_none());
}

#[test]
fn probe_conflict_declines_and_restarts_after_ten_seconds() {
    let mut cfg = config();
    cfg.probe = true;
    let mut c = Client::new(cfg.clone(), 10);
    c.start(at(0.0));
    let d = one(&mut c);
    c.handle_packet(at(0.1), &offer(&d.msg(), SERVER, ADDR, 600));
    let r = one(&mut c);
    c.handle_packet(at(0.2), &ack(&r.msg(), SERVER, ADDR, 600));
    assert_eq!(c.state(), State::Probing);
    assert_eq!(events(&mut c), vec![Event::ProbeAddress(ADDR)]);
    c.probe_result(at(1.0), true);
    assert_eq!(events(&mut c), vec![Event::Declined(ADDR)]);
    let s = one(&mut c);
    assert_eq!(s.kind(), MessageType::Decline);
    assert!(s.t.is_broadcast());
    assert_eq!(s.msg().requested_ip().unwrap(), Some(ADDR));
    assert_eq!(s.msg().server_id().unwrap(), Some(SERVER));
    assert_eq!(c.poll_timeout(), Some(at(11.0)));
    c.handle_timeout(at(11.0));
    assert_eq!(one(&mut c).kind(), MessageType::Discover);

    // No conflict binds; so does a probe that never answers, after the timeout.
    let mut c = Client::new(cfg, 10);
    c.start(at(0.0));
    let d = one(&mut c);
    c.handle_packet(at(0.1), &offer(&d.msg(), SERVER, ADDR, 600));
    let r = one(&mut c);
    c.handle_packet(at(0.2), &ack(&r.msg(), SERVER, ADDR, 600));
    events(&mut c);
    c.handle_timeout(at(8.2));
    assert_eq!(events(&mut c), vec![Event::Bound]);
}

#[test]
fn inform_gets_options_without_a_lease() {
    let mut c = Client::new(config(), 12);
    let host = Ipv4Addr::new(192, 0, 2, 9);
    c.inform(at(0.0), host);
    let s = one(&mut c);
    assert_eq!(s.kind(), MessageType::Inform);
    assert_eq!(s.msg().ciaddr(), host);
    assert!(s.msg().lease_time().unwrap().is_none());
    let a = reply(&s.msg(), MessageType::Ack, SERVER, |b| {
        b.dns_servers(&[Ipv4Addr::new(192, 0, 2, 53)])?;
        Ok(())
    });
    c.handle_packet(at(0.1), &a);
    assert_eq!(events(&mut c), vec![Event::Informed]);
    let l = c.lease().unwrap();
    assert_eq!(l.address(), host);
    assert!(l.lease_time().is_none());
    assert_eq!(
        l.dns_servers().unwrap().first(),
        Some(Ipv4Addr::new(192, 0, 2, 53))
    );
    assert_eq!(c.state(), State::Idle);

    let mut c = Client::new(config(), 12);
    c.inform(at(0.0), host);
    let mut n = 0;
    while let Some(t) = c.poll_timeout() {
        c.handle_timeout(t);
        n += drain(&mut c).len();
    }
    assert_eq!(n, 3);
    assert_eq!(events(&mut c), vec![Event::InformFailed]);
}

#[test]
fn rapid_commit_binds_in_one_round_trip() {
    let mut cfg = config();
    cfg.rapid_commit = true;
    let mut c = Client::new(cfg, 13);
    c.start(at(0.0));
    let d = one(&mut c);
    assert!(d.msg().rapid_commit().unwrap());
    let a = reply(&d.msg(), MessageType::Ack, SERVER, |b| {
        b.yiaddr(ADDR);
        b.lease_time(600)?.rapid_commit()?;
        Ok(())
    });
    c.handle_packet(at(0.1), &a);
    assert_eq!(events(&mut c), vec![Event::Bound]);
    assert_eq!(c.lease().unwrap().address(), ADDR);
}

#[test]
fn ipv6_only_preferred_pauses_dhcpv4() {
    let mut cfg = config();
    cfg.ipv6_only = true;
    let mut c = Client::new(cfg, 14);
    c.start(at(0.0));
    let d = one(&mut c);
    assert!(d
        .msg()
        .parameter_request_list()
        .unwrap()
        .unwrap()
        .contains(OptionCode::IPV6_ONLY_PREFERRED));
    let o = reply(&d.msg(), MessageType::Offer, SERVER, |b| {
        b.yiaddr(ADDR);
        b.lease_time(600)?.ipv6_only_preferred(60)?;
        Ok(())
    });
    c.handle_packet(at(1.0), &o);
    // 60 s is below the RFC 8925 minimum of 300 s.
    assert_eq!(
        events(&mut c),
        vec![Event::Ipv6OnlyPreferred(Duration::from_secs(300))]
    );
    assert_eq!(c.state(), State::Ipv6Only);
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.poll_timeout(), Some(at(301.0)));
    c.handle_timeout(at(301.0));
    assert_eq!(one(&mut c).kind(), MessageType::Discover);
}

#[test]
fn bad_t1_t2_are_repaired() {
    let mut c = Client::new(config(), 15);
    c.start(at(0.0));
    let d = one(&mut c);
    c.handle_packet(at(0.0), &offer(&d.msg(), SERVER, ADDR, 1000));
    let r = one(&mut c);
    let a = reply(&r.msg(), MessageType::Ack, SERVER, |b| {
        b.yiaddr(ADDR);
        b.lease_time(1000)?
            .renewal_time(2000)?
            .rebinding_time(1000)?;
        Ok(())
    });
    c.handle_packet(at(0.0), &a);
    let l = c.lease().unwrap();
    assert_eq!(l.rebinding_time(), Some(Duration::from_secs(875)));
    assert_eq!(l.renewal_time(), Some(Duration::from_secs(500)));
    let t1 = l.renewal_time().unwrap();
    assert!(
        t1 < l.rebinding_time().unwrap() && l.rebinding_time().unwrap() < l.lease_time().unwrap()
    );
}

#[test]
fn time_going_backwards_moves_nothing_backwards() {
    let mut c = bound_client(config(), 1000);
    let t = c.poll_timeout().unwrap();
    c.handle_timeout(at(1.0));
    c.handle_timeout(at(0.0));
    assert_eq!(c.poll_timeout(), Some(t));
    c.handle_timeout(at(600.0));
    let next = c.poll_timeout().unwrap();
    c.handle_timeout(at(100.0));
    assert_eq!(c.poll_timeout(), Some(next));
    assert!(next > at(600.0));
}

#[test]
fn a_huge_time_jump_expires_the_lease_in_one_call() {
    let mut c = bound_client(config(), 1000);
    c.handle_timeout(at(100_000.0));
    let evs = events(&mut c);
    assert!(evs.contains(&Event::Expired), "{evs:?}");
    assert!(c.poll_timeout().unwrap() > at(100_000.0));
}

/// RFC 2131 section 4.1 (table 5): `secs` counts the seconds since the client began
/// acquiring the address (or renewing it), across retransmissions, and starts again from 0
/// for a renewal.
#[test]
fn rfc2131_4_1_secs_counts_from_the_start_of_the_exchange() {
    let mut c = Client::new(config(), 3);
    c.start(at(0.0));
    assert_eq!(one(&mut c).msg().secs(), 0);
    let t = c.poll_timeout().unwrap();
    c.handle_timeout(t);
    assert_eq!(one(&mut c).msg().secs(), 4, "the retransmission at 4 s");
    let t = c.poll_timeout().unwrap();
    c.handle_timeout(t);
    let d = one(&mut c);
    assert_eq!(d.msg().secs(), 12);
    c.handle_packet(at(12.5), &offer(&d.msg(), SERVER, ADDR, 3600));
    let r = one(&mut c);
    assert_eq!((r.kind(), r.msg().secs()), (MessageType::Request, 12));
    // Bound, then renewing at T1 (1800 s): a new exchange, counted from 0.
    let mut c = bound_client(config(), 3600);
    let t1 = c.poll_timeout().unwrap();
    c.handle_timeout(t1);
    let renew = one(&mut c);
    assert_eq!(
        (renew.kind(), renew.msg().secs()),
        (MessageType::Request, 0)
    );
}

/// RFC 4702 sections 2 and 3: a client configured with an FQDN sends option 81 (names in
/// DNS wire format, E set; S set when it asks the server to update A) instead of a host
/// name (12); RFC 2132 section 9.13: the vendor class (60) is sent as configured.
#[test]
fn rfc4702_the_fqdn_goes_instead_of_the_host_name_with_its_flags() {
    let mut cfg = config();
    cfg.fqdn = Some("host1.example.test.".try_into().unwrap());
    cfg.vendor_class = Some(heapless::Vec::from_slice(b"dhcp-rs").unwrap());
    let mut c = Client::new(cfg.clone(), 1);
    c.start(at(0.0));
    let d = one(&mut c);
    let m = d.msg();
    assert_eq!(
        m.host_name().unwrap(),
        None,
        "no option 12 beside option 81"
    );
    let fqdn = m.client_fqdn().unwrap().unwrap();
    assert!(fqdn.flags.contains(FqdnFlags::E | FqdnFlags::S));
    assert_eq!((fqdn.rcode1, fqdn.rcode2), (0, 0));
    assert_eq!(fqdn.name.to_string(), "host1.example.test");
    assert_eq!(
        m.vendor_class_id().unwrap().unwrap().as_str(),
        Some("dhcp-rs")
    );
    // Without asking the server to update: S clear.
    cfg.fqdn_server_update = false;
    let mut c = Client::new(cfg, 1);
    c.start(at(0.0));
    let fqdn_flags = one(&mut c).msg().client_fqdn().unwrap().unwrap().flags;
    assert!(fqdn_flags.contains(FqdnFlags::E) && !fqdn_flags.contains(FqdnFlags::S));
}
