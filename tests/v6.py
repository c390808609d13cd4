#!/usr/bin/env python3
"""DHCPv6 interop: real DHCPv6 clients, a relay, perfdhcp and packets built by scapy against
our `dhcp server` (its [server6] / [[subnet6]] side), against kea-dhcp6 or against dnsmasq,
in network namespaces this script creates and always removes.

    sudo tests/v6.py [--dhcp target/release/dhcp] [--peer ours|kea|dnsmasq|both|all] [--only TEXT]

--peer both runs ours and Kea, --peer all ours, Kea and dnsmasq; either ends with a table
of every scenario against every peer.

Topology (one set per peer, IPv6 enabled only inside the namespaces, no DAD):

    client ns  v6t-cli ---- v6t-srv  server ns (2001:db8:1::1/64)   v6t-up (2001:db8:ff::1/64)
                                                                        |
    relayed ns v6t-rcl ---- v6t-rdn  relay ns (2001:db8:2::1/64)    v6t-rup (2001:db8:ff::2/64)

The server (ours, or kea-dhcp6 with the same subnets, pools, pd pool, options and lifetimes,
its memfile lease file in the temp dir) serves 2001:db8:1::/64 to the directly attached
link (pool ::100-::1ff, prefixes /56 out of 2001:db8:100::/48) and 2001:db8:2::/64 to
clients behind the relay (selected by the relay's link address). Lifetimes are short
(preferred 20, valid 40, T1 5, T2 8 s) so that a renewal comes within seconds.

dnsmasq (Debian's) runs in the server namespace in the foreground with a config file, pid
file and lease file of its own in the temp dir (never /etc/dnsmasq.conf), --port=0 (no
DNS), no router advertisements (no enable-ra), bound to v6t-srv and v6t-up, with
dhcp-authoritative (preference 255, as the others are configured), the same two ranges
(the relayed one chosen by the relay's link address, RELAY-FORW coming to 2001:db8:ff::1)
and the same DNS server and search list. What it cannot express: one lease time per range,
at least 120 s (it raises shorter ones), so preferred = valid = 120 s, T1 60 s and T2 105 s
(half and 7/8 of it): its renewal scenario waits a minute, so under --peer all its flow runs
beside ours and Kea's (in namespaces of its own; perfdhcp runs one at a time) and the whole
run stays under a minute and a half. It does no prefix delegation and has no setting for
DHCPv6 rapid commit.

Scenarios, in this order (one line each, PASS or FAIL with what was seen):
- dhclient -6 gets an IA_NA address from the pool and the DNS server (its lease file too);
  renews it at T1 (a RENEW for the same address answered with it, on the wire); releases
  it with -r (a RELEASE and a REPLY with status Success, on the wire); dhclient -6 -P gets
  a /56 from the pd pool;
- dhcpcd (ia_na + ia_pd) gets an address and a prefix;
- wide-dhcpv6-client (dhcp6c) gets a delegated /56 (and an address), on the wire;
- packets built by scapy, sent from the client namespace (port 546 on its link-local
  address): SOLICIT without client id and SOLICIT with a server id are not answered; a
  REQUEST by unicast to 2001:db8:1::1 gets REPLY UseMulticast (RFC 8415 18.4); CONFIRM of
  an on-link address gets Success, of an off-link one NotOnLink; INFORMATION-REQUEST with
  ORO 23 gets the DNS server; a SOLICIT with two IA_NAs gets two distinct addresses; a
  SOLICIT with rapid commit gets an ADVERTISE while the server does not allow it; a
  DECLINEd address is not offered to the next client;
- dhcrelay -6 (with -I) between dhclient -6 and the server: an address of 2001:db8:2::/64,
  RELAY-FORW in and RELAY-REPL out on the wire with the interface-id echoed;
- perfdhcp -6 on the direct link: SARR exchanges at 50/s with at most 1 % drops;
- the server restarted with rapid commit allowed on the subnet: a SOLICIT with rapid
  commit gets a REPLY with rapid commit and a bound address.

Where this suite checks the server's own state (lease bound, released, declined) it reads
ours' leases.journal6, Kea's memfile or dnsmasq's lease file (which holds only current
leases: a released or declined one leaves it, and its log has the DHCPRELEASE or
DHCPDECLINE). Where Kea or dnsmasq is known to differ from RFC 8415, the scenario checks
what that peer does for that peer and says so ("pass*" in the table, the rule on its PASS
line), and the RFC's behaviour for ours:
- the unicast REQUEST (18.4: MUST get REPLY UseMulticast, the client never having had a
  Server Unicast option): Kea and dnsmasq (2.90) both serve it, binding the address
  (dnsmasq's UseMulticast branch tests whether the client's source address is multicast);
- the DECLINE: Kea puts its Success status only inside the IA_NA, not at the top level
  (18.3.8: MUST); dnsmasq answers Success at the top level but drops the lease and keeps no
  mark on the address, offering it again to the next client asking for it (18.3.8: SHOULD
  mark it so that it is not assigned to other clients). The client not asking for it is
  not checked for dnsmasq (its hash of the client id could land there).
Where a peer cannot do a scenario it is "n/a" with the reason, neither passed nor failed:
for dnsmasq the three prefix delegation ones (dhclient -6 -P, dhcpcd's ia_pd, dhcp6c) and
"rapid commit, not allowed" (it always commits: the scenario still sends the SOLICIT and
checks that the answer is a committing REPLY). dnsmasq does rapid commit for v6 (the man
page's --dhcp-rapid-commit is the DHCPv4 switch only), so "rapid commit, allowed" runs
against it as against the others (restarted with the same config).

Every wait is bounded; a run takes about 30 s per peer (a minute for both, 85 s for all);
everything is removed afterwards (V6_KEEP=1 keeps the temp dirs). Needs root, iproute2,
tcpdump, dhclient, dhcpcd, dhcp6c, dhcrelay, perfdhcp, kea-dhcp6 for --peer kea, dnsmasq for
--peer dnsmasq, and scapy (Debian's python3-scapy: when the python3 running this cannot
import scapy, the script runs itself again with /usr/bin/python3). `scripts/setup` installs
them all.
"""

import argparse
import glob
import ipaddress
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import Fail, Flow, read, run, wait_for  # noqa: E402

SELF = os.path.abspath(__file__)
DHCP = "target/release/dhcp"
# The async runtime our server runs on (`dhcp --runtime`).
RUNTIME = "tokio"
PREFIX = "v6t"  # namespaces v6t<pid>-<n>-<role>, temp dirs /tmp/v6t-<pid>-<n>-*
REPLY_WAIT = 2.0  # seconds a probe waits for the reply to one packet
NO_REPLY_WAIT = 2.0  # seconds it waits when none should come

# Interface names (each namespace has its own, so they are the same for every peer).
SRV_IF, UP_IF = "v6t-srv", "v6t-up"  # server ns: to the client, to the relay
CLI_IF = "v6t-cli"  # client ns
RUP_IF, RDN_IF = "v6t-rup", "v6t-rdn"  # relay ns: to the server, to the relayed client
RCL_IF = "v6t-rcl"  # relayed client ns

SERVER_ADDR, SERVER_UP = "2001:db8:1::1", "2001:db8:ff::1"  # the server's, to the client, to the relay
RELAY_UP, RELAY_DOWN = "2001:db8:ff::2", "2001:db8:2::1"  # the relay's, to the server, to its client
SUBNET1, SUBNET2 = "2001:db8:1::/64", "2001:db8:2::/64"
POOL1 = ("2001:db8:1::100", "2001:db8:1::1ff")
POOL2 = ("2001:db8:2::100", "2001:db8:2::1ff")
PD_POOL, PD_LEN = "2001:db8:100::/48", 56
DNS, SEARCH = "2001:db8::53", "example.test"
LIFETIMES = {"preferred": 20, "valid": 40, "renewal": 5, "rebinding": 8}
# dnsmasq has one lease time per range, at least 120 s (shorter ones it raises to 120): its
# preferred and valid lifetimes are that, T1 half of it and T2 7/8 of it.
DNSMASQ_LEASE = max(120, LIFETIMES["valid"])

# Message types and option codes (RFC 8415 sections 7.3 and 21).
SOLICIT, ADVERTISE, REQUEST, CONFIRM, RENEW, REBIND, REPLY, RELEASE, DECLINE = range(1, 10)
INFORMATION_REQUEST, RELAY_FORW, RELAY_REPL = 11, 12, 13
TYPE_NAMES = {1: "SOLICIT", 2: "ADVERTISE", 3: "REQUEST", 4: "CONFIRM", 5: "RENEW", 6: "REBIND",
              7: "REPLY", 8: "RELEASE", 9: "DECLINE", 10: "RECONFIGURE", 11: "INFORMATION-REQUEST",
              12: "RELAY-FORW", 13: "RELAY-REPL"}
