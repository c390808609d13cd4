//! A `tcpdump -v` style rendering of a message, for logs and the command line.

use core::fmt;

use super::code::{MessageType, OptionCode};
use super::data::OptionData;
use super::error::OptionError;
use super::header::{Flags, Op};
use super::message::Message;
use super::typed::{
    self, ClasslessRoutes, ClientFqdn, ClientId, ClientIdKind, DomainSearch, Ipv4List,
    ParameterList, RelayAgentInfo, UserClasses, VendorIdentifying,
};
use super::MAGIC_COOKIE;

/// Writes bytes as tcpdump does: printable ASCII as is, a control byte as `^X`, a byte with
/// the high bit set as `M-` and the rest. Nothing a peer sends can forge a new log line.
pub(crate) fn write_visible(
    f: &mut fmt::Formatter<'_>,
    bytes: impl Iterator<Item = u8>,
) -> fmt::Result {
    for b in bytes {
        let mut c = b;
        if c >= 0x80 {
            f.write_str("M-")?;
            c &= 0x7f;
        }
        if c < 0x20 || c == 0x7f {
            fmt::Write::write_char(f, '^')?;
            c ^= 0x40;
        }
        fmt::Write::write_char(f, char::from(c))?;
    }
    Ok(())
}

fn quoted(f: &mut fmt::Formatter<'_>, data: &OptionData<'_>) -> fmt::Result {
    f.write_str("\"")?;
    write_visible(f, data.bytes())?;
    f.write_str("\"")
}

