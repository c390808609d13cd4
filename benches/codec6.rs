//! DHCPv6 codec benchmarks, dhcp-core's `v6::wire` side by side with dhcproto's `v6` on the
//! same bytes, in one run.
//!
//! - parse: the datagram is parsed and what a server reads of a SOLICIT is read as typed
//!   values (message type, transaction id, client id, every IA_NA with its address hints,
//!   the option request, elapsed time, rapid commit), of a SOLICIT and of an ADVERTISE.
//!   Relayed messages are not compared: dhcproto 0.15 decodes a relay-message option's
//!   content as a relay message, so it cannot read the client's message inside;
//! - emit: an ADVERTISE with server and client id, preference, an IA_NA with one address,
//!   DNS servers and a search list is written out.
//!
//! The datagrams are the committed fuzz seeds (`fuzz/seeds-parse6/`). After criterion's
//! report, a table of ratios is printed.
//!
//! Run: `cargo bench -p dhcp-benches --bench codec6`
//! (`DHCP_BENCH_COUNT=NAME:N` runs one benchmark's work N times for callgrind.)

use std::hint::black_box;
use std::net::Ipv6Addr;

use criterion::Criterion;
use dhcp_core::v6::wire::{Message, MessageBuilder, MessageType, OptionCode, Relayed};
use dhcproto::v6;
use dhcproto::{Decodable, Decoder, Encodable, Encoder};

const CLIENT_DUID: [u8; 10] = [0, 3, 0, 1, 2, 0, 0, 0, 0, 1];
const SERVER_DUID: [u8; 14] = [0, 1, 0, 1, 0x2b, 0x3c, 0x4d, 0x5e, 2, 0, 0, 0, 0, 0xaa];
const ADDRESS: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
const DNS: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x53);

fn seed(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds-parse6")
        .join(name);
    std::fs::read(path).expect("the DHCPv6 fuzz seeds")
}

/// What a server reads of a SOLICIT, with dhcp-core; a sum of it all.
fn read_ours(bytes: &[u8]) -> usize {
    let Ok(r) = Relayed::parse(bytes) else {
        return 0;
    };
    let m = r.message;
    let mut n = usize::from(m.kind()) + m.transaction_id() as usize + r.relays.len();
    n += m
        .client_id()
        .ok()
        .flatten()
        .map_or(0, |d| d.as_bytes().len());
    for ia in m.ia_nas().flatten() {
        n += ia.iaid as usize + ia.t1 as usize;
        n += ia
            .addresses()
            .flatten()
            .map(|a| usize::from(a.address.segments()[7]))
            .sum::<usize>();
    }
    n += m
        .option_request()
        .ok()
        .flatten()
        .map_or(0, |o| o.iter().count());
    n += usize::from(m.elapsed_time().ok().flatten().unwrap_or(0));
    n + usize::from(m.rapid_commit().unwrap_or(false))
}

fn read_message(m: &v6::Message) -> usize {
    let mut n = usize::from(u8::from(m.msg_type())) + m.xid_num() as usize;
    if let Some(v6::DhcpOption::ClientId(id)) = m.opts().get(v6::OptionCode::ClientId) {
        n += id.len();
    }
    for o in m.opts().get_all(v6::OptionCode::IANA).unwrap_or_default() {
        if let v6::DhcpOption::IANA(ia) = o {
            n += ia.id as usize + ia.t1 as usize;
            for a in ia.opts.get_all(v6::OptionCode::IAAddr).unwrap_or_default() {
                if let v6::DhcpOption::IAAddr(a) = a {
                    n += usize::from(a.addr.segments()[7]);
                }
            }
        }
    }
    if let Some(v6::DhcpOption::ORO(o)) = m.opts().get(v6::OptionCode::ORO) {
        n += o.opts.len();
    }
    if let Some(v6::DhcpOption::ElapsedTime(t)) = m.opts().get(v6::OptionCode::ElapsedTime) {
        n += usize::from(*t);
    }
    n + usize::from(m.opts().get(v6::OptionCode::RapidCommit).is_some())
}

/// The same reads with dhcproto.
fn read_dhcproto(bytes: &[u8]) -> usize {
    v6::Message::decode(&mut Decoder::new(bytes)).map_or(0, |m| read_message(&m))
}

/// An ADVERTISE with dhcp-core, into a reused buffer.
fn emit_ours(buf: &mut [u8]) -> usize {
    let mut b = MessageBuilder::new(buf, MessageType::Advertise, 0x12_3456).unwrap();
    b.server_id(&SERVER_DUID).unwrap();
    b.client_id(&CLIENT_DUID).unwrap();
    b.preference(255).unwrap();
    b.ia_na(7, 1800, 2880, |b| {
        b.ia_address(ADDRESS, 3000, 3600, |_| Ok(()))?;
        Ok(())
    })
    .unwrap();
    b.dns_servers(&[DNS]).unwrap();
    b.domain_list(&["example.test"]).unwrap();
    b.finish()
}

