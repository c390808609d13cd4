//! The config file: the annotated example loads; every kind of mistake is reported with
//! file, line, column, field and what is wrong.

use std::net::Ipv4Addr;
use std::path::Path;

use dhcp_host::dhcp_core::wire::OptionCode;
use dhcp_host::server::config::{self, ConfigFileError};

#[test]
fn the_annotated_example_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/server.toml");
    let f = config::load(&path).unwrap();
    assert_eq!(f.interfaces, ["veth-srv"]);
    assert_eq!(f.journal, path.parent().unwrap().join("leases.journal"));
    assert_eq!(f.log_level, "info");
    assert!(f.server.authoritative);
    assert_eq!(f.server.lease.default, Some(3600));
    assert_eq!(f.server.max_offers, 65536);
    assert_eq!(f.server.rate_limit, Some(20));
    let s = &f.server.subnets[0];
    assert_eq!(s.subnet.to_string(), "192.0.2.0/24");
    assert_eq!(s.pools[1].start, Ipv4Addr::new(192, 0, 2, 100));
    assert_eq!(s.pools[1].end, Ipv4Addr::new(192, 0, 2, 199));
    let phones = f.server.class_id("phones").unwrap();
    assert!(s.pools[0].classes.allow.contains(phones));
    assert!(s.pools[1].classes.deny.contains(phones));
    assert_eq!(f.server.classes.len(), 3);
    assert_eq!(s.lease.default, Some(600));
    assert_eq!(
        s.options.get(OptionCode::ROUTERS),
        Some(&[192, 0, 2, 1][..])
    );
    assert_eq!(
        f.server.options.get(OptionCode::DOMAIN_NAME),
        Some(&b"example.test"[..])
    );
    assert_eq!(s.reservations[0].address, Ipv4Addr::new(192, 0, 2, 42));
    assert_eq!(s.reservations[0].host_name.as_deref(), Some("printer"));
}

#[test]
fn a_zero_rate_limit_is_refused_where_it_is_written() {
    assert_eq!(
        first(&format!("rate_limit = 0\n{SUBNET}")),
        "1:14: rate_limit: must be at least 1 request a second (leave it out for no limit)"
    );
}

fn errors(text: &str) -> ConfigFileError {
    config::parse(Path::new("/etc/dhcp/server.toml"), text).expect_err("a bad config")
}

/// The first error as `line:column: field: what`, without the file.
fn first(text: &str) -> String {
    let e = errors(text);
    let s = e.errors[0].to_string();
    s.strip_prefix("/etc/dhcp/server.toml:")
        .unwrap_or_else(|| panic!("no file name in {s}"))
        .to_string()
}

const SUBNET: &str =
    "[[subnet]]\nnetwork = \"192.0.2.0/24\"\npools = [\"192.0.2.10-192.0.2.20\"]\n";

#[test]
fn syntax_and_type_mistakes_name_line_column_and_field() {
    let cases: &[(&str, &str)] = &[
        ("journal = \"x\"\nbogus = 1\n", "2:1: bogus: unknown field `bogus`"),
        ("offer_hold = \"long\"\n", "1:14: offer_hold: invalid type: string \"long\", expected u32"),
        ("authoritative = yes\n", "1:17: authoritative: "),
        ("[[subnet]]\nnetwork = \"192.0.2.0/33\"\n", "2:11: network: prefix length 33 in \"192.0.2.0/33\" is over 32"),
        ("[[subnet]]\nnetwork = \"192.0.2.0\"\n", "2:11: network: \"192.0.2.0\" is not a network"),
        ("[[subnet]]\nnetwork = \"192.0.2.0/24\"\npools = [\"192.0.2.10-192.0.2\"]\n", "3:10: pools: \"192.0.2\" is not an IPv4 address"),
        ("[options]\nrouters = [\"192.0.2.300\"]\n", "2:11: options.routers: \"192.0.2.300\" is not an IPv4 address"),
        ("[[subnet]]\nnetwork = \"192.0.2.0/24\"\n[[subnet.reservation]]\nmac = \"00:11:22\"\naddress = \"192.0.2.5\"\n", "4:7: mac: \"00:11:22\" is not a MAC address"),
        ("[lease]\ntime = -5\n", "2:8: time: invalid value: integer `-5`, expected u32"),
    ];
    for (text, want) in cases {
        let got = first(text);
        assert!(
            got.starts_with(want),
            "config:\n{text}\nwant: {want}\ngot:  {got}"
        );
    }
}

