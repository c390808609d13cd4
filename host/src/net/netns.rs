//! Network namespaces joined by a veth pair, made with `ip` and always removed (when the
//! [`Pair`] is dropped, also on a panic), and threads that run inside a namespace: what
//! `dhcp demo` and the network tests run in. Addresses are from 192.0.2.0/24 (TEST-NET-1)
//! and exist only inside the namespaces.

use std::fs::File;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

/// Whether this process may create namespaces: it runs as root and `ip` (iproute2) is
/// there.
pub fn can_netns() -> bool {
    nix::unistd::geteuid().is_root() && Command::new("ip").arg("-V").output().is_ok()
}

/// Runs `ip` with `args`: its stdout, or what went wrong.
fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("running ip: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Two namespaces, `server` and `client`, joined by a veth pair: `server_if` (with
/// 192.0.2.1/24) and `client_if` (no address). Removed on drop.
#[derive(Debug)]
pub struct Pair {
    /// The server's namespace.
    pub server: String,
    /// The client's namespace.
    pub client: String,
    /// The server side's interface.
    pub server_if: String,
    /// The client side's interface.
    pub client_if: String,
}

impl Pair {
    /// A pair with names unique to this process, the client interface at MAC
    /// 00:11:22:33:44:55.
    pub fn new() -> Result<Pair, String> {
        Self::with_mac("00:11:22:33:44:55")
    }

    /// A pair with names unique to this process, the client interface at `mac`.
    pub fn with_mac(mac: &str) -> Result<Pair, String> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}-{n}", std::process::id() % 100_000);
        Self::named(&format!("dt-s{id}"), &format!("dt-c{id}"), mac)
    }

    /// A pair with these namespace names (any leftovers of an earlier run under the same
    /// names are removed first).
    pub fn named(server: &str, client: &str, mac: &str) -> Result<Pair, String> {
        let p = Pair {
            server: server.to_string(),
            client: client.to_string(),
            server_if: "veth-srv".to_string(),
            client_if: "veth-cli".to_string(),
        };
        let _ = Command::new("ip")
            .args(["netns", "del", &p.server])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &p.client])
            .output();
        ip(&["netns", "add", &p.server])?;
        ip(&["netns", "add", &p.client])?;
        ip(&[
            "link",
            "add",
            &p.server_if,
            "netns",
            &p.server,
            "type",
            "veth",
            "peer",
            "name",
            &p.client_if,
            "netns",
            &p.client,
        ])?;
        ip(&[
            "-n",
            &p.server,
            "addr",
            "add",
            "192.0.2.1/24",
            "dev",
            &p.server_if,
        ])?;
        ip(&["-n", &p.client, "link", "set", &p.client_if, "address", mac])?;
        for (ns, dev) in [(&p.server, &p.server_if), (&p.client, &p.client_if)] {
            ip(&["-n", ns, "link", "set", dev, "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        Ok(p)
    }

    /// Runs `f` on a new thread inside namespace `ns`.
    pub fn spawn_in<T: Send + 'static>(
        ns: &str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let path = format!("/var/run/netns/{ns}");
        std::thread::spawn(move || {
            // A thread that can't enter the namespace must not run `f` in the host's.
            let f_ns = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            if let Err(e) = nix::sched::setns(f_ns, nix::sched::CloneFlags::CLONE_NEWNET) {
                panic!("entering {path}: {e}");
            }
            f()
        })
    }

    /// `ip` in namespace `ns`: its stdout, or what went wrong.
    pub fn ip_in(ns: &str, args: &[&str]) -> Result<String, String> {
        let mut all = vec!["-n", ns];
        all.extend_from_slice(args);
        ip(&all)
    }

    /// Whether namespace `ns` exists.
    pub fn exists(ns: &str) -> bool {
        std::path::Path::new("/var/run/netns").join(ns).exists()
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        // Deleting a namespace deletes the veth pair with it.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.server])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.client])
            .output();
    }
}
