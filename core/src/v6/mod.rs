//! DHCPv6 (RFC 8415), beside DHCPv4 and in the same shape: [`wire`], the zero-copy codec
//! (message and relay views parsed once, typed options, a builder writing into the
//! caller's buffer, tcpdump-style display), and `server` (feature `alloc`), the server
//! machine.

#[cfg(feature = "alloc")]
pub mod server;
pub mod wire;