#[test]
fn model_mistakes_point_at_their_subnet_pool_or_field() {
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{SUBNET}[[subnet]]\nnetwork = \"192.0.2.128/25\"\npools = [\"192.0.2.130-192.0.2.140\"]\n"),
            "4:1: subnet[1]: subnet 192.0.2.128/25: overlaps subnet 192.0.2.0/24",
        ),
        (
            "[[subnet]]\nnetwork = \"192.0.2.0/24\"\npools = [\"192.0.2.10-192.0.2.20\", \"198.51.100.1-198.51.100.9\"]\n".to_string(),
            "3:35: subnet[0].pools[1]: subnet 192.0.2.0/24 pool 1 (198.51.100.1-198.51.100.9): is not inside 192.0.2.0/24",
        ),
        (
            format!("[lease]\ntime = 600\nrenewal = 400\nrebinding = 300\n{SUBNET}"),
            "3:11: lease.renewal: T1 400 s must be below T2 300 s",
        ),
        (
            format!("{SUBNET}[[subnet.reservation]]\nmac = \"02:00:00:00:00:01\"\nclient_id = \"01:02\"\naddress = \"192.0.2.5\"\n"),
            "4:1: subnet[0].reservation[0]: give exactly one of mac, client_id, circuit_id, remote_id, machine_id",
        ),
        (
            format!("log_level = \"loud\"\n{SUBNET}"),
            "1:13: log_level: \"loud\" is not one of error, warn, info, debug, trace",
        ),
        (
            format!("[options]\ndomain_search = [\"a..b\"]\n{SUBNET}"),
            "2:17: options.domain_search: ",
        ),
        (
            format!("[options]\nraw = [{{ code = 53, hex = \"01\" }}]\n{SUBNET}"),
            "2:7: options.raw: ",
        ),
    ];
    for (text, want) in &cases {
        let got = first(text);
        assert!(
            got.starts_with(want),
            "config:\n{text}\nwant: {want}\ngot:  {got}"
        );
    }
}

#[test]
fn every_mistake_is_reported_at_once() {
    let text = format!(
        "log_level = \"loud\"\n{SUBNET}[[subnet]]\nnetwork = \"192.0.2.0/25\"\npools = [\"192.0.2.15-192.0.2.25\"]\n"
    );
    let e = errors(&text);
    assert!(e.errors.len() >= 3, "{e}");
    let shown = e.to_string();
    assert_eq!(shown.lines().count(), e.errors.len());
    assert!(
        shown
            .lines()
            .all(|l| l.starts_with("/etc/dhcp/server.toml:")),
        "{shown}"
    );
}

#[test]
fn a_missing_file_says_so() {
    let e = config::load("/nonexistent/dhcp.toml").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/dhcp.toml:0:0: cannot read:"),
        "{e}"
    );
}

#[test]
fn a_shared_store_splits_every_pool_into_shares_its_own_first() {
    let text = format!(
        "store = \"postgres\"\n[postgres]\nurl = \"host=/run/postgresql dbname=dhcp\"\nname = \"b\"\n\
         [ha]\nservers = 2\nthis = 1\n{SUBNET}"
    );
    let f = config::parse(Path::new("/etc/dhcp/server.toml"), &text).unwrap();
    assert_eq!(
        f.store,
        config::Store::Postgres {
            url: "host=/run/postgresql dbname=dhcp".into(),
            name: "b".into(),
            tls: Default::default(),
        }
    );
    let pools: Vec<_> = f.server.subnets[0]
        .pools
        .iter()
        .map(|p| (p.start.octets()[3], p.end.octets()[3]))
        .collect();
    assert_eq!(pools, [(15, 20), (10, 14)]);
}

#[test]
fn store_mistakes_name_their_key() {
    assert_eq!(
        first(&format!("store = \"postgres\"\n{SUBNET}")),
        "1:9: store: \"postgres\" needs a [postgres] table with the database's url"
    );
    assert_eq!(
        first(&format!("store = \"sqlite\"\n{SUBNET}")),
        "1:9: store: \"sqlite\": the stores are \"journal\" and \"postgres\""
    );
    assert_eq!(
        first(&format!("[ha]\nservers = 2\nthis = 0\n{SUBNET}")),
        "1:1: ha: servers share leases through a database: set store = \"postgres\""
    );
    assert_eq!(
        first(&format!(
            "store = \"postgres\"\n[postgres]\nurl = \"dbname=dhcp\"\n[ha]\nservers = 2\nthis = 2\n{SUBNET}"
        )),
        "6:8: ha.this: 2: shares are numbered 0 to 1 (ha.servers - 1)"
    );
    assert_eq!(
        first(&format!(
            "store = \"postgres\"\n[postgres]\nurl = \"dbname=dhcp\"\ncert = \"/etc/hostname\"\n{SUBNET}"
        )),
        "4:8: postgres.cert: needs key too"
    );
    let e = first(&format!(
        "store = \"postgres\"\n[postgres]\nurl = \"dbname=dhcp\"\nca = \"db-ca.pem\"\n{SUBNET}"
    ));
    assert!(
        e.starts_with("4:6: postgres.ca: /etc/dhcp/db-ca.pem: No such file"),
        "{e}"
    );
}

