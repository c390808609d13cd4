//! The server's config file: TOML, read with serde, checked as a whole.
//!
//! Every mistake is reported with the file, line and column, the field, and what is wrong;
//! unknown keys are mistakes too. `examples/server.toml` in the repository is an annotated
//! example of every key.

use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use dhcp_core::server::{
    ConfigPlace, LeaseField, PoolClasses, PoolRange, Reservation, ReservationKey, ServerConfig,
    SubnetConfig,
};
use toml::Spanned;

mod classes;
mod classes6;
mod defs;
mod file;
mod options;
mod report;
mod v6;

pub use file::parse_hex;
use file::FileTop;
use options::{options, warn_default_route};
use report::Report;
pub use v6::{DuidKind, Server6File};

/// One mistake in a config file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field (`subnet[0].pools`), or empty when the mistake is not in one field.
    pub field: String,
    /// What is wrong.
    pub what: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.what)
    }
}

/// Every mistake found in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFileError {
    /// The mistakes, in file order.
    pub errors: Vec<Located>,
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigFileError {}

/// A server as its config file describes it: the core's model plus what the host needs.
#[derive(Debug, Clone)]
pub struct ServerFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The protocol configuration.
    pub server: ServerConfig,
    /// Interfaces to serve; empty serves every interface (learning each request's from
    /// `IP_PKTINFO`).
    pub interfaces: Vec<String>,
    /// The lease journal (relative paths are taken from the config file's directory).
    pub journal: PathBuf,
    /// Where leases are made durable: the journal (the default) or a shared database.
    pub store: Store,
    /// Log level (`error`, `warn`, `info`, `debug`, `trace`).
    pub log_level: String,
    /// The user to switch to after binding the sockets.
    pub user: Option<String>,
    /// Where to serve metrics over HTTP (`GET /metrics`); off when `None`.
    pub metrics: Option<std::net::SocketAddr>,
    /// Log lines as JSON objects instead of text.
    pub log_json: bool,
    /// The control socket ([`crate::ops::control`]); by default beside the journal, named
    /// after it with `.sock`; `control_socket = ""` turns it off.
    pub control_socket: Option<PathBuf>,
    /// How long the conflict check waits for an answer to its ping
    /// ([`ServerConfig::conflict_check`](dhcp_core::server::ServerConfig::conflict_check)).
    pub conflict_wait: std::time::Duration,
    /// What is allowed but likely a mistake (a scope's routers with classless routes that
    /// hold no default route), in file order; `dhcp server` logs them and `--check`
    /// prints them.
    pub warnings: Vec<Located>,
    /// The DHCPv6 server, when the file has `[[subnet6]]`.
    pub v6: Option<Server6File>,
}

/// The lease store a config names (`store = ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Store {
    /// The journal file ([`ServerFile::journal`]).
    Journal,
    /// A PostgreSQL database that several servers may share (`[postgres]`).
    Postgres {
        /// A `postgresql://` URL or libpq's `key=value` pairs; a `host` that is a
        /// directory is a Unix socket.
        url: String,
        /// This server's name in the table (`name`; by default the host name).
        name: String,
        /// TLS to the database (`ca`, `cert`, `key`).
        tls: DatabaseTls,
    },
}

/// TLS to the lease database (`[postgres] ca, cert, key`; relative paths are taken from
/// the config file's directory).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatabaseTls {
    /// CA certificates (PEM) the database's certificate must chain to. With them TLS is
    /// required, and the certificate and the url's host name are verified. Without them,
    /// TLS is used as the url's `sslmode` says (`prefer` by default, `require`,
    /// `disable`) and, as libpq does without a root certificate, not verified.
    pub ca: Option<PathBuf>,
    /// A client certificate (PEM) to log in with, for a database that asks for one.
    pub cert: Option<PathBuf>,
    /// The client certificate's key (PEM, PKCS#8).
    pub key: Option<PathBuf>,
}

/// Reads and checks the config file at `path`.
pub fn load(path: impl AsRef<Path>) -> Result<ServerFile, ConfigFileError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigFileError {
        errors: vec![Located {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            field: String::new(),
            what: format!("cannot read: {e}"),
        }],
    })?;
    parse(path, &text)
}

