//! The option tables (`[options]`, `[subnet.options]`, `[subnet.reservation.options]`,
//! `[class.options]`) into the core's `OptionSet`: each option by the name its definition
//! gives it, its value checked against the definition's type where it is written; the
//! options written their own way (`classless_routes`, `raw`, `vendor_encapsulated`,
//! `vendor_identifying`); and the warning for routers sent beside classless routes without
//! a default route.

use std::collections::BTreeMap;
use std::ops::Range;

use dhcp_core::server::OptionSet;
use dhcp_core::wire::typed::Route;
use dhcp_core::wire::{EmitError, OptionCode};
use serde::Deserialize;
use toml::Spanned;

use super::defs::{encode, Defs, Type, TOP};
use super::file::RouteFile;
use super::report::{suggestion, Report};

/// An option table as the file writes it: option names and their values.
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub(super) struct Options(pub(super) BTreeMap<String, Spanned<toml::Value>>);

impl Options {
    /// The value of `name`, if the table sets it.
    fn get(&self, name: &str) -> Option<&Spanned<toml::Value>> {
        self.0.get(name)
    }
}

/// `raw = [{ code, hex | text }]`: any option by code, its value as it goes on the wire.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    code: u8,
    hex: Option<String>,
    text: Option<String>,
}

/// The option table `o` (at `field`) as an `OptionSet`; every mistake reported at its key.
pub(super) fn options(
    o: &Option<Spanned<Options>>,
    field: &str,
    defs: &Defs,
    report: &mut Report<'_>,
) -> OptionSet {
    let mut set = OptionSet::new();
    let Some(o) = o else { return set };
    for (name, value) in &o.get_ref().0 {
        let at = format!("{field}.{name}");
        if let Err(what) = one(&mut set, name, value.get_ref(), defs) {
            report.at(value.span(), &at, what);
        }
    }
    set
}

/// Sets option `name` to `value` in `set`.
fn one(set: &mut OptionSet, name: &str, value: &toml::Value, defs: &Defs) -> Result<(), String> {
    let emit = |e: EmitError| e.to_string();
    match name {
        "raw" => {
            let list: Vec<RawOption> = value.clone().try_into().map_err(|e| format!("{e}"))?;
            for r in list {
                let bytes = match (&r.hex, &r.text) {
                    (Some(h), None) => super::file::parse_hex(h)?,
                    (None, Some(t)) => t.as_bytes().to_vec(),
                    _ => {
                        return Err(format!(
                            "option {}: give exactly one of `hex` or `text`",
                            r.code
                        ))
                    }
                };
                set.raw(r.code, &bytes).map_err(emit)?;
            }
            Ok(())
        }
        "classless_routes" => {
            let routes: Vec<RouteFile> = value.clone().try_into().map_err(|e| format!("{e}"))?;
            set.classless_routes(&routes_of(&routes)).map_err(emit)?;
            Ok(())
        }
        "vendor_encapsulated" => {
            let bytes = match value {
                toml::Value::String(hex) => super::file::parse_hex(hex)?,
                toml::Value::Table(t) => {
                    let space = t.get("space").and_then(toml::Value::as_str).ok_or(
                        "a table of sub-options names their `space` (like \"pxe\", or one `[[option_def]]` gives)",
                    )?;
                    sub_options(t, space, &["space"], defs)?
                }
                other => {
                    return Err(format!(
                        "expected hex bytes or a table of sub-options, found {}",
                        other.type_str()
                    ))
                }
            };
            set.raw(OptionCode::VENDOR_SPECIFIC.0, &bytes)
                .map_err(emit)?;
            Ok(())
        }
        "vendor_identifying" => {
            let blocks = value
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or("a list of { enterprise = N, sub-option = value, ... }")?;
            let mut encoded: Vec<(u32, Vec<u8>)> = Vec::new();
            for b in blocks {
                let t = b.as_table().ok_or("each block is a table")?;
                let enterprise = t
                    .get("enterprise")
                    .and_then(toml::Value::as_integer)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or("each block needs `enterprise`, the IANA enterprise number")?;
                let space = format!("enterprise-{enterprise}");
                encoded.push((enterprise, sub_options(t, &space, &["enterprise"], defs)?));
            }
            let blocks: Vec<(u32, &[u8])> =
                encoded.iter().map(|(e, b)| (*e, b.as_slice())).collect();
            set.vendor_identifying(&blocks).map_err(emit)?;
            Ok(())
        }
        "tftp_server_name" | "boot_file_name" | "subnet_mask" => Err(match name {
            "subnet_mask" => "the subnet mask (1) is always the subnet's own".to_string(),
            _ => format!(
                "set `{}` in this scope instead: it goes in the header's `{}` and in option {} when asked",
                if name == "boot_file_name" { "boot_file" } else { "server_name" },
                if name == "boot_file_name" { "file" } else { "sname" },
                if name == "boot_file_name" { 67 } else { 66 },
            ),
        }),
        _ => {
            let def = defs.get(TOP, name).ok_or_else(|| {
                format!(
                    "no option {name:?} (a name from the reference, or one `[[option_def]]` defines){}",
                    suggestion(name, defs.names(TOP))
                )
            })?;
            let bytes = encode(&def.ty, value)?;
            typed(set, def.code, &def.ty, value, &bytes)
        }
    }
}

