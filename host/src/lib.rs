//! The std glue every `dhcp` runtime adapter shares, so that each adapter only moves bytes
//! and time between its runtime and the sans-IO machines of [`dhcp_core`]:
//!
//! The modules are grouped by role, so that DHCPv4 and DHCPv6 and each new side effect have
//! an obvious room:
//!
//! - [`server`]: the async server loop over the core's machine, and its config file
//!   ([`server::config`]: TOML, with errors that name file, line, column and field).
//! - [`client`]: the async client with the seed README's API, and its hook scripts.
//! - [`store`]: where leases are made durable: the [`store::LeaseStore`] interface, the
//!   group-commit thread that drives it so that no runtime ever blocks on `fsync`, the
//!   journal, and (feature `postgres`) the shared PostgreSQL store.
//! - [`net`]: sockets (socket2: ports 67/68, `IP_PKTINFO`, reply delivery by RFC 2131
//!   section 4.1 with the ARP entry written first), applying a lease through netlink, and
//!   network namespaces.
//! - [`ops`]: what operators run the server with: metrics, the control socket, signals,
//!   privileges, systemd's readiness notification.
//! - [`runtime`]: the small trait each adapter implements for its runtime; [`clock`]: std
//!   and core instants, Unix time and OS seeds.

pub mod client;
pub mod clock;
mod error;
mod mac;
pub mod net;
pub mod ops;
pub mod runtime;
pub mod server;
pub mod store;

pub use error::Error;
pub use mac::MacAddress;

pub use dhcp_core;

/// The public API every runtime adapter exports, the same in each: `Server`, `Client`,
/// `ClientBuilder` and `get_dhcp_config` on the adapter's runtime type `$rt`, and the
/// runtime-independent types beside them.
#[macro_export]
macro_rules! adapter_api {
    ($rt:ty, $name:literal) => {
        pub use $crate::client::{ClientEvent, DhcpConfig};
        pub use $crate::server::config::{self, ServerFile};
        pub use $crate::server::Summary;
        pub use $crate::ops::signal::shutdown;
        pub use $crate::{dhcp_core as core, Error, MacAddress};

        #[doc = concat!("The DHCP server on ", $name, ": bind from a config, run until a shutdown signal.")]
        pub type Server = $crate::server::Server<$rt>;

        #[doc = concat!("The DHCP client on ", $name, ", with the seed README's API.")]
        pub type Client = $crate::client::Client<$rt>;

        #[doc = concat!("Builds a [`Client`] on ", $name, " with every choice.")]
        pub type ClientBuilder = $crate::client::ClientBuilder<$rt>;

        /// Gets a lease on the interface that has `mac` (or the only usable one) and
        /// returns its configuration.
        pub async fn get_dhcp_config(
            bind_addr: std::net::SocketAddr,
            mac: MacAddress,
            hostname: Option<String>,
        ) -> Result<DhcpConfig, Error> {
            $crate::client::get_dhcp_config::<$rt>(bind_addr, mac, hostname).await
        }
    };
}
