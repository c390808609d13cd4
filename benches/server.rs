//! The server machine, no I/O: a whole DORA (DISCOVER, OFFER, REQUEST, record persisted,
//! ACK) with 1 000 and 1 000 000 leases already held, the same with ten client classes
//! configured, a DISCOVER in a /8 pool, the restore of 1 000 000 records, and the memory a
//! lease takes (counted by a wrapping allocator).
//!
//! Run: `cargo bench -p dhcp-benches --bench server`
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use criterion::{BatchSize, Criterion};
use dhcp_core::server::{
    ClassConfig, ClassId, ClientKey, Ipv4Net, LeaseRecord, Match, PoolRange, RecordKind, RecvMeta,
    Server, ServerConfig, SubnetConfig,
};
use dhcp_core::time::Instant;
use dhcp_core::wire::{MessageBuilder, MessageType, Op};

/// Bytes currently allocated.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: forwards to the system allocator unchanged, adding only a counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SERVER_ID: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const UNIX0: u64 = 1_800_000_000;

fn config() -> ServerConfig {
    config_with(
        8,
        PoolRange::new(
            Ipv4Addr::new(10, 0, 0, 10),
            Ipv4Addr::new(10, 255, 255, 250),
        ),
    )
}

/// One subnet 10.0.0.0/`prefix` with one pool.
fn config_with(prefix: u8, pool: PoolRange) -> ServerConfig {
    let mut c = ServerConfig {
        server_id: Some(SERVER_ID),
        ..Default::default()
    };
    let mut s = SubnetConfig::new(Ipv4Net::new(Ipv4Addr::new(10, 0, 0, 0), prefix));
    s.pools.push(pool);
    s.options
        .routers(&[SERVER_ID])
        .unwrap()
        .dns_servers(&[SERVER_ID])
        .unwrap()
        .domain_name("example.test")
        .unwrap();
    c.subnets.push(s);
    c
}

/// [`config`] with ten classes of the kinds networks use (network boot, phones, relays,
/// vendors), tested in order for every request; the benchmark's clients (MACs 02:10:...)
/// fall in the last one, which sets their domain name.
fn config_with_classes() -> ServerConfig {
    let mut c = config();
    let class = |name: &str, m: Match| ClassConfig::new(name, Some(m));
    c.classes = vec![
        class("ipxe", Match::UserClass(b"iPXE".to_vec())),
        class(
            "bios",
            Match::All(vec![
                Match::Architecture(0),
                Match::Not(Box::new(Match::Class(ClassId(0)))),
            ]),
        ),
        class(
            "uefi",
            Match::Any(vec![Match::Architecture(7), Match::Architecture(9)]),
        ),
        class(
            "http-boot",
            Match::VendorClassPrefix(b"HTTPClient".to_vec()),
        ),
        class("phones", Match::MacPrefix(vec![0x00, 0x04, 0xf2])),
        class("msft", Match::VendorClass(b"MSFT 5.0".to_vec())),
        class("broadband", Match::Enterprise(3561)),
        class("lab", Match::CircuitId(b"lab-1".to_vec())),
        class(
            "relayed",
            Match::Relay(Ipv4Net::new(Ipv4Addr::new(198, 51, 100, 0), 24)),
        ),
        class("vms", Match::MacPrefix(vec![0x02, 0x10])),
    ];
    for (i, boot) in ["ipxe.efi", "undionly.kpxe", "snp.efi"].iter().enumerate() {
        c.classes[i].boot.boot_file = Some(boot.to_string());
    }
    c.classes[9]
        .options
        .domain_name("vms.example.test")
        .unwrap();
    c
}

fn mac(i: u32) -> [u8; 6] {
    let b = i.to_be_bytes();
    [0x02, 0x10, b[0], b[1], b[2], b[3]]
}

/// Records of `n` leases, as a journal would hold them.
fn records(n: u32) -> Vec<LeaseRecord> {
    (0..n)
        .map(|i| LeaseRecord {
            seq: u64::from(i) + 1,
            address: Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 0, 10)) + i),
            client: ClientKey::hardware(1, &mac(i)),
            kind: RecordKind::Bound,
            expires: UNIX0 + 86_400,
            host_name: None,
        })
        .collect()
}

fn server_with(n: u32) -> Server {
    server_of(config(), n)
}

