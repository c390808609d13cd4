#!/usr/bin/env python3
"""Client classes: our `dhcp server` sorts clients into the config's [[class]]es by what
their packets carry and hands each class its pool, lease time, options and boot settings,
checked on the wire in network namespaces this script creates and always removes.

    sudo tests/classes.py --dhcp target/release/dhcp

A server namespace (192.0.2.1/24 on one end of a veth pair, tcpdump on it) and a client
namespace on the other end. The script crafts DISCOVERs and REQUESTs itself (struct, no
scapy) and sends them from the client namespace by running itself there with --probe:
either broadcast from port 68 (SO_BINDTODEVICE, BROADCAST flag set so that the replies are
broadcast too), or unicast to 192.0.2.1:67 as a relay agent with giaddr set (the reply
comes back to giaddr:67). Replies are parsed here (header, options, option overload) and
checked:

- vendor class prefix (HTTPClient) -> the UEFI HTTP boot URL and option 60 sent unasked;
- vendor class equal (Polycom-VVX) and MAC OUI 00:04:f2 -> the phones-only pool, lease
  600, domain phones.test; a plain client -> the other pool, subnet.test, lease 3600,
  siaddr from the server-wide next_server, no boot file, no option 60;
- user class iPXE (bare, as iPXE sends it, and RFC 3004 length-prefixed) and option 175 ->
  the iPXE script URL, even with architecture 0; architecture 0 without iPXE ->
  undionly.kpxe in `file`, boot.test in `sname`, options 66/67 only when listed in 55;
- option 125 with enterprise 3561 -> vivso.test;
- relayed from 198.51.100.1 with circuit id port-7 -> lab.test and a 198.51.100.x address;
  another circuit id -> not lab.test;
- a reservation's classes -> its address and reserved-class.test; a reservation's own
  domain and next_server over its class's and the server's, its boot file of 140 bytes in
  option 67 (unasked) and not in `file`;
- a client in two classes: the first class in the config that sets a thing wins;
- a full DORA for a phone: the ACK carries the class's settings too;
- the conflict check: an address a host already uses (it answers pings) is set aside,
  durably, and the client is offered the next one;
- a shared network of two subnets behind one relay: the first subnet's one address, then
  the other's, each with its own router, and the ACK from the other subnet;
- a BOOTP client (no message type) with a reservation: a 300-byte BOOTREPLY with its
  address and no DHCP options; one without a reservation: no answer;
- a subnet (relayed from 203.0.113.1) whose only pool admits phones: a phone gets an
  offer, any other client none, counted as NoPoolForClass in the metrics;
- `dhcp server --reload` after the phones' domain changed: new DISCOVERs get the new
  value, the phone keeps its address, the other classes keep working.

Prints one line per scenario and `classes: N passed, M failed`; on a failure also the
server's log and the capture (decoded by `dhcp decode`). Every wait is bounded; the run
takes about 12 s. Needs root, `ip` and tcpdump.
"""

import argparse
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import Fail, Flow, read, run, wait_for  # noqa: E402

DHCP = "target/release/dhcp"
SELF = os.path.abspath(__file__)
MAGIC = b"\x63\x82\x53\x63"
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK = 1, 2, 3, 4, 5, 6
REPLY_WAIT = 2.0  # seconds a probe waits for the replies to one packet
NO_REPLY_WAIT = 2.0  # seconds it waits when none should come
METRICS = "127.0.0.1:9167"  # inside the server namespace only

IPXE_URL = "http://192.0.2.1:8080/boot.ipxe"
EFI_URL = "http://192.0.2.1:8080/ipxe.efi"
LONG_URL = "http://192.0.2.1:8080/" + "x" * 120 + ".efi"  # over `file`'s 127 bytes

