//! Text options: host name, domain name, message, captive portal URI.

use core::fmt;

use crate::wire::data::OptionData;

/// An option that holds text (NVT ASCII per RFC 2132; UTF-8 in some newer options). The
/// bytes are kept as they came; [`Display`](fmt::Display) escapes anything unprintable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text<'a> {
    data: OptionData<'a>,
}

impl<'a> Text<'a> {
    /// Wraps a value without checking it.
    #[inline]
    pub fn new(data: OptionData<'a>) -> Self {
        Text { data }
    }

    /// The raw bytes.
    #[inline]
    pub fn data(&self) -> OptionData<'a> {
        self.data
    }

    /// The text as `&str`, when it is one contiguous piece of valid UTF-8.
    #[inline]
    pub fn as_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.data.as_slice()?).ok()
    }

    /// Copies the text into `buf` and returns it as `&str`, when it is valid UTF-8 and fits.
    #[inline]
    pub fn to_str<'b>(&self, buf: &'b mut [u8]) -> Option<&'b str> {
        core::str::from_utf8(self.data.copy_to(buf)?).ok()
    }

    /// Whether every byte is printable ASCII (what hook scripts and logs can take as is).
    #[inline]
    pub fn is_printable_ascii(&self) -> bool {
        self.data.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
    }
}

impl PartialEq<str> for Text<'_> {
    #[inline]
    fn eq(&self, other: &str) -> bool {
        self.data.eq_bytes(other.as_bytes())
    }
}

impl PartialEq<&str> for Text<'_> {
    #[inline]
    fn eq(&self, other: &&str) -> bool {
        self.data.eq_bytes(other.as_bytes())
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.data.bytes())
    }
}

/// Writes bytes as text, printable ASCII as is, a backslash as `\\`, and any other byte as
/// `\xNN`, so that what a peer sent can never forge a log line.
#[inline]
pub(crate) fn write_escaped(
    f: &mut fmt::Formatter<'_>,
    bytes: impl Iterator<Item = u8>,
) -> fmt::Result {
    for b in bytes {
        match b {
            b'\\' => f.write_str("\\\\")?,
            b' '..=b'~' => fmt::Write::write_char(f, char::from(b))?,
            _ => write!(f, "\\x{b:02x}")?,
        }
    }
    Ok(())
}
