//! Deterministic DHCPv6 simulation: scripted clients (SOLICIT, REQUEST, RENEW at T1,
//! REBIND at T2, RELEASE now and then, retransmission) and one server machine on a virtual
//! link with seeded loss both ways, over a day of virtual time, with server restarts from
//! the records it had made durable. After every step: no two clients hold the same address
//! while both their leases run, and every lease a client was told about is the server's
//! binding for that client, restarts included.

use std::collections::BTreeMap;
use std::net::{Ipv6Addr, SocketAddrV6};

use dhcp_core::time::Instant;
use dhcp_core::v6::server::{
    lease_key, IaKind, Ipv6Net, Lease6Record, Lifetimes, Pool6, RecvMeta6, Server6, Server6Config,
    Subnet6Config,
};
use dhcp_core::v6::wire::{Message, MessageBuilder, MessageType};

const UNIX0: u64 = 1_800_000_000;
const SERVER_DUID: [u8; 10] = [0, 3, 0, 1, 2, 0, 0, 0, 0, 1];
const STEP: u64 = 5;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn config(pool_size: u16) -> Server6Config {
    let mut c = Server6Config::new(SERVER_DUID.to_vec());
    c.lifetimes = Lifetimes {
        preferred: 300,
        valid: 600,
        t1: Some(150),
        t2: Some(240),
    };
    let mut s = Subnet6Config::new(Ipv6Net::new("2001:db8:1::".parse().unwrap(), 64));
    s.interface = Some(1);
    s.pools.push(Pool6::new(
        Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x100),
        Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x100 + pool_size - 1),
    ));
    c.subnets.push(s);
    c
}

/// A client's lease as its last REPLY told it.
#[derive(Debug, Clone, Copy)]
struct Held {
    address: Ipv6Addr,
    renew_at: u64,
    rebind_at: u64,
    ends: u64,
}

struct C6 {
    duid: Vec<u8>,
    held: Option<Held>,
    /// The message in flight: type, xid, the address it asks for, when sent.
    pending: Option<(MessageType, u32, Option<Ipv6Addr>, u64)>,
}

fn message(c: &C6, kind: MessageType, xid: u32, address: Option<Ipv6Addr>) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut b = MessageBuilder::new(&mut buf, kind, xid).unwrap();
    b.client_id(&c.duid).unwrap();
    if matches!(
        kind,
        MessageType::Request | MessageType::Renew | MessageType::Release
    ) {
        b.server_id(&SERVER_DUID).unwrap();
    }
    b.elapsed_time(0).unwrap();
    b.ia_na(1, 0, 0, |b| {
        if let Some(a) = address {
            b.ia_address(a, 0, 0, |_| Ok(()))?;
        }
        Ok(())
    })
    .unwrap();
    let n = b.finish();
    buf.truncate(n);
    buf
}

fn meta(i: usize) -> RecvMeta6 {
    RecvMeta6 {
        interface: 1,
        source: SocketAddrV6::new(
            Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, i as u16 + 1),
            546,
            0,
            1,
        ),
        multicast: true,
    }
}

struct World {
    server: Server6,
    config: Server6Config,
    durable: Vec<Lease6Record>,
    rng: Rng,
    loss: u64,
    restarts: u32,
    bound_replies: u64,
}

impl World {
    fn at(secs: u64) -> Instant {
        Instant::from_secs(10 + secs)
    }

    /// Sends `packet` from client `i`; the reply (if neither is lost) comes back.
    fn exchange(&mut self, now: u64, i: usize, packet: &[u8]) -> Option<Vec<u8>> {
        let lost_out = self.rng.chance(self.loss);
        if !lost_out {
            self.server.handle_packet(Self::at(now), &meta(i), packet);
        }
        // Every record is made durable before the reply goes (the host's order).
        while let Some(r) = self.server.poll_persist() {
            let seq = r.seq;
            self.durable.push(r);
            self.server.persisted(seq);
        }
        let mut buf = [0u8; 1500];
        let t = self.server.poll_transmit(&mut buf)?;
        assert!(
            self.server.poll_transmit(&mut [0u8; 1500]).is_none(),
            "one reply a request"
        );
        if self.rng.chance(self.loss) {
            return None;
        }
        Some(buf[..t.len].to_vec())
    }

    fn restart(&mut self, now: u64) {
        let mut s = Server6::new(self.config.clone(), Self::at(now), UNIX0 + now).unwrap();
        for r in &self.durable {
            s.restore(r);
        }
        self.server = s;
        self.restarts += 1;
    }
}

