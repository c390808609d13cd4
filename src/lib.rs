//! A DHCPv4 server and client with a sans-IO core.
//!
//! - [`core`]: the protocol itself (`dhcp-core`): wire codec, client and server state
//!   machines, `#![no_std]`, no I/O. Embed it in any event loop.
//! - The async server and client on the runtime the features pick: `runtime-tokio`
//!   (default), `runtime-async-std`, `runtime-smol`. The crate root re-exports the first
//!   one enabled (tokio, then async-std, then smol); each enabled one is also a module of
//!   its own (`tokio`, `async_std`, `smol`).
//!
//! ```no_run
//! # #[cfg(feature = "runtime-tokio")]
//! # async fn demo() -> Result<(), dhcp::Error> {
//! use dhcp::{get_dhcp_config, MacAddress};
//! use std::net::{IpAddr, Ipv4Addr, SocketAddr};
//!
//! let mac = MacAddress::new([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
//! let bind = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 68);
//! let config = get_dhcp_config(bind, mac, Some("my-client".to_string())).await?;
//! println!("{} via {:?}", config.your_ip_address, config.routers);
//! # Ok(()) }
//! ```

pub use dhcp_core as core;
pub use dhcp_host as host;

/// The tokio adapter.
#[cfg(feature = "runtime-tokio")]
pub use dhcp_runtime_tokio as tokio;

/// The async-std adapter.
#[cfg(feature = "runtime-async-std")]
pub use dhcp_runtime_async_std as async_std;

/// The smol adapter.
#[cfg(feature = "runtime-smol")]
pub use dhcp_runtime_smol as smol;

#[cfg(feature = "runtime-tokio")]
pub use dhcp_runtime_tokio::*;

#[cfg(all(not(feature = "runtime-tokio"), feature = "runtime-async-std"))]
pub use dhcp_runtime_async_std::*;

#[cfg(all(
    not(feature = "runtime-tokio"),
    not(feature = "runtime-async-std"),
    feature = "runtime-smol"
))]
pub use dhcp_runtime_smol::*;

/// The README's code blocks, compiled (and run, unless marked `no_run`) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
