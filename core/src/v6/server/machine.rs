//! [`Server6`]: one DHCPv6 server machine (RFC 8415 section 18.3) for every client of
//! every link, sans I/O, on the lease tables the v4 server uses (`crate::lease`).
//!
//! | module | job |
//! |---|---|
//! | `validate` | RFC 8415 section 16: which messages are dropped, and the unicast rule |
//! | `link` | which subnet serves a message: the relay's link address, its interface id, the receiving interface |
//! | `ia` | each IA of a message: what it is granted, renewed, released or declined |
//! | `bindings` | the lease table's changes, kept in step with pools, client index, timers and records |
//! | `requests` | what each message type does: SOLICIT, REQUEST / RENEW / REBIND, RELEASE, DECLINE, CONFIRM, INFORMATION-REQUEST |
//! | `reply` | writing ADVERTISE / REPLY and wrapping it in the relays' RELAY-REPL |
//! | `durability` | the persistence handshake and `restore` |

mod bindings;
mod durability;
mod ia;
mod link;
mod reply;
mod requests;
mod validate;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::net::{Ipv6Addr, SocketAddrV6};
use core::time::Duration;

use super::config::{Config6Error, Lifetimes, PdPool, Server6Config};
use super::event::{
    BoundLease6, DropReason6, IaKind, Lease6Record, Pool6Usage, RecvMeta6, Server6Stats, Transmit6,
};
use crate::lease::clock::Anchor;
use crate::lease::index::Clients;
use crate::lease::pool::Pool;
use crate::lease::table::{BindingState, Bindings};
use crate::lease::timers::{Deadline, Timers};
use crate::lease::ClientKey;
use crate::time::Instant;
use crate::v6::wire::{MessageType, ParseError, Relayed};

/// How long an address or prefix offered in an ADVERTISE is held for the REQUEST.
const OFFER_HOLD: Duration = Duration::from_secs(60);

/// Most offers held at once: past it an ADVERTISE still names an address but holds
/// nothing, so a flood of SOLICITs with made-up DUIDs cannot grow the table without
/// bound (a pool smaller than this can still be held empty for a minute by such a flood,
/// as a v4 pool can by DISCOVERs).
const MAX_OFFERS_HELD: usize = 65_536;

/// How long an expired or released binding is remembered (so its client gets the same
/// address back) before it is forgotten, as the journal's compaction forgets its records.
const RECENT_HOLD: Duration = Duration::from_secs(86_400);

/// Most IAs of each kind taken from one message; the rest are not answered.
pub(super) const MAX_IAS: usize = 8;

/// A subnet as the machine runs it.
#[derive(Debug)]
struct Subnet6 {
    index: usize,
    pools: Vec<Pool<u128>>,
    pd_pools: Vec<(PdPool, Pool<u64>)>,
    lifetimes: Lifetimes,
    rapid_commit: bool,
    /// Reservations by DUID and by hardware address → index in the config's list.
    by_duid: BTreeMap<Vec<u8>, usize>,
    by_hw: BTreeMap<Vec<u8>, usize>,
    by_remote_id: BTreeMap<Vec<u8>, usize>,
    /// Reserved addresses and prefixes → reservation index.
    reserved: BTreeMap<u128, usize>,
}

/// A reply ready to go, or waiting for its records.
#[derive(Debug)]
struct Pending {
    bytes: Vec<u8>,
    destination: SocketAddrV6,
    interface: u32,
    /// `Some(t)` for ADVERTISE (2) and REPLY (7): the type counted as sent.
    kind: u8,
}