/// Checks config `text`, naming `path` in errors (and resolving a relative journal path
/// from its directory).
pub fn parse(path: &Path, text: &str) -> Result<ServerFile, ConfigFileError> {
    let mut report = Report {
        file: path,
        text,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let top: FileTop = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            report.toml_error(&e);
            return Err(report.into_error());
        }
    };
    let defs = defs::Defs::new(&top.option_def, &mut report);
    let mut server = settings(&top, &defs, &mut report);
    classes::classes(&top, &defs, &mut server, &mut report);
    let kept = subnets(&top, &defs, &mut server, &mut report);
    warn_default_routes(&top, &mut report);
    let model = |e: &dhcp_core::server::ConfigError| {
        let (span, field) = locate(&top, &kept, &e.place);
        let what = match e.place {
            ConfigPlace::Lease(_) => e.what.clone(),
            _ => format!("{}: {}", e.at, e.what),
        };
        (span, field, what)
    };
    if let Err(errors) = server.validate() {
        for e in &errors {
            let (span, field, what) = model(e);
            report.at(span, &field, what);
        }
    }
    for w in &server.warnings() {
        let (span, field, what) = model(w);
        report.warn(span, &field, what);
    }
    let store = store_of(&top, dir, &mut report);
    if let Some(ha) = &top.ha {
        share(ha, &store, &mut server, &mut report);
    }
    let log_json = log_format(&top, &mut report);
    let conflict_wait = match &top.conflict_check_ms {
        Some(ms) if !(10..=5000).contains(ms.get_ref()) => {
            report.at(
                ms.span(),
                "conflict_check_ms",
                format!("{} ms: between 10 and 5000", ms.get_ref()),
            );
            std::time::Duration::ZERO
        }
        Some(ms) => std::time::Duration::from_millis(u64::from(*ms.get_ref())),
        None => std::time::Duration::from_millis(500),
    };
    check_log_level(&top, &mut report);
    let journal = dir.join(
        top.journal
            .clone()
            .unwrap_or_else(|| PathBuf::from("leases.journal")),
    );
    let v6 = v6::server6(
        &top.server6,
        &top.subnet6,
        &top.class6,
        dir,
        &journal,
        &mut report,
    );
    if !report.errors.is_empty() {
        return Err(report.into_error());
    }
    let control_socket = match top.control_socket {
        Some(p) if p.as_os_str().is_empty() => None,
        Some(p) => Some(dir.join(p)),
        None => Some(journal.with_extension("sock")),
    };
    Ok(ServerFile {
        path: path.to_path_buf(),
        server,
        interfaces: top.interfaces.into_iter().filter(|i| i != "*").collect(),
        journal,
        store,
        control_socket,
        log_level: top
            .log_level
            .map(|l| l.into_inner())
            .unwrap_or_else(|| "info".to_string()),
        user: top.user,
        metrics: top.metrics,
        log_json,
        conflict_wait,
        warnings: report.into_warnings(),
        v6,
    })
}

/// The server-wide protocol settings: flags, limits, lease times and options.
fn settings(top: &FileTop, defs: &defs::Defs, report: &mut Report<'_>) -> ServerConfig {
    let mut server = ServerConfig {
        server_id: top.server_id,
        ..ServerConfig::default()
    };
    if let Some(a) = top.authoritative {
        server.authoritative = a;
    }
    if let Some(r) = top.rapid_commit {
        server.rapid_commit = r;
    }
    if let Some(b) = top.dynamic_bootp {
        server.dynamic_bootp = b;
    }
    if let Some(c) = top.conflict_check {
        server.conflict_check = c;
    }
    if let Some(s) = top.offer_hold {
        server.offer_hold = std::time::Duration::from_secs(u64::from(s));
    }
    if let Some(s) = top.decline_probation {
        server.decline_probation = std::time::Duration::from_secs(u64::from(s));
    }
    if let Some(n) = top.max_offers {
        server.max_offers = n;
    }
    if let Some(r) = &top.rate_limit {
        if *r.get_ref() == 0 {
            report.at(
                r.span(),
                "rate_limit",
                "must be at least 1 request a second (leave it out for no limit)".to_string(),
            );
        }
        server.rate_limit = Some(*r.get_ref());
    }
    if let Some(l) = &top.lease {
        server.lease = l.get_ref().times().over(&server.lease);
    }
    server.options = options(&top.options, "options", defs, report);
    server.boot = file::boot(top.next_server, &top.server_name, &top.boot_file);
    server
}

