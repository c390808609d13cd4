//! Relay agent information (82, RFC 3046) and its sub-options.

use core::net::Ipv4Addr;

use super::tlv::{self, SubOptions};
use super::{bad_len, ipv4};
use crate::wire::code::OptionCode;
use crate::wire::data::OptionData;
use crate::wire::error::{Expected, OptionError, Reason};

/// Relay agent information (82): the sub-options a relay added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayAgentInfo<'a> {
    data: OptionData<'a>,
}

impl<'a> RelayAgentInfo<'a> {
    /// Agent circuit id (RFC 3046).
    pub const CIRCUIT_ID: u8 = 1;
    /// Agent remote id (RFC 3046).
    pub const REMOTE_ID: u8 = 2;
    /// Link selection (RFC 3527).
    pub const LINK_SELECTION: u8 = 5;
    /// Subscriber id (RFC 3993).
    pub const SUBSCRIBER_ID: u8 = 6;
    /// Server identifier override (RFC 5107).
    pub const SERVER_ID_OVERRIDE: u8 = 11;
    /// Relay agent identifier (RFC 6925).
    pub const RELAY_ID: u8 = 12;

    /// Checks that the value is a non-empty, whole sequence of sub-options.
    #[inline]
    pub fn new(data: OptionData<'a>) -> Result<Self, OptionError> {
        let code = OptionCode::RELAY_AGENT_INFO;
        if data.len() < 2 {
            return Err(bad_len(code, &data, Expected::AtLeast(2)));
        }
        tlv::check(code, &data)?;
        Ok(RelayAgentInfo { data })
    }

    /// The whole value, as a relay sent it (servers echo it back unchanged).
    #[inline]
    pub fn data(&self) -> OptionData<'a> {
        self.data
    }

    /// Every sub-option, in order.
    #[inline]
    pub fn sub_options(&self) -> SubOptions<'a> {
        SubOptions::new(self.data)
    }

    /// The first sub-option with `code`.
    #[inline]
    pub fn get(&self, code: u8) -> Option<OptionData<'a>> {
        self.sub_options().find(|s| s.code == code).map(|s| s.data)
    }

    /// Agent circuit id (1).
    #[inline]
    pub fn circuit_id(&self) -> Option<OptionData<'a>> {
        self.get(Self::CIRCUIT_ID)
    }

    /// Agent remote id (2).
    #[inline]
    pub fn remote_id(&self) -> Option<OptionData<'a>> {
        self.get(Self::REMOTE_ID)
    }

    /// Link selection (5, RFC 3527): the subnet the client is on, when it differs from giaddr.
    #[inline]
    pub fn link_selection(&self) -> Result<Option<Ipv4Addr>, OptionError> {
        self.address(Self::LINK_SELECTION)
    }

    /// Server identifier override (11, RFC 5107).
    #[inline]
    pub fn server_id_override(&self) -> Result<Option<Ipv4Addr>, OptionError> {
        self.address(Self::SERVER_ID_OVERRIDE)
    }

    #[inline]
    fn address(&self, sub: u8) -> Result<Option<Ipv4Addr>, OptionError> {
        match self.get(sub) {
            None => Ok(None),
            Some(d) => ipv4(OptionCode::RELAY_AGENT_INFO, &d)
                .map(Some)
                .map_err(|_| OptionError::BadValue {
                    code: OptionCode::RELAY_AGENT_INFO,
                    what: Reason::ADDRESS_SUB_OPTION_IS_NOT_4_BYTES,
                }),
        }
    }
}

/// Relay agent information (82, RFC 3046) to write: sub-options as (code, value), each
/// value at most 255 bytes, at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayInfoValue<'s>(pub &'s [(u8, &'s [u8])]);

impl super::Encode for RelayInfoValue<'_> {
    const CODE: OptionCode = OptionCode::RELAY_AGENT_INFO;

    #[inline]
    fn wire_len(&self) -> Result<usize, crate::wire::EmitError> {
        let subs = self.0;
        if subs.is_empty() || subs.iter().any(|(_, d)| d.len() > 255) {
            return Err(super::bad_value(
                Self::CODE,
                crate::wire::error::Reason::SUB_OPTIONS_MUST_BE_AT_MOST_255_BYTES_EACH_AT_LEAST_ONE,
            ));
        }
        Ok(subs.iter().map(|(_, d)| 2 + d.len()).sum())
    }

    #[inline]
    fn emit(&self, w: &mut crate::wire::ValueWriter<'_, '_>) -> Result<(), crate::wire::EmitError> {
        self.0.iter().try_for_each(|(c, d)| {
            w.put(&[*c, d.len() as u8])?;
            w.put(d)
        })
    }
}
