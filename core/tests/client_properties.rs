//! Random sequences of inputs to the client machine: packets from a scripted server (some
//! mutated, dropped, duplicated or foreign), time jumps and commands. The machine must
//! never panic, only ever send well-formed requests, and never ask to be woken at or
//! before a time it was already given (no busy loop).

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use dhcp_core::client::{Client, ClientConfig, State};
use dhcp_core::time::Instant;
use dhcp_core::wire::{Message, MessageBuilder, MessageType, Op};
use proptest::collection::vec;
use proptest::prelude::*;

const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x07];
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

#[derive(Debug, Clone)]
enum Step {
    /// The server answers the last request: 0 offer/ack, 1 nak, 2 ack with a different
    /// address, 3 nothing.
    Answer {
        how: u8,
        lease: u32,
        t1: Option<u32>,
        t2: Option<u32>,
        flips: Vec<(usize, u8)>,
        twice: bool,
    },
    /// Random bytes arrive.
    Garbage(Vec<u8>),
    /// Time moves on by this many milliseconds (0 is "again, now"), then timers run.
    Wait(u64),
    /// Time is reported earlier than before.
    Backwards(u64),
    Start,
    Reboot,
    Release,
    Renew,
    Decline,
    Inform,
    Probe(bool),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u8..4, 0u32..5000, proptest::option::of(0u32..6000), proptest::option::of(0u32..6000),
              vec((0usize..600, any::<u8>()), 0..3), any::<bool>())
            .prop_map(|(how, lease, t1, t2, flips, twice)| Step::Answer { how, lease, t1, t2, flips, twice }),
        1 => vec(any::<u8>(), 0..400).prop_map(Step::Garbage),
        6 => prop_oneof![Just(0u64), 0u64..5_000, 0u64..200_000_000].prop_map(Step::Wait),
        1 => (0u64..100_000).prop_map(Step::Backwards),
        1 => Just(Step::Start),
        1 => Just(Step::Reboot),
        1 => Just(Step::Release),
        1 => Just(Step::Renew),
        1 => Just(Step::Decline),
        1 => Just(Step::Inform),
        1 => any::<bool>().prop_map(Step::Probe),
    ]
}

fn config(rapid: bool, probe: bool, window: u64, v6: bool) -> ClientConfig {
    let mut c = ClientConfig::new(MAC);
    c.rapid_commit = rapid;
    c.probe = probe;
    c.offer_window = Duration::from_millis(window);
    c.ipv6_only = v6;
    c.host_name = Some("prop".try_into().unwrap());
    c.client_id_hardware();
    c
}

fn answer(
    req: &Message<'_>,
    how: u8,
    lease: u32,
    t1: Option<u32>,
    t2: Option<u32>,
) -> Option<Vec<u8>> {
    let kind = match (req.message_type().ok()??, how) {
        (_, 3) => return None,
        (MessageType::Discover, _) => MessageType::Offer,
        (MessageType::Request | MessageType::Inform, 1) => MessageType::Nak,
        (MessageType::Request | MessageType::Inform, _) => MessageType::Ack,
        _ => return None,
    };
    let mut buf = vec![0u8; 1500];
    let mut b = MessageBuilder::new(&mut buf).ok()?;
    b.op(Op::BootReply).xid(req.xid()).flags(req.flags());
    b.chaddr(req.chaddr()).ok()?;
    let yiaddr = if how == 2 {
        Ipv4Addr::new(192, 0, 2, 77)
    } else {
        Ipv4Addr::new(192, 0, 2, 100)
    };
    if kind != MessageType::Nak {
        b.yiaddr(yiaddr);
        b.lease_time(lease).ok()?;
        if let Some(t) = t1 {
            b.renewal_time(t).ok()?;
        }
        if let Some(t) = t2 {
            b.rebinding_time(t).ok()?;
        }
        b.subnet_mask(Ipv4Addr::new(255, 255, 255, 0)).ok()?;
    }
    b.message_type(kind).ok()?.server_id(SERVER).ok()?;
    let n = b.finish().ok()?;
    buf.truncate(n);
    Some(buf)
}

