//! What DHCPv4 and DHCPv6 servers share below the protocol: the lease tables, generic
//! over the [`Address`](address::Address) leased (`u32` for IPv4, `u128` for IPv6, a
//! prefix's index for delegated prefixes).
//!
//! | module | holds |
//! |---|---|
//! | `address` | what a leasable address must offer: offsets into a range, a table hash |
//! | `bitset` | a set of small integers as a hierarchy of bitmaps |
//! | `pool` | which addresses of one range are free, without scanning the range |
//! | `table` | the address → binding table |
//! | `index` | each client's current address |
//! | `timers` | when each binding next needs attention, in deadline order |
//! | `clock` | the tie between instants, whole-second deadlines and Unix seconds |
//! | `key` | who holds a lease, as bytes |

pub(crate) mod address;
mod bitset;
pub(crate) mod clock;
pub(crate) mod index;
mod key;
pub(crate) mod pool;
pub(crate) mod table;
pub(crate) mod timers;

pub use key::ClientKey;
