#!/usr/bin/env python3
"""Several of our servers sharing one PostgreSQL lease store, with real clients, in network
namespaces this script creates and always removes.

    sudo tests/ha.py --dhcp target/release/dhcp [--servers 2 3]

For two and for three servers: a PostgreSQL instance of the test's own (initdb in a
temporary directory) in a namespace on the link, reached over TCP with TLS only (a CA of
the test's own, which the servers verify the database's certificate with), the servers
each in a namespace of their own on one bridged link, all active (`store = "postgres"`,
`[ha]` shares), and udhcpc and dhclient clients on the same link. Checks, each bounded in
time:
- the store's own tests against this database (host/tests/postgres.rs: several records
  of one address in one batch, refusals, row versions, following, TLS verification);
- every client gets an address, no address is bound to two clients and no client holds
  two, audited in the database, and each client's address is its row's;
- the database restarted in the middle: the clients renew through it, new clients get
  addresses after it, nothing lost, nothing doubled;
- one server killed with SIGKILL: every client keeps its address, renewing or rebinding
  with a survivor, which now writes its row;
- that server started again while the database is down: it waits, and serves (every lease
  restored) once the database is back.
"""

import argparse
import glob
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402
from interop import BOUND_EVENT, RENEW_EVENT, Fail, Flow, read, run, wait_for  # noqa: E402

LEASE = 20  # seconds: T1 10, T2 17.5
CLIENTS = ["udhcpc", "dhclient", "udhcpc", "dhclient"]

CONFIG = """
interfaces = ["eth0"]
journal = "{dir}/unused-{i}.journal"
control_socket = ""
server_id = "10.20.0.{host}"
authoritative = true
store = "postgres"

[postgres]
url = "host={db} user=postgres dbname=dhcp"
name = "s{i}"
ca = "{ca}"

[ha]
servers = {n}
this = {i}

[lease]
time = {lease}
min = 10

[[subnet]]
network = "10.20.0.0/16"
pools = ["10.20.1.0-10.20.200.255"]

[subnet.options]
routers = ["10.20.0.1"]
"""


DB = "10.20.0.240"


def make_certificates(d):
    """A CA and the database's certificate (for DB) signed by it, and another CA."""
    def ssl(*argv):
        run(["openssl", *argv])
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other-ca"):
        ssl("req", "-x509", *ec, "-keyout", f"{d}/{ca}.key", "-out", f"{d}/{ca}.pem",
            "-days", "2", "-subj", f"/CN=ha test {ca}")
    ssl("req", *ec, "-keyout", f"{d}/server.key", "-out", f"{d}/server.csr", "-subj", f"/CN={DB}")
    with open(f"{d}/san.ext", "w") as f:
        f.write(f"subjectAltName=IP:{DB}\n")
    ssl("x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
        "-CAcreateserial", "-out", f"{d}/server.pem", "-days", "2", "-extfile", f"{d}/san.ext")