/// Each `[[subnet]]` into `server.subnets`, with its reservations; returns, per subnet,
/// the index in the file of each reservation kept (one that names no client, or two, is
/// reported and left out).
fn subnets(
    top: &FileTop,
    defs: &defs::Defs,
    server: &mut ServerConfig,
    report: &mut Report<'_>,
) -> Vec<Vec<usize>> {
    let mut kept = Vec::new();
    for (i, s) in top.subnet.iter().enumerate() {
        let field = format!("subnet[{i}]");
        let sub = s.get_ref();
        let mut c = SubnetConfig::new(sub.network.0);
        for (k, p) in sub.pools.iter().enumerate() {
            let pool = p.get_ref();
            let mut set = |names: &[String], key: &str| {
                let field = format!("{field}.pools[{k}].{key}");
                classes::class_set(names, server, p.span(), &field, report)
            };
            let classes = PoolClasses {
                allow: set(&pool.allow, "allow"),
                deny: set(&pool.deny, "deny"),
            };
            c.pools.push(PoolRange {
                classes,
                ..pool.range
            });
        }
        c.boot = file::boot(sub.next_server, &sub.server_name, &sub.boot_file);
        c.server_id = sub.server_id;
        c.authoritative = sub.authoritative;
        c.rapid_commit = sub.rapid_commit;
        c.dynamic_bootp = sub.dynamic_bootp;
        if let Some(n) = &sub.shared_network {
            if n.get_ref().trim().is_empty() {
                report.at(n.span(), &format!("{field}.shared_network"), "is empty");
            }
            c.shared_network = Some(n.get_ref().clone());
        }
        if let Some(l) = &sub.lease {
            c.lease = l.get_ref().times();
        }
        c.options = options(&sub.options, &format!("{field}.options"), defs, report);
        let mut indices = Vec::new();
        for (k, r) in sub.reservation.iter().enumerate() {
            if let Some(res) = reservation(
                r,
                server,
                defs,
                &format!("{field}.reservation[{k}]"),
                report,
            ) {
                c.reservations.push(res);
                indices.push(k);
            }
        }
        kept.push(indices);
        server.subnets.push(c);
    }
    kept
}

/// One `[[subnet.reservation]]`, or `None` (reported) when it names no client or two.
fn reservation(
    r: &Spanned<file::ReservationFile>,
    server: &ServerConfig,
    defs: &defs::Defs,
    field: &str,
    report: &mut Report<'_>,
) -> Option<Reservation> {
    let res = r.get_ref();
    let keys = [
        res.mac
            .map(|m| ReservationKey::HardwareAddress(m.to_array().to_vec())),
        res.client_id
            .as_ref()
            .map(|h| ReservationKey::ClientId(h.0.clone())),
        res.circuit_id
            .as_ref()
            .map(|h| ReservationKey::CircuitId(h.0.clone())),
        res.remote_id
            .as_ref()
            .map(|h| ReservationKey::RemoteId(h.0.clone())),
        res.machine_id.as_ref().map(|h| {
            // RFC 4578 section 2.3: type 0, then the 16-byte UUID; a bare UUID gets its type.
            let mut id = h.0.clone();
            if id.len() == 16 {
                id.insert(0, 0);
            }
            ReservationKey::MachineId(id)
        }),
    ];
    let mut keys = keys.into_iter().flatten();
    let (Some(key), None) = (keys.next(), keys.next()) else {
        report.at(
            r.span(),
            field,
            "give exactly one of mac, client_id, circuit_id, remote_id, machine_id",
        );
        return None;
    };
    if let ReservationKey::MachineId(id) = &key {
        if id.len() != 17 || id[0] != 0 {
            report.at(
                r.span(),
                &format!("{field}.machine_id"),
                format!(
                    "{} bytes: a machine identifier (97) is type 0 and a 16-byte UUID, or the UUID alone",
                    id.len()
                ),
            );
            return None;
        }
    }
    let mut opts = options(&res.options, &format!("{field}.options"), defs, report);
    if let Some(h) = &res.host_name {
        if let Err(e) = opts.host_name(h.get_ref()) {
            report.at(h.span(), &format!("{field}.host_name"), e.to_string());
        }
    }
    let classes = match &res.classes {
        Some(names) => classes::class_set(
            names.get_ref(),
            server,
            names.span(),
            &format!("{field}.classes"),
            report,
        ),
        None => dhcp_core::server::ClassSet::EMPTY,
    };
    Some(Reservation {
        key,
        address: *res.address.get_ref(),
        host_name: res.host_name.as_ref().map(|h| h.get_ref().clone()),
        options: opts,
        classes,
        boot: file::boot(res.next_server, &res.server_name, &res.boot_file),
    })
}

/// Warns, for every subnet and reservation, of routers sent with classless routes that
/// hold no default route.
fn warn_default_routes(top: &FileTop, report: &mut Report<'_>) {
    let mut warned = Vec::new();
    for (i, s) in top.subnet.iter().enumerate() {
        let field = format!("subnet[{i}].options");
        let sub = s.get_ref();
        let scopes = [&sub.options, &top.options];
        warn_default_route(&scopes, report, &mut warned, &[&field, "options"]);
        for (k, r) in sub.reservation.iter().enumerate() {
            let rf = format!("subnet[{i}].reservation[{k}].options");
            let scopes = [&r.get_ref().options, &sub.options, &top.options];
            warn_default_route(&scopes, report, &mut warned, &[&rf, &field, "options"]);
        }
    }
}

