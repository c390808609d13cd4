//! The async server: the core's [`Server`](dhcp_core::server::Server) machine on real
//! sockets, a timer, and the lease journal's commit thread, over any [`Runtime`].

use std::future::{poll_fn, Future};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use dhcp_core::server::{RecvMeta, Server as Machine, ServerStats};
use dhcp_core::wire::{Message, SERVER_PORT};
use futures_lite::StreamExt;

use crate::clock::{unix_now, Clock};
use crate::config::ServerFile;
use crate::journal::Journal;
use crate::runtime::{AsyncSocket, Runtime};
use crate::socket::{self, bind_udp, recv_request, send_reply};
use crate::store::{Committer, LeaseStore, Outcome};
use crate::Error;

/// Largest datagram taken in.
const RECV_BUF: usize = 65_536;

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
}

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
        let mut machine =
            Machine::new(file.server.clone(), clock.now(), unix_now()).map_err(|errors| {
                crate::config::ConfigFileError {
                    errors: errors
                        .into_iter()
                        .map(|e| crate::config::Located {
                            file: file.path.clone(),
                            line: 0,
                            column: 0,
                            field: String::new(),
                            what: e.to_string(),
                        })
                        .collect(),
                }
            })?;
        let records = store.load()?;
        for r in &records {
            machine.restore(r);
        }
        tracing::info!(
            "restored {} lease records, {} leases bound",
            records.len(),
            machine.leases().count()
        );
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
        let committer =
            Committer::spawn(store).map_err(|e| Error::io("starting the commit thread", e))?;
        Ok(Server {
            runtime,
            machine,
            listeners,
            committer,
            clock,
            store_down: false,
        })
    }

    /// The protocol machine (counters, leases).
    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    /// Serves until `shutdown` completes, then commits what is queued, sends the ACKs that
    /// were waiting for it, and returns.
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) -> Result<Summary, Error> {
        let mut shutdown = pin!(shutdown);
        let outcomes = self.committer.outcomes().clone();
        let mut outcomes = pin!(outcomes);
        let mut buf = vec![0u8; RECV_BUF];
        let mut out = vec![0u8; 1500];
        let far = Duration::from_secs(3600);
        let mut timer = self.runtime.new_timer(std::time::Instant::now() + far);
        enum Ev {
            Stop,
            Outcome(Outcome),
            Packet(usize, RecvMeta),
            Timer,
        }
        loop {
            self.flush(&mut out).await;
            let deadline = self
                .machine
                .poll_timeout()
                .map(|t| self.clock.std(t))
                .unwrap_or_else(|| std::time::Instant::now() + far);
            timer.as_mut().reset(deadline);
            let ev = poll_fn(|cx| {
                if shutdown.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Ev::Stop);
                }
                if let Poll::Ready(Some(o)) = outcomes.as_mut().poll_next(cx) {
                    return Poll::Ready(Ev::Outcome(o));
                }
                for l in &self.listeners {
                    let mut meta = None;
                    let r = l.socket.poll_read_with(cx, &mut |s| {
                        let (n, m) = recv_request(s, &mut buf, l.local)?;
                        meta = Some(m);
                        Ok(n)
                    });
                    match r {
                        Poll::Ready(Ok(n)) => {
                            if let Some(m) = meta {
                                return Poll::Ready(Ev::Packet(n, m));
                            }
                        }
                        Poll::Ready(Err(e)) => tracing::warn!("receiving: {e}"),
                        Poll::Pending => {}
                    }
                }
                if timer.as_mut().poll_elapsed(cx).is_ready() {
                    return Poll::Ready(Ev::Timer);
                }
                Poll::Pending
            })
            .await;
            let now = self.clock.now();
            match ev {
                Ev::Stop => break,
                Ev::Outcome(o) => self.apply(o),
                Ev::Packet(n, meta) => {
                    let packet = &buf[..n];
                    if tracing::enabled!(tracing::Level::INFO) {
                        log_message("Received", packet, meta.source);
                    }
                    self.machine.handle_packet(now, &meta, packet);
                }
                Ev::Timer => self.machine.handle_timeout(now),
            }
        }
        tracing::info!("shutting down: committing queued lease records");
        while let Some(r) = self.machine.poll_persist() {
            self.committer.submit(r);
        }
        self.committer.finish();
        while let Some(o) = outcomes.next().await {
            self.apply(o);
        }
        self.flush(&mut out).await;
        Ok(Summary {
            stats: self.machine.stats().clone(),
            leases: self.machine.leases().count(),
        })
    }

    fn apply(&mut self, o: Outcome) {
        match o {
            Outcome::Durable { upto, refused } => {
                if std::mem::take(&mut self.store_down) {
                    tracing::warn!("lease store writes again: granting new leases");
                }
                for seq in refused {
                    self.machine.persist_failed(seq);
                }
                self.machine.persisted(upto);
            }
            Outcome::Failed { seqs, error } => {
                if !std::mem::replace(&mut self.store_down, true) {
                    tracing::error!(
                        "lease store cannot write ({error}): no new leases until it can; \
                         renewals are answered with the leases it already holds"
                    );
                }
                for seq in seqs {
                    self.machine.persist_unavailable(seq);
                }
            }
        }
    }

    /// Queues lease records for the journal and sends every reply that may go.
    async fn flush(&mut self, out: &mut [u8]) {
        while let Some(r) = self.machine.poll_persist() {
            self.committer.submit(r);
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
