//! The async client: the core's [`Client`](dhcp_core::client::Client) machine on a real
//! socket and timer, over any [`Runtime`]. Each adapter re-exports it as its `Client`, with
//! the API the project's seed README promised ([`Client::new`], [`Client::discover`],
//! [`Client::renew`], [`Client::release`], [`get_dhcp_config`]), a builder, and a
//! long-running mode ([`Client::run_until`]) that keeps the lease and reports events.

pub mod hook;

use std::fmt::Write as _;
use std::future::{poll_fn, Future};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use dhcp_core::client::{Client as Machine, ClientConfig, Event, Lease, State};
use dhcp_core::wire::{Message, CLIENT_PORT};

use crate::clock::{os_seed, Clock};
use crate::net::socket::{self, bind_udp, recv_plain, send_to, Interface};
use crate::runtime::{AsyncSocket, Runtime};
use crate::{Error, MacAddress};

/// Bytes as `aa:bb:cc`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        let _ = write!(s, "{}{b:02x}", if i > 0 { ":" } else { "" });
    }
    s
}

/// What a server granted: the seed README's fields, and the whole typed lease.
#[derive(Debug, Clone)]
pub struct DhcpConfig {
    /// The address leased (`yiaddr`).
    pub your_ip_address: Ipv4Addr,
    /// The server that granted it (its server identifier, 54): where renewals go.
    pub server_ip_address: Ipv4Addr,
    /// Subnet mask (1).
    pub subnet_mask: Option<Ipv4Addr>,
    /// Routers (3), empty if none.
    pub routers: Vec<Ipv4Addr>,
    /// DNS servers (6), empty if none.
    pub domain_name_servers: Vec<Ipv4Addr>,
    /// Domain name (15).
    pub domain_name: Option<String>,
    /// Lease time (51); `None` for an infinite lease or an INFORM's answer.
    pub lease_time: Option<Duration>,
    /// The lease with every option the server sent, typed (and raw through its message).
    pub lease: Lease,
}

impl DhcpConfig {
    /// The configuration a lease carries.
    pub fn from_lease(lease: &Lease) -> Self {
        let list = |l: Option<dhcp_core::wire::typed::Ipv4List<'_>>| -> Vec<Ipv4Addr> {
            l.map(|l| l.iter().collect()).unwrap_or_default()
        };
        DhcpConfig {
            your_ip_address: lease.address(),
            server_ip_address: lease.server_id(),
            subnet_mask: lease.subnet_mask(),
            routers: list(lease.routers()),
            domain_name_servers: list(lease.dns_servers()),
            domain_name: lease.domain_name().map(|t| {
                String::from_utf8_lossy(&t.data().bytes().collect::<Vec<u8>>()).into_owned()
            }),
            lease_time: lease.lease_time(),
            lease: lease.clone(),
        }
    }
}

/// What the long-running client ([`Client::run_until`]) reports.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    /// A new lease.
    Bound(DhcpConfig),
    /// The lease was extended by its server (RENEWING).
    Renewed(DhcpConfig),
    /// The lease was extended by some server (REBINDING).
    Rebound(DhcpConfig),
    /// The lease expired: the address must go.
    Expired(Ipv4Addr),
    /// A server refused the address asked for (DHCPNAK); the client starts over.
    Nak,
    /// The lease was lost (a NAK while renewing): the address must go.
    LeaseLost(Ipv4Addr),
    /// The lease was released (on stop).
    Released(Ipv4Addr),
    /// The network prefers IPv6-only (RFC 8925): DHCPv4 pauses this long.
    Ipv6OnlyPreferred(Duration),
}

/// What a long-running client can be told ([`Client::run_with_commands`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCommand {
    /// Renew now (or, when idle after a release, get a lease again).
    Renew,
    /// Release the lease now and stay idle until told to renew.
    Release,
}

/// What woke the long-running loop.
enum Woke {
    Stop,
    Command(ClientCommand),
    Wait(Result<Option<usize>, Error>),
}

/// Builds a [`Client`] with more choices than [`Client::new`] offers.
#[derive(Debug, Clone)]
pub struct ClientBuilder<R: Runtime> {
    bind: SocketAddr,
    mac: MacAddress,
    config: ClientConfig,
    interface: Option<String>,
    server: Option<Ipv4Addr>,
    timeout: Duration,
    release_on_stop: bool,
    runtime: R,
}

