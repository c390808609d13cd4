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
    Exactly(u8),
    /// At least this many bytes.
    AtLeast(u8),
    /// A non-zero multiple of this many bytes.
    MultipleOf(u8),
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
        /// Its length (after RFC 3396 concatenation; a DHCP message is under 64 KiB).
        len: u16,
        /// What its type needs.
        expected: Expected,
    },
    /// The length fits, the content does not.
    #[error("option {code}: {what}")]
    BadValue {
        /// The option.
        code: OptionCode,
        /// What is wrong with it.
        what: Reason,
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
        /// The space there was: the buffer or the maximum length, whichever is smaller
        /// (saturated at `u32::MAX`).
        available: u32,
    },
    /// A header field was given more bytes than it holds.
    #[error("{field} is {len} bytes, the field holds at most {max}")]
    FieldTooLong {
        /// The header field.
        field: HeaderField,
        /// The length given (saturated at `u16::MAX`).
        len: u16,
        /// The field's size.
        max: u16,
    },
    /// A typed option value cannot be encoded.
    #[error("option {code}: {what}")]
    BadValue {
        /// The option.
        code: OptionCode,
        /// What is wrong with the value.
        what: Reason,
    },
    /// Pad (0) and end (255) are written by the builder, not by callers.
    #[error("option code {0} is reserved for pad/end")]
    ReservedCode(u8),
}

/// What is wrong with an option's value: one of a fixed set of reasons, each with its text.
/// One byte, so that errors stay small and results return in registers.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reason(u8);

