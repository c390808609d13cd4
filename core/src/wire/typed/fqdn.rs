//! Client FQDN (81, RFC 4702).

use core::fmt;

use super::bad_len;
use super::name::{check_name, encoded_name_len, put_labels, DomainName, Encoding};
use super::text::Text;
use crate::wire::code::OptionCode;
use crate::wire::data::OptionData;
use crate::wire::error::{Expected, OptionError, Reason};

bitflags::bitflags! {
    /// The flags byte of option 81.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct FqdnFlags: u8 {
        /// S: the server should do the A record update.
        const S = 0x01;
        /// O: the server overrode the client's S bit.
        const O = 0x02;
        /// E: the name is in DNS wire format (else deprecated ASCII).
        const E = 0x04;
        /// N: the server should do no DNS update.
        const N = 0x08;
    }
}

/// The name carried in option 81.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FqdnName<'a> {
    /// DNS wire format (E set); possibly partial, without the root label.
    Wire(DomainName<'a>),
    /// The deprecated ASCII encoding (E clear).
    Ascii(Text<'a>),
}

impl fmt::Display for FqdnName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FqdnName::Wire(n) => write!(f, "{n}"),
            FqdnName::Ascii(t) => write!(f, "{t}"),
        }
    }
}

/// Client FQDN (81): flags, two deprecated rcode bytes, and the client's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientFqdn<'a> {
    /// The flags byte, unknown bits kept.
    pub flags: FqdnFlags,
    /// RCODE1 (deprecated; 0 or 255).
    pub rcode1: u8,
    /// RCODE2 (deprecated; 0 or 255).
    pub rcode2: u8,
    /// The name.
    pub name: FqdnName<'a>,
}

impl<'a> ClientFqdn<'a> {
    /// Checks the length (at least 3) and, in wire format, every label.
    #[inline]
    pub fn new(data: OptionData<'a>) -> Result<Self, OptionError> {
        let code = OptionCode::CLIENT_FQDN;
        let head = data
            .slice(0..3)
            .and_then(|h| h.to_array::<3>())
            .ok_or_else(|| bad_len(code, &data, Expected::AtLeast(3)))?;
        let flags = FqdnFlags::from_bits_retain(head[0]);
        let name = if flags.contains(FqdnFlags::E) {
            let end = check_name(code, &data, 3, Encoding::Partial)?;
            if end != data.len() {
                return Err(OptionError::BadValue {
                    code,
                    what: Reason::BYTES_AFTER_THE_DOMAIN_NAME,
                });
            }
            FqdnName::Wire(DomainName::new(data, 3))
        } else {
            FqdnName::Ascii(Text::new(data.slice_from(3).unwrap_or(data)))
        };
        Ok(ClientFqdn {
            flags,
            rcode1: head[1],
            rcode2: head[2],
            name,
        })
    }
}

/// A client FQDN (81, RFC 4702) to write. With [`FqdnFlags::E`] the name goes in DNS wire
/// form (a name ending in '.' fully qualified, else partial: no root label), else as
/// ASCII. RCODE1 and RCODE2 are written as 0, what a client sends (RFC 4702 section 2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FqdnValue<'n> {
    /// The flags (S, O, E, N).
    pub flags: FqdnFlags,
    /// The name, dotted.
    pub name: &'n str,
}

impl FqdnValue<'_> {
    /// The name without a trailing dot, and whether it had one (fully qualified).
    fn body(&self) -> (&str, bool) {
        match self.name.strip_suffix('.') {
            Some(b) => (b, true),
            None => (self.name, false),
        }
    }
}

impl super::Encode for FqdnValue<'_> {
    const CODE: OptionCode = OptionCode::CLIENT_FQDN;

    #[inline]
    fn wire_len(&self) -> Result<usize, crate::wire::EmitError> {
        if !self.flags.contains(FqdnFlags::E) {
            return Ok(3 + self.name.len());
        }
        let (body, fully) = self.body();
        Ok(3 + encoded_name_len(Self::CODE, body)? - usize::from(!fully))
    }

    #[inline]
    fn emit(&self, w: &mut crate::wire::ValueWriter<'_, '_>) -> Result<(), crate::wire::EmitError> {
        let rcode = 0;
        w.put(&[self.flags.bits(), rcode, rcode])?;
        if !self.flags.contains(FqdnFlags::E) {
            return w.put(self.name.as_bytes());
        }
        let (body, fully) = self.body();
        put_labels(w, body)?;
        if fully {
            w.put(&[0])?;
        }
        Ok(())
    }
}
