//! `--runtime`: which compiled-in adapter runs a command.

use clap::ValueEnum;

/// An async runtime the binary was built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RuntimeName {
    /// tokio.
    #[cfg(feature = "runtime-tokio")]
    Tokio,
    /// async-std.
    #[cfg(feature = "runtime-async-std")]
    AsyncStd,
    /// smol.
    #[cfg(feature = "runtime-smol")]
    Smol,
}

impl RuntimeName {
    /// The first one built in (tokio, async-std, smol).
    pub(crate) fn default_name() -> &'static str {
        if cfg!(feature = "runtime-tokio") {
            "tokio"
        } else if cfg!(feature = "runtime-async-std") {
            "async-std"
        } else {
            "smol"
        }
    }
}

/// Runs `$body`, an async block generic over the runtime type bound to `$R`, on the
/// runtime `$name` picks.
macro_rules! on_runtime {
    ($name:expr, |$R:ident| $body:expr) => {
        match $name {
            #[cfg(feature = "runtime-tokio")]
            $crate::runtime::RuntimeName::Tokio => {
                #[allow(dead_code)]
                type $R = dhcp::tokio::Tokio;
                dhcp::tokio::block_on($body)
            }
            #[cfg(feature = "runtime-async-std")]
            $crate::runtime::RuntimeName::AsyncStd => {
                #[allow(dead_code)]
                type $R = dhcp::async_std::AsyncStd;
                dhcp::async_std::block_on($body)
            }
            #[cfg(feature = "runtime-smol")]
            $crate::runtime::RuntimeName::Smol => {
                #[allow(dead_code)]
                type $R = dhcp::smol::Smol;
                dhcp::smol::block_on($body)
            }
        }
    };
}
pub(crate) use on_runtime;