/// `[ha]`: checked, then every pool split into its shares.
fn share(
    ha: &Spanned<file::HaFile>,
    store: &Store,
    server: &mut ServerConfig,
    report: &mut Report<'_>,
) {
    let (n, this) = (
        *ha.get_ref().servers.get_ref(),
        *ha.get_ref().this.get_ref(),
    );
    if n == 0 || n > 64 {
        report.at(
            ha.get_ref().servers.span(),
            "ha.servers",
            format!("{n}: between 1 and 64 servers share the leases"),
        );
    } else if this >= n {
        report.at(
            ha.get_ref().this.span(),
            "ha.this",
            format!(
                "{this}: shares are numbered 0 to {} (ha.servers - 1)",
                n - 1
            ),
        );
    } else if !matches!(store, Store::Postgres { .. }) {
        report.at(
            ha.span(),
            "ha",
            "servers share leases through a database: set store = \"postgres\"".to_string(),
        );
    } else {
        share_pools(server, n, this);
    }
}

/// `log_format`: true for JSON.
fn log_format(top: &FileTop, report: &mut Report<'_>) -> bool {
    match &top.log_format {
        Some(f) if f.get_ref() == "json" => true,
        Some(f) if f.get_ref() == "text" => false,
        Some(f) => {
            report.at(
                f.span(),
                "log_format",
                format!("{:?}: the formats are \"text\" and \"json\"", f.get_ref()),
            );
            false
        }
        None => false,
    }
}

fn check_log_level(top: &FileTop, report: &mut Report<'_>) {
    if let Some(level) = &top.log_level {
        if !matches!(
            level.get_ref().as_str(),
            "error" | "warn" | "info" | "debug" | "trace"
        ) {
            report.at(
                level.span(),
                "log_level",
                format!(
                    "{:?} is not one of error, warn, info, debug, trace",
                    level.get_ref()
                ),
            );
        }
    }
}

/// The store `store = ...` and `[postgres]` name.
fn store_of(top: &FileTop, dir: &Path, report: &mut Report<'_>) -> Store {
    let kind = top.store.as_ref().map(|s| s.get_ref().as_str());
    match (kind, &top.postgres) {
        (None | Some("journal"), None) => Store::Journal,
        (Some("postgres"), Some(p)) => {
            let p = p.get_ref();
            if p.url.get_ref().trim().is_empty() {
                report.at(p.url.span(), "postgres.url", "is empty".to_string());
            }
            let name = match &p.name {
                Some(n) if n.get_ref().trim().is_empty() || n.get_ref().contains(' ') => {
                    report.at(
                        n.span(),
                        "postgres.name",
                        format!("{:?}: a name without spaces", n.get_ref()),
                    );
                    String::new()
                }
                Some(n) => n.get_ref().clone(),
                None => host_name(),
            };
            let mut file = |field: &str, path: &Option<Spanned<PathBuf>>| {
                let path = path.as_ref()?;
                let full = dir.join(path.get_ref());
                if let Err(e) = std::fs::metadata(&full) {
                    report.at(path.span(), field, format!("{}: {e}", full.display()));
                }
                Some(full)
            };
            let tls = DatabaseTls {
                ca: file("postgres.ca", &p.ca),
                cert: file("postgres.cert", &p.cert),
                key: file("postgres.key", &p.key),
            };
            match (&p.cert, &p.key) {
                (Some(c), None) => {
                    report.at(c.span(), "postgres.cert", "needs key too".to_string())
                }
                (None, Some(k)) => {
                    report.at(k.span(), "postgres.key", "needs cert too".to_string())
                }
                _ => {}
            }
            Store::Postgres {
                url: p.url.get_ref().clone(),
                name,
                tls,
            }
        }
        (Some("postgres"), None) => {
            let s = top.store.as_ref().expect("matched Some");
            report.at(
                s.span(),
                "store",
                "\"postgres\" needs a [postgres] table with the database's url".to_string(),
            );
            Store::Journal
        }
        (None | Some("journal"), Some(p)) => {
            report.at(
                p.span(),
                "postgres",
                "[postgres] is set but store is not \"postgres\"".to_string(),
            );
            Store::Journal
        }
        (Some(other), _) => {
            let s = top.store.as_ref().expect("matched Some");
            report.at(
                s.span(),
                "store",
                format!("{other:?}: the stores are \"journal\" and \"postgres\""),
            );
            Store::Journal
        }
    }
}

