//! `[server6]` and `[[subnet6]]`: the DHCPv6 server's part of the config file, into the
//! core's [`Server6Config`], every mistake located like the v4 part's.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use dhcp_core::v6::server::{
    Config6Place, Ipv6Net, Lifetimes, Options6, PdPool, Pool6, Reservation6, Reservation6Key,
    Server6Config, Subnet6Config,
};
use dhcp_core::v6::wire::OptionCode;
use serde::Deserialize;
use toml::Spanned;

use super::file::{parse_hex, Hex};
use super::report::{suggestion, Report};

/// The DHCPv6 server as the config file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server6File {
    /// The protocol configuration; its `server_duid` is filled in at start from
    /// [`duid_file`](Self::duid_file), and each subnet's `interface` from
    /// [`interfaces`](Self::interfaces).
    pub config: Server6Config,
    /// Per subnet (in order), the interface whose directly attached clients it serves.
    pub interfaces: Vec<Option<String>>,
    /// The v6 lease journal (by default the v4 journal's path with `6` after it).
    pub journal: PathBuf,
    /// Where the server's DUID is kept once made (by default the journal's path with
    /// `.duid`).
    pub duid_file: PathBuf,
    /// The kind of DUID made when there is none yet.
    pub duid_kind: DuidKind,
    /// Whether to join All_DHCP_Servers (ff05::1:3) too.
    pub site_multicast: bool,
}

/// The kind of server DUID made the first time (RFC 8415 section 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuidKind {
    /// DUID-LLT: an interface's MAC and the time it was made (Kea's default).
    Llt,
    /// DUID-LL: an interface's MAC.
    Ll,
    /// DUID-UUID: 16 random bytes.
    Uuid,
}

/// `[server6]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Server6Table {
    preference: Option<u8>,
    rapid_commit: Option<bool>,
    decline_probation: Option<u32>,
    duid: Option<Spanned<String>>,
    duid_file: Option<PathBuf>,
    journal: Option<PathBuf>,
    site_multicast: Option<bool>,
    lease: Option<Spanned<Lease6>>,
    options: Option<Spanned<Options6File>>,
}

/// `[server6.lease]`, `[subnet6.lease]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Lease6 {
    preferred: Option<u32>,
    valid: Option<u32>,
    renewal: Option<u32>,
    rebinding: Option<u32>,
}

impl Lease6 {
    fn over(&self, base: Lifetimes) -> Lifetimes {
        Lifetimes {
            preferred: self.preferred.unwrap_or(base.preferred),
            valid: self.valid.unwrap_or(base.valid),
            t1: self.renewal.or(base.t1),
            t2: self.rebinding.or(base.t2),
        }
    }
}

/// An option table: option names and their values.
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub(super) struct Options6File(BTreeMap<String, Spanned<toml::Value>>);

/// `raw = [{ code, hex | text }]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption6 {
    code: u16,
    hex: Option<String>,
    text: Option<String>,
}

/// `[[subnet6]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Subnet6File {
    prefix: Spanned<Net6>,
    interface: Option<String>,
    interface_id: Option<String>,
    #[serde(default)]
    pools: Vec<Spanned<Pool6File>>,
    #[serde(default)]
    pd_pools: Vec<Spanned<PdPoolFile>>,
    rapid_commit: Option<bool>,
    lease: Option<Spanned<Lease6>>,
    options: Option<Spanned<Options6File>>,
    #[serde(default)]
    reservations: Vec<Spanned<Reservation6File>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PdPoolFile {
    prefix: Net6,
    delegated_len: u8,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reservation6File {
    duid: Option<Hex>,
    hw_address: Option<Hex>,
    remote_id: Option<Hex>,
    #[serde(default)]
    addresses: Vec<Ipv6Addr>,
    #[serde(default)]
    prefixes: Vec<Net6>,
    options: Option<Spanned<Options6File>>,
}

/// `2001:db8::/64`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Net6(pub(super) Ipv6Net);

impl FromStr for Net6 {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an IPv6 prefix (like 2001:db8:1::/64)");
        let (a, l) = s.trim().split_once('/').ok_or_else(bad)?;
        let a: Ipv6Addr = a.parse().map_err(|_| bad())?;
        let l: u8 = l.parse().map_err(|_| bad())?;
        if l > 128 {
            return Err(format!("prefix length {l} in {s:?} is over 128"));
        }
        Ok(Net6(Ipv6Net::new(a, l)))
    }
}

