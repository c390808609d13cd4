//! The classes as a configuration states them: [`ClassConfig`], what a class matches
//! ([`Match`]) and the boot settings a scope carries ([`Boot`]).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use super::set::ClassId;
use crate::server::config::{Ipv4Net, LeaseTimes};
use crate::server::options::OptionSet;

/// What a class matches in a request. Byte strings compare exactly, case included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The vendor class identifier (60) is exactly these bytes.
    VendorClass(Vec<u8>),
    /// The vendor class identifier (60) starts with these bytes (`PXEClient`,
    /// `HTTPClient`, `MSFT 5.0`).
    VendorClassPrefix(Vec<u8>),
    /// One of the user classes (77, RFC 3004) is exactly these bytes, or the whole option
    /// is (iPXE sends `iPXE` as the bare value, not as an RFC 3004 list).
    UserClass(Vec<u8>),
    /// The client system architecture (93, RFC 4578) lists this type: 0 BIOS, 6 EFI IA32,
    /// 7 EFI x64 (and 9), 10 EFI ARM32, 11 EFI ARM64, 15/16 x64 UEFI HTTP boot...
    Architecture(u16),
    /// The relay agent's circuit id (82, sub-option 1) is exactly these bytes.
    CircuitId(Vec<u8>),
    /// The relay agent's remote id (82, sub-option 2) is exactly these bytes.
    RemoteId(Vec<u8>),
    /// The relay agent's subscriber id (82, sub-option 6, RFC 3993) is exactly these bytes.
    SubscriberId(Vec<u8>),
    /// The hardware address (`chaddr`) starts with these bytes: a whole address, or an
    /// OUI (three bytes).
    MacPrefix(Vec<u8>),
    /// The hardware type (`htype`): 1 for Ethernet.
    HardwareType(u8),
    /// The vendor-identifying vendor options (125, RFC 3925) hold a block for this
    /// enterprise number.
    Enterprise(u32),
    /// The request carries this option at all.
    HasOption(u8),
    /// The request came through a relay whose address (`giaddr`) is in this network.
    Relay(Ipv4Net),
    /// The client is in this class: one defined earlier in the configuration (or put
    /// there by a reservation), or a built-in one.
    Class(ClassId),
    /// Every one of these holds (none: a configuration mistake).
    All(Vec<Match>),
    /// At least one of these holds (none: a configuration mistake).
    Any(Vec<Match>),
    /// This does not hold.
    Not(Box<Match>),
}

impl Match {
    /// How deeply `all`, `any` and `not` nest (a plain test is 1).
    pub fn depth(&self) -> usize {
        match self {
            Match::All(v) | Match::Any(v) => 1 + v.iter().map(Match::depth).max().unwrap_or(0),
            Match::Not(m) => 1 + m.depth(),
            _ => 1,
        }
    }
}

/// Network boot settings: where a client that boots over the network finds its loader.
/// Each is optional in a scope and taken from the next scope out where unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Boot {
    /// The next server (`siaddr`): the TFTP server a PXE ROM loads the boot file from.
    pub next_server: Option<Ipv4Addr>,
    /// The server host name: in `sname` (at most 63 bytes), and in option 66 for a client
    /// that asks for it.
    pub server_name: Option<String>,
    /// The boot file: a path on the next server or a URL (iPXE, UEFI HTTP boot); in `file`
    /// (at most 127 bytes, else option 67 only), and in option 67 for a client that asks.
    pub boot_file: Option<String>,
}

impl Boot {
    /// `self`, with what it leaves unset taken from `base`.
    pub fn over(&self, base: &Boot) -> Boot {
        Boot {
            next_server: self.next_server.or(base.next_server),
            server_name: self
                .server_name
                .clone()
                .or_else(|| base.server_name.clone()),
            boot_file: self.boot_file.clone().or_else(|| base.boot_file.clone()),
        }
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.next_server.is_none() && self.server_name.is_none() && self.boot_file.is_none()
    }
}

/// One client class: what it matches and what its members get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassConfig {
    /// Its name, used by pools, reservations and other classes.
    pub name: String,
    /// What makes a client a member; `None`: only reservations put clients in it.
    pub matches: Option<Match>,
    /// Options for members, over the subnet's and the server's (a reservation's win).
    pub options: OptionSet,
    /// Boot settings for members, over the subnet's.
    pub boot: Boot,
    /// Lease times for members, over the subnet's.
    pub lease: LeaseTimes,
}

impl ClassConfig {
    /// A class named `name` matching `matches`, carrying nothing yet.
    pub fn new(name: impl Into<String>, matches: Option<Match>) -> Self {
        ClassConfig {
            name: name.into(),
            matches,
            options: OptionSet::new(),
            boot: Boot::default(),
            lease: LeaseTimes::default(),
        }
    }
}
