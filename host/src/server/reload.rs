//! Reloading the config file into the running server: the protocol settings go to the
//! machine at once, what only a restart can change is named and left as it was.

use super::Server;
use crate::runtime::Runtime;

impl<R: Runtime> Server<R> {
    /// Reads the config file again and applies it ([`dhcp_core::server::Server::reconfigure`]): a bad file
    /// changes nothing and its mistakes come back as `FILE:LINE:COLUMN: FIELD: what`. What
    /// only a restart can change (interfaces, journal, store, metrics, control socket, user,
    /// logging) is named in the answer and left as it was.
    pub fn reload(&mut self) -> Result<String, String> {
        let mut file = crate::server::config::load(&self.file.path).map_err(|e| e.to_string())?;
        for w in &file.warnings {
            tracing::warn!("{w}");
        }
        let mut later = Vec::new();
        if file.interfaces != self.file.interfaces {
            later.push("interfaces");
        }
        if file.journal != self.file.journal {
            later.push("journal");
        }
        if file.store != self.file.store {
            later.push("store/[postgres]");
        }
        if file.metrics != self.file.metrics {
            later.push("metrics");
        }
        if file.control_socket != self.file.control_socket {
            later.push("control_socket");
        }
        if file.user != self.file.user {
            later.push("user");
        }
        if file.log_level != self.file.log_level || file.log_json != self.file.log_json {
            later.push("log_level/log_format");
        }
        // The DHCPv6 machine is built at start (its sockets, journal and DUID with it).
        if file.v6 != self.file.v6 {
            later.push("[server6]/[[subnet6]]");
        }
        // The pings need the ICMP socket opened at start, before privileges were dropped.
        if file.server.conflict_check != self.file.server.conflict_check
            || file.conflict_wait != self.file.conflict_wait
        {
            later.push("conflict_check/conflict_check_ms");
            file.server.conflict_check = self.file.server.conflict_check;
        }
        self.machine
            .reconfigure(file.server.clone())
            .map_err(|errors| {
                errors
                    .iter()
                    .map(|e| format!("{}: {e}", file.path.display()))
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
        let subnets = file.server.subnets.len();
        self.file.server = file.server;
        let mut message = format!(
            "{}: reloaded ({subnets} subnet(s)); {} leases kept",
            self.file.path.display(),
            self.machine.lease_count()
        );
        if !later.is_empty() {
            message.push_str(&format!(
                "; {} take effect at the next start",
                later.join(", ")
            ));
        }
        Ok(message)
    }
}
