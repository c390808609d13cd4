//! [`Program`]: a class's [`Match`] compiled at load into a flat list of tests in prefix
//! order, its byte strings in one arena, and run against a request with short-circuit
//! `all` / `any`: no text is read and nothing is allocated per packet.

use alloc::vec::Vec;

use super::model::Match;
use super::set::{ClassId, ClassSet};
use crate::wire::typed::RelayAgentInfo;
use crate::wire::{Message, OptionCode, OptionData};

/// Bytes in the program's arena.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u16,
}

/// The relay agent sub-options a class can match (RFC 3046, RFC 3993).
const CIRCUIT_ID: u8 = 1;
const REMOTE_ID: u8 = 2;
const SUBSCRIBER_ID: u8 = 6;

/// One test; `All` / `Any` / `Not` are followed by their operands, and `len` counts the
/// ops those take, so a short-circuit skips them at once.
#[derive(Debug, Clone, Copy)]
enum Op {
    VendorClass(Span),
    VendorClassPrefix(Span),
    UserClass(Span),
    Architecture(u16),
    RelaySub { code: u8, value: Span },
    MacPrefix(Span),
    HardwareType(u8),
    Enterprise(u32),
    HasOption(u8),
    Relay { first: u32, mask: u32 },
    Class(ClassId),
    All { len: u32 },
    Any { len: u32 },
    Not,
}

/// A compiled [`Match`].
#[derive(Debug, Clone)]
pub(crate) struct Program {
    ops: Vec<Op>,
    bytes: Vec<u8>,
}

/// What a program reads: the request and its relay agent information, parsed once.
pub(crate) struct Request<'m, 'a> {
    pub(crate) m: &'m Message<'a>,
    pub(crate) relay: Option<&'m RelayAgentInfo<'a>>,
}

impl Program {
    /// `m` compiled. Byte strings longer than an option can hold never match.
    pub(crate) fn compile(m: &Match) -> Self {
        let mut p = Program {
            ops: Vec::new(),
            bytes: Vec::new(),
        };
        p.push(m);
        p
    }

    fn span(&mut self, b: &[u8]) -> Span {
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(b);
        Span {
            start,
            len: u16::try_from(b.len()).unwrap_or(u16::MAX),
        }
    }

    fn push(&mut self, m: &Match) {
        let op = match m {
            Match::VendorClass(b) => Op::VendorClass(self.span(b)),
            Match::VendorClassPrefix(b) => Op::VendorClassPrefix(self.span(b)),
            Match::UserClass(b) => Op::UserClass(self.span(b)),
            Match::Architecture(a) => Op::Architecture(*a),
            Match::CircuitId(b) => Op::RelaySub {
                code: CIRCUIT_ID,
                value: self.span(b),
            },
            Match::RemoteId(b) => Op::RelaySub {
                code: REMOTE_ID,
                value: self.span(b),
            },
            Match::SubscriberId(b) => Op::RelaySub {
                code: SUBSCRIBER_ID,
                value: self.span(b),
            },
            Match::MacPrefix(b) => Op::MacPrefix(self.span(b)),
            Match::HardwareType(t) => Op::HardwareType(*t),
            Match::Enterprise(e) => Op::Enterprise(*e),
            Match::HasOption(c) => Op::HasOption(*c),
            Match::Relay(net) => Op::Relay {
                first: net.first(),
                mask: net.mask_bits(),
            },
            Match::Class(id) => Op::Class(*id),
            Match::All(v) | Match::Any(v) => {
                let at = self.ops.len();
                self.ops.push(Op::Not);
                for m in v {
                    self.push(m);
                }
                let len = (self.ops.len() - at - 1) as u32;
                self.ops[at] = if matches!(m, Match::All(_)) {
                    Op::All { len }
                } else {
                    Op::Any { len }
                };
                return;
            }
            Match::Not(inner) => {
                self.ops.push(Op::Not);
                self.push(inner);
                return;
            }
        };
        self.ops.push(op);
    }

