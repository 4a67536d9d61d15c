#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# validate.sh - every golden exabgp.conf is accepted by the real exabgp 4.2
# (`exabgp --validate`), and an MD5 password survives the base64 round trip.
# exabgp checks that a process's program exists: the health gate's
# (installed at /usr/local/bin/exabgp-helper in the image) is swapped for
# true(1) here, its arguments stay as written.
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
EXABGP=${EXABGP:-exabgp}
command -v "$EXABGP" >/dev/null || { echo "FAIL: exabgp not installed" >&2; exit 1; }
n=0
true_bin=$(command -v true)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for case in "$dir"/[0-9]*/; do
    conf="$tmp/$(basename "$case").conf"
    sed "s|^    run /usr/local/bin/exabgp-helper |    run $true_bin |" "$case/expected.conf" >"$conf"
    if ! out=$(env exabgp.api.cli=false "$EXABGP" --validate "$conf" 2>&1); then
        echo "FAIL: exabgp rejects $conf:" >&2
        echo "$out" | tail -n 5 >&2
        exit 1
    fi
    # and the check has teeth: the same file with one route broken is refused
    broken=$(mktemp)
    if grep -q 'next-hop [0-9.]*;' "$conf"; then
        sed '0,/next-hop [0-9.]*;/s//next-hop 10.0.0.256;/' "$conf" >"$broken"
    else # the gated file has no routes: break the first session instead
        sed '0,/local-address [0-9.]*;/s//local-address 10.0.0.256;/' "$conf" >"$broken"
    fi
    if env exabgp.api.cli=false "$EXABGP" --validate "$broken" >/dev/null 2>&1; then
        rm -f "$broken"
        echo "FAIL: exabgp --validate accepted a broken copy of $conf" >&2
        exit 1
    fi
    rm -f "$broken"
    if [ -f "$case/password" ]; then
        b64=$(sed -n 's/^ *md5-password "\(.*\)";$/\1/p' "$case/expected.conf" | head -n 1)
        [ "$(printf %s "$b64" | base64 -d)" = "$(head -n 1 "$case/password")" ] ||
            { echo "FAIL: $conf: md5-password does not decode to the password" >&2; exit 1; }
    fi
    n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "FAIL: no cases" >&2; exit 1; }
echo "ok - exabgp $("$EXABGP" --version 2>&1 | sed -n 's/^ExaBGP : //p') accepts all $n golden configurations"
