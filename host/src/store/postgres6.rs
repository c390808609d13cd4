//! (feature `postgres`) DHCPv6 leases in the same PostgreSQL database as the v4 ones:
//! table `dhcp_lease6`, one row per address or delegated prefix, written under the same
//! rule as `dhcp_lease` (a row is taken only when it is free: no row, the same client's
//! IA, a released row, or one whose lease or decline probation ended; otherwise the record
//! is refused).

use std::collections::HashMap;
use std::net::Ipv6Addr;

use dhcp_core::v6::server::{IaKind, Lease6Record, Record6Kind};
use postgres::types::ToSql;
use postgres::Row;

use super::postgres::{off_runtime, pg_error, unix_now, PostgresStore};
use super::{Committed, LeaseStore, StoreError};
use crate::server::config::DatabaseTls;

/// DHCPv6 leases in the PostgreSQL database the v4 ones are in (its own connection).
#[derive(Debug)]
pub struct PostgresStore6(PostgresStore);

impl PostgresStore6 {
    /// Connects as [`PostgresStore::open`] does (the schema holds both tables).
    pub fn open(url: &str, name: &str, tls: &DatabaseTls) -> Result<Self, StoreError> {
        PostgresStore::open(url, name, tls).map(PostgresStore6)
    }
}

/// One layer of a batch: every row in one statement, in key order (so that two servers
/// writing overlapping batches lock rows in the same order).
const UPSERT6: &str = "
INSERT INTO dhcp_lease6 AS l (address, prefix_len, ia, duid, iaid, state, expires, server, seq)
SELECT t.address, t.prefix_len, t.ia, t.duid, t.iaid, t.state, t.expires, $9, t.seq
FROM unnest($1::bytea[], $2::smallint[], $3::smallint[], $4::bytea[], $5::bigint[],
            $6::smallint[], $7::bigint[], $8::bigint[])
    AS t(address, prefix_len, ia, duid, iaid, state, expires, seq)
ORDER BY t.address, t.prefix_len
ON CONFLICT (address, prefix_len) DO UPDATE SET
    ia = EXCLUDED.ia, duid = EXCLUDED.duid, iaid = EXCLUDED.iaid, state = EXCLUDED.state,
    expires = EXCLUDED.expires, server = EXCLUDED.server, seq = EXCLUDED.seq,
    updated = clock_timestamp(), version = nextval('dhcp_lease_version')
WHERE (l.duid = EXCLUDED.duid AND l.iaid = EXCLUDED.iaid AND l.ia = EXCLUDED.ia)
    OR l.state = 1 OR l.expires <= $10
RETURNING address, prefix_len";

const COLUMNS6: &str = "address, prefix_len, ia, duid, iaid, state, expires, seq";

fn state_of(kind: Record6Kind) -> i16 {
    match kind {
        Record6Kind::Bound => 0,
        Record6Kind::Released => 1,
        Record6Kind::Declined => 2,
    }
}

/// A row as a record; `None` for a row no server of ours wrote.
fn record_of(row: &Row) -> Option<Lease6Record> {
    let address: Vec<u8> = row.get(0);
    let address: [u8; 16] = address.try_into().ok()?;
    let kind = match row.get::<_, i16>(5) {
        0 => Record6Kind::Bound,
        1 => Record6Kind::Released,
        2 => Record6Kind::Declined,
        _ => return None,
    };
    let ia = match row.get::<_, i16>(2) {
        3 => IaKind::Address,
        25 => IaKind::Prefix,
        _ => return None,
    };
    Some(Lease6Record {
        seq: u64::try_from(row.get::<_, i64>(7)).ok()?,
        ia,
        address: Ipv6Addr::from(address),
        prefix_len: u8::try_from(row.get::<_, i16>(1)).ok()?,
        duid: row.get(3),
        iaid: u32::try_from(row.get::<_, i64>(4)).ok()?,
        kind,
        expires: u64::try_from(row.get::<_, i64>(6)).ok()?,
    })
}

type Key = (Ipv6Addr, u8);

impl LeaseStore<Lease6Record> for PostgresStore6 {
    fn load(&mut self) -> Result<Vec<Lease6Record>, StoreError> {
        let target = &self.0.target;
        off_runtime(|| {
            let rows = target
                .connect()?
                .query(
                    &format!("SELECT {COLUMNS6} FROM dhcp_lease6 ORDER BY version"),
                    &[],
                )
                .map_err(pg_error)?;
            Ok(rows.iter().filter_map(record_of).collect())
        })
    }

    fn commit(&mut self, batch: &[Lease6Record]) -> Result<Committed, StoreError> {
        // Several records of one key (a release and the next client's lease) go in order,
        // one layer per statement: one statement may change a row only once.
        let mut layers: Vec<Vec<&Lease6Record>> = Vec::new();
        let mut seen: HashMap<Key, usize> = HashMap::with_capacity(batch.len());
        for r in batch {
            let n = seen.entry((r.address, r.prefix_len)).or_default();
            if layers.len() <= *n {
                layers.push(Vec::new());
            }
            layers[*n].push(r);
            *n += 1;
        }
        let server = self.0.name().to_string();
        let now = unix_now();
        let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let client = self.0.client()?;
        let mut tx = client.transaction().map_err(pg_error)?;
        let mut committed = Committed::default();
        for rows in &layers {
            let addresses: Vec<Vec<u8>> =
                rows.iter().map(|r| r.address.octets().to_vec()).collect();
            let lens: Vec<i16> = rows.iter().map(|r| i16::from(r.prefix_len)).collect();
            let ias: Vec<i16> = rows
                .iter()
                .map(|r| if r.ia == IaKind::Prefix { 25 } else { 3 })
                .collect();
            let duids: Vec<&[u8]> = rows.iter().map(|r| r.duid.as_slice()).collect();
            let iaids: Vec<i64> = rows.iter().map(|r| i64::from(r.iaid)).collect();
            let states: Vec<i16> = rows.iter().map(|r| state_of(r.kind)).collect();
            let expires: Vec<i64> = rows.iter().map(|r| int(r.expires)).collect();
            let seqs: Vec<i64> = rows.iter().map(|r| int(r.seq)).collect();
            let params: [&(dyn ToSql + Sync); 10] = [
                &addresses, &lens, &ias, &duids, &iaids, &states, &expires, &seqs, &server, &now,
            ];
            let written: std::collections::HashSet<Key> = tx
                .query(UPSERT6, &params)
                .map_err(pg_error)?
                .iter()
                .filter_map(|row| {
                    let a: [u8; 16] = row.get::<_, Vec<u8>>(0).try_into().ok()?;
                    Some((Ipv6Addr::from(a), u8::try_from(row.get::<_, i16>(1)).ok()?))
                })
                .collect();
            for r in rows {
                if !written.contains(&(r.address, r.prefix_len)) {
                    committed.refused.push(r.seq);
                }
            }
        }
        tx.commit().map_err(pg_error)?;
        Ok(committed)
    }
}
