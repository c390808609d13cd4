//! Drives a DHCPv6 server machine from arbitrary bytes (the `server6` fuzz target's
//! input): each byte picks an input (a raw datagram, a client message built from the next
//! bytes, relayed or not, a time step, a persistence answer, a restart from the records).
//! Invariants are checked after every step; a broken one panics, bad input never does.

use core::net::{Ipv6Addr, SocketAddrV6};
use core::time::Duration;
use std::collections::BTreeSet;
use std::vec::Vec;

// Each fuzz target loads its driver alone, so each driver loads the input itself.
#[allow(clippy::duplicate_mod)]
#[path = "input.rs"]
mod input;
use input::Input;

use dhcp_core::time::Instant;
use dhcp_core::v6::server::{
    Class6Config, IaKind, Ipv6Net, Lease6Record, Lifetimes, Match6, Options6, PdPool, Pool6,
    RecvMeta6, Reservation6, Reservation6Key, Server6, Server6Config, Subnet6Config,
};
use dhcp_core::v6::wire::{MessageBuilder, MessageType, Packet};

const SERVER_DUID: &[u8] = &[0, 3, 0, 1, 2, 0, 0, 0, 0, 1];

fn ip(s: &str) -> Ipv6Addr {
    s.parse().expect("address")
}

fn config() -> Server6Config {
    let mut c = Server6Config::new(SERVER_DUID.to_vec());
    c.lifetimes = Lifetimes {
        preferred: 60,
        valid: 120,
        t1: None,
        t2: None,
    };
    c.decline_probation = 100;
    let mut a = Subnet6Config::new(Ipv6Net::new(ip("2001:db8:1::"), 64));
    a.interface = Some(1);
    a.pools
        .push(Pool6::new(ip("2001:db8:1::10"), ip("2001:db8:1::17")));
    a.pd_pools.push(PdPool {
        prefix: Ipv6Net::new(ip("2001:db8:100::"), 60),
        delegated_len: 62,
    });
    a.reservations.push(Reservation6 {
        key: Reservation6Key::Duid(duid(3)),
        addresses: vec![ip("2001:db8:1::3")],
        prefixes: vec![],
        options: Options6::default(),
    });
    let mut b = Subnet6Config::new(Ipv6Net::new(ip("2001:db8:2::"), 64));
    b.pools
        .push(Pool6::new(ip("2001:db8:2::10"), ip("2001:db8:2::12")));
    b.interface_id = Some(b"b".to_vec());
    c.subnets = vec![a, b];
    let mut opts = Options6::default();
    opts.set_dns_servers(&[ip("2001:db8::99")]).expect("dns");
    c.classes = vec![
        Class6Config {
            name: "odd".into(),
            matches: Match6::Any(vec![
                Match6::DuidPrefix(vec![0, 3, 0, 1, 2, 0, 0, 0, 0, 1]),
                Match6::InterfaceId(b"b".to_vec()),
            ]),
            options: opts,
        },
        Class6Config {
            name: "not-odd".into(),
            matches: Match6::Not(Box::new(Match6::Class(0))),
            options: Options6::default(),
        },
    ];
    c
}

fn duid(n: u8) -> Vec<u8> {
    vec![0, 3, 0, 1, 2, 0, 0, 0, 0, n]
}

const TYPES: [MessageType; 8] = [
    MessageType::Solicit,
    MessageType::Request,
    MessageType::Renew,
    MessageType::Rebind,
    MessageType::Release,
    MessageType::Decline,
    MessageType::Confirm,
    MessageType::InformationRequest,
];

/// A client message from the next bytes: its type, client, server id or not, IAs.
fn built(input: &mut Input<'_>) -> Vec<u8> {
    let kind = TYPES[usize::from(input.byte()) % TYPES.len()];
    let flags = input.byte();
    let client = input.byte() % 6;
    let mut buf = vec![0u8; 1500];
    let Ok(mut b) = MessageBuilder::new(&mut buf, kind, u32::from(input.byte())) else {
        return Vec::new();
    };
    let _ = b.client_id(&duid(client));
    if flags & 1 != 0 {
        let _ = b.server_id(SERVER_DUID);
    }
    if flags & 2 != 0 {
        let _ = b.rapid_commit();
    }
    let ias = input.byte() % 4;
    for i in 0..ias {
        let hint = input.byte();
        let addr =
            Ipv6Addr::from(0x2001_0db8_0001_0000_0000_0000_0000_0010u128 + u128::from(hint % 12));
        if i % 2 == 0 || flags & 4 == 0 {
            let _ = b.ia_na(u32::from(i), 0, 0, |b| {
                if hint & 0x80 != 0 {
                    b.ia_address(addr, 0, 0, |_| Ok(()))?;
                }
                Ok(())
            });
        } else {
            let prefix = Ipv6Addr::from(
                0x2001_0db8_0100_0000_0000_0000_0000_0000u128 + (u128::from(hint % 5) << 66),
            );
            let _ = b.ia_pd(u32::from(i), 0, 0, |b| {
                if hint & 0x80 != 0 {
                    b.ia_prefix(0, 0, 62, prefix, |_| Ok(()))?;
                }
                Ok(())
            });
        }
    }
    let n = b.finish();
    buf.truncate(n);
    if flags & 8 != 0 {
        let mut out = vec![0u8; buf.len() + 100];
        let link = if flags & 16 != 0 {
            ip("2001:db8:2::1")
        } else {
            Ipv6Addr::UNSPECIFIED
        };
        let Ok(mut r) =
            MessageBuilder::relay(&mut out, MessageType::RelayForw, 0, link, ip("fe80::9"))
        else {
            return buf;
        };
        let _ = r.interface_id(b"b");
        let _ = r.relay_message(&buf);
        let n = r.finish();
        out.truncate(n);
        return out;
    }
    buf
}

