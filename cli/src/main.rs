//! `dhcp`: the DHCPv4 server, client daemon, lease listing, packet decoder and demo.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod client;
mod decode;
#[cfg(target_os = "linux")]
mod demo;
mod leases;
mod runtime;
mod server;

use runtime::RuntimeName;

/// A DHCPv4 server and client with a sans-IO core.
#[derive(Debug, Parser)]
#[command(name = "dhcp", version, about)]
struct Cli {
    /// The async runtime to run on (those this binary was built with).
    #[arg(long, global = true, value_enum, default_value = RuntimeName::default_name())]
    runtime: RuntimeName,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve DHCP from a config file (Ctrl-C or SIGTERM stops it, journal flushed).
    Server {
        /// The TOML config file.
        #[arg(long, short)]
        config: PathBuf,
        /// Check the config file and exit: every mistake with file:line:column and field.
        #[arg(long)]
        check: bool,
        /// Make the server running with this config file reload it (through its control
        /// socket): checked here first, then applied without losing a lease. SIGHUP does
        /// the same.
        #[arg(long, conflicts_with = "check")]
        reload: bool,
    },
    /// Get a lease on an interface and keep it: renew, rebind, start over; kept when
    /// stopped (for the next start to ask for again) unless --release-on-exit.
    Client(client::Args),
    /// The leases in a server's journal.
    Leases {
        /// The server's config file (names the journal).
        #[arg(long, short)]
        config: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Also show released, declined and expired leases.
        #[arg(long)]
        all: bool,
    },
    /// Print the DHCP messages in a pcap file (or hex on stdin) as tcpdump -v would.
    Decode {
        /// A pcap file (Ethernet, raw IP or Linux cooked captures); hex on stdin if absent.
        file: Option<PathBuf>,
        /// Print JSON: every header field and every option (typed where known, hex always).
        #[arg(long)]
        json: bool,
    },
    /// Run a server and a client in two network namespaces and show the exchange (root).
    Demo {
        /// Keep the lease, namespaces and server up this many seconds before releasing.
        #[arg(long, default_value_t = 0)]
        hold: u64,
    },
}

/// Logs to stderr at `RUST_LOG` if set, else `default`.
pub(crate) fn init_logging(default: &str) {
    init_logging_as(default, false);
}

/// Logs to stderr at `default` level (`RUST_LOG` overrides), as text or one JSON object a
/// line.
pub(crate) fn init_logging_as(default: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Server {
            config,
            check: _,
            reload: true,
        } => server::reload(&config),
        Command::Server {
            config,
            check,
            reload: false,
        } => server::run(cli.runtime, &config, check),
        Command::Client(args) => client::run(cli.runtime, args),
        Command::Leases { config, json, all } => leases::run(&config, json, all),
        Command::Decode { file, json } => decode::run(file.as_deref(), json),
        #[cfg(target_os = "linux")]
        Command::Demo { hold } => demo::run(cli.runtime, hold),
        #[cfg(not(target_os = "linux"))]
        Command::Demo { .. } => Err("dhcp demo needs Linux network namespaces".into()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a command returns: its exit code, or an error to print.
pub(crate) type Outcome = Result<ExitCode, Box<dyn std::error::Error>>;
