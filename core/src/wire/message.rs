//! [`Message`]: the zero-copy view of one DHCP message.

use core::net::Ipv4Addr;

use super::code::{MessageType, OptionCode};
use super::data::OptionData;
use super::error::{Expected, OptionError, ParseError, Reason};
use super::header::{field, Area, Flags, Op, Overload};
use super::options::{validate, Areas, OptionIndex, RawOptions};
use super::typed::{
    self, ClasslessRoutes, ClientFqdn, ClientId, DomainSearch, Ipv4List, ParameterList,
    RelayAgentInfo, Text, UserClasses, VendorIdentifying,
};
use super::{MAGIC_COOKIE, OPTIONS_OFFSET};

/// A DHCP message, read in place from a byte buffer.
///
/// [`Message::parse`] checks the header, the magic cookie and the length of every option
/// (in every area option overload names) once; after that every accessor is infallible or
/// returns a typed [`OptionError`] for an option whose value is malformed, and none can
/// panic. Typed option accessors return `Ok(None)` when the option is absent.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    buf: &'a [u8],
    areas: Areas<'a>,
    overload: Option<Overload>,
    index: OptionIndex,
}

#[inline]
fn ipv4_at(buf: &[u8], range: core::ops::Range<usize>) -> Ipv4Addr {
    let mut a = [0u8; 4];
    if let Some(src) = buf.get(range) {
        a.copy_from_slice(src);
    }
    Ipv4Addr::from(a)
}

/// A NUL-terminated header string: the bytes before the first NUL.
#[inline]
fn c_string(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    field.get(..end).unwrap_or_default()
}

impl<'a> Message<'a> {
    /// Checks `buf` and returns a view of it. Bytes after the end option are ignored.
    #[inline(always)]
    pub fn parse(buf: &'a [u8]) -> Result<Self, ParseError> {
        let Some(header) = buf.first_chunk::<OPTIONS_OFFSET>() else {
            return Err(ParseError::Truncated { len: buf.len() });
        };
        if Op::from_u8(header[field::OP]).is_none() {
            return Err(ParseError::BadOp(header[field::OP]));
        }
        if header[field::HLEN] > 16 {
            return Err(ParseError::BadHlen(header[field::HLEN]));
        }
        let cookie = [header[236], header[237], header[238], header[239]];
        if cookie != MAGIC_COOKIE {
            return Err(ParseError::BadMagicCookie(cookie));
        }
        let options = buf.get(OPTIONS_OFFSET..).unwrap_or_default();
        let mut index = OptionIndex::new();
        let overload = validate(options, Area::Options, OPTIONS_OFFSET, &mut index)?
            .and_then(Overload::from_u8);
        if let Some(o) = overload {
            if o.file() {
                let file = buf.get(field::FILE).unwrap_or_default();
                validate(file, Area::File, field::FILE.start, &mut index)?;
            }
            if o.sname() {
                let sname = buf.get(field::SNAME).unwrap_or_default();
                validate(sname, Area::Sname, field::SNAME.start, &mut index)?;
            }
        }
        Ok(Message {
            buf,
            areas: Areas::new(buf, overload.map_or(0, |o| o as u8)),
            overload,
            index,
        })
    }

    /// The whole message as it was given to [`Message::parse`].
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    #[inline]
    fn byte(&self, i: usize) -> u8 {
        self.buf.get(i).copied().unwrap_or(0)
    }

    #[inline]
    fn u16_at(&self, r: core::ops::Range<usize>) -> u16 {
        let mut b = [0u8; 2];
        if let Some(src) = self.buf.get(r) {
            b.copy_from_slice(src);
        }
        u16::from_be_bytes(b)
    }

    /// `op`: request or reply.
    #[inline]
    pub fn op(&self) -> Op {
        Op::from_u8(self.byte(field::OP)).unwrap_or(Op::BootRequest)
    }

    /// `htype`: ARP hardware type (1 = Ethernet).
    #[inline]
    pub fn htype(&self) -> u8 {
        self.byte(field::HTYPE)
    }

