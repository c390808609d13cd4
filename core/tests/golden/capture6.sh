#!/usr/bin/env bash
# Regenerate the golden DHCPv6 packet captures in this directory.
#
#   sudo bash core/tests/golden/capture6.sh
#
# For every pair in PAIRS (server:client, default: every server in {kea, dnsmasq}
# with every client in {dhclient, dhcpcd, dhcp6c} that works, see README.md) this
# script
#   * creates two fresh network namespaces joined by a veth pair, with IPv6 enabled
#     only inside them and DAD off (server side 2001:db8:1::1/64 plus its link-local,
#     client side link-local only),
#   * runs the server with its own config file from a temp dir,
#   * captures UDP 546/547 with tcpdump on the server-side veth,
#   * lets the client obtain a lease (SOLICIT/ADVERTISE/REQUEST/REPLY), renew it and
#     release it,
#   * writes <server>-<client>6.pcap, .txt (tcpdump -v) and .json (extract.py).
#
# All network activity happens inside the namespaces created here.  Nothing is sent
# on host interfaces, no distribution service is started, /etc configs are not used.
# Every step is bounded by `timeout`, every pair by PAIR_TIMEOUT; an EXIT trap kills
# everything started here and deletes the namespaces.
#
# Environment knobs: PAIRS="kea:dhclient kea:dhcpcd kea:dhcp6c dnsmasq:dhclient dnsmasq:dhcpcd"
#                    OUT=<output dir> (default: this directory), KEEP_WORK=1,
#                    PAIR_TIMEOUT=<seconds per pair> (default 100)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$HERE}
PAIRS=${PAIRS-"kea:dhclient kea:dhcpcd kea:dhcp6c dnsmasq:dhclient dnsmasq:dhcpcd"}
PKGS="dnsmasq kea-dhcp6-server isc-dhcp-client dhcpcd-base wide-dhcpv6-client tcpdump tshark iproute2 ethtool"
SYS_PY=/usr/bin/python3
IP=/sbin/ip

NS_S="dhcp6gold-s-$$"              # server namespace
NS_C="dhcp6gold-c-$$"              # client namespace
IF_S="gold6-s"                     # veth end in the server namespace
IF_C="gold6-c"                     # veth end in the client namespace
MAC_S="02:00:00:00:00:01"          # link-local fe80::ff:fe00:1
SERVER_IP6="2001:db8:1::1"
PAIR_TIMEOUT=${PAIR_TIMEOUT:-100}  # hard upper bound for one pair
BG_TIMEOUT=$((PAIR_TIMEOUT + 20))  # ... and for any background process

if [[ $(id -u) -ne 0 ]]; then
    echo "must run as root (network namespaces)" >&2
    exit 1
fi

WORK=$(mktemp -d /tmp/dhcp6gold.XXXXXX)
RESOLV_BAK="$WORK/resolv.conf.host"
cp -a /etc/resolv.conf "$RESOLV_BAK" 2>/dev/null || true
# files the clients keep on the (shared) host filesystem, outside our temp dir
DHCPCD_DB=/var/lib/dhcpcd
DHCPCD_DUID_EXISTED=0
[[ -e $DHCPCD_DB/duid ]] && DHCPCD_DUID_EXISTED=1
DHCPCD_RUNDIR_EXISTED=0
[[ -e /run/dhcpcd ]] && DHCPCD_RUNDIR_EXISTED=1
DHCP6C_DUID=/var/lib/dhcpv6/dhcp6c_duid
DHCP6C_DUID_EXISTED=0
[[ -e $DHCP6C_DUID ]] && DHCP6C_DUID_EXISTED=1
POLICY_RC_CREATED=0

