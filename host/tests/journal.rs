//! The lease journal: records read back as written, a torn last line cut off, a corrupt
//! line skipped with its line number, compaction keeping every live lease, the lock.

use std::io::Write;
use std::net::Ipv4Addr;

use dhcp_host::clock::unix_now;
use dhcp_host::dhcp_core::server::{ClientKey, LeaseRecord, RecordKind};
use dhcp_host::store::journal::{format_record, parse_record, Journal};
use dhcp_host::store::{Committed, LeaseStore, StoreError};

fn record(seq: u64, last: u8, kind: RecordKind, expires: u64, host: Option<&[u8]>) -> LeaseRecord {
    LeaseRecord {
        seq,
        address: Ipv4Addr::new(192, 0, 2, last),
        client: ClientKey::hardware(1, &[2, 0, 0, 0, 0, last]),
        kind,
        expires,
        host_name: host.map(<[u8]>::to_vec),
    }
}

#[test]
fn lines_read_back_as_written() {
    let later = unix_now() + 3600;
    let records = [
        record(1, 10, RecordKind::Bound, later, Some(b"laptop")),
        record(
            2,
            11,
            RecordKind::Bound,
            later,
            Some(b"odd name; $(rm -rf /) 100%"),
        ),
        // Found by the `journal` fuzz target: a name that is only `-`.
        record(5, 13, RecordKind::Bound, later, Some(b"-")),
        record(3, 10, RecordKind::Released, later, None),
        record(4, 12, RecordKind::Declined, later, None),
    ];
    for r in &records {
        let line = format_record(r);
        assert!(
            line.ends_with('\n') && line.matches('\n').count() == 1,
            "{line}"
        );
        assert_eq!(parse_record(line.trim_end()).unwrap(), *r);
    }
    // Found by the `journal` fuzz target: an empty host field (two spaces) read as an
    // empty name, which formats back as `-`, a different record.
    let body = "3 declined 10.0.0.9 - 176434920 ";
    let sum = body.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    assert_eq!(
        parse_record(&format!("{body} {sum:08x}")),
        Err("empty host field".to_string())
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leases.journal");
    {
        let mut j = Journal::open(&path).unwrap();
        assert!(j.load().unwrap().is_empty());
        assert_eq!(j.commit(&records[..2]).unwrap(), Committed::default());
        j.commit(&records[2..]).unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# dhcp lease journal v1"));
    assert!(
        text.contains("1 bound 192.0.2.10 01:02:00:00:00:00:0a "),
        "{text}"
    );
    let mut j = Journal::open(&path).unwrap();
    assert!(j.bad_lines().is_empty());
    assert_eq!(j.load().unwrap(), records);
}

#[test]
fn a_torn_last_line_is_cut_off_and_later_records_start_clean() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leases.journal");
    let later = unix_now() + 3600;
    {
        let mut j = Journal::open(&path).unwrap();
        j.commit(&[record(1, 10, RecordKind::Bound, later, None)])
            .unwrap();
    }
    // A crash in the middle of writing the second record.
    let torn = format_record(&record(2, 11, RecordKind::Bound, later, None));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(&torn.as_bytes()[..20]).unwrap();
    drop(f);
    {
        let mut j = Journal::open(&path).unwrap();
        let loaded = j.load().unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].seq, 1);
        j.commit(&[record(3, 12, RecordKind::Bound, later, None)])
            .unwrap();
    }
    let mut j = Journal::open(&path).unwrap();
    assert!(j.bad_lines().is_empty(), "{:?}", j.bad_lines());
    let seqs: Vec<u64> = j.load().unwrap().iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 3]);
}

#[test]
fn a_corrupt_line_is_reported_by_number_and_the_lines_after_it_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leases.journal");
    let later = unix_now() + 3600;
    {
        let mut j = Journal::open(&path).unwrap();
        let batch: Vec<_> = (1..=4)
            .map(|i| record(i, 10 + i as u8, RecordKind::Bound, later, None))
            .collect();
        j.commit(&batch).unwrap();
    }
    // Line 3 (the second record): one address digit changed, and a line of garbage.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[2] = lines[2].replacen("192.0.2.12", "192.0.2.13", 1);
    lines.insert(3, "\u{1}garbage".to_string());
    let mut bytes = (lines[..4].join("\n") + "\n").into_bytes();
    bytes.extend_from_slice(b"\xff\xfe not text\n");
    bytes.extend_from_slice((lines[4..].join("\n") + "\n").as_bytes());
    std::fs::write(&path, bytes).unwrap();
    let (records, bad) = dhcp_host::store::journal::read(&path).unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(bad.len(), 3);
    let mut j = Journal::open(&path).unwrap();
    let bad: Vec<usize> = j.bad_lines().iter().map(|b| b.line).collect();
    assert_eq!(bad, [3, 4, 5]);
    assert!(j.bad_lines()[0].what.contains("checksum"));
    assert_eq!(j.bad_lines()[2].what, "not text");
    let seqs: Vec<u64> = j.load().unwrap().iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 3, 4]);
}

