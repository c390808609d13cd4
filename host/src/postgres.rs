//! [`PostgresStore`]: leases in a PostgreSQL table that several servers share.
//!
//! The table's key is the address, so two servers can never both hold one: a server's
//! record for an address that another server's client holds (bound, not yet expired) is
//! refused, and the machine withholds that ACK (DESIGN.md, Durability). One batch of
//! records is one statement in one transaction (group commit), and its commit is the
//! commit point.
//!
//! Each server keeps its table fresh with what the others write: a trigger notifies every
//! change on the `dhcp_lease` channel, and a thread of the store's ([`PostgresStore::follow`])
//! listens, reads the changed rows, and hands them to the server, which replays them into
//! its machine; every `RECONCILE` it also reads the rows changed lately, in case a
//! notification was lost (a dropped connection).
//!
//! The schema is created and migrated by the server itself, under an advisory lock so that
//! servers starting together do it once.

use std::time::{Duration, Instant};

use dhcp_core::server::{ClientKey, LeaseRecord, RecordKind};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls, Row};

use crate::store::{LeaseStore, StoreError};

/// The schema's migrations, in order; `dhcp_schema.version` says how many have run.
const MIGRATIONS: &[&str] = &[r#"
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
"#];

/// One batch: every row in one statement. A row is written when the address is free in
/// the table: no row, a row of the same client, a row not bound, or a bound one expired.
/// `RETURNING` names the addresses written; the others are refused. Rows go in address
/// order, so that two servers writing overlapping batches lock them in the same order and
/// never deadlock.
const UPSERT: &str = "
INSERT INTO dhcp_lease AS l (address, client, state, expires, host_name, server, seq)
SELECT t.address, t.client, t.state, t.expires, t.host_name, $7, t.seq
FROM unnest($1::bigint[], $2::bytea[], $3::smallint[], $4::bigint[], $5::text[], $6::bigint[])
    AS t(address, client, state, expires, host_name, seq)
ORDER BY t.address
ON CONFLICT (address) DO UPDATE SET
    client = EXCLUDED.client, state = EXCLUDED.state, expires = EXCLUDED.expires,
    host_name = EXCLUDED.host_name, server = EXCLUDED.server, seq = EXCLUDED.seq,
    updated = clock_timestamp()
WHERE l.client = EXCLUDED.client OR l.state <> 0 OR l.expires <= $8
RETURNING address";

const COLUMNS: &str = "address, client, state, expires, host_name, seq";

/// Rows in the order they were written: replayed in that order, a client's newest lease
/// is the one that stays.
const ORDER: &str = "ORDER BY updated, seq";

/// How often the follower reads every row changed since its last reading (in case a
/// notification was lost), and how far back it reads (transactions commit in another
/// order than their timestamps).
const RECONCILE: Duration = Duration::from_secs(10);
const OVERLAP: &str = "30 seconds";

/// How long one attempt to reach the database may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Leases in PostgreSQL.
pub struct PostgresStore {
    url: String,
    name: String,
    client: Option<Client>,
    /// Whether the last attempt failed (to log the outage and the recovery once each).
    down: bool,
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

/// Connects with `url` (a `postgresql://` URL or `key=value` pairs, as libpq takes; a
/// `host` that is a directory means a Unix socket).
fn connect(url: &str) -> Result<Client, StoreError> {
    try_connect(&parse_url(url)?).map_err(|e| db_error(format!("connecting: {e}")))
}

fn parse_url(url: &str) -> Result<postgres::Config, StoreError> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| db_error(format!("the postgres url: {e}")))?;
    config.connect_timeout(CONNECT_TIMEOUT);
    if config.get_application_name().is_none() {
        config.application_name("dhcp");
    }
    // `IF NOT EXISTS` and the like are not worth a log line.
    config.options("-c client_min_messages=warning");
    Ok(config)
}

fn try_connect(config: &postgres::Config) -> Result<Client, postgres::Error> {
    config.connect(NoTls)
}

/// How long `open` waits between attempts while the database cannot be reached.
const OPEN_RETRY: Duration = Duration::from_secs(2);

