//! The server's configuration model: plain data, checked as a whole by
//! [`ServerConfig::validate`], which reports every mistake it finds.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;
use core::time::Duration;

use super::class::{Boot, ClassConfig, ClassId, ClassSet, PoolClasses};
use super::options::OptionSet;

/// An IPv4 network: address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Net {
    /// The network address (bits past the prefix zero).
    pub address: Ipv4Addr,
    /// Prefix length, 0..=32.
    pub prefix_len: u8,
}

impl Ipv4Net {
    /// The network `address/prefix_len`.
    pub const fn new(address: Ipv4Addr, prefix_len: u8) -> Self {
        Ipv4Net {
            address,
            prefix_len,
        }
    }

    /// The netmask as a number.
    pub fn mask_bits(&self) -> u32 {
        crate::wire::typed::route::mask(self.prefix_len)
    }

    /// The netmask.
    pub fn mask(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.mask_bits())
    }

    /// First address (the network address).
    pub fn first(&self) -> u32 {
        u32::from(self.address) & self.mask_bits()
    }

    /// Last address (the broadcast address).
    pub fn last(&self) -> u32 {
        self.first() | !self.mask_bits()
    }

    /// The broadcast address.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.last())
    }

    /// Whether `a` is inside the network.
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        u32::from(a) & self.mask_bits() == self.first()
    }

    /// Whether `a` is a host address: inside, and neither network nor broadcast address
    /// (for prefixes shorter than 31).
    pub fn is_host(&self, a: Ipv4Addr) -> bool {
        let v = u32::from(a);
        self.contains(a) && (self.prefix_len >= 31 || (v != self.first() && v != self.last()))
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

/// A range of addresses a server may hand out, both ends included, and which clients may
/// take them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolRange {
    /// First address.
    pub start: Ipv4Addr,
    /// Last address.
    pub end: Ipv4Addr,
    /// The classes the pool is open or closed to ([`PoolClasses::OPEN`]: every client).
    pub classes: PoolClasses,
}

impl PoolRange {
    /// The range `start..=end`, open to every client.
    pub const fn new(start: Ipv4Addr, end: Ipv4Addr) -> Self {
        PoolRange {
            start,
            end,
            classes: PoolClasses::OPEN,
        }
    }
}

/// What identifies a reserved client.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReservationKey {
    /// The hardware address (`chaddr`).
    HardwareAddress(Vec<u8>),
    /// The whole client identifier (61), type byte included.
    ClientId(Vec<u8>),
    /// The relay agent's circuit id (82, sub-option 1).
    CircuitId(Vec<u8>),
    /// The relay agent's remote id (82, sub-option 2).
    RemoteId(Vec<u8>),
    /// The client machine identifier (97, RFC 4578: a type byte, 0, and a 16-byte UUID)
    /// a PXE client sends: the machine, whichever of its network cards boots.
    MachineId(Vec<u8>),
}

impl fmt::Display for ReservationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, bytes) = match self {
            ReservationKey::HardwareAddress(b) => ("hardware address", b),
            ReservationKey::ClientId(b) => ("client id", b),
            ReservationKey::CircuitId(b) => ("circuit id", b),
            ReservationKey::RemoteId(b) => ("remote id", b),
            ReservationKey::MachineId(b) => ("machine id", b),
        };
        f.write_str(kind)?;
        f.write_str(" ")?;
        for (i, b) in bytes.iter().enumerate() {
            write!(f, "{}{b:02x}", if i > 0 { ":" } else { "" })?;
        }
        Ok(())
    }
}

/// A fixed address for one client, with a host name and options of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// Who.
    pub key: ReservationKey,
    /// The address; inside the subnet, and may be inside or outside its pools.
    pub address: Ipv4Addr,
    /// Host name (12) to give the client.
    pub host_name: Option<String>,
    /// Options over the subnet's and its classes'.
    pub options: OptionSet,
    /// Classes the client is put in, whatever it sends.
    pub classes: ClassSet,
    /// Boot settings over its classes' and the subnet's.
    pub boot: Boot,
}

impl Reservation {
    /// `address` for the client `key`, with nothing else set.
    pub fn new(key: ReservationKey, address: Ipv4Addr) -> Self {
        Reservation {
            key,
            address,
            host_name: None,
            options: OptionSet::new(),
            classes: ClassSet::EMPTY,
            boot: Boot::default(),
        }
    }
}

