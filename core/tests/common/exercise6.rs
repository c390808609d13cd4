//! Reads everything a DHCPv6 datagram offers: the relays around it, every header field,
//! every option, every typed accessor, every nested item and the Display rendering. Shared
//! by the v6 property tests, the hostile-input table and the fuzz targets, so they all
//! cover the same surface. It allocates nothing itself.

use core::fmt::Write;

use dhcp_core::v6::wire::typed::{Ia, NtpServer};
use dhcp_core::v6::wire::{Message, Packet, Relayed};

use super::exercise::Sink;

fn ia(ia: &Ia<'_>) -> usize {
    let mut n = ia.iaid as usize ^ ia.t1 as usize ^ ia.t2 as usize;
    for a in ia.addresses().flatten() {
        n += a.preferred as usize + a.valid as usize + a.address.segments()[7] as usize;
        n += a.status().ok().flatten().map_or(0, |s| s.message.len());
    }
    for p in ia.prefixes().flatten() {
        n += usize::from(p.prefix_len) + p.valid as usize;
        n += p
            .status()
            .ok()
            .flatten()
            .map_or(0, |s| usize::from(s.status.0));
    }
    n + ia.status().ok().flatten().map_or(0, |s| s.message.len())
}

fn message(m: &Message<'_>) -> usize {
    let mut n = usize::from(m.kind()) + m.transaction_id() as usize;
    n += m.options().iter().map(|o| o.data.len()).sum::<usize>();
    n += m
        .client_id()
        .ok()
        .flatten()
        .map_or(0, |d| d.as_bytes().len() + usize::from(d.duid_type()));
    if let Ok(Some(d)) = m.server_id() {
        let mut sink = Sink::default();
        let _ = write!(sink, "{d} {:?}", d.kind());
        n += sink.0;
    }
    n += m.ia_nas().flatten().map(|i| ia(&i)).sum::<usize>();
    n += m.ia_pds().flatten().map(|i| ia(&i)).sum::<usize>();
    n += m
        .ia_tas()
        .flatten()
        .map(|t| t.iaid as usize + t.addresses().count())
        .sum::<usize>();
    n += m
        .option_request()
        .ok()
        .flatten()
        .map_or(0, |l| l.iter().count());
    n += usize::from(m.preference().ok().flatten().unwrap_or(0));
    n += usize::from(m.elapsed_time().ok().flatten().unwrap_or(0));
    n += usize::from(m.rapid_commit().unwrap_or(false))
        + usize::from(m.reconfigure_accept().unwrap_or(false));
    n += m.status_or_success().map_or(0, |s| usize::from(s.0));
    n += m
        .dns_servers()
        .ok()
        .flatten()
        .map_or(0, |l| l.iter().count());
    n += m
        .sntp_servers()
        .ok()
        .flatten()
        .map_or(0, |l| l.iter().count());
    if let Ok(Some(list)) = m.domain_list() {
        for name in list.iter() {
            n += name.labels().map(<[u8]>::len).sum::<usize>();
        }
    }
    if let Ok(Some(ntp)) = m.ntp_servers() {
        for s in ntp.iter() {
            n += match s {
                NtpServer::Address(a) | NtpServer::Multicast(a) => usize::from(a.segments()[0]),
                NtpServer::Name(name) => name.labels().count(),
            };
        }
    }
    n += m.information_refresh_time().ok().flatten().unwrap_or(0) as usize;
    n += m.sol_max_rt().ok().flatten().unwrap_or(0) as usize;
    n += m.inf_max_rt().ok().flatten().unwrap_or(0) as usize;
    if let Ok(Some(q)) = m.client_fqdn() {
        n += usize::from(q.flags) + q.name.map_or(0, |name| name.labels().count());
    }
    n
}

/// Parses `buf` as a datagram (and every relay in it) and touches every part of the
/// result; returns a number that depends on all of it, or `None` if no part parsed.
pub fn exercise6(buf: &[u8]) -> Option<usize> {
    let packet = Packet::parse(buf).ok()?;
    let mut sink = Sink::default();
    let _ = write!(sink, "{packet}");
    let mut n = sink.0;
    if let Ok(relayed) = Relayed::parse(buf) {
        for r in &relayed.relays {
            n += usize::from(r.hop_count()) + usize::from(r.link_address().segments()[0]);
            n += usize::from(r.peer_address().segments()[7]);
            n += r.interface_id().map_or(0, <[u8]>::len) + r.subscriber_id().map_or(0, <[u8]>::len);
            n += r
                .remote_id()
                .ok()
                .flatten()
                .map_or(0, |id| id.id.len() + id.enterprise as usize);
            n += r
                .client_link_layer_address()
                .ok()
                .flatten()
                .map_or(0, |l| l.address.len() + usize::from(l.hardware_type));
        }
        n += message(&relayed.message);
    } else if let Packet::Message(m) = packet {
        n += message(&m);
    }
    Some(n)
}
