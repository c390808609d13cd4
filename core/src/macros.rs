//! Macros the machines share.

/// Defines `DropReason`: an enum of why a machine dropped a packet, with `ALL` listing
/// every reason in order (for counters and metrics).
macro_rules! drop_reasons {
    ($( $(#[$doc:meta])* $name:ident, )*) => {
        /// Why a received packet was dropped.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(usize)]
        pub enum DropReason { $( $(#[$doc])* $name, )* }

        impl DropReason {
            /// Every reason, in order.
            pub const ALL: &'static [DropReason] = &[$(DropReason::$name),*];
        }
    };
}

pub(crate) use drop_reasons;