CONFIG = """
interfaces = ["{iface}"]
journal = "leases.journal"
authoritative = true
next_server = "192.0.2.1"
# Ping each address new to its client before offering it.
conflict_check = true
conflict_check_ms = 300
metrics = "{metrics}"

[[class]]
name = "ipxe"
match = {{ any = [{{ user_class = "iPXE" }}, {{ has_option = 175 }}] }}
boot_file = "{ipxe}"

[[class]]
name = "bios"
match = {{ architecture = 0, not = {{ class = "ipxe" }} }}
boot_file = "undionly.kpxe"
server_name = "boot.test"

[[class]]
name = "uefi-http"
match = {{ vendor_class_prefix = "HTTPClient" }}
boot_file = "{efi}"
options = {{ vendor_class = "HTTPClient" }}

[[class]]
name = "phones"
match = {{ any = [{{ mac_prefix = "00:04:f2" }}, {{ vendor_class = "Polycom-VVX" }}] }}
lease = {{ time = 600 }}
[class.options]
domain_name = "{phones_domain}"

[[class]]
name = "lab-relay"
match = {{ relay = "198.51.100.0/24", circuit_id = "706f72742d37" }}
[class.options]
domain_name = "lab.test"

[[class]]
name = "vendor-125"
match = {{ enterprise = 3561 }}
options = {{ domain_name = "vivso.test" }}

[[class]]
name = "by-reservation"
options = {{ domain_name = "reserved-class.test" }}

[[subnet]]
network = "192.0.2.0/24"
pools = [
  {{ range = "192.0.2.50-192.0.2.59", allow = ["phones"] }},
  {{ range = "192.0.2.100-192.0.2.199", deny = ["phones"] }},
]
[subnet.options]
routers = ["192.0.2.1"]
domain_name = "subnet.test"

[[subnet.reservation]]
mac = "02:00:00:00:00:99"
address = "192.0.2.20"
classes = ["by-reservation"]

# A BOOTP client (no message type) with a reservation: answered with a BOOTREPLY.
[[subnet.reservation]]
mac = "02:00:00:00:00:97"
address = "192.0.2.22"

# Its own settings beat its class's and the server's.
[[subnet.reservation]]
mac = "02:00:00:00:00:98"
address = "192.0.2.21"
classes = ["by-reservation"]
next_server = "192.0.2.9"
boot_file = "{long_url}"
options = {{ domain_name = "reservation.test" }}

[[subnet]]
network = "198.51.100.0/24"
pools = ["198.51.100.100-198.51.100.150"]

# Only phones have a pool here: any other client is offered nothing.
[[subnet]]
network = "203.0.113.0/24"
pools = [{{ range = "203.0.113.100-203.0.113.110", allow = ["phones"] }}]

# The conflict check: the client namespace answers pings for 100.65.0.10.
[[subnet]]
network = "100.65.0.0/24"
pools = ["100.65.0.10-100.65.0.11"]

# A shared network: two subnets on the link of relay 100.64.0.1, one address in the first.
[[subnet]]
network = "100.64.0.0/24"
pools = ["100.64.0.100-100.64.0.100"]
shared_network = "lab"
[subnet.options]
routers = ["100.64.0.1"]

[[subnet]]
network = "100.64.9.0/24"
pools = ["100.64.9.100-100.64.9.110"]
shared_network = "lab"
[subnet.options]
routers = ["100.64.9.1"]
"""


# ---- packets --------------------------------------------------------------------------------

def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def request(kind, mac, xid, options=(), giaddr="0.0.0.0", prl=(1, 3, 6, 15, 51, 54),
            broadcast=True):
    """A BOOTREQUEST of DHCP message type `kind`: `options` as (code, bytes) after the
    message type, then the parameter request list (55) unless `prl` is None."""
    hdr = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 1 if giaddr != "0.0.0.0" else 0,
                      xid, 0, 0x8000 if broadcast else 0, bytes(4), bytes(4), bytes(4),
                      socket.inet_aton(giaddr), mac_bytes(mac), b"", b"")
    opts = bytes([53, 1, kind]) if kind else b""  # no message type: BOOTP
    for code, data in options:
        opts += bytes([code, len(data)]) + data
    if prl is not None:
        opts += bytes([55, len(prl)]) + bytes(prl)
    return hdr + MAGIC + opts + b"\xff"


def relay_info(circuit=None, remote=None):
    """Option 82: circuit id (1) and remote id (2) sub-options."""
    data = b""
    if circuit is not None:
        data += bytes([1, len(circuit)]) + circuit
    if remote is not None:
        data += bytes([2, len(remote)]) + remote
    return (82, data)


def parse_options(buf, into):
    i = 0
    while i < len(buf):
        code = buf[i]
        if code == 0:
            i += 1
            continue
        if code == 255:
            break
        if i + 1 >= len(buf) or i + 2 + buf[i + 1] > len(buf):
            raise Fail(f"option {code} runs past the end: {buf[i:].hex()}")
        n = buf[i + 1]
        into[code] = into.get(code, b"") + buf[i + 2:i + 2 + n]  # RFC 3396: concatenated
        i += 2 + n


