#!/usr/bin/env python3
"""Interop matrix: our `dhcp` server and client against real DHCP software from Debian's
packages, on every runtime, in network namespaces this script creates and always removes.

    sudo tests/interop.py --dhcp target/release/dhcp [--only PATTERN] [--jobs N]

Flows (each in namespaces of its own, several at a time):
- our client (`dhcp client --apply --script`) against dnsmasq, Kea and ISC dhcpd: lease and
  options applied, renewal at T1, rebinding when unicast to the server is dropped,
  the lease kept when stopped and INIT-REBOOT after the restart, a new lease after a NAK,
  release on exit with --release-on-exit;
- dhclient, udhcpc and dhcpcd against our server: lease and options applied, two clients
  never the same address, a reservation's fixed address, renewal, our server killed and
  restarted keeping every lease, release;
- a real relay (dhcrelay) between our client or udhcpc and our server: the subnet chosen by
  giaddr, option 82 echoed in the replies;
- perfdhcp as a relay against our server: a bounded run with no drops.

Prints a table peer x runtime x scenario; a failure prints the server's and the peer's
logs and the capture of the exchange (decoded by `dhcp decode`). Every wait is bounded.
"""

import argparse
import concurrent.futures
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

RUNTIMES = ["tokio", "async-std", "smol"]
DHCP = "target/release/dhcp"
LEASE = 20  # seconds: T1 10, T2 17.5 (15 where the server sets it)


class Fail(Exception):
    """A scenario's check that did not hold."""


