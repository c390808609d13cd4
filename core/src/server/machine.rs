//! [`Server`]: one DHCPv4 server machine for every client of every subnet, sans I/O.

use alloc::collections::{BTreeMap, VecDeque};

use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::time::Duration;

use super::config::{
    ConfigError, Ipv4Net, LeaseTimes, PoolRange, Reservation, ReservationKey, ServerConfig,
};
use super::counts::Counts;
use super::event::{DropReason, RecvMeta, ServerStats, Transmit};
use super::index::ClientIndex;
use super::lease::{ClientKey, LeaseRecord, RecordKind};
use super::limit::RateLimit;
use super::option_cache::{lease_option, OptionCache, Times};
use super::options::OptionTable;
use super::pool::Pool;
use super::table::{Binding, BindingState, Bindings};
use super::timers::{Deadline, Timers};
use crate::time::Instant;
use crate::wire::typed::RelayAgentInfo;
use crate::wire::OptionData;
use crate::wire::{
    EmitError, Flags, Message, MessageBuilder, MessageType, Op, OptionCode, CLIENT_PORT,
    SERVER_PORT,
};

/// A subnet as the machine runs it: config merged with the server-wide defaults.
#[derive(Debug)]
struct Subnet {
    net: Ipv4Net,
    pools: Vec<Pool>,
    server_id: Option<Ipv4Addr>,
    options: OptionTable,
    times: LeaseTimes,
    authoritative: bool,
    rapid_commit: bool,
    reservations: Vec<Reservation>,
    by_key: BTreeMap<ReservationKey, usize>,
    by_address: BTreeMap<u32, usize>,
}

impl Subnet {
    fn pool_of(&mut self, a: u32) -> Option<&mut Pool> {
        self.pools.iter_mut().find(|p| p.contains(a))
    }

    fn reserved_for_other(&self, a: u32, mine: Option<usize>) -> bool {
        self.by_address.get(&a).is_some_and(|r| Some(*r) != mine)
    }
}

/// What a reply says, borrowing what it echoes from the request.
#[derive(Debug, Clone)]
struct Reply<'r> {
    kind: MessageType,
    xid: u32,
    flags: Flags,
    htype: u8,
    chaddr: heapless::Vec<u8, 16>,
    ciaddr: Ipv4Addr,
    yiaddr: Ipv4Addr,
    giaddr: Ipv4Addr,
    server_id: Ipv4Addr,
    subnet: u16,
    reservation: Option<u16>,
    lease: Option<(u32, u32, u32)>,
    prl: Option<OptionData<'r>>,
    client_id: Option<OptionData<'r>>,
    relay_info: Option<OptionData<'r>>,
    max_len: usize,
    rapid_commit: bool,
    /// What a NAK says (56).
    nak_message: &'static [u8],
    destination: SocketAddrV4,
    interface: u32,
    hardware: Option<(u8, [u8; 16], u8)>,
}

impl<'r> Reply<'r> {
    /// A reply of `kind` to `m` (a request, or a reply of ours being replaced), and where
    /// it goes (RFC 2131 section 4.1): no lease, reservation or rapid commit yet.
    #[inline(always)]
    fn to(
        m: &Message<'r>,
        kind: MessageType,
        yiaddr: Ipv4Addr,
        server_id: Ipv4Addr,
        subnet: u16,
        interface: u32,
    ) -> Self {
        let giaddr = m.giaddr();
        let ciaddr = m.ciaddr();
        let broadcast_bit = m.flags().contains(Flags::BROADCAST);
        let mut hardware = None;
        let destination = if !giaddr.is_unspecified() {
            SocketAddrV4::new(giaddr, SERVER_PORT)
        } else if kind == MessageType::Nak {
            SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT)
        } else if !ciaddr.is_unspecified() {
            SocketAddrV4::new(ciaddr, CLIENT_PORT)
        } else if broadcast_bit || yiaddr.is_unspecified() {
            SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT)
        } else {
            let mut hw = [0u8; 16];
            let n = m.chaddr().len().min(16);
            hw[..n].copy_from_slice(&m.chaddr()[..n]);
            hardware = Some((m.htype(), hw, n as u8));
            SocketAddrV4::new(yiaddr, CLIENT_PORT)
        };
        // NAKs through a relay ask it to broadcast (RFC 2131 section 4.3.2).
        let flags = if kind == MessageType::Nak && !giaddr.is_unspecified() {
            m.flags() | Flags::BROADCAST
        } else {
            m.flags()
        };
        let max = m
            .max_message_size()
            .ok()
            .flatten()
            .map_or(576, usize::from)
            .max(576);
        Reply {
            kind,
            xid: m.xid(),
            flags,
            htype: m.htype(),
            chaddr: heapless_from(m.chaddr().iter().copied()),
            // Table 3: OFFER and NAK carry no ciaddr.
            ciaddr: if matches!(kind, MessageType::Nak | MessageType::Offer) {
                Ipv4Addr::UNSPECIFIED
            } else {
                ciaddr
            },
            yiaddr,
            giaddr,
            server_id,
            subnet,
            reservation: None,
            lease: None,
            prl: m.option(OptionCode::PARAMETER_REQUEST_LIST),
            client_id: m.option(OptionCode::CLIENT_ID),
            relay_info: m.option(OptionCode::RELAY_AGENT_INFO),
            max_len: max - 28,
            rapid_commit: false,
            nak_message: b"address not available",
            destination,
            interface,
            hardware,
        }
    }
}

/// A reply written and waiting to be sent (or, for an ACK, for its record to be durable).
#[derive(Debug)]
struct Encoded {
    /// A reused 1500-byte buffer; the reply is its first `len` bytes.
    bytes: Vec<u8>,
    len: usize,
    kind: MessageType,
    yiaddr: Ipv4Addr,
    destination: SocketAddrV4,
    interface: u32,
    source: Ipv4Addr,
    hardware: Option<(u8, [u8; 16], u8)>,
}

/// The DHCPv4 server as a pure state machine: one for all clients of all subnets.
///
/// Inputs: [`handle_packet`](Self::handle_packet), [`handle_timeout`](Self::handle_timeout),
/// and the durability handshake [`persisted`](Self::persisted) /
/// [`persist_failed`](Self::persist_failed); [`restore`](Self::restore) rebuilds the lease
/// table at start-up. Outputs, drained after each input:
/// [`poll_persist`](Self::poll_persist) (records to make durable),
/// [`poll_transmit`](Self::poll_transmit), [`poll_timeout`](Self::poll_timeout).
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
    bindings: Bindings,
    /// Each client's current address, by a keyed hash of its key (integer compares
    /// instead of byte-string ones); the binding at the address confirms the client. A
    /// client whose hash is already another's goes to `collided`.
    clients: ClientIndex,
    /// Clients whose hash another client's entry already holds (rare: about a hundred
    /// among a million clients), by that hash, so that a client not indexed costs an
    /// integer search here, not key comparisons; clients made to share one hash are a
    /// B-tree search among themselves.
    collided: BTreeMap<u32, BTreeMap<ClientKey, u32>>,
    hash_key: u64,
    /// One entry per binding: when it next needs attention.
    timers: Timers,
    replies: VecDeque<Encoded>,
    /// ACKs waiting for their record: its sequence number, and the lease's deadline and
    /// client (to tell, when the record is durable, whether the lease is still that one).
    waiting: VecDeque<(u64, Deadline, ClientKey, Encoded)>,
    /// Buffers of sent replies, reused for the next ones.
    spare: Vec<Vec<u8>>,
    /// Reply option blocks, by subnet and parameter request list.
    option_cache: OptionCache,
    records: VecDeque<LeaseRecord>,
    seq: u64,
    anchor: (Instant, u64),
    now: Instant,
    stats: ServerStats,
    /// Offers held (at most `max_offers`), and leases bound by subnet and by pool.
    counts: Counts,
    max_offers: usize,
    rate_limit: Option<RateLimit>,
}