/// Lease times, each optional in a subnet (then inherited from the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LeaseTimes {
    /// Lease time given when the client asks for none (seconds).
    pub default: Option<u32>,
    /// Shortest lease a client may ask for.
    pub min: Option<u32>,
    /// Longest lease a client may ask for.
    pub max: Option<u32>,
    /// T1 (58); default half the lease.
    pub renewal: Option<u32>,
    /// T2 (59); default 7/8 of the lease.
    pub rebinding: Option<u32>,
}

impl LeaseTimes {
    /// `self`, with what it leaves unset taken from `base`.
    pub fn over(&self, base: &LeaseTimes) -> LeaseTimes {
        LeaseTimes {
            default: self.default.or(base.default),
            min: self.min.or(base.min),
            max: self.max.or(base.max),
            renewal: self.renewal.or(base.renewal),
            rebinding: self.rebinding.or(base.rebinding),
        }
    }
}

/// One subnet the server serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetConfig {
    /// The subnet.
    pub subnet: Ipv4Net,
    /// Address ranges to hand out.
    pub pools: Vec<PoolRange>,
    /// The server identifier (54) on this subnet; default the server-wide one, else the
    /// address of the interface the request came in on.
    pub server_id: Option<Ipv4Addr>,
    /// Options over the server-wide ones. The subnet mask (1) is always sent.
    pub options: OptionSet,
    /// Lease times over the server-wide ones.
    pub lease: LeaseTimes,
    /// Reservations.
    pub reservations: Vec<Reservation>,
    /// Over the server-wide flag.
    pub authoritative: Option<bool>,
    /// Over the server-wide flag.
    pub rapid_commit: Option<bool>,
    /// Boot settings over the server-wide ones.
    pub boot: Boot,
    /// Over the server-wide flag.
    pub dynamic_bootp: Option<bool>,
    /// The shared network it belongs to: subnets with the same name are on one link (one
    /// interface, or one relay), and a client on it is served from any of them, the one
    /// holding its address or reservation, else the first with a free address for it.
    pub shared_network: Option<String>,
}

impl SubnetConfig {
    /// A subnet with no pools, options or reservations yet.
    pub fn new(subnet: Ipv4Net) -> Self {
        SubnetConfig {
            subnet,
            pools: Vec::new(),
            server_id: None,
            options: OptionSet::new(),
            lease: LeaseTimes::default(),
            reservations: Vec::new(),
            authoritative: None,
            rapid_commit: None,
            boot: Boot::default(),
            dynamic_bootp: None,
            shared_network: None,
        }
    }
}

/// Everything a [`Server`](super::Server) serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The subnets.
    pub subnets: Vec<SubnetConfig>,
    /// Server identifier (54) for subnets that set none.
    pub server_id: Option<Ipv4Addr>,
    /// Options every subnet inherits.
    pub options: OptionSet,
    /// Lease times every subnet inherits (defaults: 3600, 60, 86400).
    pub lease: LeaseTimes,
    /// How long an OFFER holds its address for the client.
    pub offer_hold: Duration,
    /// How long a DECLINEd address stays out of use.
    pub decline_probation: Duration,
    /// NAK requests for addresses this server does not know (else stay silent).
    pub authoritative: bool,
    /// Answer a DISCOVER with rapid commit (80) by an ACK (RFC 4039).
    pub rapid_commit: bool,
    /// Most offers held at once; past it, DISCOVERs from clients that hold nothing and
    /// have no reservation are dropped (a starvation flood fills this, not the memory).
    /// A client holds at most one offer whatever.
    pub max_offers: usize,
    /// Most requests a second taken from one client (by client id, else hardware
    /// address); the excess is dropped and counted. `None`: no limit.
    pub rate_limit: Option<u32>,
    /// Client classes, in order of precedence: where two classes of a client set the same
    /// option, boot setting or lease time, the earlier one's wins.
    pub classes: Vec<ClassConfig>,
    /// Boot settings every subnet inherits.
    pub boot: Boot,
    /// Check that a free address is not in use before offering it (dnsmasq and ISC dhcpd
    /// ping it): the OFFER is held while the host probes the address
    /// ([`Server::poll_probe`](super::Server::poll_probe)); an address that answers is set
    /// aside like a declined one and the client is offered another.
    pub conflict_check: bool,
    /// Answer BOOTP clients (RFC 951, RFC 1534) without a reservation too, with an address
    /// from a pool open to them (class `bootp`) for good (an infinite lease). BOOTP
    /// clients with a reservation are answered whatever this says.
    pub dynamic_bootp: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            subnets: Vec::new(),
            server_id: None,
            options: OptionSet::new(),
            lease: LeaseTimes {
                default: Some(3600),
                min: Some(60),
                max: Some(86_400),
                renewal: None,
                rebinding: None,
            },
            offer_hold: Duration::from_secs(60),
            decline_probation: Duration::from_secs(86_400),
            authoritative: false,
            rapid_commit: false,
            max_offers: 65_536,
            rate_limit: None,
            classes: Vec::new(),
            boot: Boot::default(),
            dynamic_bootp: false,
            conflict_check: false,
        }
    }
}

