//! `dhcp decode`: DHCPv4 and DHCPv6 messages from a pcap file (Ethernet, raw IP, or Linux
//! cooked frames; UDP 67/68 over IPv4, 546/547 over IPv6) or from hex on stdin (one
//! message a line), printed as `tcpdump -v` prints them or as JSON. A malformed packet
//! prints its parse error and decoding goes on.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::Path;
use std::process::ExitCode;

use dhcp::core::v6;

use dhcp::core::wire::typed::{ClasslessRoutes, DomainSearch, Ipv4List, ParameterList};
use dhcp::core::wire::{Flags, Message, MessageType, Op, OptionCode, OptionData, OptionValue};
use serde_json::{json, Value};

use crate::Outcome;

/// One packet found: when, the IP/UDP envelope if it came from a capture, the payload.
struct Packet {
    time: Option<(u32, u32)>,
    ip: Option<Envelope>,
    payload: Vec<u8>,
}

/// The IP and UDP headers a DHCP message came in.
enum Envelope {
    V4(IpInfo),
    V6(Ip6Info),
}

impl Envelope {
    fn source(&self) -> SocketAddr {
        match self {
            Envelope::V4(i) => SocketAddr::V4(i.source),
            Envelope::V6(i) => SocketAddr::V6(i.source),
        }
    }

    fn destination(&self) -> SocketAddr {
        match self {
            Envelope::V4(i) => SocketAddr::V4(i.destination),
            Envelope::V6(i) => SocketAddr::V6(i.destination),
        }
    }
}

/// What tcpdump shows of the IPv6 and UDP headers.
struct Ip6Info {
    hop_limit: u8,
    payload_length: u16,
    source: SocketAddrV6,
    destination: SocketAddrV6,
}

/// The DHCPv6 payload of an IPv6 packet, if it is UDP to or from port 546 or 547 (after
/// any hop-by-hop, routing or destination options headers; fragments are not read).
fn ipv6_udp(ip: &[u8]) -> Option<(Ip6Info, Vec<u8>)> {
    if ip.first()? >> 4 != 6 {
        return None;
    }
    let address = |at: usize| -> Option<Ipv6Addr> {
        let a: [u8; 16] = ip.get(at..at + 16)?.try_into().ok()?;
        Some(Ipv6Addr::from(a))
    };
    let (src, dst) = (address(8)?, address(24)?);
    let mut next = *ip.get(6)?;
    let mut at = 40;
    // Hop-by-hop (0), routing (43), destination options (60): skipped by their length.
    while matches!(next, 0 | 43 | 60) {
        next = *ip.get(at)?;
        at += (usize::from(*ip.get(at + 1)?) + 1) * 8;
    }
    if next != 17 {
        return None;
    }
    let udp = ip.get(at..)?;
    let (sport, dport, ulen) = (be16(udp, 0)?, be16(udp, 2)?, usize::from(be16(udp, 4)?));
    if ![sport, dport]
        .iter()
        .any(|p| *p == v6::wire::CLIENT_PORT || *p == v6::wire::SERVER_PORT)
    {
        return None;
    }
    let end = ulen.clamp(8, udp.len());
    let info = Ip6Info {
        hop_limit: *ip.get(7)?,
        payload_length: be16(ip, 4)?,
        source: SocketAddrV6::new(src, sport, 0, 0),
        destination: SocketAddrV6::new(dst, dport, 0, 0),
    };
    Some((info, udp.get(8..end)?.to_vec()))
}

/// The DHCP payload of an IP packet of either version.
fn ip_udp(ip: &[u8]) -> Option<(Envelope, Vec<u8>)> {
    ipv4_udp(ip)
        .map(|(i, p)| (Envelope::V4(i), p))
        .or_else(|| ipv6_udp(ip).map(|(i, p)| (Envelope::V6(i), p)))
}

