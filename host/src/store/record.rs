//! [`Record`]: what the journal and the commit thread need of a lease record, so that one
//! store serves the DHCPv4 machine's [`LeaseRecord`]s and the DHCPv6 machine's
//! [`Lease6Record`]s, each in a journal of its own lines.

use std::fmt::{Debug, Write as _};
use std::hash::Hash;

use dhcp_core::server::{ClientKey, LeaseRecord, RecordKind};
use dhcp_core::v6::server::{IaKind, Lease6Record, Record6Kind};

/// A lease record as a store keeps it.
pub trait Record: Clone + Send + Debug + PartialEq + 'static {
    /// The first line of a journal of these records.
    const HEADER: &'static str;
    /// What a compaction keeps the newest line of.
    type Key: Eq + Hash + Clone + Send + 'static;
    /// The increasing sequence number the machine gave it.
    fn seq(&self) -> u64;
    /// Its key: the address (and, for v6, the prefix length).
    fn key(&self) -> Self::Key;
    /// When it ends, Unix seconds.
    fn expires(&self) -> u64;
    /// Appends its journal fields (no checksum, no newline).
    fn write_fields(&self, out: &mut String);
    /// Reads the journal fields back.
    fn parse_fields(body: &str) -> Result<Self, String>;
    /// The key of a line already read in full once (compaction's second pass): the third
    /// field, unchecked.
    fn line_key(line: &[u8]) -> Option<Self::Key>;
}

/// Bytes as `aa:bb:cc`, `-` when empty.
fn write_hex(out: &mut String, bytes: &[u8]) {
    if bytes.is_empty() {
        out.push('-');
    }
    for (i, b) in bytes.iter().enumerate() {
        let _ = write!(out, "{}{b:02x}", if i > 0 { ":" } else { "" });
    }
}

/// `aa:bb:cc` (or `-`) back into bytes.
fn parse_hex(field: &str) -> Result<Vec<u8>, String> {
    if field == "-" {
        return Ok(Vec::new());
    }
    field
        .split(':')
        .map(|b| u8::from_str_radix(b, 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| format!("bad client {field:?}"))
}

fn third_field(line: &[u8]) -> Option<&str> {
    let field = line.split(|&b| b == b' ').nth(2)?;
    std::str::from_utf8(field).ok()
}

impl Record for LeaseRecord {
    const HEADER: &'static str =
        "# dhcp lease journal v1: seq kind address client expires-unix host check\n";
    type Key = std::net::Ipv4Addr;

    fn seq(&self) -> u64 {
        self.seq
    }

    fn key(&self) -> Self::Key {
        self.address
    }

    fn expires(&self) -> u64 {
        self.expires
    }

    fn write_fields(&self, out: &mut String) {
        let kind = match self.kind {
            RecordKind::Bound => "bound",
            RecordKind::Released => "released",
            RecordKind::Declined => "declined",
        };
        let _ = write!(out, "{} {kind} {} ", self.seq, self.address);
        write_hex(out, self.client.as_bytes());
        let _ = write!(out, " {} ", self.expires);
        match &self.host_name {
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
    }

    fn parse_fields(body: &str) -> Result<Self, String> {
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
        let client = ClientKey::new(&parse_hex(client)?);
        let expires = expires
            .parse()
            .map_err(|_| format!("bad expiry {expires:?}"))?;
        let host_name = if *host == "-" {
            None
        } else if host.is_empty() {
            // `-` is written for no name; an empty field is not one of its lines.
            return Err("empty host field".to_string());
        } else {
            let mut out = Vec::new();
            let mut bytes = host.bytes();
            while let Some(b) = bytes.next() {
                if b == b'%' {
                    let hex: String = bytes.by_ref().take(2).map(char::from).collect();
                    out.push(
                        u8::from_str_radix(&hex, 16).map_err(|_| format!("bad host {host:?}"))?,
                    );
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

    fn line_key(line: &[u8]) -> Option<Self::Key> {
        third_field(line)?.parse().ok()
    }
}

impl Record for Lease6Record {
    const HEADER: &'static str =
        "# dhcp lease6 journal v1: seq kind address/len duid iaid expires-unix check\n";
    type Key = (std::net::Ipv6Addr, u8);

    fn seq(&self) -> u64 {
        self.seq
    }

    fn key(&self) -> Self::Key {
        (self.address, self.prefix_len)
    }

    fn expires(&self) -> u64 {
        self.expires
    }

    fn write_fields(&self, out: &mut String) {
        let kind = match self.kind {
            Record6Kind::Bound => "bound",
            Record6Kind::Released => "released",
            Record6Kind::Declined => "declined",
        };
        let ia = match self.ia {
            IaKind::Address => "na",
            IaKind::Prefix => "pd",
        };
        let _ = write!(
            out,
            "{} {kind}-{ia} {}/{} ",
            self.seq, self.address, self.prefix_len
        );
        write_hex(out, &self.duid);
        let _ = write!(out, " {} {}", self.iaid, self.expires);
    }

    fn parse_fields(body: &str) -> Result<Self, String> {
        let f: Vec<&str> = body.split(' ').collect();
        let [seq, kind, address, duid, iaid, expires] = f.as_slice() else {
            return Err(format!("{} fields, expected 6", f.len()));
        };
        let seq = seq
            .parse()
            .map_err(|_| format!("bad sequence number {seq:?}"))?;
        let (kind, ia) = kind
            .split_once('-')
            .ok_or_else(|| format!("bad record kind {kind:?}"))?;
        let kind = match kind {
            "bound" => Record6Kind::Bound,
            "released" => Record6Kind::Released,
            "declined" => Record6Kind::Declined,
            k => return Err(format!("unknown record kind {k:?}")),
        };
        let ia = match ia {
            "na" => IaKind::Address,
            "pd" => IaKind::Prefix,
            k => return Err(format!("unknown IA kind {k:?}")),
        };
        let (address, len) = address
            .split_once('/')
            .ok_or_else(|| format!("bad address {address:?}"))?;
        let address = address
            .parse()
            .map_err(|_| format!("bad address {address:?}"))?;
        let prefix_len: u8 = len
            .parse()
            .ok()
            .filter(|l| *l <= 128)
            .ok_or_else(|| format!("bad prefix length {len:?}"))?;
        let duid = parse_hex(duid)?;
        let iaid = iaid.parse().map_err(|_| format!("bad IAID {iaid:?}"))?;
        let expires = expires
            .parse()
            .map_err(|_| format!("bad expiry {expires:?}"))?;
        Ok(Lease6Record {
            seq,
            ia,
            address,
            prefix_len,
            duid,
            iaid,
            kind,
            expires,
        })
    }

    fn line_key(line: &[u8]) -> Option<Self::Key> {
        let (a, l) = third_field(line)?.split_once('/')?;
        Some((a.parse().ok()?, l.parse().ok()?))
    }
}
