//! Reads the DHCP messages out of a pcap file (as tcpdump writes it): Ethernet, Linux
//! cooked or raw IP frames carrying IPv4/UDP to or from ports 67 and 68 (DHCPv4), or
//! IPv6/UDP to or from ports 546 and 547 (DHCPv6).

const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];
const ETHERTYPE_IPV6: [u8; 2] = [0x86, 0xdd];

/// The UDP payloads of the DHCPv4 frames in `file`, with their 1-based frame numbers.
pub fn dhcp_payloads(file: &[u8]) -> Result<Vec<(usize, &[u8])>, String> {
    udp_payloads(file, ETHERTYPE_IPV4, [67, 68])
}

/// The UDP payloads of the DHCPv6 frames in `file`, with their 1-based frame numbers.
pub fn dhcp6_payloads(file: &[u8]) -> Result<Vec<(usize, &[u8])>, String> {
    udp_payloads(file, ETHERTYPE_IPV6, [546, 547])
}

/// The UDP datagram in an IPv4 packet.
fn udp_in_ipv4(ip: &[u8]) -> Option<&[u8]> {
    if ip.first().map(|b| b >> 4) != Some(4) || ip.get(9) != Some(&17) {
        return None;
    }
    ip.get(usize::from(ip[0] & 0x0f) * 4..)
}

/// The UDP datagram in an IPv6 packet, past hop-by-hop, routing and destination options
/// headers.
fn udp_in_ipv6(ip: &[u8]) -> Option<&[u8]> {
    if ip.first().map(|b| b >> 4) != Some(6) {
        return None;
    }
    let payload_len = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
    let ip = ip.get(..(40 + payload_len).min(ip.len()))?;
    let (mut next, mut at) = (*ip.get(6)?, 40);
    while matches!(next, 0 | 43 | 60) {
        next = *ip.get(at)?;
        at += 8 * (usize::from(*ip.get(at + 1)?) + 1);
    }
    if next != 17 {
        return None;
    }
    ip.get(at..)
}

/// The UDP payloads in `file` of the IP packets of `ethertype` to or from one of `ports`.
fn udp_payloads(
    file: &[u8],
    ethertype: [u8; 2],
    ports: [u16; 2],
) -> Result<Vec<(usize, &[u8])>, String> {
    let magic = file
        .get(..4)
        .ok_or("not a pcap file: shorter than its magic number")?;
    let le = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return Err(format!("not a pcap file: magic {magic:02x?}")),
    };
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        let v: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(v)
        } else {
            u32::from_be_bytes(v)
        })
    };
    let linktype = u32_at(file, 20).ok_or("pcap header truncated")?;
    let mut out = Vec::new();
    let mut at = 24;
    let mut frame_no = 0;
    while at < file.len() {
        frame_no += 1;
        let caplen = u32_at(file, at + 8)
            .ok_or(format!("frame {frame_no}: record header truncated"))?
            as usize;
        let frame = file
            .get(at + 16..at + 16 + caplen)
            .ok_or(format!("frame {frame_no}: truncated"))?;
        at += 16 + caplen;
        let ip = match linktype {
            // Ethernet, possibly with one 802.1Q tag.
            1 => match frame.get(12..14) {
                Some(t) if t == ethertype => frame.get(14..),
                Some([0x81, 0x00]) if frame.get(16..18) == Some(&ethertype[..]) => frame.get(18..),
                _ => None,
            },
            // Linux cooked capture (SLL).
            113 if frame.get(14..16) == Some(&ethertype[..]) => frame.get(16..),
            // Raw IP (228: IPv4 only, 229: IPv6 only).
            101 | 228 | 229 => Some(frame),
            113 => None,
            other => return Err(format!("unsupported link type {other}")),
        };
        let udp = match ethertype {
            ETHERTYPE_IPV6 => ip.and_then(udp_in_ipv6),
            _ => ip.and_then(udp_in_ipv4),
        };
        let Some(udp) = udp else { continue };
        let port = |i: usize| udp.get(i..i + 2).map(|p| u16::from_be_bytes([p[0], p[1]]));
        let (Some(src), Some(dst), Some(len)) = (port(0), port(2), port(4)) else {
            continue;
        };
        if ![src, dst].iter().any(|p| ports.contains(p)) {
            continue;
        }
        let end = usize::from(len).min(udp.len());
        if let Some(payload) = udp.get(8..end) {
            out.push((frame_no, payload));
        }
    }
    Ok(out)
}
