//! `dhcp leases`: the leases in a server's journal, as a table or JSON.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use dhcp::core::server::{LeaseRecord, RecordKind};
use dhcp::host::clock::unix_now;
use dhcp::host::server::config;
use dhcp::host::store::journal;

use crate::Outcome;

fn kind(r: &LeaseRecord, now: u64) -> &'static str {
    match r.kind {
        RecordKind::Bound if r.expires > now => "bound",
        RecordKind::Bound => "expired",
        RecordKind::Released => "released",
        RecordKind::Declined if r.expires > now => "declined",
        RecordKind::Declined => "expired",
    }
}

fn host(r: &LeaseRecord) -> String {
    r.host_name
        .as_deref()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .unwrap_or_default()
}

pub(crate) fn run(config_path: &Path, json: bool, all: bool) -> Outcome {
    let file = config::load(config_path)?;
    #[cfg(unix)]
    if !all {
        if let Some(path) = &file.control_socket {
            if let Some(answer) = dhcp::host::ops::control::request(
                path,
                &serde_json::json!({ "command": "leases" }),
            )? {
                return from_server(&answer, json);
            }
        }
    }
    if let Some(v6) = &file.v6 {
        print_journal6(&v6.journal, json, all)?;
    }
    let (records, bad) = journal::read(&file.journal)?;
    for b in &bad {
        eprintln!("{}:{}: skipped: {}", file.journal.display(), b.line, b.what);
    }
    let now = unix_now();
    let mut latest: BTreeMap<_, LeaseRecord> = BTreeMap::new();
    for r in records {
        latest.insert(r.address, r);
    }
    let shown: Vec<&LeaseRecord> = latest
        .values()
        .filter(|r| all || kind(r, now) == "bound")
        .collect();
    if json {
        let v: Vec<serde_json::Value> = shown
            .iter()
            .map(|r| {
                serde_json::json!({
                    "address": r.address.to_string(),
                    "state": kind(r, now),
                    "client": r.client.to_string(),
                    "host_name": r.host_name.as_ref().map(|_| host(r)),
                    "expires": r.expires,
                    "expires_in": r.expires.saturating_sub(now),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<15}  {:<8}  {:<22}  {:<10}  host",
        "address", "state", "client", "expires in"
    );
    for r in &shown {
        let left = r.expires.saturating_sub(now);
        println!(
            "{:<15}  {:<8}  {:<22}  {:<10}  {}",
            r.address.to_string(),
            kind(r, now),
            r.client.to_string(),
            if left > 0 {
                format!("{left} s")
            } else {
                "-".to_string()
            },
            host(r).escape_debug()
        );
    }
    println!("{} lease(s)", shown.len());
    Ok(ExitCode::SUCCESS)
}

/// The DHCPv6 journal's latest record of each address and prefix (bound ones, unless
/// `all`).
fn print_journal6(path: &Path, json: bool, all: bool) -> Result<(), Box<dyn std::error::Error>> {
    use dhcp::core::v6::server::{IaKind, Lease6Record, Record6Kind};
    let (records, bad) = journal::read_of::<Lease6Record>(path)?;
    for b in &bad {
        eprintln!("{}:{}: skipped: {}", path.display(), b.line, b.what);
    }
    let now = unix_now();
    let mut latest: BTreeMap<_, Lease6Record> = BTreeMap::new();
    for r in records {
        latest.insert((r.address, r.prefix_len), r);
    }
    let rows: Vec<serde_json::Value> = latest
        .values()
        .filter(|r| all || (r.kind == Record6Kind::Bound && r.expires > now))
        .map(|r| {
            let state = match r.kind {
                Record6Kind::Bound if r.expires > now => "bound",
                Record6Kind::Bound => "expired",
                Record6Kind::Released => "released",
                Record6Kind::Declined => "declined",
            };
            serde_json::json!({
                "address": format!("{}/{}", r.address, r.prefix_len),
                "ia": if r.ia == IaKind::Prefix { "pd" } else { "na" },
                "state": state,
                "iaid": r.iaid,
                "duid": r.duid.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
                "expires": r.expires,
                "expires_in": r.expires.saturating_sub(now),
            })
        })
        .collect();
    print_leases6(&rows, json)
}

/// Prints DHCPv6 lease rows (as the journal or the server's `leases6` give them).
fn print_leases6(rows: &[serde_json::Value], json: bool) -> Result<(), Box<dyn std::error::Error>> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "leases6": rows }))?
        );
        return Ok(());
    }
    println!(
        "{:<40}  {:<2}  {:<10}  {:<10}  duid",
        "address/len", "ia", "iaid", "expires in"
    );
    for l in rows {
        println!(
            "{:<40}  {:<2}  {:<10}  {:<10}  {}",
            l["address"].as_str().unwrap_or_default(),
            l["ia"].as_str().unwrap_or_default(),
            l["iaid"],
            format!("{} s", l["expires_in"]),
            l["duid"].as_str().unwrap_or_default(),
        );
    }
    println!("{} DHCPv6 lease(s)", rows.len());
    Ok(())
}

/// Prints the running server's answer to `leases` (its live table).
#[cfg(unix)]
fn from_server(answer: &serde_json::Value, json: bool) -> Outcome {
    if answer["ok"] != true {
        return Err(format!("the server: {}", answer["error"]).into());
    }
    if let Some(rows) = answer["leases6"].as_array() {
        print_leases6(rows, json)?;
    }
    let leases = answer["leases"].as_array().cloned().unwrap_or_default();
    if json {
        println!("{}", serde_json::to_string_pretty(&leases)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<15}  {:<8}  {:<22}  {:<10}  host",
        "address", "state", "client", "expires in"
    );
    for l in &leases {
        let left = l["expires_in"]
            .as_u64()
            .map_or_else(|| "never".to_string(), |s| format!("{s} s"));
        println!(
            "{:<15}  {:<8}  {:<22}  {:<10}",
            l["address"].as_str().unwrap_or_default(),
            l["state"].as_str().unwrap_or_default(),
            l["client"].as_str().unwrap_or_default(),
            left
        );
    }
    println!("{} lease(s), from the running server", leases.len());
    Ok(ExitCode::SUCCESS)
}
