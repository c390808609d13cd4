//! Client classes in the server machine: every kind of match, the precedence between
//! reservation, classes, subnet and server, pools open or closed to classes, network boot
//! settings (siaddr, sname, file, 66/67, the vendor class echoed), lease times by class,
//! the checks at load, and replies to a config without classes unchanged by classes that
//! match nothing.

use std::net::{Ipv4Addr, SocketAddrV4};

use dhcp_core::server::{
    Boot, ClassConfig, ClassId, ClassSet, ConfigPlace, DropReason, Ipv4Net, LeaseTimes, Match,
    PoolClasses, PoolRange, RecvMeta, Reservation, ReservationKey, Server, ServerConfig,
    SubnetConfig,
};
use dhcp_core::time::Instant;
use dhcp_core::wire::{Message, MessageBuilder, MessageType, Op, OptionCode};
use proptest::prelude::*;

const SERVER_ID: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const RELAY: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn base() -> ServerConfig {
    let mut c = ServerConfig {
        server_id: Some(SERVER_ID),
        ..Default::default()
    };
    c.options.domain_name("global.test").unwrap();
    let mut local = SubnetConfig::new(Ipv4Net::new(ip("192.0.2.0"), 24));
    local
        .pools
        .push(PoolRange::new(ip("192.0.2.100"), ip("192.0.2.149")));
    local.options.routers(&[SERVER_ID]).unwrap();
    let mut relayed = SubnetConfig::new(Ipv4Net::new(ip("198.51.100.0"), 24));
    relayed
        .pools
        .push(PoolRange::new(ip("198.51.100.100"), ip("198.51.100.199")));
    c.subnets = vec![local, relayed];
    c
}

/// A class called `name` matching `m` whose members get `name` as their domain name (15).
fn tagged(name: &str, m: Match) -> ClassConfig {
    let mut c = ClassConfig::new(name, Some(m));
    c.options.domain_name(&format!("{name}.test")).unwrap();
    c
}

