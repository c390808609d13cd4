#!/usr/bin/env bash
# The Debian package, as a user installs it: built by cargo-deb from the release binary
# (scripts/test builds it first), then checked without installing it on this machine: its
# control fields and contents, the config marked as a conffile, and, from an extracted
# copy, the packaged command checking the packaged config and the unit starting the
# packaged command. Prints the package's path.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
passed=0
check() {
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then
        passed=$((passed + 1))
    else
        echo "FAIL: $what" >&2
        failed=$((failed + 1))
    fi
}

deb=$(cargo deb -p dhcp-cli --no-build 2>/dev/null | tail -n 1)
[ -f "$deb" ] || { echo "cargo deb made no package" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check "package name dhcp-rs" test "$(dpkg-deb -f "$deb" Package)" = dhcp-rs
check "a version" test -n "$(dpkg-deb -f "$deb" Version)"
check "dependencies found" test -n "$(dpkg-deb -f "$deb" Depends)"
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/dhcp ./usr/lib/systemd/system/dhcp-server.service ./etc/dhcp/server.toml \
         ./usr/share/doc/dhcp-rs/server.toml ./usr/share/doc/dhcp-rs/README.md; do
    check "contains $f" grep -q " $f\$" <<<"$contents"
done
dpkg-deb -e "$deb" "$work/control"
check "the config is a conffile" grep -qx /etc/dhcp/server.toml "$work/control/conffiles"
dpkg-deb -x "$deb" "$work/root"
check "the packaged command runs" "$work/root/usr/bin/dhcp" --help
check "the packaged config passes --check" \
    "$work/root/usr/bin/dhcp" server --config "$work/root/etc/dhcp/server.toml" --check
check "the unit starts the packaged command" \
    grep -q '^ExecStart=/usr/bin/dhcp server --config /etc/dhcp/server.toml$' \
    "$work/root/usr/lib/systemd/system/dhcp-server.service"

echo "package $deb ($(du -h "$deb" | cut -f1))"
echo "package: $passed passed, $failed failed"
[ "$failed" = 0 ]