#[test]
fn database_tls_files_are_taken_from_the_configs_directory() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["ca.pem", "me.pem", "me.key"] {
        std::fs::write(dir.path().join(f), "").unwrap();
    }
    let text = format!(
        "store = \"postgres\"\n[postgres]\nurl = \"host=db.example dbname=dhcp\"\nname = \"a\"\n\
         ca = \"ca.pem\"\ncert = \"me.pem\"\nkey = \"me.key\"\n{SUBNET}"
    );
    let f = config::parse(&dir.path().join("server.toml"), &text).unwrap();
    let config::Store::Postgres { tls, .. } = f.store else {
        panic!("{:?}", f.store);
    };
    assert_eq!(tls.ca, Some(dir.path().join("ca.pem")));
    assert_eq!(tls.cert, Some(dir.path().join("me.pem")));
    assert_eq!(tls.key, Some(dir.path().join("me.key")));
}

#[test]
fn the_annotated_example_has_no_warnings() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/server.toml");
    let f = config::load(&path).unwrap();
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
}

/// RFC 3442 §3: a client that receives classless routes ignores routers, so a scope
/// sending both without 0.0.0.0/0 among the routes leaves such clients without a default
/// route. Allowed, but warned at the routes' line, once per key, whichever scope sends it.
#[test]
fn routers_with_classless_routes_but_no_default_route_are_warned_at_the_routes() {
    let text = "[options]\nrouters = [\"192.0.2.1\"]\n\
                [[subnet]]\nnetwork = \"192.0.2.0/24\"\npools = [\"192.0.2.10-192.0.2.20\"]\n\
                [subnet.options]\n\
                classless_routes = [{ network = \"198.51.100.0/24\", router = \"192.0.2.254\" }]\n\
                [[subnet.reservation]]\nmac = \"02:00:00:00:00:01\"\naddress = \"192.0.2.5\"\n";
    let f = config::parse(Path::new("/etc/dhcp/server.toml"), text).unwrap();
    let w: Vec<String> = f.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with(
            "/etc/dhcp/server.toml:7:20: subnet[0].options.classless_routes: sent with routers \
             but without a default route (0.0.0.0/0)"
        ),
        "{}",
        w[0]
    );

    let with_default = text.replace(
        "classless_routes = [",
        "classless_routes = [{ network = \"0.0.0.0/0\", router = \"192.0.2.1\" }, ",
    );
    let f = config::parse(Path::new("/etc/dhcp/server.toml"), &with_default).unwrap();
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);

    let without_routers = text.replace("routers = [\"192.0.2.1\"]\n", "");
    let f = config::parse(Path::new("/etc/dhcp/server.toml"), &without_routers).unwrap();
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
}

#[test]
fn an_option_mistake_points_at_its_own_key() {
    assert_eq!(
        first(&format!(
            "{SUBNET}[subnet.options]\nrouters = [\"192.0.2.1\"]\ndomain_search = [\"a..b\"]\n"
        )),
        "6:17: subnet[0].options.domain_search: option Domain-Search (119): domain labels must be 1..=63 bytes"
    );
}

