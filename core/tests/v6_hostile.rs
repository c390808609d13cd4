//! Hostile DHCPv6 datagrams, one case per bug class that has produced CVEs in DHCPv6 servers
//! and clients: cut headers, option lengths past the end (at the top and nested), DUIDs of
//! 0 and 1 500 bytes, relays nested past any limit, unknown message types, names with
//! compression pointers or overlong labels, peer text with control bytes. Each is read
//! through every accessor and the display: never a panic, the typed error where one is
//! due, and nothing a peer sends makes the display print a new line.
//!
//! `cargo test -p dhcp-core --test v6_hostile -- --nocapture` prints the count.

mod common;

use dhcp_core::v6::wire::{
    Message, OptionCode, OptionError, Packet, ParseError, Relayed, MAX_RELAY_DEPTH,
};

/// A SOLICIT header (xid 1) followed by `options` as given.
fn solicit(options: &[u8]) -> Vec<u8> {
    let mut b = vec![1, 0, 0, 1];
    b.extend_from_slice(options);
    b
}

/// An option as bytes: code, length (as given, so it can lie), value.
fn opt(code: u16, len: u16, value: &[u8]) -> Vec<u8> {
    let mut b = code.to_be_bytes().to_vec();
    b.extend_from_slice(&len.to_be_bytes());
    b.extend_from_slice(value);
    b
}

/// An option whose length is its value's.
fn ok(code: u16, value: &[u8]) -> Vec<u8> {
    opt(code, value.len() as u16, value)
}

