#!/usr/bin/env bash
# Regenerate the golden DHCPv4 packet captures in this directory.
#
#   sudo bash core/tests/golden/capture.sh
#
# For every server in {dnsmasq, kea, iscdhcpd} and every client in
# {udhcpc, dhclient, dhcpcd} this script
#   * creates two fresh network namespaces joined by a veth pair
#     (server side 192.0.2.1/24, client side unconfigured),
#   * runs the server with its own config file from a temp dir,
#   * captures port 67/68 traffic with tcpdump on the server-side veth,
#   * lets the client obtain a lease, renew it and release it
#     (dhcpcd additionally sends an INFORM),
#   * writes <server>-<client>.pcap, .txt (tcpdump -v) and .json (extract.py).
# Finally it rebuilds seed-readme.pcap (seed_readme.py, scapy) and its .txt/.json.
#
# All network activity happens inside the namespaces created here.  Nothing is
# sent on host interfaces, no distribution service is started, /etc configs are
# not used.  Every step is bounded by `timeout`; an EXIT trap kills everything
# started here and deletes the namespaces.
#
# Extra scenario: kea-udhcpc-decline.pcap (udhcpc -a finds the ACKed address in
# use and sends DHCPDECLINE).
#
# Environment knobs: SERVERS="dnsmasq kea iscdhcpd" CLIENTS="udhcpc dhclient dhcpcd"
#                    EXTRAS="kea:udhcpc:decline" (server:client:variant, "" = none)
#                    OUT=<output dir> (default: this directory), KEEP_WORK=1
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$HERE}
SERVERS=${SERVERS-"dnsmasq kea iscdhcpd"}
CLIENTS=${CLIENTS-"udhcpc dhclient dhcpcd"}
PKGS="dnsmasq kea-dhcp4-server isc-dhcp-server isc-dhcp-client udhcpc dhcpcd-base tcpdump tshark python3-scapy iproute2 ethtool"
SYS_PY=/usr/bin/python3            # Debian's python (has python3-scapy)
IP=/sbin/ip

NS_S="dhcpgold-s-$$"               # server namespace
NS_C="dhcpgold-c-$$"               # client namespace
IF_S="gold-s"                      # veth end in the server namespace
IF_C="gold-c"                      # veth end in the client namespace
MAC_S="02:00:00:00:00:01"
SERVER_IP="192.0.2.1"
BG_TIMEOUT=300                     # hard upper bound for any background process

if [[ $(id -u) -ne 0 ]]; then
    echo "must run as root (network namespaces, raw sockets)" >&2
    exit 1
fi

WORK=$(mktemp -d /tmp/dhcpgold.XXXXXX)
RESOLV_BAK="$WORK/resolv.conf.host"
cp -a /etc/resolv.conf "$RESOLV_BAK" 2>/dev/null || true
DHCPCD_DB=/var/lib/dhcpcd
DHCPCD_DUID_EXISTED=0
[[ -e $DHCPCD_DB/duid ]] && DHCPCD_DUID_EXISTED=1
DHCPCD_RUNDIR_EXISTED=0
[[ -e /run/dhcpcd ]] && DHCPCD_RUNDIR_EXISTED=1
POLICY_RC_CREATED=0

