//! The DHCPv4 lease records that make bindings durable, and the times a reply grants.

pub use crate::lease::ClientKey;

use alloc::vec::Vec;
use core::net::Ipv4Addr;

/// What a lease record says about an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// Bound to the client until `expires`.
    Bound,
    /// Given back by the client; remembered so it gets the address again.
    Released,
    /// Declined by the client: out of use until `expires`.
    Declined,
}

/// One lease change, for the caller to make durable (the journal, a database). Restoring
/// every record in order rebuilds the lease table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRecord {
    /// Increasing number; [`Server::persisted`](super::Server::persisted) takes the highest
    /// one made durable.
    pub seq: u64,
    /// The address.
    pub address: Ipv4Addr,
    /// The client.
    pub client: ClientKey,
    /// What happened.
    pub kind: RecordKind,
    /// When the lease (or the declined address's probation) ends, in seconds since the
    /// Unix epoch by the wall clock the caller gave.
    pub expires: u64,
    /// The host name the client gave (12), printable ASCII only.
    pub host_name: Option<Vec<u8>>,
}

/// The times a reply grants, in seconds: the lease (51), T1 (58) and T2 (59). A lease of
/// `u32::MAX` seconds is infinite, and carries no T1 or T2 (it is never renewed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LeaseSecs {
    /// The lease time.
    pub(crate) lease: u32,
    /// T1: when the client starts renewing.
    pub(crate) renewal: u32,
    /// T2: when the client starts rebinding.
    pub(crate) rebinding: u32,
}

impl LeaseSecs {
    /// An infinite lease (RFC 2131 section 3.3: `0xffffffff`).
    pub(crate) const INFINITE: LeaseSecs = LeaseSecs {
        lease: u32::MAX,
        renewal: u32::MAX,
        rebinding: u32::MAX,
    };

    /// True for a lease that never ends.
    #[inline]
    pub(crate) fn is_infinite(&self) -> bool {
        self.lease == u32::MAX
    }
}
