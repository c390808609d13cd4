//! Typed DHCPv6 option values, each checked when it is made and borrowing the message's
//! bytes: DUIDs, the identity associations with their addresses and prefixes, status
//! codes, address lists, domain names (RFC 8415 section 10: never compressed), and the
//! relay options.

use core::fmt;
use core::net::Ipv6Addr;

use super::code::{OptionCode, Status};
use super::error::{Expected, OptionError};
use super::options::Options;

fn bad_len(code: OptionCode, len: usize, expected: Expected) -> OptionError {
    OptionError::BadLength {
        code,
        len: u16::try_from(len).unwrap_or(u16::MAX),
        expected,
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    let mut v = [0; 4];
    if let Some(s) = b.get(at..at + 4) {
        v.copy_from_slice(s);
    }
    u32::from_be_bytes(v)
}

fn be16(b: &[u8], at: usize) -> u16 {
    let mut v = [0; 2];
    if let Some(s) = b.get(at..at + 2) {
        v.copy_from_slice(s);
    }
    u16::from_be_bytes(v)
}

fn v6(b: &[u8], at: usize) -> Ipv6Addr {
    let mut v = [0; 16];
    if let Some(s) = b.get(at..at + 16) {
        v.copy_from_slice(s);
    }
    Ipv6Addr::from(v)
}

/// The options nested in `code`'s value from `at` on.
fn nested(code: OptionCode, data: &[u8], at: usize) -> Result<Options<'_>, OptionError> {
    Options::parse(data.get(at..).unwrap_or_default())
        .map_err(|inner| OptionError::Nested { code, inner })
}

/// A fixed-size value of `N` bytes.
pub(crate) fn exact<const N: usize>(code: OptionCode, data: &[u8]) -> Result<[u8; N], OptionError> {
    data.try_into()
        .map_err(|_| bad_len(code, data.len(), Expected::Exactly(N as u16)))
}

/// A DHCP unique identifier (RFC 8415 section 11): a two-byte type and 1 to 128 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Duid<'a> {
    bytes: &'a [u8],
}

/// What a DUID is made of, by its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuidKind<'a> {
    /// DUID-LLT (1): link-layer address plus time.
    LinkLayerTime {
        /// IANA hardware type (1: Ethernet).
        hardware_type: u16,
        /// Seconds since 2000-01-01 UTC, mod 2^32.
        time: u32,
        /// The link-layer address.
        address: &'a [u8],
    },
    /// DUID-EN (2): enterprise number plus an identifier.
    Enterprise {
        /// The vendor's IANA enterprise number.
        enterprise: u32,
        /// The identifier.
        id: &'a [u8],
    },
    /// DUID-LL (3): link-layer address.
    LinkLayer {
        /// IANA hardware type (1: Ethernet).
        hardware_type: u16,
        /// The link-layer address.
        address: &'a [u8],
    },
    /// DUID-UUID (4, RFC 6355).
    Uuid([u8; 16]),
    /// Another type, or a known type too short for its fields.
    Other {
        /// The type.
        duid_type: u16,
        /// What follows it.
        data: &'a [u8],
    },
}

impl<'a> Duid<'a> {
    /// The longest DUID: two bytes of type and 128 of identifier.
    pub const MAX_LEN: usize = 130;

    /// `bytes` as the DUID of option `code`: 3 to 130 bytes.
    pub fn new(code: OptionCode, bytes: &'a [u8]) -> Result<Self, OptionError> {
        match bytes.len() {
            0..=2 => Err(bad_len(code, bytes.len(), Expected::AtLeast(3))),
            3..=Self::MAX_LEN => Ok(Duid { bytes }),
            n => Err(bad_len(code, n, Expected::AtMost(Self::MAX_LEN as u16))),
        }
    }

    /// The DUID as it is on the wire, type included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The type (1 LLT, 2 EN, 3 LL, 4 UUID, ...).
    pub fn duid_type(&self) -> u16 {
        be16(self.bytes, 0)
    }

