#!/usr/bin/env python3
"""Network boot: QEMU (TCG) boots a VM whose iPXE NIC ROM gets its address and boot file
from our DHCP server, in a network namespace this script creates and always removes.

    sudo tests/boot.py --dhcp target/release/dhcp [--only bios|uefi]
    sudo tests/boot.py --peer dnsmasq          # the same test against dnsmasq

One namespace holds a tap device (QEMU's NIC), the DHCP server (ours, or dnsmasq with the
equivalent --dhcp-match/--dhcp-boot config), a small HTTP server (python's http.server on
192.0.2.1:8080) and tcpdump. The server's client classes hand iPXE a boot file by
architecture: bios.ipxe to arch 0, efi.ipxe to arch 7 or 9; a PXE client that is not
iPXE gets undionly.kpxe from next server 192.0.2.1. Two boots, one after the other:

- bios: SeaBIOS + iPXE (Debian's ipxe-qemu efi-e1000.rom, legacy part). The script fetches
  http://192.0.2.1:8080/booted-bios, echoes a marker, then `poweroff || reboot` (this
  iPXE has no poweroff; reboot ends QEMU, which runs with -no-reboot).
- uefi: OVMF + the same ROM's EFI driver. The script fetches /booted-efi, echoes a marker
  and exits; OVMF then boots the NIC with its own PXE client (arch 7, no user class
  iPXE), which must be offered undionly.kpxe from 192.0.2.1 (no TFTP server: it fails
  there, and the VM is stopped). Skipped, with the reason, when no OVMF is installed.

Asserts on the HTTP server's request log (which script and which marker each VM fetched,
from the address the server ACKed), on the serial console (QEMU -nographic makes SeaBIOS
print to the serial port; OVMF does anyway) and on the capture. Prints what it saw, the
DISCOVERs' PXE options, `boot: N passed, M failed`; on a failure also the capture
(tcpdump -vv) and the logs. Every wait is bounded and the whole run stays under 3 minutes;
skipped (exit 0, with the reason) without root, /dev/net/tun or QEMU.
"""

