//! Reads everything a message offers: every header field, every option, every typed
//! accessor, every nested item and the Display rendering. Shared by the property tests, the
//! allocation test and the fuzz targets, so they all cover the same surface. It allocates
//! nothing itself.

use core::fmt::{self, Write};

use dhcp_core::wire::typed::FqdnName;
use dhcp_core::wire::{Message, OptionCode};

/// A `fmt::Write` that only counts what it is given.
#[derive(Default)]
pub struct Sink(pub usize);

impl Write for Sink {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// Parses `buf` and touches every part of the result; returns a number that depends on all
/// of it (so nothing is optimized away), or `None` if the parse failed.
pub fn exercise(buf: &[u8]) -> Option<usize> {
    let m = Message::parse(buf).ok()?;
    let mut sink = Sink::default();
    let mut n = usize::from(m.op() as u8)
        + usize::from(m.htype())
        + usize::from(m.hlen())
        + usize::from(m.hops())
        + m.xid() as usize
        + usize::from(m.secs())
        + usize::from(m.flags().bits())
        + m.chaddr().len()
        + m.chaddr_field().len()
        + m.sname().map_or(0, <[u8]>::len)
        + m.file().map_or(0, <[u8]>::len)
        + m.overload().map_or(0, |o| o as usize);
    for a in [m.ciaddr(), m.yiaddr(), m.siaddr(), m.giaddr()] {
        n += a.octets()[3] as usize;
    }
    for o in m.options() {
        n += o.data.len();
        if let Some(d) = m.option(o.code) {
            n += d.len() + d.segments().count() + d.bytes().map(usize::from).sum::<usize>();
            let _ = write!(sink, "{d:x}");
        }
    }
    let _ = write!(sink, "{m}");
    let mut errors = Sink::default();
    let mut count = |r: Result<usize, dhcp_core::wire::OptionError>| {
        n += match r {
            Ok(v) => v,
            Err(e) => {
                let _ = write!(errors, "{e}");
                1
            }
        }
    };
    count(
        m.subnet_mask()
            .map(|v| v.map_or(0, |a| a.octets()[0] as usize)),
    );
    for list in [m.routers(), m.dns_servers(), m.ntp_servers()] {
        count(list.map(|l| l.map_or(0, |l| l.iter().count() + l.len())));
    }
    for text in [
        m.host_name(),
        m.domain_name(),
        m.error_message(),
        m.vendor_class_id(),
        m.captive_portal(),
    ] {
        count(text.map(|t| {
            t.map_or(0, |t| {
                let mut buf = [0u8; 64];
                let _ = write!(sink, "{t}");
                usize::from(t.is_printable_ascii())
                    + t.as_str().map_or(0, str::len)
                    + t.to_str(&mut buf).map_or(0, str::len)
            })
        }));
    }
    for v in [m.mtu(), m.max_message_size()] {
        count(v.map(|v| v.map_or(0, usize::from)));
    }
    for v in [
        m.lease_time(),
        m.renewal_time(),
        m.rebinding_time(),
        m.ipv6_only_preferred(),
    ] {
        count(v.map(|v| v.map_or(0, |v| v as usize)));
    }
    for a in [
        m.broadcast_address(),
        m.requested_ip(),
        m.server_id(),
        m.subnet_selection(),
    ] {
        count(a.map(|a| a.map_or(0, |a| a.octets()[1] as usize)));
    }
    count(m.vendor_specific().map(|v| v.map_or(0, |v| v.len())));
    count(m.message_type().map(|t| t.map_or(0, |t| t as usize)));
    count(m.parameter_request_list().map(|l| {
        l.map_or(0, |l| {
            l.iter().map(|c| usize::from(c.0)).sum::<usize>()
                + usize::from(l.contains(OptionCode::ROUTERS))
        })
    }));
    count(m.client_id().map(|c| {
        c.map_or(0, |c| {
            let _ = write!(sink, "{:?}", c.kind());
            c.data().len()
        })
    }));
    count(
        m.user_class()
            .map(|u| u.map_or(0, |u| u.iter().map(|c| c.len()).sum())),
    );
    count(m.rapid_commit().map(usize::from));
    count(m.client_fqdn().map(|f| {
        f.map_or(0, |f| {
            let _ = write!(sink, "{}", f.name);
            usize::from(f.flags.bits())
                + match f.name {
                    FqdnName::Wire(n) => n.labels().count() + usize::from(n.matches("a.b")),
                    FqdnName::Ascii(t) => t.data().len(),
                }
        })
    }));
    count(m.relay_agent_info().map(|r| {
        r.map_or(0, |r| {
            r.sub_options().map(|s| s.data.len()).sum::<usize>()
                + r.circuit_id().map_or(0, |d| d.len())
                + r.remote_id().map_or(0, |d| d.len())
                + r.link_selection()
                    .map_or(1, |a| a.map_or(0, |a| a.octets()[0] as usize))
                + r.server_id_override()
                    .map_or(1, |a| a.map_or(0, |a| a.octets()[0] as usize))
        })
    }));
    count(m.domain_search().map(|s| {
        s.map_or(0, |s| {
            let _ = write!(sink, "{s}");
            s.iter()
                .map(|name| name.labels().map(|l| l.len()).sum::<usize>())
                .sum()
        })
    }));
    count(m.classless_routes().map(|r| {
        r.map_or(0, |r| {
            r.iter()
                .map(|r| usize::from(r.prefix_len) + r.encoded_len())
                .sum()
        })
    }));
    count(m.vendor_identifying().map(|v| {
        v.map_or(0, |v| {
            v.blocks()
                .map(|b| {
                    b.enterprise as usize + b.sub_options().map(|s| s.data.len()).sum::<usize>()
                })
                .sum()
        })
    }));
    Some(n.wrapping_add(sink.0).wrapping_add(errors.0))
}
