//! The core machines driven from plain blocking `std::net::UdpSocket` loops, with no async
//! runtime at all: the proof that the sans-IO core embeds in any event loop. Only the
//! socket setup and reply delivery come from the host glue (`dhcp::host::net::socket`).
//!
//! `blocking server IFACE` serves 192.0.2.0/24 on IFACE (leases kept in memory);
//! `blocking client IFACE` gets a lease there, prints it, and releases it.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant as StdInstant};

use dhcp::core::client::{Client, ClientConfig, Event};
use dhcp::core::server::{Ipv4Net, OptionSet, PoolRange, Server, ServerConfig, SubnetConfig};
use dhcp::core::time::Instant;
use dhcp::host::clock::unix_now;
use dhcp::host::net::socket::{bind_udp, interface, recv_plain, recv_request, send_reply, send_to};
use socket2::SockRef;

/// The core's clock: microseconds since the loop started.
fn now(start: StdInstant) -> Instant {
    Instant::from_micros(start.elapsed().as_micros() as u64)
}

/// Blocks until a datagram arrives or `deadline` (the machine's next timer) passes.
fn wait_until(sock: &UdpSocket, start: StdInstant, deadline: Option<Instant>) -> io::Result<()> {
    let left = deadline
        .map(|d| Duration::from_micros(d.as_micros().saturating_sub(now(start).as_micros())))
        .unwrap_or(Duration::from_secs(3600));
    sock.set_read_timeout(Some(left.max(Duration::from_millis(1))))
}

fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn serve(iface: &str) -> Result<(), Box<dyn std::error::Error>> {
    let local = interface(iface)?
        .address
        .map(|(a, _)| a)
        .ok_or("no IPv4 address")?;
    let mut subnet = SubnetConfig::new(Ipv4Net::new(Ipv4Addr::new(192, 0, 2, 0), 24));
    subnet.pools.push(PoolRange::new(
        Ipv4Addr::new(192, 0, 2, 100),
        Ipv4Addr::new(192, 0, 2, 150),
    ));
    let mut options = OptionSet::new();
    options.routers(&[local])?.dns_servers(&[local])?;
    subnet.options = options;
    let config = ServerConfig {
        subnets: vec![subnet],
        authoritative: true,
        ..ServerConfig::default()
    };
    let start = StdInstant::now();
    let mut server = Server::new(config, now(start), unix_now()).map_err(|e| format!("{e:?}"))?;
    let sock = bind_udp(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 67), Some(iface))?;
    sock.set_nonblocking(false)?;
    println!("serving 192.0.2.0/24 on {iface} ({local})");
    let (mut buf, mut out) = (vec![0u8; 65_536], [0u8; 1500]);
    loop {
        // Leases live in memory here, so a record is "durable" as soon as it exists.
        while let Some(record) = server.poll_persist() {
            server.persisted(record.seq);
        }
        while let Some(t) = server.poll_transmit(&mut out) {
            send_reply(SockRef::from(&sock), &out[..t.len], &t)?;
        }
        wait_until(&sock, start, server.poll_timeout())?;
        match recv_request(SockRef::from(&sock), &mut buf, local) {
            Ok((n, meta)) => server.handle_packet(now(start), &meta, &buf[..n]),
            Err(e) if timed_out(&e) => server.handle_timeout(now(start)),
            Err(e) => return Err(e.into()),
        }
    }
}

fn lease(iface: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mac = interface(iface)?.mac.ok_or("no hardware address")?;
    let mut client = Client::new(ClientConfig::new(mac), unix_now());
    let sock = bind_udp(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68), Some(iface))?;
    sock.set_nonblocking(false)?;
    let start = StdInstant::now();
    let give_up = start + Duration::from_secs(30);
    let (mut buf, mut out) = (vec![0u8; 65_536], [0u8; 1500]);
    client.start(now(start));
    loop {
        while let Some(t) = client.poll_transmit(&mut out) {
            // No address configured yet: every message leaves by broadcast.
            let to = SocketAddrV4::new(Ipv4Addr::BROADCAST, t.destination.port());
            send_to(SockRef::from(&sock), &out[..t.len], to)?;
        }
        while let Some(event) = client.poll_event() {
            match event {
                Event::Bound => {
                    let l = client.lease().ok_or("bound without a lease")?;
                    println!("lease {} from {}", l.address(), l.server_id());
                    println!(
                        "mask {:?}, lease time {:?}",
                        l.subnet_mask(),
                        l.lease_time()
                    );
                    client.release(now(start));
                }
                Event::Released(a) => {
                    while let Some(t) = client.poll_transmit(&mut out) {
                        let to = SocketAddrV4::new(Ipv4Addr::BROADCAST, t.destination.port());
                        send_to(SockRef::from(&sock), &out[..t.len], to)?;
                    }
                    println!("released {a}");
                    return Ok(());
                }
                _ => {}
            }
        }
        if StdInstant::now() > give_up {
            return Err("no lease within 30 s".into());
        }
        wait_until(&sock, start, client.poll_timeout())?;
        match recv_plain(SockRef::from(&sock), &mut buf) {
            Ok((n, _)) => client.handle_packet(now(start), &buf[..n]),
            Err(e) if timed_out(&e) => client.handle_timeout(now(start)),
            Err(e) => return Err(e.into()),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("server"), Some(iface)) => serve(iface),
        (Some("client"), Some(iface)) => lease(iface),
        _ => Err("usage: blocking server IFACE | blocking client IFACE".into()),
    }
}
