//! The DHCPv6 server machine, no I/O: a whole SARR (SOLICIT, ADVERTISE, REQUEST, record
//! persisted, REPLY) of a new client asking for one address, with 1 000 and 1 000 000
//! bindings already held.
//!
//! Run: `cargo bench -p dhcp-benches --bench server6`; for callgrind,
//! `DHCP_BENCH_COUNT=sarr:N` (or `sarr_1m:N`) runs N SARRs without criterion.

use std::hint::black_box;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::Duration;

use criterion::Criterion;
use dhcp_core::time::Instant;
use dhcp_core::v6::server::{
    IaKind, Ipv6Net, Lease6Record, Pool6, Record6Kind, RecvMeta6, Server6, Server6Config,
    Subnet6Config,
};
use dhcp_core::v6::wire::{MessageBuilder, MessageType};

const UNIX0: u64 = 1_800_000_000;
const SERVER_DUID: [u8; 10] = [0, 3, 0, 1, 2, 0, 0, 0, 0, 1];
const FIRST: u128 = 0x2001_0db8_0000_0000_0000_0000_0000_0010;

fn config() -> Server6Config {
    let mut c = Server6Config::new(SERVER_DUID.to_vec());
    c.options
        .set_dns_servers(&["2001:db8::53".parse().unwrap()])
        .unwrap();
    let mut s = Subnet6Config::new(Ipv6Net::new("2001:db8::".parse().unwrap(), 64));
    s.interface = Some(1);
    s.pools.push(Pool6::new(
        Ipv6Addr::from(FIRST),
        "2001:db8::ffff:ffff:ffff".parse().unwrap(),
    ));
    c.subnets.push(s);
    c
}

/// A client's DUID-LL from its number.
fn duid(client: u32) -> [u8; 10] {
    let b = client.to_be_bytes();
    [0, 3, 0, 1, 2, 0, b[0], b[1], b[2], b[3]]
}

/// A server holding `n` bindings.
fn server_with(n: u32) -> Server6 {
    let mut s = Server6::new(config(), Instant::from_secs(1), UNIX0).unwrap();
    for i in 0..n {
        s.restore(&Lease6Record {
            seq: u64::from(i) + 1,
            ia: IaKind::Address,
            address: Ipv6Addr::from(FIRST + u128::from(i)),
            prefix_len: 128,
            duid: duid(i).to_vec(),
            iaid: 1,
            kind: Record6Kind::Bound,
            expires: UNIX0 + 86_400,
        });
    }
    s
}

/// A SOLICIT and a REQUEST (with the server id and ORO 23), built once; each SARR patches
/// the client's DUID and the address the REQUEST asks for.
struct Requests {
    solicit: Vec<u8>,
    request: Vec<u8>,
}

/// Where the client id's last four bytes are (after the 4-byte header, the option header
/// and six DUID bytes), and where the REQUEST's IA_ADDR address is.
const DUID_AT: usize = 4 + 4 + 6;

impl Requests {
    fn new() -> Self {
        let build = |kind: MessageType, server_id: bool| {
            let mut buf = vec![0u8; 512];
            let mut b = MessageBuilder::new(&mut buf, kind, 0x00ab_cdef).unwrap();
            b.client_id(&duid(0)).unwrap();
            if server_id {
                b.server_id(&SERVER_DUID).unwrap();
            }
            b.elapsed_time(0).unwrap();
            b.option_request(&[dhcp_core::v6::wire::OptionCode::DNS_SERVERS])
                .unwrap();
            b.ia_na(1, 0, 0, |b| {
                if server_id {
                    b.ia_address(Ipv6Addr::UNSPECIFIED, 0, 0, |_| Ok(()))?;
                }
                Ok(())
            })
            .unwrap();
            let n = b.finish();
            buf.truncate(n);
            buf
        };
        Requests {
            solicit: build(MessageType::Solicit, false),
            request: build(MessageType::Request, true),
        }
    }
}

const META: RecvMeta6 = RecvMeta6 {
    interface: 1,
    source: SocketAddrV6::new(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1), 546, 0, 1),
    multicast: true,
};

/// One whole SARR of a new client (never inlined, so callgrind counts it apart).
#[inline(never)]
fn sarr(s: &mut Server6, client: u32, r: &mut Requests, out: &mut [u8]) -> Ipv6Addr {
    let now = Instant::from_secs(2);
    let id = client.to_be_bytes();
    r.solicit[DUID_AT..DUID_AT + 4].copy_from_slice(&id);
    s.handle_packet(now, &META, &r.solicit);
    let t = s.poll_transmit(out).expect("an advertise");
    // The IA_ADDR's address is the last 24 bytes of the ADVERTISE's IA_NA, before the
    // DNS option; found by the codec rather than by offset.
    let adv = dhcp_core::v6::wire::Message::parse(&out[..t.len]).unwrap();
    let ia = adv.ia_nas().next().unwrap().unwrap();
    let offered = ia.addresses().next().unwrap().unwrap().address;
    r.request[DUID_AT..DUID_AT + 4].copy_from_slice(&id);
    let at = r.request.len() - 24;
    r.request[at..at + 16].copy_from_slice(&offered.octets());
    s.handle_packet(now, &META, &r.request);
    let seq = s.poll_persist().expect("a record").seq;
    s.persisted(seq);
    s.poll_transmit(out).expect("a reply");
    offered
}

/// Bindings the timed SARRs added are deleted untimed after each chunk of this many.
const CHUNK: u64 = 1024;

fn timed_sarrs(s: &mut Server6, next: &mut u32, iters: u64, r: &mut Requests) -> Duration {
    let (mut out, mut added) = ([0u8; 1500], Vec::with_capacity(CHUNK as usize));
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK);
        let start = std::time::Instant::now();
        for _ in 0..n {
            *next += 1;
            added.push(black_box(sarr(s, *next, r, &mut out)));
        }
        total += start.elapsed();
        for a in added.drain(..) {
            s.delete_lease(a);
        }
        while s.poll_persist().is_some() {}
        left -= n;
    }
    total
}

fn count_mode() -> bool {
    let Ok(spec) = std::env::var("DHCP_BENCH_COUNT") else {
        return false;
    };
    let (held, n) = match spec.split_once(':') {
        Some(("sarr", n)) => (1_000, n),
        Some(("sarr_1m", n)) => (1_000_000, n),
        _ => panic!("DHCP_BENCH_COUNT=sarr:N or sarr_1m:N"),
    };
    let n: u32 = n.parse().expect("N, a number");
    let mut s = server_with(held);
    let mut r = Requests::new();
    let mut next = held;
    black_box(timed_sarrs(&mut s, &mut next, n.into(), &mut r));
    println!("sarr x {n} with {held} bindings");
    true
}

fn main() {
    if count_mode() {
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    let mut requests = Requests::new();
    for held in [1_000u32, 1_000_000] {
        let mut s = server_with(held);
        let mut next = held;
        c.bench_function(&format!("server6_sarr_{held}_bindings"), |b| {
            b.iter_custom(|iters| timed_sarrs(&mut s, &mut next, iters, &mut requests))
        });
    }
    c.final_summary();
}
