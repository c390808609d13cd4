//! `[[class]]` into the core's classes: each match compiled from its table, class names
//! (in matches, pools and reservations) resolved, every mistake located.

use std::ops::Range;

use dhcp_core::server::{ClassConfig, ClassId, ClassSet, Match, ServerConfig};
use toml::Spanned;

use super::defs::Defs;
use super::file::{boot, ClassFile, FileTop, MatchFile, OneOrMany};
use super::options::options;
use super::report::{suggestion, Report};

/// Each `[[class]]`, in order, into `server.classes`.
pub(super) fn classes(
    top: &FileTop,
    defs: &Defs,
    server: &mut ServerConfig,
    report: &mut Report<'_>,
) {
    for (i, c) in top.class.iter().enumerate() {
        let field = format!("class[{i}]");
        let file: &ClassFile = c.get_ref();
        let names: Vec<&str> = top
            .class
            .iter()
            .map(|c| c.get_ref().name.get_ref().as_str())
            .collect();
        let matches = file.matches.as_ref().and_then(|m| {
            let scope = Scope {
                earlier: &names[..i],
                later: &names[i + 1..],
                own: file.name.get_ref(),
            };
            compile(m, &scope, &format!("{field}.match"), report)
        });
        let mut class = ClassConfig::new(file.name.get_ref().clone(), matches);
        class.options = options(&file.options, &format!("{field}.options"), defs, report);
        class.boot = boot(file.next_server, &file.server_name, &file.boot_file);
        if let Some(l) = &file.lease {
            class.lease = l.get_ref().times();
        }
        server.classes.push(class);
    }
}

/// The classes a match may name: those before it, and the built-in ones.
struct Scope<'a> {
    earlier: &'a [&'a str],
    later: &'a [&'a str],
    own: &'a str,
}

impl Scope<'_> {
    fn resolve(&self, name: &str) -> Result<ClassId, String> {
        if let Some(id) = ClassId::builtin(name) {
            return Ok(id);
        }
        if let Some(i) = self.earlier.iter().position(|n| *n == name) {
            return Ok(ClassId(i as u8));
        }
        if name == self.own {
            return Err("a class cannot match on itself".to_string());
        }
        if self.later.contains(&name) {
            return Err(format!(
                "class {name:?} is defined after this one: a class can only use the classes before it (move it up)"
            ));
        }
        let all = self.earlier.iter().chain(self.later).copied();
        let all = all.chain(ClassId::BUILTIN_NAMES);
        Err(format!("no class {name:?}{}", suggestion(name, all)))
    }
}