    /// `hlen`: hardware address length, at most 16.
    #[inline]
    pub fn hlen(&self) -> u8 {
        self.byte(field::HLEN)
    }

    /// `hops`: relay agents passed.
    #[inline]
    pub fn hops(&self) -> u8 {
        self.byte(field::HOPS)
    }

    /// `xid`: transaction id.
    #[inline]
    pub fn xid(&self) -> u32 {
        let mut b = [0u8; 4];
        if let Some(src) = self.buf.get(field::XID) {
            b.copy_from_slice(src);
        }
        u32::from_be_bytes(b)
    }

    /// `secs`: seconds since the client began acquiring or renewing.
    #[inline]
    pub fn secs(&self) -> u16 {
        self.u16_at(field::SECS)
    }

    /// `flags`.
    #[inline]
    pub fn flags(&self) -> Flags {
        Flags::from_bits_retain(self.u16_at(field::FLAGS))
    }

    /// `ciaddr`: the client's address, when it has one it can answer ARP for.
    #[inline]
    pub fn ciaddr(&self) -> Ipv4Addr {
        ipv4_at(self.buf, field::CIADDR)
    }

    /// `yiaddr`: the address the server offers or assigns.
    #[inline]
    pub fn yiaddr(&self) -> Ipv4Addr {
        ipv4_at(self.buf, field::YIADDR)
    }

    /// `siaddr`: the next server (boot server) address.
    #[inline]
    pub fn siaddr(&self) -> Ipv4Addr {
        ipv4_at(self.buf, field::SIADDR)
    }

    /// `giaddr`: the relay agent's address, or 0.0.0.0.
    #[inline]
    pub fn giaddr(&self) -> Ipv4Addr {
        ipv4_at(self.buf, field::GIADDR)
    }

