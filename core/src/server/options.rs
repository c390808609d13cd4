//! [`OptionSet`]: option values a server hands out, encoded once when the config is made.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use crate::wire::typed::Route;
use crate::wire::{EmitError, Message, MessageBuilder, OptionCode};

/// Option values by code, each already in wire form (RFC 3396 splitting happens when a
/// reply is written). Typed setters check and encode; [`OptionSet::raw`] takes any code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionSet {
    values: BTreeMap<u8, Vec<u8>>,
}

/// Encodes one option through the message builder and reads its value back, so that the
/// typed encoders (and their checks) exist once, in `wire`.
fn encode(
    code: OptionCode,
    write: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), EmitError>,
) -> Result<Vec<u8>, EmitError> {
    let mut buf = alloc::vec![0u8; 4096];
    let mut b = MessageBuilder::new(&mut buf)?;
    b.pad_to(0);
    write(&mut b)?;
    let len = b.finish()?;
    let value = Message::parse(&buf[..len])
        .ok()
        .and_then(|m| m.option(code))
        .map(|d| d.bytes().collect())
        .unwrap_or_default();
    Ok(value)
}

impl OptionSet {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `code`, if set.
    pub fn get(&self, code: OptionCode) -> Option<&[u8]> {
        self.values.get(&code.0).map(Vec::as_slice)
    }

    /// Every option, by code.
    pub fn iter(&self) -> impl Iterator<Item = (OptionCode, &[u8])> {
        self.values
            .iter()
            .map(|(c, v)| (OptionCode(*c), v.as_slice()))
    }

    /// Whether no option is set.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Options of `self`, then those of `base` that `self` does not set.
    pub fn over(&self, base: &OptionSet) -> OptionSet {
        let mut values = base.values.clone();
        values.extend(self.values.iter().map(|(c, v)| (*c, v.clone())));
        OptionSet { values }
    }

    fn set(&mut self, code: OptionCode, value: Vec<u8>) -> &mut Self {
        self.values.insert(code.0, value);
        self
    }

    /// Any option by code, value as it goes on the wire. Pad, end, and the codes the server
    /// writes itself (50-59, 61, 82) are refused.
    pub fn raw(&mut self, code: u8, value: &[u8]) -> Result<&mut Self, EmitError> {
        // 50 to 59: requested address, lease time, overload, message type, server id,
        // parameter list, message, maximum size, T1, T2.
        let written_by_server = (OptionCode::REQUESTED_IP.0..=OptionCode::REBINDING_TIME.0)
            .contains(&code)
            || matches!(
                OptionCode(code),
                OptionCode::PAD
                    | OptionCode::END
                    | OptionCode::CLIENT_ID
                    | OptionCode::RELAY_AGENT_INFO
            );
        if written_by_server {
            return Err(EmitError::ReservedCode(code));
        }
        Ok(self.set(OptionCode(code), value.to_vec()))
    }

    /// Routers (3).
    pub fn routers(&mut self, list: &[Ipv4Addr]) -> Result<&mut Self, EmitError> {
        let v = encode(OptionCode::ROUTERS, |b| b.routers(list).map(drop))?;
        Ok(self.set(OptionCode::ROUTERS, v))
    }

    /// Domain name servers (6).
    pub fn dns_servers(&mut self, list: &[Ipv4Addr]) -> Result<&mut Self, EmitError> {
        let v = encode(OptionCode::DNS_SERVERS, |b| b.dns_servers(list).map(drop))?;
        Ok(self.set(OptionCode::DNS_SERVERS, v))
    }

    /// Domain name (15).
    pub fn domain_name(&mut self, name: &str) -> Result<&mut Self, EmitError> {
        let v = encode(OptionCode::DOMAIN_NAME, |b| {
            b.domain_name(name.as_bytes()).map(drop)
        })?;
        Ok(self.set(OptionCode::DOMAIN_NAME, v))
    }

    /// Domain search list (119).
    pub fn domain_search(&mut self, names: &[&str]) -> Result<&mut Self, EmitError> {
        let v = encode(OptionCode::DOMAIN_SEARCH, |b| {
            b.domain_search(names).map(drop)
        })?;
        Ok(self.set(OptionCode::DOMAIN_SEARCH, v))
    }

