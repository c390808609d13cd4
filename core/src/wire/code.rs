//! Option codes and DHCP message types.

use core::fmt;

/// A DHCP option code. The constants name the codes this crate knows; any other `u8` is a
/// valid code too, carried as raw bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OptionCode(pub u8);

macro_rules! option_codes {
    ($( $(#[$doc:meta])* $name:ident = $value:literal, $label:literal; )*) => {
        impl OptionCode {
            $( $(#[$doc])* pub const $name: OptionCode = OptionCode($value); )*

            /// The option's name as `tcpdump -v` prints it, or `None` for codes not listed here.
            #[inline]
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
    /// Pad (0): one byte of padding.
    PAD = 0, "PAD";
    /// Subnet mask (1).
    SUBNET_MASK = 1, "Subnet-Mask";
    /// Time offset (2).
    TIME_OFFSET = 2, "Time-Zone";
    /// Routers (3).
    ROUTERS = 3, "Default-Gateway";
    /// Time servers (4).
    TIME_SERVERS = 4, "Time-Server";
    /// Domain name servers (6).
    DNS_SERVERS = 6, "Domain-Name-Server";
    /// Log servers (7).
    LOG_SERVERS = 7, "Log-Server";
    /// Host name (12).
    HOST_NAME = 12, "Hostname";
    /// Boot file size (13).
    BOOT_SIZE = 13, "Boot-Size";
    /// Domain name (15).
    DOMAIN_NAME = 15, "Domain-Name";
    /// Root path (17).
    ROOT_PATH = 17, "Root-Path";
    /// IP forwarding (19).
    IP_FORWARDING = 19, "IP-Forwarding";
    /// Default IP TTL (23).
    DEFAULT_TTL = 23, "Default-IP-TTL";
    /// Interface MTU (26).
    MTU = 26, "Interface-MTU";
    /// Broadcast address (28).
    BROADCAST = 28, "BR";
    /// Static routes (33).
    STATIC_ROUTES = 33, "Static-Route";
    /// NIS domain (40).
    NIS_DOMAIN = 40, "NIS-Domain";
    /// NIS servers (41).
    NIS_SERVERS = 41, "NIS-Server";
    /// NTP servers (42).
    NTP_SERVERS = 42, "NTP";
    /// Vendor-specific information (43).
    VENDOR_SPECIFIC = 43, "Vendor-Option";
    /// NetBIOS name servers (44).
    NETBIOS_NAME_SERVERS = 44, "NetBIOS-Name-Server";
    /// NetBIOS node type (46).
    NETBIOS_NODE_TYPE = 46, "NetBIOS-Node";
    /// NetBIOS scope (47).
    NETBIOS_SCOPE = 47, "NetBIOS-Scope";
    /// Requested IP address (50).
    REQUESTED_IP = 50, "Requested-IP";
    /// IP address lease time (51).
    LEASE_TIME = 51, "Lease-Time";
    /// Option overload (52).
    OVERLOAD = 52, "Option-Overload";
    /// DHCP message type (53).
    MESSAGE_TYPE = 53, "DHCP-Message";
    /// Server identifier (54).
    SERVER_ID = 54, "Server-ID";
    /// Parameter request list (55).
    PARAMETER_REQUEST_LIST = 55, "Parameter-Request";
    /// Message (56): an error text.
    MESSAGE = 56, "MSG";
    /// Maximum DHCP message size (57).
    MAX_MESSAGE_SIZE = 57, "MSZ";
    /// Renewal (T1) time (58).
    RENEWAL_TIME = 58, "RN";
    /// Rebinding (T2) time (59).
    REBINDING_TIME = 59, "RB";
    /// Vendor class identifier (60).
    VENDOR_CLASS_ID = 60, "Vendor-Class";
    /// Client identifier (61).
    CLIENT_ID = 61, "Client-ID";
    /// TFTP server name (66).
    TFTP_SERVER = 66, "TFTP";
    /// Bootfile name (67).
    BOOTFILE = 67, "BF";
    /// User class (77, RFC 3004).
    USER_CLASS = 77, "User-Class";
    /// Rapid commit (80, RFC 4039).
    RAPID_COMMIT = 80, "Rapid-Commit";
    /// Client FQDN (81, RFC 4702).
    CLIENT_FQDN = 81, "FQDN";
    /// Relay agent information (82, RFC 3046).
    RELAY_AGENT_INFO = 82, "Agent-Information";
    /// Client system architecture (93, RFC 4578).
    CLIENT_ARCH = 93, "Client-Arch";
    /// Client network interface identifier (94, RFC 4578).
    CLIENT_NDI = 94, "Client-NDI";
    /// Client machine identifier (97, RFC 4578).
    CLIENT_UUID = 97, "GUID";
    /// IPv6-only preferred (108, RFC 8925).
    IPV6_ONLY_PREFERRED = 108, "IPv6-Only-Preferred";
    /// Captive portal URI (114, RFC 8910).
    CAPTIVE_PORTAL = 114, "Captive-Portal";
    /// Subnet selection (118, RFC 3011).
    SUBNET_SELECTION = 118, "Subnet-Selection";
    /// Domain search list (119, RFC 3397).
    DOMAIN_SEARCH = 119, "Domain-Search";
    /// Classless static routes (121, RFC 3442).
    CLASSLESS_ROUTES = 121, "Classless-Static-Route";
    /// Vendor-identifying vendor class (124, RFC 3925).
    VENDOR_IDENTIFYING_CLASS = 124, "Vendor-Identifying-Class";
    /// Vendor-identifying vendor-specific information (125, RFC 3925).
    VENDOR_IDENTIFYING_OPTIONS = 125, "Vendor-Identifying-Options";
    /// Microsoft's classless static routes (249), the same format as 121.
    MS_CLASSLESS_ROUTES = 249, "Classless-Static-Route-Microsoft";
    /// Web proxy auto-discovery (252).
    WPAD = 252, "WPAD";
    /// End (255): the last option of an area.
    END = 255, "END";
}

impl fmt::Display for OptionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "Unknown ({})", self.0),
        }
    }
}

impl From<u8> for OptionCode {
    #[inline]
    fn from(v: u8) -> Self {
        OptionCode(v)
    }
}

impl From<OptionCode> for u8 {
    #[inline]
    fn from(c: OptionCode) -> Self {
        c.0
    }
}

/// DHCP message type (option 53): RFC 2132, RFC 3203, RFC 4388, RFC 6926, RFC 7724.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum MessageType {
    Discover = 1,
    Offer = 2,
    Request = 3,
    Decline = 4,
    Ack = 5,
    Nak = 6,
    Release = 7,
    Inform = 8,
    ForceRenew = 9,
    LeaseQuery = 10,
    LeaseUnassigned = 11,
    LeaseUnknown = 12,
    LeaseActive = 13,
    BulkLeaseQuery = 14,
    LeaseQueryDone = 15,
    ActiveLeaseQuery = 16,
    LeaseQueryStatus = 17,
    Tls = 18,
}

impl MessageType {
    /// The message type for a wire value, if it is a known one.
    #[inline]
    pub fn from_u8(v: u8) -> Option<MessageType> {
        use MessageType::*;
        Some(match v {
            1 => Discover,
            2 => Offer,
            3 => Request,
            4 => Decline,
            5 => Ack,
            6 => Nak,
            7 => Release,
            8 => Inform,
            9 => ForceRenew,
            10 => LeaseQuery,
            11 => LeaseUnassigned,
            12 => LeaseUnknown,
            13 => LeaseActive,
            14 => BulkLeaseQuery,
            15 => LeaseQueryDone,
            16 => ActiveLeaseQuery,
            17 => LeaseQueryStatus,
            18 => Tls,
            _ => return None,
        })
    }

    /// The name `tcpdump -v` prints.
    #[inline]
    pub fn name(self) -> &'static str {
        use MessageType::*;
        match self {
            Discover => "Discover",
            Offer => "Offer",
            Request => "Request",
            Decline => "Decline",
            Ack => "ACK",
            Nak => "NACK",
            Release => "Release",
            Inform => "Inform",
            ForceRenew => "Forcerenew",
            LeaseQuery => "Leasequery",
            LeaseUnassigned => "Leaseunassigned",
            LeaseUnknown => "Leaseunknown",
            LeaseActive => "Leaseactive",
            BulkLeaseQuery => "Bulkleasequery",
            LeaseQueryDone => "Leasequerydone",
            ActiveLeaseQuery => "Activeleasequery",
            LeaseQueryStatus => "Leasequerystatus",
            Tls => "TLS",
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
