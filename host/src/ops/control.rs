//! The control socket: a Unix stream socket where the server takes one JSON request a
//! line and answers one JSON object a line (protocol version [`VERSION`]).
//!
//! Requests: `{"command": "leases"}`, `{"command": "lease", "address": "192.0.2.7"}`,
//! `{"command": "delete-lease", "address": ...}`, `{"command": "reservations"}`,
//! `{"command": "add-reservation", "address": ..., "mac": "02:..." | "client_id": "01ab..",
//! "host_name": ...}`, `{"command": "remove-reservation", "address": ...}`,
//! `{"command": "reload"}` (read the config file again), `{"command": "stats"}`. Answers
//! carry `"version": 1` and `"ok": true` with the result, or `"ok": false` and an
//! `"error"`.
//!
//! Only root and the server's own user may use it: the socket file is mode 0600, and
//! each connection's peer credentials are checked as well.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

/// The protocol version every answer carries.
pub const VERSION: u64 = 1;

/// One request from the socket, to be answered by the server loop.
#[derive(Debug)]
pub struct Call {
    /// The request as sent.
    pub request: Value,
    reply: mpsc::Sender<Value>,
}

impl Call {
    /// Answers the request (the answer gets `version` added).
    pub fn answer(self, mut answer: Value) {
        if let Some(o) = answer.as_object_mut() {
            o.insert("version".into(), json!(VERSION));
        }
        let _ = self.reply.send(answer);
    }
}

/// `{"ok": false, "error": what}`.
pub fn error(what: impl std::fmt::Display) -> Value {
    json!({ "ok": false, "error": what.to_string() })
}

/// The listening socket's requests, and the socket file (removed on drop).
#[derive(Debug)]
pub struct Control {
    calls: async_channel::Receiver<Call>,
    path: PathBuf,
}

impl Control {
    /// Listens on `path` (replacing a stale socket file no server answers on), mode 0600,
    /// with a thread that reads requests and waits for the server loop's answers.
    pub fn listen(path: &Path) -> io::Result<Control> {
        if UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("{}: another server answers there", path.display()),
            ));
        }
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        let (tx, calls) = async_channel::unbounded();
        std::thread::Builder::new()
            .name("dhcp-control".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let tx = tx.clone();
                    // One connection at a time is plenty for an operator's commands; a
                    // slow one is cut off by the timeouts.
                    if let Err(e) = serve(stream, &tx) {
                        tracing::debug!("control connection: {e}");
                    }
                }
            })?;
        tracing::info!("control socket {}", path.display());
        Ok(Control {
            calls,
            path: path.to_path_buf(),
        })
    }

    /// Requests waiting for the server loop.
    pub fn calls(&self) -> &async_channel::Receiver<Call> {
        &self.calls
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn serve(stream: UnixStream, calls: &async_channel::Sender<Call>) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut out = stream.try_clone()?;
    if let Some(refused) = refuse(&stream) {
        // Its request is read (and ignored) first, so that the refusal is the answer it
        // reads, not a reset connection.
        let mut ignored = String::new();
        let _ = BufReader::new((&stream).take(1 << 16)).read_line(&mut ignored);
        let mut answer = error(refused);
        answer["version"] = json!(VERSION);
        writeln!(out, "{answer}")?;
        return Ok(());
    }
    let mut lines = BufReader::new(stream.take(1 << 20)).lines();
    while let Some(line) = lines.next().transpose()? {
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<Value>(&line) {
            Ok(request) => {
                let (reply, answer) = mpsc::channel();
                if calls.send_blocking(Call { request, reply }).is_err() {
                    break;
                }
                answer
                    .recv_timeout(Duration::from_secs(10))
                    .unwrap_or_else(|_| error("the server did not answer"))
            }
            Err(e) => {
                let mut v = error(format!("not JSON: {e}"));
                v["version"] = json!(VERSION);
                v
            }
        };
        writeln!(out, "{answer}")?;
    }
    Ok(())
}

/// Why the peer may not use the socket, if it may not: only root and our own user may.
#[cfg(target_os = "linux")]
fn refuse(stream: &UnixStream) -> Option<String> {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    let me = nix::unistd::geteuid().as_raw();
    match getsockopt(stream, PeerCredentials) {
        Ok(c) if c.uid() == 0 || c.uid() == me => None,
        Ok(c) => Some(format!(
            "permission denied: uid {} may not use this socket",
            c.uid()
        )),
        Err(e) => Some(format!("permission denied: peer credentials unknown ({e})")),
    }
}

#[cfg(not(target_os = "linux"))]
fn refuse(_: &UnixStream) -> Option<String> {
    // The socket file's mode (0600) is the check where peer credentials are not read.
    None
}

/// Sends one request to the server at `path` and returns its answer (for `dhcp leases`
/// and `dhcp server --reload`). `Ok(None)` when no server listens there.
pub fn request(path: &Path, request: &Value) -> io::Result<Option<Value>> {
    let stream = match UnixStream::connect(path) {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    stream.set_read_timeout(Some(Duration::from_secs(15)))?;
    let mut out = stream.try_clone()?;
    writeln!(out, "{request}")?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    serde_json::from_str(&line)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("answer not JSON: {e}")))
}