#[test]
fn compaction_keeps_every_live_lease_and_drops_long_expired_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leases.journal");
    let now = unix_now();
    let mut expected = std::collections::BTreeMap::new();
    {
        let mut j = Journal::open(&path).unwrap();
        j.set_compact_after(10);
        let mut seq = 0;
        for round in 0..40u64 {
            let batch: Vec<_> = (0..50u8)
                .map(|a| {
                    seq += 1;
                    let kind = if (round + u64::from(a)) % 7 == 0 {
                        RecordKind::Released
                    } else {
                        RecordKind::Bound
                    };
                    record(seq, a + 1, kind, now + 600 + round, Some(b"h"))
                })
                .collect();
            for r in &batch {
                expected.insert(r.address, r.clone());
            }
            j.commit(&batch).unwrap();
            j.maintain().unwrap();
        }
        // An address whose lease ended two days ago is not kept.
        seq += 1;
        j.commit(&[record(seq, 200, RecordKind::Bound, now - 2 * 86_400, None)])
            .unwrap();
        j.compact().unwrap();
    }
    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
    assert_eq!(lines, 1 + 50, "header and one line per live address");
    let mut j = Journal::open(&path).unwrap();
    let loaded = j.load().unwrap();
    let got: std::collections::BTreeMap<_, _> =
        loaded.into_iter().map(|r| (r.address, r)).collect();
    assert_eq!(got, expected);
}

#[test]
fn a_second_server_cannot_open_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leases.journal");
    let first = Journal::open(&path).unwrap();
    match Journal::open(&path) {
        Err(StoreError::Locked { path: lock }) => {
            assert!(lock.to_string_lossy().ends_with("leases.journal.lock"));
            let msg = StoreError::Locked { path: lock }.to_string();
            assert!(msg.contains("locked by another running server"), "{msg}");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    // Compaction renames a new file into place; the lock still holds.
    let mut first = first;
    first.compact().unwrap();
    assert!(matches!(
        Journal::open(&path),
        Err(StoreError::Locked { .. })
    ));
    drop(first);
    Journal::open(&path).unwrap();
}

#[test]
fn lines_appended_while_a_compaction_copies_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leases.journal");
    let now = unix_now();
    let mut expected = std::collections::BTreeMap::new();
    let mut seq = 0;
    {
        let mut j = Journal::open(&path).unwrap();
        j.set_compact_after(0);
        // The same 100 addresses over and over: every few batches the file has doubled and
        // a compaction starts in the background while the next batches are appended.
        for round in 0..30u64 {
            let batch: Vec<_> = (1..=100u8)
                .map(|a| {
                    seq += 1;
                    record(seq, a, RecordKind::Bound, now + 600 + round, None)
                })
                .collect();
            for r in &batch {
                expected.insert(r.address, r.clone());
            }
            j.commit(&batch).unwrap();
        }
        // Whatever compaction is running is finished (with the lines after it), then a
        // last one copies a quiet file.
        j.compact().unwrap();
    }
    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
    assert_eq!(lines, 1 + 100, "header and one line per address");
    let mut j = Journal::open(&path).unwrap();
    let got: std::collections::BTreeMap<_, _> = j
        .load()
        .unwrap()
        .into_iter()
        .map(|r| (r.address, r))
        .collect();
    assert_eq!(got, expected);
}

/// The DHCPv6 journal: its own lines (address and prefix length, DUID, IAID), read back
/// as written, and a compaction keeping the newest line of each address or prefix.
#[test]
fn the_v6_journal_reads_back_and_compacts_by_address_and_length() {
    use dhcp_host::dhcp_core::v6::server::{IaKind, Lease6Record, Record6Kind};
    use dhcp_host::store::journal::{parse_line, Journal6};
    use std::net::Ipv6Addr;

    let later = unix_now() + 3600;
    let r6 = |seq: u64, last: u16, ia: IaKind, kind: Record6Kind| Lease6Record {
        seq,
        ia,
        address: Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, last),
        prefix_len: if ia == IaKind::Address { 128 } else { 56 },
        duid: vec![0, 3, 0, 1, 2, 0, 0, 0, 0, last as u8],
        iaid: u32::from(last) * 7,
        kind,
        expires: later,
    };
    let records = [
        r6(1, 1, IaKind::Address, Record6Kind::Bound),
        r6(2, 2, IaKind::Prefix, Record6Kind::Bound),
        r6(3, 1, IaKind::Address, Record6Kind::Released),
        r6(4, 3, IaKind::Address, Record6Kind::Declined),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leases.journal6");
    {
        let mut j = Journal6::open(&path).unwrap();
        j.commit(&records).unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# dhcp lease6 journal v1"), "{text}");
    assert!(
        text.contains("2 bound-pd 2001:db8:1::2/56 00:03:00:01:02:00:00:00:00:02 14 "),
        "{text}"
    );
    for line in text.lines().skip(1) {
        let r: Lease6Record = parse_line(line).unwrap();
        assert!(records.contains(&r), "{line}");
    }
    let mut j = Journal6::open(&path).unwrap();
    assert_eq!(j.load().unwrap(), records);
    j.compact().unwrap();
    drop(j);
    let mut j = Journal6::open(&path).unwrap();
    let kept = j.load().unwrap();
    assert_eq!(
        kept,
        vec![records[1].clone(), records[2].clone(), records[3].clone()]
    );
    // A corrupt line is skipped with its number; the rest still count.
    drop(j);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"5 bound-na 2001:db8:1::9/128 00:03 1 9 deadbeef\n")
        .unwrap();
    let j = Journal6::open(&path).unwrap();
    assert_eq!(j.bad_lines().len(), 1);
}
