//! What the DHCPv6 server machine takes with a packet and hands back: receive metadata,
//! transmits, lease records, drop reasons and counters.

use alloc::vec::Vec;
use core::net::{Ipv6Addr, SocketAddrV6};

use crate::lease::ClientKey;

/// Where a datagram came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta6 {
    /// The adapter's identifier of the receiving interface, given back in
    /// [`Transmit6::interface`]; selects the subnet of a directly attached client.
    pub interface: u32,
    /// The datagram's source: a client's link-local address (port 546) or a relay (547).
    pub source: SocketAddrV6,
    /// Whether it was sent to a multicast group (ff02::1:2, ff05::1:3) rather than to one
    /// of the server's own addresses (RFC 8415 section 18.3.2's unicast rule).
    pub multicast: bool,
}

/// A reply [`Server6::poll_transmit`](super::Server6::poll_transmit) wrote into the
/// caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit6 {
    /// Bytes written at the start of the buffer.
    pub len: usize,
    /// Where to send it: the request's source (the client on port 546, or the relay on
    /// 547), as RFC 8415 sections 18.3.10 and 19.3 say.
    pub destination: SocketAddrV6,
    /// The interface the request came in on.
    pub interface: u32,
}

/// What a lease record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IaKind {
    /// An address of an IA_NA.
    Address,
    /// A prefix of an IA_PD.
    Prefix,
}

/// What happened to the address or prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Record6Kind {
    /// Bound to the client until `expires`.
    Bound,
    /// Given back (RELEASE) or expired: free, remembered so the client gets it back.
    Released,
    /// Declined (DECLINE): out of use until `expires`.
    Declined,
}

/// One lease change, for the caller to make durable before the REPLY that depends on it
/// goes out. Restoring every record in order rebuilds the lease table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease6Record {
    /// Increasing number; [`Server6::persisted`](super::Server6::persisted) takes the
    /// highest one made durable.
    pub seq: u64,
    /// Address or prefix.
    pub ia: IaKind,
    /// The address, or the prefix's first address.
    pub address: Ipv6Addr,
    /// 128 for an address; the prefix's length.
    pub prefix_len: u8,
    /// The client's DUID.
    pub duid: Vec<u8>,
    /// The IA's IAID.
    pub iaid: u32,
    /// What happened.
    pub kind: Record6Kind,
    /// When the valid lifetime (or the decline probation) ends, Unix seconds.
    pub expires: u64,
}

/// A bound lease as [`Server6::leases`](super::Server6::leases) lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundLease6<'a> {
    /// Address or prefix.
    pub ia: IaKind,
    /// The address, or the prefix's first address.
    pub address: Ipv6Addr,
    /// 128 for an address; the prefix's length.
    pub prefix_len: u8,
    /// Who holds it: IA kind, IAID and DUID as bytes ([`lease_key`]).
    pub client: &'a ClientKey,
    /// When it expires, Unix seconds.
    pub expires: u64,
}

/// The key a binding is held by: the IA's kind (3 or 25, one byte), its IAID, the DUID.
pub fn lease_key(ia: IaKind, iaid: u32, duid: &[u8]) -> ClientKey {
    let mut b = [0u8; 135];
    b[0] = match ia {
        IaKind::Address => 3,
        IaKind::Prefix => 25,
    };
    b[1..5].copy_from_slice(&iaid.to_be_bytes());
    let n = duid.len().min(130);
    b[5..5 + n].copy_from_slice(&duid[..n]);
    ClientKey::new(&b[..5 + n])
}

