//! One whole client life cycle against a scripted server, without allocating: DISCOVER,
//! OFFER, REQUEST, ACK, then at T1 a renewing REQUEST and its ACK. Used by the allocation
//! test and the client benchmark.

use core::net::Ipv4Addr;

use dhcp_core::client::{Client, ClientConfig, Event};
use dhcp_core::time::Instant;
use dhcp_core::wire::{Message, MessageBuilder, MessageType, Op};

/// The client's hardware address.
pub const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x11];
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

/// The server's reply to `req` (an OFFER to a DISCOVER, else an ACK), written into `out`.
pub fn serve(req: &[u8], out: &mut [u8]) -> usize {
    let req = Message::parse(req).expect("the client's message parses");
    let kind = match req.message_type() {
        Ok(Some(MessageType::Discover)) => MessageType::Offer,
        _ => MessageType::Ack,
    };
    let mut b = MessageBuilder::new(out).expect("buffer");
    b.op(Op::BootReply)
        .xid(req.xid())
        .flags(req.flags())
        .ciaddr(req.ciaddr())
        .yiaddr(Ipv4Addr::new(192, 0, 2, 100));
    b.chaddr(req.chaddr()).expect("chaddr");
    b.message_type(kind)
        .and_then(|b| b.server_id(SERVER))
        .and_then(|b| b.lease_time(3600))
        .and_then(|b| b.subnet_mask(Ipv4Addr::new(255, 255, 255, 0)))
        .and_then(|b| b.routers(&[SERVER]))
        .and_then(|b| b.dns_servers(&[Ipv4Addr::new(192, 0, 2, 53)]))
        .and_then(|b| b.domain_name(b"example.test"))
        .expect("options");
    b.finish().expect("finish")
}

/// Runs DORA and a renewal on a fresh client; returns the events seen (Bound, Renewed).
pub fn life_cycle(config: &ClientConfig, seed: u64) -> [Option<Event>; 2] {
    let mut client = Client::new(config.clone(), seed);
    let mut tx = [0u8; 1500];
    let mut rx = [0u8; 1500];
    let mut events = [None; 2];
    let mut seen = 0;
    let mut now = Instant::from_secs(1);
    client.start(now);
    for step in 0..3 {
        if step == 2 {
            now = client.poll_timeout().expect("a T1 timer");
            client.handle_timeout(now);
        }
        let t = client.poll_transmit(&mut tx).expect("a message to send");
        let n = serve(&tx[..t.len], &mut rx);
        client.handle_packet(now, &rx[..n]);
        if step > 0 {
            while let Some(e) = client.poll_event() {
                if let Some(slot) = events.get_mut(seen) {
                    *slot = Some(e);
                    seen += 1;
                }
            }
        }
    }
    events
}