/// A server for `config` holding `n` leases.
fn server_of(config: ServerConfig, n: u32) -> Server {
    let mut s = Server::new(config, Instant::from_secs(1), UNIX0).unwrap();
    s.reserve(n as usize);
    for r in records(n) {
        s.restore(&r);
    }
    s
}

fn request(kind: MessageType, client: u32, yiaddr: Option<Ipv4Addr>, buf: &mut [u8]) -> usize {
    let mut b = MessageBuilder::new(buf).unwrap();
    b.op(Op::BootRequest).xid(client);
    b.chaddr(&mac(client)).unwrap();
    b.message_type(kind)
        .unwrap()
        .parameter_request_list(&[1, 3, 6, 15, 51, 58, 59])
        .unwrap();
    if let Some(a) = yiaddr {
        b.requested_ip(a).unwrap().server_id(SERVER_ID).unwrap();
    }
    b.finish().unwrap()
}

/// A client's DISCOVER and REQUEST, built once and patched per client (xid, chaddr,
/// requested address), so that the loop times the server machine, not the client's side.
struct Requests {
    discover: Vec<u8>,
    request: Vec<u8>,
    /// Where the REQUEST's requested address (50) value starts.
    requested_at: usize,
}

impl Requests {
    fn new() -> Self {
        let mut buf = [0u8; 1500];
        let n = request(MessageType::Discover, 0, None, &mut buf);
        let discover = buf[..n].to_vec();
        let n = request(
            MessageType::Request,
            0,
            Some(Ipv4Addr::UNSPECIFIED),
            &mut buf,
        );
        let request = buf[..n].to_vec();
        let mut at = 240;
        while request[at] != 50 {
            at += 2 + usize::from(request[at + 1]);
        }
        Requests {
            discover,
            request,
            requested_at: at + 2,
        }
    }

    fn patch(packet: &mut [u8], client: u32) {
        packet[4..8].copy_from_slice(&client.to_be_bytes());
        packet[28..34].copy_from_slice(&mac(client));
    }
}

const META: RecvMeta = RecvMeta {
    interface: 1,
    local_address: SERVER_ID,
    source: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
};

/// One whole DORA of a new client through the machine (never inlined, so that callgrind
/// counts it apart from the deletes).
#[inline(never)]
fn dora(s: &mut Server, client: u32, r: &mut Requests, out: &mut [u8]) -> Ipv4Addr {
    let now = Instant::from_secs(2);
    Requests::patch(&mut r.discover, client);
    s.handle_packet(now, &META, &r.discover);
    let t = s.poll_transmit(out).expect("an offer");
    let offered: [u8; 4] = out[16..20].try_into().unwrap();
    assert!(t.len > 240);
    Requests::patch(&mut r.request, client);
    r.request[r.requested_at..r.requested_at + 4].copy_from_slice(&offered);
    s.handle_packet(now, &META, &r.request);
    let seq = s.poll_persist().expect("a record").seq;
    s.persisted(seq);
    s.poll_transmit(out).expect("an ack");
    Ipv4Addr::from(offered)
}

/// Leases the timed DORAs added, deleted untimed after each chunk of this many, so that
/// the table keeps its size (within a chunk) however many iterations criterion runs.
const CHUNK: u64 = 1024;

/// Deletes the leases of `added`, so the table is back at its size before them.
fn delete_all(s: &mut Server, added: &mut Vec<Ipv4Addr>) {
    for a in added.drain(..) {
        s.delete_lease(a);
    }
    while s.poll_persist().is_some() {}
}

/// `iters` DORAs of new clients (numbered from `*next`), timed in chunks of [`CHUNK`]; the
/// leases of each chunk are deleted after it, outside the time.
fn timed_doras(s: &mut Server, next: &mut u32, iters: u64, r: &mut Requests) -> Duration {
    let (mut out, mut added) = ([0u8; 1500], Vec::with_capacity(CHUNK as usize));
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK);
        let start = std::time::Instant::now();
        for _ in 0..n {
            *next += 1;
            added.push(black_box(dora(s, *next, r, &mut out)));
        }
        total += start.elapsed();
        delete_all(s, &mut added);
        left -= n;
    }
    total
}

