//! Drives the client machine with arbitrary inputs (packets, scripted answers, time jumps,
//! commands); `core/tests/common/client_driver.rs` checks its invariants at every step.
#![no_main]

#[path = "../../core/tests/common/client_driver.rs"]
mod client_driver;

libfuzzer_sys::fuzz_target!(|data: &[u8]| client_driver::drive(data));
