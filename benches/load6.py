#!/usr/bin/env python3
"""DHCPv6 load benchmark: perfdhcp -6 (SARR: SOLICIT, ADVERTISE, REQUEST, REPLY) against our
server's DHCPv6 side and kea-dhcp6 (memfile, with and without multi-threading), interleaved,
in network namespaces this script makes and removes. The rate search, the CPU and socket
counters are load.py's (its DHCPv4 counterpart); this script only sets up the IPv6 link,
the servers' configs and reads perfdhcp -6's summary.

    sudo benches/load6.py --dhcp target/release/dhcp [--rounds 3] [--trial 10]
    sudo benches/load6.py --servers ours-tokio,ours-smol,kea-mt,kea --json /var/tmp/load6.json

Two namespaces joined by a veth pair, IPv6 enabled inside them only, without duplicate
address detection (accept_dad=0, addresses `nodad`: usable at once) or router
advertisements: the server's side has 2001:db8:1::1/64, perfdhcp's 2001:db8:1::2/64.
perfdhcp -6 runs on its interface (`-l`), multicasting to ff02::1:2 from its link-local
address, as clients on the link would; every server serves 2001:db8:1::/64 on its
interface, pool 2001:db8:1::100-2001:db8:1::ffff:ffff (no trial exhausts it), preferred
lifetime 3600 s, valid 7200 s. Servers (`--servers`): `ours-RUNTIME` (`dhcp --runtime
RUNTIME server`, its journal on disk in --workdir, every lease synced before its REPLY),
`kea-mt` (kea-dhcp6, multi-threaded: two threads, packet queue 64) and `kea` (kea-dhcp6
single-threaded); Kea's memfile lease file is in the same directory (not synced).

For each server and round, the highest rate with under 1 % drops of full SARR exchanges
(load.py's search: doubling from --start until a trial fails or --max-rate is passed, then
--bisect steps between the last pass and the first failure). A trial's drop ratio is the
larger of its two exchanges' (sent - received + rejected) / sent, from perfdhcp's
"Statistics for: SOLICIT-ADVERTISE" and "REQUEST-REPLY"; a SARR is a REPLY received with
a lease. Each trial starts a fresh server, and says whose socket lost datagrams (Udp6
RcvbufErrors in the server's namespace or perfdhcp's). Printed per server: SARR/s
(median, min, max over the rounds), perfdhcp's average and max SARR delay at that rate,
the server's CPU (user + system, all its threads, /proc/PID/stat before and after the
perfdhcp run) per SARR, peak RSS; then the ratios of ours to each Kea (SARR/s, and CPU
per SARR). Every trial's namespaces, processes and files are removed when it ends, passed
or failed (--keep-failed keeps a failed trial's directory, with its logs).
"""

import argparse
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, HERE)
from interop import Fail, Flow, read, run, wait_for  # noqa: E402
from load import best_rate, measure, prepare, search_args, spread  # noqa: E402

SUBNET = "2001:db8:1::/64"
SERVER_ADDR, PERF_ADDR = "2001:db8:1::1", "2001:db8:1::2"
POOL = ("2001:db8:1::100", "2001:db8:1::ffff:ffff")
PREFERRED, VALID = 3600, 7200


def ns6(flow, role):
    """A namespace of `flow` with IPv6 on, no DAD and no router advertisements (set before
    its links are made, so that they take these defaults)."""
    ns = flow.ns(role)
    run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w",
         "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0",
         "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
         "net.ipv6.conf.all.accept_ra=0", "net.ipv6.conf.default.accept_ra=0"])
    return ns


def link_local(flow, ns, iface):
    """`iface`'s usable (not tentative) link-local address, or None."""
    out = flow.ip(ns, "-6", "addr", "show", "dev", iface, "scope", "link")
    m = re.search(r"inet6 (fe80::[0-9a-f:]+)/64", out)
    return m.group(1) if m and "tentative" not in out else None


def listening(ns):
    """Whether a socket in `ns` is bound to UDP port 547."""
    out = run(["ip", "netns", "exec", ns, "ss", "-H", "-u", "-l", "-n"], check=False).stdout
    return re.search(r":547\s", out) is not None


