//! `dhcp demo`: a server and a client in two network namespaces joined by a veth pair;
//! prints the exchange and the lease, then removes everything, also on Ctrl-C or SIGTERM
//! (and a run killed outright is cleaned up by the next one: the names are fixed).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use dhcp::host::client::Client;
use dhcp::host::net::netconf;
use dhcp::host::net::netns::Pair;
use dhcp::host::server::config;
use dhcp::host::server::Server;
use dhcp::host::MacAddress;

use crate::runtime::{on_runtime, RuntimeName};
use crate::Outcome;

const SERVER_NS: &str = "dhcp-demo-server";
const CLIENT_NS: &str = "dhcp-demo-client";
const MAC: [u8; 6] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];

const CONFIG: &str = r#"
interfaces = ["veth-srv"]
journal = "leases.journal"
authoritative = true

[lease]
time = 3600

[options]
dns_servers = ["192.0.2.53"]
domain_name = "demo.test"

[[subnet]]
network = "192.0.2.0/24"
pools = ["192.0.2.100-192.0.2.199"]

[subnet.options]
routers = ["192.0.2.1"]
"#;

type Failure = String;

pub(crate) fn run(runtime: RuntimeName, hold: u64) -> Outcome {
    if !nix::unistd::geteuid().is_root() {
        return Err(
            "dhcp demo needs root: it creates two network namespaces and a veth \
                    pair (try: sudo dhcp demo)"
                .into(),
        );
    }
    if !dhcp::host::net::netns::can_netns() {
        return Err("dhcp demo needs the `ip` command (iproute2)".into());
    }
    crate::init_logging("info");
    let interrupted = dhcp::host::ops::signal::shutdown();
    let pair = Pair::named(SERVER_NS, CLIENT_NS, "00:11:22:33:44:55")?;
    println!(
        "namespaces {SERVER_NS} (veth-srv 192.0.2.1/24, our server) and {CLIENT_NS} \
         (veth-cli {}, our client)",
        MacAddress::new(MAC)
    );
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("server.toml");
    std::fs::write(&path, CONFIG)?;
    let file = config::load(&path)?;

    let (stop_server, stopped) = async_channel::bounded::<()>(1);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), Failure>>();
    let server = Pair::spawn_in(&pair.server, move || -> Result<(), Failure> {
        on_runtime!(runtime, |R| async move {
            let server = match Server::<R>::bind(&file).await {
                Ok(s) => s,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return Err(e.to_string());
                }
            };
            let _ = ready_tx.send(Ok(()));
            server
                .run_until(async move {
                    let _ = stopped.recv().await;
                })
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| "the server did not start")??;

    let client_if = pair.client_if.clone();
    let client = Pair::spawn_in(&pair.client, move || -> Result<(), Failure> {
        on_runtime!(runtime, |R| async move {
            let bind = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 68);
            let mut c = Client::<R>::new(
                bind,
                MacAddress::new(MAC),
                None,
                Some("dhcp-demo".to_string()),
                None,
                None,
                true,
            )
            .await
            .map_err(|e| e.to_string())?;
            let cfg = c.discover(None, None).await.map_err(|e| e.to_string())?;
            println!("DHCP Configuration obtained:");
            println!("  Your IP: {}", cfg.your_ip_address);
            println!("  Server IP: {}", cfg.server_ip_address);
            if let Some(m) = cfg.subnet_mask {
                println!("  Subnet Mask: {m}");
            }
            println!("  Routers: {:?}", cfg.routers);
            println!("  DNS Servers: {:?}", cfg.domain_name_servers);
            if let Some(ack) = cfg.lease.message() {
                println!("The ACK, as tcpdump -v shows it:\n  {ack}");
            }
            let index = dhcp::host::net::socket::interface(&client_if)
                .map_err(|e| e.to_string())?
                .index;
            let applied = netconf::apply(index, &cfg.lease).map_err(|e| e.to_string())?;
            println!(
                "applied {}/{} to {client_if} in {CLIENT_NS}",
                applied.address.0, applied.address.1
            );
            if hold > 0 {
                println!(
                    "holding for {hold} s (try: sudo ip netns exec {CLIENT_NS} ping -c1 192.0.2.1)"
                );
                dhcp::host::runtime::sleep_until(
                    &R::default(),
                    std::time::Instant::now() + Duration::from_secs(hold),
                )
                .await;
            }
            c.release(cfg.your_ip_address, cfg.server_ip_address, None)
                .await
                .map_err(|e| e.to_string())?;
            netconf::remove(&applied).map_err(|e| e.to_string())?;
            println!("released {}", cfg.your_ip_address);
            Ok(())
        })
    });

    let (done_tx, done_rx) = async_channel::bounded(1);
    std::thread::spawn(move || {
        let r = client
            .join()
            .unwrap_or_else(|_| Err("the client panicked".to_string()));
        let _ = done_tx.send_blocking(r);
    });
    let finished = futures_lite::future::block_on(futures_lite::future::or(
        async { Some(done_rx.recv().await) },
        async {
            interrupted.await;
            None
        },
    ));
    let _ = stop_server.try_send(());
    let code = match finished {
        None => {
            println!("interrupted");
            ExitCode::from(130)
        }
        Some(result) => {
            // Give the server its RELEASE before stopping it.
            std::thread::sleep(Duration::from_millis(200));
            let _ = server.join();
            match result {
                Ok(Ok(())) => ExitCode::SUCCESS,
                Ok(Err(e)) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
                Err(_) => ExitCode::FAILURE,
            }
        }
    };
    drop(pair);
    println!("removed namespaces {SERVER_NS} and {CLIENT_NS}");
    Ok(code)
}