/// Each mistake points at its own key: a lease time at its key (the server's or the
/// subnet's), a reservation at its own table, whichever place the core's typed position
/// names.
#[test]
fn model_mistakes_point_at_their_own_key() {
    let cases: Vec<(String, &str)> = vec![
        (
            format!("[lease]\ntime = 30\nmin = 60\n{SUBNET}"),
            "2:8: lease.time: lease time 30 s is below the min lease time 60 s",
        ),
        (
            format!("[lease]\ntime = 3600\nrenewal = 4000\n{SUBNET}"),
            "3:11: lease.renewal: T1 4000 s must be below the lease time 3600 s",
        ),
        (
            format!("[lease]\ntime = 3600\nrenewal = 3200\n{SUBNET}"),
            "3:11: lease.renewal: T1 3200 s must be below T2, which is 7/8 of the lease time 3600 s (3150 s) when not set",
        ),
        (
            format!("{SUBNET}[subnet.lease]\ntime = 10\n"),
            "5:8: subnet[0].lease.time: subnet 192.0.2.0/24 lease: lease time 10 s is below the min lease time 60 s",
        ),
        (
            format!(
                "{SUBNET}[[subnet.reservation]]\nmac = \"02:00:00:00:00:01\"\naddress = \"192.0.2.5\"\n\
                 [[subnet.reservation]]\nmac = \"02:00:00:00:00:02\"\naddress = \"192.0.2.5\"\n"
            ),
            "7:1: subnet[0].reservation[1]: subnet 192.0.2.0/24 reservation hardware address 02:00:00:00:00:02: address 192.0.2.5 is reserved twice",
        ),
        (
            // A reservation left out (it names two clients) does not shift the next one's.
            format!(
                "{SUBNET}[[subnet.reservation]]\nmac = \"02:00:00:00:00:01\"\nclient_id = \"01\"\naddress = \"192.0.2.6\"\n\
                 [[subnet.reservation]]\nmac = \"02:00:00:00:00:02\"\naddress = \"10.0.0.1\"\n"
            ),
            "4:1: subnet[0].reservation[0]: give exactly one of mac, client_id, circuit_id, remote_id, machine_id",
        ),
    ];
    for (text, want) in &cases {
        let got = first(text);
        assert_eq!(&got, want, "config:\n{text}");
    }
    let e = errors(&format!(
        "{SUBNET}[[subnet.reservation]]\nmac = \"02:00:00:00:00:01\"\nclient_id = \"01\"\naddress = \"192.0.2.6\"\n\
         [[subnet.reservation]]\nmac = \"02:00:00:00:00:02\"\naddress = \"10.0.0.1\"\n"
    ));
    let second = e.errors[1].to_string();
    assert!(
        second.contains(":8:1: subnet[0].reservation[1]: "),
        "{second}"
    );
}

/// An unknown key near a known one gets a suggestion, as cargo gives.
#[test]
fn near_miss_keys_get_a_suggestion() {
    let got = first(&format!("interface = [\"eth0\"]\n{SUBNET}"));
    assert!(
        got.starts_with(
            "1:1: interface: unknown field `interface`, expected one of `interfaces`, `journal`, "
        ),
        "{got}"
    );
    assert!(got.ends_with("; did you mean `interfaces`?"), "{got}");
    let got = first(&format!(
        "{SUBNET}[subnet.options]\ndns_server = [\"192.0.2.53\"]\n"
    ));
    assert!(
        got.starts_with("5:14: subnet[0].options.dns_server: no option \"dns_server\""),
        "{got}"
    );
    assert!(got.ends_with("; did you mean \"dns_servers\"?"), "{got}");
    let got = first(&format!("bogus = 1\n{SUBNET}"));
    assert!(!got.contains("did you mean"), "{got}");
}

/// A T1 inherited from `[lease]` that a subnet's own shorter lease time leaves too long is
/// not refused (the subnet sends the default T1, half its lease): it is a warning at the
/// subnet's lease time. The same T1 written in the subnet itself is a mistake.
#[test]
fn an_inherited_t1_too_long_for_a_subnet_is_a_warning_at_the_subnet() {
    let text =
        format!("[lease]\ntime = 86400\nrenewal = 43200\n{SUBNET}[subnet.lease]\ntime = 3600\n");
    let f = config::parse(Path::new("/etc/dhcp/server.toml"), &text).expect("accepted");
    let w: Vec<String> = f.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        w,
        [
            "/etc/dhcp/server.toml:8:8: subnet[0].lease.time: subnet 192.0.2.0/24 lease: \
          T1 43200 s must be below the lease time 3600 s (T1 from the server-wide [lease]); \
          this subnet sends its default instead"
        ]
    );
    let own = format!("{SUBNET}[subnet.lease]\ntime = 3600\nrenewal = 43200\n");
    assert_eq!(
        first(&own),
        "6:11: subnet[0].lease.renewal: subnet 192.0.2.0/24 lease: T1 43200 s must be below the lease time 3600 s"
    );
}