O_CLIENTID, O_SERVERID, O_IA_NA, O_IAADDR, O_ORO, O_PREFERENCE = 1, 2, 3, 5, 6, 7
O_RELAY_MSG, O_STATUS, O_RAPID_COMMIT, O_INTERFACE_ID = 9, 13, 14, 18
O_DNS, O_IA_PD, O_IAPREFIX = 23, 25, 26
SUCCESS, NOT_ON_LINK, USE_MULTICAST = 0, 4, 5
OPT_NAMES = {1: "client-id", 2: "server-id", 3: "IA_NA", 4: "IA_TA", 5: "IAADDR", 6: "ORO",
             7: "preference", 8: "elapsed", 9: "relay-msg", 13: "status", 14: "rapid-commit",
             18: "interface-id", 23: "dns", 24: "domain-list", 25: "IA_PD", 26: "IAPREFIX",
             37: "remote-id", 39: "fqdn", 79: "client-linklayer-addr"}


def in_pool(addr, pool):
    a = ipaddress.IPv6Address(addr)
    return ipaddress.IPv6Address(pool[0]) <= a <= ipaddress.IPv6Address(pool[1])


# ---- DHCPv6 messages read back (RFC 8415 sections 8, 9, 21) ----------------------------------

class Msg:
    """One DHCPv6 message or relay message: `type`, `xid` (client/server messages) or
    `hops`, `link`, `peer` (relays), `opts` [(code, value)], `src`/`dst`/`iface` when it
    came from a capture. Values: IA_NA / IA_PD and IAADDR / IAPREFIX as dicts with their own
    `opts`, status as (code, text), DNS as a list of addresses, relay-msg as a Msg, the rest
    as bytes."""

    def __init__(self, data):
        if not data:
            raise ValueError("empty message")
        self.type = data[0]
        self.src = self.dst = self.iface = None
        if self.type in (RELAY_FORW, RELAY_REPL):
            if len(data) < 34:
                raise ValueError("short relay message")
            self.hops = data[1]
            self.link = str(ipaddress.IPv6Address(data[2:18]))
            self.peer = str(ipaddress.IPv6Address(data[18:34]))
            self.xid = None
            self.opts = parse_options(data[34:])
        else:
            if len(data) < 4:
                raise ValueError("short message")
            self.xid = int.from_bytes(data[1:4], "big")
            self.opts = parse_options(data[4:])

    @property
    def name(self):
        return TYPE_NAMES.get(self.type, f"type-{self.type}")

    def all(self, code):
        return [v for c, v in self.opts if c == code]

    def get(self, code):
        found = self.all(code)
        return found[0] if found else None

    def status(self):
        """The top-level status code, (code, text), or None."""
        return self.get(O_STATUS)

    def inner(self):
        """The client/server message inside however many relay layers."""
        m = self
        while m.type in (RELAY_FORW, RELAY_REPL):
            m = m.get(O_RELAY_MSG)
            if m is None:
                raise Fail(f"a relay message without a relay-msg option: {self}")
        return m

    def addresses(self):
        """[(iaid, address, preferred, valid)] of every IA_NA."""
        return [(ia["iaid"], a["addr"], a["preferred"], a["valid"])
                for ia in self.all(O_IA_NA) for c, a in ia["opts"] if c == O_IAADDR]

    def prefixes(self):
        """[(iaid, "prefix/len", preferred, valid)] of every IA_PD."""
        return [(ia["iaid"], f"{p['prefix']}/{p['len']}", p["preferred"], p["valid"])
                for ia in self.all(O_IA_PD) for c, p in ia["opts"] if c == O_IAPREFIX]

    def __str__(self):
        where = f"{self.src} > {self.dst}: " if self.src else ""
        head = (f"{self.name} hops={self.hops} link={self.link} peer={self.peer}"
                if self.xid is None else f"{self.name} xid={self.xid:06x}")
        return f"{where}{head} ({show_options(self.opts)})"


def parse_options(data):
    opts = []
    i = 0
    while i + 4 <= len(data):
        code, length = struct.unpack("!HH", data[i:i + 4])
        body = data[i + 4:i + 4 + length]
        if len(body) != length:
            raise ValueError(f"option {code} runs past the message")
        opts.append((code, parse_value(code, body)))
        i += 4 + length
    if i != len(data):
        raise ValueError("trailing bytes after the options")
    return opts


def parse_value(code, body):
    if code in (O_IA_NA, O_IA_PD) and len(body) >= 12:
        iaid, t1, t2 = struct.unpack("!III", body[:12])
        return {"iaid": iaid, "t1": t1, "t2": t2, "opts": parse_options(body[12:])}
    if code == O_IAADDR and len(body) >= 24:
        pref, valid = struct.unpack("!II", body[16:24])
        return {"addr": str(ipaddress.IPv6Address(body[:16])), "preferred": pref, "valid": valid,
                "opts": parse_options(body[24:])}
    if code == O_IAPREFIX and len(body) >= 25:
        pref, valid, plen = struct.unpack("!IIB", body[:9])
        return {"prefix": str(ipaddress.IPv6Address(body[9:25])), "len": plen, "preferred": pref,
                "valid": valid, "opts": parse_options(body[25:])}
    if code == O_STATUS and len(body) >= 2:
        return (struct.unpack("!H", body[:2])[0], body[2:].decode("utf-8", "replace"))
    if code == O_DNS and len(body) % 16 == 0:
        return [str(ipaddress.IPv6Address(body[i:i + 16])) for i in range(0, len(body), 16)]
    if code == O_RELAY_MSG:
        return Msg(body)
    return body


def show_options(opts):
    out = []
    for code, v in opts:
        name = OPT_NAMES.get(code, f"opt-{code}")
        if isinstance(v, dict) and "iaid" in v:
            out.append(f"{name} iaid={v['iaid']} T1={v['t1']} T2={v['t2']} [{show_options(v['opts'])}]")
        elif isinstance(v, dict) and "addr" in v:
            out.append(f"{name} {v['addr']} pref={v['preferred']} valid={v['valid']}"
                       + (f" [{show_options(v['opts'])}]" if v["opts"] else ""))
        elif isinstance(v, dict):
            out.append(f"{name} {v['prefix']}/{v['len']} pref={v['preferred']} valid={v['valid']}"
                       + (f" [{show_options(v['opts'])}]" if v["opts"] else ""))
        elif code == O_STATUS and isinstance(v, tuple):
            out.append(f"{name} {v[0]} {v[1]!r}")
        elif code == O_DNS and isinstance(v, list):
            out.append(f"{name} {' '.join(v)}")
        elif isinstance(v, Msg):
            out.append(f"{name} <{v}>")
        else:
            out.append(f"{name} {v.hex()}" if v else name)
    return ", ".join(out)


def read_capture(path):
    """The DHCPv6 messages of a pcap file (scapy's reader), oldest first."""
    from scapy.layers.inet import UDP
    from scapy.layers.inet6 import IPv6
    from scapy.utils import PcapReader

    msgs = []
    if not os.path.exists(path):
        return msgs
    try:
        with PcapReader(path) as pcap:
            for pkt in pcap:
                if IPv6 not in pkt or UDP not in pkt:
                    continue
                udp = pkt[UDP]
                if {udp.sport, udp.dport} & {546, 547}:
                    try:
                        m = Msg(bytes(udp.payload))
                    except (ValueError, Fail) as e:
                        raise Fail(f"a malformed DHCPv6 message on the wire ({e}): "
                                   f"{bytes(udp.payload).hex()}")
                    m.src, m.dst = f"[{pkt[IPv6].src}]:{udp.sport}", f"[{pkt[IPv6].dst}]:{udp.dport}"
                    msgs.append(m)
    except EOFError:
        pass  # a record tcpdump was still writing
    return msgs


def show_all(msgs, limit=30):
    lines = [f"    {m}" for m in msgs[-limit:]]
    return "\n".join(lines) if lines else "    (nothing captured)"


# ---- packets built by scapy -------------------------------------------------------------------

def scapy():
    import scapy.layers.dhcp6 as d6
    return d6


def duid(mac):
    d6 = scapy()
    return d6.DUID_LL(lladdr=mac)


def build(kind, mac, xid, *opts, client_id=True):
    """A client message of scapy class `kind` (e.g. "DHCP6_Solicit") with the client id of
    `mac` (unless client_id=False), elapsed time, and `opts`, as bytes."""
    d6 = scapy()
    msg = getattr(d6, kind)(trid=xid)
    if client_id:
        msg = msg / d6.DHCP6OptClientId(duid=duid(mac))
    msg = msg / d6.DHCP6OptElapsedTime(elapsedtime=0)
    for o in opts:
        msg = msg / o
    return bytes(msg)


def ia_na(iaid, *addrs):
    d6 = scapy()
    return d6.DHCP6OptIA_NA(iaid=iaid, T1=0, T2=0,
                            ianaopts=[d6.DHCP6OptIAAddress(addr=a, preflft=0, validlft=0) for a in addrs])


def server_id_opt(raw):
    """The server id option carrying `raw` (the DUID's bytes as read back, whatever its
    type)."""
    return scapy().DHCP6OptUnknown(optcode=O_SERVERID, data=raw)


def oro(*codes):
    return scapy().DHCP6OptOptReq(reqopts=list(codes))


def rapid_commit():
    return scapy().DHCP6OptRapidCommit()