    /// Its fields, by type.
    pub fn kind(&self) -> DuidKind<'a> {
        let b = self.bytes;
        let rest = b.get(2..).unwrap_or_default();
        match (self.duid_type(), rest.len()) {
            (1, 6..) => DuidKind::LinkLayerTime {
                hardware_type: be16(rest, 0),
                time: be32(rest, 2),
                address: rest.get(6..).unwrap_or_default(),
            },
            (2, 4..) => DuidKind::Enterprise {
                enterprise: be32(rest, 0),
                id: rest.get(4..).unwrap_or_default(),
            },
            (3, 2..) => DuidKind::LinkLayer {
                hardware_type: be16(rest, 0),
                address: rest.get(2..).unwrap_or_default(),
            },
            (4, 16) => {
                let mut u = [0; 16];
                u.copy_from_slice(rest);
                DuidKind::Uuid(u)
            }
            (t, _) => DuidKind::Other {
                duid_type: t,
                data: rest,
            },
        }
    }
}

impl fmt::Display for Duid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex =
            |f: &mut fmt::Formatter<'_>, b: &[u8]| b.iter().try_for_each(|x| write!(f, "{x:02x}"));
        match self.kind() {
            DuidKind::LinkLayerTime {
                hardware_type,
                time,
                address,
            } => {
                write!(f, "hwaddr/time type {hardware_type} time {time} ")?;
                hex(f, address)
            }
            DuidKind::Enterprise { enterprise, id } => {
                write!(f, "enterprise {enterprise} id ")?;
                hex(f, id)
            }
            DuidKind::LinkLayer {
                hardware_type,
                address,
            } => {
                write!(f, "hwaddr type {hardware_type} ")?;
                hex(f, address)
            }
            DuidKind::Uuid(u) => {
                f.write_str("uuid ")?;
                hex(f, &u)
            }
            DuidKind::Other { duid_type, data } => {
                write!(f, "type {duid_type} ")?;
                hex(f, data)
            }
        }
    }
}

/// A status code option (13): the status and a UTF-8 message for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCode<'a> {
    /// The status.
    pub status: Status,
    /// The message (UTF-8 by the RFC; shown escaped when it is not).
    pub message: &'a [u8],
}

impl<'a> StatusCode<'a> {
    /// Reads a status code option's value.
    pub fn parse(data: &'a [u8]) -> Result<Self, OptionError> {
        if data.len() < 2 {
            return Err(bad_len(
                OptionCode::STATUS_CODE,
                data.len(),
                Expected::AtLeast(2),
            ));
        }
        Ok(StatusCode {
            status: Status(be16(data, 0)),
            message: data.get(2..).unwrap_or_default(),
        })
    }
}

/// The status code among `options`, if there is one.
fn status_in<'a>(options: &Options<'a>) -> Result<Option<StatusCode<'a>>, OptionError> {
    options
        .get(OptionCode::STATUS_CODE)
        .map(StatusCode::parse)
        .transpose()
}

/// An identity association for non-temporary addresses (IA_NA, 3) or for prefix
/// delegation (IA_PD, 25): its IAID, T1, T2 and the options inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ia<'a> {
    /// Which IA of the client's this is.
    pub iaid: u32,
    /// Seconds until the client renews (T1).
    pub t1: u32,
    /// Seconds until the client rebinds (T2).
    pub t2: u32,
    /// What it holds: addresses (IA_NA) or prefixes (IA_PD), a status code.
    pub options: Options<'a>,
}

impl<'a> Ia<'a> {
    /// Reads an IA_NA's or IA_PD's value (`code` says which).
    pub fn parse(code: OptionCode, data: &'a [u8]) -> Result<Self, OptionError> {
        if data.len() < 12 {
            return Err(bad_len(code, data.len(), Expected::AtLeast(12)));
        }
        Ok(Ia {
            iaid: be32(data, 0),
            t1: be32(data, 4),
            t2: be32(data, 8),
            options: nested(code, data, 12)?,
        })
    }

    /// The addresses inside (IA_ADDR options), each checked as it is read.
    pub fn addresses(&self) -> impl Iterator<Item = Result<IaAddress<'a>, OptionError>> + 'a {
        self.options.all(OptionCode::IA_ADDR).map(IaAddress::parse)
    }

    /// The prefixes inside (IA_PREFIX options), each checked as it is read.
    pub fn prefixes(&self) -> impl Iterator<Item = Result<IaPrefix<'a>, OptionError>> + 'a {
        self.options.all(OptionCode::IA_PREFIX).map(IaPrefix::parse)
    }

    /// The IA's status code, if it carries one.
    pub fn status(&self) -> Result<Option<StatusCode<'a>>, OptionError> {
        status_in(&self.options)
    }
}