/// What tcpdump shows of the IPv4 and UDP headers.
struct IpInfo {
    tos: u8,
    ttl: u8,
    id: u16,
    offset: u16,
    df: bool,
    length: u16,
    source: SocketAddrV4,
    destination: SocketAddrV4,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// The DHCP payload of an IPv4 frame, if it is UDP to or from port 67 or 68.
fn ipv4_udp(ip: &[u8]) -> Option<(IpInfo, Vec<u8>)> {
    if ip.first()? >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let length = be16(ip, 2)?;
    let frag = be16(ip, 6)?;
    if *ip.get(9)? != 17 || frag & 0x3fff != 0 {
        return None;
    }
    let src = Ipv4Addr::new(*ip.get(12)?, ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(*ip.get(16)?, ip[17], ip[18], ip[19]);
    let udp = ip.get(ihl..)?;
    let (sport, dport, ulen) = (be16(udp, 0)?, be16(udp, 2)?, usize::from(be16(udp, 4)?));
    if ![sport, dport].iter().any(|p| *p == 67 || *p == 68) {
        return None;
    }
    let end = ulen.clamp(8, udp.len());
    let info = IpInfo {
        tos: ip[1],
        ttl: ip[8],
        id: be16(ip, 4)?,
        offset: frag & 0x1fff,
        df: frag & 0x4000 != 0,
        length,
        source: SocketAddrV4::new(src, sport),
        destination: SocketAddrV4::new(dst, dport),
    };
    Some((info, udp.get(8..end)?.to_vec()))
}

/// Every DHCP packet of a pcap capture.
fn read_pcap(bytes: &[u8]) -> Result<Vec<Packet>, String> {
    let header = bytes
        .get(..24)
        .ok_or("not a pcap file: shorter than its header")?;
    let magic = [header[0], header[1], header[2], header[3]];
    let (le, nanos) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (true, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => (false, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => (true, true),
        [0xa1, 0xb2, 0x3c, 0x4d] => (false, true),
        [0x0a, 0x0d, 0x0d, 0x0a] => {
            return Err("pcapng files are not read; write pcap (tcpdump -w does)".into())
        }
        _ => return Err("not a pcap file (bad magic number)".into()),
    };
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        let w: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        })
    };
    let link = u32_at(header, 20).ok_or("truncated header")?;
    let mut out = Vec::new();
    let mut pos = 24;
    while let Some(rec) = bytes.get(pos..pos + 16) {
        let (sec, frac) = (u32_at(rec, 0).unwrap_or(0), u32_at(rec, 4).unwrap_or(0));
        let len = u32_at(rec, 8).unwrap_or(0) as usize;
        let Some(frame) = bytes.get(pos + 16..pos + 16 + len) else {
            eprintln!("capture truncated at byte {pos}");
            break;
        };
        pos += 16 + len;
        let is_ip = |t: Option<u16>| matches!(t, Some(0x0800 | 0x86dd));
        let ip = match link {
            1 => {
                let mut at = 12;
                while be16(frame, at) == Some(0x8100) {
                    at += 4;
                }
                is_ip(be16(frame, at))
                    .then(|| frame.get(at + 2..))
                    .flatten()
            }
            101 | 228 | 229 => Some(frame),
            113 => is_ip(be16(frame, 14)).then(|| frame.get(16..)).flatten(),
            276 => is_ip(be16(frame, 0)).then(|| frame.get(20..)).flatten(),
            0 => frame.get(4..),
            other => return Err(format!("link type {other} is not read")),
        };
        if let Some((info, payload)) = ip.and_then(ip_udp) {
            let micros = if nanos { frac / 1000 } else { frac };
            out.push(Packet {
                time: Some((sec, micros)),
                ip: Some(info),
                payload,
            });
        }
    }
    Ok(out)
}

/// Messages as hex, one a line (spaces, colons and a `0x` prefix allowed).
fn read_hex(text: &str) -> Vec<Result<Packet, String>> {
    text.lines()
        .map(|l| l.trim().trim_start_matches("0x"))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let digits: String = l
                .chars()
                .filter(|c| !matches!(c, ' ' | ':' | '\t'))
                .collect();
            if digits.len() % 2 == 1 {
                return Err("odd number of hex digits".to_string());
            }
            let payload = (0..digits.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(digits.get(i..i + 2).unwrap_or("x"), 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| "not hex".to_string())?;
            Ok(Packet {
                time: None,
                ip: None,
                payload,
            })
        })
        .collect()
}