/// Sets `code` to `bytes` through the core's typed setter where it has one (its checks and
/// messages), else as they are.
fn typed(
    set: &mut OptionSet,
    code: u8,
    ty: &Type,
    value: &toml::Value,
    bytes: &[u8],
) -> Result<(), String> {
    let emit = |e: EmitError| e.to_string();
    let text = value.as_str().unwrap_or_default();
    match OptionCode(code) {
        OptionCode::MTU if *ty == Type::U16 => {
            set.mtu(u16::from_be_bytes([bytes[0], bytes[1]]))
                .map_err(emit)?;
        }
        OptionCode::DOMAIN_NAME if *ty == Type::Text => {
            set.domain_name(text).map_err(emit)?;
        }
        OptionCode::HOST_NAME if *ty == Type::Text => {
            set.host_name(text).map_err(emit)?;
        }
        OptionCode::CAPTIVE_PORTAL if *ty == Type::Text => {
            set.captive_portal(text).map_err(emit)?;
        }
        _ => {
            set.raw(code, bytes).map_err(emit)?;
        }
    }
    Ok(())
}

/// The sub-options of table `t` (but its `skip` keys) in `space`, encoded one after another
/// (code, length, value); a key that is a number is a sub-option code with hex bytes.
fn sub_options(
    t: &toml::Table,
    space: &str,
    skip: &[&str],
    defs: &Defs,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for (name, value) in t.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
        let (code, bytes) = match name.parse::<u8>() {
            Ok(code) => {
                let hex = value
                    .as_str()
                    .ok_or_else(|| format!("sub-option {code}: hex bytes, as a string"))?;
                (code, super::file::parse_hex(hex)?)
            }
            Err(_) => {
                let def = defs.get(space, name).ok_or_else(|| {
                    format!(
                        "no sub-option {name:?} in space {space:?}{}",
                        suggestion(name, defs.names(space))
                    )
                })?;
                let bytes = encode(&def.ty, value).map_err(|e| format!("{name}: {e}"))?;
                (def.code, bytes)
            }
        };
        if code == 0 || code == 255 {
            return Err(format!("sub-option code {code} is pad or end"));
        }
        let len = u8::try_from(bytes.len())
            .map_err(|_| format!("sub-option {name}: {} bytes, over 255", bytes.len()))?;
        out.push(code);
        out.push(len);
        out.extend_from_slice(&bytes);
    }
    if out.is_empty() {
        return Err("no sub-option given".to_string());
    }
    Ok(out)
}

pub(super) fn routes_of(routes: &[RouteFile]) -> Vec<Route> {
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
pub(super) fn warn_default_route(
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
    let has_routers = tables.iter().any(|(o, _)| o.get("routers").is_some());
    let Some((routes, field)) = tables
        .iter()
        .find_map(|(o, f)| o.get("classless_routes").map(|r| (r, *f)))
    else {
        return;
    };
    let parsed: Vec<RouteFile> = routes.get_ref().clone().try_into().unwrap_or_default();
    if !has_routers || parsed.iter().any(|r| r.network.0.prefix_len == 0) {
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
