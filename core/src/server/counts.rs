//! [`Counts`]: offers held, and leases bound in all, per subnet and per pool, kept up to date as
//! bindings change, so that a metrics refresh reads them instead of scanning the table
//! (at a million leases a scan is tens of milliseconds of the serving thread).

use alloc::vec::Vec;

use crate::lease::table::BindingState;

/// Offers held, and bound leases by subnet and by pool.
#[derive(Debug)]
pub(crate) struct Counts {
    /// Bindings in the `Offered` state.
    pub(crate) offered: usize,
    /// Bound leases, those a reload left without a subnet included.
    pub(crate) leases: u64,
    /// Per subnet (by index): its bound leases, reservations outside its pools included,
    /// and those in each of its pools (by index).
    bound: Vec<(u64, Vec<u64>)>,
}

impl Counts {
    /// Zero everywhere, for subnets with `pools[i]` pools each.
    pub(crate) fn new(pools: impl Iterator<Item = usize>) -> Self {
        Counts {
            offered: 0,
            leases: 0,
            bound: pools.map(|n| (0, alloc::vec![0; n])).collect(),
        }
    }

    /// A binding in subnet `subnet` (an index, or one with no subnet any more, which is
    /// not counted) and pool `pool` (`None`: outside the pools) went from `old` to `new`
    /// (`None`: no binding).
    #[inline]
    pub(crate) fn change(
        &mut self,
        subnet: u16,
        pool: impl FnOnce() -> Option<usize>,
        old: Option<BindingState>,
        new: Option<BindingState>,
    ) {
        if old == new {
            return;
        }
        if old == Some(BindingState::Offered) {
            self.offered = self.offered.saturating_sub(1);
        }
        if new == Some(BindingState::Offered) {
            self.offered += 1;
        }
        let bound = match (old, new) {
            (_, Some(BindingState::Bound)) => true,
            (Some(BindingState::Bound), _) => false,
            _ => return,
        };
        self.leases = if bound {
            self.leases + 1
        } else {
            self.leases.saturating_sub(1)
        };
        let Some((all, pools)) = self.bound.get_mut(usize::from(subnet)) else {
            return;
        };
        let n = pool().and_then(|p| pools.get_mut(p));
        for count in core::iter::once(all).chain(n) {
            *count = if bound {
                *count + 1
            } else {
                count.saturating_sub(1)
            };
        }
    }

    /// Bound leases in subnet `subnet`.
    pub(crate) fn bound(&self, subnet: usize) -> u64 {
        self.bound.get(subnet).map_or(0, |(all, _)| *all)
    }

    /// Bound leases in pool `pool` of subnet `subnet`.
    pub(crate) fn pool_bound(&self, subnet: usize, pool: usize) -> u64 {
        self.bound
            .get(subnet)
            .and_then(|(_, pools)| pools.get(pool))
            .map_or(0, |n| *n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use BindingState::*;

    #[test]
    fn counts_follow_each_change_and_ignore_what_has_no_subnet() {
        let mut c = Counts::new([2, 1].into_iter());
        c.change(0, || Some(1), None, Some(Offered));
        assert_eq!((c.offered, c.bound(0)), (1, 0));
        c.change(0, || Some(1), Some(Offered), Some(Bound));
        assert_eq!((c.offered, c.bound(0), c.pool_bound(0, 1)), (0, 1, 1));
        c.change(0, || None, None, Some(Bound)); // a reservation outside the pools
        assert_eq!(
            (c.bound(0), c.pool_bound(0, 0), c.pool_bound(0, 1)),
            (2, 0, 1)
        );
        c.change(0, || Some(1), Some(Bound), Some(Bound)); // a renewal
        assert_eq!(c.bound(0), 2);
        c.change(0, || Some(1), Some(Bound), Some(Recent));
        assert_eq!((c.bound(0), c.pool_bound(0, 1)), (1, 0));
        c.change(u16::MAX, || Some(0), None, Some(Bound));
        assert_eq!((c.bound(0), c.bound(1), c.leases), (1, 0, 2));
    }
}
