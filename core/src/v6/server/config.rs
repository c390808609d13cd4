//! The DHCPv6 server's configuration model ([`Server6Config`]) and its check
//! ([`Server6Config::validate`]), which names every mistake with its place.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv6Addr;

use super::class::{Class6Config, MAX_CLASSES6};
use super::options::Options6;

/// An IPv6 prefix: `address/prefix_len`, bits past the prefix zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv6Net {
    /// The prefix's first address.
    pub address: Ipv6Addr,
    /// Its length, 0..=128.
    pub prefix_len: u8,
}

impl Ipv6Net {
    /// The prefix `address/prefix_len` (bits past the prefix are not checked here:
    /// [`Server6Config::validate`] does).
    pub const fn new(address: Ipv6Addr, prefix_len: u8) -> Self {
        Ipv6Net {
            address,
            prefix_len,
        }
    }

    /// The mask of the prefix's bits.
    pub fn mask(&self) -> u128 {
        match self.prefix_len {
            0 => 0,
            n if n >= 128 => u128::MAX,
            n => u128::MAX << (128 - n),
        }
    }

    /// First address.
    pub fn first(&self) -> u128 {
        u128::from(self.address) & self.mask()
    }

    /// Last address.
    pub fn last(&self) -> u128 {
        self.first() | !self.mask()
    }

    /// Whether `a` is inside.
    pub fn contains(&self, a: Ipv6Addr) -> bool {
        u128::from(a) & self.mask() == self.first()
    }

    /// Whether the address has bits set past the prefix.
    pub fn has_host_bits(&self) -> bool {
        u128::from(self.address) & !self.mask() != 0
    }
}

impl fmt::Display for Ipv6Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

/// Lifetimes an IA is given, in seconds (RFC 8415 section 7.6 names the defaults' kind).
/// `u32::MAX` is infinite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Preferred lifetime of each address or prefix.
    pub preferred: u32,
    /// Valid lifetime of each address or prefix.
    pub valid: u32,
    /// T1 (when the client renews); `None`: half the preferred lifetime.
    pub t1: Option<u32>,
    /// T2 (when the client rebinds); `None`: 0.8 of the preferred lifetime.
    pub t2: Option<u32>,
}

impl Default for Lifetimes {
    /// Kea's defaults: preferred 3 600 s, valid 7 200 s, T1 and T2 from the preferred.
    fn default() -> Self {
        Lifetimes {
            preferred: 3600,
            valid: 7200,
            t1: None,
            t2: None,
        }
    }
}

impl Lifetimes {
    /// T1 as sent: the configured one, else half the preferred lifetime.
    pub fn renew(&self) -> u32 {
        self.t1.unwrap_or(if self.preferred == u32::MAX {
            u32::MAX
        } else {
            self.preferred / 2
        })
    }

    /// T2 as sent: the configured one, else 0.8 of the preferred lifetime.
    pub fn rebind(&self) -> u32 {
        self.t2.unwrap_or(if self.preferred == u32::MAX {
            u32::MAX
        } else {
            (u64::from(self.preferred) * 4 / 5) as u32
        })
    }
}

/// A range of addresses a subnet hands out, both ends included, with options of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool6 {
    /// First address.
    pub start: Ipv6Addr,
    /// Last address.
    pub end: Ipv6Addr,
    /// Options for clients given an address of this pool (over the subnet's).
    pub options: Options6,
}

impl Pool6 {
    /// The range `start..=end`, with no options of its own.
    pub fn new(start: Ipv6Addr, end: Ipv6Addr) -> Self {
        Pool6 {
            start,
            end,
            options: Options6::default(),
        }
    }

    /// Whether `a` is in the range.
    pub fn contains(&self, a: Ipv6Addr) -> bool {
        self.start <= a && a <= self.end
    }
}

/// A prefix delegation pool (RFC 8415 section 6.3): `prefix` cut into prefixes of
/// `delegated_len` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdPool {
    /// The prefix delegated prefixes come from.
    pub prefix: Ipv6Net,
    /// The length of each delegated prefix (at least `prefix`'s, at most 128, and at most
    /// 64 more than `prefix`'s).
    pub delegated_len: u8,
}

impl PdPool {
    /// How many prefixes the pool holds.
    pub fn count(&self) -> u64 {
        let bits = self.delegated_len.saturating_sub(self.prefix.prefix_len);
        if bits >= 64 {
            u64::MAX
        } else {
            1u64 << bits
        }
    }

    /// The `index`th prefix's first address.
    pub fn prefix_at(&self, index: u64) -> u128 {
        let shift = 128 - u32::from(self.delegated_len);
        self.prefix.first() + (u128::from(index) << shift.min(127))
    }