/// An identity association for temporary addresses (IA_TA, 4): its IAID and options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IaTa<'a> {
    /// Which IA of the client's this is.
    pub iaid: u32,
    /// What it holds.
    pub options: Options<'a>,
}

impl<'a> IaTa<'a> {
    /// Reads an IA_TA's value.
    pub fn parse(data: &'a [u8]) -> Result<Self, OptionError> {
        if data.len() < 4 {
            return Err(bad_len(OptionCode::IA_TA, data.len(), Expected::AtLeast(4)));
        }
        Ok(IaTa {
            iaid: be32(data, 0),
            options: nested(OptionCode::IA_TA, data, 4)?,
        })
    }

    /// The addresses inside.
    pub fn addresses(&self) -> impl Iterator<Item = Result<IaAddress<'a>, OptionError>> + 'a {
        self.options.all(OptionCode::IA_ADDR).map(IaAddress::parse)
    }
}

/// An address with its lifetimes (IA_ADDR, 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IaAddress<'a> {
    /// The address.
    pub address: Ipv6Addr,
    /// Preferred lifetime, seconds (`u32::MAX`: infinite).
    pub preferred: u32,
    /// Valid lifetime, seconds (`u32::MAX`: infinite).
    pub valid: u32,
    /// Options inside (a status code).
    pub options: Options<'a>,
}

impl<'a> IaAddress<'a> {
    /// Reads an IA_ADDR's value.
    pub fn parse(data: &'a [u8]) -> Result<Self, OptionError> {
        if data.len() < 24 {
            return Err(bad_len(
                OptionCode::IA_ADDR,
                data.len(),
                Expected::AtLeast(24),
            ));
        }
        Ok(IaAddress {
            address: v6(data, 0),
            preferred: be32(data, 16),
            valid: be32(data, 20),
            options: nested(OptionCode::IA_ADDR, data, 24)?,
        })
    }

    /// The address's status code, if it carries one.
    pub fn status(&self) -> Result<Option<StatusCode<'a>>, OptionError> {
        status_in(&self.options)
    }
}

/// A delegated prefix with its lifetimes (IA_PREFIX, 26).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IaPrefix<'a> {
    /// Preferred lifetime, seconds.
    pub preferred: u32,
    /// Valid lifetime, seconds.
    pub valid: u32,
    /// Prefix length, 0 to 128.
    pub prefix_len: u8,
    /// The prefix.
    pub prefix: Ipv6Addr,
    /// Options inside (a status code).
    pub options: Options<'a>,
}

impl<'a> IaPrefix<'a> {
    /// Reads an IA_PREFIX's value.
    pub fn parse(data: &'a [u8]) -> Result<Self, OptionError> {
        let code = OptionCode::IA_PREFIX;
        if data.len() < 25 {
            return Err(bad_len(code, data.len(), Expected::AtLeast(25)));
        }
        let prefix_len = data.get(8).copied().unwrap_or(0);
        if prefix_len > 128 {
            return Err(OptionError::BadValue {
                code,
                what: "prefix length over 128",
            });
        }
        Ok(IaPrefix {
            preferred: be32(data, 0),
            valid: be32(data, 4),
            prefix_len,
            prefix: v6(data, 9),
            options: nested(code, data, 25)?,
        })
    }

    /// The prefix's status code, if it carries one.
    pub fn status(&self) -> Result<Option<StatusCode<'a>>, OptionError> {
        status_in(&self.options)
    }
}

/// A list of IPv6 addresses (DNS servers 23, SNTP servers 31): a non-zero multiple of 16
/// bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6List<'a> {
    bytes: &'a [u8],
}

impl<'a> Ipv6List<'a> {
    /// Reads option `code`'s value as addresses.
    pub fn parse(code: OptionCode, bytes: &'a [u8]) -> Result<Self, OptionError> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(16) {
            return Err(bad_len(code, bytes.len(), Expected::MultipleOf(16)));
        }
        Ok(Ipv6List { bytes })
    }

    /// The addresses, in order.
    pub fn iter(&self) -> impl Iterator<Item = Ipv6Addr> + 'a {
        self.bytes.chunks_exact(16).map(|c| v6(c, 0))
    }
}

/// A list of option codes (the option request option, 6): an even number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionList<'a> {
    bytes: &'a [u8],
}