/// The match a table states (several keys: all of them), or `None` (reported) when it is
/// empty or wrong.
fn compile(
    m: &Spanned<MatchFile>,
    scope: &Scope<'_>,
    field: &str,
    report: &mut Report<'_>,
) -> Option<Match> {
    let t = m.get_ref();
    let mut tests: Vec<Match> = Vec::new();
    let ok = std::cell::Cell::new(true);
    let bad = |span: Range<usize>, key: &str, what: String, report: &mut Report<'_>| {
        report.at(span, &format!("{field}.{key}"), what);
        ok.set(false);
    };
    let text = |v: &Option<Spanned<String>>| {
        v.as_ref()
            .map(|s| (s.span(), s.get_ref().as_bytes().to_vec()))
    };
    for (key, value, make) in [
        (
            "vendor_class",
            text(&t.vendor_class),
            Match::VendorClass as fn(Vec<u8>) -> Match,
        ),
        (
            "vendor_class_prefix",
            text(&t.vendor_class_prefix),
            Match::VendorClassPrefix,
        ),
        ("user_class", text(&t.user_class), Match::UserClass),
        ("subscriber_id", text(&t.subscriber_id), Match::SubscriberId),
        (
            "circuit_id",
            t.circuit_id
                .as_ref()
                .map(|h| (h.span(), h.get_ref().0.clone())),
            Match::CircuitId,
        ),
        (
            "remote_id",
            t.remote_id
                .as_ref()
                .map(|h| (h.span(), h.get_ref().0.clone())),
            Match::RemoteId,
        ),
        (
            "mac_prefix",
            t.mac_prefix
                .as_ref()
                .map(|h| (h.span(), h.get_ref().0.clone())),
            Match::MacPrefix,
        ),
    ] {
        if let Some((span, bytes)) = value {
            if bytes.is_empty() {
                bad(
                    span,
                    key,
                    "is empty: it would match nothing".to_string(),
                    report,
                );
            } else {
                tests.push(make(bytes));
            }
        }
    }
    if let Some(a) = &t.architecture {
        let list: Vec<u16> = match a.get_ref() {
            OneOrMany::One(n) => vec![*n],
            OneOrMany::Many(v) => v.clone(),
        };
        match list.as_slice() {
            [] => bad(
                a.span(),
                "architecture",
                "lists no architecture".to_string(),
                report,
            ),
            [one] => tests.push(Match::Architecture(*one)),
            many => tests.push(Match::Any(
                many.iter().map(|&n| Match::Architecture(n)).collect(),
            )),
        }
    }
    if let Some(v) = &t.hardware_type {
        tests.push(Match::HardwareType(*v.get_ref()));
    }
    if let Some(v) = &t.enterprise {
        tests.push(Match::Enterprise(*v.get_ref()));
    }
    if let Some(v) = &t.has_option {
        tests.push(Match::HasOption(*v.get_ref()));
    }
    if let Some(v) = &t.relay {
        tests.push(Match::Relay(v.get_ref().0));
    }
    if let Some(v) = &t.class {
        match scope.resolve(v.get_ref()) {
            Ok(id) => tests.push(Match::Class(id)),
            Err(e) => bad(v.span(), "class", e, report),
        }
    }
    for (key, list, any) in [("all", &t.all, false), ("any", &t.any, true)] {
        let Some(list) = list else { continue };
        if list.get_ref().is_empty() {
            bad(list.span(), key, "lists no test".to_string(), report);
            continue;
        }
        let inner: Vec<Option<Match>> = list
            .get_ref()
            .iter()
            .enumerate()
            .map(|(k, m)| compile(m, scope, &format!("{field}.{key}[{k}]"), report))
            .collect();
        match inner.into_iter().collect::<Option<Vec<Match>>>() {
            Some(v) if any => tests.push(Match::Any(v)),
            Some(v) => tests.push(Match::All(v)),
            None => ok.set(false),
        }
    }
    if let Some(n) = &t.not {
        match compile(n, scope, &format!("{field}.not"), report) {
            Some(inner) => tests.push(Match::Not(Box::new(inner))),
            None => ok.set(false),
        }
    }
    if !ok.get() {
        return None;
    }
    match tests.len() {
        0 => {
            report.at(
                m.span(),
                field,
                "an empty match matches nothing: give at least one test (vendor_class, user_class, architecture, ...), or leave `match` out for a class only reservations put clients in",
            );
            None
        }
        1 => tests.pop(),
        _ => Some(Match::All(tests)),
    }
}

/// The classes `names` stand for; a name no class holds is reported at `span`.
pub(super) fn class_set(
    names: &[String],
    server: &ServerConfig,
    span: Range<usize>,
    field: &str,
    report: &mut Report<'_>,
) -> ClassSet {
    let mut set = ClassSet::EMPTY;
    for name in names {
        match server.class_id(name) {
            Some(id) => set.insert(id),
            None => report.at(
                span.clone(),
                field,
                format!(
                    "no class {name:?}{}",
                    suggestion(
                        name,
                        server
                            .classes
                            .iter()
                            .map(|c| c.name.as_str())
                            .chain(ClassId::BUILTIN_NAMES)
                    )
                ),
            ),
        }
    }
    set
}
