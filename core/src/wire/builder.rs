//! [`MessageBuilder`]: writes a DHCP message into a caller's buffer.

use core::net::Ipv4Addr;

use super::code::{MessageType, OptionCode};
use super::data::OptionData;
use super::error::{saturate, EmitError, HeaderField, Reason};
use super::header::{field, Area, Flags, Op};
use super::typed::route::{mask, significant_octets};
use super::typed::{FqdnFlags, Route, NAME_MAX_LEN};
use super::{BOOTP_MIN_LEN, MAGIC_COOKIE, OPTIONS_OFFSET};

/// Longest value one option instance holds; longer values are split (RFC 3396).
const INSTANCE_MAX: usize = 255;

/// Writes one DHCP message into a caller's buffer, without allocating.
///
/// Header setters cannot fail; option writers return [`EmitError`] when the message would
/// not fit. Options are written in the order they are given. A value longer than 255 bytes
/// is split into consecutive instances of its code (RFC 3396). With
/// [`allow_overload`](Self::allow_overload), options that do not fit in the `options` field
/// continue in `file`, then `sname` (option 52 is added). [`finish`](Self::finish) writes
/// the end option, pads to [`BOOTP_MIN_LEN`] (see [`pad_to`](Self::pad_to)) and returns the
/// length. An option that does not fit is an error and leaves the message as it was.
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    buf: &'b mut [u8],
    limit: usize,
    pad_to: usize,
    overload_allowed: bool,
    file_free: bool,
    sname_free: bool,
    area: Area,
    pos: usize,
    /// End of the space options may use in the current area (kept equal to `area_end()`).
    end: usize,
    /// Message length once the `options` area is closed (its end option included).
    main_len: Option<usize>,
    /// Offset of option 52's value byte, once written.
    overload_at: Option<usize>,
    overload_bits: u8,
}

impl<'b> MessageBuilder<'b> {
    /// Starts a message in `buf`: header zeroed, `op` BOOTREQUEST, `htype` Ethernet, the
    /// magic cookie written.
    /// The message may use all of `buf`; see [`max_len`](Self::max_len).
    #[inline]
    pub fn new(buf: &'b mut [u8]) -> Result<Self, EmitError> {
        let available = buf.len();
        let header = buf
            .get_mut(..OPTIONS_OFFSET + 1)
            .ok_or(EmitError::BufferTooSmall {
                available: saturate(available, u32::MAX),
            })?;
        header.fill(0);
        header[field::OP] = Op::BootRequest as u8;
        header[field::HTYPE] = 1;
        header[field::COOKIE].copy_from_slice(&MAGIC_COOKIE);
        let mut b = MessageBuilder {
            limit: available,
            buf,
            pad_to: BOOTP_MIN_LEN,
            overload_allowed: false,
            file_free: true,
            sname_free: true,
            area: Area::Options,
            pos: OPTIONS_OFFSET,
            main_len: None,
            overload_at: None,
            overload_bits: 0,
            end: 0,
        };
        b.end = b.area_end();
        Ok(b)
    }

    // ---- header -------------------------------------------------------------------------

    #[inline]
    fn put_header(&mut self, range: core::ops::Range<usize>, bytes: &[u8]) {
        if let Some(dst) = self.buf.get_mut(range) {
            dst.copy_from_slice(bytes);
        }
    }

    /// Sets `op`.
    #[inline]
    pub fn op(&mut self, op: Op) -> &mut Self {
        self.buf[field::OP] = op as u8;
        self
    }

    /// Sets `htype` (1, Ethernet, by default).
    #[inline]
    pub fn htype(&mut self, htype: u8) -> &mut Self {
        self.buf[field::HTYPE] = htype;
        self
    }

    /// Sets `hops`.
    #[inline]
    pub fn hops(&mut self, hops: u8) -> &mut Self {
        self.buf[field::HOPS] = hops;
        self
    }

    /// Sets `xid`.
    #[inline]
    pub fn xid(&mut self, xid: u32) -> &mut Self {
        self.put_header(field::XID, &xid.to_be_bytes());
        self
    }

    /// Sets `secs`.
    #[inline]
    pub fn secs(&mut self, secs: u16) -> &mut Self {
        self.put_header(field::SECS, &secs.to_be_bytes());
        self
    }

    /// Sets `flags`.
    #[inline]
    pub fn flags(&mut self, flags: Flags) -> &mut Self {
        self.put_header(field::FLAGS, &flags.bits().to_be_bytes());
        self
    }

