//! Helpers shared by the test binaries (and, by path, the fuzz targets).
#![allow(dead_code, unreachable_pub)]

pub mod client_driver;
pub mod dora;
pub mod exercise;
pub mod exercise6;
pub mod pcap;
pub mod reemit;
pub mod reemit6;
pub mod relay6;
pub mod server6_driver;
pub mod server_driver;
