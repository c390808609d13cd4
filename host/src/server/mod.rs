//! The async server: the core's [`Server`](dhcp_core::server::Server) machine on real
//! sockets, a timer, and the lease journal's commit thread, over any [`Runtime`].

#[cfg(unix)]
mod command;
pub mod config;
mod events;
mod reload;
mod v6;

pub use v6::server_duid;

use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::pin::pin;
use std::time::Duration;

use dhcp_core::server::{DropReason, RecvMeta, Server as Machine, ServerStats};
use dhcp_core::wire::{Message, SERVER_PORT};

use crate::clock::{unix_now, Clock};
#[cfg(unix)]
use command::Command;
use events::{Event, Inputs, Listener};

use crate::net::socket::{self, bind_udp, send_reply};
use crate::ops::metrics::Metrics;
use crate::runtime::Runtime;
use crate::server::config::ServerFile;
use crate::store::journal::Journal;
use crate::store::replay::Replay;
use crate::store::{Committer, Learned, LeaseStore, Outcome};
use crate::Error;

/// A running DHCP server: sockets bound, leases restored, ready to [`run_until`](Self::run_until).
#[derive(Debug)]
pub struct Server<R: Runtime> {
    runtime: R,
    /// Boxed: the machine is most of the server's size, and a small `Server` keeps the
    /// futures that hold or return it small (debug builds copy them by value).
    machine: Box<Machine>,
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
    /// The conflict check's pings, when the config asks for them.
    #[cfg(unix)]
    prober: Option<crate::net::prober::Prober>,
    /// The DHCPv6 server, when the config has `[[subnet6]]`.
    v6: Option<Box<v6::V6>>,
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
    /// The DHCPv6 machine's counters and bound addresses and prefixes, when it served
    /// DHCPv6.
    pub v6: Option<(dhcp_core::v6::server::Server6Stats, usize)>,
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
        let v6 = match &file.v6 {
            Some(v6) => Some(Box::new(v6::V6::bind(&runtime, v6, &file.store, &clock)?)),
            None => None,
        };
        let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, SERVER_PORT);
        let mut listeners = Vec::new();
        // A config with only [[subnet6]] serves DHCPv6 alone.
        let serve_v4 = !file.server.subnets.is_empty() || v6.is_none();
        if serve_v4 && file.interfaces.is_empty() {
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
        for name in file.interfaces.iter().filter(|_| serve_v4) {
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
        #[cfg(unix)]
        let prober = match file.server.conflict_check {
            true => Some(
                crate::net::prober::Prober::spawn(file.conflict_wait)
                    .map_err(|e| Error::io("opening the conflict check's ICMP socket", e))?,
            ),
            false => None,
        };
        Ok(Server {
            #[cfg(unix)]
            prober,
            runtime,
            machine: Box::new(machine),
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
            v6,
        })
    }

    /// The DHCPv6 machine, when the config serves DHCPv6.
    pub fn machine6(&self) -> Option<&dhcp_core::v6::server::Server6> {
        self.v6.as_ref().map(|v| &v.machine)
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

    /// Serves until `shutdown` completes, then commits what is queued, sends the ACKs that
    /// were waiting for it, and returns.
    ///
    /// The loop keeps the machine's call order ([`Machine`]'s docs): each turn first drains
    /// the machine's outputs (lease records to the commit thread, then the replies that
    /// may go), then arms the timer for the machine's next deadline, then waits for one
    /// event and hands it to the machine. An ACK never leaves before its record: the
    /// machine holds it until the store's outcome reports the record durable.
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) -> Result<Summary, Error> {
        let shutdown = pin!(shutdown);
        let far = Duration::from_secs(3600);
        let mut inputs = Inputs::new(
            shutdown,
            self.committer.outcomes().clone(),
            self.hangups.clone(),
            self.learned.clone(),
            #[cfg(unix)]
            self.control.as_ref().map(|c| c.calls().clone()),
            #[cfg(unix)]
            self.prober.as_ref().map(|p| p.results().clone()),
            self.runtime.new_timer(std::time::Instant::now() + far),
        )
        .with_outcomes6(self.v6.as_ref().map(|v| v.outcomes().clone()));
        let mut out = vec![0u8; 1500];
        let mut refresh_at = std::time::Instant::now();
        // When the machine has nothing due: far enough to be no wake-up at all, and the same
        // from one turn to the next.
        let mut idle_until = std::time::Instant::now() + far;
        loop {
            // Outputs first: records to the store, replies out (ACKs only once durable).
            self.flush(&mut out).await;
            if let Some(m) = &mut self.metrics {
                if std::time::Instant::now() >= refresh_at {
                    m.refresh(&self.machine);
                    if let Some(v) = &self.v6 {
                        m.refresh6(&v.machine);
                    }
                    if let Some(replay) = &self.replay {
                        m.learned_stale(replay.stale());
                    }
                    refresh_at = std::time::Instant::now() + crate::ops::metrics::REFRESH;
                }
            }
            let v6_due = self.v6.as_ref().and_then(|v| v.machine.poll_timeout());
            let mut deadline = self
                .machine
                .poll_timeout()
                .into_iter()
                .chain(v6_due)
                .min()
                .map(|t| self.clock.std(t))
                .unwrap_or(idle_until);
            if self.metrics.is_some() {
                deadline = deadline.min(refresh_at);
            }
            inputs.arm(deadline);
            let event = inputs
                .next(&self.listeners, self.v6.as_ref().map(|v| &*v.socket))
                .await;
            // One reading of the clock for the whole event; the machine takes it as the
            // latest time seen, so time never goes backwards for it.
            let now = self.clock.now();
            match event {
                Event::Stop => break,
                Event::Outcome(o) => self.apply(o),
                Event::Outcome6(o) => {
                    if let Some(v) = &mut self.v6 {
                        v.apply(o);
                    }
                }
                Event::Packets6 => {
                    if let Some(v) = &mut self.v6 {
                        for (packet, meta) in inputs.packets6() {
                            if tracing::enabled!(tracing::Level::INFO) {
                                v6::log_message("Received", packet, &meta.source);
                            }
                            v.machine.handle_packet(now, meta, packet);
                        }
                    }
                }
                Event::Learned(first) => self.replay_learned(first),
                #[cfg(unix)]
                Event::Probed(p) => {
                    if p.in_use {
                        tracing::warn!(
                            "conflict check: {} answers a ping; set aside, offering another",
                            p.address
                        );
                    }
                    self.machine.probe_result(now, p.address, p.in_use);
                }
                Event::Packets => {
                    // A batch goes in whole before the outputs are drained: the replies of
                    // one batch leave together, after their records' one commit.
                    for (packet, meta) in inputs.packets() {
                        self.arrived(packet, meta);
                        let refused = self.machine.stats().dropped(DropReason::NoPoolForClass);
                        self.machine.handle_packet(now, meta, packet);
                        if self.machine.stats().dropped(DropReason::NoPoolForClass) > refused {
                            log_refused(packet);
                        }
                    }
                }
                Event::Timer => {
                    self.machine.handle_timeout(now);
                    if let Some(v) = &mut self.v6 {
                        v.machine.handle_timeout(now);
                    }
                    inputs.fired();
                    let now = self.clock.std(now);
                    if now >= idle_until {
                        idle_until = now + far;
                    }
                }
                #[cfg(unix)]
                Event::Control(call) => {
                    let answer = match Command::parse(&call.request) {
                        Ok(c) => self.command(c),
                        Err(e) => crate::ops::control::error(e),
                    };
                    call.answer(answer);
                }
                Event::Hangup => match self.reload() {
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
        if let Some(v) = &mut self.v6 {
            v.flush().await;
            v.finish();
        }
        while let Some(o) = inputs.last_outcome().await {
            self.apply(o);
        }
        while let Some(o) = inputs.last_outcome6().await {
            if let Some(v) = &mut self.v6 {
                v.apply(o);
            }
        }
        self.flush(&mut out).await;
        if let Some(m) = &mut self.metrics {
            m.refresh(&self.machine);
            if let Some(v) = &self.v6 {
                m.refresh6(&v.machine);
            }
        }
        Ok(Summary {
            stats: self.machine.stats().clone(),
            leases: self.machine.lease_count(),
            v6: self
                .v6
                .as_ref()
                .map(|v| (v.machine.stats().clone(), v.machine.lease_count())),
        })
    }

    /// Replays `first` and the records learned with it, as `Replay` lets each.
    fn replay_learned(&mut self, first: Learned) {
        let (learned, replay, machine) = (&self.learned, &mut self.replay, &mut self.machine);
        let rest = learned
            .iter()
            .flat_map(|l| std::iter::from_fn(|| l.try_recv().ok()));
        for l in std::iter::once(first).chain(rest) {
            if let Some(r) = replay.as_mut().and_then(|p| p.learned(l)) {
                machine.restore(&r);
            }
        }
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
        while let Some(address) = self.machine.poll_probe() {
            #[cfg(unix)]
            if let Some(p) = &self.prober {
                p.probe(address);
                continue;
            }
            // No prober here: nothing to check with, so the offer goes.
            self.machine.probe_result(self.clock.now(), address, false);
        }
        self.submit_records();
        if let Some(v) = &mut self.v6 {
            v.flush().await;
        }
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

/// Logs why a DISCOVER got no offer: no pool of its subnet is open to the client's classes.
fn log_refused(packet: &[u8]) {
    if let Ok(m) = Message::parse(packet) {
        tracing::info!(
            "no offer to {} (xid {:#010x}): no pool of its subnet is open to its classes (counted as NoPoolForClass)",
            crate::client::hex(m.chaddr()),
            m.xid(),
        );
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
