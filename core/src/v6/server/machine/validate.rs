//! RFC 8415 section 16: which messages a server drops, and section 18.3.2's unicast rule.

use super::*;
use crate::v6::wire::typed::DuidKind;
use crate::v6::wire::OptionCode;

/// Most option codes of an option request answered.
const MAX_ORO: usize = 64;

/// What the machine reads of a message it keeps, once.
#[derive(Debug, Clone, Copy)]
pub(super) struct Request<'a> {
    /// The client's DUID (empty for an INFORMATION-REQUEST without one).
    pub(super) duid: &'a [u8],
    /// The client's link-layer address: a relay's option 79, else the DUID's.
    pub(super) hw: Option<&'a [u8]>,
    /// The remote id (37) of the relay closest to the client, after its enterprise
    /// number.
    pub(super) remote_id: Option<&'a [u8]>,
    /// The option request's codes, as their wire bytes (two a code).
    pub(super) oro: &'a [u8],
    /// Whether the client asked for rapid commit.
    pub(super) rapid_commit: bool,
    /// The classes it is in (bit `i`: class `i`).
    pub(super) classes: u64,
}

/// REQUEST, RENEW, RELEASE and DECLINE sent by unicast to a server that has not sent a
/// server unicast option (this one never does) are answered with UseMulticast.
pub(super) fn needs_multicast(kind: MessageType) -> bool {
    matches!(
        kind,
        MessageType::Request | MessageType::Renew | MessageType::Release | MessageType::Decline
    )
}

/// SOLICIT, CONFIRM, REBIND and INFORMATION-REQUEST: a server discards them when they
/// come by unicast (RFC 8415 section 16).
pub(super) fn multicast_only(kind: MessageType) -> bool {
    matches!(
        kind,
        MessageType::Solicit
            | MessageType::Confirm
            | MessageType::Rebind
            | MessageType::InformationRequest
    )
}

/// What section 16 says of the server id for a message type.
enum ServerIdRule {
    /// Must be absent (SOLICIT, CONFIRM, REBIND).
    Absent,
    /// Must be present and ours (REQUEST, RENEW, DECLINE, RELEASE).
    Ours,
    /// May be absent; if present, must be ours (INFORMATION-REQUEST).
    OursIfPresent,
}

impl Server6 {
    /// Applies section 16's checks; the request as the machine reads it, or why it is
    /// dropped.
    pub(super) fn check<'a>(
        &self,
        kind: MessageType,
        relayed: &Relayed<'a>,
    ) -> Result<Request<'a>, DropReason6> {
        let msg = &relayed.message;
        let rule = match kind {
            MessageType::Solicit | MessageType::Confirm | MessageType::Rebind => {
                ServerIdRule::Absent
            }
            MessageType::Request
            | MessageType::Renew
            | MessageType::Decline
            | MessageType::Release => ServerIdRule::Ours,
            MessageType::InformationRequest => ServerIdRule::OursIfPresent,
            _ => return Err(DropReason6::NotForServer),
        };
        let client = msg.client_id().map_err(|_| DropReason6::Malformed)?;
        let server = msg.server_id().map_err(|_| DropReason6::Malformed)?;
        match (rule, server) {
            (ServerIdRule::Absent, Some(_)) => return Err(DropReason6::UnexpectedServerId),
            (ServerIdRule::Ours, None) => return Err(DropReason6::NoServerId),
            (ServerIdRule::Ours | ServerIdRule::OursIfPresent, Some(s))
                if s.as_bytes() != self.config.server_duid.as_slice() =>
            {
                return Err(DropReason6::NotOurServerId)
            }
            _ => {}
        }
        if client.is_none() && kind != MessageType::InformationRequest {
            return Err(DropReason6::NoClientId);
        }
        if kind == MessageType::InformationRequest {
            let has_ia = [OptionCode::IA_NA, OptionCode::IA_TA, OptionCode::IA_PD]
                .iter()
                .any(|c| msg.option(*c).is_some());
            if has_ia {
                return Err(DropReason6::IaInInformationRequest);
            }
        }
        let relay_hw = relayed
            .innermost_relay()
            .and_then(|r| r.client_link_layer_address().ok().flatten())
            .map(|l| l.address);
        let duid_hw = client.and_then(|d| match d.kind() {
            DuidKind::LinkLayerTime { address, .. } | DuidKind::LinkLayer { address, .. } => {
                Some(address)
            }
            _ => None,
        });
        let remote_id = relayed
            .innermost_relay()
            .and_then(|r| r.remote_id().ok().flatten())
            .map(|r| r.id);
        let oro = msg.option(OptionCode::ORO).unwrap_or(&[]);
        let duid = client.map_or(&[][..], |d| d.as_bytes());
        let hw = relay_hw.or(duid_hw);
        let classes = if self.config.classes.is_empty() {
            0
        } else {
            let subject = crate::v6::server::class::Subject {
                msg,
                relay: relayed.innermost_relay(),
                duid,
                hw,
                remote_id,
            };
            crate::v6::server::class::classify(&self.config.classes, &subject)
        };
        Ok(Request {
            duid,
            hw,
            remote_id,
            oro: &oro[..(oro.len() & !1).min(2 * MAX_ORO)],
            rapid_commit: msg.rapid_commit().unwrap_or(false),
            classes,
        })
    }
}
