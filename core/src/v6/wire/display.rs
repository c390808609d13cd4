//! `Display` for DHCPv6 messages, as `tcpdump -v` prints them: the type, the transaction
//! id, then each option in parentheses with its value decoded where its type is known. A
//! relay message shows the message inside it, to [`MAX_RELAY_DEPTH`] levels. Peer bytes
//! are printed with tcpdump's escapes, so nothing a peer sends can forge a log line.

use core::fmt;

use super::code::{MessageType, OptionCode};
use super::message::{Message, Packet, RelayMessage, MAX_RELAY_DEPTH};
use super::options::{Options, RawOption};
use super::typed::{
    DomainList, Duid, Fqdn, Ia, IaAddress, IaPrefix, IaTa, Ipv6List, LinkLayerAddress, NtpServer,
    NtpServers, OptionList, RemoteId, StatusCode,
};
use crate::wire::write_visible;

fn hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

fn options(f: &mut fmt::Formatter<'_>, options: Options<'_>, depth: usize) -> fmt::Result {
    options.iter().try_for_each(|o| {
        f.write_str(" ")?;
        option(f, o, depth)
    })
}

/// One option as `(name value)`; a value that doesn't read as its type is shown as hex.
fn option(f: &mut fmt::Formatter<'_>, o: RawOption<'_>, depth: usize) -> fmt::Result {
    f.write_str("(")?;
    match o.code.name() {
        Some(n) => f.write_str(n)?,
        None => write!(f, "opt_{}", o.code.0)?,
    }
    if value(f, o, depth).is_err() {
        f.write_str(" ")?;
        hex(f, o.data)?;
    }
    f.write_str(")")
}

