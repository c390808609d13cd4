//! DHCPv6 client classes: what a request matches ([`Match6`]), tested once per request in
//! configuration order, and the options a class's members get.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::config::Ipv6Net;
use super::options::Options6;
use crate::v6::wire::{Message, OptionCode, RelayMessage};

/// Most classes a configuration may have (a request's membership is one 64-bit set).
pub const MAX_CLASSES6: usize = 64;

/// Deepest nesting of `all` / `any` / `not`.
pub const MAX_DEPTH6: usize = 16;

/// A DHCPv6 client class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class6Config {
    /// Its name (unique).
    pub name: String,
    /// What a request must match to be in it.
    pub matches: Match6,
    /// Options for its members: over the subnet's, under a pool's and a reservation's.
    pub options: Options6,
}

/// What a request matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match6 {
    /// The vendor class (16): its enterprise number when given, and one of its data items
    /// equal to `data` when given.
    VendorClass {
        /// The enterprise number to match.
        enterprise: Option<u32>,
        /// A vendor-class-data item to match.
        data: Option<Vec<u8>>,
    },
    /// One of the user class (15) items equals this.
    UserClass(Vec<u8>),
    /// The client's DUID starts with these bytes.
    DuidPrefix(Vec<u8>),
    /// The client's link-layer address (a relay's option 79, else the DUID's) starts with
    /// these bytes (an OUI, say).
    MacPrefix(Vec<u8>),
    /// The remote id (37) of the relay closest to the client (after its enterprise number)
    /// equals this.
    RemoteId(Vec<u8>),
    /// The interface id (18) of the relay closest to the client equals this.
    InterfaceId(Vec<u8>),
    /// The relay closest to the client has its link address in this prefix.
    Relay(Ipv6Net),
    /// The client's message carries this option.
    HasOption(u16),
    /// The request is in an earlier class (by index).
    Class(usize),
    /// Every one of these.
    All(Vec<Match6>),
    /// At least one of these.
    Any(Vec<Match6>),
    /// Not this.
    Not(Box<Match6>),
}

/// What a class test reads of a request.
pub(crate) struct Subject<'a, 'm> {
    pub(crate) msg: &'m Message<'a>,
    pub(crate) relay: Option<&'m RelayMessage<'a>>,
    pub(crate) duid: &'a [u8],
    pub(crate) hw: Option<&'a [u8]>,
    pub(crate) remote_id: Option<&'a [u8]>,
}

/// The length-prefixed items (two-byte lengths) of option 15's value or option 16's after
/// its enterprise number; a malformed tail ends the walk.
fn items(mut data: &[u8]) -> impl Iterator<Item = &[u8]> {
    core::iter::from_fn(move || {
        let len = usize::from(u16::from_be_bytes([*data.first()?, *data.get(1)?]));
        let item = data.get(2..2 + len)?;
        data = &data[2 + len..];
        Some(item)
    })
}

impl Match6 {
    /// Whether `s` matches, `earlier` being the classes it is already in.
    pub(crate) fn test(&self, s: &Subject<'_, '_>, earlier: u64) -> bool {
        match self {
            Match6::VendorClass { enterprise, data } => {
                let Some(v) = s.msg.option(OptionCode::VENDOR_CLASS) else {
                    return false;
                };
                let Some(e) = v.get(..4) else { return false };
                let e = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
                enterprise.is_none_or(|want| want == e)
                    && data
                        .as_ref()
                        .is_none_or(|d| items(&v[4..]).any(|i| i == d.as_slice()))
            }
            Match6::UserClass(want) => s
                .msg
                .option(OptionCode::USER_CLASS)
                .is_some_and(|v| items(v).any(|i| i == want.as_slice())),
            Match6::DuidPrefix(p) => s.duid.starts_with(p),
            Match6::MacPrefix(p) => s.hw.is_some_and(|h| h.starts_with(p)),
            Match6::RemoteId(r) => s.remote_id == Some(r.as_slice()),
            Match6::InterfaceId(i) => s
                .relay
                .is_some_and(|r| r.interface_id() == Some(i.as_slice())),
            Match6::Relay(net) => s.relay.is_some_and(|r| net.contains(r.link_address())),
            Match6::HasOption(code) => s.msg.option(OptionCode(*code)).is_some(),
            Match6::Class(i) => *i < 64 && earlier & (1 << i) != 0,
            Match6::All(all) => all.iter().all(|m| m.test(s, earlier)),
            Match6::Any(any) => any.iter().any(|m| m.test(s, earlier)),
            Match6::Not(m) => !m.test(s, earlier),
        }
    }

    /// What is wrong with it as class `index`'s match, if anything.
    pub(crate) fn check(&self, index: usize, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH6 {
            return Some(alloc::format!("nested deeper than {MAX_DEPTH6}"));
        }
        match self {
            Match6::Class(i) if *i >= index => Some(alloc::format!(
                "refers to class {} which is not before it (classes are tested in order)",
                i + 1
            )),
            Match6::All(v) | Match6::Any(v) if v.is_empty() => {
                Some(String::from("an empty all / any"))
            }
            Match6::All(v) | Match6::Any(v) => v.iter().find_map(|m| m.check(index, depth + 1)),
            Match6::Not(m) => m.check(index, depth + 1),
            Match6::VendorClass {
                enterprise: None,
                data: None,
            } => Some(String::from(
                "a vendor class match needs an enterprise or data",
            )),
            Match6::DuidPrefix(p) | Match6::MacPrefix(p) if p.is_empty() => {
                Some(String::from("an empty prefix"))
            }
            _ => None,
        }
    }
}

/// The classes `s` is in, as a set of indexes.
pub(crate) fn classify(classes: &[Class6Config], s: &Subject<'_, '_>) -> u64 {
    let mut set = 0u64;
    for (i, c) in classes.iter().enumerate().take(MAX_CLASSES6) {
        if c.matches.test(s, set) {
            set |= 1 << i;
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_stop_at_a_malformed_tail() {
        let v = [0, 2, b'a', b'b', 0, 1, b'c', 0, 9, b'x'];
        let got: Vec<&[u8]> = items(&v).collect();
        assert_eq!(got, [&b"ab"[..], &b"c"[..]]);
    }
}
