//! Whatever parses as a DHCPv6 datagram, re-emitted through the builder (nested options
//! and relay messages rebuilt), comes out byte for byte the same.
#![no_main]

#[path = "../../core/tests/common/reemit6.rs"]
mod reemit6;

use dhcp_core::v6::wire::Packet;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(p) = Packet::parse(data) else {
        return;
    };
    let mut buf = vec![0u8; data.len()];
    let n = reemit6::reemit6(&p, &mut buf, 0).expect("a parsed datagram re-emits");
    assert_eq!(&buf[..n], data, "round trip changed the datagram");
});