    /// Sets `ciaddr`.
    #[inline]
    pub fn ciaddr(&mut self, a: Ipv4Addr) -> &mut Self {
        self.put_header(field::CIADDR, &a.octets());
        self
    }

    /// Sets `yiaddr`.
    #[inline]
    pub fn yiaddr(&mut self, a: Ipv4Addr) -> &mut Self {
        self.put_header(field::YIADDR, &a.octets());
        self
    }

    /// Sets `siaddr`.
    #[inline]
    pub fn siaddr(&mut self, a: Ipv4Addr) -> &mut Self {
        self.put_header(field::SIADDR, &a.octets());
        self
    }

    /// Sets `giaddr`.
    #[inline]
    pub fn giaddr(&mut self, a: Ipv4Addr) -> &mut Self {
        self.put_header(field::GIADDR, &a.octets());
        self
    }

    /// Sets `chaddr` and `hlen` from a hardware address of at most 16 bytes.
    #[inline]
    pub fn chaddr(&mut self, addr: &[u8]) -> Result<&mut Self, EmitError> {
        let max = field::CHADDR.len();
        if addr.len() > max {
            return Err(EmitError::FieldTooLong {
                field: HeaderField::Chaddr,
                len: saturate(addr.len(), u16::MAX),
                max: max as u16,
            });
        }
        let start = field::CHADDR.start;
        self.buf[field::CHADDR].fill(0);
        self.put_header(start..start + addr.len(), addr);
        self.buf[field::HLEN] = addr.len() as u8;
        Ok(self)
    }

    #[inline]
    fn header_text(
        &mut self,
        range: core::ops::Range<usize>,
        name: HeaderField,
        text: &[u8],
    ) -> Result<&mut Self, EmitError> {
        // One byte stays for the terminating NUL.
        let max = range.len() - 1;
        if text.len() > max || text.contains(&0) {
            return Err(EmitError::FieldTooLong {
                field: name,
                len: saturate(text.len(), u16::MAX),
                max: max as u16,
            });
        }
        let start = range.start;
        self.buf[range].fill(0);
        self.put_header(start..start + text.len(), text);
        Ok(self)
    }

    /// Sets `sname` (at most 63 bytes, no NUL). Fails if overloaded options are already there.
    #[inline]
    pub fn sname(&mut self, name: &[u8]) -> Result<&mut Self, EmitError> {
        if self.overload_bits & 2 != 0 {
            return Err(EmitError::FieldTooLong {
                field: HeaderField::SnameHoldsOptions,
                len: saturate(name.len(), u16::MAX),
                max: 0,
            });
        }
        self.sname_free = false;
        self.end = self.area_end();
        self.header_text(field::SNAME, HeaderField::Sname, name)
    }

    /// Sets `file` (at most 127 bytes, no NUL). Fails if overloaded options are already there.
    #[inline]
    pub fn file(&mut self, name: &[u8]) -> Result<&mut Self, EmitError> {
        if self.overload_bits & 1 != 0 {
            return Err(EmitError::FieldTooLong {
                field: HeaderField::FileHoldsOptions,
                len: saturate(name.len(), u16::MAX),
                max: 0,
            });
        }
        self.file_free = false;
        self.end = self.area_end();
        self.header_text(field::FILE, HeaderField::File, name)
    }

    // ---- layout -------------------------------------------------------------------------

    /// Caps the message at `len` bytes (a peer's maximum message size less IP and UDP
    /// headers; [`DEFAULT_MAX_LEN`](super::DEFAULT_MAX_LEN) when the peer said nothing).
    /// Set it before writing options.
    #[inline]
    pub fn max_len(&mut self, len: usize) -> Result<&mut Self, EmitError> {
        if len < self.pos + 1 + 3 {
            return Err(EmitError::BufferTooSmall {
                available: saturate(len, u32::MAX),
            });
        }
        self.limit = len.min(self.buf.len());
        self.end = self.area_end();
        Ok(self)
    }

    /// Pads the finished message with zeros to at least `len` bytes (default 300, the BOOTP
    /// minimum; 0 turns padding off). Padding never goes past the maximum length.
    #[inline]
    pub fn pad_to(&mut self, len: usize) -> &mut Self {
        self.pad_to = len;
        self
    }

