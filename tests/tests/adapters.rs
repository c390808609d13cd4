//! One suite of scenarios, run against every runtime adapter: our server and our client in
//! two network namespaces joined by a veth pair. Each scenario runs once per runtime, on
//! that runtime's own executor.
#![cfg(target_os = "linux")]

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dhcp_host::client::{Client, ClientEvent};
use dhcp_host::dhcp_core::server::LeaseRecord;
use dhcp_host::net::netns::Pair;
use dhcp_host::runtime::Runtime;
use dhcp_host::server::config;
use dhcp_host::server::{Server, Summary};
use dhcp_host::store::journal::Journal;
use dhcp_host::store::{Committed, LeaseStore, StoreError};
use dhcp_host::MacAddress;

/// Whether the namespace tests can run (root, iproute2); CI runs them as root.
fn can_netns() -> bool {
    let ok = dhcp_host::net::netns::can_netns();
    if !ok {
        eprintln!("SKIPPED: network namespace tests need root and iproute2 (CI runs them)");
    }
    ok
}

trait Exec: 'static {
    type R: Runtime;
    fn block_on<F: Future>(f: F) -> F::Output;
}

struct Tokio;
impl Exec for Tokio {
    type R = dhcp_runtime_tokio::Tokio;
    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(f)
    }
}

struct AsyncStd;
impl Exec for AsyncStd {
    type R = dhcp_runtime_async_std::AsyncStd;
    fn block_on<F: Future>(f: F) -> F::Output {
        async_std::task::block_on(f)
    }
}

struct Smol;
impl Exec for Smol {
    type R = dhcp_runtime_smol::Smol;
    fn block_on<F: Future>(f: F) -> F::Output {
        smol::block_on(f)
    }
}

const MAC: MacAddress = MacAddress::new([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

fn bind_addr() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 68)
}

fn config_text(lease: u32, interfaces: &str) -> String {
    format!(
        r#"
{interfaces}
journal = "leases.journal"
authoritative = true

[lease]
time = {lease}
min = 2

[options]
dns_servers = ["192.0.2.53"]
domain_name = "example.test"

[[subnet]]
network = "192.0.2.0/24"
pools = ["192.0.2.100-192.0.2.150"]

[subnet.options]
routers = ["192.0.2.1"]

[[subnet.reservation]]
mac = "02:00:00:00:00:42"
address = "192.0.2.42"
host_name = "printer"
"#
    )
}

/// When each record became durable.
type Durable = Arc<Mutex<Vec<(u64, Instant)>>>;

/// A store that notes when each batch became durable, around the real journal.
struct Timed {
    inner: Journal,
    durable: Durable,
}

impl LeaseStore for Timed {
    fn load(&mut self) -> Result<Vec<LeaseRecord>, StoreError> {
        self.inner.load()
    }
    fn commit(&mut self, batch: &[LeaseRecord]) -> Result<Committed, StoreError> {
        let r = self.inner.commit(batch)?;
        let now = Instant::now();
        let mut d = self.durable.lock().unwrap();
        d.extend(batch.iter().map(|b| (b.seq, now)));
        Ok(r)
    }
}

struct Running {
    stop: async_channel::Sender<()>,
    thread: JoinHandle<Summary>,
}

impl Running {
    fn stop(self) -> Summary {
        let _ = self.stop.try_send(());
        self.thread.join().expect("server thread")
    }
}

/// Starts our server in the pair's server namespace, with its config and journal in `dir`.
fn start_server<E: Exec>(pair: &Pair, dir: &Path, lease: u32, durable: Option<Durable>) -> Running {
    start_server_on::<E>(pair, dir, lease, durable, "interfaces = [\"veth-srv\"]")
}

