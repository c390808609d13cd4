//! Drives the server machine with arbitrary packets, requests, time steps, persistence
//! answers and restarts; `core/tests/common/server_driver.rs` checks its invariants.
#![no_main]

#[path = "../../core/tests/common/server_driver.rs"]
mod server_driver;

libfuzzer_sys::fuzz_target!(|data: &[u8]| server_driver::drive(data));