/// A BOOTREQUEST from MAC `mac` with transaction id `xid`, the rest written by `fill`.
fn request_from(mac: [u8; 6], xid: u32, fill: impl FnOnce(&mut MessageBuilder<'_>)) -> Vec<u8> {
    let mut buf = vec![0u8; 1500];
    let mut b = MessageBuilder::new(&mut buf).unwrap();
    b.op(Op::BootRequest).xid(xid);
    b.chaddr(&mac).unwrap();
    fill(&mut b);
    let n = b.finish().unwrap();
    buf.truncate(n);
    buf
}

/// A DISCOVER from MAC `mac` with options `extra`, and a `giaddr`.
fn discover(mac: [u8; 6], giaddr: Ipv4Addr, extra: &[(u8, &[u8])]) -> Vec<u8> {
    request_from(mac, 7, |b| {
        b.giaddr(giaddr);
        b.message_type(MessageType::Discover).unwrap();
        for (c, v) in extra {
            b.option(OptionCode(*c), v).unwrap();
        }
    })
}

/// A REQUEST from MAC `mac` with `xid` for `address` (50), in SELECTING state when it
/// names `server` (54).
fn request(mac: [u8; 6], xid: u32, address: Ipv4Addr, server: Option<Ipv4Addr>) -> Vec<u8> {
    request_from(mac, xid, |b| {
        b.message_type(MessageType::Request)
            .unwrap()
            .requested_ip(address)
            .unwrap();
        if let Some(id) = server {
            b.server_id(id).unwrap();
        }
    })
}

fn meta() -> RecvMeta {
    RecvMeta {
        interface: 1,
        local_address: SERVER_ID,
        source: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
    }
}

/// The reply of a fresh server for `c` to `packet`, if any.
fn reply(c: &ServerConfig, packet: &[u8]) -> Option<Vec<u8>> {
    let mut s = Server::new(c.clone(), Instant::from_secs(1), 1_800_000_000).unwrap();
    s.handle_packet(Instant::from_secs(1), &meta(), packet);
    let mut buf = [0u8; 1500];
    s.poll_transmit(&mut buf).map(|t| buf[..t.len].to_vec())
}

fn domain(bytes: &[u8]) -> String {
    let m = Message::parse(bytes).unwrap();
    let d = m.domain_name().unwrap().unwrap();
    d.as_str().unwrap().to_string()
}

const MAC: [u8; 6] = [0x00, 0x04, 0xf2, 1, 2, 3];

/// Whether a class of match `m` takes in a DISCOVER with `extra` (from `MAC`, relayed
/// through `giaddr` when set).
fn takes(m: Match, giaddr: Ipv4Addr, extra: &[(u8, &[u8])]) -> bool {
    let mut c = base();
    c.classes.push(tagged("c", m));
    let r = reply(&c, &discover(MAC, giaddr, extra)).expect("an offer");
    domain(&r) == "c.test"
}

fn local(m: Match, extra: &[(u8, &[u8])]) -> bool {
    takes(m, Ipv4Addr::UNSPECIFIED, extra)
}

const VENDOR: u8 = 60;
const USER_CLASS: u8 = 77;
const ARCH: u8 = 93;
const RELAY_INFO: u8 = 82;
const VIVSO: u8 = 125;

#[test]
fn vendor_class_equal_and_prefix() {
    let pxe: &[(u8, &[u8])] = &[(VENDOR, b"PXEClient:Arch:00000:UNDI:002001")];
    assert!(local(Match::VendorClassPrefix(b"PXEClient".to_vec()), pxe));
    assert!(!local(Match::VendorClass(b"PXEClient".to_vec()), pxe));
    assert!(local(
        Match::VendorClass(b"PXEClient:Arch:00000:UNDI:002001".to_vec()),
        pxe
    ));
    assert!(!local(
        Match::VendorClassPrefix(b"HTTPClient".to_vec()),
        pxe
    ));
    assert!(!local(Match::VendorClassPrefix(b"PXEClient".to_vec()), &[]));
}

#[test]
fn user_class_as_rfc_3004_instances_or_bare() {
    let m = || Match::UserClass(b"iPXE".to_vec());
    assert!(local(m(), &[(USER_CLASS, b"iPXE")]));
    assert!(local(m(), &[(USER_CLASS, b"\x05lab-1\x04iPXE")]));
    assert!(!local(m(), &[(USER_CLASS, b"\x05lab-1")]));
    assert!(!local(m(), &[(USER_CLASS, b"iPXE2")]));
    assert!(!local(m(), &[]));
}

#[test]
fn architecture_from_option_93() {
    assert!(local(Match::Architecture(0), &[(ARCH, &[0, 0])]));
    assert!(local(Match::Architecture(7), &[(ARCH, &[0, 9, 0, 7])]));
    assert!(!local(Match::Architecture(7), &[(ARCH, &[0, 0])]));
    assert!(!local(Match::Architecture(0), &[(ARCH, &[0])]));
    assert!(!local(Match::Architecture(0), &[]));
}

#[test]
fn relay_agent_sub_options() {
    let info: &[u8] = b"\x01\x06port-7\x02\x04ab:c\x06\x05sub-9";
    let relayed = |m| takes(m, RELAY, &[(RELAY_INFO, info)]);
    assert!(relayed(Match::CircuitId(b"port-7".to_vec())));
    assert!(relayed(Match::RemoteId(b"ab:c".to_vec())));
    assert!(relayed(Match::SubscriberId(b"sub-9".to_vec())));
    assert!(!relayed(Match::CircuitId(b"port-8".to_vec())));
    assert!(!relayed(Match::SubscriberId(b"port-7".to_vec())));
}

#[test]
fn hardware_address_prefix_and_type() {
    assert!(local(Match::MacPrefix(vec![0x00, 0x04, 0xf2]), &[]));
    assert!(local(Match::MacPrefix(MAC.to_vec()), &[]));
    assert!(!local(Match::MacPrefix(vec![0x00, 0x04, 0xf3]), &[]));
    assert!(local(Match::HardwareType(1), &[]));
    assert!(!local(Match::HardwareType(6), &[]));
}

#[test]
fn enterprise_number_option_presence_and_relay_network() {
    // Enterprise 3561 (Broadband Forum), one sub-option.
    let vivso: &[u8] = &[0, 0, 0x0d, 0xe9, 3, 1, 1, b'x'];
    assert!(local(Match::Enterprise(3561), &[(VIVSO, vivso)]));
    assert!(!local(Match::Enterprise(9), &[(VIVSO, vivso)]));
    assert!(local(Match::HasOption(175), &[(175, &[1, 1, 1])]));
    assert!(!local(Match::HasOption(175), &[]));
    let net = Ipv4Net::new(ip("198.51.100.0"), 24);
    assert!(takes(Match::Relay(net), RELAY, &[]));
    assert!(!local(Match::Relay(net), &[]));
    let other = Ipv4Net::new(ip("203.0.113.0"), 24);
    assert!(!takes(Match::Relay(other), RELAY, &[]));
}

#[test]
fn all_any_not() {
    let ipxe = || Match::UserClass(b"iPXE".to_vec());
    let bios = || Match::Architecture(0);
    let both: &[(u8, &[u8])] = &[(USER_CLASS, b"iPXE"), (ARCH, &[0, 0])];
    let rom: &[(u8, &[u8])] = &[(ARCH, &[0, 0])];
    assert!(local(Match::All(vec![ipxe(), bios()]), both));
    assert!(!local(Match::All(vec![ipxe(), bios()]), rom));
    assert!(local(Match::Any(vec![ipxe(), bios()]), rom));
    assert!(!local(
        Match::Any(vec![ipxe(), Match::Architecture(7)]),
        rom
    ));
    assert!(local(
        Match::All(vec![bios(), Match::Not(Box::new(ipxe()))]),
        rom
    ));
    assert!(!local(
        Match::All(vec![bios(), Match::Not(Box::new(ipxe()))]),
        both
    ));
}

#[test]
fn classes_use_earlier_classes_and_the_built_in_ones() {
    let mut c = base();
    c.classes.push(ClassConfig::new(
        "phone",
        Some(Match::MacPrefix(vec![0x00, 0x04, 0xf2])),
    ));
    c.classes.push(tagged(
        "unknown-phone",
        Match::All(vec![
            Match::Class(ClassId(0)),
            Match::Class(ClassId::UNKNOWN),
        ]),
    ));
    let r = reply(&c, &discover(MAC, Ipv4Addr::UNSPECIFIED, &[])).unwrap();
    assert_eq!(domain(&r), "unknown-phone.test");
    // Reserved, the phone is known: the class no longer holds.
    let mut reserved = Reservation::new(
        ReservationKey::HardwareAddress(MAC.to_vec()),
        ip("192.0.2.20"),
    );
    reserved.classes = ClassSet::of([ClassId(2)]);
    c.classes.push(tagged("lab", Match::HasOption(250)));
    c.subnets[0].reservations.push(reserved);
    let r = reply(&c, &discover(MAC, Ipv4Addr::UNSPECIFIED, &[])).unwrap();
    // ... and the reservation put it in "lab" without the match.
    assert_eq!(domain(&r), "lab.test");
    assert_eq!(Message::parse(&r).unwrap().yiaddr(), ip("192.0.2.20"));
}

#[test]
fn precedence_reservation_then_classes_in_order_then_subnet_then_server() {
    let mut c = base();
    c.subnets[0].options.domain_name("subnet.test").unwrap();
    let mac_of = |n: u8| [2, 0, 0, 0, 0, n];
    let r = |c: &ServerConfig, n| {
        domain(&reply(c, &discover(mac_of(n), Ipv4Addr::UNSPECIFIED, &[])).unwrap())
    };
    // The relayed subnet sets no domain: the server's.
    let relayed = reply(&c, &discover(mac_of(1), RELAY, &[])).unwrap();
    assert_eq!(domain(&relayed), "global.test");
    assert_eq!(r(&c, 1), "subnet.test");
    c.classes.push(tagged("first", Match::HardwareType(1)));
    c.classes.push(tagged("second", Match::HardwareType(1)));
    assert_eq!(r(&c, 1), "first.test");
    c.classes.swap(0, 1);
    assert_eq!(r(&c, 1), "second.test");
    let mut res = Reservation::new(
        ReservationKey::HardwareAddress(mac_of(9).to_vec()),
        ip("192.0.2.9"),
    );
    res.options.domain_name("reserved.test").unwrap();
    c.subnets[0].reservations.push(res);
    assert_eq!(r(&c, 9), "reserved.test");
    assert_eq!(r(&c, 1), "second.test");
}

fn offered(c: &ServerConfig, mac: [u8; 6], extra: &[(u8, &[u8])]) -> Option<Ipv4Addr> {
    reply(c, &discover(mac, Ipv4Addr::UNSPECIFIED, extra))
        .map(|r| Message::parse(&r).unwrap().yiaddr())
}

#[test]
fn pools_open_to_some_classes_or_closed_to_some() {
    let mut c = base();
    c.classes.push(ClassConfig::new(
        "phone",
        Some(Match::VendorClassPrefix(b"Polycom".to_vec())),
    ));
    let phones = ClassSet::of([ClassId(0)]);
    c.subnets[0].pools = vec![
        PoolRange {
            classes: PoolClasses {
                allow: phones,
                deny: ClassSet::EMPTY,
            },
            ..PoolRange::new(ip("192.0.2.200"), ip("192.0.2.200"))
        },
        PoolRange {
            classes: PoolClasses {
                allow: ClassSet::EMPTY,
                deny: phones,
            },
            ..PoolRange::new(ip("192.0.2.100"), ip("192.0.2.149"))
        },
    ];
    let phone: &[(u8, &[u8])] = &[(VENDOR, b"Polycom-VVX")];
    assert_eq!(offered(&c, MAC, phone), Some(ip("192.0.2.200")));
    assert_eq!(offered(&c, MAC, &[]), Some(ip("192.0.2.100")));
    // The phone pool full, a phone gets nothing from the others'.
    let mut s = Server::new(c.clone(), Instant::from_secs(1), 1_800_000_000).unwrap();
    let now = Instant::from_secs(1);
    s.handle_packet(
        now,
        &meta(),
        &discover([2, 0, 0, 0, 0, 1], Ipv4Addr::UNSPECIFIED, phone),
    );
    s.handle_packet(
        now,
        &meta(),
        &discover([2, 0, 0, 0, 0, 2], Ipv4Addr::UNSPECIFIED, phone),
    );
    let mut buf = [0u8; 1500];
    let mut yiaddrs = Vec::new();
    while let Some(t) = s.poll_transmit(&mut buf) {
        yiaddrs.push(Message::parse(&buf[..t.len]).unwrap().yiaddr());
    }
    assert_eq!(yiaddrs, [ip("192.0.2.200")]);
    assert_eq!(s.stats().dropped(DropReason::PoolExhausted), 1);
    // Only known clients on the relayed subnet: an unknown one is refused, and counted.
    c.subnets[1].pools[0].classes.allow = ClassSet::of([ClassId::KNOWN]);
    let mut s = Server::new(c, now, 1_800_000_000).unwrap();
    s.handle_packet(now, &meta(), &discover(MAC, RELAY, &[]));
    assert!(s.poll_transmit(&mut buf).is_none());
    assert_eq!(s.stats().dropped(DropReason::NoPoolForClass), 1);
}

#[test]
fn a_client_outside_its_pools_classes_is_naked_on_renewal() {
    let mut c = base();
    c.authoritative = true;
    c.classes
        .push(ClassConfig::new("lab", Some(Match::HasOption(250))));
    c.subnets[0].pools[0].classes.allow = ClassSet::of([ClassId(0)]);
    let mut s = Server::new(c, Instant::from_secs(1), 1_800_000_000).unwrap();
    s.handle_packet(
        Instant::from_secs(1),
        &meta(),
        &request(MAC, 9, ip("192.0.2.100"), None),
    );
    let mut out = [0u8; 1500];
    let t = s.poll_transmit(&mut out).expect("a NAK");
    let m = Message::parse(&out[..t.len]).unwrap();
    assert_eq!(m.message_type().unwrap(), Some(MessageType::Nak));
}

#[test]
fn boot_settings_go_in_the_header_and_in_66_67_when_asked() {
    let mut c = base();
    c.boot.next_server = Some(ip("192.0.2.2"));
    let mut rom = ClassConfig::new("rom", Some(Match::Architecture(0)));
    rom.boot = Boot {
        next_server: None,
        server_name: Some("tftp.test".into()),
        boot_file: Some("undionly.kpxe".into()),
    };
    let mut ipxe = ClassConfig::new("ipxe", Some(Match::UserClass(b"iPXE".to_vec())));
    ipxe.boot.boot_file = Some("http://192.0.2.1/boot.ipxe".into());
    c.classes = vec![ipxe, rom];
    let rom_req: &[(u8, &[u8])] = &[(ARCH, &[0, 0]), (55, &[1, 3, 66, 67])];
    let r = reply(&c, &discover(MAC, Ipv4Addr::UNSPECIFIED, rom_req)).unwrap();
    let m = Message::parse(&r).unwrap();
    assert_eq!(m.siaddr(), ip("192.0.2.2"));
    assert_eq!(m.sname(), Some(&b"tftp.test"[..]));
    assert_eq!(m.file(), Some(&b"undionly.kpxe"[..]));
    let opt = |m: &Message<'_>, code| {
        m.option(OptionCode(code))
            .map(|d| d.bytes().collect::<Vec<u8>>())
    };
    assert_eq!(opt(&m, 66), Some(b"tftp.test".to_vec()));
    assert_eq!(opt(&m, 67), Some(b"undionly.kpxe".to_vec()));
    // iPXE on the same machine: the first class wins the boot file, the other settings
    // come from the next class that sets them, then the server.
    let both: &[(u8, &[u8])] = &[(ARCH, &[0, 0]), (USER_CLASS, b"iPXE")];
    let r = reply(&c, &discover(MAC, Ipv4Addr::UNSPECIFIED, both)).unwrap();
    let m = Message::parse(&r).unwrap();
    assert_eq!(m.file(), Some(&b"http://192.0.2.1/boot.ipxe"[..]));
    assert_eq!(m.sname(), Some(&b"tftp.test"[..]));
    assert_eq!(opt(&m, 67), None, "67 only when asked");
    // A client in no class: only the server's next server.
    let r = reply(&c, &discover(MAC, Ipv4Addr::UNSPECIFIED, &[])).unwrap();
    let m = Message::parse(&r).unwrap();
    assert_eq!((m.siaddr(), m.file()), (ip("192.0.2.2"), Some(&b""[..])));
}

