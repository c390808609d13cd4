//! Raw options: the TLV walk over the option areas, in wire order.

use super::code::OptionCode;
use super::error::ParseError;
use super::header::Area;

/// The option areas of one message, in the order RFC 3396 concatenates them: `options`,
/// then `file`, then `sname`. An area that holds no options is empty.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Areas<'a>(pub(crate) [&'a [u8]; 3]);

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
        while let Some(area) = self.areas.0.get(self.area) {
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

/// How many distinct codes the index keeps offsets for; real messages carry far fewer.
const INDEXED: usize = 48;

/// Which option codes a message holds, where each first appears, and which appear more
/// than once: filled while [`validate`] walks the areas, so that a lookup is two table
/// reads instead of a walk over the options.
#[derive(Clone, Copy)]
pub(crate) struct OptionIndex {
    /// Per code: 0 when absent, `i + 1` when `offsets[i]` holds its first instance, and
    /// [`UNINDEXED`] when present beyond what the index keeps.
    slot: [u8; 256],
    /// Offset in the message of a code's first instance.
    offsets: [u16; INDEXED],
    /// One bit per code seen more than once (an RFC 3396 split value).
    repeated: [u64; 4],
    count: u8,
}

const UNINDEXED: u8 = u8::MAX;

impl OptionIndex {
    pub(crate) const fn new() -> Self {
        OptionIndex {
            slot: [0; 256],
            offsets: [0; INDEXED],
            repeated: [0; 4],
            count: 0,
        }
    }

    #[inline]
    fn record(&mut self, code: u8, offset: usize) {
        let slot = &mut self.slot[usize::from(code)];
        if *slot != 0 {
            self.repeated[usize::from(code / 64)] |= 1 << (code % 64);
            return;
        }
        let i = usize::from(self.count);
        match (self.offsets.get_mut(i), u16::try_from(offset)) {
            (Some(o), Ok(offset)) => {
                *o = offset;
                self.count += 1;
                *slot = self.count;
            }
            _ => *slot = UNINDEXED,
        }
    }

    /// What the index knows of `code`: `Some(None)` when it is absent, `Some(Some((offset,
    /// repeated)))` when present, `None` when it is present but past what the index keeps
    /// (the caller walks).
    #[inline]
    pub(crate) fn lookup(&self, code: u8) -> Option<Option<(usize, bool)>> {
        match self.slot[usize::from(code)] {
            0 => Some(None),
            UNINDEXED => None,
            i => {
                let repeated = self.repeated[usize::from(code / 64)] & (1 << (code % 64)) != 0;
                Some(Some((
                    usize::from(*self.offsets.get(usize::from(i) - 1)?),
                    repeated,
                )))
            }
        }
    }
}

impl core::fmt::Debug for OptionIndex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OptionIndex")
            .field("codes", &self.count)
            .finish()
    }
}

/// Checks that every option in `area` lies inside it, records each in `index`, and returns
/// the value of the first option overload (52) found, if any. `base` is the area's offset
/// in the message.
pub(crate) fn validate(
    area: &[u8],
    which: Area,
    base: usize,
    index: &mut OptionIndex,
) -> Result<Option<u8>, ParseError> {
    let mut overload = None;
    let mut pos = 0;
    while let Some(&code) = area.get(pos) {
        if code == 0 {
            pos += 1;
            continue;
        }
        if code == 255 {
            break;
        }
        let next = match area.get(pos + 1) {
            Some(&len) if pos + 2 + usize::from(len) <= area.len() => pos + 2 + usize::from(len),
            _ => {
                return Err(ParseError::OptionOverrun {
                    code,
                    offset: base + pos,
                    area: which,
                })
            }
        };
        if code == OptionCode::OVERLOAD.0 && overload.is_none() {
            match area.get(pos + 2..next) {
                Some([v @ 1..=3]) => overload = Some(*v),
                _ => return Err(ParseError::BadOverload),
            }
        }
        index.record(code, base + pos);
        pos = next;
    }
    Ok(overload)
}