/// Why a datagram got no answer; counted in [`Server6Stats::dropped`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason6 {
    /// Not a DHCPv6 message, or options running past its end.
    Malformed,
    /// A message type a server does not take (ADVERTISE, REPLY, RECONFIGURE, RELAY-REPL,
    /// unknown types).
    NotForServer,
    /// No client identifier where RFC 8415 section 16 requires one.
    NoClientId,
    /// A server identifier where section 16 forbids one (SOLICIT, CONFIRM, REBIND).
    UnexpectedServerId,
    /// No server identifier where section 16 requires one (REQUEST, RENEW, DECLINE,
    /// RELEASE).
    NoServerId,
    /// Another server's identifier.
    NotOurServerId,
    /// An INFORMATION-REQUEST carrying an IA (section 16.12).
    IaInInformationRequest,
    /// No subnet serves the client's link.
    NoSubnet,
    /// A CONFIRM with no addresses to confirm (section 18.3.3).
    NothingToConfirm,
    /// More relays than the server follows.
    TooManyRelays,
    /// The reply did not fit the buffer.
    ReplyTooLarge,
    /// The reply's lease record could not be made durable.
    PersistFailed,
    /// A SOLICIT, CONFIRM, REBIND or INFORMATION-REQUEST sent by unicast (RFC 8415
    /// section 16: a server discards them).
    UnicastNotAllowed,
}

impl DropReason6 {
    /// Every reason, in the order [`Server6Stats::dropped`] counts them.
    pub const ALL: [DropReason6; 13] = [
        DropReason6::Malformed,
        DropReason6::NotForServer,
        DropReason6::NoClientId,
        DropReason6::UnexpectedServerId,
        DropReason6::NoServerId,
        DropReason6::NotOurServerId,
        DropReason6::IaInInformationRequest,
        DropReason6::NoSubnet,
        DropReason6::NothingToConfirm,
        DropReason6::TooManyRelays,
        DropReason6::ReplyTooLarge,
        DropReason6::PersistFailed,
        DropReason6::UnicastNotAllowed,
    ];

    /// A short name for logs and metrics labels.
    pub fn name(self) -> &'static str {
        match self {
            DropReason6::Malformed => "malformed",
            DropReason6::NotForServer => "not_for_server",
            DropReason6::NoClientId => "no_client_id",
            DropReason6::UnexpectedServerId => "unexpected_server_id",
            DropReason6::NoServerId => "no_server_id",
            DropReason6::NotOurServerId => "not_our_server_id",
            DropReason6::IaInInformationRequest => "ia_in_information_request",
            DropReason6::NoSubnet => "no_subnet",
            DropReason6::NothingToConfirm => "nothing_to_confirm",
            DropReason6::TooManyRelays => "too_many_relays",
            DropReason6::ReplyTooLarge => "reply_too_large",
            DropReason6::PersistFailed => "persist_failed",
            DropReason6::UnicastNotAllowed => "unicast_not_allowed",
        }
    }
}

/// Counters since the machine was made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Server6Stats {
    /// Messages received, by type byte (index 1 SOLICIT ... 13 RELAY-REPL; 0 others).
    pub received: [u64; 14],
    /// Messages sent, by type byte (2 ADVERTISE, 7 REPLY).
    pub sent: [u64; 14],
    /// Datagrams dropped, by [`DropReason6::ALL`]'s order.
    pub dropped: [u64; 13],
    /// Addresses and prefixes declined by clients.
    pub declined: u64,
    /// Requests answered with UseMulticast (section 18.3.2).
    pub use_multicast: u64,
}

impl Server6Stats {
    /// How many datagrams were dropped for `reason`.
    pub fn dropped(&self, reason: DropReason6) -> u64 {
        DropReason6::ALL
            .iter()
            .position(|r| *r == reason)
            .map_or(0, |i| self.dropped[i])
    }

    pub(crate) fn drop(&mut self, reason: DropReason6) {
        if let Some(i) = DropReason6::ALL.iter().position(|r| *r == reason) {
            self.dropped[i] += 1;
        }
    }
}

/// How full one pool is, as [`Server6::pool_usage`](super::Server6::pool_usage) lists
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool6Usage {
    /// The subnet's prefix.
    pub subnet: super::Ipv6Net,
    /// Address pool or prefix pool.
    pub ia: IaKind,
    /// The pool's first address (or prefix).
    pub start: Ipv6Addr,
    /// Its size: addresses, or prefixes.
    pub size: u64,
    /// How many are bound, declined or otherwise not free.
    pub used: u64,
}
