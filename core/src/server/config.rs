//! The server's configuration model: plain data, checked as a whole by
//! [`ServerConfig::validate`], which reports every mistake it finds.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;
use core::time::Duration;

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

/// A range of addresses a server may hand out, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolRange {
    /// First address.
    pub start: Ipv4Addr,
    /// Last address.
    pub end: Ipv4Addr,
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
}

impl fmt::Display for ReservationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, bytes) = match self {
            ReservationKey::HardwareAddress(b) => ("hardware address", b),
            ReservationKey::ClientId(b) => ("client id", b),
            ReservationKey::CircuitId(b) => ("circuit id", b),
            ReservationKey::RemoteId(b) => ("remote id", b),
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
    /// Options over the subnet's.
    pub options: OptionSet,
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
        }
    }
}

/// One mistake in a configuration: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where: `subnet 192.0.2.0/24`, `subnet 192.0.2.0/24 pool 1`, ...
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

fn check_times(at: &str, t: &LeaseTimes, errors: &mut Vec<ConfigError>) {
    let mut err = |what: String| {
        errors.push(ConfigError {
            at: String::from(at),
            what,
        })
    };
    if let (Some(min), Some(max)) = (t.min, t.max) {
        if min > max {
            err(format!(
                "min lease time {min} s is above max lease time {max} s"
            ));
        }
    }
    if let Some(d) = t.default {
        if d == 0 {
            err(String::from("lease time must be at least 1 s"));
        }
        if t.min.is_some_and(|m| d < m) || t.max.is_some_and(|m| d > m) {
            err(format!("lease time {d} s is outside the min/max bounds"));
        }
        if let Some(t2) = t.rebinding {
            if t2 >= d {
                err(format!("T2 {t2} s must be below the lease time {d} s"));
            }
        }
    }
    if let (Some(t1), Some(t2)) = (t.renewal, t.rebinding) {
        if t1 >= t2 {
            err(format!("T1 {t1} s must be below T2 {t2} s"));
        }
    }
}

impl ServerConfig {
    /// Checks the whole configuration and returns every mistake found: subnets that are
    /// not network addresses or overlap, pools reversed, outside their subnet or
    /// overlapping, reservations outside their subnet or twice the same client or address,
    /// lease times out of order. Never panics.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        check_times("server", &self.lease, &mut errors);
        let mut pools: Vec<(u32, u32, String)> = Vec::new();
        for (i, s) in self.subnets.iter().enumerate() {
            let net = s.subnet;
            let at = format!("subnet {net}");
            let mut err = |at: &str, what: String| {
                errors.push(ConfigError {
                    at: String::from(at),
                    what,
                })
            };
            if net.prefix_len > 32 {
                err(&at, format!("prefix length {} is over 32", net.prefix_len));
                continue;
            }
            if u32::from(net.address) != net.first() {
                err(
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
                    err(&at, format!("overlaps subnet {o}"));
                }
            }
            if s.pools.is_empty() && s.reservations.is_empty() {
                err(&at, String::from("has neither pools nor reservations"));
            }
            for (p, pool) in s.pools.iter().enumerate() {
                let pat = format!("{at} pool {p} ({}-{})", pool.start, pool.end);
                let (a, b) = (u32::from(pool.start), u32::from(pool.end));
                if a > b {
                    err(&pat, String::from("start is after end"));
                    continue;
                }
                if !net.contains(pool.start) || !net.contains(pool.end) {
                    err(&pat, format!("is not inside {net}"));
                    continue;
                }
                if !net.is_host(pool.start) || !net.is_host(pool.end) {
                    err(
                        &pat,
                        String::from("includes the network or broadcast address"),
                    );
                }
                for (x, y, name) in &pools {
                    if a <= *y && *x <= b {
                        err(&pat, format!("overlaps {name}"));
                    }
                }
                pools.push((a, b, pat));
            }
            let mut seen_keys: Vec<&ReservationKey> = Vec::new();
            let mut seen_addrs: Vec<Ipv4Addr> = Vec::new();
            for r in &s.reservations {
                let rat = format!("{at} reservation {}", r.key);
                if !net.is_host(r.address) {
                    let inside = self.subnets.iter().find(|o| o.subnet.contains(r.address));
                    let what = match inside {
                        Some(o) if o.subnet != net => format!(
                            "address {} is inside another subnet, {}",
                            r.address, o.subnet
                        ),
                        _ => format!("address {} is not a host address of {net}", r.address),
                    };
                    err(&rat, what);
                }
                if seen_keys.contains(&&r.key) {
                    err(&rat, String::from("the same client is reserved twice"));
                }
                if seen_addrs.contains(&r.address) {
                    err(&rat, format!("address {} is reserved twice", r.address));
                }
                seen_keys.push(&r.key);
                seen_addrs.push(r.address);
            }
            check_times(&at, &s.lease.over(&self.lease), &mut errors);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}
