//! The dhcp server and client on async-std: a thin adapter that gives the shared host glue
//! (`dhcp-host`) async-std's reactor for UDP readiness and timers. async-std drives its
//! sockets and timers with `async-io`, so this adapter registers with that same reactor.
//! async-std is discontinued upstream; the adapter is kept because users asked for it.

use std::io;
use std::pin::Pin;
use std::time::Instant;

use dhcp_host::runtime::async_io::{IoSocket, IoTimer};
use dhcp_host::runtime::{AsyncSocket, AsyncTimer, Runtime};

dhcp_host::adapter_api!(AsyncStd, "async-std");

/// The async-std runtime, as the host glue sees it.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncStd;

impl Runtime for AsyncStd {
    fn wrap_socket(&self, socket: std::net::UdpSocket) -> io::Result<Box<dyn AsyncSocket>> {
        Ok(Box::new(IoSocket::new(socket)?))
    }

    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn AsyncTimer>> {
        Box::pin(IoTimer::at(deadline))
    }
}

/// Runs `future` to completion on async-std's executor (the examples' `main`).
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    async_std::task::block_on(future)
}