impl<R: Runtime> ClientBuilder<R> {
    /// A client for hardware address `mac` with the core's defaults, bound to port 68 on
    /// the interface that has `mac` (or the only usable one).
    pub fn new(mac: MacAddress) -> Self {
        ClientBuilder {
            bind: SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), CLIENT_PORT),
            mac,
            config: ClientConfig::new(mac.to_array()),
            interface: None,
            server: None,
            timeout: Duration::from_secs(30),
            release_on_stop: true,
            runtime: R::default(),
        }
    }

    /// The local address and port to bind (default `0.0.0.0:68`).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// The interface to run on.
    pub fn interface(mut self, name: impl Into<String>) -> Self {
        self.interface = Some(name.into());
        self
    }

    /// The client identifier (61), type byte included.
    pub fn client_id(mut self, id: &[u8]) -> Self {
        self.config.client_id = heapless::Vec::from_slice(&id[..id.len().min(64)]).ok();
        self
    }

    /// The host name (12) to send (cut to 63 bytes).
    pub fn host_name(mut self, name: &str) -> Self {
        let mut s = heapless::String::new();
        for c in name.chars() {
            if s.push(c).is_err() {
                break;
            }
        }
        self.config.host_name = Some(s);
        self
    }

    /// Sends what would be broadcast to this server instead.
    pub fn server(mut self, server: Ipv4Addr) -> Self {
        self.server = Some(server);
        self
    }

    /// Largest message accepted (57).
    pub fn max_message_size(mut self, size: u16) -> Self {
        self.config.max_message_size = size.max(576);
        self
    }

    /// Asks servers to broadcast their replies (needed until the address is configured).
    pub fn broadcast(mut self, on: bool) -> Self {
        self.config.broadcast = on;
        self
    }

    /// How long one operation ([`Client::discover`], ...) waits for an answer (30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether [`Client::run_until`] releases the lease when it is stopped (the default).
    /// Off, the lease is kept (as dhcpcd and dhclient keep theirs), for the next start to
    /// ask for again with INIT-REBOOT.
    pub fn release_on_stop(mut self, release: bool) -> Self {
        self.release_on_stop = release;
        self
    }

    /// Changes any of the core's client settings (parameters, retransmission, ...).
    pub fn configure(mut self, f: impl FnOnce(&mut ClientConfig)) -> Self {
        f(&mut self.config);
        self
    }

    /// Binds the socket and makes the client.
    pub async fn build(self) -> Result<Client<R>, Error> {
        let runtime = self.runtime;
        let interface = match &self.interface {
            Some(name) => Some(socket::interface(name)?),
            None => socket::interface_for_client(self.mac.to_array()),
        };
        let SocketAddr::V4(bind) = self.bind else {
            return Err(Error::io(
                "binding",
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "DHCPv4 needs an IPv4 address",
                ),
            ));
        };
        let s = bind_udp(bind, interface.as_ref().map(|i| i.name.as_str()))?;
        let socket = runtime
            .wrap_socket(s)
            .map_err(|e| Error::io("registering the socket", e))?;
        Ok(Client {
            machine: Machine::new(self.config.clone(), os_seed()),
            config: self.config,
            runtime,
            socket,
            interface,
            server: self.server,
            timeout: self.timeout,
            release_on_stop: self.release_on_stop,
            clock: Clock::new(),
            buf: vec![0u8; 65_536],
        })
    }
}

/// A DHCP client on one interface.
#[derive(Debug)]
pub struct Client<R: Runtime> {
    runtime: R,
    socket: Box<dyn AsyncSocket>,
    machine: Machine,
    config: ClientConfig,
    interface: Option<Interface>,
    server: Option<Ipv4Addr>,
    timeout: Duration,
    release_on_stop: bool,
    clock: Clock,
    buf: Vec<u8>,
}

/// How an exchange ended, for the operation waiting on it.
enum Step<T> {
    Continue,
    Done(Result<T, Error>),
}

impl<R: Runtime> Client<R> {
    /// A client bound to `bind_addr` (normally `0.0.0.0:68`) for hardware address `mac`,
    /// with an optional client identifier (61) and host name (12); `server_address` sends
    /// what would be broadcast to that server instead; `max_message_size` (57) defaults to
    /// 1500; `broadcast` asks servers to broadcast replies (needed while the host has no
    /// address). The interface is the one that has `mac`, else the only usable one.
    pub async fn new(
        bind_addr: SocketAddr,
        mac: MacAddress,
        client_id: Option<Vec<u8>>,
        hostname: Option<String>,
        server_address: Option<Ipv4Addr>,
        max_message_size: Option<u16>,
        broadcast: bool,
    ) -> Result<Self, Error> {
        let mut b = ClientBuilder::new(mac).bind(bind_addr).broadcast(broadcast);
        if let Some(id) = client_id {
            b = b.client_id(&id);
        }
        if let Some(h) = hostname {
            b = b.host_name(&h);
        }
        if let Some(s) = server_address {
            b = b.server(s);
        }
        if let Some(m) = max_message_size {
            b = b.max_message_size(m);
        }
        b.build().await
    }

