//! systemd's readiness protocol: a state line (`READY=1`, `STOPPING=1`, `STATUS=...`) in
//! a datagram to the socket `$NOTIFY_SOCKET` names, so that a `Type=notify` unit is
//! started only once the server serves.

/// Sends `state` to the service manager. `Ok(false)` when there is none (no
/// `$NOTIFY_SOCKET`, or not on Unix).
pub fn notify(state: &str) -> std::io::Result<bool> {
    imp::notify(state)
}

#[cfg(unix)]
mod imp {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::UnixDatagram;

    pub(super) fn notify(state: &str) -> std::io::Result<bool> {
        let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
            return Ok(false);
        };
        let socket = UnixDatagram::unbound()?;
        match path.as_bytes().strip_prefix(b"@") {
            Some(name) => send_abstract(&socket, name, state)?,
            None => {
                socket.send_to(state.as_bytes(), &path)?;
            }
        }
        Ok(true)
    }

    #[cfg(target_os = "linux")]
    fn send_abstract(socket: &UnixDatagram, name: &[u8], state: &str) -> std::io::Result<()> {
        use std::os::linux::net::SocketAddrExt;
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
        socket.send_to_addr(state.as_bytes(), &address)?;
        Ok(())
    }

    #[cfg(not(target_os = "linux"))]
    fn send_abstract(_: &UnixDatagram, _: &[u8], _: &str) -> std::io::Result<()> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "abstract socket names are Linux-only",
        ))
    }
}

#[cfg(not(unix))]
mod imp {
    pub(super) fn notify(_: &str) -> std::io::Result<bool> {
        Ok(false)
    }
}