    /// Lets options that do not fit in the `options` field continue in `file`, then `sname`
    /// (those not set as header text), with option overload (52). Set it before writing
    /// options.
    #[inline]
    pub fn allow_overload(&mut self, allow: bool) -> &mut Self {
        self.overload_allowed = allow;
        self.end = self.area_end();
        self
    }

    /// Whether the current area must keep three bytes for option 52.
    #[inline]
    fn reserve_overload(&self) -> bool {
        self.area == Area::Options && self.overload_allowed && (self.file_free || self.sname_free)
    }

    /// End of the space options may use in the current area (its end option excluded).
    #[inline]
    fn area_end(&self) -> usize {
        match self.area {
            Area::Options => {
                let reserved = 1 + if self.reserve_overload() { 3 } else { 0 };
                self.limit.saturating_sub(reserved)
            }
            Area::File => field::FILE.end - 1,
            Area::Sname => field::SNAME.end - 1,
        }
    }

    #[inline]
    fn room(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    #[inline]
    fn next_free_area(&self) -> Option<Area> {
        match self.area {
            Area::Options if self.file_free => Some(Area::File),
            Area::Options | Area::File if self.sname_free => Some(Area::Sname),
            _ => None,
        }
    }

    /// Closes the current area and moves to the next one that can take options.
    #[inline]
    fn advance(&mut self) -> Result<(), EmitError> {
        let too_small = EmitError::BufferTooSmall {
            available: saturate(self.limit, u32::MAX),
        };
        if !self.overload_allowed {
            return Err(too_small);
        }
        let next = self.next_free_area().ok_or(too_small)?;
        if self.area == Area::Options {
            let at = self.pos;
            self.buf[at..at + 4].copy_from_slice(&[OptionCode::OVERLOAD.0, 1, 0, 255]);
            self.overload_at = Some(at + 2);
            self.main_len = Some(at + 4);
        } else {
            self.buf[self.pos] = 255;
        }
        let (start, bit) = match next {
            Area::File => (field::FILE.start, 1),
            _ => (field::SNAME.start, 2),
        };
        self.buf[start..start + if bit == 1 { 128 } else { 64 }].fill(0);
        self.overload_bits |= bit;
        self.area = next;
        self.pos = start;
        self.end = self.area_end();
        Ok(())
    }

    // ---- options ------------------------------------------------------------------------

    /// Whether an area after the current one could take `need` bytes whole.
    fn fits_later(&self, need: usize) -> bool {
        if !self.overload_allowed {
            return false;
        }
        let file = self.area == Area::Options && self.file_free && need < field::FILE.len();
        let sname = self.area != Area::Sname && self.sname_free && need < field::SNAME.len();
        file || sname
    }

    /// Writes option `code` whose value is `len` bytes, produced by `fill` through a
    /// [`ValueWriter`]. A value that fits in one instance goes whole into the first area
    /// with room for it, or, if no area has, is split across the areas (RFC 3396); longer
    /// values are split at 255 bytes and at area ends. If the option does not fit, the
    /// message is left as it was before the call (so a caller may skip an option).
    #[inline]
    pub fn option_with(
        &mut self,
        code: OptionCode,
        len: usize,
        fill: impl FnOnce(&mut ValueWriter<'_, 'b>) -> Result<(), EmitError>,
    ) -> Result<&mut Self, EmitError> {
        if code == OptionCode::PAD || code == OptionCode::END {
            return Err(EmitError::ReservedCode(code.0));
        }
        let saved = self.snapshot();
        match self.write_option(code, len, fill) {
            Ok(()) => Ok(self),
            Err(e) => {
                let entered = self.overload_bits & !saved.overload_bits;
                self.restore(saved);
                if entered & 1 != 0 {
                    self.buf[field::FILE].fill(0);
                }
                if entered & 2 != 0 {
                    self.buf[field::SNAME].fill(0);
                }
                Err(e)
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            area: self.area,
            pos: self.pos,
            end: self.end,
            main_len: self.main_len,
            overload_at: self.overload_at,
            overload_bits: self.overload_bits,
        }
    }

    fn restore(&mut self, s: Snapshot) {
        self.area = s.area;
        self.pos = s.pos;
        self.end = s.end;
        self.main_len = s.main_len;
        self.overload_at = s.overload_at;
        self.overload_bits = s.overload_bits;
    }

    fn write_option(
        &mut self,
        code: OptionCode,
        len: usize,
        fill: impl FnOnce(&mut ValueWriter<'_, 'b>) -> Result<(), EmitError>,
    ) -> Result<(), EmitError> {
        if len <= INSTANCE_MAX && self.room() < 2 + len && self.fits_later(2 + len) {
            while self.room() < 2 + len {
                self.advance()?;
            }
        }
        let mut w = ValueWriter {
            b: self,
            code: code.0,
            len_at: 0,
            in_instance: 0,
        };
        w.open(2 + usize::from(len > 0))?;
        fill(&mut w)?;
        w.close();
        Ok(())
    }

    /// Where the next option goes while options are still written in the `options` field
    /// (`None` once they continue in `file` or `sname`): with
    /// [`written_since`](Self::written_since), what a run of options came to.
    #[inline]
    pub fn options_mark(&self) -> Option<usize> {
        (self.area == Area::Options).then_some(self.pos)
    }

    /// The bytes written since `mark` (from [`options_mark`](Self::options_mark)), when all
    /// of them went to the `options` field in one piece.
    #[inline]
    pub fn written_since(&self, mark: usize) -> Option<&[u8]> {
        if self.area != Area::Options {
            return None;
        }
        self.buf.get(mark..self.pos)
    }

    /// Appends whole options already encoded (code, length, value, as
    /// [`written_since`](Self::written_since) returns them) to the `options` field. False,
    /// and nothing written, when they do not all fit there.
    #[inline]
    pub fn encoded_options(&mut self, encoded: &[u8]) -> bool {
        self.encoded_options_with(encoded, &[])
    }

    /// As [`encoded_options`](Self::encoded_options), with the four bytes at each offset of
    /// `encoded` in `values` (a lease time, say) replaced as they are copied.
    #[inline]
    pub fn encoded_options_with(&mut self, encoded: &[u8], values: &[(usize, [u8; 4])]) -> bool {
        let at = self.pos;
        if self.area != Area::Options || at + encoded.len() > self.end {
            return false;
        }
        let Some(dst) = self.buf.get_mut(at..at + encoded.len()) else {
            return false;
        };
        dst.copy_from_slice(encoded);
        for (i, v) in values {
            if let Some(d) = dst.get_mut(*i..*i + 4) {
                d.copy_from_slice(v);
            }
        }
        self.pos = at + encoded.len();
        true
    }

    /// Writes option `code` with `value` as it is.
    #[inline(always)]
    pub fn option(&mut self, code: OptionCode, value: &[u8]) -> Result<&mut Self, EmitError> {
        let (at, len) = (self.pos, value.len());
        if len <= INSTANCE_MAX
            && at + 2 + len <= self.end
            && code != OptionCode::PAD
            && code != OptionCode::END
        {
            if let Some(dst) = self.buf.get_mut(at..at + 2 + len) {
                dst[0] = code.0;
                dst[1] = len as u8;
                // Fixed sizes copy inline; only other lengths call memcpy.
                match (&mut dst[2..], value) {
                    (d @ [_], v) => d.copy_from_slice(v),
                    (d @ [_, _, _, _], v) => d.copy_from_slice(v),
                    (d, v) => d.copy_from_slice(v),
                }
                self.pos = at + 2 + len;
                return Ok(self);
            }
        }
        self.option_split(code, value)
    }

    /// [`option`](Self::option) when the value does not go in one piece here: split, or
    /// continued in `file`/`sname`, or refused.
    #[cold]
    #[inline(never)]
    fn option_split(&mut self, code: OptionCode, value: &[u8]) -> Result<&mut Self, EmitError> {
        self.option_with(code, value.len(), |w| w.put(value))
    }

    /// Writes option `code` with a value read from another message (possibly split).
    #[inline]
    pub fn option_data(
        &mut self,
        code: OptionCode,
        value: &OptionData<'_>,
    ) -> Result<&mut Self, EmitError> {
        self.option_with(code, value.len(), |w| {
            value.segments().try_for_each(|s| w.put(s))
        })
    }

    #[inline]
    fn address(&mut self, code: OptionCode, a: Ipv4Addr) -> Result<&mut Self, EmitError> {
        self.option(code, &a.octets())
    }

    #[inline]
    fn addresses(&mut self, code: OptionCode, list: &[Ipv4Addr]) -> Result<&mut Self, EmitError> {
        if list.is_empty() {
            return Err(EmitError::BadValue {
                code,
                what: Reason::EMPTY_ADDRESS_LIST,
            });
        }
        self.option_with(code, list.len() * 4, |w| {
            list.iter().try_for_each(|a| w.put(&a.octets()))
        })
    }

    #[inline]
    fn text(&mut self, code: OptionCode, text: &[u8]) -> Result<&mut Self, EmitError> {
        if text.is_empty() {
            return Err(EmitError::BadValue {
                code,
                what: Reason::EMPTY_TEXT,
            });
        }
        self.option(code, text)
    }

    /// DHCP message type (53).
    #[inline]
    pub fn message_type(&mut self, t: MessageType) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::MESSAGE_TYPE, &[t as u8])
    }