def run(argv, check=True, timeout=60, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise Fail(f"{' '.join(argv)}: {r.stderr.strip() or r.stdout.strip()}")
    return r


def wait_for(what, cond, timeout):
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise Fail(f"timed out after {timeout} s waiting for {what}")


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


_ids = iter(range(1, 1000))
_ids_lock = threading.Lock()


class Flow:
    """Namespaces, processes and files of one flow; `close` removes them all (and
    `close_all` every flow's, whatever happened to it)."""

    made = []

    def __init__(self, name, prefix="interop"):
        with _ids_lock:
            self.id = next(_ids)
            Flow.made.append(self)
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"{prefix}-{self.id}-")
        os.chmod(self.dir, 0o755)
        self.namespaces = []
        self.procs = []
        self.results = []  # (scenario, ok, seconds, detail)
        self.logs = []  # files to show on failure
        self.capture = None
        self.leftovers = []  # globs of files peers leave on the host (dhcpcd's state)

    # ---- topology ---------------------------------------------------------------------
    def ns(self, role):
        name = f"io{os.getpid() % 10000}-{self.id}-{role}"
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        return name

    def link(self, ns_a, if_a, ns_b, if_b, mac_b=None):
        run(["ip", "link", "add", if_a, "netns", ns_a, "type", "veth", "peer", "name", if_b,
             "netns", ns_b])
        if mac_b:
            run(["ip", "-n", ns_b, "link", "set", if_b, "address", mac_b])
        run(["ip", "-n", ns_a, "link", "set", if_a, "up"])
        run(["ip", "-n", ns_b, "link", "set", if_b, "up"])

    def ip(self, ns, *args, check=True):
        return run(["ip", "-n", ns, *args], check=check).stdout

    def spawn(self, ns, argv, log, env=None):
        self.logs.append(log)
        out = open(log, "ab")
        p = subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdout=out, stderr=out,
                             stdin=subprocess.DEVNULL, env=env)
        self.procs.append(p)
        return p

    def start_capture(self, ns, iface):
        self.capture = os.path.join(self.dir, "capture.pcap")
        self.spawn(ns, ["tcpdump", "-i", iface, "-U", "--immediate-mode", "-n", "-w", self.capture,
                        "port 67 or port 68"], os.path.join(self.dir, "tcpdump.log"))
        wait_for("tcpdump", lambda: "listening on" in read(os.path.join(self.dir, "tcpdump.log")), 10)

    @staticmethod
    def stop(p, sig=signal.SIGTERM, timeout=10):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        return p.returncode

    @classmethod
    def close_all(cls):
        for f in cls.made:
            f.close()

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        for ns in self.namespaces:
            # Whatever still runs in the namespace (dhcpcd's privilege-separation helpers
            # outlive the dhcpcd we started) goes with it.
            for pid in run(["ip", "netns", "pids", ns], check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            run(["ip", "netns", "del", ns], check=False)
        for pattern in self.leftovers:
            for path in glob.glob(pattern):
                try:
                    os.remove(path)
                except OSError:
                    pass

    # ---- scenarios ----------------------------------------------------------------------
    def scenario(self, name, fn):
        """Runs one check; after a failure the flow's later scenarios are not run."""
        if self.results and not self.results[-1][1]:
            self.results.append((name, None, 0.0, "not run (an earlier step failed)"))
            return
        t = time.monotonic()
        try:
            fn()
            self.results.append((name, True, time.monotonic() - t, ""))
        except Exception as e:  # noqa: BLE001 - any error fails the scenario, with its text
            detail = str(e) if isinstance(e, Fail) else traceback.format_exc()
            self.results.append((name, False, time.monotonic() - t, detail))


# ---- our server ---------------------------------------------------------------------------

OUR_CONFIG = """
interfaces = [{interfaces}]
journal = "{dir}/leases.journal"
authoritative = true

[lease]
time = {lease}
min = 10

[options]
dns_servers = ["192.0.2.53"]
domain_name = "example.test"

[[subnet]]
network = "192.0.2.0/24"
pools = ["192.0.2.100-192.0.2.150"]

[subnet.options]
routers = ["192.0.2.1"]

[[subnet.reservation]]
mac = "02:00:00:00:{tag:02x}:42"
address = "192.0.2.42"
{extra}
"""

RELAY_SUBNET = """
[[subnet]]
network = "198.51.100.0/24"
pools = ["198.51.100.100-198.51.100.150"]

[subnet.options]
routers = ["198.51.100.1"]
"""


def start_our_server(flow, ns, runtime, interfaces, extra="", lease=LEASE):
    cfg = os.path.join(flow.dir, "server.toml")
    with open(cfg, "w") as f:
        f.write(OUR_CONFIG.format(interfaces=", ".join(f'"{i}"' for i in interfaces),
                                  dir=flow.dir, lease=lease, tag=flow.id % 256, extra=extra))
    log = os.path.join(flow.dir, "server.log")
    before = read(log).count("serving ")
    p = flow.spawn(ns, [DHCP, "--runtime", runtime, "server", "--config", cfg], log)
    wait_for("our server to serve", lambda: read(log).count("serving ") > before or p.poll() is not None, 15)
    if p.poll() is not None:
        raise Fail(f"our server exited: {read(log)[-2000:]}")
    return p


def journal(flow):
    return [l.split(" ") for l in read(os.path.join(flow.dir, "leases.journal")).splitlines()
            if l and not l.startswith("#")]


def journal_count(flow, kind, address):
    return sum(1 for r in journal(flow) if r[1] == kind and r[2] == address)


def address_of(flow, ns, iface):
    m = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/(\d+)", flow.ip(ns, "-4", "addr", "show", "dev", iface))
    return (m.group(1), int(m.group(2))) if m else None


# ---- peers as servers -----------------------------------------------------------------------

def peer_server_config(kind, d, iface, alt):
    """Config files for a peer server; `alt` serves another network, 198.18.0.0/24 (a client
    that comes back asking for its old address is on the wrong network: NAK)."""
    net = "198.18.0" if alt else "192.0.2"
    lo, hi = f"{net}.100", f"{net}.150"
    routes = "00C000020118C63364C00002FE" if not alt else "00C6120001"
    if kind == "dnsmasq":
        path = os.path.join(d, "dnsmasq.conf")
        with open(path, "w") as f:
            f.write(f"""port=0
no-resolv
no-hosts
user=root
interface={iface}
bind-interfaces
dhcp-authoritative
dhcp-leasefile={d}/dnsmasq.leases
pid-file={d}/dnsmasq.pid
log-dhcp
log-facility=-
no-ping
dhcp-range={lo},{hi},255.255.255.0,2m
dhcp-option=option:T1,10
dhcp-option=option:T2,15
dhcp-option=option:router,{net}.1
dhcp-option=option:dns-server,192.0.2.53
dhcp-option=option:domain-name,example.test
""")
            if not alt:
                f.write("dhcp-option=option:classless-static-route,0.0.0.0/0,192.0.2.1,"
                        "198.51.100.0/24,192.0.2.254\n")
        return ["dnsmasq", "--no-daemon", f"--conf-file={path}"], None
    if kind == "kea":
        path = os.path.join(d, "kea-dhcp4.json")
        with open(path, "w") as f:
            json.dump({"Dhcp4": {
                "interfaces-config": {"interfaces": [iface], "dhcp-socket-type": "raw"},
                "lease-database": {"type": "memfile", "persist": True,
                                   "name": f"{d}/kea-leases4.csv", "lfc-interval": 0},
                "authoritative": True,
                "valid-lifetime": LEASE, "renew-timer": 10, "rebind-timer": 15,
                "subnet4": [{
                    "id": 1, "subnet": f"{net}.0/24", "pools": [{"pool": f"{lo} - {hi}"}],
                    "option-data": [
                        {"name": "routers", "data": f"{net}.1"},
                        {"name": "domain-name-servers", "data": "192.0.2.53"},
                        {"name": "domain-name", "data": "example.test"},
                        {"code": 121, "space": "dhcp4", "csv-format": False, "data": routes},
                    ]}],
                "loggers": [{"name": "kea-dhcp4", "severity": "INFO",
                             "output_options": [{"output": "stdout"}]}],
            }}, f)
        env = dict(os.environ, KEA_PIDFILE_DIR=d, KEA_LOCKFILE_DIR=d)
        return ["kea-dhcp4", "-c", path], env
    if kind == "dhcpd":
        path = os.path.join(d, "dhcpd.conf")
        with open(path, "w") as f:
            f.write(f"""authoritative;
ddns-update-style none;
default-lease-time {LEASE};
max-lease-time {LEASE};
ping-check false;
option dhcp-renewal-time 10;
option dhcp-rebinding-time 15;
option rfc3442-classless-static-routes code 121 = array of integer 8;
subnet {net}.0 netmask 255.255.255.0 {{
  range {lo} {hi};
  option routers {net}.1;
  option domain-name-servers 192.0.2.53;
  option domain-name "example.test";
  option rfc3442-classless-static-routes {"0, 192, 0, 2, 1, 24, 198, 51, 100, 192, 0, 2, 254" if not alt else "0, 198, 18, 0, 1"};
}}
""")
        leases = os.path.join(d, "dhcpd.leases")
        open(leases, "w").close()
        return ["dhcpd", "-4", "-f", "-d", "-cf", path, "-lf", leases,
                "-pf", os.path.join(d, "dhcpd.pid"), iface], None
    raise ValueError(kind)


RELEASED = {
    "dnsmasq": r"DHCPRELEASE\(\S+\) {a}\b",
    "kea": r"DHCP4_RELEASE .*address {a} was released",
    "dhcpd": r"DHCPRELEASE of {a} ",
}
ACKED = {
    "dnsmasq": r"DHCPACK\(\S+\) {a}\b",
    "kea": r"DHCP4_LEASE_ALLOC .*lease {a} has been allocated",
    "dhcpd": r"DHCPACK on {a} ",
}


def our_client_vs(kind, runtime):
    """Our client against a peer server: one flow, its scenarios in order."""
    flow = Flow(f"{kind} server / our client")
    s, c = flow.ns("s"), flow.ns("c")
    siface, ciface = f"s{flow.id}", f"c{flow.id}"
    mac = f"02:00:00:01:{flow.id % 256:02x}:01"
    server = {"p": None, "gen": 0}

    def start_peer(alt):
        d = os.path.join(flow.dir, f"server{server['gen']}")
        server["gen"] += 1
        os.makedirs(d)
        argv, env = peer_server_config(kind, d, siface, alt)
        log = os.path.join(d, "server.log")
        server["p"] = flow.spawn(s, argv, log, env=env)
        server["log"] = log
        server["dir"] = d
        time.sleep(1.5)  # no readiness signal common to all three; their logs say it
        if server["p"].poll() is not None:
            raise Fail(f"{kind} exited: {read(log)[-1500:]}")

    hook = os.path.join(flow.dir, "hook.sh")
    events = os.path.join(flow.dir, "events.log")
    with open(hook, "w") as f:
        f.write(f"""#!/bin/sh
echo "$1 ip=$ip router=$router dns=$dns domain=$domain staticroutes=$staticroutes" >> {events}
""")
    os.chmod(hook, 0o755)
    lease_file = os.path.join(flow.dir, "client.lease")
    client = {"p": None, "n": 0}

    def start_client(release_on_exit=False):
        log = os.path.join(flow.dir, f"client{client['n']}.log")
        client["n"] += 1
        client["log"] = log
        args = [DHCP, "--runtime", runtime, "client", ciface, "--apply",
                "--script", hook, "--lease-file", lease_file]
        client["p"] = flow.spawn(c, args + (["--release-on-exit"] if release_on_exit else []), log)

    def client_log():
        return read(client["log"])

    def bound_lines():
        return [l for l in read(events).splitlines() if l.startswith("bound ")]

    state = {}

    def lease_and_options():
        flow.link(s, siface, c, ciface, mac)
        flow.ip(s, "addr", "add", "192.0.2.1/24", "dev", siface)
        flow.start_capture(s, siface)
        start_peer(alt=False)
        start_client()
        line = wait_for("bound", lambda: (bound_lines() or [None])[0], 30)
        for want in ["router=192.0.2.1", "dns=192.0.2.53", "domain=example.test",
                     "staticroutes=0.0.0.0/0 192.0.2.1 198.51.100.0/24 192.0.2.254"]:
            if want not in line:
                raise Fail(f"hook got {line!r}, no {want!r}")
        a = re.search(r"ip=(\S+)", line).group(1)
        state["a"] = a
        if address_of(flow, c, ciface) != (a, 24):
            raise Fail(f"{a}/24 not on {ciface}: {flow.ip(c, '-4', 'addr')}")
        routes = flow.ip(c, "-4", "route")
        for want in ["default via 192.0.2.1", "198.51.100.0/24 via 192.0.2.254"]:
            if want not in routes:
                raise Fail(f"no route {want!r}: {routes}")

    def renews_at_t1():
        wait_for("the renewal at T1", lambda: "renewed " in client_log(), 20)
        pattern = ACKED[kind].format(a=re.escape(state["a"]))
        wait_for(f"{kind} to log a second ACK",
                 lambda: len(re.findall(pattern, read(server["log"]))) >= 2, 5)

    def rebinds_without_unicast():
        # IP to the server goes to a class whose queue holds nothing: dropped silently
        # (broadcasts and ARP pass). Only what this kernel has: htb, pfifo, u32.
        tc = ["ip", "netns", "exec", c, "tc"]
        run(tc + ["qdisc", "add", "dev", ciface, "root", "handle", "1:", "htb", "default", "10"])
        for cls in ["1:10", "1:20"]:
            run(tc + ["class", "add", "dev", ciface, "parent", "1:", "classid", cls, "htb",
                      "rate", "1gbit"])
        run(tc + ["qdisc", "add", "dev", ciface, "parent", "1:20", "handle", "20:", "pfifo",
                  "limit", "0"])
        run(tc + ["filter", "add", "dev", ciface, "parent", "1:", "protocol", "ip", "u32",
                  "match", "ip", "dst", "192.0.2.1/32", "flowid", "1:20"])
        try:
            wait_for("rebinding at T2", lambda: "rebound " in client_log(), 25)
        finally:
            run(["ip", "netns", "exec", c, "tc", "qdisc", "del", "dev", ciface, "root"], check=False)

    def init_reboot_keeps_the_address():
        # Stopped (SIGTERM) without --release-on-exit: the lease is kept, nothing released.
        if Flow.stop(client["p"]) != 0:
            raise Fail("the client did not exit cleanly on SIGTERM")
        if address_of(flow, c, ciface) != (state["a"], 24):
            raise Fail(f"{state['a']} left the interface when the client stopped")
        if re.search(RELEASED[kind].format(a=re.escape(state["a"])), read(server["log"])):
            raise Fail(f"{kind} saw a RELEASE from a client stopped without --release-on-exit")
        start_client(release_on_exit=True)
        wait_for("bound after the restart", lambda: "bound " in client_log(), 30)
        sent = re.findall(r"Sent DHCP (\w+)(?: for (\S+))?", client_log())
        if not sent or sent[0] != ("REQUEST", state["a"]):
            raise Fail(f"the restarted client sent {sent[:3]}, not a REQUEST for {state['a']}")
        if address_of(flow, c, ciface) != (state["a"], 24):
            raise Fail(f"{state['a']} not kept")

    def new_lease_after_nak():
        Flow.stop(server["p"])
        # The network changed under the client (the server now serves 198.18.0.0/24).
        flow.ip(s, "-4", "addr", "flush", "dev", siface)
        flow.ip(s, "addr", "add", "198.18.0.1/24", "dev", siface)
        start_peer(alt=True)
        # The client comes back (INIT-REBOOT with its lease file): an authoritative server
        # NAKs the address it asks for, and the client starts over.
        Flow.stop(client["p"], signal.SIGKILL)
        flow.ip(c, "-4", "addr", "flush", "dev", ciface)
        start_client(release_on_exit=True)
        wait_for("a NAK", lambda: re.search(r"^nak ", read(events), re.M), 20)
        def new_bound():
            b = bound_lines()
            return b[-1] if b and "ip=198.18.0." in b[-1] else None
        line = wait_for("a new lease from the moved pool", new_bound, 30)
        state["a"] = re.search(r"ip=(\S+)", line).group(1)

    def releases_on_exit():
        if Flow.stop(client["p"]) != 0:
            raise Fail("the client did not exit cleanly on SIGTERM")
        pattern = RELEASED[kind].format(a=re.escape(state["a"]))
        wait_for(f"{kind} to log the release", lambda: re.search(pattern, read(server["log"])), 5)
        if kind == "dnsmasq" and state["a"] in read(os.path.join(server["dir"], "dnsmasq.leases")):
            raise Fail("dnsmasq's lease file still holds the address")
        if address_of(flow, c, ciface):
            raise Fail("the address is still on the interface")
        if not read(events).splitlines()[-1].startswith("deconfig"):
            raise Fail("the hook was not told deconfig")

    flow.logs.append(events)
    for name, fn in [("lease + options applied", lease_and_options),
                     ("renews at T1", renews_at_t1),
                     ("rebinds when unicast is lost", rebinds_without_unicast),
                     ("lease kept when stopped, INIT-REBOOT after the restart", init_reboot_keeps_the_address),
                     ("new lease after NAK", new_lease_after_nak),
                     ("releases on exit with --release-on-exit", releases_on_exit)]:
        flow.scenario(name, fn)
    return flow


# ---- peers as clients ---------------------------------------------------------------------

def peer_client(kind, flow, ns, iface, tag):
    """Starts a peer client; returns (process, events file, release function)."""
    d = os.path.join(flow.dir, f"client-{tag}")
    os.makedirs(d)
    events = os.path.join(d, "events.log")
    open(events, "w").close()
    flow.logs.append(events)
    log = os.path.join(d, "client.log")
    if kind == "dhclient":
        conf, script = os.path.join(d, "dhclient.conf"), os.path.join(d, "script")
        with open(conf, "w") as f:
            f.write("request subnet-mask, routers, domain-name, domain-name-servers;\ntimeout 30;\nretry 5;\n")
        with open(script, "w") as f:
            f.write(f"""#!/bin/sh
echo "$reason ip=$new_ip_address router=$new_routers dns=$new_domain_name_servers" >> {events}
case "$reason" in
    PREINIT) ip link set dev "$interface" up ;;
    BOUND|REBOOT) ip -4 addr flush dev "$interface"
                  ip -4 addr add "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
    RENEW|REBIND) ip -4 addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
    EXPIRE|FAIL|RELEASE|STOP) ip -4 addr flush dev "$interface" ;;
esac
exit 0
""")
        os.chmod(script, 0o755)
        args = ["-4", "-cf", conf, "-lf", os.path.join(d, "leases"), "-pf",
                os.path.join(d, "pid"), "-sf", script]
        p = flow.spawn(ns, ["dhclient", "-d", "-v", *args, iface], log)

        def release():
            run(["ip", "netns", "exec", ns, "dhclient", "-r", "-v", *args, iface])
    elif kind == "udhcpc":
        script = os.path.join(d, "script")
        with open(script, "w") as f:
            f.write(f"""#!/bin/sh
echo "$1 ip=$ip router=$router dns=$dns" >> {events}
case "$1" in
    deconfig) ip -4 addr flush dev "$interface" ;;
    bound|renew) ip -4 addr replace "$ip/${{mask:-24}}" dev "$interface" ;;
esac
exit 0
""")
        os.chmod(script, 0o755)
        p = flow.spawn(ns, ["udhcpc", "-f", "-i", iface, "-s", script, "-p",
                            os.path.join(d, "pid"), "-t", "5", "-T", "2", "-A", "3"], log)

        def release():
            p.send_signal(signal.SIGUSR2)
    elif kind == "dhcpcd":
        conf, hook = os.path.join(d, "dhcpcd.conf"), os.path.join(d, "hook")
        with open(conf, "w") as f:
            f.write("option domain_name_servers, domain_name\nrequire dhcp_server_identifier\n"
                    "ipv4only\nnoarp\nnoipv4ll\n")
        with open(hook, "w") as f:
            f.write(f"""#!/bin/sh
echo "$reason ip=$new_ip_address router=$new_routers dns=$new_domain_name_servers" >> {events}
exit 0
""")
        os.chmod(hook, 0o755)
        args = ["-4", "-f", conf, "-c", hook]
        flow.leftovers += [f"/var/lib/dhcpcd/{iface}*", f"/run/dhcpcd/{iface}*",
                           f"/run/dhcpcd/sock/{iface}*"]
        p = flow.spawn(ns, ["dhcpcd", *args, "-B", "-d", iface], log)

        def release():
            run(["ip", "netns", "exec", ns, "dhcpcd", *args, "-k", iface])
    else:
        raise ValueError(kind)
    return p, events, release


BOUND_EVENT = re.compile(r"^(BOUND|bound|REBOOT) ip=(\S+)", re.M)
RENEW_EVENT = re.compile(r"^(RENEW|renew|REBIND) ip=(\S+)", re.M)


def peer_client_vs_ours(kind, runtime):
    flow = Flow(f"{kind} client / our server")
    s = flow.ns("s")
    flow.ip(s, "link", "add", "br0", "type", "bridge")
    flow.ip(s, "link", "set", "br0", "up")
    flow.ip(s, "addr", "add", "192.0.2.1/24", "dev", "br0")
    clients = {}
    state = {}

    def lease_and_options():
        for tag, mac in [("a", f"02:00:00:02:{flow.id % 256:02x}:01"),
                         ("b", f"02:00:00:02:{flow.id % 256:02x}:02"),
                         ("r", f"02:00:00:00:{flow.id % 256:02x}:42")]:
            ns = flow.ns(tag)
            iface, port = f"{tag}{flow.id}", f"p{tag}{flow.id}"
            flow.link(s, port, ns, iface, mac)
            flow.ip(s, "link", "set", port, "master", "br0")
            clients[tag] = {"ns": ns, "iface": iface}
        flow.start_capture(s, "br0")
        state["server"] = start_our_server(flow, s, runtime, ["br0"])
        for tag, cl in clients.items():
            cl["p"], cl["events"], cl["release"] = peer_client(kind, flow, cl["ns"], cl["iface"], tag)
        for tag, cl in clients.items():
            m = wait_for(f"{kind} {tag} bound", lambda: BOUND_EVENT.search(read(cl["events"])), 40)
            cl["a"] = m.group(2)
            line = read(cl["events"])[m.start():].splitlines()[0]
            for want in ["router=192.0.2.1", "dns=192.0.2.53"]:
                if want not in line:
                    raise Fail(f"{tag}: {line!r} has no {want!r}")
            if address_of(flow, cl["ns"], cl["iface"]) != (cl["a"], 24):
                raise Fail(f"{tag}: {cl['a']}/24 not on its interface")

    def distinct():
        if clients["a"]["a"] == clients["b"]["a"]:
            raise Fail(f"two clients got {clients['a']['a']}")

    def reservation():
        if clients["r"]["a"] != "192.0.2.42":
            raise Fail(f"the reserved client got {clients['r']['a']}")

    def renews():
        a = clients["a"]["a"]
        wait_for("a renewal", lambda: RENEW_EVENT.search(read(clients["a"]["events"])), 20)
        wait_for("the renewal in our journal", lambda: journal_count(flow, "bound", a) >= 2, 5)

    def restart_keeps_leases():
        Flow.stop(state["server"], signal.SIGKILL)
        before = {t: len(RENEW_EVENT.findall(read(c["events"]))) for t, c in clients.items()}
        state["server"] = start_our_server(flow, flow.namespaces[0], runtime, ["br0"])
        for t in ["a", "b"]:
            c = clients[t]
            wait_for(f"{t} to renew with the restarted server",
                     lambda: len(RENEW_EVENT.findall(read(c["events"]))) > before[t], 25)
            got = RENEW_EVENT.findall(read(c["events"]))[-1][1]
            if got != c["a"]:
                raise Fail(f"{t} had {c['a']}, now {got}")

    def releases():
        a = clients["a"]["a"]
        clients["a"]["release"]()
        wait_for("the release in our journal",
                 lambda: journal(flow) and any(r[1] == "released" and r[2] == a for r in journal(flow)), 10)
        wait_for("the address off the interface",
                 lambda: address_of(flow, clients["a"]["ns"], clients["a"]["iface"]) is None, 10)

    for name, fn in [("lease + options applied", lease_and_options),
                     ("two clients, two addresses", distinct),
                     ("reservation's fixed address", reservation),
                     ("renews", renews),
                     ("server killed and restarted keeps leases", restart_keeps_leases),
                     ("releases", releases)]:
        flow.scenario(name, fn)
    return flow


# ---- through a relay --------------------------------------------------------------------

def through_relay(client_kind, runtime):
    flow = Flow(f"dhcrelay + {client_kind} / our server")
    s, r, c = flow.ns("s"), flow.ns("r"), flow.ns("c")
    up_s, up_r, down_r, down_c = f"s{flow.id}", f"ru{flow.id}", f"rd{flow.id}", f"c{flow.id}"
    state = {}

    def lease_from_giaddr_subnet():
        flow.link(s, up_s, r, up_r)
        flow.link(r, down_r, c, down_c, f"02:00:00:03:{flow.id % 256:02x}:01")
        flow.ip(s, "addr", "add", "192.0.2.1/24", "dev", up_s)
        flow.ip(r, "addr", "add", "192.0.2.2/24", "dev", up_r)
        flow.ip(r, "addr", "add", "198.51.100.1/24", "dev", down_r)
        flow.ip(s, "route", "add", "198.51.100.0/24", "via", "192.0.2.2")
        flow.start_capture(s, up_s)
        start_our_server(flow, s, runtime, [up_s], extra=RELAY_SUBNET)
        flow.spawn(r, ["dhcrelay", "-4", "-d", "-a", "-id", down_r, "-iu", up_r, "192.0.2.1"],
                   os.path.join(flow.dir, "relay.log"))
        time.sleep(1)
        if client_kind == "ours":
            o = run(["ip", "netns", "exec", c, DHCP, "--runtime", runtime, "client", down_c,
                     "--once", "--json", "--timeout", "30"], check=False)
            if o.returncode != 0:
                raise Fail(f"our client: {o.stderr[-1500:]}")
            lease = json.loads(o.stdout)
            a, routers = lease["address"], lease["routers"]
        else:
            p, events, _ = peer_client("udhcpc", flow, c, down_c, "far")
            m = wait_for("udhcpc bound", lambda: BOUND_EVENT.search(read(events)), 40)
            a = m.group(2)
            routers = re.search(r"router=(\S*)", read(events)[m.start():]).group(1).split()
        if not re.fullmatch(r"198\.51\.100\.1\d\d", a):
            raise Fail(f"got {a}, not an address of 198.51.100.0/24 (giaddr's subnet)")
        if routers != ["198.51.100.1"]:
            raise Fail(f"routers {routers}")
        state["a"] = a

    def option_82_echoed():
        def replies():
            o = run([DHCP, "decode", "--json", flow.capture])
            got = [p["message"] for p in json.loads(o.stdout)
                   if "message" in p and p["message"]["op"] == "BOOTREPLY"]
            return got if len(got) >= 2 else None
        replies = wait_for("the OFFER and ACK in the capture", replies, 5)
        if not replies:
            raise Fail("no replies captured")
        for m in replies:
            codes = [opt["code"] for opt in m["options"]]
            if 82 not in codes:
                raise Fail(f"a reply without option 82: {codes}")
            if m["giaddr"] != "198.51.100.1":
                raise Fail(f"giaddr {m['giaddr']}")

    flow.scenario("lease from giaddr's subnet", lease_from_giaddr_subnet)
    flow.scenario("option 82 echoed in replies", option_82_echoed)
    return flow


# ---- perfdhcp ---------------------------------------------------------------------------

def perfdhcp(runtime):
    flow = Flow("perfdhcp / our server")
    s, p = flow.ns("s"), flow.ns("p")

    def full_exchanges_no_drops():
        si, pi = f"s{flow.id}", f"p{flow.id}"
        flow.link(s, si, p, pi)
        flow.ip(s, "addr", "add", "10.0.0.1/16", "dev", si)
        flow.ip(p, "addr", "add", "10.0.0.2/16", "dev", pi)
        cfg = os.path.join(flow.dir, "server.toml")
        with open(cfg, "w") as f:
            f.write(f"""interfaces = ["{si}"]
journal = "{flow.dir}/leases.journal"
log_level = "warn"
authoritative = true
[[subnet]]
network = "10.0.0.0/16"
pools = ["10.0.1.0-10.0.255.254"]
""")
        log = os.path.join(flow.dir, "server.log")
        env = dict(os.environ, RUST_LOG="warn")
        srv = flow.spawn(s, [DHCP, "--runtime", runtime, "server", "--config", cfg], log, env=env)
        time.sleep(1)
        if srv.poll() is not None:
            raise Fail(f"server exited: {read(log)}")
        out = os.path.join(flow.dir, "perfdhcp.log")
        # -W: after the 5 s, wait 1 s for the answers still in flight.
        perf = flow.spawn(p, ["perfdhcp", "-4", "-l", pi, "-r", "500", "-p", "5", "-W", "1000000", "-R", "100000",
                              "10.0.0.1"], out)
        try:
            perf.wait(60)
        except subprocess.TimeoutExpired:
            raise Fail("perfdhcp ran over 60 s")
        text = read(out)
        sent = [int(x) for x in re.findall(r"sent packets: (\d+)", text)]
        drops = [int(x) for x in re.findall(r"drops: (\d+)", text)]
        if len(sent) < 2 or sent[0] < 2000 or sent[1] < 2000:
            raise Fail(f"too few exchanges: sent {sent}\n{text[-1500:]}")
        if any(drops) or len(drops) < 2:
            raise Fail(f"drops {drops}\n{text[-1500:]}")
        acked = sum(1 for r in journal(flow) if r[1] == "bound")
        if acked < sent[1]:
            raise Fail(f"{sent[1]} REQUESTs but {acked} leases journaled")

    flow.scenario("relayed DORA at 500/s, no drops", full_exchanges_no_drops)
    return flow


# ---- the matrix -------------------------------------------------------------------------

def report(flows_by_key):
    rows = []
    failed = 0
    for (peer, runtime), flow in flows_by_key:
        for scenario, ok, secs, detail in flow.results:
            mark = "pass" if ok else ("skip" if ok is None else "FAIL")
            if ok is False:
                failed += 1
            rows.append((peer, runtime, scenario, mark, f"{secs:.1f}s"))
    widths = [max(len(r[i]) for r in rows + [("peer", "runtime", "scenario", "result", "time")]) for i in range(5)]
    line = "  ".join("{:<%d}" % w for w in widths)
    print(line.format("peer", "runtime", "scenario", "result", "time"))
    print(line.format(*("-" * w for w in widths)))
    for r in rows:
        print(line.format(*r))
    for (peer, runtime), flow in flows_by_key:
        bad = [r for r in flow.results if r[1] is False]
        if not bad:
            continue
        print(f"\n===== FAILED: {peer} on {runtime}: {bad[0][0]}\n{bad[0][3]}")
        for log in flow.logs:
            print(f"----- {log}\n{read(log)[-4000:]}")
        if flow.capture and os.path.exists(flow.capture):
            dec = run([DHCP, "decode", flow.capture], check=False)
            print(f"----- capture ({flow.capture})\n{dec.stdout[-6000:]}")
    return failed


def main():
    global DHCP
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dhcp", default=DHCP)
    ap.add_argument("--only", default="", help="run the flows whose name contains this")
    ap.add_argument("--jobs", type=int, default=9)
    ap.add_argument("--runtimes", default=",".join(RUNTIMES))
    args = ap.parse_args()
    DHCP = os.path.abspath(args.dhcp)
    if os.geteuid() != 0:
        sys.exit("interop needs root (network namespaces)")
    for tool in ["dnsmasq", "kea-dhcp4", "dhcpd", "dhclient", "udhcpc", "dhcpcd", "dhcrelay",
                 "perfdhcp", "tcpdump", "tc"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (scripts/setup installs the peers)")
    runtimes = args.runtimes.split(",")
    jobs = []
    for rt in runtimes:
        for kind in ["dnsmasq", "kea", "dhcpd"]:
            jobs.append(((f"{kind} (server)", rt), lambda k=kind, rt=rt: our_client_vs(k, rt)))
        for kind in ["dhclient", "udhcpc", "dhcpcd"]:
            jobs.append(((f"{kind} (client)", rt), lambda k=kind, rt=rt: peer_client_vs_ours(k, rt)))
        for kind in ["ours", "udhcpc"]:
            jobs.append(((f"dhcrelay + {kind} client", rt), lambda k=kind, rt=rt: through_relay(k, rt)))
    perf = [((f"perfdhcp (relay)", rt), lambda rt=rt: perfdhcp(rt)) for rt in runtimes]
    if args.only:
        jobs = [j for j in jobs if args.only in j[0][0]]
        perf = [j for j in perf if args.only in j[0][0]]
    started = time.monotonic()
    done = []

    def go(job):
        key, fn = job
        try:
            flow = fn()
        except Exception:  # noqa: BLE001 - a flow that crashed is a failed flow
            flow = Flow(key[0])
            flow.results.append(("setup", False, 0.0, traceback.format_exc()))
        flow.close()
        return key, flow

    def run_all(batch, workers):
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
            return list(ex.map(go, batch))

    try:
        done += run_all(jobs, args.jobs)
        # perfdhcp needs the machine's cores to itself: one run at a time, after the rest.
        done += run_all(perf, 1)
    finally:
        Flow.close_all()
    failed = report(done)
    print(f"\ninterop: {sum(len(f.results) for _, f in done)} scenarios, {failed} failed, "
          f"{time.monotonic() - started:.0f} s")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
