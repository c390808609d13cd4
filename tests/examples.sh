#!/usr/bin/env bash
# Runs the `dhcp` facade's examples against our own server, on each runtime, in two
# network namespaces joined by a veth pair that this script creates and always removes.
# Needs root. Every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."

srv=dex-srv-$$
cli=dex-cli-$$
work=$(mktemp -d)
server_pid=

cleanup() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi
    ip netns del "$srv" 2>/dev/null || true
    ip netns del "$cli" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for f in "$work"/*.log; do echo "--- $f"; cat "$f"; done >&2
    exit 1
}

ip netns add "$srv"
ip netns add "$cli"
ip link add veth-srv netns "$srv" type veth peer name veth-cli netns "$cli"
ip -n "$srv" addr add 192.0.2.1/24 dev veth-srv
ip -n "$cli" link set veth-cli address 00:11:22:33:44:55
for ns in "$srv" "$cli"; do ip -n "$ns" link set lo up; done
ip -n "$srv" link set veth-srv up
ip -n "$cli" link set veth-cli up

# Waits (at most 10 s) until file $1 contains $2.
wait_for() {
    for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    fail "no '$2' in $1"
}

for rt in tokio async-std smol; do
    echo "== examples on $rt"
    cargo build -q --examples --no-default-features --features "runtime-$rt"
    sed "s|^journal = .*|journal = \"$work/$rt.journal\"|" examples/server.toml > "$work/server.toml"
    ip netns exec "$srv" target/debug/examples/server "$work/server.toml" > "$work/server-$rt.log" 2>&1 &
    server_pid=$!
    wait_for "$work/server-$rt.log" "serving 1 subnet"

    timeout 60 ip netns exec "$cli" target/debug/examples/client > "$work/client-$rt.log" 2>&1 \
        || fail "client example on $rt"
    grep -Eq '^Obtained IP: 192\.0\.2\.1[0-9][0-9]$' "$work/client-$rt.log" || fail "client: no address"
    grep -q '^Gateway: \[192.0.2.1\]$' "$work/client-$rt.log" || fail "client: no gateway"
    grep -q '^DNS: \[192.0.2.53\]$' "$work/client-$rt.log" || fail "client: no DNS"

    timeout 60 ip netns exec "$cli" target/debug/examples/advanced > "$work/advanced-$rt.log" 2>&1 \
        || fail "advanced example on $rt"
    addr=$(sed -n 's/^Got lease: //p' "$work/advanced-$rt.log")
    [[ $addr =~ ^192\.0\.2\.1[0-9][0-9]$ ]] || fail "advanced: no lease"
    # discover (bound), renew (bound again), release: the last record of the address.
    wait_for "$work/$rt.journal" " released $addr "
    [[ $(grep -c " bound $addr " "$work/$rt.journal") -ge 3 ]] || fail "advanced: renewal not journaled"

    kill -TERM "$server_pid"
    wait "$server_pid" || fail "server example on $rt did not stop cleanly"
    server_pid=
    grep -q "stopped with" "$work/server-$rt.log" || fail "server: no graceful stop"
    echo "   client, advanced, server: ok"
done

echo "== errors an operator can act on"
chmod 755 "$work"
mkdir -m 777 "$work/open"
sed -e '/^interfaces/d' -e "s|^journal = .*|journal = \"$work/open/leases.journal\"|" \
    examples/server.toml > "$work/open/server.toml"
chmod 644 "$work/open/server.toml"
if ip netns exec "$srv" setpriv --reuid=65534 --regid=65534 --clear-groups \
    target/debug/examples/server "$work/open/server.toml" > "$work/unprivileged.log" 2>&1; then
    fail "an unprivileged server bound port 67"
fi
grep -q '^error: port 67 needs root or CAP_NET_BIND_SERVICE$' "$work/unprivileged.log" \
    || fail "no clear message without the privilege"
ip netns exec "$srv" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 67))
time.sleep(10)' &
holder=$!
sleep 0.5
if ip netns exec "$srv" target/debug/examples/server "$work/open/server.toml" > "$work/taken.log" 2>&1; then
    fail "a server bound a port another process holds"
fi
kill "$holder" 2>/dev/null || true
grep -q '^error: port 67 is already in use' "$work/taken.log" || fail "no clear message for a taken port"
printf '[[subnet]]\nnetwork = "192.0.2.0/33"\n' > "$work/bad.toml"
if target/debug/examples/server "$work/bad.toml" > "$work/bad.log" 2>&1; then fail "a bad config was taken"; fi
grep -q "^error: $work/bad.toml:2:11: network: prefix length 33" "$work/bad.log" || fail "bad config message"
echo "   no privilege, port taken, bad config: ok"

echo "== blocking example (no async runtime)"
cargo build -q --example blocking
ip netns exec "$srv" target/debug/examples/blocking server veth-srv > "$work/blocking-server.log" 2>&1 &
server_pid=$!
wait_for "$work/blocking-server.log" "serving 192.0.2.0/24"
timeout 60 ip netns exec "$cli" target/debug/examples/blocking client veth-cli > "$work/blocking-client.log" 2>&1 \
    || fail "blocking client"
grep -Eq '^lease 192\.0\.2\.1[0-9][0-9] from 192\.0\.2\.1$' "$work/blocking-client.log" || fail "blocking: no lease"
grep -Eq '^released 192\.0\.2\.1' "$work/blocking-client.log" || fail "blocking: no release"
echo "   blocking server and client: ok"
echo "examples: all passed"
