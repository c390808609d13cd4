//! [`MessageBuilder`]: writes a DHCPv6 message or relay message into the caller's buffer,
//! options nested as deep as they go, and returns its length. A buffer too small for what
//! is being written is an error, and what was being written is taken back.

use core::net::Ipv6Addr;

use super::code::{MessageType, OptionCode, Status};
use super::error::EmitError;
use super::message::{HEADER_LEN, RELAY_HEADER_LEN};

/// An NTP server as [`MessageBuilder::ntp_servers`] writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NtpServerSpec<'s> {
    /// A server's address (sub-option 1).
    Address(Ipv6Addr),
    /// A server's dotted name (sub-option 3).
    Name(&'s str),
}

/// Writes one DHCPv6 message into a caller's buffer.
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> MessageBuilder<'b> {
    /// A client or server message of type `kind` (a [`MessageType`], or any type byte)
    /// with transaction id `transaction_id` (its low 24 bits).
    pub fn new(
        buf: &'b mut [u8],
        kind: impl Into<u8>,
        transaction_id: u32,
    ) -> Result<Self, EmitError> {
        let mut b = MessageBuilder { buf, pos: 0 };
        let x = transaction_id.to_be_bytes();
        b.put(&[kind.into(), x[1], x[2], x[3]])?;
        debug_assert_eq!(b.pos, HEADER_LEN);
        Ok(b)
    }

    /// A relay message (RELAY-FORW or RELAY-REPL) with its header.
    pub fn relay(
        buf: &'b mut [u8],
        kind: MessageType,
        hop_count: u8,
        link_address: Ipv6Addr,
        peer_address: Ipv6Addr,
    ) -> Result<Self, EmitError> {
        let mut b = MessageBuilder { buf, pos: 0 };
        b.put(&[kind as u8, hop_count])?;
        b.put(&link_address.octets())?;
        b.put(&peer_address.octets())?;
        debug_assert_eq!(b.pos, RELAY_HEADER_LEN);
        Ok(b)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), EmitError> {
        let end = self.pos + bytes.len();
        let Some(dst) = self.buf.get_mut(self.pos..end) else {
            return Err(EmitError::BufferTooSmall {
                needed: end - self.buf.len(),
            });
        };
        dst.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// Option `code` with `value`.
    pub fn option(&mut self, code: OptionCode, value: &[u8]) -> Result<&mut Self, EmitError> {
        let len = u16::try_from(value.len()).map_err(|_| EmitError::TooLong {
            code,
            len: value.len(),
        })?;
        let start = self.pos;
        let [c0, c1] = code.0.to_be_bytes();
        let [l0, l1] = len.to_be_bytes();
        let written = self.put(&[c0, c1, l0, l1]).and_then(|()| self.put(value));
        if let Err(e) = written {
            self.pos = start;
            return Err(e);
        }
        Ok(self)
    }

    /// Option `code` whose value is what `fill` writes: fixed fields with
    /// [`raw`](Self::raw), then options nested in it. On an error nothing of it stays.
    pub fn nested(
        &mut self,
        code: OptionCode,
        fill: impl FnOnce(&mut Self) -> Result<(), EmitError>,
    ) -> Result<&mut Self, EmitError> {
        let start = self.pos;
        let [c0, c1] = code.0.to_be_bytes();
        let written = self.put(&[c0, c1, 0, 0]).and_then(|()| fill(self));
        let len = self.pos.saturating_sub(start + 4);
        let result =
            written.and_then(|()| u16::try_from(len).map_err(|_| EmitError::TooLong { code, len }));
        match result {
            Ok(len) => {
                if let Some(at) = self.buf.get_mut(start + 2..start + 4) {
                    at.copy_from_slice(&len.to_be_bytes());
                }
                Ok(self)
            }
            Err(e) => {
                self.pos = start;
                Err(e)
            }
        }
    }

    /// Bytes written as they are, inside a [`nested`](Self::nested) option's value.
    pub fn raw(&mut self, bytes: &[u8]) -> Result<&mut Self, EmitError> {
        self.put(bytes)?;
        Ok(self)
    }

    /// The client's DUID (1).
    pub fn client_id(&mut self, duid: &[u8]) -> Result<&mut Self, EmitError> {
        self.duid(OptionCode::CLIENT_ID, duid)
    }

    /// The server's DUID (2).
    pub fn server_id(&mut self, duid: &[u8]) -> Result<&mut Self, EmitError> {
        self.duid(OptionCode::SERVER_ID, duid)
    }

    fn duid(&mut self, code: OptionCode, duid: &[u8]) -> Result<&mut Self, EmitError> {
        if !(3..=super::typed::Duid::MAX_LEN).contains(&duid.len()) {
            return Err(EmitError::BadValue {
                code,
                what: "a DUID is 3 to 130 bytes",
            });
        }
        self.option(code, duid)
    }

    /// An IA_NA (3) with what `fill` puts in it (addresses, a status code).
    pub fn ia_na(
        &mut self,
        iaid: u32,
        t1: u32,
        t2: u32,
        fill: impl FnOnce(&mut Self) -> Result<(), EmitError>,
    ) -> Result<&mut Self, EmitError> {
        self.ia(OptionCode::IA_NA, iaid, t1, t2, fill)
    }

    /// An IA_PD (25) with what `fill` puts in it (prefixes, a status code).
    pub fn ia_pd(
        &mut self,
        iaid: u32,
        t1: u32,
        t2: u32,
        fill: impl FnOnce(&mut Self) -> Result<(), EmitError>,
    ) -> Result<&mut Self, EmitError> {
        self.ia(OptionCode::IA_PD, iaid, t1, t2, fill)
    }

    fn ia(
        &mut self,
        code: OptionCode,
        iaid: u32,
        t1: u32,
        t2: u32,
        fill: impl FnOnce(&mut Self) -> Result<(), EmitError>,
    ) -> Result<&mut Self, EmitError> {
        self.nested(code, |b| {
            b.put(&iaid.to_be_bytes())?;
            b.put(&t1.to_be_bytes())?;
            b.put(&t2.to_be_bytes())?;
            fill(b)
        })
    }

    /// An IA_TA (4) with what `fill` puts in it.
    pub fn ia_ta(
        &mut self,
        iaid: u32,
        fill: impl FnOnce(&mut Self) -> Result<(), EmitError>,
    ) -> Result<&mut Self, EmitError> {
        self.nested(OptionCode::IA_TA, |b| {
            b.put(&iaid.to_be_bytes())?;
            fill(b)
        })
    }

    /// An address with its lifetimes (IA_ADDR, 5), inside an IA_NA or IA_TA.
    pub fn ia_address(
        &mut self,
        address: Ipv6Addr,
        preferred: u32,
        valid: u32,
        fill: impl FnOnce(&mut Self) -> Result<(), EmitError>,
    ) -> Result<&mut Self, EmitError> {
        self.nested(OptionCode::IA_ADDR, |b| {
            b.put(&address.octets())?;
            b.put(&preferred.to_be_bytes())?;
            b.put(&valid.to_be_bytes())?;
            fill(b)
        })
    }

    /// A prefix with its lifetimes (IA_PREFIX, 26), inside an IA_PD.
    pub fn ia_prefix(
        &mut self,
        preferred: u32,
        valid: u32,
        prefix_len: u8,
        prefix: Ipv6Addr,
        fill: impl FnOnce(&mut Self) -> Result<(), EmitError>,
    ) -> Result<&mut Self, EmitError> {
        if prefix_len > 128 {
            return Err(EmitError::BadValue {
                code: OptionCode::IA_PREFIX,
                what: "prefix length over 128",
            });
        }
        self.nested(OptionCode::IA_PREFIX, |b| {
            b.put(&preferred.to_be_bytes())?;
            b.put(&valid.to_be_bytes())?;
            b.put(&[prefix_len])?;
            b.put(&prefix.octets())?;
            fill(b)
        })
    }

    /// A status code (13) with a message for people.
    pub fn status(&mut self, status: Status, message: &str) -> Result<&mut Self, EmitError> {
        self.nested(OptionCode::STATUS_CODE, |b| {
            b.put(&status.0.to_be_bytes())?;
            b.put(message.as_bytes())
        })
    }

    /// The option request (6).
    pub fn option_request(&mut self, codes: &[OptionCode]) -> Result<&mut Self, EmitError> {
        self.nested(OptionCode::ORO, |b| {
            codes.iter().try_for_each(|c| b.put(&c.0.to_be_bytes()))
        })
    }

    /// The server's preference (7).
    pub fn preference(&mut self, preference: u8) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::PREFERENCE, &[preference])
    }

    /// Elapsed time (8), hundredths of a second.
    pub fn elapsed_time(&mut self, hundredths: u16) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::ELAPSED_TIME, &hundredths.to_be_bytes())
    }

    /// The message a relay passes on (9), already written.
    pub fn relay_message(&mut self, message: &[u8]) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::RELAY_MSG, message)
    }

    /// Rapid commit (14).
    pub fn rapid_commit(&mut self) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::RAPID_COMMIT, &[])
    }

    /// Interface id (18), as the relay names the interface.
    pub fn interface_id(&mut self, id: &[u8]) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::INTERFACE_ID, id)
    }

    /// Reconfigure accept (20).
    pub fn reconfigure_accept(&mut self) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::RECONF_ACCEPT, &[])
    }

    fn addresses(&mut self, code: OptionCode, list: &[Ipv6Addr]) -> Result<&mut Self, EmitError> {
        if list.is_empty() {
            return Err(EmitError::BadValue {
                code,
                what: "an empty address list",
            });
        }
        self.nested(code, |b| list.iter().try_for_each(|a| b.put(&a.octets())))
    }

    /// DNS recursive name servers (23).
    pub fn dns_servers(&mut self, list: &[Ipv6Addr]) -> Result<&mut Self, EmitError> {
        self.addresses(OptionCode::DNS_SERVERS, list)
    }

    /// SNTP servers (31).
    pub fn sntp_servers(&mut self, list: &[Ipv6Addr]) -> Result<&mut Self, EmitError> {
        self.addresses(OptionCode::SNTP_SERVERS, list)
    }

    /// Domain search list (24): dotted names, a trailing dot optional, each written fully
    /// qualified and uncompressed.
    pub fn domain_list(&mut self, names: &[&str]) -> Result<&mut Self, EmitError> {
        let code = OptionCode::DOMAIN_LIST;
        if names.is_empty() {
            return Err(EmitError::BadValue {
                code,
                what: "an empty search list",
            });
        }
        self.nested(code, |b| {
            names.iter().try_for_each(|n| {
                b.name(code, n.strip_suffix('.').unwrap_or(n))?;
                b.put(&[0])
            })
        })
    }

    /// NTP servers (56, RFC 5908): each a server address (sub-option 1) or a name
    /// (sub-option 3, written fully qualified and uncompressed).
    pub fn ntp_servers(&mut self, servers: &[NtpServerSpec<'_>]) -> Result<&mut Self, EmitError> {
        let code = OptionCode::NTP_SERVER;
        if servers.is_empty() {
            return Err(EmitError::BadValue {
                code,
                what: "no NTP server",
            });
        }
        self.nested(code, |b| {
            servers.iter().try_for_each(|s| match s {
                NtpServerSpec::Address(a) => b.option(OptionCode(1), &a.octets()).map(drop),
                NtpServerSpec::Name(n) => b
                    .nested(OptionCode(3), |b| {
                        b.name(code, n.strip_suffix('.').unwrap_or(n))?;
                        b.put(&[0])
                    })
                    .map(drop),
            })
        })
    }

    /// The labels of a dotted name, checked (1..=63 bytes a label, at most 255 in all),
    /// without the root label.
    fn name(&mut self, code: OptionCode, name: &str) -> Result<(), EmitError> {
        let bad = |what| EmitError::BadValue { code, what };
        if name.len() + 2 > super::typed::NAME_MAX_LEN {
            return Err(bad("domain name longer than 255 bytes"));
        }
        if name.is_empty() {
            return Ok(());
        }
        name.split('.').try_for_each(|label| {
            if label.is_empty() || label.len() > 63 {
                return Err(bad("domain labels must be 1..=63 bytes"));
            }
            self.put(&[label.len() as u8])?;
            self.put(label.as_bytes())
        })
    }

    /// Client FQDN (39, RFC 4704): flags and a name; a name ending in '.' is written fully
    /// qualified, else partial.
    pub fn client_fqdn(&mut self, flags: u8, name: &str) -> Result<&mut Self, EmitError> {
        let code = OptionCode::CLIENT_FQDN;
        self.nested(code, |b| {
            b.put(&[flags])?;
            match name.strip_suffix('.') {
                Some(full) => {
                    b.name(code, full)?;
                    b.put(&[0])
                }
                None => b.name(code, name),
            }
        })
    }

    fn seconds(&mut self, code: OptionCode, secs: u32) -> Result<&mut Self, EmitError> {
        self.option(code, &secs.to_be_bytes())
    }

    /// Information refresh time (32), seconds.
    pub fn information_refresh_time(&mut self, secs: u32) -> Result<&mut Self, EmitError> {
        self.seconds(OptionCode::INFORMATION_REFRESH_TIME, secs)
    }

    /// SOL_MAX_RT (82), seconds.
    pub fn sol_max_rt(&mut self, secs: u32) -> Result<&mut Self, EmitError> {
        self.seconds(OptionCode::SOL_MAX_RT, secs)
    }

    /// INF_MAX_RT (83), seconds.
    pub fn inf_max_rt(&mut self, secs: u32) -> Result<&mut Self, EmitError> {
        self.seconds(OptionCode::INF_MAX_RT, secs)
    }

    /// Relay agent remote id (37, RFC 4649).
    pub fn remote_id(&mut self, enterprise: u32, id: &[u8]) -> Result<&mut Self, EmitError> {
        self.nested(OptionCode::REMOTE_ID, |b| {
            b.put(&enterprise.to_be_bytes())?;
            b.put(id)
        })
    }

    /// Relay agent subscriber id (38, RFC 4580).
    pub fn subscriber_id(&mut self, id: &[u8]) -> Result<&mut Self, EmitError> {
        self.option(OptionCode::SUBSCRIBER_ID, id)
    }

    /// The client's link-layer address (79, RFC 6939).
    pub fn client_link_layer_address(
        &mut self,
        hardware_type: u16,
        address: &[u8],
    ) -> Result<&mut Self, EmitError> {
        self.nested(OptionCode::CLIENT_LINKLAYER_ADDR, |b| {
            b.put(&hardware_type.to_be_bytes())?;
            b.put(address)
        })
    }

    /// Ends the message; it is `buf[..len]`.
    pub fn finish(self) -> usize {
        self.pos
    }
}