log() { printf '[capture6 %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

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
    rm -f "$DHCPCD_DB/$IF_C".lease* "$DHCPCD_DB/$IF_C"-*.lease* \
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
    if [[ $DHCP6C_DUID_EXISTED -eq 0 ]]; then rm -f "$DHCP6C_DUID"; fi
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

host_dhcp6_daemons() {
    # DHCPv6 daemons running in our own (the host's) network namespace
    local pid hostns
    hostns=$(readlink /proc/self/ns/net)
    for pid in $(pgrep -x dnsmasq; pgrep -x kea-dhcp6; pgrep -x dhcp6c); do
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
            timeout 60 systemctl disable --now dnsmasq.service kea-dhcp6-server.service \
                wide-dhcpv6-client.service 2>/dev/null || true
        fi
        for svc in dnsmasq kea-dhcp6-server wide-dhcpv6-client; do
            [[ -x /etc/init.d/$svc ]] && timeout 30 /etc/init.d/$svc stop >/dev/null 2>&1 || true
        done
    fi
    if [[ -n $(host_dhcp6_daemons) ]]; then
        log "ERROR: a DHCP daemon is running in the host namespace:"
        ps -o pid,args -p "$(host_dhcp6_daemons | paste -sd,)" >&2 || true
        log "stop it (systemctl stop dnsmasq kea-dhcp6-server wide-dhcpv6-client) and re-run"
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

ns_ipv6_on() { # ns_ipv6_on NS   IPv6 on, DAD off, no router solicitations
    local ns=$1 k
    for k in all default; do
        nsx "$ns" sysctl -qw "net.ipv6.conf.$k.disable_ipv6=0" "net.ipv6.conf.$k.accept_dad=0" \
            "net.ipv6.conf.$k.dad_transmits=0" "net.ipv6.conf.$k.router_solicitations=0"
    done
}

setup_ns() { # setup_ns CLIENT_MAC
    local mac_c=$1 ns ifc
    timeout 10 "$IP" netns add "$NS_S"
    timeout 10 "$IP" netns add "$NS_C"
    ns_ipv6_on "$NS_S"
    ns_ipv6_on "$NS_C"
    timeout 10 "$IP" link add "$IF_S" netns "$NS_S" address "$MAC_S" type veth \
        peer name "$IF_C" netns "$NS_C" address "$mac_c"
    for ns in "$NS_S:$IF_S" "$NS_C:$IF_C"; do
        ifc=${ns#*:}; ns=${ns%%:*}
        nsx "$ns" sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=0" "net.ipv6.conf.$ifc.accept_dad=0" \
            "net.ipv6.conf.$ifc.dad_transmits=0" "net.ipv6.conf.$ifc.accept_ra=0"
        nsx "$ns" "$IP" link set lo up
        # no checksum offload, so the capture holds the real UDP checksums
        nsx "$ns" ethtool -K "$ifc" tx off rx off >/dev/null 2>&1 || log "ethtool -K $ifc failed (checksums may show as bad)"
    done
    nsx "$NS_S" "$IP" -6 addr add "$SERVER_IP6/64" dev "$IF_S" nodad
    nsx "$NS_S" "$IP" link set "$IF_S" up
    nsx "$NS_C" "$IP" link set "$IF_C" up
    # both link-local addresses usable (not tentative)
    local end=$((SECONDS + 10))
    until nsx "$NS_S" "$IP" -6 addr show dev "$IF_S" scope link | grep -q 'inet6 fe80' \
        && nsx "$NS_C" "$IP" -6 addr show dev "$IF_C" scope link | grep -q 'inet6 fe80' \
        && ! nsx "$NS_S" "$IP" -6 addr show dev "$IF_S" | grep -q tentative \
        && ! nsx "$NS_C" "$IP" -6 addr show dev "$IF_C" | grep -q tentative; do
        if ((SECONDS >= end)); then log "no usable link-local address"; return 1; fi
        sleep 0.2
    done
}

# ---------------------------------------------------------------- servers ---
write_server_config() { # write_server_config SERVER DIR
    local d=$2
    case $1 in
    dnsmasq)
        cat >"$d/dnsmasq.conf" <<EOF
# DHCPv6 only, no DNS, no router advertisements
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
# 120 s is dnsmasq's shortest lease: T1 60 s, T2 105 s
dhcp-range=2001:db8:1::100,2001:db8:1::1ff,64,120
dhcp-option=option6:dns-server,[2001:db8:1::53]
dhcp-option=option6:domain-search,example.test,lab.example.test
EOF
        ;;
    kea)
        cat >"$d/kea-dhcp6.json" <<EOF
{
  "Dhcp6": {
    "interfaces-config": { "interfaces": [ "$IF_S" ] },
    "lease-database": { "type": "memfile", "persist": true,
                        "name": "$d/kea-leases6.csv", "lfc-interval": 0 },
    "server-id": { "type": "LLT", "htype": 1, "identifier": "020000000001",
                   "time": 800000000, "persist": false },
    "renew-timer": 10,
    "rebind-timer": 16,
    "preferred-lifetime": 20,
    "valid-lifetime": 30,
    "subnet6": [ {
      "id": 1,
      "subnet": "2001:db8:1::/64",
      "interface": "$IF_S",
      "pools": [ { "pool": "2001:db8:1::100 - 2001:db8:1::1ff" } ],
      "pd-pools": [ { "prefix": "2001:db8:100::", "prefix-len": 40, "delegated-len": 56 } ],
      "option-data": [
        { "name": "dns-servers", "data": "2001:db8:1::53" },
        { "name": "domain-search", "data": "example.test, lab.example.test" }
      ]
    } ],
    "loggers": [ { "name": "kea-dhcp6", "severity": "INFO",
                   "output_options": [ { "output": "stdout" } ] } ]
  }
}
EOF
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
        wait_for 15 "$d/server.log" 'DHCPv6, IP range'
        ;;
    kea)
        nsx "$NS_S" kea-dhcp6 -t "$d/kea-dhcp6.json" >"$d/kea-check.log" 2>&1 || { cat "$d/kea-check.log" >&2; return 1; }
        nsbg "$NS_S" "$d/server.log" env KEA_PIDFILE_DIR="$d" KEA_LOCKFILE_DIR="$d" \
            kea-dhcp6 -c "$d/kea-dhcp6.json"
        SERVER_PID=$BG_PID
        wait_for 20 "$d/server.log" 'DHCP6_STARTED'
        ;;
    esac
    sleep 0.5
}

