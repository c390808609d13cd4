//! Feeds arbitrary text to the server config parser: it must return a config or errors that
//! each name a line and column inside the text, never panic.
#![no_main]

use std::path::Path;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = dhcp_host::server::config::parse(Path::new("fuzz.toml"), text) {
        assert!(!e.errors.is_empty(), "an error without a located mistake");
        let lines = text.lines().count().max(1);
        for l in &e.errors {
            assert!(l.line >= 1 && l.line <= lines + 1, "line {} of {lines}", l.line);
            assert!(!l.what.is_empty());
        }
        let _ = e.to_string();
    }
});
