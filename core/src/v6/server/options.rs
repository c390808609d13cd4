//! [`Options6`]: DHCPv6 option values a server sends, by code, encoded once when the
//! configuration is built (through the wire builder, so there is one set of encoders).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::Ipv6Addr;

use crate::v6::wire::{EmitError, MessageBuilder, NtpServerSpec, OptionCode};

/// Option values by code, each already in wire form (the option's value, without its
/// code and length).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options6 {
    values: BTreeMap<u16, Vec<u8>>,
}

/// Codes a server must not be configured to send: the ones the machine writes itself.
const MACHINE_OWNED: [OptionCode; 12] = [
    OptionCode::CLIENT_ID,
    OptionCode::SERVER_ID,
    OptionCode::IA_NA,
    OptionCode::IA_TA,
    OptionCode::IA_ADDR,
    OptionCode::ORO,
    OptionCode::PREFERENCE,
    OptionCode::ELAPSED_TIME,
    OptionCode::RELAY_MSG,
    OptionCode::STATUS_CODE,
    OptionCode::RAPID_COMMIT,
    OptionCode::IA_PD,
];

impl Options6 {
    /// Sets option `code` to `value` (raw wire bytes). Refuses the codes the machine
    /// writes itself (client and server id, IAs, status, preference, rapid commit...).
    pub fn set_raw(&mut self, code: OptionCode, value: Vec<u8>) -> Result<(), EmitError> {
        if MACHINE_OWNED.contains(&code) || code == OptionCode::IA_PREFIX {
            return Err(EmitError::BadValue {
                code,
                what: "the server writes this option itself",
            });
        }
        if value.len() > usize::from(u16::MAX) {
            return Err(EmitError::TooLong {
                code,
                len: value.len(),
            });
        }
        self.values.insert(code.0, value);
        Ok(())
    }

    /// Encodes one option with `write` and keeps its value.
    fn encode(
        &mut self,
        code: OptionCode,
        write: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), EmitError>,
    ) -> Result<(), EmitError> {
        let mut buf = alloc::vec![0u8; 4 + 4 + usize::from(u16::MAX)];
        let mut b = MessageBuilder::new(&mut buf, 0u8, 0)?;
        write(&mut b)?;
        let len = b.finish();
        self.set_raw(code, buf[8..len].to_vec())
    }

    /// DNS recursive name servers (23, RFC 3646).
    pub fn set_dns_servers(&mut self, list: &[Ipv6Addr]) -> Result<(), EmitError> {
        self.encode(OptionCode::DNS_SERVERS, |b| b.dns_servers(list).map(drop))
    }

    /// Domain search list (24, RFC 3646).
    pub fn set_domain_list(&mut self, names: &[&str]) -> Result<(), EmitError> {
        self.encode(OptionCode::DOMAIN_LIST, |b| b.domain_list(names).map(drop))
    }

    /// SNTP servers (31, RFC 4075).
    pub fn set_sntp_servers(&mut self, list: &[Ipv6Addr]) -> Result<(), EmitError> {
        self.encode(OptionCode::SNTP_SERVERS, |b| b.sntp_servers(list).map(drop))
    }

    /// NTP servers (56, RFC 5908): addresses and names.
    pub fn set_ntp_servers(&mut self, servers: &[NtpServerSpec<'_>]) -> Result<(), EmitError> {
        self.encode(OptionCode::NTP_SERVER, |b| b.ntp_servers(servers).map(drop))
    }

    /// Information refresh time (32, RFC 8415 section 21.23), seconds.
    pub fn set_information_refresh_time(&mut self, secs: u32) -> Result<(), EmitError> {
        self.encode(OptionCode::INFORMATION_REFRESH_TIME, |b| {
            b.information_refresh_time(secs).map(drop)
        })
    }

    /// SOL_MAX_RT (82, RFC 8415 section 21.24), seconds.
    pub fn set_sol_max_rt(&mut self, secs: u32) -> Result<(), EmitError> {
        self.encode(OptionCode::SOL_MAX_RT, |b| b.sol_max_rt(secs).map(drop))
    }

    /// INF_MAX_RT (83, RFC 8415 section 21.25), seconds.
    pub fn set_inf_max_rt(&mut self, secs: u32) -> Result<(), EmitError> {
        self.encode(OptionCode::INF_MAX_RT, |b| b.inf_max_rt(secs).map(drop))
    }

    /// The value of `code`, if set.
    pub fn get(&self, code: OptionCode) -> Option<&[u8]> {
        self.values.get(&code.0).map(Vec::as_slice)
    }

    /// Every option set, by code.
    pub fn iter(&self) -> impl Iterator<Item = (OptionCode, &[u8])> + '_ {
        self.values
            .iter()
            .map(|(c, v)| (OptionCode(*c), v.as_slice()))
    }

    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_in_wire_form_and_owned_codes_refused() {
        let mut o = Options6::default();
        o.set_dns_servers(&[Ipv6Addr::LOCALHOST]).expect("dns");
        assert_eq!(
            o.get(OptionCode::DNS_SERVERS),
            Some(&Ipv6Addr::LOCALHOST.octets()[..])
        );
        o.set_domain_list(&["example.com"]).expect("domains");
        assert_eq!(
            o.get(OptionCode::DOMAIN_LIST),
            Some(&b"\x07example\x03com\x00"[..])
        );
        o.set_information_refresh_time(600).expect("irt");
        assert_eq!(
            o.get(OptionCode::INFORMATION_REFRESH_TIME),
            Some(&600u32.to_be_bytes()[..])
        );
        assert!(o
            .set_raw(OptionCode::SERVER_ID, alloc::vec![1, 2, 3])
            .is_err());
        o.set_ntp_servers(&[
            NtpServerSpec::Address(Ipv6Addr::LOCALHOST),
            NtpServerSpec::Name("ntp.example"),
        ])
        .expect("ntp");
        let ntp = crate::v6::wire::typed::NtpServers::parse(o.get(OptionCode::NTP_SERVER).unwrap())
            .unwrap();
        assert_eq!(ntp.iter().count(), 2);
        assert_eq!(o.iter().count(), 4);
    }
}
