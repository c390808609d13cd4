//! What the server machine takes with a packet and hands back: receive metadata,
//! transmits, drop reasons and counters.

use core::net::{Ipv4Addr, SocketAddrV4};

/// Where a packet came in: what the adapter knows and the machine needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta {
    /// The adapter's identifier of the receiving interface, given back in the reply's
    /// [`Transmit::interface`].
    pub interface: u32,
    /// The receiving interface's address: selects the subnet of a client on the link, and
    /// is the server id where the config sets none.
    pub local_address: Ipv4Addr,
    /// The packet's source.
    pub source: SocketAddrV4,
}

/// A reply [`Server::poll_transmit`](super::Server::poll_transmit) wrote into the
/// caller's buffer, and how to deliver it (RFC 2131 section 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// Bytes written at the start of the buffer.
    pub len: usize,
    /// Where to send it: a relay (port 67), the client's `ciaddr` (port 68), the limited
    /// broadcast address (port 68), or `yiaddr` (port 68) with [`Transmit::hardware`] set.
    pub destination: SocketAddrV4,
    /// The interface the request came in on.
    pub interface: u32,
    /// The address to send from: the server identifier.
    pub source: Ipv4Addr,
    /// Set for unicast to a client that has no address yet: its hardware type and address,
    /// so the adapter can write the ARP entry first (or broadcast if it can't).
    pub hardware: Option<HardwareAddress>,
}

/// A client's hardware address as its request gave it: the hardware type (`htype`, 1 for
/// Ethernet) and `chaddr` cut to at most 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HardwareAddress {
    htype: u8,
    bytes: [u8; 16],
    len: u8,
}

impl HardwareAddress {
    /// `address` of hardware type `htype`; bytes past the 16th are not kept.
    pub fn new(htype: u8, address: &[u8]) -> Self {
        let mut bytes = [0; 16];
        let len = address.len().min(16);
        bytes[..len].copy_from_slice(&address[..len]);
        HardwareAddress {
            htype,
            bytes,
            len: len as u8,
        }
    }

    /// The hardware type (ARP's `ar_hrd`: 1 for Ethernet).
    pub fn htype(&self) -> u8 {
        self.htype
    }

    /// The address: 6 bytes for Ethernet, at most 16.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// A bound lease, as [`Server::leases`](super::Server::leases) lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundLease<'a> {
    /// The address.
    pub address: Ipv4Addr,
    /// The client holding it.
    pub client: &'a super::ClientKey,
    /// When it expires (`Instant::MAX`: never).
    pub expires: crate::time::Instant,
}

/// One subnet's use, as [`Server::usage`](super::Server::usage) reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubnetUsage {
    /// The subnet.
    pub network: crate::server::Ipv4Net,
    /// Leases bound in it now.
    pub bound: u64,
    /// Addresses of its pools free to hand out.
    pub free: u64,
    /// Addresses in its pools.
    pub size: u64,
}

/// One pool's use, as [`Server::pool_usage`](super::Server::pool_usage) reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// The pool's subnet.
    pub network: crate::server::Ipv4Net,
    /// The pool's range.
    pub range: crate::server::PoolRange,
    /// Leases bound in it now.
    pub bound: u64,
    /// Its addresses free to hand out.
    pub free: u64,
    /// Its addresses.
    pub size: u64,
}

crate::macros::drop_reasons! {
    /// Not a DHCP message (a parse error).
    Malformed,
    /// A BOOTREPLY.
    NotRequest,
    /// A message type a server does not take.
    Unexpected,
    /// An option the message needs is malformed.
    BadOption,
    /// No configured subnet for the client's link.
    NoSubnet,
    /// A REQUEST for another server (the client chose its offer).
    OtherServer,
    /// No free address for a DISCOVER.
    PoolExhausted,
    /// A request about an address this (non-authoritative) server knows nothing of.
    Unknown,
    /// A DECLINE or RELEASE for an address the client does not hold.
    NotHeld,
    /// Over the client's rate limit ([`ServerConfig::rate_limit`](super::ServerConfig::rate_limit)).
    RateLimited,
    /// A DISCOVER from a new client while the server holds its maximum of offers
    /// ([`ServerConfig::max_offers`](super::ServerConfig::max_offers)).
    TooManyOffers,
    /// A DISCOVER from a client whose classes no pool of its subnet is open to (and that
    /// has no reservation there).
    NoPoolForClass,
    /// A BOOTP request (no message type) from a client with no reservation, on a subnet
    /// without dynamic BOOTP.
    BootpNotServed,
}

