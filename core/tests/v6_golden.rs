//! Golden DHCPv6 packets captured from real peers (kea-dhcp6 and dnsmasq with dhclient,
//! dhcpcd and WIDE dhcp6c; `golden/README.md` says how): every one parses, with its relays
//! if any; its message type, transaction id and options read as tshark and an independent
//! byte walk read them; no typed accessor finds a malformed option; re-emitting gives the
//! same bytes.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::exercise6::exercise6;
use common::pcap::dhcp6_payloads;
use common::reemit6::reemit6;
use dhcp_core::v6::wire::typed::Ia;
use dhcp_core::v6::wire::{Message, Packet, Relayed};
use serde_json::{json, Value};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The DHCPv6 fixtures: `<server>-<client>6.json`, each beside its pcap.
fn fixtures() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_stem()
                    .is_some_and(|s| s.to_string_lossy().ends_with('6'))
        })
        .collect();
    out.sort();
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn list(items: impl IntoIterator<Item = impl ToString>) -> Value {
    Value::Array(
        items
            .into_iter()
            .map(|i| Value::String(i.to_string()))
            .collect(),
    )
}

/// An IA_NA or IA_PD as tshark's reading of it is stored.
fn ia(ia: &Ia<'_>, pd: bool) -> Value {
    let mut v = json!({ "iaid": ia.iaid, "t1": ia.t1, "t2": ia.t2 });
    if pd {
        v["prefixes"] = list(ia.prefixes().map(|p| {
            let p = p.unwrap();
            format!("{}/{} {} {}", p.prefix, p.prefix_len, p.preferred, p.valid)
        }));
    } else {
        v["addresses"] = list(ia.addresses().map(|a| {
            let a = a.unwrap();
            format!("{} {} {}", a.address, a.preferred, a.valid)
        }));
    }
    if let Some(s) = ia.status().unwrap() {
        v["status_code"] = json!(s.status.0);
    }
    v
}

/// Our reading of one tshark key, as the JSON value tshark's reading is stored as.
fn ours(m: &Message<'_>, key: &str) -> Option<Value> {
    Some(match key {
        "message_type" => json!(m.kind()),
        "xid" => json!(m.transaction_id()),
        "option_codes" => json!(m.options().iter().map(|o| o.code.0).collect::<Vec<_>>()),
        "client_id" => json!(hex(m.client_id().unwrap()?.as_bytes())),
        "server_id" => json!(hex(m.server_id().unwrap()?.as_bytes())),
        "option_request" => json!(m
            .option_request()
            .unwrap()?
            .iter()
            .map(|c| c.0)
            .collect::<Vec<_>>()),
        "preference" => json!(m.preference().unwrap()?),
        "elapsed_time" => json!(m.elapsed_time().unwrap()?),
        "status_code" => json!(m.status().unwrap()?.status.0),
        "rapid_commit" => json!(m.rapid_commit().unwrap()),
        "dns_servers" => list(m.dns_servers().unwrap()?.iter()),
        "domain_search" => list(m.domain_list().unwrap()?.iter()),
        "fqdn_flags" => json!(m.client_fqdn().unwrap()?.flags),
        "fqdn" => json!(m.client_fqdn().unwrap()?.name?.to_string()),
        "ia_na" => Value::Array(m.ia_nas().map(|i| ia(&i.unwrap(), false)).collect()),
        "ia_pd" => Value::Array(m.ia_pds().map(|i| ia(&i.unwrap(), true)).collect()),
        _ => return None,
    })
}

/// tshark keys that carry no single value to compare.
const NOT_COMPARED: &[&str] = &["options_summary", "expert"];

/// What tshark 4.0 flags in these real peers' packets, all of it about the peers, none
/// of it about the encoding: dhclient keeps the client FQDN option (39) in its RELEASE,
/// which RFC 4704 section 4 does not list among the messages that carry it, and dhcpcd
/// sends a partial (single-label) name in it.
const KNOWN_EXPERTS: &[&str] = &[
    "Expert Info (Error/Protocol): This message type is not permitted to use OPTION_CLIENT_FQDN",
    "Expert Info (Warning/Comment): WARNING: TLDs are rarely resolvable ",
];