/// UEFI HTTP boot clients (vendor class `HTTPClient...`) get `url` and option 60 back.
fn http_boot(url: &str) -> ClassConfig {
    let mut http = ClassConfig::new(
        "http",
        Some(Match::VendorClassPrefix(b"HTTPClient".to_vec())),
    );
    http.boot.boot_file = Some(url.to_string());
    http.options.raw(60, b"HTTPClient").unwrap();
    http
}

#[test]
fn a_long_boot_file_goes_in_67_and_the_vendor_class_is_echoed() {
    let mut c = base();
    let url = format!("http://boot.example.test/{}/shim.efi", "x".repeat(150));
    c.classes.push(http_boot(&url));
    let uefi: &[(u8, &[u8])] = &[
        (VENDOR, b"HTTPClient:Arch:00016:UNDI:003001"),
        (ARCH, &[0, 16]),
    ];
    let r = reply(&c, &discover(MAC, Ipv4Addr::UNSPECIFIED, uefi)).unwrap();
    let m = Message::parse(&r).unwrap();
    assert_eq!(m.file(), Some(&b""[..]), "too long for the file field");
    let v: Vec<u8> = m.option(OptionCode::BOOTFILE).unwrap().bytes().collect();
    assert_eq!(v, url.as_bytes());
    let v: Vec<u8> = m
        .option(OptionCode::VENDOR_CLASS_ID)
        .unwrap()
        .bytes()
        .collect();
    assert_eq!(v, b"HTTPClient");
    // No overload into fields that carry boot settings.
    assert_eq!(m.overload(), None);
}

