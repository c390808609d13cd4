//! The DHCPv4 client as a sans-IO state machine (RFC 2131 section 4.4).
//!
//! [`Client`] takes packets, time and commands and returns messages to send, events and
//! its next deadline; it never touches a socket or a clock, never allocates, and keeps
//! what it needs in fixed-size fields, so it runs on a microcontroller as well as under
//! tokio. A run loop looks like this:
//!
//! ```
//! use dhcp_core::client::{Client, ClientConfig, Event};
//! use dhcp_core::time::Instant;
//!
//! let mut client = Client::new(ClientConfig::new([0x02, 0, 0, 0, 0, 1]), 42);
//! let mut buf = [0u8; 1500];
//! let now = Instant::from_secs(1);
//! client.start(now);
//! while let Some(t) = client.poll_transmit(&mut buf) {
//!     // send buf[..t.len] from t.source (port 68) to t.destination
//!     assert!(t.is_broadcast());
//! }
//! while let Some(event) = client.poll_event() {
//!     // Event::Bound: configure client.lease(); Event::Expired: remove it; ...
//!     let _ = event;
//! }
//! // Sleep until this, or until a packet arrives (then `client.handle_packet(now, &bytes)`):
//! let wake = client.poll_timeout().unwrap();
//! client.handle_timeout(wake);
//! ```

mod config;
mod event;
mod lease;
mod machine;

pub use config::{ClientConfig, Retransmit, DEFAULT_PARAMETERS};
pub use event::{DropReason, Event, State, Stats, Transmit};
pub use lease::{Lease, MAX_ACK_LEN};
pub use machine::Client;
