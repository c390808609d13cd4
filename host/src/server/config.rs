//! The server's config file: TOML, read with serde, checked as a whole.
//!
//! Every mistake is reported with the file, line and column, the field, and what is wrong;
//! unknown keys are mistakes too. `examples/server.toml` in the repository is an annotated
//! example of every key.

use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use dhcp_core::server::{
    Ipv4Net, LeaseTimes, OptionSet, PoolRange, Reservation, ReservationKey, ServerConfig,
    SubnetConfig,
};
use dhcp_core::wire::typed::Route;
use serde::Deserialize;
use toml::Spanned;

/// One mistake in a config file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field (`subnet[0].pools`), or empty when the mistake is not in one field.
    pub field: String,
    /// What is wrong.
    pub what: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.what)
    }
}

/// Every mistake found in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFileError {
    /// The mistakes, in file order.
    pub errors: Vec<Located>,
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigFileError {}

/// A server as its config file describes it: the core's model plus what the host needs.
#[derive(Debug, Clone)]
pub struct ServerFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The protocol configuration.
    pub server: ServerConfig,
    /// Interfaces to serve; empty serves every interface (learning each request's from
    /// `IP_PKTINFO`).
    pub interfaces: Vec<String>,
    /// The lease journal (relative paths are taken from the config file's directory).
    pub journal: PathBuf,
    /// Where leases are made durable: the journal (the default) or a shared database.
    pub store: Store,
    /// Log level (`error`, `warn`, `info`, `debug`, `trace`).
    pub log_level: String,
    /// The user to switch to after binding the sockets.
    pub user: Option<String>,
    /// Where to serve metrics over HTTP (`GET /metrics`); off when `None`.
    pub metrics: Option<std::net::SocketAddr>,
    /// Log lines as JSON objects instead of text.
    pub log_json: bool,
    /// The control socket ([`crate::ops::control`]); by default beside the journal, named
    /// after it with `.sock`; `control_socket = ""` turns it off.
    pub control_socket: Option<PathBuf>,
    /// What is allowed but likely a mistake (a scope's routers with classless routes that
    /// hold no default route), in file order; `dhcp server` logs them and `--check`
    /// prints them.
    pub warnings: Vec<Located>,
}

/// The lease store a config names (`store = ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Store {
    /// The journal file ([`ServerFile::journal`]).
    Journal,
    /// A PostgreSQL database that several servers may share (`[postgres]`).
    Postgres {
        /// A `postgresql://` URL or libpq's `key=value` pairs; a `host` that is a
        /// directory is a Unix socket.
        url: String,
        /// This server's name in the table (`name`; by default the host name).
        name: String,
        /// TLS to the database (`ca`, `cert`, `key`).
        tls: DatabaseTls,
    },
}

/// TLS to the lease database (`[postgres] ca, cert, key`; relative paths are taken from
/// the config file's directory).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatabaseTls {
    /// CA certificates (PEM) the database's certificate must chain to. With them TLS is
    /// required, and the certificate and the url's host name are verified. Without them,
    /// TLS is used as the url's `sslmode` says (`prefer` by default, `require`,
    /// `disable`) and, as libpq does without a root certificate, not verified.
    pub ca: Option<PathBuf>,
    /// A client certificate (PEM) to log in with, for a database that asks for one.
    pub cert: Option<PathBuf>,
    /// The client certificate's key (PEM, PKCS#8).
    pub key: Option<PathBuf>,
}

/// `a.b.c.d/len`.
#[derive(Debug, Clone, Copy)]
struct Net(Ipv4Net);

impl FromStr for Net {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a network (like 192.0.2.0/24)");
        let (a, l) = s.trim().split_once('/').ok_or_else(bad)?;
        let a: Ipv4Addr = a.parse().map_err(|_| bad())?;
        let l: u8 = l.parse().map_err(|_| bad())?;
        if l > 32 {
            return Err(format!("prefix length {l} in {s:?} is over 32"));
        }
        Ok(Net(Ipv4Net::new(a, l)))
    }
}