log() { printf '[capture %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# ---------------------------------------------------------------- cleanup ---
teardown_ns() {
    local ns pid
    for ns in "$NS_S" "$NS_C"; do
        if [[ -e /run/netns/$ns ]]; then
            for pid in $(timeout 5 "$IP" netns pids "$ns" 2>/dev/null); do
                kill -TERM "$pid" 2>/dev/null || true
            done
        fi
    done
    sleep 0.5
    for ns in "$NS_S" "$NS_C"; do
        if [[ -e /run/netns/$ns ]]; then
            for pid in $(timeout 5 "$IP" netns pids "$ns" 2>/dev/null); do
                kill -KILL "$pid" 2>/dev/null || true
            done
            timeout 10 "$IP" netns del "$ns" 2>/dev/null || true
        fi
    done
    # leftovers dhcpcd keeps on the (shared) host filesystem for our interface
    rm -f "$DHCPCD_DB/$IF_C.lease" "$DHCPCD_DB/$IF_C"-*.lease \
          /run/dhcpcd/"$IF_C"*.pid /run/dhcpcd/"$IF_C"*.sock /run/dhcpcd/"$IF_C"*.unpriv.sock \
          2>/dev/null || true
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    teardown_ns
    if [[ $DHCPCD_DUID_EXISTED -eq 0 ]]; then rm -f "$DHCPCD_DB/duid"; fi
    if [[ $DHCPCD_RUNDIR_EXISTED -eq 0 ]]; then rmdir /run/dhcpcd 2>/dev/null; fi
    if [[ $POLICY_RC_CREATED -eq 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi
    if [[ -f $RESOLV_BAK ]] && ! cmp -s "$RESOLV_BAK" /etc/resolv.conf; then
        log "WARNING: /etc/resolv.conf changed during the run - restoring it"
        cat "$RESOLV_BAK" > /etc/resolv.conf
    fi
    if [[ ${KEEP_WORK:-0} == 1 ]]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --------------------------------------------------------------- packages ---
pkg_missing() {
    local p missing=""
    for p in $PKGS; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
    done
    echo "$missing"
}

host_dhcp_daemons() {
    # DHCP daemons running in the host network namespace (i.e. not ours)
    local pid hostns
    hostns=$(readlink /proc/1/ns/net)
    for pid in $(pgrep -x dnsmasq; pgrep -x kea-dhcp4; pgrep -x dhcpd); do
        [[ $(readlink "/proc/$pid/ns/net" 2>/dev/null) == "$hostns" ]] && echo "$pid"
    done
    return 0
}

install_packages() {
    local missing
    missing=$(pkg_missing)
    if [[ -n $missing ]]; then
        log "installing:$missing"
        if [[ ! -e /usr/sbin/policy-rc.d ]]; then
            # forbid maintainer scripts from starting the distro services
            printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
            chmod 755 /usr/sbin/policy-rc.d
            POLICY_RC_CREATED=1
        fi
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y --no-install-recommends $missing
        if [[ $POLICY_RC_CREATED -eq 1 ]]; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; fi
        # belt and braces: never leave the distribution services running/enabled
        if [[ -d /run/systemd/system ]]; then
            timeout 60 systemctl disable --now dnsmasq.service kea-dhcp4-server.service \
                isc-dhcp-server.service 2>/dev/null || true
        fi
        for svc in dnsmasq kea-dhcp4-server isc-dhcp-server; do
            [[ -x /etc/init.d/$svc ]] && timeout 30 /etc/init.d/$svc stop >/dev/null 2>&1 || true
        done
    fi
    if [[ -n $(host_dhcp_daemons) ]]; then
        log "ERROR: a DHCP server is running in the host namespace:"
        ps -o pid,args -p "$(host_dhcp_daemons | paste -sd,)" >&2 || true
        log "stop it (systemctl stop dnsmasq kea-dhcp4-server isc-dhcp-server) and re-run"
        exit 1
    fi
}

# ---------------------------------------------------------------- helpers ---
nsx() {  # nsx NS cmd...   short command inside a namespace, bounded
    local ns=$1; shift
    timeout -k 5 30 "$IP" netns exec "$ns" "$@"
}

BG_PID=""
nsbg() { # nsbg NS LOGFILE cmd...   background process inside a namespace
    local ns=$1 logf=$2; shift 2
    timeout -k 5 "$BG_TIMEOUT" "$IP" netns exec "$ns" "$@" >"$logf" 2>&1 &
    BG_PID=$!
}

wait_for() { # wait_for SECONDS FILE ERE [COUNT]
    local secs=$1 f=$2 re=$3 count=${4:-1} end=$((SECONDS + $1)) n
    while ((SECONDS < end)); do
        n=$(grep -cE "$re" "$f" 2>/dev/null || true)
        if ((${n:-0} >= count)); then return 0; fi
        sleep 0.2
    done
    log "timeout (${secs}s) waiting for ${count}x /$re/ in $f"
    return 1
}

stop_bg() { # stop_bg PID [SECONDS]   TERM, wait (bounded), then KILL
    local pid=$1 secs=${2:-10} end
    kill -TERM "$pid" 2>/dev/null || return 0
    end=$((SECONDS + secs))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

wait_exit() { # wait_exit PID SECONDS
    local pid=$1 end=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then stop_bg "$pid" 5; else wait "$pid" 2>/dev/null || true; fi
}

setup_ns() { # setup_ns CLIENT_MAC
    local mac_c=$1
    timeout 10 "$IP" netns add "$NS_S"
    timeout 10 "$IP" netns add "$NS_C"
    timeout 10 "$IP" link add "$IF_S" netns "$NS_S" address "$MAC_S" type veth \
        peer name "$IF_C" netns "$NS_C" address "$mac_c"
    nsx "$NS_S" "$IP" link set lo up
    nsx "$NS_C" "$IP" link set lo up
    # no checksum offload, so the capture holds the real UDP checksums
    nsx "$NS_S" ethtool -K "$IF_S" tx off rx off >/dev/null 2>&1 || log "ethtool -K $IF_S failed (checksums may show as bad)"
    nsx "$NS_C" ethtool -K "$IF_C" tx off rx off >/dev/null 2>&1 || log "ethtool -K $IF_C failed (checksums may show as bad)"
    nsx "$NS_S" "$IP" addr add "$SERVER_IP/24" dev "$IF_S"
    nsx "$NS_S" "$IP" link set "$IF_S" up
    nsx "$NS_C" "$IP" link set "$IF_C" up
    sleep 0.5
}

# ---------------------------------------------------------------- servers ---
write_server_config() { # write_server_config SERVER DIR
    local d=$2
    case $1 in
    dnsmasq)
        cat >"$d/dnsmasq.conf" <<EOF
# DHCP only, no DNS
port=0
no-resolv
no-hosts
user=root
interface=$IF_S
bind-interfaces
dhcp-authoritative
dhcp-leasefile=$d/dnsmasq.leases
pid-file=$d/dnsmasq.pid
log-dhcp
# no ICMP probe before OFFER: it delays the OFFER by 3 s, which makes clients
# retransmit DISCOVER and the capture's structure timing-dependent
no-ping
dhcp-range=192.0.2.100,192.0.2.200,255.255.255.0,120
dhcp-option=option:router,192.0.2.1
dhcp-option=option:dns-server,192.0.2.53
dhcp-option=option:domain-name,example.test
dhcp-option=option:domain-search,example.test,lab.example.test
dhcp-option=option:classless-static-route,198.51.100.0/24,192.0.2.1
dhcp-option=option:ntp-server,192.0.2.123
EOF
        ;;
    kea)
        cat >"$d/kea-dhcp4.json" <<EOF
{
  "Dhcp4": {
    "interfaces-config": { "interfaces": [ "${KEA_IFACE:-$IF_S}" ], "dhcp-socket-type": "raw" },
    "lease-database": { "type": "memfile", "persist": true,
                        "name": "$d/kea-leases4.csv", "lfc-interval": 0 },
    "authoritative": true,
    "valid-lifetime": 120,
    "renew-timer": 60,
    "rebind-timer": 105,
    "subnet4": [ {
      "id": 1,
      "subnet": "192.0.2.0/24",
      "pools": [ { "pool": "192.0.2.100 - 192.0.2.200" } ],
      "option-data": [
        { "name": "routers", "data": "192.0.2.1" },
        { "name": "domain-name-servers", "data": "192.0.2.53" },
        { "name": "domain-name", "data": "example.test" },
        { "name": "domain-search", "data": "example.test, lab.example.test" },
        { "name": "ntp-servers", "data": "192.0.2.123" },
        { "code": 121, "space": "dhcp4", "csv-format": false,
          "data": "18C63364C0000201",
          "comment": "classless static route 198.51.100.0/24 via 192.0.2.1 (no named definition in kea 2.2)" }
      ]
    } ],
    "loggers": [ { "name": "kea-dhcp4", "severity": "INFO",
                   "output_options": [ { "output": "stdout" } ] } ]
  }
}
EOF
        ;;
    iscdhcpd)
        cat >"$d/dhcpd.conf" <<EOF
authoritative;
ddns-update-style none;
default-lease-time 120;
max-lease-time 120;
# no ICMP probe before OFFER (keeps the exchange timing-independent)
ping-check false;
option rfc3442-classless-static-routes code 121 = array of integer 8;
subnet 192.0.2.0 netmask 255.255.255.0 {
  range 192.0.2.100 192.0.2.200;
  option routers 192.0.2.1;
  option domain-name-servers 192.0.2.53;
  option domain-name "example.test";
  option domain-search "example.test", "lab.example.test";
  option ntp-servers 192.0.2.123;
  option rfc3442-classless-static-routes 24, 198, 51, 100, 192, 0, 2, 1;
}
EOF
        : >"$d/dhcpd.leases"
        ;;
    esac
}

SERVER_PID=""
start_server() { # start_server SERVER DIR
    local d=$2
    case $1 in
    dnsmasq)
        nsbg "$NS_S" "$d/server.log" dnsmasq --no-daemon --conf-file="$d/dnsmasq.conf"
        SERVER_PID=$BG_PID
        wait_for 15 "$d/server.log" 'DHCP, IP range'
        ;;
    kea)
        nsx "$NS_S" kea-dhcp4 -t "$d/kea-dhcp4.json" >"$d/kea-check.log" 2>&1 || { cat "$d/kea-check.log" >&2; return 1; }
        nsbg "$NS_S" "$d/server.log" env KEA_PIDFILE_DIR="$d" KEA_LOCKFILE_DIR="$d" \
            kea-dhcp4 -c "$d/kea-dhcp4.json"
        SERVER_PID=$BG_PID
        wait_for 20 "$d/server.log" 'DHCP4_STARTED'
        ;;
    iscdhcpd)
        nsx "$NS_S" dhcpd -4 -t -cf "$d/dhcpd.conf" >"$d/dhcpd-check.log" 2>&1 || { cat "$d/dhcpd-check.log" >&2; return 1; }
        nsbg "$NS_S" "$d/server.log" dhcpd -4 -f -d -cf "$d/dhcpd.conf" -lf "$d/dhcpd.leases" \
            -pf "$d/dhcpd.pid" "$IF_S"
        SERVER_PID=$BG_PID
        wait_for 20 "$d/server.log" 'Server starting service'
        ;;
    esac
    sleep 0.5
}

