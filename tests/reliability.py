#!/usr/bin/env python3
"""Reliability and security of our server and client, in network namespaces this script
creates and always removes (issue 9):

    sudo tests/reliability.py --dhcp target/release/dhcp [--only NAME] [--seed N]

- crash: perfdhcp load and two udhcpc clients against the server, which is killed with
  SIGKILL at seeded random moments (20 times, on each runtime in turn) and restarted;
  after every kill, every lease a client was ACKed (from the capture) must be in the
  journal the next start restores, for the same client, and no address or client may
  appear twice; the udhcpc clients must keep one address throughout;
- full disk: the journal on a small tmpfs, filled up: a new client gets no lease, the
  server says why, a bound client's renewal is still answered, and once space returns the
  new client gets its lease;
- flood: a starvation flood of DISCOVERs from random MACs and one client over its rate
  limit: memory stays bounded, offers are capped, the excess is dropped and counted, a
  reserved and a bound client are answered during the flood, and the offers expire;
- garbage: random bytes, truncated headers and huge option lists at full speed: no crash,
  counted drops, CPU per packet, and a valid exchange afterwards;
- privileges: the server runs as `nobody` with only CAP_NET_ADMIN, CAP_NET_RAW and
  CAP_NET_BIND_SERVICE; the client's hook runs with a clean environment and never sees a
  hostile domain or host name.

Each prints its figures. Every wait and every load is bounded in time and count.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402
from interop import Fail, Flow, read, run, wait_for  # noqa: E402

FIGURES = []


def figure(text):
    FIGURES.append(text)
    print(f"  {text}", flush=True)


# ---- helpers ------------------------------------------------------------------------------

def server_config(flow, iface, extra="", journal=None, lease=3600):
    cfg = os.path.join(flow.dir, "server.toml")
    with open(cfg, "w") as f:
        f.write(f"""interfaces = ["{iface}"]
journal = "{journal or os.path.join(flow.dir, 'leases.journal')}"
log_level = "warn"
authoritative = true
{extra}
[lease]
time = {lease}
min = 10

[[subnet]]
network = "10.0.0.0/16"
pools = ["10.0.1.0-10.0.255.254"]

[[subnet]]
network = "192.0.2.0/24"
pools = ["192.0.2.100-192.0.2.200"]

[[subnet.reservation]]
mac = "02:00:00:00:00:42"
address = "192.0.2.42"
""")
    return cfg


def start_server(flow, ns, cfg, runtime="tokio", log_name="server.log"):
    log = os.path.join(flow.dir, log_name)
    env = dict(os.environ, RUST_LOG="warn,dhcp=info,dhcp_host=info")
    before = read(log).count("serving ")
    p = flow.spawn(ns, [interop.DHCP, "--runtime", runtime, "server", "--config", cfg], log, env=env)
    wait_for("the server to serve",
             lambda: read(log).count("serving ") > before or p.poll() is not None, 15)
    if p.poll() is not None:
        raise Fail(f"server exited: {read(log)[-2000:]}")
    return p, log


def stop_and_stats(flow, p, log):
    """SIGTERM; returns the counters of the `stopped` line as a dict."""
    Flow.stop(p)
    m = re.findall(r"stopped; .*", read(log))
    if not m:
        raise Fail(f"no stop line in the server log: {read(log)[-1500:]}")
    return dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", m[-1]))


def two_links(flow):
    """Server namespace with 10.0.0.1/16 towards a relay/load namespace (10.0.0.2) and a
    bridge 192.0.2.1/24 for clients on the link. Returns (s, s_if, p, p_if)."""
    s, p = flow.ns("s"), flow.ns("p")
    si, pi = f"s{flow.id}", f"p{flow.id}"
    flow.link(s, si, p, pi)
    flow.ip(s, "addr", "add", "10.0.0.1/16", "dev", si)
    flow.ip(p, "addr", "add", "10.0.0.2/16", "dev", pi)
    flow.ip(s, "link", "add", "br0", "type", "bridge")
    flow.ip(s, "link", "set", "br0", "up")
    flow.ip(s, "addr", "add", "192.0.2.1/24", "dev", "br0")
    return s, si, p, pi


def client_ns(flow, s, tag, mac):
    c = flow.ns(f"c{tag}")
    ci, bi = f"c{flow.id}{tag}", f"b{flow.id}{tag}"
    flow.link(c, ci, s, bi, mac_b=None)
    flow.ip(c, "link", "set", ci, "address", mac)
    flow.ip(s, "link", "set", bi, "master", "br0")
    return c, ci


def udhcpc(flow, ns, iface, tag):
    d = os.path.join(flow.dir, f"udhcpc-{tag}")
    os.makedirs(d)
    events = os.path.join(d, "events.log")
    open(events, "w").close()
    script = os.path.join(d, "script")
    with open(script, "w") as f:
        f.write(f"""#!/bin/sh
