//! `[[class6]]`: DHCPv6 client classes into the core's [`Class6Config`]s, class names
//! resolved to the earlier classes, every mistake located.

use dhcp_core::v6::server::{Class6Config, Match6};
use serde::Deserialize;
use toml::Spanned;

use super::file::Hex;
use super::report::{suggestion, Report};
use super::v6::Net6;

/// `[[class6]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Class6File {
    name: Spanned<String>,
    #[serde(rename = "match")]
    matches: Spanned<Match6File>,
    pub(super) options: Option<Spanned<super::v6::Options6File>>,
}

/// What a v6 class matches: every key given must hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Match6File {
    vendor_class: Option<String>,
    enterprise: Option<u32>,
    user_class: Option<String>,
    duid_prefix: Option<Hex>,
    mac_prefix: Option<Hex>,
    remote_id: Option<Hex>,
    interface_id: Option<String>,
    relay: Option<String>,
    has_option: Option<u16>,
    class: Option<Spanned<String>>,
    all: Option<Vec<Spanned<Match6File>>>,
    any: Option<Vec<Spanned<Match6File>>>,
    not: Option<Box<Spanned<Match6File>>>,
}

impl Class6File {
    pub(super) fn name(&self) -> &str {
        self.name.get_ref()
    }
}

/// Each `[[class6]]` into a class (its options filled in by the caller), and whether its
/// match was refused (reported here; the core need not report it again).
pub(super) fn classes6(
    list: &[Spanned<Class6File>],
    report: &mut Report<'_>,
) -> Vec<(Class6Config, bool)> {
    let names: Vec<&str> = list.iter().map(|c| c.get_ref().name()).collect();
    let mut out = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let field = format!("class6[{i}].match");
        let matches = compile(&c.get_ref().matches, &names, i, &field, report);
        let refused = matches.is_none();
        out.push((
            Class6Config {
                name: c.get_ref().name().to_string(),
                matches: matches.unwrap_or(Match6::All(Vec::new())),
                options: Default::default(),
            },
            refused,
        ));
    }
    out
}

/// The match a table states (several keys: all of them), or `None` (reported).
fn compile(
    m: &Spanned<Match6File>,
    names: &[&str],
    index: usize,
    field: &str,
    report: &mut Report<'_>,
) -> Option<Match6> {
    let f = m.get_ref();
    let mut all = Vec::new();
    if f.vendor_class.is_some() || f.enterprise.is_some() {
        all.push(Match6::VendorClass {
            enterprise: f.enterprise,
            data: f.vendor_class.as_ref().map(|s| s.as_bytes().to_vec()),
        });
    }
    if let Some(u) = &f.user_class {
        all.push(Match6::UserClass(u.as_bytes().to_vec()));
    }
    if let Some(p) = &f.duid_prefix {
        all.push(Match6::DuidPrefix(p.0.clone()));
    }
    if let Some(p) = &f.mac_prefix {
        all.push(Match6::MacPrefix(p.0.clone()));
    }
    if let Some(r) = &f.remote_id {
        all.push(Match6::RemoteId(r.0.clone()));
    }
    if let Some(i) = &f.interface_id {
        all.push(Match6::InterfaceId(i.as_bytes().to_vec()));
    }
    if let Some(r) = &f.relay {
        match r.parse::<Net6>() {
            Ok(Net6(n)) => all.push(Match6::Relay(n)),
            Err(what) => report.at(m.span(), &format!("{field}.relay"), what),
        }
    }
    if let Some(code) = f.has_option {
        all.push(Match6::HasOption(code));
    }
    if let Some(name) = &f.class {
        let n = name.get_ref();
        match names[..index].iter().position(|x| x == n) {
            Some(i) => all.push(Match6::Class(i)),
            None if names[index + 1..].contains(&n.as_str()) => report.at(
                name.span(),
                &format!("{field}.class"),
                format!("class6 {n:?} is defined after this one: a class can only use the classes before it"),
            ),
            None => report.at(
                name.span(),
                &format!("{field}.class"),
                format!("no class6 {n:?}{}", suggestion(n, names.iter().copied())),
            ),
        }
    }
    for (key, list, any) in [("all", &f.all, false), ("any", &f.any, true)] {
        if let Some(list) = list {
            let parts: Vec<Match6> = list
                .iter()
                .enumerate()
                .filter_map(|(k, p)| {
                    compile(p, names, index, &format!("{field}.{key}[{k}]"), report)
                })
                .collect();
            if parts.is_empty() {
                report.at(m.span(), &format!("{field}.{key}"), "is empty");
            } else {
                all.push(if any {
                    Match6::Any(parts)
                } else {
                    Match6::All(parts)
                });
            }
        }
    }
    if let Some(n) = &f.not {
        if let Some(inner) = compile(n, names, index, &format!("{field}.not"), report) {
            all.push(Match6::Not(Box::new(inner)));
        }
    }
    let given = f.vendor_class.is_some()
        || f.enterprise.is_some()
        || f.user_class.is_some()
        || f.duid_prefix.is_some()
        || f.mac_prefix.is_some()
        || f.remote_id.is_some()
        || f.interface_id.is_some()
        || f.relay.is_some()
        || f.has_option.is_some()
        || f.class.is_some()
        || f.all.is_some()
        || f.any.is_some()
        || f.not.is_some();
    match all.len() {
        // A key given but refused was reported where it is written.
        0 if given => None,
        0 => {
            report.at(m.span(), field, "matches nothing: give at least one key");
            None
        }
        1 => all.pop(),
        _ => Some(Match6::All(all)),
    }
}
