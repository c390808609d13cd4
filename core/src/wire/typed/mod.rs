//! Typed option values. Each one is checked when it is made (from
//! [`Message`](super::Message)'s accessors) and borrows the message's bytes; none allocates.

mod client_id;
mod fqdn;
mod lists;
mod name;
mod relay;
pub(crate) mod route;
mod text;
mod tlv;
mod vendor;

pub use client_id::{ClientId, ClientIdKind};
pub use fqdn::{ClientFqdn, FqdnFlags, FqdnName};
pub use lists::{Ipv4Iter, Ipv4List, ParameterList, UserClasses};
pub use name::{DomainName, DomainSearch, Labels, NAME_MAX_LEN};
pub use relay::RelayAgentInfo;
pub use route::{ClasslessRoutes, Route};
pub use text::Text;
pub use tlv::{SubOption, SubOptions};
pub use vendor::{VendorIdentifying, VendorInfo};

use core::net::Ipv4Addr;

use super::code::OptionCode;
use super::data::OptionData;
use super::error::{Expected, OptionError};

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
