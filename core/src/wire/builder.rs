//! [`MessageBuilder`]: writes a DHCP message into a caller's buffer.

use core::net::Ipv4Addr;

use super::code::OptionCode;
use super::data::OptionData;
use super::error::{saturate, EmitError, HeaderField};
use super::header::{field, Area, Flags, Op};
use super::{BOOTP_MIN_LEN, MAGIC_COOKIE, OPTIONS_OFFSET};

/// Longest value one option instance holds; longer values are split (RFC 3396).
mod named;
mod writer;

pub use writer::ValueWriter;

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