#[test]
fn classes_pools_and_boot_settings_load() {
    let text = r#"
next_server = "192.0.2.1"
[[class]]
name = "ipxe"
match = { any = [{ user_class = "iPXE" }, { has_option = 175 }] }
boot_file = "http://192.0.2.1/boot.ipxe"
[[class]]
name = "bios"
match = { architecture = 0, not = { class = "ipxe" } }
boot_file = "undionly.kpxe"
[[class]]
name = "phones"
match = { mac_prefix = "00:04:f2" }
lease = { time = 600 }
options = { vendor_class = "HTTPClient" }
[[subnet]]
network = "192.0.2.0/24"
pools = ["192.0.2.100-192.0.2.109", { range = "192.0.2.50-192.0.2.59", allow = ["phones"], deny = ["unknown"] }]
boot_file = "default.efi"
[[subnet.reservation]]
mac = "02:00:00:00:00:01"
address = "192.0.2.10"
classes = ["phones", "bios"]
server_name = "boot.test"
"#;
    use dhcp_host::dhcp_core::server::{ClassId, ClassSet, Match};
    let f = config::parse(Path::new("c.toml"), text).unwrap();
    let s = &f.server;
    assert_eq!(s.classes.len(), 3);
    assert_eq!(
        s.classes[0].matches,
        Some(Match::Any(vec![
            Match::UserClass(b"iPXE".to_vec()),
            Match::HasOption(175)
        ]))
    );
    assert_eq!(
        s.classes[1].matches,
        Some(Match::All(vec![
            Match::Architecture(0),
            Match::Not(Box::new(Match::Class(ClassId(0))))
        ]))
    );
    assert_eq!(s.classes[2].lease.default, Some(600));
    assert_eq!(
        s.classes[2].options.get(OptionCode::VENDOR_CLASS_ID),
        Some(&b"HTTPClient"[..])
    );
    assert_eq!(s.boot.next_server, Some(Ipv4Addr::new(192, 0, 2, 1)));
    let sub = &s.subnets[0];
    assert_eq!(sub.boot.boot_file.as_deref(), Some("default.efi"));
    assert!(sub.pools[0].classes.is_open());
    assert_eq!(sub.pools[1].classes.allow, ClassSet::of([ClassId(2)]));
    assert_eq!(sub.pools[1].classes.deny, ClassSet::of([ClassId::UNKNOWN]));
    let r = &sub.reservations[0];
    assert_eq!(r.classes, ClassSet::of([ClassId(1), ClassId(2)]));
    assert_eq!(r.boot.server_name.as_deref(), Some("boot.test"));
}

#[test]
fn class_mistakes_name_line_column_and_field() {
    let cases: &[(&str, &str)] = &[
        ("[[class]]\nname = \"a\"\nmatch = {}\n", "3:9: class[0].match: an empty match matches nothing"),
        ("[[class]]\nname = \"a\"\nmatch = { all = [] }\n", "3:17: class[0].match.all: lists no test"),
        ("[[class]]\nname = \"a\"\nmatch = { vendor_class = \"\" }\n", "3:26: class[0].match.vendor_class: is empty"),
        ("[[class]]\nname = \"a\"\nmatch = { mac_prefix = \"0g\" }\n", "3:24: match: \"0g\" is not hex bytes"),
        ("[[class]]\nname = \"a\"\nmatch = { class = \"b\" }\n[[class]]\nname = \"b\"\nmatch = { has_option = 1 }\n", "3:19: class[0].match.class: class \"b\" is defined after this one"),
        ("[[class]]\nname = \"phones\"\nmatch = { has_option = 1 }\n[[class]]\nname = \"b\"\nmatch = { class = \"phnes\" }\n", "6:19: class[1].match.class: no class \"phnes\"; did you mean \"phones\"?"),
        ("[[class]]\nname = \"known\"\n", "1:1: class[0]: class \"known\": \"known\" is a built-in class's name"),
        ("[[class]]\nname = \"a\"\nmatch = { architecture = [] }\n", "3:26: class[0].match.architecture: lists no architecture"),
        ("[[class]]\nname = \"a\"\nmatch = { user_clas = \"x\" }\n", "did you mean `user_class`?"),
    ];
    for (text, want) in cases {
        let got = first(text);
        assert!(
            got.contains(want),
            "for {text:?}\n got: {got}\nwant: {want}"
        );
    }
    let pool = "[[class]]\nname = \"phones\"\nmatch = { has_option = 1 }\n[[subnet]]\nnetwork = \"192.0.2.0/24\"\npools = [{ range = \"192.0.2.5-192.0.2.6\", allow = [\"phone\"] }]\n";
    let got = first(pool);
    assert!(
        got.contains(
            "6:10: subnet[0].pools[0].allow: no class \"phone\"; did you mean \"phones\"?"
        ),
        "{got}"
    );
    let res = format!("{SUBNET}[[subnet.reservation]]\nmac = \"02:00:00:00:00:01\"\naddress = \"192.0.2.5\"\nclasses = [\"lab\"]\n");
    let got = first(&res);
    assert!(
        got.contains("7:11: subnet[0].reservation[0].classes: no class \"lab\""),
        "{got}"
    );
}

