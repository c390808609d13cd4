//! Drives a client machine from arbitrary bytes (the client fuzz target's input): each
//! byte picks an input (a packet, an answer from a scripted server, a time jump, a
//! command), and the machine's outputs are checked after every step. Panics on a broken
//! invariant; never on bad input.

use core::net::Ipv4Addr;
use core::time::Duration;

use dhcp_core::client::{Client, ClientConfig, State};
use dhcp_core::time::Instant;
use dhcp_core::wire::{Message, MessageBuilder, MessageType, Op};

const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x09];

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes([
            self.byte()?,
            self.byte()?,
            self.byte()?,
            self.byte()?,
        ]))
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

/// A reply to `req` of the kind `how` picks, with `lease`, and `tweak` applied to one byte.
fn answer(
    req: &Message<'_>,
    how: u8,
    lease: u32,
    tweak: (usize, u8),
    out: &mut [u8],
) -> Option<usize> {
    let kind = match (req.message_type().ok()??, how % 4) {
        (MessageType::Discover, 0 | 1) => MessageType::Offer,
        (MessageType::Discover, _) => MessageType::Ack,
        (_, 1) => MessageType::Nak,
        _ => MessageType::Ack,
    };
    let mut b = MessageBuilder::new(out).ok()?;
    b.op(Op::BootReply).xid(req.xid()).flags(req.flags());
    b.chaddr(req.chaddr()).ok()?;
    b.message_type(kind)
        .ok()?
        .server_id(Ipv4Addr::new(192, 0, 2, 1 + how / 64))
        .ok()?;
    if kind != MessageType::Nak {
        b.yiaddr(Ipv4Addr::new(192, 0, 2, 100 + how % 3));
        b.lease_time(lease).ok()?.renewal_time(lease / 3).ok()?;
        if how & 0x10 != 0 {
            b.rapid_commit().ok()?;
        }
        if how & 0x20 != 0 {
            b.ipv6_only_preferred(lease).ok()?;
        }
    }
    let n = b.finish().ok()?;
    if let Some(byte) = out.get_mut(tweak.0 % n.max(1)) {
        *byte ^= tweak.1;
    }
    Some(n)
}

/// Runs the client on `data`.
pub fn drive(data: &[u8]) {
    let mut input = Input(data);
    let flags = input.byte().unwrap_or(0);
    let mut config = ClientConfig::new(MAC);
    config.rapid_commit = flags & 1 != 0;
    config.probe = flags & 2 != 0;
    config.ipv6_only = flags & 4 != 0;
    config.offer_window = Duration::from_millis(u64::from(flags >> 4) * 250);
    config.client_id_hardware();
    let seed = u64::from(input.u32().unwrap_or(0));
    let mut client = Client::new(config, seed);
    let mut now = Instant::from_secs(1);
    let mut last = [0u8; 1500];
    let mut last_len = 0;
    let mut buf = [0u8; 1500];
    client.start(now);
    while let Some(op) = input.byte() {
        match op % 12 {
            0..=2 => {
                let (how, lease) = (input.byte().unwrap_or(0), input.u32().unwrap_or(60));
                let tweak = (
                    usize::from(input.byte().unwrap_or(0)) * 3,
                    if op & 0x80 != 0 {
                        input.byte().unwrap_or(0)
                    } else {
                        0
                    },
                );
                if let Ok(req) = Message::parse(&last[..last_len]) {
                    if let Some(n) = answer(&req, how, lease, tweak, &mut buf) {
                        client.handle_packet(now, &buf[..n]);
                    }
                }
            }
            3 => {
                let n = usize::from(input.byte().unwrap_or(0)) * 2;
                client.handle_packet(now, input.bytes(n));
            }
            4 | 5 => {
                let ms = u64::from(input.u32().unwrap_or(0)) >> (op >> 4);
                now = now + Duration::from_millis(ms);
                client.handle_timeout(now);
                if let Some(t) = client.poll_timeout() {
                    assert!(t > now, "timer at or before now in {:?}", client.state());
                }
            }
            6 => {
                let before = client.poll_timeout();
                client.handle_timeout(
                    now - Duration::from_millis(u64::from(input.byte().unwrap_or(0))),
                );
                assert_eq!(
                    client.poll_timeout(),
                    before,
                    "an earlier time moved the timer"
                );
            }
            7 => client.release(now),
            8 => client.renew(now),
            9 => client.decline(now),
            10 => client.probe_result(now, op & 0x80 != 0),
            _ => match op >> 6 {
                0 => client.start(now),
                1 => client.start_reboot(now, Ipv4Addr::new(192, 0, 2, 100)),
                _ => client.inform(now, Ipv4Addr::new(192, 0, 2, 9)),
            },
        }
        while let Some(t) = client.poll_transmit(&mut last) {
            let m = Message::parse(&last[..t.len]).expect("the client sends well-formed messages");
            assert_eq!(m.op(), Op::BootRequest);
            assert_eq!(m.chaddr(), &MAC);
            last_len = t.len;
        }
        while client.poll_event().is_some() {}
        if let Some(l) = client.lease() {
            if let (Some(t1), Some(t2), Some(d)) =
                (l.renewal_time(), l.rebinding_time(), l.lease_time())
            {
                assert!(t1 < t2 && t2 < d);
            }
        }
        if matches!(
            client.state(),
            State::Bound | State::Renewing | State::Rebinding | State::Probing
        ) {
            assert!(client.lease().is_some());
        }
    }
}