#[test]
fn options_overflow_into_sname_only_when_it_is_free() {
    let mut c = base();
    // Enough options to overflow 576 bytes.
    for code in 128..=140u8 {
        c.options.raw(code, &[b'v'; 40]).unwrap();
    }
    let mut k = ClassConfig::new("k", Some(Match::HardwareType(1)));
    k.boot.boot_file = Some("boot.efi".into());
    c.classes.push(k);
    let list: Vec<u8> = (128..=140).collect();
    let r = reply(&c, &discover(MAC, Ipv4Addr::UNSPECIFIED, &[(55, &list)])).unwrap();
    let m = Message::parse(&r).unwrap();
    assert!(r.len() <= 576);
    assert_eq!(m.file(), Some(&b"boot.efi"[..]));
    assert_eq!(
        m.overload().map(|o| o as u8),
        Some(2),
        "options overflow into sname only"
    );
}

#[test]
fn lease_times_by_class() {
    let mut c = base();
    let mut phone = ClassConfig::new("phone", Some(Match::MacPrefix(vec![0, 4, 0xf2])));
    phone.lease = LeaseTimes {
        default: Some(600),
        ..Default::default()
    };
    c.classes.push(phone);
    let lease = |mac| {
        let r = reply(&c, &discover(mac, Ipv4Addr::UNSPECIFIED, &[])).unwrap();
        Message::parse(&r).unwrap().lease_time().unwrap().unwrap()
    };
    assert_eq!(lease(MAC), 600);
    assert_eq!(lease([2, 0, 0, 0, 0, 1]), 3600);
}