/// The network boot example in the README loads, and says what the README says.
#[test]
fn the_readme_boot_example_loads() {
    let readme = include_str!("../../README.md");
    let section = &readme[readme.find("### Classes and network boot").unwrap()..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let text = &section[start..start + section[start..].find("```").unwrap()];
    let f = config::parse(Path::new("README.md"), text).unwrap();
    let names: Vec<&str> = f.server.classes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["ipxe", "pxe-bios", "pxe-uefi", "uefi-http", "phones"]
    );
    assert_eq!(f.server.boot.next_server, Some(Ipv4Addr::new(192, 0, 2, 1)));
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
}

#[test]
fn options_by_name_definitions_and_sub_options() {
    let text = r#"
[[option_def]]
name = "provisioning_url"
code = 160
type = "string"
[[option_def]]
name = "tftp_and_port"
code = 224
type = "record"
fields = ["ipv4", "u16"]
[[option_def]]
name = "acs_url"
code = 1
type = "string"
space = "enterprise-3561"
[options]
time_offset = -3600
ip_forwarding = false
default_ip_ttl = 64
path_mtu_plateau_table = [576, 1500]
tftp_server_addresses = ["192.0.2.1", "192.0.2.2"]
bcmcs_controller_domain_names = ["a.test"]
provisioning_url = "http://p.test/"
tftp_and_port = ["192.0.2.1", 69]
vendor_encapsulated = { space = "pxe", discovery_control = 8, "10" = "00:41" }
vendor_identifying = [{ enterprise = 3561, acs_url = "x" }]
[[subnet]]
network = "192.0.2.0/24"
pools = ["192.0.2.10-192.0.2.20"]
"#;
    let f = config::parse(Path::new("c.toml"), text).unwrap();
    let o = &f.server.options;
    let get = |c: u8| o.get(OptionCode(c)).map(<[u8]>::to_vec);
    assert_eq!(get(2), Some((-3600i32).to_be_bytes().to_vec()));
    assert_eq!(get(19), Some(vec![0]));
    assert_eq!(get(23), Some(vec![64]));
    assert_eq!(get(25), Some(vec![2, 64, 5, 220]));
    assert_eq!(get(150), Some(vec![192, 0, 2, 1, 192, 0, 2, 2]));
    assert_eq!(get(88), Some(b"\x01a\x04test\x00".to_vec()));
    assert_eq!(get(160), Some(b"http://p.test/".to_vec()));
    assert_eq!(get(224), Some(vec![192, 0, 2, 1, 0, 69]));
    // Sub-options in key order: "10" (a code, hex), then discovery_control (6).
    assert_eq!(get(43), Some(vec![10, 2, 0, 0x41, 6, 1, 8]));
    assert_eq!(get(125), Some(vec![0, 0, 0x0d, 0xe9, 3, 1, 1, b'x']));
}