/// The bound leases as a set: (kind, address, client key bytes, expiry).
fn lease_set(s: &Server6) -> BTreeSet<(u8, Ipv6Addr, Vec<u8>, u64)> {
    s.leases()
        .map(|l| {
            (
                u8::from(l.ia == IaKind::Prefix),
                l.address,
                l.client.as_bytes().to_vec(),
                l.expires,
            )
        })
        .collect()
}

fn check(s: &Server6, cfg: &Server6Config) {
    for l in s.leases() {
        let inside = cfg.subnets.iter().any(|sub| match l.ia {
            IaKind::Address => sub.prefix.contains(l.address),
            IaKind::Prefix => {
                sub.pd_pools.iter().any(|p| p.prefix.contains(l.address))
                    || sub
                        .reservations
                        .iter()
                        .any(|r| r.prefixes.iter().any(|p| p.address == l.address))
            }
        });
        assert!(inside, "lease {} outside every subnet", l.address);
    }
    for u in s.pool_usage() {
        assert!(u.used <= u.size);
    }
}

/// Runs the input; returns the most leases bound at once (so tests can see it did
/// something).
pub fn drive(data: &[u8]) -> usize {
    let mut input = Input(data);
    let cfg = config();
    let unix = 1_800_000_000;
    let mut now = Instant::from_secs(10);
    let mut server = Server6::new(cfg.clone(), now, unix).expect("config");
    let mut durable: Vec<Lease6Record> = Vec::new();
    let mut queued: Vec<Lease6Record> = Vec::new();
    let mut buf = [0u8; 4096];
    // A failed write leaves the machine knowingly apart from the records (the binding is
    // out of use); a restart after one is not compared.
    let mut failed = false;
    let mut most = 0;
    for _ in 0..64 {
        if input.0.is_empty() {
            break;
        }
        let meta = |multicast: bool| RecvMeta6 {
            interface: 1,
            source: SocketAddrV6::new(ip("fe80::1"), 546, 0, 1),
            multicast,
        };
        match input.byte() % 6 {
            0 => {
                let n = usize::from(input.byte());
                let raw = input.bytes(n);
                server.handle_packet(now, &meta(true), raw);
            }
            1 | 2 => {
                let m = built(&mut input);
                let multicast = input.byte() % 8 != 0;
                server.handle_packet(now, &meta(multicast), &m);
            }
            3 => {
                now = now + Duration::from_secs(u64::from(input.byte()));
                server.handle_timeout(now);
            }
            4 => {
                // Persistence: all written, or the last one failed.
                while let Some(r) = server.poll_persist() {
                    queued.push(r);
                }
                if input.byte() % 4 == 0 {
                    if let Some(last) = queued.pop() {
                        server.persist_failed(last.seq);
                        failed = true;
                    }
                }
                if let Some(high) = queued.last().map(|r| r.seq) {
                    durable.append(&mut queued);
                    server.persisted(high);
                }
            }
            _ => {
                // Restart once everything is durable: the same leases come back.
                while let Some(r) = server.poll_persist() {
                    durable.push(r);
                }
                if let Some(high) = durable.last().map(|r| r.seq) {
                    server.persisted(high);
                }
                server.handle_timeout(now);
                let before = lease_set(&server);
                let elapsed = now
                    .saturating_duration_since(Instant::from_secs(10))
                    .as_secs();
                let mut again = Server6::new(cfg.clone(), now, unix + elapsed).expect("config");
                for r in &durable {
                    again.restore(r);
                }
                if !failed {
                    assert_eq!(
                        lease_set(&again),
                        before,
                        "the restart lost or invented leases; the records: {durable:#?}"
                    );
                }
                failed = false;
                server = again;
            }
        }
        while let Some(t) = server.poll_transmit(&mut buf) {
            assert!(
                Packet::parse(&buf[..t.len]).is_ok(),
                "a reply that does not parse"
            );
        }
        check(&server, &cfg);
        most = most.max(server.lease_count());
    }
    most
}
