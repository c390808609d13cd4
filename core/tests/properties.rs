//! Property tests: emit/parse round trips, RFC 3396 splitting, options 119 and 121, and
//! parsing of arbitrary or mutated bytes never panicking.

mod common;

use std::net::Ipv4Addr;

use common::exercise::exercise;
use dhcp_core::wire::typed::Route;
use dhcp_core::wire::{EmitError, Flags, Message, MessageBuilder, Op, OptionCode};
use proptest::collection::vec;
use proptest::prelude::*;

/// An owned message, as a test generates it.
#[derive(Debug, Clone)]
struct Model {
    reply: bool,
    htype: u8,
    hops: u8,
    xid: u32,
    secs: u16,
    flags: u16,
    addrs: [u32; 4],
    chaddr: Vec<u8>,
    sname: Vec<u8>,
    file: Vec<u8>,
    /// Distinct codes, none of them pad, end or overload.
    options: Vec<(u8, Vec<u8>)>,
    overload: bool,
    max_len: usize,
}

fn text(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(1u8..=255, 0..=max)
}

fn model() -> impl Strategy<Value = Model> {
    let header = (
        any::<bool>(),
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
        any::<u16>(),
        any::<u16>(),
        any::<[u32; 4]>(),
        vec(any::<u8>(), 0..=16),
        text(63),
        text(127),
    );
    let value = prop_oneof![3 => vec(any::<u8>(), 0..40), 1 => vec(any::<u8>(), 0..600)];
    let options = vec((1u8..=254, value), 0..12).prop_map(|opts| {
        let mut seen = [false; 256];
        opts.into_iter()
            .filter(|(c, _)| *c != 52 && !std::mem::replace(&mut seen[usize::from(*c)], true))
            .collect::<Vec<_>>()
    });
    (
        header,
        options,
        any::<bool>(),
        prop_oneof![Just(576usize), Just(1500), Just(4096)],
    )
        .prop_map(
            |(
                (reply, htype, hops, xid, secs, flags, addrs, chaddr, sname, file),
                options,
                overload,
                max_len,
            )| Model {
                reply,
                htype,
                hops,
                xid,
                secs,
                flags,
                addrs,
                chaddr,
                sname,
                file,
                options,
                overload,
                max_len,
            },
        )
}

