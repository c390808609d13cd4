//! `dhcp client IFACE`: get a lease and keep it, optionally applying it to the interface
//! (`--apply`, Linux) and running a udhcpc-compatible hook (`--script`).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use dhcp::host::client::hook;
use dhcp::host::client::{Client, ClientCommand, ClientEvent, DhcpConfig};
use dhcp::host::net::socket;
use dhcp::host::runtime::Runtime;
use dhcp::host::MacAddress;

use crate::runtime::{on_runtime, RuntimeName};

#[cfg(unix)]
const SIGUSR1: i32 = nix::sys::signal::Signal::SIGUSR1 as i32;
#[cfg(unix)]
const SIGUSR2: i32 = nix::sys::signal::Signal::SIGUSR2 as i32;
// Not watched where there are no such signals (`watch` then never yields).
#[cfg(not(unix))]
const SIGUSR1: i32 = 10;
#[cfg(not(unix))]
const SIGUSR2: i32 = 12;
use crate::Outcome;

/// `dhcp client` options.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The interface.
    interface: String,
    /// Run this program on every change, udhcpc-style: the event (`deconfig`, `bound`,
    /// `renew`, `nak`) as its argument, the lease in environment variables.
    #[arg(long)]
    script: Option<PathBuf>,
    /// Configure the interface (address, prefix, default route, classless routes) and
    /// take it all off again on release or expiry. Linux.
    #[arg(long)]
    apply: bool,
    /// Get a lease, print it, and exit (the lease is kept, not released).
    #[arg(long)]
    once: bool,
    /// With --once: print the lease as JSON.
    #[arg(long, requires = "once")]
    json: bool,
    /// Host name to send (12); default: this host's name.
    #[arg(long)]
    hostname: Option<String>,
    /// Send no host name.
    #[arg(long, conflicts_with = "hostname")]
    no_hostname: bool,
    /// Client identifier to send (61), hex with the type byte (`01:00:11:22:33:44:55`).
    #[arg(long)]
    client_id: Option<String>,
    /// Lease time to ask for, seconds.
    #[arg(long)]
    lease_time: Option<u32>,
    /// Address to ask for.
    #[arg(long)]
    request: Option<Ipv4Addr>,
    /// With --once: give up after this many seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Keep the lease in this file (JSON, written atomically), and after a restart ask for
    /// its address again first (INIT-REBOOT) instead of starting over. Default:
    /// /var/lib/dhcp/IFACE.lease.
    #[arg(long)]
    lease_file: Option<PathBuf>,
    /// Keep no lease file.
    #[arg(long, conflicts_with = "lease_file")]
    no_lease_file: bool,
    /// Release the lease when stopped (SIGTERM, Ctrl-C). By default the lease is kept: the
    /// address stays on the interface, the lease file stays, and the next start asks for
    /// the same address again (as dhcpcd and dhclient do). SIGUSR2 releases at any time.
    #[arg(long)]
    release_on_exit: bool,
}

/// Where the daemon keeps its lease: `--lease-file`, else `/var/lib/dhcp/IFACE.lease`, or
/// none with `--no-lease-file`.
fn lease_path(args: &Args) -> Option<PathBuf> {
    if args.no_lease_file {
        return None;
    }
    Some(
        args.lease_file
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("/var/lib/dhcp/{}.lease", args.interface))),
    )
}

/// Writes `text` to `path` so that a crash leaves the old file or the new one, never a
/// part: a temporary file beside it, synced, then renamed into place.
fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// A lease a lease file kept from an earlier run.
struct Kept {
    /// Its address.
    address: Ipv4Addr,
    /// How long it still runs, by the file's `expires` (Unix seconds); `None`: no end
    /// recorded (an infinite lease).
    left: Option<Duration>,
    /// The file as read, to rebuild what `--apply` put on the interface (Linux).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    json: serde_json::Value,
}

/// The lease a lease file keeps, if it holds one.
fn kept(path: &std::path::Path) -> Option<Kept> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let address = json["address"].as_str()?.parse().ok()?;
    let now = dhcp::host::clock::unix_now();
    Some(Kept {
        address,
        left: json["expires"]
            .as_u64()
            .map(|e| Duration::from_secs(e.saturating_sub(now))),
        json,
    })
}

impl Kept {
    /// Whether it has run out.
    fn expired(&self) -> bool {
        self.left == Some(Duration::ZERO)
    }
}

