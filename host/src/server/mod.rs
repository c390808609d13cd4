//! The async server: the core's [`Server`](dhcp_core::server::Server) machine on real
//! sockets, a timer, and the lease journal's commit thread, over any [`Runtime`].

pub mod config;

use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use dhcp_core::server::{RecvMeta, Server as Machine, ServerStats};
#[cfg(unix)]
use dhcp_core::server::{Reservation, ReservationKey};
use dhcp_core::wire::{Message, SERVER_PORT};
use futures_lite::StreamExt;
use socket2::SockRef;

use crate::clock::{unix_now, Clock};
use crate::net::socket::{self, bind_udp, recv_request, send_reply};
use crate::ops::metrics::Metrics;
use crate::runtime::{AsyncSocket, Runtime};
use crate::server::config::ServerFile;
use crate::store::journal::Journal;
use crate::store::replay::Replay;
use crate::store::{Committer, Learned, LeaseStore, Outcome};
use crate::Error;

/// Room for one datagram of a receive batch (a DHCP message is far smaller; a longer one
/// is handed on empty, and dropped and counted as malformed).
const SLOT: usize = 16_384;

/// Most datagrams taken from a socket at one wake-up before the replies go out: under load
/// the loop runs once per batch instead of once per packet.
const RECV_BATCH: usize = 32;

#[derive(Debug)]
struct Listener {
    socket: Box<dyn AsyncSocket>,
    /// Interface index (0: every interface).
    index: u32,
    /// Reported as the local address where the platform gives none.
    local: Ipv4Addr,
}

/// A running DHCP server: sockets bound, leases restored, ready to [`run_until`](Self::run_until).
#[derive(Debug)]
pub struct Server<R: Runtime> {
    runtime: R,
    machine: Machine,
    listeners: Vec<Listener>,
    committer: Committer,
    clock: Clock,
    /// The store's last batch failed (logged once per outage).
    store_down: bool,
    /// Metrics, when the config asks for them, and when each request arrived (by xid),
    /// for the reply latency.
    metrics: Option<Metrics>,
    arrived: HashMap<u32, std::time::Instant>,
    #[cfg(unix)]
    control: Option<crate::ops::control::Control>,
    /// The config as last loaded (reloads compare the host-level settings with it).
    file: ServerFile,
    /// SIGHUP, when [`reload_on_sighup`](Server::reload_on_sighup) asked for it.
    hangups: Option<async_channel::Receiver<i32>>,
    /// What other servers sharing the store write ([`LeaseStore::follow`]), and when it may
    /// be replayed.
    learned: Option<async_channel::Receiver<Learned>>,
    replay: Option<Replay>,
}

/// Most requests remembered for the reply latency (a flood only loses samples).
const ARRIVALS_KEPT: usize = 65_536;

/// What a server that stopped did.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The machine's counters.
    pub stats: ServerStats,
    /// Leases bound when it stopped.
    pub leases: usize,
}

impl<R: Runtime> Server<R> {
    /// Opens the journal the config names, restores its leases, and binds port 67 on the
    /// configured interfaces (all of them when it names none).
    pub async fn bind(file: &ServerFile) -> Result<Self, Error> {
        match &file.store {
            crate::server::config::Store::Journal => {}
            #[cfg(feature = "postgres")]
            crate::server::config::Store::Postgres { url, name, tls } => {
                let store = crate::store::postgres::PostgresStore::open(url, name, tls)?;
                tracing::info!("leases in PostgreSQL, written as server {name:?}");
                return Self::bind_with_store(R::default(), file, Box::new(store)).await;
            }
            #[cfg(not(feature = "postgres"))]
            crate::server::config::Store::Postgres { .. } => {
                return Err(crate::store::StoreError::Database {
                    what: "this build has no PostgreSQL support (feature `postgres`)".into(),
                }
                .into())
            }
        }
        let journal = Journal::open(&file.journal)?;
        for bad in journal.bad_lines() {
            tracing::warn!(
                "{}:{}: skipped: {}",
                file.journal.display(),
                bad.line,
                bad.what
            );
        }
        Self::bind_with_store(R::default(), file, Box::new(journal)).await
    }