#[test]
fn class_mistakes_are_reported_at_load() {
    let mut c = base();
    c.classes = vec![
        ClassConfig::new("a", Some(Match::All(vec![]))),
        ClassConfig::new("b", Some(Match::Class(ClassId(2)))),
        ClassConfig::new("c", Some(Match::VendorClass(vec![]))),
        ClassConfig::new("c", None),
        ClassConfig::new("known", None),
    ];
    c.subnets[0].pools[0].classes.allow = ClassSet::of([ClassId(9)]);
    let errors = Server::new(c, Instant::from_secs(1), 0).unwrap_err();
    let whats: Vec<(ConfigPlace, String)> =
        errors.iter().map(|e| (e.place, e.what.clone())).collect();
    let has = |place: ConfigPlace, text: &str| {
        assert!(
            whats.iter().any(|(p, w)| *p == place && w.contains(text)),
            "{text:?} at {place:?} in {whats:#?}"
        )
    };
    has(ConfigPlace::Class { class: 0 }, "`all` lists no test");
    has(ConfigPlace::Class { class: 1 }, "defined after it");
    has(ConfigPlace::Class { class: 2 }, "vendor class is empty");
    has(ConfigPlace::Class { class: 3 }, "defined twice");
    has(ConfigPlace::Class { class: 4 }, "built-in");
    has(
        ConfigPlace::Pool { subnet: 0, pool: 0 },
        "class #9 is not defined",
    );
}

/// Classes that match nothing, restrict no pool and carry things.
fn inert_classes() -> Vec<ClassConfig> {
    let mut a = ClassConfig::new(
        "never",
        Some(Match::VendorClass(b"\xff never sent".to_vec())),
    );
    a.options.domain_name("never.test").unwrap();
    a.boot.boot_file = Some("never.efi".into());
    let b = ClassConfig::new("by-reservation", None);
    vec![a, b]
}

proptest! {
    /// A config without classes answers every request exactly as the same config with
    /// classes that match no client.
    #[test]
    fn classes_that_match_nothing_change_no_byte(
        n in 1u8..40,
        kind in prop_oneof![Just(MessageType::Discover), Just(MessageType::Request), Just(MessageType::Inform)],
        extra in proptest::collection::vec((1u8..254, proptest::collection::vec(any::<u8>(), 0..20)), 0..6),
        relayed in any::<bool>(),
    ) {
        let plain = base();
        let mut classed = base();
        classed.classes = inert_classes();
        let extra: Vec<(u8, Vec<u8>)> = extra
            .into_iter()
            .filter(|(c, _)| !matches!(c, 52 | 53 | 60))
            .collect();
        let mut buf = vec![0u8; 1500];
        let mut b = MessageBuilder::new(&mut buf).unwrap();
        b.op(Op::BootRequest).xid(u32::from(n));
        if relayed {
            b.giaddr(RELAY);
        }
        b.chaddr(&[2, 0, 0, 0, 1, n]).unwrap();
        b.message_type(kind).unwrap();
        if kind == MessageType::Request {
            b.requested_ip(ip("192.0.2.120")).unwrap();
        }
        for (c, v) in &extra {
            b.option(OptionCode(*c), v).unwrap();
        }
        let len = b.finish().unwrap();
        buf.truncate(len);
        prop_assert_eq!(reply(&plain, &buf), reply(&classed, &buf));
    }
}

/// A BOOTP request (no message type) from `mac`.
fn bootp_request(mac: [u8; 6]) -> Vec<u8> {
    request_from(mac, 0xb00b, |_| {})
}

#[test]
fn bootp_clients_get_their_reservation_for_good_with_a_bootreply() {
    let mut c = base();
    c.boot.next_server = Some(ip("192.0.2.2"));
    c.boot.boot_file = Some("boot/printer.bin".into());
    for code in 128..=140u8 {
        c.options.raw(code, &[b'v'; 20]).unwrap();
    }
    c.subnets[0].reservations.push(Reservation::new(
        ReservationKey::HardwareAddress(MAC.to_vec()),
        ip("192.0.2.30"),
    ));
    let mut s = Server::new(c.clone(), Instant::from_secs(1), 1_800_000_000).unwrap();
    let now = Instant::from_secs(1);
    s.handle_packet(now, &meta(), &bootp_request(MAC));
    let mut buf = [0u8; 1500];
    assert!(
        s.poll_transmit(&mut buf).is_none(),
        "the reply waits for its record"
    );
    let record = s.poll_persist().expect("a record");
    assert_eq!(record.address, ip("192.0.2.30"));
    assert_eq!(record.expires, u64::MAX, "an infinite lease");
    s.persisted(record.seq);
    let t = s.poll_transmit(&mut buf).expect("a BOOTREPLY");
    assert_eq!(t.len, 300, "BOOTP's size: the 64-byte vendor area, padded");
    let m = Message::parse(&buf[..t.len]).unwrap();
    assert_eq!(m.op(), Op::BootReply);
    assert_eq!(m.yiaddr(), ip("192.0.2.30"));
    assert_eq!(m.siaddr(), ip("192.0.2.2"));
    assert_eq!(m.file(), Some(&b"boot/printer.bin"[..]));
    assert_eq!(m.message_type().unwrap(), None);
    for dhcp_only in [51u8, 53, 54, 58, 59, 52] {
        assert!(
            m.option(OptionCode(dhcp_only)).is_none(),
            "option {dhcp_only}"
        );
    }
    assert_eq!(m.subnet_mask().unwrap(), Some(ip("255.255.255.0")));
    assert_eq!(s.stats().bootp_received, 1);
    assert_eq!(s.stats().bootp_sent, 1);
    // Another BOOTP client, unreserved: not served unless dynamic BOOTP is on.
    s.handle_packet(now, &meta(), &bootp_request([2, 0, 0, 0, 0, 7]));
    assert!(s.poll_persist().is_none());
    assert_eq!(s.stats().dropped(DropReason::BootpNotServed), 1);
    // Dynamic BOOTP: from a pool open to class bootp, for good; DHCP clients stay out of it.
    c.dynamic_bootp = true;
    c.subnets[0].pools = vec![
        PoolRange {
            classes: PoolClasses {
                allow: ClassSet::of([ClassId::BOOTP]),
                deny: ClassSet::EMPTY,
            },
            ..PoolRange::new(ip("192.0.2.240"), ip("192.0.2.249"))
        },
        PoolRange {
            classes: PoolClasses {
                allow: ClassSet::EMPTY,
                deny: ClassSet::of([ClassId::BOOTP]),
            },
            ..PoolRange::new(ip("192.0.2.100"), ip("192.0.2.149"))
        },
    ];
    let mut s = Server::new(c.clone(), now, 1_800_000_000).unwrap();
    s.handle_packet(now, &meta(), &bootp_request([2, 0, 0, 0, 0, 7]));
    let record = s.poll_persist().expect("a record");
    assert_eq!(
        (record.address, record.expires),
        (ip("192.0.2.240"), u64::MAX)
    );
    assert_eq!(
        offered(&c, [2, 0, 0, 0, 0, 8], &[]),
        Some(ip("192.0.2.100"))
    );
}

