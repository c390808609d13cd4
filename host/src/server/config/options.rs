//! The option tables (`[options]`, `[subnet.options]`, `[subnet.reservation.options]`)
//! into the core's `OptionSet`, each value checked where it is written; and the warning for
//! routers sent beside classless routes without a default route.

use std::net::Ipv4Addr;
use std::ops::Range;

use dhcp_core::server::OptionSet;
use dhcp_core::wire::typed::Route;
use toml::Spanned;

use super::file::{Options, RouteFile};
use super::report::Report;

pub(super) fn options(
    o: &Option<Spanned<Options>>,
    field: &str,
    report: &mut Report<'_>,
) -> OptionSet {
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
    check::<str, _>(
        report,
        field,
        "vendor_class",
        o.vendor_class.as_ref(),
        |v| set.raw(60, v.as_bytes()).map(drop),
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
