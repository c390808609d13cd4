//! Deterministic simulation: many core clients and one server machine on a virtual
//! network with seeded loss, duplication and reordering, over days of virtual time, with
//! server restarts from the persisted records. Invariants are checked at every step.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use dhcp_core::client::{Client, ClientConfig, Event, State};
use dhcp_core::server::{
    ClientKey, DropReason, Ipv4Net, LeaseRecord, LeaseTimes, PoolRange, RecvMeta, Reservation,
    ReservationKey, Server, ServerConfig, SubnetConfig,
};
use dhcp_core::time::Instant;
use dhcp_core::wire::{Message, MessageType};

const SERVER_ID: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const UNIX0: u64 = 1_800_000_000;
const RESERVED_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xee];
const RESERVED: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 50);
/// An address some host on the link uses without a lease: probing clients find it taken.
const SQUATTED: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 103);

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

fn config(pool_end: u8) -> ServerConfig {
    let mut c = ServerConfig {
        server_id: Some(SERVER_ID),
        lease: LeaseTimes {
            default: Some(600),
            min: Some(60),
            max: Some(3600),
            ..Default::default()
        },
        offer_hold: Duration::from_secs(20),
        decline_probation: Duration::from_secs(3600),
        authoritative: true,
        ..Default::default()
    };
    let mut s = SubnetConfig::new(Ipv4Net::new(Ipv4Addr::new(192, 0, 2, 0), 24));
    s.pools.push(PoolRange::new(
        Ipv4Addr::new(192, 0, 2, 100),
        Ipv4Addr::new(192, 0, 2, pool_end),
    ));
    s.options.routers(&[SERVER_ID]).unwrap();
    s.reservations.push(Reservation {
        key: ReservationKey::HardwareAddress(RESERVED_MAC.to_vec()),
        address: RESERVED,
        host_name: None,
        options: Default::default(),
        classes: Default::default(),
        boot: Default::default(),
    });
    c.subnets.push(s);
    c
}

enum To {
    Server,
    Client(usize),
}

struct Packet {
    at: Instant,
    to: To,
    bytes: Vec<u8>,
}

struct World {
    rng: Rng,
    now: Instant,
    server: Server,
    journal: Vec<LeaseRecord>,
    clients: Vec<Client>,
    macs: Vec<[u8; 6]>,
    net: Vec<Packet>,
    /// Per client, the address its last Bound/Renewed/Rebound event confirmed.
    acked: BTreeMap<usize, Ipv4Addr>,
    /// When the server last took a DECLINE of SQUATTED: no offer of it may follow until
    /// the probation ends.
    declined_at: Option<Instant>,
    loss: u64,
    checks: u64,
    /// Bound, Renewed and Rebound events seen.
    confirmed: u64,
}

impl World {
    fn new(seed: u64, clients: usize, pool_end: u8, loss: u64) -> World {
        let server = Server::new(config(pool_end), Instant::ZERO, UNIX0).unwrap();
        let mut w = World {
            rng: Rng(seed | 1),
            now: Instant::ZERO,
            server,
            journal: Vec::new(),
            clients: Vec::new(),
            macs: Vec::new(),
            net: Vec::new(),
            acked: BTreeMap::new(),
            declined_at: None,
            loss,
            checks: 0,
            confirmed: 0,
        };
        for i in 0..clients {
            let mac = if i == 0 {
                RESERVED_MAC
            } else {
                [2, 0, 0, 0, (i >> 8) as u8, i as u8]
            };
            let mut cfg = ClientConfig::new(mac);
            cfg.retransmit.initial = Duration::from_secs(2);
            cfg.renew_min_interval = Duration::from_secs(10);
            cfg.probe = i > 0;
            cfg.lease_time = Some(300 + 60 * (i as u32 % 5));
            // Some clients ask for addresses others are likely to hold.
            if i % 4 == 2 {
                cfg.requested_address = Some(Ipv4Addr::new(192, 0, 2, 100 + (i % 3) as u8));
            }
            let mut c = Client::new(cfg, seed.wrapping_add(i as u64));
            c.start(Instant::from_millis(i as u64 * 37));
            w.clients.push(c);
            w.macs.push(mac);
        }
        w
    }

