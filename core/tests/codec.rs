//! Hand-written cases for the codec: every error, every typed option, overload and RFC 3396.

use std::net::Ipv4Addr;

use dhcp_core::wire::typed::{ClientIdKind, FqdnFlags, FqdnName, RelayAgentInfo, Route};
use dhcp_core::wire::{
    Area, EmitError, Expected, Flags, Message, MessageBuilder, MessageType, Op, OptionCode,
    OptionError, Overload, ParseError, BOOTP_MIN_LEN, OPTIONS_OFFSET,
};

const MAC: [u8; 6] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// A message with a header and the given raw options area (after the cookie).
fn raw(options: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; OPTIONS_OFFSET];
    buf[0] = 1;
    buf[1] = 1;
    buf[2] = 6;
    buf[236..240].copy_from_slice(&[99, 130, 83, 99]);
    buf.extend_from_slice(options);
    buf
}

fn build(f: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), EmitError>) -> Vec<u8> {
    let mut buf = vec![0u8; 1500];
    let mut b = MessageBuilder::new(&mut buf).unwrap();
    b.op(Op::BootRequest).xid(0x53a2_da3f);
    b.chaddr(&MAC).unwrap();
    f(&mut b).unwrap();
    let len = b.finish().unwrap();
    buf.truncate(len);
    buf
}

#[test]
fn header_fields_round_trip() {
    let mut buf = [0u8; 600];
    let mut b = MessageBuilder::new(&mut buf).unwrap();
    b.op(Op::BootReply)
        .htype(1)
        .hops(2)
        .xid(0xdead_beef)
        .secs(7)
        .flags(Flags::BROADCAST)
        .ciaddr(ip("192.0.2.1"))
        .yiaddr(ip("192.0.2.2"))
        .siaddr(ip("192.0.2.3"))
        .giaddr(ip("192.0.2.4"));
    b.chaddr(&MAC).unwrap();
    b.sname(b"server").unwrap().file(b"boot.efi").unwrap();
    b.message_type(MessageType::Offer).unwrap();
    let len = b.finish().unwrap();
    assert_eq!(len, BOOTP_MIN_LEN);
    let m = Message::parse(&buf[..len]).unwrap();
    assert_eq!(m.op(), Op::BootReply);
    assert_eq!((m.htype(), m.hlen(), m.hops()), (1, 6, 2));
    assert_eq!((m.xid(), m.secs()), (0xdead_beef, 7));
    assert_eq!(m.flags(), Flags::BROADCAST);
    assert_eq!(m.ciaddr(), ip("192.0.2.1"));
    assert_eq!(m.yiaddr(), ip("192.0.2.2"));
    assert_eq!(m.siaddr(), ip("192.0.2.3"));
    assert_eq!(m.giaddr(), ip("192.0.2.4"));
    assert_eq!(m.chaddr(), &MAC);
    assert_eq!(m.chaddr_field().len(), 16);
    assert_eq!(m.sname(), Some(&b"server"[..]));
    assert_eq!(m.file(), Some(&b"boot.efi"[..]));
    assert_eq!(m.message_type().unwrap(), Some(MessageType::Offer));
    assert_eq!(m.overload(), None);
}

