//! [`Client`]: the RFC 2131 client state machine, sans I/O.
//!
//! This module holds the machine's state, its inputs and outputs, and its timers; what a
//! reply does is in `replies`, and how each message is written in `outgoing`.

mod outgoing;
mod replies;

use outgoing::Outgoing;

use core::net::{Ipv4Addr, SocketAddrV4};
use core::time::Duration;

use super::config::ClientConfig;
use super::event::{DropReason, Event, State, Stats, Transmit};
use super::lease::Lease;
use crate::rng::Rng;
use crate::time::Instant;
use crate::wire::typed::FqdnFlags;
use crate::wire::{
    EmitError, Flags, Message, MessageBuilder, MessageType, Op, OptionCode, SERVER_PORT,
};

/// RFC 8925 section 3.4: the shortest IPv6-only pause a client accepts.
const MIN_V6ONLY_WAIT: Duration = Duration::from_secs(300);
/// The shortest timer the machine sets, so that no input can make it spin.
const MIN_TIMER: Duration = Duration::from_millis(1);
/// Events kept for the caller; older ones are dropped (and counted) past this.
const EVENT_QUEUE: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Offer {
    address: Ipv4Addr,
    server_id: Ipv4Addr,
    lease_secs: u32,
}

/// A DHCPv4 client for one interface, as a pure state machine (RFC 2131 section 4.4).
///
/// Inputs: [`start`](Self::start) (or [`start_reboot`](Self::start_reboot) with a
/// remembered address), [`handle_packet`](Self::handle_packet),
/// [`handle_timeout`](Self::handle_timeout), and the commands [`release`](Self::release),
/// [`renew`](Self::renew), [`decline`](Self::decline), [`inform`](Self::inform),
/// [`probe_result`](Self::probe_result). After any input, drain the outputs:
/// [`poll_transmit`](Self::poll_transmit) until `None`, [`poll_event`](Self::poll_event)
/// until `None`, then sleep until [`poll_timeout`](Self::poll_timeout).
///
/// Guarantees: no input panics; a malformed or foreign packet is dropped and counted in
/// [`stats`](Self::stats); time passed in that goes backwards is taken as the latest time
/// seen; after `handle_timeout(now)`, `poll_timeout()` is later than `now` (or `None`), so
/// a caller that sleeps until it never spins. Randomness (xids, jitter) comes only from the
/// seed given to [`new`](Self::new).
#[derive(Debug, Clone)]
pub struct Client {
    config: ClientConfig,
    rng: Rng,
    state: State,
    xid: u32,
    /// When the current acquisition or renewal began (the `secs` field counts from it).
    started: Instant,
    /// When the first REQUEST of the exchange was sent: the lease runs from then.
    lease_start: Instant,
    tries: u32,
    delay: Duration,
    timer: Option<Instant>,
    pending: Option<Outgoing>,
    pending_secs: u16,
    offer: Option<Offer>,
    /// The address a REBOOTING or INFORMING exchange is about.
    target: Option<Ipv4Addr>,
    lease: Option<Lease>,
    naks: u32,
    /// The message (56) a RELEASE carries.
    release_message: heapless::String<255>,
    events: heapless::Deque<Event, EVENT_QUEUE>,
    stats: Stats,
    now: Instant,
}

fn usable_unicast(a: Ipv4Addr) -> bool {
    !(a.is_unspecified()
        || a.is_broadcast()
        || a.is_multicast()
        || a.is_loopback()
        || a.octets()[0] == 0
        || a.octets()[0] >= 240)
}

/// What an OFFER or ACK must carry: a server id, a usable address, a lease time.
fn terms(
    m: &Message<'_>,
    server_id: Option<Ipv4Addr>,
) -> Result<(Ipv4Addr, Ipv4Addr, u32), DropReason> {
    let server_id = server_id.ok_or(DropReason::WrongServer)?;
    let address = m.yiaddr();
    if !usable_unicast(address) {
        return Err(DropReason::BadAddress);
    }
    let lease_secs = m
        .lease_time()
        .map_err(|_| DropReason::BadOption)?
        .ok_or(DropReason::MissingLeaseTime)?;
    Ok((server_id, address, lease_secs))
}