def cstr(b):
    return b.split(b"\0", 1)[0].decode(errors="replace")


def parse_reply(data):
    """A BOOTREPLY as a dict: header fields, `options` {code: bytes} (with RFC 3396
    concatenation and option overload, 52, applied), `type` (53)."""
    if len(data) < 240 or data[236:240] != MAGIC:
        raise Fail(f"not a DHCP message: {data.hex()}")
    (op, _htype, _hlen, _hops, xid, _secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr,
     sname, file_) = struct.unpack("!BBBBIHH4s4s4s4s16s64s128s", data[:236])
    opts = {}
    parse_options(data[240:], opts)
    overload = opts.get(52, b"\0")[0]
    if overload & 1:
        parse_options(file_, opts)
    if overload & 2:
        parse_options(sname, opts)
    return {
        "op": op, "xid": xid, "flags": flags,
        "ciaddr": socket.inet_ntoa(ciaddr), "yiaddr": socket.inet_ntoa(yiaddr),
        "siaddr": socket.inet_ntoa(siaddr), "giaddr": socket.inet_ntoa(giaddr),
        "chaddr": chaddr[:6].hex(":"),
        "sname": "" if overload & 2 else cstr(sname),
        "file": "" if overload & 1 else cstr(file_),
        "options": opts, "type": opts.get(53, b"\0")[0], "len": len(data),
    }


def text(reply, code):
    v = reply["options"].get(code)
    return None if v is None else v.decode(errors="replace")


def u32(reply, code):
    v = reply["options"].get(code)
    return None if v is None else struct.unpack("!I", v)[0]


def show(reply):
    o = reply["options"]
    return (f"type {reply['type']} yiaddr {reply['yiaddr']} siaddr {reply['siaddr']} "
            f"sname {reply['sname']!r} file {reply['file']!r} options "
            + ", ".join(f"{c}={v.hex()}" for c, v in sorted(o.items())))


# ---- the probe: runs inside the client namespace ------------------------------------------

def probe():
    """Reads {"iface", "packets": [{"hex", "mode", "wait"}]} on stdin; sends each packet in
    turn and prints, as JSON, the list of the replies (hex) with its xid, per packet. It
    stops listening for one packet's replies `wait` seconds after sending, or 0.2 s after
    the first reply."""
    job = json.load(sys.stdin)
    bcast = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bcast.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    bcast.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    bcast.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, job["iface"].encode())
    bcast.bind(("0.0.0.0", 68))
    relay = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    relay.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    relay.bind(("0.0.0.0", 67))
    out = []
    for p in job["packets"]:
        data = bytes.fromhex(p["hex"])
        xid = data[4:8]
        if p["mode"] == "relay":
            relay.sendto(data, ("192.0.2.1", 67))
        else:
            bcast.sendto(data, ("255.255.255.255", 67))
        replies = []
        give_up = time.monotonic() + p["wait"]
        while True:
            left = give_up - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([bcast, relay], [], [], left)
            for s in ready:
                r, _ = s.recvfrom(4096)
                if len(r) >= 240 and r[0] == 2 and r[4:8] == xid:
                    replies.append(r.hex())
                    give_up = min(give_up, time.monotonic() + 0.2)
        out.append(replies)
    json.dump(out, sys.stdout)


# ---- the test ---------------------------------------------------------------------------------