/// `first-last`.
#[derive(Debug, Clone, Copy)]
struct Range6(Ipv6Addr, Ipv6Addr);

impl FromStr for Range6 {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a pool (like \"2001:db8:1::100-2001:db8:1::1ff\")");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let a: Ipv6Addr = a.trim().parse().map_err(|_| bad())?;
        let b: Ipv6Addr = b.trim().parse().map_err(|_| bad())?;
        Ok(Range6(a, b))
    }
}

/// A pool: `"first-last"`, or `{ range = "first-last", options = { ... } }`.
#[derive(Debug)]
struct Pool6File {
    range: Range6,
    options: Option<Spanned<Options6File>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pool6Table {
    range: Range6,
    options: Option<Spanned<Options6File>>,
}

impl<'de> Deserialize<'de> for Pool6File {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> serde::de::Visitor<'de> for Either {
            type Value = Pool6File;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a pool: \"first-last\" or { range = \"first-last\", options = { ... } }",
                )
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Pool6File, E> {
                Ok(Pool6File {
                    range: s.parse().map_err(E::custom)?,
                    options: None,
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Pool6File, A::Error> {
                let t = Pool6Table::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Pool6File {
                    range: t.range,
                    options: t.options,
                })
            }
        }
        d.deserialize_any(Either)
    }
}

macro_rules! from_str_de {
    ($($t:ty),*) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
from_str_de!(Net6, Range6);

/// The options a v6 table may name.
const NAMES: [&str; 9] = [
    "dns_servers",
    "domain_search",
    "sntp_servers",
    "ntp_servers",
    "information_refresh_time",
    "sol_max_rt",
    "inf_max_rt",
    "vendor_opts",
    "raw",
];

fn addresses(v: &toml::Value) -> Result<Vec<Ipv6Addr>, String> {
    let list = v.as_array().ok_or("a list of IPv6 addresses")?;
    list.iter()
        .map(|x| {
            x.as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("{x} is not an IPv6 address"))
        })
        .collect()
}

fn seconds(v: &toml::Value) -> Result<u32, String> {
    v.as_integer()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| "seconds, 0 to 4294967295".to_string())
}

/// Sets option `name` to `value`.
fn one(set: &mut Options6, name: &str, value: &toml::Value) -> Result<(), String> {
    let emit = |r: Result<(), dhcp_core::v6::wire::EmitError>| r.map_err(|e| e.to_string());
    match name {
        "dns_servers" => emit(set.set_dns_servers(&addresses(value)?)),
        "sntp_servers" => emit(set.set_sntp_servers(&addresses(value)?)),
        "ntp_servers" => {
            use dhcp_core::v6::wire::NtpServerSpec;
            let list = value
                .as_array()
                .ok_or("a list of IPv6 addresses and names")?;
            let texts: Vec<&str> = list
                .iter()
                .map(|x| x.as_str().ok_or("a list of IPv6 addresses and names"))
                .collect::<Result<_, _>>()?;
            let servers: Vec<NtpServerSpec<'_>> = texts
                .iter()
                .map(|t| match t.parse() {
                    Ok(a) => NtpServerSpec::Address(a),
                    Err(_) => NtpServerSpec::Name(t),
                })
                .collect();
            emit(set.set_ntp_servers(&servers))
        }
        "domain_search" => {
            let list = value.as_array().ok_or("a list of domain names")?;
            let names: Vec<&str> = list
                .iter()
                .map(|x| x.as_str().ok_or("a list of domain names"))
                .collect::<Result<_, _>>()?;
            emit(set.set_domain_list(&names))
        }
        "information_refresh_time" => {
            let s = seconds(value)?;
            if s < 600 {
                return Err(format!(
                    "{s} s is below the 600 s minimum (RFC 8415 section 21.23)"
                ));
            }
            emit(set.set_information_refresh_time(s))
        }
        "sol_max_rt" => emit(set.set_sol_max_rt(seconds(value)?)),
        "inf_max_rt" => emit(set.set_inf_max_rt(seconds(value)?)),
        "vendor_opts" => {
            let hex = value
                .as_str()
                .ok_or("hex bytes (enterprise number first)")?;
            emit(set.set_raw(OptionCode::VENDOR_OPTS, parse_hex(hex)?))
        }
        "raw" => {
            let list: Vec<RawOption6> = value
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| e.message().to_string())?;
            for r in list {
                let bytes = match (r.hex, r.text) {
                    (Some(h), None) => parse_hex(&h)?,
                    (None, Some(t)) => t.into_bytes(),
                    _ => return Err(format!("option {}: give hex or text", r.code)),
                };
                emit(set.set_raw(OptionCode(r.code), bytes))?;
            }
            Ok(())
        }
        other => Err(format!(
            "unknown DHCPv6 option {other:?}{}",
            suggestion(other, NAMES.iter().copied())
        )),
    }
}

