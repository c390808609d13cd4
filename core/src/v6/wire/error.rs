//! Typed errors of the DHCPv6 codec.

use super::code::OptionCode;

/// Why a buffer is not a DHCPv6 message or relay message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Shorter than its header: 4 bytes for a client/server message, 34 for a relay's.
    #[error("message is {len} bytes, shorter than its {need}-byte header")]
    Truncated {
        /// Length of the buffer.
        len: usize,
        /// Length of the header its type needs.
        need: usize,
    },
    /// An option's length runs past the end of the options (or of the option it is in).
    #[error("{code} at offset {offset} runs past the end")]
    OptionOverrun {
        /// The option's code.
        code: OptionCode,
        /// Offset of the option's code in the bytes being walked.
        offset: usize,
    },
    /// Fewer than 4 bytes left where an option's code and length should be.
    #[error("{left} stray bytes at offset {offset} where an option should start")]
    StrayBytes {
        /// Where they are.
        offset: usize,
        /// How many.
        left: usize,
    },
    /// A client/server message was expected, and this is a relay's (or the reverse).
    #[error("message type {0} is not what was expected here")]
    WrongKind(u8),
    /// A relay message carries no relay-message option (9).
    #[error("relay message without a relay-message option")]
    NoRelayMessage,
    /// Relay messages nested deeper than the codec follows.
    #[error("relay messages nested more than {0} deep")]
    TooDeep(usize),
}

/// What length a typed option needs; part of [`OptionError::BadLength`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Exactly this many bytes.
    Exactly(u16),
    /// At least this many bytes.
    AtLeast(u16),
    /// A non-zero multiple of this many bytes.
    MultipleOf(u16),
    /// At most this many bytes.
    AtMost(u16),
}

impl core::fmt::Display for Expected {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Expected::Exactly(n) => write!(f, "exactly {n}"),
            Expected::AtLeast(n) => write!(f, "at least {n}"),
            Expected::MultipleOf(n) => write!(f, "a non-zero multiple of {n}"),
            Expected::AtMost(n) => write!(f, "at most {n}"),
        }
    }
}

/// Why an option present in a message does not hold a valid value of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// The option's length does not fit its type.
    #[error("{code}: length {len}, expected {expected}")]
    BadLength {
        /// The option.
        code: OptionCode,
        /// Its length.
        len: u16,
        /// What its type needs.
        expected: Expected,
    },
    /// The length fits, the content does not.
    #[error("{code}: {what}")]
    BadValue {
        /// The option.
        code: OptionCode,
        /// What is wrong with it.
        what: &'static str,
    },
    /// The options nested inside it do not parse.
    #[error("{code}: the options inside it: {inner}")]
    Nested {
        /// The option that holds them.
        code: OptionCode,
        /// What is wrong inside.
        inner: ParseError,
    },
}

/// Why a message could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// The buffer has no room for what was being written; nothing of it was written.
    #[error("buffer too small: {needed} more bytes needed")]
    BufferTooSmall {
        /// Bytes that were missing.
        needed: usize,
    },
    /// A value longer than an option can hold (65 535 bytes).
    #[error("{code}: value of {len} bytes is longer than an option holds")]
    TooLong {
        /// The option.
        code: OptionCode,
        /// The value's length.
        len: usize,
    },
    /// A value that is not valid for its option.
    #[error("{code}: {what}")]
    BadValue {
        /// The option.
        code: OptionCode,
        /// What is wrong with it.
        what: &'static str,
    },
}
