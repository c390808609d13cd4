//! Option definitions: every option a config may set by name, with its code and value type:
//! the RFC 2132 options and the common later ones built in, and those `[[option_def]]`
//! adds (also sub-options of a space: option 43's for a vendor, option 125's for an
//! enterprise).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use toml::Spanned;

use super::report::Report;

/// How a value is written in the config and on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Type {
    /// `"192.0.2.1"`: 4 bytes.
    Ipv4,
    /// `["192.0.2.1", ...]`: 4 bytes each, at least one.
    Ipv4List,
    /// An integer: 1 byte.
    U8,
    /// An integer: 2 bytes, network order.
    U16,
    /// An integer: 4 bytes, network order.
    U32,
    /// A signed integer: 4 bytes, two's complement (time offset).
    I32,
    /// `true` / `false`: 1 byte, 1 or 0.
    Bool,
    /// Text, sent as its bytes (no NUL added).
    Text,
    /// A domain name, sent in DNS wire format (RFC 1035, uncompressed).
    Fqdn,
    /// Domain names, each in DNS wire format.
    FqdnList,
    /// Bytes as hex (`"01:02:0a"`).
    Hex,
    /// Integers: 1 byte each.
    U8List,
    /// Integers: 2 bytes each.
    U16List,
    /// Integers: 4 bytes each.
    U32List,
    /// An array of fields, each of the listed (non-list) types, in order.
    Record(Vec<Type>),
}

