#!/usr/bin/env python3
"""Load benchmark: perfdhcp against our server (each runtime), Kea (memfile, with and
without multi-threading) and dnsmasq, interleaved, in network namespaces this script makes
and removes. perfdhcp acts as a relay (giaddr = its address), so every server serves the
relay's subnet, 10.0.0.0/12, with the same pool and lease time.

    sudo benches/load.py --dhcp target/release/dhcp [--rounds 3] [--trial 10]
    sudo benches/load.py --servers floor,ours-tokio,kea-mt --fixed 4000 --light 0

The `floor` server (`cargo build --release -p dhcp-benches --example floor`) answers
without state or journal: the kernel's share of a DORA, set beside the servers' CPU;
`floor-batch` is the same with `recvmmsg`/`sendmmsg`.

A `+tmpfs` after one of ours (`ours-tokio+tmpfs`) puts its journal in /dev/shm, where a
sync costs nothing: set beside the same server on disk, it shows what the disk's sync adds
(a comparison, not a deployment: such a journal does not outlive the machine).

For each server and round it finds the highest rate with under 1 % drops (full DORA
exchanges): doubling from --start until a trial fails, then bisecting between the last
pass and the first failure. Each trial starts a fresh server, and says whose socket lost
datagrams: the server's (it fell behind) or perfdhcp's (its receiver fell behind on the
shared cores). It prints, per server: DORA/s (median, min, max over the rounds),
perfdhcp's average and max DORA delay at that rate, server CPU seconds per 1 000 DORAs,
peak RSS, the average DORA delay at light load (--light, 100/s; DISCOVER->OFFER +
REQUEST->ACK), and the ratio of ours to each peer. Our server runs with its durable
journal on disk (each batch of records written and synced before its ACKs go, group
commit): no shortcut a real deployment wouldn't use.
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import interop  # noqa: E402  (namespaces, processes, waits)
from interop import Fail, Flow, read, run  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
POOL = ("10.0.1.0", "10.15.255.254")  # ~1 million addresses: no trial exhausts it
LEASE = 3600


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far."""
    fields = read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_kib(pid):
    m = re.search(r"VmHWM:\s+(\d+) kB", read(f"/proc/{pid}/status"))
    return int(m.group(1)) if m else 0


def udp_counters(ns, v6=False):
    """The UDP counters of namespace `ns` (/proc/net/snmp's `Udp:` lines; with `v6`,
    /proc/net/snmp6's `Udp6` ones, under the same names: `RcvbufErrors`, ...)."""
    if v6:
        lines = run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp6"]).stdout.splitlines()
        return {k[len("Udp6"):]: int(v) for k, v in (line.split() for line in lines if line.strip())
                if k.startswith("Udp6")}
    lines = [line.split() for line in run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"])
             .stdout.splitlines() if line.startswith("Udp:")]
    return dict(zip(lines[0][1:], (int(v) for v in lines[1][1:])))