/// Creates or brings the schema up to date.
fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(db_error)?;
    // One server at a time; the others wait here, then find nothing left to do.
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(4242001);
         CREATE TABLE IF NOT EXISTS dhcp_schema (version integer NOT NULL);",
    )
    .map_err(db_error)?;
    let version: i32 = match tx
        .query_opt("SELECT version FROM dhcp_schema", &[])
        .map_err(db_error)?
    {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO dhcp_schema VALUES (0)", &[])
                .map_err(db_error)?;
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
            .map_err(|e| db_error(format!("schema migration {}: {e}", i + 1)))?;
    }
    if done < MIGRATIONS.len() {
        tx.execute(
            "UPDATE dhcp_schema SET version = $1",
            &[&(MIGRATIONS.len() as i32)],
        )
        .map_err(db_error)?;
    }
    tx.commit().map_err(db_error)
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

/// Runs `f` on a thread of its own and waits for it: the blocking client may not be made,
/// used or dropped on an async runtime's thread.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

fn unix_now() -> i64 {
    i64::try_from(crate::clock::unix_now()).unwrap_or(i64::MAX)
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
    /// the database answers (a refused login, no such database) and a bad URL end it.
    pub fn open(url: &str, name: &str) -> Result<Self, StoreError> {
        let config = parse_url(url)?;
        let mut waited = false;
        let client = loop {
            match off_runtime(|| try_connect(&config)) {
                Ok(c) => break c,
                Err(e) if e.as_db_error().is_none() => {
                    if !waited {
                        waited = true;
                        tracing::warn!(
                            "waiting for the lease database ({e}); trying again every {} s",
                            OPEN_RETRY.as_secs()
                        );
                    }
                    std::thread::sleep(OPEN_RETRY);
                }
                Err(e) => return Err(db_error(format!("connecting: {e}"))),
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
            url: url.to_string(),
            name: name.to_string(),
            client: None,
            down: false,
        })
    }

    /// The connection, made again if it was lost.
    fn client(&mut self) -> Result<&mut Client, StoreError> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
        }
        if self.client.is_none() {
            self.client = Some(connect(&self.url)?);
        }
        Ok(self.client.as_mut().expect("connected just now"))
    }

    fn write(&mut self, batch: &[LeaseRecord]) -> Result<Vec<u64>, StoreError> {
        // Only an address's last record in the batch is written (one statement may not
        // change a row twice); the earlier ones share its fate.
        let mut last: std::collections::HashMap<u32, &LeaseRecord> =
            std::collections::HashMap::with_capacity(batch.len());
        for r in batch {
            last.insert(u32::from(r.address), r);
        }
        let rows: Vec<&LeaseRecord> = last.values().copied().collect();
        let addresses: Vec<i64> = rows
            .iter()
            .map(|r| i64::from(u32::from(r.address)))
            .collect();
        let clients: Vec<&[u8]> = rows.iter().map(|r| r.client.as_bytes()).collect();
        let states: Vec<i16> = rows.iter().map(|r| state_of(r.kind)).collect();
        let expires: Vec<i64> = rows
            .iter()
            .map(|r| i64::try_from(r.expires).unwrap_or(i64::MAX))
            .collect();
        let names: Vec<Option<String>> = rows
            .iter()
            .map(|r| {
                r.host_name
                    .as_deref()
                    .map(|h| String::from_utf8_lossy(h).into_owned())
            })
            .collect();
        let seqs: Vec<i64> = rows
            .iter()
            .map(|r| i64::try_from(r.seq).unwrap_or(i64::MAX))
            .collect();
        let server = self.name.clone();
        let client = self.client()?;
        let mut tx = client.transaction().map_err(db_error)?;
        let written = tx
            .query(
                UPSERT,
                &[
                    &addresses,
                    &clients,
                    &states,
                    &expires,
                    &names,
                    &seqs,
                    &server,
                    &unix_now(),
                ],
            )
            .map_err(db_error)?;
        tx.commit().map_err(db_error)?;
        let written: std::collections::HashSet<i64> =
            written.iter().map(|row| row.get::<_, i64>(0)).collect();
        Ok(batch
            .iter()
            .filter(|r| !written.contains(&i64::from(u32::from(r.address))))
            .map(|r| r.seq)
            .collect())
    }

    /// Starts the thread that follows what the other servers write, and returns the
    /// records it learns, as they come.
    pub fn follow(&self) -> Result<async_channel::Receiver<LeaseRecord>, StoreError> {
        let (tx, rx) = async_channel::unbounded();
        let (url, name) = (self.url.clone(), self.name.clone());
        std::thread::Builder::new()
            .name("dhcp-lease-follow".into())
            .spawn(move || follow(&url, &name, &tx))
            .map_err(|e| db_error(format!("starting the follower thread: {e}")))?;
        Ok(rx)
    }
}