echo "$1 ip=$ip lease=$lease dns=$dns" >> {events}
exit 0
""")
    os.chmod(script, 0o755)
    flow.logs.append(events)
    p = flow.spawn(ns, ["udhcpc", "-f", "-i", iface, "-s", script, "-t", "3", "-T", "1", "-A", "1"],
                   os.path.join(d, "udhcpc.log"))
    return p, events


def bound(events):
    return re.findall(r"^(?:bound|renew) ip=(\S+) lease=(\d+)", read(events), re.M)


def discover(mac, xid, giaddr, requested=None):
    """A DISCOVER from `mac`, relayed by `giaddr`."""
    hdr = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 1, xid, 0, 0, bytes(4), bytes(4),
                      bytes(4), socket.inet_aton(giaddr), mac + bytes(10), bytes(64), bytes(128))
    opts = b"\x63\x82\x53\x63" + b"\x35\x01\x01" + b"\x37\x03\x01\x03\x06"
    if requested:
        opts += b"\x32\x04" + socket.inet_aton(requested)
    return hdr + opts + b"\xff"


def in_namespace(ns_name, fn):
    """Runs `fn` with this thread in network namespace `ns_name`, then comes back."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{ns_name}", os.O_RDONLY)
    try:
        if libc.setns(target, 0) != 0:
            raise Fail(f"setns: {os.strerror(ctypes.get_errno())}")
        return fn()
    finally:
        libc.setns(own, 0)
        os.close(own)
        os.close(target)


def relay_socket(ns_name, addr):
    """A non-blocking UDP socket bound to addr:67 inside namespace `ns_name`."""
    def bind():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, 67))
        s.setblocking(False)
        return s
    return in_namespace(ns_name, bind)


def proc_status(pid):
    return dict(l.split(":", 1) for l in read(f"/proc/{pid}/status").splitlines() if ":" in l)


def cpu_seconds(pid):
    f = read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


# ---- crash --------------------------------------------------------------------------------

