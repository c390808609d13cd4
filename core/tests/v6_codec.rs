//! The DHCPv6 codec (RFC 8415 sections 8, 9, 21): messages laid out by hand from the RFC's
//! figures read back field by field; every option the builder writes read back; relays
//! nested and unwrapped; the tcpdump-style display; arbitrary bytes never panic, and
//! `parse(emit(m))` gives `m` back.

mod common;

use std::net::Ipv6Addr;

use dhcp_core::v6::wire::typed::{DuidKind, NtpServer};
use dhcp_core::v6::wire::Message;
use dhcp_core::v6::wire::{
    EmitError, Expected, MessageBuilder, MessageType, OptionCode, OptionError, Packet, ParseError,
    RelayMessage, Relayed, Status, MAX_RELAY_DEPTH,
};
use proptest::prelude::*;

fn ip(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// A SOLICIT as RFC 8415 lays it out (section 8 header, section 21 options), written byte
/// by byte: client id (DUID-LL), elapsed time, an IA_NA with an address hint, an option
/// request, rapid commit.
const SOLICIT: &[u8] = &[
    1, 0x12, 0x34, 0x56, // SOLICIT, xid 0x123456
    0, 1, 0, 10, 0, 3, 0, 1, 2, 0, 0, 0, 0,
    1, // client id: DUID-LL, Ethernet, 02:00:00:00:00:01
    0, 8, 0, 2, 0, 0, // elapsed time 0
    0, 3, 0, 40, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, // IA_NA IAID 7, T1 0, T2 0
    0, 5, 0, 24, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x42, // IA_ADDR 2001:db8::42
    0, 0, 0, 0, 0, 0, 0, 0, //   lifetimes 0, 0
    0, 6, 0, 4, 0, 23, 0, 24, // ORO: DNS servers, domain list
    0, 14, 0, 0, // rapid commit
];

#[test]
fn a_solicit_laid_out_by_the_rfc_reads_back() {
    let m = Message::parse(SOLICIT).unwrap();
    assert_eq!(m.message_type(), Some(MessageType::Solicit));
    assert_eq!(m.transaction_id(), 0x12_3456);
    let id = m.client_id().unwrap().unwrap();
    assert_eq!(
        id.kind(),
        DuidKind::LinkLayer {
            hardware_type: 1,
            address: &[2, 0, 0, 0, 0, 1]
        }
    );
    assert_eq!(m.elapsed_time().unwrap(), Some(0));
    let ias: Vec<_> = m.ia_nas().collect::<Result<_, _>>().unwrap();
    assert_eq!(ias.len(), 1);
    assert_eq!((ias[0].iaid, ias[0].t1, ias[0].t2), (7, 0, 0));
    let hint = ias[0].addresses().next().unwrap().unwrap();
    assert_eq!(hint.address, ip("2001:db8::42"));
    let oro: Vec<_> = m.option_request().unwrap().unwrap().iter().collect();
    assert_eq!(oro, [OptionCode::DNS_SERVERS, OptionCode::DOMAIN_LIST]);
    assert!(m.rapid_commit().unwrap());
    assert_eq!(m.server_id().unwrap(), None);
    assert_eq!(m.status_or_success().unwrap(), Status::SUCCESS);
    assert_eq!(
        m.to_string(),
        "dhcp6 solicit (xid=123456 (client-ID hwaddr type 1 020000000001) (elapsed-time 0) \
         (IA_NA IAID:7 T1:0 T2:0 (IA_ADDR 2001:db8::42 pltime:0 vltime:0)) \
         (option-request DNS-server DNS-search-list) (rapid-commit))"
    );
}

/// An ADVERTISE with everything a server sends, written by the builder and read back.
#[test]
fn every_option_the_builder_writes_reads_back() {
    let mut buf = [0u8; 1500];
    let mut b = MessageBuilder::new(&mut buf, MessageType::Advertise, 0xabcdef).unwrap();
    let server = [0, 1, 0, 1, 0x2b, 0x3c, 0x4d, 0x5e, 2, 0, 0, 0, 0, 0xaa];
    b.client_id(&[0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])
        .unwrap()
        .server_id(&server)
        .unwrap()
        .preference(255)
        .unwrap()
        .ia_na(1, 1800, 2880, |b| {
            b.ia_address(ip("2001:db8::100"), 3000, 3600, |_| Ok(()))?;
            Ok(())
        })
        .unwrap()
        .ia_na(2, 0, 0, |b| {
            b.status(Status::NO_ADDRS_AVAIL, "none left")?;
            Ok(())
        })
        .unwrap()
        .ia_pd(9, 1800, 2880, |b| {
            b.ia_prefix(3000, 3600, 56, ip("2001:db8:100::"), |_| Ok(()))?;
            Ok(())
        })
        .unwrap()
        .dns_servers(&[ip("2001:db8::53"), ip("2001:db8::54")])
        .unwrap()
        .domain_list(&["example.test", "lab.example.test."])
        .unwrap()
        .sntp_servers(&[ip("2001:db8::123")])
        .unwrap()
        .information_refresh_time(86400)
        .unwrap()
        .sol_max_rt(3600)
        .unwrap()
        .inf_max_rt(3600)
        .unwrap()
        .client_fqdn(1, "host.example.test.")
        .unwrap()
        .reconfigure_accept()
        .unwrap()
        .status(Status::SUCCESS, "all went well")
        .unwrap();
    let n = b.finish();
    let m = Message::parse(&buf[..n]).unwrap();
    assert_eq!(m.message_type(), Some(MessageType::Advertise));
    assert_eq!(m.transaction_id(), 0xabcdef);
    assert!(matches!(m.client_id().unwrap().unwrap().kind(), DuidKind::Uuid(u) if u[15] == 16));
    assert_eq!(
        m.server_id().unwrap().unwrap().kind(),
        DuidKind::LinkLayerTime {
            hardware_type: 1,
            time: 0x2b3c_4d5e,
            address: &[2, 0, 0, 0, 0, 0xaa]
        }
    );
    assert_eq!(m.preference().unwrap(), Some(255));
    let ias: Vec<_> = m.ia_nas().collect::<Result<_, _>>().unwrap();
    let a = ias[0].addresses().next().unwrap().unwrap();
    assert_eq!(
        (a.address, a.preferred, a.valid),
        (ip("2001:db8::100"), 3000, 3600)
    );
    let s = ias[1].status().unwrap().unwrap();
    assert_eq!(
        (s.status, s.message),
        (Status::NO_ADDRS_AVAIL, &b"none left"[..])
    );
    let pd = m.ia_pds().next().unwrap().unwrap();
    let p = pd.prefixes().next().unwrap().unwrap();
    assert_eq!(
        (p.prefix, p.prefix_len, pd.iaid),
        (ip("2001:db8:100::"), 56, 9)
    );
    let dns: Vec<_> = m.dns_servers().unwrap().unwrap().iter().collect();
    assert_eq!(dns, [ip("2001:db8::53"), ip("2001:db8::54")]);
    let names: Vec<String> = m
        .domain_list()
        .unwrap()
        .unwrap()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, ["example.test.", "lab.example.test."]);
    assert_eq!(
        m.sntp_servers().unwrap().unwrap().iter().next(),
        Some(ip("2001:db8::123"))
    );
    assert_eq!(m.information_refresh_time().unwrap(), Some(86400));
    assert_eq!(
        (m.sol_max_rt().unwrap(), m.inf_max_rt().unwrap()),
        (Some(3600), Some(3600))
    );
    let q = m.client_fqdn().unwrap().unwrap();
    assert_eq!(
        (q.flags, q.name.unwrap().to_string()),
        (1, "host.example.test.".to_string())
    );
    assert!(m.reconfigure_accept().unwrap());
    assert_eq!(m.status_or_success().unwrap(), Status::SUCCESS);
    let shown = m.to_string();
    for part in [
        "dhcp6 advertise (xid=abcdef",
        "(server-ID hwaddr/time type 1 time 725372254 0200000000aa)",
        "(preference 255)",
        "(IA_NA IAID:1 T1:1800 T2:2880 (IA_ADDR 2001:db8::100 pltime:3000 vltime:3600))",
        "(IA_NA IAID:2 T1:0 T2:0 (status-code NoAddrsAvail none left))",
        "(IA_PD IAID:9 T1:1800 T2:2880 (IA_PD-prefix 2001:db8:100::/56 pltime:3000 vltime:3600))",
        "(DNS-server 2001:db8::53 2001:db8::54)",
        "(DNS-search-list example.test. lab.example.test.)",
        "(Client-FQDN S host.example.test.)",
    ] {
        assert!(shown.contains(part), "{part} in {shown}");
    }
}