    /// The client hardware address: the first `hlen` bytes of `chaddr`.
    #[inline]
    pub fn chaddr(&self) -> &'a [u8] {
        let len = usize::from(self.hlen()).min(16);
        self.buf
            .get(field::CHADDR.start..field::CHADDR.start + len)
            .unwrap_or_default()
    }

    /// The whole 16-byte `chaddr` field.
    #[inline]
    pub fn chaddr_field(&self) -> &'a [u8] {
        self.buf.get(field::CHADDR).unwrap_or_default()
    }

    /// `sname`, up to its first NUL, or `None` when option overload puts options there.
    #[inline]
    pub fn sname(&self) -> Option<&'a [u8]> {
        match self.overload {
            Some(o) if o.sname() => None,
            _ => Some(c_string(self.buf.get(field::SNAME).unwrap_or_default())),
        }
    }

    /// `file`, up to its first NUL, or `None` when option overload puts options there.
    #[inline]
    pub fn file(&self) -> Option<&'a [u8]> {
        match self.overload {
            Some(o) if o.file() => None,
            _ => Some(c_string(self.buf.get(field::FILE).unwrap_or_default())),
        }
    }

    /// Option overload (52): which header fields carry options.
    #[inline]
    pub fn overload(&self) -> Option<Overload> {
        self.overload
    }

    /// Every option instance in wire order, through every area: `options`, then `file`,
    /// then `sname` as overload says; pad skipped, unknown codes included.
    #[inline]
    pub fn options(&self) -> RawOptions<'a> {
        RawOptions::new(self.areas)
    }

    /// The value of option `code`: all its instances concatenated (RFC 3396), or `None`.
    #[inline(always)]
    pub fn option(&self, code: OptionCode) -> Option<OptionData<'a>> {
        match self.index.lookup(code.0) {
            Some(None) => None,
            Some(Some(at)) => {
                let area = self.areas.main();
                let len = usize::from(*area.get(at + 1)?);
                area.get(at + 2..at + 2 + len).map(OptionData::from_slice)
            }
            None => OptionData::find(self.areas, code),
        }
    }

    /// Where the value of option `code` lies in the message's bytes, when the `options`
    /// field holds exactly one instance of it (as it does every option the server writes);
    /// `None` when it holds none or several. Instances in `file` or `sname` are not looked
    /// at. Lets a caller patch an encoded value in place.
    pub fn option_range(&self, code: OptionCode) -> Option<core::ops::Range<usize>> {
        let area = self.areas.main();
        let at = match self.index.lookup(code.0) {
            Some(at) => at?,
            // Not indexed (a code from 128 up, an offset past the index's reach, or a
            // repeated code): the options field is walked, checked whole by `parse`.
            None => {
                let mut found = None;
                let mut pos = 0;
                while let Some(&c) = area.get(pos) {
                    match c {
                        0 => pos += 1,
                        255 => break,
                        _ => {
                            if c == code.0 && found.replace(pos).is_some() {
                                return None;
                            }
                            pos += 2 + usize::from(*area.get(pos + 1)?);
                        }
                    }
                }
                found?
            }
        };
        let len = usize::from(*area.get(at + 1)?);
        let start = OPTIONS_OFFSET + at + 2;
        Some(start..start + len)
    }

    #[inline(always)]
    fn typed<T>(
        &self,
        code: OptionCode,
        make: impl FnOnce(OptionData<'a>) -> Result<T, OptionError>,
    ) -> Result<Option<T>, OptionError> {
        self.option(code).map(make).transpose()
    }

    /// A fixed-size option, read without building an [`OptionData`] when it is a single
    /// instance in the `options` field (nearly always).
    #[inline(always)]
    fn fixed<const N: usize>(&self, code: OptionCode) -> Result<Option<[u8; N]>, OptionError> {
        match self.index.lookup(code.0) {
            Some(None) => Ok(None),
            Some(Some(at)) => {
                let area = self.areas.main();
                let len = usize::from(area.get(at + 1).copied().unwrap_or(0));
                let value = area.get(at + 2..at + 2 + len).unwrap_or_default();
                match <[u8; N]>::try_from(value) {
                    Ok(v) => Ok(Some(v)),
                    Err(_) => Err(OptionError::BadLength {
                        code,
                        len: len as u16,
                        expected: Expected::Exactly(N as u8),
                    }),
                }
            }
            None => self.typed(code, |d| typed::exact::<N>(code, &d)),
        }
    }

    #[inline(always)]
    fn address(&self, code: OptionCode) -> Result<Option<Ipv4Addr>, OptionError> {
        Ok(self.fixed::<4>(code)?.map(Ipv4Addr::from))
    }

    #[inline]
    fn addresses(&self, code: OptionCode) -> Result<Option<Ipv4List<'a>>, OptionError> {
        self.typed(code, |d| Ipv4List::new(code, d))
    }

    #[inline]
    fn seconds(&self, code: OptionCode) -> Result<Option<u32>, OptionError> {
        Ok(self.fixed::<4>(code)?.map(u32::from_be_bytes))
    }

    #[inline]
    fn text(&self, code: OptionCode) -> Result<Option<Text<'a>>, OptionError> {
        self.typed(code, |d| typed::at_least(code, d, 1).map(Text::new))
    }

    /// Subnet mask (1). It must be contiguous ones then zeros.
    #[inline]
    pub fn subnet_mask(&self) -> Result<Option<Ipv4Addr>, OptionError> {
        let code = OptionCode::SUBNET_MASK;
        match self.address(code)? {
            Some(m) if u32::from(m).leading_ones() + u32::from(m).trailing_zeros() != 32 => {
                Err(OptionError::BadValue {
                    code,
                    what: Reason::SUBNET_MASK_IS_NOT_CONTIGUOUS,
                })
            }
            other => Ok(other),
        }
    }

    /// Routers (3), in order of preference.
    #[inline]
    pub fn routers(&self) -> Result<Option<Ipv4List<'a>>, OptionError> {
        self.addresses(OptionCode::ROUTERS)
    }

    /// Domain name servers (6), in order of preference.
    #[inline]
    pub fn dns_servers(&self) -> Result<Option<Ipv4List<'a>>, OptionError> {
        self.addresses(OptionCode::DNS_SERVERS)
    }

    /// Host name (12), at least one byte.
    #[inline]
    pub fn host_name(&self) -> Result<Option<Text<'a>>, OptionError> {
        self.text(OptionCode::HOST_NAME)
    }

    /// Domain name (15), at least one byte.
    #[inline]
    pub fn domain_name(&self) -> Result<Option<Text<'a>>, OptionError> {
        self.text(OptionCode::DOMAIN_NAME)
    }

    /// Interface MTU (26), at least 68 (RFC 2132 section 5.1).
    #[inline]
    pub fn mtu(&self) -> Result<Option<u16>, OptionError> {
        let code = OptionCode::MTU;
        match self.fixed::<2>(code)?.map(u16::from_be_bytes) {
            Some(v) if v < 68 => Err(OptionError::BadValue {
                code,
                what: Reason::MTU_BELOW_68,
            }),
            other => Ok(other),
        }
    }

    /// Broadcast address (28).
    #[inline]
    pub fn broadcast_address(&self) -> Result<Option<Ipv4Addr>, OptionError> {
        self.address(OptionCode::BROADCAST)
    }

    /// NTP servers (42).
    #[inline]
    pub fn ntp_servers(&self) -> Result<Option<Ipv4List<'a>>, OptionError> {
        self.addresses(OptionCode::NTP_SERVERS)
    }

    /// Vendor-specific information (43), opaque or encapsulated per the vendor class.
    #[inline]
    pub fn vendor_specific(&self) -> Result<Option<OptionData<'a>>, OptionError> {
        let code = OptionCode::VENDOR_SPECIFIC;
        self.typed(code, |d| typed::at_least(code, d, 1))
    }

    /// Requested IP address (50).
    #[inline]
    pub fn requested_ip(&self) -> Result<Option<Ipv4Addr>, OptionError> {
        self.address(OptionCode::REQUESTED_IP)
    }

    /// Lease time (51) in seconds; `u32::MAX` is an infinite lease.
    #[inline]
    pub fn lease_time(&self) -> Result<Option<u32>, OptionError> {
        self.seconds(OptionCode::LEASE_TIME)
    }

    /// DHCP message type (53). A message without it is plain BOOTP.
    #[inline(always)]
    pub fn message_type(&self) -> Result<Option<MessageType>, OptionError> {
        let code = OptionCode::MESSAGE_TYPE;
        match self.fixed::<1>(code)? {
            None => Ok(None),
            Some([v]) => MessageType::from_u8(v)
                .map(Some)
                .ok_or(OptionError::BadValue {
                    code,
                    what: Reason::UNKNOWN_MESSAGE_TYPE,
                }),
        }
    }

    /// Server identifier (54).
    #[inline]
    pub fn server_id(&self) -> Result<Option<Ipv4Addr>, OptionError> {
        self.address(OptionCode::SERVER_ID)
    }

    /// Parameter request list (55).
    #[inline]
    pub fn parameter_request_list(&self) -> Result<Option<ParameterList<'a>>, OptionError> {
        self.typed(OptionCode::PARAMETER_REQUEST_LIST, ParameterList::new)
    }

    /// Message (56): the text a server gives with a NAK, or a client with a DECLINE.
    #[inline]
    pub fn error_message(&self) -> Result<Option<Text<'a>>, OptionError> {
        self.text(OptionCode::MESSAGE)
    }

    /// Maximum DHCP message size (57), at least 576 (RFC 2132 section 9.10).
    #[inline]
    pub fn max_message_size(&self) -> Result<Option<u16>, OptionError> {
        let code = OptionCode::MAX_MESSAGE_SIZE;
        match self.fixed::<2>(code)?.map(u16::from_be_bytes) {
            Some(v) if v < 576 => Err(OptionError::BadValue {
                code,
                what: Reason::MAXIMUM_MESSAGE_SIZE_BELOW_576,
            }),
            other => Ok(other),
        }
    }

    /// Renewal time T1 (58) in seconds.
    #[inline]
    pub fn renewal_time(&self) -> Result<Option<u32>, OptionError> {
        self.seconds(OptionCode::RENEWAL_TIME)
    }

    /// Rebinding time T2 (59) in seconds.
    #[inline]
    pub fn rebinding_time(&self) -> Result<Option<u32>, OptionError> {
        self.seconds(OptionCode::REBINDING_TIME)
    }

    /// Vendor class identifier (60).
    #[inline]
    pub fn vendor_class_id(&self) -> Result<Option<Text<'a>>, OptionError> {
        self.text(OptionCode::VENDOR_CLASS_ID)
    }

    /// Client identifier (61).
    #[inline]
    pub fn client_id(&self) -> Result<Option<ClientId<'a>>, OptionError> {
        self.typed(OptionCode::CLIENT_ID, ClientId::new)
    }

    /// User classes (77, RFC 3004).
    #[inline]
    pub fn user_class(&self) -> Result<Option<UserClasses<'a>>, OptionError> {
        self.typed(OptionCode::USER_CLASS, UserClasses::new)
    }

    /// Rapid commit (80, RFC 4039): present, and empty as it must be.
    #[inline]
    pub fn rapid_commit(&self) -> Result<bool, OptionError> {
        let code = OptionCode::RAPID_COMMIT;
        Ok(self.typed(code, |d| typed::exact::<0>(code, &d))?.is_some())
    }

    /// Client FQDN (81, RFC 4702).
    #[inline]
    pub fn client_fqdn(&self) -> Result<Option<ClientFqdn<'a>>, OptionError> {
        self.typed(OptionCode::CLIENT_FQDN, ClientFqdn::new)
    }

    /// Relay agent information (82, RFC 3046).
    #[inline]
    pub fn relay_agent_info(&self) -> Result<Option<RelayAgentInfo<'a>>, OptionError> {
        self.typed(OptionCode::RELAY_AGENT_INFO, RelayAgentInfo::new)
    }

    /// IPv6-only preferred (108, RFC 8925): V6ONLY_WAIT in seconds.
    #[inline]
    pub fn ipv6_only_preferred(&self) -> Result<Option<u32>, OptionError> {
        self.seconds(OptionCode::IPV6_ONLY_PREFERRED)
    }

    /// Captive portal URI (114, RFC 8910).
    #[inline]
    pub fn captive_portal(&self) -> Result<Option<Text<'a>>, OptionError> {
        self.text(OptionCode::CAPTIVE_PORTAL)
    }

    /// Subnet selection (118, RFC 3011): the subnet the client wants an address on.
    #[inline]
    pub fn subnet_selection(&self) -> Result<Option<Ipv4Addr>, OptionError> {
        self.address(OptionCode::SUBNET_SELECTION)
    }

    /// Domain search list (119, RFC 3397).
    #[inline]
    pub fn domain_search(&self) -> Result<Option<DomainSearch<'a>>, OptionError> {
        self.typed(OptionCode::DOMAIN_SEARCH, DomainSearch::new)
    }

    /// Classless static routes (121, RFC 3442).
    #[inline]
    pub fn classless_routes(&self) -> Result<Option<ClasslessRoutes<'a>>, OptionError> {
        let code = OptionCode::CLASSLESS_ROUTES;
        self.typed(code, |d| ClasslessRoutes::new(code, d))
    }

    /// Vendor-identifying vendor options (125, RFC 3925).
    #[inline]
    pub fn vendor_identifying(&self) -> Result<Option<VendorIdentifying<'a>>, OptionError> {
        self.typed(
            OptionCode::VENDOR_IDENTIFYING_OPTIONS,
            VendorIdentifying::new,
        )
    }
}
