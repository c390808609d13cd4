//! Typed option values. Each one is checked when it is made (from
//! [`Message`](super::Message)'s accessors) and borrows the message's bytes; none allocates.
//!
//! Each module holds both directions of its values: the decoder (a view over the bytes)
//! and the one encoder, an [`Encode`] that [`MessageBuilder::value`] writes.
//!
//! [`MessageBuilder::value`]: super::MessageBuilder::value

mod client_id;
mod fqdn;
mod lists;
mod name;
mod relay;
pub(crate) mod route;
mod text;
mod tlv;
mod vendor;

pub use client_id::{ClientId, ClientIdKind, Rfc4361ClientId};
pub use fqdn::{ClientFqdn, FqdnFlags, FqdnName, FqdnValue};
pub use lists::{Ipv4Iter, Ipv4List, ParameterList, UserClassList, UserClasses};
pub use name::{DomainName, DomainSearch, Labels, SearchList, NAME_MAX_LEN};
pub use relay::{RelayAgentInfo, RelayInfoValue};
pub use route::{ClasslessRoutes, Route, RouteList};
pub use text::Text;
pub use tlv::{SubOption, SubOptions};
pub use vendor::{VendorBlocks, VendorIdentifying, VendorInfo};

use core::net::Ipv4Addr;

use super::builder::ValueWriter;
use super::code::OptionCode;
use super::data::OptionData;
use super::error::{EmitError, Expected, OptionError};

/// An option value that writes itself: its type's one encoder, beside its decoder.
/// [`MessageBuilder::value`](super::MessageBuilder::value) checks it, finds room for it,
/// and writes it (split across instances and areas as RFC 3396 allows).
pub trait Encode {
    /// The option code it is written under.
    const CODE: OptionCode;
    /// Checks the value: its length on the wire, or why it cannot be written.
    fn wire_len(&self) -> Result<usize, EmitError>;
    /// Writes the value; called only after [`wire_len`](Self::wire_len) accepted it, and
    /// writes exactly that many bytes.
    fn emit(&self, w: &mut ValueWriter<'_, '_>) -> Result<(), EmitError>;
}

/// The error for a value that can't be written, with why.
#[inline]
pub(crate) fn bad_value(code: OptionCode, what: super::error::Reason) -> EmitError {
    EmitError::BadValue { code, what }
}

#[inline]
pub(crate) fn bad_len(code: OptionCode, data: &OptionData<'_>, expected: Expected) -> OptionError {
    OptionError::BadLength {
        code,
        len: u16::try_from(data.len()).unwrap_or(u16::MAX),
        expected,
    }
}

#[inline]
pub(crate) fn exact<const N: usize>(
    code: OptionCode,
    data: &OptionData<'_>,
) -> Result<[u8; N], OptionError> {
    data.to_array::<N>()
        .ok_or_else(|| bad_len(code, data, Expected::Exactly(N as u8)))
}

#[inline]
pub(crate) fn ipv4(code: OptionCode, data: &OptionData<'_>) -> Result<Ipv4Addr, OptionError> {
    exact::<4>(code, data).map(Ipv4Addr::from)
}

#[inline]
pub(crate) fn u32_value(code: OptionCode, data: &OptionData<'_>) -> Result<u32, OptionError> {
    exact::<4>(code, data).map(u32::from_be_bytes)
}

#[inline]
pub(crate) fn u16_value(code: OptionCode, data: &OptionData<'_>) -> Result<u16, OptionError> {
    exact::<2>(code, data).map(u16::from_be_bytes)
}

#[inline]
pub(crate) fn at_least<'a>(
    code: OptionCode,
    data: OptionData<'a>,
    min: usize,
) -> Result<OptionData<'a>, OptionError> {
    if data.len() < min {
        Err(bad_len(code, &data, Expected::AtLeast(min as u8)))
    } else {
        Ok(data)
    }
}
