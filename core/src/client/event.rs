//! What the client machine hands back: transmits, events, states and drop counters.

use core::net::{Ipv4Addr, SocketAddrV4};
use core::time::Duration;

/// A message [`Client::poll_transmit`](super::Client::poll_transmit) wrote into the
/// caller's buffer, and where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// Bytes written at the start of the buffer.
    pub len: usize,
    /// Where to send it: 255.255.255.255:67 or a server's address, port 67.
    pub destination: SocketAddrV4,
    /// The address to send from: the leased address when the client has one configured,
    /// else 0.0.0.0 (the adapter then sends from port 68 without an address).
    pub source: Ipv4Addr,
}

impl Transmit {
    /// Whether the destination is the limited broadcast address.
    pub fn is_broadcast(&self) -> bool {
        self.destination.ip().is_broadcast()
    }
}

/// Something the caller must know or act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A new lease: configure [`Client::lease`](super::Client::lease).
    Bound,
    /// The lease was extended by its server (RENEWING).
    Renewed,
    /// The lease was extended by some server (REBINDING).
    Rebound,
    /// The lease expired before it could be extended: remove the address.
    Expired,
    /// A server refused the address; if it was bound, remove it (a `LeaseLost` follows).
    Nak,
    /// The lease ended for a reason other than expiry (a NAK while renewing): remove it.
    LeaseLost,
    /// Probe this address for conflicts (RFC 5227) and report with
    /// [`Client::probe_result`](super::Client::probe_result).
    ProbeAddress(Ipv4Addr),
    /// The address was declined (a conflict); the client starts over after a pause.
    Declined(Ipv4Addr),
    /// The lease was released; the client is idle.
    Released(Ipv4Addr),
    /// An INFORM was answered: [`Client::lease`](super::Client::lease) holds the options.
    Informed,
    /// No server answered the INFORM.
    InformFailed,
    /// The network prefers IPv6-only (RFC 8925): DHCPv4 pauses for this long.
    Ipv6OnlyPreferred(Duration),
}

/// The RFC 2131 state of the client (plus the idle ones around it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not started, or released: no timers, no traffic.
    Idle,
    /// Waiting before (re)starting discovery.
    Init,
    /// DISCOVER sent, collecting offers.
    Selecting,
    /// REQUEST for an offer sent.
    Requesting,
    /// ACK received; waiting for the address probe.
    Probing,
    /// Lease held, before T1.
    Bound,
    /// Past T1: REQUEST unicast to the server.
    Renewing,
    /// Past T2: REQUEST broadcast to any server.
    Rebinding,
    /// Confirming a remembered address after a restart.
    Rebooting,
    /// INFORM sent.
    Informing,
    /// Pausing after a DECLINE.
    Declined,
    /// Pausing for IPv6-only preferred.
    Ipv6Only,
}

crate::macros::drop_reasons! {
    /// Not a DHCP message (a parse error).
    Malformed,
    /// A BOOTREQUEST, or a reply without a message type.
    NotReply,
    /// Not for this exchange's transaction id.
    WrongXid,
    /// Not for this client's hardware address.
    WrongChaddr,
    /// A message type this state does not take.
    Unexpected,
    /// From a server other than the one this state talks to, or without a server id.
    WrongServer,
    /// `yiaddr` is not a usable unicast address, or not the one expected.
    BadAddress,
    /// An OFFER or ACK without a lease time.
    MissingLeaseTime,
    /// An option the state needs is malformed.
    BadOption,
    /// The ACK is too large to keep.
    TooLarge,
}

/// Counters of what the client dropped, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    dropped: [u64; 10],
    /// Transmits that did not fit in the caller's buffer.
    pub unsendable: u64,
    /// Events discarded because the caller did not drain them.
    pub events_lost: u64,
}

impl Stats {
    pub(crate) fn count(&mut self, reason: DropReason) {
        if let Some(n) = self.dropped.get_mut(reason as usize) {
            *n += 1;
        }
    }

    /// Packets dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped.get(reason as usize).copied().unwrap_or(0)
    }

    /// Packets dropped for any reason.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }
}
