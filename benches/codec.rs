//! Codec benchmarks, dhcp-core side by side with dhcproto on the same bytes, in one run.
//!
//! - parse: the message is parsed and the options a server or client reads are read as
//!   typed values (message type, client id, requested address, server id, parameter list,
//!   host name, lease time, mask, routers, DNS servers, domain name);
//! - emit: an OFFER and an ACK with the usual options are written out.
//!
//! The DISCOVER and REQUEST come from ISC dhclient and the ACK from Kea, captured in
//! `core/tests/golden/`. After criterion's own report, a table of ratios is printed.
//!
//! Run: `cargo bench -p dhcp-benches --bench codec`

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{BenchmarkId, Criterion};
use dhcp_core::wire::{Flags, Message, MessageBuilder, MessageType, Op, OptionCode};
use dhcproto::{v4, Decodable, Decoder, Encodable, Encoder};

#[allow(unreachable_pub, dead_code)]
#[path = "../core/tests/common/pcap.rs"]
mod pcap;

const CAPTURE: &str = "kea-dhclient.pcap";
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

/// The first message of each type in the capture.
fn golden() -> [(&'static str, Vec<u8>); 3] {
    let path = format!(
        "{}/../core/tests/golden/{CAPTURE}",
        env!("CARGO_MANIFEST_DIR")
    );
    let file = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let payloads = pcap::dhcp_payloads(&file).unwrap();
    let find = |t: MessageType| {
        payloads
            .iter()
            .map(|(_, p)| *p)
            .find(|p| {
                Message::parse(p)
                    .ok()
                    .and_then(|m| m.message_type().ok().flatten())
                    == Some(t)
            })
            .unwrap_or_else(|| panic!("no {t} in {path}"))
            .to_vec()
    };
    [
        ("discover", find(MessageType::Discover)),
        ("request", find(MessageType::Request)),
        ("ack", find(MessageType::Ack)),
    ]
}

/// Reads the typed options with dhcp-core; returns a value depending on all of them.
fn read_ours(bytes: &[u8]) -> usize {
    let m = Message::parse(bytes).unwrap();
    let mut n = m.xid() as usize + m.chaddr().len();
    n += m.message_type().ok().flatten().map_or(0, |t| t as usize);
    n += m.client_id().ok().flatten().map_or(0, |c| c.data().len());
    n += m
        .requested_ip()
        .ok()
        .flatten()
        .map_or(0, |a| a.octets()[3] as usize);
    n += m
        .server_id()
        .ok()
        .flatten()
        .map_or(0, |a| a.octets()[3] as usize);
    n += m
        .parameter_request_list()
        .ok()
        .flatten()
        .map_or(0, |l| l.iter().map(|c| usize::from(c.0)).sum());
    n += m.host_name().ok().flatten().map_or(0, |h| h.data().len());
    n += m.lease_time().ok().flatten().map_or(0, |t| t as usize);
    n += m
        .subnet_mask()
        .ok()
        .flatten()
        .map_or(0, |a| a.octets()[3] as usize);
    n += m.routers().ok().flatten().map_or(0, |l| l.iter().count());
    n += m
        .dns_servers()
        .ok()
        .flatten()
        .map_or(0, |l| l.iter().count());
    n += m.domain_name().ok().flatten().map_or(0, |d| d.data().len());
    n
}

/// The same reads with dhcproto.
fn read_dhcproto(bytes: &[u8]) -> usize {
    use v4::{DhcpOption as O, OptionCode as C};
    let m = v4::Message::decode(&mut Decoder::new(bytes)).unwrap();
    let opts = m.opts();
    let mut n = m.xid() as usize + m.chaddr().len();
    n += opts.msg_type().map_or(0, |t| u8::from(t) as usize);
    if let Some(O::ClientIdentifier(id)) = opts.get(C::ClientIdentifier) {
        n += id.len();
    }
    if let Some(O::RequestedIpAddress(a)) = opts.get(C::RequestedIpAddress) {
        n += a.octets()[3] as usize;
    }
    if let Some(O::ServerIdentifier(a)) = opts.get(C::ServerIdentifier) {
        n += a.octets()[3] as usize;
    }
    if let Some(O::ParameterRequestList(l)) = opts.get(C::ParameterRequestList) {
        n += l.iter().map(|c| u8::from(*c) as usize).sum::<usize>();
    }
    if let Some(O::Hostname(h)) = opts.get(C::Hostname) {
        n += h.len();
    }
    if let Some(O::AddressLeaseTime(t)) = opts.get(C::AddressLeaseTime) {
        n += *t as usize;
    }
    if let Some(O::SubnetMask(a)) = opts.get(C::SubnetMask) {
        n += a.octets()[3] as usize;
    }
    if let Some(O::Router(l)) = opts.get(C::Router) {
        n += l.len();
    }
    if let Some(O::DomainNameServer(l)) = opts.get(C::DomainNameServer) {
        n += l.len();
    }
    if let Some(O::DomainName(d)) = opts.get(C::DomainName) {
        n += d.len();
    }
    n
}

const DNS: [Ipv4Addr; 2] = [Ipv4Addr::new(192, 0, 2, 53), Ipv4Addr::new(192, 0, 2, 54)];

/// An OFFER or ACK with dhcp-core, into a reused buffer.
fn emit_ours(t: MessageType, buf: &mut [u8]) -> usize {
    let mut b = MessageBuilder::new(buf).unwrap();
    b.op(Op::BootReply)
        .xid(0x53a2_da3f)
        .flags(Flags::BROADCAST)
        .yiaddr(CLIENT)
        .siaddr(SERVER);
    b.chaddr(&MAC).unwrap();
    b.message_type(t)
        .unwrap()
        .server_id(SERVER)
        .unwrap()
        .lease_time(3600)
        .unwrap()
        .renewal_time(1800)
        .unwrap()
        .rebinding_time(3150)
        .unwrap()
        .subnet_mask(Ipv4Addr::new(255, 255, 255, 0))
        .unwrap()
        .routers(&[SERVER])
        .unwrap()
        .dns_servers(&DNS)
        .unwrap()
        .domain_name(b"example.test")
        .unwrap()
        .broadcast_address(Ipv4Addr::new(192, 0, 2, 255))
        .unwrap();
    b.finish().unwrap()
}

/// The same message with dhcproto, encoded into a reused Vec.
fn emit_dhcproto(t: v4::MessageType, buf: &mut Vec<u8>) -> usize {
    use v4::DhcpOption as O;
    let mut m = v4::Message::new(
        Ipv4Addr::UNSPECIFIED,
        CLIENT,
        SERVER,
        Ipv4Addr::UNSPECIFIED,
        &MAC,
    );
    m.set_opcode(v4::Opcode::BootReply)
        .set_xid(0x53a2_da3f)
        .set_flags(v4::Flags::default().set_broadcast());
    let opts = m.opts_mut();
    opts.insert(O::MessageType(t));
    opts.insert(O::ServerIdentifier(SERVER));
    opts.insert(O::AddressLeaseTime(3600));
    opts.insert(O::Renewal(1800));
    opts.insert(O::Rebinding(3150));
    opts.insert(O::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)));
    opts.insert(O::Router(vec![SERVER]));
    opts.insert(O::DomainNameServer(DNS.to_vec()));
    opts.insert(O::DomainName("example.test".to_string()));
    opts.insert(O::BroadcastAddr(Ipv4Addr::new(192, 0, 2, 255)));
    buf.clear();
    m.encode(&mut Encoder::new(buf)).unwrap();
    buf.len()
}

