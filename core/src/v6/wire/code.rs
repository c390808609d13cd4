//! DHCPv6 option codes, message types and status codes (RFC 8415 sections 7.3, 21, and
//! the IANA registry for the later ones).

use core::fmt;

/// A DHCPv6 option code (two bytes). The constants name the codes this crate knows; any
/// other value is a valid code too, carried as raw bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OptionCode(pub u16);

macro_rules! option_codes {
    ($( $(#[$doc:meta])* $name:ident = $value:literal, $label:literal; )*) => {
        impl OptionCode {
            $( $(#[$doc])* pub const $name: OptionCode = OptionCode($value); )*

            /// The option's name as tcpdump prints it, or `None` for codes not listed here.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($label), )*
                    _ => None,
                }
            }
        }
    };
}

option_codes! {
    /// Client identifier (1): the client's DUID.
    CLIENT_ID = 1, "client-ID";
    /// Server identifier (2): the server's DUID.
    SERVER_ID = 2, "server-ID";
    /// Identity association for non-temporary addresses (3).
    IA_NA = 3, "IA_NA";
    /// Identity association for temporary addresses (4).
    IA_TA = 4, "IA_TA";
    /// An address inside an IA_NA or IA_TA (5).
    IA_ADDR = 5, "IA_ADDR";
    /// Option request (6): the codes the client wants.
    ORO = 6, "option-request";
    /// Server preference (7).
    PREFERENCE = 7, "preference";
    /// Elapsed time (8), in hundredths of a second.
    ELAPSED_TIME = 8, "elapsed-time";
    /// Relay message (9): the message a relay forwards or returns.
    RELAY_MSG = 9, "relay-message";
    /// Authentication (11).
    AUTH = 11, "authentication";
    /// Server unicast (12), obsoleted by RFC 8415 for servers to send.
    UNICAST = 12, "server-unicast";
    /// Status code (13).
    STATUS_CODE = 13, "status-code";
    /// Rapid commit (14).
    RAPID_COMMIT = 14, "rapid-commit";
    /// User class (15).
    USER_CLASS = 15, "user-class";
    /// Vendor class (16).
    VENDOR_CLASS = 16, "vendor-class";
    /// Vendor-specific information (17).
    VENDOR_OPTS = 17, "vendor-specific-info";
    /// Interface id (18), set by a relay.
    INTERFACE_ID = 18, "interface-ID";
    /// Reconfigure message (19).
    RECONF_MSG = 19, "reconfigure-message";
    /// Reconfigure accept (20).
    RECONF_ACCEPT = 20, "reconfigure-accept";
    /// DNS recursive name servers (23, RFC 3646).
    DNS_SERVERS = 23, "DNS-server";
    /// Domain search list (24, RFC 3646).
    DOMAIN_LIST = 24, "DNS-search-list";
    /// Identity association for prefix delegation (25).
    IA_PD = 25, "IA_PD";
    /// A prefix inside an IA_PD (26).
    IA_PREFIX = 26, "IA_PD-prefix";
    /// SNTP servers (31, RFC 4075).
    SNTP_SERVERS = 31, "SNTP-servers";
    /// Information refresh time (32).
    INFORMATION_REFRESH_TIME = 32, "information-refresh-time";
    /// Relay agent remote id (37, RFC 4649).
    REMOTE_ID = 37, "Remote-ID";
    /// Relay agent subscriber id (38, RFC 4580).
    SUBSCRIBER_ID = 38, "Subscriber-ID";
    /// Client FQDN (39, RFC 4704).
    CLIENT_FQDN = 39, "Client-FQDN";
    /// NTP server (56, RFC 5908).
    NTP_SERVER = 56, "NTP-server";
    /// Client link-layer address (79, RFC 6939), set by a relay.
    CLIENT_LINKLAYER_ADDR = 79, "client-link-layer-address";
    /// Most seconds between SOLICITs (82).
    SOL_MAX_RT = 82, "SOL_MAX_RT";
    /// Most seconds between INFORMATION-REQUESTs (83).
    INF_MAX_RT = 83, "INF_MAX_RT";
}

impl fmt::Display for OptionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} ({})", self.0),
            None => write!(f, "option {}", self.0),
        }
    }
}