def server_argv(kind, d, iface, dhcp):
    """The command line and environment that start `kind` serving 2001:db8:1::/64 on
    `iface`, its files in `d`."""
    if kind.startswith("ours-"):
        runtime = kind.split("-", 1)[1]
        cfg = os.path.join(d, "server.toml")
        with open(cfg, "w") as f:
            f.write(f"""journal = "leases.journal"
log_level = "warn"
[server6.lease]
preferred = {PREFERRED}
valid = {VALID}
[[subnet6]]
prefix = "{SUBNET}"
interface = "{iface}"
pools = ["{POOL[0]}-{POOL[1]}"]
""")
        # The config's log level, not a RUST_LOG this shell may have (per-packet logging).
        env = {k: v for k, v in os.environ.items() if k != "RUST_LOG"}
        return [dhcp, "--runtime", runtime, "server", "--config", cfg], env
    if kind in ("kea", "kea-mt"):
        cfg = os.path.join(d, "kea.json")
        with open(cfg, "w") as f:
            json.dump({"Dhcp6": {
                "interfaces-config": {"interfaces": [iface]},
                "lease-database": {"type": "memfile", "persist": True,
                                   "name": f"{d}/kea-leases6.csv", "lfc-interval": 0},
                "data-directory": d,  # its server DUID file
                "multi-threading": {"enable-multi-threading": kind == "kea-mt",
                                    "thread-pool-size": 2, "packet-queue-size": 64},
                "preferred-lifetime": PREFERRED,
                "valid-lifetime": VALID,
                "subnet6": [{"id": 1, "subnet": SUBNET, "interface": iface,
                             "pools": [{"pool": f"{POOL[0]}-{POOL[1]}"}]}],
                "loggers": [{"name": "kea-dhcp6", "severity": "ERROR",
                             "output_options": [{"output": "stdout"}]}],
            }}, f, indent=1)
        return ["kea-dhcp6", "-c", cfg], dict(os.environ, KEA_PIDFILE_DIR=d, KEA_LOCKFILE_DIR=d)
    raise ValueError(f"{kind}: want ours-RUNTIME, kea-mt or kea")


def exchange(text, name):
    """perfdhcp's counters for exchange `name` (SOLICIT-ADVERTISE, REQUEST-REPLY)."""
    m = re.search(rf"^\*\*\*Statistics for: {name}\*\*\*\n(.*?)(?=^\*\*\*|\Z)", text, re.S | re.M)
    if not m:
        raise Fail(f"no {name} statistics in perfdhcp's output: {text[-1500:]}")
    body = m.group(1)

    def number(label, kind=int):
        v = re.search(rf"^{label}: ([\d.]+)", body, re.M)
        return kind(v.group(1)) if v else (0 if kind is int else float("nan"))
    return {"sent": number("sent packets"), "received": number("received packets"),
            "drops": number("drops"), "rejected": number("rejected leases"),
            "avg_ms": number("avg delay", float), "max_ms": number("max delay", float)}


def sarr_figures(text, rate, seconds):
    """What a perfdhcp -6 run at `rate` for `seconds` printed: SARR/s (REPLYs with a lease),
    the larger failure ratio of its two exchanges (not answered, or answered without a
    lease), average and max SARR delay, and each exchange's counters."""
    sa, rr = exchange(text, "SOLICIT-ADVERTISE"), exchange(text, "REQUEST-REPLY")
    if not sa["sent"]:
        raise Fail(f"perfdhcp sent no SOLICIT: {text[-1500:]}")
    sarrs = max(rr["received"] - rr["rejected"], 0)
    return {
        "rate": rate,
        "sarr_s": sarrs / seconds,
        "drop": max((e["sent"] - e["received"] + e["rejected"]) / e["sent"] if e["sent"] else 1.0
                    for e in (sa, rr)),
        "delay_ms": sa["avg_ms"] + rr["avg_ms"],
        "sa_ms": sa["avg_ms"],
        "rr_ms": rr["avg_ms"],
        "max_delay_ms": sa["max_ms"] + rr["max_ms"],
        "solicit_sent": sa["sent"], "advertise_received": sa["received"],
        "sa_drops": sa["drops"], "sa_rejected": sa["rejected"],
        "request_sent": rr["sent"], "reply_received": rr["received"],
        "rr_drops": rr["drops"], "rr_rejected": rr["rejected"],
        "sarrs": sarrs,
        "perfdhcp_rate": float(m.group(1)) if (m := re.search(r"^Rate: ([\d.]+)", text, re.M))
        else float("nan"),
    }


def trial(kind, rate, args):
    """One perfdhcp -6 run at `rate` against a fresh `kind`: its figures."""
    flow = Flow(f"{kind} at {rate}/s (v6)", prefix="load6")
    d, ok = None, False
    try:
        s, p = ns6(flow, "s"), ns6(flow, "p")
        si, pi = f"s{flow.id}", f"p{flow.id}"
        flow.link(s, si, p, pi)
        flow.ip(s, "-6", "addr", "add", f"{SERVER_ADDR}/64", "dev", si, "nodad")
        flow.ip(p, "-6", "addr", "add", f"{PERF_ADDR}/64", "dev", pi, "nodad")
        for ns, iface in ((s, si), (p, pi)):
            wait_for(f"the link-local address of {iface}", lambda: link_local(flow, ns, iface), 10)
        d = tempfile.mkdtemp(prefix=f"{kind}-v6-", dir=args.workdir)
        argv, env = server_argv(kind, d, si, args.dhcp)
        log = os.path.join(d, "server.log")
        server = flow.spawn(s, argv, log, env=env)
        wait_for(f"{kind} to listen on UDP 547", lambda: listening(s) or server.poll() is not None, 20)
        time.sleep(0.5)  # done starting (Kea joins ff02::1:2 as it opens its sockets)
        out = os.path.join(d, "perfdhcp.log")
        seconds = args.trial
        r, cpu, rss, lost_in = measure(
            flow, kind, server, log, s, p,
            ["perfdhcp", "-6", "-l", pi, "-R", str(args.clients), "-r", str(rate),
             "-p", str(seconds), "-W", "1000000"], out, seconds,
            lambda text: sarr_figures(text, rate, seconds), v6=True)
        sarrs = r["sarrs"]
        ok = True
        return {**r, "cpu_s": cpu,
                "cpu_per_sarr": cpu / sarrs if sarrs else float("nan"),
                "rss_mib": rss / 1024, **lost_in}
    except Fail as e:
        if d:  # the logs go with the failure (the directory is removed below)
            raise Fail(f"{e}\n--- server log:\n{read(os.path.join(d, 'server.log'))[-1500:]}"
                       f"\n--- perfdhcp:\n{read(os.path.join(d, 'perfdhcp.log'))[-1500:]}") from None
        raise
    finally:
        flow.close()
        shutil.rmtree(flow.dir, ignore_errors=True)
        if d and (ok or not args.keep_failed):
            shutil.rmtree(d, ignore_errors=True)
        elif d:
            print(f"  kept {d}", flush=True)


