#!/usr/bin/env python3
"""Operating the server (issue 10), in network namespaces this script creates and always
removes:

    sudo tests/operations.py --dhcp target/release/dhcp [--only NAME]

- metrics: perfdhcp runs DORAs against the server while the metrics endpoint is scraped;
  afterwards its counters must match what perfdhcp sent and received, the lease gauge the
  leases journaled, and the latency and journal histograms must have seen every reply
  and batch;
- reload: `dhcp server --reload` and SIGHUP apply a new config without losing a lease
  (a lease in a removed pool is not renewed, clients get the new options); a bad config
  is refused with file:line:column and serving goes on;
- notify: a `Type=notify` service manager (a datagram socket in $NOTIFY_SOCKET) hears
  READY=1 once the server serves and STOPPING=1 when it stops;
- control: the control socket's commands (leases, lease, delete-lease, reservations,
  add-/remove-reservation, stats), `dhcp leases` asking the running server, and another
  user refused (by the socket's mode, and by the peer-credential check);
- json logs: with `log_format = "json"` every log line is a JSON object;
- unit: `systemd-analyze verify` accepts dist/dhcp-server.service (where systemd is
  installed).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402
import reliability  # noqa: E402
from interop import Fail, Flow, read, run, wait_for  # noqa: E402

FIGURES = []
METRICS_PORT = 9267


def figure(text):
    FIGURES.append(text)
    print(f"  {text}", flush=True)


in_namespace = reliability.in_namespace


def scrape(ns_name):
    def get():
        with socket.create_connection(("127.0.0.1", METRICS_PORT), timeout=5) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise Fail(f"metrics answered {head[:100]!r}")
        return body.decode()
    text = in_namespace(ns_name, get)
    values = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        values[name] = float(value)
    return text, values


def metrics():
    flow = Flow("metrics")

    def counters_match_perfdhcp():
        s, si, p, pi = reliability.two_links(flow)
        cfg = reliability.server_config(flow, si, extra=f'metrics = "127.0.0.1:{METRICS_PORT}"\n')
        srv, log = reliability.start_server(flow, s, cfg)
        out = os.path.join(flow.dir, "perfdhcp.log")
        perf = flow.spawn(p, ["perfdhcp", "-4", "-l", pi, "-r", "200", "-p", "5", "-W", "1000000",
                              "-R", "100000", "10.0.0.1"], out)
        scrapes = 0
        while perf.poll() is None:
            scrape(s)
            scrapes += 1
            time.sleep(0.5)
            if scrapes > 60:
                raise Fail("perfdhcp ran over 30 s")
        text = read(out)
        sent = [int(x) for x in re.findall(r"sent packets: (\d+)", text)]
        received = [int(x) for x in re.findall(r"received packets: (\d+)", text)]
        if len(sent) < 2 or len(received) < 2:
            raise Fail(f"perfdhcp printed no statistics: {text[-1500:]}")
        # The metrics are refreshed every second: wait until they have caught up with the
        # journal (bounded), then check everything against one scrape.
        give_up = time.monotonic() + 10
        while True:
            time.sleep(1.2)
            body, v = scrape(s)
            journaled = sum(1 for r in interop.journal(flow) if r[1] == "bound")
            caught_up = v.get('dhcp_leases_active{subnet="10.0.0.0/16"}') == journaled
            if caught_up or time.monotonic() > give_up:
                break

        def m(name, **labels):
            key = name + ("{" + ",".join(f'{k}="{x}"' for k, x in labels.items()) + "}" if labels else "")
            if key not in v:
                raise Fail(f"no {key} in:\n{body[:3000]}")
            return v[key]

        # What perfdhcp sent, the server received, and what the server sent, perfdhcp
        # received: equal when nothing was lost on the way (perfdhcp's drops), else within.
        checks = [
            ("DISCOVERs", m("dhcp_packets_received_total", message_type="DISCOVER"), received[0], sent[0]),
            ("OFFERs", m("dhcp_packets_sent_total", message_type="OFFER"), received[0], sent[0]),
            ("REQUESTs", m("dhcp_packets_received_total", message_type="REQUEST"), received[1], sent[1]),
            ("ACKs", m("dhcp_packets_sent_total", message_type="ACK"), received[1], sent[1]),
        ]
        bad = [f"{what}: metrics {got:.0f}, perfdhcp received {low} of {high}"
               for what, got, low, high in checks if not low <= got <= high]
        lost = sent[0] - received[0] + sent[1] - received[1]
        if bad:
            raise Fail("; ".join(bad))
        active = m("dhcp_leases_active", subnet="10.0.0.0/16")
        if active != journaled:
            raise Fail(f"leases_active {active:.0f}, journal {journaled}")
        replies = m("dhcp_reply_latency_seconds_count")
        if replies != received[0] + received[1]:
            raise Fail(f"reply latency saw {replies:.0f} replies, perfdhcp got {received[0] + received[1]}")
        batches = m("dhcp_journal_batch_records_count")
        records = m("dhcp_journal_batch_records_sum")
        if records < received[1] or batches < 1:
            raise Fail(f"journal histogram: {batches:.0f} batches of {records:.0f} records")
        in_pool = m("dhcp_pool_leases_active", subnet="10.0.0.0/16", pool="10.0.1.0-10.0.255.254")
        if in_pool != journaled:
            raise Fail(f"pool_leases_active {in_pool:.0f}, journal {journaled}")
        free = m("dhcp_pool_addresses_free", subnet="10.0.0.0/16", pool="10.0.1.0-10.0.255.254")
        size = m("dhcp_pool_addresses", subnet="10.0.0.0/16", pool="10.0.1.0-10.0.255.254")
        if free != size - journaled:
            raise Fail(f"pool: {free:.0f} free of {size:.0f} with {journaled} leases")
        p50 = m("dhcp_reply_latency_seconds_sum") / replies
        reliability.stop_and_stats(flow, srv, log)
        figure(f"metrics: {scrapes} scrapes during perfdhcp's run; DISCOVER {sent[0]}, OFFER {received[0]}, "
               f"REQUEST {sent[1]}, ACK {received[1]} by perfdhcp ({lost} lost), the server's counters "
               f"agreeing; {active:.0f} leases active; "
               f"{batches:.0f} journal batches ({records / batches:.1f} records each); mean reply "
               f"latency {p50 * 1000:.2f} ms")

    flow.scenario("metrics match perfdhcp", counters_match_perfdhcp)
    return flow


def notify():
    flow = Flow("notify")

    def ready_and_stopping():
        s, si, p, pi = reliability.two_links(flow)
        path = os.path.join(flow.dir, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(15)
        cfg = reliability.server_config(flow, si)
        env = dict(os.environ, NOTIFY_SOCKET=path, RUST_LOG="warn,dhcp=info")
        log = os.path.join(flow.dir, "server.log")
        srv = flow.spawn(s, [interop.DHCP, "server", "--config", cfg], log, env=env)
        msg = sock.recv(4096).decode()
        if msg != "READY=1" or "serving" not in read(log):
            raise Fail(f"first notification {msg!r}; log: {read(log)[-500:]}")
        srv.send_signal(signal.SIGTERM)
        msg = sock.recv(4096).decode()
        if msg != "STOPPING=1":
            raise Fail(f"at SIGTERM: {msg!r}")
        srv.wait(10)
        figure("notify: READY=1 once serving, STOPPING=1 at SIGTERM")

    flow.scenario("sd_notify READY and STOPPING", ready_and_stopping)
    return flow


def json_logs():
    flow = Flow("json logs")

    def every_line_is_json():
        s, si, p, pi = reliability.two_links(flow)
        cfg = reliability.server_config(flow, si, extra='log_format = "json"\n')
        text = read(cfg).replace('log_level = "warn"', 'log_level = "info"')
        with open(cfg, "w") as f:
            f.write(text)
        log = os.path.join(flow.dir, "server.log")
        env = dict(os.environ)
        env.pop("RUST_LOG", None)
        srv = flow.spawn(s, [interop.DHCP, "server", "--config", cfg], log, env=env)
        wait_for("the server to serve", lambda: "serving" in read(log), 15)
        Flow.stop(srv)
        lines = [l for l in read(log).splitlines() if l.strip()]
        objects = [json.loads(l) for l in lines]
        if not any("serving" in o.get("fields", {}).get("message", "") for o in objects):
            raise Fail(f"no serving line in {lines[:5]}")
        figure(f"json logs: {len(objects)} lines, every one a JSON object with level, target and fields")

    flow.scenario("log_format = json", every_line_is_json)
    return flow


def unit():
    flow = Flow("systemd unit")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dist", "dhcp-server.service")

    def verifies():
        text = read(path)
        for need in ["Type=notify", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_NET_ADMIN",
                     "NoNewPrivileges=yes", "ProtectSystem=strict", "StateDirectory=dhcp"]:
            if need not in text:
                raise Fail(f"the unit lacks {need}")
        if not shutil.which("systemd-analyze"):
            figure("unit: systemd-analyze not installed here; the unit's settings checked by text only")
            return
        r = run(["systemd-analyze", "verify", path], check=False)
        problems = [l for l in (r.stderr + r.stdout).splitlines()
                    if "dhcp-server.service" in l and "Command /usr/bin/dhcp" not in l]
        if problems:
            raise Fail("\n".join(problems))
        figure("unit: systemd-analyze verify accepts dist/dhcp-server.service")

    flow.scenario("dist/dhcp-server.service", verifies)
    return flow


def control_request(path, request, as_user=None):
    """One request on the control socket; as root, or as `as_user` (uid) in a child."""
    code = ("import json,socket,sys\n"
            "s=socket.socket(socket.AF_UNIX)\n"
            "try:\n"
            f"    s.connect({path!r})\n"
            "except PermissionError as e:\n"
            "    print(json.dumps({'refused': str(e)})); sys.exit(0)\n"
            f"s.sendall(json.dumps({request!r}).encode()+b'\\n')\n"
            "print(s.makefile().readline())\n")
    argv = ["python3", "-c", code]
    if as_user is not None:
        argv = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups"] + argv
    out = run(argv).stdout.strip()
    return json.loads(out)


def control():
    flow = Flow("control socket")

    def commands_and_permissions():
        s, si, p, pi = reliability.two_links(flow)
        cfg = reliability.server_config(flow, "br0")
        srv, log = reliability.start_server(flow, s, cfg)
        sock = os.path.join(flow.dir, "leases.sock")
        wait_for("the control socket", lambda: os.path.exists(sock), 5)
        mode = oct(os.stat(sock).st_mode & 0o777)
        c1, i1 = reliability.client_ns(flow, s, "a", "02:00:00:00:00:0a")
        a, ev_a = reliability.udhcpc(flow, c1, i1, "a")
        wait_for("client a's lease", lambda: reliability.bound(ev_a), 15)
        ip_a = reliability.bound(ev_a)[-1][0]
        r = control_request(sock, {"command": "leases"})
        if r.get("version") != 1 or not r.get("ok") or [l["address"] for l in r["leases"]] != [ip_a]:
            raise Fail(f"leases: {r}")
        r = control_request(sock, {"command": "lease", "address": ip_a})
        if r["lease"]["client"] != "01:02:00:00:00:00:0a":
            raise Fail(f"lease: {r}")
        listed = run([interop.DHCP, "leases", "--config", cfg]).stdout
        if "from the running server" not in listed or ip_a not in listed:
            raise Fail(f"dhcp leases did not ask the server: {listed}")
        # A reservation added at run time: the next client with that MAC gets its address.
        r = control_request(sock, {"command": "add-reservation", "address": "192.0.2.77",
                                   "mac": "02:00:00:00:00:77", "host_name": "printer"})
        if not r.get("ok"):
            raise Fail(f"add-reservation: {r}")
        r = control_request(sock, {"command": "add-reservation", "address": "192.0.2.77",
                                   "mac": "02:00:00:00:00:78"})
        if r.get("ok") or "already reserved" not in r.get("error", ""):
            raise Fail(f"a second reservation of one address: {r}")
        c2, i2 = reliability.client_ns(flow, s, "r", "02:00:00:00:00:77")
        b, ev_b = reliability.udhcpc(flow, c2, i2, "r")
        wait_for("the reserved client's lease", lambda: reliability.bound(ev_b), 15)
        if reliability.bound(ev_b)[-1][0] != "192.0.2.77":
            raise Fail(f"the reserved client got {reliability.bound(ev_b)}")
        r = control_request(sock, {"command": "reservations"})
        if not any(x["address"] == "192.0.2.77" for x in r["reservations"]):
            raise Fail(f"reservations: {r}")
        if not control_request(sock, {"command": "remove-reservation", "address": "192.0.2.77"}).get("ok"):
            raise Fail("remove-reservation refused")
        # Deleting a lease frees the address and is journaled.
        r = control_request(sock, {"command": "delete-lease", "address": ip_a})
        if not r.get("ok"):
            raise Fail(f"delete-lease: {r}")
        r = control_request(sock, {"command": "leases"})
        if ip_a in [l["address"] for l in r["leases"]]:
            raise Fail(f"the deleted lease is still listed: {r}")
        wait_for("the deletion in the journal", lambda: interop.journal_count(flow, "released", ip_a) > 0, 5)
        bad = control_request(sock, {"command": "frobnicate"})
        if bad.get("ok") is not False or "unknown command" not in bad.get("error", ""):
            raise Fail(f"an unknown command: {bad}")
        stats = control_request(sock, {"command": "stats"})
        # Another user: the socket's mode stops it; with the mode opened up, the server's
        # own check of the peer's credentials still does.
        refused = control_request(sock, {"command": "leases"}, as_user=65534)
        if "refused" not in refused:
            raise Fail(f"nobody got an answer through a {mode} socket: {refused}")
        os.chmod(sock, 0o666)
        denied = control_request(sock, {"command": "leases"}, as_user=65534)
        if denied.get("ok") is not False or "permission denied" not in denied.get("error", ""):
            raise Fail(f"nobody got an answer: {denied}")
        reliability.stop_and_stats(flow, srv, log)
        if os.path.exists(sock):
            raise Fail("the socket file outlived the server")
        figure(f"control: socket mode {mode}; leases, lease, delete-lease (journaled), add-/remove-"
               f"reservation (the reserved MAC got 192.0.2.77), reservations, stats "
               f"({stats.get('leases')} leases), unknown command refused; `dhcp leases` asked the "
               f"running server; uid 65534 refused by the mode, and by peer credentials when the "
               f"mode was opened")

    flow.scenario("control socket commands and permissions", commands_and_permissions)
    return flow


RELOAD_CONFIG = """interfaces = ["br0"]
journal = "{dir}/leases.journal"
log_level = "info"
authoritative = true