#[test]
fn parse_errors_are_typed() {
    assert_eq!(
        Message::parse(&[0u8; 239]).unwrap_err(),
        ParseError::Truncated { len: 239 }
    );
    let mut bad_op = raw(&[255]);
    bad_op[0] = 3;
    assert_eq!(Message::parse(&bad_op).unwrap_err(), ParseError::BadOp(3));
    let mut bad_hlen = raw(&[255]);
    bad_hlen[2] = 17;
    assert_eq!(
        Message::parse(&bad_hlen).unwrap_err(),
        ParseError::BadHlen(17)
    );
    let mut bad_cookie = raw(&[255]);
    bad_cookie[239] = 0;
    assert_eq!(
        Message::parse(&bad_cookie).unwrap_err(),
        ParseError::BadMagicCookie([99, 130, 83, 0])
    );
    assert_eq!(
        Message::parse(&raw(&[53, 1, 1, 12, 5, b'a'])).unwrap_err(),
        ParseError::OptionOverrun {
            code: 12,
            offset: 243,
            area: Area::Options
        }
    );
    // A length byte cut off by the end of the buffer.
    assert!(matches!(
        Message::parse(&raw(&[53])).unwrap_err(),
        ParseError::OptionOverrun { code: 53, .. }
    ));
    assert_eq!(
        Message::parse(&raw(&[52, 1, 4, 255])).unwrap_err(),
        ParseError::BadOverload
    );
    assert_eq!(
        Message::parse(&raw(&[52, 2, 1, 1, 255])).unwrap_err(),
        ParseError::BadOverload
    );
    // Errors read well.
    let e = ParseError::OptionOverrun {
        code: 12,
        offset: 243,
        area: Area::File,
    };
    assert_eq!(
        e.to_string(),
        "option 12 at offset 243 overruns the file area"
    );
}

#[test]
fn options_in_wire_order_skip_pad_and_stop_at_end() {
    let buf = raw(&[
        0, 0, 53, 1, 1, 0, 200, 2, 0xab, 0xcd, 255, 12, 3, b'x', b'y', b'z',
    ]);
    let m = Message::parse(&buf).unwrap();
    let opts: Vec<_> = m.options().map(|o| (o.code.0, o.data.to_vec())).collect();
    assert_eq!(opts, vec![(53, vec![1]), (200, vec![0xab, 0xcd])]);
    // Unknown options are kept.
    assert_eq!(m.option(OptionCode(200)).unwrap(), &[0xab, 0xcd][..]);
    // Garbage after the end option is not an option.
    assert!(m.host_name().unwrap().is_none());
    // A missing end option is tolerated when the area ends cleanly.
    let buf = raw(&[53, 1, 3]);
    let m = Message::parse(&buf).unwrap();
    assert_eq!(m.message_type().unwrap(), Some(MessageType::Request));
}

#[test]
fn rfc3396_concatenates_repeated_options() {
    let buf = raw(&[12, 3, b'a', b'b', b'c', 53, 1, 1, 12, 2, b'd', b'e', 255]);
    let m = Message::parse(&buf).unwrap();
    let name = m.option(OptionCode::HOST_NAME).unwrap();
    assert_eq!(name.len(), 5);
    assert!(name.as_slice().is_none());
    assert_eq!(name.segments().count(), 2);
    assert!(name.eq_bytes(b"abcde"));
    let mut out = [0u8; 8];
    assert_eq!(name.copy_to(&mut out).unwrap(), b"abcde");
    assert!(name.copy_to(&mut [0u8; 4]).is_none());
    assert_eq!(name.slice(2..4).unwrap(), &b"cd"[..]);
    assert_eq!(name.slice(3..5).unwrap().as_slice(), Some(&b"de"[..]));
    assert!(name.slice(4..6).is_none());
    assert_eq!(m.host_name().unwrap().unwrap(), "abcde");
}

#[test]
fn long_values_are_split_and_read_back_whole() {
    let value: Vec<u8> = (0..600u32).map(|i| (i % 251) as u8).collect();
    let buf = build(|b| b.option(OptionCode(224), &value).map(drop));
    let m = Message::parse(&buf).unwrap();
    let instances: Vec<_> = m
        .options()
        .filter(|o| o.code.0 == 224)
        .map(|o| o.data.len())
        .collect();
    assert_eq!(instances, vec![255, 255, 90]);
    let got = m.option(OptionCode(224)).unwrap();
    assert!(got.eq_bytes(&value));
    assert_eq!(got.bytes().collect::<Vec<_>>(), value);
}

