//! [`Server`]: one DHCPv4 server machine for every client of every subnet, sans I/O.
//!
//! This module holds the machine's state and its front door: construction, the queries,
//! the outputs the host drains, and the dispatch of packets and time to the submodules,
//! each of which holds one job:
//!
//! | module | job |
//! |---|---|
//! | `requests` | what each message type does (RFC 2131 4.3): choosing an address, DISCOVER, REQUEST, DECLINE, RELEASE, INFORM |
//! | `bindings` | the lease table's changes, each kept in step with the pools, the client index, the timers and the counts |
//! | `durability` | the persistence handshake (`persisted`, `persist_failed`, `persist_unavailable`) and `restore` |
//! | `admin` | operations the host asks for at run time: `reconfigure`, `delete_lease`, reservations |
//! | `reply` | replies: what one says and where it goes (RFC 2131 4.1), written into reused buffers |
//! | `link` | shared networks: which of a link's subnets serves a request |
//! | `probe` | the conflict check: offers held while the host checks their address is not in use |

mod admin;
mod bindings;
mod durability;
mod link;
mod probe;
mod reply;
mod requests;

use bindings::tally;
use durability::WaitingAck;
use probe::Probing;
use reply::{set_lease_times, Encoded, Reply};

use alloc::collections::{BTreeMap, VecDeque};

use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::time::Duration;

use super::class::program::Request;
use super::class::table::{Classes, Group};
use super::class::{Boot, ClassId, ClassSet, PoolClasses};
use super::config::{
    ConfigError, ConfigPlace, Ipv4Net, LeaseTimes, PoolRange, Reservation, ReservationKey,
    ServerConfig,
};
use super::counts::Counts;
use super::event::{
    BoundLease, DropReason, HardwareAddress, PoolUsage, RecvMeta, ServerStats, SubnetUsage,
    Transmit,
};
use super::lease::{ClientKey, LeaseRecord, LeaseSecs, RecordKind};
use super::limit::RateLimit;
use super::option_cache::{lease_option, BlockKey, OptionCache, Times};
use super::options::OptionTable;
use crate::lease::clock::Anchor;
use crate::lease::index::Clients;
use crate::lease::pool::Pool;
use crate::lease::table::{Binding, BindingState, Bindings};
use crate::lease::timers::{Deadline, Due, Timers};
use crate::time::Instant;
use crate::wire::typed::RelayAgentInfo;
use crate::wire::OptionData;
use crate::wire::{
    EmitError, Flags, Message, MessageBuilder, MessageType, Op, OptionCode, BOOTP_MIN_LEN,
    CLIENT_PORT, SERVER_PORT,
};

/// A subnet as the machine runs it: config merged with the server-wide defaults.
#[derive(Debug)]
struct Subnet {
    net: Ipv4Net,
    pools: Vec<Pool<u32>>,
    server_id: Option<Ipv4Addr>,
    options: OptionTable,
    times: LeaseTimes,
    authoritative: bool,
    rapid_commit: bool,
    reservations: Vec<Reservation>,
    by_key: BTreeMap<ReservationKey, usize>,
    by_address: BTreeMap<u32, usize>,
    /// Which classes each pool (by index) is open to.
    access: Vec<PoolClasses>,
    /// Whether any pool is closed to some client (else `access` is never read).
    restricted: bool,
    /// Boot settings, the server-wide ones merged in.
    boot: Boot,
    /// Whether BOOTP clients without a reservation get an address.
    dynamic_bootp: bool,
    /// The link it is on: the index of the first subnet of its shared network (its own
    /// index when it shares its link with none).
    link: u16,
    /// Whether other subnets share its link.
    shared: bool,
    /// Whether `boot` sets nothing.
    no_boot: bool,
}

impl Subnet {
    fn pool_of(&mut self, a: u32) -> Option<&mut Pool<u32>> {
        self.pools.iter_mut().find(|p| p.contains(a))
    }

