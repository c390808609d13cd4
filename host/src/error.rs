//! [`Error`]: what the adapters' async APIs return.

use std::io;
use std::net::Ipv4Addr;
use std::time::Duration;

/// Everything an async server or client operation can fail with. Each variant says what
/// went wrong in words an operator can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Binding a privileged port without the privilege.
    #[error("port {port} needs root or CAP_NET_BIND_SERVICE")]
    NeedsPrivilege {
        /// The port.
        port: u16,
    },
    /// Another process holds the port.
    #[error("port {port} is already in use (another DHCP server or client is running?)")]
    PortInUse {
        /// The port.
        port: u16,
    },
    /// An interface the config or the caller named does not exist or has no IPv4 address.
    #[error("interface {name}: {what}")]
    Interface {
        /// The interface.
        name: String,
        /// What is wrong with it.
        what: String,
    },
    /// No server answered in time.
    #[error("no answer from a DHCP server within {0:?}")]
    Timeout(Duration),
    /// A server refused the address.
    #[error("the server refused {0} (DHCPNAK)")]
    Nak(Ipv4Addr),
    /// The network prefers IPv6-only (RFC 8925).
    #[error("the network is IPv6-only preferred; DHCPv4 paused for {0:?}")]
    Ipv6OnlyPreferred(Duration),
    /// The config file is wrong: every mistake, each with file, line and column.
    #[error("{0}")]
    Config(#[from] crate::server::config::ConfigFileError),
    /// The DHCPv6 part of the config cannot run (a server DUID file that does not read
    /// back, say).
    #[error("DHCPv6: {what}")]
    Config6 {
        /// What is wrong.
        what: String,
    },
    /// The lease store could not be opened or written.
    #[error("lease store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// Any other I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