/// RFC 8415 section 9: a RELAY-FORW carries the client's message in option 9; relays nest,
/// and the server reads each relay's interface id, remote id and link-layer address.
#[test]
fn relays_nest_and_unwrap() {
    let mut inner = [0u8; 600];
    let mut r1 = MessageBuilder::relay(
        &mut inner,
        MessageType::RelayForw,
        0,
        ip("2001:db8:1::1"),
        ip("fe80::1"),
    )
    .unwrap();
    r1.interface_id(b"eth0")
        .unwrap()
        .remote_id(9, b"cpe-7")
        .unwrap()
        .client_link_layer_address(1, &[2, 0, 0, 0, 0, 1])
        .unwrap()
        .subscriber_id(b"sub")
        .unwrap()
        .relay_message(SOLICIT)
        .unwrap();
    let n1 = r1.finish();
    let mut outer = [0u8; 700];
    let mut r2 = MessageBuilder::relay(
        &mut outer,
        MessageType::RelayForw,
        1,
        Ipv6Addr::UNSPECIFIED,
        ip("2001:db8:1::1"),
    )
    .unwrap();
    r2.interface_id(b"up0")
        .unwrap()
        .relay_message(&inner[..n1])
        .unwrap();
    let n2 = r2.finish();
    let relayed = Relayed::parse(&outer[..n2]).unwrap();
    assert_eq!(relayed.relays.len(), 2);
    assert_eq!(relayed.relays[0].hop_count(), 1);
    assert_eq!(relayed.relays[0].interface_id(), Some(&b"up0"[..]));
    let first = relayed.innermost_relay().unwrap();
    assert_eq!(first.link_address(), ip("2001:db8:1::1"));
    assert_eq!(first.peer_address(), ip("fe80::1"));
    assert_eq!(first.interface_id(), Some(&b"eth0"[..]));
    let rid = first.remote_id().unwrap().unwrap();
    assert_eq!((rid.enterprise, rid.id), (9, &b"cpe-7"[..]));
    assert_eq!(
        first.client_link_layer_address().unwrap().unwrap().address,
        &[2, 0, 0, 0, 0, 1]
    );
    assert_eq!(first.subscriber_id(), Some(&b"sub"[..]));
    assert_eq!(relayed.message.transaction_id(), 0x12_3456);
    let shown = Packet::parse(&outer[..n2]).unwrap().to_string();
    assert!(
        shown.starts_with(
            "dhcp6 relay-fwd (hop-count 1 linkaddr=:: peeraddr=2001:db8:1::1 (interface-ID 757030) \
             (relay-message (dhcp6 relay-fwd (hop-count 0 linkaddr=2001:db8:1::1 peeraddr=fe80::1"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("(relay-message (dhcp6 solicit (xid=123456"),
        "{shown}"
    );
}

/// Wrapped `depth` times around a SOLICIT.
fn nested(depth: usize) -> Vec<u8> {
    common::relay6::relayed(SOLICIT, depth)
}

#[test]
fn relay_nesting_is_bounded() {
    let ok = nested(MAX_RELAY_DEPTH);
    assert_eq!(Relayed::parse(&ok).unwrap().relays.len(), MAX_RELAY_DEPTH);
    let deep = nested(MAX_RELAY_DEPTH + 1);
    assert_eq!(
        Relayed::parse(&deep),
        Err(ParseError::TooDeep(MAX_RELAY_DEPTH))
    );
    // Display stops descending at the same depth and shows the rest as bytes.
    let shown = Packet::parse(&nested(200)).unwrap().to_string();
    assert_eq!(shown.matches("relay-fwd").count(), MAX_RELAY_DEPTH + 1);
}

#[test]
fn malformed_input_gets_typed_errors() {
    assert_eq!(
        Message::parse(&[1, 2, 3]),
        Err(ParseError::Truncated { len: 3, need: 4 })
    );
    assert_eq!(
        Message::parse(&[1, 0, 0, 0, 0, 1, 0, 9, 1]),
        Err(ParseError::OptionOverrun {
            code: OptionCode::CLIENT_ID,
            offset: 0
        })
    );
    assert_eq!(
        Message::parse(&[1, 0, 0, 0, 0, 1]),
        Err(ParseError::StrayBytes { offset: 0, left: 2 })
    );
    assert_eq!(Message::parse(&[12; 40]), Err(ParseError::WrongKind(12)));
    assert_eq!(
        RelayMessage::parse(&[12; 20]),
        Err(ParseError::Truncated { len: 20, need: 34 })
    );
    assert_eq!(RelayMessage::parse(&[1; 40]), Err(ParseError::WrongKind(1)));
    let mut no_inner = [0u8; 34];
    no_inner[0] = 12;
    assert_eq!(Relayed::parse(&no_inner), Err(ParseError::NoRelayMessage));
    // Unknown types parse, and say so.
    let m = Message::parse(&[200, 0, 0, 1]).unwrap();
    assert_eq!(
        (m.message_type(), m.to_string().as_str()),
        (None, "dhcp6 msgtype 200 (xid=1)")
    );
    // A bad option doesn't stop the others being read.
    let m = Message::parse(&[1, 0, 0, 0, 0, 1, 0, 1, 9, 0, 8, 0, 2, 0, 5]).unwrap();
    assert_eq!(
        m.client_id(),
        Err(OptionError::BadLength {
            code: OptionCode::CLIENT_ID,
            len: 1,
            expected: Expected::AtLeast(3)
        })
    );
    assert_eq!(m.elapsed_time().unwrap(), Some(5));
    assert!(m.to_string().contains("(client-ID 09)"), "{m}");
}

#[test]
fn the_builder_refuses_what_it_cannot_write_and_keeps_the_rest() {
    let mut buf = [0u8; 40];
    let mut b = MessageBuilder::new(&mut buf, MessageType::Reply, 1).unwrap();
    b.elapsed_time(1).unwrap();
    assert_eq!(
        b.client_id(&[0, 1]).unwrap_err(),
        EmitError::BadValue {
            code: OptionCode::CLIENT_ID,
            what: "a DUID is 3 to 130 bytes"
        }
    );
    assert!(matches!(
        b.ia_na(1, 0, 0, |b| {
            b.ia_address(ip("::1"), 0, 0, |_| Ok(()))?;
            Ok(())
        }),
        Err(EmitError::BufferTooSmall { .. })
    ));
    assert!(b.domain_list(&["a..b"]).is_err());
    let n = b.finish();
    assert_eq!(n, 10, "the header and the elapsed time only");
    let m = Message::parse(&buf[..n]).unwrap();
    assert_eq!(m.options().iter().count(), 1);
    let mut big = vec![0u8; 70_000];
    let mut b = MessageBuilder::new(&mut big, MessageType::Reply, 1).unwrap();
    assert!(matches!(
        b.option(OptionCode(999), &[0; 65_536]),
        Err(EmitError::TooLong { len: 65_536, .. })
    ));
}

#[test]
fn ntp_server_sub_options_read_back() {
    let mut buf = [0u8; 200];
    let mut b = MessageBuilder::new(&mut buf, MessageType::Reply, 1).unwrap();
    b.nested(OptionCode::NTP_SERVER, |b| {
        b.option(OptionCode(1), &ip("2001:db8::123").octets())?;
        b.option(OptionCode(3), b"\x03ntp\x07example\x00")?;
        Ok(())
    })
    .unwrap();
    let n = b.finish();
    let m = Message::parse(&buf[..n]).unwrap();
    let servers: Vec<String> = m
        .ntp_servers()
        .unwrap()
        .unwrap()
        .iter()
        .map(|s| match s {
            NtpServer::Address(a) => a.to_string(),
            NtpServer::Multicast(a) => format!("m {a}"),
            NtpServer::Name(n) => n.to_string(),
        })
        .collect();
    assert_eq!(servers, ["2001:db8::123", "ntp.example."]);
}

/// An address of the model: the address and its two lifetimes.
type AddressModel = ([u8; 16], u32, u32);
/// An IA_NA of the model: IAID, T1, T2 and its addresses.
type IaModel = (u32, u32, u32, Vec<AddressModel>);

/// A message's model for the round trip.
#[derive(Debug, Clone)]
struct Model {
    kind: u8,
    xid: u32,
    client: Vec<u8>,
    ias: Vec<IaModel>,
    oro: Vec<u16>,
    elapsed: Option<u16>,
    dns: Vec<[u8; 16]>,
    other: Vec<(u16, Vec<u8>)>,
}

fn model() -> impl Strategy<Value = Model> {
    (
        (1u8..=11, 0u32..1 << 24),
        proptest::collection::vec(any::<u8>(), 3..=130),
        proptest::collection::vec(
            (
                any::<u32>(),
                any::<u32>(),
                any::<u32>(),
                proptest::collection::vec((any::<[u8; 16]>(), any::<u32>(), any::<u32>()), 0..3),
            ),
            0..3,
        ),
        proptest::collection::vec(any::<u16>(), 0..6),
        proptest::option::of(any::<u16>()),
        proptest::collection::vec(any::<[u8; 16]>(), 0..3),
        proptest::collection::vec(
            (100u16..200, proptest::collection::vec(any::<u8>(), 0..40)),
            0..4,
        ),
    )
        .prop_map(
            |((kind, xid), client, ias, oro, elapsed, dns, other)| Model {
                kind,
                xid,
                client,
                ias,
                oro,
                elapsed,
                dns,
                other,
            },
        )
}

fn emit(m: &Model) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let kind = MessageType::from_u8(m.kind).unwrap();
    let mut b = MessageBuilder::new(&mut buf, kind, m.xid).unwrap();
    b.client_id(&m.client).unwrap();
    for (iaid, t1, t2, addrs) in &m.ias {
        b.ia_na(*iaid, *t1, *t2, |b| {
            for (a, p, v) in addrs {
                b.ia_address(Ipv6Addr::from(*a), *p, *v, |_| Ok(()))?;
            }
            Ok(())
        })
        .unwrap();
    }
    let oro: Vec<OptionCode> = m.oro.iter().map(|c| OptionCode(*c)).collect();
    b.option_request(&oro).unwrap();
    if let Some(e) = m.elapsed {
        b.elapsed_time(e).unwrap();
    }
    if !m.dns.is_empty() {
        let dns: Vec<Ipv6Addr> = m.dns.iter().map(|a| Ipv6Addr::from(*a)).collect();
        b.dns_servers(&dns).unwrap();
    }
    for (c, v) in &m.other {
        b.option(OptionCode(*c), v).unwrap();
    }
    let n = b.finish();
    buf.truncate(n);
    buf
}