class Test(Flow):
    """The namespaces, processes and files of the run (interop's `Flow`); `close` removes
    them all, the directory too."""

    def __init__(self):
        super().__init__("classes", prefix="classes")
        tag = os.getpid() % 100000
        self.s_if, self.c_if = f"cls{tag}s", f"cls{tag}c"
        self.cfg = os.path.join(self.dir, "server.toml")
        self.log = os.path.join(self.dir, "server.log")
        self.server = None
        self.xid = 0x5a000000 + (tag << 8)

    def next_xid(self):
        self.xid += 1
        return self.xid

    def setup(self):
        self.s_ns, self.c_ns = self.ns("s"), self.ns("c")
        self.link(self.s_ns, self.s_if, self.c_ns, self.c_if)
        self.ip(self.s_ns, "addr", "add", "192.0.2.1/24", "dev", self.s_if)
        # The client namespace is also the relay agent for 198.51.100.0/24 and 203.0.113.0/24.
        self.ip(self.c_ns, "addr", "add", "192.0.2.2/24", "dev", self.c_if)
        for relay in ["198.51.100.1", "203.0.113.1", "100.64.0.1", "100.65.0.1"]:
            self.ip(self.c_ns, "addr", "add", f"{relay}/32", "dev", self.c_if)
            net = relay.rsplit(".", 1)[0] + ".0/24"
            self.ip(self.s_ns, "route", "add", net, "via", "192.0.2.2")
        # A host already using an address of a pool (100.65.0.10): it answers pings.
        self.ip(self.c_ns, "addr", "add", "100.65.0.10/32", "dev", self.c_if)
        self.start_capture(self.s_ns, self.s_if)
        self.write_config("phones.test")
        run([DHCP, "server", "--config", self.cfg, "--check"])
        self.server = self.spawn(self.s_ns, [DHCP, "server", "--config", self.cfg], self.log)
        wait_for("the server to serve",
                 lambda: "serving " in read(self.log) or self.server.poll() is not None, 15)
        if self.server.poll() is not None:
            raise Fail(f"the server exited: {read(self.log)[-2000:]}")

    def write_config(self, phones_domain):
        with open(self.cfg, "w") as f:
            f.write(CONFIG.format(iface=self.s_if, metrics=METRICS, ipxe=IPXE_URL, efi=EFI_URL,
                                  long_url=LONG_URL, phones_domain=phones_domain))

    def close(self):
        super().close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- exchanges ----------------------------------------------------------------------
    def send(self, packets):
        """Sends [(bytes, mode, wait)] from the client namespace; the parsed replies to
        each."""
        job = {"iface": self.c_if,
               "packets": [{"hex": p.hex(), "mode": m, "wait": w} for p, m, w in packets]}
        budget = sum(w for _, _, w in packets) + 10
        r = run(["ip", "netns", "exec", self.c_ns, sys.executable, SELF, "--probe"],
                input=json.dumps(job), timeout=budget)
        return [[parse_reply(bytes.fromhex(h)) for h in replies]
                for replies in json.loads(r.stdout)]

    def one(self, packet, mode="broadcast", want=OFFER):
        """The one reply of type `want` to `packet`."""
        replies = self.send([(packet, mode, REPLY_WAIT)])[0]
        if len(replies) != 1:
            raise Fail(f"{len(replies)} replies, want one: "
                       + "; ".join(show(r) for r in replies))
        r = replies[0]
        if r["type"] != want:
            raise Fail(f"reply of type {r['type']}, want {want}: {show(r)}")
        return r

    def discover(self, mac, options=(), **kw):
        mode = "relay" if kw.get("giaddr") else "broadcast"
        return self.one(request(DISCOVER, mac, self.next_xid(), options, **kw), mode)

    def metric(self, name, labels):
        url = f"http://{METRICS}/metrics"
        r = run(["ip", "netns", "exec", self.s_ns, sys.executable, "-c",
                 "import sys, urllib.request; "
                 "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())",
                 url], check=False, timeout=10)
        for line in r.stdout.splitlines():
            m = re.match(r"(\w+)\{(.*)\} (\S+)$", line)
            if m and m.group(1) == name and m.group(2) == labels:
                return float(m.group(3))
        return 0.0


def expect(what, got, want):
    if got != want:
        raise Fail(f"{what}: got {got!r}, want {want!r}")


def in_range(what, addr, first, last):
    a = struct.unpack("!I", socket.inet_aton(addr))[0]
    lo = struct.unpack("!I", socket.inet_aton(first))[0]
    hi = struct.unpack("!I", socket.inet_aton(last))[0]
    if not lo <= a <= hi:
        raise Fail(f"{what}: {addr} is not in {first}-{last}")