def server_argv(kind, d, iface, dhcp):
    """The command line (and environment) that starts `kind` serving 10.0.0.0/12."""
    if kind.startswith("ours-"):
        runtime, _, where = kind.split("-", 1)[1].partition("+")
        journal_dir = d
        if where == "tmpfs":
            journal_dir = os.path.join(d, "shm")
            os.symlink(tempfile.mkdtemp(prefix="dhcp-load-", dir="/dev/shm"), journal_dir)
        elif where:
            raise ValueError(kind)
        cfg = os.path.join(d, "server.toml")
        with open(cfg, "w") as f:
            f.write(f"""interfaces = ["{iface}"]
journal = "{journal_dir}/leases.journal"
log_level = "error"
authoritative = true
[lease]
time = {LEASE}
[[subnet]]
network = "10.0.0.0/12"
pools = ["{POOL[0]}-{POOL[1]}"]
""")
        return [dhcp, "--runtime", runtime, "server", "--config", cfg], dict(os.environ, RUST_LOG="error")
    if kind.startswith("kea"):
        cfg = os.path.join(d, "kea.json")
        mt = kind == "kea-mt"
        with open(cfg, "w") as f:
            json.dump({"Dhcp4": {
                "interfaces-config": {"interfaces": [iface], "dhcp-socket-type": "udp"},
                "lease-database": {"type": "memfile", "persist": True,
                                   "name": f"{d}/kea-leases4.csv", "lfc-interval": 0},
                "multi-threading": {"enable-multi-threading": mt, "thread-pool-size": 2,
                                    "packet-queue-size": 64},
                "authoritative": True,
                "valid-lifetime": LEASE,
                "subnet4": [{"id": 1, "subnet": "10.0.0.0/12",
                             "pools": [{"pool": f"{POOL[0]} - {POOL[1]}"}]}],
                "loggers": [{"name": "kea-dhcp4", "severity": "ERROR",
                             "output_options": [{"output": "stdout"}]}],
            }}, f)
        return ["kea-dhcp4", "-c", cfg], dict(os.environ, KEA_PIDFILE_DIR=d, KEA_LOCKFILE_DIR=d)
    if kind in ("floor", "floor-batch"):
        floor = os.path.join(os.path.dirname(dhcp), "examples", "floor")
        if not os.path.exists(floor):
            raise Fail(f"{floor}: cargo build --release -p dhcp-benches --example floor")
        return [floor, "10.0.0.1"] + (["--batch"] if kind == "floor-batch" else []), None
    if kind == "dnsmasq":
        return ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--user=root",
                f"--interface={iface}", "--bind-interfaces", "--dhcp-authoritative",
                f"--dhcp-leasefile={d}/dnsmasq.leases", f"--pid-file={d}/dnsmasq.pid",
                "--no-ping", "--dhcp-lease-max=2000000",
                f"--dhcp-range={POOL[0]},{POOL[1]},255.240.0.0,{LEASE}"], None
    raise ValueError(kind)


def perfdhcp_figures(text, rate, seconds):
    """What a perfdhcp run at `rate` for `seconds` printed: DORA/s, the larger drop ratio of
    its two exchanges (answers beyond the first, such as a second server's OFFER, are
    orphans, not answers), average and max DORA delay, ACKs."""
    sent = [int(x) for x in re.findall(r"sent packets: (\d+)", text)]
    recv = [int(x) for x in re.findall(r"received packets: (\d+)", text)]
    delays = [float(x) for x in re.findall(r"avg delay: ([\d.]+) ms", text)]
    maxes = [float(x) for x in re.findall(r"max delay: ([\d.]+) ms", text)]
    if len(sent) < 2 or len(recv) < 2:
        raise Fail(f"perfdhcp said: {text[-1500:]}")
    acks = recv[1]
    return {
        "rate": rate,
        "dora_s": acks / seconds,
        "drop": max((s_ - r_) / s_ if s_ else 1.0 for s_, r_ in zip(sent[:2], recv[:2])),
        "delay_ms": sum(delays[:2]) if len(delays) >= 2 else float("nan"),
        "do_ms": delays[0] if delays else float("nan"),
        "ra_ms": delays[1] if len(delays) >= 2 else float("nan"),
        "max_delay_ms": sum(maxes[:2]) if len(maxes) >= 2 else float("nan"),
        "acks": acks,
    }


def trial(kind, rate, seconds, dhcp, workdir):
    """One perfdhcp run at `rate` against a fresh `kind`: its figures."""
    flow = Flow(f"{kind} at {rate}/s")
    done = None
    try:
        s, p = flow.ns("s"), flow.ns("p")
        si, pi = f"s{flow.id}", f"p{flow.id}"
        flow.link(s, si, p, pi)
        flow.ip(s, "addr", "add", "10.0.0.1/12", "dev", si)
        flow.ip(p, "addr", "add", "10.0.0.2/12", "dev", pi)
        d = tempfile.mkdtemp(prefix=f"{kind}-", dir=workdir)
        argv, env = server_argv(kind, d, si, dhcp)
        log = os.path.join(d, "server.log")
        server = flow.spawn(s, argv, log, env=env)
        time.sleep(1.5)
        out = os.path.join(d, "perfdhcp.log")
        r, cpu, rss, lost_in = measure(
            flow, kind, server, log, s, p,
            ["perfdhcp", "-4", "-l", pi, "-r", str(rate), "-p", str(seconds),
             "-W", "1000000", "-R", "1000000", "10.0.0.1"], out, seconds,
            lambda text: perfdhcp_figures(text, rate, seconds))
        acks = r["acks"]
        figures = {
            **r,
            "cpu_per_1000": cpu / acks * 1000 if acks else float("nan"),
            "rss_mib": rss / 1024,
            **lost_in,
        }
        done = d
        return figures
    finally:
        flow.close()
        if done:  # a failed trial's directory stays, with its logs
            remove_workdir(done)


