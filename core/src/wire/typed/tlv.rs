//! Sub-options: the one-byte code, one-byte length encoding nested inside options 43, 82
//! and 125.

use crate::wire::code::OptionCode;
use crate::wire::data::OptionData;
use crate::wire::error::{OptionError, Reason};

/// One sub-option: its code and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubOption<'a> {
    /// The sub-option code (its meaning depends on the enclosing option).
    pub code: u8,
    /// The value.
    pub data: OptionData<'a>,
}

/// Iterator over sub-options, in order. Made only over data already checked to be whole sub-options.
#[derive(Debug, Clone)]
pub struct SubOptions<'a> {
    data: OptionData<'a>,
    pos: usize,
}

impl<'a> SubOptions<'a> {
    #[inline]
    pub(crate) fn new(data: OptionData<'a>) -> Self {
        SubOptions { data, pos: 0 }
    }
}

impl<'a> Iterator for SubOptions<'a> {
    type Item = SubOption<'a>;
    #[inline]
    fn next(&mut self) -> Option<SubOption<'a>> {
        let code = self.data.get(self.pos)?;
        let len = usize::from(self.data.get(self.pos + 1)?);
        let data = self.data.slice(self.pos + 2..self.pos + 2 + len)?;
        self.pos += 2 + len;
        Some(SubOption { code, data })
    }
}

/// Checks that `data` is a whole sequence of sub-options, none running past the end.
#[inline]
pub(crate) fn check(code: OptionCode, data: &OptionData<'_>) -> Result<(), OptionError> {
    let mut pos = 0;
    while pos < data.len() {
        let len = data
            .get(pos + 1)
            .map(usize::from)
            .ok_or(OptionError::BadValue {
                code,
                what: Reason::SUB_OPTION_HEADER_RUNS_PAST_THE_END_OF_THE_OPTION,
            })?;
        pos += 2 + len;
    }
    if pos != data.len() {
        return Err(OptionError::BadValue {
            code,
            what: Reason::SUB_OPTION_RUNS_PAST_THE_END_OF_THE_OPTION,
        });
    }
    Ok(())
}