/// The same ADVERTISE with dhcproto, encoded into a reused Vec.
fn emit_dhcproto(buf: &mut Vec<u8>) -> usize {
    let mut m = v6::Message::new_with_id(v6::MessageType::Advertise, [0x12, 0x34, 0x56]);
    let opts = m.opts_mut();
    opts.insert(v6::DhcpOption::ServerId(SERVER_DUID.to_vec()));
    opts.insert(v6::DhcpOption::ClientId(CLIENT_DUID.to_vec()));
    opts.insert(v6::DhcpOption::Preference(255));
    let mut ia_opts = v6::DhcpOptions::new();
    ia_opts.insert(v6::DhcpOption::IAAddr(v6::IAAddr {
        addr: ADDRESS,
        preferred_life: 3000,
        valid_life: 3600,
        opts: v6::DhcpOptions::new(),
    }));
    opts.insert(v6::DhcpOption::IANA(v6::IANA {
        id: 7,
        t1: 1800,
        t2: 2880,
        opts: ia_opts,
    }));
    opts.insert(v6::DhcpOption::DomainNameServers(vec![DNS]));
    opts.insert(v6::DhcpOption::DomainSearchList(vec!["example.test."
        .parse()
        .unwrap()]));
    buf.clear();
    m.encode(&mut Encoder::new(buf)).unwrap();
    buf.len()
}

fn packets() -> [(&'static str, Vec<u8>); 2] {
    [
        ("solicit6", seed("solicit.bin")),
        ("advertise6", seed("advertise.bin")),
    ]
}

fn benches(c: &mut Criterion) {
    for (name, bytes) in packets() {
        // Both libraries must read the same values before their speed means anything.
        let ours = read_ours(&bytes);
        assert!(ours > 0 && read_dhcproto(&bytes) > 0, "{name}");
        let mut g = c.benchmark_group(format!("parse_{name}"));
        g.bench_function("dhcp-core", |b| b.iter(|| read_ours(black_box(&bytes))));
        g.bench_function("dhcproto", |b| b.iter(|| read_dhcproto(black_box(&bytes))));
        g.finish();
    }
    let mut buf = [0u8; 1500];
    let mut vec = Vec::with_capacity(1500);
    let ours = emit_ours(&mut buf);
    let theirs = emit_dhcproto(&mut vec);
    // Same content: both read the same with our parser, option by option.
    let a = Message::parse(&buf[..ours]).unwrap();
    let b = Message::parse(&vec[..theirs]).unwrap();
    for code in [1, 2, 3, 7, 23, 24] {
        assert_eq!(
            a.option(OptionCode(code)),
            b.option(OptionCode(code)),
            "option {code}"
        );
    }
    let mut g = c.benchmark_group("emit_advertise6");
    g.bench_function("dhcp-core", |b| b.iter(|| emit_ours(black_box(&mut buf))));
    g.bench_function("dhcproto", |b| {
        b.iter(|| emit_dhcproto(black_box(&mut vec)))
    });
    g.finish();
}

/// Criterion's point estimate of the median, in nanoseconds.
fn median_ns(group: &str, function: &str) -> Option<f64> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/criterion")
        .join(group)
        .join(function)
        .join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// `DHCP_BENCH_COUNT=NAME:N` (NAME `parse_solicit6`, `emit_advertise6`, with `_dhcproto`
/// for theirs): runs that work N times and exits, for callgrind.
fn count_mode() -> bool {
    let Ok(spec) = std::env::var("DHCP_BENCH_COUNT") else {
        return false;
    };
    let (name, n) = spec.split_once(':').expect("DHCP_BENCH_COUNT=NAME:N");
    let n: usize = n.parse().expect("N is a count");
    let (group, theirs) = match name.strip_suffix("_dhcproto") {
        Some(g) => (g, true),
        None => (name, false),
    };
    let mut buf = [0u8; 1500];
    let mut vec = Vec::with_capacity(1500);
    let packets = packets();
    let bytes = packets
        .iter()
        .find(|(p, _)| group.strip_prefix("parse_") == Some(*p))
        .map(|(_, b)| b.clone());
    let mut work: Box<dyn FnMut() -> usize> = match (group, theirs, bytes) {
        ("emit_advertise6", false, _) => Box::new(|| emit_ours(black_box(&mut buf))),
        ("emit_advertise6", true, _) => Box::new(|| emit_dhcproto(black_box(&mut vec))),
        (_, false, Some(b)) => Box::new(move || read_ours(black_box(&b))),
        (_, true, Some(b)) => Box::new(move || read_dhcproto(black_box(&b))),
        _ => panic!("no benchmark {name}"),
    };
    let sum: usize = (0..n).map(|_| work()).sum();
    println!("{name} x {n}: {sum}");
    true
}

fn main() {
    if count_mode() {
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
    println!(
        "\n{:<24} {:>14} {:>14} {:>8}",
        "benchmark", "dhcp-core (ns)", "dhcproto (ns)", "ratio"
    );
    for group in ["parse_solicit6", "parse_advertise6", "emit_advertise6"] {
        if let (Some(ours), Some(theirs)) =
            (median_ns(group, "dhcp-core"), median_ns(group, "dhcproto"))
        {
            println!(
                "{group:<24} {ours:>14.1} {theirs:>14.1} {:>7.1}x",
                theirs / ours
            );
        }
    }
}
