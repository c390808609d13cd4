//! Whatever parses, re-emitted through the builder, parses again to the same message.
#![no_main]

#[path = "../../core/tests/common/reemit.rs"]
mod reemit;

use dhcp_core::wire::{EmitError, Message};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(first) = Message::parse(data) else {
        return;
    };
    let mut buf = [0u8; 8192];
    match reemit::reemit(&first, &mut buf) {
        Ok(len) => {
            let second = Message::parse(&buf[..len]).expect("a re-emitted message parses");
            assert!(reemit::same_message(&first, &second), "round trip changed the message");
        }
        // A sname/file with text the builder refuses (no room for the NUL) is a clean error.
        Err(EmitError::FieldTooLong { .. }) => {}
        Err(e) => panic!("re-emitting a parsed message failed: {e}"),
    }
});