/// What `--apply` put on the interface for a kept lease: its address and prefix, and its
/// classless routes, else a default route through its first router (as
/// `netconf::routes_of` chooses them).
#[cfg(target_os = "linux")]
fn kept_applied(index: u32, k: &Kept) -> dhcp::host::net::netconf::Applied {
    let ip = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<Ipv4Addr>().ok());
    let classless: Vec<dhcp::host::net::netconf::Route> = k.json["classless_routes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let len = u8::try_from(r["prefix_len"].as_u64()?).ok()?;
            Some((ip(&r["destination"])?, len, ip(&r["router"])?))
        })
        .collect();
    let routes = if classless.is_empty() {
        let first = k.json["routers"]
            .as_array()
            .and_then(|r| r.first())
            .and_then(ip);
        first
            .map(|r| (Ipv4Addr::UNSPECIFIED, 0, r))
            .into_iter()
            .collect()
    } else {
        classless
    };
    let prefix = k.json["prefix_len"]
        .as_u64()
        .and_then(|p| u8::try_from(p).ok());
    dhcp::host::net::netconf::Applied {
        index,
        address: (k.address, prefix.unwrap_or(32)),
        routes,
    }
}

fn system_hostname() -> Option<String> {
    #[cfg(unix)]
    {
        let h = nix::unistd::gethostname().ok()?.into_string().ok()?;
        let short = h.split('.').next().unwrap_or("").to_string();
        hook::is_valid_name(&short).then_some(short)
    }
    #[cfg(not(unix))]
    None
}

pub(crate) fn run(runtime: RuntimeName, args: Args) -> Outcome {
    crate::init_logging("info");
    let iface = socket::interface(&args.interface)?;
    let mac = iface
        .mac
        .ok_or_else(|| format!("{} has no hardware address", args.interface))?;
    let client_id = args
        .client_id
        .as_deref()
        .map(dhcp::host::server::config::parse_hex)
        .transpose()?;
    let host_name = if args.no_hostname {
        None
    } else {
        args.hostname.clone().or_else(system_hostname)
    };
    // After a lease that ran out, the client starts over asking for its address (50).
    let ran_out = (!args.once)
        .then(|| lease_path(&args).as_deref().and_then(kept))
        .flatten()
        .filter(|k| k.expired())
        .map(|k| k.address);
    on_runtime!(runtime, |R| async {
        let mut b = Client::<R>::builder(MacAddress::new(mac))
            .interface(&args.interface)
            .timeout(Duration::from_secs(args.timeout))
            .release_on_stop(args.release_on_exit)
            .configure(|c| {
                c.lease_time = args.lease_time;
                c.requested_address = args.request.or(ran_out);
            });
        if let Some(id) = &client_id {
            b = b.client_id(id);
        }
        if let Some(h) = &host_name {
            b = b.host_name(h);
        }
        let mut client = b.build().await?;
        if args.once {
            once(&mut client, &args, iface.index).await
        } else {
            keep(&mut client, &args, iface.index).await
        }
    })
}

async fn once<R: Runtime>(client: &mut Client<R>, args: &Args, index: u32) -> Outcome {
    let cfg = client.discover(args.request, args.lease_time).await?;
    if args.apply {
        apply(index, &cfg)?;
    }
    if let Some(script) = &args.script {
        run_hook(script, "bound", &args.interface, Some(&cfg)).await;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&lease_json(&args.interface, &cfg))?
        );
    } else {
        print_lease(&args.interface, &cfg);
    }
    Ok(ExitCode::SUCCESS)
}

