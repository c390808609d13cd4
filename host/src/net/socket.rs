//! DHCP sockets and reply delivery.
//!
//! Sockets are socket2 sockets made non-blocking, with `SO_REUSEADDR` and `SO_BROADCAST`,
//! bound to one interface where one is named (`SO_BINDTODEVICE` on Linux), and with
//! `IP_PKTINFO` on Linux so a socket bound to all interfaces learns where each request came
//! in. Binding errors say what to do ("port 67 needs root or CAP_NET_BIND_SERVICE").
//!
//! Replies go out by RFC 2131 section 4.1 ([`send_reply`]): to a relay, to `ciaddr`, by
//! broadcast on the receiving interface, or to `yiaddr` at `chaddr`, which on Linux writes
//! the ARP cache entry first (as dnsmasq does) and elsewhere falls back to broadcast.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use dhcp_core::server::{RecvMeta, Transmit};
use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::Error;

#[cfg(target_os = "linux")]
mod arp;

/// A network interface and what DHCP needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Its name (`eth0`).
    pub name: String,
    /// Its index (0 where the platform gives none).
    pub index: u32,
    /// Its first IPv4 address and prefix length, if any.
    pub address: Option<(Ipv4Addr, u8)>,
    /// Its hardware address, if it has one.
    pub mac: Option<[u8; 6]>,
    /// Up and not loopback.
    pub usable: bool,
}

/// The host's interfaces (empty where the platform can't list them).
pub fn interfaces() -> Vec<Interface> {
    #[cfg(unix)]
    {
        unix::interfaces()
    }
    #[cfg(not(unix))]
    {
        Vec::new()
    }
}

/// The interface called `name`.
pub fn interface(name: &str) -> Result<Interface, Error> {
    interfaces()
        .into_iter()
        .find(|i| i.name == name)
        .ok_or_else(|| Error::Interface {
            name: name.to_string(),
            what: "no such interface".to_string(),
        })
}

