//! [`PostgresStore`]: leases in a PostgreSQL table that several servers share.
//!
//! The table's key is the address, so two servers can never both hold one: a server's
//! record for an address that another server's client holds (bound, not yet expired) is
//! refused, and the machine withholds that ACK (DESIGN.md, Durability). One batch of
//! records is one statement in one transaction (group commit), and its commit is the
//! commit point.
//!
//! Each server keeps its table fresh with what the others write: a trigger notifies every
//! change on the `dhcp_lease` channel, and a thread of the store's ([`LeaseStore::follow`])
//! listens, reads the changed rows, and hands them to the server, which replays them into
//! its machine; every `RECONCILE` it also reads the rows changed lately, in case a
//! notification was lost (a dropped connection).
//!
//! The schema is created and migrated by the server itself, under an advisory lock so that
//! servers starting together do it once.

use std::time::{Duration, Instant};

use std::collections::HashMap;
use std::net::Ipv4Addr;

use dhcp_core::server::{ClientKey, LeaseRecord, RecordKind};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, Row};
use postgres_native_tls::MakeTlsConnector;

use crate::server::config::DatabaseTls;
use crate::store::{Committed, Learned, LeaseStore, StoreError};

/// The schema's migrations, in order; `dhcp_schema.version` says how many have run.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE dhcp_lease (
    address bigint PRIMARY KEY CHECK (address BETWEEN 0 AND 4294967295),
    client bytea NOT NULL,
    state smallint NOT NULL CHECK (state IN (0, 1, 2)),
    expires bigint NOT NULL,
    host_name text,
    server text NOT NULL,
    seq bigint NOT NULL,
    updated timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX dhcp_lease_updated ON dhcp_lease (updated);
CREATE FUNCTION dhcp_lease_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('dhcp_lease', NEW.address::text || ' ' || NEW.server);
    RETURN NULL;
END $$;
CREATE TRIGGER dhcp_lease_changed AFTER INSERT OR UPDATE ON dhcp_lease
    FOR EACH ROW EXECUTE FUNCTION dhcp_lease_notify();
"#,
    r#"
CREATE SEQUENCE dhcp_lease_version;
ALTER TABLE dhcp_lease ADD COLUMN version bigint NOT NULL DEFAULT nextval('dhcp_lease_version');
"#,
    r#"
CREATE TABLE dhcp_lease6 (
    address bytea NOT NULL CHECK (length(address) = 16),
    prefix_len smallint NOT NULL CHECK (prefix_len BETWEEN 0 AND 128),
    ia smallint NOT NULL CHECK (ia IN (3, 25)),
    duid bytea NOT NULL,
    iaid bigint NOT NULL,
    state smallint NOT NULL CHECK (state IN (0, 1, 2)),
    expires bigint NOT NULL,
    server text NOT NULL,
    seq bigint NOT NULL,
    version bigint NOT NULL DEFAULT nextval('dhcp_lease_version'),
    updated timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (address, prefix_len)
);
"#,
];

/// One layer of a batch: every row in one statement. A row is written when the address is
/// free in the table: no row, a row of the same client, a row not bound, or a bound one
/// expired. `RETURNING` names the addresses written and their rows' new versions (from one
/// sequence, taken under the row's lock, so a row's versions grow with its writes); the
/// others are refused. Rows go in address order, so that two servers writing overlapping
/// batches lock them in the same order and never deadlock.
const UPSERT: &str = "
INSERT INTO dhcp_lease AS l (address, client, state, expires, host_name, server, seq)
SELECT t.address, t.client, t.state, t.expires, t.host_name, $7, t.seq
FROM unnest($1::bigint[], $2::bytea[], $3::smallint[], $4::bigint[], $5::text[], $6::bigint[])
    AS t(address, client, state, expires, host_name, seq)
