#!/usr/bin/env python3
"""Scale of our server through its real start-up path (issue 8): a journal of N leases is
written, the server starts on it in a network namespace, and we measure how long the
restore takes (start to "serving") and the resident memory it then holds.

    sudo benches/scale.py --dhcp target/release/dhcp [--sizes 1000,100000,1000000]

Memory per lease is the RSS difference between the largest and the smallest size over
the difference in leases: the server's whole cost of a lease (the machine's table, the
journal's live map, allocator overhead), not the machine's alone (benches/server.rs has
that).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import interop  # noqa: E402
from interop import Flow, read, wait_for  # noqa: E402


def fnv(s):
    h = 0x811C9DC5
    for b in s.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def write_journal(path, n, expires):
    with open(path, "w") as f:
        f.write("# dhcp lease journal v1\n")
        for i in range(n):
            a = 0x0A000000 + 0x10000 + i  # 10.1.0.0 up
            address = f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}"
            mac = ":".join(f"{b:02x}" for b in [1, 2, 0x10, (i >> 16) & 255, (i >> 8) & 255, i & 255, 0])
            mac = mac.rsplit(":", 1)[0]
            body = f"{i + 1} bound {address} {mac} {expires} -"
            f.write(f"{body} {fnv(body):08x}\n")


def measure(flow, ns, n):
    d = tempfile.mkdtemp(prefix=f"scale-{n}-", dir=flow.dir)
    journal = os.path.join(d, "leases.journal")
    write_journal(journal, n, int(time.time()) + 86400)
    cfg = os.path.join(d, "server.toml")
    with open(cfg, "w") as f:
        f.write(f"""interfaces = ["s0"]
journal = "{journal}"
log_level = "info"
[lease]
time = 86400
max = 86400
[[subnet]]
network = "10.0.0.0/8"
pools = ["10.1.0.0-10.255.255.254"]
""")
    log = os.path.join(d, "server.log")
    env = dict(os.environ, RUST_LOG="warn,dhcp=info,dhcp_host::server=info")
    t0 = time.monotonic()
    p = flow.spawn(ns, [interop.DHCP, "server", "--config", cfg], log, env=env)
    wait_for("serving", lambda: "serving" in read(log) or p.poll() is not None, 120)
    started = time.monotonic() - t0
    if p.poll() is not None:
        raise SystemExit(read(log))
    m = re.search(r"restored (\d+) lease records, (\d+) leases bound", read(log))
    status = dict(l.split(":", 1) for l in read(f"/proc/{p.pid}/status").splitlines() if ":" in l)
    rss = int(status["VmRSS"].split()[0]) * 1024
    Flow.stop(p)
    return started, rss, int(m.group(2)) if m else -1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dhcp", default=interop.DHCP)
    ap.add_argument("--sizes", default="1000,100000,1000000")
    args = ap.parse_args()
    interop.DHCP = os.path.abspath(args.dhcp)
    if os.geteuid() != 0:
        sys.exit("needs root (a network namespace)")
    sizes = [int(x) for x in args.sizes.split(",")]
    flow = Flow("scale")
    try:
        ns, peer = flow.ns("s"), flow.ns("p")
        flow.link(ns, "s0", peer, "p0")
        flow.ip(ns, "addr", "add", "10.0.0.1/8", "dev", "s0")
        rows = []
        for n in sizes:
            started, rss, bound = measure(flow, ns, n)
            rows.append((n, started, rss, bound))
            print(f"{n:>9} leases: restored {bound} in {started:.2f} s (start to serving), "
                  f"RSS {rss / 2**20:.1f} MiB", flush=True)
        (n0, _, r0, _), (n1, _, r1, _) = rows[0], rows[-1]
        if n1 > n0:
            print(f"memory per lease: {(r1 - r0) / (n1 - n0):.0f} bytes "
                  f"(RSS difference {n0}..{n1} leases)")
    finally:
        flow.close()
        shutil.rmtree(flow.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