impl Type {
    /// The type a definition names (`"ipv4-list"`), with `fields` for a record.
    pub(super) fn parse(name: &str, fields: Option<&[String]>) -> Result<Type, String> {
        let simple = |n: &str| {
            Some(match n {
                "ipv4" => Type::Ipv4,
                "u8" => Type::U8,
                "u16" => Type::U16,
                "u32" => Type::U32,
                "i32" => Type::I32,
                "bool" => Type::Bool,
                "string" => Type::Text,
                "fqdn" => Type::Fqdn,
                "hex" => Type::Hex,
                _ => return None,
            })
        };
        let t = match name {
            "ipv4-list" => Type::Ipv4List,
            "fqdn-list" => Type::FqdnList,
            "u8-list" => Type::U8List,
            "u16-list" => Type::U16List,
            "u32-list" => Type::U32List,
            "record" => {
                let fields = fields.filter(|f| !f.is_empty()).ok_or(
                    "a record needs `fields`, the types of its fields in order (like [\"u8\", \"ipv4\"])",
                )?;
                let types = fields
                    .iter()
                    .map(|f| {
                        simple(f).ok_or_else(|| {
                            format!("record field type {f:?}: one of ipv4, u8, u16, u32, i32, bool, string, fqdn, hex")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Type::Record(types)
            }
            other => simple(other).ok_or_else(|| {
                format!(
                    "{other:?} is not a type: ipv4, ipv4-list, u8, u16, u32, i32, bool, string, fqdn, fqdn-list, hex, u8-list, u16-list, u32-list, record"
                )
            })?,
        };
        if fields.is_some() && !matches!(t, Type::Record(_)) {
            return Err("`fields` is for type \"record\" only".to_string());
        }
        Ok(t)
    }
}

/// The options of RFC 2132 and the common later ones, by the name a config gives them
/// (Kea's names with `_` for `-`), their code and type. Options the server writes itself
/// (1, 50–59, 61, 82), those written their own way (`classless_routes`, `raw`,
/// `vendor_encapsulated`, `vendor_identifying`), and 66 / 67, which are the boot keys
/// `server_name` / `boot_file` (they go in `sname` / `file` too), are not here.
const STANDARD: &[(&str, u8, &str)] = &[
    ("time_offset", 2, "i32"),
    ("routers", 3, "ipv4-list"),
    ("time_servers", 4, "ipv4-list"),
    ("name_servers", 5, "ipv4-list"),
    ("dns_servers", 6, "ipv4-list"),
    ("log_servers", 7, "ipv4-list"),
    ("cookie_servers", 8, "ipv4-list"),
    ("lpr_servers", 9, "ipv4-list"),
    ("impress_servers", 10, "ipv4-list"),
    ("resource_location_servers", 11, "ipv4-list"),
    ("host_name", 12, "string"),
    ("boot_size", 13, "u16"),
    ("merit_dump", 14, "string"),
    ("domain_name", 15, "string"),
    ("swap_server", 16, "ipv4"),
    ("root_path", 17, "string"),
    ("extensions_path", 18, "string"),
    ("ip_forwarding", 19, "bool"),
    ("non_local_source_routing", 20, "bool"),
    ("policy_filter", 21, "ipv4-list"),
    ("max_dgram_reassembly", 22, "u16"),
    ("default_ip_ttl", 23, "u8"),
    ("path_mtu_aging_timeout", 24, "u32"),
    ("path_mtu_plateau_table", 25, "u16-list"),
    ("mtu", 26, "u16"),
    ("all_subnets_local", 27, "bool"),
    ("broadcast_address", 28, "ipv4"),
    ("perform_mask_discovery", 29, "bool"),
    ("mask_supplier", 30, "bool"),
    ("router_discovery", 31, "bool"),
    ("router_solicitation_address", 32, "ipv4"),
    ("static_routes", 33, "ipv4-list"),
    ("trailer_encapsulation", 34, "bool"),
    ("arp_cache_timeout", 35, "u32"),
    ("ieee802_3_encapsulation", 36, "bool"),
    ("default_tcp_ttl", 37, "u8"),
    ("tcp_keepalive_interval", 38, "u32"),
    ("tcp_keepalive_garbage", 39, "bool"),
    ("nis_domain", 40, "string"),
    ("nis_servers", 41, "ipv4-list"),
    ("ntp_servers", 42, "ipv4-list"),
    ("netbios_name_servers", 44, "ipv4-list"),
    ("netbios_dd_server", 45, "ipv4-list"),
    ("netbios_node_type", 46, "u8"),
    ("netbios_scope", 47, "string"),
    ("font_servers", 48, "ipv4-list"),
    ("x_display_manager", 49, "ipv4-list"),
    ("vendor_class", 60, "string"),
    ("nisplus_domain", 64, "string"),
    ("nisplus_servers", 65, "ipv4-list"),
    ("mobile_ip_home_agent", 68, "ipv4-list"),
    ("smtp_servers", 69, "ipv4-list"),
    ("pop_servers", 70, "ipv4-list"),
    ("nntp_servers", 71, "ipv4-list"),
    ("www_servers", 72, "ipv4-list"),
    ("finger_servers", 73, "ipv4-list"),
    ("irc_servers", 74, "ipv4-list"),
    ("streettalk_servers", 75, "ipv4-list"),
    ("streettalk_directory_assistance_servers", 76, "ipv4-list"),
    ("slp_directory_agent", 78, "hex"),
    ("slp_service_scope", 79, "hex"),
    ("nds_servers", 85, "ipv4-list"),
    ("nds_tree_name", 86, "string"),
    ("nds_context", 87, "string"),
    ("bcmcs_controller_domain_names", 88, "fqdn-list"),
    ("bcmcs_controller_addresses", 89, "ipv4-list"),
    ("pcode", 100, "string"),
    ("tcode", 101, "string"),
    ("ipv6_only_wait", 108, "u32"),
    ("netinfo_server_address", 112, "ipv4-list"),
    ("netinfo_server_tag", 113, "string"),
    ("captive_portal", 114, "string"),
    ("auto_config", 116, "u8"),
    ("domain_search", 119, "fqdn-list"),
    ("sip_servers", 120, "hex"),
    ("tftp_server_addresses", 150, "ipv4-list"),
    ("pxelinux_config_file", 209, "string"),
    ("pxelinux_path_prefix", 210, "string"),
    ("pxelinux_reboot_time", 211, "u32"),
    ("wpad", 252, "string"),
];

/// PXE's sub-options of option 43 (PXE specification 2.1, table 2-1), the space named
/// `pxe`: a PXE client sends vendor class `PXEClient` and reads these.
const PXE: &[(&str, u8, &str)] = &[
    ("discovery_control", 6, "u8"),
    ("multicast_address", 7, "ipv4"),
    ("boot_servers", 8, "hex"),
    ("boot_menu", 9, "hex"),
    ("menu_prompt", 10, "hex"),
    ("boot_item", 71, "hex"),
];

/// One option (or sub-option) a config may set by name.
#[derive(Debug, Clone)]
pub(super) struct Def {
    pub(super) code: u8,
    pub(super) ty: Type,
}

/// `[[option_def]]`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OptionDefFile {
    pub(super) name: Spanned<String>,
    pub(super) code: Spanned<u8>,
    #[serde(rename = "type")]
    pub(super) ty: Spanned<String>,
    pub(super) fields: Option<Vec<String>>,
    /// The sub-option space it belongs to (`"pxe"`, a vendor's name for option 43,
    /// `"enterprise-4491"` for option 125); none: a top-level option.
    pub(super) space: Option<Spanned<String>>,
}

/// Every definition in force: the built-in ones and the config's own, by space (`""` for
/// top-level options) and name.
#[derive(Debug, Clone, Default)]
pub(super) struct Defs {
    spaces: BTreeMap<String, BTreeMap<String, Def>>,
}

/// The space of top-level options.
pub(super) const TOP: &str = "";

impl Defs {
    /// The built-in definitions, and `[[option_def]]`'s (each checked and located).
    pub(super) fn new(own: &[Spanned<OptionDefFile>], report: &mut Report<'_>) -> Defs {
        let mut defs = Defs::default();
        for (space, table) in [(TOP, STANDARD), ("pxe", PXE)] {
            let names = defs.spaces.entry(space.to_string()).or_default();
            for &(name, code, ty) in table {
                let ty = Type::parse(ty, None).expect("the built-in types are valid");
                names.insert(name.to_string(), Def { code, ty });
            }
        }
        for (i, d) in own.iter().enumerate() {
            let d = d.get_ref();
            let field = format!("option_def[{i}]");
            let ty = match Type::parse(d.ty.get_ref(), d.fields.as_deref()) {
                Ok(t) => t,
                Err(e) => {
                    report.at(d.ty.span(), &format!("{field}.type"), e);
                    continue;
                }
            };
            let space = d.space.as_ref().map_or(TOP, |s| s.get_ref().as_str());
            let code = *d.code.get_ref();
            let name = d.name.get_ref();
            if name.trim().is_empty() {
                report.at(d.name.span(), &format!("{field}.name"), "is empty");
                continue;
            }
            if space == TOP && (code == 0 || code == 255 || written_by_server(code)) {
                report.at(
                    d.code.span(),
                    &format!("{field}.code"),
                    format!("option {code} cannot be configured: pad, end, and 50-59, 61, 82 are the server's own"),
                );
                continue;
            }
            let names = defs.spaces.entry(space.to_string()).or_default();
            if let Some((other, _)) = names.iter().find(|(_, def)| def.code == code) {
                report.at(
                    d.code.span(),
                    &format!("{field}.code"),
                    format!("code {code} is already defined as {other:?} in this space"),
                );
                continue;
            }
            if names.contains_key(name) {
                report.at(
                    d.name.span(),
                    &format!("{field}.name"),
                    format!("{name:?} is already defined in this space"),
                );
                continue;
            }
            names.insert(name.clone(), Def { code, ty });
        }
        defs
    }

    /// The definition of `name` in `space`.
    pub(super) fn get(&self, space: &str, name: &str) -> Option<&Def> {
        self.spaces.get(space)?.get(name)
    }

    /// The names of `space`, for suggestions.
    pub(super) fn names<'a>(&'a self, space: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.spaces
            .get(space)
            .into_iter()
            .flat_map(|n| n.keys().map(String::as_str))
    }
}

/// The codes the server writes itself, which no config sets: 50–59 (requested address,
/// lease time, overload, message type, server id, parameter list, message, maximum size,
/// T1, T2), 61 (client id) and 82 (relay agent information).
pub(super) fn written_by_server(code: u8) -> bool {
    (50..=59).contains(&code) || code == 61 || code == 82
}

/// `value` written as `ty` for option `code` (for messages): the value's bytes, or what is
/// wrong with it.
pub(super) fn encode(ty: &Type, value: &toml::Value) -> Result<Vec<u8>, String> {
    use toml::Value as V;
    let int = |v: &V, min: i64, max: i64| -> Result<i64, String> {
        match v {
            V::Integer(n) if (min..=max).contains(n) => Ok(*n),
            V::Integer(n) => Err(format!("{n} is out of range ({min}..={max})")),
            other => Err(format!("expected an integer, found {}", other.type_str())),
        }
    };
    let text = |v: &V| -> Result<String, String> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("expected a string, found {}", v.type_str()))
    };
    let ipv4 = |v: &V| -> Result<Ipv4Addr, String> {
        let s = text(v)?;
        s.parse()
            .map_err(|_| format!("{s:?} is not an IPv4 address"))
    };
    let list = |v: &V| -> Result<Vec<V>, String> {
        match v {
            V::Array(a) if a.is_empty() => Err("lists nothing".to_string()),
            V::Array(a) => Ok(a.clone()),
            other => Err(format!("expected an array, found {}", other.type_str())),
        }
    };
    let names = |names: &[String]| -> Result<Vec<u8>, String> {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut set = dhcp_core::server::OptionSet::new();
        set.domain_search(&refs).map_err(|e| e.to_string())?;
        Ok(set
            .get(dhcp_core::wire::OptionCode::DOMAIN_SEARCH)
            .unwrap_or_default()
            .to_vec())
    };
    Ok(match ty {
        Type::Ipv4 => ipv4(value)?.octets().to_vec(),
        Type::Ipv4List => list(value)?
            .iter()
            .map(|v| ipv4(v).map(|a| a.octets()))
            .collect::<Result<Vec<_>, _>>()?
            .concat(),
        Type::U8 => vec![int(value, 0, 0xff)? as u8],
        Type::U16 => (int(value, 0, 0xffff)? as u16).to_be_bytes().to_vec(),
        Type::U32 => (int(value, 0, 0xffff_ffff)? as u32).to_be_bytes().to_vec(),
        Type::I32 => (int(value, i64::from(i32::MIN), i64::from(i32::MAX))? as i32)
            .to_be_bytes()
            .to_vec(),
        Type::Bool => match value {
            V::Boolean(b) => vec![u8::from(*b)],
            other => {
                return Err(format!(
                    "expected true or false, found {}",
                    other.type_str()
                ))
            }
        },
        Type::Text => {
            let s = text(value)?;
            if s.is_empty() {
                return Err("is empty".to_string());
            }
            s.into_bytes()
        }
        Type::Fqdn => names(&[text(value)?])?,
        Type::FqdnList => names(
            &list(value)?
                .iter()
                .map(text)
                .collect::<Result<Vec<_>, _>>()?,
        )?,
        Type::Hex => super::file::parse_hex(&text(value)?)?,
        Type::U8List => list(value)?
            .iter()
            .map(|v| int(v, 0, 0xff).map(|n| n as u8))
            .collect::<Result<Vec<_>, _>>()?,
        Type::U16List => list(value)?
            .iter()
            .map(|v| int(v, 0, 0xffff).map(|n| (n as u16).to_be_bytes()))
            .collect::<Result<Vec<_>, _>>()?
            .concat(),
        Type::U32List => list(value)?
            .iter()
            .map(|v| int(v, 0, 0xffff_ffff).map(|n| (n as u32).to_be_bytes()))
            .collect::<Result<Vec<_>, _>>()?
            .concat(),
        Type::Record(fields) => {
            let values = list(value)?;
            if values.len() != fields.len() {
                return Err(format!(
                    "a record of {} fields, given {}",
                    fields.len(),
                    values.len()
                ));
            }
            let mut out = Vec::new();
            for (k, (t, v)) in fields.iter().zip(&values).enumerate() {
                out.extend(encode(t, v).map_err(|e| format!("field {k}: {e}"))?);
            }
            out
        }
    })
}
