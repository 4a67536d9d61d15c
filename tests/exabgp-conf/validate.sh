#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# validate.sh - every golden exabgp.conf is accepted by the real exabgp 4.2
# (`exabgp --validate`), and an MD5 password survives the base64 round trip.
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
EXABGP=${EXABGP:-exabgp}
command -v "$EXABGP" >/dev/null || { echo "FAIL: exabgp not installed" >&2; exit 1; }
n=0
for case in "$dir"/[0-9]*/; do
    conf="$case/expected.conf"
    if ! out=$(env exabgp.api.cli=false "$EXABGP" --validate "$conf" 2>&1); then
        echo "FAIL: exabgp rejects $conf:" >&2
        echo "$out" | tail -n 5 >&2
        exit 1
    fi
    # and the check has teeth: the same file with one route broken is refused
    broken=$(mktemp)
    sed '0,/next-hop [0-9.]*;/s//next-hop 10.0.0.256;/' "$conf" >"$broken"
    if env exabgp.api.cli=false "$EXABGP" --validate "$broken" >/dev/null 2>&1; then
        rm -f "$broken"
        echo "FAIL: exabgp --validate accepted a broken copy of $conf" >&2
        exit 1
    fi
    rm -f "$broken"
    if [ -f "$case/password" ]; then
        b64=$(sed -n 's/^ *md5-password "\(.*\)";$/\1/p' "$conf" | head -n 1)
        [ "$(printf %s "$b64" | base64 -d)" = "$(head -n 1 "$case/password")" ] ||
            { echo "FAIL: $conf: md5-password does not decode to the password" >&2; exit 1; }
    fi
    n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "FAIL: no cases" >&2; exit 1; }
echo "ok - exabgp $("$EXABGP" --version 2>&1 | sed -n 's/^ExaBGP : //p') accepts all $n golden configurations"