def measure(flow, kind, server, log, s, p, perf_argv, out, seconds, figures, v6=False):
    """Runs perfdhcp (`perf_argv`, in namespace `p`, its output to `out`, bounded to
    `seconds` + 30 s) against `server`, the started `kind` in namespace `s` (its output in
    `log`). Returns `figures(perfdhcp's output)`, the server's CPU seconds over the run, its
    peak RSS in KiB, and the datagrams lost in the server's and in perfdhcp's socket
    (`lost_server`, `lost_perfdhcp`; the Udp6 counters with `v6`)."""
    if server.poll() is not None:
        raise Fail(f"{kind} exited: {read(log)[-2000:]}")
    cpu0 = cpu_seconds(server.pid)
    perf = flow.spawn(p, perf_argv, out)
    try:
        perf.wait(seconds + 30)
    except subprocess.TimeoutExpired:
        raise Fail("perfdhcp ran over its time")
    cpu = cpu_seconds(server.pid) - cpu0
    rss = peak_rss_kib(server.pid)
    r = figures(read(out))
    return r, cpu, rss, {"lost_server": udp_counters(s, v6)["RcvbufErrors"],
                         "lost_perfdhcp": udp_counters(p, v6)["RcvbufErrors"]}


def remove_workdir(d):
    """Removes a trial's directory (and the /dev/shm one its journal may be in)."""
    shm = os.path.join(d, "shm")
    if os.path.islink(shm):
        shutil.rmtree(os.readlink(shm), ignore_errors=True)
    shutil.rmtree(d, ignore_errors=True)


def lost(r):
    """Whose socket lost datagrams in trial `r`, for the log (when the trial counted)."""
    if "lost_server" not in r:
        return ""
    return f" (lost in the server's socket {r['lost_server']}, in perfdhcp's {r['lost_perfdhcp']})"


def best_rate(kind, args, log, run=None, unit="DORA"):
    """Highest rate with under 1 % drops: double, then bisect. `run(rate)` is one trial's
    figures (by default load.py's own trial of `kind`), with the exchanges a second
    completed under `unit.lower() + "_s"` (`dora_s`) and the drop ratio under `drop`."""
    run = run or (lambda rate: trial(kind, rate, args.trial, args.dhcp, args.workdir))
    per_s = f"{unit.lower()}_s"
    good, bad = None, None
    rate = args.start
    while rate <= args.max_rate:
        r = run(rate)
        log(f"  {kind:15} {rate:6}/s -> {r[per_s]:8.0f} {unit}/s, drops {r['drop'] * 100:5.2f} %"
            f"{lost(r)}")
        if r["drop"] < 0.01:
            good = r
            rate *= 2
        else:
            bad = r
            break
    if good is None:
        return bad
    if bad is not None:
        lo, hi = good["rate"], bad["rate"]
        for _ in range(args.bisect):
            mid = (lo + hi) // 2
            r = run(mid)
            log(f"  {kind:15} {mid:6}/s -> {r[per_s]:8.0f} {unit}/s, drops "
                f"{r['drop'] * 100:5.2f} %{lost(r)}")
            if r["drop"] < 0.01:
                good, lo = r, mid
            else:
                hi = mid
    return good


def search_args(ap, servers):
    """The arguments of the rate search, shared with load6.py (`servers`: the default list)."""
    ap.add_argument("--dhcp", default="target/release/dhcp")
    ap.add_argument("--servers", default=servers)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--trial", type=int, default=10, help="seconds per perfdhcp run")
    ap.add_argument("--start", type=int, default=250, help="first rate tried")
    ap.add_argument("--max-rate", type=int, default=64000)
    ap.add_argument("--bisect", type=int, default=2)
    ap.add_argument("--workdir", default="/var/tmp", help="on disk: our journal fsyncs there")