import argparse
import glob
import os
import re
import secrets
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
QEMU = "qemu-system-x86_64"
ROM = "/usr/lib/ipxe/qemu/efi-e1000.rom"  # QEMU's default ROM for e1000: legacy PXE + EFI
OVMF = [("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
        ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd")]
TAP = "tap0"
SERVER = "192.0.2.1"
HTTP_PORT = 8080
BUDGET = 170  # seconds for the whole run (the limit is 3 minutes)

# Each boot: the VM's MAC, the architecture its iPXE sends (option 93), the script the
# class gives it, and how long QEMU may run (measured: ~19 s and ~28 s on an idle 2-core
# machine; TCG is slower under load).
BOOTS = {
    "bios": {"mac": "52:54:00:b0:07:01", "arch": 0, "tag": "bios", "timeout": 70,
             "what": "SeaBIOS + iPXE"},
    "uefi": {"mac": "52:54:00:b0:07:02", "arch": 7, "tag": "efi", "timeout": 90,
             "what": "OVMF + iPXE"},
}

OUR_CONFIG = """interfaces = ["{tap}"]
journal = "{dir}/leases.journal"
control_socket = ""

[[class]]
name = "ipxe-bios"
match = {{ user_class = "iPXE", architecture = 0 }}
boot_file = "http://{server}:{port}/bios.ipxe"

[[class]]
name = "ipxe-efi"
match = {{ all = [{{ user_class = "iPXE" }}, {{ architecture = [7, 9] }}] }}
boot_file = "http://{server}:{port}/efi.ipxe"

[[class]]
name = "pxe-rom"
match = {{ not = {{ user_class = "iPXE" }}, has_option = 93 }}
next_server = "{server}"
boot_file = "undionly.kpxe"

[[subnet]]
network = "192.0.2.0/24"
pools = ["192.0.2.100-192.0.2.150"]

[subnet.options]
routers = ["{server}"]
"""

DNSMASQ_CONFIG = """port=0
no-resolv
no-hosts
user=root
interface={tap}
bind-interfaces
dhcp-leasefile={dir}/dnsmasq.leases
pid-file={dir}/dnsmasq.pid
log-dhcp
log-facility=-
no-ping
dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,2m
dhcp-option=option:router,{server}
dhcp-userclass=set:ipxe,iPXE
dhcp-match=set:arch0,option:client-arch,0
dhcp-match=set:efi,option:client-arch,7
dhcp-match=set:efi,option:client-arch,9
dhcp-match=set:pxe,option:client-arch
dhcp-boot=tag:ipxe,tag:arch0,http://{server}:{port}/bios.ipxe
dhcp-boot=tag:ipxe,tag:efi,http://{server}:{port}/efi.ipxe
dhcp-boot=tag:!ipxe,tag:pxe,undionly.kpxe,,{server}
"""

# `poweroff` is not built into Debian's ipxe-qemu ROMs; `reboot` is, and with -no-reboot it
# ends QEMU. The UEFI script exits instead, to hand the NIC back to OVMF's own PXE client.
SCRIPTS = {
    "bios": """#!ipxe
echo boot.py: bios.ipxe running on ${{platform}}/${{buildarch}}, iPXE ${{version}}
imgfetch http://{server}:{port}/booted-bios
echo {marker}
poweroff || reboot
""",
    "uefi": """#!ipxe
echo boot.py: efi.ipxe running on ${{platform}}/${{buildarch}}, iPXE ${{version}}
imgfetch http://{server}:{port}/booted-efi
echo {marker}
echo boot.py: exiting to the firmware; its own PXE client comes next
exit 1
""",
}


# Serial console lines that say the firmware is past the boot this test watches.
GAVE_UP = {"bios": ["No bootable device"],
           "uefi": [">>Start PXE over IPv6", ">>Start HTTP Boot", "EFI Internal Shell"]}


# ---- the capture --------------------------------------------------------------------------

MESSAGE = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK",
           7: "RELEASE", 8: "INFORM"}


def dhcp_packets(path):
    """The DHCPv4 messages of a pcap file (a record still being written is left out)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) < incl:
            break
        if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17:
            continue
        msg = parse_dhcp(ip[ihl + 8:])
        if msg:
            msg["t"] = sec + frac / (1e9 if nano else 1e6)
            out.append(msg)
    return out


def parse_dhcp(b):
    if len(b) < 240 or b[236:240] != b"\x63\x82\x53\x63":
        return None
    opts, i = {}, 240
    while i < len(b) and b[i] != 255:
        if b[i] == 0:
            i += 1
            continue
        if i + 1 >= len(b):
            break
        n = b[i + 1]
        opts[b[i]] = opts.get(b[i], b"") + b[i + 2:i + 2 + n]  # RFC 3396: concatenated
        i += 2 + n
    file = b[108:236].split(b"\0")[0]
    boot = opts[67].rstrip(b"\0") if 67 in opts else file
    return {
        "op": b[0], "xid": b[4:8].hex(), "yiaddr": socket.inet_ntoa(b[16:20]),
        "siaddr": socket.inet_ntoa(b[20:24]),
        "chaddr": ":".join(f"{x:02x}" for x in b[28:28 + min(b[2], 16)]),
        "file": file.decode(errors="replace"), "boot": boot.decode(errors="replace"),
        "type": MESSAGE.get(opts.get(53, b"\0")[0], "?"), "opts": opts,
    }


def is_ipxe(msg):
    return msg["opts"].get(77) == b"iPXE"


def describe_request_options(msg):
    """Options 60, 77, 93, 94, 97, 175 of a client message, byte for byte."""
    o = msg["opts"]
    lines = []
    for code in (60, 77, 93, 94, 97, 175):
        if code not in o:
            lines.append(f"{code}: (absent)")
            continue
        v = o[code]
        text = f"{code}: {v.hex()}"
        if code in (60, 77):
            text += f"  {v.decode(errors='replace')!r}"
        if code == 77 and (not v or v[0] != len(v) - 1):
            text += " (raw text, not RFC 3004 length-prefixed instances)"
        if code == 93:
            text += "  arch " + ", ".join(str(int.from_bytes(v[j:j + 2], "big"))
                                          for j in range(0, len(v) - 1, 2))
        if code == 175:
            sub, j = [], 0
            while j + 1 < len(v):
                sub.append(f"{v[j]}:{v[j + 2:j + 2 + v[j + 1]].hex()}")
                j += 2 + v[j + 1]
            text += "  encapsulated " + " ".join(sub)
        lines.append(text)
    return lines


# ---- the pieces -------------------------------------------------------------------------

HTTP_LINE = re.compile(r'^(\d+\.\d+\.\d+\.\d+) - - \[[^\]]*\] "(\w+) (\S+)[^"]*" (\d{3})', re.M)
ANSI = re.compile(r"\x1b\[[0-9;?=]*[A-Za-z]|\x1b[c78]|\x1b[()][0-9A-Za-z]")


def http_requests(log):
    return [(ip, method, path, int(status)) for ip, method, path, status in HTTP_LINE.findall(read(log))]


def serial_text(path):
    """The serial console as lines: escapes, carriage returns and iPXE's spinner gone."""
    s = ANSI.sub("", read(path)).replace("\x08 \x08", "").replace("\x08", "").replace("\r", "\n")
    return [l.rstrip() for l in s.split("\n") if l.strip()]


def ovmf():
    for code, vars_ in OVMF:
        if os.path.exists(code) and os.path.exists(vars_):
            return code, vars_
    for code in sorted(glob.glob("/usr/share/OVMF/OVMF_CODE*.fd")):
        if any(k in code for k in ("secboot", ".ms.", "snakeoil")):
            continue
        vars_ = code.replace("OVMF_CODE", "OVMF_VARS")
        if os.path.exists(vars_):
            return code, vars_
    return None


def start_server(flow, ns, peer):
    log = os.path.join(flow.dir, f"{peer}.log")
    if peer == "dnsmasq":
        cfg = os.path.join(flow.dir, "dnsmasq.conf")
        with open(cfg, "w") as f:
            f.write(DNSMASQ_CONFIG.format(tap=TAP, dir=flow.dir, server=SERVER, port=HTTP_PORT))
        p = flow.spawn(ns, ["dnsmasq", "--no-daemon", f"--conf-file={cfg}"], log)
        ready = "DHCP, IP range"
    else:
        cfg = os.path.join(flow.dir, "server.toml")
        with open(cfg, "w") as f:
            f.write(OUR_CONFIG.format(tap=TAP, dir=flow.dir, server=SERVER, port=HTTP_PORT))
        p = flow.spawn(ns, [DHCP, "server", "--config", cfg], log)
        ready = "serving "
    wait_for(f"{peer} to serve", lambda: ready in read(log) or p.poll() is not None, 15)
    if p.poll() is not None:
        raise Fail(f"{peer} exited ({p.returncode}); its log ({log}) is below")
    return p, log


# ---- one boot -------------------------------------------------------------------------------

def boot(flow, ns, fw, http_log, capture, firmware, deadline):
    """Boots one VM; returns (checks, debug lines) where checks are (name, ok, detail)."""
    b = BOOTS[fw]
    tag, mac = b["tag"], b["mac"]
    marker = f"boot.py marker {tag} {secrets.token_hex(4)}"
    with open(os.path.join(flow.dir, "www", f"{tag}.ipxe"), "w") as f:
        f.write(SCRIPTS[fw].format(server=SERVER, port=HTTP_PORT, marker=marker))
    serial = os.path.join(flow.dir, f"serial-{fw}.log")
    argv = [QEMU, "-machine", "pc,accel=tcg", "-m", "256", "-nodefaults", "-nographic",
            "-no-reboot", "-serial", f"file:{serial}", "-monitor", "none",
            "-netdev", f"tap,id=net0,ifname={TAP},script=no,downscript=no",
            "-device", f"e1000,netdev=net0,mac={mac},romfile={ROM},bootindex=1"]
    if fw == "uefi":
        code, vars_ = firmware
        own_vars = os.path.join(flow.dir, "OVMF_VARS.fd")
        shutil.copyfile(vars_, own_vars)
        argv += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
                 "-drive", f"if=pflash,format=raw,unit=1,file={own_vars}"]
    timeout = min(b["timeout"], deadline - time.monotonic())
    print(f"{fw}: {b['what']} ({os.path.basename(ROM)}"
          f"{', ' + os.path.basename(firmware[0]) if fw == 'uefi' else ''}), QEMU TCG, "
          f"up to {timeout:.0f} s", flush=True)
    if timeout < 15:
        return [(f"{fw}: boot", False, "no time left in the 3-minute budget")], []
    seen_before = len(http_requests(http_log))

    def mine():
        return [m for m in dhcp_packets(capture) if m["chaddr"] == mac]

    def pxe_rom_replies():
        """Replies to this VM's requests that carry option 93 but are not iPXE's."""
        msgs = mine()
        xids = {m["xid"] for m in msgs if m["op"] == 1 and 93 in m["opts"] and not is_ipxe(m)}
        return [m for m in msgs if m["op"] == 2 and m["xid"] in xids]

    def fetched():
        return http_requests(http_log)[seen_before:]

    def done():
        """Everything this boot should show has shown (for uefi: up to the firmware's own
        PXE client being answered and giving up on the TFTP download)."""
        paths = {r[2] for r in fetched()}
        lines = serial_text(serial)
        need = [f"/{tag}.ipxe" in paths, f"/booted-{tag}" in paths, any(marker in l for l in lines)]
        if fw == "uefi":
            need += [bool(pxe_rom_replies()),
                     any("NBP filesize" in l or "PXE-E" in l for l in lines)]
        return all(need)

    def gave_up():
        """The firmware is past the network boot, so nothing more is coming."""
        return next((l.strip() for l in serial_text(serial) if any(g in l for g in GAVE_UP[fw])), None)

    started, wall = time.monotonic(), time.time()
    qemu = flow.spawn(ns, argv, os.path.join(flow.dir, f"qemu-{fw}.log"))
    give_up = started + timeout
    while time.monotonic() < give_up and qemu.poll() is None and not done() and not gave_up():
        time.sleep(0.25)
    if qemu.poll() is None and done() and fw == "bios":
        # The script's reboot (QEMU runs with -no-reboot) ends it a moment later.
        end = min(give_up, time.monotonic() + 5)
        while time.monotonic() < end and qemu.poll() is None:
            time.sleep(0.1)
    ran = time.monotonic() - started
    if qemu.poll() is None:
        ended = f"stopped by the test after {ran:.1f} s"
        if not done():
            ended += f" ({'the firmware went on: ' + repr(gave_up()) if gave_up() else 'timed out'})"
        Flow.stop(qemu, signal.SIGKILL, timeout=5)
    else:
        ended = f"exited by itself ({qemu.returncode}) after {ran:.1f} s"
    time.sleep(0.3)  # tcpdump -U: the last packets reach the file

    # What was seen.
    msgs = mine()
    requests = fetched()
    lines = serial_text(serial)
    acked = {m["yiaddr"] for m in msgs if m["type"] == "ACK"}
    for m in msgs:
        o = m["opts"]
        if m["op"] == 1:
            who = "iPXE" if is_ipxe(m) else ("firmware PXE" if 93 in o else "client")
            arch = int.from_bytes(o[93][:2], "big") if 93 in o else None
            print(f"  dhcp  {m['t'] - wall:5.1f}s {m['type']:<8} from {who}, arch {arch}, "
                  f"vendor class {o.get(60, b'').decode(errors='replace')!r}")
        else:
            print(f"  dhcp  {m['t'] - wall:5.1f}s {m['type']:<8} {m['yiaddr']} boot file {m['boot']!r}"
                  f" next server {m['siaddr']}")
    shown = set()
    for m in msgs:
        kind = (m["opts"].get(60, b"")[:9], is_ipxe(m))
        if m["type"] == "DISCOVER" and kind not in shown:
            shown.add(kind)
            print(f"  DISCOVER options ({'iPXE' if is_ipxe(m) else 'not iPXE'}):")
            for l in describe_request_options(m):
                print(f"        {l}")
    for ip, method, path, status in requests:
        print(f"  http  {method} {path} {status} from {ip}")
    start = max([i for i, l in enumerate(lines) if l.startswith("iPXE ")] or [0])
    start = min(start, max(0, len(lines) - 30))
    for l in lines[start:][:30]:
        print(f"  serial | {l}")
    print(f"  qemu  {ended}")

    checks = []
    got = [(ip, status) for ip, method, path, status in requests if path == f"/{tag}.ipxe"]
    other = "efi" if tag == "bios" else "bios"
    wrong = [path for _, _, path, _ in requests if path == f"/{other}.ipxe"]
    ok = any(s == 200 and ip in acked for ip, s in got) and not wrong
    checks.append((f"{fw}: iPXE (arch {b['arch']}) got {tag}.ipxe, fetched from its leased address",
                   ok, f"fetched {got}, ACKed {sorted(acked)}, also fetched {wrong}"))
    ok = any(path == f"/booted-{tag}" and s == 200 for _, _, path, s in requests)
    checks.append((f"{fw}: the script ran (GET /booted-{tag})", ok,
                   f"requests {[(p, s) for _, _, p, s in requests]}"))
    checks.append((f"{fw}: the script's marker on the serial console",
                   any(marker in l for l in lines),
                   f"no line {marker!r} in {serial}"))
    if fw == "uefi":
        replies = pxe_rom_replies()
        ok = bool(replies) and all(m["boot"] == "undionly.kpxe" and m["siaddr"] == SERVER
                                   for m in replies)
        nbp = [l.strip() for l in lines if "NBP filename" in l]
        checks.append(("uefi: OVMF's own PXE client (no iPXE user class) offered "
                       "undionly.kpxe from 192.0.2.1", ok,
                       f"replies {[(m['type'], m['boot'], m['siaddr']) for m in replies]}, "
                       f"serial {nbp}"))
    debug = [f"----- serial console ({serial})", *lines]
    return checks, debug


