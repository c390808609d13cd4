//! The DHCPv6 part of the server: the core's [`Server6`] machine on UDP 547, its own
//! journal and commit thread, and the server's DUID, made once and kept. The server loop
//! (`super`) drives it beside the v4 machine: one loop, one shutdown, one clock.

use std::future::poll_fn;
use std::path::Path;

use dhcp_core::v6::server::{Lease6Record, Server6, Server6Config};
use socket2::SockRef;

use crate::clock::{unix_now, Clock};
use crate::net::socket6::{bind_server6, send6};
use crate::runtime::{AsyncSocket, Runtime};
use crate::server::config::{parse_hex, DuidKind, Server6File, Store};
use crate::store::journal::Journal6;
use crate::store::{CommitterOf, LeaseStore, Outcome};
use crate::Error;

/// The running v6 server.
#[derive(Debug)]
pub(super) struct V6 {
    pub(super) machine: Server6,
    pub(super) socket: Box<dyn AsyncSocket>,
    committer: CommitterOf<Lease6Record>,
    /// The store's last batch failed (logged once per outage).
    store_down: bool,
    /// Where replies are written to be sent: room for the largest UDP datagram.
    out: Vec<u8>,
}

impl V6 {
    /// Reads (or makes) the server DUID, opens the v6 journal and restores its leases,
    /// and binds UDP 547, joined to ff02::1:2 on each interface a subnet names (on every
    /// usable interface when none does).
    pub(super) fn bind<R: Runtime>(
        runtime: &R,
        file: &Server6File,
        store: &Store,
        clock: &Clock,
    ) -> Result<Self, Error> {
        let mut config: Server6Config = file.config.clone();
        config.server_duid = server_duid(&file.duid_file, file.duid_kind)?;
        let all = crate::net::socket::interfaces();
        let mut indexes = Vec::new();
        for (sub, name) in config.subnets.iter_mut().zip(&file.interfaces) {
            if let Some(name) = name {
                let i = crate::net::socket::interface(name)?;
                sub.interface = Some(i.index);
                indexes.push(i.index);
            }
        }
        if indexes.is_empty() {
            indexes = all.iter().filter(|i| i.usable).map(|i| i.index).collect();
        }
        indexes.sort_unstable();
        indexes.dedup();
        let mut store: Box<dyn LeaseStore<Lease6Record>> = match store {
            #[cfg(feature = "postgres")]
            Store::Postgres { url, name, tls } => {
                tracing::info!(
                    "DHCPv6 leases in PostgreSQL (table dhcp_lease6), as server {name:?}"
                );
                Box::new(crate::store::postgres6::PostgresStore6::open(
                    url, name, tls,
                )?)
            }
            _ => {
                let journal = Journal6::open(&file.journal)?;
                for bad in journal.bad_lines() {
                    tracing::warn!(
                        "{}:{}: skipped: {}",
                        file.journal.display(),
                        bad.line,
                        bad.what
                    );
                }
                Box::new(journal)
            }
        };
        let records = store.load()?;
        let mut machine = Server6::new(config, clock.now(), unix_now())
            .map_err(|errors| Error::Config6 {
                what: errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            })?
            .with_seed(crate::clock::os_seed());
        for r in &records {
            machine.restore(r);
        }
        tracing::info!(
            "DHCPv6: restored {} lease records, {} leases bound; server DUID {}",
            records.len(),
            machine.lease_count(),
            crate::client::hex(&machine.config().server_duid)
        );
        let socket = bind_server6(&indexes, file.site_multicast)?;
        let socket = runtime
            .wrap_socket(socket)
            .map_err(|e| Error::io("registering the DHCPv6 socket", e))?;
        tracing::info!(
            "DHCPv6: listening on [::]:547, ff02::1:2 joined on {} interfaces",
            indexes.len()
        );
        let committer = CommitterOf::spawn(store)
            .map_err(|e| Error::io("starting the DHCPv6 commit thread", e))?;
        Ok(V6 {
            machine,
            socket,
            committer,
            store_down: false,
            out: vec![0u8; 65_535],
        })
    }

    /// The commit thread's outcomes.
    pub(super) fn outcomes(&self) -> &async_channel::Receiver<Outcome> {
        self.committer.outcomes()
    }

    /// What the commit thread made of a batch.
    pub(super) fn apply(&mut self, o: Outcome) {
        match o {
            Outcome::Durable { upto, committed } => {
                if std::mem::take(&mut self.store_down) {
                    tracing::warn!("DHCPv6 lease journal writes again");
                }
                for &seq in &committed.refused {
                    self.machine.persist_failed(seq);
                }
                self.machine.persisted(upto);
            }
            Outcome::Failed { seqs, error } => {
                if !std::mem::replace(&mut self.store_down, true) {
                    tracing::error!(
                        "DHCPv6 lease journal cannot write ({error}): replies held back"
                    );
                }
                for seq in seqs {
                    self.machine.persist_unavailable(seq);
                }
            }
        }
    }

