//! `dhcp server`: serve from a config file, or `--check` it.

use std::path::Path;
use std::process::ExitCode;

use dhcp::host::server::config;
use dhcp::host::server::Server;

use crate::runtime::{on_runtime, RuntimeName};
use crate::Outcome;

pub(crate) fn run(runtime: RuntimeName, path: &Path, check: bool) -> Outcome {
    let file = match config::load(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            eprintln!(
                "{}: {} mistake(s); nothing served",
                path.display(),
                e.errors.len()
            );
            return Ok(ExitCode::from(2));
        }
    };
    if check {
        for w in &file.warnings {
            eprintln!("warning: {w}");
        }
        let pools: usize = file.server.subnets.iter().map(|s| s.pools.len()).sum();
        let store = match &file.store {
            dhcp::host::server::config::Store::Postgres { name, .. } => {
                format!("PostgreSQL, as server {name:?}")
            }
            _ => format!("journal {}", file.journal.display()),
        };
        let classes = match file.server.classes.len() {
            0 => String::new(),
            n => format!("{n} class(es), "),
        };
        let v6 = match &file.v6 {
            Some(v6) => {
                let pools: usize = v6.config.subnets.iter().map(|s| s.pools.len()).sum();
                let pd: usize = v6.config.subnets.iter().map(|s| s.pd_pools.len()).sum();
                format!(
                    ", DHCPv6: {} subnet6(s), {pools} pool(s), {pd} prefix pool(s), journal {}",
                    v6.config.subnets.len(),
                    v6.journal.display()
                )
            }
            None => String::new(),
        };
        println!(
            "{}: OK ({} subnet(s), {} pool(s), {classes}{store}{v6})",
            path.display(),
            file.server.subnets.len(),
            pools,
        );
        return Ok(ExitCode::SUCCESS);
    }
    crate::init_logging_as(&file.log_level, file.log_json);
    for w in &file.warnings {
        tracing::warn!("{w}");
    }
    on_runtime!(runtime, |R| async {
        let server = Server::<R>::bind(&file).await?.reload_on_sighup();
        if let Some(user) = &file.user {
            drop_privileges(user, &file.journal)?;
        }
        tracing::info!(
            "serving {} subnet(s){} on {}",
            file.server.subnets.len(),
            file.v6
                .as_ref()
                .map(|v| format!(" and {} subnet6(s)", v.config.subnets.len()))
                .unwrap_or_default(),
            if file.interfaces.is_empty() {
                "every interface".to_string()
            } else {
                file.interfaces.join(", ")
            }
        );
        // Watching SIGTERM/SIGINT starts here, before READY: a service manager may stop the
        // server the moment it is ready.
        let stop = dhcp::host::ops::signal::shutdown();
        notify("READY=1");
        let summary = server
            .run_until(async move {
                stop.await;
                notify("STOPPING=1");
            })
            .await?;
        tracing::info!(
            "stopped; {} leases bound; {}",
            summary.leases,
            summary.stats
        );
        if let Some((stats, leases)) = &summary.v6 {
            let received: u64 = stats.received.iter().sum();
            let sent: u64 = stats.sent.iter().sum();
            let dropped: u64 = stats.dropped.iter().sum();
            tracing::info!(
                "DHCPv6: {leases} addresses and prefixes bound; {received} received, {sent} sent, {dropped} dropped"
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `dhcp server --reload`: checks the file, then asks the server running with it to
/// apply it. Exit 2 when the file (here or at the server) has mistakes, 1 when no server
/// answers.
pub(crate) fn reload(path: &Path) -> Outcome {
    let file = match config::load(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            eprintln!(
                "{}: {} mistake(s); not reloaded",
                path.display(),
                e.errors.len()
            );
            return Ok(ExitCode::from(2));
        }
    };
    for w in &file.warnings {
        eprintln!("warning: {w}");
    }
    #[cfg(unix)]
    {
        let Some(socket) = &file.control_socket else {
            return Err(format!(
                "{}: control_socket is off; send the server SIGHUP instead",
                path.display()
            )
            .into());
        };
        let request = serde_json::json!({ "command": "reload" });
        match dhcp::host::ops::control::request(socket, &request)? {
            None => Err(format!("no server answers on {}", socket.display()).into()),
            Some(a) if a["ok"] == true => {
                println!("{}", a["message"].as_str().unwrap_or("reloaded"));
                Ok(ExitCode::SUCCESS)
            }
            Some(a) => {
                eprintln!("{}", a["error"].as_str().unwrap_or("refused"));
                Ok(ExitCode::from(2))
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Err(format!(
            "{}: reloading needs the control socket (Unix)",
            path.display()
        )
        .into())
    }
}

/// Tells systemd (a `Type=notify` unit) how the server stands; nothing without one.
fn notify(state: &str) {
    if let Err(e) = dhcp::host::ops::notify::notify(state) {
        tracing::warn!("telling the service manager {state}: {e}");
    }
}

#[cfg(target_os = "linux")]
fn drop_privileges(user: &str, journal: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let dir = journal
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    dhcp::host::ops::privilege::drop_to(user, dir)?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn drop_privileges(user: &str, _: &Path) -> Result<(), Box<dyn std::error::Error>> {
    Err(format!("`user = {user:?}`: dropping privileges is only supported on Linux").into())
}
