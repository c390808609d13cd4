//! The config file's shape, as serde reads it: every table and key there is, and the
//! values that parse from strings (networks, pools, hex bytes).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::str::FromStr;

use dhcp_core::server::{Boot, Ipv4Net, LeaseField, LeaseTimes, PoolRange};
use serde::Deserialize;
use toml::Spanned;

use super::options::Options;

/// `a.b.c.d/len`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Net(pub(super) Ipv4Net);

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

/// A pool: `first-last` or a network inside the subnet (`192.0.2.128/25`, every host
/// address), or a table `{ range = ..., allow = [classes], deny = [classes] }`.
#[derive(Debug, Clone)]
pub(super) struct Pool {
    pub(super) range: PoolRange,
    /// Names of the classes the pool is only open to.
    pub(super) allow: Vec<String>,
    /// Names of the classes the pool is closed to.
    pub(super) deny: Vec<String>,
}

/// A pool written as a table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolTable {
    range: Range,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
}

impl<'de> Deserialize<'de> for Pool {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> serde::de::Visitor<'de> for Either {
            type Value = Pool;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a pool: \"first-last\", a network, or { range = \"first-last\", allow = [...], deny = [...] }",
                )
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Pool, E> {
                let Range(range) = s.parse().map_err(E::custom)?;
                Ok(Pool {
                    range,
                    allow: Vec::new(),
                    deny: Vec::new(),
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Pool, A::Error> {
                let t = PoolTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Pool {
                    range: t.range.0,
                    allow: t.allow,
                    deny: t.deny,
                })
            }
        }
        d.deserialize_any(Either)
    }
}

/// An address range as a pool writes it.
#[derive(Debug, Clone, Copy)]
struct Range(PoolRange);

impl FromStr for Range {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some((a, b)) = s.split_once('-') {
            let parse = |x: &str| {
                x.trim()
                    .parse::<Ipv4Addr>()
                    .map_err(|_| format!("{:?} is not an IPv4 address", x.trim()))
            };
            return Ok(Range(PoolRange::new(parse(a)?, parse(b)?)));
        }
        let Net(n) = s.parse().map_err(|_| {
            format!("{s:?} is not a pool (like \"192.0.2.100-192.0.2.199\" or \"192.0.2.128/25\")")
        })?;
        let (first, last) = if n.prefix_len >= 31 {
            (n.first(), n.last())
        } else {
            (n.first() + 1, n.last() - 1)
        };
        Ok(Range(PoolRange::new(
            Ipv4Addr::from(first),
            Ipv4Addr::from(last),
        )))
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
deserialize_from_str!(Net, Range);

/// Hex bytes, `01:02:0a` or `01020a`.
#[derive(Debug, Clone)]
pub(super) struct Hex(pub(super) Vec<u8>);

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
pub(super) struct FileTop {
    #[serde(default)]
    pub(super) interfaces: Vec<String>,
    pub(super) journal: Option<PathBuf>,
    pub(super) store: Option<Spanned<String>>,
    pub(super) postgres: Option<Spanned<PostgresFile>>,
    pub(super) ha: Option<Spanned<HaFile>>,
    pub(super) log_level: Option<Spanned<String>>,
    pub(super) user: Option<String>,
    pub(super) metrics: Option<std::net::SocketAddr>,
    pub(super) log_format: Option<Spanned<String>>,
    pub(super) control_socket: Option<PathBuf>,
    pub(super) server_id: Option<Ipv4Addr>,
    pub(super) authoritative: Option<bool>,
    pub(super) rapid_commit: Option<bool>,
    pub(super) dynamic_bootp: Option<bool>,
    pub(super) conflict_check: Option<bool>,
    pub(super) conflict_check_ms: Option<Spanned<u32>>,
    pub(super) offer_hold: Option<u32>,
    pub(super) decline_probation: Option<u32>,
    pub(super) max_offers: Option<usize>,
    pub(super) rate_limit: Option<Spanned<u32>>,
    pub(super) lease: Option<Spanned<Lease>>,
    #[serde(default)]
    pub(super) options: Option<Spanned<Options>>,
    #[serde(default)]
    pub(super) option_def: Vec<Spanned<super::defs::OptionDefFile>>,
    #[serde(default)]
    pub(super) class: Vec<Spanned<ClassFile>>,
    #[serde(default)]
    pub(super) subnet: Vec<Spanned<Subnet>>,
    pub(super) next_server: Option<Ipv4Addr>,
    pub(super) server_name: Option<Spanned<String>>,
    pub(super) boot_file: Option<Spanned<String>>,
    pub(super) server6: Option<Spanned<super::v6::Server6Table>>,
    #[serde(default)]
    pub(super) subnet6: Vec<Spanned<super::v6::Subnet6File>>,
    #[serde(default)]
    pub(super) class6: Vec<Spanned<super::classes6::Class6File>>,
}

/// Boot settings as a scope (the server, a subnet, a class, a reservation) writes them.
pub(super) fn boot(
    next_server: Option<Ipv4Addr>,
    server_name: &Option<Spanned<String>>,
    boot_file: &Option<Spanned<String>>,
) -> Boot {
    Boot {
        next_server,
        server_name: server_name.as_ref().map(|s| s.get_ref().clone()),
        boot_file: boot_file.as_ref().map(|s| s.get_ref().clone()),
    }
}

/// `[[class]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClassFile {
    pub(super) name: Spanned<String>,
    #[serde(rename = "match")]
    pub(super) matches: Option<Spanned<MatchFile>>,
    pub(super) options: Option<Spanned<Options>>,
    pub(super) lease: Option<Spanned<Lease>>,
    pub(super) next_server: Option<Ipv4Addr>,
    pub(super) server_name: Option<Spanned<String>>,
    pub(super) boot_file: Option<Spanned<String>>,
}