    /// A builder with every choice.
    pub fn builder(mac: MacAddress) -> ClientBuilder<R> {
        ClientBuilder::new(mac)
    }

    /// The interface the client runs on, if it found or was given one.
    pub fn interface(&self) -> Option<&Interface> {
        self.interface.as_ref()
    }

    /// The protocol machine (state, lease, counters).
    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    fn fresh(&mut self, config: ClientConfig) {
        self.machine = Machine::new(config, os_seed());
    }

    /// Gets a lease: DISCOVER, OFFER, REQUEST, ACK. `requested_ip` (50) and `lease_time`
    /// (51, seconds) are asked for if given.
    pub async fn discover(
        &mut self,
        requested_ip: Option<Ipv4Addr>,
        lease_time: Option<u32>,
    ) -> Result<DhcpConfig, Error> {
        if lease_time.is_some() {
            // Renewals ask for the same lease time.
            self.config.lease_time = lease_time;
        }
        let mut config = self.config.clone();
        config.requested_address = requested_ip;
        self.fresh(config);
        self.machine.start(self.clock.now());
        self.exchange(|m, e| match e {
            Event::Bound => Step::Done(lease_config(m)),
            Event::Ipv6OnlyPreferred(d) => Step::Done(Err(Error::Ipv6OnlyPreferred(d))),
            _ => Step::Continue,
        })
        .await
    }

    /// Extends the lease on `ip` from `server`. When `ip` is configured on this host, a
    /// REQUEST goes unicast to `server` (RENEWING, RFC 2131 section 4.4.5). When it is not
    /// (the lease was never applied), no server could reach the client at `ip`, so the
    /// REQUEST is broadcast with `ip` as the requested address, as after a reboot (section
    /// 4.3.2), which every server answers for a lease the client holds.
    pub async fn renew(&mut self, ip: Ipv4Addr, server: Ipv4Addr) -> Result<DhcpConfig, Error> {
        let now = self.clock.now();
        let held = self
            .machine
            .lease()
            .is_some_and(|l| l.address() == ip && l.server_id() == server);
        if held && self.machine.state() == State::Bound && socket::is_local(ip) {
            self.machine.renew(now);
        } else {
            self.fresh(self.config.clone());
            self.machine.start_reboot(now, ip);
        }
        self.exchange(move |m, e| match e {
            Event::Bound | Event::Renewed | Event::Rebound => Step::Done(lease_config(m)),
            Event::Nak | Event::LeaseLost => Step::Done(Err(Error::Nak(ip))),
            _ => Step::Continue,
        })
        .await
    }

    /// Gives the lease on `ip` back to `server` (DHCPRELEASE), with `message` (56) if
    /// given. No answer is expected.
    pub async fn release(
        &mut self,
        ip: Ipv4Addr,
        server: Ipv4Addr,
        message: Option<String>,
    ) -> Result<(), Error> {
        self.machine
            .release_lease(self.clock.now(), ip, server, message.as_deref());
        while self.machine.poll_event().is_some() {}
        self.transmit().await
    }

    /// Asks for configuration for `ip`, an address the host already has (DHCPINFORM).
    pub async fn inform(&mut self, ip: Ipv4Addr) -> Result<DhcpConfig, Error> {
        self.fresh(self.config.clone());
        self.machine.inform(self.clock.now(), ip);
        self.exchange(|m, e| match e {
            Event::Informed => Step::Done(lease_config(m)),
            Event::InformFailed => Step::Done(Err(Error::Timeout(Duration::ZERO))),
            _ => Step::Continue,
        })
        .await
    }

    /// Keeps a lease until `stop` completes: discovers (or reboots with `remembered`),
    /// renews at T1, rebinds at T2, starts over on expiry or NAK, reports every change on
    /// `events`, and releases the lease when stopped (unless
    /// [`ClientBuilder::release_on_stop`] turned that off: the lease is then kept).
    pub async fn run_until(
        &mut self,
        remembered: Option<Ipv4Addr>,
        events: &async_channel::Sender<ClientEvent>,
        stop: impl Future<Output = ()>,
    ) -> Result<(), Error> {
        let (_keep, commands) = async_channel::bounded(1);
        self.run_with_commands(remembered, events, &commands, stop)
            .await
    }

