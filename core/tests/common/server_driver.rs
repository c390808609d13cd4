//! Drives a server machine from arbitrary bytes (the server fuzz target's input): each
//! byte picks an input (a raw packet, a request built from the next bytes, a time step, a
//! persistence answer, a restart from the records). Invariants are checked after every
//! step; a broken one panics, bad input never does.

use core::net::{Ipv4Addr, SocketAddrV4};
use core::time::Duration;
use std::collections::BTreeSet;
use std::vec::Vec;

// Each fuzz target loads its driver alone, so each driver loads the input itself.
#[allow(clippy::duplicate_mod)]
#[path = "input.rs"]
mod input;
use input::Input;

use dhcp_core::server::{
    ClassConfig, ClassId, ClassSet, ClientKey, Ipv4Net, LeaseRecord, Match, PoolClasses, PoolRange,
    RecordKind, RecvMeta, Reservation, ReservationKey, Server, ServerConfig, SubnetConfig,
};
use dhcp_core::time::Instant;
use dhcp_core::wire::{Flags, Message, MessageBuilder, MessageType, Op, OptionCode};

fn config() -> ServerConfig {
    let mut c = ServerConfig {
        server_id: Some(Ipv4Addr::new(192, 0, 2, 1)),
        offer_hold: Duration::from_secs(10),
        decline_probation: Duration::from_secs(100),
        ..Default::default()
    };
    c.lease.default = Some(120);
    let mut a = SubnetConfig::new(Ipv4Net::new(Ipv4Addr::new(192, 0, 2, 0), 24));
    a.pools.push(PoolRange::new(
        Ipv4Addr::new(192, 0, 2, 10),
        Ipv4Addr::new(192, 0, 2, 17),
    ));
    a.reservations.push(Reservation {
        key: ReservationKey::HardwareAddress(vec![2, 0, 0, 0, 0, 1]),
        address: Ipv4Addr::new(192, 0, 2, 5),
        host_name: Some("r".into()),
        options: Default::default(),
        classes: Default::default(),
        boot: Default::default(),
    });
    a.options.routers(&[Ipv4Addr::new(192, 0, 2, 1)]).unwrap();
    let mut b = SubnetConfig::new(Ipv4Net::new(Ipv4Addr::new(198, 51, 100, 0), 24));
    b.pools.push(PoolRange::new(
        Ipv4Addr::new(198, 51, 100, 10),
        Ipv4Addr::new(198, 51, 100, 13),
    ));
    b.authoritative = Some(true);
    b.rapid_commit = Some(true);
    // Classes, so that arbitrary requests go through classification too: a class with a
    // boot file and an echoed vendor class, one only reservations fill, and a pool only
    // known clients may use.
    let mut pxe = ClassConfig::new(
        "pxe",
        Some(Match::Any(vec![
            Match::Architecture(0),
            Match::UserClass(b"iPXE".to_vec()),
            Match::All(vec![
                Match::Enterprise(3561),
                Match::Not(Box::new(Match::SubscriberId(b"x".to_vec()))),
            ]),
        ])),
    );
    pxe.boot.boot_file = Some("undionly.kpxe".into());
    pxe.boot.next_server = Some(Ipv4Addr::new(192, 0, 2, 2));
    pxe.options.raw(60, b"PXEClient").unwrap();
    pxe.lease.default = Some(90);
    let mut lab = ClassConfig::new("lab", None);
    lab.options.domain_name("lab.test").unwrap();
    c.classes = vec![pxe, lab];
    a.reservations[0].classes = ClassSet::of([ClassId(1)]);
    b.pools.push(PoolRange {
        classes: PoolClasses {
            allow: ClassSet::of([ClassId::KNOWN]),
            deny: ClassSet::EMPTY,
        },
        ..PoolRange::new(
            Ipv4Addr::new(198, 51, 100, 20),
            Ipv4Addr::new(198, 51, 100, 21),
        )
    });
    c.subnets = vec![a, b];
    c
}

/// A request whose fields come from the input.
fn request(input: &mut Input<'_>, out: &mut [u8]) -> Option<usize> {
    let kind = [
        MessageType::Discover,
        MessageType::Request,
        MessageType::Decline,
        MessageType::Release,
        MessageType::Inform,
    ][usize::from(input.byte() % 5)];
    let who = input.byte() % 6;
    let pick = |b: u8| match b % 4 {
        0 => Ipv4Addr::UNSPECIFIED,
        1 => Ipv4Addr::new(192, 0, 2, 5 + b / 16),
        2 => Ipv4Addr::new(198, 51, 100, 10 + b / 64),
        _ => Ipv4Addr::new(10, 0, 0, b),
    };
    let flags = input.byte();
    let mut b = MessageBuilder::new(out).ok()?;
    b.op(Op::BootRequest)
        .xid(u32::from(who))
        .ciaddr(pick(input.byte()));
    if flags & 1 != 0 {
        b.flags(Flags::BROADCAST);
    }
    if flags & 2 != 0 {
        b.giaddr(Ipv4Addr::new(198, 51, 100, 1));
    }
    b.chaddr(&[2, 0, 0, 0, 0, who]).ok()?;
    b.message_type(kind).ok()?;
    if flags & 4 != 0 {
        b.requested_ip(pick(input.byte())).ok()?;
    }
    if flags & 8 != 0 {
        b.server_id(if flags & 16 != 0 {
            Ipv4Addr::new(192, 0, 2, 1)
        } else {
            pick(input.byte())
        })
        .ok()?;
    }
    if flags & 32 != 0 {
        b.option(OptionCode::CLIENT_ID, &[0, who]).ok()?;
    }
    if flags & 64 != 0 {
        b.rapid_commit().ok()?;
    }
    if flags & 128 != 0 {
        let n = usize::from(input.byte() % 16);
        let extra = input.bytes(n);
        let _ = b.option(OptionCode::RELAY_AGENT_INFO, extra);
        let _ = b.option(OptionCode::PARAMETER_REQUEST_LIST, extra);
    }
    b.finish().ok()
}

