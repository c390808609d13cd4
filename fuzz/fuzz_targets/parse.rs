//! Parse arbitrary bytes and read everything: every header field, option, typed accessor,
//! nested item and the Display rendering. Any panic is a bug.
#![no_main]

#[path = "../../core/tests/common/exercise.rs"]
mod exercise;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = exercise::exercise(data);
});