macro_rules! reasons {
    ($( $(#[$doc:meta])* $name:ident = $text:literal; )*) => {
        const REASON_TEXT: &[&str] = &[$($text),*];

        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        enum ReasonIndex { $($name),* }

        impl Reason {
            $( $(#[$doc])* pub const $name: Reason = Reason(ReasonIndex::$name as u8); )*
        }
    };
}

reasons! {
    /// "subnet mask is not contiguous"
    SUBNET_MASK_IS_NOT_CONTIGUOUS = "subnet mask is not contiguous";
    /// "MTU below 68"
    MTU_BELOW_68 = "MTU below 68";
    /// "unknown message type"
    UNKNOWN_MESSAGE_TYPE = "unknown message type";
    /// "maximum message size below 576"
    MAXIMUM_MESSAGE_SIZE_BELOW_576 = "maximum message size below 576";
    /// "empty address list"
    EMPTY_ADDRESS_LIST = "empty address list";
    /// "empty text"
    EMPTY_TEXT = "empty text";
    /// "client id shorter than 2 bytes"
    CLIENT_ID_SHORTER_THAN_2_BYTES = "client id shorter than 2 bytes";
    /// "DUID shorter than its 2-byte type"
    DUID_SHORTER_THAN_ITS_2_BYTE_TYPE = "DUID shorter than its 2-byte type";
    /// "user classes must be 1..=255 bytes each, at least one"
    USER_CLASSES_MUST_BE_1_255_BYTES_EACH_AT_LEAST_ONE = "user classes must be 1..=255 bytes each, at least one";
    /// "sub-options must be at most 255 bytes each, at least one"
    SUB_OPTIONS_MUST_BE_AT_MOST_255_BYTES_EACH_AT_LEAST_ONE = "sub-options must be at most 255 bytes each, at least one";
    /// "empty search list"
    EMPTY_SEARCH_LIST = "empty search list";
    /// "routes must have prefix lengths of at most 32, at least one route"
    ROUTES_MUST_HAVE_PREFIX_LENGTHS_OF_AT_MOST_32_AT_LEAST_ONE_ROUTE = "routes must have prefix lengths of at most 32, at least one route";
    /// "enterprise blocks must be at most 255 bytes each, at least one"
    ENTERPRISE_BLOCKS_MUST_BE_AT_MOST_255_BYTES_EACH_AT_LEAST_ONE = "enterprise blocks must be at most 255 bytes each, at least one";
    /// "domain labels must be 1..=63 bytes"
    DOMAIN_LABELS_MUST_BE_1_63_BYTES = "domain labels must be 1..=63 bytes";
    /// "domain name longer than 255 bytes"
    DOMAIN_NAME_LONGER_THAN_255_BYTES = "domain name longer than 255 bytes";
    /// "empty user class"
    EMPTY_USER_CLASS = "empty user class";
    /// "user class runs past the end of the option"
    USER_CLASS_RUNS_PAST_THE_END_OF_THE_OPTION = "user class runs past the end of the option";
    /// "RFC 4361 client id needs a 4-byte IAID and a DUID"
    RFC_4361_CLIENT_ID_NEEDS_A_4_BYTE_IAID_AND_A_DUID = "RFC 4361 client id needs a 4-byte IAID and a DUID";
    /// "enterprise block runs past the end of the option"
    ENTERPRISE_BLOCK_RUNS_PAST_THE_END_OF_THE_OPTION = "enterprise block runs past the end of the option";
    /// "address sub-option is not 4 bytes"
    ADDRESS_SUB_OPTION_IS_NOT_4_BYTES = "address sub-option is not 4 bytes";
    /// "bytes after the domain name"
    BYTES_AFTER_THE_DOMAIN_NAME = "bytes after the domain name";
    /// "sub-option header runs past the end of the option"
    SUB_OPTION_HEADER_RUNS_PAST_THE_END_OF_THE_OPTION = "sub-option header runs past the end of the option";
    /// "sub-option runs past the end of the option"
    SUB_OPTION_RUNS_PAST_THE_END_OF_THE_OPTION = "sub-option runs past the end of the option";
    /// "route prefix length over 32"
    ROUTE_PREFIX_LENGTH_OVER_32 = "route prefix length over 32";
    /// "route runs past the end of the option"
    ROUTE_RUNS_PAST_THE_END_OF_THE_OPTION = "route runs past the end of the option";
    /// "domain name runs past the end of the option"
    DOMAIN_NAME_RUNS_PAST_THE_END_OF_THE_OPTION = "domain name runs past the end of the option";
    /// "label runs past the end of the option"
    LABEL_RUNS_PAST_THE_END_OF_THE_OPTION = "label runs past the end of the option";
    /// "compression pointer runs past the end of the option"
    COMPRESSION_POINTER_RUNS_PAST_THE_END_OF_THE_OPTION = "compression pointer runs past the end of the option";
    /// "compression pointer does not point backwards"
    COMPRESSION_POINTER_DOES_NOT_POINT_BACKWARDS = "compression pointer does not point backwards";
    /// "bad label type"
    BAD_LABEL_TYPE = "bad label type";
}

impl Reason {
    /// The reason as text.
    pub fn as_str(self) -> &'static str {
        REASON_TEXT
            .get(usize::from(self.0))
            .copied()
            .unwrap_or("invalid value")
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// A header field a builder setter can be given too much for; part of
/// [`EmitError::FieldTooLong`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderField {
    /// `chaddr` (16 bytes).
    Chaddr,
    /// `sname` (63 bytes and a NUL).
    Sname,
    /// `file` (127 bytes and a NUL).
    File,
    /// `sname` while option overload already put options there.
    SnameHoldsOptions,
    /// `file` while option overload already put options there.
    FileHoldsOptions,
}

impl fmt::Display for HeaderField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeaderField::Chaddr => "chaddr",
            HeaderField::Sname => "sname",
            HeaderField::File => "file",
            HeaderField::SnameHoldsOptions => "sname (holds options)",
            HeaderField::FileHoldsOptions => "file (holds options)",
        })
    }
}

/// A length as an error carries it.
pub(crate) fn saturate<T: TryFrom<usize> + Copy>(n: usize, max: T) -> T {
    T::try_from(n).unwrap_or(max)
}
