//! Dropping root after the sockets are bound: switch to an unprivileged user and keep only
//! the capabilities a running server needs: `CAP_NET_ADMIN` (ARP entries before unicast
//! replies), `CAP_NET_RAW` (binding sockets to interfaces) and `CAP_NET_BIND_SERVICE`
//! (port 67, should a socket need binding again).

use std::path::Path;

use caps::{CapSet, Capability, CapsHashSet};
use nix::unistd::{self, AccessFlags, User};

/// Why dropping privileges failed.
#[derive(Debug, thiserror::Error)]
#[error("dropping privileges to user {user:?}: {what}")]
pub struct DropError {
    /// The user.
    pub user: String,
    /// What went wrong.
    pub what: String,
}

/// The capabilities kept.
pub fn kept() -> CapsHashSet {
    [
        Capability::CAP_NET_ADMIN,
        Capability::CAP_NET_RAW,
        Capability::CAP_NET_BIND_SERVICE,
    ]
    .into_iter()
    .collect()
}

/// Switches the process to `user` (its uid, gid, and no supplementary groups), keeping
/// [`kept`] capabilities on the calling thread (the one that goes on serving; capabilities
/// are per thread, and other threads lose theirs). Then checks that `writable` (the
/// journal's directory, where compaction writes) is writable by the user.
pub fn drop_to(user: &str, writable: &Path) -> Result<(), DropError> {
    let err = |what: String| DropError {
        user: user.to_string(),
        what,
    };
    let u = User::from_name(user)
        .map_err(|e| err(format!("looking the user up: {e}")))?
        .ok_or_else(|| err("no such user".to_string()))?;
    caps::securebits::set_keepcaps(true).map_err(|e| err(format!("keeping capabilities: {e}")))?;
    unistd::setgroups(&[u.gid]).map_err(|e| err(format!("setgroups: {e}")))?;
    unistd::setgid(u.gid).map_err(|e| err(format!("setgid: {e}")))?;
    unistd::setuid(u.uid).map_err(|e| err(format!("setuid: {e}")))?;
    let keep = kept();
    caps::set(None, CapSet::Permitted, &keep).map_err(|e| err(format!("capabilities: {e}")))?;
    caps::set(None, CapSet::Effective, &keep).map_err(|e| err(format!("capabilities: {e}")))?;
    caps::clear(None, CapSet::Inheritable).map_err(|e| err(format!("capabilities: {e}")))?;
    caps::securebits::set_keepcaps(false).map_err(|e| err(format!("keepcaps: {e}")))?;
    unistd::access(writable, AccessFlags::W_OK).map_err(|e| {
        err(format!(
            "{} is not writable by {user} ({e}): the journal is compacted there; \
             chown it to {user}",
            writable.display()
        ))
    })?;
    tracing::info!("running as {user} (uid {}), keeping {:?}", u.uid, keep);
    Ok(())
}
