//! Client identifier (61, RFC 2132 and RFC 4361).

use super::bad_len;
use crate::wire::code::OptionCode;
use crate::wire::data::OptionData;
use crate::wire::error::{Expected, OptionError, Reason};

/// A client identifier (61): a type byte and an identifier. Servers key leases on the whole
/// value, so it is kept as it came ([`ClientId::data`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientId<'a> {
    data: OptionData<'a>,
}

/// What a [`ClientId`] holds, by its type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientIdKind<'a> {
    /// Type 1..=254: a hardware type (1 = Ethernet) and address.
    Hardware {
        /// ARP hardware type.
        htype: u8,
        /// The address.
        address: OptionData<'a>,
    },
    /// Type 255 (RFC 4361): an interface's IAID and the host's DUID.
    Rfc4361 {
        /// Identity association id.
        iaid: u32,
        /// DHCP unique identifier (RFC 8415).
        duid: OptionData<'a>,
    },
    /// Type 0: an opaque identifier, such as a name.
    Opaque(OptionData<'a>),
}

impl<'a> ClientId<'a> {
    /// Checks the length: at least 2 bytes (RFC 2132), and for type 255 an IAID and a DUID
    /// of at least its 2-byte type (RFC 4361).
    #[inline]
    pub fn new(data: OptionData<'a>) -> Result<Self, OptionError> {
        let code = OptionCode::CLIENT_ID;
        if data.len() < 2 {
            return Err(bad_len(code, &data, Expected::AtLeast(2)));
        }
        if data.get(0) == Some(255) && data.len() < 7 {
            return Err(OptionError::BadValue {
                code,
                what: Reason::RFC_4361_CLIENT_ID_NEEDS_A_4_BYTE_IAID_AND_A_DUID,
            });
        }
        Ok(ClientId { data })
    }

    /// The whole value, type byte included.
    #[inline]
    pub fn data(&self) -> OptionData<'a> {
        self.data
    }

    /// What the identifier holds.
    #[inline]
    pub fn kind(&self) -> ClientIdKind<'a> {
        let rest = self
            .data
            .slice_from(1)
            .unwrap_or(OptionData::from_slice(&[]));
        match self.data.get(0).unwrap_or(0) {
            0 => ClientIdKind::Opaque(rest),
            255 => {
                let iaid = rest
                    .slice(0..4)
                    .and_then(|d| d.to_array::<4>())
                    .map_or(0, u32::from_be_bytes);
                let duid = rest.slice_from(4).unwrap_or(OptionData::from_slice(&[]));
                ClientIdKind::Rfc4361 { iaid, duid }
            }
            htype => ClientIdKind::Hardware {
                htype,
                address: rest,
            },
        }
    }
}

/// A client identifier (61) to write in the RFC 4361 form: type 255, the IAID, the DUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc4361ClientId<'d> {
    /// The identity association: which of the host's interfaces.
    pub iaid: u32,
    /// The host's DUID (RFC 8415), its 2-byte type included.
    pub duid: &'d [u8],
}

impl super::Encode for Rfc4361ClientId<'_> {
    const CODE: OptionCode = OptionCode::CLIENT_ID;

    #[inline]
    fn wire_len(&self) -> Result<usize, crate::wire::EmitError> {
        if self.duid.len() < 2 {
            return Err(super::bad_value(
                Self::CODE,
                Reason::DUID_SHORTER_THAN_ITS_2_BYTE_TYPE,
            ));
        }
        Ok(5 + self.duid.len())
    }

    #[inline]
    fn emit(&self, w: &mut crate::wire::ValueWriter<'_, '_>) -> Result<(), crate::wire::EmitError> {
        w.put(&[255])?;
        w.put(&self.iaid.to_be_bytes())?;
        w.put(self.duid)
    }
}