    /// Subnet mask (1); must be contiguous.
    #[inline]
    pub fn subnet_mask(&mut self, m: Ipv4Addr) -> Result<&mut Self, EmitError> {
        let bits = u32::from(m);
        if bits.leading_ones() + bits.trailing_zeros() != 32 {
            return Err(EmitError::BadValue {
                code: OptionCode::SUBNET_MASK,
                what: Reason::SUBNET_MASK_IS_NOT_CONTIGUOUS,
            });
        }
        self.address(OptionCode::SUBNET_MASK, m)
    }

    /// Routers (3).
    #[inline]
    pub fn routers(&mut self, list: &[Ipv4Addr]) -> Result<&mut Self, EmitError> {
        self.addresses(OptionCode::ROUTERS, list)
    }

    /// Domain name servers (6).
    #[inline]
    pub fn dns_servers(&mut self, list: &[Ipv4Addr]) -> Result<&mut Self, EmitError> {
        self.addresses(OptionCode::DNS_SERVERS, list)
    }

    /// Host name (12).
    #[inline]
    pub fn host_name(&mut self, name: &[u8]) -> Result<&mut Self, EmitError> {
        self.text(OptionCode::HOST_NAME, name)
    }

    /// Domain name (15).
    #[inline]
    pub fn domain_name(&mut self, name: &[u8]) -> Result<&mut Self, EmitError> {
        self.text(OptionCode::DOMAIN_NAME, name)
    }