    /// Which prefix `p` is, if it is one of the pool's.
    pub fn index_of(&self, p: Ipv6Addr, len: u8) -> Option<u64> {
        if len != self.delegated_len || !self.prefix.contains(p) {
            return None;
        }
        let shift = 128 - u32::from(self.delegated_len);
        let off = u128::from(p) - self.prefix.first();
        if shift < 128 && off & ((1u128 << shift) - 1) != 0 {
            return None;
        }
        u64::try_from(off >> shift.min(127)).ok()
    }
}

/// How a reservation knows its client.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reservation6Key {
    /// The client's DUID (option 1), byte for byte.
    Duid(Vec<u8>),
    /// The client's link-layer address: from a relay's client link-layer address option
    /// (79, RFC 6939), else from a DUID-LL or DUID-LLT.
    HwAddress(Vec<u8>),
    /// The remote id (37, RFC 4649) the relay closest to the client sent: the id after
    /// the enterprise number.
    RemoteId(Vec<u8>),
}

impl fmt::Display for Reservation6Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, bytes) = match self {
            Reservation6Key::Duid(b) => ("duid", b),
            Reservation6Key::HwAddress(b) => ("hw-address", b),
            Reservation6Key::RemoteId(b) => ("remote-id", b),
        };
        f.write_str(what)?;
        for (i, b) in bytes.iter().enumerate() {
            write!(f, "{}{b:02x}", if i == 0 { " " } else { ":" })?;
        }
        Ok(())
    }
}

/// Addresses, prefixes and options kept for one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation6 {
    /// Who.
    pub key: Reservation6Key,
    /// Addresses for its IA_NAs, one an IA, in the order the client lists them.
    pub addresses: Vec<Ipv6Addr>,
    /// Prefixes for its IA_PDs, one an IA.
    pub prefixes: Vec<Ipv6Net>,
    /// Options that override the subnet's for this client.
    pub options: Options6,
}

/// One link's prefix and what the server hands out on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet6Config {
    /// The link's prefix: addresses on the link are inside it.
    pub prefix: Ipv6Net,
    /// The interface (the adapter's identifier, as [`RecvMeta6::interface`]
    /// carries it) whose directly attached clients this subnet serves.
    ///
    /// [`RecvMeta6::interface`]: super::RecvMeta6::interface
    pub interface: Option<u32>,
    /// The interface id (18) a relay puts in its RELAY-FORW for this link, for relays
    /// whose link address does not say the link.
    pub interface_id: Option<Vec<u8>>,
    /// Address pools.
    pub pools: Vec<Pool6>,
    /// Prefix delegation pools.
    pub pd_pools: Vec<PdPool>,
    /// Reservations.
    pub reservations: Vec<Reservation6>,
    /// Options for clients of this subnet (over the server's).
    pub options: Options6,
    /// Lifetimes (the server's when `None`).
    pub lifetimes: Option<Lifetimes>,
    /// Rapid commit (RFC 8415 section 18.3.1) for this subnet (the server's when `None`).
    pub rapid_commit: Option<bool>,
}

impl Subnet6Config {
    /// A subnet with no pools, reservations or options of its own.
    pub fn new(prefix: Ipv6Net) -> Self {
        Subnet6Config {
            prefix,
            interface: None,
            interface_id: None,
            pools: Vec::new(),
            pd_pools: Vec::new(),
            reservations: Vec::new(),
            options: Options6::default(),
            lifetimes: None,
            rapid_commit: None,
        }
    }
}

/// Everything the DHCPv6 server machine runs by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server6Config {
    /// The server's DUID (3 to 130 bytes), generated once and kept by the host.
    pub server_duid: Vec<u8>,
    /// The preference (7) sent in ADVERTISE; 0 is not sent (RFC 8415 section 21.8: an
    /// absent preference is 0), 255 makes clients take this server at once.
    pub preference: u8,
    /// Whether a SOLICIT with rapid commit gets a REPLY at once (subnets can override).
    pub rapid_commit: bool,
    /// Lifetimes (subnets can override).
    pub lifetimes: Lifetimes,
    /// How long a declined address stays out of use, seconds.
    pub decline_probation: u32,
    /// Options for every client.
    pub options: Options6,
    /// The links served.
    pub subnets: Vec<Subnet6Config>,
    /// Client classes, tested in this order.
    pub classes: Vec<Class6Config>,
}

impl Server6Config {
    /// A server with `server_duid`, no subnets, and Kea's defaults.
    pub fn new(server_duid: Vec<u8>) -> Self {
        Server6Config {
            server_duid,
            preference: 0,
            rapid_commit: false,
            lifetimes: Lifetimes::default(),
            decline_probation: 86_400,
            options: Options6::default(),
            subnets: Vec::new(),
            classes: Vec::new(),
        }
    }
}

