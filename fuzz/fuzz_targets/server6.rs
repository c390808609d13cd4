//! Drives the DHCPv6 server machine with arbitrary datagrams, built client messages
//! (relayed or not), time steps, persistence answers and restarts;
//! `core/tests/common/server6_driver.rs` checks its invariants.
#![no_main]

#[path = "../../core/tests/common/server6_driver.rs"]
mod server6_driver;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    server6_driver::drive(data);
});
