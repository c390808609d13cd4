//! Parse arbitrary bytes as a DHCPv6 datagram (and every relay in it) and read everything:
//! header fields, options, typed accessors, nested items, the Display. Any panic is a bug.
#![no_main]

// For its `Sink`; its v4 `exercise` is not used here.
#[allow(dead_code)]
#[path = "../../core/tests/common/exercise.rs"]
mod exercise;
#[path = "../../core/tests/common/exercise6.rs"]
mod exercise6;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = exercise6::exercise6(data);
});
