//! Which subnet serves a message (RFC 8415 section 13.1): a relayed message by the link
//! address of the relay closest to the client, else (a link address of `::`, or one no
//! subnet holds) by that relay's interface id; a direct one by the interface it came in
//! on, or, with a single subnet that names no interface, by that subnet.

use super::*;

impl Server6 {
    /// The index of the subnet serving the client's link, if any.
    pub(super) fn link_of(&self, meta: &RecvMeta6, relayed: &Relayed<'_>) -> Option<usize> {
        let subnets = &self.config.subnets;
        match relayed.innermost_relay() {
            Some(relay) => {
                let link = relay.link_address();
                let by_address = (!link.is_unspecified())
                    .then(|| subnets.iter().position(|s| s.prefix.contains(link)))
                    .flatten();
                by_address.or_else(|| {
                    let id = relay.interface_id()?;
                    subnets
                        .iter()
                        .position(|s| s.interface_id.as_deref() == Some(id))
                })
            }
            None => subnets
                .iter()
                .position(|s| s.interface == Some(meta.interface))
                .or_else(|| (subnets.len() == 1 && subnets[0].interface.is_none()).then_some(0)),
        }
    }
}