/// One DHCPv6 server for every client of every configured link.
///
/// # Contract
/// - `handle_packet(now, meta, bytes)` for each datagram received on UDP 547;
///   `handle_timeout(now)` when [`poll_timeout`](Self::poll_timeout) comes.
/// - Then drain [`poll_persist`](Self::poll_persist): make every record durable, in order,
///   and call [`persisted`](Self::persisted) with the highest `seq` written (or
///   [`persist_failed`](Self::persist_failed)). A REPLY that grants, renews, releases or
///   declines is held until its records are durable: a crash never loses a lease a client
///   was told about.
/// - Then drain [`poll_transmit`](Self::poll_transmit) and send each reply as it says.
/// - At start, before any packet, [`restore`](Self::restore) each record kept, in order.
///
/// Time only moves forward: an earlier `now` is taken as the latest seen.
#[derive(Debug)]
pub struct Server6 {
    config: Server6Config,
    subnets: Vec<Subnet6>,
    bindings: Bindings<u128>,
    clients: Clients<u128>,
    timers: Timers<u128>,
    anchor: Anchor,
    now: Instant,
    next_seq: u64,
    records: VecDeque<Lease6Record>,
    /// Offers held now.
    offers: usize,
    /// Records handed out and not yet durable: (seq, address).
    inflight: VecDeque<(u64, u128)>,
    /// Replies held for their records: the first and last `seq` of the message's records.
    waiting: VecDeque<(u64, u64, Pending)>,
    /// The first record `seq` of the message being handled.
    message_first: u64,
    ready: VecDeque<Pending>,
    stats: Server6Stats,
    /// Where replies are encoded (allocated once).
    scratch: Vec<u8>,
    /// Reply buffers sent, kept for the next replies.
    spare: Vec<Vec<u8>>,
}

/// Most reply buffers kept for reuse.
const SPARE_KEPT: usize = 64;

impl Server6 {
    /// A machine serving `config`, started at `now`, which is `unix_now` seconds after the
    /// Unix epoch by the wall clock (records carry Unix times). Refuses a configuration
    /// with mistakes, listing them all.
    pub fn new(
        config: Server6Config,
        now: Instant,
        unix_now: u64,
    ) -> Result<Self, Vec<Config6Error>> {
        let errors = config.validate();
        if !errors.is_empty() {
            return Err(errors);
        }
        let subnets = config
            .subnets
            .iter()
            .enumerate()
            .map(|(index, s)| {
                let mut pools: Vec<Pool<u128>> = s
                    .pools
                    .iter()
                    .map(|p| Pool::new(u128::from(p.start), u128::from(p.end)))
                    .collect();
                let mut pd_pools: Vec<(PdPool, Pool<u64>)> = s
                    .pd_pools
                    .iter()
                    .map(|p| (*p, Pool::new(0, p.count() - 1)))
                    .collect();
                let mut by_duid = BTreeMap::new();
                let mut by_hw = BTreeMap::new();
                let mut by_remote_id = BTreeMap::new();
                let mut reserved = BTreeMap::new();
                for (i, r) in s.reservations.iter().enumerate() {
                    match &r.key {
                        super::Reservation6Key::Duid(d) => by_duid.insert(d.clone(), i),
                        super::Reservation6Key::HwAddress(h) => by_hw.insert(h.clone(), i),
                        super::Reservation6Key::RemoteId(r) => by_remote_id.insert(r.clone(), i),
                    };
                    // Reserved addresses and prefixes never go to another client.
                    for a in &r.addresses {
                        let a = u128::from(*a);
                        reserved.insert(a, i);
                        if let Some(p) = pools.iter_mut().find(|p| p.contains(a)) {
                            p.take_specific(a);
                        }
                    }
                    for p in &r.prefixes {
                        reserved.insert(p.first(), i);
                        for (cfg, pool) in pd_pools.iter_mut() {
                            if let Some(ix) = cfg.index_of(p.address, p.prefix_len) {
                                pool.take_specific(ix);
                            }
                        }
                    }
                }
                Subnet6 {
                    index,
                    pools,
                    pd_pools,
                    lifetimes: s.lifetimes.unwrap_or(config.lifetimes),
                    rapid_commit: s.rapid_commit.unwrap_or(config.rapid_commit),
                    by_duid,
                    by_hw,
                    by_remote_id,
                    reserved,
                }
            })
            .collect();
        Ok(Server6 {
            config,
            subnets,
            bindings: Bindings::with_seed(0x6dc7),
            clients: Clients::with_seed(0x6dc7),
            timers: Timers::default(),
            anchor: Anchor::new(now, unix_now),
            now,
            next_seq: 1,
            records: VecDeque::new(),
            inflight: VecDeque::new(),
            offers: 0,
            waiting: VecDeque::new(),
            message_first: 1,
            ready: VecDeque::new(),
            stats: Server6Stats::default(),
            scratch: Vec::new(),
            spare: Vec::new(),
        })
    }

