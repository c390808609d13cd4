//! The dhcp server and client on tokio: a thin adapter that gives the shared host glue
//! (`dhcp-host`) tokio's UDP readiness and timers. Everything else is the same on every
//! runtime.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use dhcp_host::runtime::{AsyncSocket, AsyncTimer, Runtime, SocketOp};
use socket2::SockRef;
use tokio::io::Interest;

dhcp_host::adapter_api!(Tokio, "tokio");

/// The tokio runtime, as the host glue sees it. Sockets and timers must be made inside a
/// tokio runtime (with its I/O and time drivers enabled).
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokio;

impl Runtime for Tokio {
    fn wrap_socket(&self, socket: std::net::UdpSocket) -> io::Result<Box<dyn AsyncSocket>> {
        Ok(Box::new(Socket(tokio::net::UdpSocket::from_std(socket)?)))
    }

    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn AsyncTimer>> {
        Box::pin(Timer(Box::pin(tokio::time::sleep_until(deadline.into()))))
    }
}

/// Runs `future` to completion on a new single-threaded tokio runtime with its I/O and
/// time drivers (what the `dhcp` command uses).
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(future),
        Err(e) => panic!("cannot start a tokio runtime: {e}"),
    }
}

#[derive(Debug)]
struct Socket(tokio::net::UdpSocket);

impl Socket {
    fn poll_with(
        &self,
        cx: &mut Context<'_>,
        op: SocketOp<'_>,
        interest: Interest,
    ) -> Poll<io::Result<usize>> {
        loop {
            if interest.is_readable() {
                ready!(self.0.poll_recv_ready(cx))?;
            } else {
                ready!(self.0.poll_send_ready(cx))?;
            }
            match self.0.try_io(interest, || op(SockRef::from(&self.0))) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }
}

impl AsyncSocket for Socket {
    fn poll_read_with(&self, cx: &mut Context<'_>, op: SocketOp<'_>) -> Poll<io::Result<usize>> {
        self.poll_with(cx, op, Interest::READABLE)
    }

    fn poll_write_with(&self, cx: &mut Context<'_>, op: SocketOp<'_>) -> Poll<io::Result<usize>> {
        self.poll_with(cx, op, Interest::WRITABLE)
    }
}

#[derive(Debug)]
struct Timer(Pin<Box<tokio::time::Sleep>>);

impl AsyncTimer for Timer {
    fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.get_mut().0.as_mut().reset(deadline.into());
    }

    fn poll_elapsed(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().0.as_mut().poll(cx)
    }
}
