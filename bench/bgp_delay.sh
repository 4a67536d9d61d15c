#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/bgp_delay.sh - route update delay on the BGP/ECMP rig, from the
# action to the upstream router's kernel table (the paper's Fig. 13c), and
# the ECMP spread of client connections over 2 and 3 load balancers.
# Prints figures; not a pass/fail test.
#
#   bash bench/bgp_delay.sh                 # N=20 events of each kind
#   N=50 RIG_ROUTER=bird bash bench/bgp_delay.sh
#
# Kinds: announce (helper started -> nexthop present), graceful withdraw
# (`exabgp-helper cleanup` -> gone), kill (exabgp SIGKILL -> gone), silent
# failure (the pod's traffic dropped -> gone) at hold time 9 and 3.
# Two other load balancer pods stay up throughout, as in a real cluster.
# The router table is polled every 20 ms: figures are +-20 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
N=${N:-20}
if [ -z "${BUILD:-}" ]; then
    bash scripts/deps.sh
    cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
    ninja -C build/bench >/dev/null
    BUILD=$SRC/build/bench
fi
export BUILD SRC
. testbed/rig/rig.sh
RIG="lbbench-$$"
RIG_DIR=$(mktemp -d /tmp/lbbench.XXXXXX)
export RIG RIG_DIR
finish() {
    local rc=$?
    rig_down || true
    [ "$rc" = 0 ] && rm -rf "$RIG_DIR" || echo "failed; logs in $RIG_DIR" >&2
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

A=10.1.1.0/24
OUT="$RIG_DIR/delays"
: >"$OUT"

count() {
    local have
    have=$(rig_nexthops "$A")
    [ -z "$have" ] && echo 0 || wc -l <<<"$have"
}
# until_count N T0 KIND: poll until N nexthops, record now - T0 under KIND.
until_count() {
    local want=$1 t0=$2 kind=$3 deadline=$((SECONDS + 30))
    while [ "$(count)" != "$want" ]; do
        [ $SECONDS -lt $deadline ] || { echo "no $want nexthops after 30s ($kind)" >&2; return 1; }
        sleep 0.02
    done
    awk -v a="$t0" -v b="$EPOCHREALTIME" -v k="$kind" 'BEGIN { printf "%s %.3f\n", k, b - a }' >>"$OUT"
}

echo "== rig: $RIG_ROUTER router, gobgpd route reflector, 3 nodes"
rig_up >/dev/null
for n in 2 3; do
    rig_pod_add "$n" "lb$n" >/dev/null
    rig_lb_start "lb$n" "$n" "$A"
done
rig_wait_nexthops "$A" 2 30
rig_pod_add 1 lb1 >/dev/null

echo "== $N x announce, graceful withdraw, kill"
for i in $(seq "$N"); do
    t0=$EPOCHREALTIME
    rig_lb_start lb1 1 "$A"
    until_count 3 "$t0" announce
    t0=$EPOCHREALTIME
    rig_helper lb1 1 "$A" cleanup --drain-seconds 1 >/dev/null 2>&1 &
    until_count 2 "$t0" withdraw
    wait $!
    rig_lb_stop lb1 TERM
    rig_lb_start lb1 1 "$A"
    until_count 3 "$EPOCHREALTIME" warmup
    t0=$EPOCHREALTIME
    rig_lb_stop lb1 KILL
    until_count 2 "$t0" kill
    printf '.'
done
echo

for hold in 9 3; do
    echo "== $N x silent failure at hold time $hold"
    for i in $(seq "$N"); do
        rig_lb_start lb1 1 "$A" HOLD_TIME="$hold"
        until_count 3 "$EPOCHREALTIME" warmup
        sleep 0.$((RANDOM % 10)) # land anywhere in the keepalive interval
        t0=$EPOCHREALTIME
        rig_pod_blackhole lb1
        until_count 2 "$t0" "silent-hold$hold"
        rig_pod_unblackhole lb1
        rig_lb_stop lb1 KILL
        printf '.'
    done
    echo
done

echo "== ECMP spread of 300 client connections"
rig_lb_start lb1 1 "$A"
rig_wait_nexthops "$A" 3 30
for p in lb1 lb2 lb3; do rig_echo_start "$p"; done
echo "3 load balancers: $(rig_spread 10.1.1.10:80 300)"
rig_lb_stop lb1 KILL
rig_wait_nexthops "$A" 2 30
echo "2 load balancers: $(rig_spread 10.1.1.10:80 300)"

echo "== update delay, seconds (router: $RIG_ROUTER; paper, Fig. 13c: median 1.9, p90 3.9, max 9.9)"
python3 - "$OUT" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
kinds = ["announce", "withdraw", "kill", "silent-hold9", "silent-hold3"]
def q(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(round(p * (len(v) - 1))))]
print(f"{'event':<14}{'n':>4}{'min':>8}{'median':>8}{'p90':>8}{'max':>8}")
for k in kinds:
    v = [float(d) for kk, d in rows if kk == k]
    if v:
        print(f"{k:<14}{len(v):>4}{min(v):>8.3f}{q(v, .5):>8.3f}{q(v, .9):>8.3f}{max(v):>8.3f}")
print("\nhistogram of all events (0.5 s bins), like the paper's Fig. 13c")
allv = [float(d) for k, d in rows if k in kinds]
for b in range(0, 20):
    lo, hi = b * 0.5, (b + 1) * 0.5
    c = sum(1 for x in allv if lo <= x < hi)
    if c or lo < max(allv):
        print(f"{lo:4.1f}-{hi:4.1f} s {c:4d} {'#' * c}")
PY
