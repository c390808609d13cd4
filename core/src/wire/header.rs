//! The fixed BOOTP header: field offsets and the small types of its fields.

use core::fmt;

/// Byte ranges of the header fields (RFC 2131 figure 1).
pub(crate) mod field {
    use core::ops::Range;

    pub(crate) const OP: usize = 0;
    pub(crate) const HTYPE: usize = 1;
    pub(crate) const HLEN: usize = 2;
    pub(crate) const HOPS: usize = 3;
    pub(crate) const XID: Range<usize> = 4..8;
    pub(crate) const SECS: Range<usize> = 8..10;
    pub(crate) const FLAGS: Range<usize> = 10..12;
    pub(crate) const CIADDR: Range<usize> = 12..16;
    pub(crate) const YIADDR: Range<usize> = 16..20;
    pub(crate) const SIADDR: Range<usize> = 20..24;
    pub(crate) const GIADDR: Range<usize> = 24..28;
    pub(crate) const CHADDR: Range<usize> = 28..44;
    pub(crate) const SNAME: Range<usize> = 44..108;
    pub(crate) const FILE: Range<usize> = 108..236;
    pub(crate) const COOKIE: Range<usize> = 236..240;
}

/// The `op` field: which way the message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Op {
    /// Client (or relay) to server.
    BootRequest = 1,
    /// Server to client (or relay).
    BootReply = 2,
}

impl Op {
    /// The op for a wire value, if it is one.
    #[inline]
    pub fn from_u8(v: u8) -> Option<Op> {
        match v {
            1 => Some(Op::BootRequest),
            2 => Some(Op::BootReply),
            _ => None,
        }
    }
}

bitflags::bitflags! {
    /// The `flags` field. Bits other than BROADCAST are kept as they came (they must be zero,
    /// RFC 2131 section 2, but a relay forwards them untouched).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Flags: u16 {
        /// The client can't receive unicast before it has an address: reply by broadcast.
        const BROADCAST = 0x8000;
    }
}

/// The header areas options can live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// The `options` field after the magic cookie.
    Options,
    /// The `file` field, when option overload says so.
    File,
    /// The `sname` field, when option overload says so.
    Sname,
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Area::Options => "options",
            Area::File => "file",
            Area::Sname => "sname",
        })
    }
}

/// Option overload (52): which header fields carry options instead of names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Overload {
    /// `file` holds options.
    File = 1,
    /// `sname` holds options.
    Sname = 2,
    /// Both hold options (`file` first, then `sname`).
    Both = 3,
}

impl Overload {
    /// The overload for a wire value, if it is one.
    #[inline]
    pub fn from_u8(v: u8) -> Option<Overload> {
        match v {
            1 => Some(Overload::File),
            2 => Some(Overload::Sname),
            3 => Some(Overload::Both),
            _ => None,
        }
    }

    /// Whether `file` carries options.
    #[inline]
    pub fn file(self) -> bool {
        matches!(self, Overload::File | Overload::Both)
    }

    /// Whether `sname` carries options.
    #[inline]
    pub fn sname(self) -> bool {
        matches!(self, Overload::Sname | Overload::Both)
    }
}