impl LeaseStore for PostgresStore {
    fn load(&mut self) -> Result<Vec<LeaseRecord>, StoreError> {
        let url = &self.url;
        off_runtime(|| {
            let rows = connect(url)?
                .query(&format!("SELECT {COLUMNS} FROM dhcp_lease {ORDER}"), &[])
                .map_err(db_error)?;
            Ok(rows.iter().filter_map(record_of).collect())
        })
    }

    fn commit(&mut self, batch: &[LeaseRecord]) -> Result<Vec<u64>, StoreError> {
        let had = self.client.is_some();
        let mut result = self.write(batch);
        if result.is_err() && had {
            // The connection may have died since the last batch (a database restart): one
            // more try on a new one before calling the database down.
            self.client = None;
            result = self.write(batch);
        }
        match result {
            Ok(refused) => {
                if self.down {
                    self.down = false;
                    tracing::warn!("lease database reachable again: granting leases again");
                }
                Ok(refused)
            }
            Err(e) => {
                // A broken connection is made again on the next batch.
                self.client = None;
                if !self.down {
                    self.down = true;
                    tracing::error!(
                        "lease database unavailable ({e}): no new leases until it returns; \
                         renewals are answered from the leases it already holds"
                    );
                }
                Err(e)
            }
        }
    }

    fn follow(&mut self) -> Result<Option<async_channel::Receiver<LeaseRecord>>, StoreError> {
        PostgresStore::follow(self).map(Some)
    }
}

/// The follower: LISTEN, read the rows the notifications name (other servers' only),
/// reconcile every `RECONCILE`, and start over (with a full reading) whenever the
/// connection drops. Ends when the server stops listening.
fn follow(url: &str, name: &str, out: &async_channel::Sender<LeaseRecord>) {
    let mut sent = Sent::default();
    let mut failing = false;
    while !out.is_closed() {
        match follow_once(url, name, out, &mut sent, &mut failing) {
            Ok(()) => return,
            Err(e) => {
                if !failing {
                    failing = true;
                    tracing::warn!(
                        "following the other servers' leases: {e}; trying again every second"
                    );
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// What the follower last handed over for each address (its writer's sequence number and
/// writer), so that a reconciliation passes on only what changed.
#[derive(Default)]
struct Sent(std::collections::HashMap<i64, (i64, u64)>);

impl Sent {
    /// Hands over the rows not handed over before; false once the server has stopped.
    fn send(&mut self, rows: &[Row], out: &async_channel::Sender<LeaseRecord>) -> bool {
        use std::hash::{DefaultHasher, Hash, Hasher};
        for row in rows {
            let (address, seq): (i64, i64) = (row.get(0), row.get(5));
            let mut h = DefaultHasher::new();
            row.get::<_, &str>(6).hash(&mut h);
            let writer = h.finish();
            if self.0.insert(address, (seq, writer)) == Some((seq, writer)) {
                continue;
            }
            if let Some(r) = record_of(row) {
                if out.send_blocking(r).is_err() {
                    return false;
                }
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
    url: &str,
    name: &str,
    out: &async_channel::Sender<LeaseRecord>,
    sent: &mut Sent,
    failing: &mut bool,
) -> Result<(), StoreError> {
    let mut client = connect(url)?;
    client
        .batch_execute("LISTEN dhcp_lease")
        .map_err(db_error)?;
    if std::mem::take(failing) {
        tracing::warn!("following the other servers' leases again");
    }
    // Everything once (what happened while no connection listened), then what the
    // notifications name, and every `RECONCILE` what changed lately.
    let all = format!("SELECT {COLUMNS}, server FROM dhcp_lease WHERE server <> $1 {ORDER}");
    let recent = format!(
        "SELECT {COLUMNS}, server FROM dhcp_lease \
         WHERE server <> $1 AND updated >= now() - interval '{OVERLAP}' {ORDER}"
    );
    let some = format!(
        "SELECT {COLUMNS}, server FROM dhcp_lease WHERE server <> $1 AND address = ANY($2) {ORDER}"
    );
    if !sent.send(&client.query(&all, &[&name]).map_err(db_error)?, out) {
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
                let Some(n) = notes.timeout_iter(wait).next().map_err(db_error)? else {
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
            let rows = client.query(&some, &[&name, &changed]).map_err(db_error)?;
            if !sent.send(&rows, out) {
                return Ok(());
            }
        }
        if reconciled.elapsed() >= RECONCILE {
            reconciled = Instant::now();
            let rows = client.query(&recent, &[&name]).map_err(db_error)?;
            if !sent.send(&rows, out) {
                return Ok(());
            }
        }
    }
}