/// Where a mistake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Config6Place {
    /// The server-wide settings.
    Server,
    /// A subnet as a whole, by index.
    Subnet {
        /// Index of the subnet.
        subnet: usize,
    },
    /// An address pool of a subnet.
    Pool {
        /// Index of the subnet.
        subnet: usize,
        /// Index of the pool.
        pool: usize,
    },
    /// A prefix delegation pool of a subnet.
    PdPool {
        /// Index of the subnet.
        subnet: usize,
        /// Index of the pool.
        pool: usize,
    },
    /// A client class, by index.
    Class {
        /// Index of the class.
        class: usize,
    },
    /// A reservation of a subnet.
    Reservation {
        /// Index of the subnet.
        subnet: usize,
        /// Index of the reservation.
        reservation: usize,
    },
}

/// One mistake in a DHCPv6 configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config6Error {
    /// Where, typed.
    pub place: Config6Place,
    /// Where, in words.
    pub at: String,
    /// What is wrong.
    pub what: String,
}

impl fmt::Display for Config6Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.what)
    }
}

impl core::error::Error for Config6Error {}

fn check_lifetimes(l: &Lifetimes) -> Option<String> {
    if l.preferred > l.valid {
        return Some(format!(
            "preferred lifetime {} is longer than the valid lifetime {}",
            l.preferred, l.valid
        ));
    }
    let (t1, t2) = (l.renew(), l.rebind());
    if t1 > t2 {
        return Some(format!("T1 {t1} is after T2 {t2}"));
    }
    if l.t2.is_some() && t2 > l.preferred && l.preferred != u32::MAX {
        return Some(format!(
            "T2 {t2} is after the preferred lifetime {}",
            l.preferred
        ));
    }
    None
}