# ---------------------------------------------------------------- clients ---
client_mac() {
    case $1 in
    dhclient) echo 02:00:00:00:01:02 ;;
    dhcpcd) echo 02:00:00:00:01:03 ;;
    dhcp6c) echo 02:00:00:00:01:04 ;;
    esac
}

run_dhclient() { # run_dhclient SERVER DIR   (IA_NA, plus IA_PD with kea)
    local server=$1 d=$2 renew_wait=20
    cat >"$d/dhclient.conf" <<EOF
send fqdn.fqdn "gold-dhclient6.example.test.";
request dhcp6.name-servers, dhcp6.domain-search;
timeout 30;
EOF
    cat >"$d/dhclient.script" <<EOF
#!/bin/sh
# minimal dhclient-script: the address inside the client namespace only
echo "\$reason \${new_ip6_address:-} \${new_ip6_prefix:-}" >> "$d/events.log"
case "\$reason" in
    PREINIT6) $IP link set dev "\$interface" up ;;
    BOUND6|REBOOT6|RENEW6|REBIND6)
        [ -n "\${new_ip6_address:-}" ] && \
            $IP -6 addr replace "\$new_ip6_address/\${new_ip6_prefixlen:-128}" dev "\$interface" nodad ;;
    RELEASE6|EXPIRE6|STOP6)
        [ -n "\${old_ip6_address:-}" ] && \
            $IP -6 addr del "\$old_ip6_address/\${old_ip6_prefixlen:-128}" dev "\$interface" ;;
esac
exit 0
EOF
    chmod 755 "$d/dhclient.script"
    : >"$d/events.log"
    local args=(-6 -cf "$d/dhclient.conf" -lf "$d/dhclient6.leases" -pf "$d/dhclient6.pid"
        -sf "$d/dhclient.script")
    [[ $server == kea ]] && args+=(-N -P)
    [[ $server == dnsmasq ]] && renew_wait=80   # T1 is 60 s there
    nsbg "$NS_C" "$d/client.log" dhclient -d -v "${args[@]}" "$IF_C"
    CLIENT_PID=$BG_PID
    wait_for 30 "$d/events.log" '^BOUND6 '
    log "dhclient: waiting for the T1 renewal"
    wait_for "$renew_wait" "$d/events.log" '^(RENEW6|REBIND6) '
    sleep 1
    log "dhclient: release (dhclient -6 -r)"
    nsx "$NS_C" dhclient -r -v "${args[@]}" "$IF_C" >>"$d/client-release.log" 2>&1
    wait_for 10 "$d/events.log" '^RELEASE6'
    wait_exit "$CLIENT_PID" 10
}

run_dhcpcd() { # run_dhcpcd SERVER DIR   (IA_NA)
    local d=$2
    cat >"$d/dhcpcd.conf" <<EOF
# based on Debian's /etc/dhcpcd.conf, IPv6 only, DHCPv6 without waiting for an RA
duid
persistent
option rapid_commit
option domain_name_servers, domain_name, domain_search
ipv6only
noipv6rs
ia_na 1
EOF
    cat >"$d/dhcpcd.hook" <<EOF
#!/bin/sh
# replaces dhcpcd-run-hooks: log only (dhcpcd itself configures the address)
echo "\$reason \${new_dhcp6_ia_na1_ia_addr1:-}" >> "$d/events.log"
exit 0
EOF
    chmod 755 "$d/dhcpcd.hook"
    : >"$d/events.log"
    local args=(-6 -f "$d/dhcpcd.conf" -c "$d/dhcpcd.hook")
    nsbg "$NS_C" "$d/client.log" dhcpcd "${args[@]}" -B -d -h gold-dhcpcd6 "$IF_C"
    CLIENT_PID=$BG_PID
    wait_for 30 "$d/events.log" '^(BOUND6|REBOOT6) '
    sleep 1
    log "dhcpcd: renew (dhcpcd -N)"
    nsx "$NS_C" dhcpcd "${args[@]}" -N "$IF_C" >>"$d/client-ctl.log" 2>&1
    wait_for 20 "$d/events.log" '^(RENEW6|REBIND6) '
    sleep 1
    log "dhcpcd: release (dhcpcd -k)"
    nsx "$NS_C" dhcpcd "${args[@]}" -k "$IF_C" >>"$d/client-ctl.log" 2>&1
    wait_for 10 "$d/events.log" '^(RELEASE6|STOPPED6|STOP6)'
    wait_exit "$CLIENT_PID" 10
}

