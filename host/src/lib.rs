//! The std glue every `dhcp` runtime adapter shares, so that each adapter only moves bytes
//! and time between its runtime and the sans-IO machines of [`dhcp_core`]:
//!
//! - [`socket`]: DHCP sockets (socket2): port 67/68, `SO_REUSEADDR`, `SO_BROADCAST`, bound to
//!   one interface, `IP_PKTINFO` to learn the receiving interface, clear permission errors;
//!   and reply delivery by RFC 2131 section 4.1 (ARP entry written first on Linux).
//! - [`journal`] and [`store`]: the durable lease journal behind the [`store::LeaseStore`]
//!   interface, written by a group-commit thread so that no runtime ever blocks on `fsync`.
//! - [`config`]: the server's TOML config file, with errors that name file, line, column and
//!   field.
//! - [`server`] and [`client`]: the async server and client, written once over the small
//!   [`runtime::Runtime`] trait that each adapter implements for its runtime.

pub mod client;
pub mod clock;
pub mod config;
#[cfg(unix)]
pub mod control;
mod error;
pub mod hook;
pub mod journal;
mod mac;
pub mod metrics;
#[cfg(target_os = "linux")]
pub mod netconf;
#[cfg(target_os = "linux")]
pub mod netns;
pub mod notify;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(target_os = "linux")]
pub mod privilege;
pub mod replay;
pub mod runtime;
pub mod server;
pub mod signal;
pub mod socket;
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
        pub use $crate::config::{self, ServerFile};
        pub use $crate::server::Summary;
        pub use $crate::signal::shutdown;
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