    /// Interface MTU (26), at least 68.
    #[inline]
    pub fn mtu(&mut self, mtu: u16) -> Result<&mut Self, EmitError> {
        if mtu < 68 {
            return Err(EmitError::BadValue {
                code: OptionCode::MTU,
                what: Reason::MTU_BELOW_68,
            });
        }
        self.option(OptionCode::MTU, &mtu.to_be_bytes())
    }

    /// Broadcast address (28).
    #[inline]
    pub fn broadcast_address(&mut self, a: Ipv4Addr) -> Result<&mut Self, EmitError> {
        self.address(OptionCode::BROADCAST, a)
    }

    /// NTP servers (42).
    #[inline]
    pub fn ntp_servers(&mut self, list: &[Ipv4Addr]) -> Result<&mut Self, EmitError> {
        self.addresses(OptionCode::NTP_SERVERS, list)
    }

    /// Requested IP address (50).
    #[inline]
    pub fn requested_ip(&mut self, a: Ipv4Addr) -> Result<&mut Self, EmitError> {
        self.address(OptionCode::REQUESTED_IP, a)
    }

    /// Lease time (51) in seconds; `u32::MAX` is infinite.
    #[inline]
    pub fn lease_time(&mut self, secs: u32) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::LEASE_TIME, &secs.to_be_bytes())
    }

    /// Server identifier (54).
    #[inline]
    pub fn server_id(&mut self, a: Ipv4Addr) -> Result<&mut Self, EmitError> {
        self.address(OptionCode::SERVER_ID, a)
    }

    /// Parameter request list (55).
    #[inline]
    pub fn parameter_request_list(&mut self, codes: &[u8]) -> Result<&mut Self, EmitError> {
        self.text(OptionCode::PARAMETER_REQUEST_LIST, codes)
    }

    /// Message (56).
    #[inline]
    pub fn error_message(&mut self, text: &[u8]) -> Result<&mut Self, EmitError> {
        self.text(OptionCode::MESSAGE, text)
    }

    /// Maximum DHCP message size (57), at least 576.
    #[inline]
    pub fn max_message_size(&mut self, size: u16) -> Result<&mut Self, EmitError> {
        if size < 576 {
            return Err(EmitError::BadValue {
                code: OptionCode::MAX_MESSAGE_SIZE,
                what: Reason::MAXIMUM_MESSAGE_SIZE_BELOW_576,
            });
        }
        self.option(OptionCode::MAX_MESSAGE_SIZE, &size.to_be_bytes())
    }

    /// Renewal time T1 (58) in seconds.
    #[inline]
    pub fn renewal_time(&mut self, secs: u32) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::RENEWAL_TIME, &secs.to_be_bytes())
    }

    /// Rebinding time T2 (59) in seconds.
    #[inline]
    pub fn rebinding_time(&mut self, secs: u32) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::REBINDING_TIME, &secs.to_be_bytes())
    }

    /// Vendor class identifier (60).
    #[inline]
    pub fn vendor_class_id(&mut self, id: &[u8]) -> Result<&mut Self, EmitError> {
        self.text(OptionCode::VENDOR_CLASS_ID, id)
    }

    /// Client identifier (61), type byte included; at least 2 bytes.
    #[inline]
    pub fn client_id(&mut self, id: &[u8]) -> Result<&mut Self, EmitError> {
        if id.len() < 2 {
            return Err(EmitError::BadValue {
                code: OptionCode::CLIENT_ID,
                what: Reason::CLIENT_ID_SHORTER_THAN_2_BYTES,
            });
        }
        self.option(OptionCode::CLIENT_ID, id)
    }

    /// Client identifier (61) in the RFC 4361 form: type 255, IAID, DUID.
    #[inline]
    pub fn client_id_rfc4361(&mut self, iaid: u32, duid: &[u8]) -> Result<&mut Self, EmitError> {
        if duid.len() < 2 {
            return Err(EmitError::BadValue {
                code: OptionCode::CLIENT_ID,
                what: Reason::DUID_SHORTER_THAN_ITS_2_BYTE_TYPE,
            });
        }
        self.option_with(OptionCode::CLIENT_ID, 5 + duid.len(), |w| {
            w.put(&[255])?;
            w.put(&iaid.to_be_bytes())?;
            w.put(duid)
        })
    }

    /// User classes (77, RFC 3004); each class 1..=255 bytes.
    #[inline]
    pub fn user_class(&mut self, classes: &[&[u8]]) -> Result<&mut Self, EmitError> {
        let code = OptionCode::USER_CLASS;
        if classes.is_empty() || classes.iter().any(|c| c.is_empty() || c.len() > 255) {
            return Err(EmitError::BadValue {
                code,
                what: Reason::USER_CLASSES_MUST_BE_1_255_BYTES_EACH_AT_LEAST_ONE,
            });
        }
        let len = classes.iter().map(|c| 1 + c.len()).sum();
        self.option_with(code, len, |w| {
            classes.iter().try_for_each(|c| {
                w.put(&[c.len() as u8])?;
                w.put(c)
            })
        })
    }

    /// Rapid commit (80, RFC 4039): an empty option.
    #[inline]
    pub fn rapid_commit(&mut self) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::RAPID_COMMIT, &[])
    }

    /// Client FQDN (81, RFC 4702). With [`FqdnFlags::E`] the name is written in DNS wire
    /// format: a name ending in '.' is fully qualified, else partial (no root label).
    #[inline]
    pub fn client_fqdn(&mut self, flags: FqdnFlags, name: &str) -> Result<&mut Self, EmitError> {
        let code = OptionCode::CLIENT_FQDN;
        // RCODE1 and RCODE2: 255 from a server, 0 from a client (RFC 4702 section 2.2).
        let rcode = 0;
        if flags.contains(FqdnFlags::E) {
            let (body, fully) = match name.strip_suffix('.') {
                Some(b) => (b, true),
                None => (name, false),
            };
            let len = encoded_name_len(code, body)? - usize::from(!fully);
            self.option_with(code, 3 + len, |w| {
                w.put(&[flags.bits(), rcode, rcode])?;
                put_labels(w, body)?;
                if fully {
                    w.put(&[0])?;
                }
                Ok(())
            })
        } else {
            self.option_with(code, 3 + name.len(), |w| {
                w.put(&[flags.bits(), rcode, rcode])?;
                w.put(name.as_bytes())
            })
        }
    }

    /// Relay agent information (82, RFC 3046) from sub-options, each at most 255 bytes.
    #[inline]
    pub fn relay_agent_info(&mut self, subs: &[(u8, &[u8])]) -> Result<&mut Self, EmitError> {
        let code = OptionCode::RELAY_AGENT_INFO;
        if subs.is_empty() || subs.iter().any(|(_, d)| d.len() > 255) {
            return Err(EmitError::BadValue {
                code,
                what: Reason::SUB_OPTIONS_MUST_BE_AT_MOST_255_BYTES_EACH_AT_LEAST_ONE,
            });
        }
        let len = subs.iter().map(|(_, d)| 2 + d.len()).sum();
        self.option_with(code, len, |w| {
            subs.iter().try_for_each(|(c, d)| {
                w.put(&[*c, d.len() as u8])?;
                w.put(d)
            })
        })
    }

    /// IPv6-only preferred (108, RFC 8925): V6ONLY_WAIT in seconds.
    #[inline]
    pub fn ipv6_only_preferred(&mut self, secs: u32) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::IPV6_ONLY_PREFERRED, &secs.to_be_bytes())
    }

    /// Captive portal URI (114, RFC 8910).
    #[inline]
    pub fn captive_portal(&mut self, uri: &[u8]) -> Result<&mut Self, EmitError> {
        self.text(OptionCode::CAPTIVE_PORTAL, uri)
    }

    /// Subnet selection (118, RFC 3011).
    #[inline]
    pub fn subnet_selection(&mut self, a: Ipv4Addr) -> Result<&mut Self, EmitError> {
        self.address(OptionCode::SUBNET_SELECTION, a)
    }

    /// Domain search list (119, RFC 3397), written without compression. Names are dotted,
    /// a trailing dot optional; labels 1..=63 bytes, names at most 255 in wire format.
    #[inline]
    pub fn domain_search(&mut self, names: &[&str]) -> Result<&mut Self, EmitError> {
        let code = OptionCode::DOMAIN_SEARCH;
        if names.is_empty() {
            return Err(EmitError::BadValue {
                code,
                what: Reason::EMPTY_SEARCH_LIST,
            });
        }
        let mut len = 0;
        for name in names {
            len += encoded_name_len(code, name.strip_suffix('.').unwrap_or(name))?;
        }
        self.option_with(code, len, |w| {
            names.iter().try_for_each(|name| {
                put_labels(w, name.strip_suffix('.').unwrap_or(name))?;
                w.put(&[0])
            })
        })
    }

    /// Classless static routes (121, RFC 3442). Destination bits past the prefix are dropped.
    #[inline]
    pub fn classless_routes(&mut self, routes: &[Route]) -> Result<&mut Self, EmitError> {
        let code = OptionCode::CLASSLESS_ROUTES;
        if routes.is_empty() || routes.iter().any(|r| r.prefix_len > 32) {
            return Err(EmitError::BadValue {
                code,
                what: Reason::ROUTES_MUST_HAVE_PREFIX_LENGTHS_OF_AT_MOST_32_AT_LEAST_ONE_ROUTE,
            });
        }
        let len = routes.iter().map(Route::encoded_len).sum();
        self.option_with(code, len, |w| {
            routes.iter().try_for_each(|r| {
                let dest = (u32::from(r.destination) & mask(r.prefix_len)).to_be_bytes();
                w.put(&[r.prefix_len])?;
                w.put(&dest[..significant_octets(r.prefix_len)])?;
                w.put(&r.router.octets())
            })
        })
    }

    /// Vendor-identifying vendor options (125, RFC 3925): per enterprise number, its
    /// already-encoded sub-options (at most 255 bytes each block).
    #[inline]
    pub fn vendor_identifying(&mut self, blocks: &[(u32, &[u8])]) -> Result<&mut Self, EmitError> {
        let code = OptionCode::VENDOR_IDENTIFYING_OPTIONS;
        if blocks.is_empty() || blocks.iter().any(|(_, d)| d.len() > 255) {
            return Err(EmitError::BadValue {
                code,
                what: Reason::ENTERPRISE_BLOCKS_MUST_BE_AT_MOST_255_BYTES_EACH_AT_LEAST_ONE,
            });
        }
        let len = blocks.iter().map(|(_, d)| 5 + d.len()).sum();
        self.option_with(code, len, |w| {
            blocks.iter().try_for_each(|(e, d)| {
                w.put(&e.to_be_bytes())?;
                w.put(&[d.len() as u8])?;
                w.put(d)
            })
        })
    }

    /// Ends the message: the end option, the overload value, zero padding. Returns the
    /// message length; the message is `buf[..len]`.
    #[inline]
    pub fn finish(self) -> Result<usize, EmitError> {
        let MessageBuilder {
            buf,
            limit,
            pad_to,
            pos,
            main_len,
            overload_at,
            overload_bits,
            ..
        } = self;
        let end = buf.get_mut(pos).ok_or(EmitError::BufferTooSmall {
            available: saturate(limit, u32::MAX),
        })?;
        *end = 255;
        if let Some(at) = overload_at {
            buf[at] = overload_bits;
        }
        let used = main_len.unwrap_or(pos + 1);
        let len = used.max(pad_to.min(limit));
        buf.get_mut(used..len)
            .ok_or(EmitError::BufferTooSmall {
                available: saturate(limit, u32::MAX),
            })?
            .fill(0);
        Ok(len)
    }
}

