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

/// How many distinct codes the index keeps offsets for; real messages carry fewer.
const INDEXED: usize = 24;

/// Which option codes a message holds, where each first appears, and which appear more
/// than once: filled while [`validate`] walks the areas, so that a lookup is a bit test
/// and a scan of a few bytes instead of a walk over the options. Small, because a
/// [`Message`](super::Message) carries it by value.
#[derive(Clone, Copy)]
pub(crate) struct OptionIndex {
    present: [u64; 4],
    repeated: [u64; 4],
    /// The first `count` distinct codes, in wire order.
    codes: [u8; INDEXED],
    /// Offset in the message of the first instance of `codes[i]`.
    offsets: [u16; INDEXED],
    count: u8,
}

#[inline]
fn bit(code: u8) -> (usize, u64) {
    (usize::from(code >> 6), 1 << (code & 63))
}

impl OptionIndex {
    pub(crate) const fn new() -> Self {
        OptionIndex {
            present: [0; 4],
            repeated: [0; 4],
            codes: [0; INDEXED],
            offsets: [0; INDEXED],
            count: 0,
        }
    }

    #[inline]
    fn record(&mut self, code: u8, offset: usize) {
        let (word, mask) = bit(code);
        if self.present[word] & mask != 0 {
            self.repeated[word] |= mask;
            return;
        }
        self.present[word] |= mask;
        let i = usize::from(self.count);
        if i < INDEXED {
            if let Ok(offset) = u16::try_from(offset) {
                self.codes[i] = code;
                self.offsets[i] = offset;
                self.count += 1;
            }
        }
    }

    /// What the index knows of `code`: `Some(None)` when it is absent, `Some(Some((offset,
    /// repeated)))` when present, `None` when it is present but past what the index keeps
    /// (the caller walks).
    #[inline]
    pub(crate) fn lookup(&self, code: u8) -> Option<Option<(usize, bool)>> {
        let (word, mask) = bit(code);
        if self.present[word] & mask == 0 {
            return Some(None);
        }
        let n = usize::from(self.count).min(INDEXED);
        let i = self.codes[..n].iter().position(|&c| c == code)?;
        let repeated = self.repeated[word] & mask != 0;
        Some(Some((usize::from(self.offsets[i]), repeated)))
    }
}

impl core::fmt::Debug for OptionIndex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OptionIndex")
            .field("codes", &self.codes.get(..usize::from(self.count)))
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
    let len = area.len();
    let mut pos = 0;
    // Every index below is checked against `len` first, so none can panic.
    while pos < len {
        let code = area[pos];
        if code == 0 {
            pos += 1;
            continue;
        }
        if code == 255 {
            break;
        }
        let next = if pos + 1 < len {
            pos + 2 + usize::from(area[pos + 1])
        } else {
            usize::MAX
        };
        if next > len {
            return Err(ParseError::OptionOverrun {
                code,
                offset: base + pos,
                area: which,
            });
        }
        if code == OptionCode::OVERLOAD.0 && overload.is_none() {
            match &area[pos + 2..next] {
                [v @ 1..=3] => overload = Some(*v),
                _ => return Err(ParseError::BadOverload),
            }
        }
        index.record(code, base + pos);
        pos = next;
    }
    Ok(overload)
}