proptest! {
    #[test]
    fn parse_of_emit_is_the_model(m in model()) {
        let bytes = emit(&m);
        let p = Message::parse(&bytes).unwrap();
        prop_assert_eq!(p.kind(), m.kind);
        prop_assert_eq!(p.transaction_id(), m.xid);
        prop_assert_eq!(p.client_id().unwrap().unwrap().as_bytes(), &m.client[..]);
        let ias: Vec<_> = p.ia_nas().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(ias.len(), m.ias.len());
        for (got, want) in ias.iter().zip(&m.ias) {
            prop_assert_eq!((got.iaid, got.t1, got.t2), (want.0, want.1, want.2));
            let addrs: Vec<_> = got.addresses().collect::<Result<_, _>>().unwrap();
            let got: Vec<_> = addrs.iter().map(|a| (a.address.octets(), a.preferred, a.valid)).collect();
            prop_assert_eq!(&got, &want.3);
        }
        let oro: Vec<u16> = p.option_request().unwrap().unwrap().iter().map(|c| c.0).collect();
        prop_assert_eq!(oro, m.oro.clone());
        prop_assert_eq!(p.elapsed_time().unwrap(), m.elapsed);
        let dns: Vec<[u8; 16]> = p.dns_servers().unwrap().map(|l| l.iter().map(|a| a.octets()).collect()).unwrap_or_default();
        prop_assert_eq!(dns, m.dns.clone());
        for (c, v) in &m.other {
            prop_assert!(p.options().all(OptionCode(*c)).any(|d| d == &v[..]));
        }
        prop_assert!(common::exercise6::exercise6(&bytes).is_some());
    }

    /// Whatever parses comes out of the builder byte for byte, nested options rebuilt.
    #[test]
    fn a_parsed_datagram_re_emits_to_the_same_bytes(m in model(), depth in 0usize..4) {
        let bytes = common::relay6::relayed(&emit(&m), depth);
        let p = Packet::parse(&bytes).unwrap();
        let mut buf = vec![0u8; bytes.len()];
        let n = common::reemit6::reemit6(&p, &mut buf, 0).unwrap();
        prop_assert_eq!(&buf[..n], &bytes[..]);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = common::exercise6::exercise6(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(m in model(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = emit(&m);
        for (at, v) in flips {
            let i = at % bytes.len();
            bytes[i] = v;
        }
        let _ = common::exercise6::exercise6(&bytes);
    }
}

/// The committed fuzz seeds (one datagram of each kind: SOLICIT with IA_NA and IA_PD,
/// ADVERTISE, a REPLY with status codes, INFORMATION-REQUEST, relays one and two deep,
/// RELAY-REPL; and the 38 golden packets from kea-dhcp6 and dnsmasq with dhclient, dhcpcd
/// and dhcp6c, `<fixture>-<frame>.bin`) parse whole and re-emit to the same bytes.
#[test]
fn the_v6_fuzz_seeds_parse_and_re_emit() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds-parse6");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let relayed = Relayed::parse(&bytes).unwrap();
        assert!(relayed.message.client_id().is_ok());
        assert!(relayed.message.ia_nas().all(|i| i.is_ok()));
        let p = Packet::parse(&bytes).unwrap();
        let mut buf = vec![0u8; bytes.len()];
        let n = common::reemit6::reemit6(&p, &mut buf, 0).unwrap();
        assert_eq!(&buf[..n], &bytes[..]);
        seen += 1;
    }
    assert_eq!(seen, 45);
}

/// Display prints what tcpdump 4.99 `-v` prints, found against real peers' packets
/// (`golden/dnsmasq-dhclient6`, frame 3: dhclient's REQUEST with xid 0x01af39, and every
/// packet carrying option 39): the transaction id in hex without leading zeros
/// (`xid=1af39`, it was `xid=01af39`), and options 37, 38, 39 named `Remote-ID`,
/// `Subscriber-ID`, `Client-FQDN` (they were lower-case).
#[test]
fn display_follows_tcpdump_for_short_xids_and_option_names() {
    // dhclient's REQUEST, cut to its header and client FQDN option (flags 0,
    // "gold-dhclient6.example.test.").
    let mut request = vec![3, 0x01, 0xaf, 0x39, 0, 39, 0, 30, 0];
    for label in ["gold-dhclient6", "example", "test"] {
        request.push(label.len() as u8);
        request.extend_from_slice(label.as_bytes());
    }
    request.push(0);
    let m = Message::parse(&request).unwrap();
    assert_eq!(
        m.to_string(),
        "dhcp6 request (xid=1af39 (Client-FQDN gold-dhclient6.example.test.))"
    );
    assert_eq!(
        Message::parse(&[1, 0, 0, 0]).unwrap().to_string(),
        "dhcp6 solicit (xid=0)"
    );
    assert_eq!(OptionCode::REMOTE_ID.name(), Some("Remote-ID"));
    assert_eq!(OptionCode::SUBSCRIBER_ID.name(), Some("Subscriber-ID"));
    assert_eq!(OptionCode::CLIENT_FQDN.name(), Some("Client-FQDN"));
}