ORDER BY t.address
ON CONFLICT (address) DO UPDATE SET
    client = EXCLUDED.client, state = EXCLUDED.state, expires = EXCLUDED.expires,
    host_name = EXCLUDED.host_name, server = EXCLUDED.server, seq = EXCLUDED.seq,
    updated = clock_timestamp(), version = nextval('dhcp_lease_version')
WHERE l.client = EXCLUDED.client OR l.state <> 0 OR l.expires <= $8
RETURNING address, version";

const COLUMNS: &str = "address, client, state, expires, host_name, seq, version";

/// Rows in the order they were written: replayed in that order, a client's newest lease
/// is the one that stays.
const ORDER: &str = "ORDER BY version";

/// How often the follower reads every row changed since its last reading (in case a
/// notification was lost), and how far back it reads (transactions commit in another
/// order than their timestamps).
const RECONCILE: Duration = Duration::from_secs(10);
const OVERLAP: &str = "30 seconds";

/// How long one attempt to reach the database may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Leases in PostgreSQL.
pub struct PostgresStore {
    pub(super) target: Target,
    name: String,
    client: Option<Client>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("name", &self.name)
            .field("connected", &self.client.is_some())
            .finish()
    }
}

fn db_error(what: impl std::fmt::Display) -> StoreError {
    StoreError::Database {
        what: what.to_string(),
    }
}

/// A client error with its causes: the client's own text is only the kind ("db error"),
/// the database's message is in its source.
pub(super) fn pg_error(e: postgres::Error) -> StoreError {
    db_error(chain(&e))
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    for s in sources(e) {
        text.push_str(": ");
        text.push_str(&s.to_string());
    }
    text
}

/// The errors under `e`, the nearest first.
fn sources<'e>(
    e: &'e (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'e (dyn std::error::Error + 'static)> {
    std::iter::successors(e.source(), |s| s.source())
}

/// Where the database is and how to reach it: the parsed URL and the TLS connector.
#[derive(Clone)]
pub(super) struct Target {
    config: postgres::Config,
    tls: MakeTlsConnector,
}

impl Target {
    /// From `url` (a `postgresql://` URL or libpq's `key=value` pairs; a `host` that is a
    /// directory means a Unix socket) and the TLS settings.
    fn new(url: &str, tls: &DatabaseTls) -> Result<Self, StoreError> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| db_error(format!("the postgres url: {}", chain(&e))))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name("dhcp");
        }
        // `IF NOT EXISTS` and the like are not worth a log line.
        config.options("-c client_min_messages=warning");
        let read = |p: &std::path::Path| {
            std::fs::read(p).map_err(|e| db_error(format!("{}: {e}", p.display())))
        };
        let mut b = native_tls::TlsConnector::builder();
        match &tls.ca {
            Some(ca) => {
                // A CA named: the database must prove who it is, over TLS.
                config.ssl_mode(postgres::config::SslMode::Require);
                b.disable_built_in_roots(true);
                let certs = native_tls::Certificate::stack_from_pem(&read(ca)?)
                    .map_err(|e| db_error(format!("{}: {e}", ca.display())))?;
                if certs.is_empty() {
                    return Err(db_error(format!("{}: no certificate", ca.display())));
                }
                for cert in certs {
                    b.add_root_certificate(cert);
                }
            }
            // As libpq without a root certificate: encrypted when the database offers TLS
            // (or `sslmode=require` asks for it), its certificate not checked.
            None => {
                b.danger_accept_invalid_certs(true);
            }
        }
        if let (Some(cert), Some(key)) = (&tls.cert, &tls.key) {
            let id = native_tls::Identity::from_pkcs8(&read(cert)?, &read(key)?)
                .map_err(|e| db_error(format!("{} with {}: {e}", cert.display(), key.display())))?;
            b.identity(id);
        }
        let tls = b
            .build()
            .map_err(|e| db_error(format!("setting up TLS: {e}")))?;
        Ok(Target {
            config,
            tls: MakeTlsConnector::new(tls),
        })
    }

    fn try_connect(&self) -> Result<Client, postgres::Error> {
        self.config.connect(self.tls.clone())
    }

    pub(super) fn connect(&self) -> Result<Client, StoreError> {
        self.try_connect()
            .map_err(|e| db_error(format!("connecting: {}", chain(&e))))
    }
}

