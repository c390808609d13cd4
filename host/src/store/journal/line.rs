//! The journal's line format: one record a line with its checksum, written and read back;
//! reading a whole journal, torn last line and bad lines included.

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

use dhcp_core::server::{ClientKey, LeaseRecord, RecordKind};

use super::io_err;
use crate::store::StoreError;

pub(super) const HEADER: &str =
    "# dhcp lease journal v1: seq kind address client expires-unix host check\n";

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

pub(super) fn kind_name(k: RecordKind) -> &'static str {
    match k {
        RecordKind::Bound => "bound",
        RecordKind::Released => "released",
        RecordKind::Declined => "declined",
    }
}

/// One record as its journal line (newline included).
pub fn format_record(r: &LeaseRecord) -> String {
    let mut s = String::with_capacity(80);
    write_record(&mut s, r);
    s
}

/// Appends `r`'s journal line (newline included) to `out`.
pub(super) fn write_record(out: &mut String, r: &LeaseRecord) {
    let start = out.len();
    let _ = write!(out, "{} {} {} ", r.seq, kind_name(r.kind), r.address);
    if r.client.as_bytes().is_empty() {
        out.push('-');
    } else {
        let _ = write!(out, "{}", r.client);
    }
    let _ = write!(out, " {} ", r.expires);
    match &r.host_name {
        // A name that is just `-` would read back as no name.
        Some(h) if h == b"-" => out.push_str("%2d"),
        Some(h) if !h.is_empty() => {
            for &b in h {
                if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' {
                    out.push(char::from(b));
                } else {
                    let _ = write!(out, "%{b:02x}");
                }
            }
        }
        _ => out.push('-'),
    }
    let sum = checksum(&out[start..]);
    let _ = writeln!(out, " {sum:08x}");
}

/// Reads one journal line (without its newline) back into a record.
pub fn parse_record(line: &str) -> Result<LeaseRecord, String> {
    let (body, sum) = line
        .rsplit_once(' ')
        .ok_or_else(|| "no checksum".to_string())?;
    let sum = u32::from_str_radix(sum, 16).map_err(|_| format!("bad checksum {sum:?}"))?;
    if checksum(body) != sum {
        return Err("checksum mismatch (the line is corrupt)".to_string());
    }
    let f: Vec<&str> = body.split(' ').collect();
    let [seq, kind, address, client, expires, host] = f.as_slice() else {
        return Err(format!("{} fields, expected 6", f.len()));
    };
    let seq = seq
        .parse()
        .map_err(|_| format!("bad sequence number {seq:?}"))?;
    let kind = match *kind {
        "bound" => RecordKind::Bound,
        "released" => RecordKind::Released,
        "declined" => RecordKind::Declined,
        k => return Err(format!("unknown record kind {k:?}")),
    };
    let address = address
        .parse()
        .map_err(|_| format!("bad address {address:?}"))?;
    let client = if *client == "-" {
        ClientKey::new(&[])
    } else {
        let bytes: Result<Vec<u8>, _> = client
            .split(':')
            .map(|b| u8::from_str_radix(b, 16))
            .collect();
        ClientKey::new(&bytes.map_err(|_| format!("bad client {client:?}"))?)
    };
    let expires = expires
        .parse()
        .map_err(|_| format!("bad expiry {expires:?}"))?;
    let host_name = if *host == "-" {
        None
    } else if host.is_empty() {
        // `format_record` writes `-` for no name; an empty field is not one of its lines.
        return Err("empty host field".to_string());
    } else {
        let mut out = Vec::new();
        let mut bytes = host.bytes();
        while let Some(b) = bytes.next() {
            if b == b'%' {
                let hex: String = bytes.by_ref().take(2).map(char::from).collect();
                out.push(u8::from_str_radix(&hex, 16).map_err(|_| format!("bad host {host:?}"))?);
            } else {
                out.push(b);
            }
        }
        Some(out)
    };
    Ok(LeaseRecord {
        seq,
        address,
        client,
        kind,
        expires,
        host_name,
    })
}

/// What reading a journal found.
pub(super) struct Scan {
    pub(super) records: Vec<LeaseRecord>,
    pub(super) bad: Vec<BadLine>,
    /// Where the last complete line ends: anything after it is a torn line.
    pub(super) good_end: u64,
    pub(super) lines: usize,
}

pub(super) fn scan(path: &Path, mut reader: impl BufRead) -> Result<Scan, StoreError> {
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
            Ok(text) => parse_record(text),
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