# ---- the probe: runs inside the client namespace ---------------------------------------------

def probe():
    """Reads {"iface", "src", "packets": [{"hex", "dst", "wait"}]} on stdin; binds UDP port
    546 on `src` (the link-local address of `iface`), sends each packet in turn to
    [dst]:547 and prints, as JSON, the list of the replies (hex) with its transaction id,
    per packet. It stops listening for one packet's replies `wait` seconds after sending,
    or 0.3 s after the first reply."""
    job = json.load(sys.stdin)
    scope = socket.if_nametoindex(job["iface"])
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, job["iface"].encode())
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, scope)
    s.bind((job["src"], 546, 0, scope))
    out = []
    for p in job["packets"]:
        data = bytes.fromhex(p["hex"])
        dst = p["dst"]
        s.sendto(data, (dst, 547, 0, scope if dst.startswith(("ff02:", "fe80:")) else 0))
        replies = []
        give_up = time.monotonic() + p["wait"]
        while True:
            left = give_up - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([s], [], [], left)
            if ready:
                r, _ = s.recvfrom(65535)
                if len(r) >= 4 and r[1:4] == data[1:4]:
                    replies.append(r.hex())
                    give_up = min(give_up, time.monotonic() + 0.3)
        out.append(replies)
    json.dump(out, sys.stdout)


# ---- the topology, the servers and the clients ------------------------------------------------