#[test]
fn overload_moves_options_into_file_then_sname() {
    let mut buf = [0u8; 1500];
    let mut b = MessageBuilder::new(&mut buf).unwrap();
    b.op(Op::BootReply)
        .max_len(300)
        .unwrap()
        .allow_overload(true);
    b.message_type(MessageType::Ack).unwrap();
    let big = [7u8; 40];
    // 60 bytes fit in options (300 - 240 = 60, less end and the 52 option);
    // then 128 in file, 64 in sname.
    for code in 200..205u8 {
        b.option(OptionCode(code), &big).unwrap();
    }
    let len = b.finish().unwrap();
    assert!(len <= 300);
    let m = Message::parse(&buf[..len]).unwrap();
    assert_eq!(m.overload(), Some(Overload::Both));
    assert_eq!(m.sname(), None);
    assert_eq!(m.file(), None);
    for code in 200..205u8 {
        assert!(
            m.option(OptionCode(code)).unwrap().eq_bytes(&big),
            "option {code}"
        );
    }
    assert_eq!(m.message_type().unwrap(), Some(MessageType::Ack));

    // Without overload, the same options do not fit: an error, not a truncated packet.
    let mut b = MessageBuilder::new(&mut buf).unwrap();
    b.max_len(300).unwrap();
    b.option(OptionCode(200), &big).unwrap();
    assert_eq!(
        b.option(OptionCode(201), &big).unwrap_err(),
        EmitError::BufferTooSmall { available: 300 }
    );
}

#[test]
fn overload_parse_reads_file_then_sname() {
    let mut buf = raw(&[52, 1, 3, 53, 1, 5, 12, 2, b'a', b'b', 255]);
    // file: the rest of the host name, then a lease time; sname: a server id.
    buf[108..115].copy_from_slice(&[12, 1, b'c', 51, 1, 0, 255]);
    buf[108 + 3..108 + 7].copy_from_slice(&[51, 4, 0, 0]);
    buf[108 + 7..108 + 9].copy_from_slice(&[0x0e, 0x10]);
    buf[108 + 9] = 255;
    buf[44..51].copy_from_slice(&[54, 4, 192, 0, 2, 1, 255]);
    let m = Message::parse(&buf).unwrap();
    assert_eq!(m.overload(), Some(Overload::Both));
    assert_eq!(m.host_name().unwrap().unwrap(), "abc");
    assert_eq!(m.lease_time().unwrap(), Some(3600));
    assert_eq!(m.server_id().unwrap(), Some(ip("192.0.2.1")));
    // An overrun in file is caught at parse time.
    let mut bad = raw(&[52, 1, 1, 255]);
    bad[108..110].copy_from_slice(&[12, 200]);
    assert!(matches!(
        Message::parse(&bad).unwrap_err(),
        ParseError::OptionOverrun {
            area: Area::File,
            offset: 108,
            ..
        }
    ));
}

