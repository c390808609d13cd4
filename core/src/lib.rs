//! `dhcp-core`: the sans-IO DHCPv4 and DHCPv6 protocol core.
//!
//! This crate holds the protocol and nothing else: it never opens a socket, never reads a
//! clock and never allocates on the packet path. It builds for bare-metal targets
//! (`#![no_std]`) and contains no `unsafe` code.
//!
//! - [`client`]: the RFC 2131 client state machine.
//! - `server` (feature `alloc`, on by default): the server state machine.
//! - [`time`]: the instants the caller passes in.
//! - [`v6`]: DHCPv6 (RFC 8415): [`v6::wire`], its zero-copy codec.
//! - [`wire`]: the zero-copy DHCPv4 codec. [`wire::Message::parse`] checks a buffer once and then
//!   hands out header fields and typed options without copying or panicking;
//!   [`wire::MessageBuilder`] writes a message into a caller's buffer.
//!
//! ```
//! use dhcp_core::wire::{Message, MessageBuilder, MessageType, Op};
//! use core::net::Ipv4Addr;
//!
//! let mut buf = [0u8; 576];
//! let mut b = MessageBuilder::new(&mut buf)?;
//! b.op(Op::BootRequest).xid(0x53a2_da3f).chaddr(&[0x00, 0x11, 0x22, 0x33, 0x44, 0x55])?;
//! b.message_type(MessageType::Discover)?;
//! b.requested_ip(Ipv4Addr::new(192, 0, 2, 7))?;
//! let len = b.finish()?;
//!
//! let msg = Message::parse(&buf[..len])?;
//! assert_eq!(msg.message_type()?, Some(MessageType::Discover));
//! assert_eq!(msg.requested_ip()?, Some(Ipv4Addr::new(192, 0, 2, 7)));
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod client;
#[cfg(feature = "alloc")]
mod lease;
mod macros;
mod rng;
#[cfg(feature = "alloc")]
pub mod server;
pub mod time;
pub mod v6;
pub mod wire;
