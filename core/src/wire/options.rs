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

/// Checks that every option in `area` lies inside it, and returns the value of the first
/// option overload (52) found, if any. `base` is the area's offset in the message.
pub(crate) fn validate(area: &[u8], which: Area, base: usize) -> Result<Option<u8>, ParseError> {
    let mut overload = None;
    let mut pos = 0;
    while let Some(&code) = area.get(pos) {
        match code {
            0 => pos += 1,
            255 => break,
            _ => {
                let overrun = ParseError::OptionOverrun {
                    code,
                    offset: base + pos,
                    area: which,
                };
                let len = usize::from(*area.get(pos + 1).ok_or(overrun)?);
                let data = area.get(pos + 2..pos + 2 + len).ok_or(overrun)?;
                if code == OptionCode::OVERLOAD.0 && overload.is_none() {
                    match data {
                        [v @ 1..=3] => overload = Some(*v),
                        _ => return Err(ParseError::BadOverload),
                    }
                }
                pos += 2 + len;
            }
        }
    }
    Ok(overload)
}
