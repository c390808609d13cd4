//! Hook scripts, udhcpc-compatible: the script is run with the event as its one argument
//! (`deconfig`, `bound`, `renew`, `nak`) and the lease in environment variables. Values
//! reach the script only as environment variables, never through a shell string, and
//! names and domains from the server are checked first: one that is not a valid DNS name
//! is left out (and logged), so a hostile server can't smuggle shell syntax into a script
//! that uses `$hostname` carelessly.
//!
//! | variable | value |
//! |---|---|
//! | `interface` | the interface |
//! | `ip` | the leased address |
//! | `siaddr` | next server (`siaddr`), if set |
//! | `subnet` | subnet mask, dotted |
//! | `mask` | prefix length |
//! | `broadcast` | broadcast address (28) |
//! | `router` | routers (3), space-separated |
//! | `dns` | DNS servers (6), space-separated |
//! | `domain` | domain name (15) |
//! | `search` | domain search list (119), space-separated |
//! | `hostname` | host name (12) |
//! | `ntpsrv` | NTP servers (42), space-separated |
//! | `mtu` | interface MTU (26) |
//! | `lease` | lease time (51), seconds |
//! | `serverid` | server identifier (54) |
//! | `staticroutes` | classless routes (121): `net/len gateway` pairs, space-separated |

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use dhcp_core::client::Lease;
use dhcp_core::wire::typed::Ipv4List;

/// How long a hook may run before it is killed.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether `name` is a DNS name a script can take as is: labels of letters, digits,
/// hyphens and underscores, 1 to 63 long, not starting or ending with a hyphen, 253 in all.
pub fn is_valid_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn list(l: Option<Ipv4List<'_>>) -> Option<String> {
    let l = l?;
    let v: Vec<String> = l.iter().map(|a| a.to_string()).collect();
    (!v.is_empty()).then(|| v.join(" "))
}

fn checked(what: &str, value: Option<String>) -> Option<String> {
    let v = value?;
    if is_valid_name(&v) {
        Some(v)
    } else {
        tracing::warn!("{what} from the server is not a valid name; not passed to the hook: {v:?}");
        None
    }
}

fn text(t: Option<dhcp_core::wire::typed::Text<'_>>) -> Option<String> {
    let bytes: Vec<u8> = t?.data().bytes().collect();
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The variables for `lease` on `interface` (only `interface` without a lease).
pub fn variables(interface: &str, lease: Option<&Lease>) -> Vec<(&'static str, String)> {
    let mut v = vec![("interface", interface.to_string())];
    let Some(l) = lease else { return v };
    let mut put = |k: &'static str, val: Option<String>| {
        if let Some(val) = val {
            v.push((k, val));
        }
    };
    put("ip", Some(l.address().to_string()));
    let msg = l.message();
    put(
        "siaddr",
        msg.as_ref()
            .map(|m| m.siaddr())
            .filter(|a| !a.is_unspecified())
            .map(|a| a.to_string()),
    );
    put("subnet", l.subnet_mask().map(|m| m.to_string()));
    put("mask", l.prefix_len().map(|p| p.to_string()));
    put("broadcast", l.broadcast_address().map(|a| a.to_string()));
    put("router", list(l.routers()));
    put("dns", list(l.dns_servers()));
    put("domain", checked("domain name", text(l.domain_name())));
    let search = l.domain_search().map(|s| {
        s.iter()
            .filter_map(|n| {
                let mut out = String::new();
                for (i, label) in n.labels().enumerate() {
                    if i > 0 {
                        out.push('.');
                    }
                    out.push_str(&String::from_utf8_lossy(
                        &label.bytes().collect::<Vec<u8>>(),
                    ));
                }
                checked("search domain", Some(out))
            })
            .collect::<Vec<_>>()
            .join(" ")
    });
    put("search", search.filter(|s| !s.is_empty()));
    put("hostname", checked("host name", text(l.host_name())));
    put("ntpsrv", list(l.ntp_servers()));
    put("mtu", l.mtu().map(|m| m.to_string()));
    put("lease", l.lease_time().map(|d| d.as_secs().to_string()));
    put("serverid", Some(l.server_id().to_string()));
    let routes = l.classless_routes().map(|r| {
        let mut s = String::new();
        for (i, r) in r.iter().enumerate() {
            let _ = write!(
                s,
                "{}{}/{} {}",
                if i > 0 { " " } else { "" },
                r.destination,
                r.prefix_len,
                r.router
            );
        }
        s
    });
    put("staticroutes", routes.filter(|s| !s.is_empty()));
    v
}

/// Runs `script event` with `vars` (and `PATH`) as its whole environment, and waits for
/// it, at most [`HOOK_TIMEOUT`] (then it is killed).
pub fn run(script: &Path, event: &str, vars: &[(&str, String)]) -> io::Result<ExitStatus> {
    let mut cmd = Command::new(script);
    cmd.arg(event)
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .stdin(Stdio::null());
    for (k, val) in vars {
        cmd.env(OsStr::new(k), OsStr::new(val));
    }
    let mut child = cmd.spawn()?;
    let give_up = Instant::now() + HOOK_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() > give_up {
            child.kill()?;
            tracing::warn!(
                "hook {} {event} ran over {HOOK_TIMEOUT:?}; killed",
                script.display()
            );
            return child.wait();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// As [`run`], on a thread of its own, awaited without blocking the runtime.
pub async fn run_async(
    script: &Path,
    event: &str,
    vars: Vec<(&'static str, String)>,
) -> io::Result<ExitStatus> {
    let (tx, rx) = async_channel::bounded(1);
    let script = script.to_path_buf();
    let event = event.to_string();
    std::thread::Builder::new()
        .name("dhcp-hook".into())
        .spawn(move || {
            let _ = tx.send_blocking(run(&script, &event, &vars));
        })?;
    rx.recv()
        .await
        .unwrap_or_else(|_| Err(io::Error::other("the hook thread ended without a result")))
}

#[cfg(test)]
mod tests {
    use super::is_valid_name;

    #[test]
    fn names() {
        for ok in ["host", "a.example.test", "x-1.y_2.test.", "a"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            "$(reboot)",
            "a;b",
            "a b",
            "`id`",
            "-x",
            "x-",
            "a..b",
            "a\nb",
            "é.test",
            &"a".repeat(64),
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }
}