#[test]
fn typed_options_read_back() {
    let routes = [
        Route {
            destination: ip("0.0.0.0"),
            prefix_len: 0,
            router: ip("192.0.2.1"),
        },
        Route {
            destination: ip("198.51.100.0"),
            prefix_len: 24,
            router: ip("192.0.2.254"),
        },
        Route {
            destination: ip("10.128.0.0"),
            prefix_len: 9,
            router: ip("192.0.2.253"),
        },
    ];
    let buf = build(|b| {
        b.message_type(MessageType::Ack)?
            .subnet_mask(ip("255.255.255.0"))?
            .routers(&[ip("192.0.2.1"), ip("192.0.2.2")])?
            .dns_servers(&[ip("192.0.2.53")])?
            .host_name(b"host1")?
            .domain_name(b"example.test")?
            .mtu(1500)?
            .broadcast_address(ip("192.0.2.255"))?
            .ntp_servers(&[ip("192.0.2.123")])?
            .option(OptionCode::VENDOR_SPECIFIC, &[1, 2, 3])?
            .requested_ip(ip("192.0.2.7"))?
            .lease_time(3600)?
            .server_id(ip("192.0.2.1"))?
            .parameter_request_list(&[1, 3, 6, 15, 119, 121])?
            .error_message(b"no")?
            .max_message_size(1500)?
            .renewal_time(1800)?
            .rebinding_time(3150)?
            .vendor_class_id(b"MSFT 5.0")?
            .client_id_rfc4361(0x0102_0304, &[0, 4, 0xaa, 0xbb])?
            .user_class(&[b"a", b"bc"])?
            .rapid_commit()?
            .client_fqdn(FqdnFlags::S | FqdnFlags::E, "host1.example.test.")?
            .relay_agent_info(&[
                (1, b"eth0"),
                (2, b"rid"),
                (5, &[192, 0, 2, 0]),
                (11, &[192, 0, 2, 9]),
            ])?
            .ipv6_only_preferred(1800)?
            .captive_portal(b"https://portal.example.test/")?
            .subnet_selection(ip("192.0.2.0"))?
            .domain_search(&["example.test", "corp.example.test."])?
            .classless_routes(&routes)?
            .vendor_identifying(&[(4491, &[1, 2, 0xab, 0xcd]), (311, &[])])?;
        Ok(())
    });
    let m = Message::parse(&buf).unwrap();
    assert_eq!(m.subnet_mask().unwrap(), Some(ip("255.255.255.0")));
    let r: Vec<_> = m.routers().unwrap().unwrap().iter().collect();
    assert_eq!(r, vec![ip("192.0.2.1"), ip("192.0.2.2")]);
    assert_eq!(
        m.dns_servers().unwrap().unwrap().first(),
        Some(ip("192.0.2.53"))
    );
    assert_eq!(m.host_name().unwrap().unwrap(), "host1");
    assert_eq!(
        m.domain_name().unwrap().unwrap().as_str(),
        Some("example.test")
    );
    assert_eq!(m.mtu().unwrap(), Some(1500));
    assert_eq!(m.broadcast_address().unwrap(), Some(ip("192.0.2.255")));
    assert_eq!(m.ntp_servers().unwrap().unwrap().len(), 1);
    assert_eq!(m.vendor_specific().unwrap().unwrap(), &[1, 2, 3][..]);
    assert_eq!(m.requested_ip().unwrap(), Some(ip("192.0.2.7")));
    assert_eq!(m.lease_time().unwrap(), Some(3600));
    assert_eq!(m.server_id().unwrap(), Some(ip("192.0.2.1")));
    let prl = m.parameter_request_list().unwrap().unwrap();
    assert!(prl.contains(OptionCode::CLASSLESS_ROUTES));
    assert_eq!(
        prl.iter().map(|c| c.0).collect::<Vec<_>>(),
        vec![1, 3, 6, 15, 119, 121]
    );
    assert_eq!(m.error_message().unwrap().unwrap(), "no");
    assert_eq!(m.max_message_size().unwrap(), Some(1500));
    assert_eq!(m.renewal_time().unwrap(), Some(1800));
    assert_eq!(m.rebinding_time().unwrap(), Some(3150));
    assert_eq!(m.vendor_class_id().unwrap().unwrap(), "MSFT 5.0");
    match m.client_id().unwrap().unwrap().kind() {
        ClientIdKind::Rfc4361 { iaid, duid } => {
            assert_eq!(iaid, 0x0102_0304);
            assert_eq!(duid, &[0, 4, 0xaa, 0xbb][..]);
        }
        other => panic!("{other:?}"),
    }
    let classes: Vec<_> = m
        .user_class()
        .unwrap()
        .unwrap()
        .iter()
        .map(|c| c.bytes().collect::<Vec<_>>())
        .collect();
    assert_eq!(classes, vec![b"a".to_vec(), b"bc".to_vec()]);
    assert!(m.rapid_commit().unwrap());
    let fqdn = m.client_fqdn().unwrap().unwrap();
    assert_eq!(fqdn.flags, FqdnFlags::S | FqdnFlags::E);
    match fqdn.name {
        FqdnName::Wire(n) => assert!(n.matches("host1.example.test")),
        other => panic!("{other:?}"),
    }
    let rai = m.relay_agent_info().unwrap().unwrap();
    assert_eq!(rai.circuit_id().unwrap(), &b"eth0"[..]);
    assert_eq!(rai.remote_id().unwrap(), &b"rid"[..]);
    assert_eq!(rai.link_selection().unwrap(), Some(ip("192.0.2.0")));
    assert_eq!(rai.server_id_override().unwrap(), Some(ip("192.0.2.9")));
    assert_eq!(rai.sub_options().count(), 4);
    assert_eq!(m.ipv6_only_preferred().unwrap(), Some(1800));
    assert_eq!(
        m.captive_portal().unwrap().unwrap(),
        "https://portal.example.test/"
    );
    assert_eq!(m.subnet_selection().unwrap(), Some(ip("192.0.2.0")));
    let names: Vec<_> = m
        .domain_search()
        .unwrap()
        .unwrap()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, vec!["example.test", "corp.example.test"]);
    let got: Vec<_> = m.classless_routes().unwrap().unwrap().iter().collect();
    assert_eq!(got, routes);
    let blocks: Vec<_> = m.vendor_identifying().unwrap().unwrap().blocks().collect();
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].enterprise, 4491);
    let subs: Vec<_> = blocks[0].sub_options().collect();
    assert_eq!(subs.len(), 1);
    assert_eq!(
        (subs[0].code, subs[0].data),
        (1, dhcp_core::wire::OptionData::from_slice(&[0xab, 0xcd]))
    );
    assert_eq!(blocks[1].enterprise, 311);
    assert!(blocks[1].data.is_empty());
}

