//! [`Prober`]: the conflict check's pings. A thread owns a raw ICMP socket, sends an echo
//! request to each address the server machine asks about, and reports, for each, whether
//! an echo reply came from it within the wait: the server loop never waits on it.

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// What a probe found: whether something answered on the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probed {
    /// The address probed.
    pub address: Ipv4Addr,
    /// Whether an echo reply came from it in time.
    pub in_use: bool,
}

/// ICMP echo request and reply (RFC 792).
const ECHO_REQUEST: u8 = 8;
const ECHO_REPLY: u8 = 0;

/// Sends the pings and collects the answers, on a thread of its own.
#[derive(Debug)]
pub struct Prober {
    requests: mpsc::Sender<Ipv4Addr>,
    results: async_channel::Receiver<Probed>,
}

impl Prober {
    /// Opens the raw ICMP socket (needs `CAP_NET_RAW`: do it before dropping privileges)
    /// and starts the thread; each address probed waits at most `wait` for its answer.
    pub fn spawn(wait: Duration) -> io::Result<Prober> {
        let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))?;
        let (requests, incoming) = mpsc::channel();
        let (report, results) = async_channel::unbounded();
        std::thread::Builder::new()
            .name("dhcp-prober".into())
            .spawn(move || run(&socket, wait, &incoming, &report))?;
        Ok(Prober { requests, results })
    }

    /// Asks whether `address` is in use; the answer comes on [`results`](Self::results).
    pub fn probe(&self, address: Ipv4Addr) {
        let _ = self.requests.send(address);
    }

    /// The answers, in the order they are known.
    pub fn results(&self) -> &async_channel::Receiver<Probed> {
        &self.results
    }
}

/// The ICMP identifier of this process's echo requests.
fn identifier() -> u16 {
    std::process::id() as u16
}

/// An echo request with `id` and `seq`, checksummed.
fn echo_request(id: u16, seq: u16) -> [u8; 16] {
    let mut p = [0u8; 16];
    p[0] = ECHO_REQUEST;
    p[4..6].copy_from_slice(&id.to_be_bytes());
    p[6..8].copy_from_slice(&seq.to_be_bytes());
    p[8..].copy_from_slice(b"dhcp-rs\0");
    let sum = checksum(&p);
    p[2..4].copy_from_slice(&sum.to_be_bytes());
    p
}

/// The Internet checksum (RFC 1071).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The source of an echo reply with identifier `id` in `packet` (an IPv4 datagram as a raw
/// socket reads it).
fn reply_from(packet: &[u8], id: u16) -> Option<Ipv4Addr> {
    let header = usize::from(packet.first()? & 0x0f) * 4;
    let icmp = packet.get(header..)?;
    let source = Ipv4Addr::new(
        *packet.get(12)?,
        *packet.get(13)?,
        *packet.get(14)?,
        *packet.get(15)?,
    );
    (icmp.first() == Some(&ECHO_REPLY) && icmp.get(4..6) == Some(&id.to_be_bytes()[..]))
        .then_some(source)
}

fn run(
    socket: &Socket,
    wait: Duration,
    incoming: &mpsc::Receiver<Ipv4Addr>,
    report: &async_channel::Sender<Probed>,
) {
    let id = identifier();
    let mut seq: u16 = 0;
    let mut pending: HashMap<Ipv4Addr, Instant> = HashMap::new();
    let mut buf = [0u8; 1500];
    loop {
        // Nothing pending: sleep until asked.
        let first = if pending.is_empty() {
            match incoming.recv() {
                Ok(a) => Some(a),
                Err(_) => return,
            }
        } else {
            None
        };
        for address in first.into_iter().chain(incoming.try_iter()) {
            seq = seq.wrapping_add(1);
            let to = SockAddr::from(SocketAddrV4::new(address, 0));
            match socket.send_to(&echo_request(id, seq), &to) {
                Ok(_) => {
                    pending.insert(address, Instant::now() + wait);
                }
                // No route to it: no one there to answer.
                Err(_) => {
                    let _ = report.send_blocking(Probed {
                        address,
                        in_use: false,
                    });
                }
            }
        }
        let now = Instant::now();
        let next = pending.values().min().copied().unwrap_or(now);
        let timeout = next
            .saturating_duration_since(now)
            .clamp(Duration::from_millis(1), Duration::from_millis(20));
        let _ = socket.set_read_timeout(Some(timeout));
        if let Ok(n) = (&*socket).read(&mut buf) {
            if let Some(from) = buf.get(..n).and_then(|b| reply_from(b, id)) {
                if pending.remove(&from).is_some() {
                    let _ = report.send_blocking(Probed {
                        address: from,
                        in_use: true,
                    });
                }
            }
        }
        let now = Instant::now();
        pending.retain(|&address, deadline| {
            let open = *deadline > now;
            if !open {
                let _ = report.send_blocking(Probed {
                    address,
                    in_use: false,
                });
            }
            open
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_requests_checksum_to_zero_and_replies_are_recognised() {
        let p = echo_request(0x1234, 7);
        assert_eq!(checksum(&p), 0);
        let mut ip = vec![
            0x45, 0, 0, 36, 0, 0, 0, 0, 64, 1, 0, 0, 192, 0, 2, 9, 192, 0, 2, 1,
        ];
        let mut reply = p;
        reply[0] = ECHO_REPLY;
        ip.extend_from_slice(&reply);
        assert_eq!(reply_from(&ip, 0x1234), Some(Ipv4Addr::new(192, 0, 2, 9)));
        assert_eq!(reply_from(&ip, 0x1235), None);
        ip[20] = ECHO_REQUEST;
        assert_eq!(reply_from(&ip, 0x1234), None);
    }

    #[test]
    fn any_bytes_read_as_a_reply_or_not_never_a_panic() {
        // Every length up to a full header and some, every header length nibble.
        for len in 0..64 {
            for first in [0x40u8, 0x45, 0x4f, 0xff] {
                let mut p = vec![0u8; len];
                if let Some(b) = p.first_mut() {
                    *b = first;
                }
                let _ = reply_from(&p, 0);
            }
        }
    }
}