/// The value of `o`, when it reads as its type; `Err` (and nothing written) otherwise.
fn value(f: &mut fmt::Formatter<'_>, o: RawOption<'_>, depth: usize) -> Result<(), Fail> {
    let d = o.data;
    match o.code {
        OptionCode::CLIENT_ID | OptionCode::SERVER_ID => {
            let duid = Duid::new(o.code, d).map_err(|_| Fail)?;
            write!(f, " {duid}")?;
        }
        OptionCode::IA_NA | OptionCode::IA_PD => {
            let ia = Ia::parse(o.code, d).map_err(|_| Fail)?;
            write!(f, " IAID:{} T1:{} T2:{}", ia.iaid, ia.t1, ia.t2)?;
            options(f, ia.options, depth)?;
        }
        OptionCode::IA_TA => {
            let ia = IaTa::parse(d).map_err(|_| Fail)?;
            write!(f, " IAID:{}", ia.iaid)?;
            options(f, ia.options, depth)?;
        }
        OptionCode::IA_ADDR => {
            let a = IaAddress::parse(d).map_err(|_| Fail)?;
            write!(
                f,
                " {} pltime:{} vltime:{}",
                a.address, a.preferred, a.valid
            )?;
            options(f, a.options, depth)?;
        }
        OptionCode::IA_PREFIX => {
            let p = IaPrefix::parse(d).map_err(|_| Fail)?;
            write!(
                f,
                " {}/{} pltime:{} vltime:{}",
                p.prefix, p.prefix_len, p.preferred, p.valid
            )?;
            options(f, p.options, depth)?;
        }
        OptionCode::ORO => {
            let list = OptionList::parse(d).map_err(|_| Fail)?;
            for c in list.iter() {
                match c.name() {
                    Some(n) => write!(f, " {n}")?,
                    None => write!(f, " opt_{}", c.0)?,
                }
            }
        }
        OptionCode::PREFERENCE => {
            let [p] = <[u8; 1]>::try_from(d).map_err(|_| Fail)?;
            write!(f, " {p}")?;
        }
        OptionCode::ELAPSED_TIME => {
            let t = <[u8; 2]>::try_from(d).map_err(|_| Fail)?;
            write!(f, " {}", u16::from_be_bytes(t))?;
        }
        OptionCode::RAPID_COMMIT | OptionCode::RECONF_ACCEPT if d.is_empty() => {}
        OptionCode::STATUS_CODE => {
            let s = StatusCode::parse(d).map_err(|_| Fail)?;
            write!(f, " {}", s.status)?;
            if !s.message.is_empty() {
                f.write_str(" ")?;
                write_visible(f, s.message.iter().copied())?;
            }
        }
        OptionCode::DNS_SERVERS | OptionCode::SNTP_SERVERS => {
            let list = Ipv6List::parse(o.code, d).map_err(|_| Fail)?;
            list.iter().try_for_each(|a| write!(f, " {a}"))?;
        }
        OptionCode::DOMAIN_LIST => {
            let list = DomainList::parse(o.code, d).map_err(|_| Fail)?;
            list.iter().try_for_each(|n| write!(f, " {n}"))?;
        }
        OptionCode::NTP_SERVER => {
            let list = NtpServers::parse(d).map_err(|_| Fail)?;
            list.iter().try_for_each(|s| match s {
                NtpServer::Address(a) => write!(f, " {a}"),
                NtpServer::Multicast(a) => write!(f, " multicast {a}"),
                NtpServer::Name(n) => write!(f, " {n}"),
            })?;
        }
        OptionCode::INFORMATION_REFRESH_TIME | OptionCode::SOL_MAX_RT | OptionCode::INF_MAX_RT => {
            let t = <[u8; 4]>::try_from(d).map_err(|_| Fail)?;
            write!(f, " {}", u32::from_be_bytes(t))?;
        }
        OptionCode::CLIENT_FQDN => {
            let q = Fqdn::parse(d).map_err(|_| Fail)?;
            for (bit, flag) in [(Fqdn::S, " S"), (Fqdn::O, " O"), (Fqdn::N, " N")] {
                if q.flags & bit != 0 {
                    f.write_str(flag)?;
                }
            }
            if let Some(n) = q.name {
                write!(f, " {n}")?;
            }
        }
        OptionCode::REMOTE_ID => {
            let r = RemoteId::parse(d).map_err(|_| Fail)?;
            write!(f, " enterprise {} ", r.enterprise)?;
            hex(f, r.id)?;
        }
        OptionCode::CLIENT_LINKLAYER_ADDR => {
            let l = LinkLayerAddress::parse(d).map_err(|_| Fail)?;
            write!(f, " type {} ", l.hardware_type)?;
            hex(f, l.address)?;
        }
        OptionCode::RELAY_MSG => {
            if depth >= MAX_RELAY_DEPTH {
                return Err(Fail);
            }
            let inner = Packet::parse(d).map_err(|_| Fail)?;
            f.write_str(" (")?;
            packet(f, &inner, depth + 1)?;
            f.write_str(")")?;
        }
        _ if d.is_empty() => {}
        _ => {
            f.write_str(" ")?;
            hex(f, d)?;
        }
    }
    Ok(())
}

/// A value that doesn't read as its type (shown as hex instead), or a formatter's error.
struct Fail;

impl From<fmt::Error> for Fail {
    fn from(_: fmt::Error) -> Self {
        Fail
    }
}

fn message(f: &mut fmt::Formatter<'_>, m: &Message<'_>, depth: usize) -> fmt::Result {
    match m.message_type() {
        Some(t) => write!(f, "dhcp6 {}", t.name())?,
        None => write!(f, "dhcp6 msgtype {}", m.kind())?,
    }
    write!(f, " (xid={:x}", m.transaction_id())?;
    options(f, m.options(), depth)?;
    f.write_str(")")
}

fn relay(f: &mut fmt::Formatter<'_>, r: &RelayMessage<'_>, depth: usize) -> fmt::Result {
    let name = MessageType::name(r.message_type());
    write!(
        f,
        "dhcp6 {name} (hop-count {} linkaddr={} peeraddr={}",
        r.hop_count(),
        r.link_address(),
        r.peer_address()
    )?;
    options(f, r.options(), depth)?;
    f.write_str(")")
}

fn packet(f: &mut fmt::Formatter<'_>, p: &Packet<'_>, depth: usize) -> fmt::Result {
    match p {
        Packet::Message(m) => message(f, m, depth),
        Packet::Relay(r) => relay(f, r, depth),
    }
}

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        message(f, self, 0)
    }
}

impl fmt::Display for RelayMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        relay(f, self, 0)
    }
}

impl fmt::Display for Packet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        packet(f, self, 0)
    }
}