#[test]
fn absent_options_are_none() {
    let buf = raw(&[255]);
    let m = Message::parse(&buf).unwrap();
    assert_eq!(m.message_type().unwrap(), None);
    assert!(m.routers().unwrap().is_none());
    assert!(!m.rapid_commit().unwrap());
    assert!(m.domain_search().unwrap().is_none());
}

fn typed_err(options: &[u8], f: impl FnOnce(&Message<'_>) -> Option<OptionError>) -> OptionError {
    let buf = raw(options);
    let m = Message::parse(&buf).unwrap();
    f(&m).expect("expected an error")
}

#[test]
fn malformed_typed_options_are_clear_errors() {
    let e = typed_err(&[3, 5, 1, 2, 3, 4, 5], |m| m.routers().err());
    assert_eq!(
        e,
        OptionError::BadLength {
            code: OptionCode::ROUTERS,
            len: 5,
            expected: Expected::MultipleOf(4)
        }
    );
    assert_eq!(
        e.to_string(),
        "option Default-Gateway (3): length 5, expected a non-zero multiple of 4"
    );
    for len in [0usize, 1, 3, 5, 255] {
        let mut opts = vec![51, len as u8];
        opts.extend(std::iter::repeat_n(1u8, len));
        let e = typed_err(&opts, |m| m.lease_time().err());
        assert_eq!(e.code(), OptionCode::LEASE_TIME, "len {len}");
        let mut opts = vec![1, len as u8];
        opts.extend(std::iter::repeat_n(255u8, len));
        assert!(typed_err(&opts, |m| m.subnet_mask().err())
            .to_string()
            .contains("length"));
    }
    assert!(typed_err(&[6, 0], |m| m.dns_servers().err())
        .to_string()
        .contains("multiple of 4"));
    assert!(
        typed_err(&[1, 4, 255, 0, 255, 0], |m| m.subnet_mask().err())
            .to_string()
            .contains("contiguous")
    );
    assert!(typed_err(&[26, 2, 0, 67], |m| m.mtu().err())
        .to_string()
        .contains("MTU below 68"));
    assert!(typed_err(&[57, 2, 0, 200], |m| m.max_message_size().err())
        .to_string()
        .contains("576"));
    assert!(typed_err(&[53, 1, 99], |m| m.message_type().err())
        .to_string()
        .contains("unknown message type"));
    assert!(typed_err(&[12, 0], |m| m.host_name().err())
        .to_string()
        .contains("at least 1"));
    assert!(typed_err(&[61, 1, 1], |m| m.client_id().err())
        .to_string()
        .contains("at least 2"));
    assert!(typed_err(&[61, 4, 255, 1, 2, 3], |m| m.client_id().err())
        .to_string()
        .contains("IAID"));
    assert!(typed_err(&[80, 1, 0], |m| m.rapid_commit().err())
        .to_string()
        .contains("exactly 0"));
    assert!(
        typed_err(&[77, 3, 2, b'a', b'b', 77, 1, 0], |m| m.user_class().err())
            .to_string()
            .contains("empty user class")
    );
    assert!(typed_err(&[77, 2, 5, b'a'], |m| m.user_class().err())
        .to_string()
        .contains("past the end"));
    assert!(typed_err(&[82, 3, 1, 5, 0], |m| m.relay_agent_info().err())
        .to_string()
        .contains("past the end"));
    assert!(
        typed_err(&[121, 5, 33, 1, 2, 3, 4], |m| m.classless_routes().err())
            .to_string()
            .contains("over 32")
    );
    assert!(
        typed_err(&[121, 6, 24, 1, 2, 3, 4, 5], |m| m.classless_routes().err())
            .to_string()
            .contains("past the end")
    );
    assert!(typed_err(&[125, 6, 0, 0, 0, 9, 5, 1], |m| m
        .vendor_identifying()
        .err())
    .to_string()
    .contains("past the end"));
    assert!(typed_err(&[81, 2, 0, 0], |m| m.client_fqdn().err())
        .to_string()
        .contains("at least 3"));
}

#[test]
fn domain_search_compression_and_its_abuse() {
    // RFC 3397 section 3's example: eng.apple.com. and marketing.apple.com.
    let mut v = vec![3];
    v.extend_from_slice(b"eng");
    v.push(5);
    v.extend_from_slice(b"apple");
    v.push(3);
    v.extend_from_slice(b"com");
    v.push(0);
    v.push(9);
    v.extend_from_slice(b"marketing");
    v.extend_from_slice(&[0xc0, 0x04]);
    let mut opts = vec![119, v.len() as u8];
    opts.extend_from_slice(&v);
    let buf = raw(&opts);
    let m = Message::parse(&buf).unwrap();
    let names: Vec<_> = m
        .domain_search()
        .unwrap()
        .unwrap()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, vec!["eng.apple.com", "marketing.apple.com"]);

    let err = |v: &[u8]| {
        let mut opts = vec![119, v.len() as u8];
        opts.extend_from_slice(v);
        let buf = raw(&opts);
        Message::parse(&buf)
            .unwrap()
            .domain_search()
            .unwrap_err()
            .to_string()
    };
    // A pointer to itself, and a pair of pointers to each other: loops refused.
    assert!(err(&[0xc0, 0x00]).contains("backwards"));
    assert!(err(&[1, b'a', 0xc0, 0x04, 0xc0, 0x00]).contains("backwards"));
    // A forward pointer.
    assert!(err(&[0xc0, 0x05, 0, 1, b'a', 0]).contains("backwards"));
    // A label past the end, a name without its root label, a bad label type.
    assert!(err(&[5, b'a', b'b']).contains("label runs past"));
    assert!(err(&[1, b'a']).contains("past the end"));
    assert!(err(&[0x41, b'a', 0]).contains("bad label type"));
    // A name longer than 255 bytes, built from pointers to earlier names.
    let mut long = Vec::new();
    for _ in 0..4 {
        long.push(63);
        long.extend(std::iter::repeat_n(b'x', 63));
    }
    long.push(0);
    assert!(long.len() > 255);
    let mut opts = Vec::new();
    for chunk in long.chunks(255) {
        opts.push(119);
        opts.push(chunk.len() as u8);
        opts.extend_from_slice(chunk);
    }
    let buf = raw(&opts);
    let e = Message::parse(&buf).unwrap().domain_search().unwrap_err();
    assert!(e.to_string().contains("longer than 255"));
}