/// One of the [`LeaseTimes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseField {
    /// The lease time given when the client asks for none ([`LeaseTimes::default`]).
    Time,
    /// [`LeaseTimes::min`].
    Min,
    /// [`LeaseTimes::max`].
    Max,
    /// T1 ([`LeaseTimes::renewal`]).
    Renewal,
    /// T2 ([`LeaseTimes::rebinding`]).
    Rebinding,
}

impl LeaseField {
    /// The field's value in `t`.
    pub fn of(self, t: &LeaseTimes) -> Option<u32> {
        match self {
            LeaseField::Time => t.default,
            LeaseField::Min => t.min,
            LeaseField::Max => t.max,
            LeaseField::Renewal => t.renewal,
            LeaseField::Rebinding => t.rebinding,
        }
    }
}

/// Where in a [`ServerConfig`] a mistake is, by the indices of what holds it, so that a
/// caller that built the configuration from a file can point at the line without reading
/// the error's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigPlace {
    /// A server-wide lease time ([`ServerConfig::lease`]).
    Lease(LeaseField),
    /// Subnet `subnet` (an index into [`ServerConfig::subnets`]) as a whole.
    Subnet {
        /// Index of the subnet.
        subnet: usize,
    },
    /// One of the subnet's own lease times ([`SubnetConfig::lease`]).
    SubnetLease {
        /// Index of the subnet.
        subnet: usize,
        /// The lease time at fault.
        field: LeaseField,
    },
    /// A pool of a subnet ([`SubnetConfig::pools`]).
    Pool {
        /// Index of the subnet.
        subnet: usize,
        /// Index of the pool in the subnet.
        pool: usize,
    },
    /// A reservation of a subnet ([`SubnetConfig::reservations`]).
    Reservation {
        /// Index of the subnet.
        subnet: usize,
        /// Index of the reservation in the subnet.
        reservation: usize,
    },
    /// A reservation added at run time ([`Server::add_reservation`](super::Server::add_reservation)).
    NewReservation,
    /// A class ([`ServerConfig::classes`]), by index.
    Class {
        /// Index of the class.
        class: usize,
    },
    /// The server-wide boot settings ([`ServerConfig::boot`]).
    Boot,
}

/// One mistake in a configuration: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where, as a typed position.
    pub place: ConfigPlace,
    /// Where, in words: `lease`, `subnet 192.0.2.0/24`, `subnet 192.0.2.0/24 pool 1
    /// (192.0.2.10-192.0.2.20)`, `subnet 192.0.2.0/24 reservation hardware address ...`.
    pub at: String,
    /// What is wrong.
    pub what: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.what)
    }
}

impl core::error::Error for ConfigError {}

/// A mistake among lease times: the field at fault, the other field it is measured
/// against (if any), and what is wrong.
pub(crate) struct TimesMistake {
    field: LeaseField,
    against: Option<LeaseField>,
    pub(crate) what: String,
}