fn options6(o: &Option<Spanned<Options6File>>, field: &str, report: &mut Report<'_>) -> Options6 {
    let mut set = Options6::default();
    let Some(o) = o else { return set };
    for (name, value) in &o.get_ref().0 {
        if let Err(what) = one(&mut set, name, value.get_ref()) {
            report.at(value.span(), &format!("{field}.{name}"), what);
        }
    }
    set
}

/// Reads `[server6]`, `[[subnet6]]` and `[[class6]]`: `None` when the file has no
/// `[[subnet6]]`.
pub(super) fn server6(
    table: &Option<Spanned<Server6Table>>,
    subnets: &[Spanned<Subnet6File>],
    classes: &[Spanned<super::classes6::Class6File>],
    dir: &Path,
    journal: &Path,
    report: &mut Report<'_>,
) -> Option<Server6File> {
    if subnets.is_empty() {
        if let Some(t) = table {
            report.warn(t.span(), "server6", "no [[subnet6]]: DHCPv6 is not served");
        }
        if let Some(c) = classes.first() {
            report.warn(c.span(), "class6", "no [[subnet6]]: DHCPv6 is not served");
        }
        return None;
    }
    let empty = Server6Table::default();
    let top = table.as_ref().map_or(&empty, Spanned::get_ref);
    // A stand-in DUID for the check; the real one is read or made at start.
    let mut c = Server6Config::new(vec![0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    if let Some(p) = top.preference {
        c.preference = p;
    }
    if let Some(r) = top.rapid_commit {
        c.rapid_commit = r;
    }
    if let Some(d) = top.decline_probation {
        c.decline_probation = d;
    }
    if let Some(l) = &top.lease {
        c.lifetimes = l.get_ref().over(c.lifetimes);
    }
    c.options = options6(&top.options, "server6.options", report);
    let (compiled, refused): (Vec<_>, Vec<bool>) = super::classes6::classes6(classes, report)
        .into_iter()
        .unzip();
    c.classes = compiled;
    for (i, (class, file)) in c.classes.iter_mut().zip(classes).enumerate() {
        class.options = options6(
            &file.get_ref().options,
            &format!("class6[{i}].options"),
            report,
        );
    }
    let duid_kind = match top.duid.as_ref().map(|d| d.get_ref().as_str()) {
        None | Some("llt") => DuidKind::Llt,
        Some("ll") => DuidKind::Ll,
        Some("uuid") => DuidKind::Uuid,
        Some(other) => {
            let span = top.duid.as_ref().map_or(0..0, Spanned::span);
            report.at(
                span,
                "server6.duid",
                format!("{other:?}: one of \"llt\", \"ll\", \"uuid\""),
            );
            DuidKind::Llt
        }
    };
    let mut interfaces = Vec::new();
    for (i, s) in subnets.iter().enumerate() {
        let field = format!("subnet6[{i}]");
        let f = s.get_ref();
        let mut sub = Subnet6Config::new(f.prefix.get_ref().0);
        for (k, p) in f.pools.iter().enumerate() {
            let p = p.get_ref();
            let mut pool = Pool6::new(p.range.0, p.range.1);
            pool.options = options6(&p.options, &format!("{field}.pools[{k}].options"), report);
            sub.pools.push(pool);
        }
        sub.pd_pools = f
            .pd_pools
            .iter()
            .map(|p| PdPool {
                prefix: p.get_ref().prefix.0,
                delegated_len: p.get_ref().delegated_len,
            })
            .collect();
        sub.interface_id = f.interface_id.as_ref().map(|s| s.as_bytes().to_vec());
        sub.rapid_commit = f.rapid_commit;
        sub.lifetimes = f.lease.as_ref().map(|l| l.get_ref().over(c.lifetimes));
        sub.options = options6(&f.options, &format!("{field}.options"), report);
        for (k, r) in f.reservations.iter().enumerate() {
            let rf = r.get_ref();
            let key = match (&rf.duid, &rf.hw_address, &rf.remote_id) {
                (Some(d), None, None) => Reservation6Key::Duid(d.0.clone()),
                (None, Some(h), None) => Reservation6Key::HwAddress(h.0.clone()),
                (None, None, Some(r)) => Reservation6Key::RemoteId(r.0.clone()),
                _ => {
                    report.at(
                        r.span(),
                        &format!("{field}.reservations[{k}]"),
                        "name the client by duid, hw_address or remote_id (one of them)",
                    );
                    continue;
                }
            };
            sub.reservations.push(Reservation6 {
                key,
                addresses: rf.addresses.clone(),
                prefixes: rf.prefixes.iter().map(|p| p.0).collect(),
                options: options6(
                    &rf.options,
                    &format!("{field}.reservations[{k}].options"),
                    report,
                ),
            });
        }
        interfaces.push(f.interface.clone());
        c.subnets.push(sub);
    }
    for e in c.validate() {
        if let Config6Place::Class { class } = e.place {
            if refused.get(class) == Some(&true) {
                continue; // its match was refused and reported already
            }
        }
        let (mut span, mut field) = match e.place {
            Config6Place::Class { class } => {
                classes.get(class).map_or((0..0, String::new()), |c| {
                    (c.span(), format!("class6[{class}]"))
                })
            }
            _ => locate(table, subnets, &e.place),
        };
        if e.place == Config6Place::Server && e.at == "lifetimes" {
            if let Some(l) = &top.lease {
                (span, field) = (l.span(), "server6.lease".to_string());
            }
        }
        report.at(span, &field, format!("{}: {}", e.at, e.what));
    }
    let journal6 = match &top.journal {
        Some(p) => dir.join(p),
        None => {
            let mut p = journal.as_os_str().to_owned();
            p.push("6");
            PathBuf::from(p)
        }
    };
    let duid_file = match &top.duid_file {
        Some(p) => dir.join(p),
        None => journal.with_extension("duid"),
    };
    Some(Server6File {
        config: c,
        interfaces,
        journal: journal6,
        duid_file,
        duid_kind,
        site_multicast: top.site_multicast.unwrap_or(false),
    })
}

/// The span and field a core error's place names.
fn locate(
    table: &Option<Spanned<Server6Table>>,
    subnets: &[Spanned<Subnet6File>],
    place: &Config6Place,
) -> (Range<usize>, String) {
    let sub = |i: usize| subnets.get(i).map(|s| (s.get_ref(), s.span()));
    let found = match *place {
        Config6Place::Server | Config6Place::Class { .. } => {
            table.as_ref().map(|t| (t.span(), "server6".to_string()))
        }
        Config6Place::Subnet { subnet } => {
            sub(subnet).map(|(_, span)| (span, format!("subnet6[{subnet}]")))
        }
        Config6Place::Pool { subnet, pool } => sub(subnet).and_then(|(s, _)| {
            let p = s.pools.get(pool)?;
            Some((p.span(), format!("subnet6[{subnet}].pools[{pool}]")))
        }),
        Config6Place::PdPool { subnet, pool } => sub(subnet).and_then(|(s, _)| {
            let p = s.pd_pools.get(pool)?;
            Some((p.span(), format!("subnet6[{subnet}].pd_pools[{pool}]")))
        }),
        Config6Place::Reservation {
            subnet,
            reservation,
        } => sub(subnet).and_then(|(s, _)| {
            let r = s.reservations.get(reservation)?;
            Some((
                r.span(),
                format!("subnet6[{subnet}].reservations[{reservation}]"),
            ))
        }),
    };
    found.unwrap_or((0..0, String::new()))
}