run_dhcp6c() { # run_dhcp6c SERVER DIR   (IA_PD)
    local d=$2
    cat >"$d/dhcp6c.conf" <<EOF
interface $IF_C {
    send ia-pd 0;
    request domain-name-servers;
    request domain-name;
    script "$d/dhcp6c.script";
};
id-assoc pd 0 {
};
EOF
    cat >"$d/dhcp6c.script" <<EOF
#!/bin/sh
# log only: dhcp6c calls it for every REPLY
echo "\$REASON \${new_domain_name_servers:-}" >> "$d/events.log"
exit 0
EOF
    chmod 755 "$d/dhcp6c.script"
    : >"$d/events.log"
    nsbg "$NS_C" "$d/client.log" dhcp6c -f -D -c "$d/dhcp6c.conf" -p "$d/dhcp6c.pid" "$IF_C"
    CLIENT_PID=$BG_PID
    wait_for 30 "$d/events.log" '^NBI'
    log "dhcp6c: waiting for the T1 renewal"
    wait_for 20 "$d/events.log" '^NBI' 2
    sleep 1
    log "dhcp6c: release (SIGTERM)"
    kill -TERM "$(cat "$d/dhcp6c.pid")"
    wait_for 10 "$d/client.log" 'send release'
    wait_exit "$CLIENT_PID" 10
}

# ------------------------------------------------------------------- pair ---
run_pair() { # run_pair SERVER CLIENT   (runs in a subshell)
    local server=$1 client=$2 name cap_pid
    name="$server-${client}6"
    local d="$WORK/$name"
    mkdir -p "$d"
    setup_ns "$(client_mac "$client")"
    nsbg "$NS_S" "$d/tcpdump.log" tcpdump -i "$IF_S" -Z root -U -n -w "$d/capture.pcap" \
        udp port 546 or udp port 547
    cap_pid=$BG_PID
    wait_for 15 "$d/tcpdump.log" 'listening on'
    write_server_config "$server" "$d"
    start_server "$server" "$d"
    "run_$client" "$server" "$d"
    sleep 1
    stop_bg "$SERVER_PID"
    stop_bg "$cap_pid"
    cp "$d/capture.pcap" "$OUT/$name.pcap"
}

# ------------------------------------------------------------------- main ---
install_packages
mkdir -p "$OUT"
FAILED=()
WRITTEN=()
for job in $PAIRS; do
    IFS=: read -r server client <<<"$job"
    name="$server-${client}6"
    log "=== $name ==="
    # errexit must stay active inside the subshell, so it is not run as an `if`
    # condition (bash would silently disable set -e there); it runs in the background
    # so that the whole pair can be bounded
    ( set -e; run_pair "$server" "$client" ) &
    pair_pid=$!
    end=$((SECONDS + PAIR_TIMEOUT))
    while kill -0 "$pair_pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.5; done
    if kill -0 "$pair_pid" 2>/dev/null; then
        log "$name: over ${PAIR_TIMEOUT}s, stopping it"
        stop_bg "$pair_pid" 5
    fi
    set +e
    wait "$pair_pid" 2>/dev/null
    rc=$?
    set -e
    if ((rc == 0)) && [[ -s $OUT/$name.pcap ]]; then
        log "ok: $OUT/$name.pcap"
        WRITTEN+=("$OUT/$name.pcap")
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

if ((${#WRITTEN[@]})); then
    log "writing .txt (tcpdump -v) and .json (extract.py)"
    for pcap in "${WRITTEN[@]}"; do
        TZ=UTC timeout 60 tcpdump -v -n -r "$pcap" >"${pcap%.pcap}.txt" 2>/dev/null
    done
    timeout 600 "$SYS_PY" "$HERE/extract.py" "${WRITTEN[@]}"
fi

if [[ -n $(timeout 5 "$IP" netns list | grep -E "dhcp6gold-[sc]-$$" || true) ]]; then
    log "WARNING: leftover namespaces"; timeout 5 "$IP" netns list >&2
fi
if ((${#FAILED[@]})); then
    log "failed pairs: ${FAILED[*]}"
    exit 1
fi
log "done"