/// Every mistake among lease times `t`: bounds out of order, a default outside them, T1
/// and T2 not below the lease time and each other (RFC 2131 section 4.4.5: T1 < T2 <
/// lease), counting the defaults T2 = 7/8 of the lease where T2 is not set.
pub(crate) fn check_times(t: &LeaseTimes) -> Vec<TimesMistake> {
    use LeaseField::*;
    let mut found = Vec::new();
    let mut err = |field, against, what: String| {
        found.push(TimesMistake {
            field,
            against,
            what,
        })
    };
    if let (Some(min), Some(max)) = (t.min, t.max) {
        if min > max {
            err(
                Min,
                Some(Max),
                format!("min lease time {min} s is above max lease time {max} s"),
            );
        }
    }
    if let Some(d) = t.default {
        if d == 0 {
            err(Time, None, String::from("lease time must be at least 1 s"));
        }
        if let Some(m) = t.min.filter(|&m| d < m) {
            err(
                Time,
                Some(Min),
                format!("lease time {d} s is below the min lease time {m} s"),
            );
        }
        if let Some(m) = t.max.filter(|&m| d > m) {
            err(
                Time,
                Some(Max),
                format!("lease time {d} s is above the max lease time {m} s"),
            );
        }
        if let Some(t2) = t.rebinding.filter(|&t2| t2 >= d) {
            err(
                Rebinding,
                Some(Time),
                format!("T2 {t2} s must be below the lease time {d} s"),
            );
        }
        match (t.renewal, t.rebinding) {
            (Some(t1), _) if t1 >= d => err(
                Renewal,
                Some(Time),
                format!("T1 {t1} s must be below the lease time {d} s"),
            ),
            (Some(t1), None) if d != u32::MAX && u64::from(t1) >= u64::from(d) * 7 / 8 => err(
                Renewal,
                Some(Time),
                format!(
                    "T1 {t1} s must be below T2, which is 7/8 of the lease time {d} s ({} s) when not set",
                    u64::from(d) * 7 / 8
                ),
            ),
            _ => {}
        }
    }
    if let (Some(t1), Some(t2)) = (t.renewal, t.rebinding) {
        if t1 >= t2 {
            err(
                Renewal,
                Some(Rebinding),
                format!("T1 {t1} s must be below T2 {t2} s"),
            );
        }
    }
    found
}

/// The mistakes of subnet `i`'s lease times over the server's (`server_times`: the
/// server's own mistakes, reported once, not again per subnet), each with whether it is
/// fatal. A mistake is the subnet's when a field it involves is set there. One whose T1 or
/// T2 is inherited from the server and only clashes with the subnet's own times is not
/// fatal: the subnet then sends that time's default (1/2 and 7/8 of its lease), as it
/// would for a lease time a client asked for.
fn subnet_times(
    i: usize,
    s: &SubnetConfig,
    server: &LeaseTimes,
    server_times: &[TimesMistake],
) -> Vec<(ConfigError, bool)> {
    let at = format!("subnet {} lease", s.subnet);
    let mut found = Vec::new();
    for m in check_times(&s.lease.over(server)) {
        let set_here = |f: LeaseField| f.of(&s.lease).is_some();
        let own = [Some(m.field), m.against]
            .into_iter()
            .flatten()
            .find(|&f| set_here(f));
        let inherited_timer =
            matches!(m.field, LeaseField::Renewal | LeaseField::Rebinding) && !set_here(m.field);
        let (place, fatal, what) =
            match own {
                Some(field) if inherited_timer => (
                    ConfigPlace::SubnetLease { subnet: i, field },
                    false,
                    format!(
                    "{} ({} from the server-wide [lease]); this subnet sends its default instead",
                    m.what,
                    if m.field == LeaseField::Renewal { "T1" } else { "T2" }
                ),
                ),
                Some(field) => (ConfigPlace::SubnetLease { subnet: i, field }, true, m.what),
                None if server_times.iter().any(|o| o.what == m.what) => continue,
                None => (ConfigPlace::Lease(m.field), true, m.what),
            };
        found.push((
            ConfigError {
                place,
                at: at.clone(),
                what,
            },
            fatal,
        ));
    }
    found
}

impl ServerConfig {
    /// The class called `name`: a configured one, or the built-in `known` / `unknown`.
    pub fn class_id(&self, name: &str) -> Option<ClassId> {
        ClassId::builtin(name).or_else(|| {
            self.classes
                .iter()
                .take(ClassId::MAX_CONFIGURED)
                .position(|c| c.name == name)
                .map(|i| ClassId(i as u8))
        })
    }

    /// What [`validate`](Self::validate) accepts but is likely not what was meant: a T1 or
    /// T2 inherited from the server-wide times that is not below a subnet's own lease time
    /// (or T2), so the subnet sends the default for it instead.
    pub fn warnings(&self) -> Vec<ConfigError> {
        let server_times = check_times(&self.lease);
        self.subnets
            .iter()
            .enumerate()
            .flat_map(|(i, s)| subnet_times(i, s, &self.lease, &server_times))
            .filter(|(_, fatal)| !fatal)
            .map(|(w, _)| w)
            .collect()
    }