/// This machine's host name (the default name a server writes its rows under).
fn host_name() -> String {
    #[cfg(unix)]
    if let Ok(n) = nix::unistd::gethostname() {
        if let Some(n) = n.to_str().filter(|n| !n.is_empty() && !n.contains(' ')) {
            return n.to_string();
        }
    }
    "dhcp".to_string()
}

/// Splits every pool into `n` nearly equal blocks, share `this` first: the machine takes
/// addresses from its pools in order, so this server hands out its own share and takes
/// from the others' only when its own is empty, and servers that share the store rarely
/// offer one address to two clients.
fn share_pools(server: &mut ServerConfig, n: u32, this: u32) {
    let n = u64::from(n);
    for subnet in &mut server.subnets {
        let block = |p: &PoolRange, k: u64| {
            let (start, end) = (u64::from(u32::from(p.start)), u64::from(u32::from(p.end)));
            let size = end - start + 1;
            let (first, next) = (start + size * k / n, start + size * (k + 1) / n);
            (next > first).then(|| PoolRange {
                classes: p.classes,
                ..PoolRange::new(
                    Ipv4Addr::from(first as u32),
                    Ipv4Addr::from((next - 1) as u32),
                )
            })
        };
        // Its own share of every pool, then the next server's, and so on: two servers whose
        // own shares ran out don't both turn to the same one.
        let shares = (0..n).map(|k| (u64::from(this) + k) % n);
        let pools = std::mem::take(&mut subnet.pools);
        subnet.pools = shares
            .flat_map(|k| pools.iter().filter_map(move |p| block(p, k)))
            .collect();
    }
}

/// The span and field name of what a core validation error's place names. `kept` maps
/// each subnet's reservations in the core's model to their index in the file.
fn locate(top: &FileTop, kept: &[Vec<usize>], place: &ConfigPlace) -> (Range<usize>, String) {
    let whole = 0..0;
    let lease_at = |lease: &Option<Spanned<file::Lease>>, field: LeaseField, name: String| {
        let span = lease
            .as_ref()
            .map(|l| l.get_ref().span_of(field).unwrap_or_else(|| l.span()));
        (span.unwrap_or(0..0), name)
    };
    match *place {
        ConfigPlace::Lease(field) => {
            lease_at(&top.lease, field, format!("lease.{}", lease_key(field)))
        }
        ConfigPlace::Subnet { subnet } => match top.subnet.get(subnet) {
            Some(s) => (s.span(), format!("subnet[{subnet}]")),
            None => (whole, String::new()),
        },
        ConfigPlace::SubnetLease { subnet, field } => match top.subnet.get(subnet) {
            Some(s) => {
                let name = format!("subnet[{subnet}].lease.{}", lease_key(field));
                let (span, name) = lease_at(&s.get_ref().lease, field, name);
                (if span == (0..0) { s.span() } else { span }, name)
            }
            None => (whole, String::new()),
        },
        ConfigPlace::Pool { subnet, pool } => {
            match top
                .subnet
                .get(subnet)
                .and_then(|s| s.get_ref().pools.get(pool))
            {
                Some(p) => (p.span(), format!("subnet[{subnet}].pools[{pool}]")),
                None => (whole, String::new()),
            }
        }
        ConfigPlace::Reservation {
            subnet,
            reservation,
        } => {
            let k = kept
                .get(subnet)
                .and_then(|k| k.get(reservation))
                .copied()
                .unwrap_or(reservation);
            match top
                .subnet
                .get(subnet)
                .and_then(|s| s.get_ref().reservation.get(k))
            {
                Some(r) => (r.span(), format!("subnet[{subnet}].reservation[{k}]")),
                None => (whole, String::new()),
            }
        }
        ConfigPlace::Class { class } => match top.class.get(class) {
            Some(c) => (c.span(), format!("class[{class}]")),
            None => (whole, String::new()),
        },
        ConfigPlace::Boot => {
            let at = [&top.boot_file, &top.server_name]
                .into_iter()
                .flatten()
                .map(Spanned::span)
                .next();
            (at.unwrap_or(whole), "boot".to_string())
        }
        _ => (whole, String::new()),
    }
}

/// The key a lease time is written under.
fn lease_key(field: LeaseField) -> &'static str {
    match field {
        LeaseField::Time => "time",
        LeaseField::Min => "min",
        LeaseField::Max => "max",
        LeaseField::Renewal => "renewal",
        LeaseField::Rebinding => "rebinding",
    }
}