/// Whether `e` says the database could not be reached (no answer, refused, reset), which
/// may pass, rather than what it or its certificate said.
fn unreachable(e: &postgres::Error) -> bool {
    if e.code() == Some(&postgres::error::SqlState::CANNOT_CONNECT_NOW) {
        return true; // starting up or shutting down
    }
    sources(e)
        .find(|s| {
            s.is::<std::io::Error>()
                || s.is::<native_tls::Error>()
                || s.is::<postgres::error::DbError>()
        })
        .is_some_and(|s| s.is::<std::io::Error>())
}

/// How long `open` waits between attempts while the database cannot be reached.
const OPEN_RETRY: Duration = Duration::from_secs(2);

/// Creates or brings the schema up to date.
fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(pg_error)?;
    // One server at a time; the others wait here, then find nothing left to do.
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(4242001);
         CREATE TABLE IF NOT EXISTS dhcp_schema (version integer NOT NULL);",
    )
    .map_err(pg_error)?;
    let version: i32 = match tx
        .query_opt("SELECT version FROM dhcp_schema", &[])
        .map_err(pg_error)?
    {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO dhcp_schema VALUES (0)", &[])
                .map_err(pg_error)?;
            0
        }
    };
    let done = usize::try_from(version).unwrap_or(0);
    if done > MIGRATIONS.len() {
        return Err(db_error(format!(
            "the database's schema is version {version}, newer than this server knows ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(done) {
        tx.batch_execute(m)
            .map_err(|e| db_error(format!("schema migration {}: {}", i + 1, chain(&e))))?;
    }
    if done < MIGRATIONS.len() {
        tx.execute(
            "UPDATE dhcp_schema SET version = $1",
            &[&(MIGRATIONS.len() as i32)],
        )
        .map_err(pg_error)?;
    }
    tx.commit().map_err(pg_error)
}

fn state_of(kind: RecordKind) -> i16 {
    match kind {
        RecordKind::Bound => 0,
        RecordKind::Released => 1,
        RecordKind::Declined => 2,
    }
}

/// A row as a record; `None` for a row no server of ours wrote (a bad state or address).
fn record_of(row: &Row) -> Option<LeaseRecord> {
    let address: i64 = row.get(0);
    let client: Vec<u8> = row.get(1);
    let kind = match row.get::<_, i16>(2) {
        0 => RecordKind::Bound,
        1 => RecordKind::Released,
        2 => RecordKind::Declined,
        _ => return None,
    };
    let expires: i64 = row.get(3);
    let host_name: Option<String> = row.get(4);
    let seq: i64 = row.get(5);
    Some(LeaseRecord {
        seq: u64::try_from(seq).ok()?,
        address: u32::try_from(address).ok()?.into(),
        client: ClientKey::new(&client),
        kind,
        expires: u64::try_from(expires).ok()?,
        host_name: host_name.map(String::into_bytes),
    })
}

/// A row of another server's, with its version.
fn learned_of(row: &Row) -> Option<Learned> {
    Some(Learned {
        record: record_of(row)?,
        version: u64::try_from(row.get::<_, i64>(6)).ok()?,
    })
}

/// Runs `f` on a thread of its own and waits for it: the blocking client may not be made,
/// used or dropped on an async runtime's thread.
pub(super) fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

pub(super) fn unix_now() -> i64 {
    i64::try_from(crate::clock::unix_now()).unwrap_or(i64::MAX)
}

/// One layer of a batch as the statement's arrays (at most one record per address).
struct Layer<'a> {
    addresses: Vec<i64>,
    clients: Vec<&'a [u8]>,
    states: Vec<i16>,
    expires: Vec<i64>,
    names: Vec<Option<String>>,
    seqs: Vec<i64>,
}

impl<'a> Layer<'a> {
    fn of(rows: &[&'a LeaseRecord]) -> Self {
        let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Layer {
            addresses: rows
                .iter()
                .map(|r| i64::from(u32::from(r.address)))
                .collect(),
            clients: rows.iter().map(|r| r.client.as_bytes()).collect(),
            states: rows.iter().map(|r| state_of(r.kind)).collect(),
            expires: rows.iter().map(|r| int(r.expires)).collect(),
            names: rows
                .iter()
                .map(|r| {
                    r.host_name
                        .as_deref()
                        .map(|h| String::from_utf8_lossy(h).into_owned())
                })
                .collect(),
            seqs: rows.iter().map(|r| int(r.seq)).collect(),
        }
    }

    /// `UPSERT`'s parameters.
    fn params<'p>(&'p self, server: &'p String, now: &'p i64) -> [&'p (dyn ToSql + Sync); 8] {
        [
            &self.addresses,
            &self.clients,
            &self.states,
            &self.expires,
            &self.names,
            &self.seqs,
            server,
            now,
        ]
    }
}

impl PostgresStore {
    /// Connects to the database at `url` as server `name` (the name rows are written
    /// under), creating or migrating the schema.
    ///
    /// May be called from async code: the blocking client runs on a thread of its own
    /// (it has a runtime inside, which may not start or end on a runtime's thread), and
    /// the commit thread makes its own connection.
    ///
    /// While the database cannot be reached (no answer, connection refused: it may be
    /// starting too), this waits and tries again every 2 s, saying so in the log once; what
    /// the database answers (a refused login, no such database), a certificate not trusted
    /// and a bad URL end it.
    pub fn open(url: &str, name: &str, tls: &DatabaseTls) -> Result<Self, StoreError> {
        let target = Target::new(url, tls)?;
        let mut waited = false;
        let client = loop {
            match off_runtime(|| target.try_connect()) {
                Ok(c) => break c,
                Err(e) if unreachable(&e) => {
                    if !waited {
                        waited = true;
                        tracing::warn!(
                            "waiting for the lease database ({}); trying again every {} s",
                            chain(&e),
                            OPEN_RETRY.as_secs()
                        );
                    }
                    std::thread::sleep(OPEN_RETRY);
                }
                Err(e) => return Err(db_error(format!("connecting: {}", chain(&e)))),
            }
        };
        if waited {
            tracing::warn!("lease database reachable: starting");
        }
        off_runtime(move || {
            let mut client = client;
            migrate(&mut client)
        })?;
        Ok(PostgresStore {
            target,
            name: name.to_string(),
            client: None,
        })
    }

    /// The name this server writes its rows under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The connection, made again if it was lost.
    pub(super) fn client(&mut self) -> Result<&mut Client, StoreError> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
        }
        if self.client.is_none() {
            self.client = Some(self.target.connect()?);
        }
        Ok(self.client.as_mut().expect("connected just now"))
    }

    /// Writes `batch` in one transaction. An address with several records in the batch
    /// (a release and the next client's lease, say) has them written in order, one layer
    /// of the batch per statement, since one statement may change a row only once.
    fn write(&mut self, batch: &[LeaseRecord]) -> Result<Committed, StoreError> {
        let mut layers: Vec<Vec<&LeaseRecord>> = Vec::new();
        let mut seen: HashMap<u32, usize> = HashMap::with_capacity(batch.len());
        for r in batch {
            let n = seen.entry(u32::from(r.address)).or_default();
            if layers.len() <= *n {
                layers.push(Vec::new());
            }
            layers[*n].push(r);
            *n += 1;
        }
        let server = self.name.clone();
        let now = unix_now();
        let client = self.client()?;
        let mut tx = client.transaction().map_err(pg_error)?;
        let mut committed = Committed::default();
        let mut versions: HashMap<u32, u64> = HashMap::with_capacity(batch.len());
        for rows in &layers {
            let written = tx
                .query(UPSERT, &Layer::of(rows).params(&server, &now))
                .map_err(pg_error)?;
            let written: HashMap<u32, u64> = written
                .iter()
                .filter_map(|row| {
                    let a = u32::try_from(row.get::<_, i64>(0)).ok()?;
                    Some((a, u64::try_from(row.get::<_, i64>(1)).ok()?))
                })
                .collect();
            for r in rows {
                match written.get(&u32::from(r.address)) {
                    Some(&v) => {
                        versions.insert(u32::from(r.address), v);
                    }
                    None => committed.refused.push(r.seq),
                }
            }
        }
        tx.commit().map_err(pg_error)?;
        committed.versions = versions
            .into_iter()
            .map(|(a, v)| (Ipv4Addr::from(a), v))
            .collect();
        Ok(committed)
    }
}

