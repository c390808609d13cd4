//! Domain names in DNS wire format: the domain search list (119, RFC 3397, with RFC 1035
//! compression) and the name of client FQDN (81, RFC 4702, without).

use core::fmt;

use super::bad_len;
use crate::wire::code::OptionCode;
use crate::wire::data::OptionData;
use crate::wire::error::{Expected, OptionError, Reason};

/// The longest domain name in wire format, root label included (RFC 1035).
pub const NAME_MAX_LEN: usize = 255;

/// How names in one option are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// Compression pointers allowed; every name ends with the root label (119).
    Compressed,
    /// No pointers; the name may stop before the root label (a partial name, 81).
    Partial,
}

/// One domain name inside an option. Its labels are read in place, following compression
/// pointers; the option was checked when the name was made, so reading cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainName<'a> {
    data: OptionData<'a>,
    start: usize,
}

impl<'a> DomainName<'a> {
    #[inline]
    pub(crate) fn new(data: OptionData<'a>, start: usize) -> Self {
        DomainName { data, start }
    }

    /// The labels, in order, without the root label.
    #[inline]
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            data: self.data,
            pos: self.start,
            hops: 0,
        }
    }

    /// Whether the name equals `name` (dotted, trailing dot optional), ignoring ASCII case
    /// as DNS does.
    #[inline]
    pub fn matches(&self, name: &str) -> bool {
        let name = name.strip_suffix('.').unwrap_or(name);
        let mut want = name.split('.').filter(|_| !name.is_empty());
        let mut have = self.labels();
        loop {
            match (have.next(), want.next()) {
                (None, None) => return true,
                (Some(h), Some(w)) => {
                    let same = h.len() == w.len()
                        && h.bytes()
                            .zip(w.bytes())
                            .all(|(a, b)| a.eq_ignore_ascii_case(&b));
                    if !same {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }
}

impl fmt::Display for DomainName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            for b in label.bytes() {
                match b {
                    b'.' => f.write_str("\\.")?,
                    b'\\' => f.write_str("\\\\")?,
                    b'!'..=b'~' => fmt::Write::write_char(f, char::from(b))?,
                    _ => write!(f, "\\{b:03}")?,
                }
            }
        }
        Ok(())
    }
}

/// Iterator over the labels of a [`DomainName`].
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    data: OptionData<'a>,
    pos: usize,
    hops: u8,
}

impl<'a> Iterator for Labels<'a> {
    type Item = OptionData<'a>;
    #[inline]
    fn next(&mut self) -> Option<OptionData<'a>> {
        loop {
            let b = self.data.get(self.pos)?;
            match b >> 6 {
                0 if b == 0 => return None,
                0 => {
                    let len = usize::from(b);
                    let label = self.data.slice(self.pos + 1..self.pos + 1 + len)?;
                    self.pos += 1 + len;
                    return Some(label);
                }
                3 if self.hops < 128 => {
                    let lo = self.data.get(self.pos + 1)?;
                    self.pos = usize::from(b & 0x3f) << 8 | usize::from(lo);
                    self.hops += 1;
                }
                _ => return None,
            }
        }
    }
}

/// Checks the name at `start` and returns where the bytes that follow it begin.
#[inline]
pub(crate) fn check_name(
    code: OptionCode,
    data: &OptionData<'_>,
    start: usize,
    encoding: Encoding,
) -> Result<usize, OptionError> {
    let bad = |what| OptionError::BadValue { code, what };
    let mut pos = start;
    // Pointers must go strictly backwards past every earlier jump: that ends every walk.
    let mut limit = start;
    let mut end = None;
    let mut wire_len = 0;
    loop {
        let Some(b) = data.get(pos) else {
            return match encoding {
                Encoding::Partial => Ok(end.unwrap_or(pos)),
                Encoding::Compressed => {
                    Err(bad(Reason::DOMAIN_NAME_RUNS_PAST_THE_END_OF_THE_OPTION))
                }
            };
        };
        match b >> 6 {
            0 if b == 0 => return Ok(end.unwrap_or(pos + 1)),
            0 => {
                let len = usize::from(b);
                if pos + 1 + len > data.len() {
                    return Err(bad(Reason::LABEL_RUNS_PAST_THE_END_OF_THE_OPTION));
                }
                wire_len += 1 + len;
                if wire_len + 1 > NAME_MAX_LEN {
                    return Err(bad(Reason::DOMAIN_NAME_LONGER_THAN_255_BYTES));
                }
                pos += 1 + len;
            }
            3 if encoding == Encoding::Compressed => {
                let lo = data.get(pos + 1).ok_or(bad(
                    Reason::COMPRESSION_POINTER_RUNS_PAST_THE_END_OF_THE_OPTION,
                ))?;
                let target = usize::from(b & 0x3f) << 8 | usize::from(lo);
                if target >= limit {
                    return Err(bad(Reason::COMPRESSION_POINTER_DOES_NOT_POINT_BACKWARDS));
                }
                end.get_or_insert(pos + 2);
                limit = target;
                pos = target;
            }
            _ => return Err(bad(Reason::BAD_LABEL_TYPE)),
        }
    }
}