# ---------------------------------------------------------------- clients ---
client_mac() {
    case $1 in
    udhcpc) echo 02:00:00:00:01:01 ;;
    dhclient) echo 02:00:00:00:01:02 ;;
    dhcpcd) echo 02:00:00:00:01:03 ;;
    esac
}

run_udhcpc_prepare() { # run_udhcpc_prepare DIR
    local d=$1
    cat >"$d/udhcpc.script" <<EOF
#!/bin/sh
# no-op except for the address inside the client namespace (needed for the
# unicast RENEW/RELEASE); never touches resolv.conf
echo "\$1 \${ip:-}" >> "$d/events.log"
case "\$1" in
    deconfig) $IP -4 addr flush dev "\$interface" ;;
    bound|renew) $IP -4 addr replace "\$ip/\${mask:-24}" dev "\$interface" ;;
esac
exit 0
EOF
    chmod 755 "$d/udhcpc.script"
    : >"$d/events.log"
}

run_udhcpc() { # run_udhcpc DIR
    local d=$1 pid
    run_udhcpc_prepare "$d"
    nsbg "$NS_C" "$d/client.log" udhcpc -f -i "$IF_C" -s "$d/udhcpc.script" -p "$d/udhcpc.pid" \
        -t 5 -T 2 -A 3 -x hostname:gold-udhcpc -O search -O staticroutes -O ntpsrv
    CLIENT_PID=$BG_PID
    wait_for 40 "$d/events.log" '^bound '
    sleep 1
    pid=$(cat "$d/udhcpc.pid")
    log "udhcpc: renew (SIGUSR1)"
    kill -USR1 "$pid"
    wait_for 20 "$d/events.log" '^renew '
    sleep 1
    log "udhcpc: release (SIGUSR2)"
    kill -USR2 "$pid"
    wait_for 10 "$d/events.log" '^deconfig' 2
    sleep 1
    stop_bg "$CLIENT_PID"
}