impl LeaseStore for PostgresStore {
    fn load(&mut self) -> Result<Vec<LeaseRecord>, StoreError> {
        let target = &self.target;
        off_runtime(|| {
            let rows = target
                .connect()?
                .query(&format!("SELECT {COLUMNS} FROM dhcp_lease {ORDER}"), &[])
                .map_err(pg_error)?;
            Ok(rows.iter().filter_map(record_of).collect())
        })
    }

    fn commit(&mut self, batch: &[LeaseRecord]) -> Result<Committed, StoreError> {
        let had = self.client.is_some();
        let mut result = self.write(batch);
        if result.is_err() && had {
            // The connection may have died since the last batch (a database restart): one
            // more try on a new one before calling the database down.
            self.client = None;
            result = self.write(batch);
        }
        if result.is_err() {
            // A broken connection is made again on the next batch. (The server logs the
            // outage and the recovery.)
            self.client = None;
        }
        result
    }

    /// Starts the thread that follows what the other servers write, and returns the
    /// records it learns, as they come.
    fn follow(&mut self) -> Result<Option<async_channel::Receiver<Learned>>, StoreError> {
        let (tx, rx) = async_channel::unbounded();
        let (target, name) = (self.target.clone(), self.name.clone());
        std::thread::Builder::new()
            .name("dhcp-lease-follow".into())
            .spawn(move || follow(&target, &name, &tx))
            .map_err(|e| db_error(format!("starting the follower thread: {e}")))?;
        Ok(Some(rx))
    }
}

