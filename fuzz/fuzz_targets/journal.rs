//! Feeds arbitrary lines to the lease journal's record parser: a line either parses to a
//! record that formats back to a line parsing to the same record, or is refused with a
//! reason, never a panic. When the first byte is odd, each line gets its correct checksum
//! appended first, so that the fuzzer reaches the field parsing behind the checksum test.
#![no_main]

use dhcp_host::store::journal::{format_record, parse_record};

/// The journal's line checksum (32-bit FNV-1a of the line before its last space).
fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    for line in text.lines() {
        let sealed;
        let line = if first & 1 == 1 {
            sealed = format!("{line} {:08x}", fnv1a(line));
            sealed.as_str()
        } else {
            line
        };
        match parse_record(line) {
            Ok(record) => {
                let again = format_record(&record);
                assert_eq!(parse_record(again.trim_end()).as_ref(), Ok(&record));
            }
            Err(why) => assert!(!why.is_empty()),
        }
    }
});