def scenarios(t):
    """[(name, fn)], run in this order."""
    state = {}
    pxe_bios = (60, b"PXEClient:Arch:00000:UNDI:002001")
    arch0 = (93, b"\x00\x00")

    def uefi_http():
        r = t.discover("02:00:00:00:01:01", [(60, b"HTTPClient:Arch:00016:UNDI:003001"),
                                             (93, b"\x00\x10")])
        expect("file", r["file"], EFI_URL)
        expect("option 60 (not in 55, sent anyway)", text(r, 60), "HTTPClient")
        expect("siaddr", r["siaddr"], "192.0.2.1")
        expect("domain (15)", text(r, 15), "subnet.test")
        in_range("yiaddr", r["yiaddr"], "192.0.2.100", "192.0.2.199")

    def phone_vendor_class():
        r = t.discover("02:00:00:00:02:01", [(60, b"Polycom-VVX")])
        in_range("yiaddr", r["yiaddr"], "192.0.2.50", "192.0.2.59")
        expect("lease time (51)", u32(r, 51), 600)
        expect("domain (15)", text(r, 15), "phones.test")
        expect("routers (3)", r["options"].get(3), socket.inet_aton("192.0.2.1"))
        if 60 in r["options"]:
            raise Fail(f"option 60 to a phone (its class sets none): {show(r)}")

    def vendor_class_is_exact():
        r = t.discover("02:00:00:00:02:02", [(60, b"Polycom-VVX-600")])
        in_range("yiaddr", r["yiaddr"], "192.0.2.100", "192.0.2.199")
        expect("domain (15)", text(r, 15), "subnet.test")

    def phone_oui():
        r = t.discover("00:04:f2:12:34:56")
        in_range("yiaddr", r["yiaddr"], "192.0.2.50", "192.0.2.59")
        expect("lease time (51)", u32(r, 51), 600)
        expect("domain (15)", text(r, 15), "phones.test")

    def plain():
        r = t.discover("02:00:00:00:03:01", prl=(1, 3, 6, 15, 51, 54, 60, 66, 67))
        in_range("yiaddr", r["yiaddr"], "192.0.2.100", "192.0.2.199")
        expect("domain (15)", text(r, 15), "subnet.test")
        expect("lease time (51)", u32(r, 51), 3600)
        expect("siaddr (server-wide next_server)", r["siaddr"], "192.0.2.1")
        expect("file", r["file"], "")
        expect("sname", r["sname"], "")
        for code in (60, 66, 67):
            if code in r["options"]:
                raise Fail(f"option {code} to a plain client: {show(r)}")

    def ipxe_bare():
        # As iPXE sends it: architecture 0, user class "iPXE" as the bare value.
        r = t.discover("02:00:00:00:04:01", [pxe_bios, arch0, (77, b"iPXE")],
                       prl=(1, 3, 6, 15, 51, 54, 66, 67))
        expect("file", r["file"], IPXE_URL)
        expect("option 67", text(r, 67), IPXE_URL)
        expect("sname (bios is not iPXE's)", r["sname"], "")
        if 66 in r["options"]:
            raise Fail(f"option 66 to iPXE (no class of it sets a server name): {show(r)}")

    def ipxe_rfc3004():
        r = t.discover("02:00:00:00:04:02", [(77, b"\x04iPXE")])
        expect("file", r["file"], IPXE_URL)

    def ipxe_rfc3004_two_classes():
        r = t.discover("02:00:00:00:04:03", [(77, b"\x03abc\x04iPXE")])
        expect("file", r["file"], IPXE_URL)

    def ipxe_175():
        r = t.discover("02:00:00:00:04:04", [pxe_bios, arch0, (175, b"\x13\x01\x01\xeb\x03\x01\x00\x00")])
        expect("file", r["file"], IPXE_URL)

    def bios_listing_66_67():
        # Twice: the second client's options come from the server's cache of the first's.
        for mac in ["02:00:00:00:05:01", "02:00:00:00:05:03"]:
            r = t.discover(mac, [pxe_bios, arch0], prl=(1, 3, 6, 15, 51, 54, 66, 67))
            expect("file", r["file"], "undionly.kpxe")
            expect("sname", r["sname"], "boot.test")
            expect("siaddr", r["siaddr"], "192.0.2.1")
            expect("option 66", text(r, 66), "boot.test")
            expect("option 67", text(r, 67), "undionly.kpxe")

    def bios_not_listing_66_67():
        r = t.discover("02:00:00:00:05:02", [pxe_bios, arch0])
        expect("file", r["file"], "undionly.kpxe")
        expect("sname", r["sname"], "boot.test")
        for code in (66, 67):
            if code in r["options"]:
                raise Fail(f"option {code} not asked for but sent: {show(r)}")

    def vivso():
        block = struct.pack("!IB", 3561, 6) + b"\x01\x04ABCD"
        r = t.discover("02:00:00:00:06:01", [(125, block)])
        expect("domain (15)", text(r, 15), "vivso.test")

    def vivso_other_enterprise():
        block = struct.pack("!IB", 4491, 3) + b"\x01\x01\x01"
        r = t.discover("02:00:00:00:06:02", [(125, block)])
        expect("domain (15)", text(r, 15), "subnet.test")

    def relayed_port7():
        r = t.discover("02:00:00:00:07:01", [relay_info(b"port-7", b"sw1")], giaddr="198.51.100.1")
        in_range("yiaddr", r["yiaddr"], "198.51.100.100", "198.51.100.150")
        expect("domain (15)", text(r, 15), "lab.test")
        expect("giaddr", r["giaddr"], "198.51.100.1")
        expect("option 82 echoed", r["options"].get(82), relay_info(b"port-7", b"sw1")[1])

    def relayed_other_port():
        r = t.discover("02:00:00:00:07:02", [relay_info(b"port-8")], giaddr="198.51.100.1")
        in_range("yiaddr", r["yiaddr"], "198.51.100.100", "198.51.100.150")
        if text(r, 15) == "lab.test":
            raise Fail(f"circuit id port-8 got lab.test: {show(r)}")

    def reservation():
        r = t.discover("02:00:00:00:00:99")
        expect("yiaddr", r["yiaddr"], "192.0.2.20")
        expect("domain (15)", text(r, 15), "reserved-class.test")

    def bootp():
        r = t.one(request(None, "02:00:00:00:00:97", t.next_xid(), prl=None), want=0)
        expect("yiaddr", r["yiaddr"], "192.0.2.22")
        expect("siaddr (next_server)", r["siaddr"], "192.0.2.1")
        expect("length (BOOTP's 300 bytes)", r["len"], 300)
        for dhcp_only in (51, 53, 54, 58, 59):
            if dhcp_only in r["options"]:
                raise Fail(f"option {dhcp_only} in a BOOTREPLY: {show(r)}")
        expect("subnet mask (1)", r["options"].get(1), socket.inet_aton("255.255.255.0"))
        replies = t.send([(request(None, "02:00:00:00:00:96", t.next_xid(), prl=None),
                           "broadcast", NO_REPLY_WAIT)])[0]
        if replies:
            raise Fail("an unreserved BOOTP client was answered (dynamic_bootp is off): "
                       + "; ".join(map(show, replies)))

    def shared_network():
        first = t.discover("02:00:00:00:0c:01", giaddr="100.64.0.1")
        expect("first client's yiaddr", first["yiaddr"], "100.64.0.100")
        expect("its router (3)", first["options"].get(3), socket.inet_aton("100.64.0.1"))
        second = t.discover("02:00:00:00:0c:02", giaddr="100.64.0.1")
        in_range("second client's yiaddr (the other subnet)", second["yiaddr"],
                 "100.64.9.100", "100.64.9.110")
        expect("its router (3)", second["options"].get(3), socket.inet_aton("100.64.9.1"))
        # The second client takes its offer: the ACK comes from the other subnet too.
        ack = t.one(request(REQUEST, "02:00:00:00:0c:02", t.next_xid(), giaddr="100.64.0.1",
                            options=[(50, socket.inet_aton(second["yiaddr"])),
                                     (54, socket.inet_aton("192.0.2.1"))]),
                    mode="relay", want=ACK)
        expect("ACK yiaddr", ack["yiaddr"], second["yiaddr"])

    def conflict_check():
        r = t.discover("02:00:00:00:0d:01", giaddr="100.65.0.1")
        expect("yiaddr (100.65.0.10 answers pings)", r["yiaddr"], "100.65.0.11")
        wait_for("the server to log the conflict",
                 lambda: "100.65.0.10 answers a ping" in read(t.log), 5)
        journal = os.path.join(t.dir, "leases.journal")
        wait_for("the address set aside in the journal",
                 lambda: re.search(r"declined 100\.65\.0\.10 ", read(journal)), 5)

    def first_class_wins():
        # phones comes before vendor-125 in the config: its domain wins.
        block = struct.pack("!IB", 3561, 3) + b"\x01\x01\x01"
        r = t.discover("02:00:00:00:0b:01", [(60, b"Polycom-VVX"), (125, block)])
        expect("domain (15) of a phone with option 125", text(r, 15), "phones.test")
        in_range("yiaddr", r["yiaddr"], "192.0.2.50", "192.0.2.59")
        # ipxe comes before uefi-http: its boot file wins; uefi-http's option 60 still goes.
        r = t.discover("02:00:00:00:0b:02", [(60, b"HTTPClient:Arch:00016:UNDI:003001"),
                                             (93, b"\x00\x10"), (77, b"iPXE")])
        expect("file of iPXE in HTTP boot", r["file"], IPXE_URL)
        expect("option 60 of iPXE in HTTP boot", text(r, 60), "HTTPClient")

    def reservation_over_class():
        r = t.discover("02:00:00:00:00:98")
        expect("yiaddr", r["yiaddr"], "192.0.2.21")
        expect("domain (15): the reservation's over its class's", text(r, 15), "reservation.test")
        expect("siaddr: the reservation's next_server", r["siaddr"], "192.0.2.9")
        expect("file (the boot file is over 127 bytes)", r["file"], "")
        expect("option 67 (not in 55, sent as it does not fit in file)", text(r, 67), LONG_URL)

    def phone_dora():
        mac = "02:00:00:00:08:01"
        opts = [(60, b"Polycom-VVX")]
        offer = t.discover(mac, opts)
        in_range("offered", offer["yiaddr"], "192.0.2.50", "192.0.2.59")
        req = request(REQUEST, mac, t.next_xid(),
                      opts + [(50, socket.inet_aton(offer["yiaddr"])), (54, offer["options"][54])])
        ack = t.one(req, want=ACK)
        expect("ACK yiaddr", ack["yiaddr"], offer["yiaddr"])
        expect("ACK lease time (51)", u32(ack, 51), 600)
        expect("ACK domain (15)", text(ack, 15), "phones.test")
        expect("ACK server id (54)", ack["options"].get(54), socket.inet_aton("192.0.2.1"))
        state["phone"] = (mac, opts, ack["yiaddr"])

    def no_pool_admits():
        before = t.metric("dhcp_packets_dropped_total", 'reason="NoPoolForClass"')
        pkt = request(DISCOVER, "02:00:00:00:09:01", t.next_xid(), [relay_info(b"port-1")],
                      giaddr="203.0.113.1")
        replies = t.send([(pkt, "relay", NO_REPLY_WAIT)])[0]
        if replies:
            raise Fail("a client no pool admits was answered: " + "; ".join(map(show, replies)))
        wait_for("dhcp_packets_dropped_total{reason=\"NoPoolForClass\"} to grow by 1",
                 lambda: t.metric("dhcp_packets_dropped_total", 'reason="NoPoolForClass"')
                 == before + 1, 5)
        wait_for("the server to log the refusal",
                 lambda: "02:00:00:00:09:01" in read(t.log) and "NoPoolForClass" in read(t.log), 5)
        # A phone on the same subnet has its pool there.
        r = t.discover("02:00:00:00:09:02", [(60, b"Polycom-VVX")], giaddr="203.0.113.1")
        in_range("the phone's yiaddr", r["yiaddr"], "203.0.113.100", "203.0.113.110")

    def reload_phones_domain():
        t.write_config("phones-reloaded.test")
        out = run([DHCP, "server", "--config", t.cfg, "--reload"], timeout=15)
        if "reloaded" not in out.stdout:
            raise Fail(f"--reload said: {out.stdout} {out.stderr}")
        r = t.discover("02:00:00:00:0a:01", [(60, b"Polycom-VVX")])
        in_range("yiaddr", r["yiaddr"], "192.0.2.50", "192.0.2.59")
        expect("domain (15) after the reload", text(r, 15), "phones-reloaded.test")
        expect("lease time (51)", u32(r, 51), 600)
        r = t.discover("00:04:f2:00:00:02")
        expect("the OUI phone's domain (15) after the reload", text(r, 15), "phones-reloaded.test")
        if "phone" in state:
            mac, opts, addr = state["phone"]
            r = t.discover(mac, opts)
            expect("the bound phone's address after the reload", r["yiaddr"], addr)
            expect("the bound phone's domain (15) after the reload", text(r, 15),
                   "phones-reloaded.test")
        r = t.discover("02:00:00:00:0a:02", [(60, b"HTTPClient:Arch:00016:UNDI:003001")])
        expect("the uefi-http file after the reload", r["file"], EFI_URL)
        expect("option 60 after the reload", text(r, 60), "HTTPClient")
        r = t.discover("02:00:00:00:0a:03", [pxe_bios, arch0])
        expect("the bios file after the reload", r["file"], "undionly.kpxe")
        r = t.discover("02:00:00:00:0a:04")
        expect("a plain client's domain after the reload", text(r, 15), "subnet.test")

    return [
        ("vendor class prefix HTTPClient -> UEFI HTTP URL, option 60", uefi_http),
        ("vendor class Polycom-VVX -> phones pool, lease 600, phones.test", phone_vendor_class),
        ("vendor class equal is exact (Polycom-VVX-600 is no phone)", vendor_class_is_exact),
        ("MAC OUI 00:04:f2 -> phones pool", phone_oui),
        ("plain client -> other pool, subnet.test, 3600 s, next_server, no file", plain),
        ("user class iPXE (bare) + arch 0 -> boot.ipxe", ipxe_bare),
        ("user class iPXE (RFC 3004) -> boot.ipxe", ipxe_rfc3004),
        ("user class iPXE second in an RFC 3004 list -> boot.ipxe", ipxe_rfc3004_two_classes),
        ("option 175 -> boot.ipxe", ipxe_175),
        ("arch 0, 55 lists 66/67 -> file, sname, options 66/67", bios_listing_66_67),
        ("arch 0, 55 without 66/67 -> file, sname, no 66/67", bios_not_listing_66_67),
        ("option 125 enterprise 3561 -> vivso.test", vivso),
        ("option 125 another enterprise -> subnet.test", vivso_other_enterprise),
        ("relayed, circuit id port-7 -> lab.test", relayed_port7),
        ("relayed, circuit id port-8 -> not lab.test", relayed_other_port),
        ("reservation's classes -> 192.0.2.20, reserved-class.test", reservation),
        ("first class in config order wins (phones over vendor-125, ipxe over uefi-http)",
         first_class_wins),
        ("reservation over class: domain, next_server; a 140-byte boot file in 67 only",
         reservation_over_class),
        ("phone DORA: the ACK carries the class settings", phone_dora),
        ("BOOTP: a reserved client gets a 300-byte BOOTREPLY, no DHCP options; others none",
         bootp),
        ("shared network: the first subnet's address, then the other subnet's, own options",
         shared_network),
        ("conflict check: an address that answers a ping is set aside, another offered",
         conflict_check),
        ("no pool admits the client -> no offer, NoPoolForClass", no_pool_admits),
        ("reload: phones' new domain, lease kept, other classes", reload_phones_domain),
    ]


