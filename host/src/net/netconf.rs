//! Applying a lease to an interface on Linux, through rtnetlink: the address with its
//! prefix (and broadcast address), the default route, classless static routes (RFC 3442,
//! which replace the routers when present), and taking them all away again.
//!
//! Routes are added with protocol `dhcp` so `ip route` shows where they came from.

use std::io;
use std::net::{IpAddr, Ipv4Addr};

use dhcp_core::client::Lease;
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_REPLACE,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

/// A route: destination network, prefix length, gateway (unspecified: on-link).
pub type Route = (Ipv4Addr, u8, Ipv4Addr);

/// What applying a lease put on an interface, so it can be taken off again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Interface index.
    pub index: u32,
    /// The address and prefix length.
    pub address: (Ipv4Addr, u8),
    /// Routes added.
    pub routes: Vec<Route>,
}

/// The routes a lease asks for: its classless static routes (121) if any, else a default
/// route through its first router.
pub fn routes_of(lease: &Lease) -> Vec<Route> {
    lease
        .routes()
        .map(|r| (r.destination, r.prefix_len, r.router))
        .collect()
}

fn request(msg: RouteNetlinkMessage, flags: u16) -> io::Result<()> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    let mut m = NetlinkMessage::new(header, NetlinkPayload::from(msg));
    m.finalize();
    let mut buf = vec![0u8; m.buffer_len()];
    m.serialize(&mut buf);
    socket.send(&buf, 0)?;
    let mut reply = vec![0u8; 8192];
    let n = socket.recv(&mut &mut reply[..], 0)?;
    let r = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&reply[..n])
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    match r.payload {
        NetlinkPayload::Error(e) => match e.code {
            Some(code) => Err(io::Error::from_raw_os_error(-code.get())),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

fn address_message(index: u32, address: Ipv4Addr, prefix_len: u8) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = AddressFamily::Inet;
    m.header.prefix_len = prefix_len;
    m.header.index = index;
    m.attributes = vec![
        AddressAttribute::Local(IpAddr::V4(address)),
        AddressAttribute::Address(IpAddr::V4(address)),
    ];
    m
}

fn route_message(index: u32, (dest, len, gateway): Route) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = AddressFamily::Inet;
    m.header.destination_prefix_length = len;
    m.header.table = RouteHeader::RT_TABLE_MAIN;
    m.header.protocol = RouteProtocol::Dhcp;
    m.header.kind = RouteType::Unicast;
    m.header.scope = if gateway.is_unspecified() {
        RouteScope::Link
    } else {
        RouteScope::Universe
    };
    if len > 0 {
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::Inet(dest)));
    }
    if !gateway.is_unspecified() {
        m.attributes
            .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
    }
    m.attributes.push(RouteAttribute::Oif(index));
    m
}

/// Puts `lease` on interface `index`: the address with the lease's prefix (or /32 when
/// it has no mask) and broadcast address, then its routes. Replaces what is there.
pub fn apply(index: u32, lease: &Lease) -> io::Result<Applied> {
    let address = lease.address();
    let prefix_len = lease.prefix_len().unwrap_or(32);
    let mut m = address_message(index, address, prefix_len);
    let broadcast = lease.broadcast_address().unwrap_or_else(|| {
        let mask = u32::MAX
            .checked_shl(32 - u32::from(prefix_len))
            .unwrap_or(0);
        Ipv4Addr::from(u32::from(address) | !mask)
    });
    if prefix_len < 31 {
        m.attributes.push(AddressAttribute::Broadcast(broadcast));
    }
    request(
        RouteNetlinkMessage::NewAddress(m),
        NLM_F_CREATE | NLM_F_REPLACE,
    )?;
    let mut routes = Vec::new();
    for r in routes_of(lease) {
        // The lease's own subnet is on-link already (the kernel added it with the address).
        match request(
            RouteNetlinkMessage::NewRoute(route_message(index, r)),
            NLM_F_CREATE | NLM_F_REPLACE,
        ) {
            Ok(()) => routes.push(r),
            Err(e) => tracing::warn!("route {}/{} via {}: {e}", r.0, r.1, r.2),
        }
    }
    Ok(Applied {
        index,
        address: (address, prefix_len),
        routes,
    })
}

/// Takes off what [`apply`] put on: the routes, then the address.
pub fn remove(applied: &Applied) -> io::Result<()> {
    for r in &applied.routes {
        if let Err(e) = request(
            RouteNetlinkMessage::DelRoute(route_message(applied.index, *r)),
            0,
        ) {
            tracing::debug!("removing route {}/{}: {e}", r.0, r.1);
        }
    }
    let (a, len) = applied.address;
    match request(
        RouteNetlinkMessage::DelAddress(address_message(applied.index, a, len)),
        0,
    ) {
        Err(e) if e.raw_os_error() != Some(libc::EADDRNOTAVAIL) => Err(e),
        _ => Ok(()),
    }
}