fn mac(f: &mut fmt::Formatter<'_>, bytes: impl Iterator<Item = u8>) -> fmt::Result {
    for (i, b) in bytes.enumerate() {
        if i > 0 {
            f.write_str(":")?;
        }
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

macro_rules! c {
    ($n:literal) => {
        OptionCode($n)
    };
}
/// Writes the value of option `code`, typed when the code is known and the value valid.
enum Fail {
    Fmt,
    Bad(OptionError),
}

impl From<fmt::Error> for Fail {
    fn from(_: fmt::Error) -> Self {
        Fail::Fmt
    }
}

impl From<OptionError> for Fail {
    fn from(e: OptionError) -> Self {
        Fail::Bad(e)
    }
}

/// Checks the whole value before writing any of it, so a malformed one writes nothing.
fn value(f: &mut fmt::Formatter<'_>, code: OptionCode, data: OptionData<'_>) -> Result<(), Fail> {
    match code {
        OptionCode::MESSAGE_TYPE => {
            let [v] = typed::exact::<1>(code, &data)?;
            match MessageType::from_u8(v) {
                Some(t) => write!(f, "{t}"),
                None => write!(f, "Unknown ({v})"),
            }
        }
        OptionCode::SUBNET_MASK
        | OptionCode::BROADCAST
        | OptionCode::REQUESTED_IP
        | OptionCode::SERVER_ID
        | OptionCode::SUBNET_SELECTION => write!(f, "{}", typed::ipv4(code, &data)?),
        c!(3)
        | c!(4)
        | c!(5)
        | c!(6)
        | c!(7)
        | c!(8)
        | c!(9)
        | c!(10)
        | c!(11)
        | c!(41)
        | c!(42)
        | c!(44)
        | c!(45)
        | c!(48)
        | c!(49) => {
            let list = Ipv4List::new(code, data)?;
            for (i, a) in list.iter().enumerate() {
                write!(f, "{}{a}", if i > 0 { ", " } else { "" })?;
            }
            Ok(())
        }
        OptionCode::LEASE_TIME
        | OptionCode::RENEWAL_TIME
        | OptionCode::REBINDING_TIME
        | OptionCode::IPV6_ONLY_PREFERRED => {
            let v = typed::u32_value(code, &data)?;
            if v == u32::MAX {
                f.write_str("infinite")
            } else {
                write!(f, "{v}")
            }
        }
        OptionCode::MTU | OptionCode::MAX_MESSAGE_SIZE | OptionCode::BOOT_SIZE => {
            write!(f, "{}", typed::u16_value(code, &data)?)
        }
        OptionCode::HOST_NAME
        | OptionCode::DOMAIN_NAME
        | OptionCode::ROOT_PATH
        | OptionCode::NIS_DOMAIN
        | OptionCode::MESSAGE
        | OptionCode::VENDOR_CLASS_ID
        | OptionCode::TFTP_SERVER
        | OptionCode::BOOTFILE
        | OptionCode::CAPTIVE_PORTAL
        | OptionCode::WPAD => quoted(f, &data),
        OptionCode::PARAMETER_REQUEST_LIST => {
            let list = ParameterList::new(data)?;
            for (i, p) in list.iter().enumerate() {
                if i > 0 {
                    f.write_str(if i % 4 == 0 { "\n\t      " } else { ", " })?;
                }
                write!(f, "{p}")?;
            }
            Ok(())
        }
        OptionCode::CLIENT_ID => match ClientId::new(data)?.kind() {
            ClientIdKind::Hardware { htype: 1, address } if address.len() == 6 => {
                f.write_str("ether ")?;
                mac(f, address.bytes())
            }
            ClientIdKind::Hardware { htype, address } => {
                write!(f, "hardware-type {htype}, ")?;
                mac(f, address.bytes())
            }
            ClientIdKind::Rfc4361 { iaid, duid } => write!(f, "IAID 0x{iaid:08x}, DUID {duid:x}"),
            ClientIdKind::Opaque(rest) => quoted(f, &rest),
        },
        OptionCode::RAPID_COMMIT => {
            typed::exact::<0>(code, &data)?;
            Ok(())
        }
        OptionCode::CLIENT_FQDN => {
            let fqdn = ClientFqdn::new(data)?;
            write!(f, "[{:?}] \"{}\"", fqdn.flags, fqdn.name)
        }
        OptionCode::RELAY_AGENT_INFO => {
            for s in RelayAgentInfo::new(data)?.sub_options() {
                let name = match s.code {
                    RelayAgentInfo::CIRCUIT_ID => "Circuit-ID",
                    RelayAgentInfo::REMOTE_ID => "Remote-ID",
                    RelayAgentInfo::LINK_SELECTION => "Link-Selection",
                    RelayAgentInfo::SUBSCRIBER_ID => "Subscriber-ID",
                    RelayAgentInfo::SERVER_ID_OVERRIDE => "Server-ID-Override",
                    RelayAgentInfo::RELAY_ID => "Relay-ID",
                    _ => "SubOption",
                };
                write!(
                    f,
                    "\n\t      {name} ({}), length {}: {:x}",
                    s.code,
                    s.data.len(),
                    s.data
                )?;
            }
            Ok(())
        }
        OptionCode::USER_CLASS => {
            for (i, class) in UserClasses::new(data)?.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                quoted(f, &class)?;
            }
            Ok(())
        }
        OptionCode::DOMAIN_SEARCH => {
            for (i, name) in DomainSearch::new(data)?.iter().enumerate() {
                write!(f, "{}{name}", if i > 0 { ", " } else { "" })?;
            }
            Ok(())
        }
        OptionCode::CLASSLESS_ROUTES | OptionCode::MS_CLASSLESS_ROUTES => {
            for (i, r) in ClasslessRoutes::new(code, data)?.iter().enumerate() {
                f.write_str(if i > 0 { ", (" } else { "(" })?;
                if r.prefix_len == 0 {
                    f.write_str("default")?;
                } else {
                    write!(f, "{}/{}", r.destination, r.prefix_len)?;
                }
                write!(f, ":{})", r.router)?;
            }
            Ok(())
        }
        OptionCode::VENDOR_IDENTIFYING_OPTIONS => {
            for block in VendorIdentifying::new(data)?.blocks() {
                write!(
                    f,
                    "\n\t      Enterprise {}, length {}: {:x}",
                    block.enterprise,
                    block.data.len(),
                    block.data
                )?;
            }
            Ok(())
        }
        _ => write!(f, "{data:x}"),
    }?;
    Ok(())
}

/// Renders the message as `tcpdump -v` does: a summary line, the header fields that are
/// set, then one line per option (an option split per RFC 3396 is shown once, whole). An
/// option whose value is malformed is shown in hex with the reason.
impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BOOTP/DHCP, ")?;
        match self.op() {
            Op::BootRequest => {
                f.write_str("Request from ")?;
                mac(f, self.chaddr().iter().copied())?;
            }
            Op::BootReply => f.write_str("Reply")?,
        }
        write!(f, ", length {}", self.as_bytes().len())?;
        if self.hops() > 0 {
            write!(f, ", hops {}", self.hops())?;
        }
        write!(f, ", xid 0x{:x}", self.xid())?;
        if self.secs() > 0 {
            write!(f, ", secs {}", self.secs())?;
        }
        let flags = self.flags();
        if flags.contains(Flags::BROADCAST) {
            f.write_str(", Flags [Broadcast]")?;
        } else {
            f.write_str(", Flags [none]")?;
        }
        let extra = flags.bits() & !Flags::BROADCAST.bits();
        if extra != 0 {
            write!(f, " (0x{extra:04x})")?;
        }
        for (label, addr) in [
            ("Client-IP", self.ciaddr()),
            ("Your-IP", self.yiaddr()),
            ("Server-IP", self.siaddr()),
            ("Gateway-IP", self.giaddr()),
        ] {
            if !addr.is_unspecified() {
                write!(f, "\n\t  {label} {addr}")?;
            }
        }
        f.write_str("\n\t  Client-Ethernet-Address ")?;
        mac(f, self.chaddr().iter().copied())?;
        for (label, text) in [("sname", self.sname()), ("file", self.file())] {
            if let Some(t) = text.filter(|t| !t.is_empty()) {
                write!(f, "\n\t  {label} \"")?;
                write_visible(f, t.iter().copied())?;
                f.write_str("\"")?;
            }
        }
        f.write_str("\n\t  Vendor-rfc1048 Extensions")?;
        write!(
            f,
            "\n\t    Magic Cookie 0x{:08x}",
            u32::from_be_bytes(MAGIC_COOKIE)
        )?;
        let mut shown = [0u64; 4];
        for opt in self.options() {
            let (word, bit) = (usize::from(opt.code.0 / 64), opt.code.0 % 64);
            if shown[word] & (1 << bit) != 0 {
                continue;
            }
            shown[word] |= 1 << bit;
            let Some(data) = self.option(opt.code) else {
                continue;
            };
            write!(
                f,
                "\n\t    {}, length {}: {}",
                opt.code,
                data.len(),
                OptionValue::new(opt.code, data)
            )?;
        }
        Ok(())
    }
}

/// One option's value rendered as `tcpdump -v` shows it: typed when the code is known and
/// the value valid, else hex (with the reason when the value is malformed). Bytes from the
/// wire are escaped, so nothing a peer sends can forge a line.
#[derive(Debug, Clone, Copy)]
pub struct OptionValue<'a> {
    code: OptionCode,
    data: OptionData<'a>,
}

impl<'a> OptionValue<'a> {
    /// The value `data` of option `code` (the concatenation, for an option sent in pieces).
    pub fn new(code: OptionCode, data: OptionData<'a>) -> Self {
        OptionValue { code, data }
    }
}

impl fmt::Display for OptionValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match value(f, self.code, self.data) {
            Ok(()) => Ok(()),
            Err(Fail::Fmt) => Err(fmt::Error),
            Err(Fail::Bad(e)) => write!(f, "{:x} (malformed: {e})", self.data),
        }
    }
}

/// The op's RFC 951 name.
impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::BootRequest => "BOOTREQUEST",
            Op::BootReply => "BOOTREPLY",
        })
    }
}