/// The domain search list (119, RFC 3397): names to append to unqualified host names, in
/// order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainSearch<'a> {
    data: OptionData<'a>,
}

impl<'a> DomainSearch<'a> {
    /// Checks every name: labels of at most 63 bytes, names of at most 255, compression
    /// pointers in range and pointing backwards (so no loop), nothing left over.
    #[inline]
    pub fn new(data: OptionData<'a>) -> Result<Self, OptionError> {
        let code = OptionCode::DOMAIN_SEARCH;
        if data.is_empty() {
            return Err(bad_len(code, &data, Expected::AtLeast(1)));
        }
        let mut pos = 0;
        while pos < data.len() {
            pos = check_name(code, &data, pos, Encoding::Compressed)?;
        }
        Ok(DomainSearch { data })
    }

    /// The names in order.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = DomainName<'a>> + 'a {
        let data = self.data;
        let mut pos = 0;
        core::iter::from_fn(move || {
            if pos >= data.len() {
                return None;
            }
            let name = DomainName::new(data, pos);
            pos = check_name(OptionCode::DOMAIN_SEARCH, &data, pos, Encoding::Compressed).ok()?;
            Some(name)
        })
    }
}

impl fmt::Display for DomainSearch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{name}")?;
        }
        Ok(())
    }
}

/// A domain search list (119, RFC 3397) to write, without compression: dotted names, a
/// trailing dot optional; labels 1..=63 bytes, names at most 255 in wire form; at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchList<'n>(pub &'n [&'n str]);

impl super::Encode for SearchList<'_> {
    const CODE: OptionCode = OptionCode::DOMAIN_SEARCH;

    #[inline]
    fn wire_len(&self) -> Result<usize, crate::wire::EmitError> {
        if self.0.is_empty() {
            return Err(super::bad_value(Self::CODE, Reason::EMPTY_SEARCH_LIST));
        }
        self.0.iter().try_fold(0, |len, name| {
            Ok(len + encoded_name_len(Self::CODE, name.strip_suffix('.').unwrap_or(name))?)
        })
    }

    #[inline]
    fn emit(&self, w: &mut crate::wire::ValueWriter<'_, '_>) -> Result<(), crate::wire::EmitError> {
        self.0.iter().try_for_each(|name| {
            put_labels(w, name.strip_suffix('.').unwrap_or(name))?;
            w.put(&[0])
        })
    }
}

/// Wire length of a dotted name (no trailing dot) with its root label, after checking it.
#[inline]
pub(crate) fn encoded_name_len(
    code: OptionCode,
    name: &str,
) -> Result<usize, crate::wire::EmitError> {
    let mut len = 1;
    if !name.is_empty() {
        for label in name.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(super::bad_value(
                    code,
                    Reason::DOMAIN_LABELS_MUST_BE_1_63_BYTES,
                ));
            }
            len += 1 + label.len();
        }
    }
    if len > NAME_MAX_LEN {
        return Err(super::bad_value(
            code,
            Reason::DOMAIN_NAME_LONGER_THAN_255_BYTES,
        ));
    }
    Ok(len)
}

/// Writes the labels of a checked dotted name, without the root label.
#[inline]
pub(crate) fn put_labels(
    w: &mut crate::wire::ValueWriter<'_, '_>,
    name: &str,
) -> Result<(), crate::wire::EmitError> {
    if name.is_empty() {
        return Ok(());
    }
    name.split('.').try_for_each(|label| {
        w.put(&[label.len() as u8])?;
        w.put(label.as_bytes())
    })
}