/// Every typed accessor `exercise6` reads returns `Ok` on a real peer's message, nested
/// options (IA_ADDR, IA_PREFIX, status codes) included.
fn no_accessor_fails(at: &str, m: &Message<'_>) {
    assert!(m.client_id().is_ok(), "{at}: client id");
    assert!(m.server_id().is_ok(), "{at}: server id");
    for i in m.ia_nas().chain(m.ia_pds()) {
        let i = i.unwrap_or_else(|e| panic!("{at}: IA: {e}"));
        assert!(i.status().is_ok(), "{at}: IA status");
        for a in i.addresses() {
            let a = a.unwrap_or_else(|e| panic!("{at}: IA_ADDR: {e}"));
            assert!(a.status().is_ok(), "{at}: IA_ADDR status");
        }
        for p in i.prefixes() {
            let p = p.unwrap_or_else(|e| panic!("{at}: IA_PREFIX: {e}"));
            assert!(p.status().is_ok(), "{at}: IA_PREFIX status");
        }
    }
    for t in m.ia_tas() {
        let t = t.unwrap_or_else(|e| panic!("{at}: IA_TA: {e}"));
        assert!(t.addresses().all(|a| a.is_ok()), "{at}: IA_TA address");
    }
    assert!(m.option_request().is_ok(), "{at}: option request");
    assert!(m.preference().is_ok(), "{at}: preference");
    assert!(m.elapsed_time().is_ok(), "{at}: elapsed time");
    assert!(m.rapid_commit().is_ok(), "{at}: rapid commit");
    assert!(m.reconfigure_accept().is_ok(), "{at}: reconfigure accept");
    assert!(m.status().is_ok(), "{at}: status");
    assert!(m.status_or_success().is_ok(), "{at}: status or success");
    assert!(m.dns_servers().is_ok(), "{at}: DNS servers");
    assert!(m.sntp_servers().is_ok(), "{at}: SNTP servers");
    assert!(m.domain_list().is_ok(), "{at}: domain list");
    assert!(m.ntp_servers().is_ok(), "{at}: NTP servers");
    assert!(
        m.information_refresh_time().is_ok(),
        "{at}: information refresh time"
    );
    assert!(m.sol_max_rt().is_ok(), "{at}: SOL_MAX_RT");
    assert!(m.inf_max_rt().is_ok(), "{at}: INF_MAX_RT");
    assert!(m.client_fqdn().is_ok(), "{at}: client FQDN");
}

