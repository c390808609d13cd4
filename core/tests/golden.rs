//! Golden packets captured from real peers (`golden/README.md` says how): every one parses,
//! every header field and option reads as an independent byte walk and tshark read them,
//! re-emitting gives the same message, and Display renders every option as valid.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::exercise::exercise;
use common::pcap::dhcp_payloads;
use common::reemit::{reemit, same_message};
use dhcp_core::wire::Message;
use serde_json::Value;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The DHCPv4 captures (the DHCPv6 ones, `<server>-<client>6.pcap`, are `v6_golden.rs`'s).
fn captures() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "pcap")
                && !p
                    .file_stem()
                    .is_some_and(|s| s.to_string_lossy().ends_with('6'))
        })
        .collect();
    out.sort();
    out
}

fn hex(bytes: impl IntoIterator<Item = u8>) -> String {
    bytes.into_iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn mac(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn list(items: impl IntoIterator<Item = impl ToString>) -> Value {
    Value::Array(
        items
            .into_iter()
            .map(|i| Value::String(i.to_string()))
            .collect(),
    )
}

/// Our reading of one tshark key, as the JSON value tshark's reading is stored as.
fn ours(m: &Message<'_>, key: &str) -> Option<Value> {
    let s = |v: Option<String>| v.map(Value::String);
    let n = |v: Option<u64>| v.map(Value::from);
    Some(match key {
        "op" => Value::from(m.op() as u8),
        "htype" => Value::from(m.htype()),
        "hlen" => Value::from(m.hlen()),
        "hops" => Value::from(m.hops()),
        "xid" => Value::from(m.xid()),
        "secs" => Value::from(m.secs()),
        "flags" => Value::from(m.flags().bits()),
        "ciaddr" => Value::from(m.ciaddr().to_string()),
        "yiaddr" => Value::from(m.yiaddr().to_string()),
        "siaddr" => Value::from(m.siaddr().to_string()),
        "giaddr" => Value::from(m.giaddr().to_string()),
        "chaddr" => Value::from(mac(m.chaddr())),
        "sname" => Value::from(String::from_utf8_lossy(m.sname()?).into_owned()),
        "file" => Value::from(String::from_utf8_lossy(m.file()?).into_owned()),
        "option_codes" => Value::from(m.options().map(|o| o.code.0).collect::<Vec<_>>()),
        "message_type" => n(m.message_type().unwrap().map(|t| t as u64))?,
        "server_identifier" => s(m.server_id().unwrap().map(|a| a.to_string()))?,
        "requested_ip" => s(m.requested_ip().unwrap().map(|a| a.to_string()))?,
        "lease_time" => n(m.lease_time().unwrap().map(u64::from))?,
        "renewal_time" => n(m.renewal_time().unwrap().map(u64::from))?,
        "rebinding_time" => n(m.rebinding_time().unwrap().map(u64::from))?,
        "subnet_mask" => s(m.subnet_mask().unwrap().map(|a| a.to_string()))?,
        "broadcast_address" => s(m.broadcast_address().unwrap().map(|a| a.to_string()))?,
        "domain_name" => s(m.domain_name().unwrap().map(|t| t.to_string()))?,
        "hostname" => s(m.host_name().unwrap().map(|t| t.to_string()))?,
        "max_message_size" => n(m.max_message_size().unwrap().map(u64::from))?,
        "vendor_class_id" => s(m.vendor_class_id().unwrap().map(|t| t.to_string()))?,
        "interface_mtu" => n(m.mtu().unwrap().map(u64::from))?,
        "message" => s(m.error_message().unwrap().map(|t| t.to_string()))?,
        "routers" => list(m.routers().unwrap()?.iter()),
        "dns_servers" => list(m.dns_servers().unwrap()?.iter()),
        "ntp_servers" => list(m.ntp_servers().unwrap()?.iter()),
        "parameter_request_list" => Value::from(
            m.parameter_request_list()
                .unwrap()?
                .iter()
                .map(|c| c.0)
                .collect::<Vec<_>>(),
        ),
        "domain_search" => list(m.domain_search().unwrap()?.iter()),
        "classless_static_routes" => list(
            m.classless_routes()
                .unwrap()?
                .iter()
                .map(|r| format!("{}/{}-{}", r.destination, r.prefix_len, r.router)),
        ),
        "client_identifier" => Value::from(hex(m.client_id().unwrap()?.data().bytes())),
        "fqdn" => Value::from(m.client_fqdn().unwrap()?.name.to_string()),
        _ => return None,
    })
}

/// tshark keys that carry no single value to compare (summaries, its own sub-decodes).
const NOT_COMPARED: &[&str] = &["options_summary", "client_identifier_decoded", "expert"];

#[test]
fn every_golden_packet_reads_as_the_peers_and_tshark_read_it() {
    let files = captures();
    assert!(
        files.len() >= 10,
        "expected the captures of 3 servers x 3 clients and the seed's"
    );
    let mut total = 0;
    for pcap in &files {
        let name = pcap.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(pcap).unwrap();
        let payloads = dhcp_payloads(&bytes).unwrap();
        let json: Value =
            serde_json::from_slice(&std::fs::read(pcap.with_extension("json")).unwrap()).unwrap();
        let expected = json.as_array().unwrap();
        assert_eq!(payloads.len(), expected.len(), "{name}: packet count");
        assert!(!payloads.is_empty(), "{name}: no packets");
        for ((frame, payload), want) in payloads.iter().zip(expected) {
            let at = format!("{name} frame {frame}");
            assert_eq!(want["frame"], *frame, "{at}");
            assert_eq!(want["payload_hex"], hex(payload.iter().copied()), "{at}");
            let m = Message::parse(payload).unwrap_or_else(|e| panic!("{at}: {e}"));

            // Header and raw options against the independent byte walk.
            for key in [
                "op", "htype", "hlen", "hops", "xid", "secs", "flags", "ciaddr", "yiaddr",
                "siaddr", "giaddr", "chaddr", "sname", "file",
            ] {
                assert_eq!(ours(&m, key).as_ref(), Some(&want[key]), "{at}: {key}");
            }
            let raw: Vec<Value> = m
                .options()
                .map(|o| {
                    Value::from(vec![
                        Value::from(o.code.0),
                        Value::from(hex(o.data.iter().copied())),
                    ])
                })
                .collect();
            assert_eq!(Value::Array(raw), want["options"], "{at}: options");

            // Typed values against tshark's decoding.
            let tshark = want["tshark"].as_object().unwrap();
            for (key, theirs) in tshark {
                if NOT_COMPARED.contains(&key.as_str()) {
                    continue;
                }
                let mine = ours(&m, key)
                    .unwrap_or_else(|| panic!("{at}: no reading for tshark key {key}"));
                assert_eq!(&mine, theirs, "{at}: {key}");
            }
            assert!(
                !tshark.contains_key("expert"),
                "{at}: tshark flagged {:?}",
                tshark["expert"]
            );

            // Re-emitting the typed message gives the same message.
            let mut buf = [0u8; 2048];
            let len = reemit(&m, &mut buf).unwrap();
            let again = Message::parse(&buf[..len]).unwrap();
            assert!(same_message(&m, &again), "{at}: re-emitted message differs");
            for o in m.options() {
                assert_eq!(
                    again.option(o.code),
                    m.option(o.code),
                    "{at}: option {}",
                    o.code
                );
            }

            // Every option of a real peer is valid: Display shows none as malformed.
            let shown = m.to_string();
            assert!(!shown.contains("malformed"), "{at}:\n{shown}");
            assert!(exercise(payload).is_some());
            total += 1;
        }
    }
    eprintln!("{total} golden packets checked in {} captures", files.len());
}

/// Codes tcpdump names wrongly: 80 is Rapid Commit (RFC 4039), tcpdump says SLP-NA.
const TCPDUMP_MISNAMES: &[u8] = &[80];

/// The option lines Display prints carry the same code, length and name as tcpdump's
/// (where tcpdump knows the option).
#[test]
fn display_lines_match_tcpdump() {
    for pcap in captures() {
        let name = pcap.file_name().unwrap().to_string_lossy().into_owned();
        let tcpdump = std::fs::read_to_string(pcap.with_extension("txt")).unwrap();
        let bytes = std::fs::read(&pcap).unwrap();
        for (frame, payload) in dhcp_payloads(&bytes).unwrap() {
            let m = Message::parse(payload).unwrap();
            let shown = m.to_string();
            let summary = shown.split(", xid").next().unwrap();
            assert!(tcpdump.contains(summary), "{name} frame {frame}: {summary}");
            for o in m.options() {
                let line = format!("({}), length {}", o.code.0, o.data.len());
                assert!(
                    tcpdump.contains(&line),
                    "{name} frame {frame}: {line} not in tcpdump's output"
                );
                let theirs = tcpdump
                    .lines()
                    .find_map(|l| {
                        l.trim()
                            .split_once(&format!(" ({}), length", o.code.0))
                            .map(|(n, _)| n.to_owned())
                    })
                    .unwrap();
                if theirs != "Unknown" && !TCPDUMP_MISNAMES.contains(&o.code.0) {
                    assert_eq!(
                        o.code.name(),
                        Some(theirs.as_str()),
                        "{name}: option {}",
                        o.code.0
                    );
                }
            }
        }
    }
}

/// The seed README's four packets read as its tcpdump listing shows them.
#[test]
fn seed_readme_exchange() {
    let bytes = std::fs::read(golden_dir().join("seed-readme.pcap")).unwrap();
    let packets = dhcp_payloads(&bytes).unwrap();
    let types: Vec<_> = packets
        .iter()
        .map(|(_, p)| {
            Message::parse(p)
                .unwrap()
                .message_type()
                .unwrap()
                .unwrap()
                .name()
        })
        .collect();
    assert_eq!(types, ["Discover", "Offer", "Request", "ACK"]);
    let lengths: Vec<_> = packets.iter().map(|(_, p)| p.len()).collect();
    assert_eq!(lengths, [285, 300, 297, 300]);
    let request = Message::parse(packets[2].1).unwrap();
    assert_eq!(request.xid(), 0x53a2_da3f);
    assert_eq!(
        request.server_id().unwrap(),
        Some("192.168.10.1".parse().unwrap())
    );
    assert_eq!(
        request.requested_ip().unwrap(),
        Some("192.168.8.54".parse().unwrap())
    );
    assert_eq!(request.host_name().unwrap().unwrap(), "rust-dhcp-advanced");
    let ack = Message::parse(packets[3].1).unwrap();
    assert_eq!(
        ack.yiaddr(),
        "192.168.8.54".parse::<std::net::Ipv4Addr>().unwrap()
    );
    assert_eq!(
        ack.subnet_mask().unwrap(),
        Some("255.255.252.0".parse().unwrap())
    );
    assert_eq!(
        ack.routers().unwrap().unwrap().first(),
        Some("192.168.10.1".parse().unwrap())
    );
    assert_eq!(
        ack.dns_servers().unwrap().unwrap().first(),
        Some("192.168.8.53".parse().unwrap())
    );
    assert_eq!(ack.lease_time().unwrap(), Some(3600));
    // Our rendering of the DISCOVER is the listing's, line for line, past the IP header.
    let discover = Message::parse(packets[0].1).unwrap().to_string();
    let seed = "BOOTP/DHCP, Request from 00:11:22:33:44:55, length 285, xid 0x53a2da3f, Flags [Broadcast]
\t  Client-Ethernet-Address 00:11:22:33:44:55
\t  Vendor-rfc1048 Extensions
\t    Magic Cookie 0x63825363
\t    DHCP-Message (53), length 1: Discover
\t    Lease-Time (51), length 4: 3600
\t    Parameter-Request (55), length 5: Subnet-Mask (1), Domain-Name-Server (6), Classless-Static-Route (121), Default-Gateway (3)
\t      Static-Route (33)
\t    Client-ID (61), length 6: \"^Q\"3DU\"
\t    Hostname (12), length 18: \"rust-dhcp-advanced\"";
    assert_eq!(discover, seed);
}