    /// As [`bind`](Self::bind), with another lease store.
    pub async fn bind_with_store(
        runtime: R,
        file: &ServerFile,
        mut store: Box<dyn LeaseStore>,
    ) -> Result<Self, Error> {
        let clock = Clock::new();
        let mut machine = Machine::new(file.server.clone(), clock.now(), unix_now())
            .map_err(|errors| crate::server::config::ConfigFileError {
                errors: errors
                    .into_iter()
                    .map(|e| crate::server::config::Located {
                        file: file.path.clone(),
                        line: 0,
                        column: 0,
                        field: String::new(),
                        what: e.to_string(),
                    })
                    .collect(),
            })?
            .with_seed(crate::clock::os_seed());
        let records = store.load()?;
        machine.reserve(crate::store::distinct_addresses(&records));
        for r in &records {
            machine.restore(r);
        }
        tracing::info!(
            "restored {} lease records, {} leases bound",
            records.len(),
            machine.lease_count()
        );
        let learned = store.follow()?;
        let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, SERVER_PORT);
        let mut listeners = Vec::new();
        if file.interfaces.is_empty() {
            let s = bind_udp(any, None)?;
            listeners.push(Listener {
                socket: runtime
                    .wrap_socket(s)
                    .map_err(|e| Error::io("registering the socket", e))?,
                index: 0,
                local: file.server.server_id.unwrap_or(Ipv4Addr::UNSPECIFIED),
            });
            tracing::info!("listening on 0.0.0.0:{SERVER_PORT} (every interface)");
        }
        for name in &file.interfaces {
            let i = socket::interface(name)?;
            let local = i
                .address
                .map(|(a, _)| a)
                .or(file.server.server_id)
                .ok_or_else(|| Error::Interface {
                    name: name.clone(),
                    what: "has no IPv4 address, and the config sets no server_id".to_string(),
                })?;
            let s = bind_udp(any, Some(name))?;
            listeners.push(Listener {
                socket: runtime
                    .wrap_socket(s)
                    .map_err(|e| Error::io("registering the socket", e))?,
                index: i.index,
                local,
            });
            tracing::info!("listening on {name} ({local}) port {SERVER_PORT}");
        }
        let metrics = match file.metrics {
            Some(address) => {
                let m = Metrics::new();
                m.serve(address)
                    .map_err(|e| Error::io(format!("serving metrics on {address}"), e))?;
                Some(m)
            }
            None => None,
        };
        let committer = Committer::spawn_with(store, metrics.as_ref().map(Metrics::commit))
            .map_err(|e| Error::io("starting the commit thread", e))?;
        #[cfg(unix)]
        let control = match &file.control_socket {
            Some(path) => Some(crate::ops::control::Control::listen(path).map_err(|e| {
                Error::io(format!("opening the control socket {}", path.display()), e)
            })?),
            None => None,
        };
        Ok(Server {
            runtime,
            machine,
            listeners,
            committer,
            clock,
            store_down: false,
            metrics,
            arrived: HashMap::new(),
            #[cfg(unix)]
            control,
            file: file.clone(),
            hangups: None,
            replay: learned
                .as_ref()
                .map(|_| Replay::new(std::time::Instant::now())),
            learned,
        })
    }

    /// The protocol machine (counters, leases).
    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    /// Reloads the config file on SIGHUP (as the `reload` control command does). A
    /// library embedding the server leaves SIGHUP alone unless it calls this.
    #[cfg_attr(not(unix), allow(unused_mut))]
    pub fn reload_on_sighup(mut self) -> Self {
        #[cfg(unix)]
        {
            self.hangups = Some(crate::ops::signal::watch(&[signal_hook::consts::SIGHUP]));
        }
        self
    }

    /// Reads the config file again and applies it ([`Machine::reconfigure`]): a bad file
    /// changes nothing and its mistakes come back as `FILE:LINE:COLUMN: FIELD: what`. What
    /// only a restart can change (interfaces, journal, store, metrics, control socket, user,
    /// logging) is named in the answer and left as it was.
    pub fn reload(&mut self) -> Result<String, String> {
        let file = crate::server::config::load(&self.file.path).map_err(|e| e.to_string())?;
        for w in &file.warnings {
            tracing::warn!("{w}");
        }
        let mut later = Vec::new();
        if file.interfaces != self.file.interfaces {
            later.push("interfaces");
        }
        if file.journal != self.file.journal {
            later.push("journal");
        }
        if file.store != self.file.store {
            later.push("store/[postgres]");
        }
        if file.metrics != self.file.metrics {
            later.push("metrics");
        }
        if file.control_socket != self.file.control_socket {
            later.push("control_socket");
        }
        if file.user != self.file.user {
            later.push("user");
        }
        if file.log_level != self.file.log_level || file.log_json != self.file.log_json {
            later.push("log_level/log_format");
        }
        self.machine
            .reconfigure(file.server.clone())
            .map_err(|errors| {
                errors
                    .iter()
                    .map(|e| format!("{}: {e}", file.path.display()))
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
        let subnets = file.server.subnets.len();
        self.file.server = file.server;
        let mut message = format!(
            "{}: reloaded ({subnets} subnet(s)); {} leases kept",
            self.file.path.display(),
            self.machine.lease_count()
        );
        if !later.is_empty() {
            message.push_str(&format!(
                "; {} take effect at the next start",
                later.join(", ")
            ));
        }
        Ok(message)
    }

    /// Serves until `shutdown` completes, then commits what is queued, sends the ACKs that
    /// were waiting for it, and returns.
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) -> Result<Summary, Error> {
        let mut shutdown = pin!(shutdown);
        let outcomes = self.committer.outcomes().clone();
        let mut outcomes = pin!(outcomes);
        let mut buf = vec![0u8; SLOT * RECV_BATCH];
        let mut got: Vec<(usize, RecvMeta)> = Vec::with_capacity(RECV_BATCH);
        let mut out = vec![0u8; 1500];
        let far = Duration::from_secs(3600);
        let mut timer = self.runtime.new_timer(std::time::Instant::now() + far);
        enum Ev {
            Stop,
            Outcome(Outcome),
            Learned(Learned),
            Packets,
            Timer,
            #[cfg(unix)]
            Control(crate::ops::control::Call),
            Hangup,
        }
        let hangups = self.hangups.clone();
        let mut hangups = hangups.map(Box::pin);
        let learned = self.learned.clone();
        let mut learned = learned.map(Box::pin);
        #[cfg(unix)]
        let calls = self.control.as_ref().map(|c| c.calls().clone());
        #[cfg(unix)]
        let mut calls = calls.map(Box::pin);
        let mut refresh_at = std::time::Instant::now();
        // When the machine has nothing due: far enough to be no wake-up at all, and the same
        // from one turn to the next.
        let mut idle_until = std::time::Instant::now() + far;
        // The deadline the timer holds: reset only when it changes, as a reset costs the
        // runtime work (async-io wakes its reactor for each new earliest timer).
        let mut armed = None;
        let mut first = 0;
        loop {
            self.flush(&mut out).await;
            if let Some(m) = &mut self.metrics {
                if std::time::Instant::now() >= refresh_at {
                    m.refresh(&self.machine);
                    if let Some(replay) = &self.replay {
                        m.learned_stale(replay.stale());
                    }
                    refresh_at = std::time::Instant::now() + crate::ops::metrics::REFRESH;
                }
            }
            let mut deadline = self
                .machine
                .poll_timeout()
                .map(|t| self.clock.std(t))
                .unwrap_or(idle_until);
            if self.metrics.is_some() {
                deadline = deadline.min(refresh_at);
            }
            if armed != Some(deadline) {
                timer.as_mut().reset(deadline);
                armed = Some(deadline);
            }
            let ev = poll_fn(|cx| {
                if shutdown.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Ev::Stop);
                }
                if let Poll::Ready(Some(o)) = outcomes.as_mut().poll_next(cx) {
                    return Poll::Ready(Ev::Outcome(o));
                }
                if let Some(h) = hangups.as_mut() {
                    if let Poll::Ready(Some(_)) = h.as_mut().poll_next(cx) {
                        return Poll::Ready(Ev::Hangup);
                    }
                }
                if let Some(l) = learned.as_mut() {
                    if let Poll::Ready(Some(r)) = l.as_mut().poll_next(cx) {
                        return Poll::Ready(Ev::Learned(r));
                    }
                }
                #[cfg(unix)]
                if let Some(calls) = calls.as_mut() {
                    if let Poll::Ready(Some(c)) = calls.as_mut().poll_next(cx) {
                        return Poll::Ready(Ev::Control(c));
                    }
                }
                // The timer before the sockets, so that a sustained burst can't keep offers
                // and leases from expiring.
                if timer.as_mut().poll_elapsed(cx).is_ready() {
                    return Poll::Ready(Ev::Timer);
                }
                // The sockets in turn, starting after the one read last.
                let count = self.listeners.len();
                for k in 0..count {
                    let i = (first + k) % count;
                    let l = &self.listeners[i];
                    got.clear();
                    // Reads until the socket is empty (then `WouldBlock`, so that the
                    // runtime waits for the next datagram instead of reading again to
                    // learn that there is none) or the batch is full.
                    let r = l.socket.poll_read_with(cx, &mut |s| {
                        while got.len() < RECV_BATCH {
                            let slot = &mut buf[got.len() * SLOT..][..SLOT];
                            match recv_request(SockRef::from(&*s), slot, l.local) {
                                Ok(p) => got.push(p),
                                Err(e)
                                    if !got.is_empty()
                                        && e.kind() != std::io::ErrorKind::WouldBlock =>
                                {
                                    tracing::warn!("receiving: {e}");
                                    break;
                                }
                                Err(e) => return Err(e),
                            }
                        }
                        Ok(got.len())
                    });
                    if !got.is_empty() {
                        first = (i + 1) % count;
                        return Poll::Ready(Ev::Packets);
                    }
                    if let Poll::Ready(Err(e)) = r {
                        tracing::warn!("receiving: {e}");
                    }
                }
                Poll::Pending
            })
            .await;
            let now = self.clock.now();
            match ev {
                Ev::Stop => break,
                Ev::Outcome(o) => self.apply(o),
                Ev::Learned(first) => {
                    // The rest that came with it, without a wake-up each.
                    let (learned, replay, machine) =
                        (&self.learned, &mut self.replay, &mut self.machine);
                    let rest = learned
                        .iter()
                        .flat_map(|l| std::iter::from_fn(|| l.try_recv().ok()));
                    for l in std::iter::once(first).chain(rest) {
                        if let Some(r) = replay.as_mut().and_then(|p| p.learned(l)) {
                            machine.restore(&r);
                        }
                    }
                }
                Ev::Packets => {
                    for (i, (n, meta)) in got.iter().enumerate() {
                        let packet = &buf[i * SLOT..][..*n];
                        self.arrived(packet, meta);
                        self.machine.handle_packet(now, meta, packet);
                    }
                }
                Ev::Timer => {
                    self.machine.handle_timeout(now);
                    // Armed again even for the same deadline: a timer that has fired may
                    // not fire again by itself (async-io's doesn't).
                    armed = None;
                    let now = self.clock.std(now);
                    if now >= idle_until {
                        idle_until = now + far;
                    }
                }
                #[cfg(unix)]
                Ev::Control(call) => self.control_call(call),
                Ev::Hangup => match self.reload() {
                    Ok(m) => tracing::info!("SIGHUP: {m}"),
                    Err(e) => {
                        tracing::error!("SIGHUP: config refused, still serving the old one:\n{e}")
                    }
                },
            }
        }
        if let Some(l) = &self.learned {
            l.close();
        }
        tracing::info!("shutting down: committing queued lease records");
        self.submit_records();
        self.committer.finish();
        while let Some(o) = outcomes.next().await {
            self.apply(o);
        }
        self.flush(&mut out).await;
        if let Some(m) = &mut self.metrics {
            m.refresh(&self.machine);
        }
        Ok(Summary {
            stats: self.machine.stats().clone(),
            leases: self.machine.lease_count(),
        })
    }

    /// Answers one control socket request ([`crate::ops::control`] lists them).
    #[cfg(unix)]
    fn control_call(&mut self, call: crate::ops::control::Call) {
        use crate::ops::control::error;
        use serde_json::{json, Value};
        let command = call
            .request
            .get("command")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let text = |k: &str| {
            call.request
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let address = text("address").and_then(|a| a.parse::<Ipv4Addr>().ok());
        let no_address = || error("`address` is missing or not an IPv4 address");
        let answer = match (command.as_str(), address) {
            ("leases", _) => json!({ "ok": true, "leases": self.lease_list(None) }),
            ("lease", Some(a)) => match self.lease_list(Some(a)).pop() {
                Some(l) => json!({ "ok": true, "lease": l }),
                None => error(format!("no lease on {a}")),
            },
            ("delete-lease", Some(a)) => {
                if self.machine.delete_lease(a) {
                    tracing::info!("control: lease on {a} deleted");
                    json!({ "ok": true })
                } else {
                    error(format!("no lease on {a}"))
                }
            }
            ("reservations", _) => {
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
            ("add-reservation", Some(a)) => {
                let key = match (text("mac"), text("client_id")) {
                    (Some(m), None) => m
                        .parse::<crate::MacAddress>()
                        .map(|m| ReservationKey::HardwareAddress(m.as_bytes().to_vec()))
                        .map_err(|e| e.to_string()),
                    (None, Some(id)) => {
                        crate::server::config::parse_hex(&id).map(ReservationKey::ClientId)
                    }
                    _ => Err("give exactly one of `mac` or `client_id`".to_string()),
                };
                match key {
                    Ok(key) => {
                        let r = Reservation {
                            key,
                            address: a,
                            host_name: text("host_name"),
                            options: Default::default(),
                        };
                        match self.machine.add_reservation(r) {
                            Ok(()) => {
                                tracing::info!("control: reservation of {a} added");
                                json!({ "ok": true })
                            }
                            Err(e) => error(e),
                        }
                    }
                    Err(e) => error(e),
                }
            }
            ("remove-reservation", Some(a)) => {
                if self.machine.remove_reservation(a) {
                    tracing::info!("control: reservation of {a} removed");
                    json!({ "ok": true })
                } else {
                    error(format!("no reservation of {a}"))
                }
            }
            ("reload", _) => match self.reload() {
                Ok(m) => {
                    tracing::info!("control: {m}");
                    json!({ "ok": true, "message": m })
                }
                Err(e) => {
                    tracing::error!("control: reload refused, still serving the old config:\n{e}");
                    error(e)
                }
            },
            ("stats", _) => json!({
                "ok": true,
                "leases": self.machine.lease_count(),
                "offers_held": self.machine.offers_held(),
                "counters": self.machine.stats().to_string(),
            }),
            ("lease" | "delete-lease" | "add-reservation" | "remove-reservation", None) => {
                no_address()
            }
            (other, _) => error(format!(
                "unknown command {other:?}; the commands are leases, lease, delete-lease, \
                 reservations, add-reservation, remove-reservation, reload, stats"
            )),
        };
        call.answer(answer);
    }

    /// The bound leases (or the one on `only`) as JSON objects, like `dhcp leases --json`.
    #[cfg(unix)]
    fn lease_list(&self, only: Option<Ipv4Addr>) -> Vec<serde_json::Value> {
        let now = std::time::Instant::now();
        let unix = unix_now();
        self.machine
            .leases()
            .filter(|(a, _, _)| only.is_none_or(|o| o == *a))
            .map(|(a, client, until)| {
                let left = (until != dhcp_core::time::Instant::MAX).then(|| {
                    self.clock
                        .std(until)
                        .saturating_duration_since(now)
                        .as_secs()
                });
                serde_json::json!({
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

    /// Logs a request and notes when it came, for the reply latency.
    fn arrived(&mut self, packet: &[u8], meta: &RecvMeta) {
        if tracing::enabled!(tracing::Level::INFO) {
            log_message("Received", packet, meta.source);
        }
        if self.metrics.is_some() {
            if self.arrived.len() >= ARRIVALS_KEPT {
                self.arrived.clear();
            }
            if let Some(xid) = packet.get(4..8) {
                let xid = u32::from_be_bytes([xid[0], xid[1], xid[2], xid[3]]);
                self.arrived.insert(xid, std::time::Instant::now());
            }
        }
    }

    fn apply(&mut self, o: Outcome) {
        match o {
            Outcome::Durable { upto, committed } => {
                if std::mem::take(&mut self.store_down) {
                    tracing::warn!("lease store writes again: granting new leases");
                }
                for &seq in &committed.refused {
                    self.machine.persist_failed(seq);
                }
                self.machine.persisted(upto);
                self.replay_due(upto, &committed.versions);
            }
            Outcome::Failed { seqs, error } => {
                if !std::mem::replace(&mut self.store_down, true) {
                    tracing::error!(
                        "lease store cannot write ({error}): no new leases until it can; \
                         renewals are answered with the leases it already holds"
                    );
                }
                for &seq in &seqs {
                    self.machine.persist_unavailable(seq);
                }
                self.replay_due(seqs.iter().copied().max().unwrap_or(0), &[]);
            }
        }
    }

    /// Replays the learned records that waited for this server's writes up to `upto`.
    fn replay_due(&mut self, upto: u64, versions: &[(Ipv4Addr, u64)]) {
        if let Some(p) = &mut self.replay {
            for r in p.answered(upto, versions, std::time::Instant::now()) {
                self.machine.restore(&r);
            }
        }
    }

    /// Hands the machine's lease records to the commit thread.
    fn submit_records(&mut self) {
        while let Some(r) = self.machine.poll_persist() {
            if let Some(p) = &mut self.replay {
                p.submitted(r.seq, r.address);
            }
            self.committer.submit(r);
        }
    }

    /// Queues lease records for the journal and sends every reply that may go.
    async fn flush(&mut self, out: &mut [u8]) {
        self.submit_records();
        while let Some(t) = self.machine.poll_transmit(out) {
            let data = &out[..t.len];
            let l = self
                .listeners
                .iter()
                .find(|l| l.index == t.interface || l.index == 0)
                .or(self.listeners.first());
            let Some(l) = l else { break };
            if tracing::enabled!(tracing::Level::INFO) {
                log_message("Sent", data, t.destination);
            }
            let r = poll_fn(|cx| {
                l.socket
                    .poll_write_with(cx, &mut |s| send_reply(s, data, &t))
            })
            .await;
            if let Err(e) = r {
                tracing::warn!("sending to {}: {e}", t.destination);
            }
            if let Some(m) = &self.metrics {
                if let Some(x) = data.get(4..8) {
                    let xid = u32::from_be_bytes([x[0], x[1], x[2], x[3]]);
                    if let Some(t0) = self.arrived.remove(&xid) {
                        m.replied(t0.elapsed().as_secs_f64());
                    }
                }
            }
        }
    }
}

/// One line per message, as `Sent DHCP ACK 192.0.2.7 to 02:00:00:00:00:01
/// (192.0.2.7:68), xid 0x00001234` (at info level, as dnsmasq logs each message;
/// `log_level = "warn"` turns them off).
fn log_message(verb: &str, packet: &[u8], peer: SocketAddrV4) {
    match Message::parse(packet) {
        Ok(m) => {
            let kind = m
                .message_type()
                .ok()
                .flatten()
                .map(|t| t.name().to_uppercase())
                .unwrap_or_else(|| "BOOTP".to_string());
            let address = [m.yiaddr(), m.ciaddr()]
                .into_iter()
                .chain(m.requested_ip().ok().flatten())
                .find(|a| !a.is_unspecified())
                .map(|a| format!(" {a}"))
                .unwrap_or_default();
            tracing::info!(
                "{verb} DHCP {kind}{address} {} {} ({peer}), xid {:#010x}",
                if verb == "Sent" { "to" } else { "from" },
                crate::client::hex(m.chaddr()),
                m.xid(),
            )
        }
        Err(e) => tracing::info!("{verb} a malformed packet ({peer}): {e}"),
    }
}