impl Client {
    /// A client that does nothing until started. `seed` drives every random choice.
    pub fn new(config: ClientConfig, seed: u64) -> Self {
        Client {
            config,
            rng: Rng::new(seed),
            state: State::Idle,
            xid: 0,
            started: Instant::ZERO,
            lease_start: Instant::ZERO,
            tries: 0,
            delay: Duration::ZERO,
            timer: None,
            pending: None,
            pending_secs: 0,
            offer: None,
            target: None,
            lease: None,
            naks: 0,
            release_message: heapless::String::new(),
            events: heapless::Deque::new(),
            stats: Stats::default(),
            now: Instant::ZERO,
        }
    }

    // ---- queries --------------------------------------------------------------------------

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The lease held (or being probed), or the configuration an INFORM got.
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    /// Drop counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The transaction id of the current exchange.
    pub fn xid(&self) -> u32 {
        self.xid
    }

    // ---- outputs --------------------------------------------------------------------------

    /// When [`handle_timeout`](Self::handle_timeout) wants to be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Writes the next message to send into `buf` (576 bytes always suffice) and says
    /// where it goes. A buffer too small for it drops the message (counted in
    /// [`Stats::unsendable`]); a retransmission follows on schedule.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        let out = self.pending.take()?;
        match self.write(out, buf) {
            Ok(t) => Some(t),
            Err(_) => {
                self.stats.unsendable += 1;
                None
            }
        }
    }

    // ---- inputs ---------------------------------------------------------------------------

    /// Starts acquiring a lease from INIT: DISCOVER now.
    pub fn start(&mut self, now: Instant) {
        let now = self.clock(now);
        self.lease = None;
        self.naks = 0;
        self.begin_discovery(now);
    }

    /// Starts from INIT-REBOOT with an address remembered from an earlier lease: REQUEST it
    /// by broadcast; a NAK or silence falls back to discovery.
    pub fn start_reboot(&mut self, now: Instant, address: Ipv4Addr) {
        let now = self.clock(now);
        self.lease = None;
        self.naks = 0;
        self.new_exchange(now);
        self.lease_start = now;
        self.target = Some(address);
        self.state = State::Rebooting;
        self.send_first(now, Outgoing::Reboot(address));
    }

    /// Asks for the configuration of a host that already has `address` (DHCPINFORM).
    pub fn inform(&mut self, now: Instant, address: Ipv4Addr) {
        let now = self.clock(now);
        self.lease = None;
        self.new_exchange(now);
        self.target = Some(address);
        self.state = State::Informing;
        self.send_first(now, Outgoing::Inform(address));
    }

    /// Renews now instead of at T1 (ignored unless bound).
    pub fn renew(&mut self, now: Instant) {
        let now = self.clock(now);
        if self.state == State::Bound {
            self.begin_renewing(now);
        }
    }

    /// Gives the lease back (DHCPRELEASE) and goes idle. Ignored without a lease.
    pub fn release(&mut self, now: Instant) {
        let now = self.clock(now);
        if !matches!(
            self.state,
            State::Bound | State::Renewing | State::Rebinding
        ) {
            return;
        }
        let Some(lease) = self.lease.take() else {
            return;
        };
        self.release_message.clear();
        self.send_release(now, lease.address(), lease.server_id());
    }

    /// Gives back `address`, leased from `server_id`, whether or not this machine holds it
    /// (a lease an earlier process obtained), with `message` (56) if given (cut to 255
    /// bytes). Any lease held is dropped and the client goes idle.
    pub fn release_lease(
        &mut self,
        now: Instant,
        address: Ipv4Addr,
        server_id: Ipv4Addr,
        message: Option<&str>,
    ) {
        let now = self.clock(now);
        self.lease = None;
        self.release_message.clear();
        for c in message.unwrap_or("").chars() {
            if self.release_message.push(c).is_err() {
                break;
            }
        }
        self.send_release(now, address, server_id);
    }

    fn send_release(&mut self, now: Instant, address: Ipv4Addr, server_id: Ipv4Addr) {
        self.new_exchange(now);
        self.pending_secs = 0;
        self.pending = Some(Outgoing::Release { address, server_id });
        self.state = State::Idle;
        self.timer = None;
        self.push(Event::Released(address));
    }

    /// Declines the address (DHCPDECLINE): the caller found it in use. Ignored without a
    /// lease. Discovery starts again after [`ClientConfig::restart_delay`].
    pub fn decline(&mut self, now: Instant) {
        let now = self.clock(now);
        if matches!(
            self.state,
            State::Probing | State::Bound | State::Renewing | State::Rebinding
        ) {
            self.decline_lease(now);
        }
    }

    /// The result of the probe an [`Event::ProbeAddress`] asked for: `conflict` declines
    /// the address, otherwise the client binds.
    pub fn probe_result(&mut self, now: Instant, conflict: bool) {
        let now = self.clock(now);
        if self.state != State::Probing {
            return;
        }
        if conflict {
            self.decline_lease(now);
        } else {
            self.bound(now, Event::Bound);
        }
    }

    /// Acts on the timer: retransmits, moves to RENEWING at T1, REBINDING at T2, INIT at
    /// expiry. Calling it early does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.clock(now);
        // A long jump in time may cross several deadlines; each step moves the timer on.
        for _ in 0..8 {
            match self.timer {
                Some(t) if t <= now => self.on_timer(now),
                _ => break,
            }
        }
        if let Some(t) = self.timer {
            if t <= now {
                self.timer = Some(now + MIN_TIMER);
            }
        }
    }

    /// Takes a packet received on port 68. Anything that is not a reply this state expects
    /// is dropped and counted.
    pub fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        let now = self.clock(now);
        if let Err(reason) = self.on_packet(now, packet) {
            self.stats.count(reason);
        }
    }

    // ---- internals --------------------------------------------------------------------------

    fn clock(&mut self, now: Instant) -> Instant {
        if now > self.now {
            self.now = now;
        }
        self.now
    }

    fn push(&mut self, e: Event) {
        if self.events.is_full() {
            self.events.pop_front();
            self.stats.events_lost += 1;
        }
        let _ = self.events.push_back(e);
    }

    fn new_exchange(&mut self, now: Instant) {
        self.xid = self.rng.next_u32();
        self.started = now;
    }

    fn secs(&self, now: Instant) -> u16 {
        u16::try_from((now - self.started).as_secs()).unwrap_or(u16::MAX)
    }

    fn jittered(&mut self, base: Duration) -> Duration {
        let jitter = self.config.retransmit.jitter;
        let span = u64::try_from(jitter.as_micros())
            .unwrap_or(u64::MAX)
            .saturating_mul(2);
        let offset = Duration::from_micros(self.rng.up_to(span));
        (base + offset).saturating_sub(jitter).max(MIN_TIMER)
    }

    /// Sends `out` as the first message of an exchange.
    fn send_first(&mut self, now: Instant, out: Outgoing) {
        self.tries = 1;
        self.delay = self.config.retransmit.initial;
        self.pending = Some(out);
        self.pending_secs = self.secs(now);
        let d = self.jittered(self.delay);
        self.timer = Some(now + d);
    }

    /// Sends `out` again with the next, doubled delay.
    fn resend(&mut self, now: Instant, out: Outgoing) {
        self.tries += 1;
        self.delay = (self.delay * 2).min(self.config.retransmit.max);
        self.pending = Some(out);
        self.pending_secs = self.secs(now);
        let d = self.jittered(self.delay);
        self.timer = Some(now + d);
    }

    /// Sends `out` in RENEWING/REBINDING: again at half the time left to `deadline`, but
    /// not sooner than the configured minimum, and never past the deadline.
    fn send_towards(&mut self, now: Instant, out: Outgoing, deadline: Instant) {
        self.tries += 1;
        self.pending = Some(out);
        self.pending_secs = self.secs(now);
        let half = (deadline - now) / 2;
        let next = now + half.max(self.config.renew_min_interval);
        self.timer = Some(next.min(deadline).max(now + MIN_TIMER));
    }

    fn begin_discovery(&mut self, now: Instant) {
        self.new_exchange(now);
        self.offer = None;
        self.state = State::Selecting;
        self.send_first(now, Outgoing::Discover);
    }

    /// Back to INIT, discovering again after `delay`.
    fn restart(&mut self, now: Instant, delay: Duration) {
        self.offer = None;
        if delay.is_zero() {
            self.begin_discovery(now);
        } else {
            self.state = State::Init;
            self.pending = None;
            self.timer = Some(now + delay);
        }
    }

    fn request(&mut self, now: Instant, offer: Offer) {
        self.offer = Some(offer);
        self.state = State::Requesting;
        self.lease_start = now;
        self.send_first(now, Outgoing::Select(offer));
    }

    fn begin_renewing(&mut self, now: Instant) {
        let Some(lease) = &self.lease else { return };
        let (address, server_id) = (lease.address(), lease.server_id());
        let t2 = lease.rebind_at().unwrap_or(Instant::MAX);
        self.new_exchange(now);
        self.lease_start = now;
        self.state = State::Renewing;
        self.tries = 0;
        self.send_towards(now, Outgoing::Renew { address, server_id }, t2);
    }

    fn begin_rebinding(&mut self, now: Instant) {
        let Some(lease) = &self.lease else { return };
        let address = lease.address();
        let expiry = lease.expires_at().unwrap_or(Instant::MAX);
        self.new_exchange(now);
        self.lease_start = now;
        self.state = State::Rebinding;
        self.tries = 0;
        self.send_towards(now, Outgoing::Rebind(address), expiry);
    }

    fn expire(&mut self, now: Instant) {
        self.lease = None;
        self.push(Event::Expired);
        self.begin_discovery(now);
    }

    fn bound(&mut self, now: Instant, event: Event) {
        self.state = State::Bound;
        self.naks = 0;
        self.pending = None;
        self.timer = self.lease.as_ref().and_then(Lease::renew_at);
        self.push(event);
        // A lease whose T1 already passed (a long-delayed ACK) renews at once.
        if self.timer.is_some_and(|t| t <= now) {
            self.timer = Some(now + MIN_TIMER);
        }
    }

    fn decline_lease(&mut self, now: Instant) {
        let Some(lease) = self.lease.take() else {
            return;
        };
        let address = lease.address();
        self.new_exchange(now);
        self.pending_secs = 0;
        self.pending = Some(Outgoing::Decline {
            address,
            server_id: lease.server_id(),
        });
        self.state = State::Declined;
        self.timer = Some(now + self.config.restart_delay.max(MIN_TIMER));
        self.push(Event::Declined(address));
    }

    fn on_timer(&mut self, now: Instant) {
        match self.state {
            State::Idle => self.timer = None,
            State::Init | State::Declined | State::Ipv6Only => self.begin_discovery(now),
            State::Selecting => {
                let window_end = self.started + self.config.offer_window;
                if let Some(offer) = self.offer.filter(|_| now >= window_end) {
                    self.request(now, offer);
                } else if self.tries >= self.config.discover_tries {
                    self.restart(now, self.config.restart_delay.max(MIN_TIMER));
                } else {
                    self.resend(now, Outgoing::Discover);
                    if self.offer.is_some() {
                        self.timer = self.timer.map(|t| t.min(window_end.max(now + MIN_TIMER)));
                    }
                }
            }
            State::Requesting => match self.offer {
                Some(offer) if self.tries < self.config.request_tries => {
                    self.resend(now, Outgoing::Select(offer))
                }
                _ => self.restart(now, Duration::ZERO),
            },
            State::Rebooting => match self.target {
                Some(address) if self.tries < self.config.request_tries => {
                    self.resend(now, Outgoing::Reboot(address))
                }
                _ => self.restart(now, Duration::ZERO),
            },
            State::Informing => match self.target {
                Some(address) if self.tries < self.config.request_tries => {
                    self.resend(now, Outgoing::Inform(address))
                }
                _ => {
                    self.state = State::Idle;
                    self.timer = None;
                    self.push(Event::InformFailed);
                }
            },
            State::Probing => self.bound(now, Event::Bound),
            State::Bound | State::Renewing | State::Rebinding => self.on_lease_timer(now),
        }
    }

    fn on_lease_timer(&mut self, now: Instant) {
        let Some(lease) = &self.lease else {
            return self.restart(now, Duration::ZERO);
        };
        let (expiry, t2) = (lease.expires_at(), lease.rebind_at());
        if expiry.is_some_and(|e| now >= e) {
            return self.expire(now);
        }
        let (address, server_id) = (lease.address(), lease.server_id());
        match self.state {
            State::Bound if t2.is_some_and(|t| now >= t) => self.begin_rebinding(now),
            State::Bound => self.begin_renewing(now),
            State::Renewing if t2.is_some_and(|t| now >= t) => self.begin_rebinding(now),
            State::Renewing => self.send_towards(
                now,
                Outgoing::Renew { address, server_id },
                t2.unwrap_or(Instant::MAX),
            ),
            _ => self.send_towards(
                now,
                Outgoing::Rebind(address),
                expiry.unwrap_or(Instant::MAX),
            ),
        }
    }
}