/// `first-last` or a network inside the subnet (`192.0.2.128/25`, every host address).
#[derive(Debug, Clone, Copy)]
struct Pool(PoolRange);

impl FromStr for Pool {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some((a, b)) = s.split_once('-') {
            let parse = |x: &str| {
                x.trim()
                    .parse::<Ipv4Addr>()
                    .map_err(|_| format!("{:?} is not an IPv4 address", x.trim()))
            };
            return Ok(Pool(PoolRange {
                start: parse(a)?,
                end: parse(b)?,
            }));
        }
        let Net(n) = s.parse().map_err(|_| {
            format!("{s:?} is not a pool (like \"192.0.2.100-192.0.2.199\" or \"192.0.2.128/25\")")
        })?;
        let (first, last) = if n.prefix_len >= 31 {
            (n.first(), n.last())
        } else {
            (n.first() + 1, n.last() - 1)
        };
        Ok(Pool(PoolRange {
            start: Ipv4Addr::from(first),
            end: Ipv4Addr::from(last),
        }))
    }
}

macro_rules! deserialize_from_str {
    ($($t:ty),*) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
deserialize_from_str!(Net, Pool);

/// Hex bytes, `01:02:0a` or `01020a`.
#[derive(Debug, Clone)]
struct Hex(Vec<u8>);

/// Bytes written as hex, separated by `:`, `-` or spaces, or not at all
/// (`01:00:11:22:33:44:55`, `0100112233`).
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let bad = || format!("{s:?} is not hex bytes (like \"01:00:11:22:33:44:55\")");
    let digits: Vec<u8> = s
        .bytes()
        .filter(|c| !matches!(c, b':' | b'-' | b' '))
        .collect();
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return Err(bad());
    }
    digits
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).map_err(|_| bad())?;
            u8::from_str_radix(pair, 16).map_err(|_| bad())
        })
        .collect()
}

