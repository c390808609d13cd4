//! [`Message`] (a client's or server's message) and [`RelayMessage`] (RELAY-FORW,
//! RELAY-REPL): views parsed once, whose options are then read without further checks;
//! [`Packet`], either one, and [`Relayed`], a message with the relays it came through.

use core::net::Ipv6Addr;

use super::code::{MessageType, OptionCode, Status};
use super::error::{OptionError, ParseError};
use super::options::Options;
use super::typed::{
    exact, DomainList, Duid, Fqdn, Ia, IaTa, Ipv6List, LinkLayerAddress, NtpServers, OptionList,
    RemoteId, StatusCode,
};

/// Length of a client/server message's header: type and transaction id.
pub const HEADER_LEN: usize = 4;
/// Length of a relay message's header: type, hop count, link and peer addresses.
pub const RELAY_HEADER_LEN: usize = 34;
/// Most relays in a row [`Relayed::parse`] follows: RFC 8415 section 7.6's HOP_COUNT_LIMIT
/// is 8 (a relay drops a message that has been relayed that often); this reads up to 32,
/// so a server configured past the RFC's limit still parses what it is sent.
pub const MAX_RELAY_DEPTH: usize = 32;

/// A DHCPv6 client or server message (every type but RELAY-FORW and RELAY-REPL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    bytes: &'a [u8],
    options: Options<'a>,
}

