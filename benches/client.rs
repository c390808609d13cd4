//! The client machine's cost for one whole DORA + renew cycle, no I/O: a fresh client,
//! DISCOVER, OFFER, REQUEST, ACK, T1, REQUEST, ACK, with the scripted server's replies
//! built in the loop too (`server_replies` measures those alone, to subtract).
//!
//! Run: `cargo bench -p dhcp-benches --bench client`

use std::hint::black_box;

use criterion::Criterion;
use dhcp_core::client::{ClientConfig, Event};

#[allow(unreachable_pub, dead_code)]
#[path = "../core/tests/common/dora.rs"]
mod dora;

fn main() {
    let config = ClientConfig::new(dora::MAC);
    assert_eq!(
        dora::life_cycle(&config, 1),
        [Some(Event::Bound), Some(Event::Renewed)]
    );
    let mut c = Criterion::default().configure_from_args();
    c.bench_function("client_dora_renew", |b| {
        b.iter(|| dora::life_cycle(black_box(&config), 1))
    });
    // The three replies alone, to tell the machine's share from the scripted server's.
    let mut tx = [0u8; 1500];
    let mut rx = [0u8; 1500];
    let discover = {
        let mut client = dhcp_core::client::Client::new(config.clone(), 1);
        client.start(dhcp_core::time::Instant::from_secs(1));
        let t = client.poll_transmit(&mut tx).unwrap();
        tx[..t.len].to_vec()
    };
    c.bench_function("server_replies", |b| {
        b.iter(|| {
            for _ in 0..3 {
                black_box(dora::serve(black_box(&discover), &mut rx));
            }
        })
    });
    c.final_summary();
}
