#!/usr/bin/env python3
"""Servers sharing one PostgreSQL lease store under load: one, two and three of our servers
(`store = "postgres"`, `[ha]` shares) against Kea with its PostgreSQL lease backend, all on
one PostgreSQL instance of the script's own, interleaved, in network namespaces the script
makes and removes.

    sudo benches/shared.py --dhcp target/release/dhcp [--rounds 3] [--trial 10]

perfdhcp broadcasts as a relay would (giaddr = its address) on a bridge every server is
on, so each DISCOVER reaches every server and perfdhcp takes the first OFFER. For each
setup and round the highest rate with under 1 % drops (full DORA exchanges) is found as in
load.py (double, then bisect; a fresh database and fresh servers for every trial). Prints
DORA/s (median, min, max), perfdhcp's average and max DORA delay, the servers' and
PostgreSQL's CPU seconds per 1 000 DORAs, and the ratio of each of ours to Kea.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, HERE)
import ha  # noqa: E402  (the PostgreSQL instance, the bridged topology)
import interop  # noqa: E402
from interop import Fail, Flow, read, run  # noqa: E402
from load import best_rate, cpu_seconds, perfdhcp_figures  # noqa: E402

LEASE = 3600
NETWORK, POOL = "10.0.0.0/12", ("10.0.1.0", "10.15.255.254")


def our_config(d, i, n, pg):
    return f"""interfaces = ["eth0"]
