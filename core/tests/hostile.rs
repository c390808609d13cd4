//! Hostile input, both directions: one case per bug class that has produced CVEs in DHCP
//! servers and clients (option lengths, overload, RFC 3396 pieces, DNS names, client ids,
//! message sizes, header fields, classless routes, names with shell metacharacters). The
//! server gets each as a request, the client each as a reply; neither may panic, whatever
//! either sends back must parse, and a valid exchange must still succeed afterwards.
//!
//! `cargo test -p dhcp-core --all-features --test hostile -- --nocapture` prints the count.

use std::net::{Ipv4Addr, SocketAddrV4};

use dhcp_core::client::{Client, ClientConfig, Event};
use dhcp_core::server::{
    ClassConfig, Ipv4Net, Match, PoolRange, RecvMeta, Server, ServerConfig, SubnetConfig,
};
use dhcp_core::time::Instant;
use dhcp_core::wire::{Message, MessageType};

const SERVER_ID: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x11];

/// A message with the given header fields and raw option bytes (after the magic cookie),
/// `sname` and `file` bytes as given.
struct Raw {
    op: u8,
    hlen: u8,
    xid: u32,
    ciaddr: [u8; 4],
    yiaddr: [u8; 4],
    giaddr: [u8; 4],
    chaddr: [u8; 6],
    sname: Vec<u8>,
    file: Vec<u8>,
    options: Vec<u8>,
}

impl Raw {
    fn request(options: &[u8]) -> Raw {
        Raw {
            op: 1,
            hlen: 6,
            xid: 0x5150,
            ciaddr: [0; 4],
            yiaddr: [0; 4],
            giaddr: [0; 4],
            chaddr: [0x02, 0, 0, 0, 0xee, 0x01],
            sname: Vec::new(),
            file: Vec::new(),
            options: options.to_vec(),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; 236];
        b[0] = self.op;
        b[1] = 1;
        b[2] = self.hlen;
        b[4..8].copy_from_slice(&self.xid.to_be_bytes());
        b[12..16].copy_from_slice(&self.ciaddr);
        b[16..20].copy_from_slice(&self.yiaddr);
        b[24..28].copy_from_slice(&self.giaddr);
        b[28..34].copy_from_slice(&self.chaddr);
        let sname = &self.sname[..self.sname.len().min(64)];
        b[44..44 + sname.len()].copy_from_slice(sname);
        let file = &self.file[..self.file.len().min(128)];
        b[108..108 + file.len()].copy_from_slice(file);
        b.extend_from_slice(&[0x63, 0x82, 0x53, 0x63]);
        b.extend_from_slice(&self.options);
        b
    }
}