    /// Whether a client in `classes` may use pool `i`.
    #[inline]
    fn admits(&self, i: usize, classes: &ClassSet) -> bool {
        !self.restricted || self.access.get(i).is_some_and(|a| a.admits(classes))
    }

    /// Whether a client in `classes` may hold `a`: true outside the pools (a reservation).
    #[inline]
    fn admits_address(&self, a: u32, classes: &ClassSet) -> bool {
        !self.restricted
            || self
                .pools
                .iter()
                .position(|p| p.contains(a))
                .is_none_or(|i| self.admits(i, classes))
    }

    fn reserved_for_other(&self, a: u32, mine: Option<usize>) -> bool {
        self.by_address.get(&a).is_some_and(|r| Some(*r) != mine)
    }
}

/// The DHCPv4 server as a pure state machine: one for all clients of all subnets.
///
/// # Call order
///
/// 1. **Start.** [`new`](Self::new) with the config, the current `Instant` and the Unix
///    time it is (the one wall-clock reading the machine ever gets: records carry Unix
///    seconds, the machine runs on `Instant`s); then [`with_seed`](Self::with_seed) with
///    OS randomness, [`reserve`](Self::reserve) for the records about to come, and
///    [`restore`](Self::restore) each lease record in the order it was written. Nothing
///    is emitted while restoring.
/// 2. **Inputs.** [`handle_packet`](Self::handle_packet) for each datagram received on
///    port 67, [`handle_timeout`](Self::handle_timeout) when [`poll_timeout`](Self::poll_timeout)
///    comes, and the store's answers below. Several inputs may be given before the outputs
///    are drained (a batch of datagrams, say): the replies queue in order, and the records
///    of a whole batch can then be made durable with one write.
/// 3. **Outputs**, drained after inputs and before waiting again, in this order:
///    [`poll_persist`](Self::poll_persist) until `None` (hand each record to the store),
///    [`poll_transmit`](Self::poll_transmit) until `None` (send each reply as its
///    [`Transmit`] says), then sleep until [`poll_timeout`](Self::poll_timeout).
/// 4. **Durability.** An ACK that grants or extends a lease is not in `poll_transmit`
///    until its record is durable: write the records, sync them, then call
///    [`persisted`](Self::persisted) with the highest `seq` written (one call for a
///    batch). A record the store refused because another server holds the address is
///    [`persist_failed`](Self::persist_failed): its ACK becomes a NAK and the address is
///    set aside. A record the store could not write at all (a full disk, a database that
///    is down) is [`persist_unavailable`](Self::persist_unavailable): a renewal is
///    answered with the lease the last durable record holds, anything else is withheld
///    (the client retries). Call these for every record handed out, in any order; a
///    record never answered holds its ACK for as long as the machine lives.
/// 5. **Time** passed in never goes backwards for the machine: an `Instant` earlier than
///    one already seen is taken as the latest seen.
/// 6. **Reload.** [`reconfigure`](Self::reconfigure) between inputs: offers in flight,
///    ACKs waiting for their record, queued replies and records all carry over; an offer
///    or lease whose address is in no pool (nor reservation) of the new config is kept
///    until it ends but never granted again: a REQUEST for it is NAKed, and the client
///    starts over in the new pools.
///
/// Guarantees: no address is bound to two clients; an ACK that grants or extends a lease
/// leaves only after the caller has reported its record durable; a malformed or foreign
/// packet is dropped and counted, never a panic; reservations win over pools; finding an
/// address never scans a pool.
#[derive(Debug)]
pub struct Server {
    subnets: Vec<Subnet>,
    offer_hold: Duration,
    decline_probation: Duration,
    bindings: Bindings<u32>,
    /// Each client's current address.
    clients: Clients<u32>,
    /// One entry per binding: when it next needs attention.
    timers: Timers<u32>,
    replies: VecDeque<Encoded>,
    /// ACKs waiting for their record, in record order.
    waiting: VecDeque<WaitingAck>,
    /// Buffers of sent replies, reused for the next ones.
    spare: Vec<Vec<u8>>,
    /// Reply option blocks, by subnet and parameter request list.
    option_cache: OptionCache,
    records: VecDeque<LeaseRecord>,
    seq: u64,
    /// Ties `Instant`s to deadlines and to the Unix times of records.
    anchor: Anchor,
    now: Instant,
    stats: ServerStats,
    /// Offers held (at most `max_offers`), and leases bound by subnet and by pool.
    counts: Counts,
    max_offers: usize,
    rate_limit: Option<RateLimit>,
    /// The client classes, in configuration order.
    classes: Classes,
    /// Whether a request's classes matter: some class is configured or some pool is
    /// closed to some clients (else requests are not classified).
    classifying: bool,
    /// Offers held for the conflict check, and the addresses to probe; `None` when off.
    probing: Option<Probing>,
}