# ---- main ------------------------------------------------------------------------------

def skip(reason):
    print(f"boot: skipped: {reason}")
    sys.exit(0)


def main():
    global DHCP
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dhcp", default=DHCP, help="our dhcp binary")
    ap.add_argument("--peer", choices=["ours", "dnsmasq"], default="ours",
                    help="the DHCP server to boot from (dnsmasq: the same test against it)")
    ap.add_argument("--only", default="", help="bios or uefi")
    ap.add_argument("--keep", action="store_true",
                    help="keep the files (capture, logs, serial consoles) also on success")
    args = ap.parse_args()
    DHCP = os.path.abspath(args.dhcp)
    if os.geteuid() != 0:
        skip("needs root (network namespaces, a tap device)")
    if not os.path.exists("/dev/net/tun"):
        skip("no /dev/net/tun")
    if not shutil.which(QEMU):
        skip(f"no {QEMU} (scripts/setup installs qemu-system-x86)")
    if not os.path.exists(ROM):
        skip(f"no {ROM} (scripts/setup installs ipxe-qemu)")
    for tool in ["tcpdump"] + (["dnsmasq"] if args.peer == "dnsmasq" else []):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (scripts/setup installs it)")
    if args.peer == "ours" and not os.access(DHCP, os.X_OK):
        sys.exit(f"{DHCP}: no such program (cargo build --release -p dhcp-cli)")

    def terminate(*_):
        raise KeyboardInterrupt
    # Ctrl-C and SIGTERM both clean up (SIGINT too when the shell started us ignoring it).
    signal.signal(signal.SIGINT, terminate)
    signal.signal(signal.SIGTERM, terminate)
    interrupted = False

    started = time.monotonic()
    deadline = started + BUDGET
    results, debug = [], []
    flow = Flow("boot", prefix="boot")
    try:
        ns = flow.ns("boot")
        run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
             "net.ipv6.conf.default.disable_ipv6=1"], check=False)
        flow.ip(ns, "tuntap", "add", "dev", TAP, "mode", "tap")
        flow.ip(ns, "addr", "add", f"{SERVER}/24", "dev", TAP)
        flow.ip(ns, "link", "set", TAP, "up")
        www = os.path.join(flow.dir, "www")
        os.makedirs(www)
        for tag in ("bios", "efi"):
            with open(os.path.join(www, f"booted-{tag}"), "w") as f:
                f.write(f"booted {tag}\n")
        flow.capture = os.path.join(flow.dir, "dhcp.pcap")
        tcpdump_log = os.path.join(flow.dir, "tcpdump.log")
        flow.spawn(ns, ["tcpdump", "-i", TAP, "-U", "-n", "-w", flow.capture,
                        "port 67 or port 68"], tcpdump_log)
        wait_for("tcpdump", lambda: "listening on" in read(tcpdump_log), 10)
        http_log = os.path.join(flow.dir, "http.log")
        http = flow.spawn(ns, [sys.executable, "-u", "-m", "http.server", str(HTTP_PORT),
                               "--bind", SERVER, "--directory", www], http_log)
        wait_for("the HTTP server", lambda: "Serving HTTP" in read(http_log) or http.poll() is not None, 10)
        if http.poll() is not None:
            raise Fail(f"the HTTP server exited: {read(http_log)}")
        server, server_log = start_server(flow, ns, args.peer)
        print(f"boot: {args.peer} serves {TAP} in namespace {ns}; HTTP on {SERVER}:{HTTP_PORT}",
              flush=True)
        firmware = ovmf()
        for fw in BOOTS:
            if args.only and args.only != fw:
                continue
            if fw == "uefi" and not firmware:
                print("uefi: skipped: no OVMF firmware (OVMF_CODE*.fd with its VARS) in "
                      "/usr/share/OVMF (scripts/setup installs ovmf)")
                continue
            checks, more = boot(flow, ns, fw, http_log, flow.capture, firmware, deadline)
            if server.poll() is not None:
                checks.append((f"{fw}: {args.peer} still running", False,
                               f"exited ({server.returncode})"))
            for name, ok, detail in checks:
                print(f"  {'pass' if ok else 'FAIL'}  {name}" + ("" if ok else f"\n        {detail}"),
                      flush=True)
            results += checks
            if not all(ok for _, ok, _ in checks):
                debug += more
    except KeyboardInterrupt:
        interrupted = True
    except Exception as e:  # noqa: BLE001 - a crash in the setup is a failure, with its text
        results.append(("setup", False, str(e) if isinstance(e, Fail) else repr(e)))
        if not isinstance(e, Fail):
            traceback.print_exc()
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        flow.close()
    if interrupted:
        print(f"boot: interrupted; namespace and processes removed (files kept in {flow.dir})")
        sys.exit(130)

    failed = [r for r in results if not r[1]]
    if failed:
        print("\n===== FAILED")
        for name, _, detail in failed:
            print(f"{name}: {detail}")
        for log in flow.logs:
            if os.path.basename(log) != "tcpdump.log":
                print(f"----- {log}\n{read(log)[-4000:]}")
        print("\n".join(debug))
        if flow.capture and os.path.exists(flow.capture):
            dec = run(["tcpdump", "-r", flow.capture, "-n", "-vv"], check=False)
            print(f"----- capture ({flow.capture}, tcpdump -vv)\n{dec.stdout[-20000:]}")
        print(f"(files kept in {flow.dir})")
    elif args.keep:
        print(f"(files kept in {flow.dir})")
    else:
        shutil.rmtree(flow.dir, ignore_errors=True)
    print(f"\nboot: {len(results) - len(failed)} passed, {len(failed)} failed, "
          f"{time.monotonic() - started:.0f} s")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