/// What a case must come to.
enum Want {
    /// The datagram is refused with this error.
    Refused(ParseError),
    /// It parses; this check on it holds.
    Reads(fn(&Message<'_>) -> bool),
    /// It parses as a relay chain; this check on it holds.
    Relays(fn(&Relayed<'_>) -> bool),
}

fn cases() -> Vec<(&'static str, Vec<u8>, Want)> {
    let ia_na = |inner: &[u8]| {
        let mut v = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        v.extend_from_slice(inner);
        ok(3, &v)
    };
    let deep_ok = common::relay6::relayed(
        &solicit(&ok(1, &[0, 3, 0, 1, 2, 0, 0, 0, 0, 1])),
        MAX_RELAY_DEPTH,
    );
    let too_deep = common::relay6::relayed(&solicit(&[]), MAX_RELAY_DEPTH + 1);
    let very_deep = common::relay6::relayed(&solicit(&[]), 600);
    vec![
        (
            "empty datagram",
            vec![],
            Want::Refused(ParseError::Truncated { len: 0, need: 4 }),
        ),
        (
            "header of 3 bytes",
            vec![1, 0, 0],
            Want::Refused(ParseError::Truncated { len: 3, need: 4 }),
        ),
        (
            "relay header of 33 bytes",
            vec![12; 33],
            Want::Refused(ParseError::Truncated { len: 33, need: 34 }),
        ),
        (
            "option header cut after 2 bytes",
            solicit(&[0, 1]),
            Want::Refused(ParseError::StrayBytes { offset: 0, left: 2 }),
        ),
        (
            "option length past the end",
            solicit(&opt(1, 200, &[0, 3, 0, 1])),
            Want::Refused(ParseError::OptionOverrun {
                code: OptionCode::CLIENT_ID,
                offset: 0,
            }),
        ),
        (
            "option length 65535 with 4 bytes",
            solicit(&opt(6, 65535, &[0, 23, 0, 24])),
            Want::Refused(ParseError::OptionOverrun {
                code: OptionCode::ORO,
                offset: 0,
            }),
        ),
        (
            "second option past the end",
            solicit(&[ok(8, &[0, 0]), opt(3, 12, &[0; 4])].concat()),
            Want::Refused(ParseError::OptionOverrun {
                code: OptionCode::IA_NA,
                offset: 6,
            }),
        ),
        (
            "zero-length client id",
            solicit(&ok(1, &[])),
            Want::Reads(|m| m.client_id().is_err()),
        ),
        (
            "2-byte client id (type only)",
            solicit(&ok(1, &[0, 3])),
            Want::Reads(|m| m.client_id().is_err()),
        ),
        (
            "130-byte DUID (the most)",
            solicit(&ok(1, &[[0u8, 2].as_slice(), &[7; 128]].concat())),
            Want::Reads(|m| {
                m.client_id()
                    .is_ok_and(|d| d.is_some_and(|d| d.as_bytes().len() == 130))
            }),
        ),
        (
            "131-byte DUID",
            solicit(&ok(1, &[7; 131])),
            Want::Reads(|m| m.client_id().is_err()),
        ),
        (
            "1 500-byte DUID",
            solicit(&ok(1, &[7; 1500])),
            Want::Reads(|m| m.client_id().is_err()),
        ),
        (
            "1 500-byte server id",
            solicit(&ok(2, &[0; 1500])),
            Want::Reads(|m| m.server_id().is_err()),
        ),
        (
            "IA_NA of 11 bytes",
            solicit(&ok(3, &[0; 11])),
            Want::Reads(|m| m.ia_nas().all(|i| i.is_err())),
        ),
        (
            "IA_NA whose IA_ADDR runs past it",
            solicit(&ia_na(&opt(5, 24, &[0; 8]))),
            Want::Reads(|m| matches!(m.ia_nas().next(), Some(Err(OptionError::Nested { .. })))),
        ),
        (
            "IA_ADDR of 23 bytes",
            solicit(&ia_na(&ok(5, &[0; 23]))),
            Want::Reads(|m| {
                m.ia_nas()
                    .next()
                    .unwrap()
                    .unwrap()
                    .addresses()
                    .all(|a| a.is_err())
            }),
        ),
        (
            "IA_ADDR whose status runs past it",
            solicit(&ia_na(&ok(
                5,
                &[[0u8; 24].as_slice(), &opt(13, 40, &[0, 2])].concat(),
            ))),
            Want::Reads(|m| {
                m.ia_nas()
                    .next()
                    .unwrap()
                    .unwrap()
                    .addresses()
                    .all(|a| a.is_err())
            }),
        ),
        (
            "IA_PD prefix length 129",
            solicit(&ok(
                25,
                &[
                    [0u8; 12].as_slice(),
                    &ok(26, &[[0u8; 8].as_slice(), &[129], &[0; 16]].concat()),
                ]
                .concat(),
            )),
            Want::Reads(|m| {
                m.ia_pds()
                    .next()
                    .unwrap()
                    .unwrap()
                    .prefixes()
                    .all(|p| p.is_err())
            }),
        ),
        (
            "IA_TA of 3 bytes",
            solicit(&ok(4, &[0; 3])),
            Want::Reads(|m| m.ia_tas().all(|i| i.is_err())),
        ),
        (
            "a thousand IA_NAs",
            solicit(&ia_na(&[]).repeat(1000)),
            Want::Reads(|m| m.ia_nas().count() == 1000),
        ),
        (
            "IA_NA nested in IA_NA in IA_NA",
            solicit(&ia_na(&ia_na(&ia_na(&[])))),
            Want::Reads(|m| m.ia_nas().count() == 1),
        ),
        (
            "option request of odd length",
            solicit(&ok(6, &[0, 23, 0])),
            Want::Reads(|m| m.option_request().is_err()),
        ),
        (
            "elapsed time of 3 bytes",
            solicit(&ok(8, &[0, 0, 0])),
            Want::Reads(|m| m.elapsed_time().is_err()),
        ),
        (
            "preference of 2 bytes",
            solicit(&ok(7, &[1, 2])),
            Want::Reads(|m| m.preference().is_err()),
        ),
        (
            "rapid commit with a value",
            solicit(&ok(14, &[1])),
            Want::Reads(|m| m.rapid_commit().is_err()),
        ),
        (
            "status code of 1 byte",
            solicit(&ok(13, &[0])),
            Want::Reads(|m| m.status().is_err()),
        ),
        (
            "status message with newlines and escapes",
            solicit(&ok(13, b"\x00\x00line\nforged\x1b[2J\xff")),
            Want::Reads(|m| !m.to_string().contains('\n') && !m.to_string().contains('\x1b')),
        ),
        (
            "DNS servers of 15 bytes",
            solicit(&ok(23, &[0; 15])),
            Want::Reads(|m| m.dns_servers().is_err()),
        ),
        (
            "empty DNS server list",
            solicit(&ok(23, &[])),
            Want::Reads(|m| m.dns_servers().is_err()),
        ),
        (
            "domain list with a compression pointer",
            solicit(&ok(24, &[3, b'f', b'o', b'o', 0xc0, 0])),
            Want::Reads(|m| m.domain_list().is_err()),
        ),
        (
            "domain list with a 64-byte label",
            solicit(&ok(24, &[[64u8].as_slice(), &[b'a'; 64], &[0]].concat())),
            Want::Reads(|m| m.domain_list().is_err()),
        ),
        (
            "domain name over 255 bytes",
            solicit(&ok(
                24,
                &[[63u8].as_slice(), &[b'a'; 63]].concat().repeat(5),
            )),
            Want::Reads(|m| m.domain_list().is_err()),
        ),
        (
            "domain name without its root label",
            solicit(&ok(24, &[3, b'f', b'o', b'o'])),
            Want::Reads(|m| m.domain_list().is_err()),
        ),
        (
            "label length past the option",
            solicit(&ok(24, &[9, b'a', 0])),
            Want::Reads(|m| m.domain_list().is_err()),
        ),
        (
            "FQDN with N and S both",
            solicit(&ok(39, &[5, 1, b'a', 0])),
            Want::Reads(|m| m.client_fqdn().is_err()),
        ),
        (
            "FQDN with reserved flag bits",
            solicit(&ok(39, &[0x80])),
            Want::Reads(|m| m.client_fqdn().is_err()),
        ),
        (
            "FQDN of 0 bytes",
            solicit(&ok(39, &[])),
            Want::Reads(|m| m.client_fqdn().is_err()),
        ),
        (
            "FQDN with bytes after the name",
            solicit(&ok(39, &[0, 1, b'a', 0, 7])),
            Want::Reads(|m| m.client_fqdn().is_err()),
        ),
        (
            "NTP server with a 15-byte address",
            solicit(&ok(56, &ok(1, &[0; 15]))),
            Want::Reads(|m| m.ntp_servers().is_err()),
        ),
        (
            "NTP server sub-option past the end",
            solicit(&ok(56, &opt(1, 16, &[0; 4]))),
            Want::Reads(|m| m.ntp_servers().is_err()),
        ),
        (
            "SOL_MAX_RT of 2 bytes",
            solicit(&ok(82, &[0, 1])),
            Want::Reads(|m| m.sol_max_rt().is_err()),
        ),
        (
            "unknown message type 0",
            vec![0, 0, 0, 1],
            Want::Reads(|m| m.message_type().is_none()),
        ),
        (
            "unknown message type 14",
            vec![14, 0, 0, 1],
            Want::Reads(|m| m.message_type().is_none()),
        ),
        (
            "unknown message type 255",
            vec![255, 1, 2, 3],
            Want::Reads(|m| m.message_type().is_none()),
        ),
        (
            "unknown option codes",
            solicit(&[ok(65535, &[1]), ok(0, &[]), ok(999, &[0; 300])].concat()),
            Want::Reads(|m| m.options().iter().count() == 3),
        ),
        (
            "relay without a relay message",
            [vec![12, 0], vec![0; 32]].concat(),
            Want::Refused(ParseError::NoRelayMessage),
        ),
        (
            "relay whose relay message is garbage",
            [vec![12, 0], vec![0; 32], ok(9, &[1, 2])].concat(),
            Want::Refused(ParseError::Truncated { len: 2, need: 4 }),
        ),
        (
            "relay whose relay message is empty",
            [vec![12, 0], vec![0; 32], ok(9, &[])].concat(),
            Want::Refused(ParseError::Truncated { len: 0, need: 4 }),
        ),
        (
            "relay remote id of 4 bytes",
            relayed_with(&ok(37, &[0; 4])),
            Want::Relays(|r| r.relays[0].remote_id().is_err()),
        ),
        (
            "relay link-layer address of 2 bytes",
            relayed_with(&ok(79, &[0, 1])),
            Want::Relays(|r| r.relays[0].client_link_layer_address().is_err()),
        ),
        (
            "relay interface id of 1 500 bytes",
            relayed_with(&ok(18, &[b'\n'; 1500])),
            Want::Relays(|r| r.relays[0].interface_id().is_some_and(|i| i.len() == 1500)),
        ),
        (
            "32 nested relays (the most)",
            deep_ok,
            Want::Relays(|r| r.relays.len() == MAX_RELAY_DEPTH),
        ),
        (
            "33 nested relays",
            too_deep,
            Want::Refused(ParseError::TooDeep(MAX_RELAY_DEPTH)),
        ),
        (
            "600 nested relays",
            very_deep,
            Want::Refused(ParseError::TooDeep(MAX_RELAY_DEPTH)),
        ),
        (
            "relay reply hop count 255",
            [vec![13, 255], vec![0; 32], ok(9, &solicit(&[]))].concat(),
            Want::Relays(|r| r.relays[0].hop_count() == 255),
        ),
    ]
}

/// A RELAY-FORW with `options` before the relay message (a valid SOLICIT).
fn relayed_with(options: &[u8]) -> Vec<u8> {
    [
        vec![12, 0],
        vec![0; 32],
        options.to_vec(),
        ok(9, &solicit(&[])),
    ]
    .concat()
}

#[test]
fn every_hostile_datagram_is_read_without_a_panic_and_gets_its_answer() {
    let cases = cases();
    let mut passed = 0;
    for (name, bytes, want) in &cases {
        // Every accessor and the display, whatever the outcome.
        let _ = common::exercise6::exercise6(bytes);
        let shown = Packet::parse(bytes).map(|p| p.to_string());
        if let Ok(s) = &shown {
            assert!(
                !s.contains('\n'),
                "{name}: the display printed a new line: {s}"
            );
        }
        match want {
            Want::Refused(e) => {
                let got = Relayed::parse(bytes).err();
                assert_eq!(got.as_ref(), Some(e), "{name}");
            }
            Want::Reads(check) => {
                let m = Message::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(check(&m), "{name}: {m}");
            }
            Want::Relays(check) => {
                let r = Relayed::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(check(&r), "{name}");
            }
        }
        passed += 1;
    }
    println!(
        "hostile v6 datagrams: {} cases tried, {passed} passed (codec: typed answer, no panic)",
        cases.len()
    );
}

/// The same datagrams into the server machine: each is answered or dropped and counted,
/// never a panic; a datagram the codec refuses is dropped as malformed (or too deeply
/// relayed); every reply parses.
#[test]
fn the_server_machine_drops_and_counts_every_hostile_datagram() {
    use dhcp_core::time::Instant;
    use dhcp_core::v6::server::{
        DropReason6, Ipv6Net, Pool6, RecvMeta6, Server6, Server6Config, Subnet6Config,
    };
    use std::net::{Ipv6Addr, SocketAddrV6};

    let mut c = Server6Config::new(vec![0, 3, 0, 1, 2, 0, 0, 0, 0, 1]);
    let mut s = Subnet6Config::new(Ipv6Net::new("2001:db8::".parse().unwrap(), 64));
    s.pools.push(Pool6::new(
        "2001:db8::10".parse().unwrap(),
        "2001:db8::ff".parse().unwrap(),
    ));
    c.subnets.push(s);
    let mut server = Server6::new(c, Instant::from_secs(1), 1_800_000_000).unwrap();
    let meta = RecvMeta6 {
        interface: 1,
        source: SocketAddrV6::new(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1), 546, 0, 1),
        multicast: true,
    };
    let cases = cases();
    let mut buf = [0u8; 4096];
    for (name, bytes, want) in &cases {
        let dropped_before: u64 = server.stats().dropped.iter().sum();
        server.handle_packet(Instant::from_secs(2), &meta, bytes);
        while let Some(r) = server.poll_persist() {
            server.persisted(r.seq);
        }
        let mut replies = 0;
        while let Some(t) = server.poll_transmit(&mut buf) {
            assert!(
                Packet::parse(&buf[..t.len]).is_ok(),
                "{name}: a reply that does not parse"
            );
            replies += 1;
        }
        let dropped: u64 = server.stats().dropped.iter().sum::<u64>() - dropped_before;
        assert_eq!(replies + dropped, 1, "{name}: answered or dropped, once");
        if let Want::Refused(e) = want {
            let reason = if matches!(e, ParseError::TooDeep(_)) {
                DropReason6::TooManyRelays
            } else {
                DropReason6::Malformed
            };
            assert_eq!(dropped, 1, "{name}");
            assert!(
                server.stats().dropped(reason) > 0,
                "{name}: counted as {reason:?}"
            );
        }
    }
    println!(
        "hostile v6 datagrams into the server: {} cases, 0 panics",
        cases.len()
    );
}
