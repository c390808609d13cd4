//! The journal's line format: one record a line with its checksum, written and read back;
//! reading a whole journal, torn last line and bad lines included.

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

use dhcp_core::server::LeaseRecord;

use super::io_err;
use crate::store::record::Record;
use crate::store::StoreError;

/// A line that could not be read back, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub what: String,
}

pub(super) fn checksum(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// One record as its journal line (newline included).
pub fn format_record(r: &LeaseRecord) -> String {
    let mut s = String::with_capacity(80);
    write_record(&mut s, r);
    s
}

/// Appends `r`'s journal line (newline included) to `out`: its fields, then a checksum of
/// them.
pub(super) fn write_record<R: Record>(out: &mut String, r: &R) {
    let start = out.len();
    r.write_fields(out);
    let sum = checksum(&out[start..]);
    let _ = writeln!(out, " {sum:08x}");
}

/// Reads one journal line (without its newline) back into a record.
pub fn parse_record(line: &str) -> Result<LeaseRecord, String> {
    parse_line(line)
}

/// Reads one journal line (without its newline) of records `R` back.
pub fn parse_line<R: Record>(line: &str) -> Result<R, String> {
    let (body, sum) = line
        .rsplit_once(' ')
        .ok_or_else(|| "no checksum".to_string())?;
    let sum = u32::from_str_radix(sum, 16).map_err(|_| format!("bad checksum {sum:?}"))?;
    if checksum(body) != sum {
        return Err("checksum mismatch (the line is corrupt)".to_string());
    }
    R::parse_fields(body)
}

/// What reading a journal found.
pub(super) struct Scan<R> {
    pub(super) records: Vec<R>,
    pub(super) bad: Vec<BadLine>,
    /// Where the last complete line ends: anything after it is a torn line.
    pub(super) good_end: u64,
    pub(super) lines: usize,
}

pub(super) fn scan<R: Record>(
    path: &Path,
    mut reader: impl BufRead,
) -> Result<Scan<R>, StoreError> {
    let mut scan = Scan {
        records: Vec::new(),
        bad: Vec::new(),
        good_end: 0,
        lines: 0,
    };
    let mut raw = Vec::new();
    loop {
        raw.clear();
        let read = reader.read_until(b'\n', &mut raw).map_err(io_err(path))?;
        if read == 0 {
            break;
        }
        let n = scan.lines + 1;
        if !raw.ends_with(b"\n") {
            tracing::warn!(
                "{}:{n}: torn last line (a crash mid-write) cut off",
                path.display()
            );
            break;
        }
        scan.good_end += read as u64;
        scan.lines = n;
        let parsed = match std::str::from_utf8(&raw[..raw.len() - 1]) {
            Ok(text) if text.starts_with('#') || text.is_empty() => continue,
            Ok(text) => parse_line::<R>(text),
            Err(_) => Err("not text".to_string()),
        };
        match parsed {
            Ok(r) => scan.records.push(r),
            Err(what) => {
                tracing::warn!("{}:{n}: skipped: {what}", path.display());
                scan.bad.push(BadLine { line: n, what });
            }
        }
    }
    Ok(scan)
}
