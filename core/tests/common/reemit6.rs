//! Re-emits a parsed DHCPv6 datagram through the builder: the header as read, every option
//! written again, the encapsulating ones (IA_NA, IA_TA, IA_PD, IA_ADDR, IA_PREFIX, and the
//! relay message) rebuilt through `nested` from what they hold, the rest as raw values.
//! The bytes must come out the same. Shared by the v6 property tests and a fuzz target.

use dhcp_core::v6::wire::{
    EmitError, MessageBuilder, OptionCode, Options, Packet, RawOption, MAX_RELAY_DEPTH,
};

/// Length of the fixed fields before the options nested in `code`, for the codes that
/// nest options.
fn fixed_len(code: OptionCode) -> Option<usize> {
    Some(match code {
        OptionCode::IA_NA | OptionCode::IA_PD => 12,
        OptionCode::IA_TA => 4,
        OptionCode::IA_ADDR => 24,
        OptionCode::IA_PREFIX => 25,
        _ => return None,
    })
}

fn options(
    b: &mut MessageBuilder<'_>,
    options: Options<'_>,
    depth: usize,
) -> Result<(), EmitError> {
    options.iter().try_for_each(|o| option(b, o, depth))
}

fn option(b: &mut MessageBuilder<'_>, o: RawOption<'_>, depth: usize) -> Result<(), EmitError> {
    if let Some(fixed) = fixed_len(o.code) {
        if let (Some(head), Some(Ok(inner))) =
            (o.data.get(..fixed), o.data.get(fixed..).map(Options::parse))
        {
            b.nested(o.code, |b| {
                b.raw(head)?;
                options(b, inner, depth)
            })?;
            return Ok(());
        }
    }
    if o.code == OptionCode::RELAY_MSG && depth < MAX_RELAY_DEPTH {
        if let Ok(inner) = Packet::parse(o.data) {
            let mut buf = vec![0u8; o.data.len() + 16];
            let n = reemit6(&inner, &mut buf, depth + 1)?;
            b.relay_message(&buf[..n])?;
            return Ok(());
        }
    }
    b.option(o.code, o.data)?;
    Ok(())
}

/// Writes `p` again into `buf`; its length.
pub fn reemit6(p: &Packet<'_>, buf: &mut [u8], depth: usize) -> Result<usize, EmitError> {
    match p {
        Packet::Message(m) => {
            let mut b = MessageBuilder::new(buf, m.kind(), m.transaction_id())?;
            options(&mut b, m.options(), depth)?;
            Ok(b.finish())
        }
        Packet::Relay(r) => {
            let mut b = MessageBuilder::relay(
                buf,
                r.message_type(),
                r.hop_count(),
                r.link_address(),
                r.peer_address(),
            )?;
            options(&mut b, r.options(), depth)?;
            Ok(b.finish())
        }
    }
}
