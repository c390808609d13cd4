//! Helpers for tests that cross a network: network namespaces joined by a veth pair, made
//! with `ip` and always removed (also when a test panics), and threads that run inside a
//! namespace. Addresses are from 192.0.2.0/24 (TEST-NET-1) and exist only inside the
//! namespaces.
#![cfg(target_os = "linux")]

use std::fs::File;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

/// Whether this process may create namespaces (runs as root with `ip` available). Tests
/// that need them say so and pass without running when not: CI runs them as root.
pub fn can_netns() -> bool {
    let root = nix::unistd::geteuid().is_root();
    let ip = Command::new("ip").arg("-V").output().is_ok();
    if !(root && ip) {
        eprintln!("SKIPPED: network namespace tests need root and iproute2 (CI runs them)");
    }
    root && ip
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Two namespaces, `server` and `client`, joined by a veth pair: `server_if` (with
/// 192.0.2.1/24) and `client_if` (no address, MAC 00:11:22:33:44:55 unless told). Removed
/// on drop.
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
    /// Makes the pair.
    pub fn new() -> Pair {
        Self::with_mac("00:11:22:33:44:55")
    }

    /// Makes the pair with the client interface at `mac`.
    pub fn with_mac(mac: &str) -> Pair {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}-{n}", std::process::id() % 100_000);
        let p = Pair {
            server: format!("dt-s{id}"),
            client: format!("dt-c{id}"),
            server_if: "veth-srv".to_string(),
            client_if: "veth-cli".to_string(),
        };
        // Leftovers of a killed run with the same name go first.
        let _ = Command::new("ip")
            .args(["netns", "del", &p.server])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &p.client])
            .output();
        ip(&["netns", "add", &p.server]);
        ip(&["netns", "add", &p.client]);
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
        ]);
        ip(&[
            "-n",
            &p.server,
            "addr",
            "add",
            "192.0.2.1/24",
            "dev",
            &p.server_if,
        ]);
        ip(&["-n", &p.client, "link", "set", &p.client_if, "address", mac]);
        for (ns, dev) in [(&p.server, &p.server_if), (&p.client, &p.client_if)] {
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        p
    }

    /// Runs `f` on a new thread inside namespace `ns`.
    pub fn spawn_in<T: Send + 'static>(
        ns: &str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let path = format!("/var/run/netns/{ns}");
        std::thread::spawn(move || {
            let f_ns = File::open(&path).expect("open netns");
            nix::sched::setns(f_ns, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            f()
        })
    }

    /// `ip` in namespace `ns`, its stdout.
    pub fn ip_in(ns: &str, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["-n", ns])
            .args(args)
            .output()
            .expect("run ip");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Default for Pair {
    fn default() -> Self {
        Self::new()
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