class V6Flow(Flow):
    """interop's Flow, with namespaces named after this suite (a later run removes what a
    killed one left) and IPv6 turned on, without duplicate address detection, inside them."""

    def __init__(self, peer):
        super().__init__(f"v6 {peer}", prefix=f"{PREFIX}-{os.getpid()}")
        self.peer = peer
        self.server = None
        self.server_log = None
        self.host_files = []  # files peers write on the host that were not there before

    def ns(self, role):
        name = f"{PREFIX}{os.getpid()}-{self.id}-{role}"
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        run(["ip", "netns", "exec", name, "sysctl", "-q", "-w",
             "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0",
             "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
             "net.ipv6.conf.all.accept_ra=0", "net.ipv6.conf.default.accept_ra=0"])
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        return name

    def link_local(self, ns, iface):
        out = self.ip(ns, "-6", "addr", "show", "dev", iface, "scope", "link")
        m = re.search(r"inet6 (fe80::[0-9a-f:]+)/64 scope link", out)
        return m.group(1) if m and "tentative" not in out else None

    def setup(self):
        self.s, self.c, self.r, self.rc = self.ns("s"), self.ns("c"), self.ns("r"), self.ns("rc")
        tag = self.id % 256
        self.link(self.s, SRV_IF, self.c, CLI_IF, f"02:00:00:60:{tag:02x}:01")
        self.link(self.s, UP_IF, self.r, RUP_IF)
        self.link(self.r, RDN_IF, self.rc, RCL_IF, f"02:00:00:60:{tag:02x}:02")
        self.ip(self.s, "-6", "addr", "add", f"{SERVER_ADDR}/64", "dev", SRV_IF, "nodad")
        self.ip(self.s, "-6", "addr", "add", f"{SERVER_UP}/64", "dev", UP_IF, "nodad")
        self.ip(self.s, "-6", "route", "add", SUBNET2, "via", RELAY_UP)
        self.ip(self.r, "-6", "addr", "add", f"{RELAY_UP}/64", "dev", RUP_IF, "nodad")
        self.ip(self.r, "-6", "addr", "add", f"{RELAY_DOWN}/64", "dev", RDN_IF, "nodad")
        # The client reaches the server's global address on its link (the unicast REQUEST).
        self.ip(self.c, "-6", "route", "add", SUBNET1, "dev", CLI_IF)
        self.lladdr = {}
        for ns, iface in [(self.s, SRV_IF), (self.s, UP_IF), (self.c, CLI_IF), (self.r, RUP_IF),
                          (self.r, RDN_IF), (self.rc, RCL_IF)]:
            self.lladdr[iface] = wait_for(f"the link-local address of {iface}",
                                          lambda: self.link_local(ns, iface), 10)

    def start_capture6(self, ns, iface, name):
        """tcpdump of DHCPv6 on `iface`; returns (process, pcap path)."""
        path = os.path.join(self.dir, f"{name}.pcap")
        log = os.path.join(self.dir, f"{name}.tcpdump.log")
        p = self.spawn(ns, ["tcpdump", "-i", iface, "-U", "--immediate-mode", "-n", "-w", path,
                            "udp port 546 or udp port 547"], log)
        wait_for("tcpdump", lambda: "listening on" in read(log) or p.poll() is not None, 10)
        if p.poll() is not None:
            raise Fail(f"tcpdump exited: {read(log)}")
        return p, path

    def stop_capture(self, cap):
        time.sleep(0.3)  # the last reply's record
        Flow.stop(cap[0], signal.SIGINT)
        return read_capture(cap[1])

    def listening(self):
        out = run(["ip", "netns", "exec", self.s, "ss", "-H", "-u", "-l", "-n"], check=False).stdout
        return re.search(r":547\s", out) is not None

    # ---- the server -------------------------------------------------------------------------
    def start_server(self, rapid=False):
        if self.server is not None:
            Flow.stop(self.server)
            wait_for("port 547 to close", lambda: not self.listening(), 10)
        if self.peer == "kea":
            argv, env, ready = self.kea_config(rapid)
        elif self.peer == "dnsmasq":
            argv, env, ready = self.dnsmasq_config(rapid)
        else:
            argv, env, ready = self.our_config(rapid)
        self.server = self.spawn(self.s, argv, self.server_log, env=env)
        wait_for(f"{self.peer} to listen on UDP 547",
                 lambda: (self.listening() and ready()) or self.server.poll() is not None, 20)
        if self.server.poll() is not None:
            who = {"ours": "our server", "kea": "kea-dhcp6"}.get(self.peer, self.peer)
            raise Fail(f"{who} exited ({self.server.returncode}): {read(self.server_log)[-3000:]}")

    def kea_config(self, rapid):
        path = os.path.join(self.dir, "kea-dhcp6.json")
        self.server_log = os.path.join(self.dir, "kea-dhcp6.log")
        with open(path, "w") as f:
            json.dump({"Dhcp6": {
                # Unicast sockets on the global addresses as well as ff02::1:2: the REQUEST
                # by unicast and the relay's RELAY-FORW come to them.
                "interfaces-config": {"interfaces": [f"{SRV_IF}/{SERVER_ADDR}", f"{UP_IF}/{SERVER_UP}"]},
                "lease-database": {"type": "memfile", "persist": True,
                                   "name": os.path.join(self.dir, "kea-leases6.csv"), "lfc-interval": 0},
                "data-directory": self.dir,
                "server-id": {"type": "LL", "persist": False},
                "preferred-lifetime": LIFETIMES["preferred"], "valid-lifetime": LIFETIMES["valid"],
                "renew-timer": LIFETIMES["renewal"], "rebind-timer": LIFETIMES["rebinding"],
                "decline-probation-period": 86400,
                "option-data": [{"name": "preference", "data": "255", "always-send": True},
                                {"name": "dns-servers", "data": DNS},
                                {"name": "domain-search", "data": SEARCH}],
                "subnet6": [
                    {"id": 1, "subnet": SUBNET1, "interface": SRV_IF, "rapid-commit": rapid,
                     "pools": [{"pool": f"{POOL1[0]}-{POOL1[1]}"}],
                     "pd-pools": [{"prefix": PD_POOL.split("/")[0], "prefix-len": int(PD_POOL.split("/")[1]),
                                   "delegated-len": PD_LEN}]},
                    {"id": 2, "subnet": SUBNET2, "pools": [{"pool": f"{POOL2[0]}-{POOL2[1]}"}]},
                ],
                "loggers": [{"name": "kea-dhcp6", "severity": "INFO",
                             "output_options": [{"output": "stdout"}]}],
            }}, f, indent=1)
        env = dict(os.environ, KEA_PIDFILE_DIR=self.dir, KEA_LOCKFILE_DIR=self.dir)
        before = read(self.server_log).count("DHCP6_STARTED")
        return (["kea-dhcp6", "-c", path], env,
                lambda: read(self.server_log).count("DHCP6_STARTED") > before)

    def dnsmasq_config(self, rapid):
        """dnsmasq as a DHCPv6 server only, with its own files in the temp dir (never the
        system's /etc/dnsmasq.conf): no DNS (port 0), no router advertisements (no
        enable-ra), both subnets' ranges (the relayed one is chosen by the relay's link
        address), the DNS server and search list. It has no prefix delegation and no switch
        for rapid commit (`rapid` changes nothing: it always honours it)."""
        path = os.path.join(self.dir, "dnsmasq.conf")
        self.server_log = os.path.join(self.dir, "dnsmasq.log")
        with open(path, "w") as f:
            f.write(f"""no-resolv
no-hosts
# its files are root's, in the temp dir
user=root
# preference 255 in ADVERTISE, as the other peers are configured
dhcp-authoritative
log-dhcp
log-facility=-
dhcp-range={POOL1[0]},{POOL1[1]},64,{DNSMASQ_LEASE}
dhcp-range={POOL2[0]},{POOL2[1]},64,{DNSMASQ_LEASE}
dhcp-option=option6:dns-server,[{DNS}]
dhcp-option=option6:domain-search,{SEARCH}
""")
        before = read(self.server_log).count("DHCPv6, IP range")
        return (["dnsmasq", "--no-daemon", f"--conf-file={path}",
                 f"--pid-file={os.path.join(self.dir, 'dnsmasq.pid')}",
                 f"--dhcp-leasefile={self.dnsmasq_leases()}", "--port=0",
                 f"--interface={SRV_IF}", f"--interface={UP_IF}", "--bind-interfaces"], None,
                lambda: read(self.server_log).count("DHCPv6, IP range") >= before + 2)

    def dnsmasq_leases(self):
        return os.path.join(self.dir, "dnsmasq.leases")

    def our_config(self, rapid):
        path = os.path.join(self.dir, "server.toml")
        self.server_log = os.path.join(self.dir, "server.log")
        with open(path, "w") as f:
            f.write(f"""journal = "leases.journal"
interfaces = ["{SRV_IF}", "{UP_IF}"]

[server6]
preference = 255
rapid_commit = false
decline_probation = 86400

[server6.lease]
preferred = {LIFETIMES["preferred"]}
valid = {LIFETIMES["valid"]}
renewal = {LIFETIMES["renewal"]}
rebinding = {LIFETIMES["rebinding"]}

[server6.options]
dns_servers = ["{DNS}"]
domain_search = ["{SEARCH}"]

[[subnet6]]
prefix = "{SUBNET1}"
interface = "{SRV_IF}"
pools = ["{POOL1[0]}-{POOL1[1]}"]
pd_pools = [{{ prefix = "{PD_POOL}", delegated_len = {PD_LEN} }}]
rapid_commit = {"true" if rapid else "false"}

[[subnet6]]
prefix = "{SUBNET2}"
pools = ["{POOL2[0]}-{POOL2[1]}"]
""")
        return [DHCP, "--runtime", RUNTIME, "server", "--config", path], None, lambda: True

    # ---- scapy exchanges from the client namespace --------------------------------------------
    def send(self, packets):
        """Sends [(bytes, dst, wait)] from the client's link-local address, port 546; the
        replies (Msg) to each."""
        job = {"iface": CLI_IF, "src": self.lladdr[CLI_IF],
               "packets": [{"hex": p.hex(), "dst": d, "wait": w} for p, d, w in packets]}
        budget = sum(w for _, _, w in packets) + 10
        r = run(["ip", "netns", "exec", self.c, sys.executable, SELF, "--probe"],
                input=json.dumps(job), timeout=budget)
        return [[Msg(bytes.fromhex(h)) for h in replies] for replies in json.loads(r.stdout)]

    def one(self, packet, want, dst="ff02::1:2"):
        """The one reply of type `want` to `packet`, with the server id and the packet's
        client id (RFC 8415 18.3: MUST)."""
        replies = self.send([(packet, dst, REPLY_WAIT)])[0]
        return expect_reply(packet, replies, want)

    def none(self, packet, control):
        """No answer to `packet`, and then an ADVERTISE to `control` (a valid SOLICIT: the
        server was listening all along)."""
        replies, after = self.send([(packet, "ff02::1:2", NO_REPLY_WAIT), (control, "ff02::1:2", REPLY_WAIT)])
        if replies:
            raise Fail("want no answer, got: " + "; ".join(str(r) for r in replies))
        expect_reply(control, after, ADVERTISE)

    # ---- the server's lease store -----------------------------------------------------------
    def records(self):
        """The server's lease records, oldest first: [("address/len", state)] with state
        bound, released, declined or expired (ours: leases.journal6; Kea: its memfile;
        dnsmasq: its lease file, which holds only the leases it has now, all bound)."""
        out = []
        if self.peer == "dnsmasq":
            # "<expiry> <iaid> <address> <hostname> <client id>" after a "duid ..." line.
            for line in read(self.dnsmasq_leases()).splitlines():
                f = line.split()
                if len(f) >= 5 and f[0] != "duid" and ":" in f[2]:
                    out.append((f"{f[2]}/128", "bound"))
        elif self.peer == "kea":
            for row in read(os.path.join(self.dir, "kea-leases6.csv")).splitlines()[1:]:
                f = row.split(",")
                if len(f) < 14:
                    continue
                state = {"0": "bound" if f[2] != "0" else "released", "1": "declined",
                         "2": "expired"}.get(f[13], f"state-{f[13]}")
                out.append((f"{f[0]}/{f[8]}", state))
        else:
            for line in read(os.path.join(self.dir, "leases.journal6")).splitlines():
                f = line.split()
                if len(f) >= 3 and not line.startswith("#"):
                    out.append((f[2], f[1].split("-")[0]))
        return out

    def wait_record(self, key, state, timeout=5):
        """Waits until the server's last record of `key` ("address/len") says `state`.
        dnsmasq keeps no record of a lease it let go: released or declined, the address
        leaves its lease file, and its log has the DHCPRELEASE or DHCPDECLINE."""
        if self.peer == "dnsmasq":
            def held():
                return any(k == key for k, _ in self.records())
            if state == "bound":
                what, cond = f"{key} in dnsmasq's lease file", held
            else:
                word = {"released": "DHCPRELEASE", "declined": "DHCPDECLINE"}[state]
                what = f"{key} gone from dnsmasq's lease file after a {word}"
                cond = lambda: word in read(self.server_log) and not held()  # noqa: E731
            wait_for(what, cond, timeout)
            return

        def last():
            found = [st for k, st in self.records() if k == key]
            return found[-1] if found else None
        try:
            wait_for(f"the server's lease store to record {key} {state}", lambda: last() == state, timeout)
        except Fail as e:
            raise Fail(f"{e}: its last record of it says {last()}")

    def close(self):
        super().close()
        for path in self.host_files:
            try:
                os.remove(path)
            except OSError:
                pass
        if not os.environ.get("V6_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


def expect_reply(packet, replies, want):
    if len(replies) != 1 or replies[0].type != want:
        raise Fail(f"want one {TYPE_NAMES[want]}, got {len(replies)} replies: "
                   + ("; ".join(str(r) for r in replies) or "none"))
    r = replies[0]
    cid = Msg(packet).get(O_CLIENTID)
    if cid is not None and r.get(O_CLIENTID) != cid:
        raise Fail(f"the reply does not echo the client id {cid.hex()}: {r}")
    if not r.get(O_SERVERID):
        raise Fail(f"a reply without a server id: {r}")
    return r


def new_host_file(flow, path):
    """Remembers `path` (a file a peer writes outside the temp dir: dhcp6c's DUID, dhcpcd's)
    for removal if it is not there yet."""
    if not os.path.exists(path):
        flow.host_files.append(path)


DHCLIENT_SCRIPT = """#!/bin/sh
echo "$reason ip6=$new_ip6_address prefix=$new_ip6_prefix dns=$new_dhcp6_name_servers \
search=$new_dhcp6_domain_search" >> {events}
exit 0
"""


class Dhclient:
    """dhclient -6 in the foreground, its script writing one line per event."""

    def __init__(self, flow, ns, iface, tag, extra=()):
        self.flow, self.ns, self.iface = flow, ns, iface
        d = os.path.join(flow.dir, f"dhclient-{tag}")
        os.makedirs(d)
        self.events = os.path.join(d, "events.log")
        self.log = os.path.join(d, "dhclient.log")
        self.leases = os.path.join(d, "leases")
        open(self.events, "w").close()
        conf, script = os.path.join(d, "dhclient.conf"), os.path.join(d, "script")
        with open(conf, "w") as f:
            f.write("timeout 20;\nalso request dhcp6.name-servers, dhcp6.domain-search;\n")
        with open(script, "w") as f:
            f.write(DHCLIENT_SCRIPT.format(events=self.events))
        os.chmod(script, 0o755)
        self.args = ["-6", *extra, "-cf", conf, "-lf", self.leases, "-pf", os.path.join(d, "pid"),
                     "-sf", script]
        flow.logs += [self.log, self.events]
        self.p = flow.spawn(ns, ["dhclient", "-d", "-v", "-1", *self.args, iface], self.log)

    def wait(self, reasons, what, timeout):
        """The fields of the first event line whose reason is one of `reasons`."""
        def found():
            lines = [l for l in read(self.events).splitlines() if l.split(" ")[0] in reasons]
            return lines[0] if lines else None
        def cond():
            return found() or (self.p.poll() is not None and (found() or "exited"))
        line = wait_for(what, cond, timeout)
        if line == "exited":
            raise Fail(f"dhclient exited ({self.p.returncode}) before {what}: {read(self.log)[-1500:]}")
        return dict(kv.split("=", 1) for kv in line.split(" ")[1:] if "=" in kv)

    def release(self):
        """dhclient -6 -r: stops the running one (its pid file) and releases its lease."""
        r = run(["ip", "netns", "exec", self.ns, "dhclient", "-v", "-r", *self.args, self.iface],
                check=False, timeout=30)
        if r.returncode != 0:
            raise Fail(f"dhclient -r exited {r.returncode}: {r.stderr[-1500:]}")
        Flow.stop(self.p)


# ---- scenarios --------------------------------------------------------------------------------

# perfdhcp wants the machine's cores: one run at a time when dnsmasq's flow runs beside.
PERF_LOCK = threading.Lock()


def timers(peer):
    """(T1, T2, preferred, valid) the peer puts in the REPLY to a REQUEST."""
    if peer == "dnsmasq":
        return (DNSMASQ_LEASE // 2, DNSMASQ_LEASE // 8 * 7, DNSMASQ_LEASE, DNSMASQ_LEASE)
    return (LIFETIMES["renewal"], LIFETIMES["rebinding"], LIFETIMES["preferred"], LIFETIMES["valid"])


def scenarios(flow):
    """[(name, fn)] in order; each fn returns what it saw (for the PASS line), or raises
    NotApplicable when the peer cannot do it."""
    state = {}

    def recorded(how):
        """What wait_record saw, in the words of the peer's lease store."""
        if flow.peer != "dnsmasq":
            return f"recorded {how}"
        return "in its lease file" if how == "bound" else f"gone from its lease file ({how})"

    def delegates(what):
        if flow.peer == "dnsmasq":
            raise NotApplicable(f"{what}: dnsmasq does no prefix delegation (IA_PD) as a "
                                "DHCPv6 server (its man page: only its relay snoops delegations)")

    def capture(name):
        return flow.start_capture6(flow.s, SRV_IF, name)

    # 1, 2: dhclient -6
    def dhclient_na():
        state["cap"] = capture("dhclient")
        cl = Dhclient(flow, flow.c, CLI_IF, "na")
        state["dhclient"] = cl
        ev = cl.wait({"BOUND6"}, "dhclient -6 to bind", 25)
        a = ev.get("ip6", "")
        if not a or not in_pool(a, POOL1):
            raise Fail(f"BOUND6 with address {a!r}, not in {POOL1[0]}-{POOL1[1]}")
        if ev.get("dns") != DNS:
            raise Fail(f"BOUND6 with DNS servers {ev.get('dns')!r}, want {DNS}")
        leases = read(cl.leases)
        if not re.search(rf"iaaddr {re.escape(a)} {{", leases):
            raise Fail(f"the lease file has no iaaddr {a}: {leases[-1500:]}")
        state["a"] = a
        flow.wait_record(f"{a}/128", "bound")
        # The REPLY that bound it, on the wire: the configured timers and lifetimes.
        time.sleep(0.3)
        msgs = read_capture(state["cap"][1])
        reqs = [m for m in msgs if m.type == REQUEST and any(x[1] == a for x in m.addresses())]
        reps = [m for m in msgs if reqs and m.type == REPLY and m.xid == reqs[0].xid]
        if not reps:
            raise Fail(f"no REQUEST for {a} answered on the wire:\n{show_all(msgs)}")
        ia = reps[0].get(O_IA_NA)
        want = timers(flow.peer)
        got = (ia["t1"], ia["t2"], *reps[0].addresses()[0][2:])
        if got != want:
            raise Fail(f"REPLY with T1, T2, preferred, valid {got}, want {want}: {reps[0]}")
        return (f"{a} (in the pool, in the lease file), DNS {ev['dns']}, search {ev.get('search')}; "
                f"REPLY T1 {got[0]} T2 {got[1]} preferred {got[2]} valid {got[3]}; {recorded('bound')}")

    def bound_first():
        if "a" not in state:
            raise Fail("not run: dhclient -6 got no address")
        return state["dhclient"], state["a"]

    def dhclient_renews():
        cl, a = bound_first()
        ev = cl.wait({"RENEW6", "REBIND6"}, "dhclient -6 to renew at T1", timers(flow.peer)[0] + 10)
        if ev.get("ip6") != a:
            raise Fail(f"renewed with {ev.get('ip6')!r}, had {a}")
        time.sleep(0.3)
        msgs = read_capture(state["cap"][1])
        renews = [m for m in msgs if m.type == RENEW and any(x[1] == a for x in m.addresses())]
        if not renews:
            raise Fail(f"no RENEW for {a} on the wire:\n{show_all(msgs)}")
        xid = renews[0].xid
        replies = [m for m in msgs if m.type == REPLY and m.xid == xid]
        if not replies or not any(x[1] == a and x[3] > 0 for x in replies[0].addresses()):
            raise Fail(f"the RENEW's REPLY does not hold {a} with a lifetime:\n{show_all(msgs)}")
        got = replies[0].addresses()
        return f"RENEW xid {xid:06x} for {a}, REPLY {got}"

    def dhclient_releases():
        cl, a = bound_first()
        cl.release()
        def seen():
            msgs = read_capture(state["cap"][1])
            rel = [m for m in msgs if m.type == RELEASE]
            rep = [m for m in msgs if rel and m.type == REPLY and m.xid == rel[-1].xid]
            return (msgs, rel[-1], rep[0]) if rep else None
        try:
            msgs, rel, rep = wait_for("the RELEASE and its REPLY on the wire", seen, 10)
        except Fail as e:
            raise Fail(f"{e}:\n{show_all(read_capture(state['cap'][1]))}")
        finally:
            flow.stop_capture(state["cap"])
        if not any(x[1] == a for x in rel.addresses()):
            raise Fail(f"the RELEASE does not name {a}: {rel}")
        if rep.status() is None or rep.status()[0] != SUCCESS:
            raise Fail(f"the REPLY to the RELEASE has status {rep.status()}, want Success (0): {rep}")
        flow.wait_record(f"{a}/128", "released")
        return f"RELEASE {a}, REPLY status {rep.status()}; {recorded('released')}"

    def dhclient_pd():
        delegates("dhclient -6 -P asks for an IA_PD")
        cl = Dhclient(flow, flow.c, CLI_IF, "pd", extra=["-P"])
        try:
            ev = cl.wait({"BOUND6"}, "dhclient -6 -P to bind", 25)
            p = ev.get("prefix", "")
            check_prefix(p, "dhclient -6 -P")
            flow.wait_record(p, "bound")
            cl.release()
            flow.wait_record(p, "released")
        finally:
            Flow.stop(cl.p)
        return f"prefix {p}, recorded bound, then released (dhclient -6 -P -r)"

    # 3: dhcpcd
    def dhcpcd():
        delegates("dhcpcd asks for ia_pd")
        d = os.path.join(flow.dir, "dhcpcd")
        os.makedirs(d)
        conf, hook, env = os.path.join(d, "dhcpcd.conf"), os.path.join(d, "hook"), os.path.join(d, "env.log")
        with open(conf, "w") as f:
            f.write("ipv6only\nnoipv6rs\nnohook resolv.conf\ntimeout 25\n"
                    "option dhcp6_name_servers, dhcp6_domain_search\n"
                    f"interface {CLI_IF}\n  ia_na 1\n  ia_pd 2 -\n")
        with open(hook, "w") as f:
            f.write(f"#!/bin/sh\n(echo \"== $reason\"; env | sort) >> {env}\nexit 0\n")
        os.chmod(hook, 0o755)
        for path in ["/var/lib/dhcpcd/duid", "/var/lib/dhcpcd/secret"]:
            new_host_file(flow, path)
        flow.leftovers += [f"/var/lib/dhcpcd/{CLI_IF}*", f"/run/dhcpcd/{CLI_IF}*",
                           f"/run/dhcpcd/sock/{CLI_IF}*"]
        log = os.path.join(d, "dhcpcd.log")
        flow.logs += [log, env]
        p = flow.spawn(flow.c, ["timeout", "40", "dhcpcd", "-6", "-f", conf, "-c", hook, "-B", "-d",
                                "-1", CLI_IF], log)
        def bound():
            blocks = read(env).split("== ")
            for b in blocks:
                if b.startswith(("BOUND6", "REBOOT6", "RENEW6")):
                    return b
            return None
        try:
            block = wait_for("dhcpcd to bind", lambda: bound() or (p.poll() is not None and "exited"), 30)
        finally:
            Flow.stop(p)
        if block == "exited":
            raise Fail(f"dhcpcd exited ({p.returncode}) without a lease: {read(log)[-2000:]}")
        vals = dict(l.split("=", 1) for l in block.splitlines() if "=" in l)
        a = vals.get("new_dhcp6_ia_na1_ia_addr1", "")
        pfx = vals.get("new_dhcp6_ia_pd1_prefix1", "")
        plen = vals.get("new_dhcp6_ia_pd1_prefix1_length", "")
        if not a or not in_pool(a, POOL1):
            raise Fail(f"address {a!r} not in the pool; hook env:\n{block[-1500:]}")
        check_prefix(f"{pfx}/{plen}", "dhcpcd")
        return f"address {a}, prefix {pfx}/{plen}, DNS {vals.get('new_dhcp6_name_servers')}"

    # 4: wide-dhcpv6-client
    def dhcp6c():
        delegates("dhcp6c asks for an IA_PD")
        d = os.path.join(flow.dir, "dhcp6c")
        os.makedirs(d)
        conf = os.path.join(d, "dhcp6c.conf")
        with open(conf, "w") as f:
            f.write(f"""interface {CLI_IF} {{
    send ia-pd 0;
    send ia-na 0;
    request domain-name-servers;
}};
id-assoc pd 0 {{
}};
id-assoc na 0 {{
}};
""")
        new_host_file(flow, "/var/lib/dhcpv6/dhcp6c_duid")
        log = os.path.join(d, "dhcp6c.log")
        flow.logs.append(log)
        cap = capture("dhcp6c")
        p = flow.spawn(flow.c, ["dhcp6c", "-c", conf, "-p", os.path.join(d, "pid"), "-f", "-D", CLI_IF], log)

        def replied():
            msgs = read_capture(cap[1])
            return [m for m in msgs if m.type == REPLY and m.prefixes()]
        try:
            wait_for("a REPLY with an IA_PD to dhcp6c", replied, 20)
        except Fail as e:
            Flow.stop(p)
            raise Fail(f"{e}; dhcp6c said: {read(log)[-1500:]}\n{show_all(flow.stop_capture(cap))}")
        Flow.stop(p)
        msgs = flow.stop_capture(cap)
        rep = [m for m in msgs if m.type == REPLY and m.prefixes()][0]
        pfx = rep.prefixes()[0][1]
        check_prefix(pfx, "the REPLY to dhcp6c")
        reqs = [m for m in msgs if m.type == REQUEST and m.xid == rep.xid]
        if not reqs:
            raise Fail(f"the REPLY answers no REQUEST of dhcp6c:\n{show_all(msgs)}")
        said = re.findall(r"IA_PD prefix: ([0-9a-f:]+/\d+)", read(log))
        if pfx not in said:
            raise Fail(f"dhcp6c's debug output does not show IA_PD prefix {pfx} (it shows {said})")
        addrs = rep.addresses()
        return (f"REPLY IA_PD {pfx}" + (f", IA_NA {addrs[0][1]}" if addrs else "")
                + ", in dhcp6c's debug output")

    # 7: scapy
    mac_n = [0]

    def mac():
        mac_n[0] += 1
        return f"02:00:00:66:{flow.id % 256:02x}:{mac_n[0]:02x}"

    xid_n = [0x600000 + (os.getpid() % 0x1000) * 0x100]

    def xid():
        xid_n[0] += 1
        return xid_n[0] & 0xFFFFFF

    def advertise(m, *opts):
        """A SOLICIT with one IA_NA (iaid 1) from client `m`; the ADVERTISE (with the
        configured preference, 255)."""
        adv = flow.one(build("DHCP6_Solicit", m, xid(), ia_na(1), *opts), ADVERTISE)
        if adv.get(O_PREFERENCE) != b"\xff":
            raise Fail(f"ADVERTISE without preference 255: {adv}")
        return adv

    def server_duid():
        if "duid" not in state:
            adv = advertise(mac())
            sid = adv.get(O_SERVERID)
            if not sid:
                raise Fail(f"an ADVERTISE without a server id: {adv}")
            state["duid"] = sid
        return state["duid"]

    def bind(m):
        """SOLICIT, ADVERTISE, REQUEST, REPLY for client `m`; (address, server DUID)."""
        adv = advertise(m)
        got = adv.addresses()
        if len(got) != 1 or not in_pool(got[0][1], POOL1):
            raise Fail(f"ADVERTISE without one pool address: {adv}")
        sid = adv.get(O_SERVERID)
        rep = flow.one(build("DHCP6_Request", m, xid(), server_id_opt(sid), ia_na(1, got[0][1])), REPLY)
        bound = rep.addresses()
        if not bound or bound[0][1] != got[0][1] or bound[0][3] == 0:
            raise Fail(f"REPLY does not bind {got[0][1]}: {rep}")
        return got[0][1], sid

    def no_client_id():
        flow.none(build("DHCP6_Solicit", mac(), xid(), ia_na(1), client_id=False),
                  build("DHCP6_Solicit", mac(), xid(), ia_na(1)))
        return f"nothing in {NO_REPLY_WAIT:.0f} s; a SOLICIT with one then: ADVERTISE"

    def solicit_with_server_id():
        sid = server_duid()
        m = mac()
        flow.none(build("DHCP6_Solicit", m, xid(), server_id_opt(sid), ia_na(1)),
                  build("DHCP6_Solicit", m, xid(), ia_na(1)))
        return (f"nothing in {NO_REPLY_WAIT:.0f} s (server id {sid.hex()}, the server's own); "
                "the same without it: ADVERTISE")

    def unicast_request():
        m = mac()
        adv = advertise(m)
        got = adv.addresses()
        if not got:
            raise Fail(f"ADVERTISE without an address: {adv}")
        pkt = build("DHCP6_Request", m, xid(), server_id_opt(adv.get(O_SERVERID)), ia_na(1, got[0][1]))
        rep = flow.one(pkt, REPLY, dst=SERVER_ADDR)
        st = rep.status()
        if flow.peer in ("kea", "dnsmasq"):
            # Kea, listening on the unicast address, serves the REQUEST as if it came by
            # multicast although it never sent a Server Unicast option. So does dnsmasq
            # (its UseMulticast branch tests whether the client's source address is a
            # multicast one, which it never is).
            who = {"kea": "Kea", "dnsmasq": "dnsmasq"}[flow.peer]
            if st is not None and st[0] == USE_MULTICAST:
                raise Fail(f"{who} answered UseMulticast; this suite expected its known deviation: {rep}")
            if not any(x[1] == got[0][1] and x[3] > 0 for x in rep.addresses()):
                raise Fail(f"{who}'s REPLY to the unicast REQUEST does not bind {got[0][1]}: {rep}")
            return Deviation(f"REPLY binding {got[0][1]}, " + ("no status" if st is None else f"status {st}"),
                             "RFC 8415 18.4: a unicast REQUEST from a client never sent a Server "
                             f"Unicast option MUST get REPLY UseMulticast; {who} serves it")
        if st is None or st[0] != USE_MULTICAST:
            raise Fail(f"REPLY with status {st}, want UseMulticast (5): {rep}")
        if rep.all(O_IA_NA):
            raise Fail(f"the UseMulticast REPLY carries IA_NA (RFC 8415 18.4: no other options): {rep}")
        if not rep.get(O_SERVERID) or not rep.get(O_CLIENTID):
            raise Fail(f"the UseMulticast REPLY lacks the server or client id: {rep}")
        return f"REPLY status {st}"

    def confirm(addr, want):
        rep = flow.one(build("DHCP6_Confirm", mac(), xid(), ia_na(1, addr)), REPLY)
        st = rep.status()
        if st is None or st[0] != want:
            raise Fail(f"REPLY status {st}, want {want}: {rep}")
        return f"REPLY status {st}"

    def info_request():
        rep = flow.one(build("DHCP6_InfoRequest", mac(), xid(), oro(O_DNS)), REPLY)
        dns = rep.get(O_DNS)
        if dns != [DNS]:
            raise Fail(f"REPLY DNS servers {dns}, want [{DNS}]: {rep}")
        if rep.all(O_IA_NA) or rep.all(O_IA_PD):
            raise Fail(f"REPLY to INFORMATION-REQUEST with an IA: {rep}")
        return f"REPLY dns {dns}"

    def two_ia_na():
        adv = flow.one(build("DHCP6_Solicit", mac(), xid(), ia_na(1), ia_na(2)), ADVERTISE)
        got = adv.addresses()
        by_iaid = {iaid: a for iaid, a, _, _ in got}
        if sorted(by_iaid) != [1, 2] or len(got) != 2:
            raise Fail(f"want one address in each of IA_NA 1 and 2: {adv}")
        if by_iaid[1] == by_iaid[2] or not all(in_pool(a, POOL1) for a in by_iaid.values()):
            raise Fail(f"not two distinct pool addresses: {adv}")
        return f"IA_NA 1 {by_iaid[1]}, IA_NA 2 {by_iaid[2]}"

    def rapid_commit_not_allowed():
        if flow.peer == "dnsmasq":
            # Nothing to configure: it answers with a committing REPLY whatever it is told.
            pkt = build("DHCP6_Solicit", mac(), xid(), ia_na(1), rapid_commit())
            replies = flow.send([(pkt, "ff02::1:2", REPLY_WAIT)])[0]
            if len(replies) == 1 and replies[0].type == ADVERTISE:
                raise Fail(f"dnsmasq answered ADVERTISE; this suite expected it to commit: {replies[0]}")
            rep = expect_reply(pkt, replies, REPLY)
            got = rep.addresses()
            if not rep.all(O_RAPID_COMMIT) or len(got) != 1 or got[0][3] == 0:
                raise Fail(f"dnsmasq's REPLY does not commit an address with rapid commit: {rep}")
            raise NotApplicable("dnsmasq cannot be told not to allow rapid commit for DHCPv6 "
                                "(--dhcp-rapid-commit is DHCPv4 only; for v6 it always commits): "
                                f"REPLY with rapid commit binding {got[0][1]}")
        adv = advertise(mac(), rapid_commit())
        if adv.all(O_RAPID_COMMIT):
            raise Fail(f"ADVERTISE with rapid commit: {adv}")
        return f"ADVERTISE {adv.addresses()}"

    def decline():
        m = mac()
        a, sid = bind(m)
        if flow.peer == "dnsmasq":
            # What it holds: only its lease file says (a declined lease leaves it).
            flow.wait_record(f"{a}/128", "bound")
        rep = flow.one(build("DHCP6_Decline", m, xid(), server_id_opt(sid), ia_na(1, a)), REPLY)
        st = rep.status()
        deviation = None
        if flow.peer == "kea" and st is None:
            # Kea puts Success in the IA_NA, not at the top level.
            ia_st = [o[1] for ia in rep.all(O_IA_NA) for o in ia["opts"] if o[0] == O_STATUS]
            if not ia_st or ia_st[0][0] != SUCCESS:
                raise Fail(f"Kea's REPLY to DECLINE has no status Success, even in the IA: {rep}")
            deviation = ("RFC 8415 18.3.8: the REPLY to a DECLINE MUST carry status Success; "
                         "Kea has it only inside the IA_NA")
        elif st is None or st[0] != SUCCESS:
            raise Fail(f"REPLY to DECLINE with status {st}, want Success (0): {rep}")
        flow.wait_record(f"{a}/128", "declined")
        # Another client asking for that very address, and one not asking: neither gets it.
        adv = advertise(mac())
        adv2 = flow.one(build("DHCP6_Solicit", mac(), xid(), ia_na(1, a)), ADVERTISE)
        if flow.peer == "dnsmasq":
            # dnsmasq forgets the lease and keeps no mark on the address: it offers it to
            # the client asking for it (to one not asking, only if its hash lands there).
            if not any(g[1] == a for g in adv2.addresses()):
                raise Fail(f"dnsmasq did not offer the declined {a} to a client asking for it; "
                           f"this suite expected its known behaviour: {adv2}")
            deviation = ("RFC 8415 18.3.8: the server SHOULD mark a declined address so that it "
                         "is not assigned to other clients; dnsmasq drops the lease and offers the "
                         "address again to the next client asking for it")
        for x in (adv, adv2) if flow.peer != "dnsmasq" else ():
            if any(g[1] == a for g in x.addresses()):
                raise Fail(f"the declined {a} offered again: {x}")
        seen = (f"declined {a} (REPLY status {st}, {recorded('declined')}); next clients got "
                f"{adv.addresses()[0][1] if adv.addresses() else 'none'}, "
                f"{adv2.addresses()[0][1] if adv2.addresses() else 'none'} (asked for {a})")
        return Deviation(seen, deviation) if deviation else seen

    # 6: relayed
    def relayed():
        cap = flow.start_capture6(flow.s, UP_IF, "relay")
        rlog = os.path.join(flow.dir, "dhcrelay.log")
        relay = flow.spawn(flow.r, ["dhcrelay", "-6", "-d", "-I",
                                    "-pf", os.path.join(flow.dir, "dhcrelay.pid"),
                                    "-l", RDN_IF, "-u", f"{SERVER_UP}%{RUP_IF}"], rlog)
        wait_for("dhcrelay to start", lambda: "Sending on" in read(rlog) or relay.poll() is not None, 10)
        if relay.poll() is not None:
            raise Fail(f"dhcrelay exited: {read(rlog)[-1500:]}")
        cl = Dhclient(flow, flow.rc, RCL_IF, "relayed")
        try:
            ev = cl.wait({"BOUND6"}, "the relayed dhclient -6 to bind", 25)
        except Fail as e:
            Flow.stop(cl.p)
            raise Fail(f"{e}\n{show_all(flow.stop_capture(cap))}\ndhcrelay: {read(rlog)[-1000:]}")
        Flow.stop(cl.p)
        Flow.stop(relay)
        msgs = flow.stop_capture(cap)
        a = ev.get("ip6", "")
        if not in_pool(a, POOL2):
            raise Fail(f"the relayed client got {a!r}, not in {POOL2[0]}-{POOL2[1]}")
        fwd = [m for m in msgs if m.type == RELAY_FORW]
        rep = [m for m in msgs if m.type == RELAY_REPL]
        if not fwd or not rep:
            raise Fail(f"want RELAY-FORW and RELAY-REPL on the server's side:\n{show_all(msgs)}")
        for m in fwd:
            if m.link != RELAY_DOWN:
                raise Fail(f"RELAY-FORW with link address {m.link}: {m}")
        for m in rep:
            f = [x for x in fwd if x.inner().xid == m.inner().xid and x.peer == m.peer]
            if not f:
                raise Fail(f"a RELAY-REPL for no RELAY-FORW: {m}")
            iid = f[0].get(O_INTERFACE_ID)
            if iid is not None and m.get(O_INTERFACE_ID) != iid:
                raise Fail(f"interface-id {iid.hex()} not echoed: {m}")
            if m.link != f[0].link or m.hops != f[0].hops:
                raise Fail(f"RELAY-REPL link/hops {m.link}/{m.hops}, RELAY-FORW's {f[0].link}/{f[0].hops}")
        iid = fwd[0].get(O_INTERFACE_ID)
        kinds = sorted({m.inner().name for m in rep})
        return (f"{a}; {len(fwd)} RELAY-FORW (link {RELAY_DOWN}), {len(rep)} RELAY-REPL ({', '.join(kinds)})"
                + (f", interface-id {iid.hex()} echoed" if iid is not None else ", no interface-id sent"))

    # 5: perfdhcp
    def perfdhcp():
        with PERF_LOCK:
            return perfdhcp_run()

    def perfdhcp_run():
        log = os.path.join(flow.dir, "perfdhcp.log")
        flow.logs.append(log)
        p = flow.spawn(flow.c, ["perfdhcp", "-6", "-l", CLI_IF, "-r", "50", "-R", "200", "-n", "400",
                                "-p", "10", "-W", "1000000"], log)
        try:
            p.wait(40)
        except subprocess.TimeoutExpired:
            Flow.stop(p)
            raise Fail(f"perfdhcp ran over 40 s: {read(log)[-1500:]}")
        text = read(log)
        sent = [int(x) for x in re.findall(r"sent packets: (\d+)", text)]
        recv = [int(x) for x in re.findall(r"received packets: (\d+)", text)]
        drops = [int(x) for x in re.findall(r"drops: (\d+)", text)]
        rate = re.search(r"[Rr]ate: ([\d.]+)", text)
        if len(sent) < 2 or len(drops) < 2 or sent[0] < 300:
            raise Fail(f"perfdhcp (exit {p.returncode}) sent {sent}, drops {drops}:\n{text[-1500:]}")
        for what, s, d in [("SOLICIT-ADVERTISE", sent[0], drops[0]), ("REQUEST-REPLY", sent[1], drops[1])]:
            if d > s * 0.01:
                raise Fail(f"{what}: {d} of {s} dropped (> 1 %):\n{text[-1500:]}")
        return (f"SA sent {sent[0]} received {recv[0]} drops {drops[0]}, RR sent {sent[1]} received "
                f"{recv[1]} drops {drops[1]}, rate {rate.group(1) if rate else '?'}/s")

    # 7 (last): rapid commit allowed
    def rapid_commit_allowed():
        flow.start_server(rapid=True)
        rep = flow.one(build("DHCP6_Solicit", mac(), xid(), ia_na(1), rapid_commit()), REPLY)
        if not rep.all(O_RAPID_COMMIT):
            raise Fail(f"REPLY without rapid commit: {rep}")
        got = rep.addresses()
        if len(got) != 1 or not in_pool(got[0][1], POOL1) or got[0][3] == 0:
            raise Fail(f"REPLY without a bound pool address: {rep}")
        return f"REPLY with rapid commit, {got[0][1]} valid {got[0][3]}"

    return [
        ("dhclient -6: IA_NA from the pool", dhclient_na),
        ("dhclient -6: RENEW at T1, same address back", dhclient_renews),
        ("dhclient -6 -r: RELEASE, REPLY Success", dhclient_releases),
        ("dhclient -6 -P: IA_PD /56 from the pd pool", dhclient_pd),
        ("dhcpcd: ia_na address and ia_pd prefix", dhcpcd),
        ("dhcp6c: IA_PD with a /56 IAPREFIX", dhcp6c),
        ("scapy: SOLICIT without client id: no answer", no_client_id),
        ("scapy: SOLICIT with a server id: no answer", solicit_with_server_id),
        ("scapy: REQUEST by unicast: REPLY UseMulticast", unicast_request),
        ("scapy: CONFIRM on-link: Success", lambda: confirm("2001:db8:1::abcd", SUCCESS)),
        ("scapy: CONFIRM off-link: NotOnLink", lambda: confirm("2001:db8:99::1", NOT_ON_LINK)),
        ("scapy: INFORMATION-REQUEST ORO 23: DNS", info_request),
        ("scapy: SOLICIT two IA_NAs: two addresses", two_ia_na),
        ("scapy: SOLICIT rapid commit, not allowed: ADVERTISE", rapid_commit_not_allowed),
        ("scapy: DECLINE: address not given again", decline),
        ("dhcrelay -6: relayed lease, interface-id echoed", relayed),
        ("perfdhcp -6: SARR, <= 1 % drops", perfdhcp),
        ("scapy: SOLICIT rapid commit, allowed: REPLY", rapid_commit_allowed),
    ]


class NotApplicable(Exception):
    """A scenario the peer cannot do (dnsmasq: prefix delegation); the text says why. It
    counts neither as passed nor as failed."""


class Deviation(str):
    """What a scenario saw, when the peer (Kea) does what this suite knows it does instead
    of what the RFC says; `note` names the rule."""

    def __new__(cls, seen, note):
        s = super().__new__(cls, seen)
        s.note = note
        return s


def check_prefix(pfx, who):
    try:
        net = ipaddress.IPv6Network(pfx)
    except ValueError:
        raise Fail(f"{who}: no prefix ({pfx!r})")
    if net.prefixlen != PD_LEN or not net.subnet_of(ipaddress.IPv6Network(PD_POOL)):
        raise Fail(f"{who}: prefix {pfx}, want a /{PD_LEN} of {PD_POOL}")


# ---- running ----------------------------------------------------------------------------------

_say_lock = threading.Lock()


def say(text):
    """Prints whole lines (dnsmasq's flow runs beside the others under --peer all)."""
    with _say_lock:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


# Set when the run is interrupted: dnsmasq's flow, in its thread, starts no more scenarios.
STOP = threading.Event()


def run_peer(peer, only, results):
    """Runs every scenario against `peer`, appending (scenario, ok, seconds, detail) to
    `results` as it goes; ok is None for a scenario the peer cannot do (n/a)."""
    flow = V6Flow(peer)
    try:
        try:
            flow.setup()
            flow.start_server()
            todo = scenarios(flow)
        except Exception as e:  # noqa: BLE001 - a setup that failed fails every scenario
            detail = str(e) if isinstance(e, Fail) else traceback.format_exc()
            say(f"FAIL  {peer:<7}  setup: {detail}")
            results.append(("setup", False, 0.0, detail))
            todo = []
        for name, fn in todo:
            if STOP.is_set():
                break
            if only and only not in name:
                continue
            t = time.monotonic()
            try:
                seen = fn()
                note = getattr(seen, "note", None)
                results.append((name, True, time.monotonic() - t, seen))
                say(f"PASS  {peer:<7}  {name} ({time.monotonic() - t:.1f} s): {seen}"
                    + (f" [deviation: {note}]" if note else ""))
            except NotApplicable as e:
                results.append((name, None, time.monotonic() - t, str(e)))
                say(f"n/a   {peer:<7}  {name}: {e}")
            except Exception as e:  # noqa: BLE001 - any error fails the scenario, with its text
                detail = str(e) if isinstance(e, Fail) else traceback.format_exc()
                results.append((name, False, time.monotonic() - t, detail))
                say(f"FAIL  {peer:<7}  {name} ({time.monotonic() - t:.1f} s): {detail}")
        if any(ok is False for _, ok, _, _ in results) and not STOP.is_set():
            out = []
            for log in dict.fromkeys(flow.logs):
                if log != flow.server_log and read(log).strip():
                    out.append(f"----- {peer}: {os.path.relpath(log, flow.dir)}\n{read(log)[-2000:]}")
            if flow.server_log:
                out.append(f"----- {peer}: server log ({flow.server_log})\n{read(flow.server_log)[-6000:]}")
            if out:
                say("\n".join(out))
    finally:
        flow.close()


def remove_leftovers():
    """Namespaces and temp dirs of earlier runs of this suite whose process is gone."""
    def gone(pid):
        return not os.path.exists(f"/proc/{pid}")
    for line in run(["ip", "netns", "list"], check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(rf"{PREFIX}(\d+)-\d+-\w+$", name)
        if m and gone(m.group(1)):
            for pid in run(["ip", "netns", "pids", name], check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            run(["ip", "netns", "del", name], check=False)
    for d in glob.glob(os.path.join(tempfile.gettempdir(), f"{PREFIX}-*")):
        m = re.match(rf"{PREFIX}-(\d+)-", os.path.basename(d))
        if m and gone(m.group(1)):
            shutil.rmtree(d, ignore_errors=True)


def with_scapy():
    """Runs this script again with Debian's python3 when this one cannot import scapy."""
    try:
        import scapy.layers.dhcp6  # noqa: F401
        return
    except ImportError:
        pass
    debian = "/usr/bin/python3"
    if os.path.realpath(sys.executable) != os.path.realpath(debian) and os.access(debian, os.X_OK) and \
            subprocess.run([debian, "-c", "import scapy.layers.dhcp6"], capture_output=True).returncode == 0:
        os.execv(debian, [debian, SELF, *sys.argv[1:]])
    sys.exit("scapy is not installed (python3-scapy; scripts/setup installs it)")


def main():
    global DHCP, RUNTIME
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dhcp", default=DHCP)
    ap.add_argument("--runtime", choices=["tokio", "async-std", "smol"], default=RUNTIME,
                    help="the runtime our server runs on")
    ap.add_argument("--peer", choices=["ours", "kea", "dnsmasq", "both", "all"], default="ours",
                    help="both: ours and kea; all: ours, kea and dnsmasq")
    ap.add_argument("--only", default="", help="run the scenarios whose name contains this")
    ap.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        probe()
        return
    with_scapy()
    DHCP = os.path.abspath(args.dhcp)
    RUNTIME = args.runtime
    if os.geteuid() != 0:
        sys.exit("v6 needs root (network namespaces)")
    peers = {"both": ["kea", "ours"], "all": ["ours", "kea", "dnsmasq"]}.get(args.peer, [args.peer])
    tools = ["ip", "ss", "tcpdump", "dhclient", "dhcpcd", "dhcp6c", "dhcrelay", "perfdhcp"]
    if "kea" in peers:
        tools.append("kea-dhcp6")
    if "dnsmasq" in peers:
        tools.append("dnsmasq")
    for tool in tools:
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (scripts/setup installs the peers)")
    if "ours" in peers and not os.access(DHCP, os.X_OK):
        sys.exit(f"{DHCP} is not an executable (--dhcp)")

    def interrupted(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    remove_leftovers()
    started = time.monotonic()
    results = {p: [] for p in peers}

    def timed(peer):
        t = time.monotonic()
        run_peer(peer, args.only, results[peer])
        say(f"{peer}: {time.monotonic() - t:.1f} s\n")

    # dnsmasq's flow waits a minute for dhclient's renewal (T1 of its 120 s minimum lease):
    # beside the others it runs in a thread of its own, in namespaces of its own (it runs
    # none of the clients that keep state on the host, dhcpcd and dhcp6c, and perfdhcp
    # runs one at a time).
    beside = [p for p in peers if p == "dnsmasq" and len(peers) > 1]
    worker = None
    try:
        if beside:
            worker = threading.Thread(target=timed, args=(beside[0],), daemon=True)
            worker.start()
        for peer in peers:
            if peer not in beside:
                timed(peer)
        if worker is not None:
            # Bounded: its scenarios' waits are; 300 s is well past the longest run.
            give_up = time.monotonic() + 300
            while worker.is_alive() and time.monotonic() < give_up:
                worker.join(0.5)
            if worker.is_alive():
                results[beside[0]].append(("did not finish in 300 s", False, 0.0, ""))
    except KeyboardInterrupt:
        STOP.set()
        results.setdefault("interrupted", []).append(("interrupted", False, 0.0, ""))
        say("interrupted")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        Flow.close_all()
        if worker is not None:
            worker.join(30)  # its processes and namespaces are gone: it ends at once
    if len(peers) > 1:
        names = []
        for peer in peers:
            for name, *_ in results.get(peer, []):
                if name not in names:
                    names.append(name)
        marks = {p: {n: ("n/a" if ok is None else "FAIL" if not ok
                         else "pass*" if getattr(seen, "note", None) else "pass")
                     for n, ok, _, seen in results.get(p, [])} for p in peers}
        w = max(len(n) for n in names + ["scenario"])
        cw = max(len(p) for p in peers + ["pass*"])
        print(f"{'scenario':<{w}}  " + "  ".join(f"{p:<{cw}}" for p in peers))
        for n in names:
            print(f"{n:<{w}}  " + "  ".join(f"{marks[p].get(n, '-'):<{cw}}" for p in peers))
        if any("pass*" in m.values() for m in marks.values()):
            print("pass*: the peer's known deviation from the RFC (its PASS line says which), "
                  "checked as such")
        if any("n/a" in m.values() for m in marks.values()):
            print("n/a: the peer cannot do it (its n/a line says why); neither passed nor failed")
    flat = [r for rs in results.values() for r in rs]
    passed = sum(1 for r in flat if r[1])
    failed = sum(1 for r in flat if r[1] is False)
    na = sum(1 for r in flat if r[1] is None)
    print(f"\n{time.monotonic() - started:.1f} s; namespaces and processes removed")
    print(f"v6: {passed} passed, {failed} failed" + (f", {na} n/a" if na else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
