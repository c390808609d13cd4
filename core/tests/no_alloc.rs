//! Parsing, typed access, Display, emitting and a whole client life cycle allocate nothing: counted by a global
//! allocator that wraps the system one, per thread, so the test harness's own threads
//! are not counted.
#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::Ipv4Addr;

use common::exercise::exercise;
use dhcp_core::wire::typed::{FqdnFlags, Route};
use dhcp_core::wire::{Flags, MessageBuilder, MessageType, Op, OptionCode};

struct Counting;

thread_local! {
    // Const-initialized and without Drop: using it never allocates.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    ALLOCATIONS.with(|n| n.set(n.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn emit_ack(buf: &mut [u8]) -> usize {
    let routes = [Route {
        destination: Ipv4Addr::new(198, 51, 100, 0),
        prefix_len: 24,
        router: Ipv4Addr::new(192, 0, 2, 1),
    }];
    let mut b = MessageBuilder::new(buf).unwrap();
    b.op(Op::BootReply)
        .xid(0x1234_5678)
        .flags(Flags::BROADCAST)
        .yiaddr(Ipv4Addr::new(192, 0, 2, 100));
    b.chaddr(&[2, 0, 0, 0, 0, 1]).unwrap();
    b.max_len(576).unwrap().allow_overload(true);
    b.message_type(MessageType::Ack)
        .unwrap()
        .server_id(Ipv4Addr::new(192, 0, 2, 1))
        .unwrap()
        .lease_time(3600)
        .unwrap()
        .renewal_time(1800)
        .unwrap()
        .rebinding_time(3150)
        .unwrap()
        .subnet_mask(Ipv4Addr::new(255, 255, 255, 0))
        .unwrap()
        .routers(&[Ipv4Addr::new(192, 0, 2, 1)])
        .unwrap()
        .dns_servers(&[Ipv4Addr::new(192, 0, 2, 53)])
        .unwrap()
        .domain_name(b"example.test")
        .unwrap()
        .domain_search(&["example.test", "corp.example.test"])
        .unwrap()
        .classless_routes(&routes)
        .unwrap()
        .client_fqdn(FqdnFlags::S | FqdnFlags::E, "host.example.test.")
        .unwrap()
        .relay_agent_info(&[(1, b"port7"), (2, b"switch")])
        .unwrap()
        .option(OptionCode(224), &[0x5a; 300])
        .unwrap();
    b.finish().unwrap()
}

#[test]
fn codec_paths_allocate_nothing() {
    // Everything the measured section needs is made before it.
    let mut buf = [0u8; 1500];
    let mut golden = Vec::new();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if entry.path().extension().is_some_and(|e| e == "pcap") {
            golden.push(std::fs::read(entry.path()).unwrap());
        }
    }

    let payloads: Vec<&[u8]> = golden
        .iter()
        .flat_map(|file| common::pcap::dhcp_payloads(file).unwrap())
        .map(|(_, payload)| payload)
        .collect();
    assert!(!payloads.is_empty(), "no golden packets found");
    let mut v6_seeds = Vec::new();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/seeds-parse6"))
        .into_iter()
        .flatten()
        .flatten()
    {
        v6_seeds.push(std::fs::read(entry.path()).unwrap());
    }
    assert!(!v6_seeds.is_empty(), "no DHCPv6 seeds found");
    let mut buf6 = [0u8; 1500];

    // The counter sees allocations on this thread.
    let probe = allocations();
    drop(std::hint::black_box(vec![0u8; 16]));
    assert!(
        allocations() > probe,
        "the counting allocator is not in use"
    );

    let before = allocations();
    let len = emit_ack(&mut buf);
    let touched = exercise(&buf[..len]).expect("our own ACK parses");
    let config = dhcp_core::client::ClientConfig::new(common::dora::MAC);
    let cycle = common::dora::life_cycle(&config, 1);
    let mut frames = 0;
    for payload in &payloads {
        frames += usize::from(exercise(payload).is_some());
    }
    let mut v6 = 0;
    for datagram in &v6_seeds {
        v6 += usize::from(common::exercise6::exercise6(datagram).is_some());
        let p = dhcp_core::v6::wire::Packet::parse(datagram).unwrap();
        v6 += usize::from(common::reemit6::reemit6(&p, &mut buf6, 1_000).is_ok());
    }
    let after = allocations();

    assert!(touched > 0);
    assert_eq!(
        cycle,
        [
            Some(dhcp_core::client::Event::Bound),
            Some(dhcp_core::client::Event::Renewed)
        ],
        "the client's DORA and renewal ran"
    );
    assert_eq!(frames, payloads.len(), "every golden packet parses");
    assert_eq!(
        v6,
        2 * v6_seeds.len(),
        "every DHCPv6 seed parses and re-emits"
    );
    assert_eq!(after - before, 0, "allocations on the codec path");
    eprintln!(
        "no allocation across our ACK, a client DORA + renewal, {frames} golden frames and {} DHCPv6 datagrams",
        v6_seeds.len()
    );
}
