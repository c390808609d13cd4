//! The DHCPv4 wire format (RFC 2131, RFC 2132 and the option RFCs that followed).
//!
//! Parsing is a view: [`Message::parse`] checks every length once, up front, and after that
//! no accessor can panic or read out of bounds. Options are read where they lie, in the
//! `options` field and, with option overload (52), in `file` and `sname`; an option that
//! appears several times is one value, the concatenation (RFC 3396), read through
//! [`OptionData`] without copying.
//!
//! Emitting is a builder: [`MessageBuilder`] writes into a caller's buffer and returns the
//! length, splitting long values (RFC 3396) and overloading into `file`/`sname` when asked.
//! A buffer that is too small is an error, never a truncated packet.
//!
//! Nothing here allocates.

mod builder;
mod code;
mod data;
mod display;
mod error;
mod header;
mod message;
mod options;
pub mod typed;

pub use builder::{MessageBuilder, ValueWriter};
pub use code::{MessageType, OptionCode};
pub use data::{Bytes, OptionData, Segments};
pub(crate) use display::write_visible;
pub use display::OptionValue;
pub use error::{EmitError, Expected, HeaderField, OptionError, ParseError, Reason};
pub use header::{Area, Flags, Op, Overload};
pub use message::Message;
pub use options::{RawOption, RawOptions};

/// UDP port DHCP servers and relays listen on.
pub const SERVER_PORT: u16 = 67;
/// UDP port DHCP clients listen on.
pub const CLIENT_PORT: u16 = 68;
/// The four bytes that open the options field of every DHCP message (RFC 2131 section 3).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Length of the fixed BOOTP header, up to and excluding the magic cookie.
pub const HEADER_LEN: usize = 236;
/// Offset of the first option: the fixed header plus the magic cookie.
pub const OPTIONS_OFFSET: usize = 240;
/// The smallest BOOTP message (RFC 951: a 64-byte vendor area); some relays and old clients
/// drop anything shorter, so [`MessageBuilder`] pads to it by default.
pub const BOOTP_MIN_LEN: usize = 300;
/// The largest message every DHCP host must accept (RFC 2131 section 2): 576-byte IP
/// datagram less the IP and UDP headers.
pub const DEFAULT_MAX_LEN: usize = 576 - 20 - 8;
