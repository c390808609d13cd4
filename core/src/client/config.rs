//! What a client asks for and how patiently: [`ClientConfig`].

use core::net::Ipv4Addr;
use core::time::Duration;

/// The parameter request list a client sends unless told otherwise: mask, routers, DNS,
/// host name, domain, MTU, broadcast, NTP, lease and T1/T2 times, search list, classless
/// routes.
pub const DEFAULT_PARAMETERS: [u8; 13] = [1, 3, 6, 12, 15, 26, 28, 42, 51, 58, 59, 119, 121];

/// Retransmission timing (RFC 2131 section 4.1): the first retry after `initial`, each next
/// one after twice the last, at most `max`, each randomized by up to `jitter` either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retransmit {
    /// Delay before the first retransmission (4 s).
    pub initial: Duration,
    /// Longest delay (64 s).
    pub max: Duration,
    /// Randomization either way (1 s).
    pub jitter: Duration,
}

impl Default for Retransmit {
    fn default() -> Self {
        Retransmit {
            initial: Duration::from_secs(4),
            max: Duration::from_secs(64),
            jitter: Duration::from_secs(1),
        }
    }
}

/// Everything a [`Client`](super::Client) needs to know before it starts. Fixed-size
/// fields, no allocation. [`ClientConfig::new`] gives the defaults of a typical host.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Hardware type (1, Ethernet).
    pub htype: u8,
    /// Hardware address (`chaddr`), at most 16 bytes.
    pub hardware_address: heapless::Vec<u8, 16>,
    /// Client identifier (61), type byte included; `None` sends none (the server keys on
    /// `chaddr`). [`ClientConfig::client_id_rfc4361`] builds the RFC 4361 form.
    pub client_id: Option<heapless::Vec<u8, 64>>,
    /// Host name (12) to send.
    pub host_name: Option<heapless::String<63>>,
    /// Client FQDN (81) to send instead of the host name, with the server asked to update
    /// DNS (S bit) when `fqdn_server_update` is set.
    pub fqdn: Option<heapless::String<253>>,
    /// The S bit of option 81.
    pub fqdn_server_update: bool,
    /// Vendor class identifier (60).
    pub vendor_class: Option<heapless::Vec<u8, 64>>,
    /// Lease time to ask for (51), in seconds.
    pub lease_time: Option<u32>,
    /// Address to ask for in DISCOVER (50).
    pub requested_address: Option<Ipv4Addr>,
    /// Parameter request list (55).
    pub parameters: heapless::Vec<u8, 64>,
    /// Largest message this client accepts (57), at least 576.
    pub max_message_size: u16,
    /// Ask for replies by broadcast (the BROADCAST flag): needed when the host's stack
    /// can't receive unicast to an address it has not configured yet.
    pub broadcast: bool,
    /// Send rapid commit (80, RFC 4039) and accept an ACK to DISCOVER.
    pub rapid_commit: bool,
    /// Ask for IPv6-only preferred (108, RFC 8925) and honour it.
    pub ipv6_only: bool,
    /// Retransmission timing.
    pub retransmit: Retransmit,
    /// DISCOVERs sent before pausing for `restart_delay` and starting again.
    pub discover_tries: u32,
    /// REQUESTs (selecting, rebooting) and INFORMs sent before giving up on the exchange.
    pub request_tries: u32,
    /// Pause after a discovery round without offers, after a DECLINE (RFC 2131 section
    /// 3.1.5 asks for at least 10 s), and between repeated NAKs.
    pub restart_delay: Duration,
    /// Shortest retransmission interval in RENEWING and REBINDING (RFC 2131 section 4.4.5
    /// says 60 s; shorter only on test networks).
    pub renew_min_interval: Duration,
    /// How long SELECTING collects offers; zero takes the first acceptable one.
    pub offer_window: Duration,
    /// Ask the caller to probe a new address for conflicts (RFC 5227) before binding.
    pub probe: bool,
    /// How long to wait for a probe result before binding anyway.
    pub probe_timeout: Duration,
}

impl ClientConfig {
    /// The defaults for an Ethernet interface with hardware address `mac`.
    pub fn new(mac: [u8; 6]) -> Self {
        let mut hardware_address = heapless::Vec::new();
        // 6 bytes always fit in 16.
        let _ = hardware_address.extend_from_slice(&mac);
        let mut parameters = heapless::Vec::new();
        let _ = parameters.extend_from_slice(&DEFAULT_PARAMETERS);
        ClientConfig {
            htype: 1,
            hardware_address,
            client_id: None,
            host_name: None,
            fqdn: None,
            fqdn_server_update: true,
            vendor_class: None,
            lease_time: None,
            requested_address: None,
            parameters,
            max_message_size: 1500,
            broadcast: true,
            rapid_commit: false,
            ipv6_only: false,
            retransmit: Retransmit::default(),
            discover_tries: 5,
            request_tries: 4,
            restart_delay: Duration::from_secs(10),
            renew_min_interval: Duration::from_secs(60),
            offer_window: Duration::ZERO,
            probe: false,
            probe_timeout: Duration::from_secs(8),
        }
    }

    /// Sets the client identifier to the RFC 4361 form: type 255, `iaid`, `duid`.
    pub fn client_id_rfc4361(&mut self, iaid: u32, duid: &[u8]) -> &mut Self {
        let mut id = heapless::Vec::new();
        let _ = id.push(255);
        let _ = id.extend_from_slice(&iaid.to_be_bytes());
        let _ = id.extend_from_slice(&duid[..duid.len().min(59)]);
        self.client_id = Some(id);
        self
    }

    /// Sets the client identifier to hardware type and address (type 1 + MAC on Ethernet).
    pub fn client_id_hardware(&mut self) -> &mut Self {
        let mut id = heapless::Vec::new();
        let _ = id.push(self.htype);
        let _ = id.extend_from_slice(&self.hardware_address);
        self.client_id = Some(id);
        self
    }
}
