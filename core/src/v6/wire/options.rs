//! The DHCPv6 option walk: two-byte code, two-byte length, value (RFC 8415 section 21.1),
//! checked once for a whole run of options, then read without further checks.

use super::code::OptionCode;
use super::error::ParseError;

/// One option: its code and value, borrowed from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawOption<'a> {
    /// The option code.
    pub code: OptionCode,
    /// The value (the option's length is its length).
    pub data: &'a [u8],
}

/// A run of options checked to be whole: every option's header and value lie inside it.
/// Reading it cannot fail. Options may repeat (several IA_NAs, say); [`get`](Self::get)
/// gives the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options<'a> {
    bytes: &'a [u8],
}

impl<'a> Options<'a> {
    /// Checks that `bytes` is a run of whole options.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        let mut pos = 0;
        while pos < bytes.len() {
            let Some(&[c0, c1, l0, l1]) = bytes.get(pos..pos + 4) else {
                return Err(ParseError::StrayBytes {
                    offset: pos,
                    left: bytes.len() - pos,
                });
            };
            let code = OptionCode(u16::from_be_bytes([c0, c1]));
            let end = pos + 4 + usize::from(u16::from_be_bytes([l0, l1]));
            if end > bytes.len() {
                return Err(ParseError::OptionOverrun { code, offset: pos });
            }
            pos = end;
        }
        Ok(Options { bytes })
    }

    /// The options, in order.
    pub fn iter(&self) -> OptionIter<'a> {
        OptionIter { rest: self.bytes }
    }

    /// The value of the first option `code`, if any.
    pub fn get(&self, code: OptionCode) -> Option<&'a [u8]> {
        self.iter().find(|o| o.code == code).map(|o| o.data)
    }

    /// The values of every option `code`, in order.
    pub fn all(&self, code: OptionCode) -> impl Iterator<Item = &'a [u8]> {
        self.iter().filter(move |o| o.code == code).map(|o| o.data)
    }

    /// The options' bytes as they lie in the message.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl<'a> IntoIterator for Options<'a> {
    type Item = RawOption<'a>;
    type IntoIter = OptionIter<'a>;
    fn into_iter(self) -> OptionIter<'a> {
        self.iter()
    }
}

/// Iterator over checked options.
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = RawOption<'a>;

    fn next(&mut self) -> Option<RawOption<'a>> {
        let (head, rest) = self.rest.split_at_checked(4)?;
        let code = OptionCode(u16::from_be_bytes([head[0], head[1]]));
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let (data, rest) = rest.split_at_checked(len)?;
        self.rest = rest;
        Some(RawOption { code, data })
    }
}