async fn keep<R: Runtime>(client: &mut Client<R>, args: &Args, index: u32) -> Outcome {
    let (tx, rx) = async_channel::unbounded();
    let lease_file = lease_path(args);
    let kept = lease_file.as_deref().and_then(kept);
    // A kept lease still running is asked for again (INIT-REBOOT); one that ran out is
    // taken off the interface, and the client starts over.
    #[cfg(target_os = "linux")]
    let mut applied: Option<dhcp::host::net::netconf::Applied> = None;
    #[cfg(target_os = "linux")]
    if let (true, Some(k)) = (args.apply, &kept) {
        let a = kept_applied(index, k);
        if k.expired() {
            let _ = dhcp::host::net::netconf::remove(&a);
        } else {
            applied = Some(a);
        }
    }
    let start_with = args
        .request
        .or_else(|| kept.as_ref().filter(|k| !k.expired()).map(|k| k.address));
    // While no server answers for the kept lease, it is used until it runs out (as dhcpcd
    // does), the client asking all the while; then it is taken off.
    let mut kept_until = kept
        .as_ref()
        .filter(|k| !k.expired())
        .and_then(|k| k.left)
        .map(|left| std::time::Instant::now() + left);
    let timer = R::default();
    let (commands_tx, commands) = async_channel::unbounded();
    let signals = dhcp::host::ops::signal::watch(&[SIGUSR1, SIGUSR2]);
    if let Some(script) = &args.script {
        run_hook(script, "deconfig", &args.interface, None).await;
    }
    let consumer = async {
        loop {
            let next = async { Some(rx.recv().await) };
            let event = match kept_until {
                Some(t) => {
                    let ran_out = async {
                        dhcp::host::runtime::sleep_until(&timer, t).await;
                        None
                    };
                    futures_lite::future::or(next, ran_out).await
                }
                None => next.await,
            };
            let event = match event {
                Some(Ok(e)) => e,
                Some(Err(_)) => break,
                None => {
                    kept_until = None;
                    tracing::info!("the kept lease ran out with no server answering");
                    #[cfg(target_os = "linux")]
                    if let Some(old) = applied.take() {
                        if let Err(e) = dhcp::host::net::netconf::remove(&old) {
                            tracing::error!("removing the lease from {}: {e}", args.interface);
                        }
                    }
                    if let Some(path) = &lease_file {
                        let _ = std::fs::remove_file(path);
                    }
                    if let Some(script) = &args.script {
                        run_hook(script, "deconfig", &args.interface, None).await;
                    }
                    continue;
                }
            };
            // Whatever a server said, the kept lease is no longer what is in use.
            if !matches!(event, ClientEvent::Ipv6OnlyPreferred(_)) {
                kept_until = None;
            }
            let (hook_event, cfg) = match &event {
                ClientEvent::Bound(c) => ("bound", Some(c)),
                ClientEvent::Renewed(c) | ClientEvent::Rebound(c) => ("renew", Some(c)),
                ClientEvent::Expired(_) | ClientEvent::LeaseLost(_) | ClientEvent::Released(_) => {
                    ("deconfig", None)
                }
                ClientEvent::Nak => ("nak", None),
                ClientEvent::Ipv6OnlyPreferred(d) => {
                    tracing::info!("the network prefers IPv6-only: DHCPv4 pauses for {d:?}");
                    continue;
                }
            };
            let verb = match &event {
                ClientEvent::Bound(_) => "bound",
                ClientEvent::Renewed(_) => "renewed",
                _ => "rebound",
            };
            match &event {
                ClientEvent::Bound(c) | ClientEvent::Renewed(c) | ClientEvent::Rebound(c) => {
                    tracing::info!(
                        "{verb} {} from {} for {}",
                        c.your_ip_address,
                        c.server_ip_address,
                        c.lease_time
                            .map_or("ever".to_string(), |d| format!("{} s", d.as_secs()))
                    );
                }
                other => tracing::info!("{other:?}"),
            }
            if let Some(path) = &lease_file {
                let r = match cfg {
                    Some(c) => serde_json::to_string_pretty(&lease_json(&args.interface, c))
                        .map_err(std::io::Error::other)
                        .and_then(|text| write_atomically(path, &(text + "\n"))),
                    None if hook_event == "deconfig" => match std::fs::remove_file(path) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                        _ => Ok(()),
                    },
                    None => Ok(()),
                };
                if let Err(e) = r {
                    tracing::warn!("lease file {}: {e}", path.display());
                }
            }
            #[cfg(target_os = "linux")]
            if args.apply {
                // A NAK says the address in use (a kept one, after a restart) is wrong here.
                let refused = matches!(event, ClientEvent::Nak);
                if let Some(c) = cfg {
                    let address = (c.your_ip_address, c.lease.prefix_len().unwrap_or(32));
                    if let Some(old) = applied.take() {
                        if old.address != address {
                            let _ = dhcp::host::net::netconf::remove(&old);
                        }
                    }
                    match dhcp::host::net::netconf::apply(index, &c.lease) {
                        Ok(a) => applied = Some(a),
                        Err(e) => tracing::error!("applying the lease to {}: {e}", args.interface),
                    }
                } else if hook_event == "deconfig" || refused {
                    if let Some(old) = applied.take() {
                        if let Err(e) = dhcp::host::net::netconf::remove(&old) {
                            tracing::error!("removing the lease from {}: {e}", args.interface);
                        }
                    }
                }
            }
            #[cfg(not(target_os = "linux"))]
            let _ = index;
            if let Some(script) = &args.script {
                run_hook(script, hook_event, &args.interface, cfg).await;
            }
        }
    };
    let run = async {
        let r = client
            .run_with_commands(
                start_with,
                &tx,
                &commands,
                dhcp::host::ops::signal::shutdown(),
            )
            .await;
        tx.close();
        r
    };
    let forward = async {
        // SIGUSR1: renew now; SIGUSR2: release now (as udhcpc).
        while let Ok(sig) = signals.recv().await {
            let command = if sig == SIGUSR1 {
                ClientCommand::Renew
            } else {
                ClientCommand::Release
            };
            let _ = commands_tx.send(command).await;
        }
    };
    let both = futures_lite::future::zip(run, consumer);
    let (r, ()) = futures_lite::future::or(both, async {
        forward.await;
        std::future::pending().await
    })
    .await;
    r?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(target_os = "linux")]