fn time_of_day((sec, micros): (u32, u32)) -> String {
    let s = sec % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{micros:06}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn print_text(out: &mut impl Write, n: usize, p: &Packet) -> std::io::Result<()> {
    if let Some(t) = p.time {
        write!(out, "{} ", time_of_day(t))?;
    }
    match &p.ip {
        Some(Envelope::V4(ip)) => writeln!(
            out,
            "IP (tos 0x{:x}, ttl {}, id {}, offset {}, flags [{}], proto UDP (17), length {})",
            ip.tos,
            ip.ttl,
            ip.id,
            ip.offset,
            if ip.df { "DF" } else { "none" },
            ip.length
        )?,
        Some(Envelope::V6(ip)) => writeln!(
            out,
            "IP6 (hlim {}, next-header UDP (17) payload length: {})",
            ip.hop_limit, ip.payload_length
        )?,
        None => {}
    }
    if let Some(ip) = &p.ip {
        let (s, d) = (ip.source(), ip.destination());
        write!(
            out,
            "    {}.{} > {}.{}: ",
            s.ip(),
            s.port(),
            d.ip(),
            d.port()
        )?;
    } else {
        write!(out, "packet {n}: ")?;
    }
    match decoded(p) {
        Decoded::V4(m) => writeln!(out, "{m}"),
        Decoded::V6(m) => writeln!(out, "{m}"),
        Decoded::Malformed(e) => writeln!(
            out,
            "malformed DHCP message ({} bytes): {e}",
            p.payload.len()
        ),
    }
}

/// A payload read as the protocol its envelope says, or (from hex) as whichever parses.
enum Decoded<'p> {
    V4(Message<'p>),
    V6(v6::wire::Packet<'p>),
    Malformed(String),
}

fn decoded(p: &Packet) -> Decoded<'_> {
    let as_v4 = || match Message::parse(&p.payload) {
        Ok(m) => Decoded::V4(m),
        Err(e) => Decoded::Malformed(e.to_string()),
    };
    let as_v6 = || match v6::wire::Packet::parse(&p.payload) {
        Ok(m) => Decoded::V6(m),
        Err(e) => Decoded::Malformed(format!("DHCPv6: {e}")),
    };
    match &p.ip {
        Some(Envelope::V4(_)) => as_v4(),
        Some(Envelope::V6(_)) => as_v6(),
        // A DHCPv4 message is at least 240 bytes with the magic cookie, which no short
        // DHCPv6 message has: whatever parses as DHCPv4 is taken as it.
        None => match as_v4() {
            Decoded::Malformed(e) => match as_v6() {
                Decoded::V6(m) => Decoded::V6(m),
                _ => Decoded::Malformed(e),
            },
            v4 => v4,
        },
    }
}

fn bytes_of(d: &OptionData<'_>) -> Vec<u8> {
    d.bytes().collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The value of a well-known option as JSON, `None` for the rest (or a malformed value).
fn typed(code: OptionCode, d: OptionData<'_>) -> Option<Value> {
    let b = bytes_of(&d);
    let ip = |b: &[u8]| -> Option<String> {
        let a: [u8; 4] = b.try_into().ok()?;
        Some(Ipv4Addr::from(a).to_string())
    };
    Some(match code.0 {
        1 | 16 | 28 | 32 | 50 | 54 | 118 => json!(ip(&b)?),
        3..=11 | 41 | 42 | 44 | 45 | 48 | 49 => {
            let l = Ipv4List::new(code, d).ok()?;
            json!(l.iter().map(|a| a.to_string()).collect::<Vec<_>>())
        }
        2 | 24 | 35 | 38 | 51 | 58 | 59 | 108 => {
            json!(u32::from_be_bytes(b.as_slice().try_into().ok()?))
        }
        13 | 22 | 26 | 57 => json!(u16::from_be_bytes(b.as_slice().try_into().ok()?)),
        19 | 20 | 23 | 27 | 29..=31 | 34 | 36 | 39 | 46 | 52 => {
            let [v] = b.as_slice().try_into().ok()?;
            json!(v)
        }
        12 | 14 | 15 | 17 | 18 | 40 | 47 | 56 | 60 | 62 | 64 | 66 | 67 | 114 => json!(text(&b)),
        53 => {
            let [v] = b.as_slice().try_into().ok()?;
            json!(MessageType::from_u8(v)?.name())
        }
        55 => {
            let l = ParameterList::new(d).ok()?;
            json!(l.iter().map(|c| c.0).collect::<Vec<_>>())
        }
        61 => {
            let (t, id) = b.split_first()?;
            json!({ "type": t, "id": hex(id) })
        }
        119 => {
            let s = DomainSearch::new(d).ok()?;
            let names: Vec<String> = s
                .iter()
                .map(|n| {
                    n.labels()
                        .map(|l| text(&bytes_of(&l)))
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .collect();
            json!(names)
        }
        121 => {
            let r = ClasslessRoutes::new(code, d).ok()?;
            let v: Vec<Value> = r
                .iter()
                .map(|r| {
                    json!({
                        "destination": r.destination.to_string(),
                        "prefix_len": r.prefix_len,
                        "router": r.router.to_string(),
                    })
                })
                .collect();
            json!(v)
        }
        _ => return None,
    })
}

fn message_json(m: &Message<'_>) -> Value {
    let mut seen = [false; 256];
    let mut options = Vec::new();
    for o in m.options() {
        if std::mem::replace(&mut seen[usize::from(o.code.0)], true) {
            continue;
        }
        let Some(d) = m.option(o.code) else { continue };
        let mut v = json!({
            "code": o.code.0,
            "name": o.code.name(),
            "length": d.len(),
            "hex": hex(&bytes_of(&d)),
            "text": OptionValue::new(o.code, d).to_string(),
        });
        if let Some(t) = typed(o.code, d) {
            v["value"] = t;
        }
        options.push(v);
    }
    json!({
        "op": match m.op() { Op::BootRequest => "BOOTREQUEST", Op::BootReply => "BOOTREPLY" },
        "htype": m.htype(),
        "hlen": m.hlen(),
        "hops": m.hops(),
        "xid": format!("0x{:08x}", m.xid()),
        "secs": m.secs(),
        "flags": m.flags().bits(),
        "broadcast": m.flags().contains(Flags::BROADCAST),
        "ciaddr": m.ciaddr().to_string(),
        "yiaddr": m.yiaddr().to_string(),
        "siaddr": m.siaddr().to_string(),
        "giaddr": m.giaddr().to_string(),
        "chaddr": m.chaddr().iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
        "sname": m.sname().map(text),
        "file": m.file().map(text),
        "options": options,
    })
}

fn packet_json(n: usize, p: &Packet) -> Value {
    let mut v = json!({ "packet": n });
    if let Some((sec, micros)) = p.time {
        v["time"] = json!(format!("{sec}.{micros:06}"));
    }
    if let Some(ip) = &p.ip {
        v["source"] = json!(ip.source().to_string());
        v["destination"] = json!(ip.destination().to_string());
    }
    match decoded(p) {
        Decoded::V4(m) => v["message"] = message_json(&m),
        Decoded::V6(m) => {
            v["protocol"] = json!("dhcpv6");
            v["message"] = packet6_json(&m, 0);
        }
        Decoded::Malformed(e) => v["error"] = json!(e),
    }
    v
}

/// A DHCPv6 option as JSON: code, name, length, hex, the tcpdump text; a relay message's
/// option holds the message inside it.
fn option6_json(o: v6::wire::RawOption<'_>, depth: usize) -> Value {
    let code = o.code;
    let mut v = json!({
        "code": code.0,
        "name": code.name(),
        "length": o.data.len(),
        "hex": hex(o.data),
    });
    if code == v6::wire::OptionCode::RELAY_MSG && depth < v6::wire::MAX_RELAY_DEPTH {
        if let Ok(inner) = v6::wire::Packet::parse(o.data) {
            v["message"] = packet6_json(&inner, depth + 1);
        }
    }
    v
}

fn packet6_json(p: &v6::wire::Packet<'_>, depth: usize) -> Value {
    let options = |o: v6::wire::Options<'_>| -> Vec<Value> {
        o.iter().map(|o| option6_json(o, depth)).collect()
    };
    match p {
        v6::wire::Packet::Message(m) => json!({
            "type": m.message_type().map_or_else(|| m.kind().to_string(), |t| t.name().to_string()),
            "xid": format!("0x{:06x}", m.transaction_id()),
            "text": m.to_string(),
            "options": options(m.options()),
        }),
        v6::wire::Packet::Relay(r) => json!({
            "type": r.message_type().name(),
            "hop_count": r.hop_count(),
            "link_address": r.link_address().to_string(),
            "peer_address": r.peer_address().to_string(),
            "options": options(r.options()),
        }),
    }
}

pub(crate) fn run(file: Option<&Path>, json_out: bool) -> Outcome {
    let packets: Vec<Result<Packet, String>> = match file {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            read_pcap(&bytes)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .into_iter()
                .map(Ok)
                .collect()
        }
        None => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            read_hex(&text)
        }
    };
    let mut all = Vec::new();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = (|| -> std::io::Result<()> {
        for (i, p) in packets.iter().enumerate() {
            let n = i + 1;
            match (p, json_out) {
                (Ok(p), false) => print_text(&mut out, n, p)?,
                (Ok(p), true) => all.push(packet_json(n, p)),
                (Err(e), false) => writeln!(out, "packet {n}: {e}")?,
                (Err(e), true) => all.push(json!({ "packet": n, "error": e })),
            }
        }
        if json_out {
            serde_json::to_writer_pretty(&mut out, &all)?;
            writeln!(out)?;
        }
        out.flush()
    })();
    match written {
        // A reader that went away (`dhcp decode x.pcap | head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(ExitCode::SUCCESS),
    }
}