#[test]
fn option_mistakes_name_line_column_and_field() {
    let cases: &[(&str, &str)] = &[
        ("[options]\ndns_server = [\"192.0.2.1\"]\n", "2:14: options.dns_server: no option \"dns_server\" (a name from the reference, or one `[[option_def]]` defines); did you mean \"dns_servers\"?"),
        ("[options]\ndefault_ip_ttl = 300\n", "2:18: options.default_ip_ttl: 300 is out of range (0..=255)"),
        ("[options]\nip_forwarding = 1\n", "2:17: options.ip_forwarding: expected true or false, found integer"),
        ("[options]\ntime_servers = []\n", "2:16: options.time_servers: lists nothing"),
        ("[options]\nmtu = 60\n", "2:7: options.mtu: "),
        ("[options]\nswap_server = \"192.0.2\"\n", "2:15: options.swap_server: \"192.0.2\" is not an IPv4 address"),
        ("[options]\nvendor_encapsulated = { space = \"pxe\", discovery_contrl = 8 }\n", "no sub-option \"discovery_contrl\" in space \"pxe\"; did you mean \"discovery_control\"?"),
        ("[[option_def]]\nname = \"x\"\ncode = 3\ntype = \"string\"\n", "3:8: option_def[0].code: code 3 is already defined as \"routers\" in this space"),
        ("[[option_def]]\nname = \"x\"\ncode = 54\ntype = \"string\"\n", "3:8: option_def[0].code: option 54 cannot be configured"),
        ("[[option_def]]\nname = \"x\"\ncode = 224\ntype = \"text\"\n", "4:8: option_def[0].type: \"text\" is not a type"),
        ("[[option_def]]\nname = \"x\"\ncode = 224\ntype = \"record\"\n", "4:8: option_def[0].type: a record needs `fields`"),
        ("[[option_def]]\nname = \"x\"\ncode = 224\ntype = \"record\"\nfields = [\"u8\"]\n[options]\nx = [1, 2]\n", "7:5: options.x: a record of 1 fields, given 2"),
    ];
    for (text, want) in cases {
        let got = first(text);
        assert!(
            got.contains(want),
            "for {text:?}\n got: {got}\nwant: {want}"
        );
    }
}

#[test]
fn boot_options_machine_ids_and_the_mask_are_set_their_own_way() {
    let cases: &[(&str, &str)] = &[
        (
            "[options]\nboot_file_name = \"x\"\n",
            "2:18: options.boot_file_name: set `boot_file` in this scope instead",
        ),
        (
            "[options]\ntftp_server_name = \"x\"\n",
            "2:20: options.tftp_server_name: set `server_name` in this scope instead",
        ),
        (
            "[options]\nsubnet_mask = \"255.0.0.0\"\n",
            "2:15: options.subnet_mask: the subnet mask (1) is always the subnet's own",
        ),
    ];
    for (text, want) in cases {
        let got = first(text);
        assert!(
            got.contains(want),
            "for {text:?}\n got: {got}\nwant: {want}"
        );
    }
    let res = |id: &str| {
        format!("{SUBNET}[[subnet.reservation]]\nmachine_id = \"{id}\"\naddress = \"192.0.2.5\"\n")
    };
    let got = first(&res("01:02:03"));
    assert!(
        got.contains("subnet[0].reservation[0].machine_id: 3 bytes"),
        "{got}"
    );
    // A bare 16-byte UUID gets its type byte.
    let uuid = "12345678-9abc-def0-0102-030405060708";
    let f = config::parse(Path::new("c.toml"), &res(uuid)).unwrap();
    let key = &f.server.subnets[0].reservations[0].key;
    assert_eq!(
        key.to_string(),
        "machine id 00:12:34:56:78:9a:bc:de:f0:01:02:03:04:05:06:07:08"
    );
}

const SUBNET6: &str =
    "[[subnet6]]\nprefix = \"2001:db8:1::/64\"\npools = [\"2001:db8:1::100-2001:db8:1::1ff\"]\n";

#[test]
fn a_v6_only_config_loads_with_its_defaults() {
    let text = format!(
        "[[subnet6]]\nprefix = \"2001:db8:9::/64\"\npools = [{{ range = \"2001:db8:9::10-2001:db8:9::20\", options = {{ dns_servers = [\"2001:db8:9::53\"] }} }}]\n[server6]\npreference = 255\n[server6.lease]\npreferred = 1000\nvalid = 2000\n[server6.options]\ndns_servers = [\"2001:db8::53\"]\ndomain_search = [\"example.test\"]\n{SUBNET6}interface = \"eth1\"\npd_pools = [{{ prefix = \"2001:db8:100::/48\", delegated_len = 56 }}]\n[[subnet6.reservations]]\nduid = \"00:03:00:01:02:00:00:00:00:01\"\naddresses = [\"2001:db8:1::7\"]\n"
    );
    let f = config::parse(Path::new("/etc/dhcp/server.toml"), &text).unwrap();
    assert!(f.server.subnets.is_empty());
    let v6 = f.v6.expect("DHCPv6 configured");
    assert_eq!(v6.journal, Path::new("/etc/dhcp/leases.journal6"));
    assert_eq!(v6.duid_file, Path::new("/etc/dhcp/leases.duid"));
    assert_eq!(v6.interfaces, [None, Some("eth1".to_string())]);
    let mut c = v6.config.clone();
    assert!(c.subnets[0].pools[0]
        .options
        .get(dhcp_host::dhcp_core::v6::wire::OptionCode::DNS_SERVERS)
        .is_some());
    c.subnets.remove(0);
    let c = &c;
    assert_eq!(c.preference, 255);
    assert_eq!((c.lifetimes.preferred, c.lifetimes.valid), (1000, 2000));
    assert_eq!(c.subnets[0].pd_pools[0].delegated_len, 56);
    assert_eq!(c.subnets[0].reservations[0].addresses.len(), 1);
    assert!(c
        .options
        .get(dhcp_host::dhcp_core::v6::wire::OptionCode::DNS_SERVERS)
        .is_some());
}