impl<'a> OptionList<'a> {
    /// Reads an option request's value.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, OptionError> {
        if !bytes.len().is_multiple_of(2) {
            return Err(bad_len(
                OptionCode::ORO,
                bytes.len(),
                Expected::MultipleOf(2),
            ));
        }
        Ok(OptionList { bytes })
    }

    /// The codes, in the client's order.
    pub fn iter(&self) -> impl Iterator<Item = OptionCode> + 'a {
        self.bytes
            .chunks_exact(2)
            .map(|c| OptionCode(u16::from_be_bytes([c[0], c[1]])))
    }

    /// Whether `code` is listed.
    pub fn contains(&self, code: OptionCode) -> bool {
        self.iter().any(|c| c == code)
    }
}

/// The longest domain name in wire form, root label included.
pub const NAME_MAX_LEN: usize = 255;

/// One domain name in DNS wire form, uncompressed (RFC 8415 section 10), read in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Name<'a> {
    /// The labels' bytes, root label excluded.
    bytes: &'a [u8],
    /// Whether it ended with the root label (fully qualified).
    pub fully_qualified: bool,
}

impl<'a> Name<'a> {
    /// The labels, in order.
    pub fn labels(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let mut rest = self.bytes;
        core::iter::from_fn(move || {
            let (&len, tail) = rest.split_first()?;
            let (label, tail) = tail.split_at_checked(usize::from(len))?;
            rest = tail;
            Some(label)
        })
    }
}

impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            crate::wire::write_visible(f, label.iter().copied())?;
        }
        if self.fully_qualified {
            f.write_str(".")?;
        }
        Ok(())
    }
}

/// Reads the name at the start of `data`: labels 1..=63 bytes, at most 255 bytes, no
/// compression. With `partial`, it may end without the root label at the end of `data`.
/// Returns it and the bytes after it.
fn read_name(
    code: OptionCode,
    data: &[u8],
    partial: bool,
) -> Result<(Name<'_>, &[u8]), OptionError> {
    let bad = |what| OptionError::BadValue { code, what };
    let mut pos = 0;
    loop {
        let Some(&len) = data.get(pos) else {
            return if partial && pos > 0 {
                let bytes = data.get(..pos).unwrap_or_default();
                Ok((
                    Name {
                        bytes,
                        fully_qualified: false,
                    },
                    &[],
                ))
            } else {
                Err(bad("domain name runs past the end of the option"))
            };
        };
        if len == 0 {
            let bytes = data.get(..pos).unwrap_or_default();
            let rest = data.get(pos + 1..).unwrap_or_default();
            return Ok((
                Name {
                    bytes,
                    fully_qualified: true,
                },
                rest,
            ));
        }
        if len > 63 {
            return Err(bad(
                "domain labels must be 1..=63 bytes (no compression in DHCPv6)",
            ));
        }
        pos += 1 + usize::from(len);
        if pos > data.len() {
            return Err(bad("label runs past the end of the option"));
        }
        if pos + 1 > NAME_MAX_LEN {
            return Err(bad("domain name longer than 255 bytes"));
        }
    }
}

/// A list of fully qualified domain names (the domain search list, 24).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainList<'a> {
    bytes: &'a [u8],
}

impl<'a> DomainList<'a> {
    /// Reads option `code`'s value as domain names, checking every one.
    pub fn parse(code: OptionCode, bytes: &'a [u8]) -> Result<Self, OptionError> {
        let mut rest = bytes;
        while !rest.is_empty() {
            rest = read_name(code, rest, false)?.1;
        }
        Ok(DomainList { bytes })
    }

    /// The names, in order.
    pub fn iter(&self) -> impl Iterator<Item = Name<'a>> + 'a {
        let mut rest = self.bytes;
        core::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let (name, tail) = read_name(OptionCode::DOMAIN_LIST, rest, false).ok()?;
            rest = tail;
            Some(name)
        })
    }
}

/// The client FQDN option (39, RFC 4704): flags and a name, full or partial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fqdn<'a> {
    /// Flags: S (1, the server updates AAAA), O (2, the server overrode S), N (4, no
    /// updates).
    pub flags: u8,
    /// The name (empty when the client asks the server to choose).
    pub name: Option<Name<'a>>,
}