impl<'a> Message<'a> {
    /// Checks `bytes`: a four-byte header and whole options after it. The type may be one
    /// this crate doesn't know ([`message_type`](Self::message_type) is then `None`), but
    /// not a relay's.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        let Some((&kind, _)) = bytes.split_first().filter(|_| bytes.len() >= HEADER_LEN) else {
            return Err(ParseError::Truncated {
                len: bytes.len(),
                need: HEADER_LEN,
            });
        };
        if MessageType::from_u8(kind).is_some_and(MessageType::is_relay) {
            return Err(ParseError::WrongKind(kind));
        }
        let options = Options::parse(bytes.get(HEADER_LEN..).unwrap_or_default())?;
        Ok(Message { bytes, options })
    }

    /// The message as received.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The type byte.
    pub fn kind(&self) -> u8 {
        self.bytes.first().copied().unwrap_or(0)
    }

    /// The message type, or `None` for one this crate doesn't know.
    pub fn message_type(&self) -> Option<MessageType> {
        MessageType::from_u8(self.kind())
    }

    /// The transaction id (24 bits).
    pub fn transaction_id(&self) -> u32 {
        let b = self.bytes;
        u32::from_be_bytes([
            0,
            b.get(1).copied().unwrap_or(0),
            b.get(2).copied().unwrap_or(0),
            b.get(3).copied().unwrap_or(0),
        ])
    }

    /// The options.
    pub fn options(&self) -> Options<'a> {
        self.options
    }

    /// The first option `code`'s value.
    pub fn option(&self, code: OptionCode) -> Option<&'a [u8]> {
        self.options.get(code)
    }

    fn typed<T>(
        &self,
        code: OptionCode,
        read: impl FnOnce(&'a [u8]) -> Result<T, OptionError>,
    ) -> Result<Option<T>, OptionError> {
        self.option(code).map(read).transpose()
    }

    /// The client's DUID (1).
    pub fn client_id(&self) -> Result<Option<Duid<'a>>, OptionError> {
        self.typed(OptionCode::CLIENT_ID, |d| {
            Duid::new(OptionCode::CLIENT_ID, d)
        })
    }

    /// The server's DUID (2).
    pub fn server_id(&self) -> Result<Option<Duid<'a>>, OptionError> {
        self.typed(OptionCode::SERVER_ID, |d| {
            Duid::new(OptionCode::SERVER_ID, d)
        })
    }

    /// Every IA_NA (3), each checked as it is read.
    pub fn ia_nas(&self) -> impl Iterator<Item = Result<Ia<'a>, OptionError>> + 'a {
        self.options
            .all(OptionCode::IA_NA)
            .map(|d| Ia::parse(OptionCode::IA_NA, d))
    }

    /// Every IA_TA (4).
    pub fn ia_tas(&self) -> impl Iterator<Item = Result<IaTa<'a>, OptionError>> + 'a {
        self.options.all(OptionCode::IA_TA).map(IaTa::parse)
    }

    /// Every IA_PD (25).
    pub fn ia_pds(&self) -> impl Iterator<Item = Result<Ia<'a>, OptionError>> + 'a {
        self.options
            .all(OptionCode::IA_PD)
            .map(|d| Ia::parse(OptionCode::IA_PD, d))
    }

    /// The option request (6).
    pub fn option_request(&self) -> Result<Option<OptionList<'a>>, OptionError> {
        self.typed(OptionCode::ORO, OptionList::parse)
    }

    /// The server's preference (7), 0 to 255.
    pub fn preference(&self) -> Result<Option<u8>, OptionError> {
        self.typed(OptionCode::PREFERENCE, |d| {
            exact::<1>(OptionCode::PREFERENCE, d).map(|[p]| p)
        })
    }

    /// Elapsed time (8), in hundredths of a second (0xffff: that or more).
    pub fn elapsed_time(&self) -> Result<Option<u16>, OptionError> {
        self.typed(OptionCode::ELAPSED_TIME, |d| {
            exact::<2>(OptionCode::ELAPSED_TIME, d).map(u16::from_be_bytes)
        })
    }

    fn flag(&self, code: OptionCode) -> Result<bool, OptionError> {
        self.typed(code, |d| exact::<0>(code, d))
            .map(|o| o.is_some())
    }

    /// Rapid commit (14): present and empty.
    pub fn rapid_commit(&self) -> Result<bool, OptionError> {
        self.flag(OptionCode::RAPID_COMMIT)
    }

    /// Reconfigure accept (20): present and empty.
    pub fn reconfigure_accept(&self) -> Result<bool, OptionError> {
        self.flag(OptionCode::RECONF_ACCEPT)
    }

    /// The message's status code (13), if it carries one at the top level.
    pub fn status(&self) -> Result<Option<StatusCode<'a>>, OptionError> {
        self.typed(OptionCode::STATUS_CODE, StatusCode::parse)
    }

    /// The top-level status, `Success` when there is none (RFC 8415 section 21.13).
    pub fn status_or_success(&self) -> Result<Status, OptionError> {
        Ok(self.status()?.map_or(Status::SUCCESS, |s| s.status))
    }

    /// DNS recursive name servers (23, RFC 3646).
    pub fn dns_servers(&self) -> Result<Option<Ipv6List<'a>>, OptionError> {
        self.typed(OptionCode::DNS_SERVERS, |d| {
            Ipv6List::parse(OptionCode::DNS_SERVERS, d)
        })
    }

    /// Domain search list (24, RFC 3646).
    pub fn domain_list(&self) -> Result<Option<DomainList<'a>>, OptionError> {
        self.typed(OptionCode::DOMAIN_LIST, |d| {
            DomainList::parse(OptionCode::DOMAIN_LIST, d)
        })
    }

    /// SNTP servers (31, RFC 4075).
    pub fn sntp_servers(&self) -> Result<Option<Ipv6List<'a>>, OptionError> {
        self.typed(OptionCode::SNTP_SERVERS, |d| {
            Ipv6List::parse(OptionCode::SNTP_SERVERS, d)
        })
    }

    /// NTP servers (56, RFC 5908).
    pub fn ntp_servers(&self) -> Result<Option<NtpServers<'a>>, OptionError> {
        self.typed(OptionCode::NTP_SERVER, NtpServers::parse)
    }

    fn seconds(&self, code: OptionCode) -> Result<Option<u32>, OptionError> {
        self.typed(code, |d| exact::<4>(code, d).map(u32::from_be_bytes))
    }

    /// Information refresh time (32), seconds.
    pub fn information_refresh_time(&self) -> Result<Option<u32>, OptionError> {
        self.seconds(OptionCode::INFORMATION_REFRESH_TIME)
    }

    /// SOL_MAX_RT (82), seconds.
    pub fn sol_max_rt(&self) -> Result<Option<u32>, OptionError> {
        self.seconds(OptionCode::SOL_MAX_RT)
    }

    /// INF_MAX_RT (83), seconds.
    pub fn inf_max_rt(&self) -> Result<Option<u32>, OptionError> {
        self.seconds(OptionCode::INF_MAX_RT)
    }

    /// Client FQDN (39, RFC 4704).
    pub fn client_fqdn(&self) -> Result<Option<Fqdn<'a>>, OptionError> {
        self.typed(OptionCode::CLIENT_FQDN, Fqdn::parse)
    }
}

/// A relay message: RELAY-FORW on its way to the servers, RELAY-REPL on its way back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayMessage<'a> {
    bytes: &'a [u8],
    options: Options<'a>,
}