    /// Keys the hash tables from `seed` (clients can't then choose identities that
    /// collide). Call before any packet or restore.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.bindings = Bindings::with_seed(seed);
        self.clients = Clients::with_seed(seed);
        self
    }

    /// The configuration it runs.
    pub fn config(&self) -> &Server6Config {
        &self.config
    }

    /// Counters since start.
    pub fn stats(&self) -> &Server6Stats {
        &self.stats
    }

    /// Addresses and prefixes the table holds in any state: bound, offered, declined,
    /// refused by the store, or remembered for a day after they ended.
    pub fn bindings_held(&self) -> usize {
        self.bindings.len()
    }

    /// Offers (ADVERTISEd addresses and prefixes) held now.
    pub fn offers_held(&self) -> usize {
        self.offers
    }

    /// Addresses and prefixes bound now.
    pub fn lease_count(&self) -> usize {
        self.bindings
            .values()
            .filter(|b| b.state == BindingState::Bound)
            .count()
    }

    /// Addresses and prefixes bound, per subnet (in configuration order): one pass over
    /// the table, each binding counted by the subnet it records.
    pub fn subnet_usage(&self) -> Vec<usize> {
        let mut bound = alloc::vec![0; self.subnets.len()];
        for b in self.bindings.values() {
            if b.state == BindingState::Bound {
                if let Some(n) = bound.get_mut(usize::from(b.subnet)) {
                    *n += 1;
                }
            }
        }
        bound
    }

    /// Every bound address and prefix.
    pub fn leases(&self) -> impl Iterator<Item = BoundLease6<'_>> + '_ {
        self.bindings
            .values()
            .filter(|b| b.state == BindingState::Bound)
            .map(|b| {
                let ia = kind_of(&b.client);
                BoundLease6 {
                    ia,
                    address: Ipv6Addr::from(b.address),
                    prefix_len: self.prefix_len(usize::from(b.subnet), ia, b.address),
                    client: &b.client,
                    expires: self.anchor.unix_of(self.anchor.instant(b.until)),
                }
            })
    }

    /// How full each pool is.
    pub fn pool_usage(&self) -> impl Iterator<Item = Pool6Usage> + '_ {
        self.subnets.iter().flat_map(move |s| {
            let net = self.config.subnets[s.index].prefix;
            let na = s.pools.iter().map(move |p| Pool6Usage {
                subnet: net,
                ia: IaKind::Address,
                start: Ipv6Addr::from(p.range().0),
                size: p.size(),
                used: p.size() - p.free(),
            });
            let pd = s.pd_pools.iter().map(move |(c, p)| Pool6Usage {
                subnet: net,
                ia: IaKind::Prefix,
                start: c.prefix.address,
                size: p.size(),
                used: p.size() - p.free(),
            });
            na.chain(pd)
        })
    }

    /// The next lease record to make durable.
    pub fn poll_persist(&mut self) -> Option<Lease6Record> {
        self.records.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|d| self.anchor.instant(d))
    }

    /// Writes the next reply into `buf`; `None` when none is ready (or, counted as
    /// [`DropReason6::ReplyTooLarge`], when it does not fit `buf`).
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit6> {
        while let Some(p) = self.ready.pop_front() {
            let Some(dst) = buf.get_mut(..p.bytes.len()) else {
                self.stats.drop(DropReason6::ReplyTooLarge);
                continue;
            };
            dst.copy_from_slice(&p.bytes);
            self.stats.sent[usize::from(p.kind).min(13)] += 1;
            let t = Transmit6 {
                len: p.bytes.len(),
                destination: p.destination,
                interface: p.interface,
            };
            if self.spare.len() < SPARE_KEPT {
                self.spare.push(p.bytes);
            }
            return Some(t);
        }
        None
    }

    /// Ends offers, leases and decline probations that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.clock(now);
        let due = self.anchor.due(now);
        while let Some(e) = self.timers.pop_due(due) {
            self.expire(e.address, e.at);
        }
        if self.timers.len() > 3 * self.bindings.len() + 64 {
            let live = self
                .bindings
                .values()
                .map(|b| crate::lease::timers::Due {
                    at: b.until,
                    address: b.address,
                })
                .collect();
            self.timers.rebuild(live);
        }
    }

    /// Takes one datagram received on the server port.
    pub fn handle_packet(&mut self, now: Instant, meta: &RecvMeta6, bytes: &[u8]) {
        self.clock(now);
        let relayed = match Relayed::parse(bytes) {
            Ok(r) => r,
            Err(ParseError::TooDeep(_)) => {
                self.stats.received[0] += 1;
                return self.stats.drop(DropReason6::TooManyRelays);
            }
            Err(_) => {
                self.stats.received[0] += 1;
                return self.stats.drop(DropReason6::Malformed);
            }
        };
        let kind = relayed.message.kind();
        self.stats.received[usize::from(kind).min(13)] += 1;
        if let Err(reason) = self.on_message(meta, &relayed) {
            self.stats.drop(reason);
        }
    }

    fn clock(&mut self, now: Instant) -> Instant {
        if now > self.now {
            self.now = now;
        }
        self.now
    }

    /// The deadline `secs` from now (`u32::MAX`: never).
    fn deadline_in(&self, secs: u32) -> Deadline {
        if secs == u32::MAX {
            Deadline::NEVER
        } else {
            self.anchor
                .deadline(self.now + Duration::from_secs(u64::from(secs)))
        }
    }

    /// The length of the prefix bound at `a` in subnet `s` (128 for an address).
    fn prefix_len(&self, s: usize, ia: IaKind, a: u128) -> u8 {
        if ia == IaKind::Address {
            return 128;
        }
        let Some(sub) = self.subnets.get(s) else {
            return 128;
        };
        if let Some((c, _)) = sub
            .pd_pools
            .iter()
            .find(|(c, _)| c.prefix.contains(Ipv6Addr::from(a)))
        {
            return c.delegated_len;
        }
        sub.reserved
            .get(&a)
            .and_then(|&r| {
                self.config.subnets[s].reservations[r]
                    .prefixes
                    .iter()
                    .find(|p| p.first() == a)
            })
            .map_or(128, |p| p.prefix_len)
    }
}

