//! [`MacAddress`]: a 48-bit hardware address.

use std::fmt;
use std::str::FromStr;

/// A 48-bit Ethernet hardware address (`chaddr` of an Ethernet client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddress([u8; 6]);

impl MacAddress {
    /// The address with these six bytes.
    pub const fn new(bytes: [u8; 6]) -> Self {
        MacAddress(bytes)
    }

    /// The six bytes.
    pub const fn to_array(self) -> [u8; 6] {
        self.0
    }

    /// The six bytes, borrowed.
    pub fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }
}

impl From<[u8; 6]> for MacAddress {
    fn from(bytes: [u8; 6]) -> Self {
        MacAddress(bytes)
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// A MAC address that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a MAC address (six hex bytes separated by ':' or '-')")]
pub struct BadMacAddress(pub String);

impl FromStr for MacAddress {
    type Err = BadMacAddress;

    /// `00:11:22:33:44:55` or `00-11-22-33-44-55`, either case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadMacAddress(s.to_string());
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in &mut out {
            let p = parts.next().ok_or_else(bad)?;
            if p.len() != 2 {
                return Err(bad());
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(MacAddress(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let m: MacAddress = "00:11:22:aa:BB:cc".parse().unwrap();
        assert_eq!(m.to_array(), [0, 0x11, 0x22, 0xaa, 0xbb, 0xcc]);
        assert_eq!(m.to_string(), "00:11:22:aa:bb:cc");
        assert_eq!("00-11-22-aa-bb-cc".parse::<MacAddress>().unwrap(), m);
        for bad in [
            "",
            "00:11:22:33:44",
            "00:11:22:33:44:55:66",
            "0:11:22:33:44:55",
            "zz:11:22:33:44:55",
        ] {
            assert!(bad.parse::<MacAddress>().is_err(), "{bad}");
        }
    }
}