/// As [`start_server`], with the config's `interfaces` line given.
fn start_server_on<E: Exec>(
    pair: &Pair,
    dir: &Path,
    lease: u32,
    durable: Option<Durable>,
    interfaces: &str,
) -> Running {
    let path = dir.join("server.toml");
    std::fs::write(&path, config_text(lease, interfaces)).unwrap();
    let (stop, stopped) = async_channel::bounded::<()>(1);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let thread = Pair::spawn_in(&pair.server, move || {
        E::block_on(async move {
            let file = config::load(&path).expect("config");
            let server = match durable {
                Some(d) => {
                    let inner = Journal::open(&file.journal).expect("journal");
                    let store = Timed { inner, durable: d };
                    Server::<E::R>::bind_with_store(E::R::default(), &file, Box::new(store)).await
                }
                None => Server::<E::R>::bind(&file).await,
            }
            .expect("bind");
            ready_tx.send(()).unwrap();
            server
                .run_until(async move {
                    let _ = stopped.recv().await;
                })
                .await
                .expect("serve")
        })
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("server ready");
    Running { stop, thread }
}

/// Runs `f` on the client side of the pair, on `E`'s executor.
fn on_client<E: Exec, T: Send + 'static, F: Future<Output = T>>(
    pair: &Pair,
    f: impl FnOnce() -> F + Send + 'static,
) -> T {
    Pair::spawn_in(&pair.client, move || E::block_on(f()))
        .join()
        .expect("client thread")
}

fn journal_lines(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("leases.journal"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn last_record_of(dir: &Path, a: Ipv4Addr) -> Option<String> {
    journal_lines(dir)
        .into_iter()
        .rfind(|l| l.split(' ').nth(2) == Some(&a.to_string()))
}

/// Waits (at most 5 s) until the journal's last record of `a` is a release: a RELEASE has
/// no answer, so the client is done before the server has it.
fn wait_for_release(dir: &Path, a: Ipv4Addr) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if last_record_of(dir, a).is_some_and(|l| l.contains(" released ")) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The seed README's API: get_dhcp_config, then Client::new, discover, renew, release.
fn seed_api<E: Exec>() {
    if !can_netns() {
        return;
    }
    let pair = Pair::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server::<E>(&pair, dir.path(), 600, None);
    let (first, lease, renewed) = on_client::<E, _, _>(&pair, || async {
        let first = dhcp_host::client::get_dhcp_config::<E::R>(
            bind_addr(),
            MAC,
            Some("my-client".to_string()),
        )
        .await
        .expect("get_dhcp_config");
        let mut c = Client::<E::R>::new(
            bind_addr(),
            MAC,
            None,
            Some("rust-dhcp-client".to_string()),
            None,
            None,
            true,
        )
        .await
        .expect("Client::new");
        let lease = c.discover(None, Some(7200)).await.expect("discover");
        let renewed = c
            .renew(lease.your_ip_address, lease.server_ip_address)
            .await
            .expect("renew");
        c.release(lease.your_ip_address, lease.server_ip_address, None)
            .await
            .expect("release");
        (first, lease, renewed)
    });
    assert!((100..=150).contains(&first.your_ip_address.octets()[3]));
    assert_eq!(first.server_ip_address, SERVER);
    assert_eq!(first.subnet_mask, Some(Ipv4Addr::new(255, 255, 255, 0)));
    assert_eq!(first.routers, vec![SERVER]);
    assert_eq!(
        first.domain_name_servers,
        vec![Ipv4Addr::new(192, 0, 2, 53)]
    );
    assert_eq!(first.domain_name.as_deref(), Some("example.test"));
    assert_eq!(first.lease_time, Some(Duration::from_secs(600)));
    // The same client (chaddr) keeps its address; it asked for two hours.
    assert_eq!(lease.your_ip_address, first.your_ip_address);
    assert_eq!(lease.lease_time, Some(Duration::from_secs(7200)));
    assert_eq!(renewed.your_ip_address, lease.your_ip_address);
    assert_eq!(renewed.lease_time, Some(Duration::from_secs(7200)));
    wait_for_release(dir.path(), lease.your_ip_address);
    let summary = server.stop();
    let last = last_record_of(dir.path(), lease.your_ip_address).unwrap();
    assert!(last.contains(" released "), "{last}");
    assert_eq!(summary.leases, 0);
}

/// An ACK leaves only after its record is durable: the commit finished before the client
/// had the ACK, and the journal on disk holds the lease.
fn ack_after_commit<E: Exec>() {
    if !can_netns() {
        return;
    }
    let pair = Pair::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let durable = Arc::new(Mutex::new(Vec::new()));
    let server = start_server::<E>(&pair, dir.path(), 600, Some(durable.clone()));
    let journal = dir.path().join("leases.journal");
    let (lease, acked, on_disk) = on_client::<E, _, _>(&pair, move || async move {
        let mut c = Client::<E::R>::new(bind_addr(), MAC, None, None, None, None, true)
            .await
            .unwrap();
        let lease = c.discover(None, None).await.unwrap();
        let acked = Instant::now();
        // Read the journal the moment the ACK is in.
        let on_disk = std::fs::read_to_string(journal).unwrap();
        (lease, acked, on_disk)
    });
    server.stop();
    let d = durable.lock().unwrap();
    assert!(!d.is_empty());
    assert!(
        d.iter().all(|(_, t)| *t <= acked),
        "a commit finished after the client had its ACK"
    );
    let line = on_disk
        .lines()
        .find(|l| l.contains(&format!(" bound {} ", lease.your_ip_address)))
        .expect("the bound record was on disk when the ACK arrived");
    assert!(line.contains("01:00:11:22:33:44:55"), "{line}");
}

/// A server stopped and started again keeps every lease: the client renews the same
/// address from the new process.
fn restart_keeps_leases<E: Exec>() {
    if !can_netns() {
        return;
    }
    let pair = Pair::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server::<E>(&pair, dir.path(), 600, None);
    let lease = on_client::<E, _, _>(&pair, || async {
        let mut c = Client::<E::R>::new(bind_addr(), MAC, None, None, None, None, true)
            .await
            .unwrap();
        c.discover(None, None).await.unwrap()
    });
    let before = server.stop();
    assert_eq!(before.leases, 1);
    let server = start_server::<E>(&pair, dir.path(), 600, None);
    let a = lease.your_ip_address;
    let renewed = on_client::<E, _, _>(&pair, move || async move {
        let mut c = Client::<E::R>::new(bind_addr(), MAC, None, None, None, None, true)
            .await
            .unwrap();
        c.renew(a, SERVER).await.unwrap()
    });
    assert_eq!(renewed.your_ip_address, a);
    let after = server.stop();
    assert_eq!(after.leases, 1);
}

/// A reservation gives its fixed address and host name.
fn reservation<E: Exec>() {
    if !can_netns() {
        return;
    }
    let pair = Pair::with_mac("02:00:00:00:00:42").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server::<E>(&pair, dir.path(), 600, None);
    let lease = on_client::<E, _, _>(&pair, || async {
        let mac: MacAddress = "02:00:00:00:00:42".parse().unwrap();
        dhcp_host::client::get_dhcp_config::<E::R>(bind_addr(), mac, None)
            .await
            .unwrap()
    });
    server.stop();
    assert_eq!(lease.your_ip_address, Ipv4Addr::new(192, 0, 2, 42));
    let host = lease
        .lease
        .host_name()
        .and_then(|t| t.as_str().map(str::to_string));
    assert_eq!(host.as_deref(), Some("printer"));
}

/// A server bound to every interface learns each request's interface and address from
/// `IP_PKTINFO`, answers out of that interface, and uses that address as its identifier.
fn every_interface<E: Exec>() {
    if !can_netns() {
        return;
    }
    let pair = Pair::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server_on::<E>(&pair, dir.path(), 600, None, "");
    let lease = on_client::<E, _, _>(&pair, || async {
        dhcp_host::client::get_dhcp_config::<E::R>(bind_addr(), MAC, None)
            .await
            .unwrap()
    });
    server.stop();
    assert!((100..=150).contains(&lease.your_ip_address.octets()[3]));
    assert_eq!(lease.server_ip_address, SERVER);
}

/// Without the BROADCAST flag, a reply goes unicast to `yiaddr` at `chaddr`: the server
/// writes the ARP entry first, so it needs no ARP answer from a client without an address.
/// (Here the client already has its reserved address, so its kernel takes the unicast.)
fn unicast_to_chaddr<E: Exec>() {
    if !can_netns() {
        return;
    }
    let pair = Pair::with_mac("02:00:00:00:00:42").unwrap();
    Pair::ip_in(
        &pair.client,
        &["addr", "add", "192.0.2.42/24", "dev", &pair.client_if],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server::<E>(&pair, dir.path(), 600, None);
    let lease = on_client::<E, _, _>(&pair, || async {
        let mac: MacAddress = "02:00:00:00:00:42".parse().unwrap();
        let mut c = Client::<E::R>::builder(mac)
            .broadcast(false)
            .timeout(Duration::from_secs(20))
            .build()
            .await
            .unwrap();
        c.discover(None, None).await.unwrap()
    });
    let neigh = Pair::ip_in(&pair.server, &["neigh", "show", "192.0.2.42"]).unwrap();
    server.stop();
    assert_eq!(lease.your_ip_address, Ipv4Addr::new(192, 0, 2, 42));
    assert!(neigh.contains("lladdr 02:00:00:00:00:42"), "{neigh}");
}

/// The long-running client: bound, renewed at T1 (the address applied to the interface as
/// `--apply` would), released when stopped.
fn keeps_the_lease<E: Exec>() {
    if !can_netns() {
        return;
    }
    let pair = Pair::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server::<E>(&pair, dir.path(), 4, None);
    let ns = pair.client.clone();
    let dev = pair.client_if.clone();
    let events = on_client::<E, _, _>(&pair, move || async move {
        let mut c = Client::<E::R>::builder(MAC)
            .configure(|c| c.renew_min_interval = Duration::from_secs(1))
            .build()
            .await
            .unwrap();
        let (tx, rx) = async_channel::unbounded();
        let (stop_tx, stop_rx) = async_channel::bounded::<()>(1);
        let watcher = async {
            let mut seen = Vec::new();
            let give_up = Instant::now() + Duration::from_secs(30);
            while Instant::now() < give_up {
                let Ok(e) = rx.recv().await else { break };
                if let ClientEvent::Bound(cfg) = &e {
                    let cidr = format!("{}/24", cfg.your_ip_address);
                    Pair::ip_in(&ns, &["addr", "add", &cidr, "dev", &dev]).unwrap();
                }
                let renewed = matches!(e, ClientEvent::Renewed(_));
                seen.push(e);
                if renewed {
                    break;
                }
            }
            let _ = stop_tx.send(()).await;
            // The release event follows the stop.
            if let Ok(e) = rx.recv().await {
                seen.push(e);
            }
            seen
        };
        let run = c.run_until(None, &tx, async move {
            let _ = stop_rx.recv().await;
        });
        let (seen, ran) = futures_join(watcher, run).await;
        ran.expect("run_until");
        seen
    });
    if let Some(ClientEvent::Bound(cfg)) = events.first() {
        wait_for_release(dir.path(), cfg.your_ip_address);
    }
    server.stop();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            ClientEvent::Bound(_) => "bound",
            ClientEvent::Renewed(_) => "renewed",
            ClientEvent::Rebound(_) => "rebound",
            ClientEvent::Released(_) => "released",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["bound", "renewed", "released"], "{events:?}");
    let ClientEvent::Bound(cfg) = &events[0] else {
        unreachable!()
    };
    let last = last_record_of(dir.path(), cfg.your_ip_address).unwrap();
    assert!(last.contains(" released "), "{last}");
    let bound = journal_lines(dir.path())
        .iter()
        .filter(|l| l.contains(" bound "))
        .count();
    assert!(bound >= 2, "the renewal was journaled");
}

/// Both futures to completion, on any executor.
async fn futures_join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let mut ra = None;
    let mut rb = None;
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let std::task::Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    (ra.unwrap(), rb.unwrap())
}

macro_rules! on_every_runtime {
    ($($scenario:ident),*) => {
        mod tokio_rt { $( #[test] fn $scenario() { super::$scenario::<super::Tokio>() } )* }
        mod async_std_rt { $( #[test] fn $scenario() { super::$scenario::<super::AsyncStd>() } )* }
        mod smol_rt { $( #[test] fn $scenario() { super::$scenario::<super::Smol>() } )* }
    };
}

on_every_runtime!(
    seed_api,
    ack_after_commit,
    restart_keeps_leases,
    reservation,
    every_interface,
    unicast_to_chaddr,
    keeps_the_lease
);