run_dhclient() { # run_dhclient DIR
    local d=$1
    cat >"$d/dhclient.conf" <<EOF
option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
send host-name "gold-dhclient";
request subnet-mask, broadcast-address, time-offset, routers,
        domain-name, domain-name-servers, domain-search, host-name,
        ntp-servers, rfc3442-classless-static-routes, interface-mtu;
timeout 30;
retry 10;
EOF
    cat >"$d/dhclient.script" <<EOF
#!/bin/sh
# minimal dhclient-script: address inside the client namespace only
echo "\$reason \${new_ip_address:-}" >> "$d/events.log"
case "\$reason" in
    PREINIT) $IP link set dev "\$interface" up ;;
    BOUND|REBOOT) $IP -4 addr flush dev "\$interface"
                  $IP -4 addr add "\$new_ip_address/\$new_subnet_mask" dev "\$interface" ;;
    RENEW|REBIND) $IP -4 addr replace "\$new_ip_address/\$new_subnet_mask" dev "\$interface" ;;
    EXPIRE|FAIL|RELEASE) $IP -4 addr flush dev "\$interface" ;;
esac
exit 0
EOF
    chmod 755 "$d/dhclient.script"
    : >"$d/events.log"
    local args=(-4 -cf "$d/dhclient.conf" -lf "$d/dhclient.leases" -pf "$d/dhclient.pid"
        -sf "$d/dhclient.script")
    nsbg "$NS_C" "$d/client.log" dhclient -d -v "${args[@]}" "$IF_C"
    CLIENT_PID=$BG_PID
    wait_for 40 "$d/events.log" '^BOUND '
    log "dhclient: waiting for the T1 renewal (~60 s)"
    wait_for 110 "$d/events.log" '^(RENEW|REBIND) '
    sleep 1
    log "dhclient: release (dhclient -r)"
    nsx "$NS_C" dhclient -r -v "${args[@]}" "$IF_C" >>"$d/client-release.log" 2>&1
    wait_for 10 "$d/events.log" '^RELEASE'
    wait_exit "$CLIENT_PID" 10
}