    /// Checks the whole configuration and returns every mistake found: subnets that are
    /// not network addresses or overlap, pools reversed, outside their subnet or
    /// overlapping, reservations outside their subnet or twice the same client or address,
    /// lease times out of order, classes that match nothing or name classes after them, class
    /// names no class holds. Never panics.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        let server_times = check_times(&self.lease);
        for m in &server_times {
            errors.push(ConfigError {
                place: ConfigPlace::Lease(m.field),
                at: String::from("lease"),
                what: m.what.clone(),
            });
        }
        let mut pools: Vec<(u32, u32, String)> = Vec::new();
        for (i, s) in self.subnets.iter().enumerate() {
            let net = s.subnet;
            let at = format!("subnet {net}");
            let mut err = |place: ConfigPlace, at: &str, what: String| {
                errors.push(ConfigError {
                    place,
                    at: String::from(at),
                    what,
                })
            };
            let whole = ConfigPlace::Subnet { subnet: i };
            if net.prefix_len > 32 {
                err(
                    whole,
                    &at,
                    format!("prefix length {} is over 32", net.prefix_len),
                );
                continue;
            }
            if u32::from(net.address) != net.first() {
                err(
                    whole,
                    &at,
                    format!(
                        "{} is not the network address of /{} (that is {})",
                        net.address,
                        net.prefix_len,
                        Ipv4Addr::from(net.first())
                    ),
                );
            }
            for other in &self.subnets[..i] {
                let o = other.subnet;
                if o.prefix_len <= 32 && net.first() <= o.last() && o.first() <= net.last() {
                    err(whole, &at, format!("overlaps subnet {o}"));
                }
            }
            if s.pools.is_empty() && s.reservations.is_empty() {
                err(
                    whole,
                    &at,
                    String::from("has neither pools nor reservations"),
                );
            }
            for (p, pool) in s.pools.iter().enumerate() {
                let pat = format!("{at} pool {p} ({}-{})", pool.start, pool.end);
                let place = ConfigPlace::Pool { subnet: i, pool: p };
                let (a, b) = (u32::from(pool.start), u32::from(pool.end));
                if a > b {
                    err(place, &pat, String::from("start is after end"));
                    continue;
                }
                if !net.contains(pool.start) || !net.contains(pool.end) {
                    err(place, &pat, format!("is not inside {net}"));
                    continue;
                }
                if !net.is_host(pool.start) || !net.is_host(pool.end) {
                    err(
                        place,
                        &pat,
                        String::from("includes the network or broadcast address"),
                    );
                }
                for (x, y, name) in &pools {
                    if a <= *y && *x <= b {
                        err(place, &pat, format!("overlaps {name}"));
                    }
                }
                pools.push((a, b, pat));
            }
            let mut seen_keys: Vec<&ReservationKey> = Vec::new();
            let mut seen_addrs: Vec<Ipv4Addr> = Vec::new();
            for (k, r) in s.reservations.iter().enumerate() {
                let rat = format!("{at} reservation {}", r.key);
                let place = ConfigPlace::Reservation {
                    subnet: i,
                    reservation: k,
                };
                if !net.is_host(r.address) {
                    let inside = self.subnets.iter().find(|o| o.subnet.contains(r.address));
                    let what = match inside {
                        Some(o) if o.subnet != net => format!(
                            "address {} is inside another subnet, {}",
                            r.address, o.subnet
                        ),
                        _ => format!("address {} is not a host address of {net}", r.address),
                    };
                    err(place, &rat, what);
                }
                if seen_keys.contains(&&r.key) {
                    err(
                        place,
                        &rat,
                        String::from("the same client is reserved twice"),
                    );
                }
                if seen_addrs.contains(&r.address) {
                    err(
                        place,
                        &rat,
                        format!("address {} is reserved twice", r.address),
                    );
                }
                seen_keys.push(&r.key);
                seen_addrs.push(r.address);
            }
            for (mistake, fatal) in subnet_times(i, s, &self.lease, &server_times) {
                if fatal {
                    errors.push(mistake);
                }
            }
        }
        super::class::check::check_classes(self, &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}