/// Sends out everything pending and checks it: a well-formed BOOTREQUEST from our MAC.
fn drain(c: &mut Client, last: &mut Option<Vec<u8>>) -> Result<(), TestCaseError> {
    let mut buf = [0u8; 1500];
    while let Some(t) = c.poll_transmit(&mut buf) {
        let bytes = &buf[..t.len];
        let m = Message::parse(bytes)
            .map_err(|e| TestCaseError::fail(format!("client sent a malformed message: {e}")))?;
        prop_assert_eq!(m.op(), Op::BootRequest);
        prop_assert_eq!(m.chaddr(), &MAC);
        let kind = m
            .message_type()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(matches!(
            kind,
            Some(
                MessageType::Discover
                    | MessageType::Request
                    | MessageType::Decline
                    | MessageType::Release
                    | MessageType::Inform
            )
        ));
        prop_assert!(t.len >= 300 && t.len <= 576);
        *last = Some(bytes.to_vec());
    }
    while c.poll_event().is_some() {}
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn random_inputs_keep_the_client_sane(
        seed in any::<u64>(),
        rapid in any::<bool>(),
        probe in any::<bool>(),
        window in prop_oneof![Just(0u64), 0u64..3000],
        v6 in any::<bool>(),
        steps in vec(step(), 1..80),
    ) {
        let mut c = Client::new(config(rapid, probe, window, v6), seed);
        let mut now = Instant::from_secs(1);
        let mut last: Option<Vec<u8>> = None;
        c.start(now);
        drain(&mut c, &mut last)?;
        for s in steps {
            match s {
                Step::Answer { how, lease, t1, t2, flips, twice } => {
                    let Some(req) = last.clone() else { continue };
                    let Ok(m) = Message::parse(&req) else { continue };
                    let Some(mut reply) = answer(&m, how, lease, t1, t2) else { continue };
                    for (at, byte) in flips {
                        let i = at % reply.len();
                        reply[i] = byte;
                    }
                    c.handle_packet(now, &reply);
                    if twice {
                        c.handle_packet(now, &reply);
                    }
                }
                Step::Garbage(bytes) => c.handle_packet(now, &bytes),
                Step::Wait(ms) => {
                    now = now + Duration::from_millis(ms);
                    c.handle_timeout(now);
                    if let Some(t) = c.poll_timeout() {
                        prop_assert!(t > now, "timer {t:?} not after {now:?} in {:?}", c.state());
                    }
                }
                Step::Backwards(ms) => {
                    let earlier = now - Duration::from_millis(ms);
                    let before = c.poll_timeout();
                    c.handle_timeout(earlier);
                    prop_assert_eq!(c.poll_timeout(), before, "an earlier time moved the timer");
                }
                Step::Start => c.start(now),
                Step::Reboot => c.start_reboot(now, Ipv4Addr::new(192, 0, 2, 100)),
                Step::Release => c.release(now),
                Step::Renew => c.renew(now),
                Step::Decline => c.decline(now),
                Step::Inform => c.inform(now, Ipv4Addr::new(192, 0, 2, 9)),
                Step::Probe(conflict) => c.probe_result(now, conflict),
            }
            drain(&mut c, &mut last)?;
            if let Some(l) = c.lease() {
                if let (Some(t1), Some(t2), Some(lease)) = (l.renewal_time(), l.rebinding_time(), l.lease_time()) {
                    prop_assert!(t1 < t2 && t2 < lease, "T1 {t1:?} T2 {t2:?} lease {lease:?}");
                }
                prop_assert!(l.expires_at().is_none_or(|e| e >= l.obtained()));
            }
            if matches!(c.state(), State::Bound | State::Renewing | State::Rebinding | State::Probing) {
                prop_assert!(c.lease().is_some());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The fuzz target's driver, on random bytes (it asserts its own invariants).
    #[test]
    fn fuzz_driver_on_random_bytes(data in vec(any::<u8>(), 0..400)) {
        common::client_driver::drive(&data);
    }
}
