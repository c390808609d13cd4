//! Server metrics in the Prometheus (OpenMetrics) text format, served over HTTP on an
//! opt-in address: packets by message type, drops by reason, leases and free addresses
//! per subnet and pool, offers held, journal batch sizes and fsync latency, request to
//! reply latency, store errors.
//!
//! The server loop owns the machine; it copies the machine's counters into the metrics
//! every [`REFRESH`] (and at shutdown), and observes batches and replies as they happen.
//! The HTTP thread only encodes what is there.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use dhcp_core::server::{DropReason, Server as Machine, ServerStats};
use dhcp_core::wire::MessageType;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// How often the server loop copies the machine's counters into the metrics.
pub const REFRESH: Duration = Duration::from_secs(1);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeLabel {
    message_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SubnetLabel {
    subnet: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabel {
    subnet: String,
    pool: String,
}

/// The DHCPv6 machine's counters and gauges (families: nothing is shown for a server
/// without DHCPv6).
#[derive(Debug, Default)]
struct Metrics6 {
    received: Family<TypeLabel, Counter>,
    sent: Family<TypeLabel, Counter>,
    dropped: Family<ReasonLabel, Counter>,
    leases: Family<SubnetLabel, Gauge>,
    pool_used: Family<PoolLabel, Gauge>,
    pool_size: Family<PoolLabel, Gauge>,
    /// The counters at the last refresh.
    last: dhcp_core::v6::server::Server6Stats,
}

impl Metrics6 {
    fn register(&self, r: &mut Registry) {
        r.register(
            "v6_received",
            "DHCPv6 messages received, by type",
            self.received.clone(),
        );
        r.register(
            "v6_sent",
            "DHCPv6 messages sent, by type",
            self.sent.clone(),
        );
        r.register(
            "v6_dropped",
            "DHCPv6 datagrams dropped, by reason",
            self.dropped.clone(),
        );
        r.register(
            "v6_leases_active",
            "DHCPv6 addresses and prefixes bound, by subnet",
            self.leases.clone(),
        );
        r.register(
            "v6_pool_used",
            "Addresses (or prefixes) of the pool in use, by subnet and pool",
            self.pool_used.clone(),
        );
        r.register(
            "v6_pool_size",
            "Addresses (or prefixes) in the pool, by subnet and pool",
            self.pool_size.clone(),
        );
    }

    fn refresh(&mut self, machine: &dhcp_core::v6::server::Server6) {
        use dhcp_core::v6::server::DropReason6;
        use dhcp_core::v6::wire::MessageType as Type6;
        let now = machine.stats();
        for (i, t) in (0u8..14).filter_map(|i| Some((usize::from(i), Type6::from_u8(i)?))) {
            let label = TypeLabel {
                message_type: t.name().to_uppercase(),
            };
            grow(
                &self.received.get_or_create(&label),
                now.received[i],
                self.last.received[i],
            );
            grow(
                &self.sent.get_or_create(&label),
                now.sent[i],
                self.last.sent[i],
            );
        }
        for r in DropReason6::ALL {
            let label = ReasonLabel {
                reason: r.name().to_string(),
            };
            grow(
                &self.dropped.get_or_create(&label),
                now.dropped(r),
                self.last.dropped(r),
            );
        }
        self.last = now.clone();
        for (s, n) in machine.config().subnets.iter().zip(machine.subnet_usage()) {
            let label = SubnetLabel {
                subnet: s.prefix.to_string(),
            };
            self.leases
                .get_or_create(&label)
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        for u in machine.pool_usage() {
            let label = PoolLabel {
                subnet: u.subnet.to_string(),
                pool: u.start.to_string(),
            };
            self.pool_used.get_or_create(&label).set(u.used as i64);
            self.pool_size
                .get_or_create(&label)
                .set(i64::try_from(u.size).unwrap_or(i64::MAX));
        }
    }
}

/// The histograms the lease commit thread feeds.
#[derive(Clone, Debug)]
pub struct CommitMetrics {
    batch_size: Histogram,
    sync_seconds: Histogram,
    errors: Counter,
}

impl CommitMetrics {
    /// One batch of `records` made durable in `seconds` (write and fsync).
    pub fn committed(&self, records: usize, seconds: f64) {
        self.batch_size.observe(records as f64);
        self.sync_seconds.observe(seconds);
    }

    /// One batch the store failed to write.
    pub fn failed(&self) {
        self.errors.inc();
    }
}

/// Every metric of one server, and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Arc<Registry>,
    received: Family<TypeLabel, Counter>,
    sent: Family<TypeLabel, Counter>,
    dropped: Family<ReasonLabel, Counter>,
    persist_failures: Counter,
    offers_expired: Counter,
    leases_expired: Counter,
    leases: Family<SubnetLabel, Gauge>,
    pool_leases: Family<PoolLabel, Gauge>,
    pool_free: Family<PoolLabel, Gauge>,
    pool_size: Family<PoolLabel, Gauge>,
    offers: Gauge,
    learned_stale: Counter,
    reply_seconds: Histogram,
    commit: CommitMetrics,
    /// The machine's counters at the last refresh, so that counters grow by the change.
    last: ServerStats,
    /// The same for [`Metrics::learned_stale`].
    last_learned_stale: u64,
    v6: Metrics6,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Metrics, all zero, registered under `dhcp_`.
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("dhcp");
        let received = Family::<TypeLabel, Counter>::default();
        r.register(
            "packets_received",
            "DHCP messages received, by message type",
            received.clone(),
        );
        let sent = Family::<TypeLabel, Counter>::default();
        r.register(
            "packets_sent",
            "DHCP messages sent, by message type (NAKs are message_type=\"NAK\")",
            sent.clone(),
        );
        let dropped = Family::<ReasonLabel, Counter>::default();
        r.register(
            "packets_dropped",
            "Packets dropped, by reason",
            dropped.clone(),
        );
        let persist_failures = Counter::default();
        r.register(
            "persist_failures",
            "ACKs whose lease record could not be made durable",
            persist_failures.clone(),
        );
        let offers_expired = Counter::default();
        r.register(
            "offers_expired",
            "Offers that expired without a REQUEST",
            offers_expired.clone(),
        );
        let leases_expired = Counter::default();
        r.register(
            "leases_expired",
            "Leases that expired",
            leases_expired.clone(),
        );
        let leases = Family::<SubnetLabel, Gauge>::default();
        r.register("leases_active", "Leases bound, by subnet", leases.clone());
        let pool_leases = Family::<PoolLabel, Gauge>::default();
        r.register(
            "pool_leases_active",
            "Leases bound, by subnet and pool",
            pool_leases.clone(),
        );
        let pool_free = Family::<PoolLabel, Gauge>::default();
        r.register(
            "pool_addresses_free",
            "Free addresses, by subnet and pool",
            pool_free.clone(),
        );
        let pool_size = Family::<PoolLabel, Gauge>::default();
        r.register(
            "pool_addresses",
            "Addresses in the pool, by subnet and pool",
            pool_size.clone(),
        );
        let offers = Gauge::default();
        r.register("offers_held", "Offers held now", offers.clone());
        let learned_stale = Counter::default();
        r.register(
            "store_learned_stale",
            "Lease rows learned from the shared store and dropped, older than this server's own write of the address",
            learned_stale.clone(),
        );
        // 50 µs .. about 0.8 s.
        let reply_seconds = Histogram::new(exponential_buckets(0.000_05, 2.0, 15));
        r.register(
            "reply_latency_seconds",
            "Time from a request's arrival to its reply leaving (ACKs include the fsync)",
            reply_seconds.clone(),
        );
        let commit = CommitMetrics {
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
            sync_seconds: Histogram::new(exponential_buckets(0.000_05, 2.0, 15)),
            errors: Counter::default(),
        };
        r.register(
            "journal_batch_records",
            "Lease records per durable batch (group commit)",
            commit.batch_size.clone(),
        );
        r.register(
            "journal_sync_seconds",
            "Time to write and fsync one batch",
            commit.sync_seconds.clone(),
        );
        r.register(
            "store_errors",
            "Batches the lease store failed to write",
            commit.errors.clone(),
        );
        let v6 = Metrics6::default();
        v6.register(&mut r);
        Metrics {
            v6,
            registry: Arc::new(r),
            received,
            sent,
            dropped,
            persist_failures,
            offers_expired,
            leases_expired,
            leases,
            pool_leases,
            pool_free,
            pool_size,
            offers,
            learned_stale,
            reply_seconds,
            commit,
            last: ServerStats::default(),
            last_learned_stale: 0,
        }
    }

    /// The handles the commit thread feeds.
    pub fn commit(&self) -> CommitMetrics {
        self.commit.clone()
    }

    /// One reply left `seconds` after its request arrived.
    pub fn replied(&self, seconds: f64) {
        self.reply_seconds.observe(seconds);
    }

    /// Copies the machine's counters (by how much each grew) and its gauges. O(bindings)
    /// for the lease counts, so the server loop calls it every [`REFRESH`], not per packet.
    pub fn refresh(&mut self, machine: &Machine) {
        let now = machine.stats();
        for t in (1..=18u8).filter_map(MessageType::from_u8) {
            let label = TypeLabel {
                message_type: t.name().to_uppercase(),
            };
            grow(
                &self.received.get_or_create(&label),
                now.received_of(t),
                self.last.received_of(t),
            );
            grow(
                &self.sent.get_or_create(&label),
                now.sent_of(t),
                self.last.sent_of(t),
            );
        }
        for &r in DropReason::ALL {
            let label = ReasonLabel {
                reason: format!("{r:?}"),
            };
            grow(
                &self.dropped.get_or_create(&label),
                now.dropped(r),
                self.last.dropped(r),
            );
        }
        grow(
            &self.persist_failures,
            now.persist_failures,
            self.last.persist_failures,
        );
        grow(
            &self.offers_expired,
            now.offers_expired,
            self.last.offers_expired,
        );
        grow(
            &self.leases_expired,
            now.leases_expired,
            self.last.leases_expired,
        );
        self.last = now.clone();
        for u in machine.usage() {
            let label = SubnetLabel {
                subnet: u.network.to_string(),
            };
            self.leases.get_or_create(&label).set(u.bound as i64);
        }
        for u in machine.pool_usage() {
            let label = PoolLabel {
                subnet: u.network.to_string(),
                pool: format!("{}-{}", u.range.start, u.range.end),
            };
            self.pool_leases.get_or_create(&label).set(u.bound as i64);
            self.pool_free.get_or_create(&label).set(u.free as i64);
            self.pool_size.get_or_create(&label).set(u.size as i64);
        }
        self.offers.set(machine.offers_held() as i64);
    }

    /// Copies the DHCPv6 machine's counters and pool usage into the metrics.
    pub fn refresh6(&mut self, machine: &dhcp_core::v6::server::Server6) {
        self.v6.refresh(machine);
    }

    /// The learned rows dropped as stale so far (`Replay::stale`), at a refresh.
    pub fn learned_stale(&mut self, total: u64) {
        grow(&self.learned_stale, total, self.last_learned_stale);
        self.last_learned_stale = total;
    }

    /// The metrics as OpenMetrics text.
    pub fn encode(&self) -> String {
        encode_registry(&self.registry)
    }

    /// Serves `GET /metrics` on `address` from a thread of its own, for as long as the
    /// process runs. Binding happens here, so a taken port is an error at start-up.
    pub fn serve(&self, address: SocketAddr) -> std::io::Result<()> {
        let listener = TcpListener::bind(address)?;
        let registry = Arc::clone(&self.registry);
        std::thread::Builder::new()
            .name("dhcp-metrics".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    if let Err(e) = answer(stream, &registry) {
                        tracing::debug!("metrics request: {e}");
                    }
                }
            })?;
        tracing::info!("metrics on http://{address}/metrics");
        Ok(())
    }
}

fn grow(counter: &Counter, now: u64, before: u64) {
    counter.inc_by(now.saturating_sub(before));
}

fn encode_registry(registry: &Registry) -> String {
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = encode(&mut text, registry);
    text
}

/// Reads one HTTP request (bounded in size and time) and answers it.
fn answer(mut stream: TcpStream, registry: &Registry) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&chunk[..n]);
    }
    let line = request.split(|&b| b == b'\r').next().unwrap_or_default();
    let (status, kind, body) = match line {
        l if l.starts_with(b"GET /metrics ") || l == b"GET /metrics" => (
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            encode_registry(registry),
        ),
        l if l.starts_with(b"GET ") => ("404 Not Found", "text/plain", "try /metrics\n".into()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "GET /metrics only\n".into(),
        ),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learned_stale_counts_what_grew_since_the_last_refresh() {
        let mut m = Metrics::new();
        m.learned_stale(2);
        m.learned_stale(5);
        m.learned_stale(5);
        let text = m.encode();
        assert!(text.contains("dhcp_store_learned_stale_total 5"), "{text}");
    }
}
