//! DHCPv6 messages wrapped in relay messages, for the v6 tests.

use std::net::Ipv6Addr;

use dhcp_core::v6::wire::{MessageBuilder, MessageType};

/// `msg` wrapped in `depth` RELAY-FORWs (hop counts 0, 1, ... from the inside out), each
/// with a 3-byte interface id.
pub fn relayed(msg: &[u8], depth: usize) -> Vec<u8> {
    let mut msg = msg.to_vec();
    for hop in 0..depth {
        let mut buf = vec![0u8; msg.len() + 64];
        let mut b = MessageBuilder::relay(
            &mut buf,
            MessageType::RelayForw,
            hop as u8,
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
            Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2),
        )
        .unwrap();
        b.interface_id(&[hop as u8; 3]).unwrap();
        b.relay_message(&msg).unwrap();
        let n = b.finish();
        buf.truncate(n);
        msg = buf;
    }
    msg
}
