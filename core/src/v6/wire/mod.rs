//! The DHCPv6 wire format (RFC 8415 sections 8, 9 and 21, and the option RFCs: 3646 DNS,
//! 4075 SNTP, 4580 subscriber id, 4649 remote id, 4704 FQDN, 5908 NTP, 6939 client
//! link-layer address).
//!
//! As for v4, parsing is a view: [`Message::parse`], [`RelayMessage::parse`] (or
//! [`Packet::parse`] for either, [`Relayed::parse`] for a message and every relay around
//! it) check every option's length once, up front; after that, walking the options cannot
//! fail, and typed accessors return `Ok(None)` for an absent option and `Err` for a
//! malformed one, without stopping the others being read. Options nested in an option
//! (IA_NA → IA_ADDR → status code) are checked when that option is read.
//!
//! [`MessageBuilder`] writes a message into the caller's buffer, nested options included;
//! a buffer too small is an error, never a cut message. Nothing here allocates.

mod builder;
mod code;
mod display;
mod error;
mod message;
mod options;
pub mod typed;

use core::net::Ipv6Addr;

pub use builder::{MessageBuilder, NtpServerSpec};
pub use code::{MessageType, OptionCode, Status};
pub use error::{EmitError, Expected, OptionError, ParseError};
pub use message::{
    Message, Packet, RelayMessage, Relayed, HEADER_LEN, MAX_RELAY_DEPTH, RELAY_HEADER_LEN,
};
pub use options::{OptionIter, Options, RawOption};

/// UDP port DHCPv6 clients listen on.
pub const CLIENT_PORT: u16 = 546;
/// UDP port DHCPv6 servers and relays listen on.
pub const SERVER_PORT: u16 = 547;
/// All_DHCP_Relay_Agents_and_Servers (ff02::1:2): where clients send, on their link.
pub const ALL_DHCP_RELAY_AGENTS_AND_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);
/// All_DHCP_Servers (ff05::1:3): site-scoped, where relays may send.
pub const ALL_DHCP_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff05, 0, 0, 0, 0, 0, 1, 3);
/// HOP_COUNT_LIMIT (RFC 8415 section 7.6): a relay does not forward a message relayed
/// this often.
pub const HOP_COUNT_LIMIT: u8 = 8;
