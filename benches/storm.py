#!/usr/bin/env python3
"""Our server under the two loads a restart after a power cut brings (issue 8), in network
namespaces this script makes and removes:

- renewals: N bound clients (restored from a journal) all renew at once. Every renewal
  REQUEST (ciaddr set, relayed: giaddr 10.0.0.2) is sent as fast as this script can, and
  the ACKs are counted. Reported: how long the server took, how many it answered, and how
  many requests the kernel dropped because the server's socket buffer was full; the run
  fails if a request went unanswered for any other reason, or was NAKed.
- compaction: perfdhcp (as a relay) runs against a server whose journal holds each lease
  three times, so that the journal compacts itself during the run; then the same against a
  journal already compact. Reported: perfdhcp's average and max DORA delay in both, and
  whether the compaction happened during the run.

    sudo benches/storm.py --dhcp target/release/dhcp [--clients 100000] [--leases 300000]
"""

import argparse
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, HERE)
import interop  # noqa: E402
from interop import Fail, Flow, read, wait_for  # noqa: E402
from reliability import cpu_seconds, in_namespace, relay_socket  # noqa: E402
from scale import fnv  # noqa: E402  (the journal line checksum)

SUBNET = "10.0.0.0/12"
POOL = ("10.0.1.0", "10.15.255.254")
FIRST = 0x0A010000  # leases from 10.1.0.0 up
SO_RCVBUFFORCE = 33


def mac(i):
    return bytes([2, 0x10, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255])


def address(i):
    return socket.inet_ntoa(struct.pack("!I", FIRST + i))


def write_journal(path, n, copies, expires):
    """n bound leases (client i: htype 1, chaddr mac(i), address 10.1.0.0 + i), each
    written `copies` times (as renewals would)."""
    seq = 0
    with open(path, "w") as f:
        f.write("# dhcp lease journal v1: seq kind address client expires-unix host check\n")
        for c in range(copies):
            for i in range(n):
                seq += 1
                client = "01:" + ":".join(f"{b:02x}" for b in mac(i))
                body = f"{seq} bound {address(i)} {client} {expires - copies + c + 1} -"
                f.write(f"{body} {fnv(body):08x}\n")
    # On disk before the server starts: its syncs must not queue behind this file's.
    os.sync()


def start(flow, ns, iface, d, journal, lease):
    cfg = os.path.join(d, "server.toml")
    with open(cfg, "w") as f:
        f.write(f"""interfaces = ["{iface}"]
journal = "{journal}"
log_level = "warn"
authoritative = true
[lease]
time = {lease}
max = {lease}
[[subnet]]
network = "{SUBNET}"
pools = ["{POOL[0]}-{POOL[1]}"]
""")
    log = os.path.join(d, "server.log")
    env = dict(os.environ, RUST_LOG="warn,dhcp::server=info,dhcp_host::journal=info")
    p = flow.spawn(ns, [interop.DHCP, "server", "--config", cfg], log, env=env)
    wait_for("the server to serve", lambda: "serving " in read(log) or p.poll() is not None, 120)
    if p.poll() is not None:
        raise Fail(f"server exited: {read(log)[-2000:]}")
    return p, log


def udp_counters(pid):
    """The UDP counters of the network namespace process `pid` is in."""
    rows = [line.split() for line in read(f"/proc/{pid}/net/snmp").splitlines()
            if line.startswith("Udp:")]
    return dict(zip(rows[0][1:], map(int, rows[1][1:])))


def link(flow):
    s, p = flow.ns("s"), flow.ns("p")
    si, pi = f"s{flow.id}", f"p{flow.id}"
    flow.link(s, si, p, pi)
    flow.ip(s, "addr", "add", "10.0.0.1/12", "dev", si)
    flow.ip(p, "addr", "add", "10.0.0.2/12", "dev", pi)
    return s, si, p, pi


def renewal(i, xid):
    """Client i's renewing REQUEST (ciaddr = its address), as relayed by 10.0.0.2."""
    hdr = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 1, xid, 0, 0,
                      socket.inet_aton(address(i)), bytes(4), bytes(4),
                      socket.inet_aton("10.0.0.2"), mac(i) + bytes(10), bytes(64), bytes(128))
    return hdr + b"\x63\x82\x53\x63\x35\x01\x03\x37\x04\x01\x03\x06\x33\xff"


def message_type(reply):
    at = 240
    while at + 1 < len(reply):
        code = reply[at]
        if code == 255:
            break
        if code == 0:
            at += 1
            continue
        if code == 53:
            return reply[at + 2]
        at += 2 + reply[at + 1]
    return None