run_dhcpcd() { # run_dhcpcd DIR
    local d=$1
    cat >"$d/dhcpcd.conf" <<EOF
# based on Debian's /etc/dhcpcd.conf, IPv4 only, no ARP probing / IPv4LL
duid
persistent
vendorclassid
option domain_name_servers, domain_name, domain_search
option classless_static_routes
option interface_mtu
option host_name
option ntp_servers
option rapid_commit
require dhcp_server_identifier
ipv4only
noarp
noipv4ll
EOF
    cat >"$d/dhcpcd.hook" <<EOF
#!/bin/sh
# replaces dhcpcd-run-hooks: log only (dhcpcd itself configures the address)
echo "\$reason \${new_ip_address:-}" >> "$d/events.log"
exit 0
EOF
    chmod 755 "$d/dhcpcd.hook"
    : >"$d/events.log"
    local args=(-4 -f "$d/dhcpcd.conf" -c "$d/dhcpcd.hook")
    nsbg "$NS_C" "$d/client.log" dhcpcd "${args[@]}" -B -d -h gold-dhcpcd "$IF_C"
    CLIENT_PID=$BG_PID
    wait_for 40 "$d/events.log" '^BOUND '
    sleep 1
    log "dhcpcd: renew (dhcpcd -N)"
    nsx "$NS_C" dhcpcd "${args[@]}" -N "$IF_C" >>"$d/client-ctl.log" 2>&1
    wait_for 20 "$d/events.log" '^RENEW '
    sleep 1
    log "dhcpcd: release (dhcpcd -k)"
    nsx "$NS_C" dhcpcd "${args[@]}" -k "$IF_C" >>"$d/client-ctl.log" 2>&1
    # dhcpcd 9 reports a release to its hook as STOP/STOPPED
    wait_for 10 "$d/events.log" '^(RELEASE|STOPPED)'
    wait_exit "$CLIENT_PID" 10
    sleep 1
    log "dhcpcd: inform (dhcpcd -s 192.0.2.50/24)"
    # dhcpcd 9.4.1 segfaults in inform mode when it has to add the address
    # itself, so configure it first (an INFORM client has its address anyway)
    nsx "$NS_C" "$IP" addr add 192.0.2.50/24 dev "$IF_C"
    nsbg "$NS_C" "$d/client-inform.log" dhcpcd "${args[@]}" -B -d -h gold-dhcpcd \
        -s 192.0.2.50/24 "$IF_C"
    CLIENT_PID=$BG_PID
    wait_for 30 "$d/events.log" '^INFORM'
    sleep 1
    stop_bg "$CLIENT_PID"
}

# ------------------------------------------------------------------- pair ---
run_udhcpc_decline() { # run_udhcpc_decline DIR
    # udhcpc -a probes the ACKed address with ARP; 192.0.2.100 (the first pool
    # address, which kea hands out without any ping check) is also configured
    # on the server side of the link, so the probe is answered and udhcpc
    # sends DHCPDECLINE, then starts over and gets another address.
    local d=$1 pid
    run_udhcpc_prepare "$d"
    nsbg "$NS_C" "$d/client.log" udhcpc -f -i "$IF_C" -s "$d/udhcpc.script" -p "$d/udhcpc.pid" \
        -t 5 -T 3 -A 3 -a -x hostname:gold-udhcpc -O search -O staticroutes -O ntpsrv
    CLIENT_PID=$BG_PID
    wait_for 60 "$d/events.log" '^bound '
    grep -q 'declin' "$d/client.log" || { log "udhcpc did not decline"; return 1; }
    sleep 1
    pid=$(cat "$d/udhcpc.pid")
    log "udhcpc: release (SIGUSR2)"
    kill -USR2 "$pid"
    wait_for 10 "$d/events.log" '^deconfig' 2
    sleep 1
    stop_bg "$CLIENT_PID"
}