/// Runs the server on `data`.
pub fn drive(data: &[u8]) {
    let mut input = Input(data);
    let mut now = Instant::from_secs(1);
    let mut server = Server::new(config(), now, 1_000_000).expect("valid config");
    let mut journal: Vec<LeaseRecord> = Vec::new();
    let mut pending: Vec<u64> = Vec::new();
    let meta = RecvMeta {
        interface: 1,
        local_address: Ipv4Addr::new(192, 0, 2, 1),
        source: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
    };
    let mut buf = [0u8; 1500];
    while !input.0.is_empty() {
        let op = input.byte();
        match op % 8 {
            0..=2 => {
                if let Some(n) = request(&mut input, &mut buf) {
                    server.handle_packet(now, &meta, &buf[..n]);
                }
            }
            3 => {
                let n = usize::from(input.byte()) * 2;
                server.handle_packet(now, &meta, input.bytes(n));
            }
            4 => {
                now = now + Duration::from_millis(u64::from(input.byte()) * 500);
                server.handle_timeout(now);
                if let Some(t) = server.poll_timeout() {
                    assert!(t > now, "a timer at or before now after handle_timeout");
                }
            }
            5 => {
                if let Some(seq) = pending.pop() {
                    if op & 0x80 != 0 {
                        server.persist_failed(seq);
                        journal.retain(|r| r.seq != seq);
                    } else if op & 0x40 != 0 {
                        server.persist_unavailable(seq);
                        journal.retain(|r| r.seq != seq);
                    } else {
                        // Everything up to `seq` is durable now.
                        server.persisted(seq);
                        pending.retain(|&s| s > seq);
                    }
                }
            }
            6 => {
                if let Some(&seq) = pending.last() {
                    server.persisted(seq);
                    pending.clear();
                }
            }
            _ => {
                // A restart: only durable records survive.
                let durable: Vec<LeaseRecord> = journal
                    .iter()
                    .filter(|r| !pending.contains(&r.seq))
                    .cloned()
                    .collect();
                server = Server::new(config(), now, 1_000_000 + now.as_micros() / 1_000_000)
                    .expect("valid config");
                for r in &durable {
                    server.restore(r);
                }
                journal = durable;
                pending.clear();
            }
        }
        while let Some(r) = server.poll_persist() {
            pending.push(r.seq);
            journal.push(r);
        }
        while let Some(t) = server.poll_transmit(&mut buf) {
            let m = Message::parse(&buf[..t.len]).expect("the server sends well-formed messages");
            assert_eq!(m.op(), Op::BootReply);
            assert!(t.len <= 1500);
            check_ack_is_durable(&m, &journal, &pending);
        }
        let mut clients = BTreeSet::new();
        for (a, client) in server.leases().map(|l| (l.address, l.client)) {
            assert!(clients.insert(client.clone()), "{client} holds two leases");
            let inside = [
                Ipv4Net::new(Ipv4Addr::new(192, 0, 2, 0), 24),
                Ipv4Net::new(Ipv4Addr::new(198, 51, 100, 0), 24),
            ]
            .iter()
            .any(|n| n.contains(a));
            assert!(inside, "lease {a} outside every subnet");
        }
    }
}

/// An ACK that grants a lease goes out only once a record of that lease, for that client,
/// is durable (the last durable record of the address). (How long it runs is checked by
/// the table tests: here an ACK may leave well after it was written.)
fn check_ack_is_durable(m: &Message<'_>, journal: &[LeaseRecord], pending: &[u64]) {
    if m.message_type() != Ok(Some(MessageType::Ack)) || !matches!(m.lease_time(), Ok(Some(_))) {
        return;
    }
    let a = m.yiaddr();
    let key = match m.client_id() {
        Ok(Some(id)) => ClientKey::new(&id.data().bytes().collect::<Vec<u8>>()),
        _ => ClientKey::hardware(m.htype(), m.chaddr()),
    };
    let record = journal
        .iter()
        .rev()
        .find(|r| r.address == a && !pending.contains(&r.seq))
        .unwrap_or_else(|| panic!("ACK of {a} with no durable record"));
    assert_eq!(record.kind, RecordKind::Bound, "ACK of {a}: {record:?}");
    assert_eq!(
        record.client, key,
        "ACK of {a} to another client than its record's"
    );
}