def renewals(flow, n):
    s, si, p, pi = link(flow)
    d = tempfile.mkdtemp(dir=flow.dir)
    journal = os.path.join(d, "leases.journal")
    write_journal(journal, n, 1, int(time.time()) + 86400)
    srv, log = start(flow, s, si, d, journal, 86400)
    sock = relay_socket(p, "10.0.0.2")
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
    packets = [renewal(i, 0x5000_0000 + i) for i in range(n)]
    udp0 = udp_counters(srv.pid)
    mine0 = in_namespace(p, lambda: udp_counters("self"))
    cpu0 = cpu_seconds(srv.pid)
    acks, naks, last = 0, 0, None

    def drain():
        nonlocal acks, naks, last
        try:
            while True:
                kind = message_type(sock.recv(2048))
                if kind == 5:
                    acks += 1
                elif kind == 6:
                    naks += 1
                last = time.monotonic()
        except BlockingIOError:
            pass

    t0 = time.monotonic()
    sent = 0
    while sent < n and time.monotonic() - t0 < 60:
        try:
            sock.sendto(packets[sent], ("10.0.0.1", 67))
            sent += 1
        except BlockingIOError:
            drain()
    sent_s = time.monotonic() - t0
    quiet = time.monotonic()
    while time.monotonic() - quiet < 2 and time.monotonic() - t0 < 90:
        before = acks + naks
        drain()
        if acks + naks != before:
            quiet = time.monotonic()
        time.sleep(0.01)
    cpu = cpu_seconds(srv.pid) - cpu0
    udp1 = udp_counters(srv.pid)
    mine1 = in_namespace(p, lambda: udp_counters("self"))
    server_lost = udp1["RcvbufErrors"] - udp0["RcvbufErrors"]
    mine_lost = mine1["RcvbufErrors"] - mine0["RcvbufErrors"]
    Flow.stop(srv)
    took = (last or t0) - t0
    unexplained = sent - acks - naks - server_lost - mine_lost
    print(f"renewal storm: {n} bound clients renewing at once: {sent} REQUESTs sent in "
          f"{sent_s:.2f} s; {acks} ACKed, {naks} NAKed, the last answer {took:.2f} s after the "
          f"first request ({acks / took if took else 0:.0f} renewals/s); {server_lost} lost in "
          f"the server's full socket buffer, {mine_lost} replies lost in ours; "
          f"server CPU {cpu:.2f} s ({cpu / max(acks, 1) * 1e6:.0f} us per renewal)", flush=True)
    if naks or unexplained > 0:
        raise Fail(f"{naks} NAKs and {unexplained} requests lost other than in socket buffers")


def perfdhcp(flow, p, pi, rate, seconds):
    out = os.path.join(flow.dir, f"perfdhcp-{time.monotonic_ns()}.log")
    run = flow.spawn(p, ["perfdhcp", "-4", "-l", pi, "-r", str(rate), "-p", str(seconds),
                         "-R", "1000000", "-W", "1000000", "10.0.0.1"], out)
    run.wait(seconds + 30)
    text = read(out)
    sent = [int(x) for x in re.findall(r"sent packets: (\d+)", text)]
    recv = [int(x) for x in re.findall(r"received packets: (\d+)", text)]
    avg = [float(x) for x in re.findall(r"avg delay: ([\d.]+) ms", text)]
    mx = [float(x) for x in re.findall(r"max delay: ([\d.]+) ms", text)]
    if len(sent) < 2 or len(avg) < 2:
        raise Fail(f"perfdhcp said: {text[-1500:]}")
    return {"sent": sent[1], "acks": recv[1], "avg": avg[0] + avg[1], "max": mx[0] + mx[1]}


def compaction(leases, rate, seconds):
    rows = []
    for copies in (3, 1):
        flow = Flow(f"compact-{copies}")
        try:
            s, si, p, pi = link(flow)
            journal = os.path.join(flow.dir, "leases.journal")
            write_journal(journal, leases, copies, int(time.time()) + 86400)
            srv, log = start(flow, s, si, flow.dir, journal, 3600)
            try:
                r = perfdhcp(flow, p, pi, rate, seconds)
            finally:
                Flow.stop(srv)
            compacted = re.findall(r"compacted to (\d+ lines in .*)", read(log))
        finally:
            flow.close()
            shutil.rmtree(flow.dir, ignore_errors=True)
        what = f"compacted during the run to {compacted[0]}" if compacted else "no compaction"
        label = f"journal of {leases * copies} lines for {leases} leases ({what})"
        rows.append((label, r))
        print(f"  {label}: {r['acks']} of {r['sent']} REQUESTs ACKed at {rate}/s for "
              f"{seconds} s; DORA delay avg {r['avg']:.2f} ms, max {r['max']:.2f} ms", flush=True)
        if copies == 3 and not compacted:
            raise Fail("the journal did not compact during the run")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dhcp", default=interop.DHCP)
    ap.add_argument("--clients", type=int, default=100_000, help="clients renewing at once")
    ap.add_argument("--leases", type=int, default=300_000, help="leases in the compacting journal")
    ap.add_argument("--rate", type=int, default=2000, help="perfdhcp's rate during compaction")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--only", choices=["renewals", "compaction"])
    args = ap.parse_args()
    interop.DHCP = os.path.abspath(args.dhcp)
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    if args.only in (None, "renewals"):
        flow = Flow("storm")
        try:
            renewals(flow, args.clients)
        finally:
            flow.close()
            shutil.rmtree(flow.dir, ignore_errors=True)
    if args.only in (None, "compaction"):
        print("compaction under load:", flush=True)
        compaction(args.leases, args.rate, args.seconds)


if __name__ == "__main__":
    main()