    /// As [`run_until`](Self::run_until), also taking [`ClientCommand`]s while it runs
    /// (what udhcpc does on SIGUSR1 and SIGUSR2).
    pub async fn run_with_commands(
        &mut self,
        remembered: Option<Ipv4Addr>,
        events: &async_channel::Sender<ClientEvent>,
        commands: &async_channel::Receiver<ClientCommand>,
        stop: impl Future<Output = ()>,
    ) -> Result<(), Error> {
        let mut stop = pin!(stop);
        self.fresh(self.config.clone());
        let now = self.clock.now();
        match remembered {
            Some(a) => self.machine.start_reboot(now, a),
            None => self.machine.start(now),
        }
        // The machine drops its lease before it reports the loss: remember the address.
        let mut held: Option<Ipv4Addr> = None;
        loop {
            self.transmit().await?;
            while let Some(e) = self.machine.poll_event() {
                if matches!(e, Event::Bound | Event::Renewed | Event::Rebound) {
                    held = self.last_address();
                }
                let report = match e {
                    Event::Bound => lease_config(&self.machine).ok().map(ClientEvent::Bound),
                    Event::Renewed => lease_config(&self.machine).ok().map(ClientEvent::Renewed),
                    Event::Rebound => lease_config(&self.machine).ok().map(ClientEvent::Rebound),
                    Event::Expired => held.take().map(ClientEvent::Expired),
                    Event::LeaseLost => held.take().map(ClientEvent::LeaseLost),
                    Event::Nak => Some(ClientEvent::Nak),
                    Event::Ipv6OnlyPreferred(d) => Some(ClientEvent::Ipv6OnlyPreferred(d)),
                    Event::Released(a) => {
                        held = None;
                        Some(ClientEvent::Released(a))
                    }
                    Event::ProbeAddress(_) => {
                        // No ARP probing in this host yet: bind at once.
                        self.machine.probe_result(self.clock.now(), false);
                        None
                    }
                    _ => None,
                };
                if let Some(r) = report {
                    let _ = events.send(r).await;
                }
            }
            let deadline = self
                .machine
                .poll_timeout()
                .map(|t| self.clock.std(t))
                .unwrap_or_else(|| std::time::Instant::now() + Duration::from_secs(3600));
            let got = {
                let wait = self.wait(deadline);
                let mut wait = pin!(wait);
                let command = commands.recv();
                let mut command = pin!(command);
                poll_fn(|cx| {
                    if stop.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Woke::Stop);
                    }
                    if let Poll::Ready(Ok(c)) = command.as_mut().poll(cx) {
                        return Poll::Ready(Woke::Command(c));
                    }
                    wait.as_mut().poll(cx).map(Woke::Wait)
                })
                .await
            };
            let now = self.clock.now();
            match got {
                Woke::Stop => break,
                Woke::Wait(r) => self.take(r?),
                Woke::Command(ClientCommand::Renew) => match self.machine.state() {
                    State::Idle => self.machine.start(now),
                    _ => self.machine.renew(now),
                },
                Woke::Command(ClientCommand::Release) => self.machine.release(now),
            }
        }
        if self.release_on_stop && self.machine.lease().is_some() {
            self.machine.release(self.clock.now());
            self.transmit().await?;
            while let Some(e) = self.machine.poll_event() {
                if let Event::Released(a) = e {
                    let _ = events.send(ClientEvent::Released(a)).await;
                }
            }
        }
        Ok(())
    }

    fn last_address(&self) -> Option<Ipv4Addr> {
        self.machine.lease().map(Lease::address)
    }

    /// Drives the machine until `done` says the exchange is over, or the timeout.
    async fn exchange<T>(
        &mut self,
        mut done: impl FnMut(&Machine, Event) -> Step<T>,
    ) -> Result<T, Error> {
        let give_up = std::time::Instant::now() + self.timeout;
        loop {
            self.transmit().await?;
            while let Some(e) = self.machine.poll_event() {
                if let Event::ProbeAddress(_) = e {
                    self.machine.probe_result(self.clock.now(), false);
                    continue;
                }
                if let Step::Done(r) = done(&self.machine, e) {
                    return r;
                }
            }
            let deadline = self
                .machine
                .poll_timeout()
                .map(|t| self.clock.std(t))
                .map_or(give_up, |t| t.min(give_up));
            if std::time::Instant::now() >= give_up {
                return Err(Error::Timeout(self.timeout));
            }
            let r = self.wait(deadline).await?;
            self.take(r);
        }
    }

    /// Feeds what `wait` returned into the machine.
    fn take(&mut self, got: Option<usize>) {
        let now = self.clock.now();
        match got {
            Some(n) => self.machine.handle_packet(now, &self.buf[..n]),
            None => self.machine.handle_timeout(now),
        }
    }

    /// Waits for a packet (its length, in `buf`) or the deadline (`None`).
    async fn wait(&mut self, deadline: std::time::Instant) -> Result<Option<usize>, Error> {
        let mut timer = self.runtime.new_timer(deadline);
        let buf = &mut self.buf;
        let socket = &self.socket;
        let mut from = None;
        let r = poll_fn(|cx| {
            match socket.poll_read_with(cx, &mut |s| {
                let (n, f) = recv_plain(s, buf)?;
                from = Some(f);
                Ok(n)
            }) {
                Poll::Ready(r) => return Poll::Ready(r.map(Some)),
                Poll::Pending => {}
            }
            timer.as_mut().poll_elapsed(cx).map(|()| Ok(None))
        })
        .await
        .map_err(|e| Error::io("receiving", e))?;
        if let (Some(n), Some(from)) = (r, from) {
            if let Ok(m) = Message::parse(&self.buf[..n]) {
                if m.xid() == self.machine.xid() {
                    tracing::info!("Received DHCP {} from {from}", kind(&m));
                }
            }
        }
        Ok(r)
    }

    /// Sends whatever the machine has to send.
    async fn transmit(&mut self) -> Result<(), Error> {
        let mut out = [0u8; 1500];
        while let Some(t) = self.machine.poll_transmit(&mut out) {
            let data = &out[..t.len];
            if let Ok(m) = Message::parse(data) {
                match m.requested_ip().ok().flatten() {
                    Some(a) => tracing::info!("Sent DHCP {} for {a}", kind(&m)),
                    None if !m.ciaddr().is_unspecified() => {
                        tracing::info!("Sent DHCP {} for {}", kind(&m), m.ciaddr())
                    }
                    None => tracing::info!("Sent DHCP {}", kind(&m)),
                }
            }
            let mut to = t.destination;
            if let (true, Some(server)) = (t.is_broadcast(), self.server) {
                to = SocketAddrV4::new(server, to.port());
            }
            if !to.ip().is_broadcast() && !t.source.is_unspecified() && !socket::is_local(t.source)
            {
                // Unicast from an address the host does not have would leave with source
                // 0.0.0.0, which receivers drop as martian: broadcast it (servers take a
                // RELEASE or REQUEST either way).
                to = SocketAddrV4::new(Ipv4Addr::BROADCAST, to.port());
            }
            let socket = &self.socket;
            let r = poll_fn(|cx| socket.poll_write_with(cx, &mut |s| send_to(s, data, to))).await;
            if let Err(e) = r {
                if to.ip().is_broadcast() {
                    return Err(Error::io(format!("sending to {to}"), e));
                }
                // Unicast with no route to the server (the address is not configured):
                // the server takes the message by broadcast as well.
                tracing::debug!("sending to {to}: {e}; broadcasting instead");
                let b = SocketAddrV4::new(Ipv4Addr::BROADCAST, to.port());
                poll_fn(|cx| socket.poll_write_with(cx, &mut |s| send_to(s, data, b)))
                    .await
                    .map_err(|e| Error::io(format!("sending to {b}"), e))?;
            }
        }
        Ok(())
    }
}

fn kind(m: &Message<'_>) -> String {
    m.message_type()
        .ok()
        .flatten()
        .map(|t| t.name().to_uppercase())
        .unwrap_or_else(|| "BOOTP".to_string())
}

fn lease_config(m: &Machine) -> Result<DhcpConfig, Error> {
    m.lease().map(DhcpConfig::from_lease).ok_or_else(|| {
        Error::io(
            "reading the lease",
            std::io::Error::other("the client reported a lease it does not hold"),
        )
    })
}

/// Gets a lease on the interface that has `mac` (or the only usable one) and returns its
/// configuration: the seed README's one-call API.
pub async fn get_dhcp_config<R: Runtime>(
    bind_addr: SocketAddr,
    mac: MacAddress,
    hostname: Option<String>,
) -> Result<DhcpConfig, Error> {
    let mut c = Client::<R>::new(bind_addr, mac, None, hostname, None, None, true).await?;
    c.discover(None, None).await
}