/// Two subnets on one link: 192.0.2.0/24 (the interface's) with one address, and
/// 203.0.113.0/24 with two; the second's pool only for class "phone".
fn shared() -> ServerConfig {
    let mut c = base();
    c.classes.push(ClassConfig::new(
        "phone",
        Some(Match::MacPrefix(vec![0x00, 0x04, 0xf2])),
    ));
    c.subnets[0].pools = vec![PoolRange::new(ip("192.0.2.100"), ip("192.0.2.100"))];
    c.subnets[0].shared_network = Some("campus".into());
    let mut other = SubnetConfig::new(Ipv4Net::new(ip("203.0.113.0"), 24));
    other
        .pools
        .push(PoolRange::new(ip("203.0.113.10"), ip("203.0.113.11")));
    other.options.routers(&[ip("203.0.113.1")]).unwrap();
    other.shared_network = Some("campus".into());
    c.subnets.push(other);
    c
}

#[test]
fn a_shared_network_serves_from_its_subnets_in_order() {
    let c = shared();
    let mut s = Server::new(c.clone(), Instant::from_secs(1), 1_800_000_000).unwrap();
    let now = Instant::from_secs(1);
    let mut offers = Vec::new();
    let mut buf = [0u8; 1500];
    for n in 1..=4u8 {
        s.handle_packet(
            now,
            &meta(),
            &discover([2, 0, 0, 0, 1, n], Ipv4Addr::UNSPECIFIED, &[]),
        );
        if let Some(t) = s.poll_transmit(&mut buf) {
            let m = Message::parse(&buf[..t.len]).unwrap();
            let router = m.routers().unwrap().unwrap().first().unwrap();
            offers.push((m.yiaddr(), m.subnet_mask().unwrap().unwrap(), router));
        }
    }
    // The first subnet's one address, then the second's two, each with its own options.
    assert_eq!(
        offers,
        [
            (ip("192.0.2.100"), ip("255.255.255.0"), SERVER_ID),
            (ip("203.0.113.10"), ip("255.255.255.0"), ip("203.0.113.1")),
            (ip("203.0.113.11"), ip("255.255.255.0"), ip("203.0.113.1")),
        ]
    );
    assert_eq!(s.stats().dropped(DropReason::PoolExhausted), 1);
    // A client renewing an address of the second subnet is served from it.
    let renew = request_from([2, 0, 0, 0, 1, 2], 9, |b| {
        b.ciaddr(ip("203.0.113.10"));
        b.message_type(MessageType::Request).unwrap();
    });
    s.handle_packet(now, &meta(), &renew);
    let record = s.poll_persist().expect("the lease, from the second subnet");
    assert_eq!(record.address, ip("203.0.113.10"));
    s.persisted(record.seq);
    let t = s.poll_transmit(&mut buf).expect("an ACK");
    let m = Message::parse(&buf[..t.len]).unwrap();
    assert_eq!(m.message_type().unwrap(), Some(MessageType::Ack));
    assert_eq!(
        m.routers().unwrap().unwrap().first(),
        Some(ip("203.0.113.1"))
    );
    // Class by subnet: with the first subnet's pool open only to phones, others go on to
    // the second subnet.
    let mut c = shared();
    c.subnets[0].pools[0].classes.allow = ClassSet::of([ClassId(0)]);
    assert_eq!(
        offered(&c, [2, 0, 0, 0, 2, 1], &[]),
        Some(ip("203.0.113.10"))
    );
    assert_eq!(offered(&c, MAC, &[]), Some(ip("192.0.2.100")));
}