fn emit(m: &Model, buf: &mut [u8]) -> Result<usize, EmitError> {
    let mut b = MessageBuilder::new(buf)?;
    b.op(if m.reply {
        Op::BootReply
    } else {
        Op::BootRequest
    })
    .htype(m.htype)
    .hops(m.hops)
    .xid(m.xid)
    .secs(m.secs)
    .flags(Flags::from_bits_retain(m.flags))
    .ciaddr(Ipv4Addr::from(m.addrs[0]))
    .yiaddr(Ipv4Addr::from(m.addrs[1]))
    .siaddr(Ipv4Addr::from(m.addrs[2]))
    .giaddr(Ipv4Addr::from(m.addrs[3]));
    b.chaddr(&m.chaddr)?;
    if !m.sname.is_empty() {
        b.sname(&m.sname)?;
    }
    if !m.file.is_empty() {
        b.file(&m.file)?;
    }
    b.max_len(m.max_len)?.allow_overload(m.overload);
    for (code, value) in &m.options {
        b.option(OptionCode(*code), value)?;
    }
    b.finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_of_emit_is_the_message(m in model()) {
        let mut buf = vec![0u8; 4096];
        let len = match emit(&m, &mut buf) {
            Ok(len) => len,
            Err(EmitError::BufferTooSmall { available }) => {
                // Only when the options truly exceed the `options` field (instance headers
                // included; with overload, less the 3 bytes kept for option 52).
                let need: usize = m
                    .options
                    .iter()
                    .map(|(_, v)| 2 * v.len().div_ceil(255).max(1) + v.len())
                    .sum();
                let room = (available as usize).min(m.max_len) - 241 - if m.overload { 3 } else { 0 };
                prop_assert!(need > room, "{need} bytes refused with {room} free");
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
        };
        prop_assert!(len <= m.max_len);
        prop_assert!(len >= 300.min(m.max_len));
        let p = Message::parse(&buf[..len]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(p.op(), if m.reply { Op::BootReply } else { Op::BootRequest });
        prop_assert_eq!(p.htype(), m.htype);
        prop_assert_eq!(p.hops(), m.hops);
        prop_assert_eq!(p.xid(), m.xid);
        prop_assert_eq!(p.secs(), m.secs);
        prop_assert_eq!(p.flags().bits(), m.flags);
        prop_assert_eq!(
            [p.ciaddr(), p.yiaddr(), p.siaddr(), p.giaddr()].map(u32::from),
            m.addrs
        );
        prop_assert_eq!(p.chaddr(), &m.chaddr[..]);
        let overloaded = p.overload();
        prop_assert!(m.overload || overloaded.is_none());
        if let Some(sname) = p.sname() {
            prop_assert_eq!(sname, &m.sname[..]);
        }
        if let Some(file) = p.file() {
            prop_assert_eq!(file, &m.file[..]);
        }
        for (code, value) in &m.options {
            let got = p.option(OptionCode(*code));
            prop_assert!(got.is_some_and(|d| d.eq_bytes(value)), "option {}", code);
        }
        let mut codes: Vec<u8> = Vec::new();
        for o in p.options() {
            if o.code != OptionCode::OVERLOAD && !codes.contains(&o.code.0) {
                codes.push(o.code.0);
            }
        }
        prop_assert_eq!(codes, m.options.iter().map(|(c, _)| *c).collect::<Vec<_>>());
        prop_assert!(exercise(&buf[..len]).is_some());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..1500)) {
        let _ = exercise(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(
        m in model(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut buf = vec![0u8; 4096];
        if let Ok(len) = emit(&m, &mut buf) {
            buf.truncate(len);
            for (at, byte) in flips {
                let i = at.index(buf.len());
                buf[i] = byte;
            }
            let _ = exercise(&buf);
            buf.truncate(cut.index(buf.len() + 1));
            let _ = exercise(&buf);
        }
    }

    #[test]
    fn rfc3396_split_and_concatenate(code in 1u8..=254, len in 0usize..2000) {
        prop_assume!(code != 52);
        let value: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
        let mut buf = vec![0u8; 4096];
        let mut b = MessageBuilder::new(&mut buf).unwrap();
        b.option(OptionCode(code), &value).unwrap();
        let n = b.finish().unwrap();
        let p = Message::parse(&buf[..n]).unwrap();
        let sizes: Vec<usize> = p.options().map(|o| o.data.len()).collect();
        let want = len.div_ceil(255).max(1);
        prop_assert_eq!(sizes.len(), want);
        prop_assert!(sizes[..sizes.len() - 1].iter().all(|&s| s == 255));
        let got = p.option(OptionCode(code)).unwrap();
        prop_assert_eq!(got.len(), len);
        prop_assert_eq!(got.bytes().collect::<Vec<_>>(), value.clone());
        let mut copy = vec![0u8; len];
        prop_assert_eq!(got.copy_to(&mut copy).map(<[u8]>::to_vec), Some(value));
    }

    #[test]
    fn domain_search_round_trip(
        names in vec(vec("[a-z0-9][a-z0-9-]{0,62}", 1..5), 1..12)
    ) {
        let names: Vec<String> = names.iter().map(|labels| labels.join(".")).collect();
        prop_assume!(names.iter().all(|n| n.len() + 2 <= 255));
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut buf = vec![0u8; 8192];
        let mut b = MessageBuilder::new(&mut buf).unwrap();
        b.domain_search(&refs).unwrap();
        let n = b.finish().unwrap();
        let p = Message::parse(&buf[..n]).unwrap();
        let got: Vec<String> = p.domain_search().unwrap().unwrap().iter().map(|n| n.to_string()).collect();
        prop_assert_eq!(got, names.clone());
        for (name, want) in p.domain_search().unwrap().unwrap().iter().zip(&names) {
            prop_assert!(name.matches(&want.to_uppercase()));
        }
    }

    #[test]
    fn classless_routes_round_trip(
        routes in vec((any::<u32>(), 0u8..=32, any::<u32>()), 1..40)
    ) {
        let routes: Vec<Route> = routes
            .into_iter()
            .map(|(d, len, r)| Route {
                destination: Ipv4Addr::from(if len == 0 { 0 } else { d & (u32::MAX << (32 - u32::from(len))) }),
                prefix_len: len,
                router: Ipv4Addr::from(r),
            })
            .collect();
        let mut buf = vec![0u8; 4096];
        let mut b = MessageBuilder::new(&mut buf).unwrap();
        b.classless_routes(&routes).unwrap();
        let n = b.finish().unwrap();
        let p = Message::parse(&buf[..n]).unwrap();
        let got: Vec<Route> = p.classless_routes().unwrap().unwrap().iter().collect();
        prop_assert_eq!(got, routes);
    }
}
