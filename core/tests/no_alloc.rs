//! Parsing, typed access, Display and emitting allocate nothing: counted by a global
//! allocator that wraps the system one. One test in this binary, so no other test's
//! allocations are counted.
#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::exercise::exercise;
use dhcp_core::wire::typed::{FqdnFlags, Route};
use dhcp_core::wire::{Flags, MessageBuilder, MessageType, Op, OptionCode};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
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
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden")).into_iter().flatten().flatten() {
        if entry.path().extension().is_some_and(|e| e == "pcap") {
            golden.push(std::fs::read(entry.path()).unwrap());
        }
    }

    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let len = emit_ack(&mut buf);
    let touched = exercise(&buf[..len]).expect("our own ACK parses");
    // Golden captures: every frame's UDP payload is parsed and read in full.
    let mut frames = 0;
    for pcap in &golden {
        let mut at = 24;
        while let Some(head) = pcap.get(at..at + 16) {
            let caplen = u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize;
            let Some(frame) = pcap.get(at + 16..at + 16 + caplen) else { break };
            at += 16 + caplen;
            let ihl = usize::from(frame.get(14).copied().unwrap_or(0) & 0x0f) * 4;
            if let Some(payload) = frame.get(14 + ihl + 8..) {
                frames += usize::from(exercise(payload).is_some());
            }
        }
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);

    assert!(touched > 0);
    assert_eq!(after - before, 0, "allocations on the codec path");
    eprintln!("no allocation across our ACK and {frames} golden frames");
}