#[test]
fn the_conflict_check_holds_an_offer_until_its_address_is_checked() {
    let mut c = base();
    c.conflict_check = true;
    c.subnets[0].pools = vec![PoolRange::new(ip("192.0.2.100"), ip("192.0.2.102"))];
    let mut s = Server::new(c, Instant::from_secs(1), 1_800_000_000).unwrap();
    let now = Instant::from_secs(1);
    let mut buf = [0u8; 1500];
    let first = [2, 0, 0, 0, 3, 1];
    s.handle_packet(now, &meta(), &discover(first, Ipv4Addr::UNSPECIFIED, &[]));
    assert!(
        s.poll_transmit(&mut buf).is_none(),
        "the offer waits for the check"
    );
    assert_eq!(s.poll_probe(), Some(ip("192.0.2.100")));
    // Another client meanwhile is not held up by it.
    s.handle_packet(
        now,
        &meta(),
        &discover([2, 0, 0, 0, 3, 2], Ipv4Addr::UNSPECIFIED, &[]),
    );
    assert_eq!(s.poll_probe(), Some(ip("192.0.2.101")));
    s.probe_result(now, ip("192.0.2.101"), false);
    let t = s
        .poll_transmit(&mut buf)
        .expect("the second client's offer");
    assert_eq!(
        Message::parse(&buf[..t.len]).unwrap().yiaddr(),
        ip("192.0.2.101")
    );
    // 192.0.2.100 answers: set aside (durably), and the first client is offered another.
    s.probe_result(now, ip("192.0.2.100"), true);
    assert_eq!(s.stats().conflicts, 1);
    assert_eq!(
        s.stats().received_of(MessageType::Discover),
        2,
        "each DISCOVER once"
    );
    let record = s.poll_persist().expect("the address set aside, durably");
    assert_eq!(record.address, ip("192.0.2.100"));
    assert_eq!(record.kind, dhcp_core::server::RecordKind::Declined);
    assert_eq!(s.poll_probe(), Some(ip("192.0.2.102")));
    s.probe_result(now, ip("192.0.2.102"), false);
    let t = s.poll_transmit(&mut buf).expect("the first client's offer");
    let m = Message::parse(&buf[..t.len]).unwrap();
    assert_eq!((m.yiaddr(), m.chaddr()), (ip("192.0.2.102"), &first[..]));
    // The client's own address again (a retransmitted DISCOVER) goes unchecked.
    s.handle_packet(now, &meta(), &discover(first, Ipv4Addr::UNSPECIFIED, &[]));
    assert!(s.poll_transmit(&mut buf).is_some());
    assert_eq!(s.poll_probe(), None);
    // An answer for an address with no offer held changes nothing.
    s.probe_result(now, ip("192.0.2.101"), true);
    assert_eq!(s.stats().conflicts, 1);
}

#[test]
fn a_pxe_machine_is_reserved_by_its_machine_identifier() {
    let uuid: &[u8] = &[
        0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8,
    ];
    let mut c = base();
    c.subnets[0].reservations.push(Reservation::new(
        ReservationKey::MachineId(uuid.to_vec()),
        ip("192.0.2.40"),
    ));
    // Whichever network card it boots from.
    for mac in [MAC, [2, 0, 0, 0, 9, 9]] {
        assert_eq!(offered(&c, mac, &[(97, uuid)]), Some(ip("192.0.2.40")));
    }
    assert_eq!(offered(&c, MAC, &[]), Some(ip("192.0.2.100")));
}

#[test]
fn a_discovers_classes_hold_for_the_request_of_the_same_exchange() {
    // A network boot ROM that sends its vendor class only in the DISCOVER.
    let mut c = base();
    let mut pxe = ClassConfig::new("pxe", Some(Match::VendorClassPrefix(b"PXEClient".to_vec())));
    pxe.boot.boot_file = Some("undionly.kpxe".into());
    c.classes.push(pxe);
    c.subnets[0].pools = vec![
        PoolRange {
            classes: PoolClasses {
                allow: ClassSet::of([ClassId(0)]),
                deny: ClassSet::EMPTY,
            },
            ..PoolRange::new(ip("192.0.2.200"), ip("192.0.2.209"))
        },
        PoolRange::new(ip("192.0.2.100"), ip("192.0.2.149")),
    ];
    let mut s = Server::new(c, Instant::from_secs(1), 1_800_000_000).unwrap();
    let now = Instant::from_secs(1);
    s.handle_packet(
        now,
        &meta(),
        &discover(
            MAC,
            Ipv4Addr::UNSPECIFIED,
            &[(VENDOR, b"PXEClient:Arch:00000")],
        ),
    );
    let mut buf = [0u8; 1500];
    let t = s.poll_transmit(&mut buf).unwrap();
    let offered = Message::parse(&buf[..t.len]).unwrap().yiaddr();
    assert_eq!(offered, ip("192.0.2.200"));
    let request = |xid: u32| request(MAC, xid, offered, Some(SERVER_ID));
    // The same exchange (xid 7): the class holds, the ACK has its boot file.
    s.handle_packet(now, &meta(), &request(7));
    let seq = s.poll_persist().expect("the lease").seq;
    s.persisted(seq);
    let t = s.poll_transmit(&mut buf).unwrap();
    let m = Message::parse(&buf[..t.len]).unwrap();
    assert_eq!(m.message_type().unwrap(), Some(MessageType::Ack));
    assert_eq!(m.file(), Some(&b"undionly.kpxe"[..]));
    // Another exchange without the vendor class is not in the class: its pool is not its.
    s.handle_packet(now, &meta(), &request(8));
    let t = s.poll_transmit(&mut buf).unwrap();
    let m = Message::parse(&buf[..t.len]).unwrap();
    assert_eq!(m.message_type().unwrap(), Some(MessageType::Nak));
}

#[test]
fn options_sent_unasked_are_not_doubled_by_a_cached_block() {
    let mut c = base();
    let url = format!("http://boot.example.test/{}/ipxe.efi", "x".repeat(120));
    c.classes.push(http_boot(&url));
    let mut s = Server::new(c, Instant::from_secs(1), 1_800_000_000).unwrap();
    let now = Instant::from_secs(1);
    let asks: &[(u8, &[u8])] = &[(VENDOR, b"HTTPClient:Arch:00016"), (55, &[1, 3, 60, 67])];
    let mut buf = [0u8; 1500];
    // The second client's reply copies the first's option block from the cache.
    for n in 1..=2u8 {
        s.handle_packet(
            now,
            &meta(),
            &discover([2, 0, 0, 0, 4, n], Ipv4Addr::UNSPECIFIED, asks),
        );
        let t = s.poll_transmit(&mut buf).unwrap();
        let m = Message::parse(&buf[..t.len]).unwrap();
        let vendor: Vec<u8> = m
            .option(OptionCode::VENDOR_CLASS_ID)
            .unwrap()
            .bytes()
            .collect();
        assert_eq!(vendor, b"HTTPClient", "client {n}");
        let file: Vec<u8> = m.option(OptionCode::BOOTFILE).unwrap().bytes().collect();
        assert_eq!(file, url.as_bytes(), "client {n}");
    }
}

