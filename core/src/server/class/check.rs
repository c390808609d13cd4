//! The checks a configuration's classes must pass, and those of the class names that
//! pools and reservations use.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::model::{Boot, Match};
use super::set::{ClassId, ClassSet};
use crate::server::config::{ConfigError, ConfigPlace, ServerConfig};

/// Deepest nesting of `all` / `any` / `not` a match may have.
pub(crate) const MAX_DEPTH: usize = 16;

/// The name of class `id` in `config`, for messages.
fn name_of(config: &ServerConfig, id: ClassId) -> String {
    match id {
        ClassId::KNOWN => String::from("known"),
        ClassId::UNKNOWN => String::from("unknown"),
        ClassId::BOOTP => String::from("bootp"),
        ClassId(i) => config
            .classes
            .get(usize::from(i))
            .map_or_else(|| format!("#{i}"), |c| c.name.clone()),
    }
}

/// Every mistake in `m`, the match of class `own`: empty lists and values, values longer
/// than an option holds, classes named before they are defined.
fn check_match(config: &ServerConfig, own: usize, m: &Match, found: &mut Vec<String>) {
    let mut bytes = |what: &str, b: &[u8], max: usize| {
        if b.is_empty() {
            found.push(format!("{what} is empty: it would match nothing"));
        } else if b.len() > max {
            found.push(format!(
                "{what} is {} bytes, longer than a request can carry ({max})",
                b.len()
            ));
        }
    };
    match m {
        Match::VendorClass(b) | Match::VendorClassPrefix(b) => bytes("vendor class", b, 255),
        Match::UserClass(b) => bytes("user class", b, 255),
        Match::CircuitId(b) => bytes("circuit id", b, 255),
        Match::RemoteId(b) => bytes("remote id", b, 255),
        Match::SubscriberId(b) => bytes("subscriber id", b, 255),
        Match::MacPrefix(b) => bytes("MAC prefix", b, 16),
        Match::Class(id) if id.is_builtin() => {}
        Match::Class(id) if usize::from(id.0) == own => {
            found.push(String::from("a class cannot match on itself"))
        }
        Match::Class(id) if usize::from(id.0) > own && usize::from(id.0) < config.classes.len() => {
            found.push(format!(
                "uses class {:?}, defined after it: a class can only use the classes before it",
                name_of(config, *id)
            ))
        }
        Match::Class(id) if usize::from(id.0) >= config.classes.len() => {
            found.push(format!("uses class #{}, which is not defined", id.0))
        }
        Match::All(v) | Match::Any(v) => {
            if v.is_empty() {
                let which = if matches!(m, Match::All(_)) {
                    "all"
                } else {
                    "any"
                };
                found.push(format!("`{which}` lists no test"));
            }
            for inner in v {
                check_match(config, own, inner, found);
            }
        }
        Match::Not(inner) => check_match(config, own, inner, found),
        _ => {}
    }
}

/// Every mistake in boot settings `b`.
fn check_boot(b: &Boot, found: &mut Vec<String>) {
    for (what, value) in [("server_name", &b.server_name), ("boot_file", &b.boot_file)] {
        match value {
            Some(v) if v.is_empty() => found.push(format!("{what} is empty")),
            Some(v) if v.len() > 255 => found.push(format!(
                "{what} is {} bytes; an option holds at most 255",
                v.len()
            )),
            Some(v) if v.bytes().any(|c| c == 0) => found.push(format!("{what} holds a NUL byte")),
            _ => {}
        }
    }
}

/// Every mistake in the classes of `config`, and in the classes its pools and
/// reservations name.
pub(crate) fn check_classes(config: &ServerConfig, errors: &mut Vec<ConfigError>) {
    if config.classes.len() > ClassId::MAX_CONFIGURED {
        errors.push(ConfigError {
            place: ConfigPlace::Class {
                class: ClassId::MAX_CONFIGURED,
            },
            at: String::from("classes"),
            what: format!(
                "{} classes; at most {} can be defined",
                config.classes.len(),
                ClassId::MAX_CONFIGURED
            ),
        });
        return;
    }
    for (i, c) in config.classes.iter().enumerate() {
        let mut found = Vec::new();
        if c.name.trim().is_empty() {
            found.push(String::from("has no name"));
        } else if ClassId::builtin(&c.name).is_some() {
            found.push(format!("{:?} is a built-in class's name", c.name));
        } else if config.classes[..i].iter().any(|o| o.name == c.name) {
            found.push(String::from("is defined twice"));
        }
        if let Some(m) = &c.matches {
            check_match(config, i, m, &mut found);
            if m.depth() > MAX_DEPTH {
                found.push(format!(
                    "its match nests {} deep; at most {MAX_DEPTH}",
                    m.depth()
                ));
            }
        }
        check_boot(&c.boot, &mut found);
        for m in crate::server::config::check_times(&c.lease) {
            found.push(m.what);
        }
        for what in found {
            errors.push(ConfigError {
                place: ConfigPlace::Class { class: i },
                at: format!("class {:?}", c.name),
                what,
            });
        }
    }
    let defined = |set: &ClassSet| {
        set.iter()
            .find(|id| !id.is_builtin() && usize::from(id.0) >= config.classes.len())
    };
    let mut boot_errors = Vec::new();
    check_boot(&config.boot, &mut boot_errors);
    for what in boot_errors {
        errors.push(ConfigError {
            place: ConfigPlace::Boot,
            at: String::from("boot"),
            what,
        });
    }
    for (s, subnet) in config.subnets.iter().enumerate() {
        let mut boot_errors = Vec::new();
        check_boot(&subnet.boot, &mut boot_errors);
        for what in boot_errors {
            errors.push(ConfigError {
                place: ConfigPlace::Subnet { subnet: s },
                at: format!("subnet {}", subnet.subnet),
                what,
            });
        }
        for (p, pool) in subnet.pools.iter().enumerate() {
            for set in [&pool.classes.allow, &pool.classes.deny] {
                if let Some(id) = defined(set) {
                    errors.push(ConfigError {
                        place: ConfigPlace::Pool { subnet: s, pool: p },
                        at: format!("subnet {} pool {p}", subnet.subnet),
                        what: format!("class #{} is not defined", id.0),
                    });
                }
            }
        }
        for (r, res) in subnet.reservations.iter().enumerate() {
            let mut found = Vec::new();
            if let Some(id) = defined(&res.classes) {
                found.push(format!("class #{} is not defined", id.0));
            }
            if res.classes.iter().any(ClassId::is_builtin) {
                found.push(String::from(
                    "known, unknown and bootp are set by the server, not by a reservation",
                ));
            }
            check_boot(&res.boot, &mut found);
            for what in found {
                errors.push(ConfigError {
                    place: ConfigPlace::Reservation {
                        subnet: s,
                        reservation: r,
                    },
                    at: format!("subnet {} reservation {}", subnet.subnet, res.key),
                    what,
                });
            }
        }
    }
}