#[test]
fn client_id_kinds_and_ascii_fqdn() {
    let buf = build(|b| {
        b.client_id(&[1, 0, 0x11, 0x22, 0x33, 0x44, 0x55])?
            .client_fqdn(FqdnFlags::empty(), "host.example")?;
        Ok(())
    });
    let m = Message::parse(&buf).unwrap();
    match m.client_id().unwrap().unwrap().kind() {
        ClientIdKind::Hardware { htype, address } => {
            assert_eq!(htype, 1);
            assert_eq!(address, &[0, 0x11, 0x22, 0x33, 0x44, 0x55][..]);
        }
        other => panic!("{other:?}"),
    }
    let fqdn = m.client_fqdn().unwrap().unwrap();
    assert_eq!(fqdn.name.to_string(), "host.example");
    let m2 = raw(&[61, 3, 0, b'i', b'd']);
    let m2 = Message::parse(&m2).unwrap();
    assert!(
        matches!(m2.client_id().unwrap().unwrap().kind(), ClientIdKind::Opaque(d) if d == b"id"[..])
    );
    assert_eq!(RelayAgentInfo::CIRCUIT_ID, 1);
}

#[test]
fn emit_errors_never_truncate() {
    assert_eq!(
        MessageBuilder::new(&mut [0u8; 100]).unwrap_err(),
        EmitError::BufferTooSmall { available: 100 }
    );
    let mut buf = [0u8; 260];
    let mut b = MessageBuilder::new(&mut buf).unwrap();
    assert!(matches!(
        b.chaddr(&[0u8; 17]),
        Err(EmitError::FieldTooLong {
            field: dhcp_core::wire::HeaderField::Chaddr,
            ..
        })
    ));
    assert!(b.sname(&[b'a'; 64]).is_err());
    assert!(b.file(&[b'a'; 128]).is_err());
    assert_eq!(
        b.option(OptionCode::END, &[]).unwrap_err(),
        EmitError::ReservedCode(255)
    );
    assert_eq!(
        b.option(OptionCode::PAD, &[]).unwrap_err(),
        EmitError::ReservedCode(0)
    );
    assert!(b.mtu(10).is_err());
    assert!(b.max_message_size(100).is_err());
    assert!(b.subnet_mask(ip("255.0.255.0")).is_err());
    assert!(b.routers(&[]).is_err());
    assert!(b.domain_search(&["a..b"]).is_err());
    assert!(b.domain_search(&[&"x".repeat(64)]).is_err());
    assert!(b
        .classless_routes(&[Route {
            destination: ip("0.0.0.0"),
            prefix_len: 33,
            router: ip("1.2.3.4")
        }])
        .is_err());
    b.option(OptionCode(200), &[1; 10]).unwrap();
    assert_eq!(
        b.option(OptionCode(201), &[1; 10]).unwrap_err(),
        EmitError::BufferTooSmall { available: 260 }
    );
    let len = b.finish().unwrap();
    assert_eq!(len, 260);
    let m = Message::parse(&buf[..len]).unwrap();
    assert_eq!(m.options().count(), 1);
}