/// Counters of what the server received, sent and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerStats {
    received: [u64; 19],
    sent: [u64; 19],
    dropped: [u64; 13],
    /// ACKs whose lease record could not be made durable (refused, or the store down).
    pub persist_failures: u64,
    /// Of those, renewals answered with the lease the store already held, shortened.
    pub acks_from_durable: u64,
    /// ACKs dropped when their record became durable because the lease had meanwhile
    /// run out or been renewed again (the client retries, or has the newer ACK).
    pub stale_acks: u64,
    /// Offers that expired without a REQUEST.
    pub offers_expired: u64,
    /// Leases that expired.
    pub leases_expired: u64,
    /// BOOTP requests (BOOTREQUESTs without a message type) received.
    pub bootp_received: u64,
    /// BOOTP replies sent.
    pub bootp_sent: u64,
    /// Addresses found in use by the conflict check before an offer, and set aside.
    pub conflicts: u64,
}

impl ServerStats {
    pub(crate) fn received(&mut self, t: crate::wire::MessageType) {
        if let Some(n) = self.received.get_mut(t as usize) {
            *n += 1;
        }
    }

    /// Takes back one message of type `t` counted as received (a request the machine
    /// handles again itself, as after a conflict check).
    pub(crate) fn unreceive(&mut self, t: crate::wire::MessageType) {
        if let Some(n) = self.received.get_mut(t as usize) {
            *n = n.saturating_sub(1);
        }
    }

    pub(crate) fn sent(&mut self, t: crate::wire::MessageType) {
        if let Some(n) = self.sent.get_mut(t as usize) {
            *n += 1;
        }
    }

    pub(crate) fn drop(&mut self, r: DropReason) {
        if let Some(n) = self.dropped.get_mut(r as usize) {
            *n += 1;
        }
    }

    /// Messages of type `t` received.
    pub fn received_of(&self, t: crate::wire::MessageType) -> u64 {
        self.received.get(t as usize).copied().unwrap_or(0)
    }

    /// Messages of type `t` sent.
    pub fn sent_of(&self, t: crate::wire::MessageType) -> u64 {
        self.sent.get(t as usize).copied().unwrap_or(0)
    }

    /// Packets dropped for `r`.
    pub fn dropped(&self, r: DropReason) -> u64 {
        self.dropped.get(r as usize).copied().unwrap_or(0)
    }
}

/// One line for logs: every non-zero counter, as
/// `received DISCOVER=3 REQUEST=3; sent OFFER=3 ACK=3; dropped RateLimited=2; ...`.
impl core::fmt::Display for ServerStats {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let kinds = (1..=18u8).filter_map(crate::wire::MessageType::from_u8);
        for (what, counts) in [("received", &self.received), ("sent", &self.sent)] {
            f.write_str(what)?;
            for t in kinds.clone() {
                match counts.get(t as usize) {
                    Some(&n) if n > 0 => write!(f, " {t}={n}")?,
                    _ => {}
                }
            }
            f.write_str("; ")?;
        }
        if self.bootp_received + self.bootp_sent > 0 {
            write!(
                f,
                "BOOTP received {} sent {}; ",
                self.bootp_received, self.bootp_sent
            )?;
        }
        f.write_str("dropped")?;
        for &r in DropReason::ALL {
            match self.dropped(r) {
                0 => {}
                n => write!(f, " {r:?}={n}")?,
            }
        }
        write!(
            f,
            "; persist failures {} ({} answered from durable leases); stale ACKs {}; offers expired {}; leases expired {}",
            self.persist_failures,
            self.acks_from_durable,
            self.stale_acks,
            self.offers_expired,
            self.leases_expired
        )
    }
}
