# SPDX-License-Identifier: Apache-2.0
# lib.sh - shared prologue of the BGP/ECMP rig tests: a rig of our own
# (unique namespace names, torn down by a trap whatever happens), the
# helper from BUILD, and small assertions.  Needs BUILD and SRC.
set -euo pipefail

: "${BUILD:?BUILD must point at the build directory}"
: "${SRC:?SRC must point at the source tree}"
HELPER="$BUILD/exabgp-helper/exabgp-helper"
export BUILD HELPER
# shellcheck source=../lib/assert.sh
. "$SRC/tests/lib/assert.sh"
# shellcheck source=../../testbed/rig/rig.sh
. "$SRC/testbed/rig/rig.sh"

RIG="lbt-$(basename "$0" .sh | cut -c1-8)-$$"
RIG_DIR=$(mktemp -d "/tmp/lbrig-test.XXXXXX")
export RIG RIG_DIR

finish() {
    local rc=$?
    # a test's own cleanup first (what it started outside the rig)
    if declare -F test_cleanup >/dev/null; then test_cleanup "$rc" || true; fi
    rig_down || true
    if [ "$rc" -ne 0 ]; then
        echo "--- logs kept in $RIG_DIR"
        for f in "$RIG_DIR"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }; done
    else
        rm -rf "$RIG_DIR"
    fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM


# nexthops_are PREFIX "A B ...": the router's kernel route has exactly these.
nexthops_are() {
    local got
    got=$(rig_nexthops "$1" | tr '\n' ' ')
    [ "${got% }" = "$2" ] || fail "router nexthops for $1: [${got% }], want [$2]"
}

# equal_weights PREFIX N: N nexthops of weight 1 (one plain via when N=1).
equal_weights() {
    local route n
    route=$(ip -n "$RIG-router" route show exact "$1")
    if [ "$2" = 1 ]; then
        n=$(grep -c ' via ' <<<"$route" || true)
    else
        n=$(grep -c 'nexthop via .* weight 1 *$' <<<"$route" || true)
    fi
    [ "$n" = "$2" ] || fail "router route for $1 is not $2 equal nexthops: $route"
}

# spread_ok ADDR N MIN POD...: N connections from the client all answered,
# each listed pod answering at least MIN of them and no other pod any.
spread_ok() {
    local addr=$1 n=$2 min=$3 out p c; shift 3
    out=$(rig_spread "$addr" "$n")
    echo "    $out"
    "$RIG_PY" - "$out" "$n" "$min" "$@" <<'PY' || fail "traffic to $addr: $out"
import json, sys
r = json.loads(sys.argv[1]); n, lo = int(sys.argv[2]), int(sys.argv[3]); pods = set(sys.argv[4:])
ok = r["ok"] == n and r["failures"] == 0 and set(r["counts"]) == pods
ok = ok and all(c >= lo for c in r["counts"].values())
sys.exit(0 if ok else 1)
PY
}