def crash(seed, kills):
    flow = Flow("crash")
    rng = random.Random(seed)

    def kills_and_audits():
        s, si, p, pi = two_links(flow)
        cfg = server_config(flow, "*")
        flow.start_capture(s, si)
        audited = 0
        # Real clients on the server's own link too, renewing all through the kills.
        clients = []
        for n in range(2):
            mac = f"02:00:00:00:01:{n:02x}"
            c, ci = client_ns(flow, s, f"u{n}", mac)
            clients.append((mac, c, ci))
        for i in range(kills):
            runtime = interop.RUNTIMES[i % len(interop.RUNTIMES)]
            srv, log = start_server(flow, s, cfg, runtime)
            if i == 0:
                clients = [(mac, *udhcpc(flow, c, ci, f"u{n}")) for n, (mac, c, ci) in enumerate(clients)]
                for mac, u, ev in clients:
                    wait_for(f"udhcpc {mac}'s lease", lambda ev=ev: bound(ev), 15)
            else:
                for mac, u, ev in clients:
                    u.send_signal(signal.SIGUSR1)
            perf = flow.spawn(p, ["perfdhcp", "-4", "-l", pi, "-r", "400", "-p", "30", "-R", "1000000",
                                  "10.0.0.1"], os.path.join(flow.dir, f"perfdhcp-{i}.log"))
            time.sleep(rng.uniform(0.3, 2.0))
            srv.send_signal(signal.SIGKILL)
            srv.wait(10)
            Flow.stop(perf, signal.SIGKILL)
            time.sleep(0.5)  # tcpdump writes each packet as it comes (-U)
            acks = acked(flow.capture)
            leases = json.loads(run([interop.DHCP, "leases", "--config", cfg, "--json"]).stdout)
            by_address = {}
            holders = set()
            for l in leases:
                if l["address"] in by_address:
                    raise Fail(f"kill {i + 1}: {l['address']} bound twice")
                if l["client"] in holders:
                    raise Fail(f"kill {i + 1}: client {l['client']} holds two leases")
                by_address[l["address"]] = l["client"]
                holders.add(l["client"])
            for address, mac in acks.items():
                if by_address.get(address) != "01:" + mac:
                    raise Fail(f"kill {i + 1}: {address} was ACKed to {mac} but the journal has "
                               f"{by_address.get(address)!r}")
            audited = len(acks)
        bad = re.findall(r"(?i)corrupt|bad line", read(os.path.join(flow.dir, "server.log")))
        # The last restart must open the journal and restore what the audit saw.
        srv, log = start_server(flow, s, cfg)
        m = re.findall(r"restored (\d+) lease records, (\d+) leases bound", read(log))
        if not m or int(m[-1][1]) < audited:
            raise Fail(f"the last start restored {m[-1] if m else 'nothing'}, {audited} ACKed")
        # Each real client renews once more, and has had one address all along.
        renewals = 0
        for mac, u, ev in clients:
            before = len(bound(ev))
            u.send_signal(signal.SIGUSR1)
            wait_for(f"udhcpc {mac}'s renewal after the last restart", lambda ev=ev, b=before: len(bound(ev)) > b, 15)
            ips = {ip for ip, _ in bound(ev)}
            if len(ips) != 1:
                raise Fail(f"udhcpc {mac} changed address across the kills: {bound(ev)}")
            journaled = [r for r in interop.journal(flow) if r[1] == "bound" and r[3] == "01:" + mac]
            if not journaled or journaled[-1][2] not in ips:
                raise Fail(f"udhcpc {mac} holds {ips}, the journal says {journaled[-1:] or 'nothing'}")
            renewals += len(bound(ev))
        Flow.stop(srv)
        figure(f"crash: {kills} kills survived (seed {seed}, runtimes in turn), "
               f"{audited} ACKed leases audited after each, 0 violations; 2 udhcpc clients "
               f"kept their address through {renewals} leases and renewals"
               + (f", {len(bad)} journal lines reported corrupt and skipped" if bad else ""))

    flow.scenario(f"{kills} SIGKILLs under perfdhcp load, every ACKed lease kept", kills_and_audits)
    return flow


def acked(pcap):
    """address -> client MAC of every ACK in the capture."""
    if not os.path.exists(pcap):
        return {}
    out = run([interop.DHCP, "decode", "--json", pcap], check=False).stdout
    try:
        messages = json.loads(out or "[]")
    except json.JSONDecodeError:
        # A capture cut mid-packet: decode what is whole.
        messages = []
    acks = {}
    for d in messages:
        m = d.get("message", {})
        kinds = [str(o.get("value")).upper() for o in m.get("options", []) if o.get("code") == 53]
        if kinds == ["ACK"] and m.get("yiaddr", "0.0.0.0") != "0.0.0.0":
            acks[m["yiaddr"]] = m["chaddr"]
    return acks


# ---- full disk ----------------------------------------------------------------------------