impl<'a> Fqdn<'a> {
    /// Flag S: the server should perform the AAAA update.
    pub const S: u8 = 1;
    /// Flag O: the server overrode the client's S.
    pub const O: u8 = 2;
    /// Flag N: the server should perform no updates.
    pub const N: u8 = 4;

    /// Reads a client FQDN option's value.
    pub fn parse(data: &'a [u8]) -> Result<Self, OptionError> {
        let code = OptionCode::CLIENT_FQDN;
        let (&flags, rest) = data
            .split_first()
            .ok_or_else(|| bad_len(code, 0, Expected::AtLeast(1)))?;
        if flags & 0xf8 != 0 {
            return Err(OptionError::BadValue {
                code,
                what: "reserved flag bits set",
            });
        }
        if flags & Self::N != 0 && flags & Self::S != 0 {
            return Err(OptionError::BadValue {
                code,
                what: "flags N and S both set",
            });
        }
        let name = if rest.is_empty() {
            None
        } else {
            let (name, tail) = read_name(code, rest, true)?;
            if !tail.is_empty() {
                return Err(OptionError::BadValue {
                    code,
                    what: "bytes after the name",
                });
            }
            Some(name)
        };
        Ok(Fqdn { flags, name })
    }
}

/// A relay's remote id (37, RFC 4649): the vendor's enterprise number and the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteId<'a> {
    /// The vendor's IANA enterprise number.
    pub enterprise: u32,
    /// The remote id.
    pub id: &'a [u8],
}

impl<'a> RemoteId<'a> {
    /// Reads a remote id option's value.
    pub fn parse(data: &'a [u8]) -> Result<Self, OptionError> {
        if data.len() < 5 {
            return Err(bad_len(
                OptionCode::REMOTE_ID,
                data.len(),
                Expected::AtLeast(5),
            ));
        }
        Ok(RemoteId {
            enterprise: be32(data, 0),
            id: data.get(4..).unwrap_or_default(),
        })
    }
}

/// The client's link-layer address as a relay saw it (79, RFC 6939).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkLayerAddress<'a> {
    /// IANA hardware type (1: Ethernet).
    pub hardware_type: u16,
    /// The address.
    pub address: &'a [u8],
}

impl<'a> LinkLayerAddress<'a> {
    /// Reads a client link-layer address option's value.
    pub fn parse(data: &'a [u8]) -> Result<Self, OptionError> {
        let code = OptionCode::CLIENT_LINKLAYER_ADDR;
        if data.len() < 3 {
            return Err(bad_len(code, data.len(), Expected::AtLeast(3)));
        }
        Ok(LinkLayerAddress {
            hardware_type: be16(data, 0),
            address: data.get(2..).unwrap_or_default(),
        })
    }
}

/// One NTP server sub-option (RFC 5908): an address, a multicast address or a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NtpServer<'a> {
    /// A server's unicast address (sub-option 1).
    Address(Ipv6Addr),
    /// A multicast address (sub-option 2).
    Multicast(Ipv6Addr),
    /// A server's name (sub-option 3).
    Name(Name<'a>),
}

/// The NTP server option (56): its sub-options, each checked when the option is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NtpServers<'a> {
    subs: Options<'a>,
}

impl<'a> NtpServers<'a> {
    /// Reads an NTP server option's value.
    pub fn parse(data: &'a [u8]) -> Result<Self, OptionError> {
        let code = OptionCode::NTP_SERVER;
        let subs = nested(code, data, 0)?;
        if subs.is_empty() {
            return Err(bad_len(code, 0, Expected::AtLeast(4)));
        }
        for s in subs.iter() {
            match s.code.0 {
                1 | 2 => {
                    exact::<16>(code, s.data)?;
                }
                3 => {
                    read_name(code, s.data, false)?;
                }
                _ => {}
            }
        }
        Ok(NtpServers { subs })
    }

    /// The servers, in order (unknown sub-options skipped).
    pub fn iter(&self) -> impl Iterator<Item = NtpServer<'a>> + 'a {
        self.subs.iter().filter_map(|s| match s.code.0 {
            1 => Some(NtpServer::Address(v6(s.data, 0))),
            2 => Some(NtpServer::Multicast(v6(s.data, 0))),
            3 => read_name(OptionCode::NTP_SERVER, s.data, false)
                .ok()
                .map(|(n, _)| NtpServer::Name(n)),
            _ => None,
        })
    }
}