/// Where a builder stands, to go back to when an option does not fit.
#[derive(Debug, Clone, Copy)]
struct Snapshot {
    area: Area,
    pos: usize,
    end: usize,
    main_len: Option<usize>,
    overload_at: Option<usize>,
    overload_bits: u8,
}

/// Wire length of a dotted name (no trailing dot) with its root label, after checking it.
#[inline]
fn encoded_name_len(code: OptionCode, name: &str) -> Result<usize, EmitError> {
    let mut len = 1;
    if !name.is_empty() {
        for label in name.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(EmitError::BadValue {
                    code,
                    what: Reason::DOMAIN_LABELS_MUST_BE_1_63_BYTES,
                });
            }
            len += 1 + label.len();
        }
    }
    if len > NAME_MAX_LEN {
        return Err(EmitError::BadValue {
            code,
            what: Reason::DOMAIN_NAME_LONGER_THAN_255_BYTES,
        });
    }
    Ok(len)
}

/// Writes the labels of a checked dotted name, without the root label.
#[inline]
fn put_labels(w: &mut ValueWriter<'_, '_>, name: &str) -> Result<(), EmitError> {
    if name.is_empty() {
        return Ok(());
    }
    name.split('.').try_for_each(|label| {
        w.put(&[label.len() as u8])?;
        w.put(label.as_bytes())
    })
}

