//! Writing an ARP cache entry (`SIOCSARP`), so that a unicast reply reaches a client that
//! has no address yet: the kernel then sends to `yiaddr` at `chaddr` without asking.
#![allow(unsafe_code)]

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;

/// Sets `ip` at hardware address `hw` (type `htype`) on interface `index`.
pub(super) fn set_entry(
    sock: &impl AsRawFd,
    index: u32,
    ip: Ipv4Addr,
    htype: u8,
    hw: &[u8],
) -> io::Result<()> {
    if index == 0 || hw.is_empty() || hw.len() > 14 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no interface or hardware address",
        ));
    }
    let name = nix::net::if_::if_indextoname(index)?;
    let name = name.as_bytes();
    if name.len() >= 16 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface name too long",
        ));
    }
    let zero = libc::sockaddr {
        sa_family: 0,
        sa_data: [0; 14],
    };
    let mut pa = zero;
    pa.sa_family = libc::AF_INET as libc::sa_family_t;
    // sockaddr_in: port (2 bytes, zero), then the address.
    for (d, s) in pa.sa_data[2..6].iter_mut().zip(ip.octets()) {
        *d = s as libc::c_char;
    }
    let mut ha = zero;
    ha.sa_family = libc::sa_family_t::from(htype);
    for (d, s) in ha.sa_data.iter_mut().zip(hw) {
        *d = *s as libc::c_char;
    }
    let mut dev = [0 as libc::c_char; 16];
    for (d, s) in dev.iter_mut().zip(name) {
        *d = *s as libc::c_char;
    }
    let req = libc::arpreq {
        arp_pa: pa,
        arp_ha: ha,
        arp_flags: libc::ATF_COM,
        arp_netmask: zero,
        arp_dev: dev,
    };
    // SAFETY: SIOCSARP reads one `arpreq`, which `req` is, fully initialized and alive for
    // the call; the fd is a valid socket.
    let r = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSARP, &req) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
