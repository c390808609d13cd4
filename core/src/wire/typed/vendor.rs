//! Vendor-identifying vendor options (125, RFC 3925).

use super::bad_len;
use super::tlv::{self, SubOptions};
use crate::wire::code::OptionCode;
use crate::wire::data::OptionData;
use crate::wire::error::{Expected, OptionError, Reason};

/// Vendor-identifying vendor-specific information (125): one block of sub-options per
/// enterprise number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorIdentifying<'a> {
    data: OptionData<'a>,
}

/// One enterprise's block in option 125.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorInfo<'a> {
    /// IANA enterprise number.
    pub enterprise: u32,
    /// The block's data: sub-options defined by that vendor.
    pub data: OptionData<'a>,
}

impl<'a> VendorInfo<'a> {
    /// The block's sub-options.
    #[inline]
    pub fn sub_options(&self) -> SubOptions<'a> {
        SubOptions::new(self.data)
    }
}

impl<'a> VendorIdentifying<'a> {
    /// Checks that the value is a whole sequence of enterprise blocks, each a whole sequence
    /// of sub-options.
    #[inline]
    pub fn new(data: OptionData<'a>) -> Result<Self, OptionError> {
        let code = OptionCode::VENDOR_IDENTIFYING_OPTIONS;
        if data.len() < 5 {
            return Err(bad_len(code, &data, Expected::AtLeast(5)));
        }
        let me = VendorIdentifying { data };
        let mut covered = 0;
        for block in me.blocks() {
            tlv::check(code, &block.data)?;
            covered += 5 + block.data.len();
        }
        if covered != data.len() {
            return Err(OptionError::BadValue {
                code,
                what: Reason::ENTERPRISE_BLOCK_RUNS_PAST_THE_END_OF_THE_OPTION,
            });
        }
        Ok(me)
    }

    /// The enterprise blocks in order.
    #[inline]
    pub fn blocks(&self) -> impl Iterator<Item = VendorInfo<'a>> + 'a {
        let data = self.data;
        let mut pos = 0;
        core::iter::from_fn(move || {
            let head = data.slice(pos..pos + 5)?;
            let mut bytes = head.bytes();
            let enterprise = u32::from_be_bytes(bytes.take_array::<4>()?);
            let len = usize::from(bytes.next()?);
            let block = data.slice(pos + 5..pos + 5 + len)?;
            pos += 5 + len;
            Some(VendorInfo {
                enterprise,
                data: block,
            })
        })
    }
}

/// Vendor-identifying vendor options (125, RFC 3925) to write: per enterprise number, its
/// already-encoded sub-options (at most 255 bytes a block), at least one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorBlocks<'b>(pub &'b [(u32, &'b [u8])]);

impl super::Encode for VendorBlocks<'_> {
    const CODE: OptionCode = OptionCode::VENDOR_IDENTIFYING_OPTIONS;

    #[inline]
    fn wire_len(&self) -> Result<usize, crate::wire::EmitError> {
        let blocks = self.0;
        if blocks.is_empty() || blocks.iter().any(|(_, d)| d.len() > 255) {
            return Err(super::bad_value(
                Self::CODE,
                crate::wire::error::Reason::ENTERPRISE_BLOCKS_MUST_BE_AT_MOST_255_BYTES_EACH_AT_LEAST_ONE,
            ));
        }
        Ok(blocks.iter().map(|(_, d)| 5 + d.len()).sum())
    }

    #[inline]
    fn emit(&self, w: &mut crate::wire::ValueWriter<'_, '_>) -> Result<(), crate::wire::EmitError> {
        self.0.iter().try_for_each(|(e, d)| {
            w.put(&e.to_be_bytes())?;
            w.put(&[d.len() as u8])?;
            w.put(d)
        })
    }
}
