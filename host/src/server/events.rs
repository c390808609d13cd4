//! [`Inputs`]: everything the server loop waits on, and [`Inputs::next`], which waits for
//! the first of them and says which as an [`Event`].

use std::future::{poll_fn, Future};
use std::net::Ipv4Addr;
use std::pin::Pin;
use std::task::Poll;
use std::time::Instant;

use dhcp_core::server::RecvMeta;
use dhcp_core::v6::server::RecvMeta6;
use futures_lite::{Stream, StreamExt};
use socket2::SockRef;

use crate::net::socket::recv_request;
use crate::net::socket6::recv6;
use crate::runtime::{AsyncSocket, AsyncTimer};
use crate::store::{Learned, Outcome};

/// Room for one datagram of a receive batch (a DHCP message is far smaller; a longer one
/// is handed on empty, and dropped and counted as malformed).
const SLOT: usize = 16_384;

/// Most datagrams taken from a socket at one wake-up before the replies go out: under load
/// the loop runs once per batch instead of once per packet.
const RECV_BATCH: usize = 32;

/// A socket the server listens on.
#[derive(Debug)]
pub(super) struct Listener {
    pub(super) socket: Box<dyn AsyncSocket>,
    /// Interface index (0: every interface).
    pub(super) index: u32,
    /// Reported as the local address where the platform gives none.
    pub(super) local: Ipv4Addr,
}

/// What woke the server loop, in the order [`Inputs::next`] looks: the first ready wins.
#[derive(Debug)]
pub(super) enum Event {
    /// The shutdown future completed.
    Stop,
    /// The store wrote a batch (or could not).
    Outcome(Outcome),
    /// The DHCPv6 journal wrote a batch (or could not).
    Outcome6(Outcome),
    /// SIGHUP: reload the config.
    Hangup,
    /// A record another server sharing the store wrote.
    Learned(Learned),
    /// A control socket request.
    #[cfg(unix)]
    Control(crate::ops::control::Call),
    /// The conflict check's answer for an address.
    #[cfg(unix)]
    Probed(crate::net::prober::Probed),
    /// The machine's deadline (or the metrics refresh) came.
    Timer,
    /// A batch of datagrams arrived; [`Inputs::packets`] reads them.
    Packets,
    /// A batch of DHCPv6 datagrams arrived; [`Inputs::packets6`] reads them.
    Packets6,
}

type Channel<T> = Pin<Box<async_channel::Receiver<T>>>;

/// The sources of the loop's events, and the buffer a batch of datagrams is read into.
pub(super) struct Inputs<'s, S: Future<Output = ()>> {
    shutdown: Pin<&'s mut S>,
    outcomes: Channel<Outcome>,
    outcomes6: Option<Channel<Outcome>>,
    hangups: Option<Channel<i32>>,
    learned: Option<Channel<Learned>>,
    #[cfg(unix)]
    calls: Option<Channel<crate::ops::control::Call>>,
    #[cfg(unix)]
    probes: Option<Channel<crate::net::prober::Probed>>,
    timer: Pin<Box<dyn AsyncTimer>>,
    /// The deadline the timer holds: reset only when it changes, as a reset costs the
    /// runtime work (async-io wakes its reactor for each new earliest timer).
    armed: Option<Instant>,
    buf: Vec<u8>,
    got: Vec<(usize, RecvMeta)>,
    got6: Vec<(usize, RecvMeta6)>,
    /// The socket to read first next time (the one after the one read last).
    first: usize,
}

impl<'s, S: Future<Output = ()>> Inputs<'s, S> {
    /// Inputs from these sources; the timer starts unarmed (far off).
    pub(super) fn new(
        shutdown: Pin<&'s mut S>,
        outcomes: async_channel::Receiver<Outcome>,
        hangups: Option<async_channel::Receiver<i32>>,
        learned: Option<async_channel::Receiver<Learned>>,
        #[cfg(unix)] calls: Option<async_channel::Receiver<crate::ops::control::Call>>,
        #[cfg(unix)] probes: Option<async_channel::Receiver<crate::net::prober::Probed>>,
        timer: Pin<Box<dyn AsyncTimer>>,
    ) -> Self {
        Inputs {
            shutdown,
            outcomes: Box::pin(outcomes),
            outcomes6: None,
            hangups: hangups.map(Box::pin),
            learned: learned.map(Box::pin),
            #[cfg(unix)]
            calls: calls.map(Box::pin),
            #[cfg(unix)]
            probes: probes.map(Box::pin),
            timer,
            armed: None,
            buf: vec![0u8; SLOT * RECV_BATCH],
            got: Vec::with_capacity(RECV_BATCH),
            got6: Vec::with_capacity(RECV_BATCH),
            first: 0,
        }
    }

    /// Also waits on the DHCPv6 journal's outcomes.
    pub(super) fn with_outcomes6(
        mut self,
        outcomes6: Option<async_channel::Receiver<Outcome>>,
    ) -> Self {
        self.outcomes6 = outcomes6.map(Box::pin);
        self
    }

    /// Sets the timer to `deadline` (a no-op when it already holds it).
    pub(super) fn arm(&mut self, deadline: Instant) {
        if self.armed != Some(deadline) {
            self.timer.as_mut().reset(deadline);
            self.armed = Some(deadline);
        }
    }

