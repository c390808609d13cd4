//! Typed errors of the codec.

use core::fmt;

use super::code::OptionCode;
use super::header::Area;

/// Why a buffer is not a DHCP message. Returned by [`Message::parse`](super::Message::parse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The buffer ends before the fixed header and magic cookie (240 bytes).
    #[error("message is {len} bytes, shorter than the 240-byte DHCP header")]
    Truncated {
        /// Length of the buffer.
        len: usize,
    },
    /// The `op` field is neither BOOTREQUEST (1) nor BOOTREPLY (2).
    #[error("op code {0} is neither BOOTREQUEST (1) nor BOOTREPLY (2)")]
    BadOp(u8),
    /// `hlen` is larger than the 16 bytes of `chaddr`.
    #[error("hardware address length {0} is more than the 16 bytes of chaddr")]
    BadHlen(u8),
    /// The four bytes after the header are not the DHCP magic cookie.
    #[error("bad magic cookie {0:02x?}, expected [63, 82, 53, 63]")]
    BadMagicCookie([u8; 4]),
    /// An option's length byte points past the end of the area it is in.
    #[error("option {code} at offset {offset} overruns the {area} area")]
    OptionOverrun {
        /// The option's code.
        code: u8,
        /// Offset of the option's code byte in the message.
        offset: usize,
        /// The area the option is in.
        area: Area,
    },
    /// Option overload (52) is not one byte of value 1, 2 or 3.
    #[error("option overload (52) must be one byte of value 1, 2 or 3")]
    BadOverload,
}

/// What length a typed option needs; part of [`OptionError::BadLength`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Exactly this many bytes.
    Exactly(usize),
    /// At least this many bytes.
    AtLeast(usize),
    /// A non-zero multiple of this many bytes.
    MultipleOf(usize),
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Exactly(n) => write!(f, "exactly {n}"),
            Expected::AtLeast(n) => write!(f, "at least {n}"),
            Expected::MultipleOf(n) => write!(f, "a non-zero multiple of {n}"),
        }
    }
}

/// Why an option present in a message does not hold a valid value of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// The option's length does not fit its type.
    #[error("option {code}: length {len}, expected {expected}")]
    BadLength {
        /// The option.
        code: OptionCode,
        /// Its length (after RFC 3396 concatenation).
        len: usize,
        /// What its type needs.
        expected: Expected,
    },
    /// The length fits, the content does not.
    #[error("option {code}: {what}")]
    BadValue {
        /// The option.
        code: OptionCode,
        /// What is wrong with it.
        what: &'static str,
    },
}

impl OptionError {
    /// The option the error is about.
    pub fn code(&self) -> OptionCode {
        match self {
            OptionError::BadLength { code, .. } | OptionError::BadValue { code, .. } => *code,
        }
    }
}

/// Why [`MessageBuilder`](super::MessageBuilder) could not write a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// The message does not fit in the buffer (or in the maximum length set).
    #[error("message does not fit in {available} bytes")]
    BufferTooSmall {
        /// The space there was: the buffer or the maximum length, whichever is smaller.
        available: usize,
    },
    /// A header field was given more bytes than it holds.
    #[error("{field} is {len} bytes, the field holds at most {max}")]
    FieldTooLong {
        /// The header field.
        field: &'static str,
        /// The length given.
        len: usize,
        /// The field's size.
        max: usize,
    },
    /// A typed option value cannot be encoded.
    #[error("option {code}: {what}")]
    BadValue {
        /// The option.
        code: OptionCode,
        /// What is wrong with the value.
        what: &'static str,
    },
    /// Pad (0) and end (255) are written by the builder, not by callers.
    #[error("option code {0} is reserved for pad/end")]
    ReservedCode(u8),
}
