//! Running the server as a service: metrics, the control socket, shutdown signals,
//! dropping privileges, and systemd's readiness notification.

#[cfg(unix)]
pub mod control;
pub mod metrics;
pub mod notify;
#[cfg(target_os = "linux")]
pub mod privilege;
pub mod signal;
