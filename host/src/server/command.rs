//! Control socket requests, parsed once into a typed [`Command`], and carried out on the
//! server ([`crate::ops::control`] reads and answers the socket).

use std::net::Ipv4Addr;

use dhcp_core::server::{Reservation, ReservationKey};
use serde_json::{json, Value};

use super::Server;
use crate::clock::unix_now;
use crate::ops::control::error;
use crate::runtime::Runtime;

/// What a control request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Command {
    /// Every bound lease.
    Leases,
    /// The lease on an address.
    Lease(Ipv4Addr),
    /// Delete the lease (or offer) on an address.
    DeleteLease(Ipv4Addr),
    /// Delete the DHCPv6 binding of an address or delegated prefix.
    DeleteLease6(std::net::Ipv6Addr),
    /// Every reservation.
    Reservations,
    /// Add a reservation until the server stops.
    AddReservation(Reservation),
    /// Remove the reservation of an address.
    RemoveReservation(Ipv4Addr),
    /// Read the config file again and apply it.
    Reload,
    /// Leases, offers held and the counters.
    Stats,
}

impl Command {
    /// The command `request` names (`{"command": "...", "address": ..., ...}`), or what is
    /// wrong with it.
    pub(super) fn parse(request: &Value) -> Result<Command, String> {
        let text = |k: &str| request.get(k).and_then(Value::as_str).map(str::to_string);
        let command = text("command").unwrap_or_default();
        let address = text("address").and_then(|a| a.parse::<Ipv4Addr>().ok());
        let address = || address.ok_or("`address` is missing or not an IPv4 address".to_string());
        Ok(match command.as_str() {
            "leases" => Command::Leases,
            "lease" => Command::Lease(address()?),
            "delete-lease" => match text("address").and_then(|a| a.parse().ok()) {
                Some(a6) => Command::DeleteLease6(a6),
                None => Command::DeleteLease(address()?),
            },
            "reservations" => Command::Reservations,
            "add-reservation" => {
                let address = address()?;
                let key = match (text("mac"), text("client_id")) {
                    (Some(m), None) => m
                        .parse::<crate::MacAddress>()
                        .map(|m| ReservationKey::HardwareAddress(m.as_bytes().to_vec()))
                        .map_err(|e| e.to_string())?,
                    (None, Some(id)) => {
                        crate::server::config::parse_hex(&id).map(ReservationKey::ClientId)?
                    }
                    _ => return Err("give exactly one of `mac` or `client_id`".to_string()),
                };
                Command::AddReservation(Reservation {
                    key,
                    address,
                    host_name: text("host_name"),
                    options: Default::default(),
                    classes: Default::default(),
                    boot: Default::default(),
                })
            }
            "remove-reservation" => Command::RemoveReservation(address()?),
            "reload" => Command::Reload,
            "stats" => Command::Stats,
            other => {
                return Err(format!(
                    "unknown command {other:?}; the commands are leases, lease, delete-lease, \
                     reservations, add-reservation, remove-reservation, reload, stats"
                ))
            }
        })
    }
}

impl<R: Runtime> Server<R> {
    /// Carries out `command` and returns the answer (`{"ok": true, ...}` or an error).
    pub(super) fn command(&mut self, command: Command) -> Value {
        match command {
            Command::Leases => match &self.v6 {
                Some(v) => json!({
                    "ok": true,
                    "leases": self.lease_list(None),
                    "leases6": lease6_list(&v.machine),
                }),
                None => json!({ "ok": true, "leases": self.lease_list(None) }),
            },
            Command::Lease(a) => match self.lease_list(Some(a)).pop() {
                Some(l) => json!({ "ok": true, "lease": l }),
                None => error(format!("no lease on {a}")),
            },
            Command::DeleteLease(a) => {
                if self.machine.delete_lease(a) {
                    tracing::info!("control: lease on {a} deleted");
                    json!({ "ok": true })
                } else {
                    error(format!("no lease on {a}"))
                }
            }
            Command::DeleteLease6(a) => {
                let deleted = self.v6.as_mut().is_some_and(|v| v.machine.delete_lease(a));
                if deleted {
                    tracing::info!("control: DHCPv6 binding of {a} deleted");
                    json!({ "ok": true })
                } else {
                    error(format!("no DHCPv6 binding of {a}"))
                }
            }
            Command::Reservations => {
                let list: Vec<Value> = self
                    .machine
                    .reservations()
                    .map(|(net, r)| {
                        json!({
                            "subnet": net.to_string(),
                            "address": r.address.to_string(),
                            "key": r.key.to_string(),
                            "host_name": r.host_name,
                        })
                    })
                    .collect();
                json!({ "ok": true, "reservations": list })
            }
            Command::AddReservation(r) => {
                let a = r.address;
                match self.machine.add_reservation(r) {
                    Ok(()) => {
                        tracing::info!("control: reservation of {a} added");
                        json!({ "ok": true })
                    }
                    Err(e) => error(e),
                }
            }
            Command::RemoveReservation(a) => {
                if self.machine.remove_reservation(a) {
                    tracing::info!("control: reservation of {a} removed");
                    json!({ "ok": true })
                } else {
                    error(format!("no reservation of {a}"))
                }
            }
            Command::Reload => match self.reload() {
                Ok(m) => {
                    tracing::info!("control: {m}");
                    json!({ "ok": true, "message": m })
                }
                Err(e) => {
                    tracing::error!("control: reload refused, still serving the old config:\n{e}");
                    error(e)
                }
            },
            Command::Stats => json!({
                "ok": true,
                "leases": self.machine.lease_count(),
                "offers_held": self.machine.offers_held(),
                "counters": self.machine.stats().to_string(),
            }),
        }
    }