#[test]
fn every_golden_v6_packet_reads_as_the_peers_and_tshark_read_it() {
    let files = fixtures();
    assert!(
        files.len() >= 5,
        "expected the captures of kea with dhclient, dhcpcd and dhcp6c and of dnsmasq with \
         dhclient and dhcpcd"
    );
    let mut total = 0;
    for fixture in &files {
        let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
        let json: Value = serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
        let expected = json.as_array().unwrap();
        assert!(!expected.is_empty(), "{name}: no packets");
        let pcap = std::fs::read(fixture.with_extension("pcap")).unwrap();
        let payloads = dhcp6_payloads(&pcap).unwrap();
        assert_eq!(payloads.len(), expected.len(), "{name}: packet count");
        for ((frame, payload), want) in payloads.iter().zip(expected) {
            let at = format!("{name} frame {frame}");
            assert_eq!(want["frame"], *frame, "{at}");
            assert_eq!(want["payload_hex"], hex(payload), "{at}");

            let relayed = Relayed::parse(payload).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert!(relayed.relays.is_empty(), "{at}: no relay on this link");
            let m = relayed.message;
            let tshark = want["tshark"].as_object().unwrap();
            assert_eq!(
                json!(m.kind()),
                tshark["message_type"],
                "{at}: message type"
            );
            assert_eq!(json!(m.transaction_id()), tshark["xid"], "{at}: xid");
            assert!(m.message_type().is_some(), "{at}: a known message type");

            // The independent byte walk in extract.py.
            assert_eq!(json!(m.kind()), want["message_type"], "{at}");
            assert_eq!(json!(m.transaction_id()), want["xid"], "{at}");
            let raw: Vec<Value> = m
                .options()
                .iter()
                .map(|o| json!([o.code.0, hex(o.data)]))
                .collect();
            assert_eq!(Value::Array(raw), want["options"], "{at}: options");

            // Typed values against tshark's decoding.
            for (key, theirs) in tshark {
                if NOT_COMPARED.contains(&key.as_str()) {
                    continue;
                }
                let mine = ours(&m, key)
                    .unwrap_or_else(|| panic!("{at}: no reading for tshark key {key}"));
                assert_eq!(&mine, theirs, "{at}: {key}");
            }
            for e in tshark
                .get("expert")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                assert!(
                    KNOWN_EXPERTS.contains(&e.as_str().unwrap()),
                    "{at}: tshark flagged {e}"
                );
            }

            // No malformed option in a real peer's packet.
            no_accessor_fails(&at, &m);
            assert!(exercise6(payload).is_some(), "{at}");

            // Re-emitted through the builder, byte for byte the same.
            let p = Packet::parse(payload).unwrap_or_else(|e| panic!("{at}: {e}"));
            let mut buf = vec![0u8; payload.len()];
            let n = reemit6(&p, &mut buf, 0).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_eq!(&buf[..n], *payload, "{at}: re-emitted bytes differ");
            total += 1;
        }
    }
    eprintln!(
        "{total} golden DHCPv6 packets checked in {} captures",
        files.len()
    );
}

/// Cuts the value off every `(<name> ...)` option in `shown` (values without parentheses:
/// the option's own text runs to the next `)`), after the first `keep` words.
fn drop_values(shown: &str, name: &str, keep: usize) -> String {
    let open = format!("({name}");
    let mut out = String::new();
    let mut rest = shown;
    while let Some(at) = rest.find(&open) {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let end = from.find(')').unwrap();
        let words: Vec<&str> = from[1..end].split(' ').take(1 + keep).collect();
        out.push('(');
        out.push_str(&words.join(" "));
        rest = &from[end..];
    }
    out.push_str(rest);
    out
}

/// Our Display as tcpdump 4.99 `-v` would print it, where ours says more: tcpdump shows
/// no value for the client FQDN (39) and vendor class (16), no message in a status code
/// (13), and no names for SOL_MAX_RT (82) and INF_MAX_RT (83) in an option request.
fn as_tcpdump_prints_it(shown: &str) -> String {
    let s = drop_values(shown, "Client-FQDN", 0);
    let s = drop_values(&s, "vendor-class", 0);
    let s = drop_values(&s, "status-code", 1);
    s.replace(" SOL_MAX_RT", " opt_82")
        .replace(" INF_MAX_RT", " opt_83")
}

/// Our Display of every packet is tcpdump's `-v` line for it (after the IP and UDP
/// header), where tcpdump decodes as much.
#[test]
fn display_matches_tcpdump() {
    let mut total = 0;
    for fixture in fixtures() {
        let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
        let tcpdump = std::fs::read_to_string(fixture.with_extension("txt")).unwrap();
        let lines: Vec<&str> = tcpdump.lines().collect();
        let pcap = std::fs::read(fixture.with_extension("pcap")).unwrap();
        let payloads = dhcp6_payloads(&pcap).unwrap();
        assert_eq!(
            lines.len(),
            payloads.len(),
            "{name}: one tcpdump line a packet"
        );
        for ((frame, payload), line) in payloads.iter().zip(&lines) {
            let theirs = line
                .split_once("[udp sum ok] ")
                .unwrap_or_else(|| panic!("{name} frame {frame}: checksum not ok: {line}"))
                .1;
            let shown = Packet::parse(payload).unwrap().to_string();
            assert_eq!(
                as_tcpdump_prints_it(&shown),
                theirs,
                "{name} frame {frame}: ours is\n{shown}"
            );
            total += 1;
        }
    }
    assert!(total > 0);
}