journal = "{d}/unused.journal"
control_socket = ""
server_id = "10.0.0.{2 + i}"
log_level = "error"
authoritative = true
store = "postgres"
[postgres]
url = "host={pg.dir} user=postgres dbname=dhcp"
name = "s{i}"
[ha]
servers = {n}
this = {i}
[lease]
time = {LEASE}
[[subnet]]
network = "{NETWORK}"
pools = ["{POOL[0]}-{POOL[1]}"]
"""


def kea_config(d, pg):
    return json.dumps({"Dhcp4": {
        "interfaces-config": {"interfaces": ["eth0"], "dhcp-socket-type": "raw"},
        "lease-database": {"type": "postgresql", "name": "dhcp", "user": "postgres",
                           "host": pg.dir},
        "multi-threading": {"enable-multi-threading": True, "thread-pool-size": 2,
                            "packet-queue-size": 64},
        "authoritative": True,
        "valid-lifetime": LEASE,
        "subnet4": [{"id": 1, "subnet": NETWORK, "pools": [{"pool": f"{POOL[0]} - {POOL[1]}"}]}],
        "loggers": [{"name": "kea-dhcp4", "severity": "ERROR",
                     "output_options": [{"output": "stdout"}]}],
    }})


def trial(setup, rate, seconds, dhcp):
    """One perfdhcp run at `rate` against fresh servers of `setup` on a fresh database."""
    n = int(setup.split("-")[1]) if setup.startswith("ours") else 1
    flow = Flow(f"{setup} at {rate}/s")
    pg = None
    try:
        # The database in a namespace of its own on the link (ha.py's); every server here,
        # ours and Kea, reaches it by its Unix socket.
        db, servers, hosts = ha.topology(flow, n, 1)
        pg = ha.Postgres(flow.dir, db)
        load = hosts[0]
        flow.ip(load, "addr", "add", "10.0.0.250/12", "dev", "eth0")
        procs = []
        for i, ns in enumerate(servers):
            flow.ip(ns, "addr", "flush", "dev", "eth0")
            flow.ip(ns, "addr", "add", f"10.0.0.{2 + i}/12", "dev", "eth0")
            log = os.path.join(flow.dir, f"s{i}.log")
            if setup == "kea-pg":
                run(["kea-admin", "db-init", "pgsql", "-u", "postgres", "-h", pg.dir, "-n", "dhcp"])
                cfg = os.path.join(flow.dir, "kea.json")
                with open(cfg, "w") as f:
                    f.write(kea_config(flow.dir, pg))
                env = dict(os.environ, KEA_PIDFILE_DIR=flow.dir, KEA_LOCKFILE_DIR=flow.dir)
                procs.append(flow.spawn(ns, ["kea-dhcp4", "-c", cfg], log, env=env))
            else:
                cfg = os.path.join(flow.dir, f"s{i}.toml")
                with open(cfg, "w") as f:
                    f.write(our_config(flow.dir, i, n, pg))
                env = dict(os.environ, RUST_LOG="error")
                procs.append(flow.spawn(ns, [dhcp, "server", "--config", cfg], log, env=env))
        time.sleep(2)
        for i, p in enumerate(procs):
            if p.poll() is not None:
                raise Fail(f"{setup} server {i} exited: {read(os.path.join(flow.dir, f's{i}.log'))[-2000:]}")
        postmaster = int(read(os.path.join(pg.data, "postmaster.pid")).split()[0])

        def cpu():
            children = run(["pgrep", "-P", str(postmaster)], check=False).stdout.split()
            db = sum(cpu_seconds(int(c)) for c in children if os.path.exists(f"/proc/{c}"))
            return sum(cpu_seconds(p.pid) for p in procs), db + cpu_seconds(postmaster)

        srv0, db0 = cpu()
        out = os.path.join(flow.dir, "perfdhcp.log")
        perf = flow.spawn(load, ["perfdhcp", "-4", "-l", "eth0", "-B", "-r", str(rate), "-p",
                                 str(seconds), "-W", "1000000", "-R", "1000000"], out)
        try:
            perf.wait(seconds + 30)
        except subprocess.TimeoutExpired:
            raise Fail("perfdhcp ran over its time")
        srv1, db1 = cpu()
        r = perfdhcp_figures(read(out), rate, seconds)
        acks = r["acks"]
        return {
            **r,
            "server_cpu_per_1000": (srv1 - srv0) / acks * 1000 if acks else float("nan"),
            "db_cpu_per_1000": (db1 - db0) / acks * 1000 if acks else float("nan"),
        }
    finally:
        if pg:
            pg.close()
        flow.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dhcp", default="target/release/dhcp")
    ap.add_argument("--setups", default="ours-1,ours-2,ours-3,kea-pg")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--trial", type=int, default=10, help="seconds per perfdhcp run")
    ap.add_argument("--start", type=int, default=250)
    ap.add_argument("--max-rate", type=int, default=32000)
    ap.add_argument("--bisect", type=int, default=2)
    args = ap.parse_args()
    args.dhcp = os.path.abspath(args.dhcp)
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    setups = args.setups.split(",")
    results = {s: [] for s in setups}

    def log(msg):
        print(msg, flush=True)

    started = time.monotonic()
    try:
        for rnd in range(args.rounds):
            log(f"round {rnd + 1} of {args.rounds}")
            for s in setups:  # interleaved
                results[s].append(best_rate(s, args, log, run=lambda rate, s=s: trial(
                    s, rate, args.trial, args.dhcp)))
    finally:
        Flow.close_all()
    log(f"\n{args.rounds} rounds, {args.trial} s trials, {time.monotonic() - started:.0f} s in all\n")
    head = f"{'setup':8} {'DORA/s median':>13} {'min':>7} {'max':>7} {'avg delay':>10} " \
           f"{'max delay':>10} {'servers CPU s/1000':>18} {'PostgreSQL CPU s/1000':>21}"
    log(head)
    log("-" * len(head))
    med = {}
    for s, rs in results.items():
        rates = [r["dora_s"] for r in rs]
        med[s] = statistics.median(rates)
        at = min(rs, key=lambda r: abs(r["dora_s"] - med[s]))
        log(f"{s:8} {med[s]:13.0f} {min(rates):7.0f} {max(rates):7.0f} {at['delay_ms']:8.2f}ms "
            f"{at['max_delay_ms']:8.2f}ms {at['server_cpu_per_1000']:18.3f} {at['db_cpu_per_1000']:21.3f}")
    if "kea-pg" in med:
        log("\nratio to Kea (PostgreSQL backend), median DORA/s")
        for s in setups:
            if s != "kea-pg":
                log(f"{s:8} {med[s] / med['kea-pg']:.2f}")


if __name__ == "__main__":
    main()