/// `DHCP_BENCH_COUNT=dora:N` (or `dora_1m:N`, `dora_classes:N`): N DORAs with 1 000
/// (1 000 000, 1 000 with ten classes) leases held, without criterion, so that
/// `valgrind --tool=callgrind` can count their instructions (and, with `--cache-sim=yes`,
/// their cache misses).
fn count_mode() -> bool {
    let Ok(spec) = std::env::var("DHCP_BENCH_COUNT") else {
        return false;
    };
    let (held, n, config) = match spec.split_once(':') {
        Some(("dora", n)) => (1_000, n, config()),
        Some(("dora_1m", n)) => (1_000_000, n, config()),
        Some(("dora_classes", n)) => (1_000, n, config_with_classes()),
        _ => panic!("DHCP_BENCH_COUNT=dora:N, dora_1m:N or dora_classes:N"),
    };
    let n: u32 = n.parse().expect("N, a number");
    let mut s = server_of(config, held);
    let mut r = Requests::new();
    let mut next = held;
    black_box(timed_doras(&mut s, &mut next, n.into(), &mut r));
    println!("dora x {n} with {held} leases");
    true
}

fn main() {
    if count_mode() {
        return;
    }
    // Memory per lease: the server's heap, empty and with a million leases.
    let before = LIVE.load(Ordering::Relaxed);
    let s = server_with(1_000_000);
    let per_lease = (LIVE.load(Ordering::Relaxed) - before) as f64 / 1e6;
    println!("memory: {per_lease:.1} bytes per lease (1 000 000 leases, server heap only)");
    drop(s);

    let mut c = Criterion::default().configure_from_args();
    let mut out = [0u8; 1500];
    let mut requests = Requests::new();
    // A new client's DORA with N leases held, the table kept at N (to N + CHUNK): the
    // leases the DORAs add are deleted again after each chunk, outside the time, so that
    // millions of iterations don't grow the table they are measuring.
    for held in [1_000u32, 1_000_000] {
        let mut s = server_with(held);
        let mut next = held;
        c.bench_function(&format!("server_dora_{held}_leases"), |b| {
            b.iter_custom(|iters| timed_doras(&mut s, &mut next, iters, &mut requests))
        });
    }
    // The same with ten classes, the client in one of them.
    let mut s = server_of(config_with_classes(), 1_000);
    let mut next = 1_000u32;
    c.bench_function("server_dora_1000_leases_ten_classes", |b| {
        b.iter_custom(|iters| timed_doras(&mut s, &mut next, iters, &mut requests))
    });
    drop(s);
    // What a metrics refresh reads each second: leases bound per subnet and per pool.
    let s = server_with(1_000_000);
    c.bench_function("server_usage_1000000_leases", |b| {
        b.iter(|| {
            let mut bound = 0;
            for u in s.usage() {
                bound += u.bound;
            }
            for u in s.pool_usage() {
                bound += u.bound;
            }
            black_box(bound)
        })
    });
    drop(s);
    // Pool size: the same with 1 000 leases held in a pool of about 2 000 addresses (a
    // /21) and in a /8 one.
    for (name, prefix, end) in [
        ("server_dora_slash21_pool", 21, Ipv4Addr::new(10, 0, 7, 250)),
        (
            "server_dora_slash8_pool",
            8,
            Ipv4Addr::new(10, 255, 255, 250),
        ),
    ] {
        let pool = PoolRange::new(Ipv4Addr::new(10, 0, 0, 10), end);
        let mut s = Server::new(config_with(prefix, pool), Instant::from_secs(1), UNIX0).unwrap();
        for r in records(1_000) {
            s.restore(&r);
        }
        let mut next = 1_000u32;
        c.bench_function(name, |b| {
            b.iter_custom(|iters| timed_doras(&mut s, &mut next, iters, &mut requests))
        });
    }
    let mut s = server_with(0);
    let mut next = 0u32;
    c.bench_function("server_discover_slash8", |b| {
        b.iter(|| {
            next += 1;
            Requests::patch(&mut requests.discover, next);
            s.handle_packet(Instant::from_secs(2), &META, &requests.discover);
            black_box(s.poll_transmit(&mut out))
        })
    });
    let journal = records(1_000_000);
    let mut g = c.benchmark_group("restore");
    g.sample_size(10);
    g.bench_function("restore_1000000_records", |b| {
        b.iter_batched(
            || Server::new(config(), Instant::from_secs(1), UNIX0).unwrap(),
            |mut s| {
                s.reserve(journal.len());
                for r in &journal {
                    s.restore(r);
                }
                s
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
    c.final_summary();
}
