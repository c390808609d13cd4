//! Classless static routes (121, RFC 3442).

use core::fmt;
use core::net::Ipv4Addr;

use super::bad_len;
use crate::wire::code::OptionCode;
use crate::wire::data::OptionData;
use crate::wire::error::{Expected, OptionError, Reason};

/// One classless route: a destination prefix and the router to reach it through
/// (0.0.0.0 means the destination is on the link).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route {
    /// The destination network, bits past the prefix length zero.
    pub destination: Ipv4Addr,
    /// The destination's prefix length, 0..=32.
    pub prefix_len: u8,
    /// The next hop.
    pub router: Ipv4Addr,
}

impl Route {
    /// Bytes this route takes on the wire: width, significant octets, router.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        1 + significant_octets(self.prefix_len) + 4
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} via {}",
            self.destination, self.prefix_len, self.router
        )
    }
}

#[inline]
pub(crate) fn significant_octets(prefix_len: u8) -> usize {
    usize::from(prefix_len).div_ceil(8)
}

#[inline]
pub(crate) fn mask(prefix_len: u8) -> u32 {
    match prefix_len {
        0 => 0,
        n => u32::MAX << (32 - u32::from(n.min(32))),
    }
}

/// A non-empty list of classless routes, in the order the server sent them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClasslessRoutes<'a> {
    data: OptionData<'a>,
}

impl<'a> ClasslessRoutes<'a> {
    /// Checks every route: prefix length at most 32, and the bytes it needs all present.
    #[inline]
    pub fn new(code: OptionCode, data: OptionData<'a>) -> Result<Self, OptionError> {
        if data.len() < 5 {
            return Err(bad_len(code, &data, Expected::AtLeast(5)));
        }
        let mut pos = 0;
        while let Some(width) = data.get(pos) {
            if width > 32 {
                return Err(OptionError::BadValue {
                    code,
                    what: Reason::ROUTE_PREFIX_LENGTH_OVER_32,
                });
            }
            pos += 1 + significant_octets(width) + 4;
        }
        if pos != data.len() {
            return Err(OptionError::BadValue {
                code,
                what: Reason::ROUTE_RUNS_PAST_THE_END_OF_THE_OPTION,
            });
        }
        Ok(ClasslessRoutes { data })
    }

    /// The routes in order.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = Route> + 'a {
        let mut bytes = self.data.bytes();
        core::iter::from_fn(move || {
            let prefix_len = bytes.next()?;
            let mut dest = [0u8; 4];
            for slot in dest.iter_mut().take(significant_octets(prefix_len)) {
                *slot = bytes.next()?;
            }
            let destination = Ipv4Addr::from(u32::from_be_bytes(dest) & mask(prefix_len));
            let router = Ipv4Addr::from(bytes.take_array::<4>()?);
            Some(Route {
                destination,
                prefix_len,
                router,
            })
        })
    }
}

/// Classless static routes (121, RFC 3442) to write; destination bits past each prefix are
/// dropped. At least one route, prefix lengths at most 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteList<'r>(pub &'r [Route]);

impl super::Encode for RouteList<'_> {
    const CODE: OptionCode = OptionCode::CLASSLESS_ROUTES;

    #[inline]
    fn wire_len(&self) -> Result<usize, crate::wire::EmitError> {
        let routes = self.0;
        if routes.is_empty() || routes.iter().any(|r| r.prefix_len > 32) {
            return Err(super::bad_value(
                Self::CODE,
                Reason::ROUTES_MUST_HAVE_PREFIX_LENGTHS_OF_AT_MOST_32_AT_LEAST_ONE_ROUTE,
            ));
        }
        Ok(routes.iter().map(Route::encoded_len).sum())
    }

    #[inline]
    fn emit(&self, w: &mut crate::wire::ValueWriter<'_, '_>) -> Result<(), crate::wire::EmitError> {
        self.0.iter().try_for_each(|r| {
            let dest = (u32::from(r.destination) & mask(r.prefix_len)).to_be_bytes();
            w.put(&[r.prefix_len])?;
            w.put(&dest[..significant_octets(r.prefix_len)])?;
            w.put(&r.router.octets())
        })
    }
}