/// Writes one option's value for [`MessageBuilder::option_with`], starting a new instance
/// of the option whenever one is full (255 bytes) or its area is.
#[derive(Debug)]
pub struct ValueWriter<'w, 'b> {
    b: &'w mut MessageBuilder<'b>,
    code: u8,
    len_at: usize,
    in_instance: usize,
}

impl ValueWriter<'_, '_> {
    /// Starts an instance where `need` bytes fit, moving on to the next area if needed.
    #[inline]
    fn open(&mut self, need: usize) -> Result<(), EmitError> {
        while self.b.room() < need {
            self.b.advance()?;
        }
        let at = self.b.pos;
        self.b.buf[at] = self.code;
        self.b.buf[at + 1] = 0;
        self.len_at = at + 1;
        self.b.pos = at + 2;
        self.in_instance = 0;
        Ok(())
    }

    #[inline]
    fn close(&mut self) {
        self.b.buf[self.len_at] = self.in_instance as u8;
    }

    /// Appends bytes to the value.
    #[inline]
    pub fn put(&mut self, bytes: &[u8]) -> Result<(), EmitError> {
        let (at, n) = (self.b.pos, bytes.len());
        if self.in_instance + n <= INSTANCE_MAX && at + n <= self.b.end {
            if let Some(dst) = self.b.buf.get_mut(at..at + n) {
                dst.copy_from_slice(bytes);
                self.b.pos = at + n;
                self.in_instance += n;
                return Ok(());
            }
        }
        self.put_split(bytes)
    }

    /// [`put`](Self::put) for bytes that start a new instance or area on the way.
    #[inline]
    fn put_split(&mut self, mut bytes: &[u8]) -> Result<(), EmitError> {
        while !bytes.is_empty() {
            if self.in_instance == INSTANCE_MAX || self.b.room() == 0 {
                self.close();
                self.open(3)?;
            }
            let n = bytes
                .len()
                .min(INSTANCE_MAX - self.in_instance)
                .min(self.b.room());
            let (now, rest) = bytes.split_at(n);
            let at = self.b.pos;
            self.b.buf[at..at + n].copy_from_slice(now);
            self.b.pos += n;
            self.in_instance += n;
            bytes = rest;
        }
        Ok(())
    }
}