/// The subnet index of a binding whose subnet or pool a reload removed: kept until it
/// expires, never renewed.
const ORPHAN: u16 = u16::MAX;

fn heapless_from<const N: usize>(bytes: impl Iterator<Item = u8>) -> heapless::Vec<u8, N> {
    let mut v = heapless::Vec::new();
    for b in bytes {
        if v.push(b).is_err() {
            break;
        }
    }
    v
}

impl Server {
    /// A server for `config`, which is validated first (every mistake is returned). `now`
    /// and `unix_now` anchor the wall clock: lease records carry Unix times.
    pub fn new(
        config: ServerConfig,
        now: Instant,
        unix_now: u64,
    ) -> Result<Self, Vec<ConfigError>> {
        config.validate()?;
        // Each shared network's first subnet (its link) and how many subnets it has.
        let mut networks: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for (index, s) in config.subnets.iter().enumerate() {
            if let Some(name) = &s.shared_network {
                networks.entry(name).or_insert((index, 0)).1 += 1;
            }
        }
        let mut subnets = Vec::new();
        for (index, s) in config.subnets.iter().enumerate() {
            let (link, members) = s
                .shared_network
                .as_deref()
                .and_then(|n| networks.get(n).copied())
                .unwrap_or((index, 1));
            let shared = members > 1;
            let mut by_key = BTreeMap::new();
            let mut by_address = BTreeMap::new();
            for (i, r) in s.reservations.iter().enumerate() {
                by_key.insert(r.key.clone(), i);
                by_address.insert(u32::from(r.address), i);
            }
            let mut pools: Vec<Pool<u32>> = s
                .pools
                .iter()
                .map(|p| Pool::new(u32::from(p.start), u32::from(p.end)))
                .collect();
            // Reserved addresses inside pools are never handed to anyone else.
            for a in by_address.keys() {
                if let Some(p) = pools.iter_mut().find(|p| p.contains(*a)) {
                    p.take_specific(*a);
                }
            }
            let access: Vec<PoolClasses> = s.pools.iter().map(|p| p.classes).collect();
            let boot = s.boot.over(&config.boot);
            subnets.push(Subnet {
                restricted: access.iter().any(|a| !a.is_open()),
                access,
                no_boot: boot.is_empty(),
                dynamic_bootp: s.dynamic_bootp.unwrap_or(config.dynamic_bootp),
                link: link as u16,
                shared,
                boot,
                net: s.subnet,
                pools,
                server_id: s.server_id.or(config.server_id),
                options: OptionTable::new(&s.options.over(&config.options)),
                times: s.lease.over(&config.lease),
                authoritative: s.authoritative.unwrap_or(config.authoritative),
                rapid_commit: s.rapid_commit.unwrap_or(config.rapid_commit),
                reservations: s.reservations.clone(),
                by_key,
                by_address,
            });
        }
        Ok(Server {
            counts: Counts::new(subnets.iter().map(|s| s.pools.len())),
            offer_hold: config.offer_hold,
            decline_probation: config.decline_probation,
            bindings: Bindings::with_seed(unix_now),
            clients: Clients::with_seed(unix_now),
            timers: Timers::default(),
            replies: VecDeque::new(),
            waiting: VecDeque::new(),
            spare: Vec::new(),
            option_cache: OptionCache::default(),
            records: VecDeque::new(),
            seq: 0,
            anchor: Anchor::new(now, unix_now),
            now,
            stats: ServerStats::default(),
            max_offers: config.max_offers,
            rate_limit: config.rate_limit.map(RateLimit::new),
            classifying: !config.classes.is_empty() || subnets.iter().any(|s| s.restricted),
            probing: config.conflict_check.then(Probing::default),
            classes: Classes::new(&config.classes),
            subnets,
        })
    }

