//! Lists of fixed-size items: addresses (3, 6, 42, ...), requested codes (55), user
//! classes (77).

use core::fmt;
use core::net::Ipv4Addr;

use super::bad_len;
use crate::wire::code::OptionCode;
use crate::wire::data::{Bytes, OptionData};
use crate::wire::error::{Expected, OptionError, Reason};

/// A non-empty list of IPv4 addresses (routers, DNS servers, NTP servers, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4List<'a> {
    data: OptionData<'a>,
}

impl<'a> Ipv4List<'a> {
    /// Checks that `data` is a non-empty multiple of 4 bytes.
    #[inline]
    pub fn new(code: OptionCode, data: OptionData<'a>) -> Result<Self, OptionError> {
        if data.is_empty() || !data.len().is_multiple_of(4) {
            return Err(bad_len(code, &data, Expected::MultipleOf(4)));
        }
        Ok(Ipv4List { data })
    }

    /// Number of addresses.
    #[inline]
    pub fn len(&self) -> usize {
        self.data.len() / 4
    }

    /// Always false: an empty list is refused when the list is made.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The first address.
    #[inline]
    pub fn first(&self) -> Option<Ipv4Addr> {
        self.iter().next()
    }

    /// The addresses in order.
    #[inline]
    pub fn iter(&self) -> Ipv4Iter<'a> {
        Ipv4Iter {
            bytes: self.data.bytes(),
        }
    }
}

impl<'a> IntoIterator for Ipv4List<'a> {
    type Item = Ipv4Addr;
    type IntoIter = Ipv4Iter<'a>;
    #[inline]
    fn into_iter(self) -> Ipv4Iter<'a> {
        self.iter()
    }
}

impl fmt::Display for Ipv4List<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

/// Iterator over an [`Ipv4List`].
#[derive(Debug, Clone)]
pub struct Ipv4Iter<'a> {
    bytes: Bytes<'a>,
}

impl Iterator for Ipv4Iter<'_> {
    type Item = Ipv4Addr;
    #[inline]
    fn next(&mut self) -> Option<Ipv4Addr> {
        self.bytes.take_array::<4>().map(Ipv4Addr::from)
    }
}

/// The parameter request list (55): the option codes a client asks for, in its order of
/// preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParameterList<'a> {
    data: OptionData<'a>,
}

impl<'a> ParameterList<'a> {
    /// Checks that the list is not empty.
    #[inline]
    pub fn new(data: OptionData<'a>) -> Result<Self, OptionError> {
        if data.is_empty() {
            return Err(bad_len(
                OptionCode::PARAMETER_REQUEST_LIST,
                &data,
                Expected::AtLeast(1),
            ));
        }
        Ok(ParameterList { data })
    }

    /// Number of codes.
    #[inline]
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Always false: an empty list is refused when the list is made.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Whether `code` is asked for.
    #[inline]
    pub fn contains(&self, code: OptionCode) -> bool {
        self.data.segments().any(|piece| piece.contains(&code.0))
    }

    /// The codes in order.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = OptionCode> + Clone + 'a {
        self.data.bytes().map(OptionCode)
    }
}

/// User classes (77, RFC 3004): one or more opaque class names, each non-empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserClasses<'a> {
    data: OptionData<'a>,
}

impl<'a> UserClasses<'a> {
    /// Checks that the value is a sequence of length-prefixed, non-empty class names.
    #[inline]
    pub fn new(data: OptionData<'a>) -> Result<Self, OptionError> {
        let code = OptionCode::USER_CLASS;
        if data.is_empty() {
            return Err(bad_len(code, &data, Expected::AtLeast(2)));
        }
        let mut pos = 0;
        while pos < data.len() {
            let len = usize::from(data.get(pos).unwrap_or(0));
            if len == 0 {
                return Err(OptionError::BadValue {
                    code,
                    what: Reason::EMPTY_USER_CLASS,
                });
            }
            pos += 1 + len;
        }
        if pos != data.len() {
            return Err(OptionError::BadValue {
                code,
                what: Reason::USER_CLASS_RUNS_PAST_THE_END_OF_THE_OPTION,
            });
        }
        Ok(UserClasses { data })
    }

    /// The class names in order.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = OptionData<'a>> + 'a {
        let data = self.data;
        let mut pos = 0;
        core::iter::from_fn(move || {
            let len = usize::from(data.get(pos)?);
            let item = data.slice(pos + 1..pos + 1 + len)?;
            pos += 1 + len;
            Some(item)
        })
    }
}

/// User classes (77, RFC 3004) to write: each class 1..=255 bytes, at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserClassList<'c>(pub &'c [&'c [u8]]);

impl super::Encode for UserClassList<'_> {
    const CODE: OptionCode = OptionCode::USER_CLASS;

    #[inline]
    fn wire_len(&self) -> Result<usize, crate::wire::EmitError> {
        let classes = self.0;
        if classes.is_empty() || classes.iter().any(|c| c.is_empty() || c.len() > 255) {
            return Err(super::bad_value(
                Self::CODE,
                Reason::USER_CLASSES_MUST_BE_1_255_BYTES_EACH_AT_LEAST_ONE,
            ));
        }
        Ok(classes.iter().map(|c| 1 + c.len()).sum())
    }

    #[inline]
    fn emit(&self, w: &mut crate::wire::ValueWriter<'_, '_>) -> Result<(), crate::wire::EmitError> {
        self.0.iter().try_for_each(|c| {
            w.put(&[c.len() as u8])?;
            w.put(c)
        })
    }
}
