//! The PostgreSQL store against a real database. They need one, so they are ignored by
//! default: tests/ha.py starts a PostgreSQL of its own and runs them with
//! `DHCP_TEST_POSTGRES` (a URL to an empty database), and, for TLS,
//! `DHCP_TEST_POSTGRES_TLS` (a URL over TCP), `DHCP_TEST_POSTGRES_CA` (the CA that signed
//! the database's certificate) and `DHCP_TEST_POSTGRES_OTHER_CA` (one that did not).
//!
//! Each test writes addresses of its own, so they may run together.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use dhcp_host::clock::unix_now;
use dhcp_host::dhcp_core::server::{ClientKey, LeaseRecord, RecordKind};
use dhcp_host::server::config::DatabaseTls;
use dhcp_host::store::postgres::PostgresStore;
use dhcp_host::store::{Learned, LeaseStore};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run through tests/ha.py"))
}

fn url() -> String {
    env("DHCP_TEST_POSTGRES")
}

fn open(name: &str) -> PostgresStore {
    PostgresStore::open(&url(), name, &DatabaseTls::default()).unwrap()
}

fn record(seq: u64, test: u8, last: u8, client: u8, kind: RecordKind) -> LeaseRecord {
    LeaseRecord {
        seq,
        address: Ipv4Addr::new(10, 99, test, last),
        client: ClientKey::new(&[1, 2, 0, 0, 0, test, client]),
        kind,
        expires: unix_now() + 600,
        host_name: None,
    }
}

