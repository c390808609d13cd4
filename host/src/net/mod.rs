//! The network: DHCP sockets and reply delivery, applying a lease to an interface, and
//! network namespaces for the demo and the tests.

#[cfg(target_os = "linux")]
pub mod netconf;
#[cfg(target_os = "linux")]
pub mod netns;
#[cfg(unix)]
pub mod prober;
pub mod socket;
pub mod socket6;