    /// Whether `r` matches, for a client already in `member` (the classes before this
    /// one, the built-in ones and a reservation's).
    pub(crate) fn matches(&self, r: &Request<'_, '_>, member: &ClassSet) -> bool {
        self.eval(0, r, member).0
    }

    fn bytes(&self, s: Span) -> &[u8] {
        let start = s.start as usize;
        self.bytes
            .get(start..start + usize::from(s.len))
            .unwrap_or(&[])
    }

    /// The value of the op at `at`, and the index just past its operands.
    fn eval(&self, at: usize, r: &Request<'_, '_>, member: &ClassSet) -> (bool, usize) {
        let Some(&op) = self.ops.get(at) else {
            return (false, at + 1);
        };
        let next = at + 1;
        let value = match op {
            Op::VendorClass(s) => {
                option(r, OptionCode::VENDOR_CLASS_ID).is_some_and(|d| equals(&d, self.bytes(s)))
            }
            Op::VendorClassPrefix(s) => option(r, OptionCode::VENDOR_CLASS_ID)
                .is_some_and(|d| starts_with(&d, self.bytes(s))),
            Op::UserClass(s) => user_class(r, self.bytes(s)),
            Op::Architecture(a) => option(r, OptionCode::CLIENT_ARCH)
                .filter(|d| d.len() % 2 == 0)
                .is_some_and(|d| {
                    let mut bytes = d.bytes();
                    core::iter::from_fn(|| Some(u16::from_be_bytes([bytes.next()?, bytes.next()?])))
                        .any(|t| t == a)
                }),
            Op::RelaySub { code, value } => r
                .relay
                .and_then(|info| info.get(code))
                .is_some_and(|d| equals(&d, self.bytes(value))),
            Op::MacPrefix(s) => r.m.chaddr().starts_with(self.bytes(s)),
            Op::HardwareType(t) => r.m.htype() == t,
            Op::Enterprise(e) => {
                r.m.vendor_identifying()
                    .ok()
                    .flatten()
                    .is_some_and(|v| v.blocks().any(|b| b.enterprise == e))
            }
            Op::HasOption(c) => option(r, OptionCode(c)).is_some(),
            Op::Relay { first, mask } => {
                let g = r.m.giaddr();
                !g.is_unspecified() && u32::from(g) & mask == first
            }
            Op::Class(id) => member.contains(id),
            Op::All { len } | Op::Any { len } => {
                let end = next + len as usize;
                let want = matches!(op, Op::Any { .. });
                let mut i = next;
                while i < end {
                    let (v, after) = self.eval(i, r, member);
                    if v == want {
                        return (want, end);
                    }
                    i = after;
                }
                return (!want, end);
            }
            Op::Not => {
                let (v, after) = self.eval(next, r, member);
                return (!v, after);
            }
        };
        (value, next)
    }
}

fn option<'a>(r: &Request<'_, 'a>, code: OptionCode) -> Option<OptionData<'a>> {
    r.m.option(code)
}

fn equals(d: &OptionData<'_>, want: &[u8]) -> bool {
    match d.as_slice() {
        Some(s) => s == want,
        None => d.len() == want.len() && d.bytes().eq(want.iter().copied()),
    }
}

fn starts_with(d: &OptionData<'_>, want: &[u8]) -> bool {
    match d.as_slice() {
        Some(s) => s.starts_with(want),
        None => d.len() >= want.len() && d.bytes().zip(want).all(|(a, &b)| a == b),
    }
}

/// Whether user class `want` is among the request's (77): one RFC 3004 instance, or the
/// whole value as iPXE and some others send it.
fn user_class(r: &Request<'_, '_>, want: &[u8]) -> bool {
    let Some(d) = option(r, OptionCode::USER_CLASS) else {
        return false;
    };
    if equals(&d, want) {
        return true;
    }
    crate::wire::typed::UserClasses::new(d).is_ok_and(|list| list.iter().any(|c| equals(&c, want)))
}