    /// The bound leases (or the one on `only`) as JSON objects, like `dhcp leases --json`.
    fn lease_list(&self, only: Option<Ipv4Addr>) -> Vec<Value> {
        let now = std::time::Instant::now();
        let unix = unix_now();
        self.machine
            .leases()
            .filter(|l| only.is_none_or(|o| o == l.address))
            .map(|l| {
                let (a, client, until) = (l.address, l.client, l.expires);
                let left = (until != dhcp_core::time::Instant::MAX).then(|| {
                    self.clock
                        .std(until)
                        .saturating_duration_since(now)
                        .as_secs()
                });
                json!({
                    "address": a.to_string(),
                    "state": "bound",
                    "client": client.to_string(),
                    "host_name": null,
                    "expires": left.map(|l| unix + l),
                    "expires_in": left,
                })
            })
            .collect()
    }
}

/// The DHCPv6 machine's bound addresses and prefixes, for `leases`.
fn lease6_list(machine: &dhcp_core::v6::server::Server6) -> Vec<Value> {
    use dhcp_core::v6::server::IaKind;
    let now = crate::clock::unix_now();
    machine
        .leases()
        .map(|l| {
            let key = l.client.as_bytes();
            json!({
                "address": format!("{}/{}", l.address, l.prefix_len),
                "ia": if l.ia == IaKind::Prefix { "pd" } else { "na" },
                "iaid": key.get(1..5).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                "duid": crate::client::hex(key.get(5..).unwrap_or(&[])),
                "expires": l.expires,
                "expires_in": l.expires.saturating_sub(now),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_into_commands_or_say_what_is_wrong() {
        let parse = |v: Value| Command::parse(&v);
        assert_eq!(parse(json!({"command": "leases"})), Ok(Command::Leases));
        assert_eq!(
            parse(json!({"command": "lease", "address": "192.0.2.7"})),
            Ok(Command::Lease(Ipv4Addr::new(192, 0, 2, 7)))
        );
        assert_eq!(
            parse(json!({"command": "delete-lease", "address": "2001:db8:1::100"})),
            Ok(Command::DeleteLease6("2001:db8:1::100".parse().unwrap()))
        );
        assert_eq!(
            parse(json!({"command": "delete-lease", "address": "nope"})),
            Err("`address` is missing or not an IPv4 address".to_string())
        );
        let add = parse(json!({"command": "add-reservation", "address": "192.0.2.9",
                               "mac": "02:00:00:00:00:09", "host_name": "cam"}));
        let Ok(Command::AddReservation(r)) = add else {
            panic!("{add:?}")
        };
        assert_eq!(
            r.key,
            ReservationKey::HardwareAddress(vec![2, 0, 0, 0, 0, 9])
        );
        assert_eq!(r.host_name.as_deref(), Some("cam"));
        assert_eq!(
            parse(json!({"command": "add-reservation", "address": "192.0.2.9"})),
            Err("give exactly one of `mac` or `client_id`".to_string())
        );
        assert!(parse(json!({"command": "frobnicate"}))
            .unwrap_err()
            .starts_with("unknown command \"frobnicate\""));
    }
}
