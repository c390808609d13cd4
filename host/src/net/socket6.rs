//! The DHCPv6 server's socket: UDP 547 on every interface (`IPV6_V6ONLY`), joined to
//! All_DHCP_Relay_Agents_and_Servers (ff02::1:2) on each interface served and, when asked,
//! All_DHCP_Servers (ff05::1:3); `IPV6_RECVPKTINFO` on Linux tells each datagram's
//! interface and whether it was sent to a multicast group (RFC 8415 section 18.3.2's
//! unicast rule needs it). Replies go to the request's source, out of its interface.

use std::io;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};

use dhcp_core::v6::server::{RecvMeta6, Transmit6};
use dhcp_core::v6::wire::{ALL_DHCP_RELAY_AGENTS_AND_SERVERS, ALL_DHCP_SERVERS, SERVER_PORT};
use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::Error;

/// A non-blocking UDP socket on `[::]:547` with `SO_REUSEADDR` (and `IPV6_RECVPKTINFO` on
/// Linux), joined to ff02::1:2 on each interface of `interfaces` (by index), and to
/// ff05::1:3 on them too with `site`.
pub fn bind_server6(interfaces: &[u32], site: bool) -> Result<std::net::UdpSocket, Error> {
    let s = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| Error::io("creating a UDP socket for DHCPv6", e))?;
    let setup = |what: &str, r: io::Result<()>| r.map_err(|e| Error::io(what.to_string(), e));
    setup("setting IPV6_V6ONLY", s.set_only_v6(true))?;
    setup("setting SO_REUSEADDR", s.set_reuse_address(true))?;
    setup("making the socket non-blocking", s.set_nonblocking(true))?;
    #[cfg(target_os = "linux")]
    setup(
        "setting IPV6_RECVPKTINFO",
        nix::sys::socket::setsockopt(&s, nix::sys::socket::sockopt::Ipv6RecvPacketInfo, &true)
            .map_err(io::Error::from),
    )?;
    let any = SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, SERVER_PORT, 0, 0);
    s.bind(&SocketAddr::V6(any).into())
        .map_err(|e| match e.kind() {
            io::ErrorKind::PermissionDenied => Error::io(
                format!("binding UDP port {SERVER_PORT} (needs root or CAP_NET_BIND_SERVICE)"),
                e,
            ),
            _ => Error::io(format!("binding UDP [::]:{SERVER_PORT}"), e),
        })?;
    for &index in interfaces {
        setup(
            "joining ff02::1:2",
            s.join_multicast_v6(&ALL_DHCP_RELAY_AGENTS_AND_SERVERS, index),
        )?;
        if site {
            setup(
                "joining ff05::1:3",
                s.join_multicast_v6(&ALL_DHCP_SERVERS, index),
            )?;
        }
    }
    Ok(s.into())
}

/// Receives one datagram: its length and where it came in.
pub fn recv6(sock: SockRef<'_>, buf: &mut [u8]) -> io::Result<(usize, RecvMeta6)> {
    #[cfg(target_os = "linux")]
    {
        linux::recv_pktinfo6(sock, buf)
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        use std::os::fd::AsRawFd;
        // Without the destination address every datagram counts as multicast: the
        // unicast rule is not applied.
        let (len, from) =
            nix::sys::socket::recvfrom::<nix::sys::socket::SockaddrIn6>(sock.as_raw_fd(), buf)?;
        let source = from.map(SocketAddrV6::from).unwrap_or(SocketAddrV6::new(
            Ipv6Addr::UNSPECIFIED,
            0,
            0,
            0,
        ));
        Ok((
            len,
            RecvMeta6 {
                interface: source.scope_id(),
                source,
                multicast: true,
            },
        ))
    }
    #[cfg(not(unix))]
    {
        use std::io::Read;
        let len = (&*sock).read(buf)?;
        let source = SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, 0, 0, 0);
        Ok((
            len,
            RecvMeta6 {
                interface: 0,
                source,
                multicast: true,
            },
        ))
    }
}

/// Sends a reply to its destination: a client's link-local address is scoped to the
/// interface the request came in on.
pub fn send6(sock: SockRef<'_>, data: &[u8], t: &Transmit6) -> io::Result<usize> {
    let mut to = t.destination;
    if to.scope_id() == 0 && is_link_local(to.ip()) {
        to.set_scope_id(t.interface);
    }
    sock.send_to(data, &SocketAddr::V6(to).into())
}

fn is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

#[cfg(target_os = "linux")]
mod linux {
    use std::cell::RefCell;
    use std::io::{self, IoSliceMut};
    use std::net::{Ipv6Addr, SocketAddrV6};
    use std::os::fd::AsRawFd;

    use dhcp_core::v6::server::RecvMeta6;
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, SockaddrIn6};
    use socket2::SockRef;

    pub(super) fn recv_pktinfo6(
        sock: SockRef<'_>,
        buf: &mut [u8],
    ) -> io::Result<(usize, RecvMeta6)> {
        thread_local! {
            static CMSG: RefCell<Vec<u8>> = RefCell::new(nix::cmsg_space!(libc::in6_pktinfo));
        }
        CMSG.with_borrow_mut(|cmsg| {
            let mut iov = [IoSliceMut::new(buf)];
            let msg =
                recvmsg::<SockaddrIn6>(sock.as_raw_fd(), &mut iov, Some(cmsg), MsgFlags::empty())?;
            let source = msg
                .address
                .map(SocketAddrV6::from)
                .unwrap_or(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, 0, 0, 0));
            let mut meta = RecvMeta6 {
                interface: source.scope_id(),
                source,
                multicast: true,
            };
            for c in msg.cmsgs()? {
                if let ControlMessageOwned::Ipv6PacketInfo(pi) = c {
                    meta.interface = pi.ipi6_ifindex;
                    meta.multicast = Ipv6Addr::from(pi.ipi6_addr.s6_addr).is_multicast();
                }
            }
            let len = if msg.flags.contains(MsgFlags::MSG_TRUNC) {
                0
            } else {
                msg.bytes
            };
            Ok((len, meta))
        })
    }
}