/// The interface a client with hardware address `mac` runs on: the one with that address,
/// else the only usable (up, not loopback) interface there is.
pub fn interface_for_client(mac: [u8; 6]) -> Option<Interface> {
    let all = interfaces();
    if let Some(i) = all.iter().find(|i| i.mac == Some(mac) && i.usable) {
        return Some(i.clone());
    }
    let mut usable = all.into_iter().filter(|i| i.usable);
    match (usable.next(), usable.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// Whether `address` is configured on this host (a socket can be bound to it); never for
/// 0.0.0.0.
pub fn is_local(address: Ipv4Addr) -> bool {
    !address.is_unspecified() && std::net::UdpSocket::bind(SocketAddrV4::new(address, 0)).is_ok()
}

fn bind_error(port: u16, e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::PermissionDenied => Error::NeedsPrivilege { port },
        io::ErrorKind::AddrInUse => Error::PortInUse { port },
        _ => Error::io(format!("binding UDP port {port}"), e),
    }
}

/// The receive buffer asked for on server sockets (Linux).
#[cfg(target_os = "linux")]
const RECV_BUFFER: usize = 16 << 20;

/// A non-blocking UDP socket bound to `addr`, with `SO_REUSEADDR` and `SO_BROADCAST`,
/// limited to `device` if one is named (Linux; elsewhere the name is ignored), and with
/// `IP_PKTINFO` on Linux.
pub fn bind_udp(addr: SocketAddrV4, device: Option<&str>) -> Result<std::net::UdpSocket, Error> {
    let port = addr.port();
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| Error::io("creating a UDP socket", e))?;
    let setup = |what: &str, r: io::Result<()>| r.map_err(|e| Error::io(what.to_string(), e));
    setup("setting SO_REUSEADDR", s.set_reuse_address(true))?;
    setup("setting SO_BROADCAST", s.set_broadcast(true))?;
    setup("making the socket non-blocking", s.set_nonblocking(true))?;
    #[cfg(target_os = "linux")]
    {
        if let Some(name) = device {
            s.bind_device(Some(name.as_bytes()))
                .map_err(|e| match e.kind() {
                    io::ErrorKind::PermissionDenied => Error::Interface {
                        name: name.to_string(),
                        what: "binding to an interface needs root or CAP_NET_RAW".to_string(),
                    },
                    _ => Error::Interface {
                        name: name.to_string(),
                        what: e.to_string(),
                    },
                })?;
        }
        // A burst (a power cut's worth of clients coming back) queues here while the
        // server works through it: 16 MiB holds about ten thousand requests. Forcing the
        // size past the system's limit needs CAP_NET_ADMIN; without it the limit applies.
        let force =
            nix::sys::socket::setsockopt(&s, nix::sys::socket::sockopt::RcvBufForce, &RECV_BUFFER);
        if force.is_err() {
            let _ = s.set_recv_buffer_size(RECV_BUFFER);
        }
        setup(
            "setting IP_PKTINFO",
            nix::sys::socket::setsockopt(&s, nix::sys::socket::sockopt::Ipv4PacketInfo, &true)
                .map_err(io::Error::from),
        )?;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = device;
    s.bind(&SocketAddr::V4(addr).into())
        .map_err(|e| bind_error(port, e))?;
    Ok(s.into())
}

/// Receives one request on a server socket: its length and where it came in.
/// `fallback_local` is the local address to report where the platform can't tell.
pub fn recv_request(
    sock: SockRef<'_>,
    buf: &mut [u8],
    fallback_local: Ipv4Addr,
) -> io::Result<(usize, RecvMeta)> {
    #[cfg(target_os = "linux")]
    {
        linux::recv_pktinfo(sock, buf, fallback_local)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let (len, from) = recv_plain(sock, buf)?;
        Ok((
            len,
            RecvMeta {
                interface: 0,
                local_address: fallback_local,
                source: from,
            },
        ))
    }
}

/// Receives one datagram: its length and its IPv4 source (unspecified where the platform
/// can't tell).
pub fn recv_plain(sock: SockRef<'_>, buf: &mut [u8]) -> io::Result<(usize, SocketAddrV4)> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let (len, from) =
            nix::sys::socket::recvfrom::<nix::sys::socket::SockaddrIn>(sock.as_raw_fd(), buf)?;
        let from = from
            .map(SocketAddrV4::from)
            .unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
        Ok((len, from))
    }
    #[cfg(not(unix))]
    {
        use std::io::Read;
        let len = (&*sock).read(buf)?;
        Ok((len, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)))
    }
}

/// Sends `data` to `to`.
pub fn send_to(sock: SockRef<'_>, data: &[u8], to: SocketAddrV4) -> io::Result<usize> {
    sock.send_to(data, &SocketAddr::V4(to).into())
}