#[test]
fn padding_is_zero_and_optional() {
    let mut buf = [0xeeu8; 400];
    let mut b = MessageBuilder::new(&mut buf).unwrap();
    b.message_type(MessageType::Discover).unwrap();
    let len = b.finish().unwrap();
    assert_eq!(len, 300);
    assert_eq!(buf[243], 255);
    assert!(buf[244..300].iter().all(|&b| b == 0));
    let mut b = MessageBuilder::new(&mut buf).unwrap();
    b.pad_to(0).message_type(MessageType::Discover).unwrap();
    assert_eq!(b.finish().unwrap(), 244);
}

#[test]
fn display_reads_like_tcpdump() {
    let buf = build(|b| {
        b.flags(Flags::BROADCAST);
        b.message_type(MessageType::Discover)?
            .lease_time(3600)?
            .parameter_request_list(&[1, 6, 121, 3, 33])?
            .option(OptionCode::CLIENT_ID, &MAC)?
            .host_name(b"rust-dhcp-advanced")?;
        Ok(())
    });
    let text = Message::parse(&buf).unwrap().to_string();
    let want = "BOOTP/DHCP, Request from 00:11:22:33:44:55, length 300, xid 0x53a2da3f, Flags [Broadcast]
\t  Client-Ethernet-Address 00:11:22:33:44:55
\t  Vendor-rfc1048 Extensions
\t    Magic Cookie 0x63825363
\t    DHCP-Message (53), length 1: Discover
\t    Lease-Time (51), length 4: 3600
\t    Parameter-Request (55), length 5: Subnet-Mask (1), Domain-Name-Server (6), Classless-Static-Route (121), Default-Gateway (3)
\t      Static-Route (33)
\t    Client-ID (61), length 6: \"^Q\"3DU\"
\t    Hostname (12), length 18: \"rust-dhcp-advanced\"";
    assert_eq!(text, want);
    // Hostile bytes cannot start a new line.
    let buf = build(|b| b.host_name(b"evil\nline\x1b[31m").map(drop));
    let text = Message::parse(&buf).unwrap().to_string();
    assert!(text.contains("\"evil^Jline^[[31m\""), "{text}");
    // Malformed values are shown in hex with the reason.
    let buf = raw(&[3, 3, 1, 2, 3, 255]);
    let text = Message::parse(&buf).unwrap().to_string();
    assert!(text.contains("Default-Gateway (3), length 3: 010203 (malformed: option Default-Gateway (3): length 3"), "{text}");
}