    /// Forgets the armed deadline, so the next [`arm`](Self::arm) sets the timer again: a
    /// timer that has fired may not fire again by itself (async-io's doesn't).
    pub(super) fn fired(&mut self) {
        self.armed = None;
    }

    /// The datagrams of the last [`Event::Packets`], with where each came in.
    pub(super) fn packets(&self) -> impl Iterator<Item = (&[u8], &RecvMeta)> {
        self.got
            .iter()
            .enumerate()
            .map(|(i, (n, meta))| (&self.buf[i * SLOT..][..*n], meta))
    }

    /// The DHCPv6 datagrams of the last [`Event::Packets6`].
    pub(super) fn packets6(&self) -> impl Iterator<Item = (&[u8], &RecvMeta6)> {
        self.got6
            .iter()
            .enumerate()
            .map(|(i, (n, meta))| (&self.buf[i * SLOT..][..*n], meta))
    }

    /// The outcomes still to come after the commit thread was told to finish.
    pub(super) async fn last_outcome(&mut self) -> Option<Outcome> {
        self.outcomes.next().await
    }

    /// The DHCPv6 journal's outcomes still to come after it was told to finish.
    pub(super) async fn last_outcome6(&mut self) -> Option<Outcome> {
        match &mut self.outcomes6 {
            Some(o) => o.next().await,
            None => None,
        }
    }

    /// Reads a batch of DHCPv6 datagrams into the buffer; whether any came. A datagram
    /// that fails to read (not `WouldBlock`) is logged and the reading goes on, so that the
    /// socket is always left empty or with its wake-up registered.
    fn read6(&mut self, cx: &mut std::task::Context<'_>, socket: &dyn AsyncSocket) -> bool {
        let (got, buf) = (&mut self.got6, &mut self.buf);
        got.clear();
        let mut tries = 0;
        let r = socket.poll_read_with(cx, &mut |s| {
            while got.len() < RECV_BATCH && tries < 2 * RECV_BATCH {
                tries += 1;
                let slot = &mut buf[got.len() * SLOT..][..SLOT];
                match recv6(SockRef::from(&*s), slot) {
                    Ok(p) => got.push(p),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Err(e),
                    Err(e) => tracing::warn!("receiving DHCPv6: {e}"),
                }
            }
            Ok(got.len())
        });
        if let Poll::Ready(Err(e)) = r {
            tracing::warn!("receiving DHCPv6: {e}");
        }
        !got.is_empty()
    }

    /// Waits for the first input ready: shutdown, a store outcome, SIGHUP, a learned
    /// record, a control request, the timer (before the sockets, so that a sustained burst
    /// can't keep offers and leases from expiring), then the sockets in turn.
    pub(super) async fn next(
        &mut self,
        listeners: &[Listener],
        v6: Option<&dyn AsyncSocket>,
    ) -> Event {
        poll_fn(|cx| {
            if self.shutdown.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Event::Stop);
            }
            if let Poll::Ready(Some(o)) = self.outcomes.as_mut().poll_next(cx) {
                return Poll::Ready(Event::Outcome(o));
            }
            if let Some(Poll::Ready(Some(o))) =
                self.outcomes6.as_mut().map(|o| o.as_mut().poll_next(cx))
            {
                return Poll::Ready(Event::Outcome6(o));
            }
            if let Some(Poll::Ready(Some(_))) =
                self.hangups.as_mut().map(|h| h.as_mut().poll_next(cx))
            {
                return Poll::Ready(Event::Hangup);
            }
            if let Some(Poll::Ready(Some(r))) =
                self.learned.as_mut().map(|l| l.as_mut().poll_next(cx))
            {
                return Poll::Ready(Event::Learned(r));
            }
            #[cfg(unix)]
            if let Some(Poll::Ready(Some(c))) =
                self.calls.as_mut().map(|c| c.as_mut().poll_next(cx))
            {
                return Poll::Ready(Event::Control(c));
            }
            #[cfg(unix)]
            if let Some(Poll::Ready(Some(p))) =
                self.probes.as_mut().map(|c| c.as_mut().poll_next(cx))
            {
                return Poll::Ready(Event::Probed(p));
            }
            if self.timer.as_mut().poll_elapsed(cx).is_ready() {
                return Poll::Ready(Event::Timer);
            }
            // The v4 sockets and the v6 one in turn, starting after the one read last, so
            // that a steady stream on one never starves the others.
            let count = listeners.len();
            let total = count + usize::from(v6.is_some());
            for k in 0..total {
                let i = (self.first + k) % total;
                let Some(l) = listeners.get(i) else {
                    if let Some(socket) = v6 {
                        if self.read6(cx, socket) {
                            self.first = (i + 1) % total;
                            return Poll::Ready(Event::Packets6);
                        }
                    }
                    continue;
                };
                let (got, buf) = (&mut self.got, &mut self.buf);
                got.clear();
                // Reads until the socket is empty (then `WouldBlock`, so that the runtime
                // waits for the next datagram instead of reading again to learn that there
                // is none) or the batch is full.
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
                    self.first = (i + 1) % total;
                    return Poll::Ready(Event::Packets);
                }
                if let Poll::Ready(Err(e)) = r {
                    tracing::warn!("receiving: {e}");
                }
            }
            Poll::Pending
        })
        .await
    }
}
