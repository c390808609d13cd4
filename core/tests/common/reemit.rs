//! Re-emits a parsed message through the builder and compares the two: the round trip the
//! golden tests and the fuzz round-trip target check.

use dhcp_core::wire::{EmitError, Message, MessageBuilder, OptionCode};

/// Writes `m` again into `buf`: the same header, and every option (once, whole, in the
/// order of its first instance), without padding. Returns the new length.
pub fn reemit(m: &Message<'_>, buf: &mut [u8]) -> Result<usize, EmitError> {
    let mut b = MessageBuilder::new(buf)?;
    b.op(m.op())
        .htype(m.htype())
        .hops(m.hops())
        .xid(m.xid())
        .secs(m.secs())
        .flags(m.flags())
        .ciaddr(m.ciaddr())
        .yiaddr(m.yiaddr())
        .siaddr(m.siaddr())
        .giaddr(m.giaddr())
        .pad_to(0);
    b.chaddr(m.chaddr())?;
    if let Some(sname) = m.sname().filter(|s| !s.is_empty()) {
        b.sname(sname)?;
    }
    if let Some(file) = m.file().filter(|s| !s.is_empty()) {
        b.file(file)?;
    }
    let mut done = [false; 256];
    for o in m.options() {
        if o.code == OptionCode::OVERLOAD
            || std::mem::replace(&mut done[usize::from(o.code.0)], true)
        {
            continue;
        }
        if let Some(value) = m.option(o.code) {
            b.option_data(o.code, &value)?;
        }
    }
    b.finish()
}

/// Whether two messages carry the same header fields and the same option values (RFC 3396
/// concatenated), in the same order of first appearance, overload aside.
pub fn same_message(a: &Message<'_>, b: &Message<'_>) -> bool {
    let header = |m: &Message<'_>| {
        (
            m.op(),
            m.htype(),
            m.hops(),
            m.xid(),
            m.secs(),
            m.flags(),
            [m.ciaddr(), m.yiaddr(), m.siaddr(), m.giaddr()],
            m.chaddr().to_vec(),
        )
    };
    let codes = |m: &Message<'_>| {
        let mut out: Vec<OptionCode> = Vec::new();
        for o in m.options() {
            if o.code != OptionCode::OVERLOAD && !out.contains(&o.code) {
                out.push(o.code);
            }
        }
        out
    };
    let names_match = |x: Option<&[u8]>, y: Option<&[u8]>| match (x, y) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    header(a) == header(b)
        && names_match(a.sname(), b.sname())
        && names_match(a.file(), b.file())
        && codes(a) == codes(b)
        && codes(a).iter().all(|&c| a.option(c) == b.option(c))
}