def stop_on(signum, _frame):
    """SIGTERM/SIGHUP as an exception, so that a killed run still removes its trial."""
    raise SystemExit(f"stopped by signal {signum}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    search_args(ap, "ours-tokio,kea-mt,kea")
    ap.add_argument("--clients", type=int, default=1000000,
                    help="distinct clients perfdhcp simulates (-R)")
    ap.add_argument("--keep-failed", action="store_true",
                    help="keep the directory (logs) of a trial that raised an error")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    prepare(args)
    if not os.path.exists(args.dhcp):
        sys.exit(f"{args.dhcp}: no such binary (cargo build --release -p dhcp-cli)")
    for tool in ("perfdhcp", "kea-dhcp6", "ss"):
        if shutil.which(tool) is None and (tool != "kea-dhcp6" or "kea" in args.servers):
            sys.exit(f"{tool} not found")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop_on)
    servers = args.servers.split(",")
    for kind in servers:
        if not (kind.startswith("ours-") or kind in ("kea", "kea-mt")):
            sys.exit(f"{kind}: want ours-RUNTIME, kea-mt or kea")
    results = {k: [] for k in servers}

    def log(msg):
        print(msg, flush=True)

    started = time.monotonic()
    try:
        for rnd in range(args.rounds):
            log(f"round {rnd + 1} of {args.rounds}")
            for kind in servers:  # interleaved: ours, Kea MT, Kea, ours, ...
                results[kind].append(best_rate(
                    kind, args, log, run=lambda rate, kind=kind: trial(kind, rate, args), unit="SARR"))
    except Fail as e:
        sys.exit(f"failed: {e}")
    log(f"\n{args.rounds} rounds, {args.trial} s trials, {time.monotonic() - started:.0f} s in all\n")
    head = (f"{'server':15} {'SARR/s median':>13} {'min':>7} {'max':>7} {'avg delay':>10} "
            f"{'max delay':>10} {'CPU s/SARR':>11} {'peak RSS':>9} {'lost srv / perf':>16}")
    log(head)
    log("-" * len(head))
    summary = {}
    for kind, rs in results.items():
        med, lo, hi, at_med = spread(rs, "sarr_s")
        summary[kind] = {"median": med, "min": lo, "max": hi, **at_med}
        log(f"{kind:15} {med:13.0f} {lo:7.0f} {hi:7.0f} "
            f"{at_med['delay_ms']:8.2f}ms {at_med['max_delay_ms']:8.2f}ms "
            f"{at_med['cpu_per_sarr']:11.6f} {at_med['rss_mib']:7.1f}MiB "
            f"{str(at_med['lost_server']) + ' / ' + str(at_med['lost_perfdhcp']):>16}")
    ours = [k for k in servers if k.startswith("ours-")]
    keas = [k for k in servers if k.startswith("kea")]
    ratios = {}
    if ours and keas:
        log("\nratios ours / Kea: median SARR/s (higher is better), CPU s per SARR (lower is better)")
        log(f"{'':15} " + " ".join(f"{f'{k} SARR/s':>14} {f'{k} CPU':>12}" for k in keas))
        for o in ours:
            ratios[o] = {k: {"sarr_s": summary[o]["median"] / summary[k]["median"]
                             if summary[k]["median"] else float("nan"),
                             "cpu_per_sarr": summary[o]["cpu_per_sarr"] / summary[k]["cpu_per_sarr"]
                             if summary[k]["cpu_per_sarr"] else float("nan")}
                         for k in keas}
            log(f"{o:15} " + " ".join(f"{ratios[o][k]['sarr_s']:14.2f} {ratios[o][k]['cpu_per_sarr']:12.2f}"
                                      for k in keas))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rounds": results, "summary": summary, "ratios": ratios}, f, indent=1)


if __name__ == "__main__":
    main()