    /// Hands the records to the commit thread and sends every reply that may go.
    pub(super) async fn flush(&mut self) {
        while let Some(r) = self.machine.poll_persist() {
            self.committer.submit(r);
        }
        let mut out = std::mem::take(&mut self.out);
        while let Some(t) = self.machine.poll_transmit(&mut out) {
            let data = &out[..t.len];
            if tracing::enabled!(tracing::Level::INFO) {
                log_message("Sent", data, &t.destination);
            }
            let r = poll_fn(|cx| {
                self.socket
                    .poll_write_with(cx, &mut |s| send6(SockRef::from(&*s), data, &t))
            })
            .await;
            if let Err(e) = r {
                tracing::warn!("DHCPv6: sending to {}: {e}", t.destination);
            }
        }
        self.out = out;
    }

    /// Stops taking records; what is queued is committed and reported.
    pub(super) fn finish(&self) {
        self.committer.finish();
    }
}

/// One line per message at info level: `Received DHCPv6 solicit from [fe80::1]:546, xid
/// 0x00abcdef` (the message type, and for a relayed one, the relay it came through).
pub(super) fn log_message(verb: &str, packet: &[u8], peer: &std::net::SocketAddrV6) {
    use dhcp_core::v6::wire::Relayed;
    let dir = if verb == "Sent" { "to" } else { "from" };
    match Relayed::parse(packet) {
        Ok(r) => {
            let m = &r.message;
            let kind = m
                .message_type()
                .map_or_else(|| format!("type {}", m.kind()), |t| t.name().to_string());
            let via = if r.relays.is_empty() {
                String::new()
            } else {
                format!(" via {} relays", r.relays.len())
            };
            tracing::info!(
                "{verb} DHCPv6 {kind} {dir} {peer}{via}, xid {:#08x}",
                m.transaction_id()
            );
        }
        Err(e) => tracing::info!("{verb} a malformed DHCPv6 datagram ({peer}): {e}"),
    }
}

/// The server's DUID: read from `path`, or made (of `kind`) and written there atomically
/// the first time, so it stays the same across restarts (RFC 8415 section 11).
pub fn server_duid(path: &Path, kind: DuidKind) -> Result<Vec<u8>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            return parse_hex(text.trim()).map_err(|what| Error::Config6 {
                what: format!("{}: {what}", path.display()),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
    }
    let mac = crate::net::socket::interfaces()
        .into_iter()
        .filter(|i| i.usable)
        .find_map(|i| i.mac);
    let duid = make_duid(kind, mac, unix_now(), crate::clock::os_seed());
    let tmp = path.with_extension("duid.tmp");
    let text = format!("{}\n", crate::client::hex(&duid));
    // Written whole and synced before it is renamed into place, and the directory synced
    // after: a crash leaves the old state or the new file, never an empty one.
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        #[cfg(not(unix))]
        let _ = dir;
        Ok(())
    };
    write().map_err(|e| Error::io(format!("writing the server DUID to {}", path.display()), e))?;
    tracing::info!(
        "DHCPv6: made server DUID {} ({})",
        crate::client::hex(&duid),
        path.display()
    );
    Ok(duid)
}

/// A DUID of `kind`: LLT and LL from `mac` (a UUID when there is no MAC), LLT's time in
/// seconds since 2000-01-01 UTC, a UUID (version 4) from `seed`.
fn make_duid(kind: DuidKind, mac: Option<[u8; 6]>, unix: u64, seed: u64) -> Vec<u8> {
    const Y2K: u64 = 946_684_800;
    match (kind, mac) {
        (DuidKind::Llt, Some(mac)) => {
            let t = (unix.saturating_sub(Y2K) & 0xffff_ffff) as u32;
            let mut d = vec![0, 1, 0, 1];
            d.extend_from_slice(&t.to_be_bytes());
            d.extend_from_slice(&mac);
            d
        }
        (DuidKind::Ll, Some(mac)) => {
            let mut d = vec![0, 3, 0, 1];
            d.extend_from_slice(&mac);
            d
        }
        _ => {
            let a = seed.to_be_bytes();
            let b = seed
                .rotate_left(29)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .to_be_bytes();
            let mut u = [0u8; 16];
            u[..8].copy_from_slice(&a);
            u[8..].copy_from_slice(&b);
            u[6] = (u[6] & 0x0f) | 0x40;
            u[8] = (u[8] & 0x3f) | 0x80;
            let mut d = vec![0, 4];
            d.extend_from_slice(&u);
            d
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duids_of_each_kind() {
        let mac = Some([2, 0, 0, 0, 0, 1]);
        let llt = make_duid(DuidKind::Llt, mac, 946_684_800 + 70, 1);
        assert_eq!(llt, vec![0, 1, 0, 1, 0, 0, 0, 70, 2, 0, 0, 0, 0, 1]);
        assert_eq!(
            make_duid(DuidKind::Ll, mac, 0, 1),
            vec![0, 3, 0, 1, 2, 0, 0, 0, 0, 1]
        );
        let uuid = make_duid(DuidKind::Uuid, mac, 0, 7);
        assert_eq!((uuid.len(), &uuid[..2]), (18, &[0u8, 4][..]));
        assert_eq!(make_duid(DuidKind::Llt, None, 0, 7), uuid, "no MAC: a UUID");
    }

    #[test]
    fn the_duid_is_made_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("dhcp-duid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("server.duid");
        let _ = std::fs::remove_file(&path);
        let first = server_duid(&path, DuidKind::Uuid).unwrap();
        assert_eq!(server_duid(&path, DuidKind::Llt).unwrap(), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
