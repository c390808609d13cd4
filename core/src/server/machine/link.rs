//! Shared networks: several subnets on one link (one interface, or one relay's `giaddr`).
//! A request selects a subnet by its link's address as always; when that subnet shares its
//! link, this says which of the link's subnets serves the request.

use super::*;

impl Server {
    /// The subnet of `selected`'s link that serves request `m` from `client` (of `kind`,
    /// `None` for BOOTP, in `classes`): the one holding the client's address, else the one
    /// holding its reservation, else for a REQUEST or an INFORM the one holding the
    /// address it names, else the first (in configuration order) with a free address in a
    /// pool open to its classes, else `selected`.
    #[cold]
    #[inline(never)]
    pub(super) fn serving_subnet(
        &self,
        selected: usize,
        m: &Message<'_>,
        client: &ClientKey,
        kind: Option<MessageType>,
        classes: &ClassSet,
    ) -> usize {
        let link = self.subnets[selected].link;
        let on_link = |i: &usize| self.subnets.get(*i).is_some_and(|s| s.link == link);
        let holding = |a: Ipv4Addr| {
            (0..self.subnets.len())
                .filter(on_link)
                .find(|&i| self.subnets[i].net.contains(a))
        };
        // The subnet of the client's address, unless the client's classes no longer open
        // that address's pool to it (then it starts over where a pool is open to it).
        if let Some(a) = self.client_of(client) {
            let open = |i: &usize| self.subnets[*i].admits_address(a, classes);
            if let Some(i) = holding(Ipv4Addr::from(a)).filter(open) {
                return i;
            }
        }
        let relay = m.relay_agent_info().ok().flatten();
        let reserved = (0..self.subnets.len())
            .filter(on_link)
            .find(|&i| self.reservation_of(i, m, relay.as_ref()).is_some());
        if let Some(i) = reserved {
            return i;
        }
        if matches!(kind, Some(MessageType::Request | MessageType::Inform)) {
            let named = m
                .requested_ip()
                .ok()
                .flatten()
                .or(Some(m.ciaddr()).filter(|a| !a.is_unspecified()));
            if let Some(i) = named.and_then(holding) {
                return i;
            }
        }
        (0..self.subnets.len())
            .filter(on_link)
            .find(|&i| {
                let s = &self.subnets[i];
                s.pools
                    .iter()
                    .enumerate()
                    .any(|(p, pool)| s.admits(p, classes) && pool.free() > 0)
            })
            .unwrap_or(selected)
    }
}