#[test]
fn a_discover_again_during_the_check_waits_for_it_and_a_request_cannot_skip_it() {
    let mut c = base();
    c.conflict_check = true;
    let mut s = Server::new(c, Instant::from_secs(1), 1_800_000_000).unwrap();
    let now = Instant::from_secs(1);
    let mut buf = [0u8; 1500];
    s.handle_packet(now, &meta(), &discover(MAC, Ipv4Addr::UNSPECIFIED, &[]));
    s.handle_packet(now, &meta(), &discover(MAC, Ipv4Addr::UNSPECIFIED, &[]));
    assert!(s.poll_transmit(&mut buf).is_none(), "no unchecked offer");
    assert_eq!(s.poll_probe(), Some(ip("192.0.2.100")));
    assert_eq!(s.poll_probe(), None);
    // A REQUEST for the address before its OFFER went: nothing bound.
    s.handle_packet(now, &meta(), &request(MAC, 7, ip("192.0.2.100"), None));
    assert!(s.poll_persist().is_none());
    s.probe_result(now, ip("192.0.2.100"), false);
    assert!(s.poll_transmit(&mut buf).is_some(), "the checked offer");
}

#[test]
fn bootp_replies_echo_option_82_first_and_bind_nothing_they_cannot_write() {
    let mut c = base();
    c.dynamic_bootp = true;
    c.subnets[1]
        .options
        .routers(&[RELAY])
        .unwrap()
        .dns_servers(&[ip("198.51.100.53"), ip("198.51.100.54")])
        .unwrap()
        .ntp_servers(&[ip("198.51.100.123")])
        .unwrap();
    let relayed = |info: &[u8]| {
        let mut buf = vec![0u8; 1500];
        let mut b = MessageBuilder::new(&mut buf).unwrap();
        b.op(Op::BootRequest).xid(0xb00b).hops(1).giaddr(RELAY);
        b.chaddr(&MAC).unwrap();
        b.option(OptionCode(82), info).unwrap();
        let n = b.finish().unwrap();
        buf.truncate(n);
        buf
    };
    let mut s = Server::new(c, Instant::from_secs(1), 1_800_000_000).unwrap();
    let now = Instant::from_secs(1);
    let info: &[u8] = b"\x01\x0ceth1/0/1:100\x02\x06abcdef";
    s.handle_packet(now, &meta(), &relayed(info));
    let r = s.poll_persist().expect("bound");
    s.persisted(r.seq);
    let mut buf = [0u8; 1500];
    let t = s.poll_transmit(&mut buf).expect("a BOOTREPLY");
    let m = Message::parse(&buf[..t.len]).unwrap();
    let echoed: Vec<u8> = m
        .option(OptionCode::RELAY_AGENT_INFO)
        .unwrap()
        .bytes()
        .collect();
    assert_eq!(echoed, info);
    // An option 82 too long for the vendor area: no reply can be written, nothing bound.
    let mut long = vec![1u8, 58];
    long.extend([b'c'; 58]);
    s.handle_packet(now, &meta(), &relayed(&long));
    assert!(s.poll_persist().is_none());
}

#[test]
fn a_reserved_bootp_client_gets_its_reservation_or_nothing_without_dynamic_bootp() {
    let mut c = base();
    c.subnets[0].reservations.push(Reservation::new(
        ReservationKey::HardwareAddress(MAC.to_vec()),
        ip("192.0.2.120"),
    ));
    let mut s = Server::new(c, Instant::from_secs(1), 1_800_000_000).unwrap();
    let now = Instant::from_secs(1);
    s.handle_packet(now, &meta(), &bootp_request(MAC));
    let r = s.poll_persist().expect("its reservation");
    assert_eq!(r.address, ip("192.0.2.120"));
    // The store refuses it (another server holds the address): it is set aside for a
    // while, and the client gets no pool address in its place.
    s.persist_failed(r.seq);
    s.handle_packet(now, &meta(), &bootp_request(MAC));
    assert!(s.poll_persist().is_none());
    assert_eq!(s.stats().dropped(DropReason::BootpNotServed), 1);
}

#[test]
fn a_client_whose_classes_left_its_subnets_pool_starts_over_on_the_link() {
    let c = shared();
    let mut s = Server::new(c.clone(), Instant::from_secs(1), 1_800_000_000).unwrap();
    let now = Instant::from_secs(1);
    let mut buf = [0u8; 1500];
    let client = [2, 0, 0, 0, 6, 1];
    s.handle_packet(now, &meta(), &discover(client, Ipv4Addr::UNSPECIFIED, &[]));
    let t = s.poll_transmit(&mut buf).unwrap();
    assert_eq!(
        Message::parse(&buf[..t.len]).unwrap().yiaddr(),
        ip("192.0.2.100")
    );
    // The first subnet's pool becomes phones-only; the client is no phone.
    let mut phones_only = c;
    phones_only.subnets[0].pools[0].classes.allow = ClassSet::of([ClassId(0)]);
    s.reconfigure(phones_only).unwrap();
    s.handle_packet(now, &meta(), &discover(client, Ipv4Addr::UNSPECIFIED, &[]));
    let t = s
        .poll_transmit(&mut buf)
        .expect("an offer from the other subnet");
    assert_eq!(
        Message::parse(&buf[..t.len]).unwrap().yiaddr(),
        ip("203.0.113.10")
    );
}
