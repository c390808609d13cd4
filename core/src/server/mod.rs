//! The DHCPv4 server as a sans-IO state machine (RFC 2131 section 4.3): one [`Server`]
//! for every client of every subnet. Needs the `alloc` feature: the lease table grows
//! with the clients. No I/O, no clock: packets, time and the persistence handshake in;
//! replies, lease records and the next deadline out.

mod class;
mod config;
mod counts;
mod event;
mod lease;
mod limit;
mod machine;
mod option_cache;
mod options;

pub use class::{Boot, ClassConfig, ClassId, ClassSet, Match, PoolClasses};
pub use config::{
    ConfigError, ConfigPlace, Ipv4Net, LeaseField, LeaseTimes, PoolRange, Reservation,
    ReservationKey, ServerConfig, SubnetConfig,
};
pub use event::{
    BoundLease, DropReason, HardwareAddress, PoolUsage, RecvMeta, ServerStats, SubnetUsage,
    Transmit,
};
pub use lease::{ClientKey, LeaseRecord, RecordKind};
pub use machine::Server;
pub use options::OptionSet;
