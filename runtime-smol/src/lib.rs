//! The dhcp server and client on smol: a thin adapter that gives the shared host glue
//! (`dhcp-host`) smol's reactor (`async-io`) for UDP readiness and timers. Everything else
//! is the same on every runtime.

use std::io;
use std::pin::Pin;
use std::time::Instant;

use dhcp_host::runtime::async_io::{IoSocket, IoTimer};
use dhcp_host::runtime::{AsyncSocket, AsyncTimer, Runtime};

dhcp_host::adapter_api!(Smol, "smol");

/// The smol runtime, as the host glue sees it. Futures run on any smol executor
/// (`smol::block_on`, `smol::Executor`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Smol;

impl Runtime for Smol {
    fn wrap_socket(&self, socket: std::net::UdpSocket) -> io::Result<Box<dyn AsyncSocket>> {
        Ok(Box::new(IoSocket::new(socket)?))
    }

    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn AsyncTimer>> {
        Box::pin(IoTimer::at(deadline))
    }
}

/// Runs `future` to completion on smol's executor (the examples' `main`).
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    smol::block_on(future)
}
