//! Raw options: the TLV walk over the option areas, in wire order.

use super::code::OptionCode;
use super::error::ParseError;
use super::header::{field, Area};

/// The option areas of one checked message, in the order RFC 3396 concatenates them:
/// `options`, then `file`, then `sname` (those two only when option overload says so).
/// Two words and a byte, so that the values that carry it stay small.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Areas<'a> {
    buf: &'a [u8],
    overload: u8,
}

impl<'a> Areas<'a> {
    /// The areas of `buf`, whose overload value (52) is `overload` (0 for none).
    #[inline]
    pub(crate) fn new(buf: &'a [u8], overload: u8) -> Self {
        Areas { buf, overload }
    }

    /// Area `i` (0 options, 1 file, 2 sname); empty when it holds no options, `None` past
    /// the last.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&'a [u8]> {
        let range = match i {
            0 => super::OPTIONS_OFFSET..self.buf.len(),
            1 if self.overload & 1 != 0 => field::FILE,
            2 if self.overload & 2 != 0 => field::SNAME,
            1 | 2 => return Some(&[]),
            _ => return None,
        };
        Some(self.buf.get(range).unwrap_or_default())
    }

    /// The `options` field.
    #[inline]
    pub(crate) fn main(&self) -> &'a [u8] {
        self.buf.get(super::OPTIONS_OFFSET..).unwrap_or_default()
    }
}

/// One option instance as it is on the wire: code and value bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawOption<'a> {
    /// The option code.
    pub code: OptionCode,
    /// The value bytes of this instance (an option that appears several times has several).
    pub data: &'a [u8],
}

/// Iterator over every option instance of a message in wire order: pad skipped, each area
/// ending at its end option or its last byte. Made by [`Message::options`](super::Message::options).
#[derive(Debug, Clone)]
pub struct RawOptions<'a> {
    areas: Areas<'a>,
    area: usize,
    pos: usize,
}

impl<'a> RawOptions<'a> {
    pub(crate) fn new(areas: Areas<'a>) -> Self {
        RawOptions {
            areas,
            area: 0,
            pos: 0,
        }
    }
}

impl<'a> Iterator for RawOptions<'a> {
    type Item = RawOption<'a>;

    fn next(&mut self) -> Option<RawOption<'a>> {
        while let Some(area) = self.areas.get(self.area) {
            match area.get(self.pos).copied() {
                Some(0) => self.pos += 1,
                Some(code) if code != 255 => {
                    // The areas were checked by `validate`; `get` keeps a forged one harmless.
                    let len = usize::from(area.get(self.pos + 1).copied().unwrap_or(0));
                    let start = self.pos + 2;
                    if let Some(data) = area.get(start..start + len) {
                        self.pos = start + len;
                        return Some(RawOption {
                            code: OptionCode(code),
                            data,
                        });
                    }
                    self.area += 1;
                    self.pos = 0;
                }
                _ => {
                    self.area += 1;
                    self.pos = 0;
                }
            }
        }
        None
    }
}

/// Where each option code appears: filled while [`validate`] walks the areas, so that a
/// lookup is one table read.
#[derive(Clone, Copy)]
pub(crate) struct OptionIndex {
    /// Per code below 128 (the ones read often): 0 when absent; else 1 + the offset of
    /// its only instance from the start of the `options` field, when that is below 254;
    /// else [`WALK`]: the code appears more than once (an RFC 3396 split value), or far
    /// into the message, or in `file` or `sname`, and the caller walks. Codes from 128 up
    /// are always walked for.
    slot: [u8; 128],
}

/// A code that is present, but not as one instance a slot can point at.
const WALK: u8 = u8::MAX;

impl OptionIndex {
    pub(crate) const fn new() -> Self {
        OptionIndex { slot: [0; 128] }
    }

    /// Records an option whose code byte is `offset` bytes into the `options` field
    /// (`None` for one in `file` or `sname`).
    #[inline]
    fn record(&mut self, code: u8, offset: Option<usize>) {
        if let Some(slot) = self.slot.get_mut(usize::from(code)) {
            *slot = match offset {
                Some(o) if *slot == 0 && o < usize::from(WALK) - 1 => o as u8 + 1,
                _ => WALK,
            };
        }
    }

    /// What the index knows of `code`: `Some(None)` when it is absent, `Some(Some(offset))`
    /// for the only instance's offset in the `options` field, `None` when the caller must
    /// walk.
    #[inline]
    pub(crate) fn lookup(&self, code: u8) -> Option<Option<usize>> {
        match *self.slot.get(usize::from(code))? {
            0 => Some(None),
            WALK => None,
            s => Some(Some(usize::from(s) - 1)),
        }
    }
}

impl core::fmt::Debug for OptionIndex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OptionIndex")
            .field("codes", &self.slot.iter().filter(|&&s| s != 0).count())
            .finish()
    }
}

/// Checks that every option in `area` lies inside it, records each in `index`, and returns
/// the value of the first option overload (52) found, if any. `base` is the area's offset
/// in the message.
#[inline]
pub(crate) fn validate(
    area: &[u8],
    which: Area,
    base: usize,
    index: &mut OptionIndex,
) -> Result<Option<u8>, ParseError> {
    let mut overload = None;
    let in_options = which == Area::Options;
    let mut pos = 0;
    while let Some(&code) = area.get(pos) {
        match code {
            0 => {
                pos += 1;
                continue;
            }
            255 => break,
            _ => {}
        }
        let value = area
            .get(pos + 1)
            .map(|&len| pos + 2..pos + 2 + usize::from(len))
            .and_then(|r| area.get(r));
        let Some(value) = value else {
            return Err(ParseError::OptionOverrun {
                code,
                offset: base + pos,
                area: which,
            });
        };
        if code == OptionCode::OVERLOAD.0 && overload.is_none() {
            match value {
                [v @ 1..=3] => overload = Some(*v),
                _ => return Err(ParseError::BadOverload),
            }
        }
        index.record(code, in_options.then_some(pos));
        pos += 2 + value.len();
    }
    Ok(overload)
}