fn benches(c: &mut Criterion, packets: &[(&'static str, Vec<u8>)]) {
    for (name, bytes) in packets {
        // Both libraries must read the same values before their speed means anything.
        assert!(read_ours(bytes) > 0 && read_dhcproto(bytes) > 0);
        let mut g = c.benchmark_group(format!("parse_{name}"));
        g.bench_function(BenchmarkId::new("dhcp-core", bytes.len()), |b| {
            b.iter(|| read_ours(black_box(bytes)))
        });
        g.bench_function(BenchmarkId::new("dhcproto", bytes.len()), |b| {
            b.iter(|| read_dhcproto(black_box(bytes)))
        });
        g.finish();
    }
    for (name, ours, theirs) in [
        ("offer", MessageType::Offer, v4::MessageType::Offer),
        ("ack", MessageType::Ack, v4::MessageType::Ack),
    ] {
        let mut buf = [0u8; 1500];
        let mut vec = Vec::with_capacity(1500);
        let ours_len = emit_ours(ours, &mut buf);
        let theirs_len = emit_dhcproto(theirs, &mut vec);
        // Same content: both parse to the same options with our parser.
        let a = Message::parse(&buf[..ours_len]).unwrap();
        let b = Message::parse(&vec[..theirs_len]).unwrap();
        for code in [1u8, 3, 6, 15, 28, 51, 53, 54, 58, 59] {
            assert_eq!(
                a.option(OptionCode(code)),
                b.option(OptionCode(code)),
                "option {code}"
            );
        }
        let mut g = c.benchmark_group(format!("emit_{name}"));
        g.bench_function("dhcp-core", |b| {
            b.iter(|| emit_ours(black_box(ours), &mut buf))
        });
        g.bench_function("dhcproto", |b| {
            b.iter(|| emit_dhcproto(black_box(theirs), &mut vec))
        });
        g.finish();
    }
}

/// Criterion's point estimate of the median, in nanoseconds, for one benchmark.
fn median_ns(group: &str, function: &str) -> Option<f64> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/criterion")
        .join(group);
    let file = std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy() == function)?
        .path();
    let estimates = walk_for(&file, "estimates.json")?;
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(estimates).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// The `new/NAME` file under `dir` (criterion nests parameterized ids one level deeper).
fn walk_for(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    let direct = dir.join("new").join(name);
    if direct.exists() {
        return Some(direct);
    }
    std::fs::read_dir(dir).ok()?.flatten().find_map(|e| {
        let p = e.path().join("new").join(name);
        p.exists().then_some(p)
    })
}

/// `DHCP_BENCH_COUNT=NAME:N`: runs benchmark NAME's work N times and exits, without
/// criterion, so that `valgrind --tool=callgrind` can count its instructions.
fn count_mode(packets: &[(&'static str, Vec<u8>)]) -> bool {
    let Ok(spec) = std::env::var("DHCP_BENCH_COUNT") else {
        return false;
    };
    let (name, n) = spec.split_once(':').expect("DHCP_BENCH_COUNT=NAME:N");
    let n: usize = n.parse().expect("N is a count");
    let mut buf = [0u8; 1500];
    let mut vec = Vec::with_capacity(1500);
    let (group, theirs) = match name.strip_suffix("_dhcproto") {
        Some(g) => (g, true),
        None => (name, false),
    };
    let packet = packets
        .iter()
        .find(|(p, _)| group.strip_prefix("parse_") == Some(*p))
        .map(|(_, bytes)| bytes.as_slice());
    let bytes = packet.unwrap_or_default();
    let mut work: Box<dyn FnMut() -> usize> = match (group, theirs, packet) {
        ("emit_offer", false, _) => Box::new(|| emit_ours(black_box(MessageType::Offer), &mut buf)),
        ("emit_ack", false, _) => Box::new(|| emit_ours(black_box(MessageType::Ack), &mut buf)),
        ("emit_offer", true, _) => {
            Box::new(|| emit_dhcproto(black_box(v4::MessageType::Offer), &mut vec))
        }
        ("emit_ack", true, _) => {
            Box::new(|| emit_dhcproto(black_box(v4::MessageType::Ack), &mut vec))
        }
        (_, false, Some(_)) => Box::new(|| read_ours(black_box(bytes))),
        (_, true, Some(_)) => Box::new(|| read_dhcproto(black_box(bytes))),
        _ => panic!("no benchmark {name}"),
    };
    let sum: usize = (0..n).map(|_| work()).sum();
    println!("{name} x {n}: {sum}");
    true
}

fn main() {
    let packets = golden();
    if count_mode(&packets) {
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &packets);
    c.final_summary();
    println!(
        "\n{:<16} {:>14} {:>14} {:>8}",
        "benchmark", "dhcp-core (ns)", "dhcproto (ns)", "ratio"
    );
    for group in [
        "parse_discover",
        "parse_request",
        "parse_ack",
        "emit_offer",
        "emit_ack",
    ] {
        if let (Some(ours), Some(theirs)) =
            (median_ns(group, "dhcp-core"), median_ns(group, "dhcproto"))
        {
            println!(
                "{group:<16} {ours:>14.1} {theirs:>14.1} {:>7.1}x",
                theirs / ours
            );
        }
    }
}
