//! [`Lease`]: what the server granted, typed, with its timers.

use core::net::Ipv4Addr;
use core::time::Duration;

use crate::time::Instant;
use crate::wire::typed::{ClasslessRoutes, DomainSearch, Ipv4List, Route, Text};
use crate::wire::Message;

/// Largest ACK a client keeps (its options are read from it on demand).
pub const MAX_ACK_LEN: usize = 1500;

/// A lease (or, after INFORM, a configuration without one): the ACK as the server sent it,
/// and the times derived from it. Typed accessors read the kept ACK; an option that is
/// absent or malformed reads as `None`.
#[derive(Debug, Clone)]
pub struct Lease {
    ack: heapless::Vec<u8, MAX_ACK_LEN>,
    address: Ipv4Addr,
    server_id: Ipv4Addr,
    obtained: Instant,
    duration: Option<Duration>,
    t1: Option<Duration>,
    t2: Option<Duration>,
}

/// T1 and T2 from the server's values, repaired so that T1 < T2 < lease (RFC 2131
/// section 4.4.5 defaults, 0.5 and 0.875 of the lease, replace values that break that).
pub(crate) fn timers(lease: Duration, t1: Option<u32>, t2: Option<u32>) -> (Duration, Duration) {
    let secs = |v: u32| Duration::from_secs(u64::from(v));
    let default_t2 = lease.mul_f64(0.875);
    let t2 = t2
        .map(secs)
        .filter(|t| !t.is_zero() && *t < lease)
        .unwrap_or(default_t2);
    let t1 = t1
        .map(secs)
        .filter(|t| !t.is_zero() && *t < t2)
        .unwrap_or(lease / 2);
    let t1 = if t1 < t2 { t1 } else { t2.mul_f64(4.0 / 7.0) };
    (t1, t2)
}

impl Lease {
    /// A lease from an ACK received in reply to an exchange that began at `obtained` (RFC
    /// 2131 section 4.4.1: the lease runs from when the request was sent). `None` when the
    /// ACK is larger than [`MAX_ACK_LEN`].
    pub(crate) fn new(
        msg: &Message<'_>,
        server_id: Ipv4Addr,
        obtained: Instant,
        lease_secs: Option<u32>,
    ) -> Option<Self> {
        let ack = heapless::Vec::from_slice(msg.as_bytes()).ok()?;
        let (duration, t1, t2) = match lease_secs {
            None | Some(u32::MAX) => (None, None, None),
            Some(secs) => {
                let lease = Duration::from_secs(u64::from(secs));
                let (t1, t2) = timers(
                    lease,
                    msg.renewal_time().ok().flatten(),
                    msg.rebinding_time().ok().flatten(),
                );
                (Some(lease), Some(t1), Some(t2))
            }
        };
        Some(Lease {
            ack,
            address: msg.yiaddr(),
            server_id,
            obtained,
            duration,
            t1,
            t2,
        })
    }

    /// The ACK the lease came from: every option, known or not, is there.
    pub fn message(&self) -> Option<Message<'_>> {
        Message::parse(&self.ack).ok()
    }

    /// The leased address (`yiaddr`); for INFORM, the address the host already had.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    pub(crate) fn set_address(&mut self, a: Ipv4Addr) {
        self.address = a;
    }

    /// The server that granted it (option 54).
    pub fn server_id(&self) -> Ipv4Addr {
        self.server_id
    }

    /// When the exchange that got the lease began.
    pub fn obtained(&self) -> Instant {
        self.obtained
    }

    /// Lease duration; `None` for an infinite lease or an INFORM reply.
    pub fn lease_time(&self) -> Option<Duration> {
        self.duration
    }

    /// T1: when to start renewing, after `obtained`.
    pub fn renewal_time(&self) -> Option<Duration> {
        self.t1
    }

    /// T2: when to start rebinding, after `obtained`.
    pub fn rebinding_time(&self) -> Option<Duration> {
        self.t2
    }

    /// When the lease expires; `None` if it never does.
    pub fn expires_at(&self) -> Option<Instant> {
        self.duration.map(|d| self.obtained + d)
    }

    /// When RENEWING starts.
    pub fn renew_at(&self) -> Option<Instant> {
        self.t1.map(|d| self.obtained + d)
    }

    /// When REBINDING starts.
    pub fn rebind_at(&self) -> Option<Instant> {
        self.t2.map(|d| self.obtained + d)
    }

    fn read<'s, T>(
        &'s self,
        f: impl FnOnce(&Message<'s>) -> Result<Option<T>, crate::wire::OptionError>,
    ) -> Option<T> {
        f(&self.message()?).ok().flatten()
    }

    /// Subnet mask (1).
    pub fn subnet_mask(&self) -> Option<Ipv4Addr> {
        self.read(Message::subnet_mask)
    }

    /// Prefix length of the subnet mask.
    pub fn prefix_len(&self) -> Option<u8> {
        self.subnet_mask()
            .map(|m| u32::from(m).leading_ones() as u8)
    }

    /// Routers (3). Ignored when classless routes are present (RFC 3442): see
    /// [`Lease::default_routers`].
    pub fn routers(&self) -> Option<Ipv4List<'_>> {
        self.read(Message::routers)
    }

    /// The routers to use for the default route: option 3, unless classless routes (121)
    /// are present, which replace it (RFC 3442 section 1): then none.
    pub fn default_routers(&self) -> Option<Ipv4List<'_>> {
        if self.classless_routes().is_some() {
            None
        } else {
            self.routers()
        }
    }

    /// Classless static routes (121), including a default route if the server sent one.
    pub fn classless_routes(&self) -> Option<ClasslessRoutes<'_>> {
        self.read(Message::classless_routes)
    }

    /// Every route to install: the classless routes, or else a default route through the
    /// first router of option 3.
    pub fn routes(&self) -> impl Iterator<Item = Route> + '_ {
        let classless = self.classless_routes();
        let fallback = match classless {
            None => self.routers().and_then(|r| r.first()).map(|router| Route {
                destination: Ipv4Addr::UNSPECIFIED,
                prefix_len: 0,
                router,
            }),
            Some(_) => None,
        };
        classless.into_iter().flat_map(|c| c.iter()).chain(fallback)
    }

    /// Domain name servers (6).
    pub fn dns_servers(&self) -> Option<Ipv4List<'_>> {
        self.read(Message::dns_servers)
    }

    /// Domain name (15).
    pub fn domain_name(&self) -> Option<Text<'_>> {
        self.read(Message::domain_name)
    }

    /// Domain search list (119).
    pub fn domain_search(&self) -> Option<DomainSearch<'_>> {
        self.read(Message::domain_search)
    }

    /// NTP servers (42).
    pub fn ntp_servers(&self) -> Option<Ipv4List<'_>> {
        self.read(Message::ntp_servers)
    }

    /// Interface MTU (26).
    pub fn mtu(&self) -> Option<u16> {
        self.read(Message::mtu)
    }

    /// Broadcast address (28).
    pub fn broadcast_address(&self) -> Option<Ipv4Addr> {
        self.read(Message::broadcast_address)
    }

    /// Captive portal URI (114).
    pub fn captive_portal(&self) -> Option<Text<'_>> {
        self.read(Message::captive_portal)
    }

    /// Host name the server assigned (12).
    pub fn host_name(&self) -> Option<Text<'_>> {
        self.read(Message::host_name)
    }
}
