//! [`Runtime`]: the little an async runtime must provide (readiness of a UDP socket, a
//! timer). Each adapter crate implements it in a few dozen lines; everything else (the
//! server and client loops) is written once, in this crate, over this trait.

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use socket2::SockRef;

/// An operation on a non-blocking socket: returns `WouldBlock` when it must wait. An op
/// that reads a batch returns `WouldBlock` when it has emptied the socket (what it read
/// is its own to keep), so that the runtime waits for readiness instead of calling it again.
pub type SocketOp<'a> = &'a mut dyn FnMut(SockRef<'_>) -> io::Result<usize>;

/// A UDP socket registered with a runtime's reactor.
pub trait AsyncSocket: Send + Sync + Debug + 'static {
    /// Runs `op` once the socket is readable, until it returns something other than
    /// `WouldBlock`.
    fn poll_read_with(&self, cx: &mut Context<'_>, op: SocketOp<'_>) -> Poll<io::Result<usize>>;

    /// Runs `op` once the socket is writable, until it returns something other than
    /// `WouldBlock`.
    fn poll_write_with(&self, cx: &mut Context<'_>, op: SocketOp<'_>) -> Poll<io::Result<usize>>;
}

/// A timer that can be moved.
pub trait AsyncTimer: Send + Debug {
    /// Moves the deadline.
    fn reset(self: Pin<&mut Self>, deadline: Instant);
    /// Ready once the deadline has passed.
    fn poll_elapsed(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;
}

/// What the host glue needs of an async runtime.
pub trait Runtime: Clone + Send + Sync + Debug + Default + 'static {
    /// Registers a non-blocking socket with the runtime's reactor. Called from inside the
    /// runtime.
    fn wrap_socket(&self, socket: std::net::UdpSocket) -> io::Result<Box<dyn AsyncSocket>>;

    /// A timer that fires at `deadline`.
    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn AsyncTimer>>;
}

/// Waits until `deadline` on `runtime`'s timer.
pub async fn sleep_until<R: Runtime>(runtime: &R, deadline: Instant) {
    let mut t = runtime.new_timer(deadline);
    std::future::poll_fn(|cx| t.as_mut().poll_elapsed(cx)).await
}

/// `fut`, or `None` if it takes until `deadline`.
pub async fn timeout_at<R: Runtime, F: Future>(
    runtime: &R,
    deadline: Instant,
    fut: F,
) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let mut t = runtime.new_timer(deadline);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        t.as_mut().poll_elapsed(cx).map(|()| None)
    })
    .await
}

/// The socket and timer of runtimes built on the `async-io` reactor (smol, async-std).
#[cfg(feature = "async-io")]
pub mod async_io {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A socket on the `async-io` reactor.
    #[derive(Debug)]
    pub struct IoSocket {
        socket: ::async_io::Async<std::net::UdpSocket>,
        /// Per direction (read, write): the last op found nothing to do (`WouldBlock`),
        /// so the next waits for the reactor to report readiness instead of trying first
        /// (a system call that would most likely find nothing again).
        drained: [AtomicBool; 2],
    }

    impl IoSocket {
        /// Registers `socket`.
        pub fn new(socket: std::net::UdpSocket) -> io::Result<Self> {
            Ok(IoSocket {
                socket: ::async_io::Async::new(socket)?,
                drained: [AtomicBool::new(false), AtomicBool::new(false)],
            })
        }

        fn poll_with(
            &self,
            cx: &mut Context<'_>,
            op: SocketOp<'_>,
            write: bool,
        ) -> Poll<io::Result<usize>> {
            let drained = &self.drained[usize::from(write)];
            loop {
                if !drained.load(Ordering::Relaxed) {
                    match op(SockRef::from(self.socket.get_ref())) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            drained.store(true, Ordering::Relaxed)
                        }
                        r => return Poll::Ready(r),
                    }
                }
                let ready = if write {
                    self.socket.poll_writable(cx)
                } else {
                    self.socket.poll_readable(cx)
                };
                match ready {
                    Poll::Ready(Ok(())) => drained.store(false, Ordering::Relaxed),
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
        }
    }

    impl AsyncSocket for IoSocket {
        fn poll_read_with(
            &self,
            cx: &mut Context<'_>,
            op: SocketOp<'_>,
        ) -> Poll<io::Result<usize>> {
            self.poll_with(cx, op, false)
        }

        fn poll_write_with(
            &self,
            cx: &mut Context<'_>,
            op: SocketOp<'_>,
        ) -> Poll<io::Result<usize>> {
            self.poll_with(cx, op, true)
        }
    }

    /// A timer on the `async-io` reactor.
    #[derive(Debug)]
    pub struct IoTimer(::async_io::Timer);

    impl IoTimer {
        /// A timer that fires at `deadline`.
        pub fn at(deadline: Instant) -> Self {
            IoTimer(::async_io::Timer::at(deadline))
        }
    }

    impl AsyncTimer for IoTimer {
        fn reset(self: Pin<&mut Self>, deadline: Instant) {
            self.get_mut().0.set_at(deadline);
        }

        fn poll_elapsed(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            Pin::new(&mut self.get_mut().0).poll(cx).map(drop)
        }
    }
}