/// The learned records of `addresses` that arrive within a few seconds.
fn learn(rx: &async_channel::Receiver<Learned>, test: u8, count: usize) -> Vec<Learned> {
    let mut got = Vec::new();
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while got.len() < count && std::time::Instant::now() < end {
        if let Ok(l) = rx.try_recv() {
            if l.record.address.octets()[..3] == [10, 99, test] {
                got.push(l);
            }
        } else {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    got
}

#[test]
#[ignore = "needs a PostgreSQL: tests/ha.py runs it"]
fn a_release_and_the_next_clients_lease_in_one_batch_are_both_written() {
    let mut a = open("batch-a");
    let batch = [
        record(1, 1, 10, 1, RecordKind::Bound),
        record(2, 1, 10, 1, RecordKind::Released),
        record(3, 1, 10, 2, RecordKind::Bound),
        record(4, 1, 11, 3, RecordKind::Bound),
    ];
    let c = a.commit(&batch).unwrap();
    assert!(c.refused.is_empty(), "{c:?}");
    assert_eq!(c.versions.len(), 2, "one version per address: {c:?}");
    // Another server sees client 2 on .10.
    let rows = a.load().unwrap();
    let row = rows
        .iter()
        .find(|r| r.address == Ipv4Addr::new(10, 99, 1, 10))
        .unwrap();
    assert_eq!(row.client, batch[2].client);
    assert_eq!(row.kind, RecordKind::Bound);
}

#[test]
#[ignore = "needs a PostgreSQL: tests/ha.py runs it"]
fn an_address_another_servers_client_holds_is_refused_and_versions_grow() {
    let mut a = open("refuse-a");
    let mut b = open("refuse-b");
    let first = a.commit(&[record(1, 2, 10, 1, RecordKind::Bound)]).unwrap();
    assert!(first.refused.is_empty());
    // b's client asks for a's client's address: refused, the row stays a's.
    let taken = b
        .commit(&[
            record(7, 2, 10, 2, RecordKind::Bound),
            record(8, 2, 11, 2, RecordKind::Bound),
        ])
        .unwrap();
    assert_eq!(taken.refused, [7]);
    // a's client renews: the row's version grows.
    let renewed = a.commit(&[record(2, 2, 10, 1, RecordKind::Bound)]).unwrap();
    let version = |c: &dhcp_host::store::Committed| {
        c.versions
            .iter()
            .find(|(ip, _)| *ip == Ipv4Addr::new(10, 99, 2, 10))
            .map(|(_, v)| *v)
            .unwrap()
    };
    assert!(version(&renewed) > version(&first));
    // Released, the address is b's to give.
    a.commit(&[record(3, 2, 10, 1, RecordKind::Released)])
        .unwrap();
    let after = b.commit(&[record(9, 2, 10, 2, RecordKind::Bound)]).unwrap();
    assert!(after.refused.is_empty(), "{after:?}");
}

#[test]
#[ignore = "needs a PostgreSQL: tests/ha.py runs it"]
fn a_follower_learns_the_other_servers_writes_with_their_versions_once_each() {
    let mut a = open("follow-a");
    let mut b = open("follow-b");
    let rx = b.follow().unwrap().expect("a shared store follows");
    // What the follower reads at its start is not this test's; let it settle.
    std::thread::sleep(Duration::from_millis(500));
    while rx.try_recv().is_ok() {}
    let c = a
        .commit(&[
            record(1, 3, 10, 1, RecordKind::Bound),
            record(2, 3, 11, 2, RecordKind::Bound),
        ])
        .unwrap();
    let got = learn(&rx, 3, 2);
    assert_eq!(got.len(), 2, "{got:?}");
    for l in &got {
        let v = c
            .versions
            .iter()
            .find(|(ip, _)| *ip == l.record.address)
            .unwrap()
            .1;
        assert_eq!(l.version, v, "{l:?}");
    }
    // b's own writes are not handed back to it, and nothing comes twice.
    b.commit(&[record(3, 3, 12, 3, RecordKind::Bound)]).unwrap();
    a.commit(&[record(4, 3, 10, 1, RecordKind::Released)])
        .unwrap();
    let more = learn(&rx, 3, 2);
    assert_eq!(more.len(), 1, "{more:?}");
    assert_eq!(more[0].record.kind, RecordKind::Released);
    drop(rx);
}

fn tls(ca: &str) -> DatabaseTls {
    DatabaseTls {
        ca: Some(PathBuf::from(env(ca))),
        cert: None,
        key: None,
    }
}

#[test]
#[ignore = "needs a PostgreSQL: tests/ha.py runs it"]
fn tls_with_a_ca_verifies_the_database() {
    let url = env("DHCP_TEST_POSTGRES_TLS");
    let mut s = PostgresStore::open(&url, "tls-a", &tls("DHCP_TEST_POSTGRES_CA")).unwrap();
    let c = s.commit(&[record(1, 4, 10, 1, RecordKind::Bound)]).unwrap();
    assert!(c.refused.is_empty());
    assert!(s
        .load()
        .unwrap()
        .iter()
        .any(|r| r.address == Ipv4Addr::new(10, 99, 4, 10)));
    // A database whose certificate the CA did not sign is not trusted.
    let e = PostgresStore::open(&url, "tls-b", &tls("DHCP_TEST_POSTGRES_OTHER_CA"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("certificate"), "{e}");
}

/// DHCPv6 leases in table `dhcp_lease6`: a batch written and read back; another server's
/// client refused an address or prefix that one holds; a release frees it.
#[test]
#[ignore = "needs a PostgreSQL: tests/ha.py runs it"]
fn v6_leases_are_written_refused_and_read_back() {
    use dhcp_host::dhcp_core::v6::server::{IaKind, Lease6Record, Record6Kind};
    use std::net::Ipv6Addr;
    let r6 = |seq: u64, last: u16, ia: IaKind, client: u8, kind: Record6Kind| Lease6Record {
        seq,
        ia,
        address: Ipv6Addr::new(0x2001, 0xdb8, 0x99, 0, 0, 0, 0, last),
        prefix_len: if ia == IaKind::Prefix { 56 } else { 128 },
        duid: vec![0, 3, 0, 1, 2, 0, 0, 0, 0x99, client],
        iaid: 1,
        kind,
        expires: unix_now() + 600,
    };
    let open6 = |name: &str| {
        dhcp_host::store::postgres6::PostgresStore6::open(&url(), name, &DatabaseTls::default())
            .unwrap()
    };
    let mut a = open6("v6-a");
    let mut b = open6("v6-b");
    let batch = [
        r6(1, 1, IaKind::Address, 1, Record6Kind::Bound),
        r6(2, 0x100, IaKind::Prefix, 1, Record6Kind::Bound),
    ];
    let c = a.commit(&batch).unwrap();
    assert!(c.refused.is_empty(), "{c:?}");
    let taken = b
        .commit(&[
            r6(7, 1, IaKind::Address, 2, Record6Kind::Bound),
            r6(8, 2, IaKind::Address, 2, Record6Kind::Bound),
        ])
        .unwrap();
    assert_eq!(taken.refused, [7], "client 1's address is not client 2's");
    let rows: Vec<Lease6Record> = b.load().unwrap();
    let mine: Vec<&Lease6Record> = rows
        .iter()
        .filter(|r| r.address.segments()[2] == 0x99)
        .collect();
    assert!(
        mine.contains(&&batch[0]) && mine.contains(&&batch[1]),
        "{mine:?}"
    );
    // Released by its client: then another's to take.
    LeaseStore::<Lease6Record>::commit(
        &mut a,
        &[r6(3, 1, IaKind::Address, 1, Record6Kind::Released)],
    )
    .unwrap();
    let again = LeaseStore::<Lease6Record>::commit(
        &mut b,
        &[r6(9, 1, IaKind::Address, 2, Record6Kind::Bound)],
    )
    .unwrap();
    assert!(again.refused.is_empty(), "{again:?}");
}
