//! The DHCPv6 server as a sans-IO state machine (RFC 8415 section 18.3): one [`Server6`]
//! for every client of every link, with IA_NA addresses and IA_PD delegated prefixes,
//! relays nested to any depth the codec follows, reservations, rapid commit, and the
//! durability handshake of the v4 server. Needs the `alloc` feature. Its lease tables are
//! the v4 server's, generic over the address.
//!
//! Pools of any size inside a /64 cost nothing up front: addresses are handed out in
//! order from a cursor, and the only per-address memory is for addresses handed out (see
//! ARCHITECTURE.md).

mod class;
mod config;
mod event;
mod machine;
mod options;

pub use class::{Class6Config, Match6, MAX_CLASSES6, MAX_DEPTH6};
pub use config::{
    Config6Error, Config6Place, Ipv6Net, Lifetimes, PdPool, Pool6, Reservation6, Reservation6Key,
    Server6Config, Subnet6Config,
};
pub use event::{
    lease_key, BoundLease6, DropReason6, IaKind, Lease6Record, Pool6Usage, Record6Kind, RecvMeta6,
    Server6Stats, Transmit6,
};
pub use machine::Server6;
pub use options::Options6;
