//! The builder's named options: one method an option, each checking its value and writing
//! it through [`MessageBuilder::option`] or, for the typed values, through their own
//! encoders ([`MessageBuilder::value`]).

use core::net::Ipv4Addr;

use super::MessageBuilder;
use crate::wire::code::{MessageType, OptionCode};
use crate::wire::error::{EmitError, Reason};
use crate::wire::typed::{
    Encode, FqdnFlags, FqdnValue, RelayInfoValue, Rfc4361ClientId, Route, RouteList, SearchList,
    UserClassList, VendorBlocks,
};

impl MessageBuilder<'_> {
    #[inline]
    fn address(&mut self, code: OptionCode, a: Ipv4Addr) -> Result<&mut Self, EmitError> {
        self.option(code, &a.octets())
    }

    #[inline]
    fn addresses(&mut self, code: OptionCode, list: &[Ipv4Addr]) -> Result<&mut Self, EmitError> {
        if list.is_empty() {
            return Err(EmitError::BadValue {
                code,
                what: Reason::EMPTY_ADDRESS_LIST,
            });
        }
        self.option_with(code, list.len() * 4, |w| {
            list.iter().try_for_each(|a| w.put(&a.octets()))
        })
    }

    #[inline]
    fn text(&mut self, code: OptionCode, text: &[u8]) -> Result<&mut Self, EmitError> {
        if text.is_empty() {
            return Err(EmitError::BadValue {
                code,
                what: Reason::EMPTY_TEXT,
            });
        }
        self.option(code, text)
    }

    /// Writes a typed value with its own encoder ([`Encode`]): checked first, so a
    /// value that can't be written is an error and leaves the message as it was.
    #[inline]
    pub fn value<V: Encode>(&mut self, value: &V) -> Result<&mut Self, EmitError> {
        let len = value.wire_len()?;
        self.option_with(V::CODE, len, |w| value.emit(w))
    }

    /// DHCP message type (53).
    #[inline]
    pub fn message_type(&mut self, t: MessageType) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::MESSAGE_TYPE, &[t as u8])
    }

    /// Subnet mask (1); must be contiguous.
    #[inline]
    pub fn subnet_mask(&mut self, m: Ipv4Addr) -> Result<&mut Self, EmitError> {
        let bits = u32::from(m);
        if bits.leading_ones() + bits.trailing_zeros() != 32 {
            return Err(EmitError::BadValue {
                code: OptionCode::SUBNET_MASK,
                what: Reason::SUBNET_MASK_IS_NOT_CONTIGUOUS,
            });
        }
        self.address(OptionCode::SUBNET_MASK, m)
    }

    /// Routers (3).
    #[inline]
    pub fn routers(&mut self, list: &[Ipv4Addr]) -> Result<&mut Self, EmitError> {
        self.addresses(OptionCode::ROUTERS, list)
    }

    /// Domain name servers (6).
    #[inline]
    pub fn dns_servers(&mut self, list: &[Ipv4Addr]) -> Result<&mut Self, EmitError> {
        self.addresses(OptionCode::DNS_SERVERS, list)
    }

    /// Host name (12).
    #[inline]
    pub fn host_name(&mut self, name: &[u8]) -> Result<&mut Self, EmitError> {
        self.text(OptionCode::HOST_NAME, name)
    }

    /// Domain name (15).
    #[inline]
    pub fn domain_name(&mut self, name: &[u8]) -> Result<&mut Self, EmitError> {
        self.text(OptionCode::DOMAIN_NAME, name)
    }

    /// Interface MTU (26), at least 68.
    #[inline]
    pub fn mtu(&mut self, mtu: u16) -> Result<&mut Self, EmitError> {
        if mtu < 68 {
            return Err(EmitError::BadValue {
                code: OptionCode::MTU,
                what: Reason::MTU_BELOW_68,
            });
        }
        self.option(OptionCode::MTU, &mtu.to_be_bytes())
    }

    /// Broadcast address (28).
    #[inline]
    pub fn broadcast_address(&mut self, a: Ipv4Addr) -> Result<&mut Self, EmitError> {
        self.address(OptionCode::BROADCAST, a)
    }

    /// NTP servers (42).
    #[inline]
    pub fn ntp_servers(&mut self, list: &[Ipv4Addr]) -> Result<&mut Self, EmitError> {
        self.addresses(OptionCode::NTP_SERVERS, list)
    }

    /// Requested IP address (50).
    #[inline]
    pub fn requested_ip(&mut self, a: Ipv4Addr) -> Result<&mut Self, EmitError> {
        self.address(OptionCode::REQUESTED_IP, a)
    }

    /// Lease time (51) in seconds; `u32::MAX` is infinite.
    #[inline]
    pub fn lease_time(&mut self, secs: u32) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::LEASE_TIME, &secs.to_be_bytes())
    }

    /// Server identifier (54).
    #[inline]
    pub fn server_id(&mut self, a: Ipv4Addr) -> Result<&mut Self, EmitError> {
        self.address(OptionCode::SERVER_ID, a)
    }

    /// Parameter request list (55).
    #[inline]
    pub fn parameter_request_list(&mut self, codes: &[u8]) -> Result<&mut Self, EmitError> {
        self.text(OptionCode::PARAMETER_REQUEST_LIST, codes)
    }

    /// Message (56).
    #[inline]
    pub fn error_message(&mut self, text: &[u8]) -> Result<&mut Self, EmitError> {
        self.text(OptionCode::MESSAGE, text)
    }

    /// Maximum DHCP message size (57), at least 576.
    #[inline]
    pub fn max_message_size(&mut self, size: u16) -> Result<&mut Self, EmitError> {
        if size < 576 {
            return Err(EmitError::BadValue {
                code: OptionCode::MAX_MESSAGE_SIZE,
                what: Reason::MAXIMUM_MESSAGE_SIZE_BELOW_576,
            });
        }
        self.option(OptionCode::MAX_MESSAGE_SIZE, &size.to_be_bytes())
    }

    /// Renewal time T1 (58) in seconds.
    #[inline]
    pub fn renewal_time(&mut self, secs: u32) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::RENEWAL_TIME, &secs.to_be_bytes())
    }

    /// Rebinding time T2 (59) in seconds.
    #[inline]
    pub fn rebinding_time(&mut self, secs: u32) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::REBINDING_TIME, &secs.to_be_bytes())
    }

    /// Vendor class identifier (60).
    #[inline]
    pub fn vendor_class_id(&mut self, id: &[u8]) -> Result<&mut Self, EmitError> {
        self.text(OptionCode::VENDOR_CLASS_ID, id)
    }

    /// Client identifier (61), type byte included; at least 2 bytes.
    #[inline]
    pub fn client_id(&mut self, id: &[u8]) -> Result<&mut Self, EmitError> {
        if id.len() < 2 {
            return Err(EmitError::BadValue {
                code: OptionCode::CLIENT_ID,
                what: Reason::CLIENT_ID_SHORTER_THAN_2_BYTES,
            });
        }
        self.option(OptionCode::CLIENT_ID, id)
    }

    /// Client identifier (61) in the RFC 4361 form: type 255, IAID, DUID.
    #[inline]
    pub fn client_id_rfc4361(&mut self, iaid: u32, duid: &[u8]) -> Result<&mut Self, EmitError> {
        self.value(&Rfc4361ClientId { iaid, duid })
    }

    /// User classes (77, RFC 3004); each class 1..=255 bytes.
    #[inline]
    pub fn user_class(&mut self, classes: &[&[u8]]) -> Result<&mut Self, EmitError> {
        self.value(&UserClassList(classes))
    }

    /// Rapid commit (80, RFC 4039): an empty option.
    #[inline]
    pub fn rapid_commit(&mut self) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::RAPID_COMMIT, &[])
    }

    /// Client FQDN (81, RFC 4702). With [`FqdnFlags::E`] the name is written in DNS wire
    /// format: a name ending in '.' is fully qualified, else partial (no root label).
    #[inline]
    pub fn client_fqdn(&mut self, flags: FqdnFlags, name: &str) -> Result<&mut Self, EmitError> {
        self.value(&FqdnValue { flags, name })
    }

    /// Relay agent information (82, RFC 3046) from sub-options, each at most 255 bytes.
    #[inline]
    pub fn relay_agent_info(&mut self, subs: &[(u8, &[u8])]) -> Result<&mut Self, EmitError> {
        self.value(&RelayInfoValue(subs))
    }

    /// IPv6-only preferred (108, RFC 8925): V6ONLY_WAIT in seconds.
    #[inline]
    pub fn ipv6_only_preferred(&mut self, secs: u32) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::IPV6_ONLY_PREFERRED, &secs.to_be_bytes())
    }

    /// Captive portal URI (114, RFC 8910).
    #[inline]
    pub fn captive_portal(&mut self, uri: &[u8]) -> Result<&mut Self, EmitError> {
        self.text(OptionCode::CAPTIVE_PORTAL, uri)
    }

    /// Subnet selection (118, RFC 3011).
    #[inline]
    pub fn subnet_selection(&mut self, a: Ipv4Addr) -> Result<&mut Self, EmitError> {
        self.address(OptionCode::SUBNET_SELECTION, a)
    }

    /// Domain search list (119, RFC 3397), written without compression. Names are dotted,
    /// a trailing dot optional; labels 1..=63 bytes, names at most 255 in wire format.
    #[inline]
    pub fn domain_search(&mut self, names: &[&str]) -> Result<&mut Self, EmitError> {
        self.value(&SearchList(names))
    }

    /// Classless static routes (121, RFC 3442). Destination bits past the prefix are dropped.
    #[inline]
    pub fn classless_routes(&mut self, routes: &[Route]) -> Result<&mut Self, EmitError> {
        self.value(&RouteList(routes))
    }

    /// Vendor-identifying vendor options (125, RFC 3925): per enterprise number, its
    /// already-encoded sub-options (at most 255 bytes each block).
    #[inline]
    pub fn vendor_identifying(&mut self, blocks: &[(u32, &[u8])]) -> Result<&mut Self, EmitError> {
        self.value(&VendorBlocks(blocks))
    }
}