def prepare(args):
    """Our binary's absolute path (for interop too), and root, which the namespaces need."""
    args.dhcp = os.path.abspath(args.dhcp)
    interop.DHCP = args.dhcp
    if os.geteuid() != 0:
        sys.exit("the load benchmark needs root (network namespaces)")


def spread(rs, key):
    """Median, min and max of `key` over the rounds' results `rs`, and the result nearest
    the median."""
    rates = [r[key] for r in rs]
    med = statistics.median(rates)
    return med, min(rates), max(rates), min(rs, key=lambda r: abs(r[key] - med))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    search_args(ap, "ours-tokio,ours-async-std,ours-smol,kea-mt,kea,dnsmasq")
    ap.add_argument("--light", type=int, default=100,
                    help="rate of the light-load trial (DORA latency), 0 for none")
    ap.add_argument("--fixed", type=int,
                    help="one trial a round at this rate instead of the search (CPU per DORA "
                         "of every server at one load)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    prepare(args)
    servers = args.servers.split(",")
    results = {k: [] for k in servers}
    light = {k: [] for k in servers}

    def log(msg):
        print(msg, flush=True)

    started = time.monotonic()
    for rnd in range(args.rounds):
        log(f"round {rnd + 1} of {args.rounds}")
        for kind in servers:  # interleaved: ours, Kea, dnsmasq, ours, ...
            if args.fixed:
                r = trial(kind, args.fixed, args.trial, args.dhcp, args.workdir)
                log(f"  {kind:15} {args.fixed:6}/s -> {r['dora_s']:8.0f} DORA/s, drops "
                    f"{r['drop'] * 100:5.2f} %, {r['cpu_per_1000']:.3f} CPU s per 1 000"
                    f"{lost(r)}")
                results[kind].append(r)
            else:
                results[kind].append(best_rate(kind, args, log))
            if args.light:
                r = trial(kind, args.light, args.trial, args.dhcp, args.workdir)
                light[kind].append(r)
                log(f"  {kind:15} light load, {args.light}/s: DORA delay {r['delay_ms']:.2f} ms "
                    f"({r['do_ms']:.2f} + {r['ra_ms']:.2f})")
    log(f"\n{args.rounds} rounds, {args.trial} s trials, {time.monotonic() - started:.0f} s in all\n")
    head = f"{'server':15} {'DORA/s median':>13} {'min':>7} {'max':>7} {'avg delay':>10} " \
           f"{'max delay':>10} {'CPU s/1000':>10} {'peak RSS':>9} {'light load: DO + RA':>26}"
    log(head)
    log("-" * len(head))
    summary = {}
    for kind, rs in results.items():
        med, lo, hi, at_med = spread(rs, "dora_s")
        lite, do, ra = (statistics.median(r[k] for r in light[kind]) if light[kind]
                        else float("nan") for k in ("delay_ms", "do_ms", "ra_ms"))
        summary[kind] = {"median": med, "min": lo, "max": hi, **at_med,
                         "light_delay_ms": lite, "light_do_ms": do, "light_ra_ms": ra}
        log(f"{kind:15} {med:13.0f} {lo:7.0f} {hi:7.0f} "
            f"{at_med['delay_ms']:8.2f}ms {at_med['max_delay_ms']:8.2f}ms "
            f"{at_med['cpu_per_1000']:10.3f} {at_med['rss_mib']:7.1f}MiB "
            f"{lite:10.2f} ms ({do:.2f} + {ra:.2f})")
    ours = [k for k in servers if k.startswith("ours-")]
    peers = [k for k in servers if not k.startswith("ours-")]
    if ours and peers and args.fixed:
        log(f"\nCPU per DORA at {args.fixed}/s: each peer's (and the floor's) over ours")
        log(f"{'':15} " + " ".join(f"{p:>11}" for p in peers))
        for o in ours:
            log(f"{o:15} " + " ".join(
                f"{summary[p]['cpu_per_1000'] / summary[o]['cpu_per_1000']:11.2f}"
                for p in peers))
    elif ours and peers:
        log("\nratio of ours to each peer (median DORA/s)")
        log(f"{'':15} " + " ".join(f"{p:>9}" for p in peers))
        for o in ours:
            log(f"{o:15} " + " ".join(f"{summary[o]['median'] / summary[p]['median']:9.2f}"
                                      for p in peers))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rounds": results, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