/// A number or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

/// What a class matches: every key given must hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MatchFile {
    pub(super) vendor_class: Option<Spanned<String>>,
    pub(super) vendor_class_prefix: Option<Spanned<String>>,
    pub(super) user_class: Option<Spanned<String>>,
    pub(super) architecture: Option<Spanned<OneOrMany<u16>>>,
    pub(super) circuit_id: Option<Spanned<Hex>>,
    pub(super) remote_id: Option<Spanned<Hex>>,
    pub(super) subscriber_id: Option<Spanned<String>>,
    pub(super) mac_prefix: Option<Spanned<Hex>>,
    pub(super) hardware_type: Option<Spanned<u8>>,
    pub(super) enterprise: Option<Spanned<u32>>,
    pub(super) has_option: Option<Spanned<u8>>,
    pub(super) relay: Option<Spanned<Net>>,
    pub(super) class: Option<Spanned<String>>,
    pub(super) all: Option<Spanned<Vec<Spanned<MatchFile>>>>,
    pub(super) any: Option<Spanned<Vec<Spanned<MatchFile>>>>,
    pub(super) not: Option<Box<Spanned<MatchFile>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PostgresFile {
    pub(super) url: Spanned<String>,
    pub(super) name: Option<Spanned<String>>,
    pub(super) ca: Option<Spanned<PathBuf>>,
    pub(super) cert: Option<Spanned<PathBuf>>,
    pub(super) key: Option<Spanned<PathBuf>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HaFile {
    pub(super) servers: Spanned<u32>,
    pub(super) this: Spanned<u32>,
}

/// `[lease]` or `[subnet.lease]`: each time where it is written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Lease {
    pub(super) time: Option<Spanned<u32>>,
    pub(super) min: Option<Spanned<u32>>,
    pub(super) max: Option<Spanned<u32>>,
    pub(super) renewal: Option<Spanned<u32>>,
    pub(super) rebinding: Option<Spanned<u32>>,
}

impl Lease {
    pub(super) fn times(&self) -> LeaseTimes {
        let get = |v: &Option<Spanned<u32>>| v.as_ref().map(|v| *v.get_ref());
        LeaseTimes {
            default: get(&self.time),
            min: get(&self.min),
            max: get(&self.max),
            renewal: get(&self.renewal),
            rebinding: get(&self.rebinding),
        }
    }

    /// Where `field` is written, if it is.
    pub(super) fn span_of(&self, field: LeaseField) -> Option<std::ops::Range<usize>> {
        let v = match field {
            LeaseField::Time => &self.time,
            LeaseField::Min => &self.min,
            LeaseField::Max => &self.max,
            LeaseField::Renewal => &self.renewal,
            LeaseField::Rebinding => &self.rebinding,
        };
        v.as_ref().map(Spanned::span)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RouteFile {
    pub(super) network: Net,
    pub(super) router: Ipv4Addr,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Subnet {
    pub(super) network: Net,
    #[serde(default)]
    pub(super) pools: Vec<Spanned<Pool>>,
    pub(super) server_id: Option<Ipv4Addr>,
    pub(super) authoritative: Option<bool>,
    pub(super) rapid_commit: Option<bool>,
    pub(super) dynamic_bootp: Option<bool>,
    pub(super) shared_network: Option<Spanned<String>>,
    pub(super) lease: Option<Spanned<Lease>>,
    pub(super) options: Option<Spanned<Options>>,
    #[serde(default)]
    pub(super) reservation: Vec<Spanned<ReservationFile>>,
    pub(super) next_server: Option<Ipv4Addr>,
    pub(super) server_name: Option<Spanned<String>>,
    pub(super) boot_file: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReservationFile {
    pub(super) mac: Option<crate::MacAddress>,
    pub(super) client_id: Option<Hex>,
    pub(super) circuit_id: Option<Hex>,
    pub(super) remote_id: Option<Hex>,
    pub(super) machine_id: Option<Hex>,
    pub(super) address: Spanned<Ipv4Addr>,
    pub(super) host_name: Option<Spanned<String>>,
    pub(super) options: Option<Spanned<Options>>,
    pub(super) classes: Option<Spanned<Vec<String>>>,
    pub(super) next_server: Option<Ipv4Addr>,
    pub(super) server_name: Option<Spanned<String>>,
    pub(super) boot_file: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for crate::MacAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