/// The IA kind a binding's key names.
fn kind_of(key: &ClientKey) -> IaKind {
    if key.as_bytes().first() == Some(&25) {
        IaKind::Prefix
    } else {
        IaKind::Address
    }
}

impl Server6 {
    fn on_message(&mut self, meta: &RecvMeta6, relayed: &Relayed<'_>) -> Result<(), DropReason6> {
        let msg = &relayed.message;
        let kind = MessageType::from_u8(msg.kind()).ok_or(DropReason6::NotForServer)?;
        // A server takes relay-forward layers only (a RELAY-REPL is a server's answer).
        if relayed
            .relays
            .iter()
            .any(|r| r.message_type() != MessageType::RelayForw)
        {
            return Err(DropReason6::NotForServer);
        }
        // RFC 8415 section 16: these are only ever sent to the multicast address.
        if validate::multicast_only(kind) && !meta.multicast && relayed.relays.is_empty() {
            return Err(DropReason6::UnicastNotAllowed);
        }
        let request = self.check(kind, relayed)?;
        let subnet = self.link_of(meta, relayed);
        self.message_first = self.next_seq;
        if validate::needs_multicast(kind) && !meta.multicast && relayed.relays.is_empty() {
            self.stats.use_multicast += 1;
            return self.reply_use_multicast(meta, relayed, &request);
        }
        match kind {
            MessageType::Solicit => self.on_solicit(meta, relayed, &request, subnet),
            MessageType::Request | MessageType::Renew | MessageType::Rebind => {
                self.on_commit(kind, meta, relayed, &request, subnet)
            }
            MessageType::Release => self.give_up(false, meta, relayed, &request, subnet),
            MessageType::Decline => self.give_up(true, meta, relayed, &request, subnet),
            MessageType::Confirm => self.on_confirm(meta, relayed, &request, subnet),
            MessageType::InformationRequest => self.on_information(meta, relayed, &request, subnet),
            _ => Err(DropReason6::NotForServer),
        }
    }
}