fn apply(index: u32, cfg: &DhcpConfig) -> Result<(), Box<dyn std::error::Error>> {
    dhcp::host::net::netconf::apply(index, &cfg.lease)?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn apply(_: u32, _: &DhcpConfig) -> Result<(), Box<dyn std::error::Error>> {
    Err("--apply is only supported on Linux".into())
}

async fn run_hook(
    script: &std::path::Path,
    event: &str,
    interface: &str,
    cfg: Option<&DhcpConfig>,
) {
    let vars = hook::variables(interface, cfg.map(|c| &c.lease));
    match hook::run_async(script, event, vars).await {
        Ok(s) if s.success() => {}
        Ok(s) => tracing::warn!("hook {} {event}: {s}", script.display()),
        Err(e) => tracing::warn!("hook {} {event}: {e}", script.display()),
    }
}

fn print_lease(interface: &str, c: &DhcpConfig) {
    let l = &c.lease;
    let list = |v: &[Ipv4Addr]| {
        v.iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("interface     {interface}");
    println!(
        "address       {}/{}",
        c.your_ip_address,
        l.prefix_len().unwrap_or(32)
    );
    println!("server        {}", c.server_ip_address);
    if let Some(m) = c.subnet_mask {
        println!("subnet mask   {m}");
    }
    println!("routers       {}", list(&c.routers));
    println!("dns servers   {}", list(&c.domain_name_servers));
    if let Some(d) = &c.domain_name {
        println!("domain        {d}");
    }
    for r in l.classless_routes().into_iter().flat_map(|r| r.iter()) {
        println!(
            "route         {}/{} via {}",
            r.destination, r.prefix_len, r.router
        );
    }
    match l.lease_time() {
        Some(t) => println!("lease time    {} s", t.as_secs()),
        None => println!("lease time    infinite"),
    }
}

/// The lease as JSON: addresses, times, and the options most hosts act on.
pub(crate) fn lease_json(interface: &str, c: &DhcpConfig) -> serde_json::Value {
    let l = &c.lease;
    let ips = |v: Option<dhcp::core::wire::typed::Ipv4List<'_>>| -> Vec<String> {
        v.map(|l| l.iter().map(|a| a.to_string()).collect())
            .unwrap_or_default()
    };
    let routes: Vec<serde_json::Value> = l
        .classless_routes()
        .into_iter()
        .flat_map(|r| r.iter())
        .map(|r| {
            serde_json::json!({
                "destination": r.destination.to_string(),
                "prefix_len": r.prefix_len,
                "router": r.router.to_string(),
            })
        })
        .collect();
    serde_json::json!({
        "interface": interface,
        "address": c.your_ip_address.to_string(),
        "prefix_len": l.prefix_len(),
        "subnet_mask": c.subnet_mask.map(|m| m.to_string()),
        "server_id": c.server_ip_address.to_string(),
        "routers": ips(l.routers()),
        "dns_servers": ips(l.dns_servers()),
        "ntp_servers": ips(l.ntp_servers()),
        "domain_name": c.domain_name,
        "broadcast_address": l.broadcast_address().map(|a| a.to_string()),
        "mtu": l.mtu(),
        "classless_routes": routes,
        "lease_time": l.lease_time().map(|d| d.as_secs()),
        // When it runs out, in Unix seconds (for a lease just bound or renewed): a restart
        // asks for a lease still running again, and starts over after one that ran out.
        "expires": l.lease_time().map(|d| dhcp::host::clock::unix_now() + d.as_secs()),
        "renewal_time": l.renewal_time().map(|d| d.as_secs()),
        "rebinding_time": l.rebinding_time().map(|d| d.as_secs()),
    })
}