#[test]
fn v6_mistakes_name_line_column_and_field() {
    let cases: &[(String, &str)] = &[
        (
            "[[subnet6]]\nprefix = \"2001:db8:1::/129\"\n".to_string(),
            "2:10: prefix: prefix length 129 in \"2001:db8:1::/129\" is over 128",
        ),
        (
            "[[subnet6]]\nprefix = \"2001:db8:1::/64\"\npools = [\"2001:db8:2::1-2001:db8:2::9\"]\n".to_string(),
            "3:10: subnet6[0].pools[0]: subnet6 2001:db8:1::/64 pool 2001:db8:2::1-2001:db8:2::9: the pool is not inside 2001:db8:1::/64",
        ),
        (
            format!("[server6.options]\ndns_server = [\"2001:db8::53\"]\n{SUBNET6}"),
            "2:14: server6.options.dns_server: unknown DHCPv6 option \"dns_server\"; did you mean \"dns_servers\"?",
        ),
        (
            format!("[server6.lease]\npreferred = 9000\nvalid = 10\n{SUBNET6}"),
            "1:1: server6.lease: lifetimes: preferred lifetime 9000 is longer than the valid lifetime 10",
        ),
        (
            format!("{SUBNET6}[[subnet6.reservations]]\naddresses = [\"2001:db8:1::5\"]\n"),
            "4:1: subnet6[0].reservations[0]: name the client by duid, hw_address or remote_id (one of them)",
        ),
        (
            format!("[server6]\nduid = \"en\"\n{SUBNET6}"),
            "2:8: server6.duid: \"en\": one of \"llt\", \"ll\", \"uuid\"",
        ),
    ];
    for (text, want) in cases {
        let got = first(text);
        assert!(got.starts_with(want), "{text}\ngot:  {got}\nwant: {want}");
    }
}

#[test]
fn the_dual_stack_example_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/dual-stack.toml");
    let f = config::load(&path).unwrap();
    assert_eq!(f.server.subnets.len(), 1);
    let v6 = f.v6.expect("DHCPv6");
    assert_eq!(v6.config.subnets.len(), 2);
    assert_eq!(v6.config.subnets[0].reservations.len(), 2);
    assert_eq!(v6.config.subnets[1].rapid_commit, Some(true));
    assert_eq!(
        v6.config.subnets[1].interface_id.as_deref(),
        Some(&b"ge-0/0/1"[..])
    );
    assert_eq!(v6.journal, path.parent().unwrap().join("leases.journal6"));
    assert_eq!(v6.config.classes.len(), 2);
}

#[test]
fn v6_classes_load_and_their_mistakes_are_located() {
    let text = format!(
        "{SUBNET6}[[class6]]\nname = \"phones\"\nmatch = {{ enterprise = 9, vendor_class = \"phone\" }}\noptions = {{ dns_servers = [\"2001:db8::f0\"] }}\n[[class6]]\nname = \"lab\"\nmatch = {{ any = [{{ mac_prefix = \"02:00:00\" }}, {{ class = \"phones\" }}] }}\n"
    );
    let f = config::parse(Path::new("/etc/dhcp/server.toml"), &text).unwrap();
    let c = &f.v6.unwrap().config;
    assert_eq!(c.classes.len(), 2);
    assert_eq!(c.classes[1].name, "lab");
    let bad = format!("{SUBNET6}[[class6]]\nname = \"a\"\nmatch = {{ class = \"b\" }}\n[[class6]]\nname = \"b\"\nmatch = {{ has_option = 15 }}\n");
    assert!(
        first(&bad)
            .starts_with("6:19: class6[0].match.class: class6 \"b\" is defined after this one"),
        "{}",
        first(&bad)
    );
    let empty = format!("{SUBNET6}[[class6]]\nname = \"a\"\nmatch = {{}}\n");
    assert!(
        first(&empty).contains("matches nothing"),
        "{}",
        first(&empty)
    );
}