/// `code` with a value of `len` bytes (each `fill`).
fn opt(code: u8, len: usize, fill: u8) -> Vec<u8> {
    let mut v = vec![code, len as u8];
    v.extend(std::iter::repeat_n(fill, len));
    v
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

const DISCOVER: &[u8] = &[53, 1, 1];
const REQUEST: &[u8] = &[53, 1, 3];

/// Option bytes (after the message type) of every hostile case, by name. Each is sent as
/// a DISCOVER and as a REQUEST to the server, and inside an OFFER and an ACK to the
/// client.
fn option_cases() -> Vec<(String, Vec<u8>)> {
    let mut cases = Vec::new();
    // Fixed-size options with the wrong length.
    for code in [1u8, 3, 6, 26, 28, 50, 51, 54, 57, 58, 59, 108] {
        for len in [0usize, 1, 3, 5, 255] {
            cases.push((
                format!("option {code} with {len} bytes"),
                opt(code, len, 0xff),
            ));
        }
    }
    // What client classes read: the vendor class, user classes (RFC 3004 instances of zero
    // length or past the end), the architecture list of odd length, vendor-identifying
    // blocks cut short, relay sub-options past the end, iPXE's encapsulated options.
    for (what, o) in [
        ("vendor class of 0 bytes", vec![60, 0]),
        ("user class of 0 bytes", vec![77, 0]),
        ("user class instance of 0 bytes", vec![77, 2, 0, 0]),
        (
            "user class instance past the end",
            vec![77, 3, 9, b'i', b'P'],
        ),
        ("architecture of 1 byte", vec![93, 1, 0]),
        ("architecture of 3 bytes", vec![93, 3, 0, 7, 0]),
        (
            "vendor-identifying block cut short",
            vec![125, 6, 0, 0, 0x0d, 0xe9, 9, 1],
        ),
        (
            "vendor-identifying of 4 bytes",
            vec![125, 4, 0, 0, 0x0d, 0xe9],
        ),
        (
            "relay sub-option past the end",
            vec![82, 4, 1, 9, b'p', b'o'],
        ),
        ("relay subscriber id of 0 bytes", vec![82, 2, 6, 0]),
    ] {
        cases.push((what.into(), o));
    }
    cases.push(("iPXE options of 255 bytes".into(), opt(175, 255, 0xb1)));
    cases.push(("message type of 0 bytes".into(), vec![53, 0]));
    cases.push(("message type of 2 bytes".into(), vec![53, 2, 1, 1]));
    cases.push(("message type 0".into(), vec![53, 1, 0]));
    cases.push(("message type 255".into(), vec![53, 1, 255]));
    // An option that runs past the end of the packet, and one with no length byte.
    cases.push((
        "option longer than the packet".into(),
        vec![12, 200, b'a', b'b'],
    ));
    cases.push(("option with no length byte".into(), vec![12]));
    // RFC 3396: the same option many times, adding up past any limit.
    let mut prl = Vec::new();
    for _ in 0..6 {
        prl.extend(opt(55, 255, 1));
    }
    cases.push(("parameter list in 6 pieces of 255".into(), prl));
    let mut id = Vec::new();
    for _ in 0..4 {
        id.extend(opt(61, 255, 0x01));
    }
    cases.push(("client id in 4 pieces of 255".into(), id));
    let mut host = Vec::new();
    for _ in 0..5 {
        host.extend(opt(12, 255, b'h'));
    }
    cases.push(("host name in 5 pieces of 255".into(), host));
    // Client ids of 0, 1 and 255 bytes, and an RFC 4361 one too short for its IAID.
    for len in [0usize, 1, 255] {
        cases.push((format!("client id of {len} bytes"), opt(61, len, 0x07)));
    }
    cases.push((
        "RFC 4361 client id without a DUID".into(),
        vec![61, 3, 255, 0, 1],
    ));
    // Maximum message size below 576 and at the extremes.
    for size in [0u16, 1, 300, 575, 65535] {
        let b = size.to_be_bytes();
        cases.push((format!("max message size {size}"), vec![57, 2, b[0], b[1]]));
    }
    // Domain search (119) and client FQDN (81) names.
    cases.push(("119 pointer to itself".into(), vec![119, 2, 0xc0, 0x00]));
    cases.push((
        "119 pointer loop of two".into(),
        vec![119, 6, 1, b'a', 0xc0, 0x04, 0xc0, 0x00],
    ));
    cases.push((
        "119 pointer forward past the end".into(),
        vec![119, 2, 0xc0, 0x7f],
    ));
    cases.push((
        "119 label of 64 bytes".into(),
        cat(&[&[119, 66, 64], &[b'a'; 64], &[0]]),
    ));
    cases.push((
        "119 label running past the value".into(),
        vec![119, 3, 10, b'a', b'b'],
    ));
    cases.push(("119 empty name".into(), vec![119, 1, 0]));
    cases.push((
        "119 reserved label type 0x40".into(),
        vec![119, 3, 0x41, b'a', 0],
    ));
    cases.push((
        "81 name with a pointer loop".into(),
        vec![81, 5, 0x04, 0, 0, 0xc0, 0x03],
    ));
    cases.push(("81 of 2 bytes".into(), vec![81, 2, 0x04, 0]));
    cases.push((
        "81 name empty after cleaning".into(),
        vec![81, 6, 0, 0, 0, b'.', b'.', b'.'],
    ));
    cases.push((
        "81 label over 63 bytes".into(),
        cat(&[&[81, 69, 0x04, 0, 0, 65], &[b'x'; 65]]),
    ));
    // Classless static routes (121) with bad prefix lengths and cut descriptors.
    cases.push((
        "121 prefix length 33".into(),
        vec![121, 9, 33, 10, 0, 0, 0, 0, 192, 0, 2],
    ));
    cases.push((
        "121 prefix length 255".into(),
        vec![121, 5, 255, 192, 0, 2, 1],
    ));
    cases.push(("121 cut descriptor".into(), vec![121, 3, 24, 10, 0]));
    cases.push(("121 of 0 bytes".into(), vec![121, 0]));
    // Relay agent information (82) with sub-options that overrun it.
    cases.push((
        "82 sub-option overrunning".into(),
        vec![82, 4, 1, 10, b'a', b'b'],
    ));
    cases.push((
        "82 link selection of 3 bytes".into(),
        vec![82, 5, 5, 3, 10, 0, 0],
    ));
    cases.push((
        "118 subnet selection of 3 bytes".into(),
        vec![118, 3, 10, 0, 0],
    ));
    // Names with shell metacharacters, quotes, newlines and NUL.
    for (what, name) in [
        ("host name with $(reboot)", &b"h$(reboot)`id`;rm -rf /"[..]),
        ("host name with a newline", &b"host\nEVIL=1"[..]),
        ("host name with a NUL", &b"host\0name"[..]),
        ("host name with quotes", &b"a'b\"c"[..]),
    ] {
        cases.push((what.into(), cat(&[&[12, name.len() as u8], name])));
        cases.push((
            what.replace("host name", "domain name"),
            cat(&[&[15, name.len() as u8], name]),
        ));
    }
    // Vendor options that lie about their own lengths.
    cases.push(("43 sub-option overrunning".into(), vec![43, 3, 1, 9, 0]));
    cases.push(("125 enterprise cut short".into(), vec![125, 3, 0, 0, 1]));
    cases.push((
        "125 data length overrunning".into(),
        vec![125, 6, 0, 0, 0, 1, 200, 0],
    ));
    cases.push(("77 user class of 0-length class".into(), vec![77, 2, 0, 0]));
    cases
}

/// Whole-message cases: header fields and option overload.
fn message_cases(base: &[u8]) -> Vec<(String, Raw)> {
    let mut cases = Vec::new();
    for hlen in [0u8, 17, 255] {
        let mut r = Raw::request(base);
        r.hlen = hlen;
        cases.push((format!("hlen {hlen}"), r));
    }
    for (what, ciaddr, giaddr) in [
        ("giaddr 255.255.255.255", [0; 4], [255; 4]),
        ("giaddr the server's own address", [0; 4], [192, 0, 2, 1]),
        ("ciaddr multicast", [224, 0, 0, 1], [0; 4]),
        (
            "ciaddr broadcast and giaddr 0.0.0.1",
            [255; 4],
            [0, 0, 0, 1],
        ),
        ("ciaddr in another subnet", [203, 0, 113, 9], [0; 4]),
    ] {
        let mut r = Raw::request(base);
        r.ciaddr = ciaddr;
        r.giaddr = giaddr;
        cases.push((what.into(), r));
    }
    // Option overload (52): into a file/sname holding options that run off their end,
    // that overload again, or that have no end option; and values out of range.
    for value in [1u8, 2, 3] {
        let mut r = Raw::request(&cat(&[base, &[52, 1, value], &[255]]));
        r.file = cat(&[&[12, 200], &[b'f'; 60]]);
        r.sname = cat(&[&[15, 100], &[b's'; 20]]);
        cases.push((format!("overload {value} into fields that overrun"), r));
        let mut r = Raw::request(&cat(&[base, &[52, 1, value], &[255]]));
        r.file = vec![52, 1, 3, 52, 1, 3, 12, 2, b'a', b'b'];
        r.sname = vec![52, 1, 1, 15, 1, b'x'];
        cases.push((format!("overload {value} pointing at overload again"), r));
        let mut r = Raw::request(&cat(&[base, &[52, 1, value], &[255]]));
        r.file = vec![1; 128];
        r.sname = vec![3; 64];
        cases.push((format!("overload {value} with no end option"), r));
    }
    for value in [0u8, 4, 255] {
        cases.push((
            format!("overload value {value}"),
            Raw::request(&cat(&[base, &[52, 1, value], &[255]])),
        ));
    }
    cases.push((
        "overload of 0 bytes".into(),
        Raw::request(&cat(&[base, &[52, 0], &[255]])),
    ));
    cases.push(("no options at all".into(), Raw::request(&[])));
    cases.push((
        "no end option".into(),
        Raw::request(&cat(&[base, &[12, 1, b'a']])),
    ));
    cases
}

// ---- the server ---------------------------------------------------------------------------

fn server() -> Server {
    let mut c = ServerConfig {
        server_id: Some(SERVER_ID),
        authoritative: true,
        ..Default::default()
    };
    let mut s = SubnetConfig::new(Ipv4Net::new(Ipv4Addr::new(192, 0, 2, 0), 24));
    s.pools.push(PoolRange::new(
        Ipv4Addr::new(192, 0, 2, 100),
        Ipv4Addr::new(192, 0, 2, 200),
    ));
    s.options.routers(&[SERVER_ID]).unwrap();
    c.subnets.push(s);
    // Classes reading every option above that classification reads.
    let class = |name: &str, m: Match| {
        let mut c = ClassConfig::new(name, Some(m));
        c.boot.boot_file = Some(format!("{name}.efi"));
        c
    };
    c.classes = vec![
        class("vendor", Match::VendorClassPrefix(b"PXE".to_vec())),
        class("user", Match::UserClass(b"iPXE".to_vec())),
        class("arch", Match::Architecture(7)),
        class("vivso", Match::Enterprise(3561)),
        class(
            "relay",
            Match::Any(vec![
                Match::CircuitId(b"po".to_vec()),
                Match::SubscriberId(b"s".to_vec()),
                Match::Not(Box::new(Match::HasOption(175))),
            ]),
        ),
    ];
    Server::new(c, Instant::from_secs(1), 1_800_000_000).unwrap()
}

const META: RecvMeta = RecvMeta {
    interface: 1,
    local_address: SERVER_ID,
    source: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
};

/// Sends `packet`, persists and drains; every reply must parse. Returns the replies.
fn serve(s: &mut Server, now: Instant, packet: &[u8]) -> Vec<Vec<u8>> {
    s.handle_packet(now, &META, packet);
    let mut last = None;
    while let Some(r) = s.poll_persist() {
        last = Some(r.seq);
    }
    if let Some(seq) = last {
        s.persisted(seq);
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 1500];
    while let Some(t) = s.poll_transmit(&mut buf) {
        let m = Message::parse(&buf[..t.len]).expect("the server's replies parse");
        assert!(m.message_type().is_ok(), "a reply with a bad message type");
        out.push(buf[..t.len].to_vec());
    }
    out
}

/// A whole DORA for client `n`, which must succeed.
fn valid_dora(s: &mut Server, now: Instant, n: u8) {
    let mut d = Raw::request(&cat(&[DISCOVER, &[55, 3, 1, 3, 6], &[255]]));
    d.chaddr = [0x02, 0, 0, 0, 0x77, n];
    d.xid = 0x7700 + u32::from(n);
    let offer = serve(s, now, &d.bytes());
    assert_eq!(offer.len(), 1, "no OFFER to a valid DISCOVER");
    let yiaddr: [u8; 4] = offer[0][16..20].try_into().unwrap();
    let mut r = Raw::request(&cat(&[
        REQUEST,
        &[50, 4],
        &yiaddr,
        &[54, 4],
        &SERVER_ID.octets(),
        &[255],
    ]));
    r.chaddr = d.chaddr;
    r.xid = d.xid;
    let ack = serve(s, now, &r.bytes());
    assert_eq!(ack.len(), 1, "no ACK to a valid REQUEST");
    let m = Message::parse(&ack[0]).unwrap();
    assert_eq!(m.message_type().unwrap(), Some(MessageType::Ack));
}

#[test]
fn the_server_survives_every_hostile_request_and_still_serves() {
    let mut s = server();
    let mut tried = 0;
    let mut n = 0u8;
    for kind in [DISCOVER, REQUEST] {
        let mut all: Vec<(String, Vec<u8>)> = option_cases()
            .into_iter()
            .map(|(what, o)| (what, Raw::request(&cat(&[kind, &o, &[255]])).bytes()))
            .collect();
        all.extend(
            message_cases(&cat(&[kind, &[50, 4, 192, 0, 2, 150]]))
                .into_iter()
                .map(|(what, r)| (what, r.bytes())),
        );
        for (what, packet) in all {
            let now = Instant::from_secs(10 + u64::from(n));
            let replies = serve(&mut s, now, &packet);
            assert!(replies.len() <= 1, "{what}: {} replies", replies.len());
            // 50 valid clients in turn: each comes back to its own address.
            n = (n + 1) % 50;
            valid_dora(&mut s, now, n);
            tried += 1;
        }
    }
    println!("hostile requests: {tried} cases tried, {tried} passed (server alive, valid DORA after each)");
    assert!(tried > 150);
}

// ---- the client ---------------------------------------------------------------------------

/// A reply to the client's `request` with the given raw options after the message type.
fn reply(request: &[u8], kind: u8, options: &[u8], raw: Option<&Raw>) -> Vec<u8> {
    let req = Message::parse(request).unwrap();
    let mut r = match raw {
        Some(r) => Raw {
            op: 2,
            hlen: r.hlen,
            xid: req.xid(),
            ciaddr: r.ciaddr,
            yiaddr: [192, 0, 2, 100],
            giaddr: r.giaddr,
            chaddr: MAC,
            sname: r.sname.clone(),
            file: r.file.clone(),
            options: r.options.clone(),
        },
        None => Raw {
            op: 2,
            hlen: 6,
            xid: req.xid(),
            ciaddr: [0; 4],
            yiaddr: [192, 0, 2, 100],
            giaddr: [0; 4],
            chaddr: MAC,
            sname: Vec::new(),
            file: Vec::new(),
            options: Vec::new(),
        },
    };
    if raw.is_none() {
        r.options = cat(&[
            &[53, 1, kind],
            &[54, 4],
            &SERVER_ID.octets(),
            &[51, 4, 0, 0, 14, 16],
            &[1, 4, 255, 255, 255, 0],
            options,
            &[255],
        ]);
    }
    r.bytes()
}

fn client() -> Client {
    let mut c = ClientConfig::new(MAC);
    c.retransmit.jitter = std::time::Duration::ZERO;
    Client::new(c, 7)
}

/// Feeds `hostile` to the client as the answer to its current message, then answers
/// properly; the client must end up bound.
fn client_case(hostile_offer: impl Fn(&[u8]) -> Vec<u8>, hostile_ack: impl Fn(&[u8]) -> Vec<u8>) {
    let mut c = client();
    let now = Instant::from_secs(1);
    c.start(now);
    let mut tx = [0u8; 1500];
    let t = c.poll_transmit(&mut tx).expect("a DISCOVER");
    let discover = tx[..t.len].to_vec();
    c.handle_packet(now, &hostile_offer(&discover));
    // Whatever it made of that, a good OFFER now (or a second one) moves it on.
    while c.poll_event().is_some() {}
    let good_offer = reply(&discover, 2, &[], None);
    c.handle_packet(now, &good_offer);
    let request = match c.poll_transmit(&mut tx) {
        Some(t) => tx[..t.len].to_vec(),
        None => panic!("no REQUEST after a good OFFER"),
    };
    assert_eq!(
        Message::parse(&request).unwrap().message_type().unwrap(),
        Some(MessageType::Request)
    );
    c.handle_packet(now, &hostile_ack(&request));
    let mut bound = false;
    while let Some(e) = c.poll_event() {
        bound |= e == Event::Bound;
    }
    if !bound {
        c.handle_packet(now, &reply(&request, 5, &[], None));
        while let Some(e) = c.poll_event() {
            bound |= e == Event::Bound;
        }
    }
    assert!(bound, "the client never bound after the hostile reply");
    let lease = c.lease().expect("a lease");
    assert_eq!(lease.address(), Ipv4Addr::new(192, 0, 2, 100));
}

#[test]
fn the_client_survives_every_hostile_reply_and_still_binds() {
    let mut tried = 0;
    for (what, o) in option_cases() {
        for kind in [2u8, 5] {
            let hostile = |req: &[u8]| reply(req, kind, &o, None);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if kind == 2 {
                    client_case(hostile, |_| Vec::new());
                } else {
                    client_case(|_| Vec::new(), hostile);
                }
            }));
            assert!(
                result.is_ok(),
                "client case {what} (in a {kind} reply) failed"
            );
            tried += 1;
        }
    }
    for (what, r) in message_cases(&[53, 1, 2, 54, 4, 192, 0, 2, 1, 51, 4, 0, 0, 14, 16]) {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            client_case(|req| reply(req, 2, &[], Some(&r)), |_| Vec::new());
        }));
        assert!(result.is_ok(), "client case {what} failed");
        tried += 1;
    }
    println!(
        "hostile replies: {tried} cases tried, {tried} passed (client alive, bound after each)"
    );
    assert!(tried > 200);
}