impl FromStr for Hex {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_hex(s).map(Hex)
    }
}
deserialize_from_str!(Hex);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTop {
    #[serde(default)]
    interfaces: Vec<String>,
    journal: Option<PathBuf>,
    store: Option<Spanned<String>>,
    postgres: Option<Spanned<PostgresFile>>,
    ha: Option<Spanned<HaFile>>,
    log_level: Option<Spanned<String>>,
    user: Option<String>,
    metrics: Option<std::net::SocketAddr>,
    log_format: Option<Spanned<String>>,
    control_socket: Option<PathBuf>,
    server_id: Option<Ipv4Addr>,
    authoritative: Option<bool>,
    rapid_commit: Option<bool>,
    offer_hold: Option<u32>,
    decline_probation: Option<u32>,
    max_offers: Option<usize>,
    rate_limit: Option<Spanned<u32>>,
    #[serde(default)]
    lease: Lease,
    #[serde(default)]
    options: Option<Spanned<Options>>,
    #[serde(default)]
    subnet: Vec<Spanned<Subnet>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostgresFile {
    url: Spanned<String>,
    name: Option<Spanned<String>>,
    ca: Option<Spanned<PathBuf>>,
    cert: Option<Spanned<PathBuf>>,
    key: Option<Spanned<PathBuf>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HaFile {
    servers: Spanned<u32>,
    this: Spanned<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Lease {
    time: Option<u32>,
    min: Option<u32>,
    max: Option<u32>,
    renewal: Option<u32>,
    rebinding: Option<u32>,
}

impl Lease {
    fn times(&self) -> LeaseTimes {
        LeaseTimes {
            default: self.time,
            min: self.min,
            max: self.max,
            renewal: self.renewal,
            rebinding: self.rebinding,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFile {
    network: Net,
    router: Ipv4Addr,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    code: u8,
    hex: Option<Hex>,
    text: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    routers: Option<Spanned<Vec<Ipv4Addr>>>,
    dns_servers: Option<Spanned<Vec<Ipv4Addr>>>,
    domain_name: Option<Spanned<String>>,
    domain_search: Option<Spanned<Vec<String>>>,
    ntp_servers: Option<Spanned<Vec<Ipv4Addr>>>,
    mtu: Option<Spanned<u16>>,
    broadcast_address: Option<Spanned<Ipv4Addr>>,
    classless_routes: Option<Spanned<Vec<RouteFile>>>,
    captive_portal: Option<Spanned<String>>,
    ipv6_only_wait: Option<Spanned<u32>>,
    #[serde(default)]
    raw: Vec<Spanned<RawOption>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Subnet {
    network: Net,
    #[serde(default)]
    pools: Vec<Spanned<Pool>>,
    server_id: Option<Ipv4Addr>,
    authoritative: Option<bool>,
    rapid_commit: Option<bool>,
    #[serde(default)]
    lease: Lease,
    options: Option<Spanned<Options>>,
    #[serde(default)]
    reservation: Vec<Spanned<ReservationFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReservationFile {
    mac: Option<crate::MacAddress>,
    client_id: Option<Hex>,
    circuit_id: Option<Hex>,
    remote_id: Option<Hex>,
    address: Ipv4Addr,
    host_name: Option<String>,
    options: Option<Spanned<Options>>,
}

impl<'de> Deserialize<'de> for crate::MacAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Turns byte offsets into line and column, and collects mistakes.
struct Report<'a> {
    file: &'a Path,
    text: &'a str,
    errors: Vec<Located>,
    warnings: Vec<Located>,
}

impl Report<'_> {
    fn locate(&self, span: Range<usize>, field: &str, what: impl Into<String>) -> Located {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rfind('\n').map_or(start, |n| start - n - 1) + 1;
        Located {
            file: self.file.to_path_buf(),
            line,
            column,
            field: field.to_string(),
            what: what.into(),
        }
    }

    /// A mistake: the file is refused.
    fn at(&mut self, span: Range<usize>, field: &str, what: impl Into<String>) {
        let e = self.locate(span, field, what);
        self.errors.push(e);
    }

    /// Something that works but is likely not what was meant: reported, not refused.
    fn warn(&mut self, span: Range<usize>, field: &str, what: impl Into<String>) {
        let w = self.locate(span, field, what);
        self.warnings.push(w);
    }

    /// The key assigned on the line where `span` starts, for errors toml reports by value.
    fn key_at(&self, span: &Range<usize>) -> String {
        let start = span.start.min(self.text.len());
        let line_start = self.text[..start].rfind('\n').map_or(0, |n| n + 1);
        let line = self.text[line_start..].lines().next().unwrap_or("");
        match line.split_once('=') {
            Some((k, _)) if !k.trim().starts_with('[') => k.trim().to_string(),
            _ => String::new(),
        }
    }
}

fn options(o: &Option<Spanned<Options>>, field: &str, report: &mut Report<'_>) -> OptionSet {
    let mut set = OptionSet::new();
    let Some(o) = o else { return set };
    let o = o.get_ref();
    // Each value is checked where it is written, so a mistake points at its own key.
    fn check<T: ?Sized, R>(
        report: &mut Report<'_>,
        field: &str,
        name: &str,
        value: Option<&Spanned<impl std::borrow::Borrow<T>>>,
        mut set: impl FnMut(&T) -> Result<R, dhcp_core::wire::EmitError>,
    ) {
        if let Some(v) = value {
            if let Err(e) = set(v.get_ref().borrow()) {
                report.at(v.span(), &format!("{field}.{name}"), e.to_string());
            }
        }
    }
    check::<[Ipv4Addr], _>(report, field, "routers", o.routers.as_ref(), |v| {
        set.routers(v).map(drop)
    });
    check::<[Ipv4Addr], _>(report, field, "dns_servers", o.dns_servers.as_ref(), |v| {
        set.dns_servers(v).map(drop)
    });
    check::<str, _>(report, field, "domain_name", o.domain_name.as_ref(), |v| {
        set.domain_name(v).map(drop)
    });
    check::<Vec<String>, _>(
        report,
        field,
        "domain_search",
        o.domain_search.as_ref(),
        |v| {
            let names: Vec<&str> = v.iter().map(String::as_str).collect();
            set.domain_search(&names).map(drop)
        },
    );
    check::<[Ipv4Addr], _>(report, field, "ntp_servers", o.ntp_servers.as_ref(), |v| {
        set.ntp_servers(v).map(drop)
    });
    check::<u16, _>(report, field, "mtu", o.mtu.as_ref(), |v| {
        set.mtu(*v).map(drop)
    });
    check::<Ipv4Addr, _>(
        report,
        field,
        "broadcast_address",
        o.broadcast_address.as_ref(),
        |v| set.broadcast_address(*v).map(drop),
    );
    check::<Vec<RouteFile>, _>(
        report,
        field,
        "classless_routes",
        o.classless_routes.as_ref(),
        |v| set.classless_routes(&routes_of(v)).map(drop),
    );
    check::<str, _>(
        report,
        field,
        "captive_portal",
        o.captive_portal.as_ref(),
        |v| set.captive_portal(v).map(drop),
    );
    check::<u32, _>(
        report,
        field,
        "ipv6_only_wait",
        o.ipv6_only_wait.as_ref(),
        |v| set.ipv6_only_wait(*v).map(drop),
    );
    for r in &o.raw {
        let (span, r) = (r.span(), r.get_ref());
        let value = match (&r.hex, &r.text) {
            (Some(h), None) => h.0.clone(),
            (None, Some(t)) => t.as_bytes().to_vec(),
            _ => {
                report.at(
                    span,
                    &format!("{field}.raw"),
                    format!("option {}: give exactly one of `hex` or `text`", r.code),
                );
                continue;
            }
        };
        if let Err(e) = set.raw(r.code, &value) {
            report.at(span, &format!("{field}.raw"), e.to_string());
        }
    }
    set
}

fn routes_of(routes: &[RouteFile]) -> Vec<Route> {
    routes
        .iter()
        .map(|r| Route {
            destination: r.network.0.address,
            prefix_len: r.network.0.prefix_len,
            router: r.router,
        })
        .collect()
}

/// Warns where a scope sends routers (3) and classless static routes (121) without a
/// default route (`0.0.0.0/0`) among the latter: RFC 3442 §3 tells a client that gets 121
/// to ignore 3, so such clients (systemd-networkd) install no default route at all.
/// `scopes` are the option tables in force for one scope, nearest first (a reservation's,
/// its subnet's, the global ones); a warning is given once per `classless_routes` key.
fn warn_default_route(
    scopes: &[&Option<Spanned<Options>>],
    report: &mut Report<'_>,
    warned: &mut Vec<Range<usize>>,
    fields: &[&str],
) {
    let tables: Vec<(&Options, &str)> = scopes
        .iter()
        .zip(fields)
        .filter_map(|(o, f)| o.as_ref().map(|o| (o.get_ref(), *f)))
        .collect();
    let has_routers = tables
        .iter()
        .find_map(|(o, _)| o.routers.as_ref())
        .is_some();
    let Some((routes, field)) = tables
        .iter()
        .find_map(|(o, f)| o.classless_routes.as_ref().map(|r| (r, *f)))
    else {
        return;
    };
    if !has_routers || routes.get_ref().iter().any(|r| r.network.0.prefix_len == 0) {
        return;
    }
    if warned.contains(&routes.span()) {
        return;
    }
    warned.push(routes.span());
    report.warn(
        routes.span(),
        &format!("{field}.classless_routes"),
        "sent with routers but without a default route (0.0.0.0/0): clients that follow \
         RFC 3442 ignore routers when classless routes come, and install no default route; \
         add { network = \"0.0.0.0/0\", router = ... }",
    );
}

/// Reads and checks the config file at `path`.
pub fn load(path: impl AsRef<Path>) -> Result<ServerFile, ConfigFileError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigFileError {
        errors: vec![Located {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            field: String::new(),
            what: format!("cannot read: {e}"),
        }],
    })?;
    parse(path, &text)
}

/// Checks config `text`, naming `path` in errors (and resolving a relative journal path
/// from its directory).
pub fn parse(path: &Path, text: &str) -> Result<ServerFile, ConfigFileError> {
    let mut report = Report {
        file: path,
        text,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let top: FileTop = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let field = report.key_at(&span);
            report.at(span, &field, e.message().trim_end().to_string());
            return Err(ConfigFileError {
                errors: report.errors,
            });
        }
    };
    let mut server = ServerConfig {
        server_id: top.server_id,
        ..ServerConfig::default()
    };
    if let Some(a) = top.authoritative {
        server.authoritative = a;
    }
    if let Some(r) = top.rapid_commit {
        server.rapid_commit = r;
    }
    if let Some(s) = top.offer_hold {
        server.offer_hold = std::time::Duration::from_secs(u64::from(s));
    }
    let log_json = match &top.log_format {
        Some(f) if f.get_ref() == "json" => true,
        Some(f) if f.get_ref() == "text" => false,
        Some(f) => {
            report.at(
                f.span(),
                "log_format",
                format!("{:?}: the formats are \"text\" and \"json\"", f.get_ref()),
            );
            false
        }
        None => false,
    };
    let store = store_of(&top, path.parent().unwrap_or(Path::new(".")), &mut report);
    if let Some(n) = top.max_offers {
        server.max_offers = n;
    }
    if let Some(r) = &top.rate_limit {
        if *r.get_ref() == 0 {
            report.at(
                r.span(),
                "rate_limit",
                "must be at least 1 request a second (leave it out for no limit)".to_string(),
            );
        }
        server.rate_limit = Some(*r.get_ref());
    }
    if let Some(s) = top.decline_probation {
        server.decline_probation = std::time::Duration::from_secs(u64::from(s));
    }
    server.lease = top.lease.times().over(&server.lease);
    server.options = options(&top.options, "options", &mut report);
    if let Some(level) = &top.log_level {
        if !matches!(
            level.get_ref().as_str(),
            "error" | "warn" | "info" | "debug" | "trace"
        ) {
            report.at(
                level.span(),
                "log_level",
                format!(
                    "{:?} is not one of error, warn, info, debug, trace",
                    level.get_ref()
                ),
            );
        }
    }
    for (i, s) in top.subnet.iter().enumerate() {
        let field = format!("subnet[{i}]");
        let sub = s.get_ref();
        let mut c = SubnetConfig::new(sub.network.0);
        c.pools = sub.pools.iter().map(|p| p.get_ref().0).collect();
        c.server_id = sub.server_id;
        c.authoritative = sub.authoritative;
        c.rapid_commit = sub.rapid_commit;
        c.lease = sub.lease.times();
        c.options = options(&sub.options, &format!("{field}.options"), &mut report);
        for (k, r) in sub.reservation.iter().enumerate() {
            let rf = format!("{field}.reservation[{k}]");
            let res = r.get_ref();
            let keys = [
                res.mac
                    .map(|m| ReservationKey::HardwareAddress(m.to_array().to_vec())),
                res.client_id
                    .as_ref()
                    .map(|h| ReservationKey::ClientId(h.0.clone())),
                res.circuit_id
                    .as_ref()
                    .map(|h| ReservationKey::CircuitId(h.0.clone())),
                res.remote_id
                    .as_ref()
                    .map(|h| ReservationKey::RemoteId(h.0.clone())),
            ];
            let mut keys = keys.into_iter().flatten();
            let (Some(key), None) = (keys.next(), keys.next()) else {
                report.at(
                    r.span(),
                    &rf,
                    "give exactly one of mac, client_id, circuit_id, remote_id",
                );
                continue;
            };
            let mut opts = options(&res.options, &format!("{rf}.options"), &mut report);
            if let Some(h) = &res.host_name {
                if let Err(e) = opts.host_name(h) {
                    report.at(r.span(), &format!("{rf}.host_name"), e.to_string());
                }
            }
            c.reservations.push(Reservation {
                key,
                address: res.address,
                host_name: res.host_name.clone(),
                options: opts,
            });
        }
        server.subnets.push(c);
    }
    let mut warned = Vec::new();
    for (i, s) in top.subnet.iter().enumerate() {
        let field = format!("subnet[{i}].options");
        let sub = s.get_ref();
        warn_default_route(
            &[&sub.options, &top.options],
            &mut report,
            &mut warned,
            &[&field, "options"],
        );
        for (k, r) in sub.reservation.iter().enumerate() {
            let rf = format!("subnet[{i}].reservation[{k}].options");
            warn_default_route(
                &[&r.get_ref().options, &sub.options, &top.options],
                &mut report,
                &mut warned,
                &[&rf, &field, "options"],
            );
        }
    }
    if let Err(errors) = server.validate() {
        for e in errors {
            let (span, field) = locate(&top, &e.at);
            report.at(span, &field, format!("{}: {}", e.at, e.what));
        }
    }
    if let Some(ha) = &top.ha {
        let (n, this) = (
            *ha.get_ref().servers.get_ref(),
            *ha.get_ref().this.get_ref(),
        );
        if n == 0 || n > 64 {
            report.at(
                ha.get_ref().servers.span(),
                "ha.servers",
                format!("{n}: between 1 and 64 servers share the leases"),
            );
        } else if this >= n {
            report.at(
                ha.get_ref().this.span(),
                "ha.this",
                format!(
                    "{this}: shares are numbered 0 to {} (ha.servers - 1)",
                    n - 1
                ),
            );
        } else if !matches!(store, Store::Postgres { .. }) {
            report.at(
                ha.span(),
                "ha",
                "servers share leases through a database: set store = \"postgres\"".to_string(),
            );
        } else {
            share_pools(&mut server, n, this);
        }
    }
    if !report.errors.is_empty() {
        report.errors.sort_by_key(|e| (e.line, e.column));
        return Err(ConfigFileError {
            errors: report.errors,
        });
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let journal = dir.join(
        top.journal
            .clone()
            .unwrap_or_else(|| PathBuf::from("leases.journal")),
    );
    let control_socket = match top.control_socket {
        Some(p) if p.as_os_str().is_empty() => None,
        Some(p) => Some(dir.join(p)),
        None => Some(journal.with_extension("sock")),
    };
    Ok(ServerFile {
        path: path.to_path_buf(),
        server,
        interfaces: top.interfaces.into_iter().filter(|i| i != "*").collect(),
        journal,
        store,
        control_socket,
        log_level: top
            .log_level
            .map(|l| l.into_inner())
            .unwrap_or_else(|| "info".to_string()),
        user: top.user,
        metrics: top.metrics,
        log_json,
        warnings: {
            let mut w = report.warnings;
            w.sort_by_key(|e| (e.line, e.column));
            w
        },
    })
}

/// The store `store = ...` and `[postgres]` name.
fn store_of(top: &FileTop, dir: &Path, report: &mut Report<'_>) -> Store {
    let kind = top.store.as_ref().map(|s| s.get_ref().as_str());
    match (kind, &top.postgres) {
        (None | Some("journal"), None) => Store::Journal,
        (Some("postgres"), Some(p)) => {
            let p = p.get_ref();
            if p.url.get_ref().trim().is_empty() {
                report.at(p.url.span(), "postgres.url", "is empty".to_string());
            }
            let name = match &p.name {
                Some(n) if n.get_ref().trim().is_empty() || n.get_ref().contains(' ') => {
                    report.at(
                        n.span(),
                        "postgres.name",
                        format!("{:?}: a name without spaces", n.get_ref()),
                    );
                    String::new()
                }
                Some(n) => n.get_ref().clone(),
                None => host_name(),
            };
            let mut file = |field: &str, path: &Option<Spanned<PathBuf>>| {
                let path = path.as_ref()?;
                let full = dir.join(path.get_ref());
                if let Err(e) = std::fs::metadata(&full) {
                    report.at(path.span(), field, format!("{}: {e}", full.display()));
                }
                Some(full)
            };
            let tls = DatabaseTls {
                ca: file("postgres.ca", &p.ca),
                cert: file("postgres.cert", &p.cert),
                key: file("postgres.key", &p.key),
            };
            match (&p.cert, &p.key) {
                (Some(c), None) => {
                    report.at(c.span(), "postgres.cert", "needs key too".to_string())
                }
                (None, Some(k)) => {
                    report.at(k.span(), "postgres.key", "needs cert too".to_string())
                }
                _ => {}
            }
            Store::Postgres {
                url: p.url.get_ref().clone(),
                name,
                tls,
            }
        }
        (Some("postgres"), None) => {
            let s = top.store.as_ref().expect("matched Some");
            report.at(
                s.span(),
                "store",
                "\"postgres\" needs a [postgres] table with the database's url".to_string(),
            );
            Store::Journal
        }
        (None | Some("journal"), Some(p)) => {
            report.at(
                p.span(),
                "postgres",
                "[postgres] is set but store is not \"postgres\"".to_string(),
            );
            Store::Journal
        }
        (Some(other), _) => {
            let s = top.store.as_ref().expect("matched Some");
            report.at(
                s.span(),
                "store",
                format!("{other:?}: the stores are \"journal\" and \"postgres\""),
            );
            Store::Journal
        }
    }
}

/// This machine's host name (the default name a server writes its rows under).
fn host_name() -> String {
    #[cfg(unix)]
    if let Ok(n) = nix::unistd::gethostname() {
        if let Some(n) = n.to_str().filter(|n| !n.is_empty() && !n.contains(' ')) {
            return n.to_string();
        }
    }
    "dhcp".to_string()
}

/// Splits every pool into `n` nearly equal blocks, share `this` first: the machine takes
/// addresses from its pools in order, so this server hands out its own share and takes
/// from the others' only when its own is empty, and servers that share the store rarely
/// offer one address to two clients.
fn share_pools(server: &mut ServerConfig, n: u32, this: u32) {
    let n = u64::from(n);
    for subnet in &mut server.subnets {
        let block = |p: &PoolRange, k: u64| {
            let (start, end) = (u64::from(u32::from(p.start)), u64::from(u32::from(p.end)));
            let size = end - start + 1;
            let (first, next) = (start + size * k / n, start + size * (k + 1) / n);
            (next > first).then(|| PoolRange {
                start: Ipv4Addr::from(first as u32),
                end: Ipv4Addr::from((next - 1) as u32),
            })
        };
        // Its own share of every pool, then the next server's, and so on: two servers whose
        // own shares ran out don't both turn to the same one.
        let shares = (0..n).map(|k| (u64::from(this) + k) % n);
        let pools = std::mem::take(&mut subnet.pools);
        subnet.pools = shares
            .flat_map(|k| pools.iter().filter_map(move |p| block(p, k)))
            .collect();
    }
}

/// The span and field name of what a core validation error's `at` names: `subnet N`,
/// `subnet N pool K`, `subnet N reservation ...`, or the whole file (`server`).
fn locate(top: &FileTop, at: &str) -> (Range<usize>, String) {
    for (i, s) in top.subnet.iter().enumerate() {
        let prefix = format!("subnet {}", s.get_ref().network.0);
        let Some(rest) = at.strip_prefix(&prefix) else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(p) = rest.strip_prefix("pool ") {
            let k: usize = p
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            if let Some(pool) = s.get_ref().pools.get(k) {
                return (pool.span(), format!("subnet[{i}].pools[{k}]"));
            }
        }
        if rest.starts_with("reservation") {
            return (s.span(), format!("subnet[{i}].reservation"));
        }
        return (s.span(), format!("subnet[{i}]"));
    }
    (0..0, "lease".to_string())
}