    /// NTP servers (42).
    pub fn ntp_servers(&mut self, list: &[Ipv4Addr]) -> Result<&mut Self, EmitError> {
        let v = encode(OptionCode::NTP_SERVERS, |b| b.ntp_servers(list).map(drop))?;
        Ok(self.set(OptionCode::NTP_SERVERS, v))
    }

    /// Interface MTU (26).
    pub fn mtu(&mut self, mtu: u16) -> Result<&mut Self, EmitError> {
        let v = encode(OptionCode::MTU, |b| b.mtu(mtu).map(drop))?;
        Ok(self.set(OptionCode::MTU, v))
    }

    /// Broadcast address (28).
    pub fn broadcast_address(&mut self, a: Ipv4Addr) -> Result<&mut Self, EmitError> {
        Ok(self.set(OptionCode::BROADCAST, a.octets().to_vec()))
    }

    /// Classless static routes (121).
    pub fn classless_routes(&mut self, routes: &[Route]) -> Result<&mut Self, EmitError> {
        let v = encode(OptionCode::CLASSLESS_ROUTES, |b| {
            b.classless_routes(routes).map(drop)
        })?;
        Ok(self.set(OptionCode::CLASSLESS_ROUTES, v))
    }

    /// Captive portal URI (114).
    pub fn captive_portal(&mut self, uri: &str) -> Result<&mut Self, EmitError> {
        let v = encode(OptionCode::CAPTIVE_PORTAL, |b| {
            b.captive_portal(uri.as_bytes()).map(drop)
        })?;
        Ok(self.set(OptionCode::CAPTIVE_PORTAL, v))
    }

    /// IPv6-only preferred (108): V6ONLY_WAIT in seconds.
    pub fn ipv6_only_wait(&mut self, secs: u32) -> Result<&mut Self, EmitError> {
        Ok(self.set(OptionCode::IPV6_ONLY_PREFERRED, secs.to_be_bytes().to_vec()))
    }

    /// Vendor-identifying vendor options (125, RFC 3925): per enterprise number, its
    /// already-encoded sub-options.
    pub fn vendor_identifying(&mut self, blocks: &[(u32, &[u8])]) -> Result<&mut Self, EmitError> {
        let code = OptionCode::VENDOR_IDENTIFYING_OPTIONS;
        let v = encode(code, |b| b.vendor_identifying(blocks).map(drop))?;
        Ok(self.set(code, v))
    }

    /// Host name (12).
    pub fn host_name(&mut self, name: &str) -> Result<&mut Self, EmitError> {
        let v = encode(OptionCode::HOST_NAME, |b| {
            b.host_name(name.as_bytes()).map(drop)
        })?;
        Ok(self.set(OptionCode::HOST_NAME, v))
    }
}

/// An [`OptionSet`] laid out for the reply path: one table read finds a value.
#[derive(Debug, Clone)]
pub(crate) struct OptionTable {
    /// Per code: where its value is in `arena` (start, length); length 0 with start
    /// `u32::MAX` means absent.
    spans: [(u32, u16); 256],
    arena: Vec<u8>,
    /// The codes set, in order.
    codes: Vec<u8>,
}

impl OptionTable {
    pub(crate) fn new(set: &OptionSet) -> Self {
        let mut t = OptionTable {
            spans: [(u32::MAX, 0); 256],
            arena: Vec::new(),
            codes: Vec::new(),
        };
        for (code, value) in set.iter() {
            let start = t.arena.len() as u32;
            t.arena.extend_from_slice(value);
            t.spans[usize::from(code.0)] = (start, value.len() as u16);
            t.codes.push(code.0);
        }
        t
    }

    #[inline]
    pub(crate) fn get(&self, code: u8) -> Option<&[u8]> {
        let (start, len) = self.spans[usize::from(code)];
        if start == u32::MAX {
            return None;
        }
        let start = start as usize;
        self.arena.get(start..start + usize::from(len))
    }

    pub(crate) fn codes(&self) -> &[u8] {
        &self.codes
    }
}