/// The subnet index of a binding whose subnet or pool a reload removed: kept until it
/// expires, never renewed.
const ORPHAN: u16 = u16::MAX;

/// Keeps `counts` as the binding at `a` in subnet `subnet` goes from `old` to `new`
/// (`None`: none).
fn tally(
    counts: &mut Counts,
    subnets: &[Subnet],
    (subnet, a): (u16, u32),
    old: Option<BindingState>,
    new: Option<BindingState>,
) {
    let pool = || {
        let s = subnets.get(usize::from(subnet))?;
        s.pools.iter().position(|p| p.contains(a))
    };
    counts.change(subnet, pool, old, new);
}

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
        let mut subnets = Vec::new();
        for s in &config.subnets {
            let mut by_key = BTreeMap::new();
            let mut by_address = BTreeMap::new();
            for (i, r) in s.reservations.iter().enumerate() {
                by_key.insert(r.key.clone(), i);
                by_address.insert(u32::from(r.address), i);
            }
            let mut pools: Vec<Pool> = s
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
            subnets.push(Subnet {
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
            subnets,
            offer_hold: config.offer_hold,
            decline_probation: config.decline_probation,
            bindings: Bindings::with_seed(unix_now),
            clients: ClientIndex::default(),
            collided: BTreeMap::new(),
            hash_key: crate::rng::Rng::new(unix_now ^ 0x5eed).next_u64(),
            timers: Timers::default(),
            replies: VecDeque::new(),
            waiting: VecDeque::new(),
            spare: Vec::new(),
            option_cache: OptionCache::default(),
            records: VecDeque::new(),
            seq: 0,
            anchor: (now, unix_now),
            now,
            stats: ServerStats::default(),
            max_offers: config.max_offers,
            rate_limit: config.rate_limit.map(RateLimit::new),
        })
    }

    // ---- queries ------------------------------------------------------------------------

    /// Counters.
    pub fn stats(&self) -> &ServerStats {
        &self.stats
    }

    /// Per subnet: (its network, addresses bound, free addresses in its pools, pool size).
    /// O(pools): the counts are kept as leases come and go.
    pub fn usage(&self) -> impl Iterator<Item = (Ipv4Net, u64, u64, u64)> + '_ {
        self.subnets.iter().enumerate().map(|(i, s)| {
            let free = s.pools.iter().map(Pool::free).sum();
            let size = s.pools.iter().map(Pool::size).sum();
            (s.net, self.counts.bound(i), free, size)
        })
    }

    /// Per pool: its subnet, its range, leases bound in it, free addresses, and its size.
    /// O(pools), as [`usage`](Self::usage).
    pub fn pool_usage(&self) -> impl Iterator<Item = (Ipv4Net, PoolRange, u64, u64, u64)> + '_ {
        self.subnets.iter().enumerate().flat_map(move |(i, s)| {
            s.pools.iter().enumerate().map(move |(j, p)| {
                let (start, end) = p.range();
                let range = PoolRange {
                    start: Ipv4Addr::from(start),
                    end: Ipv4Addr::from(end),
                };
                (
                    s.net,
                    range,
                    self.counts.pool_bound(i, j),
                    p.free(),
                    p.size(),
                )
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

    /// Applies a new configuration without losing a lease or an exchange in flight: it is
    /// validated first (every mistake returned, nothing changed); then subnets, pools,
    /// options, reservations and limits are replaced, and every binding carried over.
    /// A lease whose address is no longer in a pool of its subnet (nor reserved) is kept
    /// until it expires and is not renewed; offers, ACKs waiting for their record, queued
    /// replies and records, timers and counters carry on.
    pub fn reconfigure(&mut self, config: ServerConfig) -> Result<(), Vec<ConfigError>> {
        let mut next = Server::new(config, self.now, self.anchor.1)?;
        next.anchor = self.anchor;
        next.hash_key = self.hash_key;
        next.bindings = self.bindings.empty_like();
        next.now = self.now;
        next.seq = self.seq;
        next.stats = core::mem::take(&mut self.stats);
        next.timers = core::mem::take(&mut self.timers);
        next.replies = core::mem::take(&mut self.replies);
        next.waiting = core::mem::take(&mut self.waiting);
        next.records = core::mem::take(&mut self.records);
        next.spare = core::mem::take(&mut self.spare);
        for (a, mut b) in core::mem::take(&mut self.bindings) {
            let address = Ipv4Addr::from(a);
            let subnet = next.subnets.iter().position(|s| s.net.contains(address));
            let placed = subnet.and_then(|i| {
                let s = &mut next.subnets[i];
                if b.state == BindingState::Recent {
                    // A recent lease only remembers; it holds nothing.
                    return s.pools.iter().any(|p| p.contains(a)).then_some(i);
                }
                if s.by_address.contains_key(&a) {
                    return Some(i);
                }
                s.pool_of(a).map(|p| {
                    p.take_specific(a);
                    i
                })
            });
            match placed {
                Some(i) => b.subnet = i as u16,
                None if b.state == BindingState::Recent => continue,
                None => b.subnet = ORPHAN,
            }
            if b.state != BindingState::Declined {
                let client = b.client.clone();
                next.bindings.insert(a, b);
                next.index_client(&client, a);
            } else {
                next.bindings.insert(a, b);
            }
        }
        for b in next.bindings.values() {
            let at = (b.subnet, b.address);
            tally(&mut next.counts, &next.subnets, at, None, Some(b.state));
        }
        *self = next;
        Ok(())
    }

    /// Deletes the lease (or offer) on `address`: the address is free again, and a
    /// `Released` record is emitted so the deletion outlives a restart. False when the
    /// address holds no lease or offer.
    pub fn delete_lease(&mut self, address: Ipv4Addr) -> bool {
        let a = u32::from(address);
        let Some(b) = self.bindings.get(&a) else {
            return false;
        };
        if !matches!(b.state, BindingState::Bound | BindingState::Offered) {
            return false;
        }
        let (client, bound) = (b.client.clone(), b.state == BindingState::Bound);
        self.unbind(a);
        if bound {
            self.record(a, &client, RecordKind::Released, self.now, None);
        }
        true
    }

    /// Adds a reservation at run time, to the subnet that contains its address. Refused
    /// when the address is outside every subnet, already reserved, or held by another
    /// client than the reservation's (delete that lease first). Runtime reservations last
    /// until the server stops: put them in the config to keep them.
    pub fn add_reservation(&mut self, r: Reservation) -> Result<(), ConfigError> {
        let a = u32::from(r.address);
        let at = alloc::format!("reservation {}", r.address);
        let Some(i) = self.subnets.iter().position(|s| s.net.contains(r.address)) else {
            return Err(ConfigError {
                at,
                what: "the address is in no configured subnet".into(),
            });
        };
        let s = &self.subnets[i];
        if s.by_address.contains_key(&a) || s.by_key.contains_key(&r.key) {
            return Err(ConfigError {
                at,
                what: alloc::format!("{} or the address is already reserved", r.key),
            });
        }
        let owner = match &r.key {
            ReservationKey::HardwareAddress(mac) => Some(ClientKey::hardware(1, mac)),
            ReservationKey::ClientId(id) => Some(ClientKey::new(id)),
            _ => None,
        };
        if let Some(b) = self.bindings.get(&a) {
            let held = matches!(b.state, BindingState::Bound | BindingState::Offered);
            if held && owner.as_ref() != Some(&b.client) {
                return Err(ConfigError {
                    at,
                    what: alloc::format!("the address is held by {}", b.client),
                });
            }
        }
        let free = !self.bindings.contains_key(&a)
            || self
                .bindings
                .get(&a)
                .is_some_and(|b| b.state == BindingState::Recent);
        let s = &mut self.subnets[i];
        if free {
            if let Some(p) = s.pool_of(a) {
                p.take_specific(a);
            }
        }
        s.by_key.insert(r.key.clone(), s.reservations.len());
        s.by_address.insert(a, s.reservations.len());
        s.reservations.push(r);
        Ok(())
    }

    /// Removes the reservation of `address`; a lease on it stays until it ends, and the
    /// address then goes back to its pool. False when there is none.
    pub fn remove_reservation(&mut self, address: Ipv4Addr) -> bool {
        let a = u32::from(address);
        let Some(i) = self
            .subnets
            .iter()
            .position(|s| s.by_address.contains_key(&a))
        else {
            return false;
        };
        let held = self
            .bindings
            .get(&a)
            .is_some_and(|b| !matches!(b.state, BindingState::Recent));
        let s = &mut self.subnets[i];
        s.reservations.retain(|r| r.address != address);
        s.by_key = s
            .reservations
            .iter()
            .enumerate()
            .map(|(n, r)| (r.key.clone(), n))
            .collect();
        s.by_address = s
            .reservations
            .iter()
            .enumerate()
            .map(|(n, r)| (u32::from(r.address), n))
            .collect();
        if !held {
            if let Some(p) = s.pool_of(a) {
                p.give_back(a);
            }
        }
        true
    }

    /// Every reservation: its subnet and itself.
    pub fn reservations(&self) -> impl Iterator<Item = (Ipv4Net, &Reservation)> + '_ {
        self.subnets
            .iter()
            .flat_map(|s| s.reservations.iter().map(move |r| (s.net, r)))
    }

    /// The client an address is bound to (offers and recent leases don't count).
    pub fn bound_to(&self, address: Ipv4Addr) -> Option<&ClientKey> {
        self.bindings
            .get(&u32::from(address))
            .filter(|b| b.state == BindingState::Bound)
            .map(|b| &b.client)
    }

    /// Every bound lease: address, client, expiry.
    pub fn leases(&self) -> impl Iterator<Item = (Ipv4Addr, &ClientKey, Instant)> + '_ {
        self.bindings
            .iter()
            .filter(|(_, b)| b.state == BindingState::Bound)
            .map(|(a, b)| (Ipv4Addr::from(*a), &b.client, self.instant(b.until)))
    }

    // ---- outputs ------------------------------------------------------------------------

    /// The next lease record to make durable. After writing a batch, call
    /// [`persisted`](Self::persisted) with the highest `seq` written.
    pub fn poll_persist(&mut self) -> Option<LeaseRecord> {
        self.records.pop_front()
    }

    /// The next deadline (an offer or a lease expiring).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|t| self.instant(t))
    }

    /// Copies the next reply into `buf` and says where it goes. A reply never exceeds the
    /// client's maximum message size (at most 1500 bytes here); a `buf` too short for the
    /// next reply gets `None` and the reply stays queued.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        let r = self.replies.front()?;
        let dst = buf.get_mut(..r.len)?;
        dst.copy_from_slice(r.bytes.get(..r.len)?);
        let r = self.replies.pop_front()?;
        self.stats.sent(r.kind);
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

    /// Records up to `seq` are durable: their ACKs may go.
    pub fn persisted(&mut self, seq: u64) {
        while self.waiting.front().is_some_and(|(s, _, _, _)| *s <= seq) {
            let Some((_, until, owner, r)) = self.waiting.pop_front() else {
                break;
            };
            // While the record waited, the lease may have run out (and the address gone to
            // another client) or been renewed again: then this ACK would promise what is
            // no longer so, and it is dropped.
            match self.bindings.get_mut(&u32::from(r.yiaddr)) {
                Some(b)
                    if b.state == BindingState::Bound && b.until == until && b.client == owner =>
                {
                    b.durable = until;
                    self.replies.push_back(r);
                }
                _ => {
                    self.stats.stale_acks += 1;
                    self.spare.push(r.bytes);
                }
            }
        }
    }

    /// The store refused record `seq` (another server holds the address): its ACK is
    /// replaced by a NAK, so the client starts over at once with a DISCOVER, and the
    /// address is taken out of use for the offer hold time, so that it gets another one.
    pub fn persist_failed(&mut self, seq: u64) {
        let Some(i) = self.waiting.iter().position(|(s, _, _, _)| *s == seq) else {
            return;
        };
        let Some((_, leased, owner, r)) = self.waiting.remove(i) else {
            return;
        };
        self.stats.persist_failures += 1;
        if let Some(nak) = self.nak_instead(&r) {
            self.replies.push_back(nak);
        }
        self.spare.push(r.bytes);
        let a = u32::from(r.yiaddr);
        let until = self.deadline(self.now + self.offer_hold);
        // Only the lease the record was for is taken out, not one that replaced it since.
        if let Some(b) = self
            .bindings
            .get_mut(&a)
            .filter(|b| b.until == leased && b.client == owner)
        {
            let at = (b.subnet, a);
            let (old, new) = (Some(b.state), Some(BindingState::Conflict));
            tally(&mut self.counts, &self.subnets, at, old, new);
            b.state = BindingState::Conflict;
            b.until = until;
            let client = b.client.clone();
            self.add_timer(until, a);
            self.unindex_client(&client, a);
        }
    }

    /// The NAK that replaces an ACK whose lease the store refused, written from the ACK
    /// as a NAK to its request would be (RFC 2131 table 3; client id and option 82 echoed).
    fn nak_instead(&mut self, ack: &Encoded) -> Option<Encoded> {
        let m = Message::parse(ack.bytes.get(..ack.len)?).ok()?;
        let subnet = self
            .subnets
            .iter()
            .position(|s| s.net.contains(ack.yiaddr))?;
        let mut r = Reply::to(
            &m,
            MessageType::Nak,
            Ipv4Addr::UNSPECIFIED,
            ack.source,
            subnet as u16,
            ack.interface,
        );
        r.nak_message = b"address taken by another server";
        self.encode_reply(&r)
    }

    /// The store could not write record `seq` (a full disk, a database that is down).
    /// A renewal whose lease has a durable record still running is answered with that
    /// lease, shortened to what the store holds; any other ACK is withheld, and a lease
    /// that was new is undone, its address free again. The client retries, and gets its
    /// lease once the store writes again.
    pub fn persist_unavailable(&mut self, seq: u64) {
        let Some(i) = self.waiting.iter().position(|(s, _, _, _)| *s == seq) else {
            return;
        };
        let Some((_, until, owner, mut r)) = self.waiting.remove(i) else {
            return;
        };
        self.stats.persist_failures += 1;
        let a = u32::from(r.yiaddr);
        let now = self.deadline(self.now);
        let Some(b) = self.bindings.get_mut(&a) else {
            return;
        };
        // As in `persisted`: a lease that ran out or moved on meanwhile is not answered.
        if b.state != BindingState::Bound || b.until != until || b.client != owner {
            return;
        }
        if b.durable > now {
            let left = b.durable.0 - now.0;
            let durable = b.durable;
            if left > 0 && set_lease_times(&mut r.bytes[..r.len], left) {
                b.until = durable;
                self.add_timer(durable, a);
                self.stats.acks_from_durable += 1;
                self.replies.push_back(r);
                return;
            }
        }
        if b.durable == Deadline(0) {
            self.unbind(a);
        }
    }

    /// Keys the machine's hash tables with `seed` (from the OS's randomness, say) instead of
    /// the start time, so that no one can predict which clients share a bucket. Takes
    /// effect only on a machine that holds no binding yet (call it right after
    /// [`new`](Self::new)); otherwise the machine is returned as it was.
    pub fn with_seed(mut self, seed: u64) -> Self {
        if self.bindings.len() == 0 && self.clients.len() == 0 {
            self.bindings = Bindings::with_seed(seed);
            self.hash_key = crate::rng::Rng::new(seed ^ 0x5eed).next_u64();
        }
        self
    }

    /// Makes room for `leases` more bindings at once (before restoring that many records),
    /// instead of growing the tables step by step.
    pub fn reserve(&mut self, leases: usize) {
        self.bindings.reserve(leases);
        self.clients.reserve(leases);
    }

    /// Replays one record at start-up (records in the order they were written).
    pub fn restore(&mut self, record: &LeaseRecord) {
        let a = u32::from(record.address);
        let Some(subnet) = self
            .subnets
            .iter()
            .position(|s| s.net.contains(record.address))
        else {
            return;
        };
        self.seq = self.seq.max(record.seq);
        // Records hold whole seconds and the two clocks' anchors differ by a fraction of
        // one: a second more keeps a restored lease or probation from ending early.
        let expires = self.instant_of(record.expires.saturating_add(1));
        let until = self.deadline(expires);
        self.unbind(a);
        let live = expires > self.now;
        let state = match record.kind {
            RecordKind::Bound if live => BindingState::Bound,
            RecordKind::Declined if live => BindingState::Declined,
            RecordKind::Declined => return,
            _ => BindingState::Recent,
        };
        if state != BindingState::Recent {
            if let Some(p) = self.subnets[subnet].pool_of(a) {
                p.take_specific(a);
            }
            self.add_timer(until, a);
        }
        // A client holds one address. A release of an address it left replays as a
        // memory of it, not as its current address: servers sharing a store may read the
        // release after the lease that replaced it.
        let moved_on = state == BindingState::Recent
            && self.client_of(&record.client).is_some_and(|b| {
                b != a
                    && self
                        .bindings
                        .get(&b)
                        .is_some_and(|b| b.state == BindingState::Bound)
            });
        if state != BindingState::Declined && !moved_on {
            self.forget_other_address(&record.client, a);
            self.index_client(&record.client, a);
        }
        let old = self.bindings.insert(
            a,
            Binding {
                address: a,
                client: record.client.clone(),
                state,
                until,
                durable: if state == BindingState::Bound {
                    until
                } else {
                    Deadline(0)
                },
                subnet: subnet as u16,
            },
        );
        self.count_inserted(a, old.as_ref(), subnet as u16, state);
    }

    /// Expires offers, leases and declined addresses whose time has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.clock(now);
        let since = now.saturating_duration_since(self.anchor.0).as_secs();
        let due = Deadline(u32::try_from(since).unwrap_or(u32::MAX).min(u32::MAX - 1));
        while let Some((t, a)) = self.timers.pop_due(due) {
            let Some(b) = self.bindings.get(&a) else {
                continue;
            };
            if b.until != t {
                continue;
            }
            match b.state {
                BindingState::Offered => {
                    self.stats.offers_expired += 1;
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

    /// `t` as a deadline: whole seconds after the epoch, rounded up.
    fn deadline(&self, t: Instant) -> Deadline {
        if t == Instant::MAX {
            return Deadline::NEVER;
        }
        let since = t.saturating_duration_since(self.anchor.0);
        let secs = since.as_secs() + u64::from(since.subsec_nanos() > 0);
        Deadline(u32::try_from(secs).unwrap_or(u32::MAX).min(u32::MAX - 1))
    }

    fn instant(&self, d: Deadline) -> Instant {
        if d == Deadline::NEVER {
            Instant::MAX
        } else {
            self.anchor.0 + Duration::from_secs(u64::from(d.0))
        }
    }

    /// `t` in Unix seconds, rounded up (a deadline is never written earlier than it is).
    fn unix_of(&self, t: Instant) -> u64 {
        let (at, unix) = self.anchor;
        if t == Instant::MAX {
            return u64::MAX;
        }
        if t >= at {
            let d = t - at;
            unix.saturating_add(d.as_secs() + u64::from(d.subsec_nanos() > 0))
        } else {
            unix.saturating_sub((at - t).as_secs())
        }
    }

    fn instant_of(&self, unix: u64) -> Instant {
        let (at, base) = self.anchor;
        if unix >= base {
            at + Duration::from_secs(unix - base)
        } else {
            at - Duration::from_secs(base - unix)
        }
    }

    /// Adds a deadline for `a`, and drops the stale entries when they come to outnumber
    /// the bindings three to one (amortized O(log n): a lease renewed at T1 has two entries
    /// at times, which alone never sets this off).
    fn add_timer(&mut self, until: Deadline, a: u32) {
        self.timers.insert(until, a);
        if self.timers.len() > 3 * self.bindings.len() + 1024 {
            let live = self
                .bindings
                .values()
                .filter(|b| b.state != BindingState::Recent);
            self.timers
                .rebuild(live.map(|b| (b.until, b.address)).collect());
        }
    }

    /// Counts the binding of `a` just inserted in `subnet` as `state`, in place of `old`.
    fn count_inserted(&mut self, a: u32, old: Option<&Binding>, subnet: u16, state: BindingState) {
        if let Some(old) = old {
            let was = Some(old.state);
            tally(&mut self.counts, &self.subnets, (old.subnet, a), was, None);
        }
        tally(
            &mut self.counts,
            &self.subnets,
            (subnet, a),
            None,
            Some(state),
        );
    }

    /// Frees `a` in its pool and forgets its binding.
    fn unbind(&mut self, a: u32) {
        if let Some(b) = self.bindings.remove(&a) {
            tally(
                &mut self.counts,
                &self.subnets,
                (b.subnet, a),
                Some(b.state),
                None,
            );
            self.unindex_client(&b.client, a);
            if b.state != BindingState::Recent {
                self.give_back(usize::from(b.subnet), a);
            }
        }
    }

    /// Frees `a` but remembers whose it was.
    fn make_recent(&mut self, a: u32) {
        let Some(b) = self.bindings.get_mut(&a) else {
            return;
        };
        if b.state == BindingState::Recent {
            return;
        }
        if b.subnet == ORPHAN {
            // Nothing to remember a lease by whose pool is gone.
            self.unbind(a);
            return;
        }
        let (old, new) = (Some(b.state), Some(BindingState::Recent));
        tally(&mut self.counts, &self.subnets, (b.subnet, a), old, new);
        b.state = BindingState::Recent;
        b.durable = Deadline(0);
        let subnet = usize::from(b.subnet);
        self.give_back(subnet, a);
    }

    fn give_back(&mut self, subnet: usize, a: u32) {
        if let Some(s) = self.subnets.get_mut(subnet) {
            if !s.by_address.contains_key(&a) {
                if let Some(p) = s.pool_of(a) {
                    p.give_back(a);
                }
            }
        }
    }

    /// Marks `a` used for `client` (taking it from its pool if it was free).
    fn bind(
        &mut self,
        subnet: usize,
        a: u32,
        client: &ClientKey,
        state: BindingState,
        until: Instant,
    ) {
        let until = self.deadline(until);
        // The common case (REQUEST after OFFER, a renewal): same client, same address.
        if let Some(b) = self.bindings.get_mut(&a) {
            if b.client == *client && matches!(b.state, BindingState::Offered | BindingState::Bound)
            {
                let old = core::mem::replace(&mut b.until, until);
                tally(
                    &mut self.counts,
                    &self.subnets,
                    (b.subnet, a),
                    Some(b.state),
                    Some(state),
                );
                b.state = state;
                if old != until {
                    self.add_timer(until, a);
                }
                return;
            }
        }
        let was_free = match self.bindings.get(&a) {
            None => true,
            Some(b) => b.state == BindingState::Recent,
        };
        if let Some(old) = self.bindings.get(&a) {
            if old.client != *client {
                let old_client = old.client.clone();
                self.unindex_client(&old_client, a);
            }
        }
        if was_free {
            if let Some(p) = self.subnets.get_mut(subnet).and_then(|s| {
                if s.by_address.contains_key(&a) {
                    None
                } else {
                    s.pool_of(a)
                }
            }) {
                p.take_specific(a);
            }
        }
        if let Some(left) = self.forget_other_address(client, a) {
            // Durably, so that a store the address is shared through frees it too.
            self.record(left, client, RecordKind::Released, self.now, None);
        }
        self.index_client(client, a);
        let old = self.bindings.insert(
            a,
            Binding {
                address: a,
                client: client.clone(),
                state,
                until,
                durable: Deadline(0),
                subnet: subnet as u16,
            },
        );
        self.count_inserted(a, old.as_ref(), subnet as u16, state);
        self.add_timer(until, a);
    }

    fn client_hash(&self, c: &ClientKey) -> u64 {
        // FNV-1a over the key, keyed and finished with a SplitMix64 round, so that clients
        // can't choose ids that collide.
        let mut h = 0xcbf2_9ce4_8422_2325 ^ self.hash_key;
        for &b in c.as_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^ (h >> 31)
    }

    /// The client's current address, if it has one.
    fn client_of(&self, c: &ClientKey) -> Option<u32> {
        let h = self.client_hash(c) as u32;
        match self.clients.get(h) {
            Some(a) if self.bindings.get(&a).is_some_and(|b| b.client == *c) => Some(a),
            _ if self.collided.is_empty() => None,
            _ => self.collided.get(&h)?.get(c).copied(),
        }
    }

    /// Records `a` as the client's current address.
    fn index_client(&mut self, c: &ClientKey, a: u32) {
        let h = self.client_hash(c) as u32;
        let taken = self.clients.get(h).is_some_and(|x| {
            self.bindings
                .get(&x)
                .is_some_and(|b| b.client != *c && x != a)
        });
        if taken {
            self.collided.entry(h).or_default().insert(c.clone(), a);
        } else {
            self.clients.insert(h, a);
            if !self.collided.is_empty() {
                self.drop_collided(h, c, None);
            }
        }
    }

    /// Forgets `a` as the client's current address.
    fn unindex_client(&mut self, c: &ClientKey, a: u32) {
        let h = self.client_hash(c) as u32;
        if self.clients.get(h) == Some(a) {
            self.clients.remove(h);
        } else if !self.collided.is_empty() {
            self.drop_collided(h, c, Some(a));
        }
    }

    /// Removes the client's `collided` entry (only if it holds `a`, when given).
    fn drop_collided(&mut self, h: u32, c: &ClientKey, a: Option<u32>) {
        if let Some(same) = self.collided.get_mut(&h) {
            if a.is_none_or(|a| same.get(c) == Some(&a)) {
                same.remove(c);
            }
            if same.is_empty() {
                self.collided.remove(&h);
            }
        }
    }

    /// A client holds one address: when it gets `a`, an older one of its goes back.
    /// Returns the address of a lease this ended.
    fn forget_other_address(&mut self, client: &ClientKey, a: u32) -> Option<u32> {
        let old = self.client_of(client).filter(|&old| old != a)?;
        match self.bindings.get(&old).map(|b| b.state) {
            Some(BindingState::Offered) => self.unbind(old),
            Some(BindingState::Bound) => {
                self.make_recent(old);
                return Some(old);
            }
            _ => {}
        }
        None
    }

    fn is_free_for(
        &self,
        subnet: usize,
        a: u32,
        client: &ClientKey,
        reservation: Option<usize>,
    ) -> bool {
        let Some(s) = self.subnets.get(subnet) else {
            return false;
        };
        if s.reserved_for_other(a, reservation) {
            return false;
        }
        match self.bindings.get(&a) {
            // A lease whose pool a reload removed runs out; it is not renewed.
            Some(b) if b.subnet == ORPHAN => false,
            Some(b) if b.client == *client => matches!(
                b.state,
                BindingState::Offered | BindingState::Bound | BindingState::Recent
            ),
            Some(b) if b.state == BindingState::Recent => s.pools.iter().any(|p| p.is_free(a)),
            Some(_) => false,
            None => {
                reservation.is_some_and(|r| {
                    s.reservations
                        .get(r)
                        .is_some_and(|r| u32::from(r.address) == a)
                }) || s.pools.iter().any(|p| p.is_free(a))
            }
        }
    }

    fn reservation_of(
        &self,
        subnet: usize,
        m: &Message<'_>,
        relay: Option<&RelayAgentInfo<'_>>,
    ) -> Option<usize> {
        let s = self.subnets.get(subnet)?;
        if s.by_key.is_empty() {
            return None;
        }
        let mut keys: heapless::Vec<ReservationKey, 4> = heapless::Vec::new();
        if let Ok(Some(id)) = m.client_id() {
            let _ = keys.push(ReservationKey::ClientId(id.data().bytes().collect()));
        }
        let _ = keys.push(ReservationKey::HardwareAddress(m.chaddr().to_vec()));
        if let Some(r) = relay {
            if let Some(c) = r.circuit_id() {
                let _ = keys.push(ReservationKey::CircuitId(c.bytes().collect()));
            }
            if let Some(c) = r.remote_id() {
                let _ = keys.push(ReservationKey::RemoteId(c.bytes().collect()));
            }
        }
        keys.iter().find_map(|k| s.by_key.get(k).copied())
    }

    /// The address to offer: the reservation, the client's current or recent address, the
    /// requested one, else a free one.
    fn choose(
        &mut self,
        subnet: usize,
        client: &ClientKey,
        requested: Option<Ipv4Addr>,
        reservation: Option<usize>,
    ) -> Option<u32> {
        if let Some(r) = reservation.and_then(|r| self.subnets[subnet].reservations.get(r)) {
            let a = u32::from(r.address);
            if self.is_free_for(subnet, a, client, reservation) {
                return Some(a);
            }
        }
        if let Some(a) = self.client_of(client) {
            let same_subnet = self
                .bindings
                .get(&a)
                .is_some_and(|b| usize::from(b.subnet) == subnet);
            if same_subnet && self.is_free_for(subnet, a, client, reservation) {
                return Some(a);
            }
        }
        if let Some(a) = requested.map(u32::from) {
            let s = &self.subnets[subnet];
            if s.pools.iter().any(|p| p.contains(a))
                && self.is_free_for(subnet, a, client, reservation)
            {
                return Some(a);
            }
        }
        let s = &mut self.subnets[subnet];
        // `bind` takes it from the pool.
        s.pools.iter_mut().find_map(Pool::peek)
    }

    fn lease_secs(&self, subnet: usize, m: &Message<'_>) -> (u32, u32, u32) {
        let t = self.subnets[subnet].times;
        let default = t.default.unwrap_or(3600).max(1);
        let min = t.min.unwrap_or(1).max(1);
        let max = t.max.unwrap_or(u32::MAX).max(min);
        let lease = m
            .lease_time()
            .ok()
            .flatten()
            .map_or(default, |asked| asked.clamp(min, max));
        if lease == u32::MAX {
            return (lease, u32::MAX, u32::MAX);
        }
        let t2 = t
            .rebinding
            .filter(|&t2| t2 < lease)
            .unwrap_or((u64::from(lease) * 7 / 8) as u32);
        let t1 = t
            .renewal
            .filter(|&t1| t1 < t2)
            .unwrap_or(lease / 2)
            .min(t2.saturating_sub(1));
        (lease, t1, t2)
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
        let kind = m
            .message_type()
            .map_err(|_| DropReason::BadOption)?
            .ok_or(DropReason::Unexpected)?;
        self.stats.received(kind);
        let client = match m.client_id() {
            // RFC 3396 pieces can add up past what any client id is: refused, not cut.
            Ok(Some(id)) if id.data().len() > 255 => return Err(DropReason::BadOption),
            Ok(Some(id)) => ClientKey::new(&heapless_from::<255>(id.data().bytes())),
            _ => ClientKey::hardware(m.htype(), m.chaddr()),
        };
        if self.rate_limit.is_some() {
            let hash = self.client_hash(&client);
            let second = self.deadline(now).0;
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
        let subnet = self
            .subnets
            .iter()
            .position(|s| s.net.contains(link))
            .ok_or(DropReason::NoSubnet)?;
        let own_id = self.subnets[subnet].server_id.unwrap_or(meta.local_address);
        let server_id = relay
            .and_then(|r| r.server_id_override().ok().flatten())
            .unwrap_or(own_id);
        let reservation = self.reservation_of(subnet, &m, relay.as_ref());
        let ctx = Ctx {
            m: &m,
            meta,
            subnet,
            server_id,
            reservation,
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

    fn on_discover(
        &mut self,
        now: Instant,
        ctx: &Ctx<'_, '_>,
        client: &ClientKey,
    ) -> Result<(), DropReason> {
        let requested = ctx.m.requested_ip().ok().flatten();
        let a = self
            .choose(ctx.subnet, client, requested, ctx.reservation)
            .ok_or(DropReason::PoolExhausted)?;
        let rapid = self.subnets[ctx.subnet].rapid_commit && ctx.m.rapid_commit() == Ok(true);
        if rapid {
            self.commit(now, ctx, client, a);
            return Ok(());
        }
        let held = self
            .bindings
            .get(&a)
            .filter(|b| b.client == *client)
            .map(|b| b.state);
        if held.is_none() && ctx.reservation.is_none() && self.counts.offered >= self.max_offers {
            return Err(DropReason::TooManyOffers);
        }
        let bound = held == Some(BindingState::Bound);
        if !bound {
            self.bind(
                ctx.subnet,
                a,
                client,
                BindingState::Offered,
                now + self.offer_hold,
            );
        }
        let times = self.lease_secs(ctx.subnet, ctx.m);
        self.reply(ctx, MessageType::Offer, Ipv4Addr::from(a), Some(times));
        Ok(())
    }

    /// Binds `a` to `client`, emits the record and queues the ACK behind it.
    fn commit(&mut self, now: Instant, ctx: &Ctx<'_, '_>, client: &ClientKey, a: u32) {
        let times = self.lease_secs(ctx.subnet, ctx.m);
        let until = if times.0 == u32::MAX {
            Instant::MAX
        } else {
            now + Duration::from_secs(u64::from(times.0))
        };
        self.bind(ctx.subnet, a, client, BindingState::Bound, until);
        let host_name = ctx
            .m
            .host_name()
            .ok()
            .flatten()
            .filter(|h| h.is_printable_ascii())
            .map(|h| h.data().bytes().collect());
        self.record(a, client, RecordKind::Bound, until, host_name);
        if let Some(r) = self.encode(ctx, MessageType::Ack, Ipv4Addr::from(a), Some(times)) {
            let until = self.deadline(until);
            self.waiting.push_back((self.seq, until, client.clone(), r));
        }
    }

    /// Emits the next lease record for the caller to make durable.
    fn record(
        &mut self,
        a: u32,
        client: &ClientKey,
        kind: RecordKind,
        expires: Instant,
        host_name: Option<Vec<u8>>,
    ) {
        self.seq += 1;
        self.records.push_back(LeaseRecord {
            seq: self.seq,
            address: Ipv4Addr::from(a),
            client: client.clone(),
            kind,
            expires: self.unix_of(expires),
            host_name,
        });
    }

    fn nak(&mut self, ctx: &Ctx<'_, '_>) {
        self.reply(ctx, MessageType::Nak, Ipv4Addr::UNSPECIFIED, None);
    }

    fn on_request(
        &mut self,
        now: Instant,
        ctx: &Ctx<'_, '_>,
        client: &ClientKey,
    ) -> Result<(), DropReason> {
        let m = ctx.m;
        let server_id = m.server_id().map_err(|_| DropReason::BadOption)?;
        let requested = m.requested_ip().map_err(|_| DropReason::BadOption)?;
        let net = self.subnets[ctx.subnet].net;
        let authoritative = self.subnets[ctx.subnet].authoritative;
        if let Some(sid) = server_id {
            // SELECTING: the client chose a server.
            if sid != ctx.server_id {
                if let Some(a) = self.client_of(client) {
                    if self
                        .bindings
                        .get(&a)
                        .is_some_and(|b| b.state == BindingState::Offered)
                    {
                        self.unbind(a);
                    }
                }
                return Err(DropReason::OtherServer);
            }
            let a = u32::from(requested.unwrap_or(m.ciaddr()));
            let ours = self.bindings.get(&a).is_some_and(|b| {
                b.client == *client
                    && matches!(
                        b.state,
                        BindingState::Offered | BindingState::Bound | BindingState::Recent
                    )
            });
            if ours && self.is_free_for(ctx.subnet, a, client, ctx.reservation) {
                self.commit(now, ctx, client, a);
            } else {
                self.nak(ctx);
            }
            return Ok(());
        }
        // INIT-REBOOT (option 50) or RENEWING/REBINDING (ciaddr).
        let address = match requested {
            Some(a) => a,
            None if !m.ciaddr().is_unspecified() => m.ciaddr(),
            None => return Err(DropReason::BadOption),
        };
        let a = u32::from(address);
        if !net.is_host(address) {
            self.nak(ctx);
            return Ok(());
        }
        // A reserved client asking for another address is told no, so it takes its own.
        if let Some(r) = ctx
            .reservation
            .and_then(|r| self.subnets[ctx.subnet].reservations.get(r))
        {
            if r.address != address {
                self.nak(ctx);
                return Ok(());
            }
        }
        match self.bindings.get(&a) {
            Some(b)
                if b.client == *client
                    && b.state != BindingState::Declined
                    && b.state != BindingState::Conflict =>
            {
                if self.is_free_for(ctx.subnet, a, client, ctx.reservation) {
                    self.commit(now, ctx, client, a);
                } else {
                    self.nak(ctx);
                }
            }
            Some(b) if b.state != BindingState::Recent => self.nak(ctx),
            _ if !authoritative => return Err(DropReason::Unknown),
            _ => {
                let in_pool = self.subnets[ctx.subnet].pools.iter().any(|p| p.contains(a));
                let reserved_here = ctx.reservation.is_some();
                if (in_pool || reserved_here)
                    && self.is_free_for(ctx.subnet, a, client, ctx.reservation)
                {
                    self.commit(now, ctx, client, a);
                } else {
                    self.nak(ctx);
                }
            }
        }
        Ok(())
    }

    fn on_decline(
        &mut self,
        now: Instant,
        ctx: &Ctx<'_, '_>,
        client: &ClientKey,
    ) -> Result<(), DropReason> {
        let a = u32::from(
            ctx.m
                .requested_ip()
                .ok()
                .flatten()
                .ok_or(DropReason::BadOption)?,
        );
        let held = self.bindings.get(&a).is_some_and(|b| {
            b.client == *client && matches!(b.state, BindingState::Offered | BindingState::Bound)
        });
        if !held {
            return Err(DropReason::NotHeld);
        }
        let until_instant = now + self.decline_probation;
        let until = self.deadline(until_instant);
        if let Some(b) = self.bindings.get_mut(&a) {
            let (old, new) = (Some(b.state), Some(BindingState::Declined));
            tally(&mut self.counts, &self.subnets, (b.subnet, a), old, new);
            b.state = BindingState::Declined;
            b.until = until;
        }
        self.add_timer(until, a);
        self.unindex_client(client, a);
        self.record(a, client, RecordKind::Declined, until_instant, None);
        Ok(())
    }

    fn on_release(&mut self, ctx: &Ctx<'_, '_>, client: &ClientKey) -> Result<(), DropReason> {
        let a = u32::from(ctx.m.ciaddr());
        let held = self
            .bindings
            .get(&a)
            .is_some_and(|b| b.client == *client && b.state == BindingState::Bound);
        if !held {
            return Err(DropReason::NotHeld);
        }
        self.make_recent(a);
        self.record(a, client, RecordKind::Released, self.now, None);
        Ok(())
    }

    fn reply(
        &mut self,
        ctx: &Ctx<'_, '_>,
        kind: MessageType,
        yiaddr: Ipv4Addr,
        times: Option<(u32, u32, u32)>,
    ) {
        let kind = if kind == MessageType::Inform {
            MessageType::Ack
        } else {
            kind
        };
        if let Some(r) = self.encode(ctx, kind, yiaddr, times) {
            self.replies.push_back(r);
        }
    }

    /// Builds and writes a reply now, into a reused buffer.
    fn encode(
        &mut self,
        ctx: &Ctx<'_, '_>,
        kind: MessageType,
        yiaddr: Ipv4Addr,
        times: Option<(u32, u32, u32)>,
    ) -> Option<Encoded> {
        let r = self.build(ctx, kind, yiaddr, times);
        self.encode_reply(&r)
    }

    /// Writes `r` into a reused buffer: the options in the client's order, or, if that
    /// crowds out what every reply must carry, the must-haves first. `None` when neither
    /// fits the client's maximum message size.
    #[inline(always)]
    fn encode_reply(&mut self, r: &Reply<'_>) -> Option<Encoded> {
        // The builder writes every byte of the message, so a reused buffer needs no zeroing.
        let mut bytes = self.spare.pop().unwrap_or_else(|| alloc::vec![0; 1500]);
        let cache = &mut self.option_cache;
        let written = Self::write(&self.subnets, cache, r, &mut bytes, false)
            .or_else(|_| Self::write(&self.subnets, cache, r, &mut bytes, true));
        let Ok(len) = written else {
            self.spare.push(bytes);
            return None;
        };
        Some(Encoded {
            bytes,
            len,
            kind: r.kind,
            yiaddr: r.yiaddr,
            destination: r.destination,
            interface: r.interface,
            source: r.server_id,
            hardware: r.hardware,
        })
    }

    /// The reply to the request in `ctx`, and where it goes (RFC 2131 section 4.1).
    #[inline(always)]
    fn build<'r>(
        &self,
        ctx: &Ctx<'_, 'r>,
        kind: MessageType,
        yiaddr: Ipv4Addr,
        times: Option<(u32, u32, u32)>,
    ) -> Reply<'r> {
        let m = ctx.m;
        let mut r = Reply::to(
            m,
            kind,
            yiaddr,
            ctx.server_id,
            ctx.subnet as u16,
            ctx.meta.interface,
        );
        r.reservation = ctx.reservation.map(|r| r as u16);
        r.lease = times;
        r.rapid_commit = kind == MessageType::Ack
            && m.rapid_commit() == Ok(true)
            && self.subnets[ctx.subnet].rapid_commit;
        r
    }

    fn write(
        subnets: &[Subnet],
        cache: &mut OptionCache,
        r: &Reply<'_>,
        buf: &mut [u8],
        musts_first: bool,
    ) -> Result<usize, EmitError> {
        let subnet = subnets
            .get(usize::from(r.subnet))
            .ok_or(EmitError::BufferTooSmall { available: 0 })?;
        let reservation = r
            .reservation
            .and_then(|i| subnet.reservations.get(usize::from(i)));
        let mut b = MessageBuilder::new(buf)?;
        b.op(Op::BootReply)
            .htype(r.htype)
            .xid(r.xid)
            .flags(r.flags)
            .ciaddr(r.ciaddr)
            .yiaddr(r.yiaddr)
            .giaddr(r.giaddr);
        b.chaddr(&r.chaddr)?;
        b.max_len(r.max_len)?.allow_overload(true);
        b.message_type(r.kind)?.server_id(r.server_id)?;
        let mut written = Written::default();
        written.mark(53);
        written.mark(54);
        if r.kind == MessageType::Nak {
            b.error_message(r.nak_message)?;
        } else {
            let host_name = reservation.and_then(|res| res.host_name.as_deref());
            // Nearly every reply writes a block of options seen before (the same list on
            // the same subnet): copied, with this lease's times.
            let list = r
                .prl
                .and_then(|p| p.as_slice())
                .filter(|l| !l.is_empty() && !musts_first && reservation.is_none());
            let times = Times::of(r.lease);
            let copied_block = match list {
                Some(l) => cache
                    .get(r.subnet, times, l)
                    .is_some_and(|block| block.write(&mut b, r.lease)),
                None => false,
            };
            if !copied_block {
                let start = b.options_mark();
                let dropped =
                    Self::write_listed(&mut b, &mut written, r, subnet, reservation, musts_first)?;
                // Kept only when it is the whole answer to the list, in one piece.
                if let (Some(l), Some(start), false) = (list, start, dropped) {
                    if let Some(bytes) = b.written_since(start) {
                        cache.put(r.subnet, times, l, bytes);
                    }
                }
            }
            if let Some(h) = host_name {
                if !written.mark(12) {
                    b.host_name(h.as_bytes())?;
                }
            }
            if r.rapid_commit {
                b.rapid_commit()?;
            }
        }
        if let Some(id) = &r.client_id {
            b.option_data(OptionCode::CLIENT_ID, id)?;
        }
        if let Some(info) = &r.relay_info {
            b.option_data(OptionCode::RELAY_AGENT_INFO, info)?;
        }
        b.finish()
    }
}

impl Server {
    /// Writes the options `r`'s parameter request list asks for, in its order (all those
    /// configured, `reservation`'s first, when it sent none), and what every lease carries; with `musts_first`,
    /// those first. An option that does not fit in the client's maximum message size is
    /// left out (the result says whether one was); a must-have that does not fit is an
    /// error.
    fn write_listed(
        b: &mut MessageBuilder<'_>,
        written: &mut Written,
        r: &Reply<'_>,
        subnet: &Subnet,
        reservation: Option<&Reservation>,
        musts_first: bool,
    ) -> Result<bool, EmitError> {
        let host_name = reservation.and_then(|res| res.host_name.as_deref());
        let value = |code: u8| -> Option<[u8; 4]> {
            match code {
                1 => Some(subnet.net.mask().octets()),
                _ => lease_option(code, r.lease).map(u32::to_be_bytes),
            }
        };
        let configured = |code: u8| -> Option<&[u8]> {
            if code == 12 {
                if let Some(h) = host_name {
                    return Some(h.as_bytes());
                }
            }
            reservation
                .and_then(|res| res.options.get(OptionCode(code)))
                .or_else(|| subnet.options.get(code))
        };
        let musts: &[u8] = if r.lease.is_some() {
            &[51, 58, 59, 1]
        } else {
            &[1]
        };
        if musts_first {
            for &code in musts {
                if let Some(v) = value(code) {
                    written.mark(code);
                    b.option(OptionCode(code), &v)?;
                }
            }
        }
        // The list as it lies in the request when it is one piece (nearly always).
        let copied: heapless::Vec<u8, 255>;
        let wanted: &[u8] = match r.prl.filter(|p| !p.is_empty()) {
            Some(prl) => match prl.as_slice() {
                Some(slice) => slice,
                None => {
                    copied = heapless_from(prl.bytes());
                    &copied
                }
            },
            None => {
                copied = heapless_from(
                    reservation
                        .iter()
                        .flat_map(|res| res.options.iter())
                        .map(|(c, _)| c.0)
                        .chain(subnet.options.codes().iter().copied()),
                );
                &copied
            }
        };
        let mut dropped = false;
        for &code in wanted {
            if matches!(code, 0 | 255 | 61 | 82) || written.mark(code) {
                continue;
            }
            // `value` knows exactly the must-haves: one that does not fit is an error.
            if let Some(v) = value(code) {
                b.option(OptionCode(code), &v)?;
            } else if let Some(v) = configured(code) {
                dropped |= b.option(OptionCode(code), v).is_err();
            }
        }
        for &code in musts {
            if let Some(v) = value(code) {
                if !written.mark(code) {
                    b.option(OptionCode(code), &v)?;
                }
            }
        }
        Ok(dropped)
    }
}

/// The option codes a reply has written, so that none is written twice.
#[derive(Default)]
struct Written([u64; 4]);

impl Written {
    /// Marks `code` written; true when it already was.
    #[inline]
    fn mark(&mut self, code: u8) -> bool {
        let (w, bit) = (usize::from(code >> 6), 1u64 << (code & 63));
        let seen = self.0[w] & bit != 0;
        self.0[w] |= bit;
        seen
    }
}

/// Rewrites the lease time (51) of an encoded reply to `lease` seconds, and T1 (58) and T2
/// (59) to the RFC 2131 defaults for it (1/2 and 7/8), in place. False when the reply
/// carries no lease time in its `options` field (the caller then must not send it).
fn set_lease_times(reply: &mut [u8], lease: u32) -> bool {
    let mut found = false;
    let mut at = crate::wire::OPTIONS_OFFSET;
    while let Some(&code) = reply.get(at) {
        match code {
            0 => {
                at += 1;
                continue;
            }
            255 => break,
            _ => {}
        }
        let Some(&len) = reply.get(at + 1) else {
            break;
        };
        let value = match code {
            51 => Some(lease),
            58 => Some(lease / 2),
            59 => Some((u64::from(lease) * 7 / 8) as u32),
            _ => None,
        };
        if let (Some(v), 4) = (value, len) {
            if let Some(dst) = reply.get_mut(at + 2..at + 6) {
                dst.copy_from_slice(&v.to_be_bytes());
                found |= code == 51;
            }
        }
        at += 2 + usize::from(len);
    }
    found
}

/// A request being handled, and what was worked out about it.
struct Ctx<'m, 'a> {
    m: &'m Message<'a>,
    meta: &'m RecvMeta,
    subnet: usize,
    server_id: Ipv4Addr,
    reservation: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(s: &mut Server, c: &ClientKey, a: u32) {
        s.bindings.insert(
            a,
            Binding {
                address: a,
                client: c.clone(),
                state: BindingState::Bound,
                until: Deadline(100),
                durable: Deadline(0),
                subnet: 0,
            },
        );
        s.index_client(c, a);
    }

    /// Two clients whose index hashes collide (a birthday search over hardware keys).
    fn colliding(s: &Server) -> (ClientKey, ClientKey) {
        let mut seen = alloc::collections::BTreeMap::<u32, ClientKey>::new();
        for i in 0u32.. {
            let b = i.to_be_bytes();
            let k = ClientKey::hardware(1, &[2, 0, b[0], b[1], b[2], b[3]]);
            if let Some(first) = seen.insert(s.client_hash(&k) as u32, k.clone()) {
                return (first, k);
            }
        }
        unreachable!()
    }

    #[test]
    fn clients_whose_hashes_collide_each_keep_their_own_address() {
        let mut s = Server::new(ServerConfig::default(), Instant::from_secs(1), 0).unwrap();
        let (one, two) = colliding(&s);
        let other = ClientKey::hardware(1, &[9; 6]);
        bind(&mut s, &one, 10);
        bind(&mut s, &two, 20);
        assert_eq!(s.collided.len(), 1, "the second client went to `collided`");
        assert_eq!(s.client_of(&one), Some(10));
        assert_eq!(s.client_of(&two), Some(20));
        assert_eq!(s.client_of(&other), None);
        // Moving the collided client, then forgetting the first: the second stays found.
        s.bindings.remove(&20);
        bind(&mut s, &two, 30);
        assert_eq!(s.client_of(&two), Some(30));
        s.unindex_client(&one, 10);
        s.bindings.remove(&10);
        assert_eq!(s.client_of(&one), None);
        assert_eq!(s.client_of(&two), Some(30));
        s.unindex_client(&two, 30);
        assert_eq!(s.client_of(&two), None);
        assert!(s.collided.is_empty());
    }
}