/// A DHCPv6 message type (RFC 8415 section 7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    /// A client looks for servers.
    Solicit = 1,
    /// A server answers a SOLICIT.
    Advertise = 2,
    /// A client asks one server for addresses or prefixes.
    Request = 3,
    /// A client asks whether its addresses are still on its link.
    Confirm = 4,
    /// A client extends its leases with the server that gave them.
    Renew = 5,
    /// A client extends its leases with any server.
    Rebind = 6,
    /// A server's answer to everything but SOLICIT.
    Reply = 7,
    /// A client gives leases back.
    Release = 8,
    /// A client says an address is already in use on its link.
    Decline = 9,
    /// A server asks a client to renew or ask again.
    Reconfigure = 10,
    /// A client asks for configuration only, no addresses.
    InformationRequest = 11,
    /// A relay forwards a message towards the servers.
    RelayForw = 12,
    /// A server's reply for a relay to pass on.
    RelayRepl = 13,
}

impl From<MessageType> for u8 {
    fn from(t: MessageType) -> u8 {
        t as u8
    }
}

impl MessageType {
    /// The type a message's first byte names, or `None` for another value.
    pub fn from_u8(v: u8) -> Option<Self> {
        use MessageType::*;
        Some(match v {
            1 => Solicit,
            2 => Advertise,
            3 => Request,
            4 => Confirm,
            5 => Renew,
            6 => Rebind,
            7 => Reply,
            8 => Release,
            9 => Decline,
            10 => Reconfigure,
            11 => InformationRequest,
            12 => RelayForw,
            13 => RelayRepl,
            _ => return None,
        })
    }

    /// The name as tcpdump prints it (`solicit`, `relay-fwd`, ...).
    pub fn name(self) -> &'static str {
        use MessageType::*;
        match self {
            Solicit => "solicit",
            Advertise => "advertise",
            Request => "request",
            Confirm => "confirm",
            Renew => "renew",
            Rebind => "rebind",
            Reply => "reply",
            Release => "release",
            Decline => "decline",
            Reconfigure => "reconfigure",
            InformationRequest => "inf-req",
            RelayForw => "relay-fwd",
            RelayRepl => "relay-reply",
        }
    }

    /// True for RELAY-FORW and RELAY-REPL, whose header is a relay's.
    pub fn is_relay(self) -> bool {
        matches!(self, MessageType::RelayForw | MessageType::RelayRepl)
    }
}

/// A status code (option 13, RFC 8415 section 21.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status(pub u16);

impl Status {
    /// Success.
    pub const SUCCESS: Status = Status(0);
    /// Failure, reason unspecified.
    pub const UNSPEC_FAIL: Status = Status(1);
    /// The server has no addresses for the IA.
    pub const NO_ADDRS_AVAIL: Status = Status(2);
    /// The client's binding is unknown to the server.
    pub const NO_BINDING: Status = Status(3);
    /// The prefix of an address is not right for the client's link.
    pub const NOT_ON_LINK: Status = Status(4);
    /// The client must use multicast to reach the server.
    pub const USE_MULTICAST: Status = Status(5);
    /// The server has no prefixes for the IA_PD.
    pub const NO_PREFIX_AVAIL: Status = Status(6);

    /// The code's name as RFC 8415 writes it, or `None` for another value.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "Success",
            1 => "UnspecFail",
            2 => "NoAddrsAvail",
            3 => "NoBinding",
            4 => "NotOnLink",
            5 => "UseMulticast",
            6 => "NoPrefixAvail",
            _ => return None,
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "status {}", self.0),
        }
    }
}