# ------------------------------------------------------------------- pair ---
run_pair() { # run_pair SERVER CLIENT [VARIANT]   (runs in a subshell)
    local server=$1 client=$2 variant=${3:-} name cap_pid
    name="$server-$client${variant:+-$variant}"
    local d="$WORK/$name"
    mkdir -p "$d"
    setup_ns "$(client_mac "$client")"
    nsbg "$NS_S" "$d/tcpdump.log" tcpdump -i "$IF_S" -Z root -U -n -w "$d/capture.pcap" port 67 or port 68
    cap_pid=$BG_PID
    wait_for 15 "$d/tcpdump.log" 'listening on'
    if [[ $variant == decline ]]; then
        # an "unknown host" already using the first pool address
        nsx "$NS_S" "$IP" addr add 192.0.2.100/32 dev "$IF_S"
        # kea opens one raw socket per interface address and would then answer
        # every packet twice; bind it to the real server address only
        KEA_IFACE="$IF_S/$SERVER_IP"
    fi
    write_server_config "$server" "$d"
    start_server "$server" "$d"
    "run_$client${variant:+_$variant}" "$d"
    sleep 1
    stop_bg "$SERVER_PID"
    stop_bg "$cap_pid"
    cp "$d/capture.pcap" "$OUT/$name.pcap"
}

# ------------------------------------------------------------------- main ---
install_packages
mkdir -p "$OUT"
JOBS=()
for server in $SERVERS; do
    for client in $CLIENTS; do JOBS+=("$server:$client"); done
done
# extra scenarios server:client:variant
for extra in ${EXTRAS-kea:udhcpc:decline}; do JOBS+=("$extra"); done
FAILED=()
for job in "${JOBS[@]}"; do
    IFS=: read -r server client variant <<<"$job"
    name="$server-$client${variant:+-$variant}"
    log "=== $name ==="
    # errexit must stay active inside the subshell, so it is not run as an
    # `if` condition (bash would silently disable set -e there)
    set +e
    ( set -e; run_pair "$server" "$client" "$variant" )
    rc=$?
    set -e
    if ((rc == 0)); then
        log "ok: $OUT/$name.pcap"
    else
        log "FAILED: $name (logs in $WORK/$name)"
        for f in "$WORK/$name"/*.log; do
            [[ -f $f ]] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
        done
        FAILED+=("$name")
        KEEP_WORK=1
    fi
    teardown_ns
done

if [[ ${SKIP_POST:-0} == 1 ]]; then exit 0; fi
log "rebuilding seed-readme.pcap"
timeout 120 "$SYS_PY" "$HERE/seed_readme.py" "$OUT/seed-readme.pcap"
SEED_README=${SEED_README:-/work/shared/seed/SEED-README.md}
if [[ -f $SEED_README ]]; then
    # the listing in the seed README must be reproduced exactly
    if TZ=UTC timeout 60 tcpdump -v -n -r "$OUT/seed-readme.pcap" 2>/dev/null \
        | diff <(sed -n '/^\$ tcpdump -i en0/,/^```/p' "$SEED_README" | sed '1,2d;$d') - >&2; then
        log "seed-readme.pcap reproduces the seed README listing exactly"
    else
        log "ERROR: seed-readme.pcap does not match the listing in $SEED_README"
        exit 1
    fi
fi

log "writing .txt (tcpdump -v) and .json (extract.py)"
for pcap in "$OUT"/*.pcap; do
    TZ=UTC timeout 60 tcpdump -v -n -r "$pcap" >"${pcap%.pcap}.txt" 2>/dev/null
done
timeout 600 "$SYS_PY" "$HERE/extract.py" "$OUT"/*.pcap

if [[ -n $(timeout 5 "$IP" netns list | grep dhcpgold || true) ]]; then
    log "WARNING: leftover namespaces"; timeout 5 "$IP" netns list >&2
fi
if ((${#FAILED[@]})); then
    log "failed pairs: ${FAILED[*]}"
    exit 1
fi
log "done"
