//! Client identities, bindings, and the records that make them durable.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::fmt;
use core::net::Ipv4Addr;

/// Who a client is: its client identifier (61) if it sent one, else its hardware type and
/// address. Short keys are stored inline.
#[derive(Clone)]
pub struct ClientKey(KeyRepr);

#[derive(Clone)]
enum KeyRepr {
    Inline { len: u8, bytes: [u8; 22] },
    Heap(Box<[u8]>),
}

impl ClientKey {
    /// A key from its bytes.
    pub fn new(bytes: &[u8]) -> Self {
        let mut inline = [0u8; 22];
        match inline.get_mut(..bytes.len()) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                ClientKey(KeyRepr::Inline {
                    len: bytes.len() as u8,
                    bytes: inline,
                })
            }
            None => ClientKey(KeyRepr::Heap(bytes.into())),
        }
    }

    /// The key of a client that sent no client identifier: `htype` then `chaddr`.
    pub fn hardware(htype: u8, chaddr: &[u8]) -> Self {
        let mut b = [0u8; 17];
        let n = chaddr.len().min(16);
        b[0] = htype;
        b[1..=n].copy_from_slice(&chaddr[..n]);
        Self::new(&b[..=n])
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            KeyRepr::Inline { len, bytes } => &bytes[..usize::from(*len).min(22)],
            KeyRepr::Heap(b) => b,
        }
    }
}

impl PartialEq for ClientKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ClientKey {}

impl PartialOrd for ClientKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ClientKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientKey({self})")
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.as_bytes().iter().enumerate() {
            write!(f, "{}{b:02x}", if i > 0 { ":" } else { "" })?;
        }
        Ok(())
    }
}

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