    fn send(&mut self, to: To, bytes: Vec<u8>) {
        if self.rng.chance(self.loss) {
            return;
        }
        let copies = if self.rng.chance(5) { 2 } else { 1 };
        for _ in 0..copies {
            let delay = Duration::from_millis(1 + self.rng.next() % 40);
            self.net.push(Packet {
                at: self.now + delay,
                to: match to {
                    To::Server => To::Server,
                    To::Client(i) => To::Client(i),
                },
                bytes: bytes.clone(),
            });
        }
    }

    fn flush(&mut self) {
        let mut buf = [0u8; 1500];
        for i in 0..self.clients.len() {
            while let Some(t) = self.clients[i].poll_transmit(&mut buf) {
                let bytes = buf[..t.len].to_vec();
                self.send(To::Server, bytes);
            }
            while let Some(e) = self.clients[i].poll_event() {
                match e {
                    Event::Bound | Event::Renewed | Event::Rebound => {
                        let a = self.clients[i].lease().unwrap().address();
                        self.acked.insert(i, a);
                        self.confirmed += 1;
                        if i == 0 {
                            assert_eq!(a, RESERVED, "the reserved client gets its reservation");
                        }
                    }
                    Event::ProbeAddress(a) => self.clients[i].probe_result(self.now, a == SQUATTED),
                    Event::Declined(a) => {
                        assert_eq!(a, SQUATTED);
                        self.acked.remove(&i);
                    }
                    Event::Expired | Event::LeaseLost | Event::Nak | Event::Released(_) => {
                        self.acked.remove(&i);
                    }
                    _ => {}
                }
            }
            // A probe answered above may have queued a DECLINE.
            while let Some(t) = self.clients[i].poll_transmit(&mut buf) {
                let bytes = buf[..t.len].to_vec();
                self.send(To::Server, bytes);
            }
        }
        let records: Vec<LeaseRecord> = std::iter::from_fn(|| self.server.poll_persist()).collect();
        if let Some(last) = records.last() {
            let seq = last.seq;
            self.journal.extend(records);
            self.server.persisted(seq);
        }
        while let Some(t) = self.server.poll_transmit(&mut buf) {
            let bytes = buf[..t.len].to_vec();
            let m = Message::parse(&bytes).unwrap();
            if m.message_type().unwrap() == Some(MessageType::Offer) && m.yiaddr() == SQUATTED {
                if let Some(d) = self.declined_at {
                    assert!(
                        self.now >= d + Duration::from_secs(3600),
                        "declined address offered during probation: declined at {d:?}, offered at {:?}",
                        self.now
                    );
                }
            }
            let to = self.macs.iter().position(|mac| m.chaddr() == mac);
            if let Some(i) = to {
                self.send(To::Client(i), bytes);
            }
        }
    }

    fn restart(&mut self) {
        // A crash: replies not yet sent are lost; the journal is what survives.
        self.server = Server::new(
            config(self.pool_end()),
            self.now,
            UNIX0 + self.now.as_micros() / 1_000_000,
        )
        .unwrap();
        for r in &self.journal {
            self.server.restore(r);
        }
        // Every lease a client was ACKed and still holds is in the restored table.
        for (&i, &a) in &self.acked {
            if matches!(
                self.clients[i].state(),
                State::Bound | State::Renewing | State::Rebinding
            ) {
                let key = ClientKey::hardware(1, &self.macs[i]);
                assert_eq!(
                    self.server.bound_to(a),
                    Some(&key),
                    "client {i}'s ACKed lease on {a} lost in a restart"
                );
            }
        }
    }

    fn pool_end(&self) -> u8 {
        // The pool size is fixed per run; read it back from the server's usage.
        let size = self.server.usage().next().unwrap().size;
        (100 + size - 1) as u8
    }

    fn check(&mut self) {
        self.checks += 1;
        let mut held: BTreeMap<Ipv4Addr, usize> = BTreeMap::new();
        for (i, c) in self.clients.iter().enumerate() {
            if matches!(
                c.state(),
                State::Bound | State::Renewing | State::Rebinding | State::Probing
            ) {
                let a = c.lease().unwrap().address();
                if let Some(j) = held.insert(a, i) {
                    panic!("{a} bound to clients {j} and {i} at {:?}", self.now);
                }
            }
        }
        let mut keys = BTreeSet::new();
        for k in self.server.leases().map(|l| l.client) {
            assert!(keys.insert(k.clone()), "client {k} holds two leases");
        }
        // The counts the machine keeps as leases come and go agree with its leases.
        let leases: Vec<Ipv4Addr> = self.server.leases().map(|l| l.address).collect();
        let bound: u64 = self.server.usage().map(|u| u.bound).sum();
        assert_eq!(
            bound,
            leases.len() as u64,
            "bound leases counted at {:?}",
            self.now
        );
        assert_eq!(self.server.lease_count(), leases.len());
        for u in self.server.pool_usage() {
            let inside = leases
                .iter()
                .filter(|&&a| (u.range.start..=u.range.end).contains(&a));
            assert_eq!(
                u.bound,
                inside.count() as u64,
                "leases counted in {:?}",
                u.range
            );
        }
    }