/// One step of client `i` at `now`.
fn step(w: &mut World, c: &mut C6, i: usize, now: u64) {
    if let Some(h) = c.held {
        if now >= h.ends {
            c.held = None;
            c.pending = None;
        }
    }
    if let Some(h) = c.held {
        if c.pending.is_none() && w.rng.chance(1) {
            // Gives the address back and forgets it at once.
            let p = message(
                c,
                MessageType::Release,
                w.rng.next() as u32 & 0xff_ffff,
                Some(h.address),
            );
            w.exchange(now, i, &p);
            c.held = None;
            return;
        }
    }
    // What to send now: a retransmission (after 10 s), or the next message.
    let next = match (c.pending, c.held) {
        (Some((kind, xid, a, sent)), _) if now >= sent + 10 => Some((kind, xid, a)),
        (Some(_), _) => None,
        (None, None) => Some((MessageType::Solicit, w.rng.next() as u32 & 0xff_ffff, None)),
        (None, Some(h)) if now >= h.rebind_at => Some((
            MessageType::Rebind,
            w.rng.next() as u32 & 0xff_ffff,
            Some(h.address),
        )),
        (None, Some(h)) if now >= h.renew_at => Some((
            MessageType::Renew,
            w.rng.next() as u32 & 0xff_ffff,
            Some(h.address),
        )),
        (None, Some(_)) => None,
    };
    let Some((mut kind, xid, address)) = next else {
        return;
    };
    // A RENEW past T2 becomes a REBIND (RFC 8415 section 18.2.5).
    if kind == MessageType::Renew && c.held.is_some_and(|h| now >= h.rebind_at) {
        kind = MessageType::Rebind;
    }
    c.pending = Some((kind, xid, address, now));
    let Some(reply) = w.exchange(now, i, &message(c, kind, xid, address)) else {
        return;
    };
    let m = Message::parse(&reply).expect("the server's reply parses");
    assert_eq!(m.transaction_id(), xid);
    let granted = m
        .ia_nas()
        .flatten()
        .flat_map(|ia| ia.addresses().flatten().collect::<Vec<_>>())
        .find(|a| a.valid > 0);
    match (m.message_type(), granted) {
        (Some(MessageType::Advertise), Some(a)) => {
            let xid = w.rng.next() as u32 & 0xff_ffff;
            c.pending = Some((MessageType::Request, xid, Some(a.address), now));
            if let Some(reply) = w.exchange(
                now,
                i,
                &message(c, MessageType::Request, xid, Some(a.address)),
            ) {
                take_reply(w, c, &reply, now);
            }
        }
        (Some(MessageType::Reply), _) => take_reply(w, c, &reply, now),
        _ => {}
    }
}

fn take_reply(w: &mut World, c: &mut C6, reply: &[u8], now: u64) {
    let m = Message::parse(reply).unwrap();
    c.pending = None;
    let ia = m.ia_nas().flatten().next();
    let granted = ia.and_then(|ia| {
        let a = ia.addresses().flatten().find(|a| a.valid > 0)?;
        Some((a, ia.t1, ia.t2))
    });
    match granted {
        Some((a, t1, t2)) => {
            if let Some(h) = c.held {
                assert_eq!(h.address, a.address, "a renewal moved the client's address");
            }
            c.held = Some(Held {
                address: a.address,
                renew_at: now + u64::from(t1),
                rebind_at: now + u64::from(t2),
                ends: now + u64::from(a.valid),
            });
            w.bound_replies += 1;
        }
        None => c.held = None,
    }
}

/// Every client's running lease is the server's binding for it, and no address is held
/// by two clients.
fn check(w: &World, clients: &[C6], now: u64) {
    let mut holders: BTreeMap<Ipv6Addr, usize> = BTreeMap::new();
    let bound: BTreeMap<Ipv6Addr, Vec<u8>> = w
        .server
        .leases()
        .map(|l| (l.address, l.client.as_bytes().to_vec()))
        .collect();
    for (i, c) in clients.iter().enumerate() {
        let Some(h) = c.held.filter(|h| h.ends > now) else {
            continue;
        };
        if let Some(j) = holders.insert(h.address, i) {
            panic!("at {now} s clients {j} and {i} both hold {}", h.address);
        }
        let key = lease_key(IaKind::Address, 1, &c.duid);
        assert_eq!(
            bound.get(&h.address),
            Some(&key.as_bytes().to_vec()),
            "at {now} s client {i}'s lease on {} is not the server's (restarts: {})",
            h.address,
            w.restarts
        );
    }
    let pool: u64 = w.server.pool_usage().map(|u| u.size).sum();
    assert!(w.server.lease_count() as u64 <= pool);
}

fn run(seed: u64, clients: usize, pool: u16, loss: u64, restart_every: u64, secs: u64) -> World {
    let config = config(pool);
    let mut w = World {
        server: Server6::new(config.clone(), World::at(0), UNIX0).unwrap(),
        config,
        durable: Vec::new(),
        rng: Rng(seed),
        loss,
        restarts: 0,
        bound_replies: 0,
    };
    let mut cs: Vec<C6> = (0..clients)
        .map(|i| C6 {
            duid: vec![0, 3, 0, 1, 2, 0, 0, 0, 1, i as u8],
            held: None,
            pending: None,
        })
        .collect();
    let mut now = 0;
    while now < secs {
        now += STEP;
        w.server.handle_timeout(World::at(now));
        for (i, c) in cs.iter_mut().enumerate() {
            step(&mut w, c, i, now);
        }
        if restart_every > 0 && now % restart_every == 0 {
            w.restart(now);
        }
        check(&w, &cs, now);
    }
    w
}

#[test]
fn a_day_of_v6_leases_with_loss_and_restarts() {
    let w = run(0x5eed_0006, 24, 40, 10, 7200, 86_400);
    assert_eq!(w.restarts, 12);
    assert!(
        w.bound_replies > 24 * 100,
        "leases were granted and renewed: {}",
        w.bound_replies
    );
}

#[test]
fn a_pool_smaller_than_its_clients_serves_some_and_breaks_nothing() {
    let w = run(0x5eed_0007, 24, 8, 5, 3600, 6 * 3600);
    assert!(w.server.lease_count() <= 8);
    assert!(w.bound_replies > 0);
}