class Postgres:
    """A PostgreSQL instance of the test's own in namespace `ns`: a Unix socket in `dir`
    (for the audits) and DB over TCP, TLS only."""

    def __init__(self, base, ns):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise Fail("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = os.path.dirname(bins[-1])
        self.dir = os.path.join(base, "pg")
        os.makedirs(self.dir)
        pw = pwd.getpwnam("postgres")
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.ns = ns
        self.as_postgres([os.path.join(self.bin, "initdb"), "-D", self.data, "-A", "trust",
                          "-U", "postgres"])
        make_certificates(self.dir)
        for f in os.listdir(self.dir):
            if f.endswith((".key", ".pem")):
                os.chown(os.path.join(self.dir, f), pw.pw_uid, pw.pw_gid)
                os.chmod(os.path.join(self.dir, f), 0o600)
        self.ca = os.path.join(self.dir, "ca.pem")
        self.other_ca = os.path.join(self.dir, "other-ca.pem")
        with open(os.path.join(self.data, "pg_hba.conf"), "a") as f:
            # From the link, TLS only: a connection without it is refused.
            f.write("hostssl all all 10.20.0.0/16 trust\n")
        self.start()
        try:
            self.psql("CREATE DATABASE dhcp", db="postgres")
        except Exception:
            self.close()
            raise

    def as_postgres(self, argv):
        return run(["runuser", "-u", "postgres", "--", *argv])

    def start(self):
        d = self.dir
        run(["ip", "netns", "exec", self.ns, "runuser", "-u", "postgres", "--",
             os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t", "30",
             "-o", f"-k {d} -c listen_addresses={DB} -c ssl=on -c ssl_cert_file={d}/server.pem "
                   f"-c ssl_key_file={d}/server.key",
             "start"])

    def stop(self):
        self.as_postgres([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "fast",
                          "-w", "-t", "30", "stop"])

    def psql(self, sql, db="dhcp"):
        r = run(["runuser", "-u", "postgres", "--", "psql", "-h", self.dir, "-d", db, "-XAtq",
                 "-v", "ON_ERROR_STOP=1", "-c", sql])
        return [line.split("|") for line in r.stdout.splitlines() if line]

    def close(self):
        try:
            self.stop()
        except Exception:  # noqa: BLE001 - already stopped, or never started
            pass


def topology(flow, n, clients):
    """A bridge in its own namespace; servers s0..s(n-1) and clients on it."""
    lan = flow.ns("lan")
    run(["ip", "-n", lan, "link", "add", "br0", "type", "bridge"])
    run(["ip", "-n", lan, "link", "set", "br0", "up"])

    def attach(ns, port, mac=None):
        flow.link(ns, "eth0", lan, port)
        if mac:
            run(["ip", "-n", ns, "link", "set", "eth0", "address", mac])
        run(["ip", "-n", lan, "link", "set", port, "master", "br0"])

    db = flow.ns("db")
    attach(db, "vdb")
    flow.ip(db, "addr", "add", f"{DB}/16", "dev", "eth0")
    servers = []
    for i in range(n):
        ns = flow.ns(f"s{i}")
        attach(ns, f"vs{i}")
        flow.ip(ns, "addr", "add", f"10.20.0.{2 + i}/16", "dev", "eth0")
        servers.append(ns)
    hosts = []
    for k in range(clients):
        ns = flow.ns(f"c{k}")
        attach(ns, f"vc{k}", mac=f"02:00:00:aa:{flow.id % 256:02x}:{k:02x}")
        hosts.append(ns)
    return db, servers, hosts


def start_server(flow, ns, i, n, pg, wait=True):
    cfg = os.path.join(flow.dir, f"s{i}.toml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(dir=flow.dir, i=i, n=n, host=2 + i, db=DB, ca=pg.ca, lease=LEASE))
    log = os.path.join(flow.dir, f"s{i}.log")
    before = read(log).count("serving ")
    p = flow.spawn(ns, [interop.DHCP, "server", "--config", cfg], log)
    if not wait:
        return p
    wait_for(f"server s{i} to serve",
             lambda: read(log).count("serving ") > before or p.poll() is not None, 20)
    if p.poll() is not None:
        raise Fail(f"server s{i} exited: {read(log)[-2000:]}")
    return p


def bound(events):
    """The client's last bound-or-renewed address."""
    found = re.findall(r"^(?:BOUND|bound|REBOOT|RENEW|renew|REBIND) ip=(\S+)", read(events), re.M)
    return found[-1] if found else None


def mac_of(flow, ns):
    m = re.search(r"link/ether (\S+)", flow.ip(ns, "link", "show", "eth0"))
    return m.group(1)


def audit(pg, flow, clients):
    """Every client's address is its row's; no address or client twice among live rows."""
    rows = pg.psql("SELECT address, encode(client, 'hex'), server FROM dhcp_lease "
                   "WHERE state = 0 AND expires > extract(epoch FROM now())")
    by_client = {}
    for address, client, _server in rows:
        if client in by_client:
            raise Fail(f"client {client} holds two addresses: {by_client[client]} and {address}")
        by_client[client] = int(address)
    seen = {}
    for ns, events in clients:
        ip = bound(events)
        if ip is None:
            raise Fail(f"{ns} has no address: {read(events)[-500:]}")
        if ip in seen:
            raise Fail(f"{ns} and {seen[ip]} both hold {ip}")
        seen[ip] = ns
        key = "01" + mac_of(flow, ns).replace(":", "")
        a = by_client.get(key)
        want = int.from_bytes(bytes(int(x) for x in ip.split(".")), "big")
        if a != want:
            raise Fail(f"{ns} holds {ip} but the database has {a} for client {key}: {rows}")
    return rows


def store_tests(pg, db):
    """host/tests/postgres.rs against this database, from the database's namespace."""
    pg.psql("CREATE DATABASE store_test", db="postgres")
    env = dict(os.environ,
               DHCP_TEST_POSTGRES=f"host={pg.dir} user=postgres dbname=store_test",
               DHCP_TEST_POSTGRES_TLS=f"host={DB} user=postgres dbname=store_test",
               DHCP_TEST_POSTGRES_CA=pg.ca, DHCP_TEST_POSTGRES_OTHER_CA=pg.other_ca)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        r = subprocess.run(["ip", "netns", "exec", db, "cargo", "test", "-q", "-p", "dhcp-host",
                            "--features", "postgres", "--test", "postgres", "--", "--ignored"],
                           cwd=root, env=env, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        raise Fail("the store's tests ran over 900 s")
    # Every test of the file ran (they are all `#[ignore]`d outside this run).
    with open(os.path.join(root, "host", "tests", "postgres.rs")) as f:
        expected = f.read().count("#[ignore")
    if r.returncode != 0 or f"{expected} passed" not in r.stdout:
        raise Fail(f"the store's tests failed (expected {expected} to pass):\n"
                   f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    print("  " + r.stdout.strip().splitlines()[-1], flush=True)


def shared_store(n, store_checks):
    flow = Flow(f"{n} servers, one PostgreSQL")
    pg = None
    try:
        db, servers, hosts = topology(flow, n, len(CLIENTS) + 3)
        pg = Postgres(flow.dir, db)
        flow.logs.append(pg.log)
        load = hosts.pop()
        procs = [start_server(flow, ns, i, n, pg) for i, ns in enumerate(servers)]
        clients = []

        def start_clients(kinds, first):
            for k, kind in enumerate(kinds):
                ns = hosts[first + k]
                _, events, _ = interop.peer_client(kind, flow, ns, "eth0", f"{first + k}")
                clients.append((ns, events))

        def all_bound():
            wait_for("every client bound", lambda: all(bound(e) for _, e in clients), 60)

        def every_client_gets_an_address():
            start_clients(CLIENTS, 0)
            all_bound()
            rows = audit(pg, flow, clients)
            writers = {s for _, _, s in rows}
            print(f"  {len(rows)} leases, written by {sorted(writers)}", flush=True)

        def perfdhcp_load():
            flow.ip(load, "addr", "add", "10.20.0.250/16", "dev", "eth0")
            out = os.path.join(flow.dir, "perfdhcp.log")
            # Broadcast (-B), every server answers; 60 new clients a second for 5 s.
            # -R: MACs drawn from 16 million, so that (almost) no two exchanges share one.
            perf = flow.spawn(load, ["perfdhcp", "-4", "-l", "eth0", "-B", "-r", "60", "-p", "5",
                                     "-W", "1000000", "-R", "16777216"], out)
            try:
                perf.wait(60)
            except Exception:  # noqa: BLE001 - bounded
                raise Fail("perfdhcp ran over 60 s")
            text = read(out)
            sent = [int(x) for x in re.findall(r"sent packets: (\d+)", text)]
            received = [int(x) for x in re.findall(r"received packets: (\d+)", text)]
            # Under 1 % of the exchanges lost (the second server's OFFERs are "orphans").
            if len(sent) < 2 or len(received) < 2 or sent[0] < 250 or \
                    min(received[0], received[1]) < 0.99 * sent[0]:
                raise Fail(f"exchanges lost: sent {sent}, received {received}\n{text[-1500:]}")
            rows = audit(pg, flow, clients)
            # A MAC drawn twice (rare) is one client: its second ACK renews the same row.
            if len(rows) < 0.99 * received[1] + len(clients):
                raise Fail(f"perfdhcp got {received[1]} ACKs but the database holds "
                           f"{len(rows)} leases for them and {len(clients)} clients")
            writers = sorted({r[2] for r in rows})
            print(f"  perfdhcp: {received[1]} ACKs, {len(rows)} leases by {writers}", flush=True)

        def database_restarted():
            before = {ns: bound(e) for ns, e in clients}
            pg.stop()
            # Longer than T1: every client renews while the database is down.
            time.sleep(LEASE * 0.6)
            pg.start()
            start_clients(["udhcpc", "dhclient"], len(CLIENTS))
            all_bound()
            for ns, e in clients:
                if ns in before and bound(e) != before[ns]:
                    raise Fail(f"{ns} had {before[ns]}, now {bound(e)}")
            audit(pg, flow, clients)

        def server_killed():
            victim = 0
            held = {ns: bound(e) for ns, e in clients}
            rows = audit(pg, flow, clients)
            theirs = {r[0] for r in rows if r[2] == "s0"}
            Flow.stop(procs[victim], sig=9)
            since = {e: len(read(e)) for _, e in clients}
            # Past T2 (17.5 s) and a retry: every client of the dead server has rebound.
            deadline = time.monotonic() + LEASE * 1.6

            def renewed_everywhere():
                return all(RENEW_EVENT.search(read(e)[since[e]:]) or
                           BOUND_EVENT.search(read(e)[since[e]:]) for _, e in clients)
            wait_for("every client to renew after the kill", renewed_everywhere, LEASE * 1.6)
            time.sleep(max(0.0, deadline - time.monotonic()))
            for ns, e in clients:
                if bound(e) != held[ns]:
                    raise Fail(f"{ns} had {held[ns]}, now {bound(e)}: {read(e)[-400:]}")
            rows = audit(pg, flow, clients)
            still = [r for r in rows if r[0] in theirs and r[2] == "s0"]
            if still:
                raise Fail(f"rows the dead server wrote were not taken over: {still}")
            print(f"  {len(theirs)} leases of the killed server taken over", flush=True)

        def started_while_the_database_is_down():
            log = os.path.join(flow.dir, "s0.log")
            pg.stop()
            p = start_server(flow, servers[0], 0, n, pg, wait=False)
            procs[0] = p
            wait_for("s0 to wait for the database",
                     lambda: "waiting for the lease database" in read(log) or p.poll() is not None, 20)
            if p.poll() is not None:
                raise Fail(f"s0 exited instead of waiting: {read(log)[-1500:]}")
            pg.start()
            wait_for("s0 to serve once the database is up",
                     lambda: read(log).count("serving ") >= 2 or p.poll() is not None, 20)
            restored = re.findall(r"restored (\d+) lease records", read(log))
            if p.poll() is not None or len(restored) < 2 or int(restored[-1]) < len(clients):
                raise Fail(f"s0 restored {restored}, {len(clients)} clients: {read(log)[-1500:]}")
            audit(pg, flow, clients)

        if store_checks:
            flow.scenario("the store against this database (host/tests/postgres.rs)",
                          lambda: store_tests(pg, db))
        flow.scenario("every client gets an address, none twice (database audit)",
                      every_client_gets_an_address)
        flow.scenario("perfdhcp's clients as well: every ACK in the database, none twice",
                      perfdhcp_load)
        flow.scenario("database restarted: leases kept, new clients served, no duplicate",
                      database_restarted)
        flow.scenario("a server killed (SIGKILL): its clients keep their addresses",
                      server_killed)
        flow.scenario("a server started while the database is down serves once it is up",
                      started_while_the_database_is_down)
    finally:
        if pg:
            pg.close()
        flow.close()
    return flow


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dhcp", default=interop.DHCP)
    ap.add_argument("--servers", type=int, nargs="+", default=[2, 3])
    args = ap.parse_args()
    interop.DHCP = os.path.abspath(args.dhcp)
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    failed = 0
    try:
        for k, n in enumerate(args.servers):
            flow = shared_store(n, store_checks=k == 0)
            for name, ok, secs, detail in flow.results:
                mark = {True: "ok", False: "FAIL", None: "skip"}[ok]
                print(f"{mark:4} {n} servers: {name} ({secs:.1f} s)")
                if ok is False:
                    failed += 1
                    print(detail)
                    for log in flow.logs:
                        print(f"--- {log}\n{read(log)[-3000:]}")
    finally:
        Flow.close_all()
    print(f"ha: {'FAILED' if failed else 'passed'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