[[subnet]]
network = "192.0.2.0/24"
pools = [{pools}]

[subnet.options]
dns_servers = ["{dns}"]
"""


def reload():
    flow = Flow("reload")

    def good_and_bad():
        s, si, p, pi = reliability.two_links(flow)
        cfg = os.path.join(flow.dir, "server.toml")

        def write(pools, dns):
            with open(cfg, "w") as f:
                f.write(RELOAD_CONFIG.format(dir=flow.dir, pools=pools, dns=dns))

        write('"192.0.2.100-192.0.2.101", "192.0.2.120-192.0.2.130"', "192.0.2.53")
        srv, log = reliability.start_server(flow, s, cfg)
        ca, ia = reliability.client_ns(flow, s, "a", "02:00:00:00:00:0a")
        a, ev_a = reliability.udhcpc(flow, ca, ia, "a")
        wait_for("client a's lease", lambda: reliability.bound(ev_a), 15)
        ip_a = reliability.bound(ev_a)[-1][0]
        if ip_a not in ("192.0.2.100", "192.0.2.101"):
            raise Fail(f"client a got {ip_a}")
        before = json.loads(run([interop.DHCP, "leases", "--config", cfg, "--json"]).stdout)
        # A good reload: the first pool goes, the DNS server changes.
        write('"192.0.2.120-192.0.2.130"', "192.0.2.54")
        r = run([interop.DHCP, "server", "--config", cfg, "--reload"], check=False)
        if r.returncode != 0 or "reloaded" not in r.stdout:
            raise Fail(f"reload: {r.returncode} {r.stdout} {r.stderr}")
        after = json.loads(run([interop.DHCP, "leases", "--config", cfg, "--json"]).stdout)
        if [l["address"] for l in after] != [l["address"] for l in before]:
            raise Fail(f"leases before {before}, after {after}")
        # Client a's lease is in the removed pool: its renewal is refused, and it starts
        # over in the pool that is left, with the new DNS server.
        a.send_signal(signal.SIGUSR1)
        wait_for("client a's new lease", lambda: any(
            ip.startswith("192.0.2.12") or ip.startswith("192.0.2.13")
            for ip, _ in reliability.bound(ev_a)), 20)
        if "dns=192.0.2.54" not in read(ev_a).splitlines()[-1]:
            raise Fail(f"client a's last event: {read(ev_a).splitlines()[-1]}")
        # A bad reload: refused with file:line:column, and the old config keeps serving.
        write('"10.9.9.1-10.9.9.9"', "192.0.2.54")
        r = run([interop.DHCP, "server", "--config", cfg, "--reload"], check=False)
        if r.returncode != 2 or not re.search(r"server\.toml:\d+:\d+: ", r.stderr):
            raise Fail(f"a bad reload: exit {r.returncode}, {r.stderr}")
        srv.send_signal(signal.SIGHUP)
        wait_for("the SIGHUP refusal in the log", lambda: "SIGHUP: config refused" in read(log), 5)
        cb, ib = reliability.client_ns(flow, s, "b", "02:00:00:00:00:0b")
        b, ev_b = reliability.udhcpc(flow, cb, ib, "b")
        wait_for("client b's lease after the refused reloads", lambda: reliability.bound(ev_b), 15)
        ip_b = reliability.bound(ev_b)[-1][0]
        # A good reload by SIGHUP.
        write('"192.0.2.120-192.0.2.130"', "192.0.2.55")
        srv.send_signal(signal.SIGHUP)
        wait_for("the SIGHUP reload in the log", lambda: "SIGHUP: " in read(log) and "reloaded" in read(log), 5)
        b.send_signal(signal.SIGUSR1)
        wait_for("client b's renewal with the new DNS server", lambda: "dns=192.0.2.55" in read(ev_b), 15)
        if reliability.bound(ev_b)[-1][0] != ip_b:
            raise Fail(f"client b moved from {ip_b}: {reliability.bound(ev_b)}")
        reliability.stop_and_stats(flow, srv, log)
        figure(f"reload: --reload and SIGHUP applied without losing a lease ({len(before)} before and "
               f"after); a lease in a removed pool was not renewed and its client moved to "
               f"{reliability.bound(ev_a)[-1][0]} with the new DNS server; a bad config was refused "
               f"with file:line:column (exit 2, and by SIGHUP) while serving went on; client b kept {ip_b}")

    flow.scenario("reload: good applies, bad refused, leases kept", good_and_bad)
    return flow


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dhcp", default=interop.DHCP)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    interop.DHCP = os.path.abspath(args.dhcp)
    if os.geteuid() != 0:
        sys.exit("operations needs root (namespaces)")
    if not shutil.which("perfdhcp"):
        sys.exit("perfdhcp is not installed (scripts/setup installs it)")
    tests = {"metrics": metrics, "control": control, "reload": reload, "notify": notify,
             "json-logs": json_logs, "unit": unit}
    sys.exit(reliability.run_suite("operations", tests, args.only, FIGURES))


if __name__ == "__main__":
    main()
