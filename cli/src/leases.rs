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

/// Prints the running server's answer to `leases` (its live table).
#[cfg(unix)]
fn from_server(answer: &serde_json::Value, json: bool) -> Outcome {
    if answer["ok"] != true {
        return Err(format!("the server: {}", answer["error"]).into());
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