    fn step(&mut self) -> bool {
        let next_packet = self.net.iter().map(|p| p.at).min();
        let next_timer = self
            .clients
            .iter()
            .filter_map(Client::poll_timeout)
            .chain(self.server.poll_timeout())
            .chain(next_packet)
            .min();
        let Some(t) = next_timer else { return false };
        self.now = self.now.max(t);
        let now = self.now;
        let (due, rest): (Vec<Packet>, Vec<Packet>) = std::mem::take(&mut self.net)
            .into_iter()
            .partition(|p| p.at <= now);
        self.net = rest;
        self.server.handle_timeout(now);
        for c in &mut self.clients {
            c.handle_timeout(now);
        }
        let meta = RecvMeta {
            interface: 1,
            local_address: SERVER_ID,
            source: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        };
        for p in due {
            match p.to {
                To::Server => {
                    // The probation runs from when the server gets the DECLINE (it may be lost).
                    let m = Message::parse(&p.bytes).unwrap();
                    let not_held = self.server.stats().dropped(DropReason::NotHeld);
                    self.server.handle_packet(now, &meta, &p.bytes);
                    let accepted = self.server.stats().dropped(DropReason::NotHeld) == not_held;
                    if m.message_type().unwrap() == Some(MessageType::Decline) && accepted {
                        self.declined_at = Some(now);
                    }
                }
                To::Client(i) => self.clients[i].handle_packet(now, &p.bytes),
            }
            self.flush();
        }
        self.flush();
        self.check();
        true
    }
}

fn run(
    seed: u64,
    clients: usize,
    pool_end: u8,
    loss: u64,
    hours: u64,
    restart_every: u64,
) -> World {
    let mut w = World::new(seed, clients, pool_end, loss);
    let end = Instant::from_secs(hours * 3600);
    let mut next_restart = Instant::from_secs(restart_every);
    while w.now < end && w.step() {
        if w.now >= next_restart {
            w.restart();
            next_restart = w.now + Duration::from_secs(restart_every);
        }
    }
    w
}

#[test]
fn a_day_of_leases_with_loss_and_restarts() {
    for seed in 1..=3 {
        let w = run(seed, 20, 130, 10, 24, 3 * 3600);
        // Most clients hold a lease at the end, the reserved one its reservation.
        let bound = w
            .clients
            .iter()
            .filter(|c| c.state() == State::Bound || c.state() == State::Renewing)
            .count();
        assert!(bound >= 15, "seed {seed}: only {bound} of 20 clients bound");
        assert!(w.checks > 1000);
        assert!(
            w.confirmed > 200,
            "seed {seed}: {} leases granted or extended",
            w.confirmed
        );
        assert!(
            w.declined_at.is_some(),
            "seed {seed}: the squatted address was never probed"
        );
        eprintln!(
            "seed {seed}: {} checks, {} leases granted or extended, {bound} of 20 bound at the end",
            w.checks, w.confirmed
        );
    }
}

#[test]
fn pool_exhaustion_leaves_some_clients_without_and_nothing_breaks() {
    let w = run(7, 16, 109, 5, 6, 2 * 3600);
    let bound = w.clients.iter().filter(|c| c.lease().is_some()).count();
    // 10 pool addresses, one of them squatted (declined), and the reservation.
    assert!(
        bound <= 11,
        "{bound} clients bound with 10 pool addresses and 1 reservation"
    );
    let without = w.clients.iter().filter(|c| c.lease().is_none()).count();
    assert!(without >= 5, "{without} clients without a lease");
}

#[test]
fn days_without_loss_keep_everyone_bound() {
    let w = run(11, 12, 150, 0, 72, 12 * 3600);
    let bound = w
        .clients
        .iter()
        .filter(|c| matches!(c.state(), State::Bound | State::Renewing))
        .count();
    assert_eq!(bound, 12);
}