/// The follower: LISTEN, read the rows the notifications name (other servers' only),
/// reconcile every `RECONCILE`, and start over (with a full reading) whenever the
/// connection drops. Ends when the server stops listening.
fn follow(target: &Target, name: &str, out: &async_channel::Sender<Learned>) {
    let mut state = Following::default();
    while !out.is_closed() {
        match follow_once(target, name, out, &mut state) {
            Ok(()) => return,
            Err(e) => {
                if !state.failing {
                    state.failing = true;
                    tracing::warn!(
                        "following the other servers' leases: {e}; trying again every second"
                    );
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// What the follower keeps from one connection to the next.
#[derive(Default)]
struct Following {
    sent: Sent,
    /// The last connection failed (to log the failure and the recovery once each).
    failing: bool,
    /// Another server with this server's name was seen (said once).
    name_taken: bool,
}

/// The version of each address's row the follower last handed over, so that it hands
/// over only newer ones (a reconciliation reads many rows it has seen).
#[derive(Default)]
struct Sent(HashMap<u32, u64>);

impl Sent {
    /// Hands over the rows newer than those handed over before; false once the server has
    /// stopped.
    fn send(&mut self, rows: &[Row], out: &async_channel::Sender<Learned>) -> bool {
        for l in rows.iter().filter_map(learned_of) {
            let last = self.0.entry(u32::from(l.record.address)).or_insert(0);
            if l.version <= *last {
                continue;
            }
            *last = l.version;
            if out.send_blocking(l).is_err() {
                return false;
            }
        }
        true
    }
}

/// Longest a batch of notifications gathers, from its first, before its rows are read.
const GATHER: Duration = Duration::from_millis(20);

/// How long the follower waits for a notification before it checks whether the server
/// stopped (and whether a reconciliation is due).
const IDLE: Duration = Duration::from_millis(250);

/// One connection's worth of following; `Ok` when the server has stopped.
fn follow_once(
    target: &Target,
    name: &str,
    out: &async_channel::Sender<Learned>,
    state: &mut Following,
) -> Result<(), StoreError> {
    let mut client = target.connect()?;
    client
        .batch_execute("LISTEN dhcp_lease")
        .map_err(pg_error)?;
    if std::mem::take(&mut state.failing) {
        tracing::warn!("following the other servers' leases again");
    }
    // Each server holds a lock on its name while it follows: two servers of one name
    // would each take the other's rows for its own and never learn them.
    let named: bool = client
        .query_one(
            "SELECT pg_try_advisory_lock(4242002, hashtext($1))",
            &[&name],
        )
        .map_err(pg_error)?
        .get(0);
    if !named && !std::mem::replace(&mut state.name_taken, true) {
        tracing::error!(
            "another server named {name:?} is connected to the lease database: servers \
             that share it need names of their own ([postgres] name), or they do not see \
             each other's leases"
        );
    }
    let sent = &mut state.sent;
    // Everything once (what happened while no connection listened), then what the
    // notifications name, and every `RECONCILE` what changed lately.
    let all = format!("SELECT {COLUMNS} FROM dhcp_lease WHERE server <> $1 {ORDER}");
    let recent = format!(
        "SELECT {COLUMNS} FROM dhcp_lease \
         WHERE server <> $1 AND updated >= now() - interval '{OVERLAP}' {ORDER}"
    );
    let some = format!(
        "SELECT {COLUMNS} FROM dhcp_lease WHERE server <> $1 AND address = ANY($2) {ORDER}"
    );
    if !sent.send(&client.query(&all, &[&name]).map_err(pg_error)?, out) {
        return Ok(());
    }
    let mut reconciled = Instant::now();
    loop {
        let mut changed: Vec<i64> = Vec::new();
        {
            let mut notes = client.notifications();
            let mut first: Option<Instant> = None;
            loop {
                let wait = match first {
                    None => IDLE,
                    Some(t) => match GATHER.checked_sub(t.elapsed()) {
                        Some(w) if !w.is_zero() => w,
                        _ => break,
                    },
                };
                let Some(n) = notes.timeout_iter(wait).next().map_err(pg_error)? else {
                    break;
                };
                first.get_or_insert_with(Instant::now);
                let mut parts = n.payload().splitn(2, ' ');
                let address = parts.next().and_then(|a| a.parse::<i64>().ok());
                if let (Some(a), Some(writer)) = (address, parts.next()) {
                    if writer != name {
                        changed.push(a);
                    }
                }
            }
        }
        if out.is_closed() {
            return Ok(());
        }
        if client.is_closed() {
            return Err(db_error("the connection closed"));
        }
        if !changed.is_empty() {
            changed.sort_unstable();
            changed.dedup();
            let rows = client.query(&some, &[&name, &changed]).map_err(pg_error)?;
            if !sent.send(&rows, out) {
                return Ok(());
            }
        }
        if reconciled.elapsed() >= RECONCILE {
            reconciled = Instant::now();
            let rows = client.query(&recent, &[&name]).map_err(pg_error)?;
            if !sent.send(&rows, out) {
                return Ok(());
            }
        }
    }
}
