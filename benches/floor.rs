//! The socket floor: what answering a DORA costs in this topology with no server behind
//! it. A blocking loop on one UDP socket that answers each DISCOVER with an OFFER and each
//! REQUEST with an ACK, written with dhcp-core's codec, for the address the client's
//! hardware address hashes to: no lease table, no journal, no runtime, no timers. What it
//! spends per DORA is what the kernel charges any server for two datagrams in and two out
//! (plus about a microsecond of codec), so `benches/load.py --servers floor,...` sets the
//! real servers' CPU per DORA beside it.
//!
//! With `--batch`, it takes up to 32 datagrams a call (`recvmmsg`, blocking for the first)
//! and sends their answers in one call (`sendmmsg`): the floor for a server that batches
//! its system calls.
//!
//! ```text
//! cargo build --release -p dhcp-benches --example floor
//! target/release/examples/floor 10.0.0.1 [--batch]   # the server id; listens on port 67
//! ```

use std::io::{IoSlice, IoSliceMut};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;

use nix::sys::socket::{recvmmsg, sendmmsg, ControlMessage, MsgFlags, MultiHeaders, SockaddrIn};

use dhcp_core::wire::{Message, MessageBuilder, MessageType, Op};

/// The reply to `request` from `server_id`, written into `out`: its length, or `None`
/// for what the floor does not answer.
fn answer(request: &[u8], server_id: Ipv4Addr, out: &mut [u8]) -> Option<(usize, Ipv4Addr)> {
    let m = Message::parse(request).ok()?;
    let (kind, yiaddr) = match m.message_type().ok()?? {
        MessageType::Discover => {
            let h = m.chaddr().iter().fold(0x811c_9dc5u32, |h, &b| {
                (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
            });
            (
                MessageType::Offer,
                Ipv4Addr::from(0x0a01_0000 | (h & 0x000f_ffff)),
            )
        }
        MessageType::Request => (MessageType::Ack, m.requested_ip().ok()??),
        _ => return None,
    };
    let mut b = MessageBuilder::new(out).ok()?;
    b.op(Op::BootReply)
        .htype(m.htype())
        .xid(m.xid())
        .flags(m.flags())
        .yiaddr(yiaddr)
        .giaddr(m.giaddr());
    b.chaddr(m.chaddr()).ok()?;
    b.message_type(kind).ok()?.server_id(server_id).ok()?;
    b.lease_time(3600)
        .ok()?
        .subnet_mask(Ipv4Addr::new(255, 240, 0, 0))
        .ok()?;
    Some((b.finish().ok()?, m.giaddr()))
}

/// Where an answer goes: relayed, to the relay's port 67; else back where it came from.
fn destination(giaddr: Ipv4Addr, from: SocketAddrV4) -> SocketAddrV4 {
    if giaddr.is_unspecified() {
        from
    } else {
        SocketAddrV4::new(giaddr, 67)
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let server_id: Ipv4Addr = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(Ipv4Addr::new(10, 0, 0, 1));
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 67))?;
    if args.iter().any(|a| a == "--batch") {
        return batched(&socket, server_id);
    }
    let (mut request, mut reply) = ([0u8; 1500], [0u8; 1500]);
    loop {
        let (n, from) = socket.recv_from(&mut request)?;
        let std::net::SocketAddr::V4(from) = from else {
            continue;
        };
        let Some((len, giaddr)) = answer(&request[..n], server_id, &mut reply) else {
            continue;
        };
        socket.send_to(&reply[..len], destination(giaddr, from))?;
    }
}

const BATCH: usize = 32;

/// The loop with `recvmmsg` and `sendmmsg`.
fn batched(socket: &UdpSocket, server_id: Ipv4Addr) -> std::io::Result<()> {
    let fd = socket.as_raw_fd();
    let mut requests = vec![[0u8; 1500]; BATCH];
    let mut replies = vec![[0u8; 1500]; BATCH];
    let mut incoming = MultiHeaders::<SockaddrIn>::preallocate(BATCH, None);
    let mut outgoing = MultiHeaders::<SockaddrIn>::preallocate(BATCH, None);
    let mut got: Vec<(usize, SocketAddrV4)> = Vec::with_capacity(BATCH);
    let mut answers: Vec<(usize, Option<SockaddrIn>)> = Vec::with_capacity(BATCH);
    loop {
        // Blocks for the first datagram, then takes what else is queued.
        got.clear();
        {
            let mut slices: Vec<[IoSliceMut<'_>; 1]> =
                requests.iter_mut().map(|b| [IoSliceMut::new(b)]).collect();
            let received = recvmmsg(
                fd,
                &mut incoming,
                slices.iter_mut(),
                MsgFlags::MSG_WAITFORONE,
                None,
            )?;
            got.extend(received.filter_map(|m| Some((m.bytes, SocketAddrV4::from(m.address?)))));
        }
        answers.clear();
        for (i, &(n, from)) in got.iter().enumerate() {
            let out = &mut replies[answers.len()];
            if let Some((len, giaddr)) = answer(&requests[i][..n], server_id, out) {
                answers.push((len, Some(destination(giaddr, from).into())));
            }
        }
        if answers.is_empty() {
            continue;
        }
        let slices: Vec<[IoSlice<'_>; 1]> = replies
            .iter()
            .zip(&answers)
            .map(|(b, &(len, _))| [IoSlice::new(&b[..len])])
            .collect();
        let to: Vec<Option<SockaddrIn>> = answers.iter().map(|&(_, a)| a).collect();
        let none: [ControlMessage<'_>; 0] = [];
        sendmmsg(fd, &mut outgoing, &slices, &to, none, MsgFlags::empty())?;
    }
}