/// Sends a server's reply as its [`Transmit`] says (RFC 2131 section 4.1): unicast to a
/// relay or `ciaddr`; broadcast out of the receiving interface; or to `yiaddr` at `chaddr`
/// after writing the ARP entry (Linux), falling back to broadcast when that is not
/// possible.
pub fn send_reply(sock: SockRef<'_>, data: &[u8], t: &Transmit) -> io::Result<usize> {
    let broadcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, t.destination.port());
    if let Some(hardware) = t.hardware {
        #[cfg(target_os = "linux")]
        {
            let (htype, hw) = (hardware.htype(), hardware.as_bytes());
            match arp::set_entry(&*sock, t.interface, *t.destination.ip(), htype, hw) {
                Ok(()) => return linux::send_on(sock, data, t.destination, t.interface),
                Err(e) => {
                    tracing::debug!(error = %e, "no ARP entry for {}; broadcasting", t.destination)
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = hardware;
        return send_on(sock, data, broadcast, t.interface);
    }
    if t.destination.ip().is_broadcast() {
        return send_on(sock, data, t.destination, t.interface);
    }
    send_to(sock, data, t.destination)
}

/// Sends out of interface `index` (Linux: `IP_PKTINFO`; elsewhere the routing table picks).
fn send_on(sock: SockRef<'_>, data: &[u8], to: SocketAddrV4, index: u32) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    {
        linux::send_on(sock, data, to, index)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = index;
        send_to(sock, data, to)
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::cell::RefCell;
    use std::io::{self, IoSlice, IoSliceMut};
    use std::net::{Ipv4Addr, SocketAddrV4};
    use std::os::fd::AsRawFd;

    use dhcp_core::server::RecvMeta;
    use nix::sys::socket::{
        recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn,
    };
    use socket2::SockRef;

    pub(super) fn recv_pktinfo(
        sock: SockRef<'_>,
        buf: &mut [u8],
        fallback_local: Ipv4Addr,
    ) -> io::Result<(usize, RecvMeta)> {
        thread_local! {
            // The control-message buffer, made once per thread (not once per packet).
            static CMSG: RefCell<Vec<u8>> = RefCell::new(nix::cmsg_space!(libc::in_pktinfo));
        }
        CMSG.with_borrow_mut(|cmsg| {
            let mut iov = [IoSliceMut::new(buf)];
            let msg =
                recvmsg::<SockaddrIn>(sock.as_raw_fd(), &mut iov, Some(cmsg), MsgFlags::empty())?;
            let mut meta = RecvMeta {
                interface: 0,
                local_address: fallback_local,
                source: msg
                    .address
                    .map(SocketAddrV4::from)
                    .unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
            };
            for c in msg.cmsgs()? {
                if let ControlMessageOwned::Ipv4PacketInfo(pi) = c {
                    meta.interface = u32::try_from(pi.ipi_ifindex).unwrap_or(0);
                    let local = Ipv4Addr::from(u32::from_be(pi.ipi_spec_dst.s_addr));
                    if !local.is_unspecified() {
                        meta.local_address = local;
                    }
                }
            }
            // Longer than the buffer: nothing of it is handed on (an empty datagram, which
            // the machine drops and counts as malformed).
            let len = if msg.flags.contains(MsgFlags::MSG_TRUNC) {
                0
            } else {
                msg.bytes
            };
            Ok((len, meta))
        })
    }

    pub(super) fn send_on(
        sock: SockRef<'_>,
        data: &[u8],
        to: SocketAddrV4,
        index: u32,
    ) -> io::Result<usize> {
        let info = libc::in_pktinfo {
            ipi_ifindex: i32::try_from(index).unwrap_or(0),
            ipi_spec_dst: libc::in_addr { s_addr: 0 },
            ipi_addr: libc::in_addr { s_addr: 0 },
        };
        let cmsgs = [ControlMessage::Ipv4PacketInfo(&info)];
        let cmsgs = if index == 0 { &cmsgs[..0] } else { &cmsgs[..] };
        let n = sendmsg(
            sock.as_raw_fd(),
            &[IoSlice::new(data)],
            cmsgs,
            MsgFlags::empty(),
            Some(&SockaddrIn::from(to)),
        )?;
        Ok(n)
    }
}

#[cfg(unix)]
mod unix {
    use std::collections::BTreeMap;

    use nix::net::if_::InterfaceFlags;

    use super::Interface;

    pub(super) fn interfaces() -> Vec<Interface> {
        let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
            return Vec::new();
        };
        let mut by_name: BTreeMap<String, Interface> = BTreeMap::new();
        for a in addrs {
            let i = by_name
                .entry(a.interface_name.clone())
                .or_insert_with(|| Interface {
                    index: nix::net::if_::if_nametoindex(a.interface_name.as_str()).unwrap_or(0),
                    name: a.interface_name.clone(),
                    address: None,
                    mac: None,
                    usable: a.flags.contains(InterfaceFlags::IFF_UP)
                        && !a.flags.contains(InterfaceFlags::IFF_LOOPBACK),
                });
            let Some(addr) = a.address else { continue };
            if let Some(v4) = addr.as_sockaddr_in() {
                if i.address.is_none() {
                    let prefix = a
                        .netmask
                        .and_then(|m| m.as_sockaddr_in().map(|m| m.ip().to_bits().count_ones()))
                        .unwrap_or(32);
                    i.address = Some((v4.ip(), prefix as u8));
                }
            } else if let Some(mac) = link_address(&addr) {
                if mac != [0; 6] {
                    i.mac = Some(mac);
                }
            }
        }
        by_name.into_values().collect()
    }

    fn link_address(a: &nix::sys::socket::SockaddrStorage) -> Option<[u8; 6]> {
        a.as_link_addr().and_then(|l| l.addr())
    }
}