    /// Keys the machine's hash tables with `seed` (from the OS's randomness, say) instead of
    /// the start time, so that no one can predict which clients share a bucket. Takes
    /// effect only on a machine that holds no binding yet (call it right after
    /// [`new`](Self::new)); otherwise the machine is returned as it was.
    pub fn with_seed(mut self, seed: u64) -> Self {
        if self.bindings.len() == 0 && self.clients.len() == 0 {
            self.bindings = Bindings::with_seed(seed);
            self.clients = Clients::with_seed(seed);
        }
        self
    }

    /// Makes room for `leases` more bindings at once (before restoring that many records),
    /// instead of growing the tables step by step.
    pub fn reserve(&mut self, leases: usize) {
        self.bindings.reserve(leases);
        self.clients.reserve(leases);
    }
    // ---- queries ------------------------------------------------------------------------

    /// Counters.
    pub fn stats(&self) -> &ServerStats {
        &self.stats
    }

    /// Each subnet's use: leases bound, free addresses in its pools, their size.
    /// O(pools): the counts are kept as leases come and go.
    pub fn usage(&self) -> impl Iterator<Item = SubnetUsage> + '_ {
        self.subnets.iter().enumerate().map(|(i, s)| SubnetUsage {
            network: s.net,
            bound: self.counts.bound(i),
            free: s.pools.iter().map(Pool::free).sum(),
            size: s.pools.iter().map(Pool::size).sum(),
        })
    }

    /// Each pool's use: its subnet and range, leases bound in it, free addresses, its size.
    /// O(pools), as [`usage`](Self::usage).
    pub fn pool_usage(&self) -> impl Iterator<Item = PoolUsage> + '_ {
        self.subnets.iter().enumerate().flat_map(move |(i, s)| {
            s.pools.iter().enumerate().map(move |(j, p)| {
                let (start, end) = p.range();
                PoolUsage {
                    network: s.net,
                    range: PoolRange {
                        start: Ipv4Addr::from(start),
                        end: Ipv4Addr::from(end),
                        classes: s.access.get(j).copied().unwrap_or_default(),
                    },
                    bound: self.counts.pool_bound(i, j),
                    free: p.free(),
                    size: p.size(),
                }
            })
        })
    }

    /// Leases bound now (as [`leases`](Self::leases) would count them, without the walk).
    pub fn lease_count(&self) -> usize {
        self.counts.leases as usize
    }

    /// Offers held now (at most the configured `max_offers`).
    pub fn offers_held(&self) -> usize {
        self.counts.offered
    }

    /// The client an address is bound to (offers and recent leases don't count).
    pub fn bound_to(&self, address: Ipv4Addr) -> Option<&ClientKey> {
        self.bindings
            .get(&u32::from(address))
            .filter(|b| b.state == BindingState::Bound)
            .map(|b| &b.client)
    }

    /// Every bound lease: address, client, expiry.
    pub fn leases(&self) -> impl Iterator<Item = BoundLease<'_>> + '_ {
        self.bindings
            .iter()
            .filter(|(_, b)| b.state == BindingState::Bound)
            .map(|(a, b)| BoundLease {
                address: Ipv4Addr::from(*a),
                client: &b.client,
                expires: self.anchor.instant(b.until),
            })
    }

    // ---- outputs ------------------------------------------------------------------------

    /// The next lease record to make durable. After writing a batch, call
    /// [`persisted`](Self::persisted) with the highest `seq` written.
    pub fn poll_persist(&mut self) -> Option<LeaseRecord> {
        self.records.pop_front()
    }

    /// The next deadline (an offer or a lease expiring).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|t| self.anchor.instant(t))
    }

    /// Copies the next reply into `buf` and says where it goes. A reply never exceeds the
    /// client's maximum message size (at most 1500 bytes here); a `buf` too short for the
    /// next reply gets `None` and the reply stays queued.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        let r = self.replies.front()?;
        let dst = buf.get_mut(..r.len)?;
        dst.copy_from_slice(r.bytes.get(..r.len)?);
        let r = self.replies.pop_front()?;
        if r.bootp {
            self.stats.bootp_sent += 1;
        } else {
            self.stats.sent(r.kind);
        }
        let t = Transmit {
            len: r.len,
            destination: r.destination,
            interface: r.interface,
            source: r.source,
            hardware: r.hardware,
        };
        self.spare.push(r.bytes);
        Some(t)
    }

    // ---- inputs -------------------------------------------------------------------------

    /// Expires offers, leases and declined addresses whose time has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.clock(now);
        let due = self.anchor.due(now);
        while let Some(Due { at: t, address: a }) = self.timers.pop_due(due) {
            let Some(b) = self.bindings.get(&a) else {
                continue;
            };
            if b.until != t {
                continue;
            }
            match b.state {
                BindingState::Offered => {
                    self.stats.offers_expired += 1;
                    if let Some(p) = &mut self.probing {
                        p.forget(a);
                    }
                    self.unbind(a);
                }
                BindingState::Bound if b.subnet == ORPHAN => {
                    self.stats.leases_expired += 1;
                    self.unbind(a);
                }
                BindingState::Bound => {
                    self.stats.leases_expired += 1;
                    self.make_recent(a);
                }
                BindingState::Declined | BindingState::Conflict => self.unbind(a),
                BindingState::Recent => {}
            }
        }
    }

    /// Takes a request received on port 67. Anything malformed, foreign or not for this
    /// server is dropped and counted.
    pub fn handle_packet(&mut self, now: Instant, meta: &RecvMeta, packet: &[u8]) {
        let now = self.clock(now);
        if let Err(reason) = self.on_packet(now, meta, packet) {
            self.stats.drop(reason);
        }
    }

    // ---- internals ----------------------------------------------------------------------

    fn clock(&mut self, now: Instant) -> Instant {
        if now > self.now {
            self.now = now;
        }
        self.now
    }

    /// The classes of a request on `subnet`: `known` or `unknown`, a reservation's, and
    /// every configured class whose match holds.
    fn classify(
        &self,
        subnet: usize,
        reservation: Option<usize>,
        bootp: bool,
        m: &Message<'_>,
        relay: Option<&RelayAgentInfo<'_>>,
    ) -> ClassSet {
        let reserved = reservation.and_then(|r| self.subnets[subnet].reservations.get(r));
        let mut given = match reserved {
            Some(r) => r.classes,
            None => ClassSet::EMPTY,
        };
        given.insert(if reserved.is_some() {
            ClassId::KNOWN
        } else {
            ClassId::UNKNOWN
        });
        if bootp {
            given.insert(ClassId::BOOTP);
        }
        if self.classes.is_empty() {
            return given;
        }
        self.classes.classify(&Request { m, relay }, given)
    }

    fn on_packet(
        &mut self,
        now: Instant,
        meta: &RecvMeta,
        packet: &[u8],
    ) -> Result<(), DropReason> {
        let m = Message::parse(packet).map_err(|_| DropReason::Malformed)?;
        if m.op() != Op::BootRequest {
            return Err(DropReason::NotRequest);
        }
        // No message type: a BOOTP client (RFC 1534).
        let kind = m.message_type().map_err(|_| DropReason::BadOption)?;
        match kind {
            Some(kind) => self.stats.received(kind),
            None => self.stats.bootp_received += 1,
        }
        let client = match m.client_id() {
            // RFC 3396 pieces can add up past what any client id is: refused, not cut.
            Ok(Some(id)) if id.data().len() > 255 => return Err(DropReason::BadOption),
            Ok(Some(id)) => ClientKey::new(&heapless_from::<255>(id.data().bytes())),
            _ => ClientKey::hardware(m.htype(), m.chaddr()),
        };
        if self.rate_limit.is_some() {
            let hash = self.clients.hash(&client);
            let second = self.anchor.deadline(now).0;
            if let Some(limit) = &mut self.rate_limit {
                if !limit.allow(hash, second) {
                    return Err(DropReason::RateLimited);
                }
            }
        }
        let relay = m.relay_agent_info().ok().flatten();
        let link = relay
            .and_then(|r| r.link_selection().ok().flatten())
            .or(m.subnet_selection().ok().flatten())
            .or(Some(m.giaddr()).filter(|g| !g.is_unspecified()))
            .unwrap_or(meta.local_address);
        let mut subnet = self
            .subnets
            .iter()
            .position(|s| s.net.contains(link))
            .ok_or(DropReason::NoSubnet)?;
        let bootp = kind.is_none();
        if self.subnets[subnet].shared {
            let classes = if self.classifying {
                let reservation = self.reservation_of(subnet, &m, relay.as_ref());
                self.classify(subnet, reservation, bootp, &m, relay.as_ref())
            } else {
                ClassSet::EMPTY
            };
            subnet = self.serving_subnet(subnet, &m, &client, kind, &classes);
        }
        let own_id = self.subnets[subnet].server_id.unwrap_or(meta.local_address);
        let server_id = relay
            .and_then(|r| r.server_id_override().ok().flatten())
            .unwrap_or(own_id);
        let reservation = self.reservation_of(subnet, &m, relay.as_ref());
        let (classes, group) = if self.classifying {
            let mut classes = self.classify(subnet, reservation, bootp, &m, relay.as_ref());
            if !self.classes.is_empty() {
                let hash = self.clients.hash(&client);
                let ex = self.classes.exchanges();
                match kind {
                    Some(MessageType::Discover) => ex.remember(hash, m.xid(), classes),
                    Some(MessageType::Request) => {
                        if let Some(c) = ex.recall(hash, m.xid()) {
                            classes = c.configured().or(&classes.builtins());
                        }
                    }
                    _ => {}
                }
            }
            let (group, renumbered) = self.classes.group(&classes);
            if renumbered {
                self.option_cache = OptionCache::default();
            }
            (classes, group)
        } else {
            (ClassSet::EMPTY, Group(0))
        };
        let ctx = Ctx {
            group,
            m: &m,
            meta,
            subnet,
            server_id,
            reservation,
            classes,
            bootp,
        };
        let Some(kind) = kind else {
            return self.on_bootp(&ctx, &client);
        };
        match kind {
            MessageType::Discover => self.on_discover(now, &ctx, &client),
            MessageType::Request => self.on_request(now, &ctx, &client),
            MessageType::Decline => self.on_decline(now, &ctx, &client),
            MessageType::Release => self.on_release(&ctx, &client),
            MessageType::Inform => {
                self.reply(&ctx, MessageType::Inform, Ipv4Addr::UNSPECIFIED, None);
                Ok(())
            }
            _ => Err(DropReason::Unexpected),
        }
    }
}

/// A request being handled, and what was worked out about it.
struct Ctx<'m, 'a> {
    m: &'m Message<'a>,
    meta: &'m RecvMeta,
    subnet: usize,
    server_id: Ipv4Addr,
    reservation: Option<usize>,
    /// The classes the client is in, worked out once for the request.
    classes: ClassSet,
    /// Those of them that give it something, as a group.
    group: Group,
    /// A BOOTP request (no message type): answered with a BOOTREPLY and no DHCP options.
    bootp: bool,
}