def full_disk():
    flow = Flow("full disk")
    disk = os.path.join(flow.dir, "disk")

    def withholds_answers_renewals_and_recovers():
        os.makedirs(disk)
        run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", disk])
        s, si, p, pi = two_links(flow)
        cfg = server_config(flow, "*", journal=os.path.join(disk, "leases.journal"), lease=120)
        srv, log = start_server(flow, s, cfg)
        ca, ia = client_ns(flow, s, "a", "02:00:00:00:00:0a")
        a, ev_a = udhcpc(flow, ca, ia, "a")
        wait_for("client A's lease", lambda: bound(ev_a), 15)
        fd = os.open(os.path.join(disk, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 512)
        except OSError:
            pass
        finally:
            os.close(fd)
        # The journal's last page may still have room for a few dozen lines: new clients
        # (perfdhcp, relayed) use it up.
        perf = flow.spawn(p, ["perfdhcp", "-4", "-l", pi, "-r", "50", "-p", "10", "-R", "100000",
                              "10.0.0.1"], os.path.join(flow.dir, "perfdhcp.log"))
        wait_for("the server to say the store cannot write",
                 lambda: "lease store cannot write" in read(log), 15)
        Flow.stop(perf, signal.SIGKILL)
        cb, ib = client_ns(flow, s, "b", "02:00:00:00:00:0b")
        b, ev_b = udhcpc(flow, cb, ib, "b")
        time.sleep(5)
        if bound(ev_b):
            raise Fail(f"client B got a lease the journal could not hold: {bound(ev_b)}")
        before = len(bound(ev_a))
        a.send_signal(signal.SIGUSR1)  # udhcpc: renew now
        wait_for("client A's renewal while the disk is full", lambda: len(bound(ev_a)) > before, 10)
        short = int(bound(ev_a)[-1][1])
        if not 0 < short <= 120:
            raise Fail(f"renewal promised {short} s, more than the durable lease")
        os.remove(os.path.join(disk, "filler"))
        t = time.monotonic()
        wait_for("client B's lease once space returns", lambda: bound(ev_b), 30)
        recovered = time.monotonic() - t
        wait_for("the server to say it writes again", lambda: "writes again" in read(log), 5)
        stats = stop_and_stats(flow, srv, log)
        figure(f"full disk: new lease withheld while full, renewal answered with {short} s "
               f"(the rest of the durable 120 s lease), ACKs sent {stats.get('ACK', 0)}, "
               f"recovered {recovered:.1f} s after space returned")

    try:
        flow.scenario("full disk: no new leases, renewals answered, recovery", withholds_answers_renewals_and_recovers)
    finally:
        Flow.close(flow)
        run(["umount", "-l", disk], check=False)
    return flow


# ---- flood and garbage --------------------------------------------------------------------

def flood():
    flow = Flow("flood")

    def capped_answered_and_expiring():
        s, si, p, pi = two_links(flow)
        cfg = server_config(flow, "*", extra="max_offers = 2000\nrate_limit = 20\noffer_hold = 5\n")
        srv, log = start_server(flow, s, cfg)
        rss0 = int(proc_status(srv.pid)["VmRSS"].split()[0])
        # A bound client on the link, and the reserved one.
        cb, ib = client_ns(flow, s, "b", "02:00:00:00:00:0b")
        b, ev_b = udhcpc(flow, cb, ib, "b")
        wait_for("the bound client's lease", lambda: bound(ev_b), 15)
        sock = relay_socket(p, "10.0.0.2")
        rng = random.Random(7)
        sent, answered, started = 0, 0, time.monotonic()
        reserved_seen = None
        cr, ir = client_ns(flow, s, "r", "02:00:00:00:00:42")
        while sent < 50000 and time.monotonic() - started < 20:
            mac = bytes([2]) + rng.randbytes(5)
            try:
                sock.sendto(discover(mac, rng.getrandbits(32), "10.0.0.2"), ("10.0.0.1", 67))
                sent += 1
            except BlockingIOError:
                time.sleep(0.001)
            if sent == 10000:
                r, ev_r = udhcpc(flow, cr, ir, "r")
                before = len(bound(ev_b))
                b.send_signal(signal.SIGUSR1)
            try:
                while True:
                    sock.recv(2048)
                    answered += 1
            except BlockingIOError:
                pass
        flood_s = time.monotonic() - started
        peak = int(proc_status(srv.pid)["VmHWM"].split()[0])
        wait_for("the reserved client's lease during the flood", lambda: bound(ev_r), 10)
        reserved_seen = bound(ev_r)[-1][0]
        if reserved_seen != "192.0.2.42":
            raise Fail(f"the reserved client got {reserved_seen}")
        wait_for("the bound client's renewal during the flood", lambda: len(bound(ev_b)) > before, 10)
        # One client over its rate limit: 400 DISCOVERs in about a second.
        one = bytes.fromhex("020000000099")
        for i in range(400):
            sock.sendto(discover(one, i, "10.0.0.2"), ("10.0.0.1", 67))
            time.sleep(0.002)
        # The flood's offers expire (5 s hold): a new client gets an address again.
        time.sleep(7)
        cn, inn = client_ns(flow, s, "n", "02:00:00:00:00:0c")
        n, ev_n = udhcpc(flow, cn, inn, "n")
        wait_for("a new client's lease after the offers expired", lambda: bound(ev_n), 15)
        stats = stop_and_stats(flow, srv, log)
        received, offers = stats.get("Discover", 0), stats.get("Offer", 0)
        capped, limited = stats.get("TooManyOffers", 0), stats.get("RateLimited", 0)
        if offers > 2000 + 20 or capped + offers + limited < received - 50:
            raise Fail(f"{received} DISCOVERs received, {offers} offers, {capped} over the cap, "
                       f"{limited} rate-limited: {stats}")
        if stats.get("RateLimited", 0) < 300:
            raise Fail(f"400 DISCOVERs in ~1 s from one client, {stats.get('RateLimited', 0)} rate-limited")
        figure(f"flood: {sent} DISCOVERs from random MACs in {flood_s:.1f} s ({received} reached "
               f"the server with the 400 below, the rest lost in socket buffers), {offers} offers "
               f"(cap 2000), {capped} dropped over the cap; one client's 400/s: "
               f"{limited} rate-limited (limit 20/s); RSS {rss0 // 1024} MiB at start, "
               f"peak {peak // 1024} MiB; reserved and bound clients answered during it; offers "
               f"expired after")

    flow.scenario("DISCOVER flood: capped, counted, known clients answered", capped_answered_and_expiring)
    return flow


def garbage():
    flow = Flow("garbage")

    def survives_counts_and_still_serves():
        s, si, p, pi = two_links(flow)
        cfg = server_config(flow, "*")
        srv, log = start_server(flow, s, cfg)
        sock = relay_socket(p, "10.0.0.2")
        rng = random.Random(11)
        valid = discover(bytes.fromhex("020000000001"), 1, "10.0.0.2")
        kinds = {"random": 0, "truncated": 0, "huge options": 0, "bad lengths": 0}
        cpu0, started = cpu_seconds(srv.pid), time.monotonic()
        sent = 0
        while sent < 40000 and time.monotonic() - started < 20:
            k = sent % 4
            if k == 0:
                pkt, name = rng.randbytes(rng.randrange(0, 1500)), "random"
            elif k == 1:
                pkt, name = valid[:rng.randrange(0, len(valid))], "truncated"
            elif k == 2:
                body = b"".join(bytes([rng.randrange(1, 255), 1, 0]) for _ in range(400))
                pkt, name = valid[:240] + b"\x35\x01\x01" + body + b"\xff", "huge options"
            else:
                cut = valid[:240] + b"\x35\x01\x01" + bytes([rng.choice([1, 3, 6, 50, 51, 54, 61, 81, 82, 119, 121]),
                                                              rng.randrange(0, 256)]) + rng.randbytes(rng.randrange(0, 40))
                pkt, name = cut, "bad lengths"
            try:
                sock.sendto(pkt, ("10.0.0.1", 67))
                sent += 1
                kinds[name] += 1
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                sent += 1  # an empty datagram some kernels refuse
            try:
                while True:
                    sock.recv(2048)
            except BlockingIOError:
                pass
        time.sleep(1)
        cpu = cpu_seconds(srv.pid) - cpu0
        if srv.poll() is not None:
            raise Fail(f"the server died: {read(log)[-2000:]}")
        cb, ib = client_ns(flow, s, "b", "02:00:00:00:00:0b")
        b, ev_b = udhcpc(flow, cb, ib, "b")
        wait_for("a valid exchange after the garbage", lambda: bound(ev_b), 15)
        stats = stop_and_stats(flow, srv, log)
        dropped = sum(v for k, v in stats.items() if k in ("Malformed", "BadOption", "Unexpected", "NotRequest"))
        figure(f"garbage: {sent} packets ({', '.join(f'{v} {k}' for k, v in kinds.items())}) in "
               f"{time.monotonic() - started:.1f} s: no crash, {dropped} counted as dropped "
               f"(Malformed {stats.get('Malformed', 0)}, BadOption {stats.get('BadOption', 0)}), "
               f"{cpu * 1e6 / max(sent, 1):.1f} µs server CPU a packet, a valid DORA after")

    flow.scenario("garbage at full speed: no crash, counted, still serving", survives_counts_and_still_serves)
    return flow


# ---- privileges and the hook --------------------------------------------------------------

CAPS = {"CAP_NET_BIND_SERVICE": 10, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13}
HOSTILE_DOMAIN = "evil.test;touch /tmp/pwned-$$`id`\n$(reboot)"


def privileges():
    flow = Flow("privileges")

    def dropped_and_clean():
        s, si, p, pi = two_links(flow)
        os.chmod(flow.dir, 0o777)
        raw = ('raw = [{ code = 15, text = "%s" }, { code = 12, text = "host\\u0000name" }]'
               % HOSTILE_DOMAIN.replace("\n", "\\n").replace('"', '\\"'))
        cfg = server_config(flow, "br0", extra='user = "nobody"\n')
        with open(cfg, "a") as f:
            f.write(f"\n[subnet.options]\n{raw}\n")
        srv, log = start_server(flow, s, cfg)
        st = proc_status(srv.pid)
        uids = st["Uid"].split()
        if set(uids) != {"65534"}:
            raise Fail(f"server uids {uids}, not nobody's")
        eff = int(st["CapEff"].strip(), 16)
        want = sum(1 << b for b in CAPS.values())
        if eff != want or int(st["CapPrm"].strip(), 16) != want:
            raise Fail(f"CapEff {st['CapEff'].strip()} CapPrm {st['CapPrm'].strip()}, want {want:016x}")
        if int(st["CapInh"].strip(), 16) or int(st.get("CapAmb", "0").strip(), 16):
            raise Fail(f"inheritable/ambient capabilities left: {st['CapInh']} {st.get('CapAmb')}")
        # Our client, with a secret in its environment and a hook that records its own.
        c, ci = client_ns(flow, s, "h", "02:00:00:00:00:0d")
        env_file = os.path.join(flow.dir, "hook.env")
        hook = os.path.join(flow.dir, "hook")
        with open(hook, "w") as f:
            f.write(f"#!/bin/sh\n{{ echo \"== $1\"; env; }} >> {env_file}\n")
        os.chmod(hook, 0o755)
        env = dict(os.environ, DHCP_TEST_SECRET="hunter2", LD_PRELOAD="", BASH_ENV="/tmp/x")
        out = run(["ip", "netns", "exec", c, interop.DHCP, "client", "--once", "--json", "--script",
                   hook, "--timeout", "20", ci], check=False, env=env)
        if out.returncode != 0:
            raise Fail(f"our client: {out.stderr[-1500:]}")
        if "evil.test" not in out.stdout:
            raise Fail(f"the hostile domain name never reached the client: {out.stdout[:1500]}")
        recorded = read(env_file)
        if "bound" not in recorded:
            raise Fail(f"the hook never ran for the lease: {recorded[:500]}")
        for leak in ["DHCP_TEST_SECRET", "hunter2", "BASH_ENV", "pwned", "reboot", "`"]:
            if leak in recorded:
                raise Fail(f"{leak!r} reached the hook's environment:\n{recorded}")
        names = re.findall(r"^(domain|hostname)=(.*)$", recorded, re.M)
        stats = stop_and_stats(flow, srv, log)
        figure(f"privileges: server uid 65534, CapEff = CapPrm = NET_ADMIN|NET_RAW|NET_BIND_SERVICE "
               f"({want:#x}), no inheritable or ambient; it served a lease ({stats.get('ACK', 0)} ACK); "
               f"hook env clean (no caller variables), hostile domain/host names withheld "
               f"(hook saw {names or 'neither'})")

    flow.scenario("server as nobody with 3 capabilities; hook env clean", dropped_and_clean)
    return flow


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dhcp", default=interop.DHCP)
    ap.add_argument("--only", default="")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("RELIABILITY_SEED", "2026")))
    ap.add_argument("--kills", type=int, default=20)
    args = ap.parse_args()
    interop.DHCP = os.path.abspath(args.dhcp)
    if os.geteuid() != 0:
        sys.exit("reliability needs root (namespaces, tmpfs)")
    for tool in ["perfdhcp", "udhcpc", "tcpdump"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (scripts/setup installs it)")
    tests = {
        "crash": lambda: crash(args.seed, args.kills),
        "full-disk": full_disk,
        "flood": flood,
        "garbage": garbage,
        "privileges": privileges,
    }
    sys.exit(run_suite("reliability", tests, args.only))


def run_suite(title, tests, only, figures=FIGURES):
    """Runs each test (name -> function returning its Flow) whose name contains `only`,
    always cleaning up; prints the table and the figures. Returns the exit status."""
    started = time.monotonic()
    flows = []
    try:
        for name, fn in tests.items():
            if only and only not in name:
                continue
            print(f"{name}:", flush=True)
            try:
                flows.append(fn())
            except Exception:  # noqa: BLE001 - a crashed test is a failed test
                f = Flow(name)
                f.results.append(("setup", False, 0.0, traceback.format_exc()))
                flows.append(f)
            finally:
                flows[-1].close()
    finally:
        Flow.close_all()
    failed = interop.report([((f.name, "tokio"), f) for f in flows])
    print(f"\n{title}: {sum(len(f.results) for f in flows)} tests, {failed} failed, "
          f"{time.monotonic() - started:.0f} s")
    for line in figures:
        print(f"  {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    main()