/// `option_range` finds the one instance of a code in the options field wherever it lies
/// (indexed or not: codes from 128 up, far offsets), and refuses a repeated or absent one.
#[test]
fn option_range_finds_a_single_instance_anywhere_in_the_options_field() {
    let mut buf = [0u8; 1500];
    let mut b = MessageBuilder::new(&mut buf).unwrap();
    b.max_len(1400).unwrap();
    b.message_type(MessageType::Ack).unwrap();
    b.option(OptionCode(224), &[b'x'; 250]).unwrap();
    b.option(OptionCode(225), &[b'y'; 10]).unwrap();
    b.lease_time(3600).unwrap();
    b.option(OptionCode(200), &[1, 2]).unwrap();
    b.option(OptionCode(201), &[3]).unwrap();
    b.option(OptionCode(201), &[4]).unwrap();
    let n = b.finish().unwrap();
    let m = Message::parse(&buf[..n]).unwrap();
    let lease = m.option_range(OptionCode::LEASE_TIME).unwrap();
    assert_eq!(buf[lease], 3600u32.to_be_bytes());
    let high = m.option_range(OptionCode(200)).unwrap();
    assert_eq!(buf[high], [1, 2]);
    assert_eq!(m.option_range(OptionCode(201)), None, "repeated");
    assert_eq!(m.option_range(OptionCode::ROUTERS), None, "absent");
    let first = m.option_range(OptionCode::MESSAGE_TYPE).unwrap();
    assert_eq!(buf[first], [MessageType::Ack as u8]);
}