impl Server6Config {
    /// Every mistake, each with its place; empty when the configuration can run.
    pub fn validate(&self) -> Vec<Config6Error> {
        let mut errors = Vec::new();
        let mut push =
            |place, at: String, what: String| errors.push(Config6Error { place, at, what });
        if !(3..=130).contains(&self.server_duid.len()) {
            push(
                Config6Place::Server,
                String::from("server-duid"),
                format!("a DUID is 3 to 130 bytes, not {}", self.server_duid.len()),
            );
        }
        if let Some(what) = check_lifetimes(&self.lifetimes) {
            push(Config6Place::Server, String::from("lifetimes"), what);
        }
        if self.subnets.len() > usize::from(u16::MAX) {
            push(
                Config6Place::Server,
                String::from("subnet6"),
                format!("{} subnets: at most {}", self.subnets.len(), u16::MAX),
            );
        }
        if self.lifetimes.valid == 0 {
            push(
                Config6Place::Server,
                String::from("lifetimes"),
                String::from("a valid lifetime of 0 grants nothing"),
            );
        }
        if self.classes.len() > MAX_CLASSES6 {
            push(
                Config6Place::Server,
                String::from("class6"),
                format!("{} classes: at most {MAX_CLASSES6}", self.classes.len()),
            );
        }
        for (i, c) in self.classes.iter().enumerate() {
            let at = format!("class6 {}", c.name);
            if c.name.trim().is_empty() {
                push(
                    Config6Place::Class { class: i },
                    at.clone(),
                    String::from("a class needs a name"),
                );
            }
            if self.classes[..i].iter().any(|o| o.name == c.name) {
                push(
                    Config6Place::Class { class: i },
                    at.clone(),
                    String::from("the name is taken by an earlier class"),
                );
            }
            if let Some(what) = c.matches.check(i, 0) {
                push(Config6Place::Class { class: i }, at, what);
            }
        }
        // Every address range handed out, to find overlaps: (first, last, where).
        let mut ranges: Vec<(u128, u128, String, Config6Place)> = Vec::new();
        for (si, s) in self.subnets.iter().enumerate() {
            let at = format!("subnet6 {}", s.prefix);
            let place = Config6Place::Subnet { subnet: si };
            if s.prefix.has_host_bits() || s.prefix.prefix_len > 128 {
                push(
                    place,
                    at.clone(),
                    String::from("the prefix has bits set past its length"),
                );
            }
            if let Some(what) = s.lifetimes.as_ref().and_then(check_lifetimes) {
                push(place, at.clone(), what);
            }
            for (o, other) in self.subnets.iter().enumerate().take(si) {
                if other.prefix.contains(s.prefix.address)
                    || s.prefix.contains(other.prefix.address)
                {
                    push(
                        place,
                        at.clone(),
                        format!("overlaps subnet6 {} (number {})", other.prefix, o + 1),
                    );
                }
            }
            for (pi, p) in s.pools.iter().enumerate() {
                let pat = format!("{at} pool {}-{}", p.start, p.end);
                let place = Config6Place::Pool {
                    subnet: si,
                    pool: pi,
                };
                let (a, b) = (u128::from(p.start), u128::from(p.end));
                if a > b {
                    push(
                        place,
                        pat.clone(),
                        String::from("the pool's start is after its end"),
                    );
                    continue;
                }
                if !s.prefix.contains(p.start) || !s.prefix.contains(p.end) {
                    push(
                        place,
                        pat.clone(),
                        format!("the pool is not inside {}", s.prefix),
                    );
                }
                if b - a >= u128::from(u64::MAX - 1) {
                    push(place, pat.clone(), String::from("a pool holds at most 2^64 - 2 addresses (leave out the subnet-router anycast address, the prefix's first)"));
                }
                ranges.push((a, b, pat, place));
            }
            for (pi, p) in s.pd_pools.iter().enumerate() {
                let pat = format!(
                    "{at} pd-pool {} delegated-len {}",
                    p.prefix, p.delegated_len
                );
                let place = Config6Place::PdPool {
                    subnet: si,
                    pool: pi,
                };
                if p.prefix.has_host_bits() || p.prefix.prefix_len > 128 {
                    push(
                        place,
                        pat.clone(),
                        String::from("the prefix has bits set past its length"),
                    );
                }
                if p.delegated_len < p.prefix.prefix_len || p.delegated_len > 128 {
                    push(
                        place,
                        pat.clone(),
                        format!("delegated-len must be {} to 128", p.prefix.prefix_len),
                    );
                } else if p.delegated_len - p.prefix.prefix_len >= 64 {
                    push(place, pat.clone(), String::from("a pool holds at most 2^63 prefixes: delegated-len at most 63 past the pool's length"));
                }
                ranges.push((p.prefix.first(), p.prefix.last(), pat, place));
            }
            for (ri, r) in s.reservations.iter().enumerate() {
                let rat = format!("{at} reservation {}", r.key);
                let place = Config6Place::Reservation {
                    subnet: si,
                    reservation: ri,
                };
                match &r.key {
                    Reservation6Key::Duid(d) if !(3..=130).contains(&d.len()) => {
                        push(place, rat.clone(), String::from("a DUID is 3 to 130 bytes"))
                    }
                    Reservation6Key::HwAddress(h) if h.is_empty() || h.len() > 16 => push(
                        place,
                        rat.clone(),
                        String::from("a hardware address is 1 to 16 bytes"),
                    ),
                    _ => {}
                }
                for a in &r.addresses {
                    if !s.prefix.contains(*a) {
                        push(
                            place,
                            rat.clone(),
                            format!("{a} is not inside {}", s.prefix),
                        );
                    }
                }
                for p in &r.prefixes {
                    if p.has_host_bits() || p.prefix_len > 128 {
                        push(
                            place,
                            rat.clone(),
                            format!("prefix {p} has bits set past its length"),
                        );
                    }
                    // Inside a prefix pool, a reserved prefix must be one of the pool's.
                    for pool in &s.pd_pools {
                        let overlaps =
                            pool.prefix.contains(p.address) || p.contains(pool.prefix.address);
                        if overlaps && pool.index_of(p.address, p.prefix_len).is_none() {
                            push(
                                place,
                                rat.clone(),
                                format!(
                                    "prefix {p} overlaps pd-pool {} without being one of its /{} prefixes",
                                    pool.prefix, pool.delegated_len
                                ),
                            );
                        }
                    }
                }
                for (o, other) in s.reservations.iter().enumerate().take(ri) {
                    if other.key == r.key {
                        push(
                            place,
                            rat.clone(),
                            format!("the same client as reservation {}", o + 1),
                        );
                    }
                    for a in &r.addresses {
                        if other.addresses.contains(a) {
                            push(
                                place,
                                rat.clone(),
                                format!("{a} is reserved twice (reservation {} has it)", o + 1),
                            );
                        }
                    }
                    for p in &r.prefixes {
                        if other.prefixes.iter().any(|q| q.first() == p.first()) {
                            push(
                                place,
                                rat.clone(),
                                format!(
                                    "prefix {p} is reserved twice (reservation {} has it)",
                                    o + 1
                                ),
                            );
                        }
                    }
                }
            }
        }
        ranges.sort_by_key(|r| r.0);
        for w in ranges.windows(2) {
            if w[1].0 <= w[0].1 {
                errors.push(Config6Error {
                    place: w[1].3,
                    at: w[1].2.clone(),
                    what: format!("overlaps {}", w[0].2),
                });
            }
        }
        errors
    }
}