impl<'a> RelayMessage<'a> {
    /// Checks `bytes`: RELAY-FORW or RELAY-REPL, its 34-byte header, whole options.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        let kind = bytes.first().copied().unwrap_or(0);
        if !bytes.is_empty() && !MessageType::from_u8(kind).is_some_and(MessageType::is_relay) {
            return Err(ParseError::WrongKind(kind));
        }
        if bytes.len() < RELAY_HEADER_LEN {
            return Err(ParseError::Truncated {
                len: bytes.len(),
                need: RELAY_HEADER_LEN,
            });
        }
        let options = Options::parse(bytes.get(RELAY_HEADER_LEN..).unwrap_or_default())?;
        Ok(RelayMessage { bytes, options })
    }

    /// The message as received.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// RELAY-FORW or RELAY-REPL.
    pub fn message_type(&self) -> MessageType {
        match self.bytes.first() {
            Some(13) => MessageType::RelayRepl,
            _ => MessageType::RelayForw,
        }
    }

    /// How many relays the message went through before this one (0 for the first).
    pub fn hop_count(&self) -> u8 {
        self.bytes.get(1).copied().unwrap_or(0)
    }

    fn address(&self, at: usize) -> Ipv6Addr {
        let mut a = [0; 16];
        if let Some(s) = self.bytes.get(at..at + 16) {
            a.copy_from_slice(s);
        }
        Ipv6Addr::from(a)
    }

    /// An address of the link the client is on (unspecified when the relay can't say):
    /// it chooses the client's subnet.
    pub fn link_address(&self) -> Ipv6Addr {
        self.address(2)
    }

    /// Where the message came from: the client, or the relay before this one.
    pub fn peer_address(&self) -> Ipv6Addr {
        self.address(18)
    }

    /// The options.
    pub fn options(&self) -> Options<'a> {
        self.options
    }

    /// The message inside (relay-message option, 9), unparsed.
    pub fn relay_message(&self) -> Option<&'a [u8]> {
        self.options.get(OptionCode::RELAY_MSG)
    }

    /// The interface the relay got the message on (18), as the relay names it.
    pub fn interface_id(&self) -> Option<&'a [u8]> {
        self.options.get(OptionCode::INTERFACE_ID)
    }

    /// The relay's remote id (37, RFC 4649).
    pub fn remote_id(&self) -> Result<Option<RemoteId<'a>>, OptionError> {
        self.options
            .get(OptionCode::REMOTE_ID)
            .map(RemoteId::parse)
            .transpose()
    }

    /// The relay's subscriber id (38, RFC 4580).
    pub fn subscriber_id(&self) -> Option<&'a [u8]> {
        self.options.get(OptionCode::SUBSCRIBER_ID)
    }

    /// The client's link-layer address as the relay saw it (79, RFC 6939).
    pub fn client_link_layer_address(&self) -> Result<Option<LinkLayerAddress<'a>>, OptionError> {
        self.options
            .get(OptionCode::CLIENT_LINKLAYER_ADDR)
            .map(LinkLayerAddress::parse)
            .transpose()
    }
}

/// A DHCPv6 datagram: a client's or server's message, or a relay's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet<'a> {
    /// A client or server message.
    Message(Message<'a>),
    /// RELAY-FORW or RELAY-REPL.
    Relay(RelayMessage<'a>),
}

impl<'a> Packet<'a> {
    /// Checks `bytes` as whichever its type byte says.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        match bytes.first().copied().and_then(MessageType::from_u8) {
            Some(t) if t.is_relay() => RelayMessage::parse(bytes).map(Packet::Relay),
            _ => Message::parse(bytes).map(Packet::Message),
        }
    }
}

/// A message and the relays it came through, outermost first: what a server takes in,
/// and what it needs to wrap its reply the same way back (each relay's interface id and
/// peer address). Parsing walks the nesting in a loop, never recursion, and stops at
/// [`MAX_RELAY_DEPTH`] relays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relayed<'a> {
    /// The relays, outermost (the one that sent the datagram) first.
    pub relays: heapless::Vec<RelayMessage<'a>, MAX_RELAY_DEPTH>,
    /// The client's message.
    pub message: Message<'a>,
}

impl<'a> Relayed<'a> {
    /// Parses a datagram and every relay message nested in it down to the client's.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        let mut relays = heapless::Vec::new();
        let mut at = bytes;
        loop {
            match Packet::parse(at)? {
                Packet::Message(message) => return Ok(Relayed { relays, message }),
                Packet::Relay(r) => {
                    at = r.relay_message().ok_or(ParseError::NoRelayMessage)?;
                    relays
                        .push(r)
                        .map_err(|_| ParseError::TooDeep(MAX_RELAY_DEPTH))?;
                }
            }
        }
    }

    /// The relay closest to the client, whose link address says the client's link.
    pub fn innermost_relay(&self) -> Option<&RelayMessage<'a>> {
        self.relays.last()
    }
}