def main():
    global DHCP
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dhcp", default=DHCP)
    ap.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        probe()
        return
    DHCP = os.path.abspath(args.dhcp)
    if os.geteuid() != 0:
        sys.exit("classes needs root (network namespaces)")
    for tool in ["ip", "tcpdump"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed")
    if not os.access(DHCP, os.X_OK):
        sys.exit(f"{DHCP} is not an executable (--dhcp)")
    # SIGTERM ends the run like Ctrl-C does: through the `finally` below.
    def interrupted(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    started = time.monotonic()
    t = Test()
    passed, failed = 0, []
    try:
        try:
            t.setup()
            todo = scenarios(t)
        except Fail as e:
            failed.append(("setup", str(e)))
            print(f"FAIL  setup: {e}", flush=True)
            todo = []
        for name, fn in todo:
            s = time.monotonic()
            try:
                fn()
                passed += 1
                print(f"pass  {name} ({time.monotonic() - s:.1f} s)", flush=True)
            except Exception as e:  # noqa: BLE001 - any error fails the scenario, with its text
                detail = str(e) if isinstance(e, Fail) else traceback.format_exc()
                failed.append((name, detail))
                print(f"FAIL  {name}: {detail}", flush=True)
        if failed:
            print(f"\n----- server log ({t.log})\n{read(t.log)[-40000:]}")
            if t.capture and os.path.exists(t.capture):
                time.sleep(0.3)  # tcpdump -U writes each packet at once; let the last land
                dec = run([DHCP, "decode", t.capture], check=False)
                print(f"----- capture (dhcp decode {t.capture})\n{dec.stdout[-60000:]}"
                      f"{dec.stderr[-2000:]}")
    except KeyboardInterrupt:
        failed.append(("interrupted", ""))
        print("interrupted", flush=True)
    finally:
        # A second Ctrl-C must not stop the cleanup halfway.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        t.close()
    print(f"\n{time.monotonic() - started:.1f} s; namespaces and processes removed")
    print(f"classes: {passed} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)

if __name__ == "__main__":
    main()
